//! The small database every pair runs on, and the page I/O helpers the
//! versions share.
//!
//! The file `db` is made of [`PAGE`]-byte pages:
//!
//! | page | holds |
//! |---|---|
//! | 0 | the header: change counter, page count, freelist head and count ([`Header`]) |
//! | 1 | a leaf: a cell count (`u16`) and, for each cell, the number of the page holding its key |
//! | 2, 3 | data pages |
//! | 4..=15 | one key each (`u32` at offset 0): cell `i` has key `100 + 10 * i` |
//! | 16..=20 | an overflow chain, each page's first `u32` is the next page: 16, 18, 17, 20, 19 |
//! | 21..=23 | unused |
//!
//! All integers are little-endian.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use io_model::{io_yield_one, Buffer, Completion, File, IOResult, Result};
use io_model_difftest::Env;

/// The page size of the example database.
pub const PAGE: usize = 1024;
/// Pages in the example database.
pub const PAGES: u32 = 24;
/// The leaf page whose cells the seek searches.
pub const LEAF: u32 = 1;
/// Cells on the leaf.
pub const CELLS: u32 = 12;
/// The first key page.
pub const FIRST_KEY_PAGE: u32 = 4;
/// The first page of the overflow chain.
pub const CHAIN_HEAD: u32 = 16;
/// The pages of the overflow chain, in chain order.
pub const CHAIN: [u32; 5] = [16, 18, 17, 20, 19];
/// The page the freelist is written to.
pub const FREELIST_PAGE: u32 = 21;

/// The byte offset of page `n`.
pub fn offset(n: u32) -> u64 {
    u64::from(n) * PAGE as u64
}

/// Reads the `u32` at `at`.
pub fn get_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// Writes `v` at `at`.
pub fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The fields of page 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Bumped by every commit.
    pub change_counter: u32,
    /// Pages in the file.
    pub page_count: u32,
    /// The first freelist page, 0 if none.
    pub freelist_head: u32,
    /// Free pages.
    pub freelist_count: u32,
}

impl Header {
    /// Parses page 0.
    pub fn parse(page: &[u8]) -> Header {
        Header {
            change_counter: get_u32(page, 8),
            page_count: get_u32(page, 12),
            freelist_head: get_u32(page, 16),
            freelist_count: get_u32(page, 20),
        }
    }

    /// Writes the fields into page 0.
    pub fn store(&self, page: &mut [u8]) {
        page[..4].copy_from_slice(b"iomd");
        put_u32(page, 8, self.change_counter);
        put_u32(page, 12, self.page_count);
        put_u32(page, 16, self.freelist_head);
        put_u32(page, 20, self.freelist_count);
    }
}

/// The key of cell `i` of the leaf.
pub fn key_of_cell(i: u32) -> u32 {
    100 + 10 * i
}

/// The bytes of page `n` in the image.
fn range(n: u32) -> std::ops::Range<usize> {
    n as usize * PAGE..(n as usize + 1) * PAGE
}

/// The example database.
pub fn image() -> Vec<u8> {
    let mut db = vec![0u8; PAGES as usize * PAGE];
    Header {
        change_counter: 41,
        page_count: PAGES,
        freelist_head: 0,
        freelist_count: 0,
    }
    .store(&mut db[range(0)]);
    let leaf = range(LEAF).start;
    db[leaf..leaf + 2].copy_from_slice(&(CELLS as u16).to_le_bytes());
    for i in 0..CELLS {
        put_u32(&mut db, leaf + 4 + 4 * i as usize, FIRST_KEY_PAGE + i);
        put_u32(&mut db, range(FIRST_KEY_PAGE + i).start, key_of_cell(i));
    }
    for n in [2u32, 3] {
        for (j, b) in db[range(n)].iter_mut().enumerate() {
            *b = (n as usize * 37 + j) as u8;
        }
    }
    for (i, n) in CHAIN.iter().enumerate() {
        let next = CHAIN.get(i + 1).copied().unwrap_or(0);
        let at = range(*n).start;
        put_u32(&mut db, at, next);
        db[at + 4..at + PAGE].fill(0xa0 + i as u8);
    }
    db
}

/// The setup every pair uses: `db` holds [`image`], synced.
pub fn setup(env: &Env) -> Result<()> {
    env.write_file("db", &image())
}

/// Issues a read of page `n`; its bytes are in the completion's buffer
/// once it has finished ([`bytes`]).
pub fn read(file: &dyn File, n: u32) -> Result<Completion> {
    let c = Completion::new_read(Arc::new(Buffer::new(PAGE)), |_| {});
    file.pread(offset(n), c)
}

/// The bytes a read completion holds.
pub fn bytes(read: &Completion) -> Vec<u8> {
    read.read_buffer().map(|b| b.to_vec()).unwrap_or_default()
}

/// Issues a write of `data` as page `n`.
pub fn write(file: &dyn File, n: u32, data: Vec<u8>) -> Result<Completion> {
    file.pwrite(
        offset(n),
        Arc::new(Buffer::from_vec(data)),
        Completion::new_write(|_| {}),
    )
}

/// Issues a sync of `file`.
pub fn sync(file: &dyn File) -> Result<Completion> {
    file.sync(Completion::new_sync(|_| {}))
}

/// A hand-written sub-operation that reads one page. It keeps the read's
/// completion, so a call that comes back before the read finished waits
/// for the same read instead of issuing another. Like Turso's one-slot
/// sub-states, it assumes the caller passes the same page until `Done`.
#[derive(Debug, Default)]
pub struct PageRead {
    pending: Option<Completion>,
}

impl PageRead {
    /// Reads page `n` of `file`.
    pub fn read(&mut self, file: &dyn File, n: u32) -> Result<IOResult<Vec<u8>>> {
        let c = match &self.pending {
            Some(c) => c.clone(),
            None => {
                let c = read(file, n)?;
                self.pending = Some(c.clone());
                c
            }
        };
        if !c.finished() {
            io_yield_one!(c);
        }
        self.pending = None;
        check(&c)?;
        Ok(IOResult::Done(bytes(&c)))
    }
}

/// A page in a [`PageCache`]: its read, finished or still in flight.
#[derive(Debug)]
pub struct CachedPage {
    /// The read that loads (or loaded) the page.
    pub read: Completion,
}

impl CachedPage {
    /// Whether the read finished (successfully or not).
    pub fn is_loaded(&self) -> bool {
        self.read.finished()
    }

    /// The page's bytes (zeros while it is loading).
    pub fn bytes(&self) -> Vec<u8> {
        bytes(&self.read)
    }
}

/// A page cache shared by `&self` methods: page number to [`CachedPage`].
/// An entry is inserted when its read is issued, so it may still be
/// loading when found.
#[derive(Debug, Default)]
pub struct PageCache {
    pages: Mutex<BTreeMap<u32, Arc<CachedPage>>>,
}

impl PageCache {
    /// The entry of page `n`, loaded or not.
    pub fn get(&self, n: u32) -> Option<Arc<CachedPage>> {
        self.lock().get(&n).cloned()
    }

    /// The entry of page `n`; if there is none, issues its read and
    /// inserts it.
    pub fn get_or_load(&self, file: &dyn File, n: u32) -> Result<Arc<CachedPage>> {
        let mut pages = self.lock();
        if let Some(page) = pages.get(&n) {
            return Ok(page.clone());
        }
        let page = Arc::new(CachedPage {
            read: read(file, n)?,
        });
        pages.insert(n, page.clone());
        Ok(page)
    }

    /// Replaces the entry of page `n`.
    pub fn insert(&self, n: u32, page: Arc<CachedPage>) {
        self.lock().insert(n, page);
    }

    /// Drops the entry of page `n`.
    pub fn remove(&self, n: u32) {
        self.lock().remove(&n);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, Arc<CachedPage>>> {
        self.pages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The error a finished completion ended with, as the operation's error.
pub fn check(c: &Completion) -> Result<()> {
    match c.get_error() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_reads_back() {
        let db = image();
        assert_eq!(db.len(), PAGES as usize * PAGE);
        let h = Header::parse(&db[..PAGE]);
        assert_eq!((h.change_counter, h.page_count), (41, PAGES));
        let leaf = &db[PAGE..2 * PAGE];
        assert_eq!(u16::from_le_bytes([leaf[0], leaf[1]]), CELLS as u16);
        let mut n = CHAIN_HEAD;
        let mut seen = vec![];
        while n != 0 {
            seen.push(n);
            n = get_u32(&db, n as usize * PAGE);
        }
        assert_eq!(seen, CHAIN);
    }
}
