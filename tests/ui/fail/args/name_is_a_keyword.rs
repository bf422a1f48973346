#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st, name = Self)]
fn f(st: &mut u8, c: Completion) -> Result<IOResult<u32>> {
    wait!(c);
    Ok(IOResult::Done(1))
}

fn main() {}
