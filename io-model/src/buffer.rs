//! [`Buffer`]: the owned memory an I/O reads into or writes from.

use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The size of a page, and of [`Buffer::new_page`].
pub const PAGE_SIZE: usize = 4096;

/// An owned, fixed-size byte buffer, shared as `Arc<Buffer>` between the
/// code that issues an I/O and the backend that performs it.
///
/// The bytes live in one heap allocation that never moves or changes size,
/// so a backend may hand its address to the kernel (see
/// [`Buffer::as_mut_ptr`]) as long as it keeps the `Arc<Buffer>` alive until
/// the operation is reaped. Rust code reads and writes the bytes through
/// [`Buffer::lock`]; while an I/O on the buffer is in flight its contents
/// are unspecified.
///
/// ```
/// use io_model::Buffer;
///
/// let buf = Buffer::new_page();
/// assert_eq!(buf.len(), io_model::PAGE_SIZE);
/// buf.lock()[..5].copy_from_slice(b"hello");
/// assert_eq!(&buf.lock()[..5], b"hello");
/// ```
pub struct Buffer {
    storage: Mutex<Box<[u8]>>,
    offset: usize,
    len: usize,
    /// The address of the first byte, taken once: the storage never moves.
    addr: usize,
}

/// Exclusive access to a [`Buffer`]'s bytes; dereferences to `[u8]`.
///
/// ```
/// let buf = io_model::Buffer::new(4);
/// let mut bytes = buf.lock();
/// bytes.fill(7);
/// assert_eq!(&*bytes, &[7, 7, 7, 7]);
/// ```
pub struct BufferGuard<'a> {
    guard: MutexGuard<'a, Box<[u8]>>,
    offset: usize,
    len: usize,
}

impl Buffer {
    /// A zeroed buffer of `len` bytes.
    ///
    /// ```
    /// assert_eq!(io_model::Buffer::new(10).len(), 10);
    /// ```
    pub fn new(len: usize) -> Self {
        Self::from_vec(vec![0; len])
    }

    /// A zeroed buffer of [`PAGE_SIZE`] bytes, aligned to [`PAGE_SIZE`] so it
    /// can be used with `O_DIRECT`.
    ///
    /// ```
    /// let buf = io_model::Buffer::new_page();
    /// assert_eq!(buf.as_mut_ptr() as usize % io_model::PAGE_SIZE, 0);
    /// ```
    pub fn new_page() -> Self {
        Self::new_aligned(PAGE_SIZE, PAGE_SIZE)
    }

    /// A zeroed buffer of `len` bytes whose first byte sits at an address
    /// that is a multiple of `align` (a power of two), as `O_DIRECT` needs.
    ///
    /// ```
    /// let buf = io_model::Buffer::new_aligned(8192, 512);
    /// assert_eq!(buf.len(), 8192);
    /// assert_eq!(buf.as_mut_ptr() as usize % 512, 0);
    /// ```
    ///
    /// # Panics
    ///
    /// If `align` is not a power of two.
    pub fn new_aligned(len: usize, align: usize) -> Self {
        assert!(
            align.is_power_of_two(),
            "Buffer::new_aligned: alignment {align} is not a power of two"
        );
        let mut storage: Box<[u8]> = vec![0; len + align].into_boxed_slice();
        let offset = storage.as_ptr().align_offset(align);
        Self {
            addr: Self::address(&mut storage, offset),
            storage: Mutex::new(storage),
            offset,
            len,
        }
    }

    /// A buffer holding exactly the bytes of `data`.
    ///
    /// ```
    /// let buf = io_model::Buffer::from_vec(vec![1, 2, 3]);
    /// assert_eq!(buf.to_vec(), vec![1, 2, 3]);
    /// ```
    pub fn from_vec(data: Vec<u8>) -> Self {
        let len = data.len();
        let mut storage = data.into_boxed_slice();
        Self {
            addr: Self::address(&mut storage, 0),
            storage: Mutex::new(storage),
            offset: 0,
            len,
        }
    }

    /// The size of the buffer in bytes.
    ///
    /// ```
    /// assert_eq!(io_model::Buffer::new(3).len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer holds no bytes.
    ///
    /// ```
    /// assert!(io_model::Buffer::new(0).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Locks the bytes for reading or writing from Rust code.
    ///
    /// ```
    /// let buf = io_model::Buffer::new(2);
    /// buf.lock()[1] = 9;
    /// assert_eq!(buf.lock()[1], 9);
    /// ```
    pub fn lock(&self) -> BufferGuard<'_> {
        BufferGuard {
            guard: self.storage.lock().unwrap_or_else(PoisonError::into_inner),
            offset: self.offset,
            len: self.len,
        }
    }

    /// A copy of the bytes.
    ///
    /// ```
    /// assert_eq!(io_model::Buffer::new(2).to_vec(), vec![0, 0]);
    /// ```
    pub fn to_vec(&self) -> Vec<u8> {
        self.lock().to_vec()
    }

    /// The address of the first byte, for a backend that hands the buffer to
    /// the kernel. The address is stable for the buffer's whole life.
    ///
    /// Obtaining the pointer is safe; writing through it is the caller's
    /// `unsafe` business: it must keep the buffer alive (hold its `Arc`)
    /// until the kernel is done with it, and write at most [`len`](Self::len)
    /// bytes.
    ///
    /// ```
    /// let buf = io_model::Buffer::new(8);
    /// assert!(!buf.as_mut_ptr().is_null());
    /// ```
    pub fn as_mut_ptr(&self) -> *mut u8 {
        // Taken once, at construction: no lock on this hot path (a backend
        // asks for it on every I/O).
        self.addr as *mut u8
    }

    /// The address of byte `offset` of `storage`, from a mutable borrow so
    /// that the pointer may be written through.
    fn address(storage: &mut [u8], offset: usize) -> usize {
        storage.as_mut_ptr().wrapping_add(offset) as usize
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(data: Vec<u8>) -> Self {
        Self::from_vec(data)
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer").field("len", &self.len).finish()
    }
}

impl std::ops::Deref for BufferGuard<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.guard[self.offset..self.offset + self.len]
    }
}

impl std::ops::DerefMut for BufferGuard<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.guard[self.offset..self.offset + self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_buffers_are_aligned_and_sized() {
        for align in [1, 512, 4096] {
            for len in [0, 1, 4096, 10_000] {
                let b = Buffer::new_aligned(len, align);
                assert_eq!(b.len(), len);
                assert_eq!(b.lock().len(), len);
                assert_eq!(b.as_mut_ptr() as usize % align, 0);
            }
        }
    }

    #[test]
    #[should_panic(expected = "not a power of two")]
    fn bad_alignment_panics_with_reason() {
        let _ = Buffer::new_aligned(10, 3);
    }

    #[test]
    fn pointer_is_stable_and_matches_the_slice() {
        let b = Buffer::new_page();
        let p = b.as_mut_ptr();
        b.lock()[0] = 1;
        assert_eq!(p, b.as_mut_ptr());
        assert_eq!(p, b.lock().as_mut_ptr());
    }

    #[test]
    fn buffer_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Buffer>();
    }
}
