//! [`Operation`]: what the harness calls until it is done, and
//! [`Observed`], which adds in-memory state to compare.

use std::fmt;

use io_model::IOResult;

/// One run of the operation under test: the harness calls it until it is
/// [`Done`](IOResult::Done), fails, or panics.
///
/// Any closure `FnMut() -> Result<IOResult<T>, E>` is an `Operation`, so a
/// factory usually returns `move || pager.free_chain(first)`. Implement the
/// trait by hand (or use [`observed`]) when the run leaves in-memory state
/// that must also be equal, such as a freelist or a counter that is not
/// written to a file.
///
/// ```
/// use io_model::{IOResult, Result};
/// use io_model_difftest::Operation;
///
/// struct Count { calls: u32 }
/// impl Operation for Count {
///     type Output = u32;
///     type Error = io_model::Error;
///     fn call(&mut self) -> Result<IOResult<u32>> {
///         self.calls += 1;
///         Ok(IOResult::Done(7))
///     }
///     fn observe(&self) -> String {
///         format!("calls {}", self.calls)
///     }
/// }
///
/// let mut op = Count { calls: 0 };
/// assert_eq!(op.call().unwrap().done(), Some(7));
/// assert_eq!(op.observe(), "calls 1");
///
/// // A closure is an operation too; it observes nothing.
/// let mut f = || -> Result<IOResult<u8>> { Ok(IOResult::Done(1)) };
/// assert_eq!(Operation::call(&mut f).unwrap().done(), Some(1));
/// assert_eq!(f.observe(), "");
/// ```
pub trait Operation {
    /// What a finished run returns; both implementations must return equal
    /// values.
    type Output: fmt::Debug + PartialEq;
    /// The operation's error. Errors are compared by their `Debug` text.
    type Error: fmt::Debug;

    /// Calls the operation once, with the same arguments as every other
    /// call of this run.
    fn call(&mut self) -> Result<IOResult<Self::Output>, Self::Error>;

    /// In-memory state to compare once the run has ended, whatever its
    /// outcome (nothing unless overridden).
    fn observe(&self) -> String {
        String::new()
    }
}

impl<F, T, E> Operation for F
where
    F: FnMut() -> Result<IOResult<T>, E>,
    T: fmt::Debug + PartialEq,
    E: fmt::Debug,
{
    type Output = T;
    type Error = E;

    fn call(&mut self) -> Result<IOResult<T>, E> {
        self()
    }
}

/// An [`Operation`] made of a state, a call on it and a view of it; built
/// by [`observed`].
pub struct Observed<S, C, V> {
    state: S,
    call: C,
    view: V,
}

/// Builds an operation from `state`, the `call` that runs the operation on
/// it, and a `view` of the state that must be equal on both sides after
/// the run (compared by its `Debug` text).
///
/// ```
/// use io_model::{IOResult, Result};
/// use io_model_difftest::{observed, Operation};
///
/// struct Pager { freelist: Vec<u32> }
/// impl Pager {
///     fn free(&mut self, page: u32) -> Result<IOResult<()>> {
///         self.freelist.push(page);
///         Ok(IOResult::Done(()))
///     }
/// }
///
/// let mut op = observed(Pager { freelist: vec![] }, |p| p.free(3), |p| p.freelist.clone());
/// assert!(op.call().unwrap().is_done());
/// assert_eq!(op.observe(), "[3]");
/// ```
pub fn observed<S, C, V, T, E, O>(state: S, call: C, view: V) -> Observed<S, C, V>
where
    C: FnMut(&mut S) -> Result<IOResult<T>, E>,
    V: Fn(&S) -> O,
    O: fmt::Debug,
{
    Observed { state, call, view }
}

impl<S, C, V, T, E, O> Operation for Observed<S, C, V>
where
    C: FnMut(&mut S) -> Result<IOResult<T>, E>,
    V: Fn(&S) -> O,
    O: fmt::Debug,
    T: fmt::Debug + PartialEq,
    E: fmt::Debug,
{
    type Output = T;
    type Error = E;

    fn call(&mut self) -> Result<IOResult<T>, E> {
        (self.call)(&mut self.state)
    }

    fn observe(&self) -> String {
        format!("{:?}", (self.view)(&self.state))
    }
}
