//! Allocate a page: **read the header page through the cache** (`&self`,
//! state behind a `Mutex`, as Turso's pager).
//!
//! `read_header` returns page 0's fields through the page cache; a page
//! found in the cache may still be loading, and must then be waited for
//! (Turso's "is the page locked" check). `allocate` reads the header,
//! takes the page after the last, and writes the new page and the header
//! with one more page, both writes in one group.
//!
//! The hand-written `read_header` needs no state of its own: the cache
//! entry is the state. The bug uses a cached page without checking that
//! its read finished, so a call that comes back early parses an empty
//! page and allocates page 0, over the header.
//!
//! Caught in early-reentry mode.

use std::sync::{Arc, Mutex};

use io_model::{io_yield_one, Completion, CompletionGroup, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, Header, PageCache, PAGE};

/// The hand-written `allocate`'s state.
#[derive(Debug, Default)]
pub enum AllocateHand {
    /// Reading the header (or not started).
    #[default]
    Start,
    /// The new page and the header are being written.
    Writing {
        /// The page allocated.
        page: u32,
        /// The group of both writes.
        writes: Completion,
    },
}

/// Issues the writes of an allocation: a zeroed page `n` and the header,
/// in one group; the header's cache entry is dropped.
fn write_allocation(
    file: &dyn File,
    cache: &PageCache,
    mut header: Header,
) -> Result<(u32, Completion)> {
    let n = header.page_count;
    header.page_count += 1;
    let mut page0 = vec![0; PAGE];
    header.store(&mut page0);
    cache.remove(0);
    let mut group = CompletionGroup::new(|_| {});
    group.add(&pages::write(file, n, vec![0; PAGE])?);
    group.add(&pages::write(file, 0, page0)?);
    Ok((n, group.build()))
}

/// The hand-written `allocate` both hand-written pagers share.
fn allocate_hand(
    st: &Mutex<AllocateHand>,
    file: &dyn File,
    cache: &PageCache,
    read_header: impl Fn() -> Result<IOResult<Header>>,
) -> Result<IOResult<u32>> {
    loop {
        let taken = std::mem::take(&mut *st.lock().unwrap());
        match taken {
            AllocateHand::Start => {
                let header = io_model::return_if_io!(read_header());
                let (page, writes) = write_allocation(file, cache, header)?;
                *st.lock().unwrap() = AllocateHand::Writing { page, writes };
            }
            AllocateHand::Writing { page, writes } => {
                if !writes.finished() {
                    *st.lock().unwrap() = AllocateHand::Writing {
                        page,
                        writes: writes.clone(),
                    };
                    io_yield_one!(writes);
                }
                pages::check(&writes)?;
                return Ok(IOResult::Done(page));
            }
        }
    }
}

/// Hand-written, with the bug.
pub struct BuggyPager {
    file: Arc<dyn File>,
    cache: PageCache,
    allocate: Mutex<AllocateHand>,
}

impl BuggyPager {
    /// Page 0's fields.
    pub fn read_header(&self) -> Result<IOResult<Header>> {
        if let Some(page) = self.cache.get(0) {
            // BUG: the page may still be loading; its buffer is then empty.
            pages::check(&page.read)?;
            return Ok(IOResult::Done(Header::parse(&page.bytes())));
        }
        let page = self.cache.get_or_load(&*self.file, 0)?;
        io_yield_one!(page.read.clone());
    }

    /// Appends a page to the file; returns its number.
    pub fn allocate(&self) -> Result<IOResult<u32>> {
        allocate_hand(&self.allocate, &*self.file, &self.cache, || {
            self.read_header()
        })
    }
}

/// Hand-written, correct.
pub struct HandPager {
    file: Arc<dyn File>,
    cache: PageCache,
    allocate: Mutex<AllocateHand>,
}

impl HandPager {
    /// Page 0's fields.
    pub fn read_header(&self) -> Result<IOResult<Header>> {
        let page = self.cache.get_or_load(&*self.file, 0)?;
        if !page.is_loaded() {
            io_yield_one!(page.read.clone());
        }
        pages::check(&page.read)?;
        Ok(IOResult::Done(Header::parse(&page.bytes())))
    }

    /// Appends a page to the file; returns its number.
    pub fn allocate(&self) -> Result<IOResult<u32>> {
        allocate_hand(&self.allocate, &*self.file, &self.cache, || {
            self.read_header()
        })
    }
}

/// With `#[resumable]`: both `&self` methods keep their state in a
/// `Mutex` (`state = self.x.lock().unwrap()`); the lock is held only to
/// take the state and put it back, so the body may lock anything.
pub struct ResumablePager {
    file: Arc<dyn File>,
    cache: PageCache,
    read_header: Mutex<ReadHeaderState>,
    allocate: Mutex<AllocateState>,
}

#[io_model::resumable]
impl ResumablePager {
    /// Page 0's fields.
    #[resumable(state = self.read_header.lock().unwrap())]
    pub fn read_header(&self) -> Result<IOResult<Header>> {
        let page: Arc<pages::CachedPage> = self.cache.get_or_load(&*self.file, 0)?;
        wait!(LoadHeader => page.read.clone());
        Ok(IOResult::Done(Header::parse(&page.bytes())))
    }

    /// Appends a page to the file; returns its number.
    #[resumable(state = self.allocate.lock().unwrap())]
    pub fn allocate(&self) -> Result<IOResult<u32>> {
        let header: Header = call!(ReadHeader => self.read_header());
        let (page, writes) = write_allocation(&*self.file, &self.cache, header)?;
        let page: u32 = page;
        wait!(Extend => writes);
        Ok(IOResult::Done(page))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let pager = Arc::new(BuggyPager {
        file: env.open("db")?,
        cache: PageCache::default(),
        allocate: Mutex::default(),
    });
    Ok(move || pager.allocate())
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let pager = Arc::new(HandPager {
        file: env.open("db")?,
        cache: PageCache::default(),
        allocate: Mutex::default(),
    });
    Ok(move || pager.allocate())
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let pager = Arc::new(ResumablePager {
        file: env.open("db")?,
        cache: PageCache::default(),
        read_header: Mutex::default(),
        allocate: Mutex::default(),
    });
    Ok(move || pager.allocate())
}
