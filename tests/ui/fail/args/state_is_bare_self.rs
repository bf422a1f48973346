#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self)]
    fn run(&mut self) -> Result<IOResult<()>> {
        Ok(IOResult::Done(()))
    }
}

fn main() {}
