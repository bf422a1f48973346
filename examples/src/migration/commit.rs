//! Commit the dirty pages: **a `CompletionGroup` and a one-fsync guard**
//! (`&self`, state behind a `Mutex`, as Turso's pager).
//!
//! Every dirty page is written, all writes in one group; once the group
//! has finished the file is synced; then the dirty set is cleared. The
//! pager allows one fsync in flight: a flag set when the sync is issued
//! and cleared by its completion's callback, which the hand-written
//! machine checks while it waits (Turso's `syncing` flag). In the
//! generated version the flag still guards the pager, but the wait is a
//! `wait!` on the sync itself: the statement that issues it runs once per
//! run, so it cannot issue a second one.
//!
//! The bug builds the group and yields on it without recording that the
//! writes are in flight, so the next call writes every page again. Under a
//! backend whose completions finish before the call returns (`SyncIO`) it
//! never yields and works; under deferred completions it never finishes.
//!
//! Caught in every mode: the pages are written again where the sync
//! should be.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use io_model::{io_yield_one, Completion, CompletionGroup, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, Header, PAGE};

/// What the pagers share: the file, the dirty pages, the fsync guard.
pub struct Shared {
    file: Arc<dyn File>,
    dirty: Mutex<BTreeMap<u32, Vec<u8>>>,
    /// An fsync of `file` is in flight.
    syncing: Arc<AtomicBool>,
}

impl Shared {
    /// The pager of a run: pages 0, 2 and 3 dirty.
    fn new(env: &Env) -> Result<Self> {
        let mut header = vec![0; PAGE];
        Header {
            change_counter: 42,
            page_count: pages::PAGES,
            ..Header::default()
        }
        .store(&mut header);
        let dirty = BTreeMap::from([(0, header), (2, vec![2; PAGE]), (3, vec![3; PAGE])]);
        Ok(Shared {
            file: env.open("db")?,
            dirty: Mutex::new(dirty),
            syncing: Arc::default(),
        })
    }

    /// One write per dirty page, grouped.
    fn write_dirty(&self) -> Result<Completion> {
        let mut group = CompletionGroup::new(|_| {});
        for (n, page) in self.dirty.lock().unwrap().iter() {
            group.add(&pages::write(&*self.file, *n, page.clone())?);
        }
        Ok(group.build())
    }

    /// Issues the fsync and raises the guard; the completion's callback
    /// lowers it.
    fn begin_sync(&self) -> Result<Completion> {
        assert!(
            !self.syncing.swap(true, Ordering::AcqRel),
            "one fsync in flight at a time"
        );
        let flag = self.syncing.clone();
        self.file.sync(Completion::new_sync(move |_| {
            flag.store(false, Ordering::Release);
        }))
    }

    /// Empties the dirty set; returns how many pages it had.
    fn clear_dirty(&self) -> usize {
        std::mem::take(&mut *self.dirty.lock().unwrap()).len()
    }
}

/// The hand-written pagers' commit state.
#[derive(Debug, Default)]
pub enum CommitHand {
    /// Nothing in flight.
    #[default]
    Start,
    /// The group of page writes is in flight.
    Flushing(Completion),
    /// The fsync is in flight (while the guard is up).
    Syncing(Completion),
}

/// Hand-written, with the bug.
pub struct BuggyPager {
    shared: Shared,
    commit: Mutex<CommitHand>,
}

impl BuggyPager {
    /// Writes the dirty pages, syncs once, clears them; returns how many.
    pub fn commit(&self) -> Result<IOResult<usize>> {
        let s = &self.shared;
        loop {
            // io-model-lint: allow(reentrancy) the state is taken from its lock and put back before every yield
            let taken = std::mem::take(&mut *self.commit.lock().unwrap());
            match taken {
                CommitHand::Start | CommitHand::Flushing(_) => {
                    let writes = s.write_dirty()?;
                    if !writes.finished() {
                        // BUG: the state still says `Start`: the next call
                        // builds the group, and writes every page, again.
                        io_yield_one!(writes);
                    }
                    pages::check(&writes)?;
                    *self.commit.lock().unwrap() = CommitHand::Syncing(s.begin_sync()?);
                }
                CommitHand::Syncing(c) => {
                    if s.syncing.load(Ordering::Acquire) {
                        *self.commit.lock().unwrap() = CommitHand::Syncing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(s.clear_dirty()));
                }
            }
        }
    }
}

/// Hand-written, correct.
pub struct HandPager {
    shared: Shared,
    commit: Mutex<CommitHand>,
}

impl HandPager {
    /// Writes the dirty pages, syncs once, clears them; returns how many.
    pub fn commit(&self) -> Result<IOResult<usize>> {
        let s = &self.shared;
        loop {
            // io-model-lint: allow(reentrancy) the state is taken from its lock and put back before every yield
            let taken = std::mem::take(&mut *self.commit.lock().unwrap());
            match taken {
                CommitHand::Start => {
                    *self.commit.lock().unwrap() = CommitHand::Flushing(s.write_dirty()?);
                }
                CommitHand::Flushing(writes) => {
                    if !writes.finished() {
                        *self.commit.lock().unwrap() = CommitHand::Flushing(writes.clone());
                        io_yield_one!(writes);
                    }
                    pages::check(&writes)?;
                    *self.commit.lock().unwrap() = CommitHand::Syncing(s.begin_sync()?);
                }
                CommitHand::Syncing(c) => {
                    // The one-fsync guard: wait while the flag is up.
                    if s.syncing.load(Ordering::Acquire) {
                        *self.commit.lock().unwrap() = CommitHand::Syncing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(s.clear_dirty()));
                }
            }
        }
    }
}

/// With `#[resumable]`.
pub struct ResumablePager {
    shared: Shared,
    commit: Mutex<CommitState>,
}

#[io_model::resumable]
impl ResumablePager {
    /// Writes the dirty pages, syncs once, clears them; returns how many.
    #[resumable(state = self.commit.lock().unwrap())]
    pub fn commit(&self) -> Result<IOResult<usize>> {
        wait!(Flush => self.shared.write_dirty()?);
        wait!(Sync => self.shared.begin_sync()?);
        Ok(IOResult::Done(self.shared.clear_dirty()))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let pager = Arc::new(BuggyPager {
        shared: Shared::new(env)?,
        commit: Mutex::default(),
    });
    Ok(move || pager.commit())
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let pager = Arc::new(HandPager {
        shared: Shared::new(env)?,
        commit: Mutex::default(),
    });
    Ok(move || pager.commit())
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let pager = Arc::new(ResumablePager {
        shared: Shared::new(env)?,
        commit: Mutex::default(),
    });
    Ok(move || pager.commit())
}
