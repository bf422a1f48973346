//! Driving one run of one implementation: [`Outcome`], and the loop that
//! calls the operation, re-enters it early and steps the simulator as the
//! [`Mode`] says.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use io_model::{IOResult, IO};

use crate::operation::Operation;
use crate::record::IoRecord;
use crate::{Env, Mode};

/// How one run of an implementation ended.
///
/// ```
/// use io_model_difftest::Outcome;
///
/// let o: Outcome<u32> = Outcome::Panicked { call: 3, message: "boom".into() };
/// assert_eq!(o.to_string(), "panicked in call 3: boom");
/// assert_eq!(Outcome::Done(4).to_string(), "Done(4)");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// It returned `Done` with this value.
    Done(T),
    /// It returned an error, shown by its `Debug` text.
    Failed(String),
    /// A call panicked.
    Panicked {
        /// The call that panicked, from 1.
        call: usize,
        /// The panic's message.
        message: String,
    },
    /// It never finished: it waits for a completion nothing will finish,
    /// or it was not done after the harness's call limit.
    Stuck {
        /// The last call made.
        call: usize,
        /// Why the harness gave up.
        reason: String,
    },
}

impl<T> Outcome<T> {
    /// Whether the run ended as a correct operation may end: done or with
    /// an error (not a panic, not stuck).
    pub fn is_clean(&self) -> bool {
        matches!(self, Outcome::Done(_) | Outcome::Failed(_))
    }
}

impl<T: fmt::Debug> fmt::Display for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Done(v) => write!(f, "Done({v:?})"),
            Outcome::Failed(e) => write!(f, "Err({e})"),
            Outcome::Panicked { call, message } => write!(f, "panicked in call {call}: {message}"),
            Outcome::Stuck { call, reason } => write!(f, "stuck after call {call}: {reason}"),
        }
    }
}

/// Everything one run of one implementation left behind.
pub(crate) struct Run<T> {
    pub(crate) outcome: Outcome<T>,
    pub(crate) ios: Vec<IoRecord>,
    pub(crate) calls: usize,
    /// Calls made while what the previous call waited for was unfinished.
    pub(crate) early: usize,
    pub(crate) observed: String,
    /// Each file's contents at the end (`None`: removed).
    pub(crate) contents: BTreeMap<String, Option<Vec<u8>>>,
    /// What of each file would survive a crash.
    pub(crate) durable: BTreeMap<String, Option<Vec<u8>>>,
}

/// The harness's own choices (early re-entries), drawn from the seed apart
/// from the simulator's, so that they never change what it delivers.
struct Choices(u64);

impl Choices {
    fn new(seed: u64) -> Self {
        Choices(seed ^ 0xD1B5_4A32_D192_ED03)
    }

    /// A fair coin (splitmix64).
    fn coin(&mut self) -> bool {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) & 1 == 1
    }
}

/// How far a run may go before the harness calls it stuck.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_calls: usize,
    pub(crate) max_ios: usize,
}

/// Early re-entries in a row before the harness waits.
const MAX_EARLY_IN_A_ROW: usize = 3;

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic payload that is not a string)".to_owned())
}

/// Steps until nothing is pending; false if the simulator failed to step.
fn drain(env: &Env) -> bool {
    while env.sim().pending() > 0 {
        if env.sim().step().is_err() {
            return false;
        }
    }
    true
}

/// Runs `op` to its end on `env`, as `mode` schedules it.
pub(crate) fn run<O: Operation>(env: &Env, mut op: O, limits: Limits) -> Run<O::Output> {
    let Limits { max_calls, max_ios } = limits;
    let mode = env.mode();
    let sim = env.sim();
    let mut choices = Choices::new(env.seed());
    let (mut calls, mut early, mut in_a_row) = (0, 0, 0);
    let outcome = loop {
        if calls == max_calls {
            break Outcome::Stuck {
                call: calls,
                reason: format!("not done after {max_calls} calls (the harness's limit)"),
            };
        }
        calls += 1;
        env.recorder().call = calls;
        let result = catch_unwind(AssertUnwindSafe(|| op.call()));
        let issued = {
            let mut rec = env.recorder();
            rec.call = 0;
            rec.ios.len()
        };
        if issued > max_ios {
            break Outcome::Stuck {
                call: calls,
                reason: format!(
                    "issued {issued} I/O, more than the harness's limit of {max_ios} \
                     (a machine that issues its I/O again on every call never finishes)"
                ),
            };
        }
        let c = match result {
            Err(p) => {
                break Outcome::Panicked {
                    call: calls,
                    message: panic_message(&*p),
                }
            }
            Ok(Err(e)) => break Outcome::Failed(format!("{e:?}")),
            Ok(Ok(IOResult::Done(v))) => break Outcome::Done(v),
            Ok(Ok(IOResult::IO(io))) => io.into_completion(),
        };
        if c.finished() {
            // An explicit yield, or a completion that is already done.
            in_a_row = 0;
            continue;
        }
        let reenter = match mode {
            Mode::Deferred => false,
            Mode::EarlyReentry | Mode::Faults(_) => in_a_row < MAX_EARLY_IN_A_ROW && choices.coin(),
            // Before each step, once.
            Mode::YieldEverything => in_a_row == 0,
        };
        if reenter {
            in_a_row += 1;
            early += 1;
            continue;
        }
        in_a_row = 0;
        let stuck = || Outcome::Stuck {
            call: calls,
            reason: "it waits for a completion that nothing will finish \
                     (not an I/O of the simulator, or never issued)"
                .to_owned(),
        };
        if mode == Mode::YieldEverything {
            if sim.pending() == 0 {
                break stuck();
            }
            // One operation, then call again whether or not `c` finished.
            if let Err(e) = sim.step() {
                break Outcome::Stuck {
                    call: calls,
                    reason: format!("the simulator failed to step: {e}"),
                };
            }
            if sim.pending() > 0 || c.finished() {
                continue;
            }
            // Nothing left to deliver and `c` is still unfinished.
            break stuck();
        }
        while !c.finished() && sim.pending() > 0 {
            if let Err(e) = sim.step() {
                return finish(
                    env,
                    &op,
                    Outcome::Stuck {
                        call: calls,
                        reason: format!("the simulator failed to step: {e}"),
                    },
                    calls,
                    early,
                );
            }
        }
        if !c.finished() {
            break stuck();
        }
    };
    finish(env, &op, outcome, calls, early)
}

/// Delivers what is still in flight and collects the run's results.
fn finish<O: Operation>(
    env: &Env,
    op: &O,
    mut outcome: Outcome<O::Output>,
    calls: usize,
    early: usize,
) -> Run<O::Output> {
    if !drain(env) && outcome.is_clean() {
        outcome = Outcome::Stuck {
            call: calls,
            reason: "the simulator failed to deliver the I/O left in flight".to_owned(),
        };
    }
    // After a panic the operation's locks may be poisoned: a panicking
    // `observe` is reported, not propagated.
    let observed = catch_unwind(AssertUnwindSafe(|| op.observe()))
        .unwrap_or_else(|p| format!("(observe panicked: {})", panic_message(&*p)));
    let files: Vec<String> = env.recorder().files.iter().cloned().collect();
    let sim = env.sim();
    Run {
        outcome,
        ios: env.finished_ios(),
        calls,
        early,
        observed,
        contents: files.iter().map(|f| (f.clone(), sim.contents(f))).collect(),
        durable: files
            .iter()
            .map(|f| (f.clone(), sim.durable_contents(f)))
            .collect(),
    }
}
