//! The backends side by side, with fio as the outside reference, on 4 KiB
//! I/O:
//!
//! - `cached`: random reads of a file in the page cache at queue depth 1,
//!   32 and 128. SyncIO, UringIO (default, and `Never`: every read in the
//!   ring), fio `psync` (depth 1) and fio `io_uring` with fixed buffers and
//!   registered files (submitting and reaping in batches of the depth, its
//!   fastest setting here).
//! - `direct`: random `O_DIRECT` reads at queue depth 1, 32 and 128: UringIO
//!   (default), fio `io_uring` with fixed buffers, and SyncIO at depth 1.
//! - `append`: appends with an `fdatasync` every write and every 16 writes:
//!   SyncIO, UringIO (default) and fio `psync`.
//!
//! Every configuration of a table runs once per round, in a rotated order,
//! and the report gives medians over the rounds: time per I/O, and the
//! per-round ratio of each configuration's speed to the reference's (above
//! 1.00x is faster) with its interquartile range. On this shared machine
//! the cached reads, which only use the CPU, are timed in CPU time of the
//! thread doing the I/O (fio: its job's user and system time), which other
//! processes' load does not inflate; `O_DIRECT` reads and appends wait for
//! the device and are timed in wall-clock time. `BENCH_STATS=1` also prints
//! where each UringIO's operations went.
//!
//! ```sh
//! cargo run --release -p io-model-backends --example bench_uring -- \
//!     [--workloads cached,direct,append] [--file-mb 64] [--ops 20000] [--rounds 21] [--no-fio]
//! ```
//!
//! `.ci/bench-backends` runs it (`--quick` for a smoke run). Nothing here
//! asserts a duration; fio is optional (its configurations are left out,
//! saying so, where it is not installed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use io_model::{Buffer, Completion, File, OpenFlags, IO};
use io_model_backends::{InlineReads, SyncIO, UringIO, UringOptions};

const PAGE: usize = 4096;

#[derive(Clone)]
struct Args {
    workloads: Vec<String>,
    file_mb: usize,
    direct_mb: usize,
    ops: usize,
    direct_ops: usize,
    append_ops: usize,
    rounds: usize,
    fio: bool,
    /// `--profile CONFIG:DEPTH`: one run of cached reads, for valgrind.
    profile: Option<(String, usize)>,
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "bench_uring: {msg}\nusage: bench_uring [--workloads cached,direct,append] [--file-mb N] \
         [--direct-mb N] [--ops N] [--direct-ops N] [--append-ops N] [--rounds N] [--quick] [--no-fio]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        workloads: vec!["cached".into(), "direct".into(), "append".into()],
        file_mb: 64,
        direct_mb: 256,
        ops: 20_000,
        direct_ops: 4_000,
        append_ops: 160,
        rounds: 21,
        fio: true,
        profile: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut number = |what: &str| -> usize {
            match it.next().map(|v| v.parse::<usize>()) {
                Some(Ok(n)) if n > 0 => n,
                _ => usage(&format!("{what} needs a positive number")),
            }
        };
        match flag.as_str() {
            "--file-mb" => args.file_mb = number("--file-mb"),
            "--direct-mb" => args.direct_mb = number("--direct-mb"),
            "--ops" => args.ops = number("--ops"),
            "--direct-ops" => args.direct_ops = number("--direct-ops"),
            "--append-ops" => args.append_ops = number("--append-ops"),
            "--rounds" => args.rounds = number("--rounds"),
            "--quick" => {
                args.file_mb = 16;
                args.direct_mb = 32;
                args.ops = 2_000;
                args.direct_ops = 500;
                args.append_ops = 32;
                args.rounds = 3;
            }
            "--no-fio" => args.fio = false,
            "--profile" => {
                let spec = it
                    .next()
                    .unwrap_or_else(|| usage("--profile needs CONFIG:DEPTH"));
                let (config, depth) = spec
                    .split_once(':')
                    .and_then(|(c, d)| Some((c.to_owned(), d.parse().ok()?)))
                    .filter(|(c, _)| ["sync", "default", "never"].contains(&c.as_str()))
                    .unwrap_or_else(|| usage("--profile takes sync|default|never:DEPTH"));
                args.profile = Some((config, depth));
            }
            "--workloads" => {
                let list = it
                    .next()
                    .unwrap_or_else(|| usage("--workloads needs a list"));
                args.workloads = list.split(',').map(str::to_owned).collect();
                for w in &args.workloads {
                    if !["cached", "direct", "append"].contains(&w.as_str()) {
                        usage(&format!(
                            "unknown workload {w}; expected cached, direct or append"
                        ));
                    }
                }
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    args
}

/// The calling thread's CPU time (user and system), in nanoseconds.
fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the
    // call; CLOCK_THREAD_CPUTIME_ID is supported by every Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// What one run took, per I/O.
#[derive(Clone, Copy)]
struct Sample {
    wall_ns: f64,
    cpu_ns: f64,
}

/// Times `f`, which performs `ops` I/Os.
fn timed(ops: usize, f: impl FnOnce()) -> Sample {
    let (cpu, wall) = (thread_cpu_ns(), Instant::now());
    f();
    Sample {
        wall_ns: wall.elapsed().as_nanos() as f64 / ops as f64,
        cpu_ns: (thread_cpu_ns() - cpu) as f64 / ops as f64,
    }
}

/// A deterministic sequence of page offsets.
struct Offsets {
    x: u64,
    pages: u64,
}

impl Offsets {
    fn new(len: usize) -> Self {
        Self {
            x: 0x2545_f491_4f6c_dd1d,
            pages: (len / PAGE) as u64,
        }
    }
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

/// `depth` reads in flight: whenever one finishes, the next is issued (at
/// depth 1: issue, wait, repeat).
fn reads(io: &dyn IO, file: &dyn File, offsets: &mut Offsets, ops: usize, depth: usize) {
    let bufs: Vec<Arc<Buffer>> = (0..depth).map(|_| Arc::new(Buffer::new_page())).collect();
    let issue = |slot: usize, pos: u64| {
        file.pread(pos, Completion::new_read(bufs[slot].clone(), |_| {}))
            .unwrap()
    };
    if depth == 1 {
        for pos in offsets.take(ops) {
            let c = issue(0, pos);
            if !c.finished() {
                io.wait_for_completion(c.clone()).unwrap();
            }
            debug_assert!(c.succeeded());
        }
        return;
    }
    let mut slots: Vec<Option<Completion>> = (0..depth)
        .map(|s| Some(issue(s, offsets.next().unwrap())))
        .collect();
    let (mut issued, mut done) = (depth, 0);
    while done < ops {
        let mut progressed = false;
        for (s, slot) in slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(Completion::finished) {
                debug_assert!(slot.as_ref().is_some_and(Completion::succeeded));
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
}

/// Appends `ops` pages to an empty file, with an `fdatasync` after every
/// `every` writes (and at the end); the writes between two syncs are in
/// flight together.
fn appends(io: &dyn IO, file: &dyn File, ops: usize, every: usize) {
    let bufs: Vec<Arc<Buffer>> = (0..every)
        .map(|i| Arc::new(Buffer::from_vec(vec![i as u8; PAGE])))
        .collect();
    let mut written = 0;
    let mut batch: Vec<Completion> = Vec::with_capacity(every);
    while written < ops {
        let n = every.min(ops - written);
        for buf in &bufs[..n] {
            let pos = (written * PAGE) as u64;
            batch.push(
                file.pwrite(pos, buf.clone(), Completion::new_write(|_| {}))
                    .unwrap(),
            );
            written += 1;
        }
        for c in batch.drain(..) {
            io.wait_for_completion(c).unwrap();
        }
        let s = file.sync(Completion::new_sync(|_| {})).unwrap();
        io.wait_for_completion(s).unwrap();
    }
}

/// A configuration of a table: one of ours, or fio.
enum Config {
    Ours {
        name: String,
        io: Arc<dyn IO>,
        file: Arc<dyn File>,
        uring: Option<Arc<UringIO>>,
    },
    Fio {
        name: String,
        args: Vec<String>,
    },
}

impl Config {
    fn name(&self) -> &str {
        match self {
            Config::Ours { name, .. } | Config::Fio { name, .. } => name,
        }
    }
}

/// The fio binary, if installed.
fn fio_available() -> bool {
    Command::new("fio")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs fio with `args` (one job); returns its time per I/O.
fn run_fio(args: &[String]) -> Result<Sample, String> {
    let out = Command::new("fio")
        .args(args)
        .args([
            "--name=bench",
            "--output-format=json",
            "--gtod_reduce=1",
            "--norandommap",
            "--randrepeat=0",
            "--invalidate=0",
        ])
        .output()
        .map_err(|e| format!("running fio: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "fio failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    // The job's fields, read without a JSON dependency: fio prints each on
    // its own line, `"key" : value,`.
    let field = |section: Option<&str>, key: &str| -> Result<f64, String> {
        let text = match section {
            Some(s) => {
                let at = json
                    .find(&format!("\"{s}\" : {{"))
                    .ok_or_else(|| format!("fio output without \"{s}\""))?;
                &json[at..]
            }
            None => &json[..],
        };
        let at = text
            .find(&format!("\"{key}\" : "))
            .ok_or_else(|| format!("fio output without \"{key}\""))?;
        let rest = &text[at + key.len() + 5..];
        let end = rest.find([',', '\n']).unwrap_or(rest.len());
        rest[..end]
            .trim()
            .parse()
            .map_err(|e| format!("fio's \"{key}\": {e}"))
    };
    let section = if args.iter().any(|a| a.contains("write")) {
        "write"
    } else {
        "read"
    };
    let ios = field(Some(section), "total_ios")?;
    let runtime_ms = field(None, "job_runtime")?;
    let cpu = (field(None, "usr_cpu")? + field(None, "sys_cpu")?) / 100.0;
    Ok(Sample {
        wall_ns: runtime_ms * 1e6 / ios,
        cpu_ns: cpu * runtime_ms * 1e6 / ios,
    })
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

/// Runs every configuration once per round, in a rotated order, and
/// prints the table. `run` performs one run of one of ours. Ratios are
/// against each name in `references`, by CPU time or wall time.
fn table(
    title: &str,
    configs: &[Config],
    rounds: usize,
    cpu_time: bool,
    references: &[&str],
    mut run: impl FnMut(&dyn IO, &dyn File) -> Sample,
) {
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); configs.len()];
    let mut failed: Vec<Option<String>> = vec![None; configs.len()];
    for round in 0..rounds {
        for k in 0..configs.len() {
            let i = (k + round) % configs.len();
            match &configs[i] {
                Config::Ours { io, file, .. } => samples[i].push(run(&**io, &**file)),
                Config::Fio { args, .. } if failed[i].is_none() => match run_fio(args) {
                    Ok(s) => samples[i].push(s),
                    Err(err) => failed[i] = Some(err),
                },
                Config::Fio { .. } => {}
            }
        }
    }
    let metric = |s: &Sample| if cpu_time { s.cpu_ns } else { s.wall_ns };
    println!(
        "\n{title} ({rounds} rounds; {} time per I/O, medians)",
        if cpu_time { "CPU" } else { "wall-clock" }
    );
    for (i, c) in configs.iter().enumerate() {
        if let Some(err) = &failed[i] {
            println!("  {:<44} not measured: {err}", c.name());
            continue;
        }
        let own: Vec<f64> = samples[i].iter().map(metric).collect();
        let wall: Vec<f64> = samples[i].iter().map(|s| s.wall_ns).collect();
        let mut line = format!(
            "  {:<44} {:>8.0} ns{}",
            c.name(),
            median(&own),
            if cpu_time {
                format!(" (wall {:>7.0} ns)", median(&wall))
            } else {
                String::new()
            }
        );
        for reference in references {
            let Some(r) = configs.iter().position(|c| c.name() == *reference) else {
                continue;
            };
            if r == i || samples[r].len() != samples[i].len() {
                continue;
            }
            let ratios: Vec<f64> = samples[r]
                .iter()
                .zip(&samples[i])
                .map(|(a, b)| metric(a) / metric(b))
                .collect();
            let (q1, q3) = quartiles(&ratios);
            line += &format!("   {:.2}x {reference} ({q1:.2}-{q3:.2})", median(&ratios));
        }
        println!("{line}");
    }
    if std::env::var_os("BENCH_STATS").is_some() {
        for c in configs {
            if let Config::Ours {
                name,
                uring: Some(u),
                ..
            } = c
            {
                println!("  {name}: {}", u.stats());
            }
        }
    }
}

/// Our configurations on the file at `path`.
fn ours(
    path: &str,
    flags: OpenFlags,
    with_sync: bool,
    urings: &[(&str, UringOptions)],
) -> io_model::Result<Vec<Config>> {
    let mut configs = Vec::new();
    if with_sync {
        let io: Arc<dyn IO> = Arc::new(SyncIO::new());
        let file = io.open_file(path, flags)?;
        configs.push(Config::Ours {
            name: "SyncIO".into(),
            io,
            file,
            uring: None,
        });
    }
    for (name, opts) in urings {
        let u = Arc::new(UringIO::with_options(opts.clone())?);
        let file = u.open_file(path, flags)?;
        configs.push(Config::Ours {
            name: (*name).into(),
            io: u.clone(),
            file,
            uring: Some(u),
        });
    }
    Ok(configs)
}

/// fio reports its job's run time in whole milliseconds: it runs this many
/// times the I/Os of one of our runs, so that the rounding stays small.
const FIO_SCALE: usize = 10;

/// fio's arguments for random reads of the file at `path`: `psync`, or
/// `io_uring` with fixed buffers, registered files, and batches of `depth`.
fn fio_reads(
    path: &Path,
    len: usize,
    ops: usize,
    depth: usize,
    direct: bool,
    uring: bool,
) -> Vec<String> {
    let mut args = vec![
        format!("--filename={}", path.display()),
        "--rw=randread".into(),
        "--bs=4k".into(),
        format!("--size={len}"),
        format!("--io_size={}", ops * FIO_SCALE * PAGE),
        format!("--iodepth={depth}"),
        format!("--direct={}", u8::from(direct)),
    ];
    if !uring {
        args.push("--ioengine=psync".into());
    } else {
        args.extend([
            "--ioengine=io_uring".into(),
            "--fixedbufs".into(),
            "--registerfiles".into(),
            format!("--iodepth_batch_submit={depth}"),
            format!("--iodepth_batch_complete_max={depth}"),
        ]);
    }
    args
}

fn write_file(path: &Path, len: usize) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i * 31 % 251) as u8).collect();
    for _ in 0..len.div_ceil(chunk.len()) {
        f.write_all(&chunk)?;
    }
    f.sync_all()
}

fn main() -> io_model::Result<()> {
    let args = parse_args();
    let fio = args.fio && fio_available();
    if args.fio && !fio {
        println!("fio is not installed: its configurations are left out (apt-get install fio)");
    }
    match UringIO::new() {
        Ok(io) => println!("{}", io.info()),
        Err(err) => {
            println!("io_uring unavailable, nothing to compare: {err}");
            return Ok(());
        }
    }
    println!(
        "4 KiB I/O, {} CPUs, fio: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if fio { "yes" } else { "no" }
    );
    let dir: PathBuf = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("io-model-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&args, fio, &dir);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn run(args: &Args, fio: bool, dir: &Path) -> io_model::Result<()> {
    let default = UringOptions::default();
    let never = UringOptions::default().inline_reads(InlineReads::Never);
    if let Some((config, depth)) = &args.profile {
        // Cached reads by one configuration, for instruction counts: a
        // warm-up of a quarter, then `--ops` reads.
        let path = dir.join("cached");
        let len = args.file_mb << 20;
        write_file(&path, len)?;
        let _ = std::fs::read(&path)?;
        let p = path.to_str().expect("temp paths are UTF-8");
        let (with_sync, urings) = match config.as_str() {
            "sync" => (true, vec![]),
            "default" => (false, vec![("default", default)]),
            _ => (false, vec![("never", never)]),
        };
        let configs = ours(p, OpenFlags::READ_ONLY, with_sync, &urings)?;
        let Config::Ours { io, file, .. } = &configs[0] else {
            unreachable!()
        };
        let mut offsets = Offsets::new(len);
        reads(&**io, &**file, &mut offsets, args.ops / 4, *depth);
        let usage = || {
            // SAFETY: `ru` is a valid, writable rusage for the call.
            let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: as above; RUSAGE_THREAD is supported by Linux.
            let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
            assert_eq!(rc, 0, "getrusage failed");
            let us = |t: libc::timeval| t.tv_sec as f64 * 1e6 + t.tv_usec as f64;
            (us(ru.ru_utime), us(ru.ru_stime))
        };
        let before = usage();
        let s = timed(args.ops, || {
            reads(&**io, &**file, &mut offsets, args.ops, *depth)
        });
        let after = usage();
        let per = |a: f64, b: f64| (b - a) * 1e3 / args.ops as f64;
        println!(
            "{config} at depth {depth}: {:.0} ns CPU per read ({:.0} user, {:.0} system), {:.0} ns wall",
            s.cpu_ns,
            per(before.0, after.0),
            per(before.1, after.1),
            s.wall_ns
        );
        return Ok(());
    }
    for workload in &args.workloads {
        match workload.as_str() {
            "cached" => {
                let path = dir.join("cached");
                let len = args.file_mb << 20;
                write_file(&path, len)?;
                let _ = std::fs::read(&path)?; // into the page cache
                let p = path.to_str().expect("temp paths are UTF-8");
                for depth in [1usize, 32, 128] {
                    let mut configs = ours(
                        p,
                        OpenFlags::READ_ONLY,
                        true,
                        &[
                            ("UringIO (default)", default.clone()),
                            ("UringIO (Never: every read in the ring)", never.clone()),
                        ],
                    )?;
                    let fio_name = if depth == 1 {
                        "fio psync"
                    } else {
                        "fio io_uring fixed buffers"
                    };
                    if fio {
                        if depth == 1 {
                            configs.push(Config::Fio {
                                name: "fio psync".into(),
                                args: fio_reads(&path, len, args.ops, 1, false, false),
                            });
                        }
                        configs.push(Config::Fio {
                            name: "fio io_uring fixed buffers".into(),
                            args: fio_reads(&path, len, args.ops, depth, false, true),
                        });
                    }
                    let mut offsets = Offsets::new(len);
                    // Warm-up: the policies learn the workload.
                    for c in &configs {
                        if let Config::Ours { io, file, .. } = c {
                            reads(&**io, &**file, &mut offsets, args.ops / 4 + 64, depth);
                        }
                    }
                    table(
                        &format!(
                            "cached random reads, queue depth {depth}, {} MiB file",
                            args.file_mb
                        ),
                        &configs,
                        args.rounds,
                        true,
                        &["SyncIO", fio_name],
                        |io, file| {
                            timed(args.ops, || reads(io, file, &mut offsets, args.ops, depth))
                        },
                    );
                }
                std::fs::remove_file(&path)?;
            }
            "direct" => {
                let path = dir.join("direct");
                let len = args.direct_mb << 20;
                write_file(&path, len)?;
                let p = path.to_str().expect("temp paths are UTF-8");
                for depth in [1usize, 32, 128] {
                    let mut configs = match ours(
                        p,
                        OpenFlags::READ_ONLY | OpenFlags::DIRECT,
                        depth == 1,
                        &[("UringIO (default)", default.clone())],
                    ) {
                        Ok(c) => c,
                        Err(err) => {
                            println!("\nO_DIRECT reads not measured: {err}");
                            break;
                        }
                    };
                    if fio {
                        configs.push(Config::Fio {
                            name: "fio io_uring fixed buffers".into(),
                            args: fio_reads(&path, len, args.direct_ops, depth, true, true),
                        });
                    }
                    let mut offsets = Offsets::new(len);
                    for c in &configs {
                        if let Config::Ours { io, file, .. } = c {
                            reads(
                                &**io,
                                &**file,
                                &mut offsets,
                                args.direct_ops / 8 + 16,
                                depth,
                            );
                        }
                    }
                    table(
                        &format!(
                            "O_DIRECT random reads, queue depth {depth}, {} MiB file",
                            args.direct_mb
                        ),
                        &configs,
                        args.rounds,
                        false,
                        &["fio io_uring fixed buffers", "SyncIO"],
                        |io, file| {
                            timed(args.direct_ops, || {
                                reads(io, file, &mut offsets, args.direct_ops, depth)
                            })
                        },
                    );
                }
                std::fs::remove_file(&path)?;
            }
            "append" => {
                for every in [1usize, 16] {
                    let path = dir.join(format!("append-{every}"));
                    std::fs::write(&path, b"")?;
                    let p = path.to_str().expect("temp paths are UTF-8");
                    let mut configs = ours(
                        p,
                        OpenFlags::NONE,
                        true,
                        &[("UringIO (default)", default.clone())],
                    )?;
                    if fio {
                        configs.push(Config::Fio {
                            name: "fio psync".into(),
                            args: vec![
                                format!("--filename={}", dir.join("append-fio").display()),
                                "--rw=write".into(),
                                "--bs=4k".into(),
                                format!("--size={}", args.append_ops * PAGE),
                                "--ioengine=psync".into(),
                                format!("--fdatasync={every}"),
                                // Appends to a new file, as ours: no
                                // preallocation, removed after each run.
                                "--fallocate=none".into(),
                                "--unlink=1".into(),
                            ],
                        });
                    }
                    table(
                        &format!("appends, fdatasync every {every} writes"),
                        &configs,
                        args.rounds,
                        false,
                        &["SyncIO"],
                        |io, file| {
                            // A fresh, empty file for every run (not timed).
                            let c = file.truncate(0, Completion::new_trunc(|_| {})).unwrap();
                            io.wait_for_completion(c).unwrap();
                            timed(args.append_ops, || {
                                appends(io, file, args.append_ops, every)
                            })
                        },
                    );
                    drop(configs);
                    std::fs::remove_file(&path)?;
                    let _ = std::fs::remove_file(dir.join("append-fio"));
                }
            }
            other => unreachable!("workload {other} was checked"),
        }
    }
    Ok(())
}
