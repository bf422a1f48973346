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
    use crate::{Completion, CompletionGroup};

    /// Always true. A `yield_now!` suspends behind `if suspend() { .. }` so
    /// that the code after it does not read as unreachable in the arm that
    /// first reaches it (it runs in the next call's arm).
    #[inline(always)]
    pub const fn suspend() -> bool {
        true
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
