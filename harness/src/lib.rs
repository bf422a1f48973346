//! Differential testing for [`io_model`] operations.
//!
//! Moving a hand-written state machine to `#[io_model::resumable]` (or
//! refactoring one) is safe when the new version does exactly what the old
//! one did, under every timing the backend can produce. This crate checks
//! that: [`DiffTest`] runs two implementations of one operation on the
//! same seeds of the deterministic [`SimIO`](io_model_backends::SimIO)
//! simulator, in each [`Mode`] (completions deferred and reordered, early
//! re-entry, faults, and yield-everything), and asserts that they issue the
//! same I/O with the same bytes, end the same way, leave the same in-memory
//! state and the same files. The first difference is reported with the
//! seed, the mode, the call that issued the differing I/O and both traces
//! around it, and a line to replay just that run.
//!
//! Add it as a dev-dependency and write one test per operation:
//!
//! ```toml
//! [dev-dependencies]
//! io-model-difftest = { path = "../io-model/harness" }
//! ```
//!
//! ```
//! use std::sync::Arc;
//! use io_model::{io_yield_one, Buffer, Completion, File, IOResult, Result, PAGE_SIZE};
//! use io_model_difftest::{DiffTest, Env};
//!
//! /// Reads page `n`; hand-written, the completion kept in the state.
//! struct HandRead { file: Arc<dyn File>, read: Option<Completion> }
//! impl HandRead {
//!     fn read(&mut self, n: u64) -> Result<IOResult<u8>> {
//!         let c = match &self.read {
//!             Some(c) => c.clone(),
//!             None => {
//!                 let c = Completion::new_read(Arc::new(Buffer::new_page()), |_| {});
//!                 let c = self.file.pread(n * PAGE_SIZE as u64, c)?;
//!                 self.read = Some(c.clone());
//!                 c
//!             }
//!         };
//!         if !c.finished() {
//!             io_yield_one!(c);
//!         }
//!         self.read = None;
//!         if let Some(e) = c.get_error() {
//!             return Err(e.into());
//!         }
//!         let first = c.read_buffer().unwrap().lock()[0];
//!         Ok(IOResult::Done(first))
//!     }
//! }
//!
//! /// The same, generated.
//! #[io_model::resumable(state = st)]
//! fn read(st: &mut ReadState, file: &dyn File, n: u64) -> Result<IOResult<u8>> {
//!     let buf: Arc<Buffer> = Arc::new(Buffer::new_page());
//!     let c = Completion::new_read(buf.clone(), |_| {});
//!     wait!(Read => file.pread(n * PAGE_SIZE as u64, c)?);
//!     let first: u8 = buf.lock()[0];
//!     Ok(IOResult::Done(first))
//! }
//!
//! let summary = DiffTest::new(
//!     "hand-written",
//!     |env: &Env| {
//!         let mut op = HandRead { file: env.open("db")?, read: None };
//!         Ok(move || op.read(1))
//!     },
//!     "#[resumable]",
//!     |env: &Env| {
//!         let (file, mut st) = (env.open("db")?, ReadState::default());
//!         Ok(move || read(&mut st, &*file, 1))
//!     },
//! )
//! .setup(|env| env.write_file("db", &[9; 2 * PAGE_SIZE]))
//! .check();
//! assert!(summary.failed_ios > 0, "the fault mode failed some reads: {summary}");
//! ```
//!
//! The pieces: [`Operation`] (what is called; any `FnMut() ->
//! Result<IOResult<T>, E>` is one, [`observed`] adds in-memory state to
//! compare), [`Env`] (the simulator a run gets), [`Mode`], the report
//! types [`Failure`], [`Mismatch`], [`Broken`], [`Difference`], [`IoRecord`],
//! [`Outcome`], and [`Summary`].
//!
//! In CI, the default 64 seeds per mode keep a test fast; a longer job
//! sets [`SEEDS_VAR`] (`IO_MODEL_DIFFTEST_SEEDS=2000`, or a range such as
//! `2000..4000`) to widen every test that uses the default.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod difftest;
mod drive;
mod env;
mod mismatch;
mod mode;
mod operation;
mod record;

pub use difftest::{
    DiffTest, Summary, DEFAULT_MAX_CALLS, DEFAULT_MAX_IOS, DEFAULT_SEEDS, SEEDS_VAR,
};
pub use drive::Outcome;
pub use env::Env;
pub use mismatch::{Broken, Difference, Failure, Mismatch};
pub use mode::Mode;
pub use operation::{observed, Observed, Operation};
pub use record::IoRecord;
