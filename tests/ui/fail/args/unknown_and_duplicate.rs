use io_model::{IOResult, Result};

#[io_model::resumable(state = st, state = st, colour = red)]
fn f(st: &mut FState) -> Result<IOResult<()>> {
    Ok(IOResult::Done(()))
}

fn main() {}
