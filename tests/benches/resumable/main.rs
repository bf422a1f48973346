//! Generated against hand-written state machines on six shapes, and state
//! sizes against `async fn`.
//!
//! Each shape (`tests/benches/shapes/`: a straight line, a loop with an index, nested
//! loops, a `call!` chain three deep, a 4 KiB buffer live across waits, a
//! wide `match`) is written by hand in Turso's style and with
//! `#[resumable]`. Both run side by side in alternating rounds, with
//! completions that finish when issued (no call suspends) and with
//! completions the driver finishes after each call (every wait suspends).
//! The report gives the median thread CPU time per run of each and the
//! median of the per-round ratios; `--instructions` adds callgrind's
//! instruction counts per run (each variant alone for N and 2N runs,
//! differenced, so that start-up cancels out). Nothing here asserts a
//! duration; both versions are checked to return the same values and issue
//! the same I/O.
//!
//! ```sh
//! cargo bench -p io-model-tests --bench resumable                    # ~10 s
//! cargo bench -p io-model-tests --bench resumable -- --quick         # ~1 s
//! cargo bench -p io-model-tests --bench resumable -- --instructions  # + valgrind, ~2 min
//! cargo bench -p io-model-tests --bench resumable -- --variants      # + every state's variants
//! ```
//!
//! The output is Markdown (`scripts/bench.sh` puts it in
//! `docs/benchmarks.md`).

#[path = "../shapes/mod.rs"]
mod shapes;

#[path = "../common/timing.rs"]
mod timing;

use std::hint::black_box;
use std::process::Command;

use shapes::{Disk, Shape, Variant, SHAPES};
use timing::{median, thread_cpu_ns};

fn mode_name(immediate: bool) -> &'static str {
    if immediate {
        "finished at once"
    } else {
        "every wait suspends"
    }
}

struct Opts {
    rounds: usize,
    /// I/Os per measurement (the runs per measurement follow from each
    /// shape's I/Os per run).
    ios: u64,
    instructions: bool,
    /// I/Os per counted run under callgrind.
    counted_ios: u64,
    variants: bool,
    only: Option<(usize, Variant, bool)>,
    iters: Option<u64>,
    shapes: Vec<usize>,
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "resumable: {msg}\nusage: resumable [--quick|--full] [--rounds N] [--instructions] \
         [--variants] [--shape NAME]... [--only SHAPE:hand|generated:done|suspend --iters N]"
    );
    std::process::exit(2)
}

fn shape_index(name: &str) -> usize {
    SHAPES
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = SHAPES.iter().map(|s| s.name).collect();
            usage(&format!(
                "unknown shape {name:?}; the shapes are {}",
                names.join(", ")
            ))
        })
}

fn parse_args() -> Opts {
    let mut o = Opts {
        rounds: 31,
        ios: 100_000,
        instructions: false,
        counted_ios: 40_000,
        variants: false,
        only: None,
        iters: None,
        shapes: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    let number = |v: Option<String>, flag: &str| -> u64 {
        match v.as_deref().map(str::parse::<u64>) {
            Some(Ok(n)) if n > 0 => n,
            _ => usage(&format!("{flag} needs a positive number")),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => (o.rounds, o.ios, o.counted_ios) = (9, 20_000, 8_000),
            "--full" => (o.rounds, o.ios, o.counted_ios) = (61, 200_000, 100_000),
            "--rounds" => o.rounds = number(args.next(), "--rounds") as usize,
            "--instructions" => o.instructions = true,
            "--variants" => o.variants = true,
            "--shape" => {
                let name = args.next().unwrap_or_else(|| usage("--shape needs a name"));
                o.shapes.push(shape_index(&name));
            }
            "--iters" => o.iters = Some(number(args.next(), "--iters")),
            "--only" => {
                let spec = args
                    .next()
                    .unwrap_or_else(|| usage("--only needs SHAPE:VARIANT:MODE"));
                let parts: Vec<&str> = spec.split(':').collect();
                let [shape, variant, mode] = parts[..] else {
                    usage(&format!("--only {spec}: expected SHAPE:VARIANT:MODE"))
                };
                let variant = match variant {
                    "hand" => Variant::Hand,
                    "generated" => Variant::Generated,
                    v => usage(&format!("--only: variant {v:?} is not hand or generated")),
                };
                let immediate = match mode {
                    "done" => true,
                    "suspend" => false,
                    m => usage(&format!("--only: mode {m:?} is not done or suspend")),
                };
                o.only = Some((shape_index(shape), variant, immediate));
            }
            // cargo bench passes --bench.
            "--bench" => {}
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if o.shapes.is_empty() {
        o.shapes = (0..SHAPES.len()).collect();
    }
    o
}

/// Runs `iters` runs of one variant on a fresh disk: (checksum, I/Os).
fn run_once(shape: &Shape, v: Variant, immediate: bool, iters: u64) -> (u64, u64) {
    let mut d = Disk::new(immediate);
    let sum = (shape.run)(v, &mut d, iters);
    (sum, d.ios)
}

/// Checks that both variants return the same values and issue the same
/// I/O; returns the I/Os per run.
fn check(shape: &Shape) -> u64 {
    let iters = 64;
    let mut per_run = 0;
    for immediate in [true, false] {
        let hand = run_once(shape, Variant::Hand, immediate, iters);
        let generated = run_once(shape, Variant::Generated, immediate, iters);
        assert_eq!(
            hand,
            generated,
            "{}: the two versions differ ({}): (checksum, I/Os) {hand:?} against {generated:?}",
            shape.name,
            mode_name(immediate)
        );
        per_run = hand.1 / iters;
    }
    per_run
}

struct Timing {
    hand: f64,
    generated: f64,
    ratio: f64,
    low: f64,
    high: f64,
}

fn time(shape: &Shape, immediate: bool, iters: u64, rounds: usize) -> Timing {
    let mut d = Disk::new(immediate);
    // Warm-up: fills the completion pool and the caches.
    for v in [Variant::Hand, Variant::Generated] {
        black_box((shape.run)(v, &mut d, iters / 4 + 1));
    }
    let (mut hand, mut generated, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Variant::Hand, Variant::Generated]
        } else {
            [Variant::Generated, Variant::Hand]
        };
        let mut t = [0.0; 2];
        for v in order {
            let start = thread_cpu_ns();
            black_box((shape.run)(v, &mut d, iters));
            t[(v == Variant::Generated) as usize] = (thread_cpu_ns() - start) as f64 / iters as f64;
        }
        hand.push(t[0]);
        generated.push(t[1]);
        ratios.push(t[1] / t[0]);
    }
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    // The middle half of the per-round ratios.
    let (low, high) = (sorted[sorted.len() / 4], sorted[(sorted.len() * 3) / 4]);
    Timing {
        hand: median(hand),
        generated: median(generated),
        ratio: median(ratios),
        low,
        high,
    }
}

/// Instructions of one `--only` run of this program under callgrind.
fn counted(spec: &str, iters: u64) -> Result<u64, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    // A scratch file, not /dev/null: callgrind (as root) would replace the
    // device with a regular file.
    let profile = std::env::temp_dir().join(format!("io-model-callgrind-{}", std::process::id()));
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", profile.display()))
        .arg(exe)
        .args(["--only", spec, "--iters", &iters.to_string()])
        .output()
        .map_err(|e| format!("valgrind: {e}"))?;
    let _ = std::fs::remove_file(&profile);
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find_map(|l| l.split("Collected : ").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "valgrind gave no instruction count (exit {}): {}",
                out.status,
                text.lines().last().unwrap_or("")
            )
        })
}

/// Instructions per run: the difference of an N-run and a 2N-run, over N.
fn instructions(shape: &Shape, v: Variant, immediate: bool, iters: u64) -> Result<f64, String> {
    let spec = format!(
        "{}:{}:{}",
        shape.name,
        v.name(),
        if immediate { "done" } else { "suspend" }
    );
    let a = counted(&spec, iters)?;
    let b = counted(&spec, 2 * iters)?;
    Ok(b.saturating_sub(a) as f64 / iters as f64)
}

fn valgrind_version() -> Option<String> {
    let out = Command::new("valgrind").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let o = parse_args();
    if let Some((shape, v, immediate)) = o.only {
        // One run, for counting under valgrind.
        let iters = o.iters.unwrap_or_else(|| usage("--only needs --iters N"));
        println!("{}", run_once(&SHAPES[shape], v, immediate, iters).0);
        return;
    }
    let shapes: Vec<&Shape> = o.shapes.iter().map(|&i| &SHAPES[i]).collect();
    let per_run: Vec<u64> = shapes.iter().map(|s| check(s)).collect();

    println!("#### State sizes (bytes)\n");
    println!("| shape | hand-written | `#[resumable]` | `async fn` | generated / hand | generated / async |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut notes = Vec::new();
    for s in &shapes {
        let z = (s.sizes)();
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.2} |",
            s.name,
            z.hand,
            z.generated,
            z.async_fn,
            z.generated as f64 / z.hand as f64,
            z.generated as f64 / z.async_fn as f64
        );
        if !z.note.is_empty() {
            notes.push(format!("{}: {}.", s.name, z.note));
        }
    }
    for n in notes {
        println!("\n{n}");
    }

    println!(
        "\n#### Time per run (median thread CPU time of {} alternating rounds; ratio: median of the per-round ratios, middle half in brackets)\n",
        o.rounds
    );
    println!(
        "| shape | I/Os per run | completions | hand-written ns | `#[resumable]` ns | ratio |"
    );
    println!("|---|---:|---|---:|---:|---:|");
    for (s, &n) in shapes.iter().zip(&per_run) {
        let iters = (o.ios / n.max(1)).max(1);
        for immediate in [true, false] {
            let t = time(s, immediate, iters, o.rounds);
            println!(
                "| {} | {} | {} | {:.1} | {:.1} | {:.3} [{:.3}, {:.3}] |",
                s.name,
                n,
                mode_name(immediate),
                t.hand,
                t.generated,
                t.ratio,
                t.low,
                t.high
            );
        }
    }

    if o.instructions {
        println!(
            "\n#### Instructions per run (callgrind; each variant alone for N and 2N runs, differenced, N = {} I/Os' worth)\n",
            o.counted_ios
        );
        match valgrind_version() {
            None => println!("Not measured: valgrind is not installed."),
            Some(version) => {
                println!("Counted with {version}.\n");
                println!("| shape | completions | hand-written | `#[resumable]` | ratio |");
                println!("|---|---|---:|---:|---:|");
                for (s, &n) in shapes.iter().zip(&per_run) {
                    let iters = (o.counted_ios / n.max(1)).max(1);
                    for immediate in [true, false] {
                        let h = instructions(s, Variant::Hand, immediate, iters);
                        let g = instructions(s, Variant::Generated, immediate, iters);
                        match (h, g) {
                            (Ok(h), Ok(g)) => println!(
                                "| {} | {} | {:.1} | {:.1} | {:.3} |",
                                s.name,
                                mode_name(immediate),
                                h,
                                g,
                                g / h
                            ),
                            (Err(e), _) | (_, Err(e)) => println!(
                                "| {} | {} | not measured: {e} | | |",
                                s.name,
                                mode_name(immediate)
                            ),
                        }
                    }
                }
            }
        }
    }

    if o.variants {
        println!("\n#### The states' variants\n");
        for s in &shapes {
            println!("{}", listing::listing(s));
        }
    }
}

mod listing;
