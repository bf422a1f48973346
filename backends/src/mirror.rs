//! [`MirrorIO`]: two backends kept as copies of each other. Reads come
//! from the primary; writes, syncs and truncations go to both, and finish
//! when both copies have, through a [`CompletionGroup`].

use std::fmt;
use std::io::ErrorKind;
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, CompletionGroup, File, OpenFlags, Result, IO};

type PathMap = dyn Fn(&str) -> String + Send + Sync;

/// A backend that mirrors every change to a second backend: backup and
/// replication by composition.
///
/// - [`open_file`](IO::open_file) opens the file on both backends, the
///   replica first (at the path [`with_replica_path`](Self::with_replica_path)
///   maps to, the same path by default), so that a replica that refuses
///   the open (an NBD export cannot be truncated on open) leaves the
///   primary untouched.
/// - [`pread`](File::pread) and [`size`](File::size) are the primary's.
/// - [`pwrite`](File::pwrite), [`sync`](File::sync) and
///   [`truncate`](File::truncate) are issued to the replica, then to the
///   primary, each with a completion of its own; the caller's completion
///   finishes when both have, with the primary's byte count, or with the
///   first error either reported. A request the replica refuses at once
///   (`Err`) is not sent to the primary; one the primary refuses at once
///   after the replica took it returns the primary's `Err` while the
///   replica's copy still finishes in the background. Either way the
///   caller's completion is finished with the error.
/// - [`step`](IO::step) steps the primary, then the replica. Each may
///   block while it has I/O in flight, so a completion that only waits for
///   one of them can be delayed by the other's next reply.
///
/// Each mirrored request makes two child completions and a group; on a
/// warm thread they are recycled states, so it allocates nothing.
///
/// ```
/// use io_model::{Buffer, Completion, File, OpenFlags, IO};
/// use io_model_backends::{MirrorIO, SyncIO};
/// use std::sync::Arc;
///
/// let dir = std::env::temp_dir().join(format!("io-model-mirror-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("db").to_str().unwrap().to_owned();
///
/// let io = MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SyncIO::new()))
///     .with_replica_path(|p| format!("{p}.copy"));
/// let file = io.open_file(&path, OpenFlags::CREATE)?;
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(vec![9; 4096])), Completion::new_write(|_| {}))?;
/// io.wait_for_completion(w)?;
/// io.wait_for_completion(file.sync(Completion::new_sync(|_| {}))?)?;
/// assert_eq!(std::fs::read(&path)?, std::fs::read(format!("{path}.copy"))?);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MirrorIO {
    primary: Arc<dyn IO>,
    replica: Arc<dyn IO>,
    replica_path: Arc<PathMap>,
}

impl MirrorIO {
    /// Mirrors `primary` to `replica`, opening the same path on both.
    ///
    /// ```
    /// use io_model_backends::{MirrorIO, SimIO, SyncIO};
    /// use std::sync::Arc;
    /// let io = MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SimIO::new(7)));
    /// ```
    pub fn new(primary: Arc<dyn IO>, replica: Arc<dyn IO>) -> Self {
        Self {
            primary,
            replica,
            replica_path: Arc::new(str::to_owned),
        }
    }

    /// Opens (and removes) on the replica the path `map` gives for the
    /// primary's path: for instance the file name alone, which is the
    /// export name of a replica on `nbdkit file dir=DIR`.
    ///
    /// ```
    /// use io_model_backends::{MirrorIO, SyncIO};
    /// use std::sync::Arc;
    /// let io = MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SyncIO::new()))
    ///     .with_replica_path(|p| p.replace("/primary/", "/replica/"));
    /// ```
    pub fn with_replica_path(
        mut self,
        map: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> Self {
        self.replica_path = Arc::new(map);
        self
    }

    /// The backend reads come from.
    ///
    /// ```
    /// use io_model_backends::{MirrorIO, SyncIO};
    /// use std::sync::Arc;
    /// let io = MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SyncIO::new()));
    /// io.primary().step()?;
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn primary(&self) -> &Arc<dyn IO> {
        &self.primary
    }

    /// The backend that receives a copy of every change.
    ///
    /// ```
    /// use io_model_backends::{MirrorIO, SyncIO};
    /// use std::sync::Arc;
    /// let io = MirrorIO::new(Arc::new(SyncIO::new()), Arc::new(SyncIO::new()));
    /// io.replica().step()?;
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn replica(&self) -> &Arc<dyn IO> {
        &self.replica
    }
}

impl fmt::Debug for MirrorIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MirrorIO").finish_non_exhaustive()
    }
}

impl IO for MirrorIO {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let replica = self.replica.open_file(&(self.replica_path)(path), flags)?;
        let primary = self.primary.open_file(path, flags)?;
        Ok(Arc::new(MirrorFile { primary, replica }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        self.replica.remove_file(&(self.replica_path)(path))?;
        self.primary.remove_file(path)
    }

    fn step(&self) -> Result<()> {
        self.primary.step()?;
        self.replica.step()
    }
}

/// A file of [`MirrorIO`]: its two copies.
struct MirrorFile {
    primary: Arc<dyn File>,
    replica: Arc<dyn File>,
}

/// Issues one change to both copies, the replica first, and ties the
/// caller's `c` to both (see [`MirrorIO`]).
fn mirrored(
    c: Completion,
    child: impl Fn() -> Completion,
    ok: i32,
    issue: impl Fn(&dyn File, Completion) -> Result<Completion>,
    replica: &dyn File,
    primary: &dyn File,
) -> Result<Completion> {
    let r = child();
    if let Err(err) = issue(replica, r.clone()) {
        c.error(
            r.get_error()
                .unwrap_or(CompletionError::IOError(ErrorKind::InvalidInput)),
        );
        return Err(err);
    }
    let p = child();
    let issued = issue(primary, p.clone());
    let done = c.clone();
    let mut group = CompletionGroup::new(move |res| match res {
        Ok(_) => done.complete(ok),
        Err(err) => done.error(err),
    });
    group.add(&r);
    group.add(&p);
    // The children keep the group alive until both finish.
    drop(group.build());
    match issued {
        Ok(_) => Ok(c),
        Err(err) => {
            c.error(
                p.get_error()
                    .unwrap_or(CompletionError::IOError(ErrorKind::InvalidInput)),
            );
            Err(err)
        }
    }
}

impl File for MirrorFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion> {
        self.primary.pread(pos, c)
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        let ok = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        mirrored(
            c,
            || Completion::new_write(|_| {}),
            ok,
            |f, child| f.pwrite(pos, buf.clone(), child),
            &*self.replica,
            &*self.primary,
        )
    }

    fn sync(&self, c: Completion) -> Result<Completion> {
        mirrored(
            c,
            || Completion::new_sync(|_| {}),
            0,
            |f, child| f.sync(child),
            &*self.replica,
            &*self.primary,
        )
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        mirrored(
            c,
            || Completion::new_trunc(|_| {}),
            0,
            |f, child| f.truncate(len, child),
            &*self.replica,
            &*self.primary,
        )
    }

    fn size(&self) -> Result<u64> {
        self.primary.size()
    }
}
