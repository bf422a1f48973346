#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable]
trait T {
    fn run(&mut self) -> Result<IOResult<()>>;
}

fn main() {}
