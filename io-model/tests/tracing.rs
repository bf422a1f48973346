//! The `tracing` feature of `io-model`: every transition of a generated
//! machine emits a TRACE event with `function`, `from`, `to` and `line`.
//! A small subscriber captures them. Run with
//! `cargo test -p io-model --features tracing --test tracing` (`.ci/run`
//! does).

use std::sync::{Arc, Mutex};

use io_model::{Completion, IOResult, Result};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_string(), value.to_string()));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        *m.level() == Level::TRACE
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut f = Fields(Vec::new());
        e.record(&mut f);
        let get = |k: &str| {
            f.0.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        self.0.lock().unwrap().push(format!(
            "{} {} -> {} @{}",
            get("function"),
            get("from"),
            get("to"),
            get("line")
        ));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[io_model::resumable(state = st)]
fn traced(st: &mut TracedState, c: Completion, fail: bool) -> Result<IOResult<u32>> {
    wait!(Read => c);
    yield_now!();
    if fail {
        return Err(io_model::Error::InvalidArgument("asked to".into()));
    }
    Ok(IOResult::Done(1))
}

/// Runs `traced` to its end, finishing the completion on the second call.
fn run(fail: bool) -> Result<u32> {
    let c = Completion::new_write(|_| {});
    let mut st = TracedState::default();
    let mut calls = 0;
    loop {
        calls += 1;
        if calls == 2 {
            c.complete(0);
        }
        if let IOResult::Done(v) = traced(&mut st, c.clone(), fail)? {
            return Ok(v);
        }
    }
}

#[test]
fn every_transition_is_an_event() {
    let cap = Capture::default();
    tracing::subscriber::with_default(cap.clone(), || {
        assert_eq!(run(false).unwrap(), 1);
        assert!(run(true).is_err());
    });
    let events = cap.0.lock().unwrap().clone();
    let line = line_of_read();
    assert_eq!(
        events,
        [
            format!("traced Idle -> Read @{line}"),
            format!("traced Read -> Yield0 @{}", line + 1),
            "traced Yield0 -> Done @0".to_string(),
            format!("traced Idle -> Read @{line}"),
            format!("traced Read -> Yield0 @{}", line + 1),
            "traced Yield0 -> Err @0".to_string(),
        ]
    );
}

/// The line of `wait!(Read => c)` above, read from the state graph.
fn line_of_read() -> usize {
    let key = "Read\\nwait! line ";
    let g = TracedState::GRAPH;
    let at = g.find(key).expect("the graph names the wait") + key.len();
    g[at..].split('"').next().unwrap().parse().unwrap()
}
