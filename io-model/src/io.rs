//! The [`IO`] and [`File`] traits every backend implements.

use std::ops::BitOr;
use std::sync::Arc;

use crate::{Buffer, Completion, Error, IOResult, Result};

/// How to open a file. Combine flags with `|`.
///
/// ```
/// use io_model::OpenFlags;
///
/// let flags = OpenFlags::CREATE | OpenFlags::DIRECT;
/// assert!(flags.contains(OpenFlags::CREATE));
/// assert!(!flags.contains(OpenFlags::READ_ONLY));
/// assert_eq!(OpenFlags::default(), OpenFlags::NONE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OpenFlags(u32);

impl OpenFlags {
    /// Open an existing file for reading and writing.
    pub const NONE: OpenFlags = OpenFlags(0);
    /// Create the file if it does not exist.
    pub const CREATE: OpenFlags = OpenFlags(1);
    /// Open for reading only; writes fail.
    pub const READ_ONLY: OpenFlags = OpenFlags(1 << 1);
    /// Bypass the page cache (`O_DIRECT`): buffers, offsets and lengths must
    /// be aligned (see [`Buffer::new_aligned`]).
    pub const DIRECT: OpenFlags = OpenFlags(1 << 2);
    /// Truncate the file to zero length when opening it.
    pub const TRUNCATE: OpenFlags = OpenFlags(1 << 3);

    /// Whether every flag of `other` is set in `self`.
    ///
    /// ```
    /// use io_model::OpenFlags;
    /// assert!((OpenFlags::CREATE | OpenFlags::TRUNCATE).contains(OpenFlags::TRUNCATE));
    /// ```
    pub const fn contains(self, other: OpenFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The raw bits.
    ///
    /// ```
    /// assert_eq!(io_model::OpenFlags::NONE.bits(), 0);
    /// ```
    pub const fn bits(self) -> u32 {
        self.0
    }
}

impl BitOr for OpenFlags {
    type Output = OpenFlags;

    fn bitor(self, rhs: OpenFlags) -> OpenFlags {
        OpenFlags(self.0 | rhs.0)
    }
}

/// An open file of a backend. Every operation takes the completion to
/// finish and returns it (or an error if the request could not even be
/// issued); the backend finishes it when the I/O is done, which may be
/// before the call returns or on a later [`IO::step`].
///
/// ```
/// use io_model::{Buffer, Completion, File};
/// use std::sync::Arc;
///
/// // Reads a page through any backend's file.
/// fn read_page(file: &dyn File, page: u64) -> io_model::Result<Completion> {
///     let buf = Arc::new(Buffer::new_page());
///     let c = Completion::new_read(buf, |res| { let _ = res; });
///     file.pread(page * io_model::PAGE_SIZE as u64, c)
/// }
/// ```
pub trait File: Send + Sync {
    /// Reads `c.read_buffer().len()` bytes at `pos` into the read
    /// completion's buffer. The completion's result is the number of bytes
    /// read; a read that ends past the end of the file finishes with
    /// [`CompletionError::ShortRead`](crate::CompletionError::ShortRead).
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion>;

    /// Writes all of `buf` at `pos`. The backend keeps `buf` alive until
    /// the write is done.
    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion>;

    /// Makes every write finished before this call durable.
    fn sync(&self, c: Completion) -> Result<Completion>;

    /// Sets the file's length to `len`.
    fn truncate(&self, len: u64, c: Completion) -> Result<Completion>;

    /// The file's current length in bytes.
    fn size(&self) -> Result<u64>;
}

/// A backend: opens files and drives their I/O to completion.
///
/// `step` does the backend's work: submits queued requests and finishes
/// the completions of those that are done, blocking until at least one is
/// if nothing else can make progress. The provided methods wait for a
/// completion and drive whole operations.
///
/// ```
/// use io_model::{Completion, File, IOResult, OpenFlags, IO};
/// use std::sync::{Arc, Mutex};
///
/// /// A toy backend that finishes everything pending on each `step`.
/// #[derive(Default)]
/// struct Toy { pending: Mutex<Vec<Completion>> }
/// impl IO for Toy {
///     fn open_file(&self, _: &str, _: OpenFlags) -> io_model::Result<Arc<dyn File>> {
///         Err(io_model::Error::Unsupported("toy".into()))
///     }
///     fn remove_file(&self, _: &str) -> io_model::Result<()> { Ok(()) }
///     fn step(&self) -> io_model::Result<()> {
///         for c in self.pending.lock().unwrap().drain(..) { c.complete(0); }
///         Ok(())
///     }
/// }
///
/// let io = Toy::default();
/// let c = Completion::new_sync(|_| {});
/// io.pending.lock().unwrap().push(c.clone());
/// let mut calls = 0;
/// let v = io.block(|| -> io_model::Result<IOResult<u32>> {
///     calls += 1;
///     if c.finished() { Ok(IOResult::Done(42)) } else { Ok(IOResult::IO(c.clone().into())) }
/// }).unwrap();
/// assert_eq!((v, calls), (42, 2));
/// ```
pub trait IO: Send + Sync {
    /// Opens (or with [`OpenFlags::CREATE`], creates) the file at `path`.
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>>;

    /// Removes the file at `path`.
    fn remove_file(&self, path: &str) -> Result<()>;

    /// Makes progress: submits what is queued and finishes what is done.
    fn step(&self) -> Result<()>;

    /// Steps the backend until `c` has finished; returns its error, if it
    /// finished with one. An explicit yield returns at once.
    fn wait_for_completion(&self, c: Completion) -> Result<()> {
        while !c.finished() {
            self.step()?;
        }
        match c.get_error() {
            Some(err) => Err(Error::Completion(err)),
            None => Ok(()),
        }
    }

    /// Drives an operation to its end: calls `op` until it returns
    /// `Done`, waiting for each completion it returns in between (an
    /// explicit yield is simply followed by the next call). A completion
    /// that failed ends the run with an error: `op` is called once more so
    /// that it sees the failure and can leave its state clean (a
    /// `#[resumable]` state returns to idle), and its error is returned, or
    /// the completion's if `op` returned none.
    ///
    /// On a backend behind `dyn IO`, call it through the pointer:
    /// `Arc<dyn IO>` and `Box<dyn IO>` implement `IO`, so `io.block(..)`
    /// works on them; on a plain `io: &dyn IO` write `IO::block(&io, ..)`.
    fn block<T, E>(&self, op: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
    where
        Self: Sized,
        E: From<Error>,
    {
        drive(self, op)
    }
}

/// Forwards to the backend behind a pointer, so that an `Arc<dyn IO>` (or
/// `&dyn IO`, `Box<dyn IO>`) has every method of [`IO`], [`IO::block`]
/// included.
///
/// ```
/// use io_model::{IOResult, IO};
/// use std::sync::Arc;
/// fn run(io: Arc<dyn IO>) -> io_model::Result<u8> {
///     io.block(|| Ok(IOResult::Done(1)))
/// }
/// ```
macro_rules! forward_io {
    ($($ptr:ty),*) => {$(
        impl<I: IO + ?Sized> IO for $ptr {
            fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
                (**self).open_file(path, flags)
            }
            fn remove_file(&self, path: &str) -> Result<()> {
                (**self).remove_file(path)
            }
            fn step(&self) -> Result<()> {
                (**self).step()
            }
            fn wait_for_completion(&self, c: Completion) -> Result<()> {
                (**self).wait_for_completion(c)
            }
        }
    )*};
}
forward_io!(Arc<I>, Box<I>, &I);

fn drive<T, E, I>(io: &I, mut op: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E>
where
    I: IO + ?Sized,
    E: From<Error>,
{
    loop {
        match op()? {
            IOResult::Done(v) => return Ok(v),
            IOResult::IO(io_completions) => {
                let c = io_completions.into_completion();
                if c.is_explicit_yield() {
                    continue;
                }
                if let Err(err) = io.wait_for_completion(c) {
                    // Let the operation see the failure and leave its state
                    // clean; return its error, or this one if it has none.
                    // Whatever else it returns is dropped: the run failed.
                    let _ = op()?;
                    return Err(E::from(err));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CompletionError;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Deferred {
        pending: Mutex<Vec<(Completion, Option<CompletionError>)>>,
        steps: Mutex<usize>,
    }

    impl IO for Deferred {
        fn open_file(&self, _: &str, _: OpenFlags) -> Result<Arc<dyn File>> {
            Err(Error::Unsupported("test backend".into()))
        }
        fn remove_file(&self, _: &str) -> Result<()> {
            Ok(())
        }
        fn step(&self) -> Result<()> {
            *self.steps.lock().unwrap() += 1;
            // Finish one completion per step, oldest first.
            let next = {
                let mut p = self.pending.lock().unwrap();
                (!p.is_empty()).then(|| p.remove(0))
            };
            if let Some((c, err)) = next {
                match err {
                    Some(e) => c.error(e),
                    None => c.complete(0),
                }
            }
            Ok(())
        }
    }

    impl Deferred {
        fn submit(&self, err: Option<CompletionError>) -> Completion {
            let c = Completion::new_sync(|_| {});
            self.pending.lock().unwrap().push((c.clone(), err));
            c
        }
    }

    #[test]
    fn block_waits_for_each_completion_and_calls_again() {
        let io = Deferred::default();
        let mut stage = 0;
        let mut waiting: Option<Completion> = None;
        let out = io
            .block(|| -> Result<IOResult<u32>> {
                if let Some(c) = &waiting {
                    assert!(c.finished(), "called again before the completion finished");
                }
                stage += 1;
                if stage < 4 {
                    let c = io.submit(None);
                    waiting = Some(c.clone());
                    Ok(IOResult::IO(c.into()))
                } else {
                    Ok(IOResult::Done(stage))
                }
            })
            .unwrap();
        assert_eq!(out, 4);
        assert_eq!(*io.steps.lock().unwrap(), 3);
    }

    #[test]
    fn block_on_explicit_yield_calls_again_without_stepping() {
        let io = Deferred::default();
        let mut calls = 0;
        let v = io
            .block(|| -> Result<IOResult<u8>> {
                calls += 1;
                if calls < 3 {
                    Ok(IOResult::IO(Completion::new_yield().into()))
                } else {
                    Ok(IOResult::Done(9))
                }
            })
            .unwrap();
        assert_eq!((v, calls), (9, 3));
        assert_eq!(*io.steps.lock().unwrap(), 0);
    }

    #[test]
    fn block_returns_the_completion_error() {
        // An operation that never looks at the failure: the completion's
        // error, after one more call.
        let io = Deferred::default();
        let mut calls = 0;
        let err = io
            .block(|| -> Result<IOResult<()>> {
                calls += 1;
                Ok(IOResult::IO(
                    io.submit(Some(CompletionError::ShortWrite)).into(),
                ))
            })
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Completion(CompletionError::ShortWrite)
        ));
        assert_eq!(calls, 2);
    }

    #[test]
    fn block_lets_the_operation_see_the_failure_and_returns_its_error() {
        let io = Deferred::default();
        let mut waiting: Option<Completion> = None;
        let mut cleaned_up = false;
        let err = io
            .block(|| -> Result<IOResult<()>> {
                match waiting.take() {
                    None => {
                        let c = io.submit(Some(CompletionError::Aborted));
                        waiting = Some(c.clone());
                        Ok(IOResult::IO(c.into()))
                    }
                    Some(c) => {
                        cleaned_up = true;
                        Err(Error::InvalidArgument(format!("saw {:?}", c.get_error())))
                    }
                }
            })
            .unwrap_err();
        assert!(cleaned_up);
        assert_eq!(err.to_string(), "invalid argument: saw Some(Aborted)");
    }

    #[test]
    fn block_works_through_dyn_io() {
        let io: Arc<dyn IO> = Arc::new(Deferred::default());
        let mut first = true;
        let v: u8 = io
            .block(|| -> Result<IOResult<u8>> {
                if std::mem::take(&mut first) {
                    Ok(IOResult::IO(Completion::new_yield().into()))
                } else {
                    Ok(IOResult::Done(3))
                }
            })
            .unwrap();
        assert_eq!(v, 3);
        let by_ref: &dyn IO = &*io;
        let w: u8 = IO::block(&by_ref, || -> Result<IOResult<u8>> {
            Ok(IOResult::Done(4))
        })
        .unwrap();
        assert_eq!(w, 4);
        let boxed: Box<dyn IO> = Box::new(Deferred::default());
        let x: u8 = boxed
            .block(|| -> Result<IOResult<u8>> { Ok(IOResult::Done(5)) })
            .unwrap();
        assert_eq!(x, 5);
    }

    #[test]
    fn wait_for_completion_returns_at_once_for_finished_ones() {
        let io = Deferred::default();
        io.wait_for_completion(Completion::new_yield()).unwrap();
        let c = Completion::new_sync(|_| {});
        c.complete(0);
        io.wait_for_completion(c).unwrap();
        assert_eq!(*io.steps.lock().unwrap(), 0);
    }
}
