//! Error types: [`CompletionError`] for one finished I/O, [`Error`] for
//! everything an operation of this crate can fail with.

/// Why a single I/O operation failed.
///
/// A backend reports it through [`Completion::error`](crate::Completion::error);
/// a waiter reads it with [`Completion::get_error`](crate::Completion::get_error).
/// It is `Copy` so that a group can hand the first error of its children to
/// every waiter without cloning anything.
///
/// ```
/// use io_model::CompletionError;
///
/// let e = CompletionError::ShortRead { expected: 4096, actual: 100 };
/// assert_eq!(e.to_string(), "short read: expected 4096 bytes, got 100");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompletionError {
    /// The operation was cancelled before it finished (see
    /// [`Completion::abort`](crate::Completion::abort)).
    #[error("I/O aborted")]
    Aborted,
    /// The operating system reported an error.
    #[error("I/O error: {0}")]
    IOError(std::io::ErrorKind),
    /// A read returned fewer bytes than the caller asked for because the
    /// file ends before the requested range does.
    #[error("short read: expected {expected} bytes, got {actual}")]
    ShortRead {
        /// Bytes asked for.
        expected: usize,
        /// Bytes the file had.
        actual: usize,
    },
    /// A write could not be completed in full.
    #[error("short write")]
    ShortWrite,
}

impl From<std::io::ErrorKind> for CompletionError {
    fn from(kind: std::io::ErrorKind) -> Self {
        CompletionError::IOError(kind)
    }
}

/// The error of this crate's operations and of the provided backends.
///
/// Any error type works with the macros of this crate as long as it
/// implements `From<CompletionError>`; `Error` is the ready-made one.
///
/// ```
/// use io_model::{CompletionError, Error};
///
/// let e: Error = CompletionError::Aborted.into();
/// assert!(matches!(e, Error::Completion(CompletionError::Aborted)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation finished with an error.
    #[error(transparent)]
    Completion(#[from] CompletionError),
    /// A system call made outside a completion failed (opening a file,
    /// reading its size, setting up a backend).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The requested backend or feature is not available here; the message
    /// says what was refused and why.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An argument was out of range or malformed; the message says which.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// `Result` with this crate's [`Error`] as the default error type.
///
/// ```
/// fn ok() -> io_model::Result<u8> {
///     Ok(1)
/// }
/// assert_eq!(ok().unwrap(), 1);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_error_is_small_and_copy() {
        fn is_copy<T: Copy + Send + Sync + 'static>() {}
        is_copy::<CompletionError>();
        assert!(std::mem::size_of::<CompletionError>() <= 24);
    }

    #[test]
    fn error_converts_from_both_sources() {
        let e: Error = CompletionError::ShortWrite.into();
        assert_eq!(e.to_string(), "short write");
        let e: Error = std::io::Error::from(std::io::ErrorKind::NotFound).into();
        assert!(matches!(e, Error::Io(_)));
        assert_eq!(
            CompletionError::from(std::io::ErrorKind::Interrupted),
            CompletionError::IOError(std::io::ErrorKind::Interrupted)
        );
    }
}
