//! Copy a page through a loaded buffer: **a flag set before a yield**.
//!
//! Page 2 is read into memory and written out as page 3. A flag set before
//! a yield is often harmless, which is why it is easy to get wrong: here
//! the flag means "the page is in memory", and the bug sets it when the
//! read is *issued*. A call that comes back before the read finished finds
//! the flag set and writes the still-empty buffer.
//!
//! Caught in early-reentry mode: the write's bytes are zeros. (In deferred
//! mode the read has always finished by the next call.)

use std::sync::Arc;

use io_model::{io_yield_one, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages;

/// The page copied, and where to.
pub const FROM: u32 = 2;
/// Where the copy goes.
pub const TO: u32 = 3;

/// What the hand-written versions keep between calls.
#[derive(Debug, Default)]
pub struct CopyHand {
    /// The page is in memory (`read` has finished).
    pub loaded: bool,
    /// The read, once issued.
    pub read: Option<Completion>,
    /// The write, once issued.
    pub write: Option<Completion>,
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    st: CopyHand,
}

impl Buggy {
    /// Copies page `FROM` to page `TO`.
    pub fn copy(&mut self) -> Result<IOResult<()>> {
        if !self.st.loaded {
            self.st.loaded = true; // BUG: set when the read is issued, not when it finished
            let c = pages::read(&*self.file, FROM)?;
            self.st.read = Some(c.clone());
            if !c.finished() {
                io_yield_one!(c);
            }
        }
        let read = self.st.read.clone().expect("issued above");
        if let Err(e) = pages::check(&read) {
            self.st = CopyHand::default();
            return Err(e);
        }
        write_out(&mut self.st, &*self.file, &read)
    }
}

/// Hand-written, correct: the flag is set once the read has finished.
pub struct Hand {
    file: Arc<dyn File>,
    st: CopyHand,
}

impl Hand {
    /// Copies page `FROM` to page `TO`.
    pub fn copy(&mut self) -> Result<IOResult<()>> {
        if !self.st.loaded {
            let c = match &self.st.read {
                Some(c) => c.clone(),
                None => {
                    let c = pages::read(&*self.file, FROM)?;
                    self.st.read = Some(c.clone());
                    c
                }
            };
            if !c.finished() {
                io_yield_one!(c);
            }
            self.st.loaded = true;
        }
        let read = self.st.read.clone().expect("loaded");
        if let Err(e) = pages::check(&read) {
            self.st = CopyHand::default();
            return Err(e);
        }
        write_out(&mut self.st, &*self.file, &read)
    }
}

/// The second half both hand-written versions share: write the buffer
/// once, wait, reset.
fn write_out(st: &mut CopyHand, file: &dyn File, read: &Completion) -> Result<IOResult<()>> {
    let w = match &st.write {
        Some(w) => w.clone(),
        None => {
            let w = pages::write(file, TO, pages::bytes(read))?;
            st.write = Some(w.clone());
            w
        }
    };
    if !w.finished() {
        io_yield_one!(w);
    }
    *st = CopyHand::default();
    pages::check(&w)?;
    Ok(IOResult::Done(()))
}

/// With `#[resumable]`: no flag at all; the code after `wait!` runs once
/// the read has finished.
pub struct Resumable {
    file: Arc<dyn File>,
    st: CopyState,
}

#[io_model::resumable]
impl Resumable {
    /// Copies page `FROM` to page `TO`.
    #[resumable(state = self.st)]
    pub fn copy(&mut self) -> Result<IOResult<()>> {
        let read: Completion = pages::read(&*self.file, FROM)?;
        wait!(Load => read.clone());
        wait!(Store => pages::write(&*self.file, TO, pages::bytes(&read))?);
        Ok(IOResult::Done(()))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = (), Error = Error>> {
    let mut op = Buggy {
        file: env.open("db")?,
        st: CopyHand::default(),
    };
    Ok(move || op.copy())
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = (), Error = Error>> {
    let mut op = Hand {
        file: env.open("db")?,
        st: CopyHand::default(),
    };
    Ok(move || op.copy())
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = (), Error = Error>> {
    let mut op = Resumable {
        file: env.open("db")?,
        st: CopyState::default(),
    };
    Ok(move || op.copy())
}
