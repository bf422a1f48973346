//! The suspension markers. `#[resumable]` recognizes and rewrites them;
//! anywhere else they are compile errors that say so.

/// Waits for one [`Completion`](crate::Completion) inside a
/// [`#[resumable]`](macro@crate::resumable) function: evaluates its operand
/// once, suspends while it is unfinished, and returns its error (converted
/// with `From`) if it failed. Outside such a function it does not compile.
///
/// ```compile_fail
/// use io_model::wait;
/// fn not_resumable(c: io_model::Completion) {
///     wait!(c); // error: `wait!` can only be used inside a #[io_model::resumable] function
/// }
/// ```
#[macro_export]
macro_rules! wait {
    ($($tt:tt)*) => {
        ::core::compile_error!(
            "`wait!` can only be used inside a #[io_model::resumable] function; \
             add the attribute to the function (or to its impl block, with \
             #[resumable(state = ..)] on the method), or wait with `io_yield_one!`"
        )
    };
}

/// Waits for every completion of an `IntoIterator<Item = Completion>` inside
/// a [`#[resumable]`](macro@crate::resumable) function; the completions are
/// grouped once and the first error is returned. Outside such a function it
/// does not compile.
///
/// ```compile_fail
/// use io_model::wait_all;
/// fn not_resumable(cs: Vec<io_model::Completion>) {
///     wait_all!(cs);
/// }
/// ```
#[macro_export]
macro_rules! wait_all {
    ($($tt:tt)*) => {
        ::core::compile_error!(
            "`wait_all!` can only be used inside a #[io_model::resumable] function; \
             add the attribute to the function (or to its impl block, with \
             #[resumable(state = ..)] on the method), or build a `CompletionGroup` \
             and wait with `io_yield_one!`"
        )
    };
}

/// Drives a sub-operation returning `Result<IOResult<T>, E2>` inside a
/// [`#[resumable]`](macro@crate::resumable) function until it is `Done`,
/// and evaluates to `T`. Outside such a function it does not compile.
///
/// ```compile_fail
/// use io_model::call;
/// fn not_resumable() {
///     let v: u8 = call!(sub());
/// }
/// ```
#[macro_export]
macro_rules! call {
    ($($tt:tt)*) => {
        ::core::compile_error!(
            "`call!` can only be used inside a #[io_model::resumable] function; \
             add the attribute to the function (or to its impl block, with \
             #[resumable(state = ..)] on the method), or use `return_if_io!`"
        )
    };
}

/// Suspends once with an explicit yield inside a
/// [`#[resumable]`](macro@crate::resumable) function, giving the caller a
/// chance to run something else. Outside such a function it does not
/// compile.
///
/// ```compile_fail
/// use io_model::yield_now;
/// fn not_resumable() {
///     yield_now!();
/// }
/// ```
#[macro_export]
macro_rules! yield_now {
    ($($tt:tt)*) => {
        ::core::compile_error!(
            "`yield_now!` can only be used inside a #[io_model::resumable] function; \
             add the attribute to the function (or to its impl block, with \
             #[resumable(state = ..)] on the method), or yield with \
             `io_yield_one!(Completion::new_yield())`"
        )
    };
}

pub(crate) mod __private {
    // The generated code names these through one short alias
    // (`use ::io_model::__private as __io_rt;`), so that the paths it
    // repeats at every suspension point are a few tokens, not a dozen.
    pub use crate::{Completion, CompletionError, IOCompletions, IOResult};
    pub use core::mem::replace;
    pub use core::option::Option::{None, Some};
    pub use core::result::Result::{Err, Ok};
    pub use core::unreachable;

    use crate::CompletionGroup;

    /// What `wait!` accepts: a [`Completion`]. The trait exists for its
    /// error message.
    #[diagnostic::on_unimplemented(
        message = "`wait!` waits for a `Completion`, but this is `{Self}`",
        label = "not a `Completion`",
        note = "pass the completion of an I/O, e.g. `wait!(file.sync(c)?)`; to drive an operation that returns `Result<IOResult<T>, E>`, use `call!`"
    )]
    pub trait Waitable {
        /// The completion to wait for.
        fn into_completion(self) -> Completion;
    }

    impl Waitable for Completion {
        #[inline(always)]
        fn into_completion(self) -> Completion {
            self
        }
    }

    /// The operand of a `wait!`, checked to be a completion.
    #[inline(always)]
    pub fn waitable(c: impl Waitable) -> Completion {
        c.into_completion()
    }

    /// What `call!` accepts: an operation's `Result<IOResult<T>, E>`. The
    /// trait exists for its error message.
    #[diagnostic::on_unimplemented(
        message = "`call!` drives an operation that returns `Result<IOResult<T>, E>`, but this is `{Self}`",
        label = "not a `Result<IOResult<_>, _>`",
        note = "call a function that may wait for I/O (it returns `Result<IOResult<T>, E>`) inside `call!`; to wait for a `Completion`, use `wait!`"
    )]
    pub trait Operation<T, E> {
        /// The operation's result.
        fn into_result(self) -> Result<IOResult<T>, E>;
    }

    impl<T, E> Operation<T, E> for Result<IOResult<T>, E> {
        #[inline(always)]
        fn into_result(self) -> Result<IOResult<T>, E> {
            self
        }
    }

    /// A handle to `c` for the caller to wait on, if `c` has not finished:
    /// the suspension of a `wait!`.
    #[inline(always)]
    pub fn pending(c: &Completion) -> Option<Completion> {
        if c.finished() {
            None
        } else {
            Some(c.clone())
        }
    }

    /// The value a carrier holds: every path into the arm that takes it
    /// stored it first, so an empty carrier is a bug of the transform.
    #[inline(always)]
    pub fn carried<T>(carrier: &mut Option<T>) -> T {
        match carrier.take() {
            Some(value) => value,
            None => unreachable!("a carrier was read before it was stored"),
        }
    }

    /// The result of a call that suspends on `c`.
    #[inline(always)]
    pub fn suspended<T, E>(c: Completion) -> Result<IOResult<T>, E> {
        Ok(IOResult::IO(IOCompletions::Single(c)))
    }

    /// The result of a call that suspends at a `yield_now!`.
    #[inline(always)]
    pub fn yielded<T, E>() -> Result<IOResult<T>, E> {
        Ok(IOResult::IO(IOCompletions::Single(Completion::new_yield())))
    }

    /// The operand of a `call!`, checked to be an operation's result.
    #[inline(always)]
    pub fn operation<T, E, O: Operation<T, E>>(o: O) -> Result<IOResult<T>, E> {
        o.into_result()
    }

    /// A completion's error as the function's error type `E`.
    #[inline(always)]
    pub fn completion_error<E: From<CompletionError>>(e: CompletionError) -> E {
        E::from(e)
    }

    /// A sub-operation's error as the function's error type `E`.
    #[inline(always)]
    pub fn operation_error<E2, E: From<E2>>(e: E2) -> E {
        E::from(e)
    }

    /// Always true. A `yield_now!` suspends behind `if suspend() { .. }` so
    /// that the code after it does not read as unreachable in the arm that
    /// first reaches it (it runs in the next call's arm).
    #[inline(always)]
    pub const fn suspend() -> bool {
        true
    }

    /// The field named by `state = self.field` must hold the generated
    /// state enum. The trait exists for its error message; it is
    /// implemented only by `S` for itself.
    #[diagnostic::on_unimplemented(
        message = "`state = ..` names a place of type `{Self}`, but it must hold the state enum `{S}`",
        label = "this holds a `{Self}`, not the state",
        note = "declare the field with the generated enum's type: `field: {S}` (initialized with `{S}::default()`)"
    )]
    pub trait StatePlace<S> {
        /// The state enum in this place.
        fn state(&mut self) -> &mut S;
    }

    impl<S> StatePlace<S> for S {
        #[inline(always)]
        fn state(&mut self) -> &mut S {
            self
        }
    }

    /// The state place, checked to hold the state enum `S`.
    #[inline(always)]
    pub fn state<S, P: StatePlace<S>>(place: &mut P) -> &mut S {
        place.state()
    }

    /// What `state = <guard expression>` must give: a value that derefs
    /// mutably to the state enum `S` (`MutexGuard<S>`, `RefMut<S>`,
    /// `RwLockWriteGuard<S>`, a lock crate's guard, or `&mut S`). The trait
    /// exists for its error message.
    #[diagnostic::on_unimplemented(
        message = "`state = ..` is an expression of type `{Self}`, but it must deref mutably to the state enum `{S}`",
        label = "this does not deref to `{S}`",
        note = "a guard place is an expression whose value implements `DerefMut<Target = {S}>`, such as `self.st.lock().unwrap()` (`Mutex<{S}>`), `self.st.borrow_mut()` (`RefCell<{S}>`) or `self.st.write()` (a lock crate's `RwLock<{S}>`)"
    )]
    pub trait StateGuard<S> {
        /// The state enum behind the guard.
        fn state(&mut self) -> &mut S;
    }

    impl<S, G: core::ops::DerefMut<Target = S>> StateGuard<S> for G {
        #[inline(always)]
        fn state(&mut self) -> &mut S {
            self
        }
    }

    /// The state behind a guard, checked to be the state enum `S`.
    #[inline(always)]
    pub fn guard_state<S, G: StateGuard<S>>(guard: &mut G) -> &mut S {
        guard.state()
    }

    /// Stand-ins for the markers in the body of a function that
    /// `#[resumable]` rejected: the body is still compiled (so the imports
    /// and locals it uses are used, and the user sees the attribute's one
    /// error, not a cascade of warnings), but never run.
    pub fn stand_in_wait<C: Waitable>(_: C) {}

    /// See [`stand_in_wait`].
    pub fn stand_in_wait_all<I: IntoIterator<Item = Completion>>(_: I) {}

    /// See [`stand_in_wait`].
    pub fn stand_in_call<T, E, O: Operation<T, E>>(_: O) -> T {
        unreachable!("a #[resumable] function that did not compile was called")
    }

    /// Groups the completions of a `wait_all!` operand into one.
    pub fn group_all<I>(completions: I) -> Completion
    where
        I: IntoIterator<Item = Completion>,
    {
        let mut group = CompletionGroup::new(|_| {});
        for c in completions {
            group.add(&c);
        }
        group.build()
    }
}
