//! The long SimIO sweep of the page store: runs seeds `--start ..
//! --start + --seeds` on `--jobs` threads and prints the counts, every
//! failure (with the command that replays it), and the slowest seeds.
//! Exit status 1 if any seed failed.
//!
//! ```text
//! scripts/soak-pagestore.sh --seeds 10000
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use io_model_examples::pagestore::sim::{run_seed, SeedReport, SimParams};

/// Runs the page store's workload under SimIO over many seeds, with every
/// fault kind and crashes, and reports.
#[derive(Debug, Parser)]
#[command(name = "pagestore-soak", about)]
struct Args {
    /// How many seeds.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Threads running seeds [default: the available cores].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
    /// How many of the slowest seeds to list.
    #[arg(long, default_value_t = 5)]
    slowest: usize,
    /// Run one seed and print its parameters and report.
    #[arg(long, conflicts_with_all = ["seeds", "start"])]
    seed: Option<u64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(seed) = args.seed {
        println!("{:#?}", SimParams::for_seed(seed));
        let r = run_seed(seed);
        println!("{r:#?}");
        return if r.failure.is_none() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
    }
    let jobs = args
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let next = AtomicU64::new(args.start);
    let end = args.start + args.seeds;
    let reports = Mutex::new(Vec::with_capacity(args.seeds as usize));
    let bar =
        ProgressBar::with_draw_target(Some(args.seeds), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] [{bar:40}] {pos}/{len} seeds {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let failed = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    break;
                }
                let r = run_seed(seed);
                if r.failure.is_some() {
                    let n = failed.fetch_add(1, Ordering::Relaxed) + 1;
                    bar.set_message(format!("({n} failed)"));
                }
                bar.inc(1);
                reports.lock().unwrap_or_else(|e| e.into_inner()).push(r);
            });
        }
    });
    bar.finish_and_clear();
    let mut reports = reports.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.sort_by_key(|r| r.seed);
    let sum = |f: fn(&SeedReport) -> u64| reports.iter().map(f).sum::<u64>();
    let failures: Vec<&SeedReport> = reports.iter().filter(|r| r.failure.is_some()).collect();
    println!(
        "pagestore soak: seeds {}..{} on {jobs} threads in {:.1} s",
        args.start,
        end,
        started.elapsed().as_secs_f64()
    );
    println!("  seeds run:            {}", reports.len());
    println!("  seeds failed:         {}", failures.len());
    println!("  rounds:               {}", sum(|r| u64::from(r.rounds)));
    println!("  crashes:              {}", sum(|r| u64::from(r.crashes)));
    println!(
        "  opens failed (faults) {}",
        sum(|r| u64::from(r.failed_opens))
    );
    println!("  commits done:         {}", sum(|r| r.commits));
    println!("  reads done:           {}", sum(|r| r.reads));
    println!(
        "  operations failed:    {} (injected faults)",
        sum(|r| r.op_errors)
    );
    println!("  checkpoints:          {}", sum(|r| r.checkpoints));
    println!(
        "  commits recovered:    {} (replayed from the log)",
        sum(|r| r.recovered_commits)
    );
    println!("  torn frames dropped:  {}", sum(|r| r.torn_frames));
    println!(
        "  unreported commits found whole after a crash: {}",
        sum(|r| r.unreported_found)
    );
    for f in &failures {
        println!(
            "FAILED seed {}: {}\n  replay: cargo run --release --example pagestore-soak -- --seed {}",
            f.seed,
            f.failure.as_deref().unwrap_or_default(),
            f.seed
        );
    }
    let mut by_time: Vec<&SeedReport> = reports.iter().collect();
    by_time.sort_by_key(|r| std::cmp::Reverse(r.elapsed));
    println!("  slowest seeds:");
    for r in by_time.iter().take(args.slowest) {
        println!(
            "    seed {:>6}: {:>7.1} ms ({} rounds, {} commits, {} crashes)",
            r.seed,
            r.elapsed.as_secs_f64() * 1000.0,
            r.rounds,
            r.commits,
            r.crashes
        );
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
