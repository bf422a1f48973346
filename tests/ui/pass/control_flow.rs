//! Every control-flow form of SPEC §3 point 4 across suspension points.
#![deny(warnings)]
use io_model::{Completion, IOResult, Result};

fn sub(x: u32) -> Result<IOResult<u32>> {
    Ok(IOResult::Done(x + 1))
}

fn flag(x: u32) -> Result<IOResult<bool>> {
    Ok(IOResult::Done(x % 2 == 0))
}

#[io_model::resumable(state = st)]
fn all(st: &mut AllState, c: &Completion, items: Vec<u32>) -> Result<IOResult<u32>> {
    let mut acc: u32 = 0;
    if call!(flag(acc)) {
        acc += 1;
    } else if let Some(x) = items.first().copied() {
        let x: u32 = x;
        wait!(c.clone());
        acc += x;
    }
    match call!(sub(acc)) {
        0 => {}
        v if v > 10 => acc = v,
        v => {
            let v: u32 = v;
            yield_now!();
            acc += v;
        }
    }
    let found: u32 = loop {
        let v: u32 = call!(sub(acc));
        if v > 5 {
            break v;
        }
        acc += 1;
    };
    'outer: for i in 0..3u32 {
        let mut j: u32 = 0;
        while j < i {
            if j == 2 {
                continue 'outer;
            }
            wait!(c.clone());
            j += 1;
        }
        if i == 2 {
            break 'outer;
        }
    }
    let mut it: std::vec::IntoIter<u32> = items.into_iter();
    while let Some(x) = it.next() {
        let x: u32 = x;
        acc += call!(sub(x));
    }
    while call!(flag(acc)) {
        acc += 1;
    }
    let Some(y) = Some(acc) else {
        wait!(c.clone());
        return Ok(IOResult::Done(0));
    };
    let z: u32 = {
        let t: u32 = y;
        wait!(c.clone());
        t
    };
    let w: u32 = 'blk: {
        if z > 1000 {
            break 'blk 0;
        }
        call!(sub(z))
    };
    acc = call!(sub(w));
    Ok(IOResult::Done(acc + found))
}

fn main() {
    let c = Completion::new_sync(|_| {});
    c.complete(0);
    let mut st = AllState::default();
    let mut r = all(&mut st, &c, vec![1, 2, 3]).unwrap();
    while r.is_io() {
        r = all(&mut st, &c, vec![1, 2, 3]).unwrap();
    }
    assert!(st.is_idle());
}
