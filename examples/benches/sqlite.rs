//! The page store against SQLite on the same workload: random reads of
//! 4 KiB pages, and commits of 1 to 8 random pages that are durable when
//! they return, at 1, 8 and 64 operations in flight.
//!
//! - **The page store** (`io_model_examples::pagestore`): one thread, one
//!   backend (`default_io()`: io_uring where the kernel allows it), the
//!   operations in flight interleaved by its scheduler; a commit returns
//!   once an `fdatasync` of the log covers it (group commit: one fsync for
//!   every commit written meanwhile); the automatic checkpointer copies the
//!   log into the data file every 2048 frames.
//! - **SQLite** (bundled, through `rusqlite`): a table `pages(id INTEGER
//!   PRIMARY KEY, data BLOB)` of the same pages, each row the page store's
//!   payload size; WAL mode, `synchronous = FULL` (each commit syncs the
//!   log before it returns), prepared statements, one thread with its own
//!   connection per operation in flight (what SQLite's locking lets run in
//!   parallel: readers alongside one writer), writers taking an in-process
//!   lock before `BEGIN IMMEDIATE` (rather than SQLite's busy handler,
//!   which sleeps), memory-mapped reads, the automatic checkpoint at the
//!   same log size as the page store's. `scripts/bench.sh` builds SQLite
//!   with `-DHAVE_FDATASYNC=1` (`LIBSQLITE3_FLAGS`) so that its log sync is
//!   `fdatasync`, as the page store's is; without it SQLite calls `fsync`.
//!
//! Three workloads: reads only, commits only, and the page store demo's
//! mix (80% reads). Each (workload, operations in flight) pair runs both
//! systems one after the other, in alternating order over the rounds; the
//! report gives medians of the per-round rates and of their ratios, and
//! latency percentiles of the last round. Both databases are created
//! beside each other in one directory (on the file system the report
//! names) and reopened for every run. Nothing here asserts a duration.
//!
//! ```sh
//! cargo bench -p io-model-examples --bench sqlite                 # 3 rounds of 3 s runs, ~3 min
//! cargo bench -p io-model-examples --bench sqlite -- --quick      # a smoke run, ~15 s
//! cargo bench -p io-model-examples --bench sqlite -- --help
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rusqlite::{params, Connection, OpenFlags};

use io_model_examples::pagestore::backend::{BackendKind, BackendSpec};
use io_model_examples::pagestore::shards::shard_pages;
use io_model_examples::pagestore::workload::{quantile, Op, OpOutput, OpTask, Rng};
use io_model_examples::pagestore::{
    open_store, CreateOptions, Driver, OpenMode, PageWrite, Scheduler, SlotId, Store, StoreError,
    StoreOptions, StorePaths, PAYLOAD_SIZE,
};

/// The page store against SQLite: random page reads and durable commits.
#[derive(Debug, Parser)]
#[command(name = "sqlite", about, long_about = None)]
struct Args {
    /// A smoke run: one round of 0.5 s runs at 1 and 8 in flight, 2048
    /// pages.
    #[arg(long)]
    quick: bool,

    /// Seconds each system runs each workload, per round.
    #[arg(long, value_name = "SECS", default_value_t = 3.0, value_parser = parse_secs)]
    duration: f64,

    /// Rounds (the order of the two systems alternates).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,

    /// Operations in flight, a comma-separated list.
    #[arg(long, value_name = "N,..", value_delimiter = ',', default_value = "1,8,64", value_parser = clap::value_parser!(u32).range(1..=1024))]
    in_flight: Vec<u32>,

    /// Pages in each database.
    #[arg(long, value_name = "N", default_value_t = 16_384, value_parser = clap::value_parser!(u32).range(64..=(1 << 24)))]
    pages: u32,

    /// The directory for the two databases [default: a temporary
    /// directory under ./target, removed at the end].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The page store's backend.
    #[arg(long, value_enum, default_value_t = Backend::Default)]
    backend: Backend,

    /// SQLite's page size in bytes (a row of one page store payload needs
    /// 8192 to fit on one page; 4096 spills each row onto an overflow
    /// page).
    #[arg(long, value_name = "BYTES", default_value_t = 8192, value_parser = parse_page_size)]
    sqlite_page_size: u32,

    /// SQLite's memory-mapped I/O size in MiB (0: reads through its page
    /// cache only).
    #[arg(long, value_name = "MiB", default_value_t = 1024)]
    sqlite_mmap_mib: u64,

    /// How SQLite writers wait for each other.
    #[arg(long, value_enum, default_value_t = Writers::Lock)]
    sqlite_writers: Writers,

    /// Accepted for `cargo bench`, which passes it.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// io_uring where the kernel allows it, else sync.
    Default,
    /// Blocking pread/pwrite/fdatasync.
    Sync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Writers {
    /// An in-process mutex around each write transaction.
    Lock,
    /// SQLite's own busy handler (busy_timeout), which sleeps and retries.
    Busy,
}

fn parse_secs(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v > 0.0 && v <= 3600.0) {
        return Err(format!("{v} s is out of range (more than 0, at most 3600)"));
    }
    Ok(v)
}

fn parse_page_size(s: &str) -> Result<u32, String> {
    let v: u32 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(512..=65536).contains(&v) || !v.is_power_of_two() {
        return Err(format!("{v} is not a power of two from 512 to 65536"));
    }
    Ok(v)
}

/// The three workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    Reads,
    Commits,
    Mixed,
}

impl Mix {
    fn read_ratio(self) -> f64 {
        match self {
            Mix::Reads => 1.0,
            Mix::Commits => 0.0,
            Mix::Mixed => 0.8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mix::Reads => "reads",
            Mix::Commits => "commits (1-8 pages)",
            Mix::Mixed => "mixed (80% reads)",
        }
    }
}

/// The largest commit, in pages.
const MAX_COMMIT_PAGES: u64 = 8;
/// Log frames past which both systems checkpoint (SQLite counts its own
/// pages, so its threshold is scaled to the same bytes).
const CHECKPOINT_FRAMES: u32 = 2048;

/// What one run of one system did.
#[derive(Debug, Default)]
struct RunResult {
    reads: u64,
    commits: u64,
    elapsed: Duration,
    read_ns: Vec<u64>,
    commit_ns: Vec<u64>,
    /// Commits per log sync (the page store's group commit; SQLite syncs
    /// once per commit).
    commits_per_sync: Option<f64>,
    /// CPU time of the whole process (user + system, every thread).
    cpu: Duration,
}

impl RunResult {
    fn ops_per_sec(&self) -> f64 {
        (self.reads + self.commits) as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / (self.reads + self.commits).max(1) as f64
    }
}

/// The process's CPU time so far, user and system, every thread.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` writes into the zeroed struct it is given and
    // keeps no pointer to it (an FFI call into the C library).
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The bytes a commit writes to a page: distinct per commit and page, made
/// without much work (both systems get the same).
fn payload(tag: u64, page: u32) -> Vec<u8> {
    let mut v = vec![0u8; PAYLOAD_SIZE];
    let word = (tag ^ u64::from(page).rotate_left(32)).to_le_bytes();
    for chunk in v.chunks_exact_mut(8) {
        chunk.copy_from_slice(&word);
    }
    v
}

/// The pages of one commit: 1 to 8 distinct random pages.
fn commit_pages(rng: &mut Rng, pages: u32) -> Vec<u32> {
    let n = 1 + rng.below(MAX_COMMIT_PAGES.min(u64::from(pages))) as usize;
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n {
        let p = rng.below(u64::from(pages)) as u32;
        if !chosen.contains(&p) {
            chosen.push(p);
        }
    }
    chosen
}

// ---------------------------------------------------------------- page store

/// Shard `shard` of `shards` of a database of `pages` pages, with `slots`
/// operations in flight; the cache is split between the shards.
fn shard_options(slots: usize, pages: u32, shards: u32, shard: u32) -> StoreOptions {
    StoreOptions {
        slots,
        cache_pages: 2048 / shards as usize,
        checkpoint_frames: CHECKPOINT_FRAMES,
        max_commit_pages: MAX_COMMIT_PAGES as usize,
        create: CreateOptions {
            pages: shard_pages(pages, shards, shard),
            wal_frames: 4 * CHECKPOINT_FRAMES,
            shard,
            shards,
            db_id: 0x5eed_0001,
        },
    }
}

/// Feeds the page store's scheduler: `k` client slots run the workload
/// until the deadline; the last slot runs the automatic checkpointer until
/// the clients are done.
struct Clients {
    store: Arc<Store>,
    k: usize,
    mix: Mix,
    rng: Rng,
    deadline: Instant,
    in_flight: usize,
    checkpointer_stopped: bool,
    result: RunResult,
    error: Option<StoreError>,
}

impl Clients {
    fn stopping(&self) -> bool {
        self.error.is_some() || Instant::now() >= self.deadline
    }

    fn maybe_stop_checkpointer(&mut self) {
        if self.stopping() && self.in_flight == 0 && !self.checkpointer_stopped {
            self.checkpointer_stopped = true;
            self.store.stop_auto_checkpoint();
        }
    }
}

impl Driver<OpTask> for Clients {
    fn next(&mut self, slot: SlotId) -> Option<OpTask> {
        if slot.0 == self.k {
            self.maybe_stop_checkpointer();
            return (!self.checkpointer_stopped)
                .then(|| OpTask::new(self.store.clone(), Op::AutoCheckpoint));
        }
        if self.stopping() {
            self.maybe_stop_checkpointer();
            return None;
        }
        self.in_flight += 1;
        let pages = self.store.pages();
        let op = if self.rng.chance(self.mix.read_ratio()) {
            Op::Read(self.rng.below(u64::from(pages)) as u32)
        } else {
            let tag = self.rng.next_u64();
            let writes = commit_pages(&mut self.rng, pages)
                .into_iter()
                .map(|p| PageWrite::new(p, payload(tag, p)).expect("a payload fits"))
                .collect();
            Op::Commit { tag, writes }
        };
        Some(OpTask::new(self.store.clone(), op))
    }

    fn done(&mut self, slot: SlotId, task: OpTask, result: Result<OpOutput, StoreError>) {
        if slot.0 != self.k {
            self.in_flight -= 1;
            let ns = task.started.elapsed().as_nanos() as u64;
            match result {
                Ok(OpOutput::Read(page)) => {
                    std::hint::black_box(page.payload()[0]);
                    self.result.reads += 1;
                    self.result.read_ns.push(ns);
                }
                Ok(_) => {
                    self.result.commits += 1;
                    self.result.commit_ns.push(ns);
                }
                Err(e) => {
                    self.error.get_or_insert(e);
                }
            }
        } else if let Err(e) = result {
            self.error.get_or_insert(e);
        }
        self.maybe_stop_checkpointer();
    }
}

struct PageStore {
    backend: BackendSpec,
    /// Each shard's files (page `p` lives in shard `p % shards`).
    paths: Vec<StorePaths>,
    pages: u32,
    /// What the backend turned out to be.
    name: String,
}

impl PageStore {
    /// A database of `shards` shards in `dir`, each to be run by a thread
    /// of its own with its own backend (as `pagestore --threads`).
    fn create(dir: &Path, backend: Backend, pages: u32, shards: u32) -> Result<Self, String> {
        let backend = BackendSpec::of(match backend {
            Backend::Default => BackendKind::Default,
            Backend::Sync => BackendKind::Sync,
        });
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let tio = backend.instantiate().map_err(|e| e.to_string())?;
        let mut paths = Vec::new();
        for shard in 0..shards {
            let p = StorePaths::in_dir(dir, shard);
            let options = shard_options(2, pages, shards, shard);
            let store = open_store(&*tio.io, &p, OpenMode::Create, &options)
                .map_err(|e| format!("creating the page store: {e}"))?;
            drop(store);
            paths.push(p);
        }
        Ok(Self {
            backend,
            paths,
            pages,
            name: tio.name,
        })
    }

    fn run(&self, k: usize, mix: Mix, duration: Duration, seed: u64) -> Result<RunResult, String> {
        let shards = self.paths.len();
        let start = Barrier::new(shards + 1);
        let mut cpu = Duration::ZERO;
        let results: Vec<Result<RunResult, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..shards)
                .map(|shard| {
                    // Shard `i` runs its share of the operations in flight.
                    let k_i = k / shards + usize::from(shard < k % shards);
                    let start = &start;
                    // Named, so that a profile can tell the systems apart.
                    std::thread::Builder::new()
                        .name(format!("pagestore-{shard}"))
                        .spawn_scoped(scope, move || {
                            self.run_shard(shard, k_i, mix, duration, seed + shard as u64, start)
                        })
                        .expect("spawning a page store thread")
                })
                .collect();
            start.wait();
            cpu = process_cpu();
            handles
                .into_iter()
                .map(|h| h.join().expect("a page store thread panicked"))
                .collect()
        });
        let mut total = RunResult {
            cpu: process_cpu() - cpu,
            ..RunResult::default()
        };
        let (mut commits, mut syncs) = (0.0, 0.0);
        for r in results {
            let r = r?;
            total.reads += r.reads;
            total.commits += r.commits;
            total.elapsed = total.elapsed.max(r.elapsed);
            total.read_ns.extend(r.read_ns);
            total.commit_ns.extend(r.commit_ns);
            if let Some(c) = r.commits_per_sync.filter(|c| *c > 0.0) {
                commits += r.commits as f64;
                syncs += r.commits as f64 / c;
            }
        }
        total.commits_per_sync = Some(if syncs > 0.0 { commits / syncs } else { 0.0 });
        Ok(total)
    }

    /// One shard's run on the calling thread: `k` client slots and the
    /// checkpointer, from the barrier until `duration` has passed.
    fn run_shard(
        &self,
        shard: usize,
        k: usize,
        mix: Mix,
        duration: Duration,
        seed: u64,
        start: &Barrier,
    ) -> Result<RunResult, String> {
        // A fresh backend and a reopened store per run, so that every run
        // starts from a recovered log and a cold store cache.
        let opened = self
            .backend
            .instantiate()
            .map_err(|e| e.to_string())
            .and_then(|tio| {
                let shards = self.paths.len() as u32;
                let options = shard_options(k + 1, self.pages, shards, shard as u32);
                open_store(&*tio.io, &self.paths[shard], OpenMode::Open, &options)
                    .map(|store| (tio, store))
                    .map_err(|e| format!("opening the page store: {e}"))
            });
        start.wait();
        let (tio, store) = opened?;
        let before = store.stats();
        let started = Instant::now();
        let mut clients = Clients {
            store: store.clone(),
            k,
            mix,
            rng: Rng::new(seed),
            deadline: started + duration,
            in_flight: 0,
            checkpointer_stopped: false,
            result: RunResult::default(),
            error: None,
        };
        let mut scheduler = Scheduler::new(store.ready_queue().clone(), store.slots());
        scheduler
            .run(&*tio.io, &mut clients)
            .map_err(|e| format!("the page store's run failed: {e}"))?;
        if let Some(e) = clients.error {
            return Err(format!("a page store operation failed: {e}"));
        }
        let mut result = clients.result;
        result.elapsed = started.elapsed();
        let stats = store.stats() - before;
        result.commits_per_sync = Some(stats.commits_per_fsync());
        Ok(result)
    }
}

// -------------------------------------------------------------------- SQLite

struct Sqlite {
    path: PathBuf,
    page_size: u32,
    mmap_mib: u64,
    writers: Writers,
    pages: u32,
    version: String,
}

impl Sqlite {
    fn create(dir: &Path, args: &Args, pages: u32) -> Result<Self, String> {
        let path = dir.join("sqlite.db");
        let e = |e: rusqlite::Error| format!("creating the SQLite database: {e}");
        let conn = Connection::open(&path).map_err(e)?;
        // The page size is set before the first table and WAL mode.
        conn.execute_batch(&format!(
            "PRAGMA page_size = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE pages (id INTEGER PRIMARY KEY, data BLOB NOT NULL);",
            args.sqlite_page_size
        ))
        .map_err(e)?;
        let blank = vec![0u8; PAYLOAD_SIZE];
        conn.execute_batch("BEGIN").map_err(e)?;
        {
            let mut insert = conn
                .prepare("INSERT INTO pages (id, data) VALUES (?1, ?2)")
                .map_err(e)?;
            for id in 0..pages {
                insert.execute(params![id, blank]).map_err(e)?;
            }
        }
        conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(e)?;
        let version: String = conn
            .query_row("SELECT sqlite_version()", [], |r| r.get(0))
            .map_err(e)?;
        let got: u32 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(e)?;
        if got != args.sqlite_page_size {
            return Err(format!(
                "SQLite kept page size {got}, not {}",
                args.sqlite_page_size
            ));
        }
        Ok(Self {
            path,
            page_size: args.sqlite_page_size,
            mmap_mib: args.sqlite_mmap_mib,
            writers: args.sqlite_writers,
            pages,
            version,
        })
    }

    /// A connection set up for the workload.
    fn connect(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The page store checkpoints every CHECKPOINT_FRAMES 4 KiB frames;
        // SQLite counts pages of its own size.
        let autocheckpoint =
            (u64::from(CHECKPOINT_FRAMES) * 4096 / u64::from(self.page_size)).max(1);
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -8192; PRAGMA mmap_size = {};
             PRAGMA wal_autocheckpoint = {autocheckpoint}; PRAGMA busy_timeout = 10000;",
            self.mmap_mib << 20
        ))?;
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        if mode != "wal" || sync != 2 {
            return Err(rusqlite::Error::InvalidQuery);
        }
        Ok(conn)
    }

    fn run(&self, k: usize, mix: Mix, duration: Duration, seed: u64) -> Result<RunResult, String> {
        let conns: Vec<Connection> = (0..k)
            .map(|_| self.connect())
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| format!("opening SQLite (WAL, synchronous = FULL): {e}"))?;
        let writer = Mutex::new(());
        let start = Barrier::new(k + 1);
        let failed = AtomicBool::new(false);
        let mut cpu = Duration::ZERO;
        let (results, started) = std::thread::scope(|scope| {
            let handles: Vec<_> = conns
                .into_iter()
                .enumerate()
                .map(|(t, conn)| {
                    let (writer, start, failed) = (&writer, &start, &failed);
                    std::thread::Builder::new()
                        .name(format!("sqlite-{t}"))
                        .spawn_scoped(scope, move || {
                            start.wait();
                            let deadline = Instant::now() + duration;
                            self.client(&conn, mix, deadline, seed ^ (t as u64 + 1), writer, failed)
                        })
                        .expect("spawning a SQLite client thread")
                })
                .collect();
            cpu = process_cpu();
            start.wait();
            let started = Instant::now();
            let results: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().expect("a SQLite client thread panicked"))
                .collect();
            (results, started)
        });
        let elapsed = started.elapsed();
        let mut total = RunResult {
            elapsed,
            cpu: process_cpu() - cpu,
            ..RunResult::default()
        };
        for r in results {
            let r = r.map_err(|e| format!("a SQLite operation failed: {e}"))?;
            total.reads += r.reads;
            total.commits += r.commits;
            total.read_ns.extend(r.read_ns);
            total.commit_ns.extend(r.commit_ns);
        }
        Ok(total)
    }

    /// One client thread: operations one after another until the deadline.
    fn client(
        &self,
        conn: &Connection,
        mix: Mix,
        deadline: Instant,
        seed: u64,
        writer: &Mutex<()>,
        failed: &AtomicBool,
    ) -> rusqlite::Result<RunResult> {
        let mut rng = Rng::new(seed);
        let mut out = RunResult::default();
        let mut read = conn.prepare_cached("SELECT data FROM pages WHERE id = ?1")?;
        let mut update = conn.prepare_cached("UPDATE pages SET data = ?2 WHERE id = ?1")?;
        while Instant::now() < deadline && !failed.load(Ordering::Relaxed) {
            let t = Instant::now();
            if rng.chance(mix.read_ratio()) {
                let id = rng.below(u64::from(self.pages)) as u32;
                let first: u8 = read.query_row(params![id], |r| {
                    let b = r.get_ref(0)?.as_blob()?;
                    Ok(b.first().copied().unwrap_or(0))
                })?;
                std::hint::black_box(first);
                out.reads += 1;
                out.read_ns.push(t.elapsed().as_nanos() as u64);
            } else {
                let tag = rng.next_u64();
                let pages = commit_pages(&mut rng, self.pages);
                let data: Vec<Vec<u8>> = pages.iter().map(|&p| payload(tag, p)).collect();
                let res = (|| {
                    let _turn = match self.writers {
                        Writers::Lock => Some(
                            writer
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner),
                        ),
                        Writers::Busy => None,
                    };
                    conn.execute_batch("BEGIN IMMEDIATE")?;
                    for (p, d) in pages.iter().zip(&data) {
                        if let Err(e) = update.execute(params![p, d]) {
                            let _ = conn.execute_batch("ROLLBACK");
                            return Err(e);
                        }
                    }
                    conn.execute_batch("COMMIT")
                })();
                if let Err(e) = res {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                out.commits += 1;
                out.commit_ns.push(t.elapsed().as_nanos() as u64);
            }
        }
        Ok(out)
    }
}

// -------------------------------------------------------------------- report

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn micros(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn latency(r: &mut RunResult, mix: Mix) -> String {
    let v = if mix == Mix::Reads {
        &mut r.read_ns
    } else {
        &mut r.commit_ns
    };
    format!(
        "{} / {}",
        micros(quantile(v, 0.5)),
        micros(quantile(v, 0.99))
    )
}

/// A temporary directory under ./target (the file system the report
/// names), or the current directory when there is none.
fn temp_dir() -> std::io::Result<tempfile::TempDir> {
    let base = if Path::new("target").is_dir() {
        PathBuf::from("target")
    } else {
        PathBuf::from(".")
    };
    tempfile::Builder::new()
        .prefix("bench-sqlite-")
        .tempdir_in(base)
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.quick {
        args.duration = 0.5;
        args.rounds = 1;
        args.in_flight = vec![1, 8];
        args.pages = 2048;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("sqlite bench: {m}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let temp;
    let dir: &Path = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            d
        }
        None => {
            temp = temp_dir().map_err(|e| format!("creating a temporary directory: {e}"))?;
            temp.path()
        }
    };
    eprintln!(
        "sqlite bench: creating the databases ({} pages) in {}",
        args.pages,
        dir.display()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let store = PageStore::create(&dir.join("pagestore"), args.backend, args.pages, 1)?;
    // The reads also on one shard per core, each on its own thread, so
    // that the page store uses the cores SQLite's threads do. (Commits are
    // not: a commit of a sharded store writes pages of one shard only.)
    let sharded = if cores > 1 {
        Some(PageStore::create(
            &dir.join(format!("pagestore-{cores}")),
            args.backend,
            args.pages,
            cores,
        )?)
    } else {
        None
    };
    let sqlite = Sqlite::create(dir, args, args.pages)?;
    let duration = Duration::from_secs_f64(args.duration);
    println!(
        "Page store: {} pages, backend `{}`, one thread, cache 2048 pages, checkpoint every {CHECKPOINT_FRAMES} frames. \
         SQLite {}: page size {}, WAL, synchronous = FULL, mmap {} MiB, cache 8 MiB per connection, \
         one thread and connection per operation in flight, writers {}. \
         {} round(s) of {} s per system and workload; medians of the per-round figures; CPU time of the whole process \
         per operation; latency p50 / p99 of the last round (reads for the reads workload, commits otherwise).\n",
        args.pages,
        store.name,
        sqlite.version,
        sqlite.page_size,
        sqlite.mmap_mib,
        match sqlite.writers {
            Writers::Lock => "serialized by an in-process lock",
            Writers::Busy => "waiting in SQLite's busy handler",
        },
        args.rounds,
        args.duration,
    );
    println!("| in flight | workload | page store ops/s | SQLite ops/s | page store / SQLite | commits per fsync (page store) | CPU µs per op, page store / SQLite | page store p50 / p99 | SQLite p50 / p99 |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows: Vec<(u32, Mix, &PageStore, String)> = Vec::new();
    for &k in &args.in_flight {
        rows.push((k, Mix::Reads, &store, Mix::Reads.name().to_owned()));
        if let Some(sharded) = sharded.as_ref().filter(|_| k >= cores) {
            rows.push((
                k,
                Mix::Reads,
                sharded,
                format!("reads, page store in {cores} shards on {cores} threads"),
            ));
        }
        rows.push((k, Mix::Commits, &store, Mix::Commits.name().to_owned()));
        rows.push((k, Mix::Mixed, &store, Mix::Mixed.name().to_owned()));
    }
    let mut seed = 0x5eed_u64;
    for (k, mix, store, label) in rows {
        let (mut ps_rates, mut sq_rates, mut ratios, mut cps) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut ps_cpu, mut sq_cpu) = (Vec::new(), Vec::new());
        let mut last = None;
        for round in 0..args.rounds {
            seed += 1;
            eprintln!("sqlite bench: {k} in flight, {label}, round {}", round + 1);
            let (ps, sq) = if round % 2 == 0 {
                let ps = store.run(k as usize, mix, duration, seed)?;
                (ps, sqlite.run(k as usize, mix, duration, seed)?)
            } else {
                let sq = sqlite.run(k as usize, mix, duration, seed)?;
                (store.run(k as usize, mix, duration, seed)?, sq)
            };
            ps_rates.push(ps.ops_per_sec());
            sq_rates.push(sq.ops_per_sec());
            ratios.push(ps.ops_per_sec() / sq.ops_per_sec());
            ps_cpu.push(ps.cpu_us_per_op());
            sq_cpu.push(sq.cpu_us_per_op());
            if let Some(c) = ps.commits_per_sync {
                cps.push(c);
            }
            last = Some((ps, sq));
        }
        let (mut ps, mut sq) = last.expect("at least one round");
        println!(
            "| {k} | {label} | {:.0} | {:.0} | {:.2} | {} | {:.2} / {:.2} | {} | {} |",
            median(ps_rates),
            median(sq_rates),
            median(ratios),
            if mix == Mix::Reads {
                "-".to_owned()
            } else {
                format!("{:.2}", median(cps))
            },
            median(ps_cpu),
            median(sq_cpu),
            latency(&mut ps, mix),
            latency(&mut sq, mix),
        );
    }
    Ok(())
}
