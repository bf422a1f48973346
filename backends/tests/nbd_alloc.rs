//! Once warm, `NbdIO` issues and finishes reads, writes and syncs without a
//! heap allocation of its own: request slots, queues, buffers and the poll
//! set are reused. Completions are made before the counted window, since
//! making one is the core crate's business (and counted by its own test).
//!
//! Its own test binary: the counting allocator is global.

#![cfg(feature = "nbd")]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use common::nbdkit::Nbdkit;
use common::{pattern, TempDir};
use io_model::{Buffer, Completion, File, OpenFlags, IO};
use io_model_backends::NbdIO;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; the counter is a
// const-initialized thread local, which needs no allocation.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on as it is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// One round: 32 reads and 32 writes in flight, then a sync, with
/// completions made beforehand.
fn round(io: &NbdIO, f: &dyn File, cs: &mut Vec<Completion>, bufs: &[Arc<Buffer>]) {
    let (r, rest) = cs.split_at(32);
    let (w, s) = rest.split_at(32);
    let mut issued: [Option<Completion>; 65] = std::array::from_fn(|_| None);
    for (i, c) in r.iter().enumerate() {
        issued[i] = Some(f.pread(i as u64 * 4096, c.clone()).unwrap());
    }
    for (i, c) in w.iter().enumerate() {
        let pos = (64 + i as u64) * 4096;
        issued[32 + i] = Some(f.pwrite(pos, bufs[i].clone(), c.clone()).unwrap());
    }
    for c in issued.iter().take(64).flatten() {
        io.wait_for_completion(c.clone()).unwrap();
    }
    let sync = f.sync(s[0].clone()).unwrap();
    io.wait_for_completion(sync).unwrap();
    cs.clear();
}

fn completions(reads: &[Arc<Buffer>]) -> Vec<Completion> {
    let mut cs: Vec<Completion> = reads
        .iter()
        .map(|b| Completion::new_read(b.clone(), |_| {}))
        .collect();
    cs.extend((0..32).map(|_| Completion::new_write(|_| {})));
    cs.push(Completion::new_sync(|_| {}));
    cs
}

#[test]
fn steady_state_allocates_nothing() {
    let dir = TempDir::new("nbd-alloc");
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    std::fs::write(exports.join("disk"), pattern(1, 1 << 20)).unwrap();
    let Some(server) = Nbdkit::start("nbd-alloc", &exports, &[], &[]) else {
        return;
    };
    let io = NbdIO::connect(&server.uri()).unwrap();
    let f = io.open_file("disk", OpenFlags::NONE).unwrap();
    let bufs: Vec<Arc<Buffer>> = (0..32)
        .map(|i| Arc::new(Buffer::from_vec(pattern(i, 4096))))
        .collect();
    let reads: Vec<Arc<Buffer>> = (0..32).map(|_| Arc::new(Buffer::new(4096))).collect();
    for _ in 0..20 {
        let mut cs = completions(&reads);
        round(&io, &*f, &mut cs, &bufs);
    }
    let mut total = 0;
    for _ in 0..50 {
        let mut cs = completions(&reads);
        let before = allocations();
        round(&io, &*f, &mut cs, &bufs);
        total += allocations() - before;
        drop(cs);
    }
    assert_eq!(total, 0, "allocations in 50 warm rounds of 65 I/Os");
    let data = pattern(1, 1 << 20);
    assert!(reads[5].to_vec() == data[5 * 4096..6 * 4096]);
}
