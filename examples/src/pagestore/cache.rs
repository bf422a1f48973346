//! [`PageCache`]: committed page images in memory, evicted by CLOCK.
//!
//! The cache holds only committed versions (those a read may return): a
//! commit puts its images in when it becomes durable, a read that went to
//! disk puts what it read in, if nothing newer was published meanwhile.
//! Each entry keeps the LSN of its version, so an older version never
//! replaces a newer one. Eviction is CLOCK (second chance): a hit sets the
//! entry's reference bit; the hand clears set bits and evicts the first
//! entry found clear.

use std::collections::HashMap;
use std::sync::Arc;

use io_model::Buffer;

struct Entry {
    page: u32,
    lsn: u64,
    image: Arc<Buffer>,
    referenced: bool,
}

/// A fixed-capacity cache of page images.
///
/// ```
/// use std::sync::Arc;
/// use io_model::Buffer;
/// use io_model_examples::pagestore::cache::PageCache;
///
/// let mut cache = PageCache::new(2);
/// let img = || Arc::new(Buffer::new_page());
/// cache.insert(1, 5, img());
/// cache.insert(2, 5, img());
/// assert!(cache.get(1).is_some()); // page 1 gets a second chance
/// cache.insert(3, 5, img());       // evicts page 2
/// assert!(cache.get(2).is_none());
/// assert_eq!(cache.get(1).map(|(lsn, _)| lsn), Some(5));
/// assert_eq!(cache.len(), 2);
/// ```
pub struct PageCache {
    capacity: usize,
    slots: Vec<Entry>,
    index: HashMap<u32, usize>,
    hand: usize,
    evictions: u64,
}

impl PageCache {
    /// A cache of at most `capacity` pages; 0 disables it.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            slots: Vec::with_capacity(capacity),
            index: HashMap::with_capacity(capacity),
            hand: 0,
            evictions: 0,
        }
    }

    /// The cached version of `page`: its LSN and image.
    pub fn get(&mut self, page: u32) -> Option<(u64, Arc<Buffer>)> {
        let &slot = self.index.get(&page)?;
        let e = &mut self.slots[slot];
        e.referenced = true;
        Some((e.lsn, e.image.clone()))
    }

    /// The cached version of `page` without touching its reference bit (a
    /// checkpoint's look does not make a page hot).
    pub fn peek(&self, page: u32) -> Option<(u64, Arc<Buffer>)> {
        self.index.get(&page).map(|&slot| {
            let e = &self.slots[slot];
            (e.lsn, e.image.clone())
        })
    }

    /// The LSN of the cached version of `page`, without touching its
    /// reference bit.
    pub fn lsn_of(&self, page: u32) -> Option<u64> {
        self.index.get(&page).map(|&slot| self.slots[slot].lsn)
    }

    /// Caches version `lsn` of `page` unless a newer one is cached.
    pub fn insert(&mut self, page: u32, lsn: u64, image: Arc<Buffer>) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&slot) = self.index.get(&page) {
            let e = &mut self.slots[slot];
            if lsn >= e.lsn {
                e.lsn = lsn;
                e.image = image;
            }
            return;
        }
        let entry = Entry {
            page,
            lsn,
            image,
            referenced: false,
        };
        if self.slots.len() < self.capacity {
            self.index.insert(page, self.slots.len());
            self.slots.push(entry);
            return;
        }
        let victim = self.victim();
        self.index.remove(&self.slots[victim].page);
        self.index.insert(page, victim);
        self.slots[victim] = entry;
        self.evictions += 1;
    }

    /// Advances the hand to the first entry without its reference bit,
    /// clearing the bits it passes.
    fn victim(&mut self) -> usize {
        loop {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let e = &mut self.slots[at];
            if !e.referenced {
                return at;
            }
            e.referenced = false;
        }
    }

    /// How many pages are cached.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// How many entries were evicted so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(byte: u8) -> Arc<Buffer> {
        Arc::new(Buffer::from_vec(vec![byte; 8]))
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let mut c = PageCache::new(4);
        c.insert(1, 10, img(10));
        c.insert(1, 9, img(9));
        let (lsn, image) = c.get(1).unwrap();
        assert_eq!((lsn, image.lock()[0]), (10, 10));
        c.insert(1, 11, img(11));
        assert_eq!(c.get(1).unwrap().0, 11);
    }

    #[test]
    fn clock_gives_referenced_entries_a_second_chance() {
        let mut c = PageCache::new(3);
        for p in 0..3 {
            c.insert(p, 1, img(p as u8));
        }
        c.get(0);
        c.get(2);
        c.insert(3, 1, img(3)); // 1 is the only unreferenced entry
        assert!(c.get(1).is_none());
        assert!(c.get(0).is_some() && c.get(2).is_some() && c.get(3).is_some());
        assert_eq!(c.evictions(), 1);
        // Every bit was set again: the hand clears all and takes the next.
        c.insert(4, 1, img(4));
        assert_eq!(c.len(), 3);
        assert_eq!(c.evictions(), 2);
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut c = PageCache::new(0);
        c.insert(1, 1, img(1));
        assert!(c.is_empty() && c.get(1).is_none() && c.lsn_of(1).is_none());
    }
}
