#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn f<T: Clone>(st: &mut FState, c: Completion, x: T) -> Result<IOResult<T>> {
    let y: T = x.clone();
    wait!(c);
    Ok(IOResult::Done(y))
}

fn main() {}
