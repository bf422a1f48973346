//! Generic functions and impls (nothing generic stored), lifetimes in
//! arguments, `name = ..`, visibility, a trait impl, no suspension point.
#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

pub mod store {
    use super::*;

    pub struct Store<T> {
        pub items: Vec<T>,
        pub st: PushState,
    }

    #[io_model::resumable]
    impl<T: Clone> Store<T> {
        /// Pushes a copy of `item` once the completion finishes.
        #[resumable(state = self.st, name = PushState)]
        pub fn push<'a>(&mut self, item: &'a T, c: &'a Completion) -> Result<IOResult<usize>> {
            let before: usize = self.items.len();
            wait!(c.clone());
            self.items.push(item.clone());
            Ok(IOResult::Done(before + 1))
        }
    }
}

pub trait Op {
    fn run(&mut self) -> Result<IOResult<u32>>;
}

pub struct Counter {
    n: u32,
    st: RunState,
}

#[io_model::resumable]
impl Op for Counter {
    #[resumable(state = self.st)]
    fn run(&mut self) -> Result<IOResult<u32>> {
        self.n += 1;
        yield_now!();
        Ok(IOResult::Done(self.n))
    }
}

#[io_model::resumable(state = st)]
fn nothing_to_wait_for<T: Default>(st: &mut NothingToWaitForState) -> Result<IOResult<T>> {
    Ok(IOResult::Done(T::default()))
}

fn main() {
    let mut s = store::Store { items: vec![1u8], st: store::PushState::default() };
    let c = Completion::new_sync(|_| {});
    c.complete(0);
    assert_eq!(s.push(&2, &c).unwrap().done(), Some(2));
    let mut k = Counter { n: 0, st: RunState::default() };
    assert!(k.run().unwrap().is_io());
    assert_eq!(k.run().unwrap().done(), Some(1));
    let mut st = NothingToWaitForState::default();
    assert_eq!(nothing_to_wait_for::<u8>(&mut st).unwrap().done(), Some(0));
}
