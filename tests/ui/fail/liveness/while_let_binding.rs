#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let mut it = vec![1u32].into_iter();
    let mut sum: u32 = 0;
    while let Some(v) = it.next() {
        wait!(c.clone());
        sum += v;
    }
    Ok(IOResult::Done(sum))
}

fn main() {}
