//! The page store demo: a durable page store on io_uring (or blocking
//! I/O), every I/O function `#[io_model::resumable]`.
//!
//! With no arguments it creates a database in a temporary directory, runs a
//! mixed workload (random page reads, commits of 1-8 pages, checkpoints as
//! the log grows) for 10 s on `default_io()` and then 10 s on `SyncIO`,
//! reopens the database after each run, verifies every page, and prints
//! one row per backend. Exit status 0 only when every verification passed.
//!
//! ```text
//! cargo run --release --example pagestore -- --help
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use io_model_examples::pagestore::backend::{BackendError, BackendKind, BackendSpec};
use io_model_examples::pagestore::format::Geometry;
use io_model_examples::pagestore::shards::{
    probe, run_phase, shard_pages, verify_all, PhaseConfig, PhaseReport, ShardProgress, Stage,
};
use io_model_examples::pagestore::workload::{Expected, Stop, WorkloadConfig};
use io_model_examples::pagestore::{CreateOptions, StoreOptions, MIN_WAL_FRAMES};

/// A durable page store on completion-based I/O: runs a mixed workload,
/// reopens the database, verifies every page, and prints one row per
/// backend.
#[derive(Debug, Parser)]
#[command(name = "pagestore", version, about, long_about = None)]
struct Args {
    /// The I/O backend [default: run `default`, then `sync`].
    #[arg(long, value_enum)]
    backend: Option<Backend>,

    /// The NBD server, for `--backend nbd` or `mirror` (nbd://host:port,
    /// nbd+unix:///?socket=PATH).
    #[arg(long, value_name = "URI")]
    nbd: Option<String>,

    /// The database directory; created if missing, opened (and recovered)
    /// if it holds a database [default: a fresh temporary directory].
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,

    /// Pages of a new database, spread over the threads' shards [default:
    /// 16384 (64 MiB); an existing database keeps its own].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=(1 << 28)))]
    pages: Option<u32>,

    /// Seconds of workload per backend.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_duration)]
    duration: f64,

    /// Client operations in flight per thread.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,

    /// Threads, each running one shard on its own backend instance
    /// [default: 1 for a new database; an existing one keeps its shards].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    threads: Option<u32>,

    /// The share of reads among client operations.
    #[arg(long, value_name = "F", default_value = "0.8", value_parser = parse_ratio)]
    read_ratio: f64,

    /// Only open the database at --path (for `--backend nbd`: on the
    /// server), recover it, verify every page and report.
    #[arg(long)]
    verify_only: bool,

    /// Keep the temporary database directory (its path is printed).
    #[arg(long)]
    keep: bool,

    /// Pages each shard's cache holds.
    #[arg(long, value_name = "N", default_value_t = 2048)]
    cache_pages: usize,

    /// Frames in each of a new database's two log regions.
    #[arg(long, value_name = "N", default_value_t = 8192, value_parser = clap::value_parser!(u32).range(MIN_WAL_FRAMES as i64..=(1 << 24)))]
    wal_frames: u32,

    /// Log frames in use past which a checkpoint starts (at most half the
    /// region).
    #[arg(long, value_name = "N", default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1..))]
    checkpoint_frames: u32,

    /// The largest commit, in pages.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    max_commit_pages: u32,

    /// The workload's seed [default: from the clock].
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    /// io_uring where the kernel allows it, else sync.
    Default,
    /// io_uring, or an error.
    Uring,
    /// Blocking pread/pwrite/fdatasync.
    Sync,
    /// The exports of an NBD server (--nbd).
    Nbd,
    /// A local primary and an NBD replica (--nbd).
    Mirror,
}

impl From<Backend> for BackendKind {
    fn from(b: Backend) -> Self {
        match b {
            Backend::Default => BackendKind::Default,
            Backend::Uring => BackendKind::Uring,
            Backend::Sync => BackendKind::Sync,
            Backend::Nbd => BackendKind::Nbd,
            Backend::Mirror => BackendKind::Mirror,
        }
    }
}

fn parse_duration(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v > 0.0 && v <= 86_400.0) {
        return Err(format!(
            "{v} s is out of range (more than 0, at most 86400)"
        ));
    }
    Ok(v)
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{v} is out of range (0 to 1)"));
    }
    Ok(v)
}

/// Why the run did not pass: a usage error (exit 2) or a failure (exit 1).
enum Fail {
    Usage(String),
    Runtime(String),
}

impl From<BackendError> for Fail {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Unavailable(m) => Fail::Usage(m),
            BackendError::Failed(m) => Fail::Runtime(m),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Fail::Usage(m)) => {
            eprintln!("pagestore: {m}");
            ExitCode::from(2)
        }
        Err(Fail::Runtime(m)) => {
            eprintln!("pagestore: {m}");
            ExitCode::from(1)
        }
    }
}

/// Where the database lives.
enum Dir {
    Given(PathBuf),
    Temp(tempfile::TempDir),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Dir::Given(p) => p,
            Dir::Temp(t) => t.path(),
        }
    }
}

fn run(args: Args) -> Result<bool, Fail> {
    let backends: Vec<BackendSpec> = match args.backend {
        Some(b) => vec![BackendSpec {
            kind: b.into(),
            nbd: args.nbd.clone(),
        }],
        None if args.nbd.is_some() => {
            return Err(Fail::Usage(
                "--nbd needs --backend nbd or --backend mirror".into(),
            ));
        }
        None => vec![
            BackendSpec::of(BackendKind::Default),
            BackendSpec::of(BackendKind::Sync),
        ],
    };
    for b in &backends {
        b.check()?;
    }
    if args.verify_only {
        let dir = match (&args.path, backends[0].kind) {
            (Some(p), _) => p.clone(),
            // The database is on the server; no directory is used.
            (None, BackendKind::Nbd) => PathBuf::new(),
            (None, _) => {
                return Err(Fail::Usage(
                    "--verify-only needs --path DIR (the database to verify)".into(),
                ))
            }
        };
        return verify_only(&backends[0], &dir);
    }
    if args.checkpoint_frames > args.wal_frames / 2 {
        return Err(Fail::Usage(format!(
            "--checkpoint-frames {} must be at most half of --wal-frames {}",
            args.checkpoint_frames, args.wal_frames
        )));
    }
    let dir = match &args.path {
        Some(p) => {
            std::fs::create_dir_all(p)
                .map_err(|e| Fail::Runtime(format!("{}: {e}", p.display())))?;
            Dir::Given(p.clone())
        }
        None => Dir::Temp(
            tempfile::Builder::new()
                .prefix("pagestore-")
                .tempdir()
                .map_err(|e| Fail::Runtime(format!("creating a temporary directory: {e}")))?,
        ),
    };
    let found = probe(&backends[0], dir.path()).map_err(Fail::Runtime)?;
    let location = backends[0].location(dir.path());
    let (shards, pages, db_id, fresh) = match found {
        Some(f) => {
            if args.pages.is_some_and(|p| p != f.pages) {
                return Err(Fail::Usage(format!(
                    "the database in {} has {} pages; leave out --pages or give that",
                    location, f.pages
                )));
            }
            if args.threads.is_some_and(|t| t != f.shards) {
                return Err(Fail::Usage(format!(
                    "the database in {} has {} shards; leave out --threads or give that",
                    location, f.shards
                )));
            }
            (f.shards, f.pages, f.db_id, false)
        }
        None => {
            let shards = args.threads.unwrap_or(1);
            let pages = args.pages.unwrap_or(16_384);
            if pages < shards {
                return Err(Fail::Usage(format!(
                    "--pages {pages} is fewer than --threads {shards}"
                )));
            }
            // NBD exports cannot grow: check they hold the new database.
            for shard in 0..shards {
                let g = Geometry {
                    pages: shard_pages(pages, shards, shard),
                    wal_frames: args.wal_frames,
                };
                backends[0].check_room(shard, g.data_file_len(), g.region_offset(2))?;
            }
            (shards, pages, clock() | 1, true)
        }
    };
    let seed = args.seed.unwrap_or_else(clock);
    eprintln!(
        "pagestore: {} {pages} pages ({} MiB) in {shards} shard(s) at {}; {} operations in flight per thread, \
         {:.0}% reads, {} s per backend, seed {seed}",
        if fresh { "creating" } else { "opening" },
        (u64::from(pages) * 4096) >> 20,
        location,
        args.concurrency,
        args.read_ratio * 100.0,
        args.duration,
    );
    let mut config = PhaseConfig {
        backend: backends[0].clone(),
        dir: dir.path().to_path_buf(),
        shards,
        pages,
        options: StoreOptions {
            slots: 0,
            cache_pages: args.cache_pages,
            checkpoint_frames: args.checkpoint_frames,
            max_commit_pages: args.max_commit_pages as usize,
            create: CreateOptions {
                pages: 0,
                wal_frames: args.wal_frames,
                shard: 0,
                shards,
                db_id,
            },
        },
        workload: WorkloadConfig {
            concurrency: args.concurrency as usize,
            read_ratio: args.read_ratio,
            max_commit_pages: args.max_commit_pages as usize,
            stop: Stop::After(Duration::from_secs_f64(args.duration)),
            stop_on_error: true,
            seed,
        },
        db_id,
    };
    let mut expected: Vec<Option<Expected>> = (0..shards).map(|_| None).collect();
    let mut reports = Vec::new();
    for backend in &backends {
        config.backend = backend.clone();
        let report = run_with_progress(&config, &mut expected, args.duration);
        let failed = !report.passed();
        reports.push(report);
        if failed {
            break; // the database may be damaged: do not go on
        }
    }
    print_table(&reports);
    let mut passed = true;
    for r in &reports {
        for p in r.problems().iter().take(20) {
            eprintln!("pagestore: {}: {p}", r.backend.kind);
            passed = false;
        }
    }
    if reports.len() < backends.len() {
        eprintln!("pagestore: stopped after the first failed backend");
    }
    let on_server = backends[0].kind == BackendKind::Nbd;
    match dir {
        // With `nbd` the database is on the server, not in the directory.
        Dir::Temp(t) if (args.keep || !passed) && !on_server => {
            let kept = t.keep();
            eprintln!("pagestore: the database is kept in {}", kept.display());
        }
        Dir::Temp(t) => drop(t),
        Dir::Given(_) => {}
    }
    if passed {
        eprintln!("pagestore: verification passed");
    } else {
        eprintln!("pagestore: verification FAILED");
    }
    Ok(passed)
}

fn clock() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Runs a phase on other threads while this one shows its progress: a
/// progress bar on a terminal, else a line a second.
fn run_with_progress(
    config: &PhaseConfig,
    expected: &mut [Option<Expected>],
    duration: f64,
) -> PhaseReport {
    let progress: Vec<ShardProgress> = (0..config.shards)
        .map(|_| ShardProgress::default())
        .collect();
    let tty = std::io::stderr().is_terminal();
    let name = config.backend.kind.to_string();
    let bar = if tty {
        let bar = ProgressBar::new((duration * 1000.0) as u64);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:32.cyan/blue}] {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(name.clone());
        Some(bar)
    } else {
        None
    };
    std::thread::scope(|scope| {
        let phase = scope.spawn(|| run_phase(config, expected, &progress));
        let mut run_started: Option<Instant> = None;
        let mut last_line = Instant::now();
        while !phase.is_finished() {
            std::thread::sleep(Duration::from_millis(100));
            let stage = progress
                .iter()
                .map(ShardProgress::stage)
                .min_by_key(|s| *s as u8)
                .unwrap_or(Stage::Waiting);
            let running = progress.iter().any(|p| p.stage() == Stage::Running);
            if running && run_started.is_none() {
                run_started = Some(Instant::now());
            }
            let elapsed = run_started.map_or(0.0, |t| t.elapsed().as_secs_f64());
            let ops: u64 = progress
                .iter()
                .map(|p| p.run.ops.load(std::sync::atomic::Ordering::Relaxed))
                .sum();
            let lsns: Vec<u64> = progress
                .iter()
                .map(|p| p.run.durable_lsn.load(std::sync::atomic::Ordering::Relaxed))
                .collect();
            let word = if running { "running" } else { stage.word() };
            let msg = format!("{word} {elapsed:.1}s, {ops} ops, durable lsn per shard {lsns:?}");
            match &bar {
                Some(bar) => {
                    bar.set_position((elapsed.min(duration) * 1000.0) as u64);
                    bar.set_message(msg);
                }
                None if last_line.elapsed() >= Duration::from_secs(1) => {
                    last_line = Instant::now();
                    eprintln!("pagestore: {name}: {msg}");
                }
                None => {}
            }
        }
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        phase.join().expect("the phase thread does not panic")
    })
}

fn micros(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.1} µs")
    }
}

fn bytes(n: u64) -> String {
    let mib = n as f64 / (1 << 20) as f64;
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.1} MiB")
    }
}

fn print_table(reports: &[PhaseReport]) {
    let header = [
        "backend",
        "ops/s",
        "read p50",
        "read p99",
        "commit p50",
        "commit p99",
        "commits/fsync",
        "written",
        "verified",
    ];
    let rows: Vec<[String; 9]> = reports
        .iter()
        .map(|r| {
            let s = r.stats();
            let label = if r.backend.kind == BackendKind::Default {
                format!("default ({})", r.backend_name())
            } else {
                r.backend_name()
            };
            [
                label,
                format!("{:.0}", r.ops_per_sec()),
                micros(r.read_ns(0.5)),
                micros(r.read_ns(0.99)),
                micros(r.commit_ns(0.5)),
                micros(r.commit_ns(0.99)),
                format!("{:.2}", s.commits_per_fsync()),
                bytes(s.bytes_written),
                if r.passed() {
                    "passed".into()
                } else {
                    "FAILED".into()
                },
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = w - c.chars().count();
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

fn verify_only(backend: &BackendSpec, dir: &Path) -> Result<bool, Fail> {
    let found = probe(backend, dir).map_err(Fail::Runtime)?;
    let Some(found) = found else {
        return Err(Fail::Runtime(format!(
            "{}: no page store database (no {})",
            backend.location(dir),
            backend.store_paths(dir, 0).data
        )));
    };
    eprintln!(
        "pagestore: verifying {} pages in {} shard(s) at {}",
        found.pages,
        found.shards,
        backend.location(dir)
    );
    let checks = verify_all(backend, dir, found.shards, 32);
    let mut passed = true;
    for c in &checks {
        if let Some(r) = &c.recovery {
            println!("shard {}: {r}", c.shard);
        }
        if let Some(e) = &c.error {
            println!("shard {}: {e}", c.shard);
        }
        if let Some(v) = &c.verify {
            println!(
                "shard {}: {} pages verified, {} problems",
                c.shard,
                v.pages,
                v.problems.len()
            );
            for p in v.problems.iter().take(20) {
                println!("shard {}:   {p}", c.shard);
            }
        }
        passed &= c.passed();
    }
    println!("verification {}", if passed { "passed" } else { "FAILED" });
    Ok(passed)
}
