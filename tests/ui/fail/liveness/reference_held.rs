#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let data: Vec<u32> = vec![1];
    let first: &u32 = &data[0];
    wait!(c);
    Ok(IOResult::Done(*first))
}

fn main() {}
