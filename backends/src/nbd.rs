//! [`NbdIO`]: files are the exports of an NBD server, reached over a Unix
//! socket or TCP, with many requests in flight on each connection.
//!
//! The client speaks the protocol itself (see `backends/README.md` for
//! why, and what that was measured against): the fixed newstyle handshake
//! with `NBD_OPT_GO`, then `NBD_CMD_READ`, `NBD_CMD_WRITE` and
//! `NBD_CMD_FLUSH` with simple replies. Each open file is one connection to
//! its export. Requests are queued by `pread`/`pwrite`/`sync` and sent by
//! [`IO::step`], which also reads the replies and finishes each completion
//! by the reply's handle, in whatever order the server answers.

mod conn;
mod proto;
mod slab;
mod uri;

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use io_model::{Buffer, Completion, CompletionError, Error, File, OpenFlags, Result, IO};

use self::conn::{Conn, Ready, Request, Stream, NOT_CONNECTED};
use self::proto::Export;
use self::slab::{Key, Slab};
pub use self::uri::{Address as NbdAddress, NbdUri, DEFAULT_PORT as NBD_DEFAULT_PORT};
use crate::sys;

/// Settings of an [`NbdIO`].
///
/// ```
/// use io_model_backends::NbdOptions;
/// use std::time::Duration;
/// let opts = NbdOptions::default().request_timeout(Some(Duration::from_secs(5)));
/// assert_eq!(opts.get_request_timeout(), Some(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone)]
pub struct NbdOptions {
    request_timeout: Option<Duration>,
    connect_timeout: Duration,
}

impl Default for NbdOptions {
    fn default() -> Self {
        Self {
            request_timeout: Some(Duration::from_secs(60)),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl NbdOptions {
    /// How long a connection with requests in flight may go without a byte
    /// moving before it is declared dead: its requests then fail with
    /// `IOError(TimedOut)` and the connection is closed. 60 s by default;
    /// `None` waits forever (a server that stops answering without closing
    /// the connection then hangs its waiters).
    ///
    /// ```
    /// let opts = io_model_backends::NbdOptions::default().request_timeout(None);
    /// assert_eq!(opts.get_request_timeout(), None);
    /// ```
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The request timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// let opts = io_model_backends::NbdOptions::default();
    /// assert_eq!(opts.get_request_timeout(), Some(Duration::from_secs(60)));
    /// ```
    pub fn get_request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }

    /// How long connecting and the handshake may take (10 s by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let opts = io_model_backends::NbdOptions::default().connect_timeout(Duration::from_secs(1));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }
}

/// The NBD backend: every file is an export of one NBD server.
///
/// - [`NbdIO::connect`] takes an NBD URI, `nbd://host[:port][/export]` or
///   `nbd+unix:///[export]?socket=PATH`, and checks that an NBD server
///   answers there.
/// - [`open_file(name, ..)`](IO::open_file) opens the export called `name`
///   (an empty name: the URI's export, or the server's default). With
///   `nbdkit file dir=DIR`, the exports are the files in `DIR`. Each open
///   file is its own connection.
/// - Requests are pipelined: any number in flight per connection, sent in
///   batches by [`step`](IO::step), their replies matched by handle in
///   whatever order they come. A transfer longer than the server's largest
///   request (32 MiB, or what it advertises) is split.
/// - [`File::sync`] is `NBD_CMD_FLUSH`: every write finished before it is
///   durable on the server.
///
/// What NBD does not have: an export's size is fixed when the server
/// opens it. [`File::truncate`] to any other length, opening with
/// [`OpenFlags::TRUNCATE`] and [`IO::remove_file`] are
/// [`Error::Unsupported`] (the completion, where there is one, finishes
/// with `IOError(Unsupported)`); a write that does not fit in the export
/// fails with the error of `ENOSPC` and writes nothing; a read past its end
/// is a [`CompletionError::ShortRead`] like on a file. [`OpenFlags::CREATE`]
/// cannot create an export, and a missing one is `NotFound`;
/// [`OpenFlags::DIRECT`] changes nothing (the client caches nothing).
///
/// Failures: the server's errors (`EIO`, `ENOSPC`, ...) finish the request's
/// completion with that error. A connection that breaks (the server closed
/// it, or died) or stops answering for the [request
/// timeout](NbdOptions::request_timeout) fails every request in flight on
/// it, and every later one with `IOError(NotConnected)`; no reconnection is
/// tried. Buffers are only ever touched by this code, under its lock, while
/// their request is in flight, so nothing is freed early or written late.
///
/// Threads: any thread may issue and step; `step` blocks in `poll(2)`
/// without holding the lock, and a thread that issues a request or finishes
/// completions wakes the threads blocked there.
///
/// ```no_run
/// use io_model::{Buffer, Completion, File, OpenFlags, IO};
/// use io_model_backends::NbdIO;
/// use std::sync::Arc;
///
/// // nbdkit -U /tmp/nbd.sock file dir=/srv/exports
/// let io = NbdIO::connect("nbd+unix:///?socket=/tmp/nbd.sock")?;
/// let file = io.open_file("db", OpenFlags::NONE)?; // /srv/exports/db
/// let w = file.pwrite(0, Arc::new(Buffer::from_vec(vec![1; 4096])), Completion::new_write(|_| {}))?;
/// io.wait_for_completion(w)?;
/// io.wait_for_completion(file.sync(Completion::new_sync(|_| {}))?)?;
/// let r = file.pread(0, Completion::new_read(Arc::new(Buffer::new_page()), |_| {}))?;
/// io.wait_for_completion(r.clone())?;
/// assert_eq!(r.read_buffer().unwrap().lock()[0], 1);
/// # Ok::<(), io_model::Error>(())
/// ```
pub struct NbdIO {
    shared: Arc<Shared>,
}

struct Shared {
    uri: NbdUri,
    opts: NbdOptions,
    state: Mutex<State>,
    /// Written to wake the threads blocked in `poll`; read end polled.
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

struct State {
    conns: Slab<Conn>,
    ready: Ready,
    /// The other half of `ready`'s ping-pong: callbacks run from one
    /// vector while the next step fills the other, so neither is
    /// reallocated.
    spare: Ready,
    pollfds: Vec<libc::pollfd>,
    /// Threads between deciding to poll and returning from `poll`.
    pollers: usize,
    /// The `NbdIO` was dropped.
    closed: bool,
}

/// Completions `ready` and `spare` have room for when the backend is made.
const READY_ROOM: usize = 128;

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl NbdIO {
    /// Connects to the NBD server at `uri` with the default
    /// [`NbdOptions`]. Fails with [`Error::InvalidArgument`] for a malformed
    /// URI, [`Error::Unsupported`] for TLS, and [`Error::Io`] naming the
    /// server where nothing answers or it does not speak NBD.
    ///
    /// ```no_run
    /// let io = io_model_backends::NbdIO::connect("nbd://127.0.0.1:10809")?;
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn connect(uri: &str) -> Result<Self> {
        Self::connect_with(uri, NbdOptions::default())
    }

    /// [`connect`](Self::connect) with `opts`.
    ///
    /// ```no_run
    /// use io_model_backends::{NbdIO, NbdOptions};
    /// let io = NbdIO::connect_with("nbd+unix:///?socket=/tmp/nbd.sock", NbdOptions::default().request_timeout(None))?;
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn connect_with(uri: &str, opts: NbdOptions) -> Result<Self> {
        let uri = NbdUri::parse(uri)?;
        let stream = dial(&uri.address, opts.connect_timeout)?;
        let mut s = &stream;
        proto::probe(&mut s).map_err(|err| {
            io_error(
                err,
                format!("handshake with the NBD server at {}", uri.address),
            )
        })?;
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Self {
            shared: Arc::new(Shared {
                uri,
                opts,
                state: Mutex::new(State {
                    conns: Slab::default(),
                    // Room for the completions of one pump from the
                    // start: they grow past it once, to the most ever
                    // ready at once.
                    ready: Vec::with_capacity(READY_ROOM),
                    spare: Vec::with_capacity(READY_ROOM),
                    pollfds: Vec::new(),
                    pollers: 0,
                    closed: false,
                }),
                wake_tx,
                wake_rx,
            }),
        })
    }

    /// The server's URI, as parsed.
    ///
    /// ```no_run
    /// let io = io_model_backends::NbdIO::connect("nbd://localhost")?;
    /// assert_eq!(io.uri().to_string(), "nbd://localhost:10809/");
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn uri(&self) -> &NbdUri {
        &self.shared.uri
    }

    /// Requests in flight (queued, sent, or being answered) on every
    /// connection.
    ///
    /// ```no_run
    /// let io = io_model_backends::NbdIO::connect("nbd://localhost")?;
    /// assert_eq!(io.in_flight(), 0);
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn in_flight(&self) -> usize {
        let st = lock(&self.shared.state);
        st.conns_iter().map(Conn::in_flight).sum()
    }
}

impl fmt::Debug for NbdIO {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NbdIO")
            .field("uri", &self.shared.uri.to_string())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

/// An `std::io::Error` with what was being done in front of it, its kind
/// kept.
fn io_error(err: io::Error, doing: String) -> Error {
    Error::Io(io::Error::new(err.kind(), format!("{doing}: {err}")))
}

/// Opens a blocking connection to `address`, with `timeout` on connecting
/// and on every read and write until cleared.
fn dial(address: &NbdAddress, timeout: Duration) -> Result<Stream> {
    let doing = || format!("connecting to the NBD server at {address}");
    let stream = match address {
        NbdAddress::Unix(path) => {
            Stream::Unix(UnixStream::connect(path).map_err(|e| io_error(e, doing()))?)
        }
        NbdAddress::Tcp { host, port } => {
            let addrs = (host.as_str(), *port)
                .to_socket_addrs()
                .map_err(|e| io_error(e, doing()))?;
            let mut last = io::Error::new(ErrorKind::NotFound, "the host name has no address");
            let mut found = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, timeout) {
                    Ok(s) => {
                        found = Some(s);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            let s = found.ok_or_else(|| io_error(last, doing()))?;
            s.set_nodelay(true).map_err(|e| io_error(e, doing()))?;
            Stream::Tcp(s)
        }
    };
    stream
        .set_timeouts(Some(timeout))
        .map_err(|e| io_error(e, doing()))?;
    Ok(stream)
}

impl State {
    fn conns_iter(&self) -> impl Iterator<Item = &Conn> {
        self.conns.iter()
    }

    /// Pumps every connection with requests in flight and closes released
    /// ones that are idle. Returns how many requests are still in flight.
    fn pump(&mut self, timeout: Option<Duration>) -> usize {
        let mut in_flight = 0;
        let ready = &mut self.ready;
        let mut idle_released = None;
        self.conns.for_each_mut(|key, conn| {
            conn.pump(ready, timeout);
            in_flight += conn.in_flight();
            if conn.released && conn.in_flight() == 0 {
                idle_released = Some(key);
            }
        });
        // One at a time is enough: a released connection is closed by the
        // next pump at the latest (and by the file's drop when idle).
        if let Some(key) = idle_released {
            if let Some(mut conn) = self.conns.remove(key) {
                conn.disconnect();
            }
        }
        in_flight
    }
}

impl Shared {
    fn wake(&self) {
        // A full socket already wakes every poller.
        let _ = (&self.wake_tx).write(&[1]);
    }

    fn drain_wake(&self) {
        let mut buf = [0u8; 64];
        while matches!((&self.wake_rx).read(&mut buf), Ok(n) if n > 0) {}
    }

    /// Finishes the ready completions outside the lock. `st` is released.
    fn finish_ready(&self, mut st: MutexGuard<'_, State>) {
        if st.ready.is_empty() {
            return;
        }
        let spare = std::mem::take(&mut st.spare);
        let mut ready = std::mem::replace(&mut st.ready, spare);
        let wake = st.pollers > 0;
        drop(st);
        if wake {
            // Some thread may be waiting for one of these.
            self.wake();
        }
        for (mut c, res) in ready.drain(..) {
            c.finish(res);
        }
        let mut st = lock(&self.state);
        if st.spare.capacity() < ready.capacity() {
            st.spare = ready;
        }
    }

    /// Queues one operation on the connection `key`, or finishes `c` at
    /// once where it cannot be (the connection failed or was closed).
    fn submit(&self, key: Key, c: &Completion, op: Request) {
        let mut st = lock(&self.state);
        let closed = st.closed;
        let res = match st.conns.get_mut(key) {
            Some(conn) if !closed => conn.submit(c, op),
            _ => Err(NOT_CONNECTED),
        };
        let wake = st.pollers > 0;
        drop(st);
        match res {
            Ok(()) if wake => self.wake(),
            Ok(()) => {}
            Err(err) => c.error(err),
        }
    }

    fn step(&self) -> Result<()> {
        let timeout = self.opts.request_timeout;
        let mut st = lock(&self.state);
        let in_flight = st.pump(timeout);
        if !st.ready.is_empty() || in_flight == 0 {
            self.finish_ready(st);
            return Ok(());
        }
        // Nothing finished and requests are in flight: wait in poll(2) for
        // a socket, a wake-up, or the earliest deadline.
        let mut fds = std::mem::take(&mut st.pollfds);
        fds.clear();
        fds.push(libc::pollfd {
            fd: self.wake_rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        let mut deadline: Option<Instant> = None;
        for conn in st
            .conns_iter()
            .filter(|c| c.in_flight() > 0 && c.failed.is_none())
        {
            let mut events = libc::POLLIN;
            if conn.wants_write() {
                events |= libc::POLLOUT;
            }
            fds.push(libc::pollfd {
                fd: conn.fd(),
                events,
                revents: 0,
            });
            if let Some(d) = conn.deadline(timeout) {
                deadline = Some(deadline.map_or(d, |e| e.min(d)));
            }
        }
        st.pollers += 1;
        drop(st);
        let wait_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so that the deadline has passed on return.
                left.as_millis().saturating_add(1).min(i32::MAX as u128) as i32
            }
        };
        // SAFETY: `fds` is a live, exclusively borrowed array of
        // `fds.len()` initialized `pollfd`s for the whole call; poll(2)
        // only writes their `revents`. A descriptor closed meanwhile by
        // another thread is at worst reported as POLLNVAL, or wakes the
        // call spuriously.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
        let poll_err = (rc < 0).then(io::Error::last_os_error);
        let woken = fds.first().is_some_and(|w| w.revents & libc::POLLIN != 0);
        let mut st = lock(&self.state);
        st.pollers -= 1;
        if st.pollers == 0 && woken {
            // No thread is between deciding to poll and polling: every
            // wake-up has been seen by all it was meant for. (A byte that
            // came after this poll returned is left: it only makes the
            // next poll return at once.)
            self.drain_wake();
        }
        if st.pollfds.capacity() < fds.capacity() {
            st.pollfds = fds;
        }
        st.pump(timeout);
        self.finish_ready(st);
        match poll_err {
            Some(err) if err.kind() != ErrorKind::Interrupted => {
                Err(io_error(err, "poll(2) on the NBD connections".into()))
            }
            _ => Ok(()),
        }
    }
}

impl IO for NbdIO {
    fn open_file(&self, name: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let shared = &self.shared;
        let export = if name.is_empty() {
            shared.uri.export.clone()
        } else {
            name.to_owned()
        };
        let doing = || {
            format!(
                "opening export {export:?} on the NBD server at {}",
                shared.uri.address
            )
        };
        if flags.contains(OpenFlags::TRUNCATE) {
            return Err(Error::Unsupported(format!(
                "{}: NBD exports have a fixed size, so OpenFlags::TRUNCATE cannot be honoured",
                doing()
            )));
        }
        let stream = dial(&shared.uri.address, shared.opts.connect_timeout)?;
        let mut s = &stream;
        let info = proto::handshake(&mut s, &export).map_err(|err| io_error(err, doing()))?;
        stream
            .set_timeouts(None)
            .and_then(|()| stream.set_nonblocking(true))
            .map_err(|err| io_error(err, doing()))?;
        let key = {
            let mut st = lock(&shared.state);
            if st.closed {
                return Err(Error::Io(io::Error::new(ErrorKind::NotConnected, doing())));
            }
            st.conns.insert(Conn::new(stream, info, export.clone()))
        };
        Ok(Arc::new(NbdFile {
            shared: shared.clone(),
            key,
            export: info,
            read_only: flags.contains(OpenFlags::READ_ONLY) || info.read_only,
        }))
    }

    /// NBD has no operation to remove an export: always
    /// [`Error::Unsupported`].
    fn remove_file(&self, name: &str) -> Result<()> {
        Err(Error::Unsupported(format!(
            "removing export {name:?}: NBD has no operation to remove an export"
        )))
    }

    /// Sends what is queued and finishes every request whose reply has
    /// arrived. If requests are in flight and none has finished, waits in
    /// `poll(2)` until a reply comes, another thread wakes it, or the
    /// request timeout passes. Returns at once, with no system call, when
    /// nothing is in flight.
    fn step(&self) -> Result<()> {
        self.shared.step()
    }
}

impl Drop for NbdIO {
    /// Waits for everything in flight (bounded by the request timeout),
    /// then closes every connection; files still open fail their requests
    /// with `IOError(NotConnected)`.
    fn drop(&mut self) {
        loop {
            let busy = {
                let st = lock(&self.shared.state);
                let busy = st.conns_iter().any(|c| c.in_flight() > 0);
                busy
            };
            if !busy || self.shared.step().is_err() {
                break;
            }
        }
        let mut st = lock(&self.shared.state);
        st.closed = true;
        let mut ready = std::mem::take(&mut st.ready);
        st.conns.for_each_mut(|_, conn| {
            conn.disconnect();
            if conn.failed.is_none() {
                conn.fail(
                    ErrorKind::NotConnected,
                    "the NbdIO was dropped".into(),
                    &mut ready,
                );
            }
        });
        drop(st);
        for (mut c, res) in ready {
            c.finish(res);
        }
    }
}

/// A file of [`NbdIO`]: one connection to one export.
struct NbdFile {
    shared: Arc<Shared>,
    key: Key,
    export: Export,
    read_only: bool,
}

/// The error of an operation NBD does not have, on the completion.
const UNSUPPORTED: CompletionError = CompletionError::IOError(ErrorKind::Unsupported);

impl NbdFile {
    fn name(&self) -> String {
        lock(&self.shared.state)
            .conns
            .get(self.key)
            .map_or_else(String::new, |c| c.name.clone())
    }
}

impl File for NbdFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion> {
        let buf = match sys::check_read(pos, &c) {
            Ok(buf) => buf,
            Err(what) => return sys::refuse(c, what),
        };
        let len = buf.len();
        if len == 0 {
            c.complete(0);
            return Ok(c);
        }
        let size = self.export.size;
        if pos >= size {
            c.error(CompletionError::ShortRead {
                expected: len,
                actual: 0,
            });
            return Ok(c);
        }
        // Only the part inside the export is asked for.
        let n = (size - pos).min(len as u64) as usize;
        let outcome = if n < len {
            Err(CompletionError::ShortRead {
                expected: len,
                actual: n,
            })
        } else {
            Ok(len as i32)
        };
        let op = Request {
            cmd: proto::CMD_READ,
            buf: Some(buf.clone()),
            offset: pos,
            len: n,
            outcome,
        };
        self.shared.submit(self.key, &c, op);
        Ok(c)
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        let c = match sys::admit_write(c, sys::check_range(pos, buf.len()), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        let len = buf.len();
        if len == 0 {
            c.complete(0);
            return Ok(c);
        }
        if pos + len as u64 > self.export.size {
            // The export cannot grow; nothing is written.
            c.error(sys::errno_error(libc::ENOSPC));
            return Ok(c);
        }
        let op = Request {
            cmd: proto::CMD_WRITE,
            buf: Some(buf),
            offset: pos,
            len,
            outcome: Ok(len as i32),
        };
        self.shared.submit(self.key, &c, op);
        Ok(c)
    }

    fn sync(&self, c: Completion) -> Result<Completion> {
        if !self.export.can_flush {
            c.error(UNSUPPORTED);
            return Err(Error::Unsupported(format!(
                "sync of export {:?}: the server does not accept NBD_CMD_FLUSH",
                self.name()
            )));
        }
        let op = Request {
            cmd: proto::CMD_FLUSH,
            buf: None,
            offset: 0,
            len: 0,
            outcome: Ok(0),
        };
        self.shared.submit(self.key, &c, op);
        Ok(c)
    }

    /// Truncation to the export's own size succeeds without I/O; any other
    /// length is [`Error::Unsupported`] (its completion finished with
    /// `IOError(Unsupported)`).
    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        let c = match sys::admit_write(c, sys::check_len(len), self.read_only) {
            Ok(c) => c,
            Err(done) => return done,
        };
        if len == self.export.size {
            c.complete(0);
            return Ok(c);
        }
        c.error(UNSUPPORTED);
        Err(Error::Unsupported(format!(
            "truncating export {:?} to {len} bytes: NBD exports have a fixed size ({} bytes)",
            self.name(),
            self.export.size
        )))
    }

    fn size(&self) -> Result<u64> {
        Ok(self.export.size)
    }
}

impl Drop for NbdFile {
    fn drop(&mut self) {
        let mut st = lock(&self.shared.state);
        let Some(conn) = st.conns.get_mut(self.key) else {
            return;
        };
        conn.released = true;
        if conn.in_flight() == 0 {
            if let Some(mut conn) = st.conns.remove(self.key) {
                conn.disconnect();
            }
        }
        // Otherwise the connection lives until its requests are answered
        // (the next steps), so their buffers stay in its table until then.
    }
}
