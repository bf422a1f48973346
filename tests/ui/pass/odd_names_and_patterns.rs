//! Raw identifiers held across suspension points, or-patterns in `for`
//! loops that hold one.
#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
fn odd(st: &mut OddState, c: Completion, items: Vec<Result<u32, u32>>) -> Result<IOResult<u32>> {
    let r#type: u32 = 2;
    let mut n: u32 = 0;
    for Ok(x) | Err(x) in items {
        n += x;
        wait!(c.clone());
    }
    wait!(c);
    Ok(IOResult::Done(n + r#type))
}

fn main() {
    let c = Completion::new_sync(|_| {});
    let mut st = OddState::default();
    assert!(odd(&mut st, c.clone(), vec![Ok(1), Err(3)]).unwrap().is_io());
    c.complete(0);
    let mut r = odd(&mut st, c.clone(), vec![]).unwrap();
    while r.is_io() {
        r = odd(&mut st, c.clone(), vec![]).unwrap();
    }
    assert_eq!(r.done(), Some(6));
}
