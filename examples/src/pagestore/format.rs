//! The on-disk format: page images, the data file's header and the log's
//! region headers, and where each of them lives.
//!
//! ## Page images
//!
//! Every page on disk is a 4 KiB *image*: a 32-byte header followed by
//! [`PAYLOAD_SIZE`] bytes of the user's data. The same image is a data page
//! in the data file and a frame in the log; a checkpoint copies frames into
//! the data file byte for byte.
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | CRC-32 of bytes 4..4096 |
//! | 4..8 | page number |
//! | 8..16 | LSN of the commit that wrote this version (0: never written) |
//! | 16..24 | log generation the frame was written in (0: created with the file) |
//! | 24..28 | frame number within its log region |
//! | 28..30 | index of this frame within its commit |
//! | 30..32 | number of frames of its commit |
//!
//! ## The data file
//!
//! Page 0 holds two 512-byte header slots (at 0 and 512); data page `p`
//! is at `(1 + p) * 4096`. A checkpoint writes the slot not holding the
//! current header, so a torn header write leaves the previous one intact;
//! the valid slot with the higher checkpoint generation wins.
//!
//! ## The log file
//!
//! Two regions, each a header page followed by `wal_frames` frames. Each
//! run of the log is a *generation*; generation `g` lives in region
//! `g % 2`. Starting a generation writes its region's header (generation,
//! first LSN); frames of older generations left in the region no longer
//! match and are ignored, so the log is reset without truncating or
//! resizing the file (block devices and NBD exports cannot). Nothing in the
//! format depends on the files' sizes beyond holding what was written.

use std::fmt;

use super::checksum::{leader_ok, seal_leader, seal_trailer, trailer_ok};

/// The size of a page image on disk.
pub const PAGE_SIZE: usize = io_model::PAGE_SIZE;
/// The size of the header at the start of every page image.
pub const PAGE_HEADER_SIZE: usize = 32;
/// The user's bytes in a page: [`PAGE_SIZE`] minus the image header.
pub const PAYLOAD_SIZE: usize = PAGE_SIZE - PAGE_HEADER_SIZE;
/// The size of one header slot (data file) or region header (log).
pub const HEADER_SLOT_SIZE: usize = 512;
/// The version of this format, in every header.
pub const FORMAT_VERSION: u32 = 1;
/// The first bytes of a data-file header slot.
pub const DATA_MAGIC: [u8; 8] = *b"IOMPSDB\x01";
/// The first bytes of a log region header.
pub const WAL_MAGIC: [u8; 8] = *b"IOMPSWL\x01";

/// The header of a page image.
///
/// ```
/// use io_model_examples::pagestore::format::{ImageHeader, PAGE_SIZE};
///
/// let mut image = vec![0u8; PAGE_SIZE];
/// let h = ImageHeader { page: 3, lsn: 9, gen: 2, frame: 17, index: 0, count: 1 };
/// h.seal(&mut image);
/// assert_eq!(ImageHeader::parse(&image), Some(h));
/// image[100] ^= 1;
/// assert_eq!(ImageHeader::parse(&image), None); // checksum
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageHeader {
    /// The page this image is a version of.
    pub page: u32,
    /// The LSN of the commit that wrote this version; 0 for the version the
    /// database was created with.
    pub lsn: u64,
    /// The log generation the frame was written in; 0 for created pages.
    pub gen: u64,
    /// The frame's number within its region.
    pub frame: u32,
    /// The frame's index within its commit.
    pub index: u16,
    /// How many frames the commit has.
    pub count: u16,
}

impl ImageHeader {
    /// Writes the header into `image[..32]` and seals the image's checksum
    /// (over everything after the checksum field, payload included).
    ///
    /// # Panics
    ///
    /// If `image` is not [`PAGE_SIZE`] bytes.
    pub fn seal(&self, image: &mut [u8]) {
        assert_eq!(image.len(), PAGE_SIZE, "a page image is {PAGE_SIZE} bytes");
        image[4..8].copy_from_slice(&self.page.to_le_bytes());
        image[8..16].copy_from_slice(&self.lsn.to_le_bytes());
        image[16..24].copy_from_slice(&self.gen.to_le_bytes());
        image[24..28].copy_from_slice(&self.frame.to_le_bytes());
        image[28..30].copy_from_slice(&self.index.to_le_bytes());
        image[30..32].copy_from_slice(&self.count.to_le_bytes());
        seal_leader(image);
    }

    /// The header of `image`, or `None` if its checksum does not hold (a
    /// torn, stale or never-written image).
    pub fn parse(image: &[u8]) -> Option<ImageHeader> {
        if image.len() != PAGE_SIZE || !leader_ok(image) {
            return None;
        }
        Some(ImageHeader {
            page: u32_at(image, 4),
            lsn: u64_at(image, 8),
            gen: u64_at(image, 16),
            frame: u32_at(image, 24),
            index: u16_at(image, 28),
            count: u16_at(image, 30),
        })
    }
}

/// The sizes a database is made with, fixed when it is created.
///
/// ```
/// use io_model_examples::pagestore::format::Geometry;
/// let g = Geometry { pages: 10, wal_frames: 8 };
/// assert_eq!(g.data_page_offset(0), 4096);
/// assert_eq!(g.frame_offset(1, 0), (1 + 8 + 1) * 4096);
/// assert_eq!(g.data_file_len(), 11 * 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Pages in the data file.
    pub pages: u32,
    /// Frames in each of the log's two regions.
    pub wal_frames: u32,
}

impl Geometry {
    /// Where data page `page` starts in the data file.
    pub fn data_page_offset(&self, page: u32) -> u64 {
        (1 + u64::from(page)) * PAGE_SIZE as u64
    }

    /// The data file's length: the header page and every data page.
    pub fn data_file_len(&self) -> u64 {
        self.data_page_offset(self.pages)
    }

    /// Where log region `region` (0 or 1) starts: its header page.
    pub fn region_offset(&self, region: u8) -> u64 {
        u64::from(region) * (1 + u64::from(self.wal_frames)) * PAGE_SIZE as u64
    }

    /// Where frame `frame` of region `region` starts.
    pub fn frame_offset(&self, region: u8, frame: u32) -> u64 {
        self.region_offset(region) + (1 + u64::from(frame)) * PAGE_SIZE as u64
    }
}

/// The region of the log generation `gen` lives in.
///
/// ```
/// assert_eq!(io_model_examples::pagestore::format::region_of(7), 1);
/// ```
pub fn region_of(gen: u64) -> u8 {
    (gen % 2) as u8
}

/// The data file's header: what the database is and how far the log has
/// been checkpointed into it.
///
/// ```
/// use io_model_examples::pagestore::format::{DataHeader, Geometry, SlotRead, HEADER_SLOT_SIZE};
///
/// let h = DataHeader {
///     geometry: Geometry { pages: 100, wal_frames: 64 },
///     shard: 0, shards: 1, db_id: 42, ckpt_gen: 3, ckpt_lsn: 77,
/// };
/// let mut slot = [0u8; HEADER_SLOT_SIZE];
/// h.encode(&mut slot);
/// assert_eq!(DataHeader::decode(&slot), SlotRead::Valid(h));
/// assert_eq!(DataHeader::decode(&[0u8; HEADER_SLOT_SIZE]), SlotRead::Empty);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataHeader {
    /// Pages and log size.
    pub geometry: Geometry,
    /// Which shard of a sharded database this file is.
    pub shard: u32,
    /// How many shards the database has.
    pub shards: u32,
    /// A random identifier drawn at creation; the log's region headers carry
    /// it, so a log from another database is never replayed.
    pub db_id: u64,
    /// Every log generation up to this one is in the data file.
    pub ckpt_gen: u64,
    /// The LSN of the last commit in the data file.
    pub ckpt_lsn: u64,
}

/// What a header slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRead<T> {
    /// No header was ever written there (no magic).
    Empty,
    /// The magic is there but the checksum or version is wrong.
    Damaged(&'static str),
    /// A header.
    Valid(T),
}

impl DataHeader {
    /// Encodes the header into a [`HEADER_SLOT_SIZE`]-byte slot.
    ///
    /// # Panics
    ///
    /// If `slot` is not [`HEADER_SLOT_SIZE`] bytes.
    pub fn encode(&self, slot: &mut [u8]) {
        assert_eq!(slot.len(), HEADER_SLOT_SIZE);
        slot.fill(0);
        slot[0..8].copy_from_slice(&DATA_MAGIC);
        slot[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        slot[12..16].copy_from_slice(&(PAGE_SIZE as u32).to_le_bytes());
        slot[16..20].copy_from_slice(&self.geometry.pages.to_le_bytes());
        slot[20..24].copy_from_slice(&self.geometry.wal_frames.to_le_bytes());
        slot[24..28].copy_from_slice(&self.shard.to_le_bytes());
        slot[28..32].copy_from_slice(&self.shards.to_le_bytes());
        slot[32..40].copy_from_slice(&self.db_id.to_le_bytes());
        slot[40..48].copy_from_slice(&self.ckpt_gen.to_le_bytes());
        slot[48..56].copy_from_slice(&self.ckpt_lsn.to_le_bytes());
        seal_trailer(slot);
    }

    /// Decodes a slot.
    pub fn decode(slot: &[u8]) -> SlotRead<DataHeader> {
        if slot.len() != HEADER_SLOT_SIZE || slot[0..8] != DATA_MAGIC {
            return SlotRead::Empty;
        }
        if !trailer_ok(slot) {
            return SlotRead::Damaged("header checksum mismatch");
        }
        if u32_at(slot, 8) != FORMAT_VERSION {
            return SlotRead::Damaged("unknown format version");
        }
        if u32_at(slot, 12) != PAGE_SIZE as u32 {
            return SlotRead::Damaged("unsupported page size");
        }
        SlotRead::Valid(DataHeader {
            geometry: Geometry {
                pages: u32_at(slot, 16),
                wal_frames: u32_at(slot, 20),
            },
            shard: u32_at(slot, 24),
            shards: u32_at(slot, 28),
            db_id: u64_at(slot, 32),
            ckpt_gen: u64_at(slot, 40),
            ckpt_lsn: u64_at(slot, 48),
        })
    }

    /// The file offset of header slot `slot` (0 or 1).
    pub fn slot_offset(slot: u8) -> u64 {
        u64::from(slot) * HEADER_SLOT_SIZE as u64
    }
}

/// The header of one log region: which generation runs there.
///
/// ```
/// use io_model_examples::pagestore::format::{RegionHeader, SlotRead, HEADER_SLOT_SIZE};
/// let h = RegionHeader { db_id: 42, gen: 5, start_lsn: 100 };
/// let mut slot = [0u8; HEADER_SLOT_SIZE];
/// h.encode(&mut slot);
/// assert_eq!(RegionHeader::decode(&slot), SlotRead::Valid(h));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionHeader {
    /// The database the log belongs to.
    pub db_id: u64,
    /// The generation.
    pub gen: u64,
    /// The LSN of the first commit of this generation.
    pub start_lsn: u64,
}

impl RegionHeader {
    /// Encodes the header into a [`HEADER_SLOT_SIZE`]-byte slot.
    ///
    /// # Panics
    ///
    /// If `slot` is not [`HEADER_SLOT_SIZE`] bytes.
    pub fn encode(&self, slot: &mut [u8]) {
        assert_eq!(slot.len(), HEADER_SLOT_SIZE);
        slot.fill(0);
        slot[0..8].copy_from_slice(&WAL_MAGIC);
        slot[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        slot[16..24].copy_from_slice(&self.db_id.to_le_bytes());
        slot[24..32].copy_from_slice(&self.gen.to_le_bytes());
        slot[32..40].copy_from_slice(&self.start_lsn.to_le_bytes());
        seal_trailer(slot);
    }

    /// Decodes a slot.
    pub fn decode(slot: &[u8]) -> SlotRead<RegionHeader> {
        if slot.len() != HEADER_SLOT_SIZE || slot[0..8] != WAL_MAGIC {
            return SlotRead::Empty;
        }
        if !trailer_ok(slot) {
            return SlotRead::Damaged("region header checksum mismatch");
        }
        if u32_at(slot, 8) != FORMAT_VERSION {
            return SlotRead::Damaged("unknown format version");
        }
        SlotRead::Valid(RegionHeader {
            db_id: u64_at(slot, 16),
            gen: u64_at(slot, 24),
            start_lsn: u64_at(slot, 32),
        })
    }
}

/// Where the version of a page that a read should see lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the data file.
    Data,
    /// In a log frame.
    Frame(FrameLoc),
}

/// A frame in the log, and what it must say about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLoc {
    /// The generation it was written in.
    pub gen: u64,
    /// Its frame number in the generation's region.
    pub frame: u32,
    /// The LSN of its commit.
    pub lsn: u64,
}

impl FrameLoc {
    /// The region the frame is in.
    pub fn region(&self) -> u8 {
        region_of(self.gen)
    }
}

impl fmt::Display for FrameLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "log frame {} of generation {} (lsn {})",
            self.frame, self.gen, self.lsn
        )
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_image_is_not_valid() {
        assert_eq!(ImageHeader::parse(&[0u8; PAGE_SIZE]), None);
    }

    #[test]
    fn a_torn_image_is_not_valid() {
        let mut image = vec![0xa5u8; PAGE_SIZE];
        ImageHeader {
            page: 1,
            lsn: 2,
            gen: 3,
            frame: 4,
            index: 1,
            count: 2,
        }
        .seal(&mut image);
        // A write that landed only its first half over an older image.
        let mut torn = vec![0x11u8; PAGE_SIZE];
        torn[..PAGE_SIZE / 2].copy_from_slice(&image[..PAGE_SIZE / 2]);
        assert_eq!(ImageHeader::parse(&torn), None);
    }

    #[test]
    fn damaged_header_slots_are_told_apart_from_empty_ones() {
        let h = DataHeader {
            geometry: Geometry {
                pages: 1,
                wal_frames: 2,
            },
            shard: 0,
            shards: 1,
            db_id: 7,
            ckpt_gen: 1,
            ckpt_lsn: 1,
        };
        let mut slot = [0u8; HEADER_SLOT_SIZE];
        h.encode(&mut slot);
        slot[40] ^= 0xff;
        assert_eq!(
            DataHeader::decode(&slot),
            SlotRead::Damaged("header checksum mismatch")
        );
        let mut other = [0u8; HEADER_SLOT_SIZE];
        RegionHeader {
            db_id: 7,
            gen: 1,
            start_lsn: 1,
        }
        .encode(&mut other);
        // A region header is not a data header.
        assert_eq!(DataHeader::decode(&other), SlotRead::Empty);
    }

    #[test]
    fn region_offsets_do_not_overlap() {
        let g = Geometry {
            pages: 4,
            wal_frames: 3,
        };
        assert_eq!(g.frame_offset(0, 2) + PAGE_SIZE as u64, g.region_offset(1));
        assert_eq!(u16_at(&[1, 2], 0), 0x0201);
    }
}
