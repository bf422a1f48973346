//! What replaces `return_and_restore_if_io!`.
//!
//! Hand-written machines often move their state out (`mem::take`) so that
//! they can own the data of a variant while calling a sub-operation that
//! borrows `self`; when the sub-operation yields, the state must be put
//! back, which `return_and_restore_if_io!(place, saved, op)` does. Here a
//! record is encoded once, kept in the state while its page loads, then
//! appended to the page and written.
//!
//! - [`Before`]: the Turso shape, with `return_and_restore_if_io!`.
//! - [`AfterHand`]: still hand-written, without taking the state out:
//!   `match &mut self.st` borrows the record in place, and
//!   `return_if_io!` leaves the state where it is.
//! - [`AfterResumable`]: generated. The record is a local; because it is
//!   used after the `call!`, it is stored in the `Load` variant and given
//!   back on every resume. Nothing to take, nothing to restore.
//!
//! One difference to know when migrating: `return_and_restore_if_io!`
//! restores the state on an error too, so the next call resumes the failed
//! run, while a generated function returns to idle after an error and the
//! next call starts a new run. Under the harness both end their run with
//! the same error.

use std::sync::Arc;

use io_model::{
    io_yield_one, return_and_restore_if_io, return_if_io, Completion, Error, File, IOResult, Result,
};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead};

/// The page records are appended to.
pub const PAGE_NO: u32 = 22;
/// The record the harness appends.
pub const RECORD: (u32, &str) = (7, "seven");

/// A record's bytes: key, length, value.
fn encode(key: u32, value: &str) -> Vec<u8> {
    let mut r = key.to_le_bytes().to_vec();
    r.extend_from_slice(&(value.len() as u16).to_le_bytes());
    r.extend_from_slice(value.as_bytes());
    r
}

/// Appends `record` after the page's used bytes (a `u16` at offset 0);
/// returns the page and the new end.
fn append_to(mut page: Vec<u8>, record: &[u8]) -> (Vec<u8>, usize) {
    let used = (u16::from_le_bytes([page[0], page[1]]) as usize).max(2);
    let end = used + record.len();
    page[used..end].copy_from_slice(record);
    page[..2].copy_from_slice(&(end as u16).to_le_bytes());
    (page, end)
}

/// The hand-written versions' state.
#[derive(Debug, Default)]
pub enum AppendHand {
    /// Not started.
    #[default]
    Idle,
    /// The page loads; the encoded record waits here.
    Loading {
        /// The record.
        record: Vec<u8>,
    },
    /// The page is being written.
    Writing {
        /// The page's new end.
        end: usize,
        /// The write.
        write: Completion,
    },
}

/// Before: state taken out, restored while the load waits.
pub struct Before {
    file: Arc<dyn File>,
    read: PageRead,
    st: AppendHand,
}

impl Before {
    /// Appends the record `key`, `value`; returns the page's new end.
    pub fn append(&mut self, key: u32, value: &str) -> Result<IOResult<usize>> {
        loop {
            match std::mem::take(&mut self.st) {
                AppendHand::Idle => {
                    self.st = AppendHand::Loading {
                        record: encode(key, value),
                    }
                }
                AppendHand::Loading { record } => {
                    let page = return_and_restore_if_io!(
                        &mut self.st,
                        AppendHand::Loading { record },
                        self.read.read(&*self.file, PAGE_NO)
                    );
                    let (page, end) = append_to(page, &record);
                    let write = pages::write(&*self.file, PAGE_NO, page)?;
                    self.st = AppendHand::Writing { end, write };
                }
                AppendHand::Writing { end, write } => {
                    if !write.finished() {
                        self.st = AppendHand::Writing {
                            end,
                            write: write.clone(),
                        };
                        io_yield_one!(write);
                    }
                    pages::check(&write)?;
                    return Ok(IOResult::Done(end));
                }
            }
        }
    }
}

/// After, still hand-written: the state stays in place.
pub struct AfterHand {
    file: Arc<dyn File>,
    read: PageRead,
    st: AppendHand,
}

impl AfterHand {
    /// Appends the record `key`, `value`; returns the page's new end.
    pub fn append(&mut self, key: u32, value: &str) -> Result<IOResult<usize>> {
        let result = self.run(key, value);
        if result.is_err() {
            self.st = AppendHand::Idle;
        }
        result
    }

    fn run(&mut self, key: u32, value: &str) -> Result<IOResult<usize>> {
        loop {
            match &mut self.st {
                AppendHand::Idle => {
                    self.st = AppendHand::Loading {
                        record: encode(key, value),
                    }
                }
                AppendHand::Loading { record } => {
                    // `record` is borrowed from the state, which stays put
                    // while the load waits.
                    let page = return_if_io!(self.read.read(&*self.file, PAGE_NO));
                    let (page, end) = append_to(page, record);
                    let write = pages::write(&*self.file, PAGE_NO, page)?;
                    self.st = AppendHand::Writing { end, write };
                }
                AppendHand::Writing { end, write } => {
                    if !write.finished() {
                        io_yield_one!(write.clone());
                    }
                    let (end, write) = (*end, write.clone());
                    self.st = AppendHand::Idle;
                    pages::check(&write)?;
                    return Ok(IOResult::Done(end));
                }
            }
        }
    }
}

/// After, generated.
pub struct AfterResumable {
    file: Arc<dyn File>,
    read: PageRead,
    st: AppendState,
}

#[io_model::resumable]
impl AfterResumable {
    /// Appends the record `key`, `value`; returns the page's new end.
    #[resumable(state = self.st)]
    pub fn append(&mut self, key: u32, value: &str) -> Result<IOResult<usize>> {
        let record: Vec<u8> = encode(key, value);
        let page: Vec<u8> = call!(Load => self.read.read(&*self.file, PAGE_NO));
        let (page, end) = append_to(page, &record);
        let end: usize = end;
        wait!(Store => pages::write(&*self.file, PAGE_NO, page)?);
        Ok(IOResult::Done(end))
    }
}

/// The harness factory of [`Before`].
pub fn before(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Before {
        file: env.open("db")?,
        read: PageRead::default(),
        st: AppendHand::default(),
    };
    Ok(move || op.append(RECORD.0, RECORD.1))
}

/// The harness factory of [`AfterHand`].
pub fn after_hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = AfterHand {
        file: env.open("db")?,
        read: PageRead::default(),
        st: AppendHand::default(),
    };
    Ok(move || op.append(RECORD.0, RECORD.1))
}

/// The harness factory of [`AfterResumable`].
pub fn after_resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = AfterResumable {
        file: env.open("db")?,
        read: PageRead::default(),
        st: AppendState::default(),
    };
    Ok(move || op.append(RECORD.0, RECORD.1))
}
