//! [`SimIO`]: a deterministic simulator of a disk, for tests.
//!
//! Files live in memory. Every operation is recorded in a trace and
//! deferred: [`IO::step`] delivers the due ones in an order drawn from the
//! seed, so completions arrive late and out of order and every suspension
//! point of the code under test is exercised. Faults (errors, short reads,
//! torn writes) are drawn from the same seed, and [`SimIO::crash`] throws
//! away every write that no completed sync made durable. The same seed
//! replays the same run, operation for operation.

mod rng;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use io_model::{Buffer, Completion, CompletionError, Error, File, OpenFlags, Result, IO};

use self::rng::Rng;
use crate::sys;

/// The faults a [`SimIO`] injects, each an independent probability in
/// `0.0..=1.0`, drawn once per delivered operation of that kind.
///
/// Injected errors are [`CompletionError::IOError`] with
/// [`ErrorKind::Other`].
///
/// ```
/// use io_model_backends::Faults;
///
/// let faults = Faults { torn_write: 0.01, sync_error: 0.001, ..Faults::none() };
/// assert_eq!(faults.read_error, 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// A read fails; nothing is read.
    pub read_error: f64,
    /// A write fails; nothing is written.
    pub write_error: f64,
    /// A sync fails; nothing new becomes durable.
    pub sync_error: f64,
    /// A read returns a random prefix of the requested range and finishes
    /// with [`CompletionError::ShortRead`], even inside the file.
    pub short_read: f64,
    /// A write lands only a random prefix (possibly empty) of its buffer
    /// and finishes with [`CompletionError::ShortWrite`].
    pub torn_write: f64,
}

impl Faults {
    /// No faults at all: what [`SimIO::new`] uses.
    ///
    /// ```
    /// assert_eq!(io_model_backends::Faults::none(), Default::default());
    /// ```
    pub const fn none() -> Self {
        Self {
            read_error: 0.0,
            write_error: 0.0,
            sync_error: 0.0,
            short_read: 0.0,
            torn_write: 0.0,
        }
    }

    fn check(&self) {
        for (name, p) in [
            ("read_error", self.read_error),
            ("write_error", self.write_error),
            ("sync_error", self.sync_error),
            ("short_read", self.short_read),
            ("torn_write", self.torn_write),
        ] {
            assert!(
                (0.0..=1.0).contains(&p),
                "Faults::{name} is {p}, not a probability in 0.0..=1.0"
            );
        }
    }
}

/// The kind of an operation in the [trace](SimIO::trace).
///
/// ```
/// assert_eq!(io_model_backends::OpKind::Write.to_string(), "write");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    /// [`File::pread`].
    Read,
    /// [`File::pwrite`].
    Write,
    /// [`File::sync`].
    Sync,
    /// [`File::truncate`].
    Truncate,
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpKind::Read => "read",
            OpKind::Write => "write",
            OpKind::Sync => "sync",
            OpKind::Truncate => "truncate",
        })
    }
}

/// One operation issued to a [`SimIO`], recorded when it is issued
/// (whatever its outcome).
///
/// For a read or write, `offset` and `len` are the byte range; for a sync
/// both are 0; for a truncation `offset` is the new length and `len` is 0.
///
/// ```
/// use io_model_backends::{OpKind, TraceEntry};
/// let e = TraceEntry { kind: OpKind::Read, file: "db".into(), offset: 4096, len: 4096 };
/// assert_eq!(e.to_string(), "read db @4096+4096");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceEntry {
    /// What was issued.
    pub kind: OpKind,
    /// The path the file was opened with.
    pub file: String,
    /// The first byte (the new length for a truncation).
    pub offset: u64,
    /// The number of bytes.
    pub len: u64,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} @{}+{}",
            self.kind, self.file, self.offset, self.len
        )
    }
}

/// The deterministic simulator backend.
///
/// - Files are in memory, named by their path strings.
/// - Every completion is deferred, even of a failed or empty request: it is
///   finished by a later [`step`](IO::step), each operation after a delay
///   of 1 to 1 + [`max_delay`](SimIO::max_delay) steps drawn from the seed,
///   the ones due in the same step in a drawn order. A read sees, and a
///   write changes, the file when it is delivered, so concurrent operations
///   take effect in delivery order. (Two exceptions finish at once: a
///   malformed request, which also returns `Err`, and an operation on a
///   file whose `SimIO` was dropped, which fails with
///   `IOError(NotConnected)`: nothing is left to step.)
/// - [`Faults`] are drawn from the same seed when an operation is
///   delivered.
/// - A sync makes durable the file as it was when the sync was *issued*
///   (writes delivered after that point are not covered), once it is
///   delivered without error. [`crash`](SimIO::crash) resets every file to
///   its durable state.
/// - With [`OpenFlags::DIRECT`] the offset, length and buffer address of
///   reads and writes must be multiples of 512, as `O_DIRECT` requires;
///   other requests fail with `InvalidInput`.
/// - [`trace`](SimIO::trace) lists every operation issued (the latest ones
///   only, with [`with_trace_limit`](SimIO::with_trace_limit)).
/// - Once warm, issuing and delivering reads, writes and syncs allocates
///   nothing (writes that grow a file aside), as long as the trace is
///   bounded: its lists, the images syncs make durable and the completions
///   are all reused.
///
/// The same seed, with the same calls in the same order, replays the same
/// run: same delivery order, same faults, same contents.
///
/// ```
/// use io_model::{Buffer, Completion, File, OpenFlags, IO};
/// use io_model_backends::{OpKind, SimIO};
/// use std::sync::Arc;
///
/// let io = SimIO::new(42);
/// let file = io.open_file("db", OpenFlags::CREATE)?;
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(vec![1; 512])), Completion::new_write(|_| {}))?;
/// assert!(!w.finished()); // deferred until a step delivers it
/// io.wait_for_completion(w)?;
/// let r = file.pread(0, Completion::new_read(Arc::new(Buffer::new(512)), |_| {}))?;
/// io.wait_for_completion(r.clone())?;
/// assert_eq!(r.read_buffer().unwrap().to_vec(), vec![1; 512]);
/// assert_eq!(io.trace().iter().map(|e| e.kind).collect::<Vec<_>>(), [OpKind::Write, OpKind::Read]);
/// # Ok::<(), io_model::Error>(())
/// ```
pub struct SimIO {
    inner: Arc<Inner>,
}

struct Inner {
    seed: u64,
    state: Mutex<State>,
}

struct State {
    rng: Rng,
    faults: Faults,
    max_delay: u64,
    /// Each step delivers only the oldest pending operation.
    one_at_a_time: bool,
    /// Steps taken so far: the simulator's clock.
    now: u64,
    /// Bumped by every crash; handles of older epochs are dead.
    epoch: u64,
    names: BTreeMap<String, u64>,
    files: BTreeMap<u64, FileData>,
    next_file: u64,
    /// Issued, not yet delivered, in issue order.
    pending: Vec<Pending>,
    /// Taken out of `pending` by a step that has not finished them yet.
    in_delivery: usize,
    trace: VecDeque<Record>,
    /// The most entries `trace` keeps (the latest); `None`: all.
    trace_limit: Option<usize>,
    /// Emptied lists a step reuses: `pending` is rebuilt into `rest`, the
    /// due operations go to `due`, their results to `delivered`.
    rest: Vec<Pending>,
    due: Vec<Pending>,
    delivered: Vec<(Completion, Result<i32, CompletionError>)>,
    /// File images of delivered syncs, reused by the next syncs.
    images: Vec<Vec<u8>>,
}

/// A trace entry as recorded: the path is shared with the file handle.
struct Record {
    kind: OpKind,
    file: Arc<str>,
    offset: u64,
    len: u64,
}

impl Record {
    fn entry(&self) -> TraceEntry {
        TraceEntry {
            kind: self.kind,
            file: self.file.to_string(),
            offset: self.offset,
            len: self.len,
        }
    }
}

/// Sync images kept for reuse.
const IMAGES_KEPT: usize = 8;
/// Operations in flight the lists have room for from the start (they grow
/// past it once, to the most ever in flight).
const IN_FLIGHT_ROOM: usize = 128;

#[derive(Default)]
struct FileData {
    /// What reads see.
    current: Vec<u8>,
    /// What survives a crash.
    durable: Vec<u8>,
    /// Bumped by every delivered change to `current`.
    version: u64,
    /// The version `durable` was taken at.
    durable_version: u64,
}

struct Pending {
    due: u64,
    c: Completion,
    file: u64,
    op: PendingOp,
}

enum PendingOp {
    /// A read into the completion's buffer.
    Read {
        pos: u64,
    },
    Write {
        pos: u64,
        buf: Arc<Buffer>,
    },
    Sync {
        snapshot: Vec<u8>,
        version: u64,
    },
    Truncate {
        len: u64,
    },
    /// Refused when issued; delivered like any other.
    Fail(CompletionError),
}

/// The error of an injected fault.
const INJECTED: CompletionError = CompletionError::IOError(ErrorKind::Other);
/// The error of a handle opened before a crash, or whose `SimIO` is gone.
const DEAD_HANDLE: CompletionError = CompletionError::IOError(ErrorKind::NotConnected);
/// Alignment `O_DIRECT` asks for.
const DIRECT_ALIGN: u64 = 512;
/// The largest simulated file: writes and truncations past it fail with
/// `IOError(OutOfMemory)` instead of exhausting the test's memory.
const MAX_FILE: u64 = 1 << 32;
const TOO_LARGE: CompletionError = CompletionError::IOError(ErrorKind::OutOfMemory);

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SimIO {
    /// A simulator without faults whose run is determined by `seed`.
    ///
    /// ```
    /// assert_eq!(io_model_backends::SimIO::new(7).seed(), 7);
    /// ```
    pub fn new(seed: u64) -> Self {
        Self::with_faults(seed, Faults::none())
    }

    /// A simulator that injects `faults`, drawn from `seed`.
    ///
    /// ```
    /// use io_model_backends::{Faults, SimIO};
    /// let io = SimIO::with_faults(1, Faults { read_error: 0.5, ..Faults::none() });
    /// assert_eq!(io.faults().read_error, 0.5);
    /// ```
    ///
    /// # Panics
    ///
    /// If a probability of `faults` is outside `0.0..=1.0`.
    pub fn with_faults(seed: u64, faults: Faults) -> Self {
        faults.check();
        Self {
            inner: Arc::new(Inner {
                seed,
                state: Mutex::new(State {
                    rng: Rng::new(seed),
                    faults,
                    max_delay: 4,
                    one_at_a_time: false,
                    now: 0,
                    epoch: 0,
                    names: BTreeMap::new(),
                    files: BTreeMap::new(),
                    next_file: 0,
                    pending: Vec::with_capacity(IN_FLIGHT_ROOM),
                    in_delivery: 0,
                    trace: VecDeque::new(),
                    trace_limit: None,
                    rest: Vec::with_capacity(IN_FLIGHT_ROOM),
                    due: Vec::with_capacity(IN_FLIGHT_ROOM),
                    delivered: Vec::with_capacity(IN_FLIGHT_ROOM),
                    images: Vec::new(),
                }),
            }),
        }
    }

    /// Sets the longest delay, in steps, between issuing an operation and
    /// delivering it (4 unless set). 0 delivers everything on the next
    /// step, still in a drawn order.
    ///
    /// ```
    /// let io = io_model_backends::SimIO::new(1).with_max_delay(16);
    /// assert_eq!(io.max_delay(), 16);
    /// ```
    pub fn with_max_delay(self, steps: u64) -> Self {
        lock(&self.inner.state).max_delay = steps;
        self
    }

    /// Makes every [`step`](IO::step) deliver exactly one operation, the
    /// oldest one pending, whatever delay was drawn for it (faults are
    /// still drawn from the seed).
    ///
    /// Delivery then follows issue order, one operation per step, so a
    /// caller that checks its completion after every step sees each
    /// operation it waits for unfinished at least once: every wait
    /// suspends, unless it waits for an operation issued before one it
    /// already waited for. This is the mode for hunting side effects placed
    /// before a suspension point; the default seeded order is the one for
    /// reordering.
    ///
    /// ```
    /// use io_model::{Completion, File, OpenFlags, IO};
    /// let io = io_model_backends::SimIO::new(1).one_at_a_time();
    /// assert!(io.is_one_at_a_time());
    /// let f = io.open_file("a", OpenFlags::CREATE)?;
    /// let first = f.sync(Completion::new_sync(|_| {}))?;
    /// let second = f.sync(Completion::new_sync(|_| {}))?;
    /// io.step()?;
    /// assert!(first.finished() && !second.finished());
    /// io.step()?;
    /// assert!(second.finished());
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn one_at_a_time(self) -> Self {
        lock(&self.inner.state).one_at_a_time = true;
        self
    }

    /// Whether each step delivers only the oldest pending operation (see
    /// [`one_at_a_time`](Self::one_at_a_time)).
    ///
    /// ```
    /// assert!(!io_model_backends::SimIO::new(1).is_one_at_a_time());
    /// ```
    pub fn is_one_at_a_time(&self) -> bool {
        lock(&self.inner.state).one_at_a_time
    }

    /// Keeps only the latest `entries` operations in the
    /// [trace](SimIO::trace) (all of them unless set; 0 records none). An
    /// unbounded trace grows with every operation, so a long simulation, or
    /// one that must not allocate once warm, bounds it. The run itself is
    /// the same whatever the limit.
    ///
    /// ```
    /// use io_model::{Completion, File, OpenFlags, IO};
    /// let io = io_model_backends::SimIO::new(1).with_trace_limit(2);
    /// let f = io.open_file("a", OpenFlags::CREATE).unwrap();
    /// for len in 1..=3 {
    ///     let _ = f.truncate(len, Completion::new_trunc(|_| {})).unwrap();
    /// }
    /// let offsets: Vec<u64> = io.trace().iter().map(|e| e.offset).collect();
    /// assert_eq!(offsets, [2, 3]);
    /// ```
    pub fn with_trace_limit(self, entries: usize) -> Self {
        {
            let mut st = lock(&self.inner.state);
            st.trace_limit = Some(entries);
            let excess = st.trace.len().saturating_sub(entries);
            st.trace.drain(..excess);
        }
        self
    }

    /// The seed this simulator was built with.
    ///
    /// ```
    /// assert_eq!(io_model_backends::SimIO::new(9).seed(), 9);
    /// ```
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The faults this simulator injects.
    ///
    /// ```
    /// assert_eq!(io_model_backends::SimIO::new(9).faults(), io_model_backends::Faults::none());
    /// ```
    pub fn faults(&self) -> Faults {
        lock(&self.inner.state).faults
    }

    /// Changes the faults injected from now on (for example, none while a
    /// test sets up its files).
    ///
    /// ```
    /// use io_model_backends::{Faults, SimIO};
    /// let io = SimIO::new(1);
    /// io.set_faults(Faults { write_error: 1.0, ..Faults::none() });
    /// assert_eq!(io.faults().write_error, 1.0);
    /// ```
    ///
    /// # Panics
    ///
    /// If a probability is outside `0.0..=1.0`.
    pub fn set_faults(&self, faults: Faults) {
        faults.check();
        lock(&self.inner.state).faults = faults;
    }

    /// The longest delay, in steps, before an operation is delivered.
    ///
    /// ```
    /// assert_eq!(io_model_backends::SimIO::new(1).max_delay(), 4);
    /// ```
    pub fn max_delay(&self) -> u64 {
        lock(&self.inner.state).max_delay
    }

    /// How many operations are issued and not yet delivered.
    ///
    /// ```
    /// use io_model::{Completion, File, OpenFlags, IO};
    /// let io = io_model_backends::SimIO::new(3);
    /// let f = io.open_file("a", OpenFlags::CREATE).unwrap();
    /// let c = f.sync(Completion::new_sync(|_| {})).unwrap();
    /// assert_eq!(io.pending(), 1);
    /// io.wait_for_completion(c).unwrap();
    /// assert_eq!(io.pending(), 0);
    /// ```
    pub fn pending(&self) -> usize {
        lock(&self.inner.state).pending.len()
    }

    /// Every operation issued so far, in issue order (the latest ones only,
    /// with [`with_trace_limit`](SimIO::with_trace_limit)).
    ///
    /// ```
    /// use io_model::{Completion, File, OpenFlags, IO};
    /// use io_model_backends::{OpKind, SimIO, TraceEntry};
    /// let io = SimIO::new(3);
    /// let f = io.open_file("a", OpenFlags::CREATE).unwrap();
    /// let _ = f.truncate(10, Completion::new_trunc(|_| {})).unwrap();
    /// assert_eq!(io.trace(), [TraceEntry { kind: OpKind::Truncate, file: "a".into(), offset: 10, len: 0 }]);
    /// ```
    pub fn trace(&self) -> Vec<TraceEntry> {
        lock(&self.inner.state)
            .trace
            .iter()
            .map(Record::entry)
            .collect()
    }

    /// Returns the trace so far and starts a new, empty one.
    ///
    /// ```
    /// let io = io_model_backends::SimIO::new(3);
    /// assert!(io.take_trace().is_empty());
    /// ```
    pub fn take_trace(&self) -> Vec<TraceEntry> {
        lock(&self.inner.state)
            .trace
            .drain(..)
            .map(|r| r.entry())
            .collect()
    }

    /// Simulates a power loss: every operation not yet delivered is lost
    /// (its completion is aborted), every file goes back to what its last
    /// completed sync made durable, and every open handle dies (its
    /// operations fail with `IOError(NotConnected)`). Reopen the files to
    /// carry on with their durable state. Names created or removed stay as
    /// they are.
    ///
    /// ```
    /// use io_model::{Buffer, Completion, File, OpenFlags, IO};
    /// use std::sync::Arc;
    /// let io = io_model_backends::SimIO::new(5);
    /// let f = io.open_file("db", OpenFlags::CREATE)?;
    /// let page = || Arc::new(Buffer::from_vec(vec![1; 8]));
    /// io.wait_for_completion(f.pwrite(0, page(), Completion::new_write(|_| {}))?)?;
    /// io.wait_for_completion(f.sync(Completion::new_sync(|_| {}))?)?;
    /// io.wait_for_completion(f.pwrite(8, page(), Completion::new_write(|_| {}))?)?;
    /// assert_eq!(f.size()?, 16);
    /// io.crash();
    /// assert!(f.size().is_err());
    /// assert_eq!(io.open_file("db", OpenFlags::NONE)?.size()?, 8); // the unsynced write is gone
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn crash(&self) {
        let lost: Vec<Completion> = {
            let mut st = lock(&self.inner.state);
            st.epoch += 1;
            for file in st.files.values_mut() {
                file.current = file.durable.clone();
                file.version += 1;
            }
            st.pending.drain(..).map(|p| p.c).collect()
        };
        for c in lost {
            c.abort();
        }
    }

    /// The current contents of the file at `path` (what a read would see),
    /// or `None` if there is no such file.
    ///
    /// ```
    /// let io = io_model_backends::SimIO::new(1);
    /// assert_eq!(io.contents("nope"), None);
    /// ```
    pub fn contents(&self, path: &str) -> Option<Vec<u8>> {
        let st = lock(&self.inner.state);
        let id = st.names.get(path)?;
        Some(st.files[id].current.clone())
    }

    /// The durable contents of the file at `path` (what would survive a
    /// [`crash`](Self::crash)), or `None` if there is no such file.
    ///
    /// ```
    /// use io_model::{IO, OpenFlags};
    /// let io = io_model_backends::SimIO::new(1);
    /// io.open_file("new", OpenFlags::CREATE).unwrap();
    /// assert_eq!(io.durable_contents("new"), Some(vec![]));
    /// ```
    pub fn durable_contents(&self, path: &str) -> Option<Vec<u8>> {
        let st = lock(&self.inner.state);
        let id = st.names.get(path)?;
        Some(st.files[id].durable.clone())
    }
}

impl fmt::Debug for SimIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.inner.state);
        f.debug_struct("SimIO")
            .field("seed", &self.inner.seed)
            .field("faults", &st.faults)
            .field("now", &st.now)
            .field("pending", &st.pending.len())
            .finish()
    }
}

impl State {
    /// Delivers one operation: applies its effect and returns its result.
    fn deliver(&mut self, p: &mut Pending) -> Result<i32, CompletionError> {
        let faults = self.faults;
        let rng = &mut self.rng;
        let mut draw = |p: f64| p > 0.0 && rng.chance(p);
        let file = p.file;
        match &mut p.op {
            PendingOp::Fail(err) => Err(*err),
            PendingOp::Read { pos } => {
                let buf =
                    p.c.read_buffer()
                        .expect("BUG: a pending read without a read completion");
                if draw(faults.read_error) {
                    return Err(INJECTED);
                }
                let short = draw(faults.short_read);
                let expected = buf.len();
                let data = &self.files[&file].current;
                let start = usize::try_from(*pos).unwrap_or(usize::MAX).min(data.len());
                let mut actual = (data.len() - start).min(expected);
                if short && expected > 0 {
                    actual = actual.min(self.rng.below(expected as u64) as usize);
                }
                buf.lock()[..actual].copy_from_slice(&data[start..start + actual]);
                if actual < expected {
                    return Err(CompletionError::ShortRead { expected, actual });
                }
                Ok(expected as i32)
            }
            PendingOp::Write { pos, buf } => {
                if draw(faults.write_error) {
                    return Err(INJECTED);
                }
                let torn = draw(faults.torn_write);
                let bytes = buf.lock();
                let landed = if torn && !bytes.is_empty() {
                    self.rng.below(bytes.len() as u64) as usize
                } else {
                    bytes.len()
                };
                let f = self
                    .files
                    .get_mut(&file)
                    .expect("BUG: pending op of an unknown file");
                let start = *pos as usize;
                if landed > 0 {
                    if f.current.len() < start + landed {
                        f.current.resize(start + landed, 0);
                    }
                    f.current[start..start + landed].copy_from_slice(&bytes[..landed]);
                }
                f.version += 1;
                if landed < bytes.len() {
                    return Err(CompletionError::ShortWrite);
                }
                Ok(bytes.len() as i32)
            }
            PendingOp::Sync { snapshot, version } => {
                if draw(faults.sync_error) {
                    return Err(INJECTED);
                }
                let f = self
                    .files
                    .get_mut(&file)
                    .expect("BUG: pending op of an unknown file");
                // Syncs may be delivered out of order: never go back to an
                // older image.
                if *version >= f.durable_version {
                    // The old durable image is the spare one now.
                    std::mem::swap(&mut f.durable, snapshot);
                    f.durable_version = *version;
                }
                Ok(0)
            }
            PendingOp::Truncate { len } => {
                let f = self
                    .files
                    .get_mut(&file)
                    .expect("BUG: pending op of an unknown file");
                f.current.resize(*len as usize, 0);
                f.version += 1;
                Ok(0)
            }
        }
    }
}

impl IO for SimIO {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let read_only = flags.contains(OpenFlags::READ_ONLY);
        if read_only && (flags.contains(OpenFlags::CREATE) || flags.contains(OpenFlags::TRUNCATE)) {
            // As open(2) through std: creating or truncating needs write access.
            return Err(Error::Io(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!("opening {path}: CREATE and TRUNCATE need a writable file, not READ_ONLY"),
            )));
        }
        let mut st = lock(&self.inner.state);
        let id = match st.names.get(path) {
            Some(&id) => id,
            None if flags.contains(OpenFlags::CREATE) => {
                let id = st.next_file;
                st.next_file += 1;
                st.files.insert(id, FileData::default());
                st.names.insert(path.to_owned(), id);
                id
            }
            None => {
                return Err(Error::Io(std::io::Error::new(
                    ErrorKind::NotFound,
                    format!("opening {path}: no such file in the simulator"),
                )))
            }
        };
        if flags.contains(OpenFlags::TRUNCATE) {
            let f = st.files.get_mut(&id).expect("BUG: a name without a file");
            f.current.clear();
            f.version += 1;
        }
        Ok(Arc::new(SimFile {
            io: Arc::downgrade(&self.inner),
            id,
            path: Arc::from(path),
            epoch: st.epoch,
            read_only,
            direct: flags.contains(OpenFlags::DIRECT),
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        let mut st = lock(&self.inner.state);
        // The data stays reachable through open handles, as on unix.
        match st.names.remove(path) {
            Some(_) => Ok(()),
            None => Err(Error::Io(std::io::Error::new(
                ErrorKind::NotFound,
                format!("removing {path}: no such file in the simulator"),
            ))),
        }
    }

    /// Advances the clock by one step (or to the next due operation, so a
    /// step with anything pending always delivers something) and delivers
    /// every due operation in an order drawn from the seed, then finishes
    /// their completions in that order. With
    /// [`one_at_a_time`](SimIO::one_at_a_time), delivers only the oldest
    /// pending operation.
    fn step(&self) -> Result<()> {
        let mut delivered = {
            let mut st = lock(&self.inner.state);
            if st.pending.is_empty() {
                return Ok(());
            }
            st.now += 1;
            let mut due = std::mem::take(&mut st.due);
            if st.one_at_a_time {
                // `pending` is in issue order.
                let oldest = st.pending.remove(0);
                due.push(oldest);
            } else {
                let next_due = st.pending.iter().map(|p| p.due).min().unwrap_or(st.now);
                st.now = st.now.max(next_due);
                let now = st.now;
                // Split `pending` into the due operations and the rest, both
                // in issue order, through the lists the last step left empty.
                let mut rest = std::mem::take(&mut st.rest);
                let mut pending = std::mem::take(&mut st.pending);
                for p in pending.drain(..) {
                    if p.due <= now {
                        due.push(p);
                    } else {
                        rest.push(p);
                    }
                }
                st.pending = rest;
                st.rest = pending;
                st.rng.shuffle(&mut due);
            }
            let mut out = std::mem::take(&mut st.delivered);
            for mut p in due.drain(..) {
                let res = st.deliver(&mut p);
                if let PendingOp::Sync { snapshot, .. } = &mut p.op {
                    if st.images.len() < IMAGES_KEPT {
                        st.images.push(std::mem::take(snapshot));
                    }
                }
                out.push((p.c, res));
            }
            st.due = due;
            st.in_delivery += out.len();
            out
        };
        let n = delivered.len();
        for (mut c, res) in delivered.drain(..) {
            c.finish(res);
        }
        let mut st = lock(&self.inner.state);
        st.in_delivery -= n;
        if st.delivered.capacity() < delivered.capacity() {
            st.delivered = delivered;
        }
        Ok(())
    }

    /// Steps until `c` has finished. Where nothing is pending and `c` has
    /// not finished, it never will on this backend: that is an
    /// `InvalidArgument` error rather than a hang.
    fn wait_for_completion(&self, c: Completion) -> Result<()> {
        while !c.finished() {
            {
                let st = lock(&self.inner.state);
                if st.pending.is_empty() && st.in_delivery == 0 && !c.finished() {
                    return Err(Error::InvalidArgument(
                        "SimIO::wait_for_completion: the completion is not pending on this simulator, so it would never finish".into(),
                    ));
                }
            }
            self.step()?;
        }
        match c.get_error() {
            Some(err) => Err(Error::Completion(err)),
            None => Ok(()),
        }
    }
}

/// A file of [`SimIO`].
struct SimFile {
    io: Weak<Inner>,
    id: u64,
    path: Arc<str>,
    epoch: u64,
    read_only: bool,
    direct: bool,
}

impl SimFile {
    /// Records the operation and queues it for delivery.
    fn issue(
        &self,
        kind: OpKind,
        offset: u64,
        len: u64,
        c: Completion,
        op: PendingOp,
    ) -> Completion {
        let Some(inner) = self.io.upgrade() else {
            // No simulator left to deliver anything.
            c.error(DEAD_HANDLE);
            return c;
        };
        let mut st = lock(&inner.state);
        if st.trace_limit != Some(0) {
            if st.trace_limit == Some(st.trace.len()) {
                st.trace.pop_front();
            }
            st.trace.push_back(Record {
                kind,
                file: self.path.clone(),
                offset,
                len,
            });
        }
        let op = if st.epoch != self.epoch {
            PendingOp::Fail(DEAD_HANDLE)
        } else {
            op
        };
        let op = match op {
            PendingOp::Sync { .. } => {
                let mut snapshot = st.images.pop().unwrap_or_default();
                let f = &st.files[&self.id];
                snapshot.clone_from(&f.current);
                PendingOp::Sync {
                    snapshot,
                    version: f.version,
                }
            }
            op => op,
        };
        let delay = st.max_delay;
        let due = st.now
            + 1
            + if delay > 0 {
                st.rng.below(delay + 1)
            } else {
                0
            };
        st.pending.push(Pending {
            due,
            c: c.clone(),
            file: self.id,
            op,
        });
        c
    }

    /// `InvalidInput` unless an `O_DIRECT` transfer is aligned.
    fn check_direct(&self, pos: u64, buf: &Buffer) -> Option<PendingOp> {
        let aligned = pos % DIRECT_ALIGN == 0
            && buf.len() as u64 % DIRECT_ALIGN == 0
            && buf.as_mut_ptr() as u64 % DIRECT_ALIGN == 0;
        (self.direct && !aligned).then_some(PendingOp::Fail(CompletionError::IOError(
            ErrorKind::InvalidInput,
        )))
    }
}

impl File for SimFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion> {
        let (len, op) = match sys::check_read(pos, &c) {
            Ok(buf) => (
                buf.len() as u64,
                self.check_direct(pos, buf)
                    .unwrap_or(PendingOp::Read { pos }),
            ),
            Err(what) => return sys::refuse(c, what),
        };
        Ok(self.issue(OpKind::Read, pos, len, c, op))
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        if let Err(what) = sys::check_range(pos, buf.len()) {
            return sys::refuse(c, what);
        }
        let len = buf.len() as u64;
        let op = if self.read_only {
            PendingOp::Fail(sys::READ_ONLY)
        } else if pos + len > MAX_FILE {
            PendingOp::Fail(TOO_LARGE)
        } else {
            self.check_direct(pos, &buf)
                .unwrap_or(PendingOp::Write { pos, buf })
        };
        Ok(self.issue(OpKind::Write, pos, len, c, op))
    }

    fn sync(&self, c: Completion) -> Result<Completion> {
        let op = PendingOp::Sync {
            snapshot: Vec::new(),
            version: 0,
        };
        Ok(self.issue(OpKind::Sync, 0, 0, c, op))
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        if let Err(what) = sys::check_len(len) {
            return sys::refuse(c, what);
        }
        let op = if self.read_only {
            PendingOp::Fail(sys::READ_ONLY)
        } else if len > MAX_FILE {
            PendingOp::Fail(TOO_LARGE)
        } else {
            PendingOp::Truncate { len }
        };
        Ok(self.issue(OpKind::Truncate, len, 0, c, op))
    }

    fn size(&self) -> Result<u64> {
        let dead = || {
            Error::Io(std::io::Error::new(
                ErrorKind::NotConnected,
                format!(
                    "{}: handle opened before a crash, or its SimIO is gone; reopen the file",
                    self.path
                ),
            ))
        };
        let inner = self.io.upgrade().ok_or_else(dead)?;
        let st = lock(&inner.state);
        if st.epoch != self.epoch {
            return Err(dead());
        }
        Ok(st.files[&self.id].current.len() as u64)
    }
}
