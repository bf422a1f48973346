#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn _1(st: &mut State) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
