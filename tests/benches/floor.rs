//! The framework's floor: what one I/O costs above a raw loop when the
//! backend finishes it at once, so that only the framework is measured.
//!
//! The full stack is what an engine pays per I/O: a read completion with a
//! buffer and a callback, `File::pread` through `dyn File`, the
//! `Result<IOResult<T>>` round trip, and a `#[resumable]` function with one
//! `wait!`, driven by `IO::block`. The file is a null device that finishes
//! every read inside `pread` without copying anything; the raw loop calls
//! the same kind of function directly. The pieces in between show where the
//! time goes. Every variant runs once per round, in a rotated order, and the
//! report gives medians of the thread's CPU time per I/O (which other
//! processes' load on a shared machine does not inflate; wall-clock time in
//! parentheses); a counting allocator reports heap allocations per I/O.
//! Nothing here asserts a duration.
//!
//! ```sh
//! cargo bench -p io-model-tests --bench floor                  # ~10 s
//! cargo bench -p io-model-tests --bench floor -- --full        # longer rounds
//! # instructions per I/O (valgrind): one variant for N and 2N I/Os, differenced
//! scripts/bench-instructions.sh
//! ```

#[path = "common/timing.rs"]
mod timing;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use io_model::{Buffer, Completion, File, IOResult, OpenFlags, Result, IO};

use timing::{median, thread_cpu_ns};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call to the system allocator unchanged; it only
// counts allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A file whose reads finish inside `pread`, copying nothing.
struct NullFile;

impl File for NullFile {
    fn pread(&self, _pos: u64, mut c: Completion) -> Result<Completion> {
        let len = c.read_buffer().map_or(0, |b| b.len());
        c.finish(Ok(len as i32));
        Ok(c)
    }
    fn pwrite(&self, _pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        c.complete(buf.len() as i32);
        Ok(c)
    }
    fn sync(&self, c: Completion) -> Result<Completion> {
        c.complete(0);
        Ok(c)
    }
    fn truncate(&self, _len: u64, c: Completion) -> Result<Completion> {
        c.complete(0);
        Ok(c)
    }
    fn size(&self) -> Result<u64> {
        Ok(0)
    }
}

/// A backend with nothing to step: everything finishes when issued.
struct NullIO;

impl IO for NullIO {
    fn open_file(&self, _: &str, _: OpenFlags) -> Result<Arc<dyn File>> {
        Ok(Arc::new(NullFile))
    }
    fn remove_file(&self, _: &str) -> Result<()> {
        Ok(())
    }
    fn step(&self) -> Result<()> {
        Ok(())
    }
}

#[io_model::resumable(state = st)]
fn read_page(
    st: &mut ReadPageState,
    file: &dyn File,
    pos: u64,
    buf: &Arc<Buffer>,
) -> Result<IOResult<u64>> {
    let c = file.pread(pos, Completion::new_read(buf.clone(), |_| {}))?;
    wait!(c);
    Ok(IOResult::Done(pos))
}

/// The raw loop's "I/O": a call that cannot be inlined and returns the
/// length read.
#[inline(never)]
fn raw_read(buf: &Buffer, pos: u64) -> u64 {
    black_box(pos);
    buf.len() as u64
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    /// Nothing but the raw call.
    Raw,
    /// `Completion::new_read` with a buffer clone, `complete`, drop.
    Completion,
    /// The completion through `dyn File::pread`, waited on by hand.
    Pread,
    /// The full stack: `IO::block` over a `#[resumable]` fn with one `wait!`.
    Stack,
}

const VARIANTS: [Variant; 4] = [
    Variant::Raw,
    Variant::Completion,
    Variant::Pread,
    Variant::Stack,
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Raw => "raw",
            Variant::Completion => "completion",
            Variant::Pread => "pread",
            Variant::Stack => "stack",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::Raw => "raw loop (a call per I/O)",
            Variant::Completion => "+ Completion::new_read, complete, drop",
            Variant::Pread => "+ dyn File::pread, finished() check",
            Variant::Stack => "full stack: IO::block, #[resumable] + wait!",
        }
    }
}

/// Runs `ops` I/Os of `variant`; returns a checksum so nothing is optimised
/// away.
#[inline(never)]
fn run(variant: Variant, io: &NullIO, file: &dyn File, buf: &Arc<Buffer>, ops: u64) -> u64 {
    let mut sum = 0u64;
    match variant {
        Variant::Raw => {
            for i in 0..ops {
                sum = sum.wrapping_add(raw_read(buf, i * 4096));
            }
        }
        Variant::Completion => {
            for i in 0..ops {
                let c = Completion::new_read(buf.clone(), |_| {});
                c.complete(black_box(i as i32));
                sum = sum.wrapping_add(c.succeeded() as u64);
            }
        }
        Variant::Pread => {
            for i in 0..ops {
                let c = file
                    .pread(i * 4096, Completion::new_read(buf.clone(), |_| {}))
                    .unwrap();
                if !c.finished() {
                    io.wait_for_completion(c.clone()).unwrap();
                }
                sum = sum.wrapping_add(c.succeeded() as u64);
            }
        }
        Variant::Stack => {
            let mut st = ReadPageState::default();
            for i in 0..ops {
                let pos = io
                    .block(|| read_page(&mut st, file, i * 4096, buf))
                    .unwrap();
                sum = sum.wrapping_add(pos);
            }
        }
    }
    sum
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut ops, mut rounds, mut only) = (200_000u64, 21usize, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--full" => (ops, rounds) = (2_000_000, 41),
            "--ops" => ops = args.next().and_then(|v| v.parse().ok()).expect("--ops N"),
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds N")
            }
            "--only" => {
                let name = args.next().expect("--only raw|completion|pread|stack");
                only = Some(
                    *VARIANTS
                        .iter()
                        .find(|v| v.name() == name)
                        .unwrap_or_else(|| panic!("unknown variant {name}")),
                );
            }
            // cargo bench passes --bench.
            "--bench" => {}
            other => panic!(
                "unknown argument {other}; expected --full, --ops N, --rounds N, --only VARIANT"
            ),
        }
    }
    let io = NullIO;
    let file = io.open_file("null", OpenFlags::NONE).unwrap();
    let buf = Arc::new(Buffer::new_page());
    if let Some(v) = only {
        // One run, for instruction counting under valgrind.
        println!("{}", run(v, &io, &*file, &buf, ops));
        return;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
    let mut allocs = vec![0f64; VARIANTS.len()];
    // Warm-up: fills whatever the framework caches.
    for &v in &VARIANTS {
        black_box(run(v, &io, &*file, &buf, ops / 10 + 1000));
    }
    for round in 0..rounds {
        for k in 0..VARIANTS.len() {
            let i = (k + round) % VARIANTS.len();
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let (cpu, t) = (thread_cpu_ns(), Instant::now());
            black_box(run(VARIANTS[i], &io, &*file, &buf, ops));
            walls[i].push(t.elapsed().as_nanos() as f64 / ops as f64);
            times[i].push((thread_cpu_ns() - cpu) as f64 / ops as f64);
            allocs[i] += (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / ops as f64;
        }
    }
    println!(
        "{ops} I/Os per run, {rounds} rounds; median CPU time per I/O (wall-clock), \
         the median of the per-round differences to the raw loop, allocations per I/O"
    );
    for (i, v) in VARIANTS.iter().enumerate() {
        let over: Vec<f64> = times[i].iter().zip(&times[0]).map(|(t, r)| t - r).collect();
        println!(
            "  {:<46} {:7.1} ns ({:7.1})  {:+6.1} ns over raw  {:.2} allocations",
            v.describe(),
            median(times[i].clone()),
            median(walls[i].clone()),
            if i == 0 { 0.0 } else { median(over) },
            allocs[i] / rounds as f64,
        );
    }
}
