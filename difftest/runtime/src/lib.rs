//! Runtime support of the random-program differential tester.
//!
//! The programs that `io-model-programs` generates are compiled in a crate
//! of their own that depends on this one. Each program exists twice: a
//! `#[io_model::resumable]` form, driven here by one of the [`Mode`]s, and a
//! straight-line oracle form. Both record what they do in the [`Env`]'s
//! log (statement ids, values, I/O issued, and `drop:N` when a [`Noisy`]
//! value is dropped); the two [`Report`]s are then compared by
//! [`compare`].
//!
//! The fate of the k-th I/O a run issues (finished at once, finished later,
//! failed) depends only on the mode, the seed and k ([`fate`]), so the
//! oracle sees the same failures as the resumable run. Failed I/O `k`
//! carries the error `ShortRead { expected: k, actual: 0 }`, and the
//! drivers finish failing completions in the order they were issued, so
//! that the first error of a `wait_all!` group is always the one of its
//! earliest failing member, as [`Env::oracle_wait_all`] assumes.

#![warn(missing_docs)]

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

pub use io_model;
use io_model::{Completion, CompletionError, IOResult};

/// Everything a generated program module needs, in one import.
pub mod prelude {
    pub use crate::{
        arr_rot, arr_sum, hand_add, hand_add_oracle, hand_lt, hand_lt_oracle, hand_next,
        hand_next_oracle, Env, HandState, Machine, Noisy, Slot,
    };
    pub use io_model::{Completion, IOResult};
}

/// A small deterministic PRNG (splitmix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

/// The splitmix64 finalizer: a good hash of one word.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How a run's completions behave and how the driver calls the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every completion finishes as it is created.
    Immediate,
    /// Completions stay pending; the driver finishes them in a seeded
    /// order and sometimes calls the operation again before anything
    /// finished.
    Deferred,
    /// As `Deferred`, and some I/Os fail.
    Failing,
    /// As `Deferred`; at a seeded suspension the driver calls `cancel()`.
    Cancel,
}

impl Mode {
    /// Every mode, in the order a program is run under them.
    pub const ALL: [Mode; 4] = [Mode::Immediate, Mode::Deferred, Mode::Failing, Mode::Cancel];

    /// The mode's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Immediate => "immediate",
            Mode::Deferred => "deferred",
            Mode::Failing => "failing",
            Mode::Cancel => "cancel",
        }
    }
}

/// What happens to one I/O.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fate {
    /// It fails (with `ShortRead { expected: k, actual: 0 }`).
    pub fails: bool,
    /// It finishes as it is created (when no earlier failing I/O is still
    /// pending).
    pub now: bool,
}

/// The fate of the `k`-th I/O of a run under `mode` and `seed`.
pub fn fate(mode: Mode, seed: u64, k: u64) -> Fate {
    let h = mix(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ mix(k.wrapping_add(17)));
    match mode {
        Mode::Immediate => Fate {
            fails: false,
            now: true,
        },
        Mode::Deferred | Mode::Cancel => Fate {
            fails: false,
            now: h % 100 < 25,
        },
        Mode::Failing => {
            // Some seeds fail often, some rarely.
            let percent = [4, 12, 30][(mix(seed ^ 0xFA11) % 3) as usize];
            Fate {
                fails: (h >> 8) % 100 < percent,
                now: h % 100 < 25,
            }
        }
    }
}

/// The error the `k`-th I/O fails with.
pub fn io_error(k: u64) -> CompletionError {
    CompletionError::ShortRead {
        expected: k as usize,
        actual: 0,
    }
}

struct Pending {
    k: u64,
    c: Completion,
    fails: bool,
}

struct Inner {
    mode: Mode,
    seed: u64,
    oracle: bool,
    issued: u64,
    pending: Vec<Pending>,
    rng: Rng,
    /// Oracle of a cancelled run: the state name and log length at which
    /// the resumable run was cancelled.
    cancel_at: Option<(String, usize)>,
    cancelled: bool,
    /// The oracle's completions, by I/O index.
    issued_list: Vec<Completion>,
}

/// The environment a program runs in: its log and its I/O.
pub struct Env {
    inner: RefCell<Inner>,
    log: Rc<RefCell<Vec<String>>>,
}

/// The error an oracle returns at the point where the resumable run was
/// cancelled (it unwinds the oracle's locals as `cancel()` drops the
/// stored ones).
pub const CANCELLED: &str = "cancelled";

impl Env {
    /// The environment of a run of a resumable form.
    pub fn new(mode: Mode, seed: u64) -> Env {
        Self::with(mode, seed, false)
    }

    /// The environment of an oracle run: every I/O is finished at once,
    /// failed exactly where the resumable run's would be.
    pub fn oracle(mode: Mode, seed: u64) -> Env {
        Self::with(mode, seed, true)
    }

    fn with(mode: Mode, seed: u64, oracle: bool) -> Env {
        Env {
            inner: RefCell::new(Inner {
                mode,
                seed,
                oracle,
                issued: 0,
                pending: Vec::new(),
                rng: Rng::new(seed ^ 0xD21E),
                cancel_at: None,
                cancelled: false,
                issued_list: Vec::new(),
            }),
            log: Rc::new(RefCell::new(Vec::new())),
        }
    }

    /// The oracle stops (with [`CANCELLED`]) at the point named `name`
    /// reached when the log holds `log_len` entries.
    pub fn set_cancel(&self, name: &str, log_len: usize) {
        self.inner.borrow_mut().cancel_at = Some((name.to_string(), log_len));
    }

    fn push(&self, entry: String) {
        self.log.borrow_mut().push(entry);
    }

    /// Logs statement `id`.
    pub fn log(&self, id: u32) {
        self.push(format!("s{id}"));
    }

    /// Logs statement `id` with a value.
    pub fn val<T: Debug + ?Sized>(&self, id: u32, v: &T) {
        self.push(format!("s{id}={v:?}"));
    }

    /// The log so far.
    pub fn entries(&self) -> Vec<String> {
        self.log.borrow().clone()
    }

    fn log_len(&self) -> usize {
        self.log.borrow().len()
    }

    /// A value whose drop is logged as `drop:id`.
    pub fn noisy(&self, id: u32) -> Noisy {
        Noisy {
            id,
            log: Rc::clone(&self.log),
        }
    }

    /// Takes a [`Noisy`] by value (a move into a function), logs it, drops it.
    pub fn consume(&self, n: Noisy) {
        self.push(format!("consume:{}", n.id));
        drop(n);
    }

    /// An expression that may fail: `Err` when `x % 7 == 3`.
    pub fn check(&self, x: u64) -> io_model::Result<u64> {
        if x % 7 == 3 {
            Err(io_model::Error::InvalidArgument(format!("check {x}")))
        } else {
            Ok(x % 1000 + 1)
        }
    }

    /// Issues an I/O tagged `tag`: a completion whose fate [`fate`] decides.
    pub fn io(&self, tag: u32) -> Completion {
        self.push(format!("io{tag}"));
        let c = Completion::new_write(|_| {});
        let mut inner = self.inner.borrow_mut();
        let k = inner.issued;
        inner.issued += 1;
        let f = fate(inner.mode, inner.seed, k);
        if inner.oracle {
            inner.issued_list.push(c.clone());
            drop(inner);
            if f.fails {
                c.error(io_error(k));
            } else {
                c.complete(0);
            }
            return c;
        }
        let earlier_failing = inner.pending.iter().any(|p| p.fails);
        if f.now && !(f.fails && earlier_failing) {
            drop(inner);
            if f.fails {
                c.error(io_error(k));
            } else {
                c.complete(0);
            }
        } else {
            inner.pending.push(Pending {
                k,
                c: c.clone(),
                fails: f.fails,
            });
        }
        c
    }

    /// The oracle of `wait!(c)`: `c` is finished; its error, if any.
    pub fn oracle_wait(&self, c: Completion) -> io_model::Result<()> {
        assert!(
            c.finished(),
            "BUG: an oracle waits for an unfinished completion"
        );
        match c.get_error() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// The oracle of `wait_all!(cs)`: the error of the failed one issued
    /// first (the drivers fail completions in the order they were issued,
    /// so that is the group's first error in time).
    pub fn oracle_wait_all(
        &self,
        cs: impl IntoIterator<Item = Completion>,
    ) -> io_model::Result<()> {
        let inner = self.inner.borrow();
        let mut first: Option<(usize, CompletionError)> = None;
        for c in cs {
            assert!(
                c.finished(),
                "BUG: an oracle waits for an unfinished completion"
            );
            let Some(e) = c.get_error() else { continue };
            let k = inner
                .issued_list
                .iter()
                .position(|d| d.ptr_eq(&c))
                .unwrap_or(usize::MAX);
            if first.map_or(true, |(j, _)| k < j) {
                first = Some((k, e));
            }
        }
        match first {
            Some((_, e)) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// An oracle arrives at the suspension point whose variant is `name`:
    /// where the resumable run was cancelled there, stop.
    pub fn at(&self, name: &str) -> io_model::Result<()> {
        let len = self.log_len();
        let mut inner = self.inner.borrow_mut();
        if inner.cancelled {
            return Ok(());
        }
        if let Some((n, l)) = &inner.cancel_at {
            if n == name && *l == len {
                inner.cancelled = true;
                return Err(io_model::Error::InvalidArgument(CANCELLED.to_string()));
            }
        }
        Ok(())
    }

    /// Finishes one pending completion chosen by the seed (a failing one
    /// only after every earlier failing one); false if none is pending.
    fn finish_one(&self) -> bool {
        let mut inner = self.inner.borrow_mut();
        if inner.pending.is_empty() {
            return false;
        }
        let n = inner.pending.len() as u64;
        let mut i = inner.rng.below(n) as usize;
        if inner.pending[i].fails {
            // The earliest failing one goes first.
            i = inner
                .pending
                .iter()
                .enumerate()
                .filter(|(_, p)| p.fails)
                .min_by_key(|(_, p)| p.k)
                .map(|(j, _)| j)
                .unwrap_or(i);
        }
        let p = inner.pending.remove(i);
        drop(inner);
        if p.fails {
            p.c.error(io_error(p.k));
        } else {
            p.c.complete(0);
        }
        true
    }

    fn chance(&self, percent: u64) -> bool {
        self.inner.borrow_mut().rng.chance(percent)
    }
}

/// A value whose drop is logged (`drop:id`).
pub struct Noisy {
    id: u32,
    log: Rc<RefCell<Vec<String>>>,
}

impl Noisy {
    /// Its id.
    pub fn id(&self) -> u64 {
        u64::from(self.id)
    }
}

impl Debug for Noisy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Noisy({})", self.id)
    }
}

impl Drop for Noisy {
    fn drop(&mut self) {
        self.log.borrow_mut().push(format!("drop:{}", self.id));
    }
}

/// The oracle's holder of a [`Noisy`] local: it can be dropped explicitly
/// where the resumable form drops it ([`kill`](Self::kill), a no-op when
/// the value was already moved or dropped), which plain `drop(x)` cannot
/// do for a value that is only maybe moved.
pub struct Slot(Option<Noisy>);

impl Slot {
    /// Holds `n`.
    pub fn new(n: Noisy) -> Slot {
        Slot(Some(n))
    }

    /// The value.
    ///
    /// # Panics
    ///
    /// If it was moved out (a generator bug: the program would not compile).
    pub fn get(&self) -> &Noisy {
        self.0.as_ref().expect("BUG: oracle reads a moved Noisy")
    }

    /// Moves the value out.
    ///
    /// # Panics
    ///
    /// If it was moved out already.
    pub fn take(&mut self) -> Noisy {
        self.0.take().expect("BUG: oracle moves a moved Noisy")
    }

    /// Drops the value if it is still here.
    pub fn kill(&mut self) {
        self.0 = None;
    }
}

/// The state of the hand-written sub-operations ([`hand_add`], [`hand_lt`],
/// [`hand_next`]): a hand-written state machine.
#[derive(Default, Debug)]
pub enum HandState {
    /// Not running.
    #[default]
    Idle,
    /// Waiting for its one I/O.
    Waiting {
        /// The I/O.
        c: Completion,
    },
}

impl HandState {
    /// Whether it is not running.
    pub fn is_idle(&self) -> bool {
        matches!(self, HandState::Idle)
    }
}

fn hand_op<T>(
    st: &mut HandState,
    env: &Env,
    tag: u32,
    value: impl FnOnce() -> T,
) -> io_model::Result<IOResult<T>> {
    loop {
        match std::mem::take(st) {
            HandState::Idle => {
                env.log(tag);
                let c = env.io(tag);
                *st = HandState::Waiting { c };
            }
            HandState::Waiting { c } => {
                if !c.finished() {
                    let io = IOResult::IO(c.clone().into());
                    *st = HandState::Waiting { c };
                    return Ok(io);
                }
                if let Some(e) = c.get_error() {
                    return Err(e.into());
                }
                env.log(tag + 1);
                return Ok(IOResult::Done(value()));
            }
        }
    }
}

fn hand_op_oracle<T>(env: &Env, tag: u32, value: impl FnOnce() -> T) -> io_model::Result<T> {
    env.log(tag);
    let c = env.io(tag);
    env.oracle_wait(c)?;
    env.log(tag + 1);
    Ok(value())
}

/// The wrapping sum of an array local, passed by value.
pub fn arr_sum(a: [u64; 4]) -> u64 {
    a.iter().fold(0, |s, x| s.wrapping_add(*x))
}

/// An array local, passed by value and returned rotated left by one, its
/// new first element plus one (wrapping).
pub fn arr_rot(a: [u64; 4]) -> [u64; 4] {
    [a[1].wrapping_add(1), a[2], a[3], a[0]]
}

/// A hand-written sub-operation: one I/O, then `(x * 3 + 1) % 1000`.
pub fn hand_add(st: &mut HandState, env: &Env, x: u64) -> io_model::Result<IOResult<u64>> {
    hand_op(st, env, 90_000, || (x.wrapping_mul(3) + 1) % 1000)
}

/// The oracle of [`hand_add`].
pub fn hand_add_oracle(env: &Env, x: u64) -> io_model::Result<u64> {
    hand_op_oracle(env, 90_000, || (x.wrapping_mul(3) + 1) % 1000)
}

/// A hand-written sub-operation: one I/O, then `a < b`.
pub fn hand_lt(st: &mut HandState, env: &Env, a: u64, b: u64) -> io_model::Result<IOResult<bool>> {
    hand_op(st, env, 91_000, || a < b)
}

/// The oracle of [`hand_lt`].
pub fn hand_lt_oracle(env: &Env, a: u64, b: u64) -> io_model::Result<bool> {
    hand_op_oracle(env, 91_000, || a < b)
}

/// A hand-written sub-operation: one I/O, then `Some(a * 2 % 1000)` while
/// `a < b`, else `None`.
pub fn hand_next(
    st: &mut HandState,
    env: &Env,
    a: u64,
    b: u64,
) -> io_model::Result<IOResult<Option<u64>>> {
    hand_op(st, env, 92_000, || (a < b).then_some(a * 2 % 1000))
}

/// The oracle of [`hand_next`].
pub fn hand_next_oracle(env: &Env, a: u64, b: u64) -> io_model::Result<Option<u64>> {
    hand_op_oracle(env, 92_000, || (a < b).then_some(a * 2 % 1000))
}

/// A resumable form, ready to be driven: the program's state and
/// arguments behind one object.
pub trait Machine {
    /// One call of the resumable function.
    fn step(&mut self, env: &Env) -> io_model::Result<IOResult<u64>>;
    /// Whether the state is idle.
    fn is_idle(&self) -> bool;
    /// The state's variant name.
    fn name(&self) -> &'static str;
    /// `cancel()` on the state.
    fn cancel(&mut self);
    /// Whether the variant `name` is a `wait!`/`wait_all!`/`yield_now!`
    /// point of the function itself (where the cancel driver may cancel).
    fn cancellable(&self, name: &str) -> bool;
}

/// What one run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `Ok(value)` or `Err(error)`, formatted.
    pub result: String,
    /// The log.
    pub log: Vec<String>,
    /// Whether the state was idle at the end.
    pub idle: bool,
    /// A panic, a hang or a stuck wait, if the run ended so.
    pub failure: Option<String>,
    /// Where the cancel driver cancelled: the state name and log length.
    pub cancelled: Option<(String, usize)>,
}

/// The most calls a driver makes before it calls the run a hang.
pub const MAX_CALLS: usize = 200_000;

thread_local! {
    static PANIC_MSG: RefCell<Option<String>> = const { RefCell::new(None) };
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs a panic hook that records the message instead of printing it
/// (the reports carry it).
pub fn quiet_panics() {
    QUIET.with(|q| q.set(true));
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if QUIET.with(|q| q.get()) {
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "panic".to_string()
            };
            let loc = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            PANIC_MSG.with(|m| *m.borrow_mut() = Some(format!("{msg}{loc}")));
        } else {
            prev(info);
        }
    }));
}

fn panic_message() -> String {
    PANIC_MSG
        .with(|m| m.borrow_mut().take())
        .unwrap_or_else(|| "panic".to_string())
        .replace('\n', " ")
}

fn format_result<T: Debug>(r: &io_model::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({e:?})"),
    }
}

/// Runs an oracle form.
pub fn run_oracle(env: &Env, f: impl FnOnce() -> io_model::Result<u64>) -> Report {
    let r = catch_unwind(AssertUnwindSafe(f));
    let (result, failure) = match r {
        Ok(r) => (format_result(&r), None),
        Err(_) => (
            String::new(),
            Some(format!("oracle panic: {}", panic_message())),
        ),
    };
    Report {
        result,
        log: env.entries(),
        idle: true,
        failure,
        cancelled: None,
    }
}

/// Drives a resumable form under `mode` until it is done, failed, or (in
/// [`Mode::Cancel`]) cancelled.
pub fn drive(env: &Env, mode: Mode, m: &mut dyn Machine) -> Report {
    let mut cancelled = None;
    let r = catch_unwind(AssertUnwindSafe(
        || -> Result<io_model::Result<u64>, String> {
            let mut calls = 0usize;
            loop {
                calls += 1;
                if calls > MAX_CALLS {
                    return Err(format!("hang: more than {MAX_CALLS} calls"));
                }
                let io = match m.step(env) {
                    Err(e) => return Ok(Err(e)),
                    Ok(IOResult::Done(v)) => return Ok(Ok(v)),
                    Ok(IOResult::IO(io)) => io.into_completion(),
                };
                if mode == Mode::Cancel && m.cancellable(m.name()) && env.chance(25) {
                    cancelled = Some((m.name().to_string(), env.log_len()));
                    m.cancel();
                    return Ok(Err(io_model::Error::InvalidArgument(CANCELLED.to_string())));
                }
                if io.is_explicit_yield() {
                    if env.chance(50) {
                        env.finish_one();
                    }
                    continue;
                }
                while !io.finished() {
                    if mode != Mode::Immediate && env.chance(20) {
                        // A caller that resumes before anything finished.
                        break;
                    }
                    if !env.finish_one() {
                        return Err(format!(
                            "stuck: the state {} waits for a completion nothing can finish",
                            m.name()
                        ));
                    }
                }
            }
        },
    ));
    let (result, failure) = match r {
        Ok(Ok(r)) => (format_result(&r), None),
        Ok(Err(f)) => (String::new(), Some(f)),
        Err(_) => (String::new(), Some(format!("panic: {}", panic_message()))),
    };
    let idle = catch_unwind(AssertUnwindSafe(|| m.is_idle())).unwrap_or(false);
    Report {
        result,
        log: env.entries(),
        idle,
        failure,
        cancelled,
    }
}

/// How a resumable run differs from its oracle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// `oracle-panic` (a generator bug), `panic`, `result`, `log`, `drop`
    /// or `state-not-idle`.
    pub kind: &'static str,
    /// One line saying what differs.
    pub detail: String,
}

fn is_drop(e: &str) -> bool {
    e.starts_with("drop:")
}

fn first_difference(a: &[String], b: &[String]) -> String {
    let i = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let at = |v: &[String]| {
        v.get(i..(i + 4).min(v.len()))
            .map(|s| s.join(","))
            .unwrap_or_default()
    };
    format!(
        "at entry {i}: oracle [{}] resumable [{}] (lengths {} and {})",
        at(a),
        at(b),
        a.len(),
        b.len()
    )
}

/// Compares a resumable run with its oracle.
pub fn compare(oracle: &Report, got: &Report) -> Option<Divergence> {
    if let Some(f) = &oracle.failure {
        return Some(Divergence {
            kind: "oracle-panic",
            detail: f.clone(),
        });
    }
    if let Some(f) = &got.failure {
        return Some(Divergence {
            kind: "panic",
            detail: f.clone(),
        });
    }
    if oracle.result != got.result {
        return Some(Divergence {
            kind: "result",
            detail: format!("oracle {} resumable {}", oracle.result, got.result),
        });
    }
    if oracle.log != got.log {
        let strip =
            |v: &[String]| -> Vec<String> { v.iter().filter(|e| !is_drop(e)).cloned().collect() };
        let kind = if strip(&oracle.log) == strip(&got.log) {
            "drop"
        } else {
            "log"
        };
        return Some(Divergence {
            kind,
            detail: first_difference(&oracle.log, &got.log),
        });
    }
    if !got.idle {
        return Some(Divergence {
            kind: "state-not-idle",
            detail: "the state is not idle after the run ended".to_string(),
        });
    }
    None
}

/// Runs one program under `mode` and `seed` and compares it with its
/// oracle. `resumable` makes a fresh machine; `oracle` runs the oracle
/// form in the environment it is given.
pub fn check(
    mode: Mode,
    seed: u64,
    resumable: &dyn Fn() -> Box<dyn Machine>,
    oracle: &dyn Fn(&Env) -> io_model::Result<u64>,
) -> Option<Divergence> {
    check_run(mode, seed, resumable, oracle).0
}

/// As [`check`], and whether the run was cancelled.
pub fn check_run(
    mode: Mode,
    seed: u64,
    resumable: &dyn Fn() -> Box<dyn Machine>,
    oracle: &dyn Fn(&Env) -> io_model::Result<u64>,
) -> (Option<Divergence>, bool) {
    let env = Env::new(mode, seed);
    let mut m = resumable();
    let got = drive(&env, mode, &mut *m);
    // A second run of the same machine (its state idle again, its
    // sub-operations' states reused) must behave as a first one.
    let second = (mode == Mode::Deferred && got.failure.is_none() && got.idle).then(|| {
        let env = Env::new(mode, seed ^ 0x5EC0);
        drive(&env, mode, &mut *m)
    });
    drop(m);
    if let Some(got2) = second {
        let oenv = Env::oracle(mode, seed ^ 0x5EC0);
        let want2 = run_oracle(&oenv, || oracle(&oenv));
        if let Some(mut d) = compare(&want2, &got2) {
            d.detail = format!("second run of the same state: {}", d.detail);
            return (Some(d), false);
        }
    }
    let oenv = Env::oracle(mode, seed);
    if let Some((name, len)) = &got.cancelled {
        oenv.set_cancel(name, *len);
    }
    let want = run_oracle(&oenv, || oracle(&oenv));
    let cancelled = got.cancelled.is_some();
    if cancelled && !oenv.inner.borrow().cancelled && want.failure.is_none() {
        let d = Divergence {
            kind: "cancel",
            detail: format!(
                "cancelled at {:?} but the oracle never reached that point with that log",
                got.cancelled
            ),
        };
        return (Some(d), cancelled);
    }
    (compare(&want, &got), cancelled)
}

/// Runs every mode for `seeds` seeds (derived from the run's `base` seed
/// and the program's number) and prints one line per run:
/// `R <program> <mode> <seed> ok` (`ok c`: it was cancelled) or
/// `R <program> <mode> <seed> div <kind> <detail>`.
pub fn check_all(
    program: usize,
    base: u64,
    seeds: u64,
    resumable: &dyn Fn() -> Box<dyn Machine>,
    oracle: &dyn Fn(&Env) -> io_model::Result<u64>,
) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for mode in Mode::ALL {
        let n = if mode == Mode::Immediate { 1 } else { seeds };
        for s in 0..n {
            let seed = mix(base ^ mix((program as u64) << 20 ^ s ^ (mode as u64) << 40));
            match check_run(mode, seed, resumable, oracle) {
                (None, cancelled) => {
                    let c = if cancelled { " c" } else { "" };
                    let _ = writeln!(out, "R {program} {} {seed} ok{c}", mode.name());
                }
                (Some(d), _) => {
                    let _ = writeln!(
                        out,
                        "R {program} {} {seed} div {} {}",
                        mode.name(),
                        d.kind,
                        d.detail
                    );
                }
            }
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(log: &[&str], result: &str) -> Report {
        Report {
            result: result.into(),
            log: log.iter().map(|s| s.to_string()).collect(),
            idle: true,
            failure: None,
            cancelled: None,
        }
    }

    #[test]
    fn fates_depend_only_on_mode_seed_and_index() {
        for k in 0..100 {
            assert_eq!(fate(Mode::Failing, 9, k), fate(Mode::Failing, 9, k));
            assert!(!fate(Mode::Deferred, 9, k).fails);
            assert!(fate(Mode::Immediate, 9, k).now);
        }
    }

    #[test]
    fn divergences_are_classified() {
        let a = report(&["s1", "drop:1", "s2"], "Ok(1)");
        assert_eq!(compare(&a, &a), None);
        let moved = report(&["drop:1", "s1", "s2"], "Ok(1)");
        assert_eq!(compare(&a, &moved).map(|d| d.kind), Some("drop"));
        let other = report(&["s1", "drop:1", "s3"], "Ok(1)");
        assert_eq!(compare(&a, &other).map(|d| d.kind), Some("log"));
        let res = report(&["s1", "drop:1", "s2"], "Ok(2)");
        assert_eq!(compare(&a, &res).map(|d| d.kind), Some("result"));
        let mut busy = a.clone();
        busy.idle = false;
        assert_eq!(compare(&a, &busy).map(|d| d.kind), Some("state-not-idle"));
    }

    #[test]
    fn the_oracle_reports_the_failed_io_issued_first() {
        // Find a seed whose I/O 0 and 1 both fail.
        let seed = (0..10_000)
            .find(|s| fate(Mode::Failing, *s, 0).fails && fate(Mode::Failing, *s, 1).fails)
            .expect("a seed failing both");
        let env = Env::oracle(Mode::Failing, seed);
        let first = env.io(1);
        let second = env.io(2);
        let e = env.oracle_wait_all([second, first]).unwrap_err();
        assert!(matches!(
            e,
            io_model::Error::Completion(CompletionError::ShortRead { expected: 0, .. })
        ));
    }
}
