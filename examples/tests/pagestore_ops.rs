//! Behaviour of each page-store operation: open/create, read, commit
//! (group commit), checkpoint, recovery, the scheduler, and the errors of
//! bad input and failed I/O.

use std::sync::Arc;

use io_model::{Buffer, Completion, OpenFlags, IO};
use io_model_backends::{Faults, SimIO, SyncIO};
use io_model_examples::pagestore::format::{DataHeader, Geometry, PAGE_SIZE};
use io_model_examples::pagestore::workload::{
    run_workload, verify, Expected, Op, OpTask, Stop, Workload, WorkloadConfig,
};
use io_model_examples::pagestore::{
    open_store, CheckpointOutcome, CreateOptions, Driver, OpenMode, PageWrite, Scheduler, SlotId,
    Store, StoreError, StoreOptions, StorePaths, PAYLOAD_SIZE,
};

fn paths() -> StorePaths {
    StorePaths {
        data: "db".into(),
        wal: "wal".into(),
    }
}

fn options(pages: u32, wal_frames: u32, slots: usize) -> StoreOptions {
    StoreOptions {
        slots,
        cache_pages: 8,
        checkpoint_frames: wal_frames / 2,
        max_commit_pages: 8,
        create: CreateOptions {
            pages,
            wal_frames,
            shard: 0,
            shards: 1,
            db_id: 42,
        },
    }
}

fn create(io: &SimIO, pages: u32, wal_frames: u32, slots: usize) -> Arc<Store> {
    open_store(
        io,
        &paths(),
        OpenMode::Create,
        &options(pages, wal_frames, slots),
    )
    .unwrap()
}

fn reopen(io: &dyn IO, slots: usize) -> Result<Arc<Store>, StoreError> {
    open_store(io, &paths(), OpenMode::Open, &options(1, 4, slots))
}

fn write(page: u32, byte: u8) -> PageWrite {
    PageWrite::new(page, vec![byte; PAYLOAD_SIZE]).unwrap()
}

fn commit(io: &SimIO, store: &Store, writes: &[PageWrite]) -> Result<u64, StoreError> {
    IO::block(&io, || store.commit(SlotId(0), writes)).map(|c| c.lsn)
}

fn read(io: &SimIO, store: &Store, page: u32) -> Result<(u64, u8), StoreError> {
    let p = IO::block(&io, || store.read_page(SlotId(0), page))?;
    let first = p.payload()[0];
    Ok((p.lsn(), first))
}

/// Runs `ops` concurrently, one per slot, to the end.
fn run_concurrently(io: &dyn IO, store: &Arc<Store>, ops: Vec<Op>) -> Vec<Result<(), StoreError>> {
    struct All {
        store: Arc<Store>,
        ops: Vec<Option<Op>>,
        results: Vec<Result<(), StoreError>>,
    }
    impl Driver<OpTask> for All {
        fn next(&mut self, slot: SlotId) -> Option<OpTask> {
            let op = self.ops.get_mut(slot.0)?.take()?;
            Some(OpTask::new(self.store.clone(), op))
        }
        fn done(
            &mut self,
            _: SlotId,
            _: OpTask,
            r: Result<io_model_examples::pagestore::workload::OpOutput, StoreError>,
        ) {
            self.results.push(r.map(|_| ()));
        }
    }
    let n = ops.len();
    let mut all = All {
        store: store.clone(),
        ops: ops.into_iter().map(Some).collect(),
        results: Vec::new(),
    };
    Scheduler::new(store.ready_queue().clone(), n)
        .run(io, &mut all)
        .unwrap();
    all.results
}

#[test]
fn a_new_store_has_blank_pages() {
    let io = SimIO::new(1);
    let store = create(&io, 16, 8, 1);
    assert!(store.recovery().created);
    for p in 0..16 {
        assert_eq!(read(&io, &store, p).unwrap(), (0, 0));
    }
    let err = read(&io, &store, 16).unwrap_err();
    assert!(err.to_string().contains("page 16 is out of range"), "{err}");
}

#[test]
fn a_commit_is_read_back_and_survives_a_crash() {
    let io = SimIO::new(2);
    let store = create(&io, 16, 8, 1);
    let lsn = commit(&io, &store, &[write(3, 7), write(4, 8)]).unwrap();
    assert_eq!(lsn, 1);
    assert_eq!(read(&io, &store, 3).unwrap(), (1, 7));
    assert_eq!(store.durable_lsn(), 1);
    drop(store);
    io.crash();
    let store = reopen(&io, 1).unwrap();
    assert_eq!(store.recovery().commits, 1);
    assert_eq!(store.recovery().pages_copied, 2);
    assert_eq!(read(&io, &store, 4).unwrap(), (1, 8));
    // Recovery copied the log into the data file and started a new
    // generation: reopening again replays nothing.
    drop(store);
    let store = reopen(&io, 1).unwrap();
    assert_eq!(store.recovery().commits, 0);
    assert_eq!(read(&io, &store, 3).unwrap(), (1, 7));
}

#[test]
fn bad_commits_are_refused_and_change_nothing() {
    let io = SimIO::new(3);
    let store = create(&io, 8, 8, 1);
    let cases: Vec<(Vec<PageWrite>, &str)> = vec![
        (vec![], "a commit writes 1 to 4 pages, not 0"),
        ((0..5).map(|p| write(p, 1)).collect(), "not 5"),
        (vec![write(1, 1), write(1, 2)], "page 1 is written twice"),
        (vec![write(8, 1)], "page 8 is out of range"),
    ];
    for (writes, msg) in cases {
        let err = commit(&io, &store, &writes).unwrap_err();
        assert!(err.to_string().contains(msg), "{err} / {msg}");
    }
    assert!(PageWrite::new(0, vec![0; PAYLOAD_SIZE + 1]).is_err());
    assert_eq!(store.durable_lsn(), 0);
    assert_eq!(commit(&io, &store, &[write(1, 1)]).unwrap(), 1);
}

#[test]
fn concurrent_commits_share_fsyncs() {
    for seed in 0..5 {
        let io = SimIO::new(seed);
        let store = create(&io, 64, 256, 16);
        let before = store.stats();
        let ops = (0..16)
            .map(|i| Op::Commit {
                tag: i + 1,
                writes: vec![write(i as u32, i as u8), write(i as u32 + 16, i as u8)],
            })
            .collect();
        let results = run_concurrently(&io, &store, ops);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let s = store.stats() - before;
        assert_eq!(s.commits, 16);
        assert!(
            s.wal_syncs < s.commits,
            "group commit: {} fsyncs for {} commits",
            s.wal_syncs,
            s.commits
        );
        for i in 0..16u32 {
            assert_eq!(read(&io, &store, i + 16).unwrap().1, i as u8);
        }
    }
}

#[test]
fn group_commit_also_batches_on_blocking_io() {
    let dir = tempfile::tempdir().unwrap();
    let io = SyncIO::new();
    let paths = StorePaths::in_dir(dir.path(), 0);
    let store = open_store(&io, &paths, OpenMode::Create, &options(64, 256, 8)).unwrap();
    let ops = (0..8)
        .map(|i| Op::Commit {
            tag: i + 1,
            writes: vec![write(i as u32, 1)],
        })
        .collect();
    let before = store.stats();
    assert!(run_concurrently(&io, &store, ops).iter().all(Result::is_ok));
    let s = store.stats() - before;
    // The leader yields once before its fsync: the others write meanwhile.
    assert_eq!((s.commits, s.wal_syncs), (8, 1));
}

#[test]
fn the_scheduler_resumes_only_finished_operations() {
    let io = SimIO::new(9).with_max_delay(8);
    let store = create(&io, 64, 16, 16);
    let ops: Vec<Op> = (0..16).map(Op::Read).collect();
    struct Count(Arc<Store>, Vec<Option<Op>>, u32);
    impl Driver<OpTask> for Count {
        fn next(&mut self, slot: SlotId) -> Option<OpTask> {
            Some(OpTask::new(self.0.clone(), self.1[slot.0].take()?))
        }
        fn done(
            &mut self,
            _: SlotId,
            _: OpTask,
            r: Result<io_model_examples::pagestore::workload::OpOutput, StoreError>,
        ) {
            r.unwrap();
            self.2 += 1;
        }
    }
    let mut d = Count(store.clone(), ops.into_iter().map(Some).collect(), 0);
    let mut s = Scheduler::new(store.ready_queue().clone(), 16);
    s.run(&io, &mut d).unwrap();
    assert_eq!(d.2, 16);
    // Each read ran twice: once to issue its read, once after it finished.
    assert_eq!(s.stats().resumes, 32, "{:?}", s.stats());
}

#[test]
fn a_checkpoint_copies_the_log_while_commits_go_on() {
    let io = SimIO::new(4);
    let store = create(&io, 32, 16, 4);
    for i in 0..6u32 {
        commit(&io, &store, &[write(i, i as u8 + 1)]).unwrap();
    }
    // A checkpoint in slot 3 alongside two commits and a read.
    let ops = vec![
        Op::Commit {
            tag: 1,
            writes: vec![write(0, 50)],
        },
        Op::Read(1),
        Op::Commit {
            tag: 2,
            writes: vec![write(9, 51)],
        },
        Op::Checkpoint,
    ];
    let results = run_concurrently(&io, &store, ops);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(store.stats().checkpoints, 1);
    assert!(store.stats().pages_checkpointed >= 6);
    assert_eq!(read(&io, &store, 0).unwrap().1, 50);
    assert_eq!(read(&io, &store, 5).unwrap().1, 6);
    // A second checkpoint takes what went to the new generation.
    let out = IO::block(&io, || store.checkpoint(SlotId(0))).unwrap();
    assert!(matches!(out, CheckpointOutcome::Done { .. }), "{out:?}");
    drop(store);
    io.crash();
    let store = reopen(&io, 1).unwrap();
    assert_eq!(store.recovery().commits, 0, "everything was checkpointed");
    assert_eq!(read(&io, &store, 9).unwrap(), (8, 51));
}

#[test]
fn one_checkpoint_at_a_time() {
    let io = SimIO::new(5);
    let store = create(&io, 8, 8, 2);
    commit(&io, &store, &[write(1, 1)]).unwrap();
    // Start a checkpoint in slot 0 and leave it waiting.
    assert!(store.checkpoint(SlotId(0)).unwrap().is_io());
    let busy = IO::block(&io, || store.checkpoint(SlotId(1))).unwrap();
    assert_eq!(busy, CheckpointOutcome::Busy);
    let done = IO::block(&io, || store.checkpoint(SlotId(0))).unwrap();
    assert!(
        matches!(done, CheckpointOutcome::Done { gen: 1, pages: 1 }),
        "{done:?}"
    );
}

#[test]
fn recovery_drops_a_torn_commit_at_the_end_of_the_log() {
    let io = SimIO::new(6);
    let store = create(&io, 16, 16, 1);
    commit(&io, &store, &[write(1, 1)]).unwrap();
    commit(&io, &store, &[write(2, 2), write(3, 3), write(4, 4)]).unwrap();
    let g = store.geometry();
    let gen = store.recovery().generation;
    drop(store);
    // Tear the last frame of the second commit (frames 1..4 of the region)
    // and make that durable: as if the crash came mid-write.
    let wal = io.open_file("wal", OpenFlags::NONE).unwrap();
    let offset = g.frame_offset((gen % 2) as u8, 3);
    let c = wal.pwrite(
        offset + 100,
        Arc::new(Buffer::from_vec(vec![0xee; 8])),
        Completion::new_write(|_| {}),
    );
    io.wait_for_completion(c.unwrap()).unwrap();
    io.wait_for_completion(wal.sync(Completion::new_sync(|_| {})).unwrap())
        .unwrap();
    io.crash();
    let store = reopen(&io, 1).unwrap();
    let r = store.recovery();
    assert_eq!((r.commits, r.torn_frames, r.last_lsn), (1, 2, 1), "{r}");
    assert_eq!(read(&io, &store, 1).unwrap(), (1, 1));
    assert_eq!(
        read(&io, &store, 2).unwrap(),
        (0, 0),
        "the torn commit is gone whole"
    );
    assert_eq!(read(&io, &store, 4).unwrap(), (0, 0));
    // New commits continue after the kept one, in a new generation.
    assert_eq!(commit(&io, &store, &[write(5, 5)]).unwrap(), 2);
}

#[test]
fn a_write_error_stops_writes_but_not_reads() {
    let io = SimIO::new(7);
    let store = create(&io, 8, 8, 1);
    commit(&io, &store, &[write(1, 1)]).unwrap();
    io.set_faults(Faults {
        write_error: 1.0,
        ..Faults::none()
    });
    let err = commit(&io, &store, &[write(2, 2)]).unwrap_err();
    assert!(matches!(err, StoreError::Completion(_)), "{err}");
    io.set_faults(Faults::none());
    let err = commit(&io, &store, &[write(3, 3)]).unwrap_err();
    assert!(matches!(err, StoreError::Failed(_)), "{err}");
    assert!(
        store
            .failure()
            .unwrap()
            .starts_with("wal (writing 4096 bytes at "),
        "{:?}",
        store.failure()
    );
    assert_eq!(read(&io, &store, 1).unwrap(), (1, 1));
    drop(store);
    // Reopening recovers: the failed commit is not there.
    let store = reopen(&io, 1).unwrap();
    assert_eq!(read(&io, &store, 2).unwrap(), (0, 0));
    assert_eq!(commit(&io, &store, &[write(3, 3)]).unwrap(), 2);
}

#[test]
fn a_read_error_is_the_reads_alone() {
    let io = SimIO::new(8);
    let store = create(&io, 8, 8, 1);
    io.set_faults(Faults {
        read_error: 1.0,
        ..Faults::none()
    });
    assert!(matches!(
        read(&io, &store, 1),
        Err(StoreError::Completion(_))
    ));
    io.set_faults(Faults::none());
    assert!(store.failure().is_none());
    assert_eq!(commit(&io, &store, &[write(1, 9)]).unwrap(), 1);
}

fn overwrite(io: &SimIO, path: &str, offset: u64, bytes: Vec<u8>) {
    let f = io.open_file(path, OpenFlags::NONE).unwrap();
    let c = f.pwrite(
        offset,
        Arc::new(Buffer::from_vec(bytes)),
        Completion::new_write(|_| {}),
    );
    io.wait_for_completion(c.unwrap()).unwrap();
}

#[test]
fn opening_what_is_not_a_sound_database_is_an_error_naming_the_cause() {
    let io = SimIO::new(10);
    // Missing.
    let err = reopen(&io, 1).unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }), "{err}");
    // Empty.
    io.open_file("db", OpenFlags::CREATE).unwrap();
    io.open_file("wal", OpenFlags::CREATE).unwrap();
    let err = reopen(&io, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "db is not a page store database: the file is empty"
    );
    // Something else.
    overwrite(
        &io,
        "db",
        0,
        b"SQLite format 3\0"
            .iter()
            .copied()
            .cycle()
            .take(8192)
            .collect(),
    );
    let err = reopen(&io, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "db is not a page store database: it does not start with a page store header"
    );
    // A damaged header.
    let io = SimIO::new(11);
    drop(create(&io, 8, 8, 1));
    overwrite(&io, "db", 40, vec![0xff; 4]);
    let err = reopen(&io, 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        "db is corrupt: no valid header slot (header checksum mismatch)"
    );
    // A truncated data file.
    let io = SimIO::new(12);
    drop(create(&io, 8, 8, 1));
    let f = io.open_file("db", OpenFlags::NONE).unwrap();
    io.wait_for_completion(
        f.truncate(4 * PAGE_SIZE as u64, Completion::new_trunc(|_| {}))
            .unwrap(),
    )
    .unwrap();
    let err = reopen(&io, 1).unwrap_err();
    assert!(
        err.to_string()
            .contains("the file is 16384 bytes, but its 8 pages need 36864"),
        "{err}"
    );
    // A damaged page.
    let io = SimIO::new(13);
    let store = create(&io, 8, 8, 1);
    let off = store.geometry().data_page_offset(5);
    drop(store);
    overwrite(&io, "db", off + 1000, vec![1]);
    let store = reopen(&io, 1).unwrap();
    let err = read(&io, &store, 5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "db is corrupt: page 5 at offset 24576: checksum or header mismatch"
    );
    let v = verify(&io, &store, None);
    assert!(
        !v.passed() && v.problems[0].contains("page 5"),
        "{:?}",
        v.problems
    );
}

#[test]
fn a_log_of_another_database_is_refused() {
    let io = SimIO::new(14);
    let store = create(&io, 8, 8, 1);
    commit(&io, &store, &[write(1, 1)]).unwrap();
    drop(store);
    let other = SimIO::new(15);
    let o = open_store(
        &other,
        &paths(),
        OpenMode::Create,
        &StoreOptions {
            create: CreateOptions {
                db_id: 43,
                ..options(8, 8, 1).create
            },
            ..options(8, 8, 1)
        },
    )
    .unwrap();
    drop(o);
    let wal = other.contents("wal").unwrap();
    overwrite(&io, "wal", 0, wal);
    let err = reopen(&io, 1).unwrap_err();
    assert!(
        err.to_string().contains("belongs to another database"),
        "{err}"
    );
}

#[test]
fn a_header_write_torn_by_a_crash_leaves_the_other_slot() {
    let io = SimIO::new(16);
    let store = create(&io, 8, 8, 1);
    commit(&io, &store, &[write(1, 1)]).unwrap();
    drop(store);
    drop(reopen(&io, 1).unwrap()); // records a checkpoint in slot 1
                                   // Damage slot 1 (as a torn header write would): slot 0 is used, and
                                   // the log, still in the file, is replayed again.
    overwrite(&io, "db", DataHeader::slot_offset(1) + 8, vec![0; 8]);
    let store = reopen(&io, 1).unwrap();
    assert_eq!(read(&io, &store, 1).unwrap(), (1, 1));
}

#[test]
fn the_workload_verifies_after_a_run_with_checkpoints() {
    let io = SimIO::new(17);
    let store = create(&io, 64, 32, 9);
    let mut expected = Expected::blank(64);
    let cfg = WorkloadConfig {
        concurrency: 8,
        read_ratio: 0.5,
        max_commit_pages: 8,
        stop: Stop::Ops(2000),
        stop_on_error: true,
        seed: 1,
    };
    let (run, _) = run_workload(
        &io,
        &store,
        Workload::new(store.clone(), cfg, &mut expected),
    );
    assert!(
        run.first_error.is_none() && run.violations.is_empty(),
        "{run:?}"
    );
    assert!(run.checkpoints >= 5, "{} checkpoints", run.checkpoints);
    assert!(run.stats.commits_per_fsync() > 1.0, "{:?}", run.stats);
    drop(store);
    let store = reopen(&io, 4).unwrap();
    let v = verify(&io, &store, Some(&expected));
    assert!(v.passed(), "{:?}", v.problems);
    assert!(
        v.versions.iter().filter(|v| v.lsn > 0).count() > 32,
        "most pages were written"
    );
}

#[test]
fn seeds_replay_exactly() {
    let a = io_model_examples::pagestore::sim::run_seed(123);
    let b = io_model_examples::pagestore::sim::run_seed(123);
    assert!(a.failure.is_none(), "{a:?}");
    assert_eq!(
        (
            a.commits,
            a.reads,
            a.crashes,
            a.op_errors,
            a.recovered_commits
        ),
        (
            b.commits,
            b.reads,
            b.crashes,
            b.op_errors,
            b.recovered_commits
        )
    );
}

#[test]
fn geometry_fits_the_files() {
    let g = Geometry {
        pages: 8,
        wal_frames: 8,
    };
    let io = SimIO::new(18);
    drop(create(&io, 8, 8, 1));
    assert_eq!(io.contents("db").unwrap().len() as u64, g.data_file_len());
    // The log is never resized: two regions of a header page and 8 frames.
    assert!(io.contents("wal").unwrap().len() as u64 <= g.region_offset(1) + PAGE_SIZE as u64);
}
