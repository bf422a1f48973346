//! What [`SyncIO`](crate::SyncIO) and [`UringIO`](crate::UringIO) share:
//! opening files from [`OpenFlags`], blocking reads and writes that loop on
//! short transfers and `EINTR`, and the mapping of OS errors to
//! [`CompletionError`].
//!
//! Everything here goes through `std`'s thin wrappers over the system calls
//! (`FileExt::read_at` is one `pread(2)`, `write_at` one `pwrite(2)`,
//! `sync_data` is `fdatasync(2)` on Linux, `set_len` is `ftruncate(2)`), so
//! this module needs no `unsafe`.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, Error, OpenFlags, Result};

/// Opens `path` as `flags` ask, with `O_CLOEXEC` (std adds it) and, for
/// [`OpenFlags::DIRECT`], `O_DIRECT`.
pub(crate) fn open(path: &str, flags: OpenFlags) -> Result<File> {
    let read_only = flags.contains(OpenFlags::READ_ONLY);
    let mut opts = OpenOptions::new();
    opts.read(true)
        .write(!read_only)
        .create(flags.contains(OpenFlags::CREATE))
        .truncate(flags.contains(OpenFlags::TRUNCATE))
        .mode(0o644);
    if flags.contains(OpenFlags::DIRECT) {
        #[cfg(target_os = "linux")]
        opts.custom_flags(libc::O_DIRECT);
        #[cfg(not(target_os = "linux"))]
        return Err(Error::Unsupported(format!(
            "opening {path}: OpenFlags::DIRECT (O_DIRECT) is only supported on Linux"
        )));
    }
    opts.open(path).map_err(|err| {
        // Keep the kind (NotFound, PermissionDenied..) and say which file.
        Error::Io(std::io::Error::new(
            err.kind(),
            format!("opening {path}: {err}"),
        ))
    })
}

/// The [`CompletionError`] of an OS error number.
pub(crate) fn errno_error(errno: i32) -> CompletionError {
    CompletionError::IOError(std::io::Error::from_raw_os_error(errno).kind())
}

/// The [`CompletionError`] of a `std::io::Error`.
pub(crate) fn io_error(err: &std::io::Error) -> CompletionError {
    CompletionError::IOError(err.kind())
}

/// Reads `buf.len()` bytes at `pos`, looping on short reads and `EINTR`.
/// Returns how many bytes were read: fewer than asked only where the file
/// ends first.
pub(crate) fn read_full(file: &File, buf: &mut [u8], pos: u64) -> Result<usize, CompletionError> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], pos + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(io_error(&err)),
        }
    }
    Ok(done)
}

/// Writes all of `buf` at `pos`, looping on short writes and `EINTR`. A
/// write that makes no progress is a [`CompletionError::ShortWrite`].
pub(crate) fn write_full(file: &File, buf: &[u8], pos: u64) -> Result<(), CompletionError> {
    let mut done = 0;
    while done < buf.len() {
        match file.write_at(&buf[done..], pos + done as u64) {
            Ok(0) => return Err(CompletionError::ShortWrite),
            Ok(n) => done += n,
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(io_error(&err)),
        }
    }
    Ok(())
}

/// `fdatasync(2)` (on Linux; `fsync(2)` elsewhere), retried on `EINTR`.
pub(crate) fn sync_data(file: &File) -> Result<(), CompletionError> {
    loop {
        match file.sync_data() {
            Ok(()) => return Ok(()),
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) => return Err(io_error(&err)),
        }
    }
}

/// `ftruncate(2)` (std retries it on `EINTR`).
pub(crate) fn truncate(file: &File, len: u64) -> Result<(), CompletionError> {
    file.set_len(len).map_err(|err| io_error(&err))
}

/// The file's length, from `fstat(2)`.
pub(crate) fn size(file: &File) -> Result<u64> {
    Ok(file.metadata()?.len())
}

/// A read or write longer than this cannot report its byte count in the
/// completion's `i32` result.
pub(crate) const MAX_IO_LEN: usize = i32::MAX as usize;

/// Finishes `c` with `InvalidInput` (so that no waiter and no group hangs
/// on it) and returns the `Err` that the caller's `?` sees at once: the
/// request was malformed and never reached the file.
pub(crate) fn refuse(c: Completion, what: String) -> Result<Completion> {
    c.error(CompletionError::IOError(ErrorKind::InvalidInput));
    Err(Error::InvalidArgument(what))
}

/// Checks what every backend checks the same way before a read at `pos`:
/// `c` is a read completion, its length fits the completion's `i32` result,
/// and the range ends at a valid file offset. Returns the buffer to read
/// into (the completion's, borrowed: the completion keeps it alive).
pub(crate) fn check_read(pos: u64, c: &Completion) -> Result<&Arc<Buffer>, String> {
    let buf = c.read_buffer().ok_or_else(|| {
        format!(
            "pread needs a read completion (Completion::new_read), got a {:?} completion",
            c.kind()
        )
    })?;
    check_range(pos, buf.len())?;
    Ok(buf)
}

/// Checks that a read or write of `len` bytes at `pos` can report its
/// length in an `i32` and ends at a valid file offset.
pub(crate) fn check_range(pos: u64, len: usize) -> Result<(), String> {
    if len > MAX_IO_LEN {
        return Err(format!(
            "an I/O of {len} bytes is longer than the {MAX_IO_LEN} bytes a completion can report"
        ));
    }
    match pos.checked_add(len as u64) {
        Some(end) if end <= i64::MAX as u64 => Ok(()),
        _ => Err(format!(
            "the range {pos}..+{len} ends past the largest file offset"
        )),
    }
}

/// Checks a truncation to `len`.
pub(crate) fn check_len(len: u64) -> Result<(), String> {
    if len > i64::MAX as u64 {
        return Err(format!(
            "cannot truncate to {len} bytes: past the largest file offset"
        ));
    }
    Ok(())
}

/// The error of a write or truncation on a file opened read-only.
pub(crate) const READ_ONLY: CompletionError = CompletionError::IOError(ErrorKind::PermissionDenied);

/// Admits a request that changes a file (a write or a truncation) the way
/// every file-backed backend does: its range check (`range`, from
/// [`check_range`] or [`check_len`]) passed and the file is writable.
/// `Ok(c)` to go on; `Err(result)` is what the request returns at once (the
/// completion finished, with an error).
pub(crate) fn admit_write(
    c: Completion,
    range: Result<(), String>,
    read_only: bool,
) -> Result<Completion, Result<Completion>> {
    if let Err(what) = range {
        return Err(refuse(c, what));
    }
    if read_only {
        c.error(READ_ONLY);
        return Err(Ok(c));
    }
    Ok(c)
}
