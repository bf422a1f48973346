//! [`LogState`]: the write-ahead log's bookkeeping, without any I/O.
//!
//! The log file has two regions; the *active* generation takes new
//! commits, the *old* one (while a checkpoint runs) is frozen and being
//! copied into the data file. Each region has an index from page to the
//! newest durable frame of that page.
//!
//! A commit *reserves* consecutive frames of the active region and an LSN
//! (LSNs are consecutive, in frame order), writes its frames, then waits
//! until the log is durable through its LSN. Durability is tracked as two
//! horizons: `written_lsn` (every commit up to it has all its frames
//! written) and `durable_lsn` (a finished fsync covered it). A commit whose
//! frames are written finds one of three things: its LSN is already
//! durable; an fsync is in flight, so it waits for that one to finish and
//! looks again; or none is, so it leads one, covering everything written
//! so far. Commits that arrive while an fsync runs share the next one:
//! group commit. An fsync never covers a commit before every earlier one is
//! written, so recovery, which stops at the first incomplete commit, never
//! drops a commit that was reported durable.
//!
//! A commit becomes visible (its frames enter the index, its images the
//! cache) when the fsync that covers it finishes, in LSN order, in the
//! fsync's callback: a read that starts after `commit` returned sees it,
//! and a checkpoint that waits for the old generation's commits to be
//! durable finds every one of them in the index.
//!
//! Operations that must wait for another one (the fsync they share, log
//! space, the old generation to drain, a log that passed the checkpoint
//! threshold) register a *signal*, a completion of their own that the
//! state finishes when the thing they wait for happens. Every method that
//! releases waiters returns their signals; the caller finishes them after
//! dropping its lock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use io_model::{Buffer, Completion};

use super::format::{region_of, FrameLoc, Geometry, ImageHeader, Location, PAGE_HEADER_SIZE};
use super::scheduler::SlotWaker;
use super::{PageWrite, StoreError};

/// One generation of the log.
#[derive(Debug)]
pub(crate) struct Region {
    pub(crate) gen: u64,
    /// The LSN of its first commit.
    pub(crate) start_lsn: u64,
    /// The first frame not reserved yet.
    pub(crate) next_frame: u32,
    /// Page to its newest durable frame in this generation.
    pub(crate) index: BTreeMap<u32, FrameLoc>,
}

impl Region {
    pub(crate) fn new(gen: u64, start_lsn: u64) -> Self {
        Self {
            gen,
            start_lsn,
            next_frame: 0,
            index: BTreeMap::new(),
        }
    }
}

/// A commit that reserved its frames and is not durable yet.
struct Inflight {
    lsn: u64,
    gen: u64,
    frames_left: usize,
    pages: Vec<(u32, FrameLoc, Arc<Buffer>)>,
}

/// The frames a commit reserved: their file offsets and sealed images.
pub(crate) struct Reserved {
    pub(crate) lsn: u64,
    pub(crate) frames: Vec<(u64, Arc<Buffer>)>,
}

/// What [`LogState::reserve`] found.
pub(crate) enum Reserve {
    Ready(Reserved),
    /// The log is full or switching generations: wait for the signal.
    Wait(Completion),
}

/// What [`LogState::sync_step`] tells a commit to do next.
#[derive(Debug)]
pub(crate) enum SyncStep {
    /// Its LSN is durable.
    Durable,
    /// Wait for the signal (an fsync in flight, or earlier commits still
    /// writing), then ask again.
    Wait(Completion),
    /// It could lead an fsync now; let the other operations run once first
    /// so that their frames join it.
    Yield,
    /// Issue an fsync of the log covering every commit through this LSN.
    Lead(u64),
}

/// The generation a checkpoint switches the log to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SwitchTo {
    pub(crate) gen: u64,
    pub(crate) start_lsn: u64,
}

/// What the automatic checkpointer should do.
#[derive(Debug)]
pub(crate) enum AutoStep {
    Run,
    Wait(Completion),
    Stop,
}

/// A page version that became visible: it goes into the cache.
pub(crate) struct Published {
    pub(crate) page: u32,
    pub(crate) lsn: u64,
    pub(crate) image: Arc<Buffer>,
}

/// The old generation as a checkpoint copies it.
pub(crate) struct OldGeneration {
    pub(crate) gen: u64,
    /// The LSN of its last commit.
    pub(crate) last_lsn: u64,
    /// Each page's newest frame, in page order.
    pub(crate) pages: Vec<(u32, FrameLoc)>,
}

/// The durable checkpoint: what the data file's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checkpointed {
    pub(crate) gen: u64,
    pub(crate) lsn: u64,
    /// The header slot holding it; the next checkpoint writes the other.
    pub(crate) slot: u8,
}

/// The log's state, behind the store's lock.
pub(crate) struct LogState {
    geometry: Geometry,
    checkpoint_frames: u32,
    pub(crate) active: Region,
    pub(crate) old: Option<Region>,
    switching: bool,
    next_lsn: u64,
    inflight: VecDeque<Inflight>,
    written_lsn: u64,
    durable_lsn: u64,
    sync_upto: Option<u64>,
    durability_waiters: Vec<Completion>,
    space_waiters: Vec<Completion>,
    drain_waiters: Vec<Completion>,
    auto_waiters: Vec<Completion>,
    checkpointing: bool,
    stop_auto: bool,
    failed: Option<String>,
    pub(crate) checkpointed: Checkpointed,
}

impl LogState {
    /// The log of a store just opened: generation `active` (whose header is
    /// written) is empty and starts at `start_lsn`.
    pub(crate) fn new(
        geometry: Geometry,
        checkpoint_frames: u32,
        active: u64,
        start_lsn: u64,
        checkpointed: Checkpointed,
    ) -> Self {
        Self {
            geometry,
            checkpoint_frames,
            active: Region::new(active, start_lsn),
            old: None,
            switching: false,
            next_lsn: start_lsn,
            inflight: VecDeque::new(),
            written_lsn: start_lsn - 1,
            durable_lsn: start_lsn - 1,
            sync_upto: None,
            durability_waiters: Vec::new(),
            space_waiters: Vec::new(),
            drain_waiters: Vec::new(),
            auto_waiters: Vec::new(),
            checkpointing: false,
            stop_auto: false,
            failed: None,
            checkpointed,
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        match &self.failed {
            Some(why) => Err(StoreError::Failed(why.clone())),
            None => Ok(()),
        }
    }

    /// Why the store failed, if it did.
    pub(crate) fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// The last LSN a finished fsync made durable.
    pub(crate) fn durable_lsn(&self) -> u64 {
        self.durable_lsn
    }

    /// Frames reserved in the active generation.
    pub(crate) fn frames_in_use(&self) -> u32 {
        self.active.next_frame
    }

    /// Marks the store failed (the first reason stays) and releases every
    /// waiter, so that each sees the failure.
    pub(crate) fn fail(&mut self, why: String) -> Vec<Completion> {
        if self.failed.is_none() {
            self.failed = Some(why);
        }
        let mut all = std::mem::take(&mut self.durability_waiters);
        all.append(&mut self.space_waiters);
        all.append(&mut self.drain_waiters);
        all.append(&mut self.auto_waiters);
        all
    }

    /// Reserves frames and an LSN for `writes` and seals their images, or
    /// says to wait for space. The second value holds signals to finish.
    pub(crate) fn reserve(
        &mut self,
        writes: &[PageWrite],
        waker: &SlotWaker,
    ) -> Result<(Reserve, Vec<Completion>), StoreError> {
        self.check()?;
        let n = writes.len() as u32;
        if self.switching || self.active.next_frame + n > self.geometry.wal_frames {
            let signal = waker.signal();
            self.space_waiters.push(signal.clone());
            return Ok((Reserve::Wait(signal), Vec::new()));
        }
        let lsn = self.next_lsn;
        self.next_lsn += 1;
        let gen = self.active.gen;
        let region = region_of(gen);
        let first = self.active.next_frame;
        self.active.next_frame += n;
        let mut frames = Vec::with_capacity(writes.len());
        let mut pages = Vec::with_capacity(writes.len());
        for (i, w) in writes.iter().enumerate() {
            let frame = first + i as u32;
            let image = Buffer::new_page();
            {
                let mut bytes = image.lock();
                bytes[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + w.payload.len()]
                    .copy_from_slice(&w.payload);
                ImageHeader {
                    page: w.page,
                    lsn,
                    gen,
                    frame,
                    index: i as u16,
                    count: n as u16,
                }
                .seal(&mut bytes);
            }
            let image = Arc::new(image);
            frames.push((self.geometry.frame_offset(region, frame), image.clone()));
            pages.push((w.page, FrameLoc { gen, frame, lsn }, image));
        }
        self.inflight.push_back(Inflight {
            lsn,
            gen,
            frames_left: writes.len(),
            pages,
        });
        let crossed =
            first < self.checkpoint_frames && self.active.next_frame >= self.checkpoint_frames;
        let wake = if crossed {
            std::mem::take(&mut self.auto_waiters)
        } else {
            Vec::new()
        };
        Ok((Reserve::Ready(Reserved { lsn, frames }), wake))
    }

    /// One frame of commit `lsn` was written (`ok`) or failed.
    pub(crate) fn frame_written(&mut self, lsn: u64, ok: Result<(), String>) -> Vec<Completion> {
        if let Err(why) = ok {
            return self.fail(format!("writing a log frame of commit {lsn}: {why}"));
        }
        let first = front_lsn(&self.inflight);
        let Some(c) = lsn
            .checked_sub(first)
            .and_then(|i| self.inflight.get_mut(i as usize))
        else {
            return Vec::new(); // not in flight: nothing to account
        };
        c.frames_left = c.frames_left.saturating_sub(1);
        let before = self.written_lsn;
        // Advance over every commit, in LSN order, whose frames are all written.
        while let Some(next) = self.inflight.get((self.written_lsn + 1 - first) as usize) {
            if next.frames_left > 0 {
                break;
            }
            self.written_lsn = next.lsn;
        }
        if self.written_lsn > before && self.sync_upto.is_none() {
            std::mem::take(&mut self.durability_waiters)
        } else {
            Vec::new()
        }
    }

    /// What commit `lsn`, whose frames are written, does next. `yielded`:
    /// it already let the others run once.
    pub(crate) fn sync_step(
        &mut self,
        lsn: u64,
        yielded: bool,
        waker: &SlotWaker,
    ) -> Result<SyncStep, StoreError> {
        self.check()?;
        if self.durable_lsn >= lsn {
            return Ok(SyncStep::Durable);
        }
        if self.sync_upto.is_none() && self.written_lsn >= lsn {
            if !yielded {
                return Ok(SyncStep::Yield);
            }
            self.sync_upto = Some(self.written_lsn);
            return Ok(SyncStep::Lead(self.written_lsn));
        }
        let signal = waker.signal();
        self.durability_waiters.push(signal.clone());
        Ok(SyncStep::Wait(signal))
    }

    /// The fsync covering commits through `upto` finished. On success those
    /// commits become visible: the returned pages go into the cache.
    pub(crate) fn sync_done(
        &mut self,
        upto: u64,
        res: Result<(), String>,
    ) -> (Vec<Completion>, Vec<Published>) {
        self.sync_upto = None;
        if let Err(why) = res {
            return (
                self.fail(format!("fsync of the log failed: {why}")),
                Vec::new(),
            );
        }
        let mut published = Vec::new();
        if upto > self.durable_lsn {
            self.durable_lsn = upto;
        }
        while self
            .inflight
            .front()
            .is_some_and(|c| c.lsn <= self.durable_lsn)
        {
            let c = self.inflight.pop_front().expect("BUG: front vanished");
            let region = if c.gen == self.active.gen {
                &mut self.active
            } else {
                match self.old.as_mut() {
                    Some(old) if old.gen == c.gen => old,
                    _ => unreachable!(
                        "BUG: commit {} of generation {} has no region",
                        c.lsn, c.gen
                    ),
                }
            };
            for (page, loc, image) in c.pages {
                let newer = region.index.get(&page).map_or(true, |l| l.lsn < loc.lsn);
                if newer {
                    region.index.insert(page, loc);
                }
                published.push(Published {
                    page,
                    lsn: loc.lsn,
                    image,
                });
            }
        }
        let mut wake = std::mem::take(&mut self.durability_waiters);
        if self.old_is_drained() {
            wake.append(&mut self.drain_waiters);
        }
        (wake, published)
    }

    /// Where the newest committed version of `page` is: the active
    /// generation, then the old one, then the data file.
    pub(crate) fn locate(&self, page: u32) -> Location {
        if let Some(loc) = self.active.index.get(&page) {
            return Location::Frame(*loc);
        }
        if let Some(loc) = self.old.as_ref().and_then(|o| o.index.get(&page)) {
            return Location::Frame(*loc);
        }
        Location::Data
    }

    /// Claims the right to checkpoint: `None` if a checkpoint runs.
    pub(crate) fn claim_checkpoint(&mut self) -> Result<bool, StoreError> {
        self.check()?;
        if self.checkpointing {
            return Ok(false);
        }
        self.checkpointing = true;
        Ok(true)
    }

    /// Ends a checkpoint's claim; the automatic checkpointer looks again.
    pub(crate) fn release_checkpoint(&mut self) -> Vec<Completion> {
        self.checkpointing = false;
        std::mem::take(&mut self.auto_waiters)
    }

    /// Whether the checkpoint must first switch to a new generation (no old
    /// generation is waiting to be copied from an earlier attempt).
    pub(crate) fn needs_switch(&self) -> bool {
        self.old.is_none()
    }

    /// Stops new reservations and returns the generation to switch to; its
    /// region header must be written before [`switch_done`](Self::switch_done).
    pub(crate) fn prepare_switch(&mut self) -> Result<SwitchTo, StoreError> {
        self.check()?;
        assert!(
            self.old.is_none(),
            "BUG: switching while an old generation is live"
        );
        self.switching = true;
        Ok(SwitchTo {
            gen: self.active.gen + 1,
            start_lsn: self.next_lsn,
        })
    }

    /// The new generation's header is written: it takes new commits, the
    /// previous one becomes old.
    pub(crate) fn switch_done(&mut self, to: SwitchTo) -> Vec<Completion> {
        let previous = std::mem::replace(&mut self.active, Region::new(to.gen, to.start_lsn));
        self.old = Some(previous);
        self.switching = false;
        std::mem::take(&mut self.space_waiters)
    }

    fn old_is_drained(&self) -> bool {
        match &self.old {
            Some(old) => self.inflight.front().map_or(true, |c| c.gen != old.gen),
            None => true,
        }
    }

    /// `None` once every commit of the old generation is durable (and so in
    /// its index); else a signal to wait for.
    pub(crate) fn drained(&mut self, waker: &SlotWaker) -> Result<Option<Completion>, StoreError> {
        self.check()?;
        if self.old_is_drained() {
            return Ok(None);
        }
        let signal = waker.signal();
        self.drain_waiters.push(signal.clone());
        Ok(Some(signal))
    }

    /// The old generation's pages, newest frame each, for a checkpoint.
    pub(crate) fn old_pages(&self) -> Option<OldGeneration> {
        let old = self.old.as_ref()?;
        Some(OldGeneration {
            gen: old.gen,
            last_lsn: self.active.start_lsn - 1,
            pages: old.index.iter().map(|(p, l)| (*p, *l)).collect(),
        })
    }

    /// The old generation is in the data file, durably: reads go there.
    pub(crate) fn retire_old(&mut self, checkpointed: Checkpointed) {
        self.old = None;
        self.checkpointed = checkpointed;
    }

    /// What the automatic checkpointer does next.
    pub(crate) fn auto_step(&mut self, waker: &SlotWaker) -> Result<AutoStep, StoreError> {
        if self.stop_auto {
            return Ok(AutoStep::Stop);
        }
        self.check()?;
        if !self.checkpointing && self.active.next_frame >= self.checkpoint_frames {
            return Ok(AutoStep::Run);
        }
        let signal = waker.signal();
        self.auto_waiters.push(signal.clone());
        Ok(AutoStep::Wait(signal))
    }

    /// Ends the automatic checkpointer at its next step.
    pub(crate) fn stop_auto(&mut self) -> Vec<Completion> {
        self.stop_auto = true;
        std::mem::take(&mut self.auto_waiters)
    }
}

fn front_lsn(q: &VecDeque<Inflight>) -> u64 {
    q.front().map_or(0, |c| c.lsn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pagestore::format::PAYLOAD_SIZE;
    use crate::pagestore::scheduler::{ReadyQueue, SlotId};

    fn log(frames: u32) -> LogState {
        LogState::new(
            Geometry {
                pages: 16,
                wal_frames: frames,
            },
            frames / 2,
            1,
            1,
            Checkpointed {
                gen: 0,
                lsn: 0,
                slot: 0,
            },
        )
    }

    fn waker(q: &Arc<ReadyQueue>, slot: usize) -> SlotWaker {
        SlotWaker::new(Some(q.clone()), SlotId(slot))
    }

    fn writes(pages: &[u32]) -> Vec<PageWrite> {
        pages
            .iter()
            .map(|&p| PageWrite::new(p, vec![p as u8; PAYLOAD_SIZE]).unwrap())
            .collect()
    }

    fn reserve(l: &mut LogState, pages: &[u32], w: &SlotWaker) -> Reserved {
        match l.reserve(&writes(pages), w).unwrap().0 {
            Reserve::Ready(r) => r,
            Reserve::Wait(_) => panic!("no space"),
        }
    }

    #[test]
    fn commits_share_one_fsync_and_become_visible_when_it_finishes() {
        let q = Arc::new(ReadyQueue::new(3));
        let mut l = log(64);
        let a = reserve(&mut l, &[1, 2], &waker(&q, 0));
        let b = reserve(&mut l, &[2], &waker(&q, 1));
        assert_eq!((a.lsn, b.lsn), (1, 2));
        // b's frame finishes first: nothing is written through b yet.
        l.frame_written(2, Ok(()));
        assert!(matches!(
            l.sync_step(2, true, &waker(&q, 1)).unwrap(),
            SyncStep::Wait(_)
        ));
        l.frame_written(1, Ok(()));
        let woken = l.frame_written(1, Ok(()));
        assert_eq!(woken.len(), 1, "b waited for a's frames");
        // a yields once, then leads an fsync through 2 that b shares.
        assert!(matches!(
            l.sync_step(1, false, &waker(&q, 0)).unwrap(),
            SyncStep::Yield
        ));
        assert!(matches!(
            l.sync_step(1, true, &waker(&q, 0)).unwrap(),
            SyncStep::Lead(2)
        ));
        assert!(matches!(
            l.sync_step(2, true, &waker(&q, 1)).unwrap(),
            SyncStep::Wait(_)
        ));
        assert_eq!(
            l.locate(2),
            Location::Data,
            "not visible before it is durable"
        );
        let (wake, published) = l.sync_done(2, Ok(()));
        assert_eq!(wake.len(), 1);
        assert_eq!(published.len(), 3);
        assert!(matches!(
            l.sync_step(2, true, &waker(&q, 1)).unwrap(),
            SyncStep::Durable
        ));
        // The newest version of page 2 is b's.
        assert!(matches!(
            l.locate(2),
            Location::Frame(FrameLoc { lsn: 2, .. })
        ));
    }

    #[test]
    fn a_full_log_waits_for_the_switch() {
        let q = Arc::new(ReadyQueue::new(2));
        let mut l = log(4);
        reserve(&mut l, &[1, 2, 3], &waker(&q, 0));
        let (r, _) = l.reserve(&writes(&[4, 5]), &waker(&q, 1)).unwrap();
        let Reserve::Wait(signal) = r else {
            panic!("expected to wait")
        };
        assert!(l.claim_checkpoint().unwrap());
        assert!(!l.claim_checkpoint().unwrap(), "one checkpoint at a time");
        let to = l.prepare_switch().unwrap();
        assert_eq!(
            to,
            SwitchTo {
                gen: 2,
                start_lsn: 2
            }
        );
        let woken = l.switch_done(to);
        assert_eq!(woken.len(), 1);
        woken[0].complete(0);
        assert!(signal.finished());
        // The old generation is not drained until commit 1 is durable.
        assert!(l.drained(&waker(&q, 0)).unwrap().is_some());
        for _ in 0..3 {
            l.frame_written(1, Ok(()));
        }
        let (wake, _) = l.sync_done(1, Ok(()));
        assert_eq!(wake.len(), 1, "the drain waiter");
        assert!(l.drained(&waker(&q, 0)).unwrap().is_none());
        let old = l.old_pages().unwrap();
        assert_eq!((old.gen, old.last_lsn, old.pages.len()), (1, 1, 3));
    }

    #[test]
    fn a_failed_write_fails_the_store_and_releases_every_waiter() {
        let q = Arc::new(ReadyQueue::new(2));
        let mut l = log(16);
        reserve(&mut l, &[1], &waker(&q, 0));
        reserve(&mut l, &[2], &waker(&q, 1));
        l.frame_written(2, Ok(()));
        let SyncStep::Wait(w) = l.sync_step(2, true, &waker(&q, 1)).unwrap() else {
            panic!()
        };
        let woken = l.frame_written(1, Err("disk on fire".into()));
        assert!(woken.iter().any(|c| c.ptr_eq(&w)));
        let err = l.sync_step(2, true, &waker(&q, 1)).unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert!(l.reserve(&writes(&[3]), &waker(&q, 0)).is_err());
    }

    #[test]
    fn crossing_the_threshold_wakes_the_checkpointer() {
        let q = Arc::new(ReadyQueue::new(2));
        let mut l = log(8); // threshold 4
        let AutoStep::Wait(signal) = l.auto_step(&waker(&q, 1)).unwrap() else {
            panic!()
        };
        let (_, wake) = l.reserve(&writes(&[1, 2, 3]), &waker(&q, 0)).unwrap();
        assert!(wake.is_empty());
        let (_, wake) = l.reserve(&writes(&[4]), &waker(&q, 0)).unwrap();
        assert!(wake[0].ptr_eq(&signal));
        assert!(matches!(l.auto_step(&waker(&q, 1)).unwrap(), AutoStep::Run));
        l.stop_auto();
        assert!(matches!(
            l.auto_step(&waker(&q, 1)).unwrap(),
            AutoStep::Stop
        ));
    }
}
