//! Checkpoints: copying the log into the data file while reads and
//! commits go on.
//!
//! 1. **Switch.** New commits move to the next generation, in the other
//!    region of the log: its header is written (the frames an older
//!    generation left there stop matching), and reservations wait only for
//!    that one write.
//! 2. **Drain.** Wait until every commit of the previous (now *old*)
//!    generation is durable, and so in the old index.
//! 3. **Copy.** Write the newest frame of each page of the old generation
//!    into the data file (from the cache where it holds that very version),
//!    and fsync it.
//! 4. **Record.** Write the data file's other header slot, saying the old
//!    generation is in the data file, and fsync again. Only now may its
//!    region be reused (by the next switch), and reads of its pages go to
//!    the data file.
//!
//! A crash anywhere leaves either the previous header (the old generation is
//! replayed again by recovery) or the new one (it is skipped). A read that
//! raced a switch or a copy sees an image that no longer matches what it
//! looked for and reads again ([`Store::read_page`]).

use std::sync::Arc;

use io_model::{Buffer, IOResult};

use super::disk::{CopyPage, Source, Which};
use super::format::{region_of, DataHeader, RegionHeader, HEADER_SLOT_SIZE};
use super::scheduler::{fire, SlotId};
use super::stats::Stats;
use super::store::{lock, Shared};
use super::wal::{AutoStep, Checkpointed, SwitchTo};
use super::{Store, StoreError};

/// What [`Store::checkpoint`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// Another slot is checkpointing; nothing was done.
    Busy,
    /// Generation `gen` is in the data file; `pages` pages were copied.
    Done {
        /// The generation checkpointed.
        gen: u64,
        /// Pages copied.
        pages: u64,
    },
}

/// The right to checkpoint, held for the whole checkpoint; dropping it (at
/// the end, on an error, or when the caller cancels the run) lets the next
/// checkpoint start.
pub(crate) struct CheckpointClaim {
    shared: Arc<Shared>,
}

impl Drop for CheckpointClaim {
    fn drop(&mut self) {
        let wake = lock(&self.shared.log).release_checkpoint();
        fire(wake);
    }
}

/// What one checkpoint copies and records.
pub(crate) struct CheckpointPlan {
    gen: u64,
    last_lsn: u64,
    slot: u8,
    pages: Vec<CopyPage>,
}

impl Store {
    fn claim_checkpoint(&self) -> Result<Option<CheckpointClaim>, StoreError> {
        let claimed = lock(&self.shared.log).claim_checkpoint()?;
        Ok(claimed.then(|| CheckpointClaim {
            shared: self.shared.clone(),
        }))
    }

    fn needs_switch(&self) -> bool {
        lock(&self.shared.log).needs_switch()
    }

    fn prepare_switch(&self) -> Result<SwitchTo, StoreError> {
        lock(&self.shared.log).prepare_switch()
    }

    fn write_region_header(
        &self,
        op: SlotId,
        to: SwitchTo,
    ) -> Result<io_model::Completion, StoreError> {
        let buf = Buffer::new(HEADER_SLOT_SIZE);
        RegionHeader {
            db_id: self.header.db_id,
            gen: to.gen,
            start_lsn: to.start_lsn,
        }
        .encode(&mut buf.lock());
        let offset = self.header.geometry.region_offset(region_of(to.gen));
        self.disk
            .write(Which::Wal, &self.waker(op), offset, Arc::new(buf), |_| {})
    }

    fn switch_done(&self, to: SwitchTo) {
        let wake = lock(&self.shared.log).switch_done(to);
        fire(wake);
    }

    fn drained(&self, op: SlotId) -> Result<Option<io_model::Completion>, StoreError> {
        lock(&self.shared.log).drained(&self.waker(op))
    }

    fn plan_checkpoint(&self) -> CheckpointPlan {
        let log = lock(&self.shared.log);
        // The claim is held and the switch happened: the old generation
        // exists until this checkpoint retires it.
        let Some(old) = log.old_pages() else {
            unreachable!("BUG: checkpointing without an old generation");
        };
        let cache = lock(&self.shared.cache);
        let g = self.header.geometry;
        let pages = old
            .pages
            .into_iter()
            .map(|(page, loc)| {
                let source = match cache.peek(page) {
                    Some((lsn, image)) if lsn == loc.lsn => Source::Image(image),
                    _ => Source::Frame {
                        loc,
                        offset: g.frame_offset(loc.region(), loc.frame),
                    },
                };
                CopyPage {
                    page,
                    lsn: loc.lsn,
                    source,
                    offset: g.data_page_offset(page),
                }
            })
            .collect();
        CheckpointPlan {
            gen: old.gen,
            last_lsn: old.last_lsn,
            slot: 1 - log.checkpointed.slot,
            pages,
        }
    }

    fn write_data_header(
        &self,
        op: SlotId,
        plan: &CheckpointPlan,
    ) -> Result<io_model::Completion, StoreError> {
        let header = DataHeader {
            ckpt_gen: plan.gen,
            ckpt_lsn: plan.last_lsn,
            ..self.header
        };
        let buf = Buffer::new(HEADER_SLOT_SIZE);
        header.encode(&mut buf.lock());
        self.disk.write(
            Which::Data,
            &self.waker(op),
            DataHeader::slot_offset(plan.slot),
            Arc::new(buf),
            |_| {},
        )
    }

    fn retire(&self, plan: &CheckpointPlan) {
        lock(&self.shared.log).retire_old(Checkpointed {
            gen: plan.gen,
            lsn: plan.last_lsn,
            slot: plan.slot,
        });
        Stats::add(&self.shared.stats.checkpoints, 1);
    }

    fn auto_step(&self, op: SlotId) -> Result<AutoStep, StoreError> {
        lock(&self.shared.log).auto_step(&self.waker(op))
    }

    /// Makes the running [`auto_checkpoint`](Self::auto_checkpoint) return
    /// at its next step (it is woken if it waits).
    pub fn stop_auto_checkpoint(&self) {
        let wake = lock(&self.shared.log).stop_auto();
        fire(wake);
    }
}

#[io_model::resumable]
impl Store {
    /// Copies the log into the data file (see the module docs): switches new
    /// commits to the next generation, waits for the previous one's commits
    /// to be durable, copies its newest page versions, fsyncs, records the
    /// checkpoint in the data file's header and fsyncs again. Reads and
    /// commits of other slots go on meanwhile. Returns
    /// [`CheckpointOutcome::Busy`] if another slot is checkpointing.
    ///
    /// If it fails after the switch (a read error, say), the old generation
    /// stays; the next checkpoint copies it without switching again.
    #[resumable(state = lock(&self.slot(op).checkpoint))]
    pub fn checkpoint(&self, op: SlotId) -> Result<IOResult<CheckpointOutcome>, StoreError> {
        let claim: CheckpointClaim = match self.claim_checkpoint()? {
            Some(claim) => claim,
            None => return Ok(IOResult::Done(CheckpointOutcome::Busy)),
        };
        if self.needs_switch() {
            let to: SwitchTo = self.prepare_switch()?;
            let header = self.write_region_header(op, to)?;
            wait!(Switch => header);
            self.switch_done(to);
        }
        loop {
            match self.drained(op)? {
                None => break,
                Some(signal) => wait!(Drain => signal),
            }
        }
        let plan: CheckpointPlan = self.plan_checkpoint();
        let copied: u64 = call!(CopyPages => self.disk.backfill(&mut lock(&self.slot(op).backfill), &self.waker(op), &plan.pages));
        let sync_pages = self.disk.sync(Which::Data, &self.waker(op), |_| {})?;
        wait!(SyncPages => sync_pages);
        let header = self.write_data_header(op, &plan)?;
        wait!(Record => header);
        let sync_header = self.disk.sync(Which::Data, &self.waker(op), |_| {})?;
        wait!(SyncHeader => sync_header);
        self.retire(&plan);
        drop(claim);
        Ok(IOResult::Done(CheckpointOutcome::Done {
            gen: plan.gen,
            pages: copied,
        }))
    }

    /// Runs a checkpoint each time the active generation passes
    /// `checkpoint_frames` frames, until
    /// [`stop_auto_checkpoint`](Self::stop_auto_checkpoint); returns how
    /// many it ran. It waits on a signal, not by polling: the commit that
    /// crosses the threshold wakes it.
    #[resumable(state = lock(&self.slot(op).auto))]
    pub fn auto_checkpoint(&self, op: SlotId) -> Result<IOResult<u64>, StoreError> {
        let mut runs: u64 = 0;
        loop {
            match self.auto_step(op)? {
                AutoStep::Stop => break,
                AutoStep::Wait(signal) => wait!(WaitForLog => signal),
                AutoStep::Run => {
                    let outcome: CheckpointOutcome = call!(Run => self.checkpoint(op));
                    if matches!(outcome, CheckpointOutcome::Done { .. }) {
                        runs += 1;
                    }
                }
            }
        }
        Ok(IOResult::Done(runs))
    }
}
