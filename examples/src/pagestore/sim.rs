//! The workload under [`SimIO`]: one seed draws a database shape, a fault
//! profile and a schedule of crashes, then runs rounds of
//! open (recover) → verify → workload → crash, and a last open and verify.
//!
//! Checked in every round:
//!
//! - every commit that returned `Done` is in the recovered database, whole;
//! - a commit that did not return (failed, or in flight at the crash) is
//!   either whole or absent, never partly visible;
//! - every page's checksum and payload hold;
//! - a read never returns a version older than a commit reported done
//!   before it started;
//! - no operation issued the same I/O twice (the simulator's trace,
//!   attributed to the operation that was running), and none issued more
//!   fsyncs than it should (a commit one of the log, a checkpoint two of the
//!   data file);
//! - nothing stalls.
//!
//! Faults, as [`SimIO`] offers them: read, write and sync errors, short
//! reads and torn writes, each profile drawn from the seed, plus crashes in
//! the middle of the workload and in the middle of recovery.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_model::{IOResult, IO};
use io_model_backends::{Faults, OpKind, SimIO, TraceEntry};

use super::workload::{run_workload, verify, Expected, Op, Rng, Stop, Workload, WorkloadConfig};
use super::{CreateOptions, OpenMode, Opener, SlotId, Store, StoreError, StoreOptions, StorePaths};

/// What one seed did.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Rounds run.
    pub rounds: u32,
    /// Crashes simulated (mid-workload, after it, and mid-recovery).
    pub crashes: u32,
    /// Opens that failed under injected faults and were retried.
    pub failed_opens: u32,
    /// Commits reported done.
    pub commits: u64,
    /// Reads that returned.
    pub reads: u64,
    /// Operations that failed (injected faults).
    pub op_errors: u64,
    /// Checkpoints completed.
    pub checkpoints: u64,
    /// Commits recovery replayed from the log.
    pub recovered_commits: u64,
    /// Frames of torn tails recovery dropped.
    pub torn_frames: u64,
    /// Commits found after a crash that had not been reported done.
    pub unreported_found: u64,
    /// How long the seed took.
    pub elapsed: Duration,
    /// What went wrong, if anything: the seed failed.
    pub failure: Option<String>,
}

/// The shape of one seed's run.
#[derive(Debug, Clone)]
pub struct SimParams {
    /// Pages in the store.
    pub pages: u32,
    /// Frames per log region.
    pub wal_frames: u32,
    /// The automatic checkpoint threshold.
    pub checkpoint_frames: u32,
    /// Cache pages.
    pub cache_pages: usize,
    /// Client operations in flight.
    pub concurrency: usize,
    /// The share of reads.
    pub read_ratio: f64,
    /// The largest commit.
    pub max_commit_pages: usize,
    /// The simulator's largest delivery delay.
    pub max_delay: u64,
    /// Injected faults.
    pub faults: Faults,
    /// Rounds of open, verify, workload, crash.
    pub rounds: u32,
    /// Client operations per round.
    pub ops: u64,
}

impl SimParams {
    /// The parameters seed `seed` draws. Seeds cycle through five fault
    /// profiles: none, all kinds rare, all kinds frequent, one kind
    /// frequent, torn writes with sync errors.
    pub fn for_seed(seed: u64) -> Self {
        let mut r = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let pages = 8 + r.below(120) as u32;
        let max_commit_pages = 1 + r.below(8) as usize;
        let wal_frames = 2 * max_commit_pages as u32 + r.below(48) as u32;
        let wal_frames = wal_frames.max(super::MIN_WAL_FRAMES);
        let checkpoint_frames =
            (wal_frames / 4 + r.below(u64::from(wal_frames / 4) + 1) as u32).max(1);
        let all = |p: f64| Faults {
            read_error: p,
            write_error: p,
            sync_error: p,
            short_read: p,
            torn_write: p,
        };
        let faults = match seed % 5 {
            0 => Faults::none(),
            1 => all(0.002),
            2 => all(0.01),
            3 => {
                let mut f = Faults::none();
                match (seed / 5) % 5 {
                    0 => f.read_error = 0.02,
                    1 => f.write_error = 0.02,
                    2 => f.sync_error = 0.02,
                    3 => f.short_read = 0.02,
                    _ => f.torn_write = 0.02,
                }
                f
            }
            _ => Faults {
                torn_write: 0.005,
                sync_error: 0.005,
                ..Faults::none()
            },
        };
        Self {
            pages,
            wal_frames,
            checkpoint_frames,
            cache_pages: [0, 4, 16, 64][r.below(4) as usize],
            concurrency: 1 + r.below(12) as usize,
            read_ratio: r.below(101) as f64 / 100.0,
            max_commit_pages,
            max_delay: r.below(9),
            faults,
            rounds: 2 + r.below(4) as u32,
            ops: 20 + r.below(300),
        }
    }

    fn options(&self, seed: u64) -> StoreOptions {
        StoreOptions {
            slots: self.concurrency + 1,
            cache_pages: self.cache_pages,
            checkpoint_frames: self.checkpoint_frames,
            max_commit_pages: self.max_commit_pages,
            create: CreateOptions {
                pages: self.pages,
                wal_frames: self.wal_frames,
                shard: 0,
                shards: 1,
                db_id: seed | 1,
            },
        }
    }
}

/// Per-operation I/O bookkeeping: what it issued, and how many fsyncs.
#[derive(Default)]
struct OpIo {
    serial: u64,
    seen: HashSet<TraceEntry>,
    syncs: u32,
}

/// Attributes the simulator's trace to the operation that issued it.
struct TraceCheck {
    per_slot: Vec<OpIo>,
    checkpoints_seen: u64,
    problems: Vec<String>,
}

impl TraceCheck {
    fn new(slots: usize) -> Self {
        Self {
            per_slot: (0..slots).map(|_| OpIo::default()).collect(),
            checkpoints_seen: 0,
            problems: Vec::new(),
        }
    }

    /// The trace since the last look belongs to `op` (serial `serial`) in
    /// `slot`.
    fn take(&mut self, io: &SimIO, store: &Store, slot: SlotId, serial: u64, op: &Op) {
        let entries = io.take_trace();
        let cell = &mut self.per_slot[slot.0];
        if cell.serial != serial {
            *cell = OpIo {
                serial,
                ..OpIo::default()
            };
        }
        let max_syncs = match op {
            Op::Read(_) => 0,
            Op::Commit { .. } => 1,
            Op::AutoCheckpoint | Op::Checkpoint => 2,
        };
        for e in entries {
            if e.kind == OpKind::Sync {
                cell.syncs += 1;
                if cell.syncs > max_syncs {
                    self.problems.push(format!(
                        "{op:?} in {slot} issued {} fsyncs: {e}",
                        cell.syncs
                    ));
                }
            } else if !cell.seen.insert(e.clone()) {
                self.problems
                    .push(format!("{op:?} in {slot} issued `{e}` twice"));
            }
        }
        // The checkpointer's operation runs one checkpoint after another:
        // each is an operation of its own.
        if matches!(op, Op::AutoCheckpoint) {
            let now = store.stats().checkpoints;
            if now != self.checkpoints_seen {
                self.checkpoints_seen = now;
                *cell = OpIo {
                    serial,
                    ..OpIo::default()
                };
            }
        }
    }
}

/// Checks an open's trace: no read or write twice, at most three fsyncs
/// (create: two, and then nothing to recover; recovery: the log once, the
/// data file twice).
fn check_open_trace(io: &SimIO) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut syncs = 0;
    for e in io.take_trace() {
        if e.kind == OpKind::Sync {
            syncs += 1;
        } else if !seen.insert(e.clone()) {
            return Err(format!("opening issued `{e}` twice"));
        }
    }
    if syncs > 3 {
        return Err(format!("opening issued {syncs} fsyncs"));
    }
    Ok(())
}

/// Drives an open for at most `steps` steps of the simulator and stops
/// there, finished or not, for the caller to crash it (a crash in the
/// middle of recovery).
fn open_then_crash(
    io: &SimIO,
    paths: &StorePaths,
    options: &StoreOptions,
    steps: u64,
) -> Result<(), StoreError> {
    let opener = Opener::new(io, paths, OpenMode::Open, options.clone())?;
    let mut left = steps;
    loop {
        match opener.open() {
            Ok(IOResult::Done(_)) | Err(_) => return Ok(()),
            Ok(IOResult::IO(c)) => {
                let c = c.into_completion();
                while !c.finished() {
                    if left == 0 {
                        return Ok(());
                    }
                    left -= 1;
                    io.step()?;
                }
            }
        }
    }
}

/// Opens the store, retrying after failures under faults (each failed
/// attempt followed by a crash), and at last without faults.
fn open_with_retries(
    io: &SimIO,
    paths: &StorePaths,
    options: &StoreOptions,
    faults: Faults,
    report: &mut SeedReport,
) -> Result<Arc<Store>, String> {
    for attempt in 0..9 {
        if attempt == 8 {
            io.set_faults(Faults::none());
        }
        io.take_trace();
        let opened = super::open_store(io, paths, OpenMode::Open, options);
        check_open_trace(io)?;
        match opened {
            Ok(store) => {
                io.set_faults(faults);
                return Ok(store);
            }
            Err(e) if attempt == 8 => return Err(format!("opening without faults failed: {e}")),
            Err(_) => {
                report.failed_opens += 1;
                io.crash();
                report.crashes += 1;
            }
        }
    }
    unreachable!("BUG: the last attempt returns")
}

/// Runs one seed. Deterministic: the same seed replays the same run.
pub fn run_seed(seed: u64) -> SeedReport {
    let started = Instant::now();
    let mut report = SeedReport {
        seed,
        ..SeedReport::default()
    };
    if let Err(e) = run(seed, &mut report) {
        report.failure = Some(e);
    }
    report.elapsed = started.elapsed();
    report
}

fn run(seed: u64, report: &mut SeedReport) -> Result<(), String> {
    let p = SimParams::for_seed(seed);
    let mut r = Rng::new(seed ^ 0xc3a5_c85c_97cb_3127);
    let io = SimIO::new(seed).with_max_delay(p.max_delay);
    let paths = StorePaths {
        data: "db".into(),
        wal: "wal".into(),
    };
    let options = p.options(seed);
    let created = super::open_store(&io, &paths, OpenMode::Create, &options)
        .map_err(|e| format!("create: {e}"))?;
    drop(created);
    let mut expected = Expected::blank(p.pages);
    for round in 0..=p.rounds {
        let last = round == p.rounds;
        io.set_faults(if last { Faults::none() } else { p.faults });
        if !last && r.chance(0.3) {
            io.take_trace();
            let steps = r.below(200);
            open_then_crash(&io, &paths, &options, steps).map_err(|e| format!("open: {e}"))?;
            check_open_trace(&io)?;
            io.crash();
            report.crashes += 1;
        }
        let store = open_with_retries(
            &io,
            &paths,
            &options,
            if last { Faults::none() } else { p.faults },
            report,
        )
        .map_err(|e| format!("round {round}: {e}"))?;
        report.recovered_commits += store.recovery().commits;
        report.torn_frames += store.recovery().torn_frames;
        io.set_faults(Faults::none());
        let v = verify(&io, &store, Some(&expected));
        if !v.passed() {
            return Err(format!(
                "round {round}: verification after recovery ({}) failed: {}",
                store.recovery(),
                v.problems
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        report.unreported_found += v.unresolved_found as u64;
        expected = Expected::from_versions(v.versions);
        if last {
            break;
        }
        io.set_faults(p.faults);
        io.take_trace();
        let check = RefCell::new(TraceCheck::new(store.slots()));
        let crash_mid = r.chance(0.7);
        let cfg = WorkloadConfig {
            concurrency: p.concurrency,
            read_ratio: p.read_ratio,
            max_commit_pages: p.max_commit_pages,
            stop: Stop::Ops(p.ops),
            stop_on_error: false,
            seed: seed ^ (u64::from(round) << 40),
        };
        let mut w = Workload::new(store.clone(), cfg, &mut expected)
            .on_resume(|slot, serial, op| check.borrow_mut().take(&io, &store, slot, serial, op));
        if crash_mid {
            w = w.interrupt_after(r.below(p.ops * 6));
        }
        let (run, mut scheduler) = run_workload(&io, &store, w);
        report.rounds += 1;
        report.commits += run.commit_ns.len() as u64;
        report.reads += run.read_ns.len() as u64;
        report.op_errors += run.errors;
        report.checkpoints += run.stats.checkpoints;
        if let Some(v) = run.violations.first() {
            return Err(format!("round {round}: {v}"));
        }
        if let Some(problem) = check.borrow().problems.first() {
            return Err(format!("round {round}: {problem}"));
        }
        if let Some(e @ StoreError::Stalled(_)) = &run.first_error {
            return Err(format!("round {round}: {e}"));
        }
        if run.first_error.is_some() && p.faults == Faults::none() {
            return Err(format!(
                "round {round}: an operation failed without injected faults: {}",
                run.first_error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ));
        }
        drop(scheduler.abandon());
        drop(store);
        if run.interrupted || r.chance(0.5) {
            io.crash();
            report.crashes += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_stay_in_range() {
        for seed in 0..500 {
            let p = SimParams::for_seed(seed);
            assert!(p.wal_frames >= 2 * p.max_commit_pages as u32, "{p:?}");
            assert!(
                p.checkpoint_frames >= 1 && p.checkpoint_frames <= p.wal_frames / 2 + 1,
                "{p:?}"
            );
        }
    }
}
