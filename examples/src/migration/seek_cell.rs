//! Seek a key on a leaf: **a binary search that yields for a page load
//! mid-search**.
//!
//! The leaf's cells hold the numbers of the pages that hold their keys
//! (as a key spilled to an overflow page would), so every probe of the
//! search reads a page. The search returns the index of the first cell
//! whose key is at least the target.
//!
//! The bug keeps the search bounds in locals: every call starts the search
//! again, while the one-slot page reader still holds the read of the probe
//! the previous call was on. The restarted search takes that page's key
//! for the key of its first probe and goes the wrong way; from there it
//! keeps restarting and never finishes. (With the keys
//! behind a cache the restart would only cost time, and the harness would
//! see nothing: it compares behaviour, not speed.)
//!
//! Caught in every mode: the search reads different key pages.

use std::sync::Arc;

use io_model::{return_if_io, Completion, Error, File, IOResult, Result};
use io_model_difftest::{Env, Operation};

use super::pages::{self, PageRead, LEAF};

/// The key the harness seeks: between cells 8 and 9.
pub const TARGET: u32 = 185;

/// The key pages of the leaf's cells.
fn cells(leaf: &[u8]) -> Vec<u32> {
    let n = u16::from_le_bytes([leaf[0], leaf[1]]) as usize;
    (0..n).map(|i| pages::get_u32(leaf, 4 + 4 * i)).collect()
}

/// The key a key page holds.
fn key(page: &[u8]) -> u32 {
    pages::get_u32(page, 0)
}

/// Hand-written, with the bug.
pub struct Buggy {
    file: Arc<dyn File>,
    cells: Option<Vec<u32>>,
    read: PageRead,
}

impl Buggy {
    /// The index of the first cell whose key is at least `target`.
    pub fn seek(&mut self, target: u32) -> Result<IOResult<u32>> {
        if self.cells.is_none() {
            let leaf = return_if_io!(self.read.read(&*self.file, LEAF));
            self.cells = Some(cells(&leaf));
        }
        let cells = self.cells.clone().expect("loaded above");
        // BUG: the bounds are locals, so every call starts the search again.
        let (mut lo, mut hi) = (0, cells.len() as u32);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let page = return_if_io!(self.read.read(&*self.file, cells[mid as usize]));
            if key(&page) < target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.cells = None;
        Ok(IOResult::Done(lo))
    }
}

/// The hand-written state: the bounds are in the variant.
#[derive(Debug, Default)]
pub enum SeekHand {
    /// Loading the leaf (or not started).
    #[default]
    Start,
    /// Searching `lo..hi`.
    Searching {
        /// The leaf's key pages.
        cells: Vec<u32>,
        /// The first candidate.
        lo: u32,
        /// One past the last candidate.
        hi: u32,
    },
}

/// Hand-written, correct.
pub struct Hand {
    file: Arc<dyn File>,
    read: PageRead,
    st: SeekHand,
}

impl Hand {
    /// The index of the first cell whose key is at least `target`.
    pub fn seek(&mut self, target: u32) -> Result<IOResult<u32>> {
        loop {
            // Taken out: an error leaves the state idle; a wait puts it back.
            match std::mem::take(&mut self.st) {
                SeekHand::Start => {
                    let leaf = return_if_io!(self.read.read(&*self.file, LEAF));
                    let cells = cells(&leaf);
                    let hi = cells.len() as u32;
                    self.st = SeekHand::Searching { cells, lo: 0, hi };
                }
                SeekHand::Searching { lo, hi, .. } if lo >= hi => return Ok(IOResult::Done(lo)),
                SeekHand::Searching { cells, lo, hi } => {
                    let mid = (lo + hi) / 2;
                    let page = match self.read.read(&*self.file, cells[mid as usize])? {
                        IOResult::Done(page) => page,
                        IOResult::IO(io) => {
                            self.st = SeekHand::Searching { cells, lo, hi };
                            return Ok(IOResult::IO(io));
                        }
                    };
                    let (lo, hi) = if key(&page) < target {
                        (mid + 1, hi)
                    } else {
                        (lo, mid)
                    };
                    self.st = SeekHand::Searching { cells, lo, hi };
                }
            }
        }
    }
}

/// With `#[resumable]`: the textbook loop; `lo`, `hi`, `mid` and the
/// cells are stored in the `LoadKey` variant while a key page loads.
pub struct Resumable {
    file: Arc<dyn File>,
    st: SeekState,
}

#[io_model::resumable]
impl Resumable {
    /// The index of the first cell whose key is at least `target`.
    #[resumable(state = self.st)]
    pub fn seek(&mut self, target: u32) -> Result<IOResult<u32>> {
        let leaf: Completion = pages::read(&*self.file, LEAF)?;
        wait!(LoadLeaf => leaf.clone());
        let cells: Vec<u32> = cells(&pages::bytes(&leaf));
        let mut lo: u32 = 0;
        let mut hi: u32 = cells.len() as u32;
        while lo < hi {
            let mid: u32 = (lo + hi) / 2;
            let probe: Completion = pages::read(&*self.file, cells[mid as usize])?;
            wait!(LoadKey => probe.clone());
            if key(&pages::bytes(&probe)) < target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(IOResult::Done(lo))
    }
}

/// The harness factory of the buggy version.
pub fn buggy(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Buggy {
        file: env.open("db")?,
        cells: None,
        read: PageRead::default(),
    };
    Ok(move || op.seek(TARGET))
}

/// The harness factory of the correct hand-written version.
pub fn hand(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Hand {
        file: env.open("db")?,
        read: PageRead::default(),
        st: SeekHand::default(),
    };
    Ok(move || op.seek(TARGET))
}

/// The harness factory of the generated version.
pub fn resumable(env: &Env) -> Result<impl Operation<Output = u32, Error = Error>> {
    let mut op = Resumable {
        file: env.open("db")?,
        st: SeekState::default(),
    };
    Ok(move || op.seek(TARGET))
}
