#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
const fn f(st: &mut FState) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
