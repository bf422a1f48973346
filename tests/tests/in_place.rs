//! Arrays of plain data held across suspension points are used where they
//! lie in the state (`io_model_transform::in_place`): the same results and
//! side effects as in a straight line on every completion timing, poisoning
//! after a panic, idle after an error, and the functions whose arrays must
//! be moved (a name in a macro, shorthand) still right.
#![deny(warnings)]

use io_model::{CompletionError, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

const SEEDS: u64 = 100;

fn sum(a: &[u8]) -> u64 {
    a.iter().map(|&b| u64::from(b)).sum()
}

/// A page image filled over a loop of waits, then written: the shape of
/// the `buffer` benchmark, with reads and writes of every kind.
#[io_model::resumable(state = st)]
fn fill_page(st: &mut FillPageState, s: &Sched, seed: u8) -> Result<IOResult<u64>> {
    let mut page: [u8; 64] = [0; 64];
    let mut other: [u8; 64] = [1; 64];
    for k in 0..4usize {
        let c = s.io(&format!("read {k}"));
        wait!(c);
        page[k * 16] = seed.wrapping_add(k as u8);
        let len = page.len();
        for i in 0..len / 16 {
            page[i * 16 + 1] = page[i * 16 + 1].wrapping_add(1);
        }
        let copy = page;
        let add = |i: usize| u64::from(copy[i]) + u64::from(page[i]);
        let (sum_k, differs) = (add(k * 16), page != other);
        s.log(format!("step {k} {sum_k} {differs}"));
        if k == 2 {
            other = page;
        }
    }
    let w = s.io("write");
    wait!(w);
    Ok(IOResult::Done(sum(&page) * 1000 + sum(&other)))
}

#[test]
fn an_array_used_in_place_gives_the_straight_line_result_on_every_timing() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = FillPageState::default();
        let r = s.run(|| fill_page(&mut st, s, 7));
        assert!(st.is_idle());
        // A second run on the same state starts afresh.
        let again = s.run(|| fill_page(&mut st, s, 7));
        assert_eq!(r.as_ref().ok(), again.as_ref().ok());
        r
    });
    assert_eq!(log.iter().filter(|l| l.starts_with("step")).count(), 8);
}

/// A `call!` and a `yield_now!` in the loop, two arrays, and an early return.
#[io_model::resumable(state = st)]
fn sub(st: &mut SubState, s: &Sched, k: u64) -> Result<IOResult<u64>> {
    let c = s.io(&format!("sub {k}"));
    wait!(c);
    Ok(IOResult::Done(k * 3))
}

#[io_model::resumable(state = st)]
fn two_arrays(
    st: &mut TwoArraysState,
    s: &Sched,
    sub_st: &mut SubState,
    stop: u64,
) -> Result<IOResult<u64>> {
    let mut a: [u64; 8] = [0; 8];
    let mut b: [u32; 3] = [5; 3];
    let mut n: u64 = 0;
    loop {
        let v: u64 = call!(sub(sub_st, s, n));
        a[(n % 8) as usize] += v;
        yield_now!();
        b[(n % 3) as usize] ^= v as u32;
        let (total, first) = (a.iter().sum::<u64>(), b[0]);
        s.log(format!("n {n} a {total} b {first}"));
        n += 1;
        if n == stop {
            return Ok(IOResult::Done(a.iter().sum::<u64>() + u64::from(b[1])));
        }
    }
}

#[test]
fn call_yield_and_return_from_an_arm_in_place() {
    same_as_straight_line(SEEDS, |s| {
        let mut st = TwoArraysState::default();
        let mut sub_st = SubState::default();
        let r = s.run(|| two_arrays(&mut st, s, &mut sub_st, 5));
        assert!(st.is_idle());
        r
    });
}

#[test]
fn an_error_in_an_arm_in_place_leaves_the_state_idle() {
    for seed in 0..SEEDS {
        let s = Sched::deferred(seed).failing(30);
        let mut st = FillPageState::default();
        let r = s.run(|| fill_page(&mut st, &s, 1));
        assert!(st.is_idle(), "seed {seed}: {r:?}");
        if let Err(e) = r {
            assert!(matches!(
                e,
                io_model::Error::Completion(CompletionError::IOError(_))
            ));
        }
    }
}

#[io_model::resumable(state = st)]
fn may_panic(st: &mut MayPanicState, s: &Sched, boom: bool) -> Result<IOResult<u8>> {
    let mut page: [u8; 16] = [0; 16];
    for k in 0..3usize {
        let c = s.io("step");
        wait!(c);
        page[k] = 1;
        if boom && k == 1 {
            panic!("boom");
        }
    }
    Ok(IOResult::Done(page.iter().sum()))
}

#[test]
fn a_panic_in_an_arm_in_place_poisons_the_state() {
    let s = Sched::deferred(0);
    let mut st = MayPanicState::default();
    assert!(may_panic(&mut st, &s, true).unwrap().is_io());
    s.finish_one();
    assert!(may_panic(&mut st, &s, true).unwrap().is_io());
    assert_eq!(st.name(), "Wait0");
    s.finish_one();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = may_panic(&mut st, &s, true);
    }));
    assert!(caught.is_err());
    assert_eq!(st.name(), "Poisoned");
    assert_eq!(format!("{st:?}"), "Poisoned");
    assert!(!st.is_idle());
    let msg = io_model_tests::panic_message(|| {
        let _ = may_panic(&mut st, &s, false);
    });
    assert!(
        msg.contains("`may_panic`") && msg.contains("poisoned"),
        "{msg}"
    );
    st.cancel();
    assert!(st.is_idle());
    assert_eq!(s.run(|| may_panic(&mut st, &s, false)).unwrap(), 3);
}

struct Holder {
    page: [u8; 4],
}

/// Arrays that cannot be used in place (named in a macro, written in
/// struct shorthand): moved out and back as any stored local, same result.
#[io_model::resumable(state = st)]
fn moved_arrays(st: &mut MovedArraysState, s: &Sched) -> Result<IOResult<u64>> {
    let mut page: [u8; 4] = [1; 4];
    let mut named: [u8; 4] = [2; 4];
    for k in 0..3usize {
        let c = s.io("step");
        wait!(c);
        page[k] += 1;
        named[k] += 2;
        s.log(format!("named {}", named[k]));
    }
    let h = Holder { page };
    Ok(IOResult::Done(sum(&h.page) + sum(&named)))
}

#[test]
fn arrays_that_must_move_are_moved() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = MovedArraysState::default();
        s.run(|| moved_arrays(&mut st, s))
    });
    assert_eq!(log.iter().filter(|l| l.starts_with("named")).count(), 3);
}

struct Store {
    img: std::cell::RefCell<ImageState>,
    field: FieldImageState,
}

#[io_model::resumable]
impl Store {
    /// A guard place: the state is moved out for the call, and its arrays
    /// are still used in place within it.
    #[resumable(state = self.img.borrow_mut())]
    fn image(&self, s: &Sched, n: usize) -> Result<IOResult<u64>> {
        let mut img: [u64; 8] = [0; 8];
        let mut i: usize = 0;
        while i < n {
            let c = s.io("part");
            wait!(c);
            img[i % 8] += i as u64;
            let state = self.img.borrow().name();
            s.log(format!("state {state}"));
            i += 1;
        }
        Ok(IOResult::Done(img.iter().sum::<u64>()))
    }

    #[resumable(state = self.field)]
    fn field_image(&mut self, s: &Sched, n: usize) -> Result<IOResult<u64>> {
        let mut img: [u64; 8] = [1; 8];
        for i in 0..n {
            let c = s.io("part");
            wait!(c);
            img[i % 8] *= 3;
        }
        Ok(IOResult::Done(img.iter().sum::<u64>()))
    }
}

#[test]
fn guard_and_field_places_use_arrays_in_place_too() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut store = Store {
            img: std::cell::RefCell::new(ImageState::default()),
            field: FieldImageState::default(),
        };
        let a = s.run(|| store.image(s, 11))?;
        let b = s.run(|| store.field_image(s, 11))?;
        assert!(store.img.borrow().is_idle() && store.field.is_idle());
        Ok::<_, io_model::Error>((a, b))
    });
    // While the arm runs, the state was moved out of the guard's cell.
    assert!(log
        .iter()
        .filter(|l| l.starts_with("state"))
        .all(|l| l == "state Poisoned"));
}
