#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let o: Option<Completion> = Some(c);
    wait!(let Some(x) = o);
    Ok(IOResult::Done(1))
}

fn main() {}
