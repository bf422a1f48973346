#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

use std::sync::Mutex;

struct S {
    st: Mutex<u32>,
}

#[io_model::resumable]
impl S {
    #[resumable(state = self.st.lock().unwrap())]
    fn run(&self, c: Completion) -> Result<IOResult<()>> {
        wait!(c);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
