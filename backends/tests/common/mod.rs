//! Helpers shared by the backend test binaries: temporary directories,
//! backend set-up (skipping where io_uring is refused), and blocking
//! wrappers around single operations.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, Error, File, IO};
use io_model_backends::{InlineReads, SimIO, SyncIO, UringIO, UringOptions};

/// A directory under `std::env::temp_dir()` with a name no other test (or
/// test process) uses, removed with its contents on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "io-model-backends-{tag}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("creating the test's temporary directory");
        Self { path }
    }

    /// The path of `name` inside the directory, as the `&str` the backends
    /// take.
    pub fn file(&self, name: &str) -> String {
        self.path
            .join(name)
            .to_str()
            .expect("temp paths are UTF-8")
            .to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The backends (and configurations) the conformance suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sync,
    /// `UringIO` with its defaults (cached reads served inline).
    Uring,
    /// `UringIO` with every read through a ring of 8 entries, so that the
    /// suite's batches overflow it.
    UringRing,
    /// `UringIO` with every read through the ring, transfers split into
    /// SQEs of 1536 bytes (every longer transfer comes back short and is
    /// resubmitted; a multiple of 512 keeps `O_DIRECT` aligned) and no
    /// registration.
    UringSplit,
    Sim,
}

pub struct Env {
    pub io: Arc<dyn IO>,
    pub backend: Backend,
    pub dir: TempDir,
    /// The simulator, for `Backend::Sim`.
    pub sim: Option<Arc<SimIO>>,
}

impl Env {
    pub fn path(&self, name: &str) -> String {
        self.dir.file(name)
    }
}

/// A `UringIO` with `opts`, or `None` after printing why the kernel
/// refused it.
pub fn uring(test: &str, opts: UringOptions) -> Option<UringIO> {
    match UringIO::with_options(opts) {
        Ok(io) => Some(io),
        Err(err) => {
            eprintln!("skipping {test}: {err}");
            None
        }
    }
}

/// A seed that differs per test, so the suite covers many schedules.
pub fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Backend {
    pub fn setup(self, test: &str) -> Option<Env> {
        let dir = TempDir::new(test);
        let mut sim = None;
        let io: Arc<dyn IO> = match self {
            Backend::Sync => Arc::new(SyncIO::new()),
            Backend::Uring => Arc::new(uring(test, UringOptions::default())?),
            Backend::UringRing => Arc::new(uring(
                test,
                UringOptions::default()
                    .entries(8)
                    .inline_reads(InlineReads::Never),
            )?),
            Backend::UringSplit => Arc::new(uring(
                test,
                UringOptions::default()
                    .inline_reads(InlineReads::Never)
                    .split_transfers(1536)
                    .register_buffers(false)
                    .register_files(false),
            )?),
            Backend::Sim => {
                let s = Arc::new(SimIO::new(seed_of(test)));
                sim = Some(s.clone());
                s
            }
        };
        Some(Env {
            io,
            backend: self,
            dir,
            sim,
        })
    }
}

/// Bytes that differ at every offset and between seeds.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes `data` at `pos` and waits.
pub fn write(io: &dyn IO, file: &dyn File, pos: u64, data: &[u8]) -> Result<(), Error> {
    let c = file.pwrite(
        pos,
        Arc::new(Buffer::from_vec(data.to_vec())),
        Completion::new_write(|_| {}),
    )?;
    io.wait_for_completion(c.clone())?;
    assert_eq!(c.result(), Some(Ok(data.len() as i32)));
    Ok(())
}

/// Reads `len` bytes at `pos` and waits. On a short read, the error and
/// the bytes that were read.
pub fn read(
    io: &dyn IO,
    file: &dyn File,
    pos: u64,
    len: usize,
) -> Result<Vec<u8>, (Error, Vec<u8>)> {
    let buf = Arc::new(Buffer::new(len));
    let c = file
        .pread(pos, Completion::new_read(buf.clone(), |_| {}))
        .map_err(|e| (e, Vec::new()))?;
    match io.wait_for_completion(c.clone()) {
        Ok(()) => {
            assert_eq!(c.result(), Some(Ok(len as i32)));
            Ok(buf.to_vec())
        }
        Err(err) => {
            let got = match c.get_error() {
                Some(CompletionError::ShortRead { actual, .. }) => buf.lock()[..actual].to_vec(),
                _ => Vec::new(),
            };
            Err((err, got))
        }
    }
}

pub fn sync(io: &dyn IO, file: &dyn File) -> Result<(), Error> {
    io.wait_for_completion(file.sync(Completion::new_sync(|_| {}))?)
}

pub fn truncate(io: &dyn IO, file: &dyn File, len: u64) -> Result<(), Error> {
    io.wait_for_completion(file.truncate(len, Completion::new_trunc(|_| {}))?)
}

/// The `CompletionError` inside an `Error`, if there is one.
pub fn completion_error(err: &Error) -> Option<CompletionError> {
    match err {
        Error::Completion(e) => Some(*e),
        _ => None,
    }
}
