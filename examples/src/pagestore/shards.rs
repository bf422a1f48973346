//! A database of T shards run by T threads: each thread makes its own
//! backend (one ring per thread), opens its shard's store and runs a
//! [`Scheduler`](super::Scheduler) on it. Page `p` of the database is page
//! `p / T` of shard `p % T`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use super::backend::{BackendError, BackendSpec};
use super::workload::{
    quantile, run_workload, verify, Expected, Progress, RunReport, VerifyReport, Workload,
    WorkloadConfig,
};
use super::{
    open_store, probe_header, OpenMode, RecoveryReport, StatsSnapshot, StoreError, StoreOptions,
};

/// The pages of shard `shard` when `pages` are spread over `shards`.
///
/// ```
/// use io_model_examples::pagestore::shards::shard_pages;
/// assert_eq!((0..3).map(|s| shard_pages(10, 3, s)).collect::<Vec<_>>(), [4, 3, 3]);
/// ```
pub fn shard_pages(pages: u32, shards: u32, shard: u32) -> u32 {
    pages / shards + u32::from(shard < pages % shards)
}

/// What a shard's thread is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    /// Not started.
    Waiting = 0,
    /// Creating or recovering its store.
    Opening = 1,
    /// Checking an existing database before the run.
    Checking = 2,
    /// Running the workload.
    Running = 3,
    /// Reopening and verifying.
    Verifying = 4,
    /// Finished.
    Done = 5,
}

impl Stage {
    fn from_u8(v: u8) -> Stage {
        match v {
            1 => Stage::Opening,
            2 => Stage::Checking,
            3 => Stage::Running,
            4 => Stage::Verifying,
            5 => Stage::Done,
            _ => Stage::Waiting,
        }
    }

    /// A word for a progress line.
    pub fn word(self) -> &'static str {
        match self {
            Stage::Waiting => "starting",
            Stage::Opening => "opening",
            Stage::Checking => "checking",
            Stage::Running => "running",
            Stage::Verifying => "verifying",
            Stage::Done => "done",
        }
    }
}

/// One shard's progress, for the thread that shows it.
#[derive(Debug, Default)]
pub struct ShardProgress {
    /// Operations and durable LSN.
    pub run: Progress,
    stage: AtomicU8,
}

impl ShardProgress {
    /// What the shard's thread is doing.
    pub fn stage(&self) -> Stage {
        Stage::from_u8(self.stage.load(Ordering::Relaxed))
    }

    fn set(&self, s: Stage) {
        self.stage.store(s as u8, Ordering::Relaxed);
    }
}

/// One phase: the workload on every shard through one backend, then a
/// reopen and verification.
#[derive(Debug, Clone)]
pub struct PhaseConfig {
    /// The backend, made once per shard thread.
    pub backend: BackendSpec,
    /// The database directory.
    pub dir: PathBuf,
    /// Shards (threads).
    pub shards: u32,
    /// Pages of the whole database.
    pub pages: u32,
    /// Store options; `slots` and the per-shard create options are filled
    /// in.
    pub options: StoreOptions,
    /// The workload; each shard gets its own seed.
    pub workload: WorkloadConfig,
    /// The database's identifier, for a new one.
    pub db_id: u64,
}

/// What one shard did in a phase.
#[derive(Debug, Default)]
pub struct ShardOutcome {
    /// The shard.
    pub shard: u32,
    /// What its backend turned out to be.
    pub backend: String,
    /// Why (the kernel's answer).
    pub backend_detail: String,
    /// What opening found.
    pub recovery: Option<RecoveryReport>,
    /// The workload run.
    pub run: RunReport,
    /// Verification after reopening.
    pub verify: Option<VerifyReport>,
    /// What stopped the shard, if anything did.
    pub error: Option<String>,
}

/// What a phase did, over all shards.
#[derive(Debug)]
pub struct PhaseReport {
    /// The backend asked for.
    pub backend: BackendSpec,
    /// Each shard.
    pub shards: Vec<ShardOutcome>,
    /// Wall time of the whole phase.
    pub elapsed: Duration,
}

impl PhaseReport {
    /// What the backend turned out to be (`io_uring`, `sync`).
    pub fn backend_name(&self) -> String {
        self.shards
            .first()
            .map(|s| s.backend.clone())
            .unwrap_or_default()
    }

    /// Client operations that succeeded, per second of the longest run.
    pub fn ops_per_sec(&self) -> f64 {
        let ops: usize = self
            .shards
            .iter()
            .map(|s| s.run.read_ns.len() + s.run.commit_ns.len())
            .sum();
        let secs = self
            .shards
            .iter()
            .map(|s| s.run.elapsed)
            .max()
            .unwrap_or_default()
            .as_secs_f64();
        if secs > 0.0 {
            ops as f64 / secs
        } else {
            0.0
        }
    }

    fn latencies(&self, commits: bool) -> Vec<u64> {
        self.shards
            .iter()
            .flat_map(|s| {
                if commits {
                    &s.run.commit_ns
                } else {
                    &s.run.read_ns
                }
            })
            .copied()
            .collect()
    }

    /// The `q`-quantile of read latency, in nanoseconds.
    pub fn read_ns(&self, q: f64) -> u64 {
        quantile(&mut self.latencies(false), q)
    }

    /// The `q`-quantile of commit latency, in nanoseconds.
    pub fn commit_ns(&self, q: f64) -> u64 {
        quantile(&mut self.latencies(true), q)
    }

    /// The stores' counters over the run, summed over shards.
    pub fn stats(&self) -> StatsSnapshot {
        let mut total = StatsSnapshot::default();
        for s in &self.shards {
            total += s.run.stats;
        }
        total
    }

    /// Whether every shard ran without error and verified.
    pub fn passed(&self) -> bool {
        self.problems().is_empty()
    }

    /// Everything that went wrong, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.shards {
            let who = format!("shard {}", s.shard);
            if let Some(e) = &s.error {
                out.push(format!("{who}: {e}"));
            }
            if let Some(e) = &s.run.first_error {
                let kept = match &s.verify {
                    Some(v) if v.passed() => "the reopened database holds every one of them",
                    Some(_) => "the reopened database does not verify",
                    None => "not verified",
                };
                out.push(format!(
                    "{who}: the run stopped at an error after {} commits, durable through lsn {} ({kept}): {e}",
                    s.run.commit_ns.len(),
                    s.run.durable_lsn
                ));
            }
            out.extend(s.run.violations.iter().map(|v| format!("{who}: {v}")));
            match &s.verify {
                Some(v) => out.extend(v.problems.iter().map(|p| format!("{who}: {p}"))),
                None if s.error.is_none() => out.push(format!("{who}: not verified")),
                None => {}
            }
        }
        out
    }
}

fn message(e: &StoreError) -> String {
    e.to_string()
}

/// Runs one phase on every shard, each on its own thread; `expected[k]` is
/// what shard `k` must hold (`None`: learn it by checking the database
/// first), updated to what it holds afterwards.
pub fn run_phase(
    cfg: &PhaseConfig,
    expected: &mut [Option<Expected>],
    progress: &[ShardProgress],
) -> PhaseReport {
    let started = Instant::now();
    let shards = std::thread::scope(|scope| {
        let handles: Vec<_> = expected
            .iter_mut()
            .zip(progress)
            .enumerate()
            .map(|(k, (exp, prog))| scope.spawn(move || run_shard(cfg, k as u32, exp, prog)))
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(k, h)| {
                h.join().unwrap_or_else(|_| ShardOutcome {
                    shard: k as u32,
                    error: Some("the shard's thread panicked".into()),
                    ..ShardOutcome::default()
                })
            })
            .collect()
    });
    PhaseReport {
        backend: cfg.backend.clone(),
        shards,
        elapsed: started.elapsed(),
    }
}

fn run_shard(
    cfg: &PhaseConfig,
    shard: u32,
    expected: &mut Option<Expected>,
    progress: &ShardProgress,
) -> ShardOutcome {
    let mut out = ShardOutcome {
        shard,
        ..ShardOutcome::default()
    };
    if let Err(e) = shard_phase(cfg, shard, expected, progress, &mut out) {
        out.error = Some(e);
    }
    progress.set(Stage::Done);
    out
}

fn shard_phase(
    cfg: &PhaseConfig,
    shard: u32,
    expected: &mut Option<Expected>,
    progress: &ShardProgress,
    out: &mut ShardOutcome,
) -> Result<(), String> {
    let tio = cfg.backend.instantiate().map_err(|e| e.to_string())?;
    out.backend = tio.name.clone();
    out.backend_detail = tio.detail.clone();
    let io = tio.io;
    let paths = cfg.backend.store_paths(&cfg.dir, shard);
    let mut options = cfg.options.clone();
    options.slots = cfg.workload.concurrency + 1;
    options.create.pages = shard_pages(cfg.pages, cfg.shards, shard);
    options.create.shard = shard;
    options.create.shards = cfg.shards;
    options.create.db_id = cfg.db_id;
    progress.set(Stage::Opening);
    let store =
        open_store(&*io, &paths, OpenMode::OpenOrCreate, &options).map_err(|e| message(&e))?;
    out.recovery = Some(store.recovery().clone());
    let mut exp = match expected.take() {
        Some(e) => e,
        None if store.recovery().created => Expected::blank(store.pages()),
        None => {
            progress.set(Stage::Checking);
            let v = verify(&*io, &store, None);
            if !v.passed() {
                return Err(format!(
                    "the database does not verify before the run: {}",
                    v.problems.first().cloned().unwrap_or_default()
                ));
            }
            Expected::from_versions(v.versions)
        }
    };
    progress.set(Stage::Running);
    let workload = WorkloadConfig {
        seed: cfg.workload.seed ^ (u64::from(shard) << 56),
        ..cfg.workload.clone()
    };
    let (run, _) = run_workload(
        &*io,
        &store,
        Workload::new(store.clone(), workload, &mut exp).with_progress(&progress.run),
    );
    out.run = run;
    drop(store);
    progress.set(Stage::Verifying);
    let store = open_store(&*io, &paths, OpenMode::Open, &options)
        .map_err(|e| format!("reopening: {}", message(&e)))?;
    let v = verify(&*io, &store, Some(&exp));
    if v.passed() {
        *expected = Some(Expected::from_versions(v.versions.clone()));
    }
    out.verify = Some(v);
    Ok(())
}

/// A database found in a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Shards.
    pub shards: u32,
    /// Pages over all shards.
    pub pages: u32,
    /// Its identifier.
    pub db_id: u64,
}

/// The database in `dir`, if there is one: reads each shard's header
/// (nothing is recovered or written).
pub fn probe(backend: &BackendSpec, dir: &Path) -> Result<Option<Found>, String> {
    let tio = backend
        .instantiate()
        .map_err(|e: BackendError| e.to_string())?;
    let first = backend.store_paths(dir, 0);
    let Some(h0) = probe_header(&*tio.io, &first).map_err(|e| message(&e))? else {
        return Ok(None);
    };
    let mut pages = h0.geometry.pages;
    for shard in 1..h0.shards {
        let paths = backend.store_paths(dir, shard);
        match probe_header(&*tio.io, &paths).map_err(|e| message(&e))? {
            Some(h) if h.db_id == h0.db_id && h.shard == shard && h.shards == h0.shards => {
                pages += h.geometry.pages
            }
            Some(h) => {
                return Err(format!(
                    "{} belongs to another database or shard (id {:#x}, shard {} of {})",
                    paths.data, h.db_id, h.shard, h.shards
                ))
            }
            None => {
                return Err(format!(
                    "{}: shard {shard} of {} is missing",
                    paths.data, h0.shards
                ))
            }
        }
    }
    Ok(Some(Found {
        shards: h0.shards,
        pages,
        db_id: h0.db_id,
    }))
}

/// What verifying one shard found.
#[derive(Debug)]
pub struct ShardCheck {
    /// The shard.
    pub shard: u32,
    /// What recovery did.
    pub recovery: Option<RecoveryReport>,
    /// What verification found.
    pub verify: Option<VerifyReport>,
    /// What stopped it.
    pub error: Option<String>,
}

impl ShardCheck {
    /// Whether the shard recovered and verified.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.verify.as_ref().is_some_and(VerifyReport::passed)
    }
}

/// Opens (recovering) and verifies every shard of the database in `dir`
/// on its own thread: checksums, payloads, and that no commit is partly
/// visible.
pub fn verify_all(backend: &BackendSpec, dir: &Path, shards: u32, slots: usize) -> Vec<ShardCheck> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..shards)
            .map(|shard| {
                scope.spawn(move || {
                    let mut check = ShardCheck {
                        shard,
                        recovery: None,
                        verify: None,
                        error: None,
                    };
                    let res = (|| -> Result<(), String> {
                        let tio = backend.instantiate().map_err(|e| e.to_string())?;
                        let options = StoreOptions {
                            slots,
                            ..StoreOptions::default()
                        };
                        let paths = backend.store_paths(dir, shard);
                        let store = open_store(&*tio.io, &paths, OpenMode::Open, &options)
                            .map_err(|e| message(&e))?;
                        check.recovery = Some(store.recovery().clone());
                        check.verify = Some(verify(&*tio.io, &store, None));
                        Ok(())
                    })();
                    check.error = res.err();
                    check
                })
            })
            .collect();
        handles
            .into_iter()
            .enumerate()
            .map(|(k, h)| {
                h.join().unwrap_or_else(|_| ShardCheck {
                    shard: k as u32,
                    recovery: None,
                    verify: None,
                    error: Some("the shard's thread panicked".into()),
                })
            })
            .collect()
    })
}
