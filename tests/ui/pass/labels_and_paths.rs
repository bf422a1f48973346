//! State labels, markers written with their full path, `Self` in a stored
//! type.
#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

#[derive(Clone, Copy, Default)]
pub struct Page(u32);

pub struct Tree {
    st: DescendState,
}

#[io_model::resumable]
impl Tree {
    #[resumable(state = self.st)]
    pub fn descend(&mut self, c: Completion) -> Result<IOResult<u32>> {
        let page: Page = Page::load_sync();
        io_model::wait!(ReadHeader => c.clone());
        io_model::yield_now!(Handoff);
        ::io_model::wait!(c);
        Ok(IOResult::Done(page.0))
    }
}

#[io_model::resumable]
impl Page {
    fn load_sync() -> Self {
        Page(3)
    }

    /// `Self` in a stored local's type names the impl's type.
    #[resumable(state = st)]
    pub fn load(st: &mut LoadState, c: Completion) -> Result<IOResult<u32>> {
        let p: Self = Page(7);
        wait!(c);
        Ok(IOResult::Done(p.0))
    }
}

fn main() {
    let mut t = Tree { st: DescendState::default() };
    let c = Completion::new_sync(|_| {});
    assert!(t.descend(c.clone()).unwrap().is_io());
    assert_eq!(t.st.name(), "ReadHeader");
    c.complete(0);
    assert!(t.descend(c.clone()).unwrap().is_io());
    assert_eq!(format!("{:?}", t.st), "Handoff");
    assert_eq!(t.descend(c.clone()).unwrap().done(), Some(3));
    let mut ls = LoadState::default();
    assert_eq!(Page::load(&mut ls, c).unwrap().done(), Some(7));
}
