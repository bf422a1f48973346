//! The SPEC §3 example shape and the basic markers, run under the seeded
//! deferred driver and compared with the straight-line execution.

use io_model::{Completion, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

struct Reader {
    sched: Sched,
    total: u64,
    read_two: ReadTwoState,
    read_one: ReadOneState,
}

#[io_model::resumable]
impl Reader {
    #[resumable(state = self.read_one)]
    fn read_one(&mut self, at: u64) -> Result<IOResult<u64>> {
        let c = self.sched.io(&format!("read {at}"));
        wait!(c);
        self.sched.log(format!("read_one {at} done"));
        Ok(IOResult::Done(at * 10))
    }

    #[resumable(state = self.read_two)]
    fn read_two(&mut self, a: u64, b: u64) -> Result<IOResult<u64>> {
        let first: u64 = call!(self.read_one(a));
        let c = self.sched.io("sync");
        wait!(c);
        self.total += first;
        self.sched.log(format!("total {}", self.total));
        let second: u64 = call!(self.read_one(b));
        Ok(IOResult::Done(first + second))
    }
}

#[test]
fn spec_example_runs_each_segment_once() {
    let log = same_as_straight_line(200, |s| {
        let mut r = Reader {
            sched: s.clone(),
            total: 0,
            read_two: ReadTwoState::default(),
            read_one: ReadOneState::default(),
        };
        let v = s.run(|| r.read_two(1, 2))?;
        assert!(r.read_two.is_idle());
        Ok::<_, io_model::Error>((v, r.total))
    });
    assert_eq!(
        log,
        [
            "io read 1",
            "read_one 1 done",
            "io sync",
            "total 10",
            "io read 2",
            "read_one 2 done"
        ]
    );
}

#[io_model::resumable(state = st)]
fn count_down(st: &mut CountDownState, s: &Sched, from: u32) -> Result<IOResult<u32>> {
    let mut n: u32 = from;
    let mut sum: u32 = 0;
    while n > 0 {
        let c = s.io(&format!("n={n}"));
        wait!(c);
        sum += n;
        s.log(format!("sum {sum}"));
        n -= 1;
    }
    yield_now!();
    s.log("after yield");
    Ok(IOResult::Done(sum))
}

#[test]
fn free_function_with_while_and_yield() {
    let log = same_as_straight_line(200, |s| {
        let mut st = CountDownState::default();
        let v = s.run(|| count_down(&mut st, s, 4))?;
        assert!(st.is_idle());
        Ok::<_, io_model::Error>(v)
    });
    assert_eq!(log.len(), 4 * 2 + 1);
    assert_eq!(log.last().unwrap(), "after yield");
}

#[io_model::resumable(state = st)]
fn early_exit(st: &mut EarlyExitState, s: &Sched, stop_at: u32) -> Result<IOResult<u32>> {
    for i in 0..10u32 {
        let c = s.io(&format!("{i}"));
        wait!(c);
        if i == stop_at {
            s.log("returning early");
            return Ok(IOResult::Done(i));
        }
        s.log(format!("step {i}"));
    }
    Ok(IOResult::Done(99))
}

#[test]
fn early_return_from_a_for_loop_leaves_the_state_idle() {
    same_as_straight_line(100, |s| {
        let mut st = EarlyExitState::default();
        let v = s.run(|| early_exit(&mut st, s, 3))?;
        assert_eq!(v, 3);
        assert!(st.is_idle());
        // A new run starts from the top.
        let w = s.run(|| early_exit(&mut st, s, 0))?;
        Ok::<_, io_model::Error>((v, w))
    });
}

#[test]
fn a_completion_error_becomes_err_and_idles_the_state() {
    for seed in 0..50 {
        let s = Sched::deferred(seed).failing(100);
        let mut st = EarlyExitState::default();
        let err = s.run(|| early_exit(&mut st, &s, 5)).unwrap_err();
        assert!(matches!(err, io_model::Error::Completion(_)), "{err:?}");
        assert!(st.is_idle());
        assert_eq!(s.entries(), ["io 0"]);
    }
}

#[test]
fn finished_completion_does_not_yield() {
    let s = Sched::immediate();
    let mut st = CountDownState::default();
    // Only the explicit yield suspends.
    assert!(count_down(&mut st, &s, 3).unwrap().is_io());
    assert_eq!(st.name(), "Yield0");
    assert_eq!(format!("{st:?}"), "Yield0");
    assert_eq!(count_down(&mut st, &s, 3).unwrap().done(), Some(6));
    let _ = Completion::new_yield();
}
