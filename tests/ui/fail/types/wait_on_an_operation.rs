#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    wait!(sub());
    Ok(IOResult::Done(1))
}

fn main() {}
