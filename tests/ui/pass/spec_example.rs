//! SPEC §3's example, verbatim in shape: the attribute on the impl block.
#![deny(warnings)]
use std::sync::Arc;

use io_model::{Completion, File, IOResult, Result};

struct Reader {
    file: Arc<dyn File>,
    total: u64,
    read_two: ReadTwoState,
    read_one: ReadOneState,
}

#[io_model::resumable]
impl Reader {
    #[resumable(state = self.read_one)]
    fn read_one(&mut self, at: u64) -> Result<IOResult<u64>> {
        let c = Completion::new_sync(|_| {});
        wait!(self.file.sync(c)?);
        Ok(IOResult::Done(at))
    }

    #[resumable(state = self.read_two)]
    fn read_two(&mut self, a: u64, b: u64) -> Result<IOResult<u64>> {
        let first: u64 = call!(self.read_one(a));
        let c = Completion::new_sync(|_| {});
        wait!(self.file.sync(c)?);
        self.total += first;
        let second: u64 = call!(self.read_one(b));
        Ok(IOResult::Done(first + second))
    }
}

fn main() {
    let _ = Reader::read_two;
    assert!(ReadTwoState::default().is_idle());
}
