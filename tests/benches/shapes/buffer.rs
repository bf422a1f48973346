//! A large buffer live across suspensions: a 4 KiB page image is built
//! over four reads and held across the write of it (five waits).

use io_model::{io_yield_one, Completion, IOResult, Result};

use super::{runners, Disk, Ready, Shape, Sizes, Variant};

pub const SHAPE: Shape = Shape {
    name: "buffer",
    what: "4 KiB page image live across 5 waits",
    run,
    sizes,
    source: include_str!("buffer.rs"),
    hand_enums: &["HandBuffer"],
};

const QUARTER: usize = 1024;

/// A digest of the words the run wrote.
#[inline]
fn digest(page: &[u8; 4096]) -> u64 {
    page.chunks_exact(QUARTER)
        .map(|q| u64::from_le_bytes(q[..8].try_into().expect("8 bytes")))
        .fold(u64::from(page[4095]), |a, b| a.rotate_left(7) ^ b)
}

// The page lives in the state on purpose: that is the shape measured.
#[allow(clippy::large_enum_variant)]
#[derive(Default)]
pub enum HandBuffer {
    #[default]
    Start,
    /// `k` reads done; at 4, `c` is the write.
    Busy {
        page: [u8; 4096],
        k: usize,
        c: Completion,
    },
}

#[inline(never)]
pub fn buffer_hand(st: &mut HandBuffer, d: &mut Disk, seed: u64) -> Result<IOResult<u64>> {
    loop {
        match st {
            HandBuffer::Start => {
                let c = d.io();
                *st = HandBuffer::Busy {
                    page: [0; 4096],
                    k: 0,
                    c,
                };
            }
            HandBuffer::Busy { page, k, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = HandBuffer::Start;
                    return Err(e.into());
                }
                if *k == 4 {
                    let r = digest(page);
                    *st = HandBuffer::Start;
                    return Ok(IOResult::Done(r));
                }
                let v = d.value(seed + *k as u64);
                page[*k * QUARTER..*k * QUARTER + 8].copy_from_slice(&v.to_le_bytes());
                *k += 1;
                *c = d.io();
            }
        }
    }
}

#[io_model::resumable(state = st)]
#[inline(never)]
pub fn buffer(st: &mut BufferState, d: &mut Disk, seed: u64) -> Result<IOResult<u64>> {
    let mut page: [u8; 4096] = [0; 4096];
    for k in 0..4usize {
        let c = d.io();
        wait!(c);
        let v = d.value(seed + k as u64);
        page[k * QUARTER..k * QUARTER + 8].copy_from_slice(&v.to_le_bytes());
    }
    let w = d.io();
    wait!(w);
    Ok(IOResult::Done(digest(&page)))
}

pub async fn buffer_async(d: &mut Disk, seed: u64) -> u64 {
    let mut page: [u8; 4096] = [0; 4096];
    for k in 0..4usize {
        let c = d.io();
        Ready(c).await;
        let v = d.value(seed + k as u64);
        page[k * QUARTER..k * QUARTER + 8].copy_from_slice(&v.to_le_bytes());
    }
    let w = d.io();
    Ready(w).await;
    digest(&page)
}

runners!(buffer_hand: HandBuffer, buffer: BufferState, |i| (i));

fn sizes() -> Sizes {
    use std::mem::size_of;
    Sizes {
        hand: size_of::<HandBuffer>(),
        generated: size_of::<BufferState>(),
        async_fn: std::mem::size_of_val(&buffer_async(&mut Disk::new(true), 0)),
        note: "",
        each: vec![
            ("HandBuffer", size_of::<HandBuffer>()),
            ("BufferState", size_of::<BufferState>()),
        ],
    }
}
