//! A loop with an index: `while i < n`, one wait per trip, a running sum.

use io_model::{io_yield_one, Completion, IOResult, Result};

use super::{runners, Disk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "index_loop",
    what: "while loop with an index, 8 waits",
    run,
    sizes,
    source: include_str!("index_loop.rs"),
    hand_enums: &["HandIndexLoop"],
};

/// Trips round the loop per run.
const N: u32 = 8;

#[derive(Default)]
pub enum HandIndexLoop {
    #[default]
    Start,
    Reading {
        i: u32,
        sum: u64,
        c: Completion,
    },
}

#[inline(never)]
pub fn index_loop_hand(st: &mut HandIndexLoop, d: &mut Disk, n: u32) -> Result<IOResult<u64>> {
    loop {
        match st {
            HandIndexLoop::Start => {
                if n == 0 {
                    return Ok(IOResult::Done(0));
                }
                let c = d.io();
                *st = HandIndexLoop::Reading { i: 0, sum: 0, c };
            }
            HandIndexLoop::Reading { i, sum, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandIndexLoop::Start;
                    return Err(e.into());
                }
                *sum += d.value(*i as u64);
                *i += 1;
                if *i < n {
                    *c = d.io();
                    continue;
                }
                let sum = *sum;
                *st = HandIndexLoop::Start;
                return Ok(IOResult::Done(sum));
            }
        }
    }
}

#[io_model::resumable(state = st)]
#[inline(never)]
pub fn index_loop(st: &mut IndexLoopState, d: &mut Disk, n: u32) -> Result<IOResult<u64>> {
    let mut sum: u64 = 0;
    let mut i: u32 = 0;
    while i < n {
        let c = d.io();
        wait!(c);
        sum += d.value(i as u64);
        i += 1;
    }
    Ok(IOResult::Done(sum))
}

pub async fn index_loop_async(d: &mut Disk, n: u32) -> u64 {
    let mut sum: u64 = 0;
    let mut i: u32 = 0;
    while i < n {
        let c = d.io();
        Ready(c).await;
        sum += d.value(i as u64);
        i += 1;
    }
    sum
}

runners!(index_loop_hand: HandIndexLoop, index_loop: IndexLoopState, |_i| (N));

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandIndexLoop>(),
        generated: size_of::<IndexLoopState>(),
        async_fn: std::mem::size_of_val(&index_loop_async(&mut Disk::new(true), N)),
        note: "",
        each: vec![
            ("HandIndexLoop", size_of::<HandIndexLoop>()),
            ("IndexLoopState", size_of::<IndexLoopState>()),
        ],
    }
}
