//! Generated and hand-written functions calling each other, custom error
//! types, the state enum's API, poisoning and cancellation.
#![deny(warnings)]

use io_model::{io_yield_one, return_if_io, Completion, CompletionError, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

/// A hand-written sub-operation in the Turso style: an explicit state enum,
/// side effects only after the wait.
#[derive(Default)]
enum ReadPageHand {
    #[default]
    Start,
    Waiting(Completion),
}

fn read_page_hand(st: &mut ReadPageHand, s: &Sched, page: u32) -> Result<IOResult<Vec<u8>>> {
    loop {
        match st {
            ReadPageHand::Start => {
                *st = ReadPageHand::Waiting(s.io(&format!("page {page}")));
            }
            ReadPageHand::Waiting(c) => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = ReadPageHand::Start;
                    return Err(e.into());
                }
                *st = ReadPageHand::Start;
                s.log(format!("page {page} read"));
                return Ok(IOResult::Done(vec![page as u8; 4]));
            }
        }
    }
}

/// Generated, calling the hand-written one with `call!`, its sub-state in
/// one of its own locals (stored in the variant while it waits).
#[io_model::resumable(state = st, name = SumPagesMachine)]
pub fn sum_pages(st: &mut SumPagesMachine, s: &Sched, pages: u32) -> Result<IOResult<u32>> {
    let mut total: u32 = 0;
    let mut sub: ReadPageHand = ReadPageHand::Start;
    let mut i: u32 = 0;
    while i < pages {
        let bytes: Vec<u8> = call!(read_page_hand(&mut sub, s, i));
        total += bytes.iter().map(|b| *b as u32).sum::<u32>();
        s.log(format!("total {total}"));
        i += 1;
    }
    Ok(IOResult::Done(total))
}

/// Hand-written, driving the generated one with `return_if_io!`.
struct Outer {
    inner: SumPagesMachine,
    logged: bool,
}

fn outer_hand(o: &mut Outer, s: &Sched) -> Result<IOResult<u32>> {
    let v = return_if_io!(sum_pages(&mut o.inner, s, 3));
    if !o.logged {
        o.logged = true;
        s.log("outer done");
    }
    Ok(IOResult::Done(v + 1))
}

#[test]
fn hand_written_and_generated_call_each_other() {
    let log = same_as_straight_line(200, |s| {
        let mut o = Outer {
            inner: SumPagesMachine::default(),
            logged: false,
        };
        s.run(|| outer_hand(&mut o, s))
    });
    assert_eq!(log.first().unwrap(), "io page 0");
    assert_eq!(log.last().unwrap(), "outer done");
    assert_eq!(log.len(), 3 * 3 + 1);
}

#[derive(Debug, PartialEq)]
enum AppError {
    Io(CompletionError),
    Parse(String),
}

impl From<CompletionError> for AppError {
    fn from(e: CompletionError) -> Self {
        AppError::Io(e)
    }
}

impl From<io_model::Error> for AppError {
    fn from(e: io_model::Error) -> Self {
        match e {
            io_model::Error::Completion(c) => AppError::Io(c),
            other => AppError::Parse(other.to_string()),
        }
    }
}

/// Own error type; `call!` converts the callee's `io_model::Error`.
#[io_model::resumable(state = st)]
fn parse_len(
    st: &mut ParseLenState,
    s: &Sched,
    text: &str,
) -> std::result::Result<IOResult<usize>, AppError> {
    let mut sub: ReadPageHand = ReadPageHand::Start;
    let page: Vec<u8> = call!(read_page_hand(&mut sub, s, 7));
    let n: usize = text
        .parse()
        .map_err(|_| AppError::Parse(text.to_string()))?;
    Ok(IOResult::Done(page.len() + n))
}

#[test]
fn custom_error_types_convert() {
    same_as_straight_line(50, |s| {
        let mut st = ParseLenState::default();
        assert_eq!(
            s.run(|| parse_len(&mut st, s, "x")),
            Err(AppError::Parse("x".into()))
        );
        assert!(st.is_idle());
        s.run(|| parse_len(&mut st, s, "3"))
    });
    let s = Sched::deferred(1).failing(100);
    let mut st = ParseLenState::default();
    assert_eq!(
        s.run(|| parse_len(&mut st, &s, "3")),
        Err(AppError::Io(CompletionError::IOError(
            std::io::ErrorKind::Other
        )))
    );
}

#[io_model::resumable(state = st)]
fn may_panic(st: &mut MayPanicState, s: &Sched, boom: bool) -> Result<IOResult<u8>> {
    let c = s.io("before");
    wait!(c);
    if boom {
        panic!("boom");
    }
    Ok(IOResult::Done(1))
}

#[test]
fn a_panic_poisons_the_state_and_the_next_call_says_so() {
    let s = Sched::deferred(0);
    let mut st = MayPanicState::default();
    assert!(may_panic(&mut st, &s, true).unwrap().is_io());
    assert_eq!(st.name(), "Wait0");
    s.finish_one();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = may_panic(&mut st, &s, true);
    }));
    assert!(caught.is_err());
    assert_eq!(st.name(), "Poisoned");
    assert!(!st.is_idle());
    let msg = io_model_tests::panic_message(|| {
        let _ = may_panic(&mut st, &s, false);
    });
    assert!(
        msg.contains("`may_panic`") && msg.contains("poisoned"),
        "{msg}"
    );
    // cancel() recovers.
    st.cancel();
    assert!(st.is_idle());
    assert_eq!(s.run(|| may_panic(&mut st, &s, false)).unwrap(), 1);
}

/// Names its own state parameter, so the state is moved out of `st` for
/// the call and put back (a body that never names it works on it in place).
#[io_model::resumable(state = st)]
fn names_its_state(st: &mut NamesItsStateState, s: &Sched) -> Result<IOResult<u8>> {
    s.log(format!("first {}", st.name()));
    let c = s.io("one");
    wait!(c);
    s.log(format!("then {}", st.name()));
    Ok(IOResult::Done(2))
}

#[test]
fn a_body_that_names_its_state_parameter_sees_it_running() {
    let log = same_as_straight_line(50, |s| {
        let mut st = NamesItsStateState::default();
        let r = s.run(|| names_its_state(&mut st, s));
        assert!(st.is_idle());
        r
    });
    assert_eq!(log, ["first Poisoned", "io one", "then Poisoned"]);
}

#[test]
fn cancel_aborts_the_held_completion_and_idles() {
    let s = Sched::deferred(3);
    let mut st = MayPanicState::default();
    assert!(may_panic(&mut st, &s, false).unwrap().is_io());
    assert_eq!(format!("{st:?}"), "Wait0");
    st.cancel();
    assert!(st.is_idle());
    assert_eq!(s.pending(), 1);
    // The backend finishing it later is harmless; a new run starts afresh.
    s.finish_one();
    assert_eq!(s.run(|| may_panic(&mut st, &s, false)).unwrap(), 1);
    assert_eq!(s.entries(), ["io before", "io before"]);
}

#[test]
fn resuming_before_the_completion_finished_changes_nothing() {
    let s = Sched::deferred(9);
    let mut st = MayPanicState::default();
    let first = may_panic(&mut st, &s, false).unwrap().io().unwrap();
    for _ in 0..3 {
        let again = may_panic(&mut st, &s, false).unwrap().io().unwrap();
        assert!(again.completion().ptr_eq(first.completion()));
    }
    assert_eq!(s.entries(), ["io before"]);
    s.finish_one();
    assert_eq!(may_panic(&mut st, &s, false).unwrap().done(), Some(1));
}
