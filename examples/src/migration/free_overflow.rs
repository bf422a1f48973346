//! Free an overflow chain: **a loop whose side effect stands before its
//! wait**.
//!
//! Starting at the chain's first page, each page is read to learn the
//! next one, then put on the freelist; at the end the freelist is written
//! to its trunk page (a count, then the page numbers). The bug frees the
//! page before its read finished: every call that comes back while the
//! read waits frees it again, and the trunk page lists it twice.
//!
//! Caught in every mode: the trunk page's bytes differ.

use std::sync::Arc;

use io_model::{io_yield_one, return_and_restore_if_io, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead, CHAIN_HEAD, FREELIST_PAGE, PAGE};

/// The freelist trunk page for `freed`.
fn trunk_page(freed: &[u32]) -> Vec<u8> {
    let mut page = vec![0; PAGE];
    pages::put_u32(&mut page, 0, freed.len() as u32);
    for (i, n) in freed.iter().enumerate() {
        pages::put_u32(&mut page, 4 + 4 * i, *n);
    }
    page
}

/// The hand-written machines' state.
#[derive(Debug, Default)]
pub enum FreeHand {
    /// Not started.
    #[default]
    Start,
    /// Reading this page of the chain.
    Next {
        /// The page.
        page: u32,
    },
    /// The trunk page is being written.
    Writing(Completion),
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    freelist: Vec<u32>,
    read: PageRead,
    st: FreeHand,
}

impl Buggy {
    /// Frees the chain starting at `first`; returns the freelist's length.
    pub fn free_chain(&mut self, first: u32) -> Result<IOResult<usize>> {
        loop {
            match std::mem::take(&mut self.st) {
                FreeHand::Start => self.st = FreeHand::Next { page: first },
                FreeHand::Next { page } => {
                    self.freelist.push(page); // BUG: freed again on every call while the read waits
                    let bytes = return_and_restore_if_io!(
                        &mut self.st,
                        FreeHand::Next { page },
                        self.read.read(&*self.file, page)
                    );
                    self.st = match pages::get_u32(&bytes, 0) {
                        0 => {
                            let trunk = trunk_page(&self.freelist);
                            FreeHand::Writing(pages::write(&*self.file, FREELIST_PAGE, trunk)?)
                        }
                        next => FreeHand::Next { page: next },
                    };
                }
                FreeHand::Writing(c) => {
                    if !c.finished() {
                        self.st = FreeHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(self.freelist.len()));
                }
            }
        }
    }
}

/// Hand-written, correct: the page is freed once its read is in.
pub struct Hand {
    file: Arc<dyn File>,
    freelist: Vec<u32>,
    read: PageRead,
    st: FreeHand,
}

impl Hand {
    /// Frees the chain starting at `first`; returns the freelist's length.
    pub fn free_chain(&mut self, first: u32) -> Result<IOResult<usize>> {
        loop {
            match std::mem::take(&mut self.st) {
                FreeHand::Start => self.st = FreeHand::Next { page: first },
                FreeHand::Next { page } => {
                    let bytes = return_and_restore_if_io!(
                        &mut self.st,
                        FreeHand::Next { page },
                        self.read.read(&*self.file, page)
                    );
                    self.freelist.push(page);
                    self.st = match pages::get_u32(&bytes, 0) {
                        0 => {
                            let trunk = trunk_page(&self.freelist);
                            FreeHand::Writing(pages::write(&*self.file, FREELIST_PAGE, trunk)?)
                        }
                        next => FreeHand::Next { page: next },
                    };
                }
                FreeHand::Writing(c) => {
                    if !c.finished() {
                        self.st = FreeHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(self.freelist.len()));
                }
            }
        }
    }
}

/// With `#[resumable]`: a `while` loop, the current page a stored local.
pub struct Resumable {
    file: Arc<dyn File>,
    freelist: Vec<u32>,
    st: FreeChainState,
}

#[io_model::resumable]
impl Resumable {
    /// Frees the chain starting at `first`; returns the freelist's length.
    #[resumable(state = self.st)]
    pub fn free_chain(&mut self, first: u32) -> Result<IOResult<usize>> {
        let mut page: u32 = first;
        while page != 0 {
            let read: Completion = pages::read(&*self.file, page)?;
            wait!(ReadLink => read.clone());
            self.freelist.push(page);
            page = pages::get_u32(&pages::bytes(&read), 0);
        }
        let trunk = trunk_page(&self.freelist);
        wait!(WriteTrunk => pages::write(&*self.file, FREELIST_PAGE, trunk)?);
        Ok(IOResult::Done(self.freelist.len()))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Buggy {
        file: env.open("db")?,
        freelist: Vec::new(),
        read: PageRead::default(),
        st: FreeHand::default(),
    };
    Ok(move || op.free_chain(CHAIN_HEAD))
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Hand {
        file: env.open("db")?,
        freelist: Vec::new(),
        read: PageRead::default(),
        st: FreeHand::default(),
    };
    Ok(move || op.free_chain(CHAIN_HEAD))
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Resumable {
        file: env.open("db")?,
        freelist: Vec::new(),
        st: FreeChainState::default(),
    };
    Ok(move || op.free_chain(CHAIN_HEAD))
}
