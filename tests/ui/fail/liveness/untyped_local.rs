use io_model::{Completion, IOResult, Result};

fn compute() -> u64 {
    4
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<u64>> {
    let x = compute();
    wait!(c);
    Ok(IOResult::Done(x))
}

fn main() {}
