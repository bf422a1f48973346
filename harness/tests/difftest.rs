//! The harness on small operations: it passes on equal implementations in
//! every mode, and each kind of difference is caught and reported with the
//! seed, the mode and what differed first.

use std::sync::Arc;

use io_model::{io_yield_one, Buffer, Completion, File, IOResult, Result};
use io_model_difftest::{observed, DiffTest, Difference, Env, Failure, Mode};

const PAGE: usize = 512;

fn setup(env: &Env) -> Result<()> {
    let bytes: Vec<u8> = (0..4 * PAGE).map(|i| (i / PAGE) as u8 + 1).collect();
    env.write_file("db", &bytes)
}

/// Copies page `from` to page `to`: a read, then a write of what was read.
/// Hand-written; `extra_read`, `tweak` and `count_early` add bugs.
struct Copy {
    file: Arc<dyn File>,
    from: u64,
    to: u64,
    st: CopyHand,
    /// Re-reads the page on every call while the read is pending.
    extra_read: bool,
    /// Writes one byte wrong.
    tweak: bool,
    /// Counts calls made while waiting, in the waiting arm, before
    /// checking the completion (only early re-entry sees it).
    count_early: bool,
    waits: u32,
}

#[derive(Default)]
enum CopyHand {
    #[default]
    Start,
    Reading(Completion),
    Writing(Completion),
}

impl Copy {
    fn new(env: &Env) -> Result<Self> {
        Ok(Copy {
            file: env.open("db")?,
            from: 1,
            to: 3,
            st: CopyHand::Start,
            extra_read: false,
            tweak: false,
            count_early: false,
            waits: 0,
        })
    }

    fn read(&self) -> Result<Completion> {
        let c = Completion::new_read(Arc::new(Buffer::new(PAGE)), |_| {});
        self.file.pread(self.from * PAGE as u64, c)
    }

    fn call(&mut self) -> Result<IOResult<u8>> {
        loop {
            match std::mem::take(&mut self.st) {
                CopyHand::Start => {
                    let c = self.read()?;
                    self.st = CopyHand::Reading(c.clone());
                    io_yield_one!(c);
                }
                CopyHand::Reading(c) => {
                    if self.count_early {
                        self.waits += 1;
                    }
                    if !c.finished() {
                        if self.extra_read {
                            let _ = self.read()?;
                        }
                        self.st = CopyHand::Reading(c.clone());
                        io_yield_one!(c);
                    }
                    if let Some(e) = c.get_error() {
                        return Err(e.into());
                    }
                    let mut bytes = c.read_buffer().expect("a read").to_vec();
                    if self.tweak {
                        bytes[17] ^= 0xff;
                    }
                    let w = self.file.pwrite(
                        self.to * PAGE as u64,
                        Arc::new(Buffer::from_vec(bytes)),
                        Completion::new_write(|_| {}),
                    )?;
                    self.st = CopyHand::Writing(w);
                }
                CopyHand::Writing(c) => {
                    if !c.finished() {
                        self.st = CopyHand::Writing(c.clone());
                        io_yield_one!(c);
                    }
                    if let Some(e) = c.get_error() {
                        return Err(e.into());
                    }
                    return Ok(IOResult::Done(self.to as u8));
                }
            }
        }
    }
}

/// The same copy, generated.
#[io_model::resumable(state = st)]
fn copy(st: &mut CopyState, file: &dyn File, from: u64, to: u64) -> Result<IOResult<u8>> {
    let buf: Arc<Buffer> = Arc::new(Buffer::new(PAGE));
    let c = Completion::new_read(buf.clone(), |_| {});
    wait!(Read => file.pread(from * PAGE as u64, c)?);
    let w = Completion::new_write(|_| {});
    wait!(Write => file.pwrite(to * PAGE as u64, Arc::new(Buffer::from_vec(buf.to_vec())), w)?);
    Ok(IOResult::Done(to as u8))
}

fn hand(env: &Env) -> Result<impl FnMut() -> Result<IOResult<u8>>> {
    let mut op = Copy::new(env)?;
    Ok(move || op.call())
}

fn generated(env: &Env) -> Result<impl FnMut() -> Result<IOResult<u8>>> {
    let file = env.open("db")?;
    let mut st = CopyState::default();
    Ok(move || copy(&mut st, &*file, 1, 3))
}

fn mismatch(f: Failure) -> Box<io_model_difftest::Mismatch> {
    match f {
        Failure::Mismatch(m) => m,
        other => panic!("expected a mismatch, got: {other}"),
    }
}

#[test]
fn equal_implementations_pass_in_every_mode() {
    let summary = DiffTest::new("hand-written", hand, "#[resumable]", generated)
        .setup(setup)
        .seeds(0..100)
        .check();
    assert_eq!(summary.runs, 400);
    // Two I/O a run, less the writes of runs whose read failed.
    assert!(summary.ios > 700 && summary.ios <= 800, "{summary}");
    assert!(summary.failed_ios > 0, "{summary}");
    assert!(summary.errors > 0, "{summary}");
    assert!(
        summary.early_reentries[0] > 0 && summary.early_reentries[1] > 0,
        "{summary}"
    );
}

#[test]
fn an_extra_read_is_the_first_difference() {
    let buggy = |env: &Env| {
        let mut op = Copy::new(env)?;
        op.extra_read = true;
        Ok(move || op.call())
    };
    let failure = DiffTest::new("hand-written", hand, "re-reads", buggy)
        .setup(setup)
        .run()
        .unwrap_err();
    let report = failure.to_string();
    let m = mismatch(failure);
    // Deferred mode calls again only once the read finished: the extra
    // read needs an early re-entry.
    assert_eq!(m.mode, Mode::EarlyReentry, "{report}");
    let seed = m.seed;
    let Difference::Io { index } = m.difference else {
        panic!("{report}")
    };
    let [a, b] = m.first_ios().unwrap();
    assert_eq!(
        a.unwrap().kind,
        io_model_backends::OpKind::Write,
        "{report}"
    );
    let b = b.unwrap();
    assert_eq!(b.to_string(), "read db @512+512", "{report}");
    assert!(
        report.contains(&format!("differ on seed {seed} in mode early-reentry")),
        "{report}"
    );
    assert!(
        report.contains(&format!("first difference: I/O #{}", index + 1)),
        "{report}"
    );
    assert!(
        report.contains(&format!("call {}: read db @512+512", b.call)),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "replay: .seeds({seed}..{}).modes([Mode::EarlyReentry])",
            seed + 1
        )),
        "{report}"
    );
}

#[test]
fn written_bytes_are_compared() {
    let buggy = |env: &Env| {
        let mut op = Copy::new(env)?;
        op.tweak = true;
        Ok(move || op.call())
    };
    let failure = DiffTest::new("hand-written", hand, "tweaked", buggy)
        .setup(setup)
        .run()
        .unwrap_err();
    let report = failure.to_string();
    let m = mismatch(failure);
    assert_eq!(
        (m.seed, m.mode, m.difference.clone()),
        (0, Mode::Deferred, Difference::Io { index: 1 })
    );
    assert!(
        report.contains("the written bytes differ from +17: 02 02 02 02 02 02 02 02 vs fd 02"),
        "{report}"
    );
}

#[test]
fn a_mutation_in_the_waiting_arm_needs_early_reentry() {
    let buggy = |env: &Env| {
        let op = Copy {
            count_early: true,
            ..Copy::new(env)?
        };
        Ok(observed(op, Copy::call, |op| op.waits))
    };
    let correct = |env: &Env| {
        let op = Copy::new(env)?;
        // One wait per read: what the buggy count should be.
        Ok(observed(op, Copy::call, |_| 1u32))
    };
    DiffTest::new("correct", correct, "counts early calls", buggy)
        .setup(setup)
        .modes([Mode::Deferred])
        .check();
    for mode in [Mode::EarlyReentry, Mode::YieldEverything] {
        let failure = DiffTest::new("correct", correct, "counts early calls", buggy)
            .setup(setup)
            .modes([mode])
            .run()
            .unwrap_err();
        let report = failure.to_string();
        let m = mismatch(failure);
        assert_eq!(m.difference, Difference::Observed, "{report}");
        assert!(
            report.contains("the in-memory state after the run"),
            "{report}"
        );
        assert_eq!(m.observed[0], "1");
    }
}

#[test]
fn yield_everything_reenters_before_every_step() {
    let failure = DiffTest::new(
        "correct",
        |env: &Env| Ok(observed(Copy::new(env)?, Copy::call, |_| 0u32)),
        "counting",
        |env: &Env| {
            let op = Copy {
                count_early: true,
                ..Copy::new(env)?
            };
            Ok(observed(op, Copy::call, |op| op.waits))
        },
    )
    .setup(setup)
    .modes([Mode::YieldEverything])
    .run()
    .unwrap_err();
    // One read: called once before any step (and again after the step
    // that delivered it, when the arm runs for the last time).
    assert_eq!(mismatch(failure).observed[1], "2");
}

#[test]
fn outcomes_are_compared() {
    let other = |env: &Env| {
        let mut op = Copy::new(env)?;
        Ok(move || op.call().map(|r| r.map(|v| v + 1)))
    };
    let failure = DiffTest::new("hand-written", hand, "off by one", other)
        .setup(setup)
        .run()
        .unwrap_err();
    let report = failure.to_string();
    assert_eq!(mismatch(failure).difference, Difference::Outcome);
    assert!(
        report.contains("how the runs ended (both issued the same 2 I/O)"),
        "{report}"
    );
    assert!(
        report.contains("`hand-written` Done(3)") && report.contains("`off by one` Done(4)"),
        "{report}"
    );
}

type BoxedOp = Box<dyn FnMut() -> Result<IOResult<()>>>;

/// Writes a page, then changes the buffer while the write is in flight.
fn scribbler(scribble: bool) -> impl Fn(&Env) -> Result<BoxedOp> {
    move |env: &Env| {
        let file = env.open("db")?;
        let buf = Arc::new(Buffer::from_vec(vec![5; PAGE]));
        let mut w: Option<Completion> = None;
        Ok(Box::new(move || {
            let c = match &w {
                Some(c) => c.clone(),
                None => {
                    let c = file.pwrite(0, buf.clone(), Completion::new_write(|_| {}))?;
                    if scribble {
                        buf.lock()[9] = 0xee;
                    }
                    w = Some(c.clone());
                    c
                }
            };
            if !c.finished() {
                io_yield_one!(c);
            }
            match c.get_error() {
                Some(e) => Err(e.into()),
                None => Ok(IOResult::Done(())),
            }
        }))
    }
}

#[test]
fn file_contents_are_compared_and_the_writer_named() {
    let failure = DiffTest::new("careful", scribbler(false), "scribbles", scribbler(true))
        .setup(setup)
        .run()
        .unwrap_err();
    let report = failure.to_string();
    let m = mismatch(failure);
    assert_eq!(
        m.difference,
        Difference::Contents {
            file: "db".into(),
            offset: Some(9),
            durable: false
        },
        "{report}"
    );
    assert!(
        report.contains("file `db` (what a read sees at the end) at byte 9"),
        "{report}"
    );
    assert!(
        report.contains("last written there by I/O #1 (write db @0+512"),
        "{report}"
    );
}

#[test]
fn a_panic_on_one_side_is_a_difference_and_on_both_is_broken() {
    let panics = |env: &Env| {
        let mut op = Copy::new(env)?;
        let mut calls = 0;
        Ok(move || {
            calls += 1;
            assert!(calls < 2, "called again");
            op.call()
        })
    };
    let report = DiffTest::new("hand-written", hand, "panics", panics)
        .setup(setup)
        .run()
        .unwrap_err()
        .to_string();
    assert!(
        report.contains("`panics` panicked in call 2: called again"),
        "{report}"
    );
    assert!(report.contains("first difference: I/O #2"), "{report}");
    let both = DiffTest::new("a", panics, "b", panics)
        .setup(setup)
        .run()
        .unwrap_err();
    assert!(matches!(&both, Failure::Broken(b) if b.seed == 0), "{both}");
    assert!(
        both.to_string()
            .contains("neither ended cleanly: panicked in call 2"),
        "{both}"
    );
}

#[test]
fn waiting_for_nothing_is_stuck_not_a_hang() {
    let stray = |_: &Env| {
        let c = Completion::new_sync(|_| {});
        Ok(move || -> Result<IOResult<()>> { io_yield_one!(c.clone()) })
    };
    for mode in Mode::all() {
        let f = DiffTest::new("a", stray, "b", stray)
            .modes([mode])
            .seeds(0..1)
            .run()
            .unwrap_err();
        assert!(
            f.to_string()
                .contains("waits for a completion that nothing will finish"),
            "{mode}: {f}"
        );
    }
    let spins = |_: &Env| Ok(|| -> Result<IOResult<()>> { io_yield_one!(Completion::new_yield()) });
    let f = DiffTest::new("a", spins, "b", spins)
        .max_calls(50)
        .seeds(0..1)
        .run()
        .unwrap_err();
    assert!(f.to_string().contains("not done after 50 calls"), "{f}");
    // A machine that issues its read again on every call.
    let reissues = |env: &Env| {
        let file = env.open("db")?;
        Ok(move || -> Result<IOResult<()>> {
            let c = file.pread(0, Completion::new_read(Arc::new(Buffer::new(8)), |_| {}))?;
            io_yield_one!(c)
        })
    };
    let f = DiffTest::new("a", reissues, "b", reissues)
        .setup(setup)
        .max_ios(100)
        .seeds(0..1)
        .run()
        .unwrap_err();
    assert!(
        f.to_string()
            .contains("issued 101 I/O, more than the harness's limit of 100"),
        "{f}"
    );
}

#[test]
fn setup_errors_are_reported() {
    let f = DiffTest::new("hand-written", hand, "#[resumable]", generated)
        .setup(|env| {
            env.io().remove_file("nope")?;
            Ok(())
        })
        .run()
        .unwrap_err();
    assert!(
        f.to_string()
            .starts_with("setting up `setup` failed on seed 0 in mode deferred"),
        "{f}"
    );
    assert_eq!(f.seed(), Some(0));
}

#[test]
fn a_reported_seed_replays_the_same_mismatch() {
    let buggy = |env: &Env| {
        let mut op = Copy::new(env)?;
        op.extra_read = true;
        Ok(move || op.call())
    };
    let test = || DiffTest::new("hand-written", hand, "re-reads", buggy).setup(setup);
    let first = test()
        .seeds(0..50)
        .modes([Mode::Faults(Mode::DEFAULT_FAULTS)])
        .run()
        .unwrap_err();
    let m = first.mismatch().unwrap();
    let again = test()
        .seeds(m.seed..m.seed + 1)
        .modes([m.mode])
        .run()
        .unwrap_err();
    assert_eq!(again.to_string(), first.to_string());
}

#[test]
fn a_panicking_observe_is_reported() {
    let make = |env: &Env| {
        let op = Copy::new(env)?;
        Ok(observed(op, Copy::call, |_| -> u32 { panic!("poisoned") }))
    };
    let f = DiffTest::new("a", make, "b", make)
        .setup(setup)
        .modes([Mode::Deferred])
        .seeds(0..1)
        .run();
    // Both observe alike, so the runs agree.
    assert!(f.is_ok(), "{f:?}");
}
