//! Every control-flow construct of SPEC §3 across suspension points, in
//! every marker position, each run under 100 seeds of the deferred driver
//! and compared with the straight-line execution (same side effects in the
//! same order, same result).

use io_model::{Completion, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

const SEEDS: u64 = 100;

/// A sub-operation that logs, waits once, and returns `x * 2`.
struct Sub {
    s: Sched,
    st: DoubleState,
    even: IsSmallState,
}

#[io_model::resumable]
impl Sub {
    #[resumable(state = self.st)]
    fn double(&mut self, x: u32) -> Result<IOResult<u32>> {
        let c = self.s.io(&format!("double {x}"));
        wait!(c);
        Ok(IOResult::Done(x * 2))
    }

    #[resumable(state = self.even)]
    fn is_small(&mut self, x: u32, limit: u32) -> Result<IOResult<bool>> {
        yield_now!();
        let c = self.s.io(&format!("is_small {x}"));
        wait!(c);
        Ok(IOResult::Done(x < limit))
    }
}

macro_rules! check {
    ($name:ident, $f:ident, $state:ident, ($($arg:expr),*), $expected:expr) => {
        #[test]
        fn $name() {
            let mut values = Vec::new();
            same_as_straight_line(SEEDS, |s| {
                let mut st = $state::default();
                let mut sub = Sub { s: s.clone(), st: DoubleState::default(), even: IsSmallState::default() };
                let v = s.run(|| $f(&mut st, s, &mut sub $(, $arg)*))?;
                assert!(st.is_idle(), "state not idle after Done: {st:?}");
                values.push(v.clone());
                Ok::<_, io_model::Error>(v)
            });
            assert_eq!(values[0], $expected);
        }
    };
}

#[io_model::resumable(state = st)]
fn if_else(st: &mut IfElseState, s: &Sched, sub: &mut Sub, flag: bool) -> Result<IOResult<u32>> {
    let base: u32 = 5;
    let out: u32 = if flag {
        let c = s.io("then");
        wait!(c);
        s.log("then done");
        base + 1
    } else if base > 3 {
        let d: u32 = call!(sub.double(base));
        s.log(format!("else-if {d}"));
        d
    } else {
        0
    };
    s.log(format!("out {out}"));
    Ok(IOResult::Done(out))
}
check!(if_branch, if_else, IfElseState, (true), 6);
check!(else_if_branch, if_else, IfElseState, (false), 10);

#[io_model::resumable(state = st)]
fn scrutinees(st: &mut ScrutineesState, s: &Sched, sub: &mut Sub, x: u32) -> Result<IOResult<u32>> {
    let mut acc: u32 = 0;
    if call!(sub.is_small(x, 5)) {
        acc += 1;
        s.log("if scrutinee");
    }
    if let 8 = call!(sub.double(x)) {
        acc += 10;
        s.log("if-let scrutinee");
    }
    match call!(sub.double(x)) {
        0 => s.log("zero"),
        v if v > 100 => s.log("big"),
        v => {
            let v: u32 = v;
            let c = s.io("arm");
            wait!(c);
            acc += v;
            s.log(format!("arm {v}"));
        }
    }
    Ok(IOResult::Done(acc))
}
check!(
    if_and_match_scrutinees,
    scrutinees,
    ScrutineesState,
    (4),
    19
);

#[io_model::resumable(state = st)]
fn loops(st: &mut LoopsState, s: &Sched, sub: &mut Sub, n: u32) -> Result<IOResult<u32>> {
    let mut i: u32 = 0;
    let found: u32 = loop {
        let d: u32 = call!(sub.double(i));
        s.log(format!("loop {i} {d}"));
        if d >= n {
            break d;
        }
        i += 1;
    };
    let mut total: u32 = 0;
    'outer: for a in 0..3u32 {
        for b in 0..3u32 {
            if b > a {
                continue 'outer;
            }
            if a == 2 && b == 1 {
                break 'outer;
            }
            let c = s.io(&format!("{a},{b}"));
            wait!(c);
            total += a * 10 + b;
            s.log(format!("pair {a} {b}"));
        }
    }
    Ok(IOResult::Done(found * 1000 + total))
}
check!(
    loop_with_break_value_and_labelled_for,
    loops,
    LoopsState,
    (5),
    6000 + 10 + 11 + 20
);

#[io_model::resumable(state = st)]
fn while_forms(
    st: &mut WhileFormsState,
    s: &Sched,
    sub: &mut Sub,
    n: u32,
) -> Result<IOResult<u32>> {
    let mut queue: Vec<u32> = (0..n).collect();
    let mut sum: u32 = 0;
    while let Some(item) = queue.pop() {
        let item: u32 = item;
        let d: u32 = call!(sub.double(item));
        sum += d;
        s.log(format!("popped {item}"));
    }
    let mut k: u32 = 0;
    while call!(sub.is_small(k, 3)) {
        k += 1;
        s.log(format!("k {k}"));
    }
    Ok(IOResult::Done(sum + k))
}
check!(
    while_let_and_marker_condition,
    while_forms,
    WhileFormsState,
    (4),
    12 + 3
);

#[io_model::resumable(state = st)]
fn let_else(st: &mut LetElseState, s: &Sched, sub: &mut Sub, x: u32) -> Result<IOResult<u32>> {
    let Some(v) = (if x > 0 { Some(x) } else { None }) else {
        let c = s.io("else");
        wait!(c);
        s.log("in else");
        return Ok(IOResult::Done(0));
    };
    let v: u32 = v;
    let 20 = call!(sub.double(v)) else {
        s.log("not 20");
        return Ok(IOResult::Done(1));
    };
    s.log("was 20");
    Ok(IOResult::Done(v))
}
check!(let_else_taken, let_else, LetElseState, (0), 0);
check!(
    let_else_marker_initializer,
    let_else,
    LetElseState,
    (10),
    10
);
check!(
    let_else_refuted_after_marker,
    let_else,
    LetElseState,
    (3),
    1
);

#[io_model::resumable(state = st)]
fn positions(st: &mut PositionsState, s: &Sched, sub: &mut Sub, x: u32) -> Result<IOResult<u32>> {
    let mut a: u32 = 1;
    a = call!(sub.double(a));
    a += call!(sub.double(x));
    let b: u32 = {
        let c = s.io("block");
        wait!(c);
        call!(sub.double(a))
    };
    let labelled: u32 = 'blk: {
        if b > 100 {
            break 'blk 0;
        }
        let c = s.io("labelled");
        wait!(c);
        b + 1
    };
    let arm: u32 = match labelled % 2 {
        0 => call!(sub.double(labelled)),
        _ => labelled,
    };
    s.log(format!("{a} {b} {labelled} {arm}"));
    Ok(IOResult::Done(arm))
}
check!(
    assignment_tail_labelled_block_and_arm_positions,
    positions,
    PositionsState,
    (3),
    17
);

#[io_model::resumable(state = st)]
fn errors_after_points(
    st: &mut ErrorsAfterPointsState,
    s: &Sched,
    sub: &mut Sub,
    x: u32,
) -> Result<IOResult<u32>> {
    let d: u32 = call!(sub.double(x));
    let parsed: u32 = format!("{d}")
        .parse::<u32>()
        .map_err(|e| io_model::Error::InvalidArgument(e.to_string()))?;
    if parsed > 10 {
        s.log("too big");
        Err(io_model::Error::InvalidArgument("too big".into()))?;
    }
    s.log("fine");
    Ok(IOResult::Done(parsed))
}

#[test]
fn question_mark_after_a_point_idles_the_state() {
    same_as_straight_line(SEEDS, |s| {
        let mut st = ErrorsAfterPointsState::default();
        let mut sub = Sub {
            s: s.clone(),
            st: DoubleState::default(),
            even: IsSmallState::default(),
        };
        let r = s.run(|| errors_after_points(&mut st, s, &mut sub, 8));
        assert!(r.is_err());
        assert!(st.is_idle());
        let ok = s.run(|| errors_after_points(&mut st, s, &mut sub, 2))?;
        Ok::<_, io_model::Error>(ok)
    });
}

#[io_model::resumable(state = st)]
fn group(st: &mut GroupState, s: &Sched, _sub: &mut Sub, n: u32) -> Result<IOResult<u32>> {
    let writes: Vec<Completion> = (0..n).map(|i| s.io(&format!("write {i}"))).collect();
    wait_all!(writes);
    s.log("all written");
    let sync = s.io("fsync");
    wait!(FsyncDone => sync);
    s.log("synced");
    wait_all!(Vec::<Completion>::new());
    Ok(IOResult::Done(n))
}
check!(wait_all_then_labelled_wait, group, GroupState, (5), 5);

#[io_model::resumable(state = st)]
fn nested(st: &mut NestedState, s: &Sched, sub: &mut Sub, n: u32) -> Result<IOResult<u32>> {
    let mut out: Vec<u32> = Vec::new();
    for i in 0..n {
        match i % 3 {
            0 => {
                let mut j: u32 = 0;
                while j < i {
                    let c = s.io(&format!("{i}/{j}"));
                    wait!(c);
                    j += 1;
                }
                out.push(j);
            }
            1 => {
                if let Some(x) = out.last().copied() {
                    let x: u32 = x;
                    let d: u32 = call!(sub.double(x));
                    out.push(d);
                } else {
                    yield_now!();
                    out.push(0);
                }
            }
            _ => {
                let y: u32 = call!(sub.double(i));
                out.push(y);
            }
        }
        s.log(format!("out {out:?}"));
    }
    Ok(IOResult::Done(out.iter().sum()))
}
check!(
    nesting_of_everything,
    nested,
    NestedState,
    (7),
    4 + 3 + 6 + 10 + 6
);

#[io_model::resumable(state = st)]
fn unsafe_and_params(
    st: &mut UnsafeAndParamsState,
    s: &Sched,
    sub: &mut Sub,
    (a, b): (u32, u32),
) -> Result<IOResult<u32>> {
    let name = String::from("kept");
    let name: String = name;
    let d: u32 = call!(sub.double(a));
    let bytes = name.len() as u32;
    s.log(format!("{name} {d} {bytes}"));
    Ok(IOResult::Done(d + b + bytes))
}
check!(
    tuple_params_and_owned_locals,
    unsafe_and_params,
    UnsafeAndParamsState,
    ((1, 2)),
    8
);

/// A `break` or `continue` inside an `if` condition (a block with a
/// `let`-`else`), in a statement `if` and in an `else if`, in a loop whose
/// condition waits: the jump leaves the loop as written.
#[io_model::resumable(state = st)]
fn jump_in_condition(st: &mut JumpInConditionState, s: &Sched, stop: u32) -> Result<IOResult<u32>> {
    let mut k: u32 = 0;
    let mut seen: u32 = 0;
    'outer: while {
        let c: Completion = s.io(&format!("turn {k}"));
        wait!(c);
        k < 10
    } {
        k += 1;
        if k == 2 {
            s.log("two");
        } else if {
            let Some(v) = (k != 6).then_some(k) else {
                continue 'outer;
            };
            v % 3 == 0
        } {
            seen += 10;
        }
        if {
            let Some(v) = (k < stop).then_some(k) else {
                break;
            };
            v % 2 == 0
        } {
            seen += 1;
        }
    }
    Ok(IOResult::Done(seen * 100 + k))
}

#[test]
fn a_jump_inside_an_if_condition_leaves_the_loop() {
    let log = same_as_straight_line(50, |s| {
        let mut st = JumpInConditionState::default();
        s.run(|| jump_in_condition(&mut st, s, 8))
    });
    assert!(log.contains(&"two".to_string()));
    let s = Sched::immediate();
    let mut st = JumpInConditionState::default();
    // k = 1..=7 counted; 3 (+10), 2, 4 (+1 each); 6 skips the rest; 8 stops.
    assert_eq!(s.run(|| jump_in_condition(&mut st, &s, 8)).unwrap(), 1208);
}
