//! Registered files and buffers of a ring.
//!
//! Registration is an optimisation only: where the kernel refuses it (old
//! kernel, memlock limit, full table) the backend uses plain file
//! descriptors and addresses, and the I/O goes ahead.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use io_model::Buffer;
use io_uring::Submitter;

/// The slots of the ring's registered-file table, shared with the files so
/// that a file can give its slot back when it is dropped (without the ring
/// lock: a file may be dropped while the ring lock is held).
#[derive(Default)]
pub(super) struct FileTable {
    /// The descriptor registered in each slot; `None` for a free slot.
    pub(super) slots: Vec<Option<RawFd>>,
    /// Slots the ring may hand out.
    pub(super) free: Vec<u32>,
    /// Slots whose file was dropped: the ring clears them in the kernel's
    /// table, then frees them.
    pub(super) released: Vec<u32>,
}

/// The file table and a flag that says, without its lock, whether a
/// dropped file left a slot to clear (checked on every submission).
pub(super) struct Files {
    table: Mutex<FileTable>,
    released: AtomicBool,
}

impl Files {
    pub(super) fn new(slots: u32) -> Self {
        Self {
            table: Mutex::new(FileTable::with_slots(slots)),
            released: AtomicBool::new(false),
        }
    }

    /// Whether a dropped file's slot may wait to be cleared.
    pub(super) fn any_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }
}

/// Locks the file table. Whoever takes `released` out of it clears the
/// flag under the lock.
pub(super) fn lock_table(files: &Files) -> MutexGuard<'_, FileTable> {
    files.table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes the released slots out of the table (and clears the flag).
pub(super) fn take_released(files: &Files, t: &mut FileTable) -> Vec<u32> {
    files.released.store(false, Ordering::Release);
    std::mem::take(&mut t.released)
}

impl FileTable {
    /// A table of `n` free slots.
    pub(super) fn with_slots(n: u32) -> Self {
        Self {
            slots: vec![None; n as usize],
            free: (0..n).rev().collect(),
            released: Vec::new(),
        }
    }
}

/// An open file of a [`UringIO`](super::UringIO): the descriptor, and the
/// slot it is registered in, if any. Every in-flight operation holds an
/// `Arc` of it, so the descriptor stays open until the operation is reaped.
pub(super) struct FileFd {
    pub(super) file: std::fs::File,
    pub(super) slot: Option<u32>,
    pub(super) table: Arc<Files>,
}

impl FileFd {
    pub(super) fn raw(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Drop for FileFd {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            // The kernel's table keeps its own reference to the file, so
            // closing the descriptor right after this is fine; the ring
            // clears the slot before handing it out again.
            let mut table = lock_table(&self.table);
            table.slots[slot as usize] = None;
            table.released.push(slot);
            self.table.released.store(true, Ordering::Release);
        }
    }
}

/// Registers a table of `n` empty file slots.
pub(super) fn register_file_table(submitter: &Submitter<'_>, n: u32) -> bool {
    n > 0 && submitter.register_files_sparse(n).is_ok()
}

/// Puts `fd` into `slot` of the kernel's table (or clears it with -1).
pub(super) fn set_file_slot(submitter: &Submitter<'_>, slot: u32, fd: RawFd) -> bool {
    matches!(submitter.register_files_update(slot, &[fd]), Ok(1))
}

/// Hashes the address keys of [`BufferRegistry`]: they are already
/// unique, so one multiplication spreads them well enough, at a fraction of
/// the default hasher's cost (a lookup runs for every buffer I/O).
#[derive(Default)]
pub(super) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        // Fibonacci hashing: the high bits, which hashbrown uses, mix all
        // of the address.
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type AddressMap<V> = HashMap<usize, V, BuildHasherDefault<AddressHasher>>;

/// The ring's registered buffers.
///
/// A buffer is registered the second time it is used for I/O (buffers used
/// once would pay a registration for nothing), while the table has a free
/// slot and the byte budget allows. The registry holds an `Arc` of every
/// registered buffer, so its memory stays valid for as long as the kernel
/// has it registered; a buffer that only the registry still holds is
/// unregistered and released when room is needed.
pub(super) struct BufferRegistry {
    enabled: bool,
    slots: Vec<Option<Arc<Buffer>>>,
    free: Vec<u16>,
    /// Registered buffers by the address of their `Arc` allocation.
    by_arc: AddressMap<u16>,
    /// Buffers used once, by the address of their `Arc` allocation. The
    /// `Weak` keeps that allocation (not the bytes) alive, so the address
    /// cannot be reused by another buffer while it is a key here.
    seen: AddressMap<Weak<Buffer>>,
    used_bytes: usize,
    budget: usize,
}

/// How many buffers used once are remembered.
const SEEN_LIMIT: usize = 4096;

impl BufferRegistry {
    /// A registry without registration.
    pub(super) fn disabled() -> Self {
        Self {
            enabled: false,
            slots: Vec::new(),
            free: Vec::new(),
            by_arc: AddressMap::default(),
            seen: AddressMap::default(),
            used_bytes: 0,
            budget: 0,
        }
    }

    /// Registers a sparse table of `slots` buffers with the kernel; a
    /// disabled registry where that fails or `budget` is 0.
    pub(super) fn new(submitter: &Submitter<'_>, slots: u16, budget: usize) -> Self {
        if slots == 0 || budget == 0 || submitter.register_buffers_sparse(u32::from(slots)).is_err()
        {
            return Self::disabled();
        }
        Self {
            enabled: true,
            slots: vec![None; usize::from(slots)],
            free: (0..slots).rev().collect(),
            // Sized once: neither map grows while the ring runs.
            by_arc: AddressMap::with_capacity_and_hasher(usize::from(slots), Default::default()),
            seen: AddressMap::with_capacity_and_hasher(SEEN_LIMIT, Default::default()),
            used_bytes: 0,
            budget,
        }
    }

    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// How many buffers are registered now.
    pub(super) fn registered(&self) -> usize {
        self.by_arc.len()
    }

    /// The registered index of `buf`, registering it if this is its second
    /// use and there is room; `None` to use its plain address.
    pub(super) fn index_for(
        &mut self,
        submitter: &Submitter<'_>,
        buf: &Arc<Buffer>,
    ) -> Option<u16> {
        if !self.enabled || buf.is_empty() {
            return None;
        }
        let key = Arc::as_ptr(buf) as usize;
        if let Some(&index) = self.by_arc.get(&key) {
            // The registry's own `Arc` keeps the key from being reused, so
            // this is the very buffer that was registered.
            return Some(index);
        }
        if self.seen.remove(&key).is_none() {
            if self.seen.len() >= SEEN_LIMIT {
                self.seen.retain(|_, w| w.strong_count() > 0);
                if self.seen.len() >= SEEN_LIMIT {
                    self.seen.clear();
                }
            }
            self.seen.insert(key, Arc::downgrade(buf));
            return None;
        }
        self.register(submitter, buf, key)
    }

    fn register(
        &mut self,
        submitter: &Submitter<'_>,
        buf: &Arc<Buffer>,
        key: usize,
    ) -> Option<u16> {
        let len = buf.len();
        if self.free.is_empty() || self.used_bytes + len > self.budget {
            self.evict_unused(submitter);
            if self.free.is_empty() || self.used_bytes + len > self.budget {
                return None;
            }
        }
        let index = self.free.pop()?;
        let iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: len,
        };
        // SAFETY: the iovec describes the buffer's whole allocation, whose
        // address is stable for the buffer's life. The registry stores an
        // `Arc` of the buffer below and drops it only after clearing the
        // slot (`evict_unused`) or after the ring is closed (field order of
        // `Ring`), so the memory stays valid while it is registered.
        let res = unsafe { submitter.register_buffers_update(u32::from(index), &[iov], None) };
        match res {
            Ok(()) => {
                self.slots[usize::from(index)] = Some(buf.clone());
                self.by_arc.insert(key, index);
                self.used_bytes += len;
                Some(index)
            }
            Err(_) => {
                // Most likely the memlock limit: stop growing, keep what is
                // registered, and carry on with plain buffers.
                self.free.push(index);
                self.budget = self.used_bytes;
                None
            }
        }
    }

    /// Unregisters the buffers nobody but the registry holds any more (no
    /// caller, no operation in flight).
    fn evict_unused(&mut self, submitter: &Submitter<'_>) {
        let empty = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        for index in 0..self.slots.len() {
            let unused = matches!(&self.slots[index], Some(buf) if Arc::strong_count(buf) == 1);
            if !unused {
                continue;
            }
            // SAFETY: an empty iovec clears the slot; no memory is handed
            // to the kernel.
            let cleared =
                unsafe { submitter.register_buffers_update(index as u32, &[empty], None) };
            if cleared.is_err() {
                // The kernel keeps the registration: keep the memory too.
                return;
            }
            let buf = self.slots[index].take().expect("BUG: checked above");
            self.by_arc.remove(&(Arc::as_ptr(&buf) as usize));
            self.used_bytes -= buf.len();
            self.free.push(index as u16);
        }
    }
}
