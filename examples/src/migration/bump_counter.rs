//! Bump the change counter: **a counter advanced before a yield**.
//!
//! The pager keeps the header's change counter in memory and writes it
//! back with every commit: read page 0, store the new counter in it, write
//! it. The bug advances the counter at the top of the function, so every
//! call that comes back while the header read is pending advances it
//! again, and the header is written with a counter two or three ahead.
//!
//! Caught in every mode: the header write's bytes differ.

use std::sync::Arc;

use io_model::{io_yield_one, return_if_io, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, Header, PageRead};

/// The change counter in the example database.
const INITIAL: u32 = 41;

/// The hand-written machines' state: the header read lives in the
/// [`PageRead`] sub-state, so only the write needs a variant.
#[derive(Debug, Default)]
pub enum BumpHand {
    /// Reading the header (or not started).
    #[default]
    Start,
    /// The header write is in flight.
    Writing(Completion),
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    counter: u32,
    read: PageRead,
    st: BumpHand,
}

impl Buggy {
    /// Advances the change counter and writes it to the header.
    pub fn bump(&mut self) -> Result<IOResult<u32>> {
        self.counter += 1; // BUG: runs again on every call until the run ends
        loop {
            match std::mem::take(&mut self.st) {
                BumpHand::Start => {
                    let mut page = return_if_io!(self.read.read(&*self.file, 0));
                    let mut header = Header::parse(&page);
                    header.change_counter = self.counter;
                    header.store(&mut page);
                    self.st = BumpHand::Writing(pages::write(&*self.file, 0, page)?);
                }
                BumpHand::Writing(c) => {
                    if !c.finished() {
                        self.st = BumpHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(self.counter));
                }
            }
        }
    }
}

/// Hand-written, correct: the counter moves once the header is in.
pub struct Hand {
    file: Arc<dyn File>,
    counter: u32,
    read: PageRead,
    st: BumpHand,
}

impl Hand {
    /// Advances the change counter and writes it to the header.
    pub fn bump(&mut self) -> Result<IOResult<u32>> {
        loop {
            match std::mem::take(&mut self.st) {
                BumpHand::Start => {
                    let mut page = return_if_io!(self.read.read(&*self.file, 0));
                    self.counter += 1; // after the only suspension point before it
                    let mut header = Header::parse(&page);
                    header.change_counter = self.counter;
                    header.store(&mut page);
                    self.st = BumpHand::Writing(pages::write(&*self.file, 0, page)?);
                }
                BumpHand::Writing(c) => {
                    if !c.finished() {
                        self.st = BumpHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(self.counter));
                }
            }
        }
    }
}

/// With `#[resumable]`: the function reads top to bottom, and the
/// increment runs once because it stands between two suspension points.
pub struct Resumable {
    file: Arc<dyn File>,
    counter: u32,
    st: BumpState,
}

#[io_model::resumable]
impl Resumable {
    /// Advances the change counter and writes it to the header.
    #[resumable(state = self.st)]
    pub fn bump(&mut self) -> Result<IOResult<u32>> {
        let read: Completion = pages::read(&*self.file, 0)?;
        wait!(ReadHeader => read.clone());
        self.counter += 1;
        let mut page = pages::bytes(&read);
        let mut header = Header::parse(&page);
        header.change_counter = self.counter;
        header.store(&mut page);
        wait!(WriteHeader => pages::write(&*self.file, 0, page)?);
        Ok(IOResult::Done(self.counter))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Buggy {
        file: env.open("db")?,
        counter: INITIAL,
        read: PageRead::default(),
        st: BumpHand::default(),
    };
    Ok(move || op.bump())
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Hand {
        file: env.open("db")?,
        counter: INITIAL,
        read: PageRead::default(),
        st: BumpHand::default(),
    };
    Ok(move || op.bump())
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Resumable {
        file: env.open("db")?,
        counter: INITIAL,
        st: BumpState::default(),
    };
    Ok(move || op.bump())
}
