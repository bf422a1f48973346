//! [`DiffTest`]: runs two implementations of one operation on the same
//! seeds and compares everything they did; [`Summary`] of a passing run.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use io_model::{Result, IO};

use crate::drive::{self, Limits, Outcome, Run};
use crate::mismatch::{Broken, Difference, Failure, Mismatch};
use crate::operation::Operation;
use crate::{Env, Mode};

/// The environment variable that replaces the default seed range: a count
/// (`500`: seeds `0..500`) or a range (`1000..2000`).
pub const SEEDS_VAR: &str = "IO_MODEL_DIFFTEST_SEEDS";

/// The seeds run unless [`DiffTest::seeds`] or [`SEEDS_VAR`] says
/// otherwise.
pub const DEFAULT_SEEDS: Range<u64> = 0..64;

/// The calls one run may make before the harness calls it stuck.
pub const DEFAULT_MAX_CALLS: usize = 100_000;

/// The I/O one run may issue before the harness calls it stuck (a machine
/// that issues its I/O again on every call never finishes under deferred
/// completions, and the limit keeps its trace small).
pub const DEFAULT_MAX_IOS: usize = 10_000;

type Setup = Box<dyn Fn(&Env) -> Result<()>>;

/// A differential test of two implementations of one operation.
///
/// For every [`Mode`] and every seed, each implementation gets a fresh
/// [`Env`] (a [`SimIO`](io_model_backends::SimIO) built from the seed),
/// the [`setup`](Self::setup) function prepares its files, its factory
/// builds the [`Operation`], and the harness drives it to its end as the
/// mode schedules it, then delivers whatever is still in flight. The two
/// runs must then agree on:
///
/// 1. the I/O they issued, in order: kind, file, range and written bytes;
/// 2. how they ended: the `Done` value, the error's `Debug` text, a panic;
/// 3. [`Operation::observe`];
/// 4. every file's final contents, then what of it would survive a crash.
///
/// The first difference ends the test with a [`Failure::Mismatch`] that
/// names the seed, the mode, the first differing I/O with the call that
/// issued it, and both traces around it. Both runs panicking or getting
/// stuck alike is a [`Failure::Broken`].
///
/// Because both runs see the same seed, the simulator delivers their I/O
/// in the same order as long as they issue the same requests; the first
/// request that differs is where their behaviour parted.
///
/// ```
/// use std::sync::Arc;
/// use io_model::{io_yield_one, Buffer, Completion, File, IOResult, Result};
/// use io_model_difftest::{DiffTest, Env, Mode};
///
/// /// Appends a page and counts appends. Hand-written, with the bug:
/// /// the count goes up again every time the caller comes back.
/// struct Buggy { file: Arc<dyn File>, appended: u32, write: Option<Completion> }
/// impl Buggy {
///     fn append(&mut self) -> Result<IOResult<u32>> {
///         self.appended += 1; // before the wait: runs on every call
///         let c = match &self.write {
///             Some(c) => c.clone(),
///             None => {
///                 let buf = Arc::new(Buffer::from_vec(vec![7; 512]));
///                 let c = self.file.pwrite(0, buf, Completion::new_write(|_| {}))?;
///                 self.write = Some(c.clone());
///                 c
///             }
///         };
///         if !c.finished() {
///             io_yield_one!(c);
///         }
///         if let Some(e) = c.get_error() {
///             return Err(e.into());
///         }
///         Ok(IOResult::Done(self.appended))
///     }
/// }
///
/// /// The same with `#[resumable]`.
/// struct Fixed { file: Arc<dyn File>, appended: u32, st: AppendState }
/// #[io_model::resumable]
/// impl Fixed {
///     #[resumable(state = self.st)]
///     fn append(&mut self) -> Result<IOResult<u32>> {
///         let buf = Arc::new(Buffer::from_vec(vec![7; 512]));
///         wait!(Write => self.file.pwrite(0, buf, Completion::new_write(|_| {}))?);
///         self.appended += 1;
///         Ok(IOResult::Done(self.appended))
///     }
/// }
///
/// let buggy = |env: &Env| {
///     let mut op = Buggy { file: env.open("db")?, appended: 0, write: None };
///     Ok(move || op.append())
/// };
/// let fixed = |env: &Env| {
///     let mut op = Fixed { file: env.open("db")?, appended: 0, st: AppendState::default() };
///     Ok(move || op.append())
/// };
///
/// // Against itself, the generated version passes in every mode.
/// let summary = DiffTest::new("resumable", fixed, "again", fixed).seeds(0..8).run()?;
/// assert_eq!(summary.runs, 8 * 4);
///
/// // The buggy one is caught, with the seed and what differed.
/// let failure = DiffTest::new("resumable", fixed, "buggy", buggy).seeds(0..8).run().unwrap_err();
/// let report = failure.to_string();
/// assert!(report.contains("differ on seed 0 in mode deferred"), "{report}");
/// assert!(report.contains("Done(1)") && report.contains("Done(2)"), "{report}");
/// # Ok::<(), io_model_difftest::Failure>(())
/// ```
pub struct DiffTest<FA, FB> {
    names: [String; 2],
    make_a: FA,
    make_b: FB,
    setup: Option<Setup>,
    seeds: Option<Range<u64>>,
    modes: Vec<Mode>,
    limits: Limits,
}

impl<FA, FB, A, B> DiffTest<FA, FB>
where
    FA: Fn(&Env) -> Result<A>,
    FB: Fn(&Env) -> Result<B>,
    A: Operation,
    B: Operation<Output = A::Output>,
{
    /// Compares implementation `a` with `b`. Each factory builds one run's
    /// operation on the [`Env`] it is given (open files through it).
    pub fn new(
        name_a: impl Into<String>,
        make_a: FA,
        name_b: impl Into<String>,
        make_b: FB,
    ) -> Self {
        DiffTest {
            names: [name_a.into(), name_b.into()],
            make_a,
            make_b,
            setup: None,
            seeds: None,
            modes: Mode::all().to_vec(),
            limits: Limits {
                max_calls: DEFAULT_MAX_CALLS,
                max_ios: DEFAULT_MAX_IOS,
            },
        }
    }

    /// Prepares each run's files before its factory is called (without
    /// faults; its I/O is not compared). [`Env::write_file`] helps.
    pub fn setup(mut self, setup: impl Fn(&Env) -> Result<()> + 'static) -> Self {
        self.setup = Some(Box::new(setup));
        self
    }

    /// The seeds to run (default [`DEFAULT_SEEDS`], or [`SEEDS_VAR`] when
    /// set; a range given here wins over both).
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = Some(seeds);
        self
    }

    /// The modes to run, in order (default [`Mode::all`]).
    pub fn modes(mut self, modes: impl IntoIterator<Item = Mode>) -> Self {
        self.modes = modes.into_iter().collect();
        self
    }

    /// How many calls a run may make before it counts as stuck (default
    /// [`DEFAULT_MAX_CALLS`]).
    pub fn max_calls(mut self, calls: usize) -> Self {
        self.limits.max_calls = calls.max(1);
        self
    }

    /// How many I/O a run may issue before it counts as stuck (default
    /// [`DEFAULT_MAX_IOS`]).
    pub fn max_ios(mut self, ios: usize) -> Self {
        self.limits.max_ios = ios;
        self
    }

    /// Runs every mode and seed; the first difference is the error.
    pub fn run(&self) -> std::result::Result<Summary, Failure> {
        let seeds = self.seed_range()?;
        let mut summary = Summary::default();
        for &mode in &self.modes {
            for seed in seeds.clone() {
                let a = self.run_side(&self.make_a, 0, seed, mode)?;
                let b = self.run_side(&self.make_b, 1, seed, mode)?;
                if let Some((difference, file_bytes)) = compare(&a, &b) {
                    return Err(Failure::Mismatch(Box::new(Mismatch {
                        seed,
                        mode,
                        names: self.names.clone(),
                        difference,
                        outcomes: [a.outcome.to_string(), b.outcome.to_string()],
                        calls: [a.calls, b.calls],
                        observed: [a.observed, b.observed],
                        ios: [a.ios, b.ios],
                        file_bytes,
                    })));
                }
                if !a.outcome.is_clean() {
                    let tail = a.ios.len().saturating_sub(5);
                    return Err(Failure::Broken(Box::new(Broken {
                        a: self.names[0].clone(),
                        b: self.names[1].clone(),
                        seed,
                        mode,
                        outcome: a.outcome.to_string(),
                        last_ios: a.ios[tail..]
                            .iter()
                            .enumerate()
                            .map(|(i, r)| format!("  #{} call {}: {r}\n", tail + i + 1, r.call))
                            .collect(),
                    })));
                }
                summary.add(&a, &b);
            }
        }
        Ok(summary)
    }

    /// Runs every mode and seed and panics with the report at the first
    /// difference: for `#[test]` functions.
    #[track_caller]
    pub fn check(&self) -> Summary {
        match self.run() {
            Ok(summary) => summary,
            Err(failure) => panic!("{failure}"),
        }
    }

    fn seed_range(&self) -> std::result::Result<Range<u64>, Failure> {
        if let Some(seeds) = &self.seeds {
            return Ok(seeds.clone());
        }
        match std::env::var(SEEDS_VAR) {
            Ok(value) => parse_seeds(&value).ok_or(Failure::Config { value }),
            Err(_) => Ok(DEFAULT_SEEDS),
        }
    }

    fn run_side<O: Operation<Output = A::Output>>(
        &self,
        make: &dyn Fn(&Env) -> Result<O>,
        side: usize,
        seed: u64,
        mode: Mode,
    ) -> std::result::Result<Run<A::Output>, Failure> {
        let failed = |side: String, error: String| Failure::Setup {
            side,
            seed,
            mode,
            error,
        };
        let env = Env::new(seed, mode);
        if let Some(setup) = &self.setup {
            setup(&env).map_err(|e| failed("setup".into(), e.to_string()))?;
        }
        while env.sim().pending() > 0 {
            env.sim()
                .step()
                .map_err(|e| failed("setup".into(), e.to_string()))?;
        }
        env.forget_ios();
        let op = make(&env).map_err(|e| failed(self.names[side].clone(), e.to_string()))?;
        env.sim().set_faults(mode.faults());
        Ok(drive::run(&env, op, self.limits))
    }
}

/// `N` (seeds `0..N`) or `A..B`.
fn parse_seeds(value: &str) -> Option<Range<u64>> {
    let value = value.trim();
    match value.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            (a < b).then_some(a..b)
        }
        None => {
            let n: u64 = value.parse().ok()?;
            (n > 0).then_some(0..n)
        }
    }
}

/// Outcomes compared without call numbers: a hand-written machine may need
/// more calls than a generated one to get to the same panic.
fn same_outcome<T: PartialEq>(a: &Outcome<T>, b: &Outcome<T>) -> bool {
    match (a, b) {
        (Outcome::Done(x), Outcome::Done(y)) => x == y,
        (Outcome::Failed(x), Outcome::Failed(y)) => x == y,
        (Outcome::Panicked { message: x, .. }, Outcome::Panicked { message: y, .. }) => x == y,
        (Outcome::Stuck { reason: x, .. }, Outcome::Stuck { reason: y, .. }) => x == y,
        _ => false,
    }
}

type FileBytes = [Option<Vec<u8>>; 2];

/// The first file that differs, with both sides' bytes.
fn first_file_difference(
    a: &BTreeMap<String, Option<Vec<u8>>>,
    b: &BTreeMap<String, Option<Vec<u8>>>,
    durable: bool,
) -> Option<(Difference, FileBytes)> {
    let mut files: Vec<&String> = a.keys().chain(b.keys()).collect();
    files.sort();
    files.dedup();
    for file in files {
        let x = a.get(file).cloned().flatten();
        let y = b.get(file).cloned().flatten();
        if x == y {
            continue;
        }
        let offset = match (&x, &y) {
            (Some(x), Some(y)) => Some(
                x.iter()
                    .zip(y)
                    .position(|(p, q)| p != q)
                    .unwrap_or(x.len().min(y.len())),
            ),
            _ => None,
        };
        let difference = Difference::Contents {
            file: file.clone(),
            offset,
            durable,
        };
        return Some((difference, [x, y]));
    }
    None
}

fn compare<T: PartialEq>(a: &Run<T>, b: &Run<T>) -> Option<(Difference, FileBytes)> {
    let none = || [None, None];
    let longest = a.ios.len().max(b.ios.len());
    if let Some(index) = (0..longest).find(|&i| match (a.ios.get(i), b.ios.get(i)) {
        (Some(x), Some(y)) => !x.same_io(y),
        _ => true,
    }) {
        return Some((Difference::Io { index }, none()));
    }
    if !same_outcome(&a.outcome, &b.outcome) {
        return Some((Difference::Outcome, none()));
    }
    if a.observed != b.observed {
        return Some((Difference::Observed, none()));
    }
    first_file_difference(&a.contents, &b.contents, false)
        .or_else(|| first_file_difference(&a.durable, &b.durable, true))
}

/// What a passing [`DiffTest::run`] did: enough to see that the modes did
/// their work (faults were injected, re-entries happened).
///
/// ```
/// let s = io_model_difftest::Summary::default();
/// assert_eq!(s.to_string(), "0 runs compared: 0 I/O issued (0 failed by faults); 0 runs ended with the same error; calls 0 / 0, early re-entries 0 / 0");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Seed and mode pairs compared.
    pub runs: usize,
    /// I/O issued, per side (equal on both).
    pub ios: usize,
    /// Of those, the ones that failed (faults).
    pub failed_ios: usize,
    /// Runs that ended with an error (the same on both sides).
    pub errors: usize,
    /// Calls made by each implementation.
    pub calls: [usize; 2],
    /// Calls made by each implementation while what it waited for was
    /// still unfinished.
    pub early_reentries: [usize; 2],
}

impl Summary {
    fn add<T>(&mut self, a: &Run<T>, b: &Run<T>) {
        self.runs += 1;
        self.ios += a.ios.len();
        self.failed_ios += a
            .ios
            .iter()
            .filter(|r| matches!(r.result, Some(Err(_))))
            .count();
        self.errors += usize::from(matches!(a.outcome, Outcome::Failed(_)));
        self.calls[0] += a.calls;
        self.calls[1] += b.calls;
        self.early_reentries[0] += a.early;
        self.early_reentries[1] += b.early;
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} runs compared: {} I/O issued ({} failed by faults); {} runs ended with the same error; calls {} / {}, early re-entries {} / {}",
            self.runs,
            self.ios,
            self.failed_ios,
            self.errors,
            self.calls[0],
            self.calls[1],
            self.early_reentries[0],
            self.early_reentries[1]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seeds;

    #[test]
    fn seed_ranges_parse() {
        assert_eq!(parse_seeds("200"), Some(0..200));
        assert_eq!(parse_seeds(" 10..20 "), Some(10..20));
        assert_eq!(parse_seeds("0"), None);
        assert_eq!(parse_seeds("5..5"), None);
        assert_eq!(parse_seeds("many"), None);
    }
}
