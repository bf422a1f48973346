//! The ring of a [`UringIO`](super::UringIO): the operations in flight,
//! submission in batches, reaping, resubmission of short transfers, and
//! the drain that keeps every buffer alive until the kernel is done with it.
//!
//! Every operation lives in the `ops` slab from the moment its first SQE is
//! built until its final CQE is reaped; the slab index is the SQE's
//! `user_data`. An operation in the slab is always in exactly one of four
//! places: `deferred`, issued since the last submission and not yet given an
//! SQE; queued in the submission queue; in flight in the kernel; or in
//! `retry` waiting for room in the submission queue.
//!
//! Deferring the SQE until `step` is what lets a lone operation skip the
//! ring: when `step` finds the ring holding exactly one operation, issued
//! and not yet submitted, it takes it out and runs it as a plain system
//! call, which costs less than a ring round trip for one operation. The slab holds the
//! operation's `Arc<Buffer>` (a write's own, a read's through its
//! completion) and `Arc<FileFd>`, which is what keeps the memory and the
//! descriptor the kernel uses alive.

use std::io;
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionError};
use io_uring::{cqueue, opcode, squeue, types, IoUring};

use super::registry::{
    lock_table, register_file_table, set_file_slot, take_released, BufferRegistry, FileFd, Files,
};
use super::{InlineReads, RingSetup, UringOptions};
use crate::sys;

/// What an operation does.
pub(super) enum OpKind {
    /// A read into the completion's buffer, which the completion keeps
    /// alive: a completion's read buffer never changes while a handle of it
    /// exists, and the operation holds one.
    Read,
    Write(Arc<Buffer>),
    Sync,
    Truncate(u64),
}

/// One operation, from its first submission to its final completion.
pub(super) struct Op {
    pub(super) c: Completion,
    pub(super) kind: OpKind,
    pub(super) file: Arc<FileFd>,
    pub(super) pos: u64,
    /// Bytes to transfer (0 for sync and truncate).
    pub(super) len: usize,
    /// Bytes transferred so far.
    pub(super) done: usize,
    /// Resubmissions in a row without progress (`EAGAIN`, `EINTR`).
    pub(super) stalls: u32,
}

impl Op {
    /// The buffer a read reads into, or a write writes from.
    fn buffer(&self) -> Option<&Arc<Buffer>> {
        match &self.kind {
            OpKind::Read => self.c.read_buffer(),
            OpKind::Write(buf) => Some(buf),
            OpKind::Sync | OpKind::Truncate(_) => None,
        }
    }

    /// Performs what is left of the operation with blocking system calls,
    /// on the calling thread, and finishes its completion.
    pub(super) fn run_blocking(mut self) {
        let file = &self.file.file;
        let res = match &self.kind {
            OpKind::Read => {
                let buf = self
                    .c
                    .read_buffer()
                    .expect("BUG: a read operation without a read completion");
                let mut bytes = buf.lock();
                sys::read_full(file, &mut bytes[self.done..], self.pos + self.done as u64).and_then(
                    |n| {
                        let actual = self.done + n;
                        if actual < self.len {
                            Err(CompletionError::ShortRead {
                                expected: self.len,
                                actual,
                            })
                        } else {
                            Ok(self.len as i32)
                        }
                    },
                )
            }
            OpKind::Write(buf) => {
                sys::write_full(file, &buf.lock()[self.done..], self.pos + self.done as u64)
                    .map(|()| self.len as i32)
            }
            OpKind::Sync => sys::sync_data(file).map(|()| 0),
            OpKind::Truncate(len) => sys::truncate(file, *len).map(|()| 0),
        };
        self.c.finish(res);
    }
}

/// An operation whose final CQE was reaped, waiting for `step` to finish
/// its completion outside the ring lock. It still holds the buffer, which
/// is released after the callback has run.
pub(super) struct Finished {
    op: Op,
    res: Result<i32, CompletionError>,
}

impl Finished {
    pub(super) fn finish(mut self) {
        self.op.c.finish(self.res);
    }
}

/// `user_data` of SQEs that are not operations (the probe's NOP).
const NOT_AN_OP: u64 = u64::MAX;
/// Resubmissions without progress after which an operation fails.
const MAX_STALLS: u32 = 1000;
/// `EAGAIN`/`EBUSY` answers of `io_uring_enter` in a row before giving up.
const MAX_BUSY: u32 = 10_000;

/// A thread's token, to tell the ring's owner from other threads.
pub(super) fn thread_token() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    // A const-initialised `Cell` without destructor: the cheapest thread
    // local there is (this runs on every submission).
    thread_local!(static TOKEN: Cell<u64> = const { Cell::new(0) });
    TOKEN.with(|t| match t.get() {
        0 => {
            let token = NEXT.fetch_add(1, Ordering::Relaxed);
            t.set(token);
            token
        }
        token => token,
    })
}

#[derive(Default)]
struct Slab {
    entries: Vec<Option<Op>>,
    free: Vec<usize>,
    len: usize,
}

impl Slab {
    fn insert(&mut self, op: Op) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(op);
                i
            }
            None => {
                self.entries.push(Some(op));
                self.entries.len() - 1
            }
        }
    }

    fn get_mut(&mut self, i: usize) -> Option<&mut Op> {
        self.entries.get_mut(i).and_then(Option::as_mut)
    }

    fn remove(&mut self, i: usize) -> Op {
        let op = self.entries[i]
            .take()
            .expect("BUG: removing a free slab slot");
        self.free.push(i);
        self.len -= 1;
        op
    }

    fn drain(&mut self) -> impl Iterator<Item = Op> + '_ {
        self.len = 0;
        self.free.clear();
        self.entries.drain(..).flatten()
    }
}

/// The ring and everything its in-flight operations need.
///
/// Field order matters on drop: `ring` closes before `bufs` releases the
/// registered buffers.
pub(super) struct Ring {
    ring: IoUring,
    pub(super) setup: RingSetup,
    /// The thread the ring is bound to (single-issuer setups only).
    owner: Option<u64>,
    ops: Slab,
    /// Issued since the last submission, in issue order, without an SQE.
    deferred: Vec<usize>,
    retry: Vec<usize>,
    pub(super) ready: Vec<Finished>,
    scratch: Vec<(u64, i32)>,
    bufs: BufferRegistry,
    pub(super) files_registered: bool,
    pub(super) has_ftruncate: bool,
    max_ops: usize,
    split: usize,
    opts: UringOptions,
    /// Set when the `UringIO` is dropped: no new operations.
    pub(super) closed: bool,
}

/// Builds a ring with the best setup the kernel accepts, trying the setups
/// from `first` down.
pub(super) fn build_ring(
    opts: &UringOptions,
    first: RingSetup,
) -> io::Result<(IoUring, RingSetup)> {
    let setups: &[RingSetup] = match first {
        RingSetup::DeferTaskrun => &[
            RingSetup::DeferTaskrun,
            RingSetup::CoopTaskrun,
            RingSetup::Plain,
        ],
        RingSetup::CoopTaskrun => &[RingSetup::CoopTaskrun, RingSetup::Plain],
        RingSetup::Plain => &[RingSetup::Plain],
    };
    let mut last = io::Error::from_raw_os_error(libc::EINVAL);
    for &setup in setups {
        // Each setup with SUBMIT_ALL (5.18+) first, then without.
        for submit_all in [true, false] {
            let mut b = IoUring::<squeue::Entry, cqueue::Entry>::builder();
            match setup {
                RingSetup::DeferTaskrun => {
                    b.setup_single_issuer().setup_defer_taskrun();
                }
                RingSetup::CoopTaskrun => {
                    b.setup_single_issuer()
                        .setup_coop_taskrun()
                        .setup_taskrun_flag();
                }
                RingSetup::Plain => {}
            }
            if submit_all {
                b.setup_submit_all();
            }
            match b.build(opts.entries) {
                Ok(ring) => return Ok((ring, setup)),
                // Flags this kernel does not know: try fewer.
                Err(err) if err.raw_os_error() == Some(libc::EINVAL) => last = err,
                // Refused outright (EPERM, ENOSYS) or out of memory.
                Err(err) => return Err(err),
            }
        }
    }
    Err(last)
}

impl Ring {
    /// Wraps a freshly built ring: checks that `io_uring_enter` works (a
    /// seccomp filter may allow setup and refuse enter), probes the
    /// opcodes, and registers the file and buffer tables where allowed.
    pub(super) fn new(
        ring: IoUring,
        setup: RingSetup,
        opts: UringOptions,
        table: &Files,
    ) -> Result<Self, (&'static str, io::Error)> {
        let mut this = Self {
            ring,
            setup,
            owner: (setup != RingSetup::Plain).then(thread_token),
            ops: Slab::default(),
            deferred: Vec::new(),
            retry: Vec::new(),
            ready: Vec::new(),
            scratch: Vec::new(),
            bufs: BufferRegistry::disabled(),
            files_registered: false,
            has_ftruncate: false,
            max_ops: 0,
            split: opts.split.map_or(usize::MAX, |n| n as usize),
            opts,
            closed: false,
        };
        this.max_ops = this.ring.params().cq_entries() as usize;
        // Every list holds at most `max_ops` entries: sized once, they never
        // grow while the ring runs, however many operations are in flight.
        let n = this.max_ops;
        this.ops.entries.reserve_exact(n);
        this.ops.free.reserve_exact(n);
        this.deferred.reserve_exact(n);
        this.retry.reserve_exact(n);
        this.ready.reserve_exact(n);
        this.scratch.reserve_exact(n);
        this.nop_round_trip()
            .map_err(|err| ("io_uring_enter", err))?;
        let mut probe = io_uring::Probe::new();
        this.ring
            .submitter()
            .register_probe(&mut probe)
            .map_err(|err| ("io_uring_register(PROBE)", err))?;
        for (code, name) in [
            (opcode::Read::CODE, "IORING_OP_READ"),
            (opcode::Write::CODE, "IORING_OP_WRITE"),
            (opcode::Fsync::CODE, "IORING_OP_FSYNC"),
        ] {
            if !probe.is_supported(code) {
                let err = io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("the kernel lacks {name} (Linux 5.6 or later is needed)"),
                );
                return Err(("probing opcodes", err));
            }
        }
        this.has_ftruncate = probe.is_supported(opcode::Ftruncate::CODE);
        this.register_tables(table);
        Ok(this)
    }

    fn nop_round_trip(&mut self) -> io::Result<()> {
        let nop = opcode::Nop::new().build().user_data(NOT_AN_OP);
        // SAFETY: a NOP refers to no memory and no descriptor.
        unsafe { self.ring.submission().push(&nop) }
            .map_err(|_| io::Error::other("the new ring's submission queue is full"))?;
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => break,
                Err(err) if err.raw_os_error() == Some(libc::EINTR) => {}
                Err(err) => return Err(err),
            }
        }
        let reaped = self.ring.completion().count();
        if reaped != 1 {
            return Err(io::Error::other(format!(
                "expected the NOP's completion, reaped {reaped} entries"
            )));
        }
        Ok(())
    }

    /// Registers the file table (and the descriptors of open files, after a
    /// rebuild) and the buffer table, where the options and kernel allow.
    fn register_tables(&mut self, table: &Files) {
        let submitter = self.ring.submitter();
        let mut t = lock_table(table);
        self.files_registered =
            self.opts.register_files && register_file_table(&submitter, t.slots.len() as u32);
        if self.files_registered {
            for (slot, fd) in t.slots.iter().enumerate() {
                if let Some(fd) = *fd {
                    if !set_file_slot(&submitter, slot as u32, fd) {
                        self.files_registered = false;
                        break;
                    }
                }
            }
        }
        let released = take_released(table, &mut t);
        t.free.extend(released);
        drop(t);
        self.bufs = if self.opts.register_buffers {
            BufferRegistry::new(&submitter, self.opts.buffer_slots, self.opts.buffer_budget)
        } else {
            BufferRegistry::disabled()
        };
    }

    /// Operations in the ring (queued, in flight, or waiting for room).
    pub(super) fn len(&self) -> usize {
        self.ops.len
    }

    /// Submission and completion queue sizes.
    pub(super) fn entries(&self) -> (u32, u32) {
        let params = self.ring.params();
        (params.sq_entries(), params.cq_entries())
    }

    pub(super) fn registered_buffers(&self) -> usize {
        self.bufs.registered()
    }

    pub(super) fn buffers_registered(&self) -> bool {
        self.bufs.enabled()
    }

    /// Whether the calling thread may use the ring. A single-issuer ring is
    /// bound to one thread; when another thread finds it idle, the ring is
    /// rebuilt for that thread. While it has operations in flight, other
    /// threads may not touch it.
    pub(super) fn usable_here(&mut self, table: &Files) -> bool {
        let Some(owner) = self.owner else { return true };
        let me = thread_token();
        if owner == me {
            return true;
        }
        if self.ops.len > 0 {
            return false;
        }
        // Idle: move the ring to this thread.
        match build_ring(&self.opts, self.setup) {
            Ok((ring, setup)) if setup == self.setup => {
                self.ring = ring;
                self.owner = Some(me);
                self.register_tables(table);
                true
            }
            _ => false,
        }
    }

    /// Clears the kernel's slots of dropped files and frees them.
    pub(super) fn release_file_slots(&mut self, table: &Files) {
        if !table.any_released() {
            return;
        }
        let mut t = lock_table(table);
        let released = take_released(table, &mut t);
        for slot in released {
            if !self.files_registered || set_file_slot(&self.ring.submitter(), slot, -1) {
                t.free.push(slot);
            }
            // Otherwise the slot stays out of use: the kernel may still
            // map it to the old file.
        }
    }

    /// Registers `fd` in a free slot of the file table, if there is one.
    pub(super) fn register_file(&mut self, table: &Files, fd: i32) -> Option<u32> {
        if !self.files_registered {
            return None;
        }
        let mut t = lock_table(table);
        let slot = t.free.pop()?;
        if set_file_slot(&self.ring.submitter(), slot, fd) {
            t.slots[slot as usize] = Some(fd);
            Some(slot)
        } else {
            t.free.push(slot);
            None
        }
    }

    /// Adds `op` to the ring: it waits in `deferred` for the next `step`,
    /// which submits it (or, alone, runs it; see [`take_lone`](Self::take_lone)).
    /// While as many operations are in the ring as the completion queue
    /// holds, first waits for one to finish. Gives `op` back if the ring
    /// fails.
    pub(super) fn push(&mut self, op: Op) -> Result<(), (Op, io::Error)> {
        while self.ops.len >= self.max_ops {
            if let Err(err) = self.pump(1) {
                return Err((op, err));
            }
        }
        let index = self.ops.insert(op);
        self.deferred.push(index);
        Ok(())
    }

    /// How many operations wait for their first submission.
    pub(super) fn deferred(&self) -> usize {
        self.deferred.len()
    }

    /// The ring's only operation, taken out of it, if the ring holds exactly
    /// one and it has not been submitted yet: the caller runs it as a plain
    /// system call ([`Op::run_blocking`]) instead of a ring round trip.
    /// Reads only unless [`InlineReads::Never`] forbids it, other
    /// operations only with [`UringOptions::inline_lone_ops`].
    pub(super) fn take_lone(&mut self) -> Option<Op> {
        if self.ops.len != 1 || self.deferred.len() != 1 {
            return None;
        }
        let index = self.deferred[0];
        let allowed = match self.ops.entries[index].as_ref().map(|op| &op.kind) {
            Some(OpKind::Read) => self.opts.inline_reads != InlineReads::Never,
            Some(_) => self.opts.inline_lone,
            None => false,
        };
        if !allowed {
            return None;
        }
        self.deferred.clear();
        Some(self.ops.remove(index))
    }

    /// Pushes the SQE of (what is left of) operation `index`. The caller
    /// has checked that the submission queue has room.
    fn push_sqe(&mut self, index: usize) {
        let op = self.ops.entries[index]
            .as_ref()
            .expect("BUG: SQE of a free slab slot");
        let user_data = index as u64;
        let slot = op.file.slot.filter(|_| self.files_registered);
        let fd = op.file.raw();
        let offset = op.pos + op.done as u64;
        let chunk = (op.len - op.done).min(self.split) as u32;
        macro_rules! on_file {
            (|$t:ident| $build:expr) => {
                match slot {
                    Some(s) => {
                        let $t = types::Fixed(s);
                        $build
                    }
                    None => {
                        let $t = types::Fd(fd);
                        $build
                    }
                }
            };
        }
        let entry = match &op.kind {
            OpKind::Read => {
                let buf = op.buffer().expect("BUG: a read operation without a buffer");
                let addr = buf.as_mut_ptr().wrapping_add(op.done);
                match self.bufs.index_for(&self.ring.submitter(), buf) {
                    Some(bi) => on_file!(|t| opcode::ReadFixed::new(t, addr, chunk, bi)
                        .offset(offset)
                        .build()),
                    None => on_file!(|t| opcode::Read::new(t, addr, chunk).offset(offset).build()),
                }
            }
            OpKind::Write(buf) => {
                let addr = buf.as_mut_ptr().wrapping_add(op.done).cast_const();
                match self.bufs.index_for(&self.ring.submitter(), buf) {
                    Some(bi) => on_file!(|t| opcode::WriteFixed::new(t, addr, chunk, bi)
                        .offset(offset)
                        .build()),
                    None => on_file!(|t| opcode::Write::new(t, addr, chunk).offset(offset).build()),
                }
            }
            OpKind::Sync => on_file!(|t| opcode::Fsync::new(t)
                .flags(types::FsyncFlags::DATASYNC)
                .build()),
            OpKind::Truncate(len) => on_file!(|t| opcode::Ftruncate::new(t, *len).build()),
        };
        let entry = entry.user_data(user_data);
        // SAFETY: the SQE points at `len - done` bytes inside the buffer of
        // `ops[index]` and names its descriptor (or registered slot). The
        // slab keeps that buffer (a write's `Arc<Buffer>`, a read's
        // completion, which holds its buffer) and the `Arc<FileFd>` until the final CQE
        // of the operation is reaped (`reap`), and `Ring::drop` waits for
        // every CQE or, if it cannot, leaks the buffers instead of freeing
        // them. So the memory and the file outlive the kernel's use.
        let pushed = unsafe { self.ring.submission().push(&entry) };
        pushed.expect("BUG: pushed an SQE without checking for room");
    }

    /// Pushes the SQEs of operations waiting in `retry`, then of the
    /// deferred ones in issue order, while there is room.
    fn requeue_retries(&mut self) {
        while let Some(&index) = self.retry.last() {
            if self.ring.submission().is_full() {
                return;
            }
            self.retry.pop();
            self.push_sqe(index);
        }
        if self.deferred.is_empty() {
            return;
        }
        let room = {
            let sq = self.ring.submission();
            sq.capacity() - sq.len()
        };
        let n = room.min(self.deferred.len());
        for i in 0..n {
            let index = self.deferred[i];
            self.push_sqe(index);
        }
        self.deferred.drain(..n);
    }

    /// Submits what is queued, waits for at least `want` completions, and
    /// reaps them. Retries `EINTR`; on `EAGAIN`/`EBUSY` (the kernel is short
    /// of room for completions) reaps to make room and tries again.
    pub(super) fn pump(&mut self, want: usize) -> io::Result<()> {
        let mut busy = 0;
        loop {
            self.requeue_retries();
            // Never wait for a completion that cannot come.
            let want = if self.ops.len == 0 { 0 } else { want };
            match self.ring.submit_and_wait(want) {
                Ok(_) => {
                    self.reap();
                    self.requeue_retries();
                    return Ok(());
                }
                Err(err) => match err.raw_os_error() {
                    Some(libc::EINTR) => {}
                    Some(libc::EAGAIN | libc::EBUSY) => {
                        busy += 1;
                        if busy > MAX_BUSY {
                            return Err(err);
                        }
                        if self.reap() > 0 && want > 0 {
                            self.requeue_retries();
                            return Ok(());
                        }
                        if busy > 100 {
                            std::thread::sleep(std::time::Duration::from_micros(100));
                        } else {
                            std::thread::yield_now();
                        }
                    }
                    _ => return Err(err),
                },
            }
        }
    }

    /// Submits queued SQEs without waiting, and reaps what is there.
    pub(super) fn poll(&mut self) -> io::Result<()> {
        if self.ring.submission().is_empty() && self.retry.is_empty() && self.deferred.is_empty() {
            self.reap();
            Ok(())
        } else {
            self.pump(0)
        }
    }

    /// Takes every CQE off the completion queue and processes it. Never
    /// calls `pump` (the scratch buffer is in use).
    fn reap(&mut self) -> usize {
        self.scratch.clear();
        self.scratch.extend(
            self.ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result())),
        );
        let n = self.scratch.len();
        for i in 0..n {
            let (user_data, res) = self.scratch[i];
            self.complete(user_data, res);
        }
        n
    }

    /// Processes one CQE: finishes the operation, or queues the rest of a
    /// short transfer (or a transfer the kernel asked to retry) for
    /// resubmission.
    fn complete(&mut self, user_data: u64, res: i32) {
        if user_data == NOT_AN_OP {
            return;
        }
        let index = user_data as usize;
        let Some(op) = self.ops.get_mut(index) else {
            panic!("BUG: a completion for operation {index}, which is not in flight");
        };
        let outcome: Option<Result<i32, CompletionError>> = if res < 0 {
            match -res {
                libc::EINTR | libc::EAGAIN => {
                    op.stalls += 1;
                    (op.stalls > MAX_STALLS).then_some(Err(sys::errno_error(-res)))
                }
                libc::ECANCELED => Some(Err(CompletionError::Aborted)),
                errno => Some(Err(sys::errno_error(errno))),
            }
        } else {
            let n = res as usize;
            match op.kind {
                OpKind::Read | OpKind::Write(_) if n == 0 && op.done < op.len => {
                    Some(Err(match op.kind {
                        OpKind::Read => CompletionError::ShortRead {
                            expected: op.len,
                            actual: op.done,
                        },
                        _ => CompletionError::ShortWrite,
                    }))
                }
                OpKind::Read | OpKind::Write(_) => {
                    op.done += n;
                    op.stalls = 0;
                    (op.done >= op.len).then_some(Ok(op.len as i32))
                }
                OpKind::Sync | OpKind::Truncate(_) => Some(Ok(0)),
            }
        };
        match outcome {
            Some(res) => {
                let op = self.ops.remove(index);
                self.ready.push(Finished { op, res });
            }
            None => self.retry.push(index),
        }
    }

    /// Waits until every operation is reaped. False if the ring cannot be
    /// used from this thread or fails: then the kernel may still be using
    /// the buffers of the operations left.
    pub(super) fn drain(&mut self) -> bool {
        while self.ops.len > 0 {
            if matches!(self.owner, Some(owner) if owner != thread_token()) {
                return false;
            }
            if self.pump(1).is_err() {
                return false;
            }
        }
        true
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if !self.drain() {
            // Operations never submitted are the kernel's no business.
            for index in std::mem::take(&mut self.deferred) {
                let op = self.ops.remove(index);
                op.c.abort();
            }
            // The kernel may still write into the other buffers (or read
            // from them) after the ring is closed: leak them, with their
            // files, rather than free memory it could touch.
            let left: Vec<Op> = self.ops.drain().collect();
            for op in left {
                op.c.abort();
                std::mem::forget(op);
            }
        }
        for finished in self.ready.drain(..) {
            finished.finish();
        }
    }
}
