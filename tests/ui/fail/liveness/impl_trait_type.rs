#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let it: std::iter::Once<u32> = std::iter::once(1);
    let f = move || it.clone().count() as u32;
    wait!(c);
    Ok(IOResult::Done(f()))
}

fn main() {}
