#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct View<'a>(&'a [u8]);

#[io_model::resumable(state = st)]
fn f<'a>(st: &mut FState, c: Completion, data: &'a [u8]) -> Result<IOResult<usize>> {
    let v: View<'a> = View(data);
    wait!(c);
    Ok(IOResult::Done(v.0.len()))
}

fn main() {}
