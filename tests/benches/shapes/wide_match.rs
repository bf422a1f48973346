//! A wide `match`: eight arms, each holding different locals across a wait
//! of its own, the match's value used after it.

use io_model::{io_yield_one, Completion, IOResult, Result};

use super::{runners, Disk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "wide_match",
    what: "match of 8 arms, a wait in each, its value used after",
    run,
    sizes,
    source: include_str!("wide_match.rs"),
    hand_enums: &["HandWide"],
};

#[derive(Default)]
pub enum HandWide {
    #[default]
    Start,
    A0 {
        base: u64,
        c: Completion,
    },
    A1 {
        a: u64,
        c: Completion,
    },
    A2 {
        a: u64,
        b: u32,
        c: Completion,
    },
    A3 {
        base: u64,
        c: Completion,
    },
    A4 {
        a: u64,
        base: u64,
        c: Completion,
    },
    A5 {
        base: u64,
        a: u16,
        c: Completion,
    },
    A6 {
        a: u64,
        b: u64,
        c: Completion,
    },
    A7 {
        base: u64,
        c: Completion,
    },
}

/// Returns while `$c` is unfinished; on its error, resets the state and
/// returns the error.
macro_rules! ready {
    ($st:expr, $c:expr) => {
        if !$c.finished() {
            io_yield_one!($c.clone());
        }
        if let Some(e) = $c.get_error() {
            *$st = HandWide::Start;
            return Err(e.into());
        }
    };
}

#[inline(never)]
pub fn wide_match_hand(st: &mut HandWide, d: &mut Disk, kind: u64) -> Result<IOResult<u64>> {
    loop {
        let r = match st {
            HandWide::Start => {
                let base = d.value(kind);
                let c = d.io();
                *st = match kind % 8 {
                    0 => HandWide::A0 { base, c },
                    1 => HandWide::A1 {
                        a: base.wrapping_add(1),
                        c,
                    },
                    2 => HandWide::A2 {
                        a: base ^ 2,
                        b: kind as u32,
                        c,
                    },
                    3 => HandWide::A3 { base, c },
                    4 => HandWide::A4 {
                        a: base.rotate_left(4),
                        base,
                        c,
                    },
                    5 => HandWide::A5 {
                        base,
                        a: kind as u16,
                        c,
                    },
                    6 => HandWide::A6 {
                        a: base.wrapping_mul(6),
                        b: base >> 6,
                        c,
                    },
                    _ => HandWide::A7 { base, c },
                };
                continue;
            }
            HandWide::A0 { base, c } => {
                ready!(st, c);
                *base
            }
            HandWide::A1 { a, c } => {
                ready!(st, c);
                a.wrapping_mul(3)
            }
            HandWide::A2 { a, b, c } => {
                ready!(st, c);
                a.wrapping_add(u64::from(*b))
            }
            HandWide::A3 { base, c } => {
                ready!(st, c);
                d.value(*base)
            }
            HandWide::A4 { a, base, c } => {
                ready!(st, c);
                *a ^ *base
            }
            HandWide::A5 { base, a, c } => {
                ready!(st, c);
                base.wrapping_add(u64::from(*a))
            }
            HandWide::A6 { a, b, c } => {
                ready!(st, c);
                a.wrapping_sub(*b)
            }
            HandWide::A7 { base, c } => {
                ready!(st, c);
                !*base
            }
        };
        *st = HandWide::Start;
        return Ok(IOResult::Done(r ^ kind));
    }
}

#[io_model::resumable(state = st)]
#[inline(never)]
pub fn wide_match(st: &mut WideMatchState, d: &mut Disk, kind: u64) -> Result<IOResult<u64>> {
    let base: u64 = d.value(kind);
    let r: u64 = match kind % 8 {
        0 => {
            let c = d.io();
            wait!(c);
            base
        }
        1 => {
            let a: u64 = base.wrapping_add(1);
            let c = d.io();
            wait!(c);
            a.wrapping_mul(3)
        }
        2 => {
            let a: u64 = base ^ 2;
            let b: u32 = kind as u32;
            let c = d.io();
            wait!(c);
            a.wrapping_add(u64::from(b))
        }
        3 => {
            let c = d.io();
            wait!(c);
            d.value(base)
        }
        4 => {
            let a: u64 = base.rotate_left(4);
            let c = d.io();
            wait!(c);
            a ^ base
        }
        5 => {
            let a: u16 = kind as u16;
            let c = d.io();
            wait!(c);
            base.wrapping_add(u64::from(a))
        }
        6 => {
            let a: u64 = base.wrapping_mul(6);
            let b: u64 = base >> 6;
            let c = d.io();
            wait!(c);
            a.wrapping_sub(b)
        }
        _ => {
            let c = d.io();
            wait!(c);
            !base
        }
    };
    Ok(IOResult::Done(r ^ kind))
}

pub async fn wide_match_async(d: &mut Disk, kind: u64) -> u64 {
    let base: u64 = d.value(kind);
    let r: u64 = match kind % 8 {
        0 => {
            let c = d.io();
            Ready(c).await;
            base
        }
        1 => {
            let a: u64 = base.wrapping_add(1);
            let c = d.io();
            Ready(c).await;
            a.wrapping_mul(3)
        }
        2 => {
            let a: u64 = base ^ 2;
            let b: u32 = kind as u32;
            let c = d.io();
            Ready(c).await;
            a.wrapping_add(u64::from(b))
        }
        3 => {
            let c = d.io();
            Ready(c).await;
            d.value(base)
        }
        4 => {
            let a: u64 = base.rotate_left(4);
            let c = d.io();
            Ready(c).await;
            a ^ base
        }
        5 => {
            let a: u16 = kind as u16;
            let c = d.io();
            Ready(c).await;
            base.wrapping_add(u64::from(a))
        }
        6 => {
            let a: u64 = base.wrapping_mul(6);
            let b: u64 = base >> 6;
            let c = d.io();
            Ready(c).await;
            a.wrapping_sub(b)
        }
        _ => {
            let c = d.io();
            Ready(c).await;
            !base
        }
    };
    r ^ kind
}

runners!(wide_match_hand: HandWide, wide_match: WideMatchState, |i| (i));

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandWide>(),
        generated: size_of::<WideMatchState>(),
        async_fn: std::mem::size_of_val(&wide_match_async(&mut Disk::new(true), 0)),
        note: "",
        each: vec![
            ("HandWide", size_of::<HandWide>()),
            ("WideMatchState", size_of::<WideMatchState>()),
        ],
    }
}
