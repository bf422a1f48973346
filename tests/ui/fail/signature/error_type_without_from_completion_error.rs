#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[derive(Debug)]
struct MyError;

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> std::result::Result<IOResult<u32>, MyError> {
    wait!(c);
    Ok(IOResult::Done(1))
}

fn main() {}
