#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

fn make() -> Vec<u32> {
    vec![1]
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let mut sum: u32 = 0;
    for x in make() {
        wait!(c.clone());
        sum += x;
    }
    Ok(IOResult::Done(sum))
}

fn main() {}
