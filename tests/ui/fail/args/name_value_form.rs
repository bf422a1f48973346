#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable = "self.st"]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
