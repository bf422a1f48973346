use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u32>> {
    let st: u32 = 3;
    wait!(c);
    Ok(IOResult::Done(st))
}

fn main() {}
