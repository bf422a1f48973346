//! [`Mode`]: how the harness schedules completions and calls.

use std::fmt;

use io_model_backends::Faults;

/// How a run is scheduled. Every mode runs on a [`SimIO`] built from the
/// seed, so completions are always deferred to a later step; the modes
/// differ in when the harness calls the operation again and in what the
/// simulator delivers.
///
/// | mode | delivery | calls again | exposes |
/// |---|---|---|---|
/// | `Deferred` | seeded order and delays | once what it waits for has finished | side effects before a wait, reordering |
/// | `EarlyReentry` | seeded | often before anything finished (up to 3 times in a row) | a waiting state that assumes its completion is done |
/// | `Faults(f)` | seeded, with faults `f` | as `EarlyReentry` | unchecked errors, cleanup on failure |
/// | `YieldEverything` | one operation per step, oldest first ([`SimIO::one_at_a_time`]) | before any completion, then after every step | every mutation placed before a suspension point |
///
/// [`SimIO`]: io_model_backends::SimIO
/// [`SimIO::one_at_a_time`]: io_model_backends::SimIO::one_at_a_time
///
/// ```
/// use io_model_difftest::Mode;
///
/// assert_eq!(Mode::all().len(), 4);
/// assert_eq!(Mode::YieldEverything.to_string(), "yield-everything");
/// assert_eq!(Mode::Faults(Mode::DEFAULT_FAULTS).name(), "faults");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Completions delivered late and out of order, as the seed draws them;
    /// the operation is called again once what it returned has finished.
    Deferred,
    /// As `Deferred`, and after half of its waits the operation is called
    /// again before anything finished, up to three times in a row.
    EarlyReentry,
    /// As `EarlyReentry`, with these faults injected after setup.
    Faults(Faults),
    /// Every I/O suspends at least once and re-entry comes before
    /// completion: the simulator delivers one operation per step, oldest
    /// first, and the harness calls the operation again before each step
    /// and after it.
    YieldEverything,
}

impl Mode {
    /// The faults of [`Mode::all`]'s fault mode: 3% of reads and writes
    /// and 5% of syncs fail.
    pub const DEFAULT_FAULTS: Faults = Faults {
        read_error: 0.03,
        write_error: 0.03,
        sync_error: 0.05,
        short_read: 0.0,
        torn_write: 0.0,
    };

    /// The four modes, simplest first: what [`DiffTest`](crate::DiffTest)
    /// runs unless told otherwise.
    ///
    /// ```
    /// use io_model_difftest::Mode;
    /// assert_eq!(Mode::all()[0], Mode::Deferred);
    /// ```
    pub fn all() -> [Mode; 4] {
        [
            Mode::Deferred,
            Mode::EarlyReentry,
            Mode::Faults(Self::DEFAULT_FAULTS),
            Mode::YieldEverything,
        ]
    }

    /// A short name for reports.
    ///
    /// ```
    /// assert_eq!(io_model_difftest::Mode::EarlyReentry.name(), "early-reentry");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Deferred => "deferred",
            Mode::EarlyReentry => "early-reentry",
            Mode::Faults(_) => "faults",
            Mode::YieldEverything => "yield-everything",
        }
    }

    /// The faults injected after setup.
    pub(crate) fn faults(&self) -> Faults {
        match self {
            Mode::Faults(f) => *f,
            _ => Faults::none(),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
