//! Which I/O backend a run uses, made once per thread (one ring per
//! thread), and where its files are.
//!
//! `nbd` keeps every file on an NBD server: shard `k`'s files are the
//! exports `shard-k.db` and `shard-k.wal` (with `nbdkit file dir=DIR`, the
//! files of those names in `DIR`, made beforehand at their size: an export
//! cannot grow). `mirror` keeps them in the database directory on the local
//! default backend and mirrors every write and sync to those exports.
//!
//! The engine only sees `Arc<dyn IO>` and [`StorePaths`]; a new backend is
//! a new [`BackendKind`], a branch in [`BackendSpec::instantiate`] and, if
//! its files are not paths in a directory, in [`BackendSpec::store_paths`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use io_model::{OpenFlags, IO};
use io_model_backends::{default_io, MirrorIO, NbdIO, NbdUri, SyncIO};

use super::StorePaths;

/// The backends the page store can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// [`default_io`]: io_uring where the kernel allows it, else sync.
    Default,
    /// `UringIO`, or an error where the kernel refuses io_uring.
    Uring,
    /// [`SyncIO`].
    Sync,
    /// An NBD server's exports (`--nbd URI`).
    Nbd,
    /// A primary and an NBD replica.
    Mirror,
}

impl BackendKind {
    /// Every kind, in the order the command line lists them.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Default,
        BackendKind::Uring,
        BackendKind::Sync,
        BackendKind::Nbd,
        BackendKind::Mirror,
    ];

    /// The name on the command line.
    ///
    /// ```
    /// use io_model_examples::pagestore::backend::BackendKind;
    /// assert_eq!(BackendKind::Uring.name(), "uring");
    /// assert_eq!("sync".parse::<BackendKind>(), Ok(BackendKind::Sync));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Default => "default",
            BackendKind::Uring => "uring",
            BackendKind::Sync => "sync",
            BackendKind::Nbd => "nbd",
            BackendKind::Mirror => "mirror",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!("unknown backend {s:?}: expected default, uring, sync, nbd or mirror")
            })
    }
}

/// Why a backend cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// This build cannot provide it at all (a usage error).
    #[error("{0}")]
    Unavailable(String),
    /// It could not be set up here (the kernel refused, say).
    #[error("{0}")]
    Failed(String),
}

/// A backend choice with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSpec {
    /// Which backend.
    pub kind: BackendKind,
    /// The NBD server, for [`BackendKind::Nbd`] and [`BackendKind::Mirror`].
    pub nbd: Option<String>,
}

/// A backend instance for one thread, and what it turned out to be.
pub struct ThreadIO {
    /// The backend.
    pub io: Arc<dyn IO>,
    /// What it is: `io_uring`, `sync`, ...
    pub name: String,
    /// Why (what the kernel accepted or refused).
    pub detail: String,
}

impl BackendSpec {
    /// The spec of `kind` without arguments.
    pub fn of(kind: BackendKind) -> Self {
        Self { kind, nbd: None }
    }

    /// Whether this build can provide the backend, before anything is
    /// created on disk.
    ///
    /// ```
    /// use io_model_examples::pagestore::backend::{BackendKind, BackendSpec};
    /// assert!(BackendSpec::of(BackendKind::Sync).check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), BackendError> {
        match self.kind {
            BackendKind::Nbd | BackendKind::Mirror => match &self.nbd {
                None => Err(BackendError::Unavailable(format!(
                    "--backend {} needs --nbd URI (nbd://host[:port] or nbd+unix:///?socket=PATH)",
                    self.kind
                ))),
                Some(uri) => NbdUri::parse(uri)
                    .map(|_| ())
                    .map_err(|e| BackendError::Unavailable(format!("--nbd: {e}"))),
            },
            BackendKind::Default | BackendKind::Uring | BackendKind::Sync => {
                if self.nbd.is_some() {
                    return Err(BackendError::Unavailable(format!(
                        "--nbd is for --backend nbd or mirror, not {}",
                        self.kind
                    )));
                }
                Ok(())
            }
        }
    }

    /// A new backend instance for the calling thread.
    pub fn instantiate(&self) -> Result<ThreadIO, BackendError> {
        self.check()?;
        match self.kind {
            BackendKind::Default => {
                let chosen = default_io().map_err(|e| BackendError::Failed(e.to_string()))?;
                Ok(ThreadIO {
                    name: chosen.kind.to_string(),
                    detail: chosen.reason.clone(),
                    io: chosen.io,
                })
            }
            BackendKind::Uring => uring(),
            BackendKind::Sync => Ok(ThreadIO {
                io: Arc::new(SyncIO::new()),
                name: "sync".into(),
                detail: "blocking pread/pwrite/fdatasync".into(),
            }),
            BackendKind::Nbd => {
                let uri = self.uri();
                let io = NbdIO::connect(uri).map_err(|e| BackendError::Failed(e.to_string()))?;
                Ok(ThreadIO {
                    io: Arc::new(io),
                    name: "nbd".into(),
                    detail: format!("the exports of the NBD server at {uri}"),
                })
            }
            BackendKind::Mirror => {
                let uri = self.uri();
                let local = default_io().map_err(|e| BackendError::Failed(e.to_string()))?;
                let replica =
                    NbdIO::connect(uri).map_err(|e| BackendError::Failed(e.to_string()))?;
                let io = MirrorIO::new(local.io, Arc::new(replica)).with_replica_path(export_name);
                Ok(ThreadIO {
                    io: Arc::new(io),
                    name: format!("mirror ({} + nbd)", local.kind),
                    detail: format!("{}, mirrored to the NBD server at {uri}", local.reason),
                })
            }
        }
    }

    /// For a new database: checks that the exports shard `shard` needs hold
    /// `data_len` and `wal_len` bytes, since an export cannot grow. Does
    /// nothing for local backends. The error says which export to make,
    /// and how big.
    pub fn check_room(&self, shard: u32, data_len: u64, wal_len: u64) -> Result<(), BackendError> {
        if !matches!(self.kind, BackendKind::Nbd | BackendKind::Mirror) {
            return Ok(());
        }
        let uri = self.uri();
        let io = NbdIO::connect(uri).map_err(|e| BackendError::Failed(e.to_string()))?;
        let names = StorePaths::in_dir(Path::new(""), shard);
        for (name, need) in [(&names.data, data_len), (&names.wal, wal_len)] {
            let mib = need.div_ceil(1 << 20);
            let make =
                format!("for nbdkit file dir=DIR, make it with: truncate -s {mib}M DIR/{name}");
            let file = io.open_file(name, OpenFlags::READ_ONLY).map_err(|e| {
                BackendError::Failed(format!("export {name:?} on {uri}: {e}; {make}"))
            })?;
            let have = file
                .size()
                .map_err(|e| BackendError::Failed(format!("export {name:?}: {e}")))?;
            if have < need {
                return Err(BackendError::Failed(format!(
                    "export {name:?} on {uri} is {have} bytes, but the new database needs {need} \
                     (NBD exports have a fixed size); {make}"
                )));
            }
        }
        Ok(())
    }

    /// The NBD URI of an `nbd` or `mirror` spec that passed [`check`](Self::check).
    fn uri(&self) -> &str {
        self.nbd.as_deref().unwrap_or_default()
    }

    /// The files of shard `shard` of the database in `dir`: paths in `dir`,
    /// or for `nbd` the export names (`dir` is not used).
    ///
    /// ```
    /// use io_model_examples::pagestore::backend::{BackendKind, BackendSpec};
    /// use std::path::Path;
    /// let nbd = BackendSpec { kind: BackendKind::Nbd, nbd: Some("nbd://localhost".into()) };
    /// assert_eq!(nbd.store_paths(Path::new("/tmp/db"), 1).wal, "shard-1.wal");
    /// ```
    pub fn store_paths(&self, dir: &Path, shard: u32) -> StorePaths {
        match self.kind {
            BackendKind::Nbd => StorePaths::in_dir(Path::new(""), shard),
            _ => StorePaths::in_dir(dir, shard),
        }
    }

    /// Where the database is, for messages: `dir`, or the NBD server.
    ///
    /// ```
    /// use io_model_examples::pagestore::backend::{BackendKind, BackendSpec};
    /// use std::path::Path;
    /// let sync = BackendSpec::of(BackendKind::Sync);
    /// assert_eq!(sync.location(Path::new("/tmp/db")), "/tmp/db");
    /// ```
    pub fn location(&self, dir: &Path) -> String {
        match self.kind {
            BackendKind::Nbd => format!("the NBD server {}", self.uri()),
            BackendKind::Mirror => format!("{} (mirrored to {})", dir.display(), self.uri()),
            _ => dir.display().to_string(),
        }
    }
}

/// The export a local path is mirrored to: its file name.
fn export_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(target_os = "linux")]
fn uring() -> Result<ThreadIO, BackendError> {
    let io = io_model_backends::UringIO::new()
        .map_err(|e| BackendError::Failed(format!("io_uring: {e}")))?;
    let detail = io.info().to_string();
    Ok(ThreadIO {
        io: Arc::new(io),
        name: "io_uring".into(),
        detail,
    })
}

#[cfg(not(target_os = "linux"))]
fn uring() -> Result<ThreadIO, BackendError> {
    Err(BackendError::Failed("io_uring is Linux-only".into()))
}
