//! SyncIO against UringIO on cached 4 KiB random reads, at queue depth 1
//! and 32, side by side in one run.
//!
//! Every configuration runs once per round, in a rotated order, and the
//! report gives the median time per read and the median of the per-round
//! speed ratios against SyncIO (SyncIO's time over the configuration's:
//! above 1.00x is faster than SyncIO), with their interquartile range.
//! `BENCH_STATS=1` also prints where each UringIO's reads went.
//!
//! ```sh
//! cargo run --release -p io-model-backends --example bench_uring -- [--file-mb 64] [--ops 4000] [--rounds 31]
//! ```
//!
//! `.ci/bench-backends` runs it with small defaults, `--full` for the long
//! run. Nothing here asserts a duration.

use std::sync::Arc;
use std::time::Instant;

use io_model::{Buffer, Completion, File, OpenFlags, IO};
use io_model_backends::{InlineReads, SyncIO, UringIO, UringOptions};

const PAGE: usize = 4096;

struct Args {
    file_mb: usize,
    ops: usize,
    rounds: usize,
    /// UringIO configurations to compare with SyncIO.
    modes: Vec<InlineReads>,
}

fn parse_args() -> Args {
    let mut args = Args {
        file_mb: 64,
        ops: 4_000,
        rounds: 31,
        modes: vec![
            InlineReads::Adaptive,
            InlineReads::NoWait,
            InlineReads::Never,
        ],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--file-mb" => args.file_mb = value(),
            "--ops" => args.ops = value(),
            "--rounds" => args.rounds = value(),
            "--modes" => {
                let list = it.next().expect("--modes needs a list, e.g. adaptive,never");
                args.modes = list
                    .split(',')
                    .map(|m| match m {
                        "adaptive" => InlineReads::Adaptive,
                        "nowait" => InlineReads::NoWait,
                        "never" => InlineReads::Never,
                        other => panic!("unknown mode {other}; expected adaptive, nowait or never"),
                    })
                    .collect();
            }
            other => panic!(
                "unknown argument {other}; expected --file-mb N, --ops N, --rounds N, --modes adaptive,nowait,never"
            ),
        }
    }
    args
}

/// A deterministic sequence of page offsets.
struct Offsets {
    x: u64,
    pages: u64,
}

impl Iterator for Offsets {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        Some(self.x % self.pages * PAGE as u64)
    }
}

/// One read at a time: issue, wait, repeat. Returns ns per read.
fn qd1(io: &dyn IO, file: &dyn File, offsets: &mut Offsets, ops: usize) -> f64 {
    let buf = Arc::new(Buffer::new_page());
    let start = Instant::now();
    for pos in offsets.take(ops) {
        let c = file
            .pread(pos, Completion::new_read(buf.clone(), |_| {}))
            .unwrap();
        if !c.finished() {
            io.wait_for_completion(c.clone()).unwrap();
        }
        debug_assert!(c.succeeded());
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

/// `depth` reads in flight: whenever one finishes, the next is issued.
/// Returns ns per read.
fn qd(io: &dyn IO, file: &dyn File, offsets: &mut Offsets, ops: usize, depth: usize) -> f64 {
    let bufs: Vec<Arc<Buffer>> = (0..depth).map(|_| Arc::new(Buffer::new_page())).collect();
    let issue = |slot: usize, pos: u64| {
        file.pread(pos, Completion::new_read(bufs[slot].clone(), |_| {}))
            .unwrap()
    };
    let start = Instant::now();
    let mut slots: Vec<Option<Completion>> = (0..depth)
        .map(|s| Some(issue(s, offsets.next().unwrap())))
        .collect();
    let (mut issued, mut done) = (depth, 0);
    while done < ops {
        let mut progressed = false;
        for (s, slot) in slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(Completion::finished) {
                done += 1;
                progressed = true;
                *slot = (issued < ops).then(|| {
                    issued += 1;
                    issue(s, offsets.next().unwrap())
                });
            }
        }
        if !progressed {
            io.step().unwrap();
        }
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> io_model::Result<()> {
    let args = parse_args();
    let dir = std::env::temp_dir().join(format!("io-model-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("data").to_str().unwrap().to_owned();
    let len = args.file_mb << 20;
    std::fs::write(
        &path,
        (0..len).map(|i| (i * 31 % 251) as u8).collect::<Vec<u8>>(),
    )?;
    // Warm the page cache.
    let _ = std::fs::read(&path)?;

    let mut configs: Vec<(&str, Arc<dyn IO>)> = vec![("SyncIO", Arc::new(SyncIO::new()))];
    let mut urings: Vec<(&str, Arc<UringIO>)> = Vec::new();
    let uring =
        |mode| UringIO::with_options(UringOptions::default().inline_reads(mode)).map(Arc::new);
    for &mode in &args.modes {
        match uring(mode) {
            Ok(io) => {
                if urings.is_empty() {
                    println!("{}", io.info());
                }
                let name = match mode {
                    InlineReads::Adaptive => "UringIO (default: Adaptive)",
                    InlineReads::NoWait => "UringIO (NoWait)",
                    InlineReads::Never => "UringIO (Never: every read in the ring)",
                };
                urings.push((name, io));
            }
            Err(err) => {
                println!("io_uring unavailable, nothing to compare: {err}");
                std::fs::remove_dir_all(&dir)?;
                return Ok(());
            }
        }
    }
    for (name, io) in &urings {
        configs.push((name, io.clone()));
    }
    let files: Vec<Arc<dyn File>> = configs
        .iter()
        .map(|(_, io)| io.open_file(&path, OpenFlags::READ_ONLY))
        .collect::<io_model::Result<_>>()?;
    println!(
        "{} MiB file in the page cache, 4 KiB random reads, {} reads per run, {} rounds, {} CPUs",
        args.file_mb,
        args.ops,
        args.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    for depth in [1usize, 32] {
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
        let mut offsets = Offsets {
            x: 0x2545_f491_4f6c_dd1d,
            pages: (len / PAGE) as u64,
        };
        // Warm-up run of each configuration (the estimator of the
        // adaptive policy learns the cache is hot).
        for ((_, io), file) in configs.iter().zip(&files) {
            qd(&**io, &**file, &mut offsets, args.ops / 4 + 64, depth);
        }
        for round in 0..args.rounds {
            for k in 0..configs.len() {
                let i = (k + round) % configs.len();
                let (io, file) = (&*configs[i].1, &*files[i]);
                let t = if depth == 1 {
                    qd1(io, file, &mut offsets, args.ops)
                } else {
                    qd(io, file, &mut offsets, args.ops, depth)
                };
                times[i].push(t);
            }
        }
        println!("\nqueue depth {depth}:");
        for (i, (name, _)) in configs.iter().enumerate() {
            let ratios: Vec<f64> = times[0].iter().zip(&times[i]).map(|(s, t)| s / t).collect();
            let mut sorted = ratios.clone();
            sorted.sort_by(f64::total_cmp);
            let (q1, q3) = (sorted[sorted.len() / 4], sorted[sorted.len() * 3 / 4]);
            println!(
                "  {name:<42} {:>6.0} ns/read   {:.2}x SyncIO   (per-round ratios: interquartile {q1:.2}-{q3:.2})",
                median(times[i].clone()),
                median(ratios),
            );
        }
        if std::env::var_os("BENCH_STATS").is_some() {
            for (name, io) in &urings {
                println!("  {name}: {}", io.stats());
            }
        }
    }
    drop(files);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
