//! Sum keys through a page cache: **a map insert before a yield**.
//!
//! `get` returns a page through the cache; `sum` adds up the keys of a
//! list of key pages (one of them twice, so the second lookup hits the
//! cache). Both are `&self` methods whose state sits in a `RefCell`, as
//! in single-threaded Turso code. The bug inserts a fresh entry whenever
//! the cached one is still loading: the loading entry is silently
//! replaced and its page read again.
//!
//! Caught in early-reentry mode: a call that comes back while a page loads
//! issues a second read of it. (In deferred mode the loading entry has
//! always finished by the time the caller comes back.)

use std::cell::RefCell;
use std::sync::Arc;

use io_model::{io_yield_one, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, CachedPage, PageCache};

/// The key pages the harness sums (page 5 twice).
pub const LIST: [u32; 4] = [4, 5, 6, 5];

/// The hand-written `sum`'s state.
#[derive(Debug, Default, Clone, Copy)]
pub struct SumHand {
    /// The next index of the list.
    pub idx: usize,
    /// The keys added so far.
    pub total: u32,
}

/// The key stored in a key page.
fn key(page: &CachedPage) -> u32 {
    pages::get_u32(&page.bytes(), 0)
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    cache: PageCache,
    sum: RefCell<SumHand>,
}

impl Buggy {
    /// Page `n`, through the cache.
    pub fn get(&self, n: u32) -> Result<IOResult<Arc<CachedPage>>> {
        if let Some(page) = self.cache.get(n) {
            if page.is_loaded() {
                pages::check(&page.read)?;
                return Ok(IOResult::Done(page));
            }
        }
        // A page whose read is in flight is replaced by a new entry and
        // read again.
        let page = Arc::new(CachedPage {
            read: pages::read(&*self.file, n)?,
        });
        self.cache.insert(n, page.clone()); // BUG: also when the entry is only loading
        io_yield_one!(page.read.clone());
    }

    /// The sum of the keys of the pages in `list`.
    pub fn sum(&self, list: &[u32]) -> Result<IOResult<u32>> {
        sum_hand(&self.sum, list, |n| self.get(n))
    }
}

/// Hand-written, correct: a loading entry is waited for, not replaced.
pub struct Hand {
    file: Arc<dyn File>,
    cache: PageCache,
    sum: RefCell<SumHand>,
}

impl Hand {
    /// Page `n`, through the cache.
    pub fn get(&self, n: u32) -> Result<IOResult<Arc<CachedPage>>> {
        let page = self.cache.get_or_load(&*self.file, n)?;
        if !page.is_loaded() {
            io_yield_one!(page.read.clone());
        }
        pages::check(&page.read)?;
        Ok(IOResult::Done(page))
    }

    /// The sum of the keys of the pages in `list`.
    pub fn sum(&self, list: &[u32]) -> Result<IOResult<u32>> {
        sum_hand(&self.sum, list, |n| self.get(n))
    }
}

/// The hand-written `sum` both hand-written versions share: its progress
/// in a `RefCell`, reset when the run ends.
fn sum_hand(
    st: &RefCell<SumHand>,
    list: &[u32],
    mut get: impl FnMut(u32) -> Result<IOResult<Arc<CachedPage>>>,
) -> Result<IOResult<u32>> {
    loop {
        let SumHand { idx, total } = *st.borrow();
        if idx == list.len() {
            *st.borrow_mut() = SumHand::default();
            return Ok(IOResult::Done(total));
        }
        let page = match get(list[idx]) {
            Ok(IOResult::Done(page)) => page,
            Ok(IOResult::IO(io)) => return Ok(IOResult::IO(io)),
            Err(e) => {
                *st.borrow_mut() = SumHand::default();
                return Err(e);
            }
        };
        *st.borrow_mut() = SumHand {
            idx: idx + 1,
            total: total + key(&page),
        };
    }
}

/// With `#[resumable]`: both methods are generated, each state in a
/// `RefCell` (`state = self.x.borrow_mut()`), and `sum` drives `get` with
/// `call!`.
pub struct Resumable {
    file: Arc<dyn File>,
    cache: PageCache,
    get: RefCell<GetState>,
    sum: RefCell<SumState>,
}

#[io_model::resumable]
impl Resumable {
    /// Page `n`, through the cache.
    #[resumable(state = self.get.borrow_mut())]
    pub fn get(&self, n: u32) -> Result<IOResult<Arc<CachedPage>>> {
        let page: Arc<CachedPage> = self.cache.get_or_load(&*self.file, n)?;
        wait!(Load => page.read.clone());
        Ok(IOResult::Done(page))
    }

    /// The sum of the keys of the pages in `list`.
    #[resumable(state = self.sum.borrow_mut())]
    pub fn sum(&self, list: &[u32]) -> Result<IOResult<u32>> {
        let mut total: u32 = 0;
        for idx in 0..list.len() {
            let page: Arc<CachedPage> = call!(Get => self.get(list[idx]));
            total += key(&page);
        }
        Ok(IOResult::Done(total))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let op = Buggy {
        file: env.open("db")?,
        cache: PageCache::default(),
        sum: RefCell::default(),
    };
    Ok(move || op.sum(&LIST))
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let op = Hand {
        file: env.open("db")?,
        cache: PageCache::default(),
        sum: RefCell::default(),
    };
    Ok(move || op.sum(&LIST))
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let op = Resumable {
        file: env.open("db")?,
        cache: PageCache::default(),
        get: RefCell::default(),
        sum: RefCell::default(),
    };
    Ok(move || op.sum(&LIST))
}
