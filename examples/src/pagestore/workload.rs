//! The mixed workload, the state it expects, and verification.
//!
//! Clients read random pages and commit 1 to `max_commit_pages` random
//! pages; one more slot runs the automatic checkpointer. Every page a
//! commit writes is self-describing: its payload holds the commit's random
//! tag, the page number, the list of pages the commit wrote, and bytes drawn
//! from the tag and page. So a page can be checked on its own (its bytes
//! are what its tag says), against its commit (every page the commit wrote
//! shows that commit or a later one: no commit is partly visible), and
//! against the [`Expected`] state (every commit reported done is there).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_model::{IOResult, IO};

use super::{
    CheckpointOutcome, CommitInfo, Driver, Page, PageWrite, Scheduler, SchedulerStats, SlotId,
    StatsSnapshot, Store, StoreError, Task, PAYLOAD_SIZE,
};

/// A small, fast, seedable generator (SplitMix64): workloads replay from
/// their seed.
///
/// ```
/// use io_model_examples::pagestore::workload::Rng;
/// let (mut a, mut b) = (Rng::new(5), Rng::new(5));
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x6a09_e667_f3bc_c909)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// Bytes 0..16 of a workload payload: tag, page, page count.
const PAYLOAD_PAGES_AT: usize = 16;

/// The payload a commit tagged `tag` writes to `page`, one of `pages`.
///
/// ```
/// use io_model_examples::pagestore::workload::{payload, Written};
/// let bytes = payload(77, 3, &[3, 9]);
/// assert_eq!(Written::parse(3, &bytes), Ok(Some(Written { tag: 77, pages: vec![3, 9] })));
/// let mut torn = bytes.clone();
/// torn[4000] ^= 1;
/// assert!(Written::parse(3, &torn).is_err());
/// ```
///
/// # Panics
///
/// If `pages` has more entries than a payload can list (1000).
pub fn payload(tag: u64, page: u32, pages: &[u32]) -> Vec<u8> {
    let mut out = vec![0u8; PAYLOAD_SIZE];
    out[0..8].copy_from_slice(&tag.to_le_bytes());
    out[8..12].copy_from_slice(&page.to_le_bytes());
    let n = u16::try_from(pages.len()).expect("commit too large");
    out[12..14].copy_from_slice(&n.to_le_bytes());
    let list_end = PAYLOAD_PAGES_AT + 4 * pages.len();
    assert!(list_end <= PAYLOAD_SIZE - 8, "commit too large");
    for (i, p) in pages.iter().enumerate() {
        out[PAYLOAD_PAGES_AT + 4 * i..PAYLOAD_PAGES_AT + 4 * i + 4]
            .copy_from_slice(&p.to_le_bytes());
    }
    fill(&mut out[list_end..], tag, page);
    out
}

fn fill(bytes: &mut [u8], tag: u64, page: u32) {
    let mut rng = Rng::new(tag ^ (u64::from(page) << 32 | u64::from(page)));
    for chunk in bytes.chunks_mut(8) {
        let v = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// What a workload commit wrote to a page, read back from its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The commit's tag.
    pub tag: u64,
    /// Every page the commit wrote.
    pub pages: Vec<u32>,
}

impl Written {
    /// Parses and checks the payload of `page`: `None` for a page never
    /// written (all zeros), an error if the bytes are not exactly what their
    /// tag says.
    pub fn parse(page: u32, bytes: &[u8]) -> Result<Option<Written>, String> {
        let tag = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"));
        if tag == 0 {
            return if bytes.iter().all(|&b| b == 0) {
                Ok(None)
            } else {
                Err(format!("page {page}: untagged payload is not blank"))
            };
        }
        let named = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        let n = usize::from(u16::from_le_bytes([bytes[12], bytes[13]]));
        let list_end = PAYLOAD_PAGES_AT + 4 * n;
        if named != page || n == 0 || list_end > PAYLOAD_SIZE - 8 {
            return Err(format!(
                "page {page}: payload of tag {tag:#x} names page {named} and {n} pages"
            ));
        }
        let pages: Vec<u32> = bytes[PAYLOAD_PAGES_AT..list_end]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let expected = payload(tag, page, &pages);
        if expected != bytes || !pages.contains(&page) {
            return Err(format!(
                "page {page}: payload differs from what tag {tag:#x} wrote (torn or mixed)"
            ));
        }
        Ok(Some(Written { tag, pages }))
    }
}

/// The version of a page: the LSN and tag of the commit that wrote it (0
/// and 0: as created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version {
    /// The commit's LSN.
    pub lsn: u64,
    /// The commit's tag.
    pub tag: u64,
}

/// The state the workload expects: for each page, the newest commit that
/// wrote it and was reported done; and the commits that were issued but
/// not reported done (failed, or in flight at a crash), each of which may
/// or may not be in the database, but only whole.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    versions: Vec<Version>,
    unresolved: BTreeMap<u64, Vec<u32>>,
}

impl Expected {
    /// A database of `pages` pages as created.
    pub fn blank(pages: u32) -> Self {
        Self {
            versions: vec![Version::default(); pages as usize],
            unresolved: BTreeMap::new(),
        }
    }

    /// The state a verification read (nothing unresolved).
    pub fn from_versions(versions: Vec<Version>) -> Self {
        Self {
            versions,
            unresolved: BTreeMap::new(),
        }
    }

    /// Pages.
    pub fn pages(&self) -> u32 {
        self.versions.len() as u32
    }

    /// The expected version of `page`.
    pub fn version(&self, page: u32) -> Version {
        self.versions[page as usize]
    }

    /// Commits not reported done.
    pub fn unresolved(&self) -> usize {
        self.unresolved.len()
    }

    fn issued(&mut self, tag: u64, pages: Vec<u32>) {
        self.unresolved.insert(tag, pages);
    }

    fn committed(&mut self, tag: u64, lsn: u64) {
        if let Some(pages) = self.unresolved.remove(&tag) {
            for p in pages {
                let v = &mut self.versions[p as usize];
                if lsn > v.lsn {
                    *v = Version { lsn, tag };
                }
            }
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Pages read and checked.
    pub pages: u32,
    /// The version of each page found.
    pub versions: Vec<Version>,
    /// Commits found that were not reported done (whole, as they must be).
    pub unresolved_found: usize,
    /// Everything wrong, one line each.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing was wrong.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.pages as usize == self.versions.len()
    }
}

/// One operation of the workload or of a verification.
#[derive(Debug, Clone)]
pub enum Op {
    /// Read a page.
    Read(u32),
    /// Commit pages, tagged.
    Commit {
        /// The commit's tag.
        tag: u64,
        /// What it writes.
        writes: Vec<PageWrite>,
    },
    /// Run the automatic checkpointer.
    AutoCheckpoint,
    /// Run one checkpoint.
    Checkpoint,
}

/// What an [`Op`] returned.
#[derive(Debug, Clone)]
pub enum OpOutput {
    /// The page read.
    Read(Page),
    /// The commit.
    Commit(CommitInfo),
    /// Checkpoints the automatic checkpointer ran.
    AutoCheckpoint(u64),
    /// The checkpoint.
    Checkpoint(CheckpointOutcome),
}

/// An [`Op`] on a store, as the [`Scheduler`] runs it.
pub struct OpTask {
    store: Arc<Store>,
    /// The operation.
    pub op: Op,
    /// When it started.
    pub started: Instant,
    /// The newest LSN of the page a read must see (the expected version
    /// when it started).
    pub floor: u64,
}

impl OpTask {
    /// `op` on `store`, starting now.
    pub fn new(store: Arc<Store>, op: Op) -> Self {
        Self {
            store,
            op,
            started: Instant::now(),
            floor: 0,
        }
    }
}

impl Task for OpTask {
    type Output = OpOutput;

    fn resume(&mut self, slot: SlotId) -> Result<IOResult<OpOutput>, StoreError> {
        let s = &self.store;
        Ok(match &self.op {
            Op::Read(page) => s.read_page(slot, *page)?.map(OpOutput::Read),
            Op::Commit { writes, .. } => s.commit(slot, writes)?.map(OpOutput::Commit),
            Op::AutoCheckpoint => s.auto_checkpoint(slot)?.map(OpOutput::AutoCheckpoint),
            Op::Checkpoint => s.checkpoint(slot)?.map(OpOutput::Checkpoint),
        })
    }
}

/// When a workload run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this long (operations in flight then finish).
    After(Duration),
    /// After this many client operations were started.
    Ops(u64),
}

/// How a workload runs on one store.
#[derive(Debug, Clone)]
pub struct WorkloadConfig {
    /// Client operations in flight (the store needs one more slot, for the
    /// automatic checkpointer).
    pub concurrency: usize,
    /// The share of reads among client operations, 0 to 1.
    pub read_ratio: f64,
    /// The most pages a commit writes (at least 1).
    pub max_commit_pages: usize,
    /// When to stop.
    pub stop: Stop,
    /// End the run at the first failed operation (else keep going and
    /// count failures, as under injected faults).
    pub stop_on_error: bool,
    /// The workload's seed.
    pub seed: u64,
}

/// Progress a run publishes for another thread to show.
#[derive(Debug, Default)]
pub struct Progress {
    /// Client operations finished.
    pub ops: AtomicU64,
    /// The store's durable LSN.
    pub durable_lsn: AtomicU64,
}

/// What a run of the workload did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// How long it ran.
    pub elapsed: Duration,
    /// Latency of each successful read, in nanoseconds.
    pub read_ns: Vec<u64>,
    /// Latency of each successful commit, in nanoseconds.
    pub commit_ns: Vec<u64>,
    /// Failed client operations.
    pub errors: u64,
    /// The first error, if any.
    pub first_error: Option<StoreError>,
    /// Reads that returned something older than a commit reported done
    /// before they started, or a damaged page: must stay empty.
    pub violations: Vec<String>,
    /// Checkpoints run.
    pub checkpoints: u64,
    /// The store's counters over the run.
    pub stats: StatsSnapshot,
    /// The scheduler's counters.
    pub scheduler: SchedulerStats,
    /// Whether the run was interrupted (operations left in flight).
    pub interrupted: bool,
    /// The LSN through which the store was durable when the run ended.
    pub durable_lsn: u64,
}

/// What [`Workload::on_resume`] calls.
type ResumeHook<'a> = Box<dyn FnMut(SlotId, u64, &Op) + 'a>;

/// The driver of a workload run; see [`run_workload`].
pub struct Workload<'a> {
    store: Arc<Store>,
    cfg: WorkloadConfig,
    rng: Rng,
    expected: &'a mut Expected,
    report: RunReport,
    started: Instant,
    ops_started: u64,
    clients_in_flight: usize,
    stopping: bool,
    checkpointer_stopped: bool,
    progress: Option<&'a Progress>,
    /// Makes [`Driver::interrupt`] return true after this many calls.
    interrupt_after: Option<u64>,
    /// Called after each resume (tests attribute traces with it).
    on_resume: Option<ResumeHook<'a>>,
    /// Each slot's operation and its serial number.
    current: Vec<Option<(u64, Op)>>,
    serial: u64,
}

impl<'a> Workload<'a> {
    /// A run of `cfg` on `store` (which needs `cfg.concurrency + 1` slots),
    /// updating `expected` as commits are reported done.
    pub fn new(store: Arc<Store>, cfg: WorkloadConfig, expected: &'a mut Expected) -> Self {
        let slots = cfg.concurrency + 1;
        Self {
            rng: Rng::new(cfg.seed),
            store,
            cfg,
            expected,
            report: RunReport::default(),
            started: Instant::now(),
            ops_started: 0,
            clients_in_flight: 0,
            stopping: false,
            checkpointer_stopped: false,
            progress: None,
            interrupt_after: None,
            on_resume: None,
            current: vec![None; slots],
            serial: 0,
        }
    }

    /// Publishes progress to `progress`.
    pub fn with_progress(mut self, progress: &'a Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Interrupts the run after `calls` calls of [`Driver::interrupt`]
    /// (about one per operation resumed), leaving operations in flight.
    pub fn interrupt_after(mut self, calls: u64) -> Self {
        self.interrupt_after = Some(calls);
        self
    }

    /// Calls `f` after every resume with the slot, the serial number of its
    /// operation (a new one for each operation started) and the operation.
    pub fn on_resume(mut self, f: impl FnMut(SlotId, u64, &Op) + 'a) -> Self {
        self.on_resume = Some(Box::new(f));
        self
    }

    fn checkpointer_slot(&self) -> SlotId {
        SlotId(self.cfg.concurrency)
    }

    fn should_stop(&mut self) -> bool {
        if !self.stopping {
            self.stopping = match self.cfg.stop {
                Stop::After(d) => self.started.elapsed() >= d,
                Stop::Ops(n) => self.ops_started >= n,
            } || self.store.failure().is_some();
        }
        self.stopping
    }

    fn next_client_op(&mut self) -> Op {
        let pages = u64::from(self.store.pages());
        if self.rng.chance(self.cfg.read_ratio) {
            return Op::Read(self.rng.below(pages) as u32);
        }
        let max = self.cfg.max_commit_pages.clamp(1, pages as usize) as u64;
        let n = 1 + self.rng.below(max) as usize;
        let mut chosen: Vec<u32> = Vec::with_capacity(n);
        while chosen.len() < n {
            let p = self.rng.below(pages) as u32;
            if !chosen.contains(&p) {
                chosen.push(p);
            }
        }
        let tag = self.rng.next_u64() | 1;
        let writes = chosen
            .iter()
            .map(|&p| PageWrite::new(p, payload(tag, p, &chosen)).expect("a payload fits"))
            .collect();
        self.expected.issued(tag, chosen);
        Op::Commit { tag, writes }
    }

    /// Stops the automatic checkpointer once no client is in flight (a
    /// client waiting for log space needs it).
    fn maybe_stop_checkpointer(&mut self) {
        if self.stopping && self.clients_in_flight == 0 && !self.checkpointer_stopped {
            self.checkpointer_stopped = true;
            self.store.stop_auto_checkpoint();
        }
    }

    fn record_error(&mut self, e: StoreError) {
        self.report.errors += 1;
        if self.report.first_error.is_none() {
            self.report.first_error = Some(e);
        }
        if self.cfg.stop_on_error {
            self.stopping = true;
        }
    }

    fn finish(mut self, scheduler: SchedulerStats, before: StatsSnapshot) -> RunReport {
        self.report.elapsed = self.started.elapsed();
        self.report.scheduler = scheduler;
        self.report.stats = self.store.stats() - before;
        self.report.durable_lsn = self.store.durable_lsn();
        self.report
    }
}

impl Driver<OpTask> for Workload<'_> {
    fn next(&mut self, slot: SlotId) -> Option<OpTask> {
        let op = if slot == self.checkpointer_slot() {
            self.should_stop();
            self.maybe_stop_checkpointer();
            if self.checkpointer_stopped || self.store.failure().is_some() {
                return None;
            }
            Op::AutoCheckpoint
        } else {
            if self.should_stop() {
                self.maybe_stop_checkpointer();
                return None;
            }
            self.ops_started += 1;
            self.clients_in_flight += 1;
            self.next_client_op()
        };
        self.serial += 1;
        self.current[slot.0] = Some((self.serial, op.clone()));
        let mut task = OpTask::new(self.store.clone(), op);
        if let Op::Read(p) = task.op {
            task.floor = self.expected.version(p).lsn;
        }
        Some(task)
    }

    fn done(&mut self, slot: SlotId, task: OpTask, result: Result<OpOutput, StoreError>) {
        self.current[slot.0] = None;
        let ns = task.started.elapsed().as_nanos() as u64;
        let client = slot != self.checkpointer_slot();
        if client {
            self.clients_in_flight -= 1;
            if let Some(p) = self.progress {
                p.ops.fetch_add(1, Ordering::Relaxed);
                p.durable_lsn
                    .store(self.store.durable_lsn(), Ordering::Relaxed);
            }
        }
        match (task.op, result) {
            (Op::Read(page), Ok(OpOutput::Read(got))) => {
                self.report.read_ns.push(ns);
                if got.lsn() < task.floor {
                    self.report.violations.push(format!(
                        "a read of page {page} returned lsn {}, older than lsn {} reported done before it started",
                        got.lsn(),
                        task.floor
                    ));
                }
                if let Err(e) = Written::parse(page, &got.payload()) {
                    self.report.violations.push(e);
                }
            }
            (Op::Commit { tag, .. }, Ok(OpOutput::Commit(info))) => {
                self.report.commit_ns.push(ns);
                self.expected.committed(tag, info.lsn);
            }
            (Op::AutoCheckpoint, Ok(OpOutput::AutoCheckpoint(n))) => self.report.checkpoints += n,
            (Op::Checkpoint, Ok(_)) => self.report.checkpoints += 1,
            (_, Err(e)) => self.record_error(e),
            (op, Ok(out)) => unreachable!("BUG: {op:?} returned {out:?}"),
        }
        self.should_stop();
        self.maybe_stop_checkpointer();
    }

    fn interrupt(&mut self) -> bool {
        match &mut self.interrupt_after {
            Some(0) => true,
            Some(n) => {
                *n -= 1;
                false
            }
            None => false,
        }
    }

    fn resumed(&mut self, slot: SlotId) {
        if let (Some(f), Some((serial, op))) =
            (self.on_resume.as_mut(), self.current[slot.0].as_ref())
        {
            f(slot, *serial, op);
        }
    }
}

/// Runs the workload `cfg` on `store` through `io` and returns what it did;
/// `expected` follows every commit reported done. With
/// [`Workload::interrupt_after`] the run may end with operations in flight
/// (the scheduler is returned so the caller can drop them after crashing
/// the backend).
pub fn run_workload(
    io: &dyn IO,
    store: &Arc<Store>,
    workload: Workload<'_>,
) -> (RunReport, Scheduler<OpTask>) {
    let mut workload = workload;
    let before = store.stats();
    let mut scheduler = Scheduler::new(store.ready_queue().clone(), store.slots());
    let res = scheduler.run(io, &mut workload);
    let interrupted = scheduler.in_flight() > 0;
    if let Err(e) = res {
        workload.record_error(e);
    }
    let mut report = workload.finish(scheduler.stats(), before);
    report.interrupted = interrupted;
    (report, scheduler)
}

/// Reads every page of `store` and checks it: its payload is exactly what
/// its commit wrote, no commit is partly visible, and, given `expected`,
/// every page shows the newest commit reported done (or a later one that
/// was not reported, if that commit is whole).
pub fn verify(io: &dyn IO, store: &Arc<Store>, expected: Option<&Expected>) -> VerifyReport {
    struct Reader<'a> {
        store: &'a Arc<Store>,
        next: u32,
        found: Vec<Option<(Version, Option<Written>)>>,
        problems: Vec<String>,
    }
    impl Driver<OpTask> for Reader<'_> {
        fn next(&mut self, _: SlotId) -> Option<OpTask> {
            (self.next < self.store.pages()).then(|| {
                self.next += 1;
                OpTask::new(self.store.clone(), Op::Read(self.next - 1))
            })
        }
        fn done(&mut self, _: SlotId, task: OpTask, result: Result<OpOutput, StoreError>) {
            let Op::Read(page) = task.op else { return };
            match result {
                Ok(OpOutput::Read(got)) => match Written::parse(page, &got.payload()) {
                    Ok(w) => {
                        let tag = w.as_ref().map_or(0, |w| w.tag);
                        if (got.lsn() == 0) != w.is_none() {
                            self.problems.push(format!(
                                "page {page}: lsn {} does not go with its payload (tag {tag:#x})",
                                got.lsn()
                            ));
                        }
                        self.found[page as usize] = Some((
                            Version {
                                lsn: got.lsn(),
                                tag,
                            },
                            w,
                        ));
                    }
                    Err(e) => self.problems.push(e),
                },
                Ok(other) => self
                    .problems
                    .push(format!("BUG: a read returned {other:?}")),
                Err(e) => self.problems.push(format!("page {page}: read failed: {e}")),
            }
        }
    }
    let mut reader = Reader {
        store,
        next: 0,
        found: vec![None; store.pages() as usize],
        problems: Vec::new(),
    };
    let mut scheduler = Scheduler::new(store.ready_queue().clone(), store.slots());
    if let Err(e) = scheduler.run(io, &mut reader) {
        reader.problems.push(format!("verification stopped: {e}"));
    }
    let mut report = VerifyReport {
        pages: reader.found.iter().filter(|f| f.is_some()).count() as u32,
        problems: reader.problems,
        ..VerifyReport::default()
    };
    if report.pages != store.pages() {
        report.versions.clear();
        report.problems.push(format!(
            "{} of {} pages could be read",
            report.pages,
            store.pages()
        ));
        return report;
    }
    let found: Vec<(Version, Option<Written>)> = reader
        .found
        .into_iter()
        .map(|f| f.expect("every page"))
        .collect();
    report.versions = found.iter().map(|(v, _)| *v).collect();
    // No commit is partly visible: every page a visible commit wrote shows
    // it or a later one.
    for (page, (v, w)) in found.iter().enumerate() {
        let Some(w) = w else { continue };
        for &q in &w.pages {
            let Some((other, _)) = found.get(q as usize) else {
                report.problems.push(format!(
                    "page {page}: its commit lists page {q}, out of range"
                ));
                continue;
            };
            if other.lsn < v.lsn || (other.lsn == v.lsn && other.tag != v.tag) {
                report.problems.push(format!(
                    "commit lsn {} (tag {:#x}) is partly visible: page {page} shows it, page {q} shows lsn {}",
                    v.lsn, v.tag, other.lsn
                ));
            }
        }
    }
    if let Some(expected) = expected {
        let mut unresolved = std::collections::BTreeSet::new();
        for (page, (got, _)) in found.iter().enumerate() {
            let want = expected.version(page as u32);
            if got.lsn < want.lsn {
                report.problems.push(format!(
                    "page {page}: commit lsn {} (reported done) is missing; the page shows lsn {}",
                    want.lsn, got.lsn
                ));
            } else if got.lsn == want.lsn && got.tag != want.tag {
                report.problems.push(format!(
                    "page {page}: lsn {} shows tag {:#x}, not {:#x}",
                    got.lsn, got.tag, want.tag
                ));
            } else if got.lsn > want.lsn {
                let known = expected
                    .unresolved
                    .get(&got.tag)
                    .is_some_and(|pages| pages.contains(&(page as u32)));
                if known {
                    unresolved.insert(got.tag);
                } else {
                    report.problems.push(format!(
                        "page {page}: shows lsn {} (tag {:#x}), which no commit in flight wrote; expected lsn {}",
                        got.lsn, got.tag, want.lsn
                    ));
                }
            }
        }
        report.unresolved_found = unresolved.len();
    }
    report
}

/// The `q`-quantile (0 to 1) of `samples`, sorting them.
///
/// ```
/// let mut v = vec![5, 1, 4, 2, 3];
/// assert_eq!(io_model_examples::pagestore::workload::quantile(&mut v, 0.5), 3);
/// assert_eq!(io_model_examples::pagestore::workload::quantile(&mut v, 1.0), 5);
/// assert_eq!(io_model_examples::pagestore::workload::quantile(&mut [], 0.5), 0);
/// ```
pub fn quantile(samples: &mut [u64], q: f64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    samples.sort_unstable();
    let i = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[i.min(samples.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mixed_payload_is_caught() {
        let a = payload(11, 2, &[2, 5]);
        let b = payload(12, 2, &[2]);
        let mut mixed = a.clone();
        mixed[2000..].copy_from_slice(&b[2000..]);
        assert!(Written::parse(2, &mixed).is_err());
        assert!(Written::parse(5, &a).is_err(), "names another page");
        assert_eq!(Written::parse(9, &vec![0; PAYLOAD_SIZE]), Ok(None));
    }

    #[test]
    fn expected_follows_the_newest_done_commit() {
        let mut e = Expected::blank(4);
        e.issued(1, vec![1, 2]);
        e.issued(2, vec![2]);
        e.committed(2, 6);
        e.committed(1, 5); // reported after, but older
        assert_eq!(e.version(1), Version { lsn: 5, tag: 1 });
        assert_eq!(e.version(2), Version { lsn: 6, tag: 2 });
        assert_eq!(e.unresolved(), 0);
    }
}
