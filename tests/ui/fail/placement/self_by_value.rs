#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S {
    st: RunState,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self.st)]
    fn run(self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
