use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn f(st: &mut FState, cs: Vec<Completion>) -> Result<IOResult<()>> {
    cs.into_iter().for_each(|c| {
        wait!(c);
    });
    Ok(IOResult::Done(()))
}

fn main() {}
