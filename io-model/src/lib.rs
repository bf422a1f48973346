//! Completion-based I/O for storage engines, without async/await.
//!
//! Every I/O is a [`Completion`]; every function that may wait returns
//! [`Result<IOResult<T>>`](IOResult), and its caller calls it again until
//! it is [`IOResult::Done`]. Functions written that way by hand must make
//! sure that nothing with a side effect runs twice when they are re-entered;
//! [`#[resumable]`](macro@resumable) writes the state machine for you from a
//! straight-line function with suspension markers ([`wait!`], [`wait_all!`],
//! [`call!`], [`yield_now!`]).
//!
//! ```
//! use io_model::{Completion, CompletionGroup, IOResult, Result, io_yield_one};
//!
//! /// Waits until both writes are done; the group is built once, by the
//! /// caller, and kept while waiting.
//! fn wait_both(group: &Completion) -> Result<IOResult<()>> {
//!     if !group.finished() {
//!         io_yield_one!(group.clone());
//!     }
//!     if let Some(err) = group.get_error() {
//!         return Err(err.into());
//!     }
//!     Ok(IOResult::Done(()))
//! }
//!
//! let (a, b) = (Completion::new_write(|_| {}), Completion::new_write(|_| {}));
//! let mut g = CompletionGroup::new(|_| {});
//! g.add(&a);
//! g.add(&b);
//! let both = g.build();
//! assert!(wait_both(&both).unwrap().is_io());
//! a.complete(4096);
//! b.complete(4096);
//! assert!(wait_both(&both).unwrap().is_done());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// Lets the attribute's `::io_model::..` paths resolve inside this crate too.
extern crate self as io_model;

mod buffer;
mod completion;
mod error;
mod io;
mod markers;
pub mod state_machine;
mod trace;
mod types;

pub use buffer::{Buffer, BufferGuard, PAGE_SIZE};
pub use completion::{Completion, CompletionGroup, CompletionKind};
pub use error::{CompletionError, Error, Result};
pub use io::{File, OpenFlags, IO};
pub use types::{IOCompletions, IOResult};

/// Turns a straight-line function with suspension markers into a state
/// enum and a function that resumes where the previous call stopped.
///
/// Put it on a free function with `state = param` (the parameter is
/// `&mut <Name>State`), or on an `impl` block whose methods carry
/// `#[resumable(state = self.field)]`; `name = MyState` renames the enum.
/// The state place may also be a guard expression that derefs mutably to
/// the enum (`state = self.st.lock().unwrap()`, `self.st.borrow_mut()`,
/// `self.st.write()`): the method can then take `&self`, as in an
/// `Arc`-shared pager. The guard is taken only to read the state on entry
/// and to store it on return, never while the body runs, so the body and
/// its callees may lock the same field. The function returns `Result<IOResult<T>, E>` with
/// `E: From<CompletionError>`. Inside it:
///
/// | marker | does |
/// |---|---|
/// | `wait!(c)` | evaluates `c: Completion` once; suspends until it finishes; returns its error |
/// | `wait_all!(cs)` | groups `cs: IntoIterator<Item = Completion>` once; suspends until all finish |
/// | `call!(op)` | calls `op: Result<IOResult<T>, E2>` again on each resume until `Done(T)` |
/// | `yield_now!()` | suspends once with an explicit yield |
///
/// `wait!(Label => c)` names the point's variant. Code between two
/// suspension points runs exactly once per run; locals live across a
/// suspension point are stored in its variant (they need a readable type:
/// `let n: u64 = ..`). After `Done` or `Err` the state is idle again; after
/// a panic it is poisoned until `cancel()`. See `docs/transform.md` for the
/// generated code.
///
/// ```
/// use io_model::{Completion, IOResult, Result};
///
/// #[io_model::resumable(state = st)]
/// fn write_then_sync(st: &mut WriteThenSyncState, write: Completion, sync: Completion, log: &mut Vec<&'static str>)
///     -> Result<IOResult<u32>>
/// {
///     log.push("issued");            // runs once, however often we are called
///     wait!(write);
///     log.push("written");
///     wait!(Syncing => sync);
///     log.push("synced");
///     Ok(IOResult::Done(2))
/// }
///
/// let (w, s) = (Completion::new_write(|_| {}), Completion::new_sync(|_| {}));
/// let mut st = WriteThenSyncState::default();
/// let mut log = Vec::new();
/// assert!(write_then_sync(&mut st, w.clone(), s.clone(), &mut log).unwrap().is_io());
/// assert!(write_then_sync(&mut st, w.clone(), s.clone(), &mut log).unwrap().is_io()); // too early
/// w.complete(4096);
/// assert!(write_then_sync(&mut st, w.clone(), s.clone(), &mut log).unwrap().is_io());
/// assert_eq!(st.name(), "Syncing");
/// s.complete(0);
/// assert_eq!(write_then_sync(&mut st, w, s, &mut log).unwrap().done(), Some(2));
/// assert_eq!(log, ["issued", "written", "synced"]);
/// assert!(st.is_idle());
///
/// // The state graph, in Graphviz DOT (render it with `dot -Tsvg`): the
/// // states a run can rest in, the exits, and the edges of the code.
/// let edges: Vec<&str> = WriteThenSyncState::GRAPH
///     .lines()
///     .filter(|l| l.contains("->"))
///     .map(str::trim)
///     .collect();
/// assert_eq!(
///     edges,
///     ["Idle -> Wait0;", "Wait0 -> Syncing;", "Wait0 -> Err;", "Syncing -> Done;", "Syncing -> Err;"]
/// );
/// ```
///
/// Every generated enum has `GRAPH`; `scripts/render-graphs.sh` renders
/// those of the page store and the migration examples into `docs/graphs/`.
/// With the `tracing` feature, each transition emits a `TRACE` event
/// (`function`, `from`, `to`, `line`).
///
/// A `&self` method with its state behind a lock:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use io_model::{Completion, IOResult, Result};
///
/// struct Pager { sync: Mutex<SyncState>, syncs: Mutex<u32> }
///
/// #[io_model::resumable]
/// impl Pager {
///     #[resumable(state = self.sync.lock().unwrap())]
///     fn sync(&self, c: Completion) -> Result<IOResult<u32>> {
///         wait!(c);
///         // The state's lock is free while the body runs.
///         assert_eq!(self.sync.lock().unwrap().name(), "Poisoned");
///         let mut n = self.syncs.lock().unwrap();
///         *n += 1;
///         Ok(IOResult::Done(*n))
///     }
/// }
///
/// let pager = Arc::new(Pager { sync: Mutex::new(SyncState::default()), syncs: Mutex::new(0) });
/// let c = Completion::new_sync(|_| {});
/// assert!(pager.sync(c.clone()).unwrap().is_io());
/// assert_eq!(pager.sync.lock().unwrap().name(), "Wait0");
/// c.complete(0);
/// assert_eq!(pager.sync(c).unwrap().done(), Some(1));
/// ```
pub use io_model_macros::resumable;

/// Items the code generated by [`#[resumable]`](macro@resumable) refers to.
/// Not part of the public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::markers::__private::*;
    pub use crate::{
        __trace_end as trace_end, __trace_start as trace_start, __trace_to as trace_to,
    };
    #[cfg(feature = "tracing")]
    pub use tracing;
}
