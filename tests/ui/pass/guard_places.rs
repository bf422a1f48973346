//! Guard state places: `&self` methods whose state lives behind a lock.
#![deny(warnings)]

use std::cell::RefCell;
use std::sync::{Arc, Mutex, RwLock};

use io_model::{Completion, IOResult, Result};

pub struct Pager {
    read: RwLock<ReadState>,
    sync: Mutex<SyncState>,
    flush: RefCell<FlushState>,
}

#[io_model::resumable]
impl Pager {
    /// `RwLock`: Turso's pager keeps each operation's state so.
    #[resumable(state = self.read.write().unwrap())]
    pub fn read(&self, c: Completion) -> Result<IOResult<u32>> {
        wait!(c);
        Ok(IOResult::Done(7))
    }

    #[resumable(state = self.sync.lock().unwrap())]
    pub fn sync(&self, c: Completion) -> Result<IOResult<u32>> {
        let n: u32 = call!(self.read(c));
        Ok(IOResult::Done(n + 1))
    }

    #[resumable(state = self.flush.borrow_mut())]
    pub fn flush(&mut self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }
}

/// A free function whose state sits in a shared cell.
#[io_model::resumable(state = cell.lock().unwrap(), name = TickState)]
pub fn tick(cell: &Mutex<TickState>, c: Completion) -> Result<IOResult<()>> {
    yield_now!();
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {
    let pager = Arc::new(Pager {
        read: RwLock::new(ReadState::default()),
        sync: Mutex::new(SyncState::default()),
        flush: RefCell::new(FlushState::default()),
    });
    let c = Completion::new_write(|_| {});
    c.complete(0);
    assert!(matches!(pager.sync(c.clone()), Ok(IOResult::Done(8))));
    let cell = Mutex::new(TickState::default());
    assert!(matches!(tick(&cell, c.clone()), Ok(IOResult::IO(_))));
    assert!(matches!(tick(&cell, c), Ok(IOResult::Done(()))));
    assert!(cell.lock().unwrap().is_idle());
}
