//! A slab whose keys carry a generation, so that a key outlives the entry
//! it named harmlessly: a reply with the handle of a request that already
//! finished finds nothing instead of another request. Freed slots are
//! reused and the vectors keep their capacity, so once warm, inserting and
//! removing allocate nothing.

/// A key: the slot index in the low 32 bits, its generation in the high.
pub(super) type Key = u64;

pub(super) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(super) fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(value);
        (u64::from(slot.generation) << 32) | u64::from(index)
    }

    fn slot(&self, key: Key) -> Option<&Slot<T>> {
        let slot = self.slots.get((key & u64::from(u32::MAX)) as usize)?;
        (u64::from(slot.generation) == key >> 32).then_some(slot)
    }

    pub(super) fn get(&self, key: Key) -> Option<&T> {
        self.slot(key)?.value.as_ref()
    }

    pub(super) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.slot(key)?;
        self.slots[(key & u64::from(u32::MAX)) as usize]
            .value
            .as_mut()
    }

    pub(super) fn remove(&mut self, key: Key) -> Option<T> {
        self.slot(key)?;
        let index = (key & u64::from(u32::MAX)) as u32;
        let slot = &mut self.slots[index as usize];
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// Every entry.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }

    /// Calls `f` with the key and value of every entry.
    pub(super) fn for_each_mut(&mut self, mut f: impl FnMut(Key, &mut T)) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            let key = (u64::from(slot.generation) << 32) | index as u64;
            if let Some(value) = slot.value.as_mut() {
                f(key, value);
            }
        }
    }

    /// Removes every entry, oldest slot first, handing each to `f`.
    pub(super) fn drain(&mut self, mut f: impl FnMut(T)) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if let Some(value) = slot.value.take() {
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(index as u32);
                f(value);
            }
        }
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_find_nothing() {
        let mut s = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "the slot is reused");
        assert_eq!(s.get(a), None);
        assert_eq!(s.remove(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
        let c = s.insert("c");
        let mut seen = Vec::new();
        s.drain(|v| seen.push(v));
        assert_eq!(seen, ["b", "c"]);
        assert!(s.is_empty() && s.get(c).is_none());
    }
}
