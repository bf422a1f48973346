#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = 0)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    wait!(c);
    Ok(IOResult::Done(1))
}

fn main() {}
