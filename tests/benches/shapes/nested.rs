//! Nested loops: `for` rows, `for` columns, a wait for each cell and a
//! write (another wait) after each row.

use io_model::{io_yield_one, Completion, IOResult, Result};

use super::{runners, Disk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "nested",
    what: "nested for loops 4 x 4, a write after each row (20 waits)",
    run,
    sizes,
    source: include_str!("nested.rs"),
    hand_enums: &["HandNested"],
};

const ROWS: u32 = 4;
const COLS: u32 = 4;

#[derive(Default)]
pub enum HandNested {
    #[default]
    Start,
    Reading {
        r: u32,
        k: u32,
        row: u64,
        total: u64,
        c: Completion,
    },
    Writing {
        r: u32,
        row: u64,
        total: u64,
        c: Completion,
    },
}

impl HandNested {
    /// The start of row `r`: its first read, or its write if it has no
    /// cells.
    #[inline]
    fn row(d: &mut Disk, r: u32, total: u64, cols: u32) -> Self {
        let c = d.io();
        if cols > 0 {
            HandNested::Reading {
                r,
                k: 0,
                row: 0,
                total,
                c,
            }
        } else {
            HandNested::Writing {
                r,
                row: 0,
                total,
                c,
            }
        }
    }
}

#[inline(never)]
pub fn nested_hand(
    st: &mut HandNested,
    d: &mut Disk,
    rows: u32,
    cols: u32,
) -> Result<IOResult<u64>> {
    loop {
        match st {
            HandNested::Start => {
                if rows == 0 {
                    return Ok(IOResult::Done(0));
                }
                *st = HandNested::row(d, 0, 0, cols);
            }
            HandNested::Reading {
                r,
                k,
                row,
                total,
                c,
            } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandNested::Start;
                    return Err(e.into());
                }
                *row += d.value((*r * cols + *k) as u64);
                *k += 1;
                if *k < cols {
                    *c = d.io();
                    continue;
                }
                let (r, row, total) = (*r, *row, *total);
                let c = d.io();
                *st = HandNested::Writing { r, row, total, c };
            }
            HandNested::Writing { r, row, total, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandNested::Start;
                    return Err(e.into());
                }
                let total = total.wrapping_add(row.rotate_left(*r));
                let r = *r + 1;
                if r < rows {
                    *st = HandNested::row(d, r, total, cols);
                    continue;
                }
                *st = HandNested::Start;
                return Ok(IOResult::Done(total));
            }
        }
    }
}

#[io_model::resumable(state = st)]
#[inline(never)]
pub fn nested(st: &mut NestedState, d: &mut Disk, rows: u32, cols: u32) -> Result<IOResult<u64>> {
    let mut total: u64 = 0;
    for r in 0..rows {
        let mut row: u64 = 0;
        for k in 0..cols {
            let c = d.io();
            wait!(c);
            row += d.value((r * cols + k) as u64);
        }
        let w = d.io();
        wait!(w);
        total = total.wrapping_add(row.rotate_left(r));
    }
    Ok(IOResult::Done(total))
}

pub async fn nested_async(d: &mut Disk, rows: u32, cols: u32) -> u64 {
    let mut total: u64 = 0;
    for r in 0..rows {
        let mut row: u64 = 0;
        for k in 0..cols {
            let c = d.io();
            Ready(c).await;
            row += d.value((r * cols + k) as u64);
        }
        let w = d.io();
        Ready(w).await;
        total = total.wrapping_add(row.rotate_left(r));
    }
    total
}

runners!(nested_hand: HandNested, nested: NestedState, |_i| (ROWS, COLS));

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandNested>(),
        generated: size_of::<NestedState>(),
        async_fn: std::mem::size_of_val(&nested_async(&mut Disk::new(true), ROWS, COLS)),
        note: "",
        each: vec![
            ("HandNested", size_of::<HandNested>()),
            ("NestedState", size_of::<NestedState>()),
        ],
    }
}
