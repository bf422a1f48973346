//! SimIO's own tests: determinism per seed, deferred and reordered
//! delivery (and one at a time), each fault kind, crash durability, the
//! trace.

mod common;

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{completion_error, pattern, read, sync, write};
use io_model::{Buffer, Completion, CompletionError, CompletionGroup, Error, File, OpenFlags, IO};
use io_model_backends::{Faults, OpKind, SimIO, TraceEntry};

const INJECTED: Option<CompletionError> = Some(CompletionError::IOError(ErrorKind::Other));

/// What a run observed: the order in which completions were delivered (by
/// issue number, with their outcome), the trace, and the final contents.
#[derive(Debug, PartialEq)]
struct Run {
    delivered: Vec<(usize, Result<i32, CompletionError>)>,
    trace: Vec<TraceEntry>,
    contents: Vec<Option<Vec<u8>>>,
}

/// 120 overlapping writes, reads, syncs and truncations on two files, all
/// in flight at once, so that the outcome depends on the delivery order.
fn workload(io: &SimIO) -> Run {
    let files: Vec<Arc<dyn File>> = ["a", "b"]
        .iter()
        .map(|p| io.open_file(p, OpenFlags::CREATE).unwrap())
        .collect();
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let mut group = CompletionGroup::new(|_| {});
    for i in 0..120usize {
        let f = &files[i % 2];
        let log = delivered.clone();
        let record = move |res: Result<i32, CompletionError>| log.lock().unwrap().push((i, res));
        let pos = (i % 7 * 300) as u64;
        let c = match i % 5 {
            0 | 1 => f.pwrite(
                pos,
                Arc::new(Buffer::from_vec(pattern(i as u64, 700))),
                Completion::new_write(record),
            ),
            2 => f.pread(
                pos,
                Completion::new_read(Arc::new(Buffer::new(500)), move |res| {
                    record(res.map(|(_, n)| n))
                }),
            ),
            3 => f.sync(Completion::new_sync(record)),
            _ => f.truncate(1500 + pos, Completion::new_trunc(record)),
        };
        group.add(&c.unwrap());
    }
    let all = group.build();
    while !all.finished() {
        io.step().unwrap();
    }
    let delivered = std::mem::take(&mut *delivered.lock().unwrap());
    Run {
        delivered,
        trace: io.trace(),
        contents: vec![io.contents("a"), io.contents("b")],
    }
}

#[test]
fn the_same_seed_replays_the_same_run() {
    for seed in [0, 7, 12345] {
        assert_eq!(
            workload(&SimIO::new(seed)),
            workload(&SimIO::new(seed)),
            "seed {seed}"
        );
    }
    let faults = Faults {
        read_error: 0.2,
        write_error: 0.2,
        sync_error: 0.2,
        short_read: 0.2,
        torn_write: 0.2,
    };
    let a = workload(&SimIO::with_faults(99, faults));
    let b = workload(&SimIO::with_faults(99, faults));
    assert!(
        a.delivered.iter().any(|(_, r)| r.is_err()),
        "faults were injected"
    );
    assert_eq!(a, b);
}

#[test]
fn seeds_draw_different_orders_late_and_out_of_order() {
    let runs: Vec<Run> = (0..8).map(|seed| workload(&SimIO::new(seed))).collect();
    let orders: BTreeSet<Vec<usize>> = runs
        .iter()
        .map(|r| r.delivered.iter().map(|(i, _)| *i).collect())
        .collect();
    assert_eq!(
        orders.len(),
        runs.len(),
        "every seed drew its own delivery order"
    );
    for run in &runs {
        let order: Vec<usize> = run.delivered.iter().map(|(i, _)| *i).collect();
        assert_eq!(order.len(), 120, "every completion delivered once");
        assert!(
            order.windows(2).any(|w| w[0] > w[1]),
            "some completion was delivered after one issued later"
        );
        // The trace is in issue order whatever the delivery order.
        assert_eq!(run.trace.len(), 120);
    }
    let contents: BTreeSet<_> = runs.iter().map(|r| r.contents.clone()).collect();
    assert!(
        contents.len() > 1,
        "the delivery order decides the outcome of overlapping writes"
    );
}

#[test]
fn one_at_a_time_delivers_the_oldest_operation_per_step() {
    for seed in [0, 3, 77] {
        let run = workload(&SimIO::new(seed).one_at_a_time());
        let order: Vec<usize> = run.delivered.iter().map(|(i, _)| *i).collect();
        assert_eq!(
            order,
            (0..120).collect::<Vec<_>>(),
            "seed {seed}: issue order"
        );
    }
    // One operation per step, even when several are due.
    let io = SimIO::new(5).with_max_delay(0).one_at_a_time();
    let f = io.open_file("a", OpenFlags::CREATE).unwrap();
    let cs: Vec<Completion> = (0..3)
        .map(|_| f.sync(Completion::new_sync(|_| {})).unwrap())
        .collect();
    for n in 1..=3 {
        io.step().unwrap();
        let done = cs.iter().filter(|c| c.finished()).count();
        assert_eq!(done, n);
        assert!(cs[..n].iter().all(Completion::finished));
    }
    // Faults are still drawn from the seed: the same seed replays the run.
    let faults = Faults {
        read_error: 0.2,
        write_error: 0.2,
        ..Faults::none()
    };
    assert_eq!(
        workload(&SimIO::with_faults(8, faults).one_at_a_time()),
        workload(&SimIO::with_faults(8, faults).one_at_a_time())
    );
}

#[test]
fn every_completion_is_deferred_to_a_step() {
    let io = SimIO::new(1);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    let w = f
        .pwrite(0, Arc::new(Buffer::new(0)), Completion::new_write(|_| {}))
        .unwrap();
    let bad = Completion::new_write(|_| {});
    let ro = io.open_file("f", OpenFlags::READ_ONLY).unwrap();
    let denied = ro.pwrite(0, Arc::new(Buffer::new(1)), bad).unwrap();
    let r = f
        .pread(0, Completion::new_read(Arc::new(Buffer::new(4)), |_| {}))
        .unwrap();
    assert!(!w.finished() && !denied.finished() && !r.finished());
    assert_eq!(io.pending(), 3);
    let mut steps = 0;
    while io.pending() > 0 {
        io.step().unwrap();
        steps += 1;
    }
    assert!(
        (1..=5).contains(&steps),
        "{steps} steps (the longest delay is 4)"
    );
    assert!(w.succeeded());
    assert_eq!(
        denied.get_error(),
        Some(CompletionError::IOError(ErrorKind::PermissionDenied))
    );
    assert!(r.failed(), "empty file: short read");
    // With no delay, one step delivers everything.
    let io = SimIO::new(1).with_max_delay(0);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    let cs: Vec<Completion> = (0..10)
        .map(|_| f.sync(Completion::new_sync(|_| {})).unwrap())
        .collect();
    io.step().unwrap();
    assert!(cs.iter().all(Completion::succeeded));
}

#[test]
fn read_errors() {
    let io = SimIO::new(2);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    write(&io, &*f, 0, &[1; 100]).unwrap();
    io.set_faults(Faults {
        read_error: 1.0,
        ..Faults::none()
    });
    for _ in 0..5 {
        let (err, _) = read(&io, &*f, 0, 100).unwrap_err();
        assert_eq!(completion_error(&err), INJECTED);
    }
    io.set_faults(Faults::none());
    assert_eq!(read(&io, &*f, 0, 100).unwrap(), vec![1; 100]);
}

#[test]
fn write_errors_land_nothing() {
    let io = SimIO::with_faults(
        3,
        Faults {
            write_error: 1.0,
            ..Faults::none()
        },
    );
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    let err = write(&io, &*f, 0, &[1; 100]).unwrap_err();
    assert_eq!(completion_error(&err), INJECTED);
    assert_eq!(io.contents("f"), Some(vec![]));
}

#[test]
fn sync_errors_make_nothing_durable() {
    let io = SimIO::new(4);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    write(&io, &*f, 0, &[1; 10]).unwrap();
    io.set_faults(Faults {
        sync_error: 1.0,
        ..Faults::none()
    });
    assert_eq!(completion_error(&sync(&io, &*f).unwrap_err()), INJECTED);
    assert_eq!(io.durable_contents("f"), Some(vec![]));
    io.crash();
    assert_eq!(io.contents("f"), Some(vec![]), "the unsynced write is lost");
}

#[test]
fn short_reads_fill_a_prefix() {
    let io = SimIO::new(5);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    let data = pattern(5, 4096);
    write(&io, &*f, 0, &data).unwrap();
    io.set_faults(Faults {
        short_read: 1.0,
        ..Faults::none()
    });
    let mut lengths = BTreeSet::new();
    for _ in 0..20 {
        let (err, got) = read(&io, &*f, 0, 4096).unwrap_err();
        let Some(CompletionError::ShortRead {
            expected: 4096,
            actual,
        }) = completion_error(&err)
        else {
            panic!("expected a short read, got {err}");
        };
        assert!(actual < 4096);
        assert_eq!(got, &data[..actual]);
        lengths.insert(actual);
    }
    assert!(lengths.len() > 10, "the lengths are drawn: {lengths:?}");
}

#[test]
fn torn_writes_land_a_prefix() {
    let io = SimIO::new(6);
    let f = io.open_file("f", OpenFlags::CREATE).unwrap();
    write(&io, &*f, 0, &[0xaa; 4096]).unwrap();
    io.set_faults(Faults {
        torn_write: 1.0,
        ..Faults::none()
    });
    let err = write(&io, &*f, 0, &[0xbb; 4096]).unwrap_err();
    assert_eq!(completion_error(&err), Some(CompletionError::ShortWrite));
    let now = io.contents("f").unwrap();
    let landed = now.iter().take_while(|&&b| b == 0xbb).count();
    assert!(landed < 4096);
    assert!(
        now[landed..].iter().all(|&b| b == 0xaa),
        "only a prefix landed"
    );
    // Past the end, a torn write extends the file by what landed only.
    let err = write(&io, &*f, 4096, &[0xcc; 4096]).unwrap_err();
    assert_eq!(completion_error(&err), Some(CompletionError::ShortWrite));
    assert!(io.contents("f").unwrap().len() < 8192);
}

#[test]
fn faults_at_moderate_rates_finish_every_completion_once_with_a_known_outcome() {
    let faults = Faults {
        read_error: 0.1,
        write_error: 0.1,
        sync_error: 0.1,
        short_read: 0.1,
        torn_write: 0.1,
    };
    for seed in 0..5 {
        let io = SimIO::with_faults(seed, faults);
        let calls = Arc::new(AtomicUsize::new(0));
        let f = io.open_file("f", OpenFlags::CREATE).unwrap();
        let mut cs = Vec::new();
        for i in 0..300u64 {
            let n = calls.clone();
            let bump = move || {
                n.fetch_add(1, Ordering::SeqCst);
            };
            let c = match i % 3 {
                0 => f.pwrite(
                    i * 10,
                    Arc::new(Buffer::new(100)),
                    Completion::new_write(move |_| bump()),
                ),
                1 => f.pread(
                    i * 5,
                    Completion::new_read(Arc::new(Buffer::new(50)), move |_| bump()),
                ),
                _ => f.sync(Completion::new_sync(move |_| bump())),
            };
            cs.push(c.unwrap());
        }
        for c in &cs {
            match io.wait_for_completion(c.clone()) {
                Ok(()) => {}
                Err(Error::Completion(
                    CompletionError::ShortRead { .. }
                    | CompletionError::ShortWrite
                    | CompletionError::IOError(ErrorKind::Other),
                )) => {}
                Err(err) => panic!("unexpected error {err}"),
            }
        }
        assert_eq!(calls.load(Ordering::SeqCst), 300);
        assert!(cs.iter().any(Completion::failed) && cs.iter().any(Completion::succeeded));
    }
}

#[test]
fn crash_loses_what_no_completed_sync_covered() {
    let io = SimIO::new(8);
    let f = io.open_file("db", OpenFlags::CREATE).unwrap();
    write(&io, &*f, 0, b"synced").unwrap();
    sync(&io, &*f).unwrap();
    write(&io, &*f, 6, b"+unsynced").unwrap();
    // In flight at the crash: never lands, and its completion is aborted.
    let lost = f
        .pwrite(
            100,
            Arc::new(Buffer::from_vec(vec![1; 10])),
            Completion::new_write(|_| {}),
        )
        .unwrap();
    let lost_sync = f.sync(Completion::new_sync(|_| {})).unwrap();
    assert_eq!(io.contents("db").unwrap(), b"synced+unsynced");
    io.crash();
    assert_eq!(lost.get_error(), Some(CompletionError::Aborted));
    assert_eq!(lost_sync.get_error(), Some(CompletionError::Aborted));
    assert_eq!(io.pending(), 0);
    // The old handle is dead.
    assert!(matches!(f.size(), Err(Error::Io(e)) if e.kind() == ErrorKind::NotConnected));
    let err = write(&io, &*f, 0, b"x").unwrap_err();
    assert_eq!(
        completion_error(&err),
        Some(CompletionError::IOError(ErrorKind::NotConnected))
    );
    // Reopened, the file shows its durable state.
    let f = io.open_file("db", OpenFlags::NONE).unwrap();
    assert_eq!(f.size().unwrap(), 6);
    assert_eq!(read(&io, &*f, 0, 6).unwrap(), b"synced");
    // Files created and never synced exist, empty.
    let g = io.open_file("new", OpenFlags::CREATE).unwrap();
    write(&io, &*g, 0, b"data").unwrap();
    io.crash();
    assert_eq!(
        io.open_file("new", OpenFlags::NONE)
            .unwrap()
            .size()
            .unwrap(),
        0
    );
}

#[test]
fn a_sync_covers_the_writes_finished_before_it_was_issued() {
    for seed in 0..20 {
        let io = SimIO::new(seed);
        let f = io.open_file("db", OpenFlags::CREATE).unwrap();
        write(&io, &*f, 0, b"one").unwrap();
        let s1 = f.sync(Completion::new_sync(|_| {})).unwrap();
        // Finished after s1 was issued: s1 does not cover it, whatever
        // the delivery order.
        let w2 = f
            .pwrite(
                3,
                Arc::new(Buffer::from_vec(b"two".to_vec())),
                Completion::new_write(|_| {}),
            )
            .unwrap();
        io.wait_for_completion(w2).unwrap();
        io.wait_for_completion(s1).unwrap();
        assert_eq!(io.durable_contents("db").unwrap(), b"one", "seed {seed}");
        // A later sync covers it, and an older sync delivered after it
        // does not take the durable state back.
        let s2 = f.sync(Completion::new_sync(|_| {})).unwrap();
        let s3 = f.sync(Completion::new_sync(|_| {})).unwrap();
        write(&io, &*f, 6, b"three").unwrap();
        let s4 = f.sync(Completion::new_sync(|_| {})).unwrap();
        for s in [s4, s2, s3] {
            io.wait_for_completion(s).unwrap();
        }
        io.crash();
        let f = io.open_file("db", OpenFlags::NONE).unwrap();
        assert_eq!(
            read(&io, &*f, 0, 11).unwrap(),
            b"onetwothree",
            "seed {seed}"
        );
    }
}

#[test]
fn the_trace_records_every_operation_issued() {
    let io = SimIO::new(9);
    let f = io.open_file("t", OpenFlags::CREATE).unwrap();
    write(&io, &*f, 4096, &[1; 100]).unwrap();
    let _ = read(&io, &*f, 0, 50);
    sync(&io, &*f).unwrap();
    io.wait_for_completion(f.truncate(10, Completion::new_trunc(|_| {})).unwrap())
        .unwrap();
    let ro = io.open_file("t", OpenFlags::READ_ONLY).unwrap();
    let _ = write(&io, &*ro, 0, &[2; 3]); // refused, still issued
    let entry = |kind, offset, len| TraceEntry {
        kind,
        file: "t".into(),
        offset,
        len,
    };
    assert_eq!(
        io.take_trace(),
        [
            entry(OpKind::Write, 4096, 100),
            entry(OpKind::Read, 0, 50),
            entry(OpKind::Sync, 0, 0),
            entry(OpKind::Truncate, 10, 0),
            entry(OpKind::Write, 0, 3),
        ]
    );
    assert!(io.trace().is_empty());
}

/// How a test asserts that a resumable operation issued no I/O twice: run
/// it, then look for repeated entries in the trace.
#[test]
fn the_trace_shows_io_issued_twice() {
    fn duplicates(trace: &[TraceEntry]) -> Vec<&TraceEntry> {
        let mut seen = BTreeSet::new();
        trace.iter().filter(|e| !seen.insert(*e)).collect()
    }
    let io = SimIO::new(10);
    let f = io.open_file("d", OpenFlags::CREATE).unwrap();
    // Correct: each page read once.
    for page in 0..4u64 {
        let _ = read(&io, &*f, page * 4096, 4096);
    }
    assert!(duplicates(&io.take_trace()).is_empty());
    // A buggy operation that re-issues its read on every call.
    let mut issued = Vec::new();
    for _ in 0..2 {
        issued.push(
            f.pread(0, Completion::new_read(Arc::new(Buffer::new(4096)), |_| {}))
                .unwrap(),
        );
    }
    for c in issued {
        let _ = io.wait_for_completion(c);
    }
    let trace = io.take_trace();
    assert_eq!(duplicates(&trace), [&trace[1]]);
}

#[test]
fn waiting_for_a_completion_the_simulator_does_not_hold_is_an_error() {
    let io = SimIO::new(11);
    let err = io
        .wait_for_completion(Completion::new_sync(|_| {}))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    // An explicit yield, or a finished completion, returns at once.
    io.wait_for_completion(Completion::new_yield()).unwrap();
}

#[test]
fn direct_io_must_be_aligned() {
    let io = SimIO::new(12);
    let f = io
        .open_file("d", OpenFlags::CREATE | OpenFlags::DIRECT)
        .unwrap();
    let page = Arc::new(Buffer::new_page());
    io.wait_for_completion(
        f.pwrite(0, page.clone(), Completion::new_write(|_| {}))
            .unwrap(),
    )
    .unwrap();
    let invalid = Some(CompletionError::IOError(ErrorKind::InvalidInput));
    let err = io
        .wait_for_completion(f.pwrite(1, page, Completion::new_write(|_| {})).unwrap())
        .unwrap_err();
    assert_eq!(completion_error(&err), invalid);
    let (err, _) = read(&io, &*f, 0, 100).unwrap_err();
    assert_eq!(completion_error(&err), invalid);
}

#[test]
fn files_of_a_dropped_simulator_fail() {
    let io = SimIO::new(13);
    let f = io.open_file("x", OpenFlags::CREATE).unwrap();
    drop(io);
    let c = f.sync(Completion::new_sync(|_| {})).unwrap();
    assert_eq!(
        c.get_error(),
        Some(CompletionError::IOError(ErrorKind::NotConnected))
    );
    assert!(f.size().is_err());
}

#[test]
#[should_panic(expected = "Faults::torn_write is 1.5, not a probability")]
fn fault_probabilities_are_checked() {
    let _ = SimIO::with_faults(
        0,
        Faults {
            torn_write: 1.5,
            ..Faults::none()
        },
    );
}
