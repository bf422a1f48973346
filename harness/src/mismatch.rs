//! [`Mismatch`] and [`Failure`]: what the harness reports, and how it
//! reads.

use std::fmt;

use io_model_backends::OpKind;

use crate::record::IoRecord;
use crate::Mode;

/// What differed first between the two runs of one seed, in the order the
/// harness compares: issued I/O, outcome, in-memory state, file contents,
/// durable contents.
///
/// ```
/// use io_model_difftest::Difference;
/// let d = Difference::Io { index: 3 };
/// assert_eq!(d, Difference::Io { index: 3 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The issued I/O first differ at this index of the traces (from 0);
    /// one side may have issued nothing there.
    Io {
        /// Index into [`Mismatch::ios`].
        index: usize,
    },
    /// The same I/O, but the runs ended differently.
    Outcome,
    /// The runs ended alike, but [`Operation::observe`](crate::Operation::observe)
    /// differs.
    Observed,
    /// A file differs at the end: what a read would see, or (`durable`)
    /// what would survive a crash.
    Contents {
        /// The file's path.
        file: String,
        /// The first differing byte; `None` if the file exists on one side
        /// only.
        offset: Option<usize>,
        /// Whether the durable contents differ (the current ones are equal).
        durable: bool,
    },
}

/// Two implementations that differ on one seed: where, and both sides'
/// traces and outcomes. Its `Display` is the report.
#[derive(Clone)]
pub struct Mismatch {
    /// The seed of the differing runs.
    pub seed: u64,
    /// The mode of the differing runs.
    pub mode: Mode,
    /// The implementations' names.
    pub names: [String; 2],
    /// What differed first.
    pub difference: Difference,
    /// How each run ended (`Outcome`'s `Display`).
    pub outcomes: [String; 2],
    /// How many calls each run made.
    pub calls: [usize; 2],
    /// Each run's issued I/O.
    pub ios: [Vec<IoRecord>; 2],
    /// Each run's observed in-memory state.
    pub observed: [String; 2],
    /// Each side's bytes of the differing file, when that is the
    /// difference (`None`: no such file on that side).
    pub file_bytes: [Option<Vec<u8>>; 2],
}

/// How many I/O before and after the first difference a report shows.
const CONTEXT: usize = 3;

impl Mismatch {
    /// The first differing I/O of each side, when the difference is in the
    /// issued I/O (`None` on a side that issued nothing there).
    pub fn first_ios(&self) -> Option<[Option<&IoRecord>; 2]> {
        match self.difference {
            Difference::Io { index } => Some([self.ios[0].get(index), self.ios[1].get(index)]),
            _ => None,
        }
    }

    fn side_io(&self, side: usize, index: usize) -> String {
        match self.ios[side].get(index) {
            Some(r) => format!("call {}: {r}", r.call),
            None => format!(
                "(nothing: it issued {} I/O in all and ended {})",
                self.ios[side].len(),
                self.outcomes[side]
            ),
        }
    }

    /// Both traces side by side around `index`.
    fn window(&self, f: &mut fmt::Formatter<'_>, index: usize) -> fmt::Result {
        let longest = self.ios[0].len().max(self.ios[1].len());
        let from = index.saturating_sub(CONTEXT);
        let to = (index + CONTEXT + 1).min(longest);
        let cell = |side: usize, i: usize| match self.ios[side].get(i) {
            Some(r) => format!("call {:<3} {r}", r.call),
            None => "-".to_owned(),
        };
        let width = (from..to)
            .map(|i| cell(0, i).len())
            .chain([self.names[0].len()])
            .max()
            .unwrap_or(0);
        writeln!(f, "issued I/O around it:")?;
        writeln!(
            f,
            "  {:>5}  {:<width$} | {}",
            "", self.names[0], self.names[1]
        )?;
        for i in from..to {
            let mark = if i == index { ">" } else { " " };
            writeln!(
                f,
                "{mark} {:>5}  {:<width$} | {}",
                format!("#{}", i + 1),
                cell(0, i),
                cell(1, i)
            )?;
        }
        if from > 0 || to < longest {
            writeln!(
                f,
                "  ({} and {} I/O in all)",
                self.ios[0].len(),
                self.ios[1].len()
            )?;
        }
        Ok(())
    }

    /// The last write of side 0 that covered `offset` of `file`.
    fn last_write(&self, file: &str, offset: usize) -> Option<(usize, &IoRecord)> {
        let off = offset as u64;
        self.ios[0].iter().enumerate().rev().find(|(_, r)| {
            r.kind == OpKind::Write && r.file == file && r.offset <= off && off < r.offset + r.len
        })
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = &self.names;
        writeln!(
            f,
            "`{a}` and `{b}` differ on seed {} in mode {}",
            self.seed, self.mode
        )?;
        let width = a.len().max(b.len()) + 1;
        let named = |n: &str| format!("{n}:");
        match &self.difference {
            Difference::Io { index } => {
                writeln!(f, "first difference: I/O #{}", index + 1)?;
                writeln!(f, "  {:<width$} {}", named(a), self.side_io(0, *index))?;
                writeln!(f, "  {:<width$} {}", named(b), self.side_io(1, *index))?;
                if let (Some(x), Some(y)) = (self.ios[0].get(*index), self.ios[1].get(*index)) {
                    if let Some(d) = x.data_difference(y) {
                        writeln!(f, "  {d}")?;
                    }
                }
                self.window(f, *index)?;
            }
            Difference::Outcome => {
                writeln!(
                    f,
                    "first difference: how the runs ended (both issued the same {} I/O)",
                    self.ios[0].len()
                )?;
                let n = self.ios[0].len();
                if n > 0 {
                    self.window(f, n - 1)?;
                }
            }
            Difference::Observed => {
                writeln!(
                    f,
                    "first difference: the in-memory state after the run (same {} I/O, same outcome)",
                    self.ios[0].len()
                )?;
                writeln!(f, "  {:<width$} {}", named(a), self.observed[0])?;
                writeln!(f, "  {:<width$} {}", named(b), self.observed[1])?;
            }
            Difference::Contents {
                file,
                offset,
                durable,
            } => {
                let what = if *durable {
                    "what would survive a crash"
                } else {
                    "what a read sees at the end"
                };
                match offset {
                    None => {
                        let has = |side: usize| {
                            if self.file_bytes[side].is_some() {
                                "exists"
                            } else {
                                "does not exist"
                            }
                        };
                        writeln!(
                            f,
                            "first difference: file `{file}` ({what}) {} for `{a}` and {} for `{b}`",
                            has(0),
                            has(1)
                        )?;
                    }
                    Some(at) => {
                        writeln!(
                            f,
                            "first difference: file `{file}` ({what}) at byte {at} (same {} I/O, same outcome)",
                            self.ios[0].len()
                        )?;
                        for side in 0..2 {
                            let bytes = self.file_bytes[side].as_deref().unwrap_or(&[]);
                            let shown: Vec<String> = bytes[(*at).min(bytes.len())..]
                                .iter()
                                .take(8)
                                .map(|b| format!("{b:02x}"))
                                .collect();
                            writeln!(
                                f,
                                "  {:<width$} {} bytes; from byte {at}: {}",
                                named(&self.names[side]),
                                bytes.len(),
                                if shown.is_empty() {
                                    "(ends before)".to_owned()
                                } else {
                                    shown.join(" ")
                                }
                            )?;
                        }
                        match self.last_write(file, *at) {
                            Some((i, r)) => writeln!(
                                f,
                                "  last written there by I/O #{} ({r}, call {}); its bytes were equal when issued, so the buffer changed while in flight, or the delivery differed",
                                i + 1,
                                r.call
                            )?,
                            None => writeln!(f, "  no recorded write covers that byte")?,
                        }
                    }
                }
            }
        }
        writeln!(
            f,
            "outcomes: `{a}` {} ({} calls); `{b}` {} ({} calls)",
            self.outcomes[0], self.calls[0], self.outcomes[1], self.calls[1]
        )?;
        write!(
            f,
            "replay: .seeds({}..{}).modes([Mode::{:?}])",
            self.seed,
            self.seed + 1,
            self.mode
        )
    }
}

impl fmt::Debug for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a [`DiffTest`](crate::DiffTest) run failed. `Debug` prints the same
/// report as `Display`, so `run().unwrap()` reads well in a test.
///
/// ```
/// use io_model_difftest::{Failure, Mode};
/// let f = Failure::Setup { side: "hand".into(), seed: 4, mode: Mode::Deferred, error: "no db".into() };
/// assert_eq!(f.to_string(), "setting up `hand` failed on seed 4 in mode deferred: no db");
/// assert_eq!(f.seed(), Some(4));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The two implementations differ.
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
    /// Both runs agree, but they panicked or got stuck alike: a bug in
    /// both, or in the test.
    #[error("{0}")]
    Broken(Box<Broken>),
    /// The setup function or a factory returned an error.
    #[error("setting up `{side}` failed on seed {seed} in mode {mode}: {error}")]
    Setup {
        /// `setup`, or the implementation whose factory failed.
        side: String,
        /// The seed.
        seed: u64,
        /// The mode.
        mode: Mode,
        /// The error.
        error: String,
    },
    /// `IO_MODEL_DIFFTEST_SEEDS` is not a count or a range.
    #[error(
        "IO_MODEL_DIFFTEST_SEEDS={value:?} is not a seed count (`200`) or a range (`100..300`)"
    )]
    Config {
        /// The variable's value.
        value: String,
    },
}

impl Failure {
    /// The seed the failure happened on.
    pub fn seed(&self) -> Option<u64> {
        match self {
            Failure::Mismatch(m) => Some(m.seed),
            Failure::Broken(b) => Some(b.seed),
            Failure::Setup { seed, .. } => Some(*seed),
            Failure::Config { .. } => None,
        }
    }

    /// The mismatch, if the implementations differ.
    pub fn mismatch(&self) -> Option<&Mismatch> {
        match self {
            Failure::Mismatch(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Two runs that agree but did not end cleanly (see [`Failure::Broken`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "`{a}` and `{b}` agree on seed {seed} in mode {mode}, but neither ended cleanly: {outcome}\n{last_ios}replay: .seeds({seed}..{next}).modes([Mode::{mode:?}])",
    next = seed + 1
)]
pub struct Broken {
    /// The first implementation's name.
    pub a: String,
    /// The second implementation's name.
    pub b: String,
    /// The seed.
    pub seed: u64,
    /// The mode.
    pub mode: Mode,
    /// How both ended.
    pub outcome: String,
    /// The last I/O issued, one a line.
    pub last_ios: String,
}
