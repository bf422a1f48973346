//! Shared helpers of the integration tests: a seeded driver that defers
//! every completion, and a log of side effects.
//!
//! [`Sched`] hands out completions that stay pending until the driver
//! finishes them. [`Sched::run`] calls an operation until it is done; while
//! it waits, the driver finishes pending completions in an order drawn from
//! the seed, sometimes fails one (when asked to), and sometimes calls the
//! operation again before anything finished, as a careless caller would.
//! Every test compares the log of a deferred run with the log of a run in
//! which every completion finishes at once (the straight-line execution).

use std::cell::RefCell;
use std::rc::Rc;

use io_model::{Completion, CompletionError, IOResult};

/// A small deterministic PRNG (splitmix64).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

struct Inner {
    rng: Rng,
    /// `None`: every completion finishes as it is created.
    deferred: bool,
    pending: Vec<Completion>,
    /// Percent of completions failed when the driver finishes them.
    fail_percent: u64,
    log: Vec<String>,
    issued: usize,
    resumes: usize,
    max_pending: usize,
}

/// The test scheduler: a cheap handle shared by the test and the code under
/// test.
#[derive(Clone)]
pub struct Sched(Rc<RefCell<Inner>>);

impl Sched {
    /// A scheduler whose completions stay pending until the driver finishes
    /// them, in an order drawn from `seed`.
    pub fn deferred(seed: u64) -> Self {
        Self::with(seed, true)
    }

    /// A scheduler whose completions finish as they are created: the
    /// straight-line execution.
    pub fn immediate() -> Self {
        Self::with(0, false)
    }

    fn with(seed: u64, deferred: bool) -> Self {
        Sched(Rc::new(RefCell::new(Inner {
            rng: Rng::new(seed),
            deferred,
            pending: Vec::new(),
            fail_percent: 0,
            log: Vec::new(),
            issued: 0,
            resumes: 0,
            max_pending: 0,
        })))
    }

    /// Fails this percentage of the completions the driver finishes.
    pub fn failing(self, percent: u64) -> Self {
        self.0.borrow_mut().fail_percent = percent;
        self
    }

    /// Issues one I/O: a completion that finishes later (or at once).
    pub fn io(&self, what: &str) -> Completion {
        let c = Completion::new_write(|_| {});
        let mut inner = self.0.borrow_mut();
        inner.issued += 1;
        inner.log.push(format!("io {what}"));
        if inner.deferred {
            inner.pending.push(c.clone());
            inner.max_pending = inner.max_pending.max(inner.pending.len());
        } else {
            c.complete(0);
        }
        c
    }

    /// Records a side effect.
    pub fn log(&self, entry: impl Into<String>) {
        self.0.borrow_mut().log.push(entry.into());
    }

    /// The side effects so far.
    pub fn entries(&self) -> Vec<String> {
        self.0.borrow().log.clone()
    }

    /// How many times the driver called an operation again.
    pub fn resumes(&self) -> usize {
        self.0.borrow().resumes
    }

    /// Completions still pending.
    pub fn pending(&self) -> usize {
        self.0.borrow().pending.len()
    }

    /// Finishes one pending completion chosen by the seed; false if none.
    pub fn finish_one(&self) -> bool {
        let mut inner = self.0.borrow_mut();
        if inner.pending.is_empty() {
            return false;
        }
        let len = inner.pending.len();
        let i = inner.rng.below(len);
        let c = inner.pending.swap_remove(i);
        let percent = inner.fail_percent;
        let fail = percent > 0 && inner.rng.chance(percent);
        drop(inner);
        if fail {
            c.error(CompletionError::IOError(std::io::ErrorKind::Other));
        } else {
            c.complete(0);
        }
        true
    }

    /// Calls `op` until it is done, driving completions in between.
    ///
    /// # Panics
    ///
    /// If the operation waits for a completion that nothing can finish.
    pub fn run<T, E>(&self, mut op: impl FnMut() -> Result<IOResult<T>, E>) -> Result<T, E> {
        loop {
            match op()? {
                IOResult::Done(v) => return Ok(v),
                IOResult::IO(io) => {
                    let c = io.into_completion();
                    self.0.borrow_mut().resumes += 1;
                    if c.is_explicit_yield() {
                        // Let other work progress now and then.
                        let finish = self.0.borrow_mut().rng.chance(50);
                        if finish {
                            self.finish_one();
                        }
                        continue;
                    }
                    while !c.finished() {
                        let early = {
                            let mut inner = self.0.borrow_mut();
                            inner.deferred && inner.rng.chance(20)
                        };
                        if early {
                            // A caller that resumes before anything finished.
                            break;
                        }
                        assert!(
                            self.finish_one(),
                            "the operation waits for a completion nothing can finish"
                        );
                    }
                }
            }
        }
    }
}

/// Runs `make(sched)` to completion on an immediate scheduler and on
/// deferred ones for `seeds` seeds, and asserts that every run logs the
/// same side effects and returns the same value. Returns the straight-line
/// log.
pub fn same_as_straight_line<T, E>(
    seeds: u64,
    mut make: impl FnMut(&Sched) -> Result<T, E>,
) -> Vec<String>
where
    T: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let reference = Sched::immediate();
    let expected = make(&reference).map_err(|e| format!("{e:?}"));
    let log = reference.entries();
    for seed in 0..seeds {
        let s = Sched::deferred(seed);
        let got = make(&s).map_err(|e| format!("{e:?}"));
        assert_eq!(got, expected, "seed {seed}: different result");
        assert_eq!(s.entries(), log, "seed {seed}: different side effects");
    }
    log
}

/// The message of the panic that `f` raises: panics if it returns.
///
/// ```
/// let msg = io_model_tests::panic_message(|| panic!("boom {}", 1));
/// assert_eq!(msg, "boom 1");
/// ```
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("the call was expected to panic");
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
