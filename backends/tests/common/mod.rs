//! Helpers shared by the backend test binaries: temporary directories,
//! backend set-up (skipping where io_uring is refused), and blocking
//! wrappers around single operations.

#![allow(dead_code)] // each test binary uses a different subset

pub mod nbdkit;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, Error, File, OpenFlags, IO};
#[cfg(feature = "nbd")]
use io_model_backends::NbdIO;
use io_model_backends::{InlineReads, MirrorIO, SimIO, SyncIO, UringIO, UringOptions};

use nbdkit::Nbdkit;

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

    pub fn path(&self) -> &Path {
        &self.path
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
    /// `NbdIO` on a real nbdkit (`file dir=`): fixed-size exports.
    Nbd,
    /// `MirrorIO` over two `SyncIO`s (the replica of `x` is `x.mirror`).
    MirrorSync,
    /// `MirrorIO`: a local `SyncIO` file mirrored to an NBD export.
    MirrorSyncNbd,
    /// `MirrorIO`: a local `UringIO` file mirrored to an NBD export.
    MirrorUringNbd,
}

pub struct Env {
    pub io: Arc<dyn IO>,
    pub backend: Backend,
    pub dir: TempDir,
    /// The simulator, for `Backend::Sim`.
    pub sim: Option<Arc<SimIO>>,
    /// Files have a fixed size (an NBD export somewhere): they are made
    /// beforehand by `create`, cannot grow, and cannot be truncated.
    pub fixed: bool,
    /// The server, where one is involved.
    pub nbdkit: Option<Nbdkit>,
}

impl Env {
    /// The path (or export name) of `name` on this backend.
    pub fn path(&self, name: &str) -> String {
        match self.backend {
            Backend::Nbd => name.to_owned(),
            _ => self.dir.file(name),
        }
    }

    /// The files a fixed-size `name` consists of: the export, and the
    /// local primary of a mirror.
    fn fixed_files(&self, name: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        if let Some(server) = &self.nbdkit {
            files.push(server.exports.join(name));
        }
        if self.backend != Backend::Nbd {
            files.push(self.dir.path().join(name));
        }
        files
    }

    /// A new file `name` opened with `flags`: created empty where files
    /// grow; made `len` zero bytes long beforehand where they are fixed.
    pub fn create(&self, name: &str, len: u64, flags: OpenFlags) -> Result<Arc<dyn File>, Error> {
        if self.fixed {
            for path in self.fixed_files(name) {
                std::fs::File::create(&path)
                    .and_then(|f| f.set_len(len))
                    .unwrap_or_else(|err| panic!("making {}: {err}", path.display()));
            }
            self.io.open_file(&self.path(name), flags)
        } else {
            self.io
                .open_file(&self.path(name), flags | OpenFlags::CREATE)
        }
    }

    /// `create`, for a file that must open.
    pub fn new_file(&self, name: &str, len: u64) -> Arc<dyn File> {
        self.create(name, len, OpenFlags::NONE)
            .unwrap_or_else(|err| panic!("{:?}: opening {name}: {err}", self.backend))
    }

    /// For a mirror: every primary file in the test's directory has a
    /// byte-identical replica.
    pub fn check_copies(&self) {
        let replica_of = |name: &str| -> Option<PathBuf> {
            match self.backend {
                Backend::MirrorSync => Some(self.dir.path().join(format!("{name}.mirror"))),
                Backend::MirrorSyncNbd | Backend::MirrorUringNbd => {
                    self.nbdkit.as_ref().map(|s| s.exports.join(name))
                }
                _ => None,
            }
        };
        let Ok(entries) = std::fs::read_dir(self.dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entry.path().is_file() || name.ends_with(".mirror") {
                continue;
            }
            let Some(replica) = replica_of(&name) else {
                return;
            };
            let primary = std::fs::read(entry.path()).unwrap();
            let copy = std::fs::read(&replica)
                .unwrap_or_else(|err| panic!("replica of {name} ({}): {err}", replica.display()));
            assert!(
                primary == copy,
                "{name}: the replica differs from the primary ({} vs {} bytes)",
                primary.len(),
                copy.len()
            );
        }
    }
}

/// A `UringIO` for a mirror's primary, or `None` after saying why not.
fn uring_default(test: &str) -> Option<UringIO> {
    uring(test, UringOptions::default())
}

/// Without the `nbd` feature there is no `NbdIO`: the NBD cases skip.
#[cfg(not(feature = "nbd"))]
pub fn nbd(test: &str, _dir: &TempDir) -> Option<(Nbdkit, SyncIO)> {
    eprintln!("skipping {test}: io-model-backends was built without the nbd feature");
    None
}

/// Starts nbdkit serving `dir/exports` and connects an `NbdIO` to it.
#[cfg(feature = "nbd")]
pub fn nbd(test: &str, dir: &TempDir) -> Option<(Nbdkit, NbdIO)> {
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let server = Nbdkit::start(test, &exports, &[], &[])?;
    let io = NbdIO::connect(&server.uri())
        .unwrap_or_else(|err| panic!("{test}: connecting to nbdkit: {err}"));
    Some((server, io))
}

/// The file name of a path: the export name of a local path's replica.
pub fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
        let mut server = None;
        let io: Arc<dyn IO> = match self {
            Backend::Sync => Arc::new(SyncIO::new()),
            Backend::Uring => Arc::new(uring(test, UringOptions::default())?),
            Backend::UringRing => Arc::new(uring(
                test,
                UringOptions::default()
                    .entries(8)
                    .inline_reads(InlineReads::Never)
                    .inline_lone_ops(false),
            )?),
            Backend::UringSplit => Arc::new(uring(
                test,
                UringOptions::default()
                    .inline_reads(InlineReads::Never)
                    .inline_lone_ops(false)
                    .split_transfers(1536)
                    .register_buffers(false)
                    .register_files(false),
            )?),
            Backend::Sim => {
                let s = Arc::new(SimIO::new(seed_of(test)));
                sim = Some(s.clone());
                s
            }
            Backend::Nbd => {
                let (s, io) = nbd(test, &dir)?;
                server = Some(s);
                Arc::new(io)
            }
            Backend::MirrorSync => Arc::new(
                MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SyncIO::new()))
                    .with_replica_path(|p| format!("{p}.mirror")),
            ),
            Backend::MirrorSyncNbd | Backend::MirrorUringNbd => {
                let primary: Arc<dyn IO> = match self {
                    Backend::MirrorUringNbd => Arc::new(uring_default(test)?),
                    _ => Arc::new(SyncIO::new()),
                };
                let (s, io) = nbd(test, &dir)?;
                server = Some(s);
                Arc::new(MirrorIO::new(primary, Arc::new(io)).with_replica_path(file_name))
            }
        };
        let fixed = matches!(
            self,
            Backend::Nbd | Backend::MirrorSyncNbd | Backend::MirrorUringNbd
        );
        Some(Env {
            io,
            backend: self,
            dir,
            sim,
            fixed,
            nbdkit: server,
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
