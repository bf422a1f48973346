//! The conformance suite: one set of cases, written once against `dyn IO`,
//! run against every backend (`SyncIO`, `UringIO` in three configurations,
//! `SimIO`, `NbdIO` on a real nbdkit, and `MirrorIO` over local files and
//! NBD exports). `suite!` at the bottom generates one `#[test]` per backend
//! per case, named `<backend>::<case>`.
//!
//! Every case waits through `IO::wait_for_completion`, `IO::step` or
//! `IO::block`, so on `SimIO` every completion is delivered by a step, late
//! and out of order.
//!
//! Where files are NBD exports (`env.fixed`), a file is made at its final
//! size before it is opened and cannot grow or be truncated; the cases
//! check the same data, and that what NBD lacks is refused clearly
//! (`Error::Unsupported`, the completion finished too). After every case on
//! a mirror, each file's two copies are compared byte for byte.

mod common;

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{completion_error, pattern, read, sync, truncate, write, Backend, Env};

/// The error of an operation a fixed-size backend does not have.
const UNSUPPORTED: Option<CompletionError> = Some(CompletionError::IOError(ErrorKind::Unsupported));
use io_model::{
    Buffer, Completion, CompletionError, CompletionGroup, Error, File, IOResult, OpenFlags, IO,
};

fn short(expected: usize, actual: usize) -> Option<CompletionError> {
    Some(CompletionError::ShortRead { expected, actual })
}

/// Writes at many offsets and sizes (unaligned, page-sized, larger than a
/// page, far past the end), reading each back, and checks the whole file
/// against a model at the end.
fn reads_and_writes_at_many_offsets_and_sizes(env: &Env) {
    let io = &*env.io;
    const FIXED: usize = 2 << 20;
    let f = env.new_file("data", FIXED as u64);
    // A fixed-size file starts as zeros and keeps its size.
    let mut model: Vec<u8> = if env.fixed {
        vec![0; FIXED]
    } else {
        Vec::new()
    };
    let sizes = [1usize, 3, 511, 512, 4096, 4097, 65_536, 3 * 65_536 + 7];
    let offsets = [0u64, 1, 511, 4096, 12_345, 1 << 20, (1 << 20) + 4095];
    let mut seed = 0;
    for &size in &sizes {
        for &pos in &offsets {
            seed += 1;
            let data = pattern(seed, size);
            write(io, &*f, pos, &data).unwrap();
            let end = pos as usize + size;
            if model.len() < end {
                model.resize(end, 0);
            }
            model[pos as usize..end].copy_from_slice(&data);
            assert_eq!(
                read(io, &*f, pos, size).unwrap(),
                data,
                "read back {size} bytes at {pos}"
            );
        }
    }
    assert_eq!(f.size().unwrap(), model.len() as u64);
    let whole = read(io, &*f, 0, model.len()).unwrap();
    assert!(whole == model, "the whole file differs from the model");
    // Reads at other offsets and sizes than were written.
    for (pos, len) in [
        (7u64, 9000usize),
        (4000, 200),
        (65_000, 70_000),
        (1 << 20, 5),
    ] {
        let got = read(io, &*f, pos, len).unwrap();
        assert!(
            got[..] == model[pos as usize..pos as usize + len],
            "read {len} at {pos}"
        );
    }
}

/// Hundreds of writes, then hundreds of reads, all in flight at once
/// (more than a ring of 8 or 256 entries, more than its completion queue),
/// joined by a group; every callback runs once, with the right data.
fn many_operations_in_flight(env: &Env) {
    const N: usize = 600;
    const PAGE: usize = 4096;
    let io = &*env.io;
    let f = env.new_file("many", (N * PAGE) as u64);
    let written = Arc::new(AtomicUsize::new(0));
    let mut group = CompletionGroup::new(|_| {});
    let mut writes = Vec::new();
    // Issue order scrambled so that neighbouring pages are not adjacent.
    let order: Vec<usize> = (0..N).map(|i| (i * 7) % N).collect();
    for &page in &order {
        let w = written.clone();
        let c = Completion::new_write(move |res| {
            assert_eq!(res, Ok(PAGE as i32));
            w.fetch_add(1, Ordering::SeqCst);
        });
        let buf = Arc::new(Buffer::from_vec(pattern(page as u64, PAGE)));
        let c = f.pwrite((page * PAGE) as u64, buf, c).unwrap();
        group.add(&c);
        writes.push(c);
    }
    io.wait_for_completion(group.build()).unwrap();
    assert_eq!(written.load(Ordering::SeqCst), N);
    assert!(writes.iter().all(Completion::succeeded));
    assert_eq!(f.size().unwrap(), (N * PAGE) as u64);

    let seen: Arc<Mutex<BTreeMap<usize, usize>>> = Arc::default();
    let mut reads = Vec::new();
    let mut group = CompletionGroup::new(|_| {});
    for &page in order.iter().rev() {
        let seen = seen.clone();
        let c = Completion::new_read(Arc::new(Buffer::new(PAGE)), move |res| {
            let (buf, n) = res.expect("read failed");
            assert_eq!(n, PAGE as i32);
            assert!(
                buf.to_vec() == pattern(page as u64, PAGE),
                "page {page} has the wrong bytes"
            );
            *seen.lock().unwrap().entry(page).or_default() += 1;
        });
        let c = f.pread((page * PAGE) as u64, c).unwrap();
        group.add(&c);
        reads.push(c);
    }
    let all = group.build();
    while !all.finished() {
        io.step().unwrap();
    }
    assert!(all.succeeded());
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), N);
    assert!(seen.values().all(|&n| n == 1), "a read callback ran twice");
}

/// Reads that end past the end of the file are short reads with the bytes
/// that exist; reads that end at it are not.
fn reads_past_end_of_file(env: &Env) {
    let io = &*env.io;
    let f = env.new_file("eof", 1000);
    let data = pattern(1, 1000);
    write(io, &*f, 0, &data).unwrap();

    let (err, got) = read(io, &*f, 0, 4096).unwrap_err();
    assert_eq!(completion_error(&err), short(4096, 1000));
    assert_eq!(got, data, "the bytes before the end are read");
    let (err, _) = read(io, &*f, 1000, 100).unwrap_err();
    assert_eq!(completion_error(&err), short(100, 0));
    let (err, _) = read(io, &*f, 5000, 100).unwrap_err();
    assert_eq!(completion_error(&err), short(100, 0));
    let (err, got) = read(io, &*f, 999, 2).unwrap_err();
    assert_eq!(completion_error(&err), short(2, 1));
    assert_eq!(got, [data[999]]);
    assert_eq!(read(io, &*f, 0, 1000).unwrap(), data);
    assert_eq!(read(io, &*f, 500, 500).unwrap(), &data[500..]);

    // Many of them in flight at once, mixed with good reads.
    let mut cs = Vec::new();
    for i in 0..64u64 {
        let (pos, len) = if i % 2 == 0 {
            (i * 10, 100)
        } else {
            (900 + i * 10, 200)
        };
        let c = f
            .pread(
                pos,
                Completion::new_read(Arc::new(Buffer::new(len)), |_| {}),
            )
            .unwrap();
        cs.push((pos, len, c));
    }
    for (pos, len, c) in cs {
        let res = io.wait_for_completion(c.clone());
        let end = pos as usize + len;
        if end <= 1000 {
            res.unwrap();
        } else {
            let expected = short(len, 1000usize.saturating_sub(pos as usize));
            assert_eq!(
                completion_error(&res.unwrap_err()),
                expected,
                "read {len} at {pos}"
            );
        }
    }
}

/// `size` follows writes and truncations; truncation shortens and extends
/// with zeros; `sync` succeeds. On fixed-size files, the size stays and
/// truncation to another length is refused, changing nothing.
fn sync_truncate_and_size(env: &Env) {
    if env.fixed {
        return fixed_size_and_sync(env);
    }
    let io = &*env.io;
    let f = io.open_file(&env.path("trunc"), OpenFlags::CREATE).unwrap();
    assert_eq!(f.size().unwrap(), 0);
    let data = pattern(2, 10_000);
    write(io, &*f, 0, &data).unwrap();
    assert_eq!(f.size().unwrap(), 10_000);
    sync(io, &*f).unwrap();
    truncate(io, &*f, 4096).unwrap();
    assert_eq!(f.size().unwrap(), 4096);
    assert_eq!(read(io, &*f, 0, 4096).unwrap(), &data[..4096]);
    let (err, _) = read(io, &*f, 0, 4097).unwrap_err();
    assert_eq!(completion_error(&err), short(4097, 4096));
    truncate(io, &*f, 8192).unwrap();
    assert_eq!(f.size().unwrap(), 8192);
    let grown = read(io, &*f, 0, 8192).unwrap();
    assert_eq!(&grown[..4096], &data[..4096]);
    assert!(
        grown[4096..].iter().all(|&b| b == 0),
        "truncation extends with zeros"
    );
    sync(io, &*f).unwrap();
    truncate(io, &*f, 0).unwrap();
    assert_eq!(f.size().unwrap(), 0);
    // A sync of a file with no writes, and several syncs in flight.
    let cs: Vec<Completion> = (0..8)
        .map(|_| f.sync(Completion::new_sync(|_| {})).unwrap())
        .collect();
    for c in cs {
        io.wait_for_completion(c).unwrap();
    }
}

fn fixed_size_and_sync(env: &Env) {
    let io = &*env.io;
    let f = env.new_file("trunc", 10_000);
    assert_eq!(f.size().unwrap(), 10_000);
    let data = pattern(2, 10_000);
    write(io, &*f, 0, &data).unwrap();
    sync(io, &*f).unwrap();
    for len in [4096, 0, 20_000] {
        let c = Completion::new_trunc(|_| {});
        let err = f
            .truncate(len, c.clone())
            .expect_err("truncated a fixed-size file");
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        assert_eq!(c.get_error(), UNSUPPORTED, "the completion finished too");
    }
    // Truncating to the size it has changes nothing, so it is allowed.
    truncate(io, &*f, 10_000).unwrap();
    assert_eq!(f.size().unwrap(), 10_000);
    assert_eq!(
        read(io, &*f, 0, 10_000).unwrap(),
        data,
        "nothing was truncated"
    );
    // A write that does not fit fails and writes nothing. (On a mirror the
    // local copy would take it: a write that fails on one copy leaves the
    // copies different, which tests/mirror.rs covers.)
    if env.backend == Backend::Nbd {
        let err = write(io, &*f, 9_000, &pattern(9, 2000)).unwrap_err();
        assert_eq!(completion_error(&err), Some(enospc()));
        assert_eq!(read(io, &*f, 0, 10_000).unwrap(), data);
    }
    let cs: Vec<Completion> = (0..8)
        .map(|_| f.sync(Completion::new_sync(|_| {})).unwrap())
        .collect();
    for c in cs {
        io.wait_for_completion(c).unwrap();
    }
}

/// The error of `ENOSPC` (28 on Linux), as the backends report it.
fn enospc() -> CompletionError {
    CompletionError::IOError(std::io::Error::from_raw_os_error(28).kind())
}

/// Failures reach the caller as `Err`: from the call for a malformed
/// request (with the completion finished too), from waiting for an I/O
/// that failed. The backend keeps working afterwards.
fn errors_surface_as_err(env: &Env) {
    let io = &*env.io;
    let missing = io
        .open_file(&env.path("missing"), OpenFlags::NONE)
        .err()
        .expect("opened a missing file");
    assert!(
        matches!(&missing, Error::Io(e) if e.kind() == ErrorKind::NotFound),
        "{missing}"
    );
    assert!(io.remove_file(&env.path("missing")).is_err());

    let path = env.path("ro");
    let rw = env.new_file("ro", 11);
    write(io, &*rw, 0, b"hello").unwrap();
    let ro = io.open_file(&path, OpenFlags::READ_ONLY).unwrap();
    assert_eq!(read(io, &*ro, 0, 5).unwrap(), b"hello");
    let denied = Some(CompletionError::IOError(ErrorKind::PermissionDenied));
    let err = write(io, &*ro, 0, b"x").unwrap_err();
    assert_eq!(completion_error(&err), denied);
    let err = truncate(io, &*ro, 0).unwrap_err();
    assert_eq!(completion_error(&err), denied);
    assert_eq!(
        read(io, &*ro, 0, 5).unwrap(),
        b"hello",
        "nothing was written"
    );

    // Malformed requests: `Err` at once, and the completion finished.
    let c = Completion::new_write(|_| {});
    let err = ro.pread(0, c.clone()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(
        c.get_error(),
        Some(CompletionError::IOError(ErrorKind::InvalidInput))
    );
    let c = Completion::new_write(|_| {});
    let err = rw
        .pwrite(u64::MAX - 2, Arc::new(Buffer::new(8)), c.clone())
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(c.failed());
    let c = Completion::new_trunc(|_| {});
    assert!(rw.truncate(u64::MAX, c.clone()).is_err());
    assert!(c.failed());

    // Still works.
    write(io, &*rw, 5, b" world").unwrap();
    assert_eq!(read(io, &*rw, 0, 11).unwrap(), b"hello world");
}

/// Every callback runs exactly once, whatever the outcome, however many
/// steps follow.
fn completions_finish_exactly_once(env: &Env) {
    let io = &*env.io;
    let path = env.path("once");
    let f = env.new_file("once", 8192);
    write(io, &*f, 0, &pattern(3, 8192)).unwrap();
    let ro = io.open_file(&path, OpenFlags::READ_ONLY).unwrap();
    let counts: Vec<Arc<AtomicUsize>> = (0..120).map(|_| Arc::default()).collect();
    let mut cs = Vec::new();
    for (i, n) in counts.iter().enumerate() {
        let n = n.clone();
        let bump = move || {
            n.fetch_add(1, Ordering::SeqCst);
        };
        let pos = (i as u64 / 6 % 2) * 4096;
        let c = match i % 6 {
            0 => f.pread(
                pos,
                Completion::new_read(Arc::new(Buffer::new(4096)), move |_| bump()),
            ),
            1 => f.pwrite(
                pos,
                Arc::new(Buffer::new(100)),
                Completion::new_write(move |_| bump()),
            ),
            2 => f.sync(Completion::new_sync(move |_| bump())),
            3 => f.pread(
                1 << 20,
                Completion::new_read(Arc::new(Buffer::new(10)), move |_| bump()),
            ),
            4 => ro.pwrite(
                pos,
                Arc::new(Buffer::new(10)),
                Completion::new_write(move |_| bump()),
            ),
            _ => f.truncate(8192, Completion::new_trunc(move |_| bump())),
        };
        cs.push(c.unwrap());
    }
    for c in &cs {
        let _ = io.wait_for_completion(c.clone());
    }
    for _ in 0..10 {
        io.step().unwrap();
    }
    for (i, n) in counts.iter().enumerate() {
        assert_eq!(
            n.load(Ordering::SeqCst),
            1,
            "callback of operation {i} (kind {})",
            i % 6
        );
    }
    assert!(cs.iter().all(Completion::finished));
    assert_eq!(
        cs.iter().filter(|c| c.failed()).count(),
        40,
        "20 reads past the end, 20 writes to a read-only file"
    );
}

/// Empty reads and writes succeed anywhere and change nothing.
fn zero_length_transfers(env: &Env) {
    let io = &*env.io;
    let f = env.new_file("empty", 0);
    write(io, &*f, 100, &[]).unwrap();
    assert_eq!(f.size().unwrap(), 0);
    assert_eq!(read(io, &*f, 1 << 30, 0).unwrap(), Vec::<u8>::new());
}

/// Data outlives the handle; `TRUNCATE` empties on open; a removed file is
/// gone. Fixed-size files refuse `TRUNCATE` and removal, and keep their
/// data.
fn reopen_truncate_on_open_and_remove(env: &Env) {
    let io = &*env.io;
    let path = env.path("reopen");
    if env.fixed {
        {
            let f = env.new_file("reopen", 7);
            write(io, &*f, 0, b"persist").unwrap();
            sync(io, &*f).unwrap();
        }
        let err = io
            .open_file(&path, OpenFlags::TRUNCATE)
            .err()
            .expect("TRUNCATE on a fixed-size file");
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let err = io.remove_file(&path).unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let f = io.open_file(&path, OpenFlags::NONE).unwrap();
        assert_eq!(read(io, &*f, 0, 7).unwrap(), b"persist");
        return;
    }
    {
        let f = io.open_file(&path, OpenFlags::CREATE).unwrap();
        write(io, &*f, 0, b"persist").unwrap();
        sync(io, &*f).unwrap();
    }
    let f = io.open_file(&path, OpenFlags::NONE).unwrap();
    assert_eq!(read(io, &*f, 0, 7).unwrap(), b"persist");
    let t = io.open_file(&path, OpenFlags::TRUNCATE).unwrap();
    assert_eq!(t.size().unwrap(), 0);
    drop((f, t));
    io.remove_file(&path).unwrap();
    let err = io
        .open_file(&path, OpenFlags::NONE)
        .err()
        .expect("opened a removed file");
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == ErrorKind::NotFound),
        "{err}"
    );
    let again = io.open_file(&path, OpenFlags::CREATE).unwrap();
    assert_eq!(again.size().unwrap(), 0);
}

/// A hand-written resumable operation (read-modify-write-sync of a
/// counter) driven by `IO::block`: each side effect runs once per run
/// although the function is called again after every suspension.
struct Bump {
    file: Arc<dyn File>,
    state: BumpState,
    reads: usize,
}

enum BumpState {
    Start,
    Reading(Completion),
    Writing(Completion),
    Syncing(Completion),
}

impl Bump {
    fn run(&mut self) -> io_model::Result<IOResult<u8>> {
        loop {
            match std::mem::replace(&mut self.state, BumpState::Start) {
                BumpState::Start => {
                    self.reads += 1;
                    let c = self
                        .file
                        .pread(0, Completion::new_read(Arc::new(Buffer::new(1)), |_| {}))?;
                    self.state = BumpState::Reading(c);
                }
                BumpState::Reading(c) if !c.finished() => {
                    self.state = BumpState::Reading(c.clone());
                    return Ok(IOResult::IO(c.into()));
                }
                BumpState::Reading(c) => {
                    if let Some(err) = c.get_error() {
                        return Err(err.into());
                    }
                    let v = c.read_buffer().unwrap().lock()[0] + 1;
                    let w = self.file.pwrite(
                        0,
                        Arc::new(Buffer::from_vec(vec![v])),
                        Completion::new_write(|_| {}),
                    )?;
                    self.state = BumpState::Writing(w);
                }
                BumpState::Writing(c) if !c.finished() => {
                    self.state = BumpState::Writing(c.clone());
                    return Ok(IOResult::IO(c.into()));
                }
                BumpState::Writing(c) => {
                    if let Some(err) = c.get_error() {
                        return Err(err.into());
                    }
                    self.state = BumpState::Syncing(self.file.sync(Completion::new_sync(|_| {}))?);
                }
                BumpState::Syncing(c) if !c.finished() => {
                    self.state = BumpState::Syncing(c.clone());
                    return Ok(IOResult::IO(c.into()));
                }
                BumpState::Syncing(c) => {
                    if let Some(err) = c.get_error() {
                        return Err(err.into());
                    }
                    return Ok(IOResult::Done(0));
                }
            }
        }
    }
}

fn block_drives_a_resumable_operation(env: &Env) {
    let io = env.io.clone();
    let f = env.new_file("counter", 1);
    write(&*io, &*f, 0, &[0]).unwrap();
    let mut op = Bump {
        file: f.clone(),
        state: BumpState::Start,
        reads: 0,
    };
    for _ in 0..10 {
        io.block(|| op.run()).unwrap();
    }
    assert_eq!(op.reads, 10, "the read was issued once per run");
    assert_eq!(read(&*io, &*f, 0, 1).unwrap(), [10]);
}

/// A callback may issue more I/O on the same backend (no lock is held
/// while callbacks run).
fn callbacks_may_issue_io(env: &Env) {
    let io = &*env.io;
    let f = env.new_file("chain", 3 * 4096);
    write(io, &*f, 0, &pattern(4, 4096)).unwrap();
    let chained: Arc<Mutex<Vec<Completion>>> = Arc::default();
    let mut cs = Vec::new();
    for i in 0..16u64 {
        let (file, chained) = (f.clone(), chained.clone());
        let c = Completion::new_read(Arc::new(Buffer::new(512)), move |res| {
            let (buf, _) = res.expect("read failed");
            // Copy what was read one page further on.
            let w = file
                .pwrite(
                    4096 + i * 512,
                    Arc::new(Buffer::from_vec(buf.to_vec())),
                    Completion::new_write(|_| {}),
                )
                .expect("pwrite from a callback");
            chained.lock().unwrap().push(w);
        });
        cs.push(f.pread(i % 8 * 512, c).unwrap());
    }
    for c in cs {
        io.wait_for_completion(c).unwrap();
    }
    let chained: Vec<Completion> = chained.lock().unwrap().clone();
    assert_eq!(chained.len(), 16);
    for c in chained {
        io.wait_for_completion(c).unwrap();
    }
    let data = pattern(4, 4096);
    let copy = read(io, &*f, 4096, 8192).unwrap();
    for i in 0..16 {
        let src = i % 8 * 512;
        assert_eq!(
            &copy[i * 512..(i + 1) * 512],
            &data[src..src + 512],
            "chunk {i}"
        );
    }
}

/// `O_DIRECT` with aligned buffers. Skipped where the file system refuses
/// `O_DIRECT` (tmpfs).
fn direct_io_with_aligned_buffers(env: &Env) {
    let io = &*env.io;
    let f = match env.create("direct", 8 * 4096, OpenFlags::DIRECT) {
        Ok(f) => f,
        Err(err) => {
            eprintln!(
                "skipping direct_io_with_aligned_buffers on {:?}: {err}",
                env.backend
            );
            return;
        }
    };
    let mut cs = Vec::new();
    for page in 0..8u64 {
        let buf = Buffer::new_page();
        buf.lock().copy_from_slice(&pattern(page, 4096));
        cs.push(
            f.pwrite(page * 4096, Arc::new(buf), Completion::new_write(|_| {}))
                .unwrap(),
        );
    }
    for c in cs {
        io.wait_for_completion(c).unwrap();
    }
    io.wait_for_completion(f.sync(Completion::new_sync(|_| {})).unwrap())
        .unwrap();
    let buf = Arc::new(Buffer::new_aligned(3 * 4096, 4096));
    let c = f
        .pread(4096, Completion::new_read(buf.clone(), |_| {}))
        .unwrap();
    io.wait_for_completion(c).unwrap();
    for i in 0..3 {
        assert!(
            buf.lock()[i * 4096..(i + 1) * 4096] == pattern(i as u64 + 1, 4096)[..],
            "page {}",
            i + 1
        );
    }
    // Past the end, direct reads are short like any other.
    let c = f
        .pread(
            7 * 4096,
            Completion::new_read(Arc::new(Buffer::new_aligned(8192, 4096)), |_| {}),
        )
        .unwrap();
    assert_eq!(
        completion_error(&io.wait_for_completion(c).unwrap_err()),
        short(8192, 4096)
    );
}

/// Conformance cases, one `#[test]` per backend per case.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        suite!(@backend sync, Sync, $($case),*);
        suite!(@backend uring, Uring, $($case),*);
        suite!(@backend uring_ring, UringRing, $($case),*);
        suite!(@backend uring_split, UringSplit, $($case),*);
        suite!(@backend sim, Sim, $($case),*);
        suite!(@backend nbd, Nbd, $($case),*);
        suite!(@backend mirror_sync, MirrorSync, $($case),*);
        suite!(@backend mirror_sync_nbd, MirrorSyncNbd, $($case),*);
        suite!(@backend mirror_uring_nbd, MirrorUringNbd, $($case),*);
    };
    (@backend $module:ident, $backend:ident, $($case:ident),*) => {
        mod $module {
            $(
                #[test]
                fn $case() {
                    let name = concat!(stringify!($module), "::", stringify!($case));
                    if let Some(env) = crate::Backend::$backend.setup(name) {
                        crate::$case(&env);
                        env.check_copies();
                    }
                }
            )*
        }
    };
}

suite!(
    reads_and_writes_at_many_offsets_and_sizes,
    many_operations_in_flight,
    reads_past_end_of_file,
    sync_truncate_and_size,
    errors_surface_as_err,
    completions_finish_exactly_once,
    zero_length_transfers,
    reopen_truncate_on_open_and_remove,
    block_drives_a_resumable_operation,
    callbacks_may_issue_io,
    direct_io_with_aligned_buffers,
);
