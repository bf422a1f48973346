//! [`Disk`]: the store's two files, how it issues I/O on them, and the copy
//! of log frames into the data file that checkpoints and recovery share.

use std::fmt;
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError, File, IOResult};

use super::format::{FrameLoc, ImageHeader, PAGE_SIZE};
use super::scheduler::SlotWaker;
use super::stats::Stats;
use super::{StoreError, StorePaths};

/// Pages a backfill reads and writes per round.
const BACKFILL_BATCH: usize = 32;

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Data,
    Wal,
}

/// Called with a description when a write or sync fails: the store marks
/// itself failed.
pub(crate) type FailHook = Arc<dyn Fn(String) + Send + Sync>;

/// The data file and the log, with the counters every I/O updates.
#[derive(Clone)]
pub(crate) struct Disk {
    pub(crate) data: Arc<dyn File>,
    pub(crate) wal: Arc<dyn File>,
    pub(crate) paths: StorePaths,
    pub(crate) stats: Arc<Stats>,
    fail: Option<FailHook>,
}

impl Disk {
    pub(crate) fn new(data: Arc<dyn File>, wal: Arc<dyn File>, paths: StorePaths) -> Self {
        Self {
            data,
            wal,
            paths,
            stats: Arc::new(Stats::default()),
            fail: None,
        }
    }

    /// The same files and counters, reporting write failures to `fail`.
    pub(crate) fn with_fail_hook(&self, fail: FailHook) -> Self {
        Self {
            data: self.data.clone(),
            wal: self.wal.clone(),
            paths: self.paths.clone(),
            stats: self.stats.clone(),
            fail: Some(fail),
        }
    }

    fn file(&self, which: Which) -> &Arc<dyn File> {
        match which {
            Which::Data => &self.data,
            Which::Wal => &self.wal,
        }
    }

    pub(crate) fn path(&self, which: Which) -> &str {
        match which {
            Which::Data => &self.paths.data,
            Which::Wal => &self.paths.wal,
        }
    }

    /// Reads `buf.len()` bytes at `offset`.
    pub(crate) fn read(
        &self,
        which: Which,
        waker: &SlotWaker,
        offset: u64,
        buf: Arc<Buffer>,
    ) -> Result<Completion, StoreError> {
        Stats::add(&self.stats.bytes_read, buf.len() as u64);
        Ok(self.file(which).pread(offset, waker.read(buf))?)
    }

    /// Writes `buf` at `offset`; `then` sees the result before the slot is
    /// woken, and a failure also goes to the fail hook.
    pub(crate) fn write(
        &self,
        which: Which,
        waker: &SlotWaker,
        offset: u64,
        buf: Arc<Buffer>,
        then: impl FnOnce(Result<i32, CompletionError>) + Send + 'static,
    ) -> Result<Completion, StoreError> {
        Stats::add(&self.stats.bytes_written, buf.len() as u64);
        let fail = self.on_error(which, format!("writing {} bytes at {offset}", buf.len()));
        let c = waker.write(move |res| {
            if let (Err(e), Some(fail)) = (&res, &fail) {
                fail.0(format!("{}: {e}", fail.1));
            }
            then(res);
        });
        Ok(self.file(which).pwrite(offset, buf, c)?)
    }

    /// Syncs the file.
    pub(crate) fn sync(
        &self,
        which: Which,
        waker: &SlotWaker,
        then: impl FnOnce(Result<i32, CompletionError>) + Send + 'static,
    ) -> Result<Completion, StoreError> {
        let counter = match which {
            Which::Data => &self.stats.data_syncs,
            Which::Wal => &self.stats.wal_syncs,
        };
        Stats::add(counter, 1);
        let fail = self.on_error(which, "fsync".to_owned());
        let c = waker.sync(move |res| {
            if let (Err(e), Some(fail)) = (&res, &fail) {
                fail.0(format!("{}: {e}", fail.1));
            }
            then(res);
        });
        Ok(self.file(which).sync(c)?)
    }

    fn on_error(&self, which: Which, what: String) -> Option<(FailHook, String)> {
        self.fail
            .as_ref()
            .map(|f| (f.clone(), format!("{} ({what})", self.path(which))))
    }

    /// The size of a file.
    pub(crate) fn size(&self, which: Which) -> Result<u64, StoreError> {
        self.file(which)
            .size()
            .map_err(|e| StoreError::Io(format!("{}: {e}", self.path(which))))
    }

    /// A corruption error about `which`.
    pub(crate) fn corrupt(&self, which: Which, what: impl fmt::Display) -> StoreError {
        StoreError::Corrupt {
            file: self.path(which).to_owned(),
            what: what.to_string(),
        }
    }
}

/// Where a page copied into the data file comes from.
#[derive(Clone)]
pub(crate) enum Source {
    /// A frame of the log, read at this offset.
    Frame { loc: FrameLoc, offset: u64 },
    /// An image already in memory (cached, or read by recovery's scan).
    Image(Arc<Buffer>),
}

/// One page a backfill copies into the data file.
#[derive(Clone)]
pub(crate) struct CopyPage {
    pub(crate) page: u32,
    pub(crate) lsn: u64,
    pub(crate) source: Source,
    /// Where it goes in the data file.
    pub(crate) offset: u64,
}

#[io_model::resumable]
impl Disk {
    /// Copies `pages` into the data file, [`BACKFILL_BATCH`] at a time:
    /// reads the frames not in memory (one group), checks each image is the
    /// version asked for, writes them (one group). Does not sync.
    #[resumable(state = st)]
    pub(crate) fn backfill(
        &self,
        st: &mut BackfillState,
        waker: &SlotWaker,
        pages: &[CopyPage],
    ) -> Result<IOResult<u64>, StoreError> {
        let mut next: usize = 0;
        while next < pages.len() {
            let end: usize = (next + BACKFILL_BATCH).min(pages.len());
            let batch = &pages[next..end];
            let images: Vec<Arc<Buffer>> = batch
                .iter()
                .map(|p| match &p.source {
                    Source::Image(image) => image.clone(),
                    Source::Frame { .. } => Arc::new(Buffer::new_page()),
                })
                .collect();
            let reads: Vec<Completion> = self.read_sources(waker, batch, &images)?;
            wait_all!(reads);
            self.check_sources(&pages[next..end], &images)?;
            let writes: Vec<Completion> = self.write_pages(waker, &pages[next..end], &images)?;
            wait_all!(writes);
            Stats::add(&self.stats.pages_checkpointed, (end - next) as u64);
            next = end;
        }
        Ok(IOResult::Done(pages.len() as u64))
    }
}

impl Disk {
    fn read_sources(
        &self,
        waker: &SlotWaker,
        batch: &[CopyPage],
        images: &[Arc<Buffer>],
    ) -> Result<Vec<Completion>, StoreError> {
        let mut reads = Vec::new();
        for (p, image) in batch.iter().zip(images) {
            if let Source::Frame { offset, .. } = p.source {
                reads.push(self.read(Which::Wal, waker, offset, image.clone())?);
            }
        }
        Ok(reads)
    }

    fn check_sources(&self, batch: &[CopyPage], images: &[Arc<Buffer>]) -> Result<(), StoreError> {
        for (p, image) in batch.iter().zip(images) {
            let header = ImageHeader::parse(&image.lock());
            let ok = header.is_some_and(|h| {
                h.page == p.page
                    && h.lsn == p.lsn
                    && match &p.source {
                        Source::Frame { loc, .. } => h.gen == loc.gen && h.frame == loc.frame,
                        Source::Image(_) => true,
                    }
            });
            if !ok {
                let what = match &p.source {
                    Source::Frame { loc, offset } => format!(
                        "{loc} at offset {offset} does not hold page {} (checksum or header mismatch)",
                        p.page
                    ),
                    Source::Image(_) => format!("the in-memory image of page {} is damaged", p.page),
                };
                return Err(self.corrupt(Which::Wal, what));
            }
        }
        Ok(())
    }

    fn write_pages(
        &self,
        waker: &SlotWaker,
        batch: &[CopyPage],
        images: &[Arc<Buffer>],
    ) -> Result<Vec<Completion>, StoreError> {
        batch
            .iter()
            .zip(images)
            .map(|(p, image)| {
                debug_assert_eq!(image.len(), PAGE_SIZE);
                self.write(Which::Data, waker, p.offset, image.clone(), |_| {})
            })
            .collect()
    }
}
