//! The six shapes of generated-against-hand-written code, each written
//! twice: by hand in Turso's style (a `loop { match state }` over an enum
//! that stays in place, updated field by field where it can be) and with
//! `#[io_model::resumable]`; and once more as an `async fn`, for its
//! future's size only.
//!
//! | module | shape |
//! |---|---|
//! | `straight` | a straight line of three waits, a 64-byte argument held across them (rustc #62958) |
//! | `index_loop` | `while i < n` with an index and a sum |
//! | `nested` | two nested `for` loops, a write after each row |
//! | `chain` | a `call!` chain three deep: top, two mids, four leaves (rustc #59087) |
//! | `buffer` | a 4 KiB page image live across five waits |
//! | `wide_match` | a `match` of eight arms, a wait in each |
//!
//! Every shape runs on a [`Disk`] whose completions either finish when
//! issued (no call suspends) or stay pending until the driver finishes them
//! (every wait suspends and the operation is called again). Both versions
//! of a shape issue the same I/O and return the same value; the
//! `resumable_shapes` test checks that.

use std::hint::black_box;

use io_model::{Completion, IOResult, Result};

pub mod buffer;
pub mod chain;
pub mod index_loop;
pub mod nested;
pub mod straight;
pub mod wide_match;

/// Where a shape's I/O goes: completions finished at once, or left pending
/// for the driver.
pub struct Disk {
    immediate: bool,
    pending: Vec<Completion>,
    /// Completions issued so far.
    pub ios: u64,
}

impl Disk {
    /// A disk whose completions finish when issued (`immediate`) or when
    /// the driver finishes them.
    pub fn new(immediate: bool) -> Self {
        Disk {
            immediate,
            pending: Vec::with_capacity(16),
            ios: 0,
        }
    }

    /// Issues one I/O.
    #[inline]
    pub fn io(&mut self) -> Completion {
        let c = Completion::new_write(|_| {});
        self.ios += 1;
        if self.immediate {
            c.complete(0);
        } else {
            self.pending.push(c.clone());
        }
        c
    }

    /// What the I/O of `i` "read": a cheap function the optimizer cannot
    /// fold away.
    #[inline]
    pub fn value(&self, i: u64) -> u64 {
        black_box(i).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 7
    }

    /// Finishes every pending completion.
    #[inline]
    pub fn finish_pending(&mut self) {
        for c in self.pending.drain(..) {
            c.complete(0);
        }
    }
}

/// What holds the [`Disk`] a shape runs on.
pub trait HasDisk {
    fn disk(&mut self) -> &mut Disk;
}

impl HasDisk for Disk {
    #[inline]
    fn disk(&mut self) -> &mut Disk {
        self
    }
}

/// Calls `op` until it is done, finishing the disk's pending completions
/// each time it returns `IO` (as a backend's `step` would).
#[inline]
pub fn drive<C: HasDisk, T>(ctx: &mut C, mut op: impl FnMut(&mut C) -> Result<IOResult<T>>) -> T {
    loop {
        match op(ctx) {
            Ok(IOResult::Done(v)) => return v,
            Ok(IOResult::IO(_)) => ctx.disk().finish_pending(),
            Err(e) => panic!("the shapes' I/O does not fail: {e}"),
        }
    }
}

/// The runners of a shape whose two versions are free functions taking
/// `(state, disk, args..)`: `run_hand` and `run_generated` do `iters` runs
/// (the arguments computed from the run's index `i`) and return the sum of
/// the results; `run` picks one.
macro_rules! runners {
    ($hand:ident: $hand_state:ty, $generated:ident: $generated_state:ty, |$i:ident| ($($arg:expr),*)) => {
        #[inline(never)]
        fn run_hand(d: &mut Disk, iters: u64) -> u64 {
            let mut st = <$hand_state>::default();
            let mut sum = 0u64;
            for $i in 0..iters {
                sum = sum.wrapping_add(super::drive(d, |d| $hand(&mut st, d, $($arg),*)));
            }
            sum
        }

        #[inline(never)]
        fn run_generated(d: &mut Disk, iters: u64) -> u64 {
            let mut st = <$generated_state>::default();
            let mut sum = 0u64;
            for $i in 0..iters {
                sum = sum.wrapping_add(super::drive(d, |d| $generated(&mut st, d, $($arg),*)));
            }
            sum
        }

        fn run(v: Variant, d: &mut Disk, iters: u64) -> u64 {
            match v {
                Variant::Hand => run_hand(d, iters),
                Variant::Generated => run_generated(d, iters),
            }
        }
    };
}
pub(crate) use runners;

/// One way of writing a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The hand-written machine.
    Hand,
    /// The `#[resumable]` function.
    Generated,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Hand => "hand",
            Variant::Generated => "generated",
        }
    }
}

/// The state sizes of one shape, in bytes.
pub struct Sizes {
    pub hand: usize,
    pub generated: usize,
    pub async_fn: usize,
    /// How the figures are made up, where a shape has several states.
    pub note: &'static str,
    /// Every state enum by name (hand-written and generated).
    pub each: Vec<(&'static str, usize)>,
}

/// A shape: its name, what it is, how to run `iters` runs of one variant
/// (returning a checksum of the results), and its state sizes.
pub struct Shape {
    pub name: &'static str,
    pub what: &'static str,
    pub run: fn(Variant, &mut Disk, u64) -> u64,
    pub sizes: fn() -> Sizes,
    /// The source file (for the listing of each state's variants).
    pub source: &'static str,
    /// The hand-written state enums in it.
    pub hand_enums: &'static [&'static str],
}

pub const SHAPES: [Shape; 6] = [
    straight::SHAPE,
    index_loop::SHAPE,
    nested::SHAPE,
    chain::SHAPE,
    buffer::SHAPE,
    wide_match::SHAPE,
];

/// A future that is ready once a completion has finished (the `async fn`
/// versions use it; they are never polled, only measured).
pub struct Ready(pub Completion);

impl std::future::Future for Ready {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0.finished() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}
