#![deny(warnings)]
// The imports are used only in the body: one mistake there still gives one
// error, not an unused-import error besides.
use io_model::{Completion, IOResult, Result};
use std::collections::HashMap;

fn sub() -> Result<IOResult<u32>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn f(st: &mut FState, c: Completion) -> Result<IOResult<usize>> {
    let mut m = HashMap::<u32, u32>::new();
    m.insert(1, 2);
    wait!(c);
    let v: u32 = call!(sub());
    Ok(IOResult::Done(m.len() + v as usize))
}

fn main() {}
