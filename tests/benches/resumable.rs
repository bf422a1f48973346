//! Generated vs hand-written state machines, and state sizes vs `async fn`.
//!
//! Runs the overflow-chain free loop (read a page, free it, follow the
//! chain) written by hand in Turso's style and with `#[resumable]`, side by
//! side in alternating rounds, with completions that are (a) finished when
//! issued, so no call suspends, and (b) finished one call later, so every
//! wait suspends and resumes. Prints the median time per page of each and
//! their ratio; durations are never asserted.
//!
//! `cargo bench -p io-model-tests --bench resumable [-- --full]`

use std::hint::black_box;
use std::time::Instant;

use io_model::{io_yield_one, Completion, IOResult, Result};

struct Pages {
    next: Vec<u32>,
    freed: u64,
    /// Finish completions at once, or leave them for the driver.
    immediate: bool,
    pending: Vec<Completion>,
}

impl Pages {
    fn io(&mut self) -> Completion {
        let c = Completion::new_write(|_| {});
        if self.immediate {
            c.complete(0);
        } else {
            self.pending.push(c.clone());
        }
        c
    }
}

#[derive(Default)]
enum Hand {
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

fn free_chain_hand(st: &mut Hand, p: &mut Pages, first: u32) -> Result<IOResult<u64>> {
    loop {
        match st {
            Hand::Start => {
                let c = p.io();
                *st = Hand::Reading { page: first, c };
            }
            Hand::Reading { page, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = Hand::Start;
                    return Err(e.into());
                }
                let page = *page;
                let next = p.next[page as usize];
                let c = p.io();
                *st = Hand::Freeing { page, next, c };
            }
            Hand::Freeing { page, next, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = Hand::Start;
                    return Err(e.into());
                }
                p.freed += *page as u64;
                if *next == 0 {
                    *st = Hand::Start;
                    return Ok(IOResult::Done(p.freed));
                }
                let page = *next;
                let c = p.io();
                *st = Hand::Reading { page, c };
            }
        }
    }
}

#[io_model::resumable(state = st)]
fn free_chain(st: &mut FreeChainState, p: &mut Pages, first: u32) -> Result<IOResult<u64>> {
    let mut page: u32 = first;
    loop {
        let read = p.io();
        wait!(read);
        let next: u32 = p.next[page as usize];
        let free = p.io();
        wait!(free);
        p.freed += page as u64;
        if next == 0 {
            break;
        }
        page = next;
    }
    Ok(IOResult::Done(p.freed))
}

/// The same as an `async fn`, for the state size only.
async fn free_chain_async(p: &mut Pages, first: u32) -> u64 {
    let mut page: u32 = first;
    loop {
        let read = p.io();
        Ready(read).await;
        let next: u32 = p.next[page as usize];
        let free = p.io();
        Ready(free).await;
        p.freed += page as u64;
        if next == 0 {
            break;
        }
        page = next;
    }
    p.freed
}

struct Ready(Completion);
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

fn drive(p: &mut Pages, mut op: impl FnMut(&mut Pages) -> Result<IOResult<u64>>) -> u64 {
    loop {
        match op(p).unwrap() {
            IOResult::Done(v) => return v,
            IOResult::IO(_) => {
                for c in p.pending.drain(..) {
                    c.complete(0);
                }
            }
        }
    }
}

fn chain(len: usize, immediate: bool) -> Pages {
    let next = (0..len as u32 + 1)
        .map(|i| if (i as usize) < len { i + 1 } else { 0 })
        .collect();
    Pages {
        next,
        freed: 0,
        immediate,
        pending: Vec::new(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--full");
    let (len, rounds) = if full { (100_000, 41) } else { (20_000, 11) };
    println!(
        "state sizes (bytes): hand-written {}, #[resumable] {}, async fn {}",
        std::mem::size_of::<Hand>(),
        std::mem::size_of::<FreeChainState>(),
        std::mem::size_of_val(&free_chain_async(&mut chain(1, true), 1)),
    );
    for immediate in [true, false] {
        let mut hand = Vec::new();
        let mut generated = Vec::new();
        for _ in 0..rounds {
            let mut p = chain(len, immediate);
            let t = Instant::now();
            let mut st = Hand::Start;
            black_box(drive(&mut p, |p| free_chain_hand(&mut st, p, 1)));
            hand.push(t.elapsed().as_secs_f64() * 1e9 / len as f64);

            let mut p = chain(len, immediate);
            let t = Instant::now();
            let mut st = FreeChainState::default();
            black_box(drive(&mut p, |p| free_chain(&mut st, p, 1)));
            generated.push(t.elapsed().as_secs_f64() * 1e9 / len as f64);
        }
        let (h, g) = (median(hand), median(generated));
        println!(
            "{:<28} hand-written {:6.1} ns/page, #[resumable] {:6.1} ns/page, ratio {:.2}",
            if immediate {
                "completions already done:"
            } else {
                "every wait suspends:"
            },
            h,
            g,
            g / h
        );
    }
}
