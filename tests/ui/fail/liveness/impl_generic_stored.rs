#[allow(unused_imports)]
use io_model::{Completion, IOResult, Result};

struct S<T> {
    items: Vec<T>,
    st: PushState,
}

#[io_model::resumable]
impl<T: Clone> S<T> {
    #[resumable(state = self.st)]
    fn push(&mut self, c: Completion, item: T) -> Result<IOResult<()>> {
        let copy: T = item.clone();
        wait!(c);
        self.items.push(copy);
        Ok(IOResult::Done(()))
    }
}

fn main() {}
