#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

fn compute() -> u32 {
    4
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let a = compute();
    let r: &u32 = &a;
    wait!(c);
    let d: u32 = call!(sub()) + *r;
    Ok(IOResult::Done(a + d))
}

fn main() {}
