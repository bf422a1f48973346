//! `Completion::new_yield()` must not allocate: it is what every explicit
//! yield and every empty group returns, on hot paths.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; it only
// counts allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn new_yield_and_its_queries_allocate_nothing() {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let y = io_model::Completion::new_yield();
    let copy = y.clone();
    assert!(copy.finished() && copy.succeeded() && copy.is_explicit_yield());
    copy.complete(0);
    copy.abort();
    let r: io_model::IOResult<()> = io_model::IOResult::IO(y.into());
    assert!(r.is_io());
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(after - before, 0, "new_yield allocated");

    // The counter works: a real completion does allocate.
    let _c = io_model::Completion::new_sync(|_| {});
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > after);
}
