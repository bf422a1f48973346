//! Where a read of a [`UringIO`](super::UringIO) goes: served inline by a
//! system call on the caller's thread, or through the ring.
//!
//! Two estimates decide it, both kept in relaxed atomics (races between
//! threads lose an update now and then, which only shifts the estimates):
//!
//! - [`Estimator`]: how often reads hit the page cache, from sampled
//!   `preadv2(RWF_NOWAIT)` attempts. A read that may miss must not block the
//!   caller, so inline `pread(2)`s are only used while the cache is hot.
//! - [`Batching`]: whether the caller issues several operations before it
//!   steps. The ring pays off when one `io_uring_enter` carries several
//!   operations; for one at a time a plain system call is cheaper. The
//!   ring's `step` reports how many operations each submission carried, and
//!   reads are served inline only while those were lone ones. Since inline
//!   reads never reach `step`, one read in [`PROBE_MIN`] to [`PROBE_MAX`]
//!   is sent to the ring anyway, as a probe: if the caller issues more before
//!   stepping, they join it and the next ones go to the ring too; if it steps
//!   at once, `step` runs the probe as a plain system call (it is alone), so
//!   a probe costs the caller one return through its wait, not a ring round
//!   trip.
//! - [`Chooser`]: while the caller batches and the cache is hot, which of
//!   the two is the faster choice for cached reads, measured rather than
//!   assumed. One `io_uring_enter` for many reads saves system calls, but
//!   each read through the ring costs more work in user space (queueing,
//!   reaping, finishing later); which wins depends on the kernel and the
//!   CPU's system-call cost. So the two take turns for a few epochs of
//!   [`EPOCH`] reads, timed by the clock, and the faster one serves the
//!   next [`EXPLOIT_EPOCHS`] epochs before the next comparison.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

use super::InlineReads;

/// Where a read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// A plain `pread(2)`.
    Blocking,
    /// `preadv2(RWF_NOWAIT)`, then the ring for what it did not read.
    NoWait,
    /// To the ring (submitted by the next `step`).
    Ring,
}

/// Estimates how often reads hit the page cache, from `RWF_NOWAIT`
/// attempts: an exponential moving average in 1/65536ths.
///
/// Outside the hot state one inline read in [`SAMPLE_MIN`] is an
/// `RWF_NOWAIT` sample even where the plan would skip it. In the hot state
/// every sample that hits doubles the interval up to [`SAMPLE_MAX`] (a
/// sample costs about a tenth of a cached read more than a `pread`), and a
/// miss resets it.
pub(super) struct Estimator {
    hit_rate: AtomicU32,
    /// Reads planned so far, for sampling and probing.
    reads: AtomicU32,
    /// A power of two.
    sample_every: AtomicU32,
}

const ONE: u32 = 1 << 16;
/// Above this hit rate, inline reads are plain `pread`s.
const HOT: u32 = ONE / 100 * 98;
/// Below it, reads go straight to the ring.
const COLD: u32 = ONE / 4;
const SAMPLE_MIN: u32 = 16;
const SAMPLE_MAX: u32 = 128;

impl Estimator {
    pub(super) fn new() -> Self {
        Self {
            hit_rate: AtomicU32::new(ONE / 10 * 9),
            reads: AtomicU32::new(0),
            sample_every: AtomicU32::new(SAMPLE_MIN),
        }
    }

    /// The plan of a read: `ring_busy` says whether the ring holds any
    /// operation (issued, queued or in flight).
    pub(super) fn plan(
        &self,
        mode: InlineReads,
        ring_busy: bool,
        batching: &Batching,
        chooser: &Chooser,
    ) -> Plan {
        if mode == InlineReads::Never {
            return Plan::Ring;
        }
        // A plain load and store: a lost count only shifts the sampling.
        let n = self.reads.load(Ordering::Relaxed);
        self.reads.store(n.wrapping_add(1), Ordering::Relaxed);
        let rate = self.hit_rate.load(Ordering::Relaxed);
        let sample = n & (self.sample_every.load(Ordering::Relaxed) - 1) == 0;
        if batching.on() {
            // The caller batches. Samples keep the hit rate current; hot
            // reads go where the last comparison found them faster; the
            // others join the ring.
            if sample {
                return Plan::NoWait;
            }
            let hot = rate >= HOT && mode == InlineReads::Adaptive;
            if hot && chooser.next_read() == Path::Inline {
                return Plan::Blocking;
            }
            return Plan::Ring;
        }
        if ring_busy || batching.probe_due(n) {
            // Join what is in the ring (one submission carries all of it),
            // or probe whether the caller batches.
            return Plan::Ring;
        }
        if sample {
            Plan::NoWait
        } else if mode == InlineReads::Adaptive && rate >= HOT {
            Plan::Blocking
        } else if rate < COLD {
            Plan::Ring
        } else {
            Plan::NoWait
        }
    }

    /// Records the outcome of an `RWF_NOWAIT` attempt.
    pub(super) fn record(&self, hit: bool) {
        let rate = i64::from(self.hit_rate.load(Ordering::Relaxed));
        let target = if hit { i64::from(ONE) } else { 0 };
        let next = (rate + (target - rate) / 32) as u32;
        self.hit_rate.store(next, Ordering::Relaxed);
        let every = self.sample_every.load(Ordering::Relaxed);
        let every = match (hit, next >= HOT) {
            (true, true) => (every * 2).min(SAMPLE_MAX),
            (true, false) => every,
            (false, _) => SAMPLE_MIN,
        };
        self.sample_every.store(every, Ordering::Relaxed);
    }
}

/// The two ways to serve cached reads that [`Chooser`] compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Path {
    Ring = 0,
    Inline = 1,
}

/// Compares the ring and inline reads by the time per read of whole
/// epochs, and picks the faster.
///
/// A comparison runs [`TRIALS`] epochs of each, alternating; each side
/// keeps its fastest epoch (other processes' load only ever adds time), and
/// the ring wins only by a margin of 3%, since inline reads are simpler.
/// The winner then serves [`EXPLOIT_EPOCHS`] epochs. Counters are relaxed
/// atomics: threads sharing a backend mix their reads into the epochs.
pub(super) struct Chooser {
    base: Instant,
    reads: AtomicU32,
    epoch_start: AtomicU64,
    /// Below `2 * TRIALS`: comparing (even steps ring, odd inline); at it:
    /// serving `choice`.
    step: AtomicU32,
    exploit_left: AtomicU32,
    choice: AtomicU8,
    /// The fastest epoch of each side in this comparison, in nanoseconds.
    best: [AtomicU64; 2],
}

/// Reads per epoch.
const EPOCH: u32 = 256;
/// Epochs of each side per comparison.
const TRIALS: u32 = 3;
/// Epochs the winner serves before the next comparison.
const EXPLOIT_EPOCHS: u32 = 64;

impl Chooser {
    pub(super) fn new() -> Self {
        Self {
            base: Instant::now(),
            reads: AtomicU32::new(0),
            epoch_start: AtomicU64::new(0),
            step: AtomicU32::new(0),
            exploit_left: AtomicU32::new(0),
            choice: AtomicU8::new(Path::Inline as u8),
            best: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
        }
    }

    /// The path of the next cached read while the caller batches; closes
    /// an epoch every [`EPOCH`] reads.
    pub(super) fn next_read(&self) -> Path {
        let n = self.reads.load(Ordering::Relaxed).wrapping_add(1);
        self.reads.store(n, Ordering::Relaxed);
        if n % EPOCH == 0 {
            let now = self.base.elapsed().as_nanos() as u64;
            let took = now.saturating_sub(self.epoch_start.swap(now, Ordering::Relaxed));
            self.end_epoch(took);
        }
        self.current()
    }

    fn current(&self) -> Path {
        let step = self.step.load(Ordering::Relaxed);
        let side = if step < 2 * TRIALS {
            (step % 2) as u8
        } else {
            self.choice.load(Ordering::Relaxed)
        };
        if side == Path::Ring as u8 {
            Path::Ring
        } else {
            Path::Inline
        }
    }

    /// An epoch of the current path took `took` nanoseconds.
    fn end_epoch(&self, took: u64) {
        let step = self.step.load(Ordering::Relaxed);
        if step >= 2 * TRIALS {
            let left = self.exploit_left.load(Ordering::Relaxed);
            if left <= 1 {
                // Compare again; the epoch that ends next is a fresh one.
                self.step.store(0, Ordering::Relaxed);
            } else {
                self.exploit_left.store(left - 1, Ordering::Relaxed);
            }
            return;
        }
        let best = &self.best[(step % 2) as usize];
        best.store(best.load(Ordering::Relaxed).min(took), Ordering::Relaxed);
        if step + 1 < 2 * TRIALS {
            self.step.store(step + 1, Ordering::Relaxed);
            return;
        }
        let ring = self.best[Path::Ring as usize].swap(u64::MAX, Ordering::Relaxed);
        let inline = self.best[Path::Inline as usize].swap(u64::MAX, Ordering::Relaxed);
        let winner = if u128::from(ring) * 100 < u128::from(inline) * 97 {
            Path::Ring
        } else {
            Path::Inline
        };
        self.choice.store(winner as u8, Ordering::Relaxed);
        self.exploit_left.store(EXPLOIT_EPOCHS, Ordering::Relaxed);
        self.step.store(2 * TRIALS, Ordering::Relaxed);
    }

    /// The path the last comparison chose (for statistics).
    pub(super) fn choice(&self) -> Path {
        if self.choice.load(Ordering::Relaxed) == Path::Ring as u8 {
            Path::Ring
        } else {
            Path::Inline
        }
    }
}

/// Whether the caller batches: issues several operations before stepping.
///
/// On while recent submissions carried several operations; off after
/// [`LONE_TO_LEAVE`] lone ones in a row. While off, one read in
/// `probe_every` goes to the ring as a probe; the interval doubles with
/// every lone submission, from [`PROBE_MIN`] up to [`PROBE_MAX`], and
/// returns to the minimum when a submission carries several.
pub(super) struct Batching {
    on: AtomicBool,
    lone_in_a_row: AtomicU32,
    /// A power of two.
    probe_every: AtomicU32,
}

/// Lone submissions in a row that end batching.
const LONE_TO_LEAVE: u32 = 4;
const PROBE_MIN: u32 = 16;
const PROBE_MAX: u32 = 256;

impl Batching {
    pub(super) fn new() -> Self {
        Self {
            on: AtomicBool::new(false),
            lone_in_a_row: AtomicU32::new(0),
            probe_every: AtomicU32::new(PROBE_MIN),
        }
    }

    pub(super) fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Whether read number `n` is a probe. Half an interval out of phase
    /// with the estimator's samples, so the two do not fall on one read.
    fn probe_due(&self, n: u32) -> bool {
        let every = self.probe_every.load(Ordering::Relaxed);
        n.wrapping_add(every / 2) & (every - 1) == 0
    }

    /// A submission by `step` carried `ops` operations issued since the
    /// previous one (1: a lone operation, run as a plain system call).
    pub(super) fn record(&self, ops: usize) {
        if ops >= 2 {
            self.on.store(true, Ordering::Relaxed);
            self.lone_in_a_row.store(0, Ordering::Relaxed);
            self.probe_every.store(PROBE_MIN, Ordering::Relaxed);
        } else {
            let lone = self.lone_in_a_row.load(Ordering::Relaxed) + 1;
            self.lone_in_a_row.store(lone, Ordering::Relaxed);
            if lone >= LONE_TO_LEAVE {
                self.on.store(false, Ordering::Relaxed);
            }
            let every = self.probe_every.load(Ordering::Relaxed);
            self.probe_every
                .store((every * 2).min(PROBE_MAX), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans(e: &Estimator, b: &Batching, n: usize) -> Vec<Plan> {
        (0..n)
            .map(|_| e.plan(InlineReads::Adaptive, false, b, &Chooser::new()))
            .collect()
    }

    #[test]
    fn an_idle_ring_serves_hot_reads_inline_with_rare_probes() {
        let (e, b) = (Estimator::new(), Batching::new());
        for _ in 0..200 {
            e.record(true);
        }
        let p = plans(&e, &b, 1024);
        let ring = p.iter().filter(|&&p| p == Plan::Ring).count();
        assert_eq!(ring, 1024 / PROBE_MIN as usize, "one probe per interval");
        assert!(p.iter().filter(|&&p| p == Plan::Blocking).count() > 900);
        // Lone submissions stretch the probe interval.
        for _ in 0..10 {
            b.record(1);
        }
        let p = plans(&e, &b, 1024);
        let ring = p.iter().filter(|&&p| p == Plan::Ring).count();
        assert_eq!(ring, 1024 / PROBE_MAX as usize);
    }

    #[test]
    fn batches_send_reads_to_the_ring_until_lone_submissions_return() {
        let (e, b) = (Estimator::new(), Batching::new());
        b.record(32);
        // Not hot yet: every read joins the ring but the samples, which
        // keep the hit rate current.
        let p = plans(&e, &b, 160);
        assert_eq!(p.iter().filter(|&&p| p == Plan::NoWait).count(), 10);
        assert!(p.iter().all(|&p| p != Plan::Blocking));
        for _ in 0..LONE_TO_LEAVE - 1 {
            b.record(1);
        }
        assert!(b.on(), "a few lone submissions do not end batching");
        b.record(1);
        assert!(!b.on());
        assert!(plans(&e, &b, 100).contains(&Plan::NoWait));
    }

    #[test]
    fn a_busy_ring_or_never_takes_every_read() {
        let (e, b) = (Estimator::new(), Batching::new());
        let c = Chooser::new();
        assert_eq!(e.plan(InlineReads::Adaptive, true, &b, &c), Plan::Ring);
        assert_eq!(e.plan(InlineReads::Never, false, &b, &c), Plan::Ring);
    }

    #[test]
    fn cold_reads_go_to_the_ring() {
        let (e, b) = (Estimator::new(), Batching::new());
        for _ in 0..200 {
            e.record(false);
        }
        let p = plans(&e, &b, 64);
        assert!(p.iter().filter(|&&p| p == Plan::Ring).count() > 50);
    }

    #[test]
    fn the_chooser_compares_both_paths_then_keeps_the_faster() {
        for (ring_ns, inline_ns, winner) in [
            (100, 200, Path::Ring),
            (200, 100, Path::Inline),
            // Within the margin: inline, the simpler.
            (99, 100, Path::Inline),
        ] {
            let c = Chooser::new();
            let mut seen = Vec::new();
            for _ in 0..2 * TRIALS {
                let side = c.current();
                seen.push(side);
                c.end_epoch(if side == Path::Ring {
                    ring_ns
                } else {
                    inline_ns
                });
            }
            assert_eq!(
                seen.iter().filter(|&&s| s == Path::Ring).count(),
                TRIALS as usize
            );
            assert_eq!(c.current(), winner);
            for _ in 0..EXPLOIT_EPOCHS - 1 {
                c.end_epoch(1);
                assert_eq!(c.current(), winner, "the winner serves its epochs");
            }
            c.end_epoch(1);
            assert_eq!(c.current(), Path::Ring, "then the next comparison starts");
        }
    }

    #[test]
    fn hot_batched_reads_follow_the_chooser() {
        let (e, b, c) = (Estimator::new(), Batching::new(), Chooser::new());
        for _ in 0..200 {
            e.record(true);
        }
        b.record(32);
        let mut ring = 0;
        for _ in 0..EPOCH * 2 * TRIALS {
            if e.plan(InlineReads::Adaptive, true, &b, &c) == Plan::Ring {
                ring += 1;
            }
        }
        // Half the epochs of a comparison are ring epochs (give or take
        // the inline samples).
        let half = (EPOCH * TRIALS) as i64;
        assert!((i64::from(ring) - half).abs() < 64, "{ring}");
    }
}
