//! Read latency of `NbdIO` against libnbd (as driven by `nbdcopy`) on the
//! same NBD export, at queue depth 1 and 32, side by side in one run.
//!
//! Both read the whole export in 4 KiB requests, in order, on one
//! connection: `NbdIO` with 1 or 32 reads in flight, `nbdcopy --requests=1`
//! or `32 --connections=1 --threads=1 --no-extents ... null:` (libnbd's
//! asynchronous API under nbdcopy's own event loop, writing nowhere). The
//! two alternate within every round; the report gives the median time per
//! read of each and the median of the per-round ratios. `nbdcopy` is a
//! process: its fixed cost (start, handshake, exit) is measured on a
//! one-page export (`--tiny`) every round and subtracted. Random 4 KiB
//! reads through `NbdIO` are reported too.
//!
//! ```sh
//! nbdkit -U /tmp/nbd.sock file dir=/tmp/exports   # with exports "disk" and "tiny"
//! cargo run --release -p io-model-backends --example bench_nbd -- \
//!     --uri 'nbd+unix:///?socket=/tmp/nbd.sock' --export disk --tiny tiny --rounds 11
//! ```
//!
//! `scripts/bench-nbd.sh` sets all of this up. Nothing here asserts a
//! duration.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use io_model::{Buffer, Completion, File, OpenFlags, IO};
use io_model_backends::NbdIO;

const PAGE: usize = 4096;

struct Args {
    uri: String,
    export: String,
    tiny: Option<String>,
    rounds: usize,
    random_ops: usize,
    depths: Vec<usize>,
}

fn usage(why: &str) -> ! {
    eprintln!("bench_nbd: {why}");
    eprintln!(
        "usage: bench_nbd --uri NBD-URI [--export NAME] [--tiny NAME] [--rounds N] [--random-ops N] [--depths 1,32]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        uri: String::new(),
        export: "disk".into(),
        tiny: None,
        rounds: 11,
        random_ops: 20_000,
        depths: vec![1, 32],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        let mut number = |name: &str| -> usize {
            let v = value();
            match v.parse() {
                Ok(n) if n > 0 => n,
                _ => usage(&format!("{name} takes a positive number, not {v:?}")),
            }
        };
        match flag.as_str() {
            "--uri" => args.uri = value(),
            "--export" => args.export = value(),
            "--tiny" => args.tiny = Some(value()),
            "--rounds" => args.rounds = number("--rounds"),
            "--random-ops" => args.random_ops = number("--random-ops"),
            "--depths" => {
                let list = value();
                args.depths = list
                    .split(',')
                    .map(|d| match d.parse() {
                        Ok(n) if (1..=4096).contains(&n) => n,
                        _ => usage(&format!("--depths takes numbers in 1..=4096, not {d:?}")),
                    })
                    .collect();
            }
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if args.uri.is_empty() {
        usage("--uri is required");
    }
    args
}

/// Reads `offsets` with `depth` reads in flight; returns ns per read.
fn run(io: &NbdIO, file: &dyn File, offsets: impl Iterator<Item = u64>, depth: usize) -> f64 {
    let bufs: Vec<Arc<Buffer>> = (0..depth).map(|_| Arc::new(Buffer::new_page())).collect();
    let mut offsets = offsets.peekable();
    let mut slots: Vec<Option<Completion>> = vec![None; depth];
    let mut done = 0usize;
    let start = Instant::now();
    loop {
        let mut busy = false;
        for (s, slot) in slots.iter_mut().enumerate() {
            if let Some(c) = slot {
                if !c.finished() {
                    busy = true;
                    continue;
                }
                assert!(c.succeeded(), "read failed: {:?}", c.get_error());
                done += 1;
                *slot = None;
            }
            if let Some(pos) = offsets.next() {
                let c = Completion::new_read(bufs[s].clone(), |_| {});
                *slot = Some(file.pread(pos, c).expect("pread"));
                busy = true;
            }
        }
        if !busy {
            break;
        }
        io.step().expect("step");
    }
    start.elapsed().as_nanos() as f64 / done.max(1) as f64
}

/// One `nbdcopy` run of `export` with `depth` requests in flight: seconds.
fn nbdcopy(uri: &str, export: &str, depth: usize) -> Option<f64> {
    let uri = with_export(uri, export);
    let start = Instant::now();
    let status = Command::new("nbdcopy")
        .args([
            "--no-extents",
            "--request-size=4096",
            &format!("--requests={depth}"),
            "--connections=1",
            "--threads=1",
            &uri,
            "null:",
        ])
        .stdout(Stdio::null())
        .status()
        .ok()?;
    status.success().then(|| start.elapsed().as_secs_f64())
}

/// `uri` naming `export` (the bench takes the server's URI).
fn with_export(uri: &str, export: &str) -> String {
    match uri.split_once(":///") {
        Some((scheme, rest)) => {
            let query = rest.split_once('?').map_or("", |(_, q)| q);
            let sep = if query.is_empty() { "" } else { "?" };
            format!("{scheme}:///{export}{sep}{query}")
        }
        None => format!("{}/{export}", uri.trim_end_matches('/')),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

fn main() {
    let args = parse_args();
    let io = NbdIO::connect(&args.uri).unwrap_or_else(|err| {
        eprintln!("bench_nbd: {err}");
        std::process::exit(1);
    });
    let file = io
        .open_file(&args.export, OpenFlags::READ_ONLY)
        .unwrap_or_else(|err| {
            eprintln!("bench_nbd: {err}");
            std::process::exit(1);
        });
    let size = file.size().expect("size");
    let pages = size / PAGE as u64;
    if pages == 0 {
        usage("the export is smaller than a page");
    }
    let have_nbdcopy = nbdcopy(&args.uri, &args.export, 1).is_some();
    println!(
        "export {:?}: {} MiB, 4 KiB reads, {} rounds, {} CPUs; libnbd via nbdcopy: {}",
        args.export,
        size >> 20,
        args.rounds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if have_nbdcopy {
            "yes"
        } else {
            "not available (apt-get install libnbd-bin)"
        }
    );
    let sequential = || (0..pages).map(|p| p * PAGE as u64);

    for &depth in &args.depths {
        // Warm-up of both.
        run(&io, &*file, sequential(), depth);
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for round in 0..args.rounds {
            let mut one_ours = || ours.push(run(&io, &*file, sequential(), depth));
            let mut one_theirs = || {
                if !have_nbdcopy {
                    return;
                }
                let whole = nbdcopy(&args.uri, &args.export, depth);
                let fixed = args
                    .tiny
                    .as_deref()
                    .and_then(|t| nbdcopy(&args.uri, t, depth))
                    .unwrap_or(0.0);
                if let Some(whole) = whole {
                    theirs.push(((whole - fixed).max(0.0)) * 1e9 / pages as f64);
                }
            };
            if round % 2 == 0 {
                one_ours();
                one_theirs();
            } else {
                one_theirs();
                one_ours();
            }
        }
        println!("\nsequential reads of the whole export, queue depth {depth}:");
        println!("  NbdIO              {:>8.0} ns/read", median(ours.clone()));
        if theirs.len() == ours.len() && !theirs.is_empty() {
            let ratios: Vec<f64> = theirs.iter().zip(&ours).map(|(t, o)| t / o).collect();
            let (q1, q3) = quartiles(ratios.clone());
            println!(
                "  libnbd (nbdcopy)   {:>8.0} ns/read{}",
                median(theirs),
                if args.tiny.is_some() {
                    " (its start-up subtracted)"
                } else {
                    " (start-up included)"
                }
            );
            println!(
                "  NbdIO speed: {:.2}x libnbd's (per-round ratios: interquartile {q1:.2}-{q3:.2})",
                median(ratios)
            );
        }
    }

    println!(
        "\nrandom reads through NbdIO ({} per run, median of {} runs):",
        args.random_ops, args.rounds
    );
    for &depth in &args.depths {
        let times: Vec<f64> = (0..args.rounds)
            .map(|r| {
                let mut x = 0x2545_f491_4f6c_dd1d_u64 ^ r as u64;
                let offsets = std::iter::repeat_with(move || {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x % pages * PAGE as u64
                })
                .take(args.random_ops);
                run(&io, &*file, offsets, depth)
            })
            .collect();
        println!("  queue depth {depth:>2}: {:>8.0} ns/read", median(times));
    }
}
