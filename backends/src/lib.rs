//! Backends for [`io_model`]: [`SyncIO`], [`UringIO`] (Linux), the
//! deterministic simulator [`SimIO`], `NbdIO` (feature `nbd`, on by
//! default: files on an NBD server) and [`MirrorIO`] (two backends kept as
//! copies), each behind the [`IO`] and [`File`](io_model::File) traits, and
//! [`default_io`], which picks the best real local backend the kernel
//! allows.
//!
//! | backend | completions finish | for |
//! |---|---|---|
//! | [`SyncIO`] | before the call returns | simplicity, portability, reference behaviour |
//! | [`UringIO`] | in [`IO::step`] (cached reads inline) | throughput on Linux |
//! | [`SimIO`] | in [`IO::step`], late and out of order, from a seed | tests: every suspension point, faults, crashes |
//! | `NbdIO` | in [`IO::step`], as the server's replies arrive, in any order | remote storage: exports of an NBD server |
//! | [`MirrorIO`] | when both of its backends have finished | backup and replication |
//!
//! All of them behave the same way where the contract says something:
//!
//! - A read of `n` bytes finishes with `n`, or with
//!   [`CompletionError::ShortRead`](io_model::CompletionError::ShortRead)
//!   where the file ends before the range does (the bytes that exist are
//!   read). A write finishes with its length.
//! - A write or truncation of a file opened
//!   [`READ_ONLY`](io_model::OpenFlags::READ_ONLY) fails with
//!   `IOError(PermissionDenied)`.
//! - A malformed request (a `pread` with a completion that is not a read,
//!   a range past the largest file offset, a transfer longer than
//!   `i32::MAX`) returns `Err(Error::InvalidArgument)` *and* finishes its
//!   completion with `IOError(InvalidInput)`, so that nothing waits for it
//!   forever. Every other failure is reported through the completion.
//! - Every completion handed to a backend is finished exactly once.
//!
//! `NbdIO`'s files are fixed-size exports: what NBD lacks (growing a file,
//! truncating it, removing it) is an [`Error::Unsupported`], with the
//! completion finished too; see its documentation.
//!
//! ```
//! use io_model::{Buffer, Completion, File, IOResult, OpenFlags, IO};
//! use io_model_backends::SimIO;
//! use std::sync::Arc;
//!
//! /// Writes a page and reads it back through any backend, waiting on each
//! /// completion the way an engine's driver loop would.
//! fn round_trip(io: &dyn IO, path: &str) -> io_model::Result<Vec<u8>> {
//!     let file = io.open_file(path, OpenFlags::CREATE)?;
//!     let page = Arc::new(Buffer::from_vec(vec![0xab; 4096]));
//!     io.wait_for_completion(file.pwrite(0, page, Completion::new_write(|_| {}))?)?;
//!     let r = file.pread(0, Completion::new_read(Arc::new(Buffer::new_page()), |_| {}))?;
//!     io.wait_for_completion(r.clone())?;
//!     Ok(r.read_buffer().unwrap().to_vec())
//! }
//!
//! assert_eq!(round_trip(&SimIO::new(1), "db")?, vec![0xab; 4096]);
//! # Ok::<(), io_model::Error>(())
//! ```

#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

use std::fmt;
use std::sync::Arc;

use io_model::{Error, Result, IO};

mod mirror;
#[cfg(feature = "nbd")]
mod nbd;
mod sim;
mod sync;
mod sys;
#[cfg(target_os = "linux")]
mod uring;

pub use mirror::MirrorIO;
#[cfg(feature = "nbd")]
pub use nbd::{NbdAddress, NbdIO, NbdOptions, NbdUri, NBD_DEFAULT_PORT};
pub use sim::{Faults, OpKind, SimIO, TraceEntry};
pub use sync::SyncIO;
#[cfg(target_os = "linux")]
pub use uring::{InlineReads, RingSetup, UringIO, UringInfo, UringOptions, UringStats};

/// The environment variable that forces [`default_io`]'s choice: `sync` or
/// `uring` (`io_uring` is accepted too).
pub const BACKEND_ENV: &str = "IO_MODEL_BACKEND";

/// Which real backend [`default_io`] chose.
///
/// ```
/// assert_eq!(io_model_backends::BackendKind::Uring.to_string(), "io_uring");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// [`SyncIO`].
    Sync,
    /// [`UringIO`].
    Uring,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendKind::Sync => "sync",
            BackendKind::Uring => "io_uring",
        })
    }
}

/// The backend [`default_io`] chose, which one it is, and why.
///
/// `Display` says both, e.g. `io_uring (SINGLE_ISSUER|DEFER_TASKRUN, ...)`
/// or `sync (io_uring refused: Operation not permitted ...)`.
///
/// ```
/// let chosen = io_model_backends::default_io()?;
/// eprintln!("I/O backend: {chosen}");
/// let io = chosen.io; // Arc<dyn IO>
/// # let _ = io;
/// # Ok::<(), io_model::Error>(())
/// ```
#[derive(Clone)]
pub struct ChosenIO {
    /// The backend.
    pub io: Arc<dyn IO>,
    /// Which backend it is.
    pub kind: BackendKind,
    /// Why it was chosen: what the kernel accepted, what refused io_uring,
    /// or that [`BACKEND_ENV`] forced it.
    pub reason: String,
}

impl fmt::Display for ChosenIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.kind, self.reason)
    }
}

impl fmt::Debug for ChosenIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChosenIO")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// The best real backend here: [`UringIO`] where the kernel allows
/// io_uring, else [`SyncIO`], saying which and why.
///
/// `IO_MODEL_BACKEND=sync` forces [`SyncIO`]; `IO_MODEL_BACKEND=uring`
/// forces [`UringIO`] and fails with the kernel's refusal instead of
/// falling back. Any other value is an [`Error::InvalidArgument`].
///
/// ```
/// use io_model_backends::{default_io, BackendKind};
///
/// let chosen = default_io()?;
/// match chosen.kind {
///     BackendKind::Uring => println!("using io_uring: {}", chosen.reason),
///     BackendKind::Sync => println!("using blocking I/O: {}", chosen.reason),
/// }
/// # Ok::<(), io_model::Error>(())
/// ```
pub fn default_io() -> Result<ChosenIO> {
    let forced = std::env::var(BACKEND_ENV).ok();
    choose(forced.as_deref())
}

/// [`default_io`] with the value of [`BACKEND_ENV`] passed in.
fn choose(forced: Option<&str>) -> Result<ChosenIO> {
    let sync = |reason: String| ChosenIO {
        io: Arc::new(SyncIO::new()),
        kind: BackendKind::Sync,
        reason,
    };
    match forced.map(str::trim) {
        None | Some("") => match uring() {
            Ok(chosen) => Ok(chosen),
            Err(Error::Unsupported(why)) => Ok(sync(why)),
            Err(err) => Ok(sync(format!("io_uring refused: {err}"))),
        },
        Some("sync") => Ok(sync(format!("forced by {BACKEND_ENV}=sync"))),
        Some("uring" | "io_uring") => uring().map(|mut chosen| {
            chosen.reason = format!("forced by {BACKEND_ENV}; {}", chosen.reason);
            chosen
        }),
        Some(other) => Err(Error::InvalidArgument(format!(
            "{BACKEND_ENV}={other:?}: expected \"sync\" or \"uring\""
        ))),
    }
}

#[cfg(target_os = "linux")]
fn uring() -> Result<ChosenIO> {
    let io = UringIO::new()?;
    let info = io.info();
    Ok(ChosenIO {
        io: Arc::new(io),
        kind: BackendKind::Uring,
        reason: info.to_string(),
    })
}

#[cfg(not(target_os = "linux"))]
fn uring() -> Result<ChosenIO> {
    Err(Error::Unsupported(
        "io_uring refused: io_uring is Linux-only".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forced_sync_says_so() {
        let chosen = choose(Some("sync")).unwrap();
        assert_eq!(chosen.kind, BackendKind::Sync);
        assert_eq!(chosen.to_string(), "sync (forced by IO_MODEL_BACKEND=sync)");
    }

    #[test]
    fn unknown_choice_is_an_error_naming_the_variable() {
        let err = choose(Some("sqpoll")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid argument: IO_MODEL_BACKEND=\"sqpoll\": expected \"sync\" or \"uring\""
        );
    }

    #[test]
    fn automatic_choice_falls_back_with_the_reason() {
        let chosen = choose(None).unwrap();
        match chosen.kind {
            BackendKind::Uring => assert!(chosen.reason.starts_with("io_uring: "), "{chosen}"),
            BackendKind::Sync => {
                assert!(chosen.reason.starts_with("io_uring refused: "), "{chosen}")
            }
        }
    }

    #[test]
    fn forced_uring_either_works_or_says_why_not() {
        match choose(Some("uring")) {
            Ok(chosen) => {
                assert_eq!(chosen.kind, BackendKind::Uring);
                assert!(chosen
                    .reason
                    .starts_with("forced by IO_MODEL_BACKEND; io_uring: "));
            }
            Err(err) => assert!(err.to_string().contains("io_uring refused"), "{err}"),
        }
    }
}
