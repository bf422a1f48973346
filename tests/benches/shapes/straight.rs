//! A straight line: three waits, a value carried from each to the next, and
//! a 64-byte argument used after every wait. The argument is passed again
//! on each call, so neither machine stores it; an `async fn` must, and
//! rustc lays it out twice (rust-lang/rust#62958).

use io_model::{io_yield_one, Completion, IOResult, Result};

use super::{runners, Disk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "straight",
    what: "straight line, 3 waits, 64-byte argument held across",
    run,
    sizes,
    source: include_str!("straight.rs"),
    hand_enums: &["HandStraight"],
};

/// The argument held across every wait.
#[derive(Clone, Copy)]
pub struct Key(pub [u64; 8]);

#[derive(Default)]
pub enum HandStraight {
    #[default]
    Start,
    First {
        c: Completion,
    },
    Second {
        x: u64,
        c: Completion,
    },
    Third {
        y: u64,
        c: Completion,
    },
}

#[inline(never)]
pub fn straight_hand(st: &mut HandStraight, d: &mut Disk, key: Key) -> Result<IOResult<u64>> {
    loop {
        match st {
            HandStraight::Start => {
                let c = d.io();
                *st = HandStraight::First { c };
            }
            HandStraight::First { c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandStraight::Start;
                    return Err(e.into());
                }
                let x = d.value(key.0[0]);
                let c = d.io();
                *st = HandStraight::Second { x, c };
            }
            HandStraight::Second { x, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandStraight::Start;
                    return Err(e.into());
                }
                let y = *x ^ d.value(key.0[1]);
                let c = d.io();
                *st = HandStraight::Third { y, c };
            }
            HandStraight::Third { y, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandStraight::Start;
                    return Err(e.into());
                }
                let r = y.wrapping_add(key.0[7]);
                *st = HandStraight::Start;
                return Ok(IOResult::Done(r));
            }
        }
    }
}

#[io_model::resumable(state = st)]
#[inline(never)]
pub fn straight(st: &mut StraightState, d: &mut Disk, key: Key) -> Result<IOResult<u64>> {
    let a = d.io();
    wait!(a);
    let x: u64 = d.value(key.0[0]);
    let b = d.io();
    wait!(b);
    let y: u64 = x ^ d.value(key.0[1]);
    let c = d.io();
    wait!(c);
    Ok(IOResult::Done(y.wrapping_add(key.0[7])))
}

pub async fn straight_async(d: &mut Disk, key: Key) -> u64 {
    let a = d.io();
    Ready(a).await;
    let x: u64 = d.value(key.0[0]);
    let b = d.io();
    Ready(b).await;
    let y: u64 = x ^ d.value(key.0[1]);
    let c = d.io();
    Ready(c).await;
    y.wrapping_add(key.0[7])
}

fn key(i: u64) -> Key {
    Key([i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7])
}

runners!(straight_hand: HandStraight, straight: StraightState, |i| (key(i)));

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandStraight>(),
        generated: size_of::<StraightState>(),
        async_fn: std::mem::size_of_val(&straight_async(&mut Disk::new(true), key(0))),
        note: "",
        each: vec![
            ("HandStraight", size_of::<HandStraight>()),
            ("StraightState", size_of::<StraightState>()),
        ],
    }
}
