#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
async fn f(st: &mut FState, c: Completion) -> Result<IOResult<()>> {
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {}
