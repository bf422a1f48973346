#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

use io_model::wait;

fn f(c: Completion) -> Result<IOResult<()>> {
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {}
