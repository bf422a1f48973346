#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S;

#[io_model::resumable]
impl S {
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
