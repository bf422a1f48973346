//! A generic wrapper for hand-written state machines.
//!
//! Implement [`StateTransition`] for a state type whose `step` does one
//! transition; [`StateMachine`] loops it until it waits for I/O or is done,
//! and refuses to be stepped after it finished.
//!
//! ```
//! use io_model::state_machine::{StateMachine, StateTransition, TransitionResult};
//! use io_model::{Completion, IOResult, Result};
//!
//! /// Counts to three, waiting for one (explicit-yield) completion halfway.
//! struct Count { n: u32, waited: bool, done: bool }
//!
//! impl StateTransition for Count {
//!     type Context = ();
//!     type SMResult = u32;
//!     fn step(&mut self, _: &()) -> Result<TransitionResult<u32>> {
//!         if self.n == 3 {
//!             self.done = true;
//!             return Ok(TransitionResult::Done(self.n));
//!         }
//!         if self.n == 1 && !self.waited {
//!             self.waited = true;
//!             return Ok(TransitionResult::Io(Completion::new_yield().into()));
//!         }
//!         self.n += 1;
//!         Ok(TransitionResult::Continue)
//!     }
//!     fn finalize(&mut self, _: &()) -> Result<()> { self.done = true; Ok(()) }
//!     fn is_finalized(&self) -> bool { self.done }
//! }
//!
//! let mut sm = StateMachine::new(Count { n: 0, waited: false, done: false });
//! assert!(sm.step(&()).unwrap().is_io());
//! assert_eq!(sm.step(&()).unwrap().done(), Some(3));
//! assert!(sm.is_finalized());
//! ```

use crate::{IOCompletions, IOResult, Result};

/// The outcome of one transition.
///
/// ```
/// use io_model::state_machine::TransitionResult;
/// let t: TransitionResult<u8> = TransitionResult::Continue;
/// assert!(matches!(t, TransitionResult::Continue));
/// ```
#[derive(Debug)]
pub enum TransitionResult<R> {
    /// Wait for these completions, then step again.
    Io(IOCompletions),
    /// Step again at once.
    Continue,
    /// The machine finished with this result.
    Done(R),
}

/// One state machine's transitions.
///
/// ```
/// use io_model::state_machine::{StateTransition, TransitionResult};
///
/// struct Once(bool);
/// impl StateTransition for Once {
///     type Context = ();
///     type SMResult = ();
///     fn step(&mut self, _: &()) -> io_model::Result<TransitionResult<()>> {
///         self.0 = true;
///         Ok(TransitionResult::Done(()))
///     }
///     fn finalize(&mut self, _: &()) -> io_model::Result<()> { self.0 = true; Ok(()) }
///     fn is_finalized(&self) -> bool { self.0 }
/// }
/// ```
pub trait StateTransition {
    /// What every transition is given (a pager, a connection, `()`).
    type Context: ?Sized;
    /// The machine's final result.
    type SMResult;

    /// Performs one transition.
    fn step(&mut self, context: &Self::Context) -> Result<TransitionResult<Self::SMResult>>;

    /// Finishes the machine early (or cleans up after `Done`); after it,
    /// [`is_finalized`](Self::is_finalized) is true.
    fn finalize(&mut self, context: &Self::Context) -> Result<()>;

    /// Whether the machine has finished.
    fn is_finalized(&self) -> bool;
}

impl<S: StateTransition + ?Sized> StateTransition for Box<S> {
    type Context = S::Context;
    type SMResult = S::SMResult;

    fn step(&mut self, context: &Self::Context) -> Result<TransitionResult<Self::SMResult>> {
        (**self).step(context)
    }

    fn finalize(&mut self, context: &Self::Context) -> Result<()> {
        (**self).finalize(context)
    }

    fn is_finalized(&self) -> bool {
        (**self).is_finalized()
    }
}

/// Drives a [`StateTransition`]: [`step`](Self::step) loops transitions
/// until the machine waits for I/O or is done.
///
/// ```
/// use io_model::state_machine::{StateMachine, StateTransition, TransitionResult};
///
/// struct Done;
/// impl StateTransition for Done {
///     type Context = ();
///     type SMResult = &'static str;
///     fn step(&mut self, _: &()) -> io_model::Result<TransitionResult<&'static str>> {
///         Ok(TransitionResult::Done("ok"))
///     }
///     fn finalize(&mut self, _: &()) -> io_model::Result<()> { Ok(()) }
///     fn is_finalized(&self) -> bool { true }
/// }
/// let mut sm = StateMachine::new(Done);
/// assert_eq!(sm.step(&()).unwrap().done(), Some("ok"));
/// ```
#[derive(Debug)]
pub struct StateMachine<S: StateTransition> {
    state: S,
    is_finalized: bool,
}

impl<S: StateTransition> StateMachine<S> {
    /// Wraps a machine in its initial state.
    ///
    /// ```
    /// # use io_model::state_machine::*;
    /// # struct S;
    /// # impl StateTransition for S {
    /// #     type Context = (); type SMResult = ();
    /// #     fn step(&mut self, _: &()) -> io_model::Result<TransitionResult<()>> { Ok(TransitionResult::Done(())) }
    /// #     fn finalize(&mut self, _: &()) -> io_model::Result<()> { Ok(()) }
    /// #     fn is_finalized(&self) -> bool { false }
    /// # }
    /// let sm = StateMachine::new(S);
    /// assert!(!sm.is_finalized());
    /// ```
    pub fn new(state: S) -> Self {
        Self {
            state,
            is_finalized: false,
        }
    }

    /// Runs transitions until the machine waits for I/O (`IO`) or finishes
    /// (`Done`). An error ends the run and finalizes the machine.
    ///
    /// # Panics
    ///
    /// If the machine has already finished: a finished machine is never
    /// stepped again; build a new one for a new run.
    pub fn step(&mut self, context: &S::Context) -> Result<IOResult<S::SMResult>> {
        assert!(
            !self.is_finalized,
            "StateMachine::step: the state machine `{}` has already finished; \
             create a new one for a new run (check `is_finalized()` first)",
            std::any::type_name::<S>()
        );
        loop {
            let transition = match self.state.step(context) {
                Ok(t) => t,
                Err(err) => {
                    self.is_finalized = true;
                    return Err(err);
                }
            };
            match transition {
                TransitionResult::Io(io) => return Ok(IOResult::IO(io)),
                TransitionResult::Continue => continue,
                TransitionResult::Done(result) => {
                    self.is_finalized = true;
                    return Ok(IOResult::Done(result));
                }
            }
        }
    }

    /// Finalizes the machine early; stepping it afterwards panics.
    pub fn finalize(&mut self, context: &S::Context) -> Result<()> {
        self.state.finalize(context)?;
        self.is_finalized = true;
        Ok(())
    }

    /// Whether the machine finished (done, failed or finalized).
    pub fn is_finalized(&self) -> bool {
        self.is_finalized
    }

    /// The current state.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The current state, mutably.
    pub fn state_mut(&mut self) -> &mut S {
        &mut self.state
    }

    /// Unwraps the state.
    pub fn into_inner(self) -> S {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Completion, CompletionError, Error};

    struct Steps {
        log: Vec<&'static str>,
        fail: bool,
        finalized: bool,
    }

    impl StateTransition for Steps {
        type Context = std::cell::Cell<u32>;
        type SMResult = usize;
        fn step(&mut self, ctx: &Self::Context) -> Result<TransitionResult<usize>> {
            ctx.set(ctx.get() + 1);
            match self.log.len() {
                0 => {
                    self.log.push("start");
                    Ok(TransitionResult::Continue)
                }
                1 => {
                    self.log.push("io");
                    Ok(TransitionResult::Io(Completion::new_yield().into()))
                }
                _ if self.fail => Err(Error::Completion(CompletionError::Aborted)),
                _ => {
                    self.log.push("done");
                    Ok(TransitionResult::Done(self.log.len()))
                }
            }
        }
        fn finalize(&mut self, _: &Self::Context) -> Result<()> {
            self.finalized = true;
            Ok(())
        }
        fn is_finalized(&self) -> bool {
            self.finalized
        }
    }

    fn steps(fail: bool) -> StateMachine<Steps> {
        StateMachine::new(Steps {
            log: vec![],
            fail,
            finalized: false,
        })
    }

    #[test]
    fn loops_continue_and_stops_on_io_and_done() {
        let ctx = std::cell::Cell::new(0);
        let mut sm = steps(false);
        assert!(sm.step(&ctx).unwrap().is_io());
        assert_eq!(ctx.get(), 2);
        assert_eq!(sm.step(&ctx).unwrap().done(), Some(3));
        assert!(sm.is_finalized());
        assert_eq!(sm.state().log, ["start", "io", "done"]);
    }

    #[test]
    #[should_panic(expected = "has already finished")]
    fn stepping_a_finished_machine_panics_clearly() {
        let ctx = std::cell::Cell::new(0);
        let mut sm = steps(false);
        while sm.step(&ctx).unwrap().is_io() {}
        let _ = sm.step(&ctx);
    }

    #[test]
    fn an_error_finishes_the_machine() {
        let ctx = std::cell::Cell::new(0);
        let mut sm = steps(true);
        assert!(sm.step(&ctx).unwrap().is_io());
        assert!(sm.step(&ctx).is_err());
        assert!(sm.is_finalized());
    }

    #[test]
    fn finalize_ends_early_and_boxed_states_work() {
        let ctx = std::cell::Cell::new(0);
        let mut sm: StateMachine<Box<Steps>> = StateMachine::new(Box::new(Steps {
            log: vec![],
            fail: false,
            finalized: false,
        }));
        assert!(sm.step(&ctx).unwrap().is_io());
        sm.finalize(&ctx).unwrap();
        assert!(sm.is_finalized());
        assert!(sm.into_inner().finalized);
    }
}
