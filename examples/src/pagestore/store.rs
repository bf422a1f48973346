//! [`Store`]: the page store, `Arc`-shared, every operation a `&self`
//! method whose state sits behind a lock, one set of states per slot.
//!
//! - [`read_page`](Store::read_page): the cache, then the log's index,
//!   then the data file.
//! - [`commit`](Store::commit): reserve frames, write them as one group,
//!   wait until the log is durable through the commit (sharing fsyncs with
//!   concurrent commits).
//! - [`checkpoint`](Store::checkpoint) (in `checkpoint.rs`): copy the log
//!   into the data file while reads and commits go on.
//!
//! Opening and recovery are in `recovery.rs` ([`Opener`](super::Opener)).

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use io_model::{Buffer, BufferGuard, Completion, IOResult};

use super::cache::PageCache;
use super::checkpoint::{AutoCheckpointState, CheckpointState};
use super::disk::{BackfillState, Disk, Which};
use super::format::{
    DataHeader, FrameLoc, Geometry, ImageHeader, Location, PAGE_HEADER_SIZE, PAYLOAD_SIZE,
};
use super::recovery::RecoveryReport;
use super::scheduler::{fire, ReadyQueue, SlotId, SlotWaker};
use super::stats::{Stats, StatsSnapshot};
use super::wal::{LogState, Reserve, Reserved, SyncStep};
use super::StoreError;

/// Locks `m`, ignoring poisoning (a panic elsewhere is reported there).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The paths of a store's two files.
///
/// ```
/// let p = io_model_examples::pagestore::StorePaths::in_dir(std::path::Path::new("/tmp/db"), 1);
/// assert_eq!(p.data, "/tmp/db/shard-1.db");
/// assert_eq!(p.wal, "/tmp/db/shard-1.wal");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorePaths {
    /// The data file.
    pub data: String,
    /// The log.
    pub wal: String,
}

impl StorePaths {
    /// The files of shard `shard` in directory `dir`.
    pub fn in_dir(dir: &std::path::Path, shard: u32) -> Self {
        Self {
            data: dir
                .join(format!("shard-{shard}.db"))
                .to_string_lossy()
                .into_owned(),
            wal: dir
                .join(format!("shard-{shard}.wal"))
                .to_string_lossy()
                .into_owned(),
        }
    }
}

/// How an open store runs.
///
/// ```
/// let o = io_model_examples::pagestore::StoreOptions::default();
/// assert!(o.checkpoint_frames <= o.create.wal_frames);
/// ```
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Slots: operations that may be in flight at once.
    pub slots: usize,
    /// Pages the cache holds.
    pub cache_pages: usize,
    /// Frames in the active log generation past which the automatic
    /// checkpointer starts a checkpoint.
    pub checkpoint_frames: u32,
    /// The most pages one commit may write.
    pub max_commit_pages: usize,
    /// What a new database is created with.
    pub create: CreateOptions,
}

/// What a new database is created with (ignored when opening one).
#[derive(Debug, Clone, Copy)]
pub struct CreateOptions {
    /// Pages in the data file.
    pub pages: u32,
    /// Frames in each of the log's two regions.
    pub wal_frames: u32,
    /// This file's shard number, and how many shards the database has.
    pub shard: u32,
    /// How many shards the database has.
    pub shards: u32,
    /// The database's identifier (the same in every shard).
    pub db_id: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            slots: 1,
            cache_pages: 1024,
            checkpoint_frames: 1024,
            max_commit_pages: 64,
            create: CreateOptions {
                pages: 1024,
                wal_frames: 4096,
                shard: 0,
                shards: 1,
                db_id: 1,
            },
        }
    }
}

/// A page to write in a commit: the page number and up to
/// [`PAYLOAD_SIZE`] bytes (the rest of the page is zero).
#[derive(Clone, PartialEq, Eq)]
pub struct PageWrite {
    pub(crate) page: u32,
    pub(crate) payload: Vec<u8>,
}

impl PageWrite {
    /// A write of `payload` to `page`; an error if `payload` is longer than
    /// [`PAYLOAD_SIZE`].
    ///
    /// ```
    /// use io_model_examples::pagestore::{PageWrite, PAYLOAD_SIZE};
    /// assert!(PageWrite::new(1, vec![7; 10]).is_ok());
    /// assert!(PageWrite::new(1, vec![7; PAYLOAD_SIZE + 1]).is_err());
    /// ```
    pub fn new(page: u32, payload: Vec<u8>) -> Result<Self, StoreError> {
        if payload.len() > PAYLOAD_SIZE {
            return Err(StoreError::InvalidArgument(format!(
                "a page holds {PAYLOAD_SIZE} bytes, not {}",
                payload.len()
            )));
        }
        Ok(Self { page, payload })
    }

    /// The page written.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// The bytes written.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

impl fmt::Debug for PageWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PageWrite(page {}, {} bytes)",
            self.page,
            self.payload.len()
        )
    }
}

/// A committed version of a page, as a read returns it.
#[derive(Clone)]
pub struct Page {
    image: Arc<Buffer>,
    header: ImageHeader,
}

impl Page {
    /// The page number.
    pub fn number(&self) -> u32 {
        self.header.page
    }

    /// The LSN of the commit that wrote this version (0: as created).
    pub fn lsn(&self) -> u64 {
        self.header.lsn
    }

    /// The page's [`PAYLOAD_SIZE`] bytes.
    pub fn payload(&self) -> Payload<'_> {
        Payload(self.image.lock())
    }

    /// The whole 4 KiB image, header included.
    pub fn image(&self) -> &Arc<Buffer> {
        &self.image
    }
}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Page({}, lsn {})", self.header.page, self.header.lsn)
    }
}

/// The bytes of a [`Page`]; dereferences to `[u8]`.
pub struct Payload<'a>(BufferGuard<'a>);

impl Deref for Payload<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0[PAGE_HEADER_SIZE..]
    }
}

/// What a commit returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitInfo {
    /// Its LSN: commits are ordered by it, and a page read afterwards shows
    /// it (or a later one).
    pub lsn: u64,
}

/// The state the store shares with the callbacks of its completions.
pub(crate) struct Shared {
    pub(crate) log: Mutex<LogState>,
    pub(crate) cache: Mutex<PageCache>,
    pub(crate) stats: Arc<Stats>,
}

impl Shared {
    pub(crate) fn fail(&self, why: String) {
        let wake = lock(&self.log).fail(why);
        fire(wake);
    }

    fn frame_written(&self, lsn: u64, res: Result<i32, io_model::CompletionError>) {
        let wake = lock(&self.log).frame_written(lsn, res.map(|_| ()).map_err(|e| e.to_string()));
        fire(wake);
    }

    fn sync_done(&self, upto: u64, res: Result<i32, io_model::CompletionError>) {
        let wake = {
            let mut log = lock(&self.log);
            let before = log.durable_lsn();
            let (wake, published) = log.sync_done(upto, res.map(|_| ()).map_err(|e| e.to_string()));
            Stats::add(&self.stats.commits, log.durable_lsn() - before);
            let mut cache = lock(&self.cache);
            for p in published {
                cache.insert(p.page, p.lsn, p.image);
            }
            wake
        };
        fire(wake);
    }
}

/// A commit's reserved frames. Dropped before the commit is durable (an
/// error, or a caller that abandoned the run), it marks the store failed:
/// the log may have a hole where its frames should be, and nothing after
/// it may be acknowledged.
pub(crate) struct Reservation {
    reserved: Reserved,
    shared: Arc<Shared>,
    settled: bool,
}

impl Reservation {
    fn settle(mut self) -> u64 {
        self.settled = true;
        self.reserved.lsn
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.shared.fail(format!(
                "commit {} ended before it was durable",
                self.reserved.lsn
            ));
        }
    }
}

/// The operation states of one slot.
#[derive(Default)]
pub(crate) struct OpSlot {
    read: Mutex<ReadPageState>,
    commit: Mutex<CommitState>,
    sync: Mutex<SyncLogState>,
    pub(crate) checkpoint: Mutex<CheckpointState>,
    pub(crate) backfill: Mutex<BackfillState>,
    pub(crate) auto: Mutex<AutoCheckpointState>,
}

/// The page store. Share it as `Arc<Store>`; run each operation in its own
/// [`SlotId`] (each slot has one state per operation, as a connection has),
/// calling it again with the same arguments until it returns `Done`.
pub struct Store {
    pub(crate) disk: Disk,
    pub(crate) shared: Arc<Shared>,
    slots: Box<[OpSlot]>,
    ready: Arc<ReadyQueue>,
    pub(crate) header: DataHeader,
    options: StoreOptions,
    recovery: RecoveryReport,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("data", &self.disk.paths.data)
            .field("pages", &self.header.geometry.pages)
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) fn new(
        disk: Disk,
        header: DataHeader,
        log: LogState,
        options: StoreOptions,
        recovery: RecoveryReport,
    ) -> Arc<Store> {
        let shared = Arc::new(Shared {
            log: Mutex::new(log),
            cache: Mutex::new(PageCache::new(options.cache_pages)),
            stats: disk.stats.clone(),
        });
        let hook = shared.clone();
        let disk = disk.with_fail_hook(Arc::new(move |why| hook.fail(why)));
        let slots = options.slots.max(1);
        Arc::new(Store {
            disk,
            shared,
            slots: (0..slots).map(|_| OpSlot::default()).collect(),
            ready: Arc::new(ReadyQueue::new(slots)),
            header,
            options,
            recovery,
        })
    }

    /// The states of `op`.
    ///
    /// # Panics
    ///
    /// If `op` is not below [`slots`](Self::slots).
    pub(crate) fn slot(&self, op: SlotId) -> &OpSlot {
        match self.slots.get(op.0) {
            Some(s) => s,
            None => panic!(
                "{op} is out of range: the store has {} slots",
                self.slots.len()
            ),
        }
    }

    /// The waker of `op`'s completions.
    pub(crate) fn waker(&self, op: SlotId) -> SlotWaker {
        SlotWaker::new(Some(self.ready.clone()), op)
    }

    /// The queue this store's completions wake: give it to the
    /// [`Scheduler`](super::Scheduler) that runs operations on it.
    pub fn ready_queue(&self) -> &Arc<ReadyQueue> {
        &self.ready
    }

    /// How many slots the store has.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Pages in the store.
    pub fn pages(&self) -> u32 {
        self.header.geometry.pages
    }

    /// Its geometry.
    pub fn geometry(&self) -> Geometry {
        self.header.geometry
    }

    /// Its data file's header as of opening.
    pub fn header(&self) -> &DataHeader {
        &self.header
    }

    /// The options it was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// What recovery did when the store was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// The LSN through which every commit is durable.
    pub fn durable_lsn(&self) -> u64 {
        lock(&self.shared.log).durable_lsn()
    }

    /// Frames used in the active log generation.
    pub fn log_frames_in_use(&self) -> u32 {
        lock(&self.shared.log).frames_in_use()
    }

    /// Why the store refuses writes, if an I/O failure made it.
    pub fn failure(&self) -> Option<String> {
        lock(&self.shared.log).failure().map(str::to_owned)
    }

    /// The paths of its files.
    pub fn paths(&self) -> &StorePaths {
        &self.disk.paths
    }

    fn check_page(&self, page: u32) -> Result<(), StoreError> {
        if page >= self.pages() {
            return Err(StoreError::InvalidArgument(format!(
                "page {page} is out of range: the store has {} pages",
                self.pages()
            )));
        }
        Ok(())
    }

    fn check_writes(&self, writes: &[PageWrite]) -> Result<(), StoreError> {
        let max = self
            .options
            .max_commit_pages
            .min(self.header.geometry.wal_frames as usize / 2)
            .min(u16::MAX as usize);
        if writes.is_empty() || writes.len() > max {
            return Err(StoreError::InvalidArgument(format!(
                "a commit writes 1 to {max} pages, not {}",
                writes.len()
            )));
        }
        for (i, w) in writes.iter().enumerate() {
            self.check_page(w.page)?;
            if writes[..i].iter().any(|o| o.page == w.page) {
                return Err(StoreError::InvalidArgument(format!(
                    "page {} is written twice in one commit",
                    w.page
                )));
            }
        }
        Ok(())
    }

    /// The newest committed version of `page` from the cache.
    fn cached(&self, page: u32) -> Option<Page> {
        let (_, image) = lock(&self.shared.cache).get(page)?;
        let header = ImageHeader::parse(&image.lock())?;
        Stats::add(&self.shared.stats.cache_hits, 1);
        Some(Page { image, header })
    }

    fn locate(&self, page: u32) -> Location {
        lock(&self.shared.log).locate(page)
    }

    /// Checks what a read of `page` at `loc` returned. A mismatch where the
    /// page's location has changed meanwhile (a checkpoint rewrote the data
    /// page, or the frame's region was reused) means the read raced it:
    /// `Ok(None)`, read again. A mismatch at an unchanged location is
    /// corruption. A good image goes into the cache unless a newer version
    /// was published since.
    fn loaded(
        &self,
        page: u32,
        loc: Location,
        image: Arc<Buffer>,
    ) -> Result<Option<Page>, StoreError> {
        let header = ImageHeader::parse(&image.lock());
        let good = header.filter(|h| {
            h.page == page
                && match loc {
                    Location::Data => true,
                    Location::Frame(f) => h.gen == f.gen && h.frame == f.frame && h.lsn == f.lsn,
                }
        });
        let log = lock(&self.shared.log);
        let now = log.locate(page);
        let Some(header) = good else {
            if now != loc {
                Stats::add(&self.shared.stats.read_retries, 1);
                return Ok(None);
            }
            let (which, offset) = self.read_target(page, loc);
            return Err(self.disk.corrupt(
                which,
                format!("page {page} at offset {offset}: checksum or header mismatch"),
            ));
        };
        if now == loc {
            lock(&self.shared.cache).insert(page, header.lsn, image.clone());
        }
        drop(log);
        Ok(Some(Page { image, header }))
    }

    fn read_target(&self, page: u32, loc: Location) -> (Which, u64) {
        let g = self.header.geometry;
        match loc {
            Location::Data => (Which::Data, g.data_page_offset(page)),
            Location::Frame(FrameLoc { gen, frame, .. }) => (
                Which::Wal,
                g.frame_offset(super::format::region_of(gen), frame),
            ),
        }
    }

    fn reserve(&self, op: SlotId, writes: &[PageWrite]) -> Result<ReserveOrWait, StoreError> {
        let (res, wake) = lock(&self.shared.log).reserve(writes, &self.waker(op))?;
        fire(wake);
        Ok(match res {
            Reserve::Ready(reserved) => ReserveOrWait::Ready(Reservation {
                reserved,
                shared: self.shared.clone(),
                settled: false,
            }),
            Reserve::Wait(signal) => ReserveOrWait::Wait(signal),
        })
    }

    /// Issues the writes of a reservation's frames.
    fn write_frames(&self, op: SlotId, r: &Reservation) -> Result<Vec<Completion>, StoreError> {
        let waker = self.waker(op);
        let lsn = r.reserved.lsn;
        Stats::add(
            &self.shared.stats.frames_written,
            r.reserved.frames.len() as u64,
        );
        r.reserved
            .frames
            .iter()
            .map(|(offset, image)| {
                let shared = self.shared.clone();
                self.disk
                    .write(Which::Wal, &waker, *offset, image.clone(), move |res| {
                        shared.frame_written(lsn, res)
                    })
            })
            .collect()
    }

    fn sync_step(&self, op: SlotId, lsn: u64, yielded: bool) -> Result<SyncStep, StoreError> {
        lock(&self.shared.log).sync_step(lsn, yielded, &self.waker(op))
    }

    /// Issues the fsync of the log that makes every commit through `upto`
    /// durable.
    fn lead_sync(&self, op: SlotId, upto: u64) -> Result<Completion, StoreError> {
        let shared = self.shared.clone();
        self.disk.sync(Which::Wal, &self.waker(op), move |res| {
            shared.sync_done(upto, res)
        })
    }
}

/// What reserving found.
enum ReserveOrWait {
    Ready(Reservation),
    Wait(Completion),
}

#[io_model::resumable]
impl Store {
    /// Reads the newest committed version of `page`: from the cache, else
    /// from the log frame the index names, else from the data file. Every
    /// image read is checked (checksum, page number, and for a frame its
    /// generation and LSN); one that changed under the read (a checkpoint
    /// or a log switch raced it) is read again from its new place.
    ///
    /// ```
    /// use io_model::IO;
    /// use io_model_backends::SimIO;
    /// use io_model_examples::pagestore::{open_store, OpenMode, PageWrite, SlotId, StoreOptions, StorePaths};
    ///
    /// let io = SimIO::new(1);
    /// let paths = StorePaths { data: "db".into(), wal: "wal".into() };
    /// let store = open_store(&io, &paths, OpenMode::Create, &StoreOptions::default())?;
    /// let op = SlotId(0);
    /// io.block(|| store.commit(op, &[PageWrite::new(5, b"hello".to_vec())?]))?;
    /// let page = io.block(|| store.read_page(op, 5))?;
    /// assert_eq!(&page.payload()[..5], b"hello");
    /// # Ok::<(), io_model_examples::pagestore::StoreError>(())
    /// ```
    #[resumable(state = lock(&self.slot(op).read))]
    pub fn read_page(&self, op: SlotId, page: u32) -> Result<IOResult<Page>, StoreError> {
        self.check_page(page)?;
        Stats::add(&self.shared.stats.reads, 1);
        loop {
            if let Some(hit) = self.cached(page) {
                return Ok(IOResult::Done(hit));
            }
            let loc: Location = self.locate(page);
            let (which, offset) = self.read_target(page, loc);
            let image: Arc<Buffer> = Arc::new(Buffer::new_page());
            let c = self
                .disk
                .read(which, &self.waker(op), offset, image.clone())?;
            wait!(c);
            if let Some(found) = self.loaded(page, loc, image)? {
                return Ok(IOResult::Done(found));
            }
        }
    }

    /// Commits `writes` (1 to `max_commit_pages` distinct pages) as one
    /// atomic, durable change: after a crash either every page shows it or
    /// none does, and once it returns `Done` it survives any crash.
    ///
    /// Reserves the next frames of the log (waiting while the log is full),
    /// writes them as one group, then joins the group commit: the fsync in
    /// flight, or a new one that covers every commit written so far.
    #[resumable(state = lock(&self.slot(op).commit))]
    pub fn commit(
        &self,
        op: SlotId,
        writes: &[PageWrite],
    ) -> Result<IOResult<CommitInfo>, StoreError> {
        self.check_writes(writes)?;
        let reservation: Reservation = loop {
            match self.reserve(op, writes)? {
                ReserveOrWait::Ready(r) => break r,
                ReserveOrWait::Wait(signal) => wait!(LogFull => signal),
            }
        };
        let frames: Vec<Completion> = self.write_frames(op, &reservation)?;
        wait_all!(WriteFrames => frames);
        let lsn: u64 = reservation.reserved.lsn;
        call!(Durable => self.sync_log(op, lsn));
        Ok(IOResult::Done(CommitInfo {
            lsn: reservation.settle(),
        }))
    }

    /// Waits until the log is durable through `lsn`, leading an fsync when
    /// none in flight covers it. Issues at most one fsync per call.
    #[resumable(state = lock(&self.slot(op).sync))]
    fn sync_log(&self, op: SlotId, lsn: u64) -> Result<IOResult<()>, StoreError> {
        let mut yielded: bool = false;
        loop {
            match self.sync_step(op, lsn, yielded)? {
                SyncStep::Durable => break,
                SyncStep::Wait(signal) => wait!(Joined => signal),
                SyncStep::Yield => {
                    yielded = true;
                    yield_now!(LetOthersWrite);
                }
                SyncStep::Lead(upto) => {
                    let fsync = self.lead_sync(op, upto)?;
                    wait!(Fsync => fsync);
                }
            }
        }
        Ok(IOResult::Done(()))
    }
}
