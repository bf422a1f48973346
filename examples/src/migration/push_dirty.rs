//! Touch pages, then flush them: **a `Vec` push before a yield**.
//!
//! Each page of the list is loaded, changed and queued on the dirty list;
//! then every dirty page is written, all writes in one group. The bug
//! queues the page before its load: every call that comes back while the
//! load is pending queues it again, and the flush writes it twice.
//!
//! The hand-written versions take their state out with `mem::take` and put
//! it back with `return_and_restore_if_io!` while the load waits, the
//! usual shape of Turso's machines; the generated version needs neither.
//!
//! Caught in every mode: the flush issues an extra write.

use std::collections::BTreeMap;
use std::sync::Arc;

use io_model::{
    io_yield_one, return_and_restore_if_io, Completion, CompletionGroup, Error, File, IOResult,
    Result,
};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead};

/// The pages the harness touches.
pub const TOUCHED: [u32; 2] = [2, 3];

/// The hand-written machines' state.
#[derive(Debug, Default)]
pub enum TouchHand {
    /// Not started.
    #[default]
    Start,
    /// Loading the page at this index of the list.
    Loading {
        /// Index into the list of pages.
        idx: usize,
    },
    /// The dirty pages are being written.
    Flushing(Completion),
}

/// The dirty list and the new images of the pages on it.
#[derive(Debug, Default)]
pub struct Dirty {
    /// Pages to write, in order.
    pub pages: Vec<u32>,
    /// Each page's new bytes.
    pub images: BTreeMap<u32, Vec<u8>>,
}

impl Dirty {
    /// Issues one write per entry of the list, grouped.
    fn flush(&self, file: &dyn File) -> Result<Completion> {
        let mut group = CompletionGroup::new(|_| {});
        for n in &self.pages {
            group.add(&pages::write(file, *n, self.images[n].clone())?);
        }
        Ok(group.build())
    }
}

/// The change made to a touched page.
fn touch(page: &mut [u8]) {
    page[0] = page[0].wrapping_add(1);
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    dirty: Dirty,
    read: PageRead,
    st: TouchHand,
}

impl Buggy {
    /// Loads and changes each page of `list`, then writes them.
    pub fn touch(&mut self, list: &[u32]) -> Result<IOResult<usize>> {
        loop {
            match std::mem::take(&mut self.st) {
                TouchHand::Start => self.st = TouchHand::Loading { idx: 0 },
                TouchHand::Loading { idx } if idx == list.len() => {
                    self.st = TouchHand::Flushing(self.dirty.flush(&*self.file)?);
                }
                TouchHand::Loading { idx } => {
                    let n = list[idx];
                    self.dirty.pages.push(n); // BUG: queued again on every call while the load waits
                    let mut page = return_and_restore_if_io!(
                        &mut self.st,
                        TouchHand::Loading { idx },
                        self.read.read(&*self.file, n)
                    );
                    touch(&mut page);
                    self.dirty.images.insert(n, page);
                    self.st = TouchHand::Loading { idx: idx + 1 };
                }
                TouchHand::Flushing(c) => {
                    if !c.finished() {
                        self.st = TouchHand::Flushing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    let flushed = std::mem::take(&mut self.dirty.pages).len();
                    return Ok(IOResult::Done(flushed));
                }
            }
        }
    }
}

/// Hand-written, correct: the page is queued once it is loaded.
pub struct Hand {
    file: Arc<dyn File>,
    dirty: Dirty,
    read: PageRead,
    st: TouchHand,
}

impl Hand {
    /// Loads and changes each page of `list`, then writes them.
    pub fn touch(&mut self, list: &[u32]) -> Result<IOResult<usize>> {
        loop {
            match std::mem::take(&mut self.st) {
                TouchHand::Start => self.st = TouchHand::Loading { idx: 0 },
                TouchHand::Loading { idx } if idx == list.len() => {
                    self.st = TouchHand::Flushing(self.dirty.flush(&*self.file)?);
                }
                TouchHand::Loading { idx } => {
                    let n = list[idx];
                    let mut page = return_and_restore_if_io!(
                        &mut self.st,
                        TouchHand::Loading { idx },
                        self.read.read(&*self.file, n)
                    );
                    touch(&mut page);
                    self.dirty.pages.push(n);
                    self.dirty.images.insert(n, page);
                    self.st = TouchHand::Loading { idx: idx + 1 };
                }
                TouchHand::Flushing(c) => {
                    if !c.finished() {
                        self.st = TouchHand::Flushing(c.clone());
                        io_yield_one!(c);
                    }
                    pages::check(&c)?;
                    let flushed = std::mem::take(&mut self.dirty.pages).len();
                    return Ok(IOResult::Done(flushed));
                }
            }
        }
    }
}

/// With `#[resumable]`: the loop index is a plain `for` variable, stored
/// in the `Load` variant while the load waits.
pub struct Resumable {
    file: Arc<dyn File>,
    dirty: Dirty,
    st: TouchState,
}

#[io_model::resumable]
impl Resumable {
    /// Loads and changes each page of `list`, then writes them.
    #[resumable(state = self.st)]
    pub fn touch(&mut self, list: &[u32]) -> Result<IOResult<usize>> {
        for idx in 0..list.len() {
            let read: Completion = pages::read(&*self.file, list[idx])?;
            wait!(Load => read.clone());
            let mut page = pages::bytes(&read);
            touch(&mut page);
            self.dirty.pages.push(list[idx]);
            self.dirty.images.insert(list[idx], page);
        }
        wait!(Flush => self.dirty.flush(&*self.file)?);
        let flushed: usize = std::mem::take(&mut self.dirty.pages).len();
        Ok(IOResult::Done(flushed))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Buggy {
        file: env.open("db")?,
        dirty: Dirty::default(),
        read: PageRead::default(),
        st: TouchHand::default(),
    };
    Ok(move || op.touch(&TOUCHED))
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Hand {
        file: env.open("db")?,
        dirty: Dirty::default(),
        read: PageRead::default(),
        st: TouchHand::default(),
    };
    Ok(move || op.touch(&TOUCHED))
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = usize, Error = Error>> {
    let mut op = Resumable {
        file: env.open("db")?,
        dirty: Dirty::default(),
        st: TouchState::default(),
    };
    Ok(move || op.touch(&TOUCHED))
}
