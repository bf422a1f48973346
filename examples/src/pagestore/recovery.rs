//! Opening a store: creating a database, or recovering an existing one.
//!
//! Recovery reads the data file's header (the valid slot with the higher
//! checkpoint generation) and the log's two region headers. A region whose
//! generation is above the checkpointed one is *live*; at most two are, of
//! consecutive generations, the older starting right after the checkpointed
//! LSN. Each live region is scanned from its first frame: a commit counts
//! when all its frames are there, each with a good checksum, its
//! generation, its frame number, the next LSN and its place in the commit.
//! The first frame that is not ends the log; the frames of an incomplete
//! commit before it (a torn or unsynced tail) are dropped. A second region
//! whose first LSN does not follow the first's last one is dropped whole:
//! its commits were never acknowledged, since an fsync never acknowledges a
//! commit before all earlier ones are durable.
//!
//! Recovery then fsyncs the log (what it replayed may not have been
//! durable yet: the process that wrote it may have died after a failed
//! fsync, leaving it in the OS's cache only), writes the newest version of
//! every page it replayed into the data file, fsyncs, records in the other header slot a checkpoint
//! generation at least as high as any generation found in the log, fsyncs,
//! and starts the next generation. So every open starts from an empty log
//! of a fresh generation, and frames left from any earlier run can never be
//! mistaken for new ones.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use io_model::{Buffer, Completion, Error, IOResult, OpenFlags, IO};

use super::disk::{BackfillState, CopyPage, Disk, Source, Which};
use super::format::{
    region_of, DataHeader, Geometry, ImageHeader, RegionHeader, SlotRead, HEADER_SLOT_SIZE,
    PAGE_SIZE,
};
use super::scheduler::{SlotId, SlotWaker};
use super::store::lock;
use super::wal::{Checkpointed, LogState};
use super::{CreateOptions, Store, StoreError, StoreOptions, StorePaths};

/// Frames recovery reads per round.
const SCAN_BATCH: u32 = 32;
/// Pages creation writes per round.
const CREATE_BATCH: u32 = 64;
/// The smallest log region.
pub const MIN_WAL_FRAMES: u32 = 4;

/// Whether [`Opener::open`] may create a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Create a new database; an existing one is an error.
    Create,
    /// Open an existing database; an empty or missing file is an error.
    Open,
    /// Open the database, or create it if the files are empty or missing.
    OpenOrCreate,
}

impl OpenMode {
    fn may_create(self) -> bool {
        !matches!(self, OpenMode::Open)
    }
}

/// What opening found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The database was created by this open.
    pub created: bool,
    /// Log generations replayed.
    pub generations: Vec<u64>,
    /// Commits replayed.
    pub commits: u64,
    /// Frames of those commits.
    pub frames: u64,
    /// Frames of an incomplete commit at the end of the log, dropped.
    pub torn_frames: u64,
    /// Live generations dropped because they start after a gap.
    pub dropped_generations: Vec<u64>,
    /// Region headers whose checksum failed (a switch torn by a crash).
    pub damaged_region_headers: u32,
    /// Pages written into the data file.
    pub pages_copied: u64,
    /// The LSN of the last commit in the database.
    pub last_lsn: u64,
    /// The generation new commits go to.
    pub generation: u64,
}

impl fmt::Display for RecoveryReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.created {
            return write!(f, "created; log generation {}", self.generation);
        }
        write!(
            f,
            "recovered through lsn {}: replayed {} commits ({} frames) from generations {:?}, \
             dropped a torn tail of {} frames, copied {} pages",
            self.last_lsn,
            self.commits,
            self.frames,
            self.generations,
            self.torn_frames,
            self.pages_copied
        )?;
        if !self.dropped_generations.is_empty() {
            write!(
                f,
                ", dropped generations {:?} (after a gap)",
                self.dropped_generations
            )?;
        }
        if self.damaged_region_headers > 0 {
            write!(
                f,
                ", ignored {} damaged region headers",
                self.damaged_region_headers
            )?;
        }
        Ok(())
    }
}

/// One region being scanned: the commits found so far, the newest image of
/// each page they wrote, and the incomplete commit at the end, if any.
pub(crate) struct RegionScan {
    gen: u64,
    pages: u32,
    next_lsn: u64,
    next_frame: u32,
    pending: Vec<(u32, Arc<Buffer>)>,
    pending_count: u16,
    commits: u64,
    frames: u64,
    ended: bool,
    images: BTreeMap<u32, (u64, Arc<Buffer>)>,
}

impl RegionScan {
    pub(crate) fn new(gen: u64, start_lsn: u64, pages: u32) -> Self {
        Self {
            gen,
            pages,
            next_lsn: start_lsn,
            next_frame: 0,
            pending: Vec::new(),
            pending_count: 0,
            commits: 0,
            frames: 0,
            ended: false,
            images: BTreeMap::new(),
        }
    }

    /// Takes the images of the next frames, in order. Returns whether the
    /// log may go on after them; an error if a frame of this generation
    /// is well formed but names a page the store does not have.
    pub(crate) fn absorb(&mut self, images: &[Arc<Buffer>]) -> Result<bool, String> {
        for image in images {
            if self.ended {
                break;
            }
            let frame = self.next_frame;
            self.next_frame += 1;
            let header = ImageHeader::parse(&image.lock());
            let fits = header.filter(|h| {
                h.gen == self.gen
                    && h.frame == frame
                    && h.lsn == self.next_lsn
                    && h.count > 0
                    && usize::from(h.index) == self.pending.len()
                    && (self.pending.is_empty() || h.count == self.pending_count)
            });
            let Some(h) = fits else {
                self.ended = true;
                break;
            };
            if h.page >= self.pages {
                return Err(format!(
                    "frame {frame} of generation {} writes page {}, but the store has {} pages",
                    self.gen, h.page, self.pages
                ));
            }
            self.pending.push((h.page, image.clone()));
            self.pending_count = h.count;
            if self.pending.len() == usize::from(h.count) {
                for (page, image) in self.pending.drain(..) {
                    self.images.insert(page, (h.lsn, image));
                }
                self.commits += 1;
                self.frames += u64::from(h.count);
                self.next_lsn += 1;
            }
        }
        Ok(!self.ended)
    }

    /// The LSN of the last complete commit (the start LSN minus one if none).
    pub(crate) fn last_lsn(&self) -> u64 {
        self.next_lsn - 1
    }

    /// Frames of an incomplete commit at the end.
    pub(crate) fn torn_frames(&self) -> usize {
        self.pending.len()
    }
}

/// What [`Opener::recover`] hands to the new store.
pub(crate) struct Recovered {
    header: DataHeader,
    checkpointed: Checkpointed,
    report: RecoveryReport,
}

/// Opens or creates a store's files and drives its opening: create or
/// recover, then the [`Store`]. Its operations are resumable like the
/// store's; [`open_store`] drives them with [`IO::block`].
pub struct Opener {
    disk: Disk,
    mode: OpenMode,
    options: StoreOptions,
    waker: SlotWaker,
    open: Mutex<OpenState>,
    header: Mutex<ReadHeaderState>,
    create: Mutex<CreateState>,
    recover: Mutex<RecoverState>,
    scan: Mutex<ScanRegionState>,
    backfill: Mutex<BackfillState>,
}

impl fmt::Debug for Opener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opener")
            .field("paths", &self.disk.paths)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Opens (or creates) the store at `paths` and recovers it, driving the
/// I/O with `io`.
///
/// ```
/// use io_model_backends::SimIO;
/// use io_model_examples::pagestore::{open_store, OpenMode, StoreError, StoreOptions, StorePaths};
///
/// let io = SimIO::new(7);
/// let paths = StorePaths { data: "db".into(), wal: "wal".into() };
/// let store = open_store(&io, &paths, OpenMode::Create, &StoreOptions::default())?;
/// assert!(store.recovery().created);
/// drop(store);
/// let again = open_store(&io, &paths, OpenMode::Open, &StoreOptions::default())?;
/// assert_eq!(again.recovery().last_lsn, 0);
/// let missing = StorePaths { data: "nope".into(), wal: "nope.wal".into() };
/// let err = open_store(&io, &missing, OpenMode::Open, &StoreOptions::default()).unwrap_err();
/// assert!(matches!(err, StoreError::Missing { .. }));
/// # Ok::<(), StoreError>(())
/// ```
pub fn open_store(
    io: &dyn IO,
    paths: &StorePaths,
    mode: OpenMode,
    options: &StoreOptions,
) -> Result<Arc<Store>, StoreError> {
    let opener = Opener::new(io, paths, mode, options.clone())?;
    IO::block(&io, || opener.open())
}

/// The data file's header at `paths`, without recovering anything: `None`
/// if the data file does not exist, is empty, or has a blank header page
/// (an existing data file without its log is an error).
///
/// ```
/// use io_model_backends::SimIO;
/// use io_model_examples::pagestore::{open_store, probe_header, OpenMode, StoreOptions, StorePaths};
/// let io = SimIO::new(1);
/// let paths = StorePaths { data: "db".into(), wal: "wal".into() };
/// assert_eq!(probe_header(&io, &paths)?, None);
/// open_store(&io, &paths, OpenMode::Create, &StoreOptions::default())?;
/// assert_eq!(probe_header(&io, &paths)?.map(|h| h.geometry.pages), Some(1024));
/// # Ok::<(), io_model_examples::pagestore::StoreError>(())
/// ```
pub fn probe_header(io: &dyn IO, paths: &StorePaths) -> Result<Option<DataHeader>, StoreError> {
    let opener = match Opener::new(io, paths, OpenMode::Open, StoreOptions::default()) {
        Ok(o) => o,
        Err(StoreError::Missing { file }) if file == paths.data => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(IO::block(&io, || opener.read_header())?.map(|(h, _)| h))
}

impl Opener {
    /// Opens the files (creating them if `mode` allows).
    pub fn new(
        io: &dyn IO,
        paths: &StorePaths,
        mode: OpenMode,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let flags = if mode.may_create() {
            OpenFlags::CREATE
        } else {
            OpenFlags::NONE
        };
        let open = |path: &str| {
            io.open_file(path, flags).map_err(|e| match e {
                Error::Io(ref ioe) if ioe.kind() == std::io::ErrorKind::NotFound => {
                    StoreError::Missing {
                        file: path.to_owned(),
                    }
                }
                other => StoreError::Io(format!("opening {path}: {other}")),
            })
        };
        let data = open(&paths.data)?;
        let wal = open(&paths.wal)?;
        Ok(Self {
            disk: Disk::new(data, wal, paths.clone()),
            mode,
            options,
            waker: SlotWaker::new(None, SlotId(0)),
            open: Mutex::default(),
            header: Mutex::default(),
            create: Mutex::default(),
            recover: Mutex::default(),
            scan: Mutex::default(),
            backfill: Mutex::default(),
        })
    }

    /// The valid header slot with the higher checkpoint generation, or
    /// `None` for a blank header page (all zeros: nothing was ever created).
    fn parse_header(
        &self,
        page0: &Buffer,
        size: u64,
    ) -> Result<Option<(DataHeader, u8)>, StoreError> {
        let bytes = page0.lock();
        let slots = [
            DataHeader::decode(&bytes[..HEADER_SLOT_SIZE]),
            DataHeader::decode(&bytes[HEADER_SLOT_SIZE..2 * HEADER_SLOT_SIZE]),
        ];
        let best = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                SlotRead::Valid(h) => Some((*h, i as u8)),
                _ => None,
            })
            .max_by_key(|(h, _)| h.ckpt_gen);
        let file = &self.disk.paths.data;
        let Some((header, slot)) = best else {
            if let Some(why) = slots.iter().find_map(|s| match s {
                SlotRead::Damaged(why) => Some(*why),
                _ => None,
            }) {
                return Err(self
                    .disk
                    .corrupt(Which::Data, format!("no valid header slot ({why})")));
            }
            if bytes.iter().all(|&b| b == 0) {
                return Ok(None);
            }
            return Err(StoreError::NotADatabase {
                file: file.clone(),
                why: "it does not start with a page store header".into(),
            });
        };
        let g: Geometry = header.geometry;
        if g.pages == 0
            || g.wal_frames < MIN_WAL_FRAMES
            || header.shards == 0
            || header.shard >= header.shards
        {
            return Err(self.disk.corrupt(
                Which::Data,
                format!("the header makes no sense: {header:?}"),
            ));
        }
        if size < g.data_file_len() {
            return Err(self.disk.corrupt(
                Which::Data,
                format!(
                    "the file is {size} bytes, but its {} pages need {}",
                    g.pages,
                    g.data_file_len()
                ),
            ));
        }
        Ok(Some((header, slot)))
    }

    fn check_create_options(&self) -> Result<CreateOptions, StoreError> {
        let o = self.options.create;
        if o.pages == 0 || o.wal_frames < MIN_WAL_FRAMES || o.shards == 0 || o.shard >= o.shards {
            return Err(StoreError::InvalidArgument(format!(
                "cannot create a store with {o:?}: it needs at least one page, \
                 {MIN_WAL_FRAMES} log frames and a shard number below the shard count"
            )));
        }
        Ok(o)
    }

    fn write_blank_pages(&self, from: u32, to: u32) -> Result<Vec<Completion>, StoreError> {
        let g = Geometry {
            pages: self.options.create.pages,
            wal_frames: self.options.create.wal_frames,
        };
        (from..to)
            .map(|page| {
                let image = Buffer::new_page();
                ImageHeader {
                    page,
                    count: 1,
                    ..ImageHeader::default()
                }
                .seal(&mut image.lock());
                self.disk.write(
                    Which::Data,
                    &self.waker,
                    g.data_page_offset(page),
                    Arc::new(image),
                    |_| {},
                )
            })
            .collect()
    }

    fn write_slot(
        &self,
        which: Which,
        offset: u64,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<Completion, StoreError> {
        let buf = Buffer::new(HEADER_SLOT_SIZE);
        fill(&mut buf.lock());
        self.disk
            .write(which, &self.waker, offset, Arc::new(buf), |_| {})
    }

    fn read_region_headers(
        &self,
        g: &Geometry,
        wal_size: u64,
        bufs: &[Arc<Buffer>],
    ) -> Result<Vec<Completion>, StoreError> {
        let mut reads = Vec::new();
        for (r, buf) in bufs.iter().enumerate() {
            let offset = g.region_offset(r as u8);
            if offset + HEADER_SLOT_SIZE as u64 <= wal_size {
                reads.push(
                    self.disk
                        .read(Which::Wal, &self.waker, offset, buf.clone())?,
                );
            }
        }
        Ok(reads)
    }

    /// The live generations' headers, in generation order, the highest
    /// generation found, and how many region headers were damaged.
    fn live_regions(
        &self,
        header: &DataHeader,
        bufs: &[Arc<Buffer>],
    ) -> Result<(Vec<RegionHeader>, u64, u32), StoreError> {
        let mut live = Vec::new();
        let mut max_gen = header.ckpt_gen;
        let mut damaged = 0;
        for (r, buf) in bufs.iter().enumerate() {
            match RegionHeader::decode(&buf.lock()) {
                SlotRead::Empty => {}
                SlotRead::Damaged(_) => damaged += 1,
                SlotRead::Valid(h) => {
                    if h.db_id != header.db_id {
                        return Err(self.disk.corrupt(
                            Which::Wal,
                            format!(
                                "log region {r} belongs to another database (id {:#x}, not {:#x})",
                                h.db_id, header.db_id
                            ),
                        ));
                    }
                    if usize::from(region_of(h.gen)) != r {
                        return Err(self.disk.corrupt(
                            Which::Wal,
                            format!("log region {r} holds generation {}, which belongs in the other region", h.gen),
                        ));
                    }
                    max_gen = max_gen.max(h.gen);
                    if h.gen > header.ckpt_gen {
                        live.push(h);
                    }
                }
            }
        }
        live.sort_by_key(|h| h.gen);
        if let [a, b] = live[..] {
            if b.gen != a.gen + 1 {
                return Err(self.disk.corrupt(
                    Which::Wal,
                    format!(
                        "live log generations {} and {} are not consecutive",
                        a.gen, b.gen
                    ),
                ));
            }
        }
        Ok((live, max_gen, damaged))
    }

    fn read_frames(
        &self,
        g: &Geometry,
        gen: u64,
        from: u32,
        bufs: &[Arc<Buffer>],
    ) -> Result<Vec<Completion>, StoreError> {
        bufs.iter()
            .enumerate()
            .map(|(i, buf)| {
                let offset = g.frame_offset(region_of(gen), from + i as u32);
                self.disk.read(Which::Wal, &self.waker, offset, buf.clone())
            })
            .collect()
    }

    fn build_store(&self, rec: Recovered) -> Arc<Store> {
        let g = rec.header.geometry;
        let max_commit = self
            .options
            .max_commit_pages
            .clamp(1, (g.wal_frames / 2) as usize);
        let checkpoint_frames = self.options.checkpoint_frames.clamp(1, g.wal_frames / 2);
        let log = LogState::new(
            g,
            checkpoint_frames,
            rec.report.generation,
            rec.report.last_lsn + 1,
            rec.checkpointed,
        );
        let options = StoreOptions {
            checkpoint_frames,
            max_commit_pages: max_commit,
            ..self.options.clone()
        };
        Store::new(self.disk.clone(), rec.header, log, options, rec.report)
    }
}

#[io_model::resumable]
impl Opener {
    /// Reads the data file's header, creates the database if the file is
    /// blank (and the mode allows), recovers it, and returns the store.
    #[resumable(state = lock(&self.open))]
    pub fn open(&self) -> Result<IOResult<Arc<Store>>, StoreError> {
        let mut found: Option<(DataHeader, u8)> = call!(ReadHeader => self.read_header());
        if found.is_some() && self.mode == OpenMode::Create {
            return Err(StoreError::InvalidArgument(format!(
                "{} already holds a database",
                self.disk.paths.data
            )));
        }
        let mut created: bool = false;
        if found.is_none() {
            if !self.mode.may_create() {
                return Err(StoreError::NotADatabase {
                    file: self.disk.paths.data.clone(),
                    why: "the file is empty".into(),
                });
            }
            let fresh: DataHeader = call!(Create => self.create());
            found = Some((fresh, 0));
            created = true;
        }
        let (header, slot): (DataHeader, u8) = match found {
            Some(f) => f,
            None => unreachable!("BUG: no header after creating one"),
        };
        let mut rec: Recovered = call!(Recover => self.recover(&header, slot));
        rec.report.created = created;
        Ok(IOResult::Done(self.build_store(rec)))
    }

    /// Reads and checks the data file's header: `None` if the file is empty
    /// or its header page blank (no database was ever created there).
    #[resumable(state = lock(&self.header))]
    pub fn read_header(&self) -> Result<IOResult<Option<(DataHeader, u8)>>, StoreError> {
        let size: u64 = self.disk.size(Which::Data)?;
        if size == 0 {
            return Ok(IOResult::Done(None));
        }
        if size < PAGE_SIZE as u64 {
            return Err(StoreError::NotADatabase {
                file: self.disk.paths.data.clone(),
                why: format!("it is {size} bytes, shorter than a header page"),
            });
        }
        let page0: Arc<Buffer> = Arc::new(Buffer::new_page());
        let read = self.disk.read(Which::Data, &self.waker, 0, page0.clone())?;
        wait!(ReadHeader => read);
        Ok(IOResult::Done(self.parse_header(&page0, size)?))
    }

    /// Writes every page blank (LSN 0, zero payload, valid checksum), then
    /// the header in slot 0, with an fsync after each.
    #[resumable(state = lock(&self.create))]
    fn create(&self) -> Result<IOResult<DataHeader>, StoreError> {
        let o: CreateOptions = self.check_create_options()?;
        let mut next: u32 = 0;
        while next < o.pages {
            let end: u32 = (next + CREATE_BATCH).min(o.pages);
            let writes: Vec<Completion> = self.write_blank_pages(next, end)?;
            wait_all!(WritePages => writes);
            next = end;
        }
        let sync_pages = self.disk.sync(Which::Data, &self.waker, |_| {})?;
        wait!(SyncPages => sync_pages);
        let header: DataHeader = DataHeader {
            geometry: Geometry {
                pages: o.pages,
                wal_frames: o.wal_frames,
            },
            shard: o.shard,
            shards: o.shards,
            db_id: o.db_id,
            ckpt_gen: 0,
            ckpt_lsn: 0,
        };
        let write = self.write_slot(Which::Data, DataHeader::slot_offset(0), |s| {
            header.encode(s)
        })?;
        wait!(WriteHeader => write);
        let sync_header = self.disk.sync(Which::Data, &self.waker, |_| {})?;
        wait!(SyncHeader => sync_header);
        Ok(IOResult::Done(header))
    }

    /// Replays the live log generations, copies what they hold into the
    /// data file, records the checkpoint and starts a fresh generation.
    #[resumable(state = lock(&self.recover))]
    fn recover(&self, header: &DataHeader, slot: u8) -> Result<IOResult<Recovered>, StoreError> {
        let g: Geometry = header.geometry;
        let wal_size: u64 = self.disk.size(Which::Wal)?;
        let bufs: Vec<Arc<Buffer>> = (0..2)
            .map(|_| Arc::new(Buffer::new(HEADER_SLOT_SIZE)))
            .collect();
        let reads: Vec<Completion> = self.read_region_headers(&g, wal_size, &bufs)?;
        wait_all!(ReadRegionHeaders => reads);
        let (live, max_gen, damaged): (Vec<RegionHeader>, u64, u32) =
            self.live_regions(header, &bufs)?;
        let mut report: RecoveryReport = RecoveryReport {
            damaged_region_headers: damaged,
            last_lsn: header.ckpt_lsn,
            ..RecoveryReport::default()
        };
        let mut images: BTreeMap<u32, (u64, Arc<Buffer>)> = BTreeMap::new();
        let mut i: usize = 0;
        while i < live.len() {
            let region: RegionHeader = live[i];
            i += 1;
            if region.start_lsn != report.last_lsn + 1 {
                if report.generations.is_empty() {
                    return Err(self.disk.corrupt(
                        Which::Wal,
                        format!(
                            "log generation {} starts at lsn {}, but the data file holds commits through {}",
                            region.gen, region.start_lsn, header.ckpt_lsn
                        ),
                    ));
                }
                // Not acknowledged: an earlier commit was never durable.
                report.dropped_generations.push(region.gen);
                continue;
            }
            let scan: RegionScan = call!(ScanRegion => self.scan_region(&g, wal_size, &region));
            report.generations.push(region.gen);
            report.commits += scan.commits;
            report.frames += scan.frames;
            report.torn_frames += scan.torn_frames() as u64;
            report.last_lsn = scan.last_lsn();
            images.extend(scan.images);
        }
        let pages: Vec<CopyPage> = images
            .into_iter()
            .map(|(page, (lsn, image))| CopyPage {
                page,
                lsn,
                source: Source::Image(image),
                offset: g.data_page_offset(page),
            })
            .collect();
        let mut checkpointed: Checkpointed = Checkpointed {
            gen: header.ckpt_gen,
            lsn: header.ckpt_lsn,
            slot,
        };
        if !pages.is_empty() || max_gen > header.ckpt_gen {
            // What was replayed may be only in the OS's cache (written by a
            // process whose fsync failed): make it durable before the data
            // file depends on it, or a power loss could keep the copied
            // pages and lose the commits before them.
            let sync_log = self.disk.sync(Which::Wal, &self.waker, |_| {})?;
            wait!(SyncLog => sync_log);
            let copied: u64 = call!(CopyPages => self.disk.backfill(&mut lock(&self.backfill), &self.waker, &pages));
            report.pages_copied = copied;
            let sync_pages = self.disk.sync(Which::Data, &self.waker, |_| {})?;
            wait!(SyncPages => sync_pages);
            checkpointed = Checkpointed {
                gen: max_gen,
                lsn: report.last_lsn,
                slot: 1 - slot,
            };
            let recorded = DataHeader {
                ckpt_gen: checkpointed.gen,
                ckpt_lsn: checkpointed.lsn,
                ..*header
            };
            let write = self.write_slot(
                Which::Data,
                DataHeader::slot_offset(checkpointed.slot),
                |s| recorded.encode(s),
            )?;
            wait!(Record => write);
            let sync_header = self.disk.sync(Which::Data, &self.waker, |_| {})?;
            wait!(SyncHeader => sync_header);
        }
        report.generation = checkpointed.gen + 1;
        let start = RegionHeader {
            db_id: header.db_id,
            gen: report.generation,
            start_lsn: report.last_lsn + 1,
        };
        let write = self.write_slot(Which::Wal, g.region_offset(region_of(start.gen)), |s| {
            start.encode(s)
        })?;
        wait!(StartLog => write);
        Ok(IOResult::Done(Recovered {
            header: DataHeader {
                ckpt_gen: checkpointed.gen,
                ckpt_lsn: checkpointed.lsn,
                ..*header
            },
            checkpointed,
            report,
        }))
    }

    /// Reads region `region.gen`'s frames in order, [`SCAN_BATCH`] at a
    /// time, until one does not continue the log (or the region or the file
    /// ends).
    #[resumable(state = lock(&self.scan))]
    fn scan_region(
        &self,
        g: &Geometry,
        wal_size: u64,
        region: &RegionHeader,
    ) -> Result<IOResult<RegionScan>, StoreError> {
        let mut scan: RegionScan = RegionScan::new(region.gen, region.start_lsn, g.pages);
        let mut from: u32 = 0;
        loop {
            let in_file = wal_size.saturating_sub(g.frame_offset(region_of(region.gen), from))
                / PAGE_SIZE as u64;
            let n: u32 = (g.wal_frames - from)
                .min(SCAN_BATCH)
                .min(in_file.min(u64::from(u32::MAX)) as u32);
            if n == 0 {
                break;
            }
            let bufs: Vec<Arc<Buffer>> = (0..n).map(|_| Arc::new(Buffer::new_page())).collect();
            let reads: Vec<Completion> = self.read_frames(g, region.gen, from, &bufs)?;
            wait_all!(ReadFrames => reads);
            from += n;
            let more = scan
                .absorb(&bufs)
                .map_err(|what| self.disk.corrupt(Which::Wal, what))?;
            if !more {
                break;
            }
        }
        Ok(IOResult::Done(scan))
    }
}
