//! [`IOResult`], [`IOCompletions`] and the propagation macros.

use crate::Completion;

/// What an unfinished operation waits for.
///
/// ```
/// use io_model::{Completion, IOCompletions};
///
/// let io = IOCompletions::Single(Completion::new_yield());
/// assert!(io.completion().is_explicit_yield());
/// ```
#[derive(Debug, Clone)]
pub enum IOCompletions {
    /// One completion; a [`CompletionGroup`](crate::CompletionGroup) builds
    /// many into one.
    Single(Completion),
}

impl IOCompletions {
    /// The completion to wait for.
    ///
    /// ```
    /// let io = io_model::IOCompletions::Single(io_model::Completion::new_yield());
    /// assert!(io.completion().finished());
    /// ```
    pub fn completion(&self) -> &Completion {
        match self {
            IOCompletions::Single(c) => c,
        }
    }

    /// Consumes `self` into the completion to wait for.
    ///
    /// ```
    /// let io = io_model::IOCompletions::Single(io_model::Completion::new_yield());
    /// assert!(io.into_completion().is_explicit_yield());
    /// ```
    pub fn into_completion(self) -> Completion {
        match self {
            IOCompletions::Single(c) => c,
        }
    }

    /// Aborts what is waited for (see [`Completion::abort`]).
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// io_model::IOCompletions::Single(c.clone()).abort();
    /// assert!(c.failed());
    /// ```
    pub fn abort(&self) {
        self.completion().abort();
    }
}

impl From<Completion> for IOCompletions {
    fn from(c: Completion) -> Self {
        IOCompletions::Single(c)
    }
}

/// The result of one call of an operation that may wait for I/O.
///
/// `Done(value)`: the operation finished. `IO(completions)`: it is waiting;
/// call it again, with the same arguments, once the completion has finished
/// (or at once, if it is an explicit yield).
///
/// ```
/// use io_model::{IOResult, Completion};
///
/// let r: IOResult<u8> = IOResult::Done(3);
/// assert_eq!(r.map(|v| v * 2).done(), Some(6));
/// let w: IOResult<u8> = IOResult::IO(Completion::new_yield().into());
/// assert!(w.is_io());
/// ```
#[must_use = "an IOResult::IO must be waited on and the operation called again"]
#[derive(Debug, Clone)]
pub enum IOResult<T> {
    /// The operation finished with this value.
    Done(T),
    /// The operation waits for these completions.
    IO(IOCompletions),
}

impl<T> IOResult<T> {
    /// Whether the operation finished.
    ///
    /// ```
    /// assert!(io_model::IOResult::Done(()).is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        matches!(self, IOResult::Done(_))
    }

    /// Whether the operation waits for I/O.
    ///
    /// ```
    /// assert!(!io_model::IOResult::Done(()).is_io());
    /// ```
    pub fn is_io(&self) -> bool {
        matches!(self, IOResult::IO(_))
    }

    /// The value, if the operation finished.
    ///
    /// ```
    /// assert_eq!(io_model::IOResult::Done(5).done(), Some(5));
    /// ```
    pub fn done(self) -> Option<T> {
        match self {
            IOResult::Done(v) => Some(v),
            IOResult::IO(_) => None,
        }
    }

    /// What the operation waits for, if it waits.
    ///
    /// ```
    /// assert!(io_model::IOResult::Done(5).io().is_none());
    /// ```
    pub fn io(self) -> Option<IOCompletions> {
        match self {
            IOResult::Done(_) => None,
            IOResult::IO(io) => Some(io),
        }
    }

    /// Maps the finished value, leaving a wait as it is.
    ///
    /// ```
    /// let r = io_model::IOResult::Done(2).map(|v| v + 1);
    /// assert_eq!(r.done(), Some(3));
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> IOResult<U> {
        match self {
            IOResult::Done(v) => IOResult::Done(f(v)),
            IOResult::IO(io) => IOResult::IO(io),
        }
    }
}

/// Evaluates a `Result<IOResult<T>, E>`: yields `T` when it is
/// `Ok(Done(T))`, and otherwise returns from the enclosing function, with
/// `Ok(IOResult::IO(..))` to wait or with `Err(err.into())`.
///
/// It is the `.await` of this model: the enclosing function is called again
/// from its top after the wait, so nothing with a side effect may stand
/// before it (or use `#[resumable]`, which makes that safe).
///
/// ```
/// use io_model::{return_if_io, Completion, IOResult, Result};
///
/// fn inner(ready: bool) -> Result<IOResult<u32>> {
///     if ready { Ok(IOResult::Done(7)) } else { Ok(IOResult::IO(Completion::new_yield().into())) }
/// }
/// fn outer(ready: bool) -> Result<IOResult<u32>> {
///     let v = return_if_io!(inner(ready));
///     Ok(IOResult::Done(v + 1))
/// }
/// assert_eq!(outer(true).unwrap().done(), Some(8));
/// assert!(outer(false).unwrap().is_io());
/// ```
#[macro_export]
macro_rules! return_if_io {
    ($expr:expr $(,)?) => {
        match $expr {
            ::core::result::Result::Ok($crate::IOResult::Done(v)) => v,
            ::core::result::Result::Ok($crate::IOResult::IO(io)) => {
                return ::core::result::Result::Ok($crate::IOResult::IO(io));
            }
            ::core::result::Result::Err(err) => {
                return ::core::result::Result::Err(::core::convert::From::from(err));
            }
        }
    };
}

/// Like [`return_if_io!`], but before returning (to wait, or with an error)
/// writes `saved` back into `place` (a `&mut` to the state the caller took
/// out to satisfy the borrow checker).
///
/// ```
/// use io_model::{return_and_restore_if_io, Completion, IOResult, Result};
///
/// #[derive(Debug, PartialEq)]
/// enum St { Idle, Busy(u32) }
///
/// fn step(state: &mut St, ready: bool) -> Result<IOResult<u32>> {
///     let taken = std::mem::replace(state, St::Idle);
///     let St::Busy(n) = taken else { return Ok(IOResult::Done(0)) };
///     let op: Result<IOResult<u32>> = if ready { Ok(IOResult::Done(n)) } else { Ok(IOResult::IO(Completion::new_yield().into())) };
///     let v = return_and_restore_if_io!(state, St::Busy(n), op);
///     Ok(IOResult::Done(v))
/// }
///
/// let mut st = St::Busy(3);
/// assert!(step(&mut st, false).unwrap().is_io());
/// assert_eq!(st, St::Busy(3)); // restored
/// assert_eq!(step(&mut st, true).unwrap().done(), Some(3));
/// ```
#[macro_export]
macro_rules! return_and_restore_if_io {
    ($place:expr, $saved:expr, $expr:expr $(,)?) => {
        match $expr {
            ::core::result::Result::Ok($crate::IOResult::Done(v)) => v,
            ::core::result::Result::Ok($crate::IOResult::IO(io)) => {
                let _ = ::core::mem::replace($place, $saved);
                return ::core::result::Result::Ok($crate::IOResult::IO(io));
            }
            ::core::result::Result::Err(err) => {
                let _ = ::core::mem::replace($place, $saved);
                return ::core::result::Result::Err(::core::convert::From::from(err));
            }
        }
    };
}

/// Returns `Ok(IOResult::IO(IOCompletions::Single(completion)))` from the
/// enclosing function: "call me again once this has finished".
///
/// ```
/// use io_model::{io_yield_one, Completion, IOResult, Result};
///
/// fn wait_on(c: Completion) -> Result<IOResult<()>> {
///     if !c.finished() {
///         io_yield_one!(c);
///     }
///     Ok(IOResult::Done(()))
/// }
/// assert!(wait_on(Completion::new_sync(|_| {})).unwrap().is_io());
/// ```
#[macro_export]
macro_rules! io_yield_one {
    ($completion:expr $(,)?) => {
        return ::core::result::Result::Ok($crate::IOResult::IO($crate::IOCompletions::Single(
            $completion,
        )))
    };
}

#[cfg(test)]
mod tests {
    use crate::{Completion, CompletionError, IOResult};

    #[derive(Debug, PartialEq)]
    struct MyError(CompletionError);
    impl From<CompletionError> for MyError {
        fn from(e: CompletionError) -> Self {
            MyError(e)
        }
    }

    fn failing() -> Result<IOResult<u8>, CompletionError> {
        Err(CompletionError::ShortWrite)
    }

    // No imports at the call site beyond the macro itself.
    fn converts() -> Result<IOResult<u8>, MyError> {
        let v = crate::return_if_io!(failing());
        Ok(IOResult::Done(v))
    }

    fn yields() -> Result<IOResult<u8>, MyError> {
        crate::io_yield_one!(Completion::new_yield());
    }

    #[test]
    fn macros_convert_errors_into_any_from_type() {
        assert_eq!(
            converts().unwrap_err(),
            MyError(CompletionError::ShortWrite)
        );
        assert!(yields().unwrap().is_io());
    }

    #[test]
    fn restore_on_error_too() {
        fn op(state: &mut u8) -> Result<IOResult<()>, MyError> {
            let saved = std::mem::take(state);
            crate::return_and_restore_if_io!(state, saved, failing());
            Ok(IOResult::Done(()))
        }
        let mut s = 9;
        assert!(op(&mut s).is_err());
        assert_eq!(s, 9);
    }
}
