//! [`SyncIO`]: every operation is one blocking system call (or a loop of
//! them), finished before the call returns.

use std::fmt;
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, File, OpenFlags, Result, IO};

use crate::sys;

/// The blocking backend: `pread(2)`, `pwrite(2)`, `fdatasync(2)` and
/// `ftruncate(2)` on the calling thread.
///
/// Every completion is finished before the call that issued it returns, so
/// [`IO::step`] has nothing to do. Reads and writes loop on short transfers
/// and `EINTR`; a read reports [`CompletionError::ShortRead`] only where
/// the file ends before the requested range does. `sync` is `fdatasync`:
/// the data and what is needed to read it back (the size included).
///
/// ```
/// use io_model::{Buffer, Completion, File, OpenFlags, IO};
/// use io_model_backends::SyncIO;
/// use std::sync::Arc;
///
/// let dir = std::env::temp_dir().join(format!("io-model-syncio-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("db").to_str().unwrap().to_owned();
///
/// let io = SyncIO::new();
/// let file = io.open_file(&path, OpenFlags::CREATE)?;
/// let page = Arc::new(Buffer::from_vec(vec![7; 4096]));
/// let w = file.pwrite(0, page, Completion::new_write(|_| {}))?;
/// assert!(w.succeeded()); // finished before pwrite returned
///
/// let r = file.pread(0, Completion::new_read(Arc::new(Buffer::new_page()), |_| {}))?;
/// io.wait_for_completion(r.clone())?; // returns at once
/// assert_eq!(r.read_buffer().unwrap().lock()[4095], 7);
/// assert_eq!(file.size()?, 4096);
///
/// io.remove_file(&path)?;
/// std::fs::remove_dir(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default, Clone, Copy)]
pub struct SyncIO {
    _private: (),
}

impl SyncIO {
    /// The blocking backend. It holds no state: every file is independent.
    ///
    /// ```
    /// let io = io_model_backends::SyncIO::new();
    /// io_model::IO::step(&io).unwrap(); // nothing to do
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for SyncIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SyncIO")
    }
}

impl IO for SyncIO {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let file = sys::open(path, flags)?;
        Ok(Arc::new(SyncFile {
            file,
            read_only: flags.contains(OpenFlags::READ_ONLY),
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        std::fs::remove_file(path).map_err(|err| {
            io_model::Error::Io(std::io::Error::new(
                err.kind(),
                format!("removing {path}: {err}"),
            ))
        })
    }

    /// Nothing is ever pending: returns at once.
    fn step(&self) -> Result<()> {
        Ok(())
    }
}

/// A file of [`SyncIO`].
struct SyncFile {
    file: std::fs::File,
    read_only: bool,
}

impl SyncFile {
    fn read(&self, buf: &Buffer, pos: u64) -> Result<i32, CompletionError> {
        let mut bytes = buf.lock();
        let expected = bytes.len();
        let actual = sys::read_full(&self.file, &mut bytes, pos)?;
        if actual < expected {
            return Err(CompletionError::ShortRead { expected, actual });
        }
        Ok(expected as i32)
    }
}

impl File for SyncFile {
    // Each operation finishes the completion it was handed with
    // `Completion::finish`, which needs no lock while the caller holds no
    // other handle of it.

    fn pread(&self, pos: u64, mut c: Completion) -> Result<Completion> {
        let res = match sys::check_read(pos, &c) {
            Ok(buf) => self.read(buf, pos),
            Err(what) => return sys::refuse(c, what),
        };
        c.finish(res);
        Ok(c)
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        let mut c = match sys::admit_write(c, sys::check_range(pos, buf.len()), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        c.finish(sys::write_full(&self.file, &buf.lock(), pos).map(|()| buf.len() as i32));
        Ok(c)
    }

    fn sync(&self, mut c: Completion) -> Result<Completion> {
        c.finish(sys::sync_data(&self.file).map(|()| 0));
        Ok(c)
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        let mut c = match sys::admit_write(c, sys::check_len(len), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        c.finish(sys::truncate(&self.file, len).map(|()| 0));
        Ok(c)
    }

    fn size(&self) -> Result<u64> {
        sys::size(&self.file)
    }
}
