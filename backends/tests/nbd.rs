//! `NbdIO` against a real nbdkit: connecting, pipelining with replies out
//! of order (nbdkit's `delay` filter), server errors (`error` filter), a
//! server killed mid-run, a server that stops answering, requests split
//! to the server's largest payload, read-only exports, TCP, and several
//! threads on one backend. The conformance suite runs on `NbdIO` too.

#![cfg(feature = "nbd")]

mod common;

use std::io::{ErrorKind, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use common::nbdkit::Nbdkit;
use common::{pattern, read, sync, write, TempDir};
use io_model::{Buffer, Completion, CompletionError, Error, OpenFlags, IO};
use io_model_backends::{NbdIO, NbdOptions};

/// A directory of exports, nbdkit serving it with `filters`/`params`, and
/// a connected backend.
struct Server {
    dir: TempDir,
    nbdkit: Nbdkit,
    io: NbdIO,
}

fn exports(dir: &TempDir) -> std::path::PathBuf {
    let path = dir.path().join("exports");
    std::fs::create_dir_all(&path).unwrap();
    path
}

/// Makes the export `name` of `len` zero bytes.
fn make(dir: &Path, name: &str, len: u64) {
    std::fs::File::create(dir.join(name))
        .and_then(|f| f.set_len(len))
        .unwrap();
}

fn serve(test: &str, filters: &[&str], params: &[&str], opts: NbdOptions) -> Option<Server> {
    let dir = TempDir::new(test);
    let ex = exports(&dir);
    make(&ex, "disk", 4 << 20);
    let nbdkit = Nbdkit::start(test, &ex, filters, params)?;
    let io = NbdIO::connect_with(&nbdkit.uri(), opts).unwrap();
    Some(Server { dir, nbdkit, io })
}

fn err_kind(c: &Completion) -> Option<ErrorKind> {
    match c.get_error() {
        Some(CompletionError::IOError(kind)) => Some(kind),
        _ => None,
    }
}

#[test]
fn connect_reports_what_is_wrong() {
    let dir = TempDir::new("nbd-connect");
    // Nothing listens there.
    let missing = dir.file("no.sock");
    let err = NbdIO::connect(&format!("nbd+unix:///?socket={missing}")).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == ErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("no.sock"), "{err}");
    // Malformed URIs, and TLS.
    assert!(matches!(
        NbdIO::connect("nbd:/x"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        NbdIO::connect("nbds://h/"),
        Err(Error::Unsupported(_))
    ));
    // Something that is not an NBD server.
    let sock = dir.file("http.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    });
    let err = NbdIO::connect(&format!("nbd+unix:///?socket={sock}")).unwrap_err();
    assert!(err.to_string().contains("not an NBD server"), "{err}");
    t.join().unwrap();
}

#[test]
fn exports_are_files_of_the_directory() {
    let Some(s) = serve("nbd-exports", &[], &[], NbdOptions::default()) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    assert_eq!(f.size().unwrap(), 4 << 20);
    write(&s.io, &*f, 4096, b"through nbd").unwrap();
    sync(&s.io, &*f).unwrap();
    let on_disk = std::fs::read(s.nbdkit.exports.join("disk")).unwrap();
    assert_eq!(&on_disk[4096..4107], b"through nbd");
    // CREATE cannot create an export.
    let err = s.io.open_file("nope", OpenFlags::CREATE).err().unwrap();
    assert!(
        matches!(&err, Error::Io(e) if e.kind() == ErrorKind::NotFound),
        "{err}"
    );
    assert!(err.to_string().contains("\"nope\""), "{err}");
    // An empty name is the URI's export.
    let io = NbdIO::connect(&s.nbdkit.export_uri("disk")).unwrap();
    let g = io.open_file("", OpenFlags::READ_ONLY).unwrap();
    assert_eq!(read(&io, &*g, 4096, 11).unwrap(), b"through nbd");
    drop(s.dir);
}

/// Reads are delayed by the server, writes are not: with both in flight
/// on one connection, the writes are answered first, and every completion
/// gets its own data.
#[test]
fn replies_out_of_order_finish_by_handle() {
    let dir = TempDir::new("nbd-delay");
    let ex = exports(&dir);
    make(&ex, "disk", 1 << 20);
    // Enough server threads that the writes need not wait for the reads.
    let Some(server) = Nbdkit::start_with_flags(
        "nbd-delay",
        &["--threads=64"],
        &ex,
        &["delay"],
        &["rdelay=400ms"],
    ) else {
        return;
    };
    let s = Server {
        io: NbdIO::connect(&server.uri()).unwrap(),
        nbdkit: server,
        dir,
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    for page in 0..16u64 {
        write(&s.io, &*f, page * 4096, &pattern(page, 4096)).unwrap();
    }
    let order: Arc<Mutex<Vec<(char, u64)>>> = Arc::default();
    let mut cs = Vec::new();
    for page in 0..16u64 {
        let order = order.clone();
        let c = Completion::new_read(Arc::new(Buffer::new(4096)), move |res| {
            let (buf, _) = res.expect("read failed");
            assert!(
                buf.to_vec() == pattern(page, 4096),
                "page {page} got another page's data"
            );
            order.lock().unwrap().push(('r', page));
        });
        cs.push(f.pread(page * 4096, c).unwrap());
    }
    for page in 16..32u64 {
        let order = order.clone();
        let c = Completion::new_write(move |res| {
            res.expect("write failed");
            order.lock().unwrap().push(('w', page));
        });
        let buf = Arc::new(Buffer::from_vec(pattern(page, 4096)));
        cs.push(f.pwrite(page * 4096, buf, c).unwrap());
    }
    assert_eq!(s.io.in_flight(), 32);
    for c in &cs {
        s.io.wait_for_completion(c.clone()).unwrap();
    }
    let order = order.lock().unwrap();
    assert_eq!(order.len(), 32);
    let last_write = order.iter().rposition(|(k, _)| *k == 'w').unwrap();
    let last_read = order.iter().rposition(|(k, _)| *k == 'r').unwrap();
    assert!(
        last_write < last_read,
        "the writes, issued after the delayed reads, are answered before them: {order:?}"
    );
    let written = read(&s.io, &*f, 16 * 4096, 16 * 4096).unwrap();
    for (i, page) in written.chunks(4096).enumerate() {
        assert!(page == pattern(16 + i as u64, 4096), "page {}", 16 + i);
    }
}

/// The server fails a share of requests with EIO: those completions carry
/// the error, the others succeed with the right data, each finishes once,
/// and the connection keeps working.
#[test]
fn server_errors_finish_their_completions() {
    let dir = TempDir::new("nbd-eio");
    let ex = exports(&dir);
    make(&ex, "disk", 1 << 20);
    let inject = dir.file("inject");
    let Some(server) = Nbdkit::start(
        "nbd-eio",
        &ex,
        &["error"],
        &[
            "error=EIO",
            "error-rate=30%",
            &format!("error-file={inject}"),
        ],
    ) else {
        return;
    };
    let io = NbdIO::connect(&server.uri()).unwrap();
    let f = io.open_file("disk", OpenFlags::NONE).unwrap();
    for page in 0..64u64 {
        write(&io, &*f, page * 4096, &pattern(page, 4096)).unwrap();
    }
    std::fs::write(&inject, b"").unwrap();
    let calls: Vec<Arc<AtomicUsize>> = (0..256).map(|_| Arc::default()).collect();
    let mut cs = Vec::new();
    for (i, n) in calls.iter().enumerate() {
        let n = n.clone();
        let page = (i % 64) as u64;
        let c = if i % 2 == 0 {
            let c = Completion::new_read(Arc::new(Buffer::new(4096)), move |res| {
                if let Ok((buf, _)) = res {
                    assert!(buf.to_vec() == pattern(page, 4096), "page {page}");
                }
                n.fetch_add(1, Ordering::SeqCst);
            });
            f.pread(page * 4096, c).unwrap()
        } else {
            let c = Completion::new_write(move |_| {
                n.fetch_add(1, Ordering::SeqCst);
            });
            // Rewrites the same bytes, so the reads' check holds.
            let buf = Arc::new(Buffer::from_vec(pattern(page, 4096)));
            f.pwrite(page * 4096, buf, c).unwrap()
        };
        cs.push(c);
    }
    let mut failed = 0;
    for c in &cs {
        match io.wait_for_completion(c.clone()) {
            Ok(()) => {}
            Err(_) => {
                let eio = std::io::Error::from_raw_os_error(5).kind();
                assert_eq!(err_kind(c), Some(eio));
                failed += 1;
            }
        }
    }
    assert!(
        (20..160).contains(&failed),
        "{failed} of 256 failed at a 30% rate"
    );
    assert!(calls.iter().all(|n| n.load(Ordering::SeqCst) == 1));
    std::fs::remove_file(&inject).unwrap();
    for page in 0..64u64 {
        assert_eq!(
            read(&io, &*f, page * 4096, 4096).unwrap(),
            pattern(page, 4096)
        );
    }
}

/// ENOSPC from the server on every write; reads still work.
#[test]
fn enospc_from_the_server() {
    let Some(s) = serve(
        "nbd-enospc",
        &["error"],
        &["error=ENOSPC", "error-pwrite-rate=100%"],
        NbdOptions::default(),
    ) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    let err = write(&s.io, &*f, 0, b"full").unwrap_err();
    let enospc = CompletionError::IOError(std::io::Error::from_raw_os_error(28).kind());
    assert!(matches!(err, Error::Completion(e) if e == enospc), "{err}");
    assert_eq!(read(&s.io, &*f, 0, 4).unwrap(), [0; 4]);
}

/// The server is killed with requests in flight: every completion finishes
/// (with an error where its reply never came), later requests fail at
/// once, nothing hangs, and every buffer is released.
#[test]
fn server_killed_mid_run() {
    let Some(mut s) = serve(
        "nbd-kill",
        &["delay"],
        &["rdelay=300ms"],
        NbdOptions::default(),
    ) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    let mut bufs: Vec<Weak<Buffer>> = Vec::new();
    let mut cs = Vec::new();
    for page in 0..64u64 {
        let buf = Arc::new(Buffer::new(4096));
        bufs.push(Arc::downgrade(&buf));
        cs.push(
            f.pread(page * 4096, Completion::new_read(buf, |_| {}))
                .unwrap(),
        );
        let w = Arc::new(Buffer::from_vec(pattern(page, 4096)));
        bufs.push(Arc::downgrade(&w));
        cs.push(
            f.pwrite(page * 4096, w, Completion::new_write(|_| {}))
                .unwrap(),
        );
    }
    // Let the requests reach the server, then kill it.
    for _ in 0..3 {
        s.io.step().unwrap();
    }
    s.nbdkit.kill();
    for c in &cs {
        let _ = s.io.wait_for_completion(c.clone());
    }
    assert!(cs.iter().all(Completion::finished));
    let failed: Vec<_> = cs.iter().filter(|c| c.failed()).collect();
    assert!(
        !failed.is_empty(),
        "the delayed reads cannot have been answered"
    );
    for c in &failed {
        assert!(
            matches!(
                err_kind(c),
                Some(ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::NotConnected)
            ),
            "{:?}",
            c.get_error()
        );
    }
    assert_eq!(s.io.in_flight(), 0);
    // Later requests fail at once, without hanging.
    let c = f
        .pread(0, Completion::new_read(Arc::new(Buffer::new(10)), |_| {}))
        .unwrap();
    assert_eq!(err_kind(&c), Some(ErrorKind::NotConnected));
    s.io.step().unwrap();
    drop(cs);
    assert!(
        bufs.iter().all(|b| b.upgrade().is_none()),
        "the backend kept a buffer of a failed request"
    );
    // A new connection after the server is back works.
    s.nbdkit.restart();
    let g = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    write(&s.io, &*g, 0, b"back").unwrap();
    assert_eq!(read(&s.io, &*g, 0, 4).unwrap(), b"back");
}

/// A server that stops answering without closing: the request timeout
/// fails the requests instead of hanging.
#[test]
fn a_silent_server_times_out() {
    let opts = NbdOptions::default().request_timeout(Some(Duration::from_millis(300)));
    let Some(s) = serve("nbd-timeout", &["delay"], &["rdelay=30"], opts) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    let c = f
        .pread(0, Completion::new_read(Arc::new(Buffer::new(512)), |_| {}))
        .unwrap();
    let err = s.io.wait_for_completion(c.clone()).unwrap_err();
    assert_eq!(err_kind(&c), Some(ErrorKind::TimedOut), "{err}");
    let c = f.sync(Completion::new_sync(|_| {})).unwrap();
    assert_eq!(err_kind(&c), Some(ErrorKind::NotConnected));
}

/// The server advertises a 64 KiB largest request and refuses larger ones:
/// longer transfers are split and still land whole.
#[test]
fn long_transfers_are_split_to_the_servers_maximum() {
    let Some(s) = serve(
        "nbd-split",
        &["blocksize-policy"],
        &["blocksize-maximum=65536", "blocksize-error-policy=error"],
        NbdOptions::default(),
    ) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    let data = pattern(7, (1 << 20) + 12_345);
    write(&s.io, &*f, 999, &data).unwrap();
    assert!(read(&s.io, &*f, 999, data.len()).unwrap() == data);
    let on_disk = std::fs::read(s.nbdkit.exports.join("disk")).unwrap();
    assert!(on_disk[999..999 + data.len()] == data[..]);
}

#[test]
fn read_only_exports_refuse_writes() {
    let dir = TempDir::new("nbd-ro");
    let ex = exports(&dir);
    make(&ex, "disk", 8192);
    let Some(server) = Nbdkit::start_with_flags("nbd-ro", &["-r"], &ex, &[], &[]) else {
        return;
    };
    let io = NbdIO::connect(&server.uri()).unwrap();
    let f = io.open_file("disk", OpenFlags::NONE).unwrap();
    let err = write(&io, &*f, 0, b"x").unwrap_err();
    let denied = CompletionError::IOError(ErrorKind::PermissionDenied);
    assert!(matches!(err, Error::Completion(e) if e == denied), "{err}");
    assert_eq!(read(&io, &*f, 0, 8192).unwrap(), vec![0; 8192]);
}

/// `nbd://127.0.0.1:PORT/export` over loopback TCP.
#[test]
fn tcp_on_loopback() {
    let dir = TempDir::new("nbd-tcp");
    let ex = exports(&dir);
    make(&ex, "disk", 1 << 20);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let Some(server) = Nbdkit::start_tcp("nbd-tcp", port, &ex) else {
        return;
    };
    let io = NbdIO::connect(&server.export_uri("disk")).unwrap();
    let f = io.open_file("", OpenFlags::NONE).unwrap();
    let data = pattern(3, 300_000);
    write(&io, &*f, 5, &data).unwrap();
    assert!(read(&io, &*f, 5, data.len()).unwrap() == data);
}

/// Four threads share one backend, each issuing batches and waiting on its
/// own completions while the others step: every completion is finished
/// once, by whichever thread read its reply, and every waiter wakes.
#[test]
fn threads_share_one_backend() {
    let Some(s) = serve("nbd-threads", &[], &[], NbdOptions::default()) else {
        return;
    };
    let io = Arc::new(s.io);
    let f = io.open_file("disk", OpenFlags::NONE).unwrap();
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (io, f) = (io.clone(), f.clone());
            std::thread::spawn(move || {
                for round in 0..50u64 {
                    let mut cs = Vec::new();
                    for i in 0..8u64 {
                        let page = t * 256 + (round * 8 + i) % 256;
                        let buf = Arc::new(Buffer::from_vec(pattern(page + round, 4096)));
                        cs.push(
                            f.pwrite(page * 4096, buf, Completion::new_write(|_| {}))
                                .unwrap(),
                        );
                    }
                    for c in cs {
                        io.wait_for_completion(c).unwrap();
                    }
                    let page = t * 256 + (round * 8) % 256;
                    let got = read(&*io, &*f, page * 4096, 4096).unwrap();
                    assert!(
                        got == pattern(page + round, 4096),
                        "thread {t} round {round}"
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(io.in_flight(), 0);
}

/// A file dropped with requests in flight: they still finish (their
/// buffers kept until then), and dropping the backend waits for them.
#[test]
fn dropping_with_requests_in_flight() {
    let Some(s) = serve(
        "nbd-drop",
        &["delay"],
        &["rdelay=100ms"],
        NbdOptions::default(),
    ) else {
        return;
    };
    let f = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    write(&s.io, &*f, 0, &pattern(1, 4096)).unwrap();
    let buf = Arc::new(Buffer::new(4096));
    let c = f
        .pread(0, Completion::new_read(buf.clone(), |_| {}))
        .unwrap();
    drop(f);
    s.io.wait_for_completion(c.clone()).unwrap();
    assert_eq!(buf.to_vec(), pattern(1, 4096));

    let g = s.io.open_file("disk", OpenFlags::NONE).unwrap();
    let weak = {
        let buf = Arc::new(Buffer::new(4096));
        let w = Arc::downgrade(&buf);
        let c = g.pread(0, Completion::new_read(buf, |_| {})).unwrap();
        drop(s.io); // waits for the read
        assert!(c.succeeded(), "{:?}", c.get_error());
        w
    };
    assert!(weak.upgrade().is_none());
    // The file outlives its backend: its requests fail, they do not hang.
    let c = g.sync(Completion::new_sync(|_| {})).unwrap();
    assert_eq!(err_kind(&c), Some(ErrorKind::NotConnected));
}
