//! Which I/O backend a run uses, made once per thread (one ring per
//! thread), and where its files are.
//!
//! The engine only sees `Arc<dyn IO>` and [`StorePaths`]; a new backend is
//! a new [`BackendKind`], a branch in [`BackendSpec::instantiate`] and, if
//! its files are not paths in a directory, in [`BackendSpec::store_paths`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use io_model::IO;
use io_model_backends::{default_io, SyncIO};

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
            BackendKind::Nbd | BackendKind::Mirror => Err(BackendError::Unavailable(
                "this build has no NBD backend yet".into(),
            )),
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
            BackendKind::Nbd | BackendKind::Mirror => unreachable!("BUG: check() refuses it"),
        }
    }

    /// The files of shard `shard` of the database in `dir`.
    pub fn store_paths(&self, dir: &Path, shard: u32) -> StorePaths {
        StorePaths::in_dir(dir, shard)
    }
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
