//! A `call!` chain three deep: `top` calls `mid` twice, each `mid` calls
//! `leaf` twice, each `leaf` waits once (4 waits per run). Each level's
//! state is a field of its own, as in Turso's pager and B-tree; an
//! `async fn` nests the callee's future inside the caller's instead
//! (rust-lang/rust#59087).

use io_model::{io_yield_one, return_if_io, Completion, IOResult, Result};

use super::{drive, Disk, HasDisk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "chain",
    what: "call! chain three deep (top, 2 mids, 4 leaves, 4 waits)",
    run,
    sizes,
    source: include_str!("chain.rs"),
    hand_enums: &["HandTop", "HandMid", "HandLeaf"],
};

#[derive(Default)]
pub enum HandLeaf {
    #[default]
    Start,
    Reading {
        c: Completion,
    },
}

#[derive(Default)]
pub enum HandMid {
    #[default]
    First,
    Second {
        a: u64,
    },
}

#[derive(Default)]
pub enum HandTop {
    #[default]
    First,
    Second {
        x: u64,
    },
}

pub struct HandChain {
    disk: Disk,
    top: HandTop,
    mid: HandMid,
    leaf: HandLeaf,
}

impl HasDisk for HandChain {
    #[inline]
    fn disk(&mut self) -> &mut Disk {
        &mut self.disk
    }
}

impl HandChain {
    fn leaf(&mut self, i: u64) -> Result<IOResult<u64>> {
        loop {
            match &mut self.leaf {
                HandLeaf::Start => {
                    let c = self.disk.io();
                    self.leaf = HandLeaf::Reading { c };
                }
                HandLeaf::Reading { c } => {
                    if !c.finished() {
                        io_yield_one!(c.clone());
                    }
                    if let Some(e) = c.get_error() {
                        self.leaf = HandLeaf::Start;
                        return Err(e.into());
                    }
                    self.leaf = HandLeaf::Start;
                    return Ok(IOResult::Done(self.disk.value(i)));
                }
            }
        }
    }

    fn mid(&mut self, i: u64) -> Result<IOResult<u64>> {
        loop {
            match self.mid {
                HandMid::First => {
                    let a = return_if_io!(self.leaf(i));
                    self.mid = HandMid::Second { a };
                }
                HandMid::Second { a } => {
                    let b = return_if_io!(self.leaf(i + 1));
                    self.mid = HandMid::First;
                    return Ok(IOResult::Done(a ^ b));
                }
            }
        }
    }

    #[inline(never)]
    pub fn top(&mut self, i: u64) -> Result<IOResult<u64>> {
        loop {
            match self.top {
                HandTop::First => {
                    let x = return_if_io!(self.mid(i));
                    self.top = HandTop::Second { x };
                }
                HandTop::Second { x } => {
                    let y = return_if_io!(self.mid(i + 2));
                    self.top = HandTop::First;
                    return Ok(IOResult::Done(x.wrapping_add(y)));
                }
            }
        }
    }
}

pub struct GenChain {
    disk: Disk,
    top: TopState,
    mid: MidState,
    leaf: LeafState,
}

impl HasDisk for GenChain {
    #[inline]
    fn disk(&mut self) -> &mut Disk {
        &mut self.disk
    }
}

#[io_model::resumable]
impl GenChain {
    #[resumable(state = self.leaf)]
    fn leaf(&mut self, i: u64) -> Result<IOResult<u64>> {
        let c = self.disk.io();
        wait!(c);
        Ok(IOResult::Done(self.disk.value(i)))
    }

    #[resumable(state = self.mid)]
    fn mid(&mut self, i: u64) -> Result<IOResult<u64>> {
        let a: u64 = call!(self.leaf(i));
        let b: u64 = call!(self.leaf(i + 1));
        Ok(IOResult::Done(a ^ b))
    }

    #[resumable(state = self.top)]
    #[inline(never)]
    pub fn top(&mut self, i: u64) -> Result<IOResult<u64>> {
        let x: u64 = call!(self.mid(i));
        let y: u64 = call!(self.mid(i + 2));
        Ok(IOResult::Done(x.wrapping_add(y)))
    }
}

async fn leaf_async(d: &mut Disk, i: u64) -> u64 {
    let c = d.io();
    Ready(c).await;
    d.value(i)
}

async fn mid_async(d: &mut Disk, i: u64) -> u64 {
    let a = leaf_async(d, i).await;
    let b = leaf_async(d, i + 1).await;
    a ^ b
}

pub async fn top_async(d: &mut Disk, i: u64) -> u64 {
    let x = mid_async(d, i).await;
    let y = mid_async(d, i + 2).await;
    x.wrapping_add(y)
}

#[inline(never)]
fn run_hand(d: &mut Disk, iters: u64) -> u64 {
    let mut ch = HandChain {
        disk: std::mem::replace(d, Disk::new(true)),
        top: HandTop::default(),
        mid: HandMid::default(),
        leaf: HandLeaf::default(),
    };
    let mut sum = 0u64;
    for i in 0..iters {
        sum = sum.wrapping_add(drive(&mut ch, |ch| ch.top(i)));
    }
    *d = ch.disk;
    sum
}

#[inline(never)]
fn run_generated(d: &mut Disk, iters: u64) -> u64 {
    let mut ch = GenChain {
        disk: std::mem::replace(d, Disk::new(true)),
        top: TopState::default(),
        mid: MidState::default(),
        leaf: LeafState::default(),
    };
    let mut sum = 0u64;
    for i in 0..iters {
        sum = sum.wrapping_add(drive(&mut ch, |ch| ch.top(i)));
    }
    *d = ch.disk;
    sum
}

fn run(v: Variant, d: &mut Disk, iters: u64) -> u64 {
    match v {
        Variant::Hand => run_hand(d, iters),
        Variant::Generated => run_generated(d, iters),
    }
}

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandTop>() + size_of::<HandMid>() + size_of::<HandLeaf>(),
        generated: size_of::<TopState>() + size_of::<MidState>() + size_of::<LeafState>(),
        async_fn: std::mem::size_of_val(&top_async(&mut Disk::new(true), 0)),
        note: "the three levels' states together (each is a field of its own); the async fn's future holds its callees'",
        each: vec![("HandTop", size_of::<HandTop>()), ("HandMid", size_of::<HandMid>()), ("HandLeaf", size_of::<HandLeaf>()), ("TopState", size_of::<TopState>()), ("MidState", size_of::<MidState>()), ("LeafState", size_of::<LeafState>())],
    }
}
