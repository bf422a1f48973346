//! [`UringIO`]: the io_uring backend (Linux).
//!
//! Requests wait in the ring's deferred list and are sent to the kernel in
//! batches: [`IO::step`] submits everything issued since the last step and
//! reaps with one `io_uring_enter`. Short reads and writes are resubmitted
//! for the rest, and every buffer is kept alive until the kernel's
//! completion for it has been reaped; dropping a `UringIO` waits for what is
//! in flight.
//!
//! The ring pays off when one submission carries several operations, or
//! when the data is not in the page cache. For one operation at a time, and
//! for cached reads, a plain system call is often cheaper; so the default
//! serves an operation inline where that is the faster choice: a lone
//! operation that `step` finds in the ring runs as a system call, and reads
//! of cached data are inline unless the caller batches and the ring proved
//! faster ([`InlineReads::Adaptive`]). The policy lives in `uring/policy.rs`.

mod policy;
mod registry;
mod ring;

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use io_model::{Buffer, Completion, CompletionError, Error, File, OpenFlags, Result, IO};

use self::policy::{Batching, Chooser, Estimator, Path, Plan};
use self::registry::{FileFd, Files};
use self::ring::{build_ring, Finished, Op, OpKind, Ring};
use crate::sys;

/// How reads use the page cache and the ring.
///
/// Measured on one machine (`cargo run --release -p io-model-backends
/// --example bench_uring`, Linux 6.18, 2 vCPUs, cached 4 KiB reads, CPU time
/// per read): a ring round trip for one read costs about 1.3 times a
/// `pread(2)`, and `preadv2(RWF_NOWAIT)` a little more than `pread`. With
/// 32 or 128 reads per submission the kernel's cost per read is about that
/// of `pread`, so whether the ring wins depends on the system-call cost of
/// the CPU and kernel and on the work the ring adds in user space; hence
/// [`Adaptive`](InlineReads::Adaptive) measures it.
///
/// ```
/// use io_model_backends::{InlineReads, UringOptions};
/// let opts = UringOptions::default().inline_reads(InlineReads::Never);
/// assert_eq!(opts.get_inline_reads(), InlineReads::Never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InlineReads {
    /// Every read goes through the ring, a lone one too.
    Never,
    /// A read on an idle ring first tries `preadv2(RWF_NOWAIT)`, which
    /// copies from the page cache or fails at once with `EAGAIN`; only
    /// misses go to the ring. It never blocks. While most attempts miss,
    /// reads go straight to the ring, and one in 16 tries the cache again.
    /// Reads join the ring while it is busy or the caller batches (see
    /// [`Adaptive`](InlineReads::Adaptive)).
    NoWait,
    /// The default: a read goes where it is served fastest.
    ///
    /// - One at a time: while nearly every sampled attempt hits the page
    ///   cache (over 98%), a read is a plain `pread(2)`, the cost of
    ///   `SyncIO`. One read in 16 to 128 (the longer the cache stays hot,
    ///   the rarer) is sampled with `RWF_NOWAIT`, and one sampled miss ends
    ///   the hot state; then reads try `RWF_NOWAIT` and misses go to the
    ///   ring, as with [`NoWait`](InlineReads::NoWait).
    /// - In batches: one read in 16 to 256 goes to the ring as a probe. If
    ///   the caller issues more before it steps, they join it, and from then
    ///   on the caller counts as batching: reads join the ring, where one
    ///   submission carries them all. If it steps at once, the probe is
    ///   alone in the ring and `step` serves it with a plain system call.
    ///   Four lone submissions in a row end batching.
    /// - While batching, hot cached reads are compared: the ring and inline
    ///   `pread`s take turns for three epochs of 256 reads each, timed, and
    ///   the faster (the ring only by a margin of 3%) serves the next 64
    ///   epochs. [`UringStats::batched_reads_in_ring`] says which won.
    ///
    /// The trade-off of inline reads: a read of data that has left the
    /// cache since the last sample blocks the caller for the disk's latency
    /// instead of being queued; at most 127 reads in a row do so before a
    /// sample sees the miss. A caller that waits for its read at once, the
    /// common case at queue depth 1, loses nothing by it.
    #[default]
    Adaptive,
}

/// How a ring was set up: the best the kernel accepted of the setups
/// [`UringIO`] tries, in this order.
///
/// ```
/// assert_eq!(io_model_backends::RingSetup::Plain.to_string(), "plain");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RingSetup {
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN` (Linux
    /// 6.1+): completions are processed only when the owner thread enters
    /// the ring, with no interrupts in between. The ring is bound to one
    /// thread (see [`UringIO`]).
    DeferTaskrun,
    /// `IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN |
    /// IORING_SETUP_TASKRUN_FLAG` (Linux 6.0+). Bound to one thread too.
    CoopTaskrun,
    /// No setup flags: any thread may submit and reap.
    Plain,
}

impl fmt::Display for RingSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RingSetup::DeferTaskrun => "SINGLE_ISSUER|DEFER_TASKRUN",
            RingSetup::CoopTaskrun => "SINGLE_ISSUER|COOP_TASKRUN",
            RingSetup::Plain => "plain",
        })
    }
}

/// Settings of a [`UringIO`]; the defaults suit most uses.
///
/// ```
/// use io_model_backends::UringOptions;
/// let opts = UringOptions::default().entries(64).register_buffers(false);
/// assert_eq!(opts.get_entries(), 64);
/// ```
#[derive(Debug, Clone)]
pub struct UringOptions {
    entries: u32,
    single_issuer: bool,
    register_files: bool,
    file_slots: u32,
    register_buffers: bool,
    buffer_slots: u16,
    buffer_budget: usize,
    inline_reads: InlineReads,
    inline_lone: bool,
    split: Option<u32>,
}

impl Default for UringOptions {
    fn default() -> Self {
        Self {
            entries: 256,
            single_issuer: true,
            register_files: true,
            file_slots: 1024,
            register_buffers: true,
            buffer_slots: 1024,
            buffer_budget: 8 << 20,
            inline_reads: InlineReads::Adaptive,
            inline_lone: true,
            split: None,
        }
    }
}

impl UringOptions {
    /// Submission queue entries (a power of two is best; the kernel rounds
    /// up), 1 to 32768; 256 by default. The completion queue is twice as
    /// large, and at most that many operations are in the ring at once:
    /// more wait for room.
    ///
    /// ```
    /// assert_eq!(io_model_backends::UringOptions::default().get_entries(), 256);
    /// ```
    pub fn entries(mut self, entries: u32) -> Self {
        self.entries = entries;
        self
    }

    /// The submission queue size asked for.
    ///
    /// ```
    /// assert_eq!(io_model_backends::UringOptions::default().entries(8).get_entries(), 8);
    /// ```
    pub fn get_entries(&self) -> u32 {
        self.entries
    }

    /// Whether to try the single-issuer setups first (`true` by default);
    /// `false` asks for a [plain](RingSetup::Plain) ring that any thread
    /// may drive.
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().single_issuer(false);
    /// ```
    pub fn single_issuer(mut self, yes: bool) -> Self {
        self.single_issuer = yes;
        self
    }

    /// Whether to register open files with the ring (`true` by default;
    /// files fall back to plain descriptors where the kernel refuses).
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().register_files(false);
    /// ```
    pub fn register_files(mut self, yes: bool) -> Self {
        self.register_files = yes;
        self
    }

    /// The size of the registered-file table (1024 by default). Files
    /// opened while every slot is taken use plain descriptors; a dropped
    /// file frees its slot.
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().file_slots(64);
    /// ```
    pub fn file_slots(mut self, slots: u32) -> Self {
        self.file_slots = slots;
        self
    }

    /// Whether to register buffers with the ring (`true` by default). A
    /// buffer is registered the second time it is used, while fewer than
    /// 1024 are and their total size is within the
    /// [budget](Self::buffer_budget); registration that fails (memlock
    /// limit) stops growing the set, and I/O carries on with plain buffers.
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().register_buffers(false);
    /// ```
    pub fn register_buffers(mut self, yes: bool) -> Self {
        self.register_buffers = yes;
        self
    }

    /// The most bytes of buffers registered at once (8 MiB by default).
    /// The ring holds a reference to each registered buffer, so up to this
    /// much memory of buffers the caller dropped may stay allocated until
    /// the ring needs the room or is dropped.
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().buffer_budget(1 << 20);
    /// ```
    pub fn buffer_budget(mut self, bytes: usize) -> Self {
        self.buffer_budget = bytes;
        self
    }

    /// How reads use the page cache before the ring
    /// ([`InlineReads::Adaptive`] by default).
    ///
    /// ```
    /// use io_model_backends::{InlineReads, UringOptions};
    /// let opts = UringOptions::default().inline_reads(InlineReads::NoWait);
    /// ```
    pub fn inline_reads(mut self, mode: InlineReads) -> Self {
        self.inline_reads = mode;
        self
    }

    /// The inline-read policy.
    ///
    /// ```
    /// use io_model_backends::{InlineReads, UringOptions};
    /// assert_eq!(UringOptions::default().get_inline_reads(), InlineReads::Adaptive);
    /// ```
    pub fn get_inline_reads(&self) -> InlineReads {
        self.inline_reads
    }

    /// Whether `step` runs a write, sync or truncation that it finds alone
    /// in the ring (issued since the last submission, nothing else in
    /// flight) as a plain system call instead of a ring round trip (`true`
    /// by default). The caller is waiting for it either way, and for one
    /// operation the system call is cheaper. Lone reads follow
    /// [`InlineReads`]: all but [`Never`](InlineReads::Never) run them
    /// inline.
    ///
    /// ```
    /// let opts = io_model_backends::UringOptions::default().inline_lone_ops(false);
    /// assert!(!opts.get_inline_lone_ops());
    /// ```
    pub fn inline_lone_ops(mut self, yes: bool) -> Self {
        self.inline_lone = yes;
        self
    }

    /// Whether lone writes, syncs and truncations run inline.
    ///
    /// ```
    /// assert!(io_model_backends::UringOptions::default().get_inline_lone_ops());
    /// ```
    pub fn get_inline_lone_ops(&self) -> bool {
        self.inline_lone
    }

    /// Testing aid: submit reads and writes in SQEs of at most `bytes`
    /// bytes, so that every longer transfer comes back short from the
    /// kernel and exercises resubmission.
    #[doc(hidden)]
    pub fn split_transfers(mut self, bytes: u32) -> Self {
        self.split = Some(bytes.max(1));
        self
    }
}

/// What a [`UringIO`] got from the kernel.
///
/// ```no_run
/// let io = io_model_backends::UringIO::new()?;
/// println!("{}", io.info()); // e.g. "io_uring: SINGLE_ISSUER|DEFER_TASKRUN, 256 SQ / 512 CQ entries, ..."
/// # Ok::<(), io_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UringInfo {
    /// The setup flags the kernel accepted.
    pub setup: RingSetup,
    /// Submission queue entries.
    pub sq_entries: u32,
    /// Completion queue entries.
    pub cq_entries: u32,
    /// Whether files are registered with the ring.
    pub registered_files: bool,
    /// Whether buffers are registered with the ring (a table exists).
    pub registered_buffers: bool,
    /// How many buffers are registered right now.
    pub buffers_in_table: usize,
    /// Whether truncation is an io_uring operation (`IORING_OP_FTRUNCATE`,
    /// Linux 6.9+); otherwise it is an inline `ftruncate(2)`.
    pub ftruncate_op: bool,
    /// The inline-read policy.
    pub inline_reads: InlineReads,
}

impl fmt::Display for UringInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        write!(
            f,
            "io_uring: {}, {} SQ / {} CQ entries, registered files: {}, registered buffers: {}, ftruncate op: {}, inline reads: {:?}",
            self.setup,
            self.sq_entries,
            self.cq_entries,
            yes(self.registered_files),
            yes(self.registered_buffers),
            yes(self.ftruncate_op),
            self.inline_reads
        )
    }
}

/// Counters of where a [`UringIO`]'s operations went, since it was
/// created (approximate when several threads issue at once).
///
/// ```no_run
/// let io = io_model_backends::UringIO::new()?;
/// let stats = io.stats();
/// assert_eq!(stats.ring_ops, 0);
/// # Ok::<(), io_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UringStats {
    /// Reads served inline by a plain `pread(2)` ([`InlineReads::Adaptive`]).
    pub reads_pread: u64,
    /// Reads served inline by `preadv2(RWF_NOWAIT)` from the page cache.
    pub reads_nowait: u64,
    /// `RWF_NOWAIT` attempts that found the data not cached (then read
    /// through the ring).
    pub nowait_misses: u64,
    /// Operations added to the ring.
    pub ring_ops: u64,
    /// Operations run as blocking system calls because the ring could not
    /// take them (bound to another thread with I/O in flight, or failing).
    pub blocking_fallbacks: u64,
    /// Ring operations that `step` found alone and ran as plain system
    /// calls instead (included in `ring_ops`).
    pub lone_inline: u64,
    /// Whether the last comparison found the ring faster than inline reads
    /// for cached reads issued in batches (see [`InlineReads::Adaptive`]).
    pub batched_reads_in_ring: bool,
}

impl fmt::Display for UringStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} reads by pread, {} by RWF_NOWAIT ({} misses), {} ring operations ({} alone, run inline), {} blocking fallbacks; batched cached reads: {}",
            self.reads_pread,
            self.reads_nowait,
            self.nowait_misses,
            self.ring_ops,
            self.lone_inline,
            self.blocking_fallbacks,
            if self.batched_reads_in_ring { "ring" } else { "inline" }
        )
    }
}

#[derive(Default)]
struct Stats {
    reads_pread: AtomicU64,
    reads_nowait: AtomicU64,
    nowait_misses: AtomicU64,
    ring_ops: AtomicU64,
    blocking_fallbacks: AtomicU64,
    lone_inline: AtomicU64,
}

/// Counts one event. A relaxed load and store rather than an atomic add:
/// these counters sit on the inline-read path, where a locked instruction
/// is a measurable share of a cached read; threads racing on the same
/// counter may lose a count.
fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// The io_uring backend.
///
/// - One ring per `UringIO`, [`UringOptions::entries`] deep. It is set up
///   with `SINGLE_ISSUER | DEFER_TASKRUN` where the kernel accepts it, else
///   `SINGLE_ISSUER | COOP_TASKRUN`, else plain ([`UringInfo::setup`]). No
///   SQPOLL.
/// - Requests are queued and submitted in batches by [`step`](IO::step),
///   which submits and reaps with one `io_uring_enter`; as many as the
///   submission queue holds go per call, the rest wait, never dropped. A
///   lone request (nothing else in the ring) runs as a plain system call
///   in `step` instead ([`UringOptions::inline_lone_ops`]).
/// - Short reads and writes are resubmitted for the rest; a read reports
///   [`CompletionError::ShortRead`] only where the file ends first.
/// - Every buffer stays alive until its completion is reaped. Dropping a
///   `UringIO` waits for everything in flight first (completions then
///   finish with their results); if it cannot (the ring failed, or it is
///   dropped on a thread other than the one the ring is bound to), it leaks
///   those buffers rather than free memory the kernel may still write.
/// - Files and buffers are registered with the ring where the kernel
///   allows, and used as plain descriptors and addresses where not.
/// - [`OpenFlags::DIRECT`] opens with `O_DIRECT`; use aligned buffers
///   ([`Buffer::new_page`], [`Buffer::new_aligned`]).
/// - Reads of cached data are served inline where that is faster (see
///   [`InlineReads`]).
/// - Once warm, issuing and finishing I/O allocates nothing: the ring's
///   lists are sized to the completion queue when it is built.
///
/// Threads: a single-issuer ring belongs to one thread at a time, the one
/// that created it. Another thread that finds it idle takes it over (the
/// ring is rebuilt, about as costly as [`UringIO::new`]); a request from
/// another thread while the owner has I/O in flight runs as a blocking
/// system call instead, and that thread's `step` only finishes what the
/// owner reaped. Use [`UringOptions::single_issuer`]`(false)` for a ring
/// that threads share freely.
///
/// ```no_run
/// use io_model::{Buffer, Completion, File, OpenFlags, IO};
/// use io_model_backends::UringIO;
/// use std::sync::Arc;
///
/// let io = UringIO::new()?; // Err(Error::Unsupported(..)) where io_uring is refused
/// let file = io.open_file("/tmp/uring-doc.db", OpenFlags::CREATE)?;
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(vec![1; 4096])), Completion::new_write(|_| {}))?;
/// io.wait_for_completion(w)?; // submits, waits and reaps
/// let r = file.pread(0, Completion::new_read(Arc::new(Buffer::new_page()), |_| {}))?;
/// io.wait_for_completion(r.clone())?;
/// assert_eq!(r.read_buffer().unwrap().lock()[0], 1);
/// # Ok::<(), io_model::Error>(())
/// ```
pub struct UringIO {
    shared: Arc<Shared>,
}

/// What the backend and its files share. Files hold it weakly: once the
/// `UringIO` is dropped, their operations fail.
struct Shared {
    ring: Mutex<Ring>,
    files: Arc<Files>,
    hot: Arc<Hot>,
}

/// What the inline-read path needs, held strongly by every file so that a
/// cached read takes no lock and no reference count.
struct Hot {
    /// Operations in the ring, for the lock-free idle test of inline reads.
    in_ring: AtomicUsize,
    /// Set when the `UringIO` is dropped.
    closed: AtomicBool,
    estimator: Estimator,
    batching: Batching,
    chooser: Chooser,
    stats: Stats,
    inline_reads: InlineReads,
}

/// The error of an operation on a file whose `UringIO` was dropped.
const BACKEND_GONE: CompletionError = CompletionError::IOError(io::ErrorKind::NotConnected);

/// The error of a ring the kernel refused: which call failed, the OS
/// error, and its usual cause.
fn refused(call: &str, err: &io::Error) -> Error {
    let cause = match err.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            "; the kernel.io_uring_disabled sysctl, a seccomp filter or a container policy forbids it"
        }
        Some(libc::ENOSYS) => {
            "; the kernel has no io_uring (Linux 5.6+ built with CONFIG_IO_URING is needed), or a seccomp filter hides it"
        }
        Some(libc::ENOMEM) => "; out of locked memory for the ring: raise RLIMIT_MEMLOCK or ask for fewer entries",
        _ => "",
    };
    Error::Unsupported(format!("io_uring refused: {call} failed: {err}{cause}"))
}

impl UringIO {
    /// A backend with the default [`UringOptions`].
    ///
    /// Fails with [`Error::Unsupported`]`("io_uring refused: <reason>")`
    /// where the kernel lacks io_uring or a sysctl, seccomp filter or
    /// container policy refuses it (the new ring is tested with a NOP round
    /// trip, since some filters allow the setup call and refuse the rest).
    ///
    /// ```no_run
    /// match io_model_backends::UringIO::new() {
    ///     Ok(io) => println!("{}", io.info()),
    ///     Err(err) => println!("no io_uring here: {err}"),
    /// }
    /// ```
    pub fn new() -> Result<Self> {
        Self::with_options(UringOptions::default())
    }

    /// A backend with `opts`. Errors as [`new`](Self::new), and
    /// [`Error::InvalidArgument`] for entries outside 1..=32768.
    ///
    /// ```no_run
    /// use io_model_backends::{UringIO, UringOptions};
    /// let io = UringIO::with_options(UringOptions::default().entries(32))?;
    /// assert_eq!(io.info().sq_entries, 32);
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn with_options(opts: UringOptions) -> Result<Self> {
        if !(1..=32768).contains(&opts.entries) {
            return Err(Error::InvalidArgument(format!(
                "UringOptions::entries is {}, not in 1..=32768",
                opts.entries
            )));
        }
        let first = if opts.single_issuer {
            RingSetup::DeferTaskrun
        } else {
            RingSetup::Plain
        };
        let (ring, setup) =
            build_ring(&opts, first).map_err(|err| refused("io_uring_setup", &err))?;
        let files = Arc::new(Files::new(opts.file_slots));
        let ring = Ring::new(ring, setup, opts.clone(), &files)
            .map_err(|(call, err)| refused(call, &err))?;
        Ok(Self {
            shared: Arc::new(Shared {
                ring: Mutex::new(ring),
                files,
                hot: Arc::new(Hot {
                    in_ring: AtomicUsize::new(0),
                    closed: AtomicBool::new(false),
                    estimator: Estimator::new(),
                    batching: Batching::new(),
                    chooser: Chooser::new(),
                    stats: Stats::default(),
                    inline_reads: opts.inline_reads,
                }),
            }),
        })
    }

    /// What the kernel accepted, and the registrations in use.
    ///
    /// ```no_run
    /// let io = io_model_backends::UringIO::new()?;
    /// println!("{}", io.info());
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn info(&self) -> UringInfo {
        let ring = self.shared.lock();
        UringInfo {
            setup: ring.setup,
            sq_entries: ring.entries().0,
            cq_entries: ring.entries().1,
            registered_files: ring.files_registered,
            registered_buffers: ring.buffers_registered(),
            buffers_in_table: ring.registered_buffers(),
            ftruncate_op: ring.has_ftruncate,
            inline_reads: self.shared.hot.inline_reads,
        }
    }

    /// How many operations are in the ring: queued, in flight in the
    /// kernel, or waiting to be resubmitted. Operations reaped but whose
    /// completions the next [`step`](IO::step) finishes are not counted.
    ///
    /// ```no_run
    /// let io = io_model_backends::UringIO::new()?;
    /// assert_eq!(io.in_flight(), 0);
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn in_flight(&self) -> usize {
        self.shared.lock().len()
    }

    /// Where operations went so far: inline reads, ring operations,
    /// blocking fallbacks.
    ///
    /// ```no_run
    /// let io = io_model_backends::UringIO::new()?;
    /// println!("{}", io.stats());
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn stats(&self) -> UringStats {
        let s = &self.shared.hot.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        UringStats {
            reads_pread: get(&s.reads_pread),
            reads_nowait: get(&s.reads_nowait),
            nowait_misses: get(&s.nowait_misses),
            ring_ops: get(&s.ring_ops),
            blocking_fallbacks: get(&s.blocking_fallbacks),
            lone_inline: get(&s.lone_inline),
            batched_reads_in_ring: self.shared.hot.chooser.choice() == Path::Ring,
        }
    }
}

impl fmt::Debug for UringIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UringIO")
            .field("info", &self.info())
            .finish()
    }
}

impl Drop for UringIO {
    fn drop(&mut self) {
        let ready = {
            let mut ring = self.shared.lock();
            ring.closed = true;
            self.shared.hot.closed.store(true, Ordering::Relaxed);
            // Waits for everything in flight. If that is impossible here,
            // `Ring::drop` leaks what is left when the last file lets go.
            ring.drain();
            std::mem::take(&mut ring.ready)
        };
        self.shared.hot.in_ring.store(0, Ordering::Relaxed);
        for finished in ready {
            finished.finish();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `op` to the ring, or runs it as a blocking call where the ring
    /// cannot take it (bound to another thread that has I/O in flight, or
    /// failing). Never fails the operation for the ring's sake.
    fn submit(&self, op: Op) -> Completion {
        let c = op.c.clone();
        let mut ring = self.lock();
        if ring.closed {
            drop(ring);
            c.error(BACKEND_GONE);
            return c;
        }
        if !ring.usable_here(&self.files) {
            drop(ring);
            bump(&self.hot.stats.blocking_fallbacks);
            op.run_blocking();
            return c;
        }
        ring.release_file_slots(&self.files);
        let res = ring.push(op);
        self.hot.in_ring.store(ring.len(), Ordering::Relaxed);
        drop(ring);
        match res {
            Ok(()) => bump(&self.hot.stats.ring_ops),
            Err((op, _err)) => {
                bump(&self.hot.stats.blocking_fallbacks);
                op.run_blocking();
            }
        }
        c
    }
}

impl IO for UringIO {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let file = sys::open(path, flags)?;
        let slot = {
            let mut ring = self.shared.lock();
            if ring.usable_here(&self.shared.files) {
                ring.release_file_slots(&self.shared.files);
                ring.register_file(&self.shared.files, file.as_raw_fd())
            } else {
                None
            }
        };
        Ok(Arc::new(UringFile {
            fd: Arc::new(FileFd {
                file,
                slot,
                table: self.shared.files.clone(),
            }),
            io: Arc::downgrade(&self.shared),
            hot: self.shared.hot.clone(),
            read_only: flags.contains(OpenFlags::READ_ONLY),
            direct: flags.contains(OpenFlags::DIRECT),
            nowait: AtomicBool::new(true),
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        std::fs::remove_file(path).map_err(|err| {
            Error::Io(io::Error::new(
                err.kind(),
                format!("removing {path}: {err}"),
            ))
        })
    }

    /// Submits what is queued and finishes what the kernel has completed,
    /// with one `io_uring_enter`: it waits for at least one completion if
    /// operations are in flight and none is ready yet. Returns at once when
    /// nothing is in flight.
    fn step(&self) -> Result<()> {
        // The reaped operations are finished outside the ring lock, from a
        // list this thread keeps: the ring's ready list and it trade places,
        // so neither is ever grown again once warm.
        let hot = &*self.shared.hot;
        let mut lone = None;
        let mut ready = {
            let mut ring = self.shared.lock();
            if ring.len() == 0 && ring.ready.is_empty() {
                // Nothing to submit or reap: no system call.
                return Ok(());
            }
            if ring.usable_here(&self.shared.files) {
                ring.release_file_slots(&self.shared.files);
                let issued = ring.deferred();
                if issued > 0 {
                    hot.batching.record(issued);
                }
                // One operation and nothing else: a plain system call is
                // cheaper than a ring round trip, and the caller waits for
                // it either way.
                lone = ring.take_lone();
                let res = match (&lone, ring.ready.is_empty()) {
                    (Some(_), _) => Ok(()),
                    (None, true) => ring.pump(1),
                    (None, false) => ring.poll(),
                };
                hot.in_ring.store(ring.len(), Ordering::Relaxed);
                res?;
            } else if ring.ready.is_empty() {
                // Bound to another thread that has I/O in flight: only it
                // can reap. Let it run.
                drop(ring);
                std::thread::yield_now();
                return Ok(());
            }
            let mut spare = SPARE_READY.take();
            if spare.capacity() < ring.ready.capacity() {
                // Once per thread (and ring size): the lists trade places.
                spare.reserve_exact(ring.ready.capacity());
            }
            std::mem::replace(&mut ring.ready, spare)
        };
        if let Some(op) = lone {
            bump(&hot.stats.lone_inline);
            op.run_blocking();
        }
        for finished in ready.drain(..) {
            finished.finish();
        }
        SPARE_READY.set(ready);
        Ok(())
    }
}

thread_local! {
    /// The list a thread's `step` finishes reaped operations from (see
    /// [`UringIO::step`](IO::step)).
    static SPARE_READY: std::cell::Cell<Vec<Finished>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A file of [`UringIO`].
struct UringFile {
    fd: Arc<FileFd>,
    io: Weak<Shared>,
    hot: Arc<Hot>,
    read_only: bool,
    direct: bool,
    /// Cleared where the file system does not support `RWF_NOWAIT`.
    nowait: AtomicBool,
}

/// What `preadv2(RWF_NOWAIT)` did.
enum NoWait {
    /// Read this many bytes (0: the read starts at or past the end).
    Read(usize),
    /// Nothing cached at `pos`.
    Miss,
    /// The file system does not support `RWF_NOWAIT`.
    Unsupported,
    Failed(i32),
}

fn read_nowait(file: &std::fs::File, bytes: &mut [u8], pos: u64) -> NoWait {
    let iov = libc::iovec {
        iov_base: bytes.as_mut_ptr().cast(),
        iov_len: bytes.len(),
    };
    loop {
        // SAFETY: `bytes` is borrowed mutably (through the buffer's lock
        // guard, held by the caller) for the whole call, and the kernel
        // does not keep the address once preadv2 returns. The descriptor is
        // open: `file` is borrowed.
        let n = unsafe {
            libc::preadv2(
                file.as_raw_fd(),
                &iov,
                1,
                pos as libc::off_t,
                libc::RWF_NOWAIT,
            )
        };
        if n >= 0 {
            return NoWait::Read(n as usize);
        }
        match io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO)
        {
            libc::EINTR => continue,
            libc::EAGAIN => return NoWait::Miss,
            libc::EOPNOTSUPP | libc::ENOSYS => return NoWait::Unsupported,
            errno => return NoWait::Failed(errno),
        }
    }
}

impl UringFile {
    fn shared(&self, c: &Completion) -> Option<Arc<Shared>> {
        let shared = self.io.upgrade();
        if shared.is_none() {
            c.error(BACKEND_GONE);
        }
        shared
    }

    fn op(&self, c: Completion, kind: OpKind, pos: u64, len: usize, done: usize) -> Op {
        Op {
            c,
            kind,
            file: self.fd.clone(),
            pos,
            len,
            done,
            stalls: 0,
        }
    }
}

/// The buffer of a read completion that `sys::check_read` accepted.
fn read_buffer(c: &Completion) -> &Arc<Buffer> {
    c.read_buffer()
        .expect("BUG: a read completion without its buffer")
}

impl File for UringFile {
    fn pread(&self, pos: u64, mut c: Completion) -> Result<Completion> {
        let len = match sys::check_read(pos, &c) {
            Ok(buf) => buf.len(),
            Err(what) => return sys::refuse(c, what),
        };
        if len == 0 {
            c.finish(Ok(0));
            return Ok(c);
        }
        let hot = &*self.hot;
        if hot.closed.load(Ordering::Relaxed) {
            c.finish(Err(BACKEND_GONE));
            return Ok(c);
        }
        let mut done = 0;
        if !self.direct && self.nowait.load(Ordering::Relaxed) {
            let busy = hot.in_ring.load(Ordering::Relaxed) != 0;
            match hot
                .estimator
                .plan(hot.inline_reads, busy, &hot.batching, &hot.chooser)
            {
                Plan::Ring => {}
                Plan::Blocking => {
                    bump(&hot.stats.reads_pread);
                    let res = sys::read_full(&self.fd.file, &mut read_buffer(&c).lock(), pos);
                    c.finish(res.and_then(|actual| match actual < len {
                        true => Err(CompletionError::ShortRead {
                            expected: len,
                            actual,
                        }),
                        false => Ok(len as i32),
                    }));
                    return Ok(c);
                }
                Plan::NoWait => {
                    let res = read_nowait(&self.fd.file, &mut read_buffer(&c).lock(), pos);
                    match res {
                        NoWait::Read(n) if n == len => {
                            hot.estimator.record(true);
                            bump(&hot.stats.reads_nowait);
                            c.finish(Ok(len as i32));
                            return Ok(c);
                        }
                        NoWait::Read(0) => {
                            // At or past the end of the file.
                            c.finish(Err(CompletionError::ShortRead {
                                expected: len,
                                actual: 0,
                            }));
                            return Ok(c);
                        }
                        // Partly cached, or the file ends inside the
                        // range: the ring reads the rest (and finds out).
                        NoWait::Read(n) => done = n,
                        NoWait::Miss => {
                            hot.estimator.record(false);
                            bump(&hot.stats.nowait_misses);
                        }
                        NoWait::Unsupported => self.nowait.store(false, Ordering::Relaxed),
                        NoWait::Failed(errno) => {
                            c.finish(Err(sys::errno_error(errno)));
                            return Ok(c);
                        }
                    }
                }
            }
        }
        let Some(shared) = self.shared(&c) else {
            return Ok(c);
        };
        Ok(shared.submit(self.op(c, OpKind::Read, pos, len, done)))
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        let c = match sys::admit_write(c, sys::check_range(pos, buf.len()), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        let len = buf.len();
        if len == 0 {
            c.complete(0);
            return Ok(c);
        }
        let Some(shared) = self.shared(&c) else {
            return Ok(c);
        };
        Ok(shared.submit(self.op(c, OpKind::Write(buf), pos, len, 0)))
    }

    fn sync(&self, c: Completion) -> Result<Completion> {
        let Some(shared) = self.shared(&c) else {
            return Ok(c);
        };
        Ok(shared.submit(self.op(c, OpKind::Sync, 0, 0, 0)))
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        let c = match sys::admit_write(c, sys::check_len(len), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        let Some(shared) = self.shared(&c) else {
            return Ok(c);
        };
        if !shared.lock().has_ftruncate {
            // No IORING_OP_FTRUNCATE before Linux 6.9: truncate inline.
            let mut c = c;
            c.finish(sys::truncate(&self.fd.file, len).map(|()| 0));
            return Ok(c);
        }
        let op = self.op(c, OpKind::Truncate(len), 0, 0, 0);
        Ok(shared.submit(op))
    }

    fn size(&self) -> Result<u64> {
        sys::size(&self.fd.file)
    }
}
