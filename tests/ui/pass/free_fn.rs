#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

#[io_model::resumable(state = st)]
pub fn flush(st: &mut FlushState, pending: Vec<Completion>, extra: Completion) -> Result<IOResult<usize>> {
    let n: usize = pending.len();
    wait_all!(pending);
    wait!(extra);
    yield_now!();
    Ok(IOResult::Done(n))
}

fn main() {
    let mut st = FlushState::default();
    let done = Completion::new_sync(|_| {});
    done.complete(0);
    assert!(flush(&mut st, vec![], done.clone()).unwrap().is_io());
    assert_eq!(st.name(), "Yield0");
    assert_eq!(flush(&mut st, vec![], done).unwrap().done(), Some(0));
}
