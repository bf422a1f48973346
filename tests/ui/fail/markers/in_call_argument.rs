use io_model::{IOResult, Result};

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

fn consume(_: u32) {}

#[io_model::resumable(state = st)]
fn f(st: &mut FState) -> Result<IOResult<()>> {
    consume(call!(sub()));
    Ok(IOResult::Done(()))
}

fn main() {}
