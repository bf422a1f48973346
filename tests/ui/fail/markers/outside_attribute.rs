use io_model::{wait, Completion, IOResult, Result};

fn f(c: Completion) -> Result<IOResult<()>> {
    wait!(c);
    Ok(IOResult::Done(()))
}

fn main() {}
