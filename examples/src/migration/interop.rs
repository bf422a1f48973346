//! Hand-written and generated code inside one operation.
//!
//! `compact` moves pages to new places (copy each, then sync once). Its
//! pieces mix both kinds of code, as a code base does halfway through a
//! migration:
//!
//! - [`copy_page`] is generated and drives the hand-written
//!   [`PageRead`] with `call!` (generated calling hand-written);
//! - [`HandCompactor`] is a hand-written machine that keeps
//!   `copy_page`'s generated state in one of its own variants and drives
//!   it with `return_if_io!` (hand-written calling generated);
//! - [`ResumableCompactor`] is the same operation generated all the way;
//! - [`CompactMachine`] puts the generated `compact` behind the generic
//!   [`StateMachine`] wrapper, for code that drives its machines through
//!   it.
//!
//! All three run the same I/O; the tests compare them with the harness.

use std::sync::Arc;

use io_model::state_machine::{StateMachine, StateTransition, TransitionResult};
use io_model::{io_yield_one, return_if_io, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead};

/// The moves the harness makes: page 2 to 22, page 3 to 23.
pub const MOVES: [(u32, u32); 2] = [(2, 22), (3, 23)];

/// Copies page `from` to page `to`. Generated; reads through the
/// hand-written `read` with `call!`.
#[io_model::resumable(state = st)]
pub fn copy_page(
    st: &mut CopyPageState,
    read: &mut PageRead,
    file: &dyn File,
    from: u32,
    to: u32,
) -> Result<IOResult<()>> {
    let page: Vec<u8> = call!(Read => read.read(file, from));
    wait!(Write => pages::write(file, to, page)?);
    Ok(IOResult::Done(()))
}

/// The hand-written compactor's state: the generated sub-operation's state
/// is a field of the `Copying` variant.
#[derive(Debug, Default)]
pub enum CompactHand {
    /// Not started.
    #[default]
    Start,
    /// Copying the move at `idx`.
    Copying {
        /// Index into the moves.
        idx: usize,
        /// `copy_page`'s state, generated.
        copy: CopyPageState,
    },
    /// The sync is in flight.
    Syncing(Completion),
}

/// A hand-written machine over generated and hand-written sub-operations.
pub struct HandCompactor {
    file: Arc<dyn File>,
    read: PageRead,
    st: CompactHand,
}

impl HandCompactor {
    /// Applies `moves`, then syncs; returns how many pages moved.
    pub fn compact(&mut self, moves: &[(u32, u32)]) -> Result<IOResult<usize>> {
        let result = self.run(moves);
        if result.is_err() {
            // The generated sub-state is idle again after an error; ours
            // starts over too.
            self.st = CompactHand::Start;
        }
        result
    }

    fn run(&mut self, moves: &[(u32, u32)]) -> Result<IOResult<usize>> {
        loop {
            match &mut self.st {
                CompactHand::Start => {
                    self.st = CompactHand::Copying {
                        idx: 0,
                        copy: CopyPageState::default(),
                    };
                }
                CompactHand::Copying { idx, .. } if *idx == moves.len() => {
                    self.st = CompactHand::Syncing(pages::sync(&*self.file)?);
                }
                CompactHand::Copying { idx, copy } => {
                    let (from, to) = moves[*idx];
                    return_if_io!(copy_page(copy, &mut self.read, &*self.file, from, to));
                    *idx += 1;
                }
                CompactHand::Syncing(c) => {
                    if !c.finished() {
                        io_yield_one!(c.clone());
                    }
                    pages::check(c)?;
                    self.st = CompactHand::Start;
                    return Ok(IOResult::Done(moves.len()));
                }
            }
        }
    }
}

/// The same operation, generated; `copy_page`'s state is a local, stored
/// in the `Copy` variant while it waits.
pub struct ResumableCompactor {
    file: Arc<dyn File>,
    read: PageRead,
    st: CompactState,
}

#[io_model::resumable]
impl ResumableCompactor {
    /// Applies `moves`, then syncs; returns how many pages moved.
    #[resumable(state = self.st)]
    pub fn compact(&mut self, moves: &[(u32, u32)]) -> Result<IOResult<usize>> {
        let mut copy: CopyPageState = CopyPageState::default();
        for idx in 0..moves.len() {
            call!(Copy => copy_page(&mut copy, &mut self.read, &*self.file, moves[idx].0, moves[idx].1));
        }
        wait!(Sync => pages::sync(&*self.file)?);
        Ok(IOResult::Done(moves.len()))
    }
}

/// The generated compactor as a [`StateTransition`]: each `step` is one
/// call of the generated function; `finalize` cancels it (aborting what
/// its state waits for).
pub struct CompactMachine {
    compactor: ResumableCompactor,
    moves: Vec<(u32, u32)>,
    finished: bool,
}

impl StateTransition for CompactMachine {
    type Context = ();
    type SMResult = usize;

    fn step(&mut self, _: &()) -> Result<TransitionResult<usize>> {
        Ok(match self.compactor.compact(&self.moves)? {
            IOResult::Done(n) => {
                self.finished = true;
                TransitionResult::Done(n)
            }
            IOResult::IO(io) => TransitionResult::Io(io),
        })
    }

    fn finalize(&mut self, _: &()) -> Result<()> {
        self.compactor.st.cancel();
        self.finished = true;
        Ok(())
    }

    fn is_finalized(&self) -> bool {
        self.finished
    }
}

/// The harness factory of the hand-written compactor.
pub fn hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = HandCompactor {
        file: env.open("db")?,
        read: PageRead::default(),
        st: CompactHand::default(),
    };
    Ok(move || op.compact(&MOVES))
}

/// The harness factory of the generated compactor.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = ResumableCompactor {
        file: env.open("db")?,
        read: PageRead::default(),
        st: CompactState::default(),
    };
    Ok(move || op.compact(&MOVES))
}

/// The harness factory of the generated compactor behind
/// [`StateMachine`].
pub fn state_machine(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut sm = StateMachine::new(CompactMachine {
        compactor: ResumableCompactor {
            file: env.open("db")?,
            read: PageRead::default(),
            st: CompactState::default(),
        },
        moves: MOVES.to_vec(),
        finished: false,
    });
    Ok(move || sm.step(&()))
}
