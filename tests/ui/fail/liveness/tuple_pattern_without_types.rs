#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

fn make() -> (u32, u32) {
    (1, 2)
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let (a, b) = make();
    wait!(c);
    Ok(IOResult::Done(a + b))
}

fn main() {}
