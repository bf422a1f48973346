//! Checksums of page images and header slots.
//!
//! Every page image (a data page or a log frame) starts with the CRC-32 of
//! the rest of its 4 KiB; every header slot ends with the CRC-32 of the
//! bytes before it. A torn or stale write fails the check, which is how
//! recovery finds the end of the log and how a read notices corruption.
//! CRC-32 (IEEE) through `crc32fast`, which folds with SIMD where the CPU
//! has it: a 4 KiB page costs a fraction of a microsecond.

/// The CRC-32 (IEEE) of `bytes`.
///
/// ```
/// use io_model_examples::pagestore::checksum::crc32;
/// assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Stores the checksum of `slot[..len - 4]` in the last 4 bytes of `slot`.
///
/// ```
/// use io_model_examples::pagestore::checksum::{seal_trailer, trailer_ok};
/// let mut slot = [7u8; 64];
/// seal_trailer(&mut slot);
/// assert!(trailer_ok(&slot));
/// slot[3] ^= 1;
/// assert!(!trailer_ok(&slot));
/// ```
///
/// # Panics
///
/// If `slot` is shorter than 4 bytes.
pub fn seal_trailer(slot: &mut [u8]) {
    let end = slot.len() - 4;
    let sum = crc32(&slot[..end]);
    slot[end..].copy_from_slice(&sum.to_le_bytes());
}

/// Whether the last 4 bytes of `slot` hold the checksum of the rest.
///
/// ```
/// assert!(!io_model_examples::pagestore::checksum::trailer_ok(&[0u8; 16]));
/// ```
pub fn trailer_ok(slot: &[u8]) -> bool {
    if slot.len() < 4 {
        return false;
    }
    let end = slot.len() - 4;
    let stored = u32::from_le_bytes(slot[end..].try_into().expect("4 bytes"));
    stored == crc32(&slot[..end])
}

/// Stores the checksum of `image[4..]` in `image[..4]`.
///
/// ```
/// use io_model_examples::pagestore::checksum::{seal_leader, leader_ok};
/// let mut image = vec![1u8; 4096];
/// seal_leader(&mut image);
/// assert!(leader_ok(&image));
/// image[4095] = 0;
/// assert!(!leader_ok(&image));
/// ```
///
/// # Panics
///
/// If `image` is shorter than 4 bytes.
pub fn seal_leader(image: &mut [u8]) {
    let sum = crc32(&image[4..]);
    image[..4].copy_from_slice(&sum.to_le_bytes());
}

/// Whether `image[..4]` holds the checksum of `image[4..]`.
///
/// ```
/// // An all-zero page (never written) does not pass.
/// assert!(!io_model_examples::pagestore::checksum::leader_ok(&[0u8; 4096]));
/// ```
pub fn leader_ok(image: &[u8]) -> bool {
    if image.len() < 4 {
        return false;
    }
    let stored = u32::from_le_bytes(image[..4].try_into().expect("4 bytes"));
    stored == crc32(&image[4..])
}
