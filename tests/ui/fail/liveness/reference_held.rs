use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion, data: Vec<u8>) -> Result<IOResult<u8>> {
    let first: &u8 = &data[0];
    wait!(c);
    Ok(IOResult::Done(*first))
}

fn main() {}
