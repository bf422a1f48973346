//! Inner attributes of a resumable function's body and of its impl block
//! stay where the user wrote them.
#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

pub struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #![allow(clippy::needless_return)]

    #[resumable(state = self.st)]
    fn run(&mut self, c: Completion) -> Result<IOResult<u32>> {
        #![allow(unused_variables)]
        let unused = 1;
        wait!(c);
        return Ok(IOResult::Done(2));
    }
}

#[io_model::resumable(state = st)]
fn free(st: &mut FreeState, c: Completion) -> Result<IOResult<u32>> {
    #![allow(unused_variables)]
    let unused = 1;
    wait!(c);
    Ok(IOResult::Done(3))
}

fn main() {
    let c = Completion::new_sync(|_| {});
    c.complete(0);
    let mut s = S { st: RunState::default() };
    assert_eq!(s.run(c.clone()).unwrap().done(), Some(2));
    let mut st = FreeState::default();
    assert_eq!(free(&mut st, c).unwrap().done(), Some(3));
}
