//! Steady state allocates nothing: once warm, issuing and finishing reads,
//! writes and syncs (`Completion::new_read`/`new_write`/`new_sync`,
//! `File::pread`/`pwrite`/`sync`, `IO::step`, dropping the last handle),
//! alone, many in flight and in a `CompletionGroup`, makes no heap
//! allocation, on every backend: SyncIO, UringIO (four configurations),
//! SimIO, NbdIO and MirrorIO (three pairs); the NBD ones on a real nbdkit,
//! skipped where it is not installed.
//!
//! A counting global allocator counts the allocations of the calling
//! thread (every backend here does its work on the thread that steps it),
//! so the test functions of this binary may run in parallel. Each workload
//! runs once to warm up (free lists, ring slots, registrations), then again
//! under the counter, which must stay at zero. SimIO runs with a bounded
//! trace (`SimIO::with_trace_limit`): an unbounded trace grows, by design.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use io_model::{Buffer, Completion, CompletionGroup, File, IOResult, OpenFlags, Result, IO};
use io_model_backends::{InlineReads, SimIO, UringOptions};

use common::{Backend, TempDir};

struct Counting;

thread_local! {
    // No destructor and a const initializer: using it allocates nothing.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread may be tearing its locals down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged; it only
// counts allocations and reallocations in a thread-local counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

const PAGES: u64 = 16;
const PAGE: usize = 4096;

/// One round of the workload: for each page, a read with a callback that
/// captures nothing, one with a callback that captures a counter, a write
/// and, every fourth page, a sync; then a sync and `PAGES` reads in flight
/// at once; then a `CompletionGroup` of four writes; then a read through
/// `IO::block` and a `#[resumable]` function.
fn round(io: &dyn IO, file: &dyn File, bufs: &[Arc<Buffer>], hits: &Arc<AtomicU64>) {
    for (i, buf) in bufs.iter().enumerate() {
        let pos = i as u64 * PAGE as u64;
        let r = file
            .pread(pos, Completion::new_read(buf.clone(), |_| {}))
            .unwrap();
        io.wait_for_completion(r).unwrap();
        let h = hits.clone();
        let r = file
            .pread(
                pos,
                Completion::new_read(buf.clone(), move |res| {
                    h.fetch_add(res.unwrap().1 as u64, Ordering::Relaxed);
                }),
            )
            .unwrap();
        io.wait_for_completion(r).unwrap();
        let h = hits.clone();
        let w = file
            .pwrite(
                pos,
                buf.clone(),
                Completion::new_write(move |res| {
                    h.fetch_add(res.unwrap() as u64, Ordering::Relaxed);
                }),
            )
            .unwrap();
        io.wait_for_completion(w).unwrap();
        if i % 4 == 3 {
            let s = file.sync(Completion::new_sync(|_| {})).unwrap();
            io.wait_for_completion(s).unwrap();
        }
    }
    // Many in flight: what a ring batches and a simulator reorders. The
    // sync issued first keeps UringIO's ring busy, so that the reads join
    // it in one submission every round.
    let mut inflight = [const { Completion::new_yield() }; PAGES as usize + 1];
    inflight[PAGES as usize] = file.sync(Completion::new_sync(|_| {})).unwrap();
    for (i, (slot, buf)) in inflight.iter_mut().zip(bufs).enumerate() {
        *slot = file
            .pread(
                i as u64 * PAGE as u64,
                Completion::new_read(buf.clone(), |_| {}),
            )
            .unwrap();
    }
    while !inflight.iter().all(Completion::finished) {
        io.step().unwrap();
    }
    assert!(inflight.iter().all(Completion::succeeded));
    drop(inflight);
    let h = hits.clone();
    let mut group = CompletionGroup::new(move |res| {
        h.fetch_add(u64::from(res.is_ok()), Ordering::Relaxed);
    });
    for (i, buf) in bufs.iter().take(4).enumerate() {
        let w = file
            .pwrite(
                i as u64 * PAGE as u64,
                buf.clone(),
                Completion::new_write(|_| {}),
            )
            .unwrap();
        group.add(&w);
    }
    io.wait_for_completion(group.build()).unwrap();
    let mut st = ReadPageState::default();
    let n = IO::block(&io, || read_page(&mut st, file, &bufs[0])).unwrap();
    assert_eq!(n, PAGE as i32);
}

#[io_model::resumable(state = st)]
fn read_page(st: &mut ReadPageState, file: &dyn File, buf: &Arc<Buffer>) -> Result<IOResult<i32>> {
    let c: Completion = file.pread(0, Completion::new_read(buf.clone(), |_| {}))?;
    wait!(c.clone());
    let n: i32 = c.result().and_then(|r| r.ok()).unwrap_or(0);
    Ok(IOResult::Done(n))
}

/// I/Os in one round.
const ROUND_IOS: u64 = PAGES * 3 + PAGES / 4 + 1 + PAGES + 4 + 1;

/// Warms the workload up on `file` (which has at least `PAGES` pages), and
/// asserts that further rounds allocate nothing.
fn assert_steady_state_allocates_nothing(label: &str, io: &dyn IO, file: &dyn File) {
    let bufs: Vec<Arc<Buffer>> = (0..PAGES)
        .map(|i| {
            let b = Buffer::new_page();
            b.lock().fill(i as u8);
            Arc::new(b)
        })
        .collect();
    // The file's pages exist before the rounds: reads are never short.
    for (i, buf) in bufs.iter().enumerate() {
        let w = file
            .pwrite(
                i as u64 * PAGE as u64,
                buf.clone(),
                Completion::new_write(|_| {}),
            )
            .unwrap();
        io.wait_for_completion(w).unwrap();
    }
    let hits = Arc::new(AtomicU64::new(0));
    for _ in 0..5 {
        round(io, file, &bufs, &hits);
    }
    const ROUNDS: u64 = 20;
    let before = allocations();
    for _ in 0..ROUNDS {
        round(io, file, &bufs, &hits);
    }
    let made = allocations() - before;
    assert_eq!(
        made,
        0,
        "{label}: {made} heap allocations in {} I/Os of steady state",
        ROUNDS * ROUND_IOS
    );
    assert!(hits.load(Ordering::Relaxed) > 0);
}

/// Runs the check on each backend of `backends` that can be set up here
/// (the others say why not and are skipped).
fn check(backends: &[Backend]) {
    for &backend in backends {
        let test = format!("alloc-{backend:?}");
        let Some(env) = backend.setup(&test) else {
            continue;
        };
        let file = env
            .create("f", PAGES * PAGE as u64, OpenFlags::NONE)
            .unwrap_or_else(|err| panic!("{backend:?}: opening the file: {err}"));
        assert_steady_state_allocates_nothing(&format!("{backend:?}"), &*env.io, &*file);
    }
}

#[test]
fn counting_allocator_counts() {
    let before = allocations();
    let v = std::hint::black_box(vec![0u8; 16]);
    assert_eq!(allocations() - before, 1);
    drop(v);
}

#[test]
fn sync_io() {
    check(&[Backend::Sync]);
}

#[test]
fn uring_io() {
    check(&[Backend::Uring, Backend::UringRing, Backend::UringSplit]);
    let dir = TempDir::new("alloc-uring-direct");
    let label = "UringIO (every read in the ring, O_DIRECT)";
    let opts = UringOptions::default().inline_reads(InlineReads::Never);
    let Some(io) = common::uring(label, opts) else {
        return;
    };
    let flags = OpenFlags::DIRECT | OpenFlags::CREATE;
    match io.open_file(&dir.file("f"), flags) {
        Ok(file) => assert_steady_state_allocates_nothing(label, &io, &*file),
        Err(err) => eprintln!("skipping {label}: {err}"),
    }
}

#[test]
fn sim_io_with_a_bounded_trace() {
    let io = SimIO::new(7).with_trace_limit(256);
    let file = io.open_file("f", OpenFlags::CREATE).unwrap();
    assert_steady_state_allocates_nothing("SimIO", &io, &*file);
    assert_eq!(io.trace().len(), 256);
}

#[test]
fn nbd_io() {
    check(&[Backend::Nbd]);
}

#[test]
fn mirror_io() {
    check(&[
        Backend::MirrorSync,
        Backend::MirrorSyncNbd,
        Backend::MirrorUringNbd,
    ]);
}
