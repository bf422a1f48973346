#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S {
    st: RunState,
}

impl S {
    #[io_model::resumable]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
