//! UringIO's own tests: a full ring, short transfers, registration and its
//! fallbacks, threads, and dropping a `UringIO` with I/O in flight. Every
//! test skips, saying why, where the kernel refuses io_uring.

mod common;

use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use common::{completion_error, pattern, read, uring, write, TempDir};
use io_model::{Buffer, Completion, CompletionError, CompletionGroup, Error, File, OpenFlags, IO};
use io_model_backends::{InlineReads, RingSetup, UringIO, UringOptions};

/// Drops `path` from the page cache, so that reads of it go to the disk.
fn evict(path: &str, range: Option<(i64, i64)>) {
    let f = std::fs::File::open(path).unwrap();
    f.sync_all().unwrap();
    let (off, len) = range.unwrap_or((0, 0));
    // SAFETY: posix_fadvise takes a descriptor (open: `f` is borrowed) and
    // a range; no memory is handed over.
    let rc = unsafe { libc::posix_fadvise(f.as_raw_fd(), off, len, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0, "posix_fadvise");
}

/// A file of `len` pattern bytes, written with std and evicted.
fn cold_file(dir: &TempDir, name: &str, len: usize) -> (String, Vec<u8>) {
    let path = dir.file(name);
    let data = pattern(77, len);
    std::fs::write(&path, &data).unwrap();
    evict(&path, None);
    (path, data)
}

/// Whether the first page of `path` is out of the page cache, as asked by
/// `evict`. Not on every file system: tmpfs keeps everything in memory.
fn is_cold(path: &str) -> bool {
    let f = std::fs::File::open(path).unwrap();
    let mut page = vec![0u8; 4096];
    let iov = libc::iovec {
        iov_base: page.as_mut_ptr().cast(),
        iov_len: page.len(),
    };
    // SAFETY: `page` outlives the call and is not otherwise borrowed; the
    // kernel does not keep the address after preadv2 returns.
    let n = unsafe { libc::preadv2(f.as_raw_fd(), &iov, 1, 0, libc::RWF_NOWAIT) };
    n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN)
}

/// `cold_file`, or `None` after saying why the test cannot run here.
fn cold_file_or_skip(
    dir: &TempDir,
    name: &str,
    len: usize,
    test: &str,
) -> Option<(String, Vec<u8>)> {
    let (path, data) = cold_file(dir, name, len);
    if is_cold(&path) {
        Some((path, data))
    } else {
        eprintln!("skipping {test}: this file system keeps evicted pages cached (tmpfs?), so nothing is ever in flight");
        None
    }
}

#[test]
fn info_says_what_the_kernel_accepted() {
    let Some(io) = uring("info", UringOptions::default()) else {
        return;
    };
    let info = io.info();
    eprintln!("{info}");
    assert_eq!(info.sq_entries, 256);
    assert_eq!(info.cq_entries, 512);
    assert_eq!(info.inline_reads, InlineReads::Adaptive);
    assert!(info.to_string().starts_with("io_uring: "));
    let plain = uring(
        "info",
        UringOptions::default()
            .single_issuer(false)
            .register_files(false)
            .register_buffers(false),
    )
    .unwrap();
    let info = plain.info();
    assert_eq!(info.setup, RingSetup::Plain);
    assert!(!info.registered_files && !info.registered_buffers);
}

#[test]
fn invalid_ring_sizes_are_refused_with_the_reason() {
    for entries in [0, 40_000] {
        let err = UringIO::with_options(UringOptions::default().entries(entries)).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("entries")),
            "{err}"
        );
    }
}

#[test]
fn a_full_ring_is_submitted_and_nothing_is_dropped() {
    let dir = TempDir::new("full-ring");
    // One SQE, two CQEs: every batch below overflows both queues.
    let Some(io) = uring(
        "full ring",
        UringOptions::default()
            .entries(1)
            .inline_reads(InlineReads::Never)
            .inline_lone_ops(false),
    ) else {
        return;
    };
    assert_eq!(io.info().sq_entries, 1);
    let f = io.open_file(&dir.file("f"), OpenFlags::CREATE).unwrap();
    const N: u64 = 300;
    let mut group = CompletionGroup::new(|_| {});
    for i in 0..N {
        let buf = Arc::new(Buffer::from_vec(pattern(i, 512)));
        group.add(
            &f.pwrite(i * 512, buf, Completion::new_write(|_| {}))
                .unwrap(),
        );
        assert!(
            io.in_flight() <= 2,
            "never more in the ring than the completion queue holds"
        );
    }
    io.wait_for_completion(group.build()).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let mut group = CompletionGroup::new(|_| {});
    for i in 0..N {
        let done = done.clone();
        let c = Completion::new_read(Arc::new(Buffer::new(512)), move |res| {
            let (buf, _) = res.unwrap();
            assert!(buf.to_vec() == pattern(i, 512));
            done.fetch_add(1, Ordering::SeqCst);
        });
        group.add(&f.pread(i * 512, c).unwrap());
    }
    io.wait_for_completion(group.build()).unwrap();
    assert_eq!(done.load(Ordering::SeqCst), N as usize);
    assert_eq!(io.stats().ring_ops, 2 * N);
}

#[test]
fn short_transfers_are_resubmitted_for_the_rest() {
    let dir = TempDir::new("short");
    // Every SQE carries at most 100 bytes: each transfer below comes back
    // short many times.
    let opts = UringOptions::default()
        .inline_reads(InlineReads::Never)
        .inline_lone_ops(false)
        .split_transfers(100);
    let Some(io) = uring("short transfers", opts) else {
        return;
    };
    let f = io.open_file(&dir.file("f"), OpenFlags::CREATE).unwrap();
    let data = pattern(9, 10_000);
    write(&io, &*f, 7, &data).unwrap();
    assert_eq!(read(&io, &*f, 7, 10_000).unwrap(), data);
    // Short because the file ends: the bytes that exist, then ShortRead.
    let (err, got) = read(&io, &*f, 9_950, 1_000).unwrap_err();
    assert_eq!(
        completion_error(&err),
        Some(CompletionError::ShortRead {
            expected: 1_000,
            actual: 57
        })
    );
    assert_eq!(got, &data[9_943..]);
}

#[test]
fn a_read_partly_in_the_page_cache_reads_the_rest_through_the_ring() {
    let dir = TempDir::new("partial");
    let path = dir.file("f");
    let data = pattern(10, 3 * 4096);
    // The readahead that the read of page 0 starts runs asynchronously and
    // may bring pages 1 and 2 back after they were evicted (on a loaded
    // machine, say): then the whole read is cached and served inline, and
    // the scenario is set up again.
    for _attempt in 0..10 {
        let Some(io) = uring(
            "partly cached read",
            UringOptions::default().inline_reads(InlineReads::NoWait),
        ) else {
            return;
        };
        std::fs::write(&path, &data).unwrap();
        evict(&path, None);
        if !is_cold(&path) {
            eprintln!(
                "skipping a partly cached read: this file system does not evict pages (tmpfs?)"
            );
            return;
        }
        // Page 0 cached (read it; readahead may bring in the rest), pages 1
        // and 2 not.
        let mut one = [0u8; 1];
        std::fs::File::open(&path)
            .unwrap()
            .read_at(&mut one, 0)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        evict(&path, Some((4096, 8192)));
        let f = io.open_file(&path, OpenFlags::NONE).unwrap();
        assert_eq!(read(&io, &*f, 0, 3 * 4096).unwrap(), data);
        let stats = io.stats();
        if stats.ring_ops == 0 && stats.reads_nowait == 1 {
            // Everything was cached again by the time of the read.
            continue;
        }
        assert_eq!(
            stats.ring_ops, 1,
            "the uncached rest went through the ring: {stats}"
        );
        // Now all cached: served inline.
        assert_eq!(read(&io, &*f, 0, 3 * 4096).unwrap(), data);
        assert_eq!(io.stats().reads_nowait, 1);
        return;
    }
    eprintln!("skipping a partly cached read: readahead kept bringing the evicted pages back");
}

#[test]
fn cold_reads_go_to_the_ring_and_hot_reads_are_served_inline() {
    let dir = TempDir::new("adaptive");
    let Some(io) = uring("adaptive reads", UringOptions::default()) else {
        return;
    };
    let Some((path, data)) = cold_file_or_skip(&dir, "f", 256 * 4096, "cold reads") else {
        return;
    };
    let f = io.open_file(&path, OpenFlags::NONE).unwrap();
    for page in 0..256 {
        let got = read(&io, &*f, page * 4096, 4096).unwrap();
        assert!(
            got[..] == data[page as usize * 4096..][..4096],
            "page {page}"
        );
    }
    let cold = io.stats();
    assert!(cold.nowait_misses > 0 && cold.ring_ops > 0, "{cold}");
    // Readahead may have pulled some pages in; either way, everything is
    // cached now, and reads stop going to the ring.
    for _ in 0..4 {
        for page in 0..256 {
            let got = read(&io, &*f, page * 4096, 4096).unwrap();
            assert!(
                got[..] == data[page as usize * 4096..][..4096],
                "page {page}"
            );
        }
    }
    let hot = io.stats();
    assert!(hot.reads_pread > 0, "{hot}");
    assert!(
        hot.ring_ops - cold.ring_ops < 50,
        "hot reads went to the ring: {hot}"
    );
}

#[test]
fn reused_buffers_are_registered_and_registration_falls_back() {
    let dir = TempDir::new("registered");
    let path = dir.file("f");
    let data = pattern(11, 64 * 1024);
    std::fs::write(&path, &data).unwrap();
    for (budget, expect_registered) in [(8 << 20, true), (100, false), (0, false)] {
        let opts = UringOptions::default()
            .inline_reads(InlineReads::Never)
            .inline_lone_ops(false)
            .buffer_budget(budget);
        let Some(io) = uring("registered buffers", opts) else {
            return;
        };
        let f = io.open_file(&path, OpenFlags::NONE).unwrap();
        let buf = Arc::new(Buffer::new(4096));
        for page in 0..16usize {
            let c = f
                .pread(
                    page as u64 * 4096,
                    Completion::new_read(buf.clone(), |_| {}),
                )
                .unwrap();
            io.wait_for_completion(c).unwrap();
            assert!(
                buf.to_vec() == data[page * 4096..][..4096],
                "page {page} with budget {budget}"
            );
        }
        // Writes from a registered buffer too.
        for i in 0..4u64 {
            buf.lock().fill(i as u8);
            let c = f
                .pwrite(i * 4096, buf.clone(), Completion::new_write(|_| {}))
                .unwrap();
            io.wait_for_completion(c).unwrap();
        }
        let mut back = vec![0; 4096];
        std::fs::File::open(&path)
            .unwrap()
            .read_exact_at(&mut back, 3 * 4096)
            .unwrap();
        assert_eq!(back, vec![3; 4096]);
        std::fs::write(&path, &data).unwrap();
        let info = io.info();
        assert_eq!(
            info.buffers_in_table == 1,
            expect_registered,
            "budget {budget}: {info}"
        );
        assert_eq!(info.registered_buffers, budget > 0, "{info}");
    }
}

#[test]
fn registered_file_slots_run_out_and_are_recycled() {
    let dir = TempDir::new("slots");
    let Some(io) = uring(
        "file slots",
        UringOptions::default()
            .file_slots(4)
            .inline_reads(InlineReads::Never)
            .inline_lone_ops(false),
    ) else {
        return;
    };
    assert!(io.info().registered_files);
    let open = |n: usize| -> Vec<Arc<dyn File>> {
        (0..n)
            .map(|i| {
                io.open_file(&dir.file(&format!("f{i}")), OpenFlags::CREATE)
                    .unwrap()
            })
            .collect()
    };
    for round in 0..3u8 {
        // More files than slots: the rest use plain descriptors.
        let files = open(10);
        for (i, f) in files.iter().enumerate() {
            write(&io, &**f, 0, &[round, i as u8]).unwrap();
        }
        for (i, f) in files.iter().enumerate() {
            assert_eq!(read(&io, &**f, 0, 2).unwrap(), [round, i as u8]);
        }
        // Dropped files give their slots back for the next round.
    }
}

/// Issues `n` reads of `len` bytes at distinct offsets of `f`; each
/// callback checks the bytes against `data` and counts itself. The caller
/// keeps only weak references to the buffers: the backend alone keeps them
/// alive.
struct Reads {
    buffers: Vec<Weak<Buffer>>,
    finished: Arc<Mutex<Vec<Result<(), CompletionError>>>>,
}

fn issue_reads(
    f: &dyn File,
    data: &Arc<Vec<u8>>,
    n: usize,
    len: usize,
    reuse: Option<Vec<Arc<Buffer>>>,
) -> Reads {
    let finished = Arc::new(Mutex::new(vec![Err(CompletionError::ShortWrite); 0]));
    let mut buffers = Vec::new();
    let mut reuse = reuse.map(Vec::into_iter);
    for i in 0..n {
        let buf = reuse
            .as_mut()
            .and_then(Iterator::next)
            .unwrap_or_else(|| Arc::new(Buffer::new_aligned(len, 4096)));
        buffers.push(Arc::downgrade(&buf));
        let (finished, data) = (finished.clone(), data.clone());
        let c = Completion::new_read(buf, move |res| {
            let outcome = res.map(|(buf, n)| {
                assert_eq!(n as usize, len);
                assert!(
                    buf.to_vec() == data[i * len..][..len],
                    "read {i} has the wrong bytes"
                );
            });
            finished.lock().unwrap().push(outcome);
        });
        f.pread((i * len) as u64, c).unwrap();
    }
    Reads { buffers, finished }
}

/// Fills memory the allocator is likely to hand out from what was just
/// freed with a marker, waits for any late write by the kernel, and
/// checks that the marker is intact.
fn reused_memory_stays_untouched(len: usize, count: usize) {
    let blocks: Vec<Vec<u8>> = (0..count).map(|_| vec![0x11; len]).collect();
    std::thread::sleep(std::time::Duration::from_millis(30));
    for (i, b) in blocks.iter().enumerate() {
        assert!(
            b.iter().all(|&x| x == 0x11),
            "block {i} of reused memory was written after the drop"
        );
    }
}

/// The drop of a `UringIO` with reads in flight: every buffer the kernel
/// may write into stays allocated until its completion is reaped, and
/// nothing is written into freed (and reused) memory afterwards.
///
/// Reads of data that is not in the page cache (evicted, or `O_DIRECT`)
/// are issued and submitted; the test keeps only `Weak`s of the buffers.
/// Before the drop, every buffer whose read has not finished must still be
/// alive (the backend holds it). The drop must wait: afterwards every read
/// has finished successfully, with the right bytes (checked in the
/// callback, while the buffer is alive), and every buffer has been freed.
/// Then the freed memory is reused and checked for late writes.
#[test]
fn dropping_with_reads_in_flight_frees_nothing_the_kernel_may_write() {
    const N: usize = 128;
    const LEN: usize = 64 * 1024;
    let dir = TempDir::new("drop");
    let mut saw_in_flight = 0;
    for direct in [true, false] {
        for registered in [false, true] {
            let Some((path, data)) =
                cold_file_or_skip(&dir, "f", N * LEN, "drop with reads in flight")
            else {
                return;
            };
            let data = Arc::new(data);
            let opts = UringOptions::default()
                .inline_reads(InlineReads::Never)
                .inline_lone_ops(false);
            let Some(io) = uring("drop with I/O in flight", opts) else {
                return;
            };
            let flags = if direct {
                OpenFlags::DIRECT
            } else {
                OpenFlags::NONE
            };
            let f = match io.open_file(&path, flags) {
                Ok(f) => f,
                Err(err) => {
                    eprintln!("skipping the O_DIRECT case: {err}");
                    continue;
                }
            };
            let reuse = if registered {
                // Use each buffer once, so the second use registers it.
                let bufs: Vec<Arc<Buffer>> = (0..N)
                    .map(|_| Arc::new(Buffer::new_aligned(LEN, 4096)))
                    .collect();
                let first = issue_reads(&*f, &data, N, LEN, Some(bufs.clone()));
                while first.finished.lock().unwrap().len() < N {
                    io.step().unwrap();
                }
                evict(&path, None);
                Some(bufs)
            } else {
                None
            };
            let reads = issue_reads(&*f, &data, N, LEN, reuse);
            // Submit everything; wait for the first completion only.
            io.step().unwrap();
            if registered {
                // Registered as their SQEs were built, at submission.
                assert!(io.info().buffers_in_table > 0, "{}", io.info());
            }
            let in_flight = io.in_flight();
            saw_in_flight += usize::from(in_flight > 0);
            let done_before = reads.finished.lock().unwrap().len();
            let alive_before = reads
                .buffers
                .iter()
                .filter(|w| w.strong_count() > 0)
                .count();
            assert!(
                alive_before >= N - done_before,
                "a buffer of an unfinished read was freed"
            );

            drop(f);
            drop(io);

            let finished = reads.finished.lock().unwrap().clone();
            assert_eq!(finished.len(), N, "the drop waited for every read");
            assert!(
                finished.iter().all(Result::is_ok),
                "every read finished with its data: {finished:?}"
            );
            assert!(
                reads.buffers.iter().all(|w| w.strong_count() == 0),
                "every buffer is freed once its read is reaped"
            );
            reused_memory_stays_untouched(LEN, 2 * N);
            eprintln!(
                "direct={direct} registered={registered}: {in_flight} of {N} reads in flight at the drop, {done_before} finished before"
            );
        }
    }
    assert!(saw_in_flight > 0, "no case had I/O in flight at the drop");
}

/// Where the drop cannot wait (the single-issuer ring is bound to a thread
/// that is not the one dropping it), the buffers of the reads in flight
/// are leaked, not freed, and their completions are aborted.
#[test]
fn a_drop_that_cannot_wait_leaks_the_buffers_in_flight() {
    const N: usize = 64;
    const LEN: usize = 64 * 1024;
    let dir = TempDir::new("leak");
    let Some(io) = uring(
        "leak on foreign drop",
        UringOptions::default()
            .inline_reads(InlineReads::Never)
            .inline_lone_ops(false),
    ) else {
        return;
    };
    if io.info().setup == RingSetup::Plain {
        eprintln!(
            "skipping: the ring is not bound to a thread here ({})",
            io.info()
        );
        return;
    }
    for _attempt in 0..5 {
        let Some((path, data)) = cold_file_or_skip(&dir, "f", N * LEN, "leak on foreign drop")
        else {
            return;
        };
        let f = io
            .open_file(&path, OpenFlags::DIRECT)
            .or_else(|_| io.open_file(&path, OpenFlags::NONE))
            .unwrap();
        let reads = issue_reads(&*f, &Arc::new(data), N, LEN, None);
        io.step().unwrap();
        if io.in_flight() == 0 {
            continue; // all done already: try again
        }
        let in_flight = io.in_flight();
        std::thread::scope(|s| {
            s.spawn(move || drop(io));
        });
        let finished = reads.finished.lock().unwrap().clone();
        assert_eq!(
            finished.len(),
            N,
            "every completion finished (some aborted)"
        );
        let aborted = finished
            .iter()
            .filter(|r| **r == Err(CompletionError::Aborted))
            .count();
        assert_eq!(aborted, in_flight);
        let leaked = reads
            .buffers
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count();
        assert_eq!(
            leaked, in_flight,
            "the buffers of the aborted reads are leaked, not freed"
        );
        return;
    }
    eprintln!("skipping: every read finished before the drop in 5 attempts");
}

#[test]
fn the_ring_moves_to_a_thread_that_finds_it_idle() {
    let dir = TempDir::new("move");
    let Some(io) = uring(
        "ring moves between threads",
        UringOptions::default()
            .inline_reads(InlineReads::Never)
            .inline_lone_ops(false),
    ) else {
        return;
    };
    let io = Arc::new(io);
    let path = dir.file("f");
    let f = io.open_file(&path, OpenFlags::CREATE).unwrap();
    write(&*io, &*f, 0, b"main").unwrap();
    for i in 0..3u8 {
        let (io, f) = (io.clone(), f.clone());
        std::thread::spawn(move || {
            write(&*io, &*f, 4 + u64::from(i), &[i]).unwrap();
            assert_eq!(read(&*io, &*f, 0, 4).unwrap(), b"main");
        })
        .join()
        .unwrap();
    }
    assert_eq!(read(&*io, &*f, 0, 7).unwrap(), b"main\0\x01\x02");
    assert_eq!(io.stats().blocking_fallbacks, 0, "{}", io.stats());
}

fn hammer_from_threads(io: Arc<UringIO>, dir: &TempDir) {
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let io = io.clone();
            let path = dir.file(&format!("t{t}"));
            s.spawn(move || {
                let f = io.open_file(&path, OpenFlags::CREATE).unwrap();
                for i in 0..200u64 {
                    let data = pattern(t * 1000 + i, 1024);
                    write(&*io, &*f, i * 1024, &data).unwrap();
                    assert_eq!(read(&*io, &*f, i * 1024, 1024).unwrap(), data);
                }
                let mut group = CompletionGroup::new(|_| {});
                for i in 0..200u64 {
                    group.add(
                        &f.pread(
                            i * 1024,
                            Completion::new_read(Arc::new(Buffer::new(1024)), |_| {}),
                        )
                        .unwrap(),
                    );
                }
                io.wait_for_completion(group.build()).unwrap();
            });
        }
    });
}

#[test]
fn threads_share_a_single_issuer_ring() {
    let dir = TempDir::new("threads");
    let opts = UringOptions::default()
        .inline_reads(InlineReads::Never)
        .inline_lone_ops(false);
    let Some(io) = uring("threads sharing a ring", opts) else {
        return;
    };
    let io = Arc::new(io);
    hammer_from_threads(io.clone(), &dir);
    eprintln!("{}", io.stats());
}

#[test]
fn threads_share_a_plain_ring() {
    let dir = TempDir::new("plain-threads");
    let opts = UringOptions::default()
        .single_issuer(false)
        .inline_reads(InlineReads::Never)
        .inline_lone_ops(false);
    let Some(io) = uring("threads sharing a plain ring", opts) else {
        return;
    };
    let io = Arc::new(io);
    hammer_from_threads(io.clone(), &dir);
    assert_eq!(io.stats().blocking_fallbacks, 0);
}

#[test]
fn files_outliving_their_backend_fail_cleanly() {
    let dir = TempDir::new("outlive");
    let Some(io) = uring("files outliving the backend", UringOptions::default()) else {
        return;
    };
    let f = io.open_file(&dir.file("f"), OpenFlags::CREATE).unwrap();
    write(&io, &*f, 0, b"abc").unwrap();
    drop(io);
    let gone = Some(CompletionError::IOError(ErrorKind::NotConnected));
    let c = f
        .pwrite(0, Arc::new(Buffer::new(1)), Completion::new_write(|_| {}))
        .unwrap();
    assert_eq!(c.get_error(), gone);
    let c = f
        .pread(0, Completion::new_read(Arc::new(Buffer::new(1)), |_| {}))
        .unwrap();
    assert_eq!(c.get_error(), gone);
    assert_eq!(f.size().unwrap(), 3);
}

#[test]
fn step_with_nothing_in_flight_returns_at_once() {
    let Some(io) = uring("idle step", UringOptions::default()) else {
        return;
    };
    let start = std::time::Instant::now();
    for _ in 0..1000 {
        io.step().unwrap();
    }
    // Not a timing assertion: a blocking step would never return.
    assert_eq!(io.in_flight(), 0);
    eprintln!("1000 idle steps: {:?}", start.elapsed());
}
