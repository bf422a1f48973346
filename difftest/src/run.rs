//! Builds a batch crate, runs it, and parses what each program did.
//!
//! A batch that does not compile is built again without the modules the
//! errors point into (a file's lines before its `mod oracle` are the
//! resumable form: an error there is a finding; after it, the oracle: a
//! generator bug), until the rest compiles. A run that crashes or hangs in
//! one program is resumed after it. A build that hangs (a transform that
//! does not end, or an expansion rustc cannot finish) is killed and the
//! batch split in two until the program it hangs on is found.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::emit::{write_batch, Module};

/// Why a batch could not be built or run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Writing the crate failed.
    #[error("cannot write the batch crate: {0}")]
    Io(#[from] std::io::Error),
    /// cargo failed without naming a module.
    #[error("the batch does not build and no error points into a program: {0}")]
    Build(String),
}

/// One run of one program under one driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLine {
    /// The driver (`immediate`, `deferred`, `failing`, `cancel`).
    pub mode: String,
    /// The driver's seed.
    pub seed: u64,
    /// `None`: same as the oracle; else the kind and a line of detail.
    pub divergence: Option<(String, String)>,
    /// The cancel driver cancelled this run.
    pub cancelled: bool,
}

/// What happened to one module.
#[derive(Clone, Debug)]
pub enum Status {
    /// It compiled and ran under every driver.
    Ran(Vec<RunLine>),
    /// The resumable form does not compile (the oracle does): the errors.
    Compile(Vec<String>),
    /// The oracle form does not compile: a generator bug.
    OracleCompile(Vec<String>),
    /// The batch process died or hung in this program, or building it
    /// hung.
    Crash(String),
}

impl Status {
    /// The first divergence: its kind, mode and detail.
    pub fn divergence(&self) -> Option<(String, String, String)> {
        match self {
            Status::Ran(lines) => lines.iter().find_map(|l| {
                l.divergence
                    .as_ref()
                    .map(|(k, d)| (k.clone(), l.mode.clone(), format!("seed {}: {d}", l.seed)))
            }),
            Status::Compile(e) => Some(("compile".into(), String::new(), e.join("\n"))),
            Status::OracleCompile(e) => {
                Some(("oracle-compile".into(), String::new(), e.join("\n")))
            }
            Status::Crash(d) if d.starts_with("hang") => {
                Some(("hang".into(), String::new(), d.clone()))
            }
            Status::Crash(d) => Some(("panic".into(), String::new(), d.clone())),
        }
    }
}

/// The time a batch's first build in a target directory may take besides
/// its limit: it builds io-model, the transform and their dependencies.
const FIRST_BUILD: Duration = Duration::from_secs(600);

/// Where and how batches are built.
#[derive(Clone, Debug)]
pub struct Runner {
    /// The batch crate's directory.
    pub dir: PathBuf,
    /// Its `CARGO_TARGET_DIR`.
    pub target: PathBuf,
    /// Driver seeds per mode.
    pub seeds: u64,
    /// cargo `-j`.
    pub cargo_jobs: usize,
    /// How long one batch may run.
    pub timeout: Duration,
    /// How long building a batch may take: this much, plus
    /// [`Runner::build_per_program`] for each program in it.
    pub build_timeout: Duration,
    /// See [`Runner::build_timeout`].
    pub build_per_program: Duration,
    /// Build the proc-macro optimized (see [`write_batch`]).
    pub optimize_macros: bool,
}

/// Time spent building and running.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timing {
    /// In cargo.
    pub build: Duration,
    /// In the batch binary.
    pub run: Duration,
    /// Builds made.
    pub builds: usize,
}

impl Runner {
    /// A runner whose files live under `base` (`base/batch`,
    /// `base/target`).
    pub fn new(base: &Path, seeds: u64) -> Self {
        Runner {
            dir: base.join("batch"),
            target: base.join("target"),
            seeds,
            cargo_jobs: 1,
            timeout: Duration::from_secs(300),
            build_timeout: Options::BUILD_TIMEOUT,
            build_per_program: Duration::from_secs(1),
            optimize_macros: true,
        }
    }

    /// Builds and runs `modules`; one status per module.
    pub fn run(&self, modules: &[Module], timing: &mut Timing) -> Result<Vec<Status>, RunError> {
        let mut status: Vec<Option<Status>> = vec![None; modules.len()];
        let mut included = vec![true; modules.len()];
        let mut retries = 0;
        loop {
            write_batch(&self.dir, modules, &included, self.optimize_macros)?;
            let t = Instant::now();
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.arg("build")
                .arg("--offline")
                .arg("--quiet")
                .arg("--message-format=short")
                .arg("-j")
                .arg(self.cargo_jobs.to_string())
                .arg("--manifest-path")
                .arg(self.dir.join("Cargo.toml"))
                .env("CARGO_TARGET_DIR", &self.target)
                .env_remove("RUSTFLAGS")
                // Under `cargo test` these name the jobserver's descriptors,
                // which the batch's own cargo does not need.
                .env_remove("CARGO_MAKEFLAGS")
                .env_remove("MAKEFLAGS")
                .env_remove("MFLAGS")
                .env("CARGO_TERM_COLOR", "never");
            let n = included.iter().filter(|x| **x).count();
            let mut limit = self.build_timeout + self.build_per_program * n as u32;
            if !self.target.join("debug").join("difftest-batch").exists() {
                // The first build in this target also builds the libraries.
                limit += FIRST_BUILD;
            }
            let Some(out) = output_within(&mut cmd, limit)? else {
                timing.build += t.elapsed();
                timing.builds += 1;
                return self.split_hung_build(modules, &included, status, limit, timing);
            };
            timing.build += t.elapsed();
            timing.builds += 1;
            if out.status.success() {
                break;
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("failed to run `rustc` to learn about target-specific information")
                && retries < 4
            {
                // Cargo's probe of rustc failed (seen when /dev/null had
                // become a regular file with text in it). Try again.
                retries += 1;
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            let errors = attribute_errors(&stderr, modules);
            let mut progress = false;
            for (i, (res, ora)) in errors {
                if !included[i] {
                    continue;
                }
                included[i] = false;
                progress = true;
                status[i] = Some(if ora.is_empty() {
                    Status::Compile(res)
                } else {
                    Status::OracleCompile(ora)
                });
            }
            if !progress {
                let tail: String = stderr.lines().take(40).collect::<Vec<_>>().join("\n");
                return Err(RunError::Build(tail));
            }
            if !included.iter().any(|x| *x) {
                break;
            }
        }
        let names: Vec<usize> = (0..modules.len()).filter(|i| included[*i]).collect();
        if !names.is_empty() {
            let t = Instant::now();
            let ran = self.run_binary(names.len(), timing)?;
            timing.run += t.elapsed();
            for (pos, st) in ran {
                status[names[pos]] = Some(st);
            }
        }
        Ok(status
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Status::Crash("no output".into())))
            .collect())
    }

    /// After a build of the `included` modules that took longer than
    /// `limit`: a single module is a hang; more are built again in two
    /// halves, each with its own limit.
    fn split_hung_build(
        &self,
        modules: &[Module],
        included: &[bool],
        mut status: Vec<Option<Status>>,
        limit: Duration,
        timing: &mut Timing,
    ) -> Result<Vec<Status>, RunError> {
        let left: Vec<usize> = (0..modules.len()).filter(|i| included[*i]).collect();
        if let [only] = left.as_slice() {
            status[*only] = Some(Status::Crash(format!(
                "hang: building it took longer than {limit:?} (the transform did not end, or rustc could not finish its expansion)"
            )));
        } else {
            let (a, b) = left.split_at(left.len() / 2);
            for half in [a, b] {
                let part: Vec<Module> = half.iter().map(|i| modules[*i].clone()).collect();
                for (i, st) in half.iter().zip(self.run(&part, timing)?) {
                    status[*i] = Some(st);
                }
            }
        }
        Ok(status
            .into_iter()
            .map(|s| s.unwrap_or_else(|| Status::Crash("no output".into())))
            .collect())
    }

    /// Runs the batch binary (holding `n` programs), resuming after a
    /// program it dies or hangs in.
    fn run_binary(
        &self,
        n: usize,
        _timing: &mut Timing,
    ) -> Result<BTreeMap<usize, Status>, RunError> {
        let bin = self.target.join("debug").join("difftest-batch");
        let mut out: BTreeMap<usize, Status> = BTreeMap::new();
        let mut from = 0usize;
        while from < n {
            let mut child = Command::new(&bin)
                .arg(from.to_string())
                .arg(self.seeds.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()?;
            let stdout = child.stdout.take().expect("BUG: piped stdout");
            let (tx, rx) = mpsc::channel::<String>();
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let start = Instant::now();
            let mut current: Option<usize> = None;
            let mut lines: Vec<RunLine> = Vec::new();
            let mut timed_out = false;
            loop {
                match rx.recv_timeout(Duration::from_millis(200)) {
                    Ok(line) => {
                        let mut parts = line.splitn(2, ' ');
                        match parts.next() {
                            Some("START") => {
                                current = line.split(' ').nth(1).and_then(|s| s.parse().ok());
                                lines.clear();
                            }
                            Some("END") => {
                                if let Some(c) = current.take() {
                                    out.insert(c, Status::Ran(std::mem::take(&mut lines)));
                                }
                            }
                            Some("R") => {
                                if let Some(l) = parse_run_line(&line) {
                                    lines.push(l);
                                }
                            }
                            _ => {}
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if start.elapsed() > self.timeout {
                            timed_out = true;
                            let _ = child.kill();
                            break;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            let status = child.wait()?;
            let _ = reader.join();
            match current {
                Some(c) => {
                    let why = if timed_out {
                        format!("hang: the batch ran longer than {:?}", self.timeout)
                    } else {
                        format!("the process died: {status}")
                    };
                    out.insert(c, Status::Crash(why));
                    from = c + 1;
                }
                None => {
                    if out.len() < n && !status.success() {
                        // Died between programs: nothing more to learn.
                        break;
                    }
                    from = n;
                }
            }
        }
        Ok(out)
    }
}

/// Runs `cmd` to its end and collects its output, or kills it (and the
/// processes it started) once it has run for `limit`: then `None`.
fn output_within(cmd: &mut Command, limit: Duration) -> std::io::Result<Option<Output>> {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that a kill reaches rustc too.
        .process_group(0)
        .spawn()?;
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > limit {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg("--")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok(status.map(|status| Output {
        status,
        stdout,
        stderr,
    }))
}

/// Reads `pipe` to its end on a thread of its own.
fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

fn parse_run_line(line: &str) -> Option<RunLine> {
    // R <program> <mode> <seed> ok | div <kind> <detail>
    let mut it = line.splitn(7, ' ');
    it.next()?;
    it.next()?;
    let mode = it.next()?.to_string();
    let seed = it.next()?.parse().ok()?;
    let verdict = it.next()?;
    let mut cancelled = false;
    let divergence = if verdict == "ok" {
        cancelled = it.next() == Some("c");
        None
    } else {
        let kind = it.next().unwrap_or("?").to_string();
        let detail = it.next().unwrap_or("").to_string();
        Some((kind, detail))
    };
    Some(RunLine {
        mode,
        seed,
        divergence,
        cancelled,
    })
}

/// The errors of a failed build per module: (resumable-form errors,
/// oracle-form errors).
fn attribute_errors(
    stderr: &str,
    modules: &[Module],
) -> BTreeMap<usize, (Vec<String>, Vec<String>)> {
    let mut out: BTreeMap<usize, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for line in stderr.lines() {
        // src/p3.rs:45:9: error[E0382]: borrow of moved value
        let Some(rest) = line.strip_prefix("src/") else {
            continue;
        };
        let Some((file, rest)) = rest.split_once(".rs:") else {
            continue;
        };
        let mut parts = rest.splitn(3, ':');
        let Some(lno) = parts.next().and_then(|s| s.parse::<usize>().ok()) else {
            continue;
        };
        let _col = parts.next();
        let msg = parts.next().unwrap_or("").trim();
        if !msg.starts_with("error") {
            continue;
        }
        let Some(i) = modules.iter().position(|m| m.name == file) else {
            continue;
        };
        let e = out.entry(i).or_default();
        let text = format!("{file}.rs:{lno}: {msg}");
        if lno >= modules[i].oracle_line {
            e.1.push(text);
        } else {
            e.0.push(text);
        }
    }
    out
}

/// What a run of many programs should do.
#[derive(Clone, Debug)]
pub struct Options {
    /// The generator seed.
    pub seed: u64,
    /// Which programs (their numbers).
    pub programs: Vec<usize>,
    /// Programs per batch crate.
    pub batch: usize,
    /// Batches built at once.
    pub jobs: usize,
    /// Driver seeds per mode.
    pub seeds: u64,
    /// The generator's settings.
    pub gen: crate::gen::GenConfig,
    /// Where batch crates and their targets go.
    pub work_dir: PathBuf,
    /// Show a progress bar.
    pub progress: bool,
    /// Build the proc-macro optimized (worth it from a few thousand
    /// programs on).
    pub optimize_macros: bool,
    /// How long a batch's build may take, besides a second per program
    /// ([`Runner::build_timeout`]).
    pub build_timeout: Duration,
}

impl Options {
    /// The default of [`Options::build_timeout`].
    pub const BUILD_TIMEOUT: Duration = Duration::from_secs(60);
}

/// One diverging program.
#[derive(Clone, Debug)]
pub struct Divergent {
    /// Its number.
    pub index: usize,
    /// `compile`, `result`, `log`, `drop`, `panic`, `state-not-idle`,
    /// `cancel`, or `oracle-compile` / `oracle-panic` (generator bugs).
    pub kind: String,
    /// The driver it showed under (empty for compile kinds).
    pub mode: String,
    /// What differs.
    pub detail: String,
}

/// What a run of many programs found.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Programs generated.
    pub programs: usize,
    /// Driver runs compared with the oracle.
    pub runs: usize,
    /// Runs the cancel driver cancelled partway (the others ran to the end).
    pub cancelled: usize,
    /// Diverging runs by kind.
    pub runs_by_kind: BTreeMap<String, usize>,
    /// Diverging programs (first divergence of each).
    pub divergent: Vec<Divergent>,
    /// Construct counts.
    pub coverage: crate::coverage::Coverage,
    /// Time in cargo and in the batch binaries.
    pub timing: Timing,
}

impl Summary {
    /// Diverging programs by kind.
    pub fn programs_by_kind(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for d in &self.divergent {
            *m.entry(d.kind.clone()).or_insert(0) += 1;
        }
        m
    }

    /// Whether anything diverged (generator bugs included).
    pub fn clean(&self) -> bool {
        self.divergent.is_empty()
    }
}

/// The modules of programs `indices` of `seed`.
pub fn modules_of(
    seed: u64,
    indices: &[usize],
    gen: &crate::gen::GenConfig,
    cov: &mut crate::coverage::Coverage,
) -> Vec<Module> {
    indices
        .iter()
        .map(|&i| {
            let p = crate::gen::generate(seed, i, gen);
            cov.program(&p);
            crate::emit::module(&p, &format!("p{i}"), "")
        })
        .collect()
}

/// Generates, builds and runs `opts.programs`, `opts.jobs` batches at a
/// time.
pub fn run_many(opts: &Options) -> Result<Summary, RunError> {
    use std::sync::Mutex;
    let chunks: Vec<Vec<usize>> = opts
        .programs
        .chunks(opts.batch.max(1))
        .map(<[usize]>::to_vec)
        .collect();
    let queue = Mutex::new(
        chunks
            .into_iter()
            .collect::<std::collections::VecDeque<_>>(),
    );
    let summary = Mutex::new(Summary::default());
    let first_error: Mutex<Option<RunError>> = Mutex::new(None);
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(opts.programs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} programs {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    std::thread::scope(|scope| {
        for j in 0..opts.jobs.max(1) {
            let queue = &queue;
            let summary = &summary;
            let first_error = &first_error;
            let bar = &bar;
            scope.spawn(move || {
                let mut runner = Runner::new(&opts.work_dir.join(format!("job{j}")), opts.seeds);
                runner.optimize_macros = opts.optimize_macros;
                runner.build_timeout = opts.build_timeout;
                loop {
                    let Some(chunk) = queue.lock().expect("queue").pop_front() else {
                        break;
                    };
                    let mut cov = crate::coverage::Coverage::default();
                    let modules = modules_of(opts.seed, &chunk, &opts.gen, &mut cov);
                    let mut timing = Timing::default();
                    match runner.run(&modules, &mut timing) {
                        Ok(statuses) => {
                            let mut s = summary.lock().expect("summary");
                            s.programs += chunk.len();
                            s.coverage.merge(&cov);
                            s.timing.build += timing.build;
                            s.timing.run += timing.run;
                            s.timing.builds += timing.builds;
                            for (i, st) in chunk.iter().zip(&statuses) {
                                if let Status::Ran(lines) = st {
                                    s.runs += lines.len();
                                    s.cancelled += lines.iter().filter(|l| l.cancelled).count();
                                    for l in lines {
                                        if let Some((k, _)) = &l.divergence {
                                            *s.runs_by_kind.entry(k.clone()).or_insert(0) += 1;
                                        }
                                    }
                                }
                                if let Some((kind, mode, detail)) = st.divergence() {
                                    s.divergent.push(Divergent {
                                        index: *i,
                                        kind,
                                        mode,
                                        detail,
                                    });
                                }
                            }
                            let n = s.divergent.len();
                            drop(s);
                            bar.inc(chunk.len() as u64);
                            bar.set_message(format!("{n} diverging"));
                        }
                        Err(e) => {
                            first_error.lock().expect("error").get_or_insert(e);
                            break;
                        }
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = first_error.into_inner().expect("error") {
        return Err(e);
    }
    let mut s = summary.into_inner().expect("summary");
    s.divergent.sort_by_key(|d| d.index);
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_that_ends_in_time_gives_its_output() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo out; echo err >&2; exit 3");
        let out = output_within(&mut cmd, Duration::from_secs(30))
            .expect("sh runs")
            .expect("in time");
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_command_that_runs_too_long_is_killed_with_what_it_started() {
        let pid_file = std::env::temp_dir().join(format!("difftest-kill-{}", std::process::id()));
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!(
            "sleep 600 >/dev/null 2>&1 & echo $! > {}; wait",
            pid_file.display()
        ));
        let out = output_within(&mut cmd, Duration::from_millis(500)).expect("sh runs");
        assert!(out.is_none(), "killed, so no output");
        let pid = std::fs::read_to_string(&pid_file).expect("sh wrote the sleep's pid");
        let _ = std::fs::remove_file(&pid_file);
        // Gone, or a zombie that no one has reaped yet.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
        let alive = stat.is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim().starts_with('Z'));
        assert!(!alive, "the sleep that sh started was killed too");
    }
}
