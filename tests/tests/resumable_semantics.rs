//! The exact semantics of SPEC §3.5, each compared across completion
//! timings (every completion finished at once, and deferred in seeded
//! orders with early re-entry): drops at suspension points, the order in
//! which stored locals drop (also on `cancel()`), deferred initialization,
//! `#[cfg]` on statements and markers, and liveness through `continue`.

use io_model::{Completion, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

const SEEDS: u64 = 100;

/// Logs its drop.
struct Noisy {
    s: Sched,
    name: &'static str,
}

impl Noisy {
    fn new(s: &Sched, name: &'static str) -> Noisy {
        s.log(format!("make {name}"));
        Noisy { s: s.clone(), name }
    }
    fn touch(&self) {
        self.s.log(format!("touch {}", self.name));
    }
}

impl Drop for Noisy {
    fn drop(&mut self) {
        self.s.log(format!("drop {}", self.name));
    }
}

#[io_model::resumable(state = st)]
fn dead_at_point(st: &mut DeadAtPointState, s: &Sched) -> Result<IOResult<()>> {
    let a: Noisy = Noisy::new(s, "a");
    let b: Noisy = Noisy::new(s, "b");
    a.touch();
    b.touch();
    let c = s.io("x");
    // `a` and `b` are not used after the wait: dropped there, `b` first,
    // whether or not the function suspends.
    wait!(c);
    s.log("after");
    Ok(IOResult::Done(()))
}

#[test]
fn a_local_not_used_after_a_point_is_dropped_there_on_every_timing() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = DeadAtPointState::default();
        s.run(|| dead_at_point(&mut st, s))
    });
    assert_eq!(
        log,
        ["make a", "make b", "touch a", "touch b", "io x", "drop b", "drop a", "after"]
    );
}

#[io_model::resumable(state = st)]
fn dead_on_one_path(st: &mut DeadOnOnePathState, s: &Sched, keep: bool) -> Result<IOResult<()>> {
    let g: Noisy = Noisy::new(s, "g");
    if keep {
        let c = s.io("kept");
        wait!(c);
        g.touch();
    } else {
        let c = s.io("dropped");
        wait!(c);
    }
    s.log("end");
    Ok(IOResult::Done(()))
}

#[test]
fn drops_follow_the_path_taken() {
    let kept = same_as_straight_line(SEEDS, |s| {
        let mut st = DeadOnOnePathState::default();
        s.run(|| dead_on_one_path(&mut st, s, true))
    });
    assert_eq!(kept, ["make g", "io kept", "touch g", "drop g", "end"]);
    let dropped = same_as_straight_line(SEEDS, |s| {
        let mut st = DeadOnOnePathState::default();
        s.run(|| dead_on_one_path(&mut st, s, false))
    });
    assert_eq!(dropped, ["make g", "io dropped", "drop g", "end"]);
}

#[io_model::resumable(state = st)]
fn stored(st: &mut StoredState, s: &Sched) -> Result<IOResult<()>> {
    let first: Noisy = Noisy::new(s, "first");
    let second: Noisy = Noisy::new(s, "second");
    let third: Noisy = Noisy::new(s, "third");
    let c = s.io("x");
    wait!(c);
    first.touch();
    second.touch();
    third.touch();
    s.log("end");
    Ok(IOResult::Done(()))
}

#[test]
fn stored_locals_drop_in_reverse_order_of_declaration() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = StoredState::default();
        s.run(|| stored(&mut st, s))
    });
    assert_eq!(
        &log[log.len() - 4..],
        ["end", "drop third", "drop second", "drop first"]
    );
}

#[test]
fn cancel_drops_stored_locals_in_reverse_order_of_declaration() {
    let s = Sched::deferred(1);
    let mut st = StoredState::default();
    assert!(stored(&mut st, &s).unwrap().is_io());
    assert_eq!(st.name(), "Wait0");
    st.cancel();
    assert!(st.is_idle());
    let log = s.entries();
    assert_eq!(
        &log[log.len() - 3..],
        ["drop third", "drop second", "drop first"]
    );
    // Dropping a suspended state does the same.
    let s = Sched::deferred(1);
    let mut st = StoredState::default();
    assert!(stored(&mut st, &s).unwrap().is_io());
    drop(st);
    let log = s.entries();
    assert_eq!(
        &log[log.len() - 3..],
        ["drop third", "drop second", "drop first"]
    );
}

#[io_model::resumable(state = st)]
fn deferred_init(st: &mut DeferredInitState, s: &Sched, c: bool) -> Result<IOResult<u64>> {
    let x: u64;
    if c {
        let a = s.io("a");
        wait!(a);
        x = 1;
    } else {
        x = 2;
    }
    let b = s.io("b");
    wait!(b);
    Ok(IOResult::Done(x))
}

#[io_model::resumable(state = st)]
fn deferred_untyped(st: &mut DeferredUntypedState, s: &Sched) -> Result<IOResult<u32>> {
    let y;
    let a = s.io("a");
    wait!(a);
    y = 7u32;
    s.log(format!("y {y}"));
    Ok(IOResult::Done(y))
}

#[test]
fn deferred_initialization_works() {
    for c in [true, false] {
        let mut got = Vec::new();
        same_as_straight_line(SEEDS, |s| {
            let mut st = DeferredInitState::default();
            let v = s.run(|| deferred_init(&mut st, s, c));
            got.push(v.as_ref().ok().copied());
            v
        });
        assert!(got.iter().all(|v| *v == Some(if c { 1 } else { 2 })));
    }
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = DeferredUntypedState::default();
        s.run(|| deferred_untyped(&mut st, s))
    });
    assert_eq!(log, ["io a", "y 7"]);
}

#[io_model::resumable(state = st)]
fn with_cfg(st: &mut WithCfgState, s: &Sched) -> Result<IOResult<u32>> {
    let mut n: u32 = 0;
    #[cfg(not(test))]
    wait!(s.io("never"));
    #[cfg(test)]
    wait!(s.io("always"));
    #[cfg(not(test))]
    {
        let c = s.io("never block");
        wait!(c);
        n += 100;
    }
    #[cfg(test)]
    {
        let c = s.io("block");
        wait!(c);
        n += 1;
    }
    #[cfg(not(test))]
    let k: u32 = 5;
    #[cfg(test)]
    let k: u32 = 6;
    let c = s.io("last");
    wait!(c);
    s.log(format!("n {n} k {k}"));
    Ok(IOResult::Done(n + k))
}

#[test]
fn cfg_on_statements_and_markers_is_honoured() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = WithCfgState::default();
        s.run(|| with_cfg(&mut st, s))
    });
    assert_eq!(log, ["io always", "io block", "io last", "n 1 k 6"]);
}

fn sub(s: &Sched, i: u32) -> Result<IOResult<u32>> {
    s.log(format!("sub {i}"));
    Ok(IOResult::Done(i))
}

/// `item` is rebound at the top of every iteration, so it is not live
/// across the `call!` in the branch that ends in `continue`, and needs no
/// type (it has none the macro could read).
#[io_model::resumable(state = st)]
fn rebound(st: &mut ReboundState, s: &Sched, items: &[u32]) -> Result<IOResult<u32>> {
    let mut i: usize = 0;
    let mut sum: u32 = 0;
    loop {
        if i == items.len() {
            break;
        }
        let item = items[i].checked_mul(1).unwrap_or(0);
        i += 1;
        if item % 2 == 0 {
            let v: u32 = call!(sub(s, i as u32));
            sum += v;
            continue;
        }
        let c = s.io("odd");
        wait!(c);
        sum += 1;
    }
    Ok(IOResult::Done(sum))
}

#[test]
fn liveness_follows_continue() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = ReboundState::default();
        s.run(|| rebound(&mut st, s, &[1, 2, 3, 4]))
    });
    assert_eq!(log, ["io odd", "sub 2", "io odd", "sub 4"]);
}

#[io_model::resumable(state = st)]
fn early_exits(st: &mut EarlyExitsState, s: &Sched, n: u32) -> Result<IOResult<u32>> {
    let g: Noisy = Noisy::new(s, "g");
    let mut k: u32 = 0;
    while k < n {
        let c = s.io("step");
        wait!(c);
        if k == 2 {
            g.touch();
            return Ok(IOResult::Done(k));
        }
        k += 1;
    }
    g.touch();
    Ok(IOResult::Done(100))
}

#[test]
fn return_and_break_drop_what_is_stored() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = EarlyExitsState::default();
        let v = s.run(|| early_exits(&mut st, s, 5));
        assert!(st.is_idle());
        v
    });
    assert_eq!(log.last().map(String::as_str), Some("drop g"));
    assert_eq!(log.iter().filter(|l| *l == "io step").count(), 3);
}

#[test]
fn a_yield_completion_is_the_explicit_one() {
    #[io_model::resumable(state = st)]
    fn y(st: &mut YState) -> Result<IOResult<()>> {
        yield_now!();
        Ok(IOResult::Done(()))
    }
    let mut st = YState::default();
    match y(&mut st).unwrap() {
        IOResult::IO(io) => assert!(io.into_completion().is_explicit_yield()),
        IOResult::Done(()) => panic!("yield_now! did not yield"),
    }
    assert!(y(&mut st).unwrap().is_done());
    let _ = Completion::new_yield();
}

fn pick(s: &Sched, n: u32) -> Result<IOResult<Option<u32>>> {
    s.log(format!("pick {n}"));
    Ok(IOResult::Done(if n < 3 { Some(n) } else { None }))
}

/// A `break` and a `continue` from a scope where a pattern shadows a
/// local that lives on after the loop (and at its head): they leave the
/// loop where the outer name is visible again.
#[io_model::resumable(state = st)]
fn shadowed_exits(st: &mut ShadowedExitsState, s: &Sched) -> Result<IOResult<u32>> {
    let g: String = String::from("outer");
    let mut n: u32 = 0;
    while n < 10 {
        n += 1;
        match call!(pick(s, n)) {
            Some(1) => match n {
                g => {
                    s.log(format!("inner {g}"));
                    continue;
                }
            },
            Some(_) => {}
            None => match 0 {
                g => {
                    s.log(format!("leave {g}"));
                    break;
                }
            },
        }
        let c = s.io("step");
        wait!(c);
    }
    s.log(format!("{g} {n}"));
    Ok(IOResult::Done(n))
}

#[test]
fn breaks_and_continues_under_a_shadowing_pattern() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = ShadowedExitsState::default();
        s.run(|| shadowed_exits(&mut st, s))
    });
    assert_eq!(
        log,
        ["pick 1", "inner 1", "pick 2", "io step", "pick 3", "leave 0", "outer 3"]
    );
}

/// A `#[cfg]`-false statement holding a point is simply not there: no
/// merge after it drops anything, and nothing it would carry is declared
/// without a use (which would not infer a type).
#[io_model::resumable(state = st)]
fn cfg_false_statements(
    st: &mut CfgFalseStatementsState,
    s: &Sched,
    a0: u32,
) -> Result<IOResult<u32>> {
    let mut g: Noisy = Noisy::new(s, "one");
    #[cfg(not(test))]
    wait!(s.io("never"));
    g = Noisy::new(s, "two");
    #[cfg(not(test))]
    for n0 in 0..a0 % 4 {
        let c = s.io("never");
        wait!(c);
        s.log(format!("{n0}"));
    }
    g.touch();
    let c = s.io("x");
    wait!(c);
    Ok(IOResult::Done(a0))
}

#[test]
fn cfg_false_statements_change_nothing() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = CfgFalseStatementsState::default();
        s.run(|| cfg_false_statements(&mut st, s, 3))
    });
    // As in plain Rust: the second value is made before the first drops.
    assert_eq!(
        log,
        [
            "make one",
            "make two",
            "drop one",
            "touch two",
            "io x",
            "drop two"
        ]
    );
}

/// A statement that leaves the function or a loop under `#[cfg]` leaves
/// only where it is compiled; elsewhere the code after it runs. A local
/// used after a point only by code behind such a statement is dead at the
/// point where the `#[cfg]` holds, and dropped there.
#[io_model::resumable(state = st)]
fn cfg_exits(st: &mut CfgExitsState, s: &Sched, n: u32) -> Result<IOResult<u32>> {
    let a: Noisy = Noisy::new(s, "a");
    let b: Noisy = Noisy::new(s, "b");
    let mut total: u32 = 0;
    for i in 0..n {
        let c = s.io("step");
        wait!(c);
        #[cfg(not(test))]
        continue;
        #[cfg(not(test))]
        panic!("never compiled");
        total += i;
    }
    loop {
        let c = s.io("loop");
        wait!(c);
        #[cfg(test)]
        break;
        s.log("never reached");
    }
    b.touch();
    let c = s.io("x");
    wait!(c);
    #[cfg(test)]
    return Ok(IOResult::Done(total));
    a.touch();
    Ok(IOResult::Done(total + 100))
}

#[test]
fn exits_under_cfg_leave_only_where_compiled() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = CfgExitsState::default();
        let r = s.run(|| cfg_exits(&mut st, s, 3));
        s.log(format!("result {r:?}"));
        r
    });
    assert_eq!(
        log,
        [
            "make a",
            "make b",
            // Only code after the `return` uses `a`: dead where the first
            // loop holding a point starts, a drop boundary.
            "drop a",
            "io step",
            "io step",
            "io step",
            "io loop",
            "touch b",
            "io x",
            "drop b",
            "result Ok(3)"
        ]
    );
}

/// Inside a statement that holds no marker (one piece of code the macro
/// keeps whole), a use under `#[cfg]` keeps a local alive only where the
/// `#[cfg]` holds: `a` is read only under `not(test)`, in a block and in a
/// match arm, so it is dead at the first point and dropped there; `b` is
/// read under `test`, so it lives on to its use after the second point.
#[io_model::resumable(state = st)]
fn cfg_inside_a_leaf(st: &mut CfgInsideALeafState, s: &Sched) -> Result<IOResult<u32>> {
    let a: Noisy = Noisy::new(s, "a");
    let b: Noisy = Noisy::new(s, "b");
    let c = s.io("x");
    wait!(c);
    let o: u32 = {
        #[cfg(not(test))]
        a.touch();
        #[cfg(test)]
        b.touch();
        5
    };
    let c = s.io("y");
    wait!(c);
    let p: u32 = match o {
        #[cfg(not(test))]
        5 => {
            a.touch();
            1
        }
        _ => {
            b.touch();
            2
        }
    };
    Ok(IOResult::Done(o + p))
}

#[test]
fn a_use_under_cfg_inside_a_statement_kept_whole_counts_only_where_compiled() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = CfgInsideALeafState::default();
        let r = s.run(|| cfg_inside_a_leaf(&mut st, s));
        s.log(format!("result {r:?}"));
        r
    });
    assert_eq!(
        log,
        [
            "make a",
            "make b",
            "io x",
            "drop a",
            "touch b",
            "io y",
            "touch b",
            "drop b",
            "result Ok(7)"
        ]
    );
}

/// A local moved before a point and assigned whole again in a loop after
/// it is not live at the point (the loop assigns it before reading it), so
/// it is not stored (difftest finding F3).
#[io_model::resumable(state = st)]
fn reassigned_in_a_loop(st: &mut ReassignedInALoopState, s: &Sched) -> Result<IOResult<u32>> {
    let mut v: Vec<u32> = vec![7];
    for k in v {
        s.log(format!("k {k}"));
    }
    let c = s.io("x");
    wait!(c);
    let mut n: u32 = 0;
    while n < 2 {
        v = vec![n];
        v = v.clone();
        s.log(format!("v {v:?}"));
        n += 1;
    }
    Ok(IOResult::Done(n))
}

#[test]
fn a_moved_local_assigned_again_in_a_loop_is_not_stored() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = ReassignedInALoopState::default();
        s.run(|| reassigned_in_a_loop(&mut st, s))
    });
    assert_eq!(log, ["k 7", "io x", "v [0]", "v [1]"]);
}

/// By-value parameters the body only reads in place (indexed, borrowed,
/// compared, `len()`) need no carrier; one it moves keeps its carrier.
/// Both are passed again on every call.
#[io_model::resumable(state = st)]
fn params_read_in_place(
    st: &mut ParamsReadInPlaceState,
    s: &Sched,
    pages: Vec<u32>,
    tag: String,
    owned: String,
) -> Result<IOResult<u32>> {
    let mut sum: u32 = 0;
    let mut i: usize = 0;
    while i < pages.len() {
        let c = s.io("read");
        wait!(c);
        sum += pages[i];
        s.log(format!("{tag} {}", &pages[i]));
        i += 1;
    }
    let c = s.io("tail");
    wait!(c);
    if tag == "t" {
        s.log(owned);
    }
    Ok(IOResult::Done(sum + pages.len() as u32))
}

#[test]
fn parameters_read_in_place_across_points() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = ParamsReadInPlaceState::default();
        s.run(|| params_read_in_place(&mut st, s, vec![3, 4], "t".into(), "own".into()))
    });
    assert_eq!(log, ["io read", "t 3", "io read", "t 4", "io tail", "own"]);
}

/// A `for` over `a..end` whose end every call evaluates the same (a
/// literal, a primitive parameter) stores only its loop variable; the
/// iterator is rebuilt from it. One whose variable is shadowed, mutable or
/// whose end is computed keeps the iterator.
#[io_model::resumable(state = st)]
fn counted_loops(st: &mut CountedLoopsState, s: &Sched, n: u32) -> Result<IOResult<u32>> {
    let mut sum: u32 = 0;
    for r in 1..n {
        for k in 0..3u32 {
            let c = s.io("cell");
            wait!(c);
            sum += r * 10 + k;
            s.log(format!("cell {r} {k}"));
        }
        for mut k in 0..2u32 {
            let c = s.io("mut");
            wait!(c);
            k += 100;
            s.log(format!("mut {k}"));
        }
        let m: u32 = n + 1;
        for k in r..m {
            let k: u32 = k * 2;
            let c = s.io("computed");
            wait!(c);
            s.log(format!("computed {k}"));
        }
    }
    Ok(IOResult::Done(sum))
}

#[test]
fn counted_for_loops_rebuild_their_iterators() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = CountedLoopsState::default();
        s.run(|| counted_loops(&mut st, s, 3))
    });
    assert_eq!(log.iter().filter(|l| l.starts_with("cell")).count(), 6);
    assert_eq!(log.iter().filter(|l| l.starts_with("mut")).count(), 4);
    assert_eq!(log.iter().filter(|l| l.starts_with("computed")).count(), 5);
}

#[io_model::resumable(state = st)]
fn counted_only(st: &mut CountedOnlyState, s: &Sched, n: u32) -> Result<IOResult<()>> {
    for k in 0..n {
        let c = s.io("x");
        wait!(c);
        s.log(format!("k {k}"));
    }
    Ok(IOResult::Done(()))
}

#[test]
fn a_counted_loop_stores_its_variable_only() {
    let log = same_as_straight_line(SEEDS, |s| {
        let mut st = CountedOnlyState::default();
        s.run(|| counted_only(&mut st, s, 2))
    });
    assert_eq!(log, ["io x", "k 0", "io x", "k 1"]);
    // `k` and the completion; with the `Range` it would be 24 bytes.
    assert_eq!(std::mem::size_of::<CountedOnlyState>(), 16);
}
