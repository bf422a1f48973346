//! Checkpoint the WAL: **an operation re-entered while its writes are in
//! flight, which must build its group once** (`&self`, state behind an
//! `RwLock`, as Turso's WAL).
//!
//! The WAL file `wal` holds frames: a page number, four bytes of padding,
//! then the page. A checkpoint reads every frame, writes the latest
//! version of each page to `db` (all writes in one group), syncs `db` and
//! truncates the WAL. A checkpoint takes many calls, and every call
//! re-enters it from the top, while its reads or writes are in flight.
//!
//! The bug keeps the write completions in its state and builds the group
//! from them at the top of the waiting arm, so the second call adds them
//! to a second group: `CompletionGroup::add` panics, the library's way of
//! saying a group was built twice.
//!
//! Caught in every mode: the buggy run panics where the others go on to
//! sync.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use io_model::{io_yield_one, Buffer, Completion, CompletionGroup, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PAGE};

/// The size of a WAL frame.
pub const FRAME: usize = 8 + PAGE;

/// The frames the setup puts in the WAL: page 2 twice (the second wins)
/// and page 3.
pub const FRAMES: [(u32, u8); 3] = [(2, 0x21), (3, 0x31), (2, 0x22)];

/// The setup: the example database and a WAL of [`FRAMES`].
pub fn setup(env: &Env) -> Result<()> {
    pages::setup(env)?;
    let mut wal = Vec::new();
    for (page, fill) in FRAMES {
        wal.extend_from_slice(&page.to_le_bytes());
        wal.extend_from_slice(&[0; 4]);
        wal.extend_from_slice(&[fill; PAGE]);
    }
    env.write_file("wal", &wal)
}

/// Issues the read of every frame of the WAL.
fn read_frames(wal: &dyn File) -> Result<Vec<Completion>> {
    let frames = wal.size()? / FRAME as u64;
    (0..frames)
        .map(|i| {
            let c = Completion::new_read(Arc::new(Buffer::new(FRAME)), |_| {});
            wal.pread(i * FRAME as u64, c)
        })
        .collect()
}

/// The latest image of each page in the frames read.
fn latest(frames: &[Completion]) -> BTreeMap<u32, Vec<u8>> {
    frames
        .iter()
        .map(|c| {
            let frame = pages::bytes(c);
            (pages::get_u32(&frame, 0), frame[8..].to_vec())
        })
        .collect()
}

/// Issues a write of each page to `db`.
fn write_pages(db: &dyn File, latest: &BTreeMap<u32, Vec<u8>>) -> Result<Vec<Completion>> {
    latest
        .iter()
        .map(|(n, page)| pages::write(db, *n, page.clone()))
        .collect()
}

/// A group of `cs`.
fn group(cs: &[Completion]) -> Completion {
    let mut group = CompletionGroup::new(|_| {});
    for c in cs {
        group.add(c);
    }
    group.build()
}

/// The hand-written WAL's checkpoint state.
#[derive(Debug, Default)]
pub enum CheckpointHand {
    /// Nothing in flight.
    #[default]
    Start,
    /// The frame reads are in flight, grouped.
    Reading {
        /// Every frame's read.
        frames: Vec<Completion>,
        /// Their group.
        all: Completion,
    },
    /// The page writes are in flight.
    Writing {
        /// Pages written.
        pages: usize,
        /// Every write (the buggy version groups them on each call).
        writes: Vec<Completion>,
        /// Their group (the correct version builds it once).
        all: Option<Completion>,
    },
    /// `db` is being synced.
    Syncing {
        /// Pages written.
        pages: usize,
        /// The sync.
        sync: Completion,
    },
    /// The WAL is being truncated.
    Truncating {
        /// Pages written.
        pages: usize,
        /// The truncation.
        trunc: Completion,
    },
}

/// Yields on `c` with `st` put back, unless it has finished; then returns
/// its error, if any.
macro_rules! wait_in {
    ($lock:expr, $c:expr, $state:expr) => {
        if !$c.finished() {
            *$lock = $state;
            io_yield_one!($c.clone());
        }
        pages::check(&$c)?;
    };
}

/// The hand-written checkpoint both hand-written WALs share; `buggy`
/// builds the write group on every call.
fn checkpoint_hand(
    st: &RwLock<CheckpointHand>,
    db: &dyn File,
    wal: &dyn File,
    buggy: bool,
) -> Result<IOResult<usize>> {
    loop {
        let taken = std::mem::take(&mut *st.write().unwrap());
        match taken {
            CheckpointHand::Start => {
                let frames = read_frames(wal)?;
                let all = group(&frames);
                *st.write().unwrap() = CheckpointHand::Reading { frames, all };
            }
            CheckpointHand::Reading { frames, all } => {
                wait_in!(
                    st.write().unwrap(),
                    all,
                    CheckpointHand::Reading {
                        frames,
                        all: all.clone()
                    }
                );
                let latest = latest(&frames);
                let writes = write_pages(db, &latest)?;
                let all = (!buggy).then(|| group(&writes));
                *st.write().unwrap() = CheckpointHand::Writing {
                    pages: latest.len(),
                    writes,
                    all,
                };
            }
            CheckpointHand::Writing { pages, writes, all } => {
                // BUG (when `buggy`): a new group of the same completions
                // on every call; the second `add` panics.
                let done = match &all {
                    Some(all) => all.clone(),
                    None => group(&writes),
                };
                wait_in!(
                    st.write().unwrap(),
                    done,
                    CheckpointHand::Writing { pages, writes, all }
                );
                let sync = pages::sync(db)?;
                *st.write().unwrap() = CheckpointHand::Syncing { pages, sync };
            }
            CheckpointHand::Syncing { pages, sync } => {
                wait_in!(
                    st.write().unwrap(),
                    sync,
                    CheckpointHand::Syncing {
                        pages,
                        sync: sync.clone()
                    }
                );
                let trunc = wal.truncate(0, Completion::new_trunc(|_| {}))?;
                *st.write().unwrap() = CheckpointHand::Truncating { pages, trunc };
            }
            CheckpointHand::Truncating { pages, trunc } => {
                wait_in!(
                    st.write().unwrap(),
                    trunc,
                    CheckpointHand::Truncating {
                        pages,
                        trunc: trunc.clone()
                    }
                );
                return Ok(IOResult::Done(pages));
            }
        }
    }
}

/// Hand-written WAL, with the bug.
pub struct BuggyWal {
    db: Arc<dyn File>,
    wal: Arc<dyn File>,
    checkpoint: RwLock<CheckpointHand>,
}

impl BuggyWal {
    /// Copies the WAL's latest pages into `db`; returns how many.
    pub fn checkpoint(&self) -> Result<IOResult<usize>> {
        checkpoint_hand(&self.checkpoint, &*self.db, &*self.wal, true)
    }
}

/// Hand-written WAL, correct: the group is built once, when the writes
/// are issued, and kept in the state.
pub struct HandWal {
    db: Arc<dyn File>,
    wal: Arc<dyn File>,
    checkpoint: RwLock<CheckpointHand>,
}

impl HandWal {
    /// Copies the WAL's latest pages into `db`; returns how many.
    pub fn checkpoint(&self) -> Result<IOResult<usize>> {
        checkpoint_hand(&self.checkpoint, &*self.db, &*self.wal, false)
    }
}

/// With `#[resumable]`: `wait_all!` groups its completions once, whatever
/// the number of calls.
pub struct ResumableWal {
    db: Arc<dyn File>,
    wal: Arc<dyn File>,
    checkpoint: RwLock<CheckpointState>,
}

#[io_model::resumable]
impl ResumableWal {
    /// Copies the WAL's latest pages into `db`; returns how many.
    #[resumable(state = self.checkpoint.write().unwrap())]
    pub fn checkpoint(&self) -> Result<IOResult<usize>> {
        let frames: Vec<Completion> = read_frames(&*self.wal)?;
        wait_all!(ReadFrames => frames.clone());
        let latest = latest(&frames);
        let pages: usize = latest.len();
        wait_all!(WritePages => write_pages(&*self.db, &latest)?);
        wait!(SyncDb => pages::sync(&*self.db)?);
        wait!(TruncateWal => self.wal.truncate(0, Completion::new_trunc(|_| {}))?);
        Ok(IOResult::Done(pages))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let wal = Arc::new(BuggyWal {
        db: env.open("db")?,
        wal: env.open("wal")?,
        checkpoint: RwLock::default(),
    });
    Ok(move || wal.checkpoint())
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let wal = Arc::new(HandWal {
        db: env.open("db")?,
        wal: env.open("wal")?,
        checkpoint: RwLock::default(),
    });
    Ok(move || wal.checkpoint())
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let wal = Arc::new(ResumableWal {
        db: env.open("db")?,
        wal: env.open("wal")?,
        checkpoint: RwLock::default(),
    });
    Ok(move || wal.checkpoint())
}
