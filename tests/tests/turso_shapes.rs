//! Three shapes of hand-written state machines from Turso's core, each
//! written once by hand (explicit state enum, as Turso does) and once with
//! `#[resumable]`, run side by side under the seeded deferred driver: both
//! must issue the same I/O, have the same side effects and return the same
//! result as the straight-line execution.
//!
//! 1. Freeing an overflow chain: read a page, learn the next one, free the
//!    page, loop (the double-free pitfall if the free runs before a wait).
//! 2. A commit that fans out its page writes as one `CompletionGroup`, then
//!    fsyncs once (the "group linked twice" pitfall on re-entry).
//! 3. A balance-like operation that keeps a sub-machine's state inside its
//!    own state while it drives it for several children.
#![deny(warnings)]

use std::collections::BTreeMap;

use io_model::{io_yield_one, return_if_io, Completion, CompletionGroup, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

/// A toy pager: pages chained by a `next` pointer, a freelist, and I/O
/// through the test scheduler.
struct Pager {
    s: Sched,
    next: BTreeMap<u32, u32>,
    freelist: Vec<u32>,
    dirty: Vec<u32>,
    synced: u32,
}

impl Pager {
    fn new(s: &Sched) -> Self {
        let next = (1..=5)
            .map(|p| (p, if p < 5 { p + 1 } else { 0 }))
            .collect();
        Pager {
            s: s.clone(),
            next,
            freelist: Vec::new(),
            dirty: vec![3, 1, 4],
            synced: 0,
        }
    }
}

// ---------------------------------------------------------------- shape 1

#[derive(Default)]
enum FreeChainHand {
    #[default]
    Start,
    Reading {
        page: u32,
        c: Completion,
    },
    Freeing {
        page: u32,
        next: u32,
        c: Completion,
    },
}

/// Hand-written, with every side effect after its wait.
fn free_chain_hand(st: &mut FreeChainHand, p: &mut Pager, first: u32) -> Result<IOResult<u32>> {
    loop {
        match std::mem::take(st) {
            FreeChainHand::Start => {
                let c = p.s.io(&format!("read {first}"));
                *st = FreeChainHand::Reading { page: first, c };
            }
            FreeChainHand::Reading { page, c } => {
                if !c.finished() {
                    *st = FreeChainHand::Reading { page, c: c.clone() };
                    io_yield_one!(c);
                }
                let next = p.next[&page];
                let c = p.s.io(&format!("free {page}"));
                *st = FreeChainHand::Freeing { page, next, c };
            }
            FreeChainHand::Freeing { page, next, c } => {
                if !c.finished() {
                    *st = FreeChainHand::Freeing {
                        page,
                        next,
                        c: c.clone(),
                    };
                    io_yield_one!(c);
                }
                p.freelist.push(page);
                p.s.log(format!("freed {page}"));
                if next == 0 {
                    return Ok(IOResult::Done(p.freelist.len() as u32));
                }
                let c = p.s.io(&format!("read {next}"));
                *st = FreeChainHand::Reading { page: next, c };
            }
        }
    }
}

struct Chain {
    st: FreeChainState,
}

#[io_model::resumable]
impl Chain {
    /// The same, straight-line.
    #[resumable(state = self.st)]
    fn free_chain(&mut self, p: &mut Pager, first: u32) -> Result<IOResult<u32>> {
        let mut page: u32 = first;
        loop {
            let read = p.s.io(&format!("read {page}"));
            wait!(read);
            let next: u32 = p.next[&page];
            let free = p.s.io(&format!("free {page}"));
            wait!(free);
            p.freelist.push(page);
            p.s.log(format!("freed {page}"));
            if next == 0 {
                break;
            }
            page = next;
        }
        Ok(IOResult::Done(p.freelist.len() as u32))
    }
}

/// The classic bug: the free is recorded before the wait, so it runs again
/// every time the caller comes back early.
fn free_chain_naive(
    page: &mut u32,
    p: &mut Pager,
    pending: &mut Option<Completion>,
) -> Result<IOResult<u32>> {
    loop {
        p.freelist.push(*page); // side effect before the yield point
        if pending.is_none() {
            *pending = Some(p.s.io(&format!("free {page}")));
        }
        let c = pending.clone().expect("set above");
        if !c.finished() {
            io_yield_one!(c);
        }
        *pending = None;
        let next = p.next[&*page];
        if next == 0 {
            return Ok(IOResult::Done(p.freelist.len() as u32));
        }
        *page = next;
    }
}

#[test]
fn overflow_chain_free_hand_and_generated_agree() {
    let hand = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut st = FreeChainHand::Start;
        let n = s.run(|| free_chain_hand(&mut st, &mut p, 2))?;
        Ok::<_, io_model::Error>((n, p.freelist))
    });
    let generated = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut c = Chain {
            st: FreeChainState::default(),
        };
        let n = s.run(|| c.free_chain(&mut p, 2))?;
        Ok::<_, io_model::Error>((n, p.freelist))
    });
    assert_eq!(hand, generated);
    assert_eq!(hand.iter().filter(|l| l.starts_with("freed")).count(), 4);
}

#[test]
fn the_naive_version_double_frees_under_deferred_io() {
    let mut doubled = 0;
    for seed in 0..50 {
        let s = Sched::deferred(seed);
        let mut p = Pager::new(&s);
        let (mut page, mut pending) = (2, None);
        s.run(|| free_chain_naive(&mut page, &mut p, &mut pending))
            .unwrap();
        let mut sorted = p.freelist.clone();
        sorted.dedup();
        if sorted.len() != p.freelist.len() {
            doubled += 1;
        }
    }
    assert!(
        doubled > 0,
        "the deferred driver should expose the double free"
    );
}

// ---------------------------------------------------------------- shape 2

#[derive(Default)]
enum CommitHand {
    #[default]
    Start,
    Writing(Completion),
    Syncing(Completion),
}

/// Hand-written: the group is built once and kept in the state.
fn commit_hand(st: &mut CommitHand, p: &mut Pager) -> Result<IOResult<usize>> {
    loop {
        match st {
            CommitHand::Start => {
                let mut group = CompletionGroup::new(|_| {});
                for page in &p.dirty {
                    group.add(&p.s.io(&format!("write {page}")));
                }
                *st = CommitHand::Writing(group.build());
            }
            CommitHand::Writing(c) => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = CommitHand::Start;
                    return Err(e.into());
                }
                *st = CommitHand::Syncing(p.s.io("fsync"));
            }
            CommitHand::Syncing(c) => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                let err = c.get_error();
                *st = CommitHand::Start;
                if let Some(e) = err {
                    return Err(e.into());
                }
                p.synced += 1;
                let n = p.dirty.len();
                p.dirty.clear();
                p.s.log(format!("committed {n}"));
                return Ok(IOResult::Done(n));
            }
        }
    }
}

/// The same, straight-line.
#[io_model::resumable(state = st)]
fn commit(st: &mut CommitState, p: &mut Pager) -> Result<IOResult<usize>> {
    let writes: Vec<Completion> = p
        .dirty
        .iter()
        .map(|page| p.s.io(&format!("write {page}")))
        .collect();
    wait_all!(writes);
    let sync = p.s.io("fsync");
    wait!(sync);
    p.synced += 1;
    let n: usize = p.dirty.len();
    p.dirty.clear();
    p.s.log(format!("committed {n}"));
    Ok(IOResult::Done(n))
}

#[test]
fn commit_fan_out_hand_and_generated_agree() {
    let hand = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut st = CommitHand::Start;
        let n = s.run(|| commit_hand(&mut st, &mut p))?;
        Ok::<_, io_model::Error>((n, p.synced, p.dirty))
    });
    let generated = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut st = CommitState::default();
        let n = s.run(|| commit(&mut st, &mut p))?;
        Ok::<_, io_model::Error>((n, p.synced, p.dirty))
    });
    assert_eq!(hand, generated);
    assert_eq!(hand.iter().filter(|l| l.as_str() == "io fsync").count(), 1);
}

#[test]
fn commit_errors_agree_too() {
    for seed in 0..50 {
        let run_hand = {
            let s = Sched::deferred(seed).failing(30);
            let mut p = Pager::new(&s);
            let mut st = CommitHand::Start;
            let r = s
                .run(|| commit_hand(&mut st, &mut p))
                .map_err(|e| e.to_string());
            (r, s.entries())
        };
        let run_gen = {
            let s = Sched::deferred(seed).failing(30);
            let mut p = Pager::new(&s);
            let mut st = CommitState::default();
            let r = s.run(|| commit(&mut st, &mut p)).map_err(|e| e.to_string());
            assert!(st.is_idle());
            (r, s.entries())
        };
        assert_eq!(run_hand, run_gen, "seed {seed}");
    }
}

// ---------------------------------------------------------------- shape 3

/// A sub-machine: load one child page.
#[derive(Default)]
enum LoadChild {
    #[default]
    Start,
    Waiting(u32, Completion),
}

fn load_child(st: &mut LoadChild, p: &mut Pager, child: u32) -> Result<IOResult<u32>> {
    loop {
        match st {
            LoadChild::Start => *st = LoadChild::Waiting(child, p.s.io(&format!("child {child}"))),
            LoadChild::Waiting(c_page, c) => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                let v = *c_page * 100;
                *st = LoadChild::Start;
                return Ok(IOResult::Done(v));
            }
        }
    }
}

/// Hand-written: the sub-machine's state lives inside our variant.
enum BalanceHand {
    Start,
    Loading {
        idx: usize,
        sum: u32,
        sub: LoadChild,
    },
}

fn balance_hand(st: &mut BalanceHand, p: &mut Pager, children: &[u32]) -> Result<IOResult<u32>> {
    loop {
        match st {
            BalanceHand::Start => {
                *st = BalanceHand::Loading {
                    idx: 0,
                    sum: 0,
                    sub: LoadChild::Start,
                }
            }
            BalanceHand::Loading { idx, sum, sub } => {
                if *idx == children.len() {
                    let total = *sum;
                    *st = BalanceHand::Start;
                    p.s.log(format!("balanced {total}"));
                    return Ok(IOResult::Done(total));
                }
                let v = return_if_io!(load_child(sub, p, children[*idx]));
                *sum += v;
                p.s.log(format!("child {} -> {}", children[*idx], *sum));
                *idx += 1;
            }
        }
    }
}

/// The same, straight-line: the sub-machine's state is a local, stored in
/// the variant while `call!` waits.
#[io_model::resumable(state = st)]
fn balance(st: &mut BalanceState, p: &mut Pager, children: &[u32]) -> Result<IOResult<u32>> {
    let mut sum: u32 = 0;
    let mut sub: LoadChild = LoadChild::Start;
    for idx in 0..children.len() {
        let v: u32 = call!(load_child(&mut sub, p, children[idx]));
        sum += v;
        p.s.log(format!("child {} -> {}", children[idx], sum));
    }
    p.s.log(format!("balanced {sum}"));
    Ok(IOResult::Done(sum))
}

#[test]
fn sub_machine_in_a_variant_hand_and_generated_agree() {
    let children = [4, 1, 3, 5];
    let hand = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut st = BalanceHand::Start;
        s.run(|| balance_hand(&mut st, &mut p, &children))
    });
    let generated = same_as_straight_line(200, |s| {
        let mut p = Pager::new(s);
        let mut st = BalanceState::default();
        s.run(|| balance(&mut st, &mut p, &children))
    });
    assert_eq!(hand, generated);
    assert_eq!(hand.last().unwrap(), "balanced 1300");
}
