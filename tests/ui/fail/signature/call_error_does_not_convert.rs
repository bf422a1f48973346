#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[derive(Debug)]
struct Other;

fn sub() -> std::result::Result<IOResult<u32>, Other> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState) -> Result<IOResult<u32>> {
    let v: u32 = call!(sub());
    Ok(IOResult::Done(v))
}

fn main() {}
