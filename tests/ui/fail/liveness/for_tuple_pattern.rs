#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let pairs: Vec<(u32, u32)> = vec![(1, 2)];
    let mut sum: u32 = 0;
    for (a, b) in pairs {
        wait!(c.clone());
        sum += a + b;
    }
    Ok(IOResult::Done(sum))
}

fn main() {}
