#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let mut n: u32 = 3;
    while n > 0 && call!(sub()) > 0 {
        wait!(c.clone());
        n -= 1;
    }
    Ok(IOResult::Done(n))
}

fn main() {}
