//! Back up the first pages: **an index advanced before a yield**.
//!
//! Pages `0..n` of `db` are copied one by one to `backup`, which is then
//! synced. The cursor position lives in the struct, as in Turso's
//! cursors. The bug advances it before the page's read has finished: a
//! call that comes back while the read waits advances it again, and the
//! page just read is written at the wrong place.
//!
//! Caught in every mode: a write lands at the wrong offset.

use std::sync::Arc;

use io_model::{io_yield_one, return_if_io, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead};

/// How many pages the harness backs up.
pub const PAGES: u32 = 4;

/// The hand-written machines' state (the position is a field beside it).
#[derive(Debug, Default)]
pub enum BackupHand {
    /// Reading the page at the position (or not started).
    #[default]
    Reading,
    /// The copy of a page is being written.
    Writing(Completion),
    /// The backup is being synced.
    Syncing(Completion),
}

/// Hand-written, with the bug.
pub struct Buggy {
    db: Arc<dyn File>,
    backup: Arc<dyn File>,
    next: u32,
    read: PageRead,
    st: BackupHand,
}

impl Buggy {
    /// Copies pages `0..n` to the backup and syncs it.
    pub fn backup(&mut self, n: u32) -> Result<IOResult<u32>> {
        let result = self.run(n);
        if result.is_err() {
            // A failed run starts over from page 0 next time.
            self.next = 0;
        }
        result
    }

    fn run(&mut self, n: u32) -> Result<IOResult<u32>> {
        loop {
            match std::mem::take(&mut self.st) {
                BackupHand::Reading if self.next == n => {
                    self.st = BackupHand::Syncing(pages::sync(&*self.backup)?);
                }
                BackupHand::Reading => {
                    let page_no = self.next;
                    self.next += 1; // BUG: advanced again on every call while the read waits
                    let page = return_if_io!(self.read.read(&*self.db, page_no));
                    self.st = BackupHand::Writing(pages::write(&*self.backup, page_no, page)?);
                }
                BackupHand::Writing(c) => {
                    if !c.finished() {
                        self.st = BackupHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                }
                BackupHand::Syncing(c) => {
                    if !c.finished() {
                        self.st = BackupHand::Syncing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(std::mem::take(&mut self.next)));
                }
            }
        }
    }
}

/// Hand-written, correct: the position moves once the page is in.
pub struct Hand {
    db: Arc<dyn File>,
    backup: Arc<dyn File>,
    next: u32,
    read: PageRead,
    st: BackupHand,
}

impl Hand {
    /// Copies pages `0..n` to the backup and syncs it.
    pub fn backup(&mut self, n: u32) -> Result<IOResult<u32>> {
        let result = self.run(n);
        if result.is_err() {
            // A failed run starts over from page 0 next time.
            self.next = 0;
        }
        result
    }

    fn run(&mut self, n: u32) -> Result<IOResult<u32>> {
        loop {
            match std::mem::take(&mut self.st) {
                BackupHand::Reading if self.next == n => {
                    self.st = BackupHand::Syncing(pages::sync(&*self.backup)?);
                }
                BackupHand::Reading => {
                    let page_no = self.next;
                    let page = return_if_io!(self.read.read(&*self.db, page_no));
                    self.next += 1;
                    self.st = BackupHand::Writing(pages::write(&*self.backup, page_no, page)?);
                }
                BackupHand::Writing(c) => {
                    if !c.finished() {
                        self.st = BackupHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                }
                BackupHand::Syncing(c) => {
                    if !c.finished() {
                        self.st = BackupHand::Syncing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    return Ok(IOResult::Done(std::mem::take(&mut self.next)));
                }
            }
        }
    }
}

/// With `#[resumable]`: the position is the loop variable, kept in the
/// state, not in the struct.
pub struct Resumable {
    db: Arc<dyn File>,
    backup: Arc<dyn File>,
    st: BackupState,
}

#[io_model::resumable]
impl Resumable {
    /// Copies pages `0..n` to the backup and syncs it.
    #[resumable(state = self.st)]
    pub fn backup(&mut self, n: u32) -> Result<IOResult<u32>> {
        for page_no in 0..n {
            let read: Completion = pages::read(&*self.db, page_no)?;
            wait!(Read => read.clone());
            wait!(Write => pages::write(&*self.backup, page_no, pages::bytes(&read))?);
        }
        wait!(Sync => pages::sync(&*self.backup)?);
        Ok(IOResult::Done(n))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Buggy {
        db: env.open("db")?,
        backup: env.open("backup")?,
        next: 0,
        read: PageRead::default(),
        st: BackupHand::default(),
    };
    Ok(move || op.backup(PAGES))
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Hand {
        db: env.open("db")?,
        backup: env.open("backup")?,
        next: 0,
        read: PageRead::default(),
        st: BackupHand::default(),
    };
    Ok(move || op.backup(PAGES))
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Resumable {
        db: env.open("db")?,
        backup: env.open("backup")?,
        st: BackupState::default(),
    };
    Ok(move || op.backup(PAGES))
}
