//! One NBD connection in the transmission phase, driven without blocking.
//!
//! Requests are queued, staged into an output buffer (header, then a
//! write's data) and sent as the socket takes them; replies are read into
//! an input buffer and matched to their request by handle, in whatever
//! order the server sends them. A read's data is copied into its buffer
//! (or, for long reads, received straight into it). Every buffer is
//! touched only by this code, under the backend's lock, and only while its
//! operation is in the table; nothing is ever handed to the kernel
//! asynchronously, so a failed or dropped connection can release the
//! buffers of its operations at once.
//!
//! Nothing here allocates once warm: the tables, the queue and both
//! buffers keep their capacity.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_model::{Buffer, Completion, CompletionError};

use super::proto::{self, Export, REPLY_LEN, REQUEST_LEN};
use super::slab::{Key, Slab};

/// Completions that are done, with their results, to be finished once the
/// backend's lock is released.
pub(super) type Ready = Vec<(Completion, Result<i32, CompletionError>)>;

/// The error of a request on a connection that failed or was closed.
pub(super) const NOT_CONNECTED: CompletionError = CompletionError::IOError(ErrorKind::NotConnected);

/// Bytes staged for sending at most (one write's data may be staged in
/// several rounds).
const OUT_CAP: usize = 128 << 10;
/// The input buffer.
const IN_CAP: usize = 128 << 10;
/// A read's data at least this long is received straight into its buffer.
const DIRECT_MIN: usize = 16 << 10;

/// A connected socket, TCP or Unix.
pub(super) enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    pub(super) fn set_nonblocking(&self, yes: bool) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_nonblocking(yes),
            Stream::Tcp(s) => s.set_nonblocking(yes),
        }
    }

    pub(super) fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }

    fn shutdown(&self) {
        let _ = match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }

    pub(super) fn fd(&self) -> RawFd {
        match self {
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Tcp(s) => s.as_raw_fd(),
        }
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => (&*s).read(buf),
            Stream::Tcp(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => (&*s).write(buf),
            Stream::Tcp(s) => (&*s).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a caller asks for: `len` bytes at `offset` (a read's buffer, or a
/// write's data, in `buf`).
pub(super) struct Request {
    pub cmd: u16,
    pub buf: Option<Arc<Buffer>>,
    pub offset: u64,
    pub len: usize,
    /// The result if the server reports no error.
    pub outcome: Result<i32, CompletionError>,
}

/// One caller's operation: one completion, sent as one or more requests
/// (a transfer longer than the server's largest payload is split).
struct Op {
    c: Completion,
    buf: Option<Arc<Buffer>>,
    /// Requests not yet answered.
    parts: u32,
    /// The result when every part succeeds (a clipped read's is a
    /// `ShortRead`).
    outcome: Result<i32, CompletionError>,
    /// The first error a part reported.
    err: Option<CompletionError>,
}

/// One NBD request.
struct Req {
    op: Key,
    cmd: u16,
    offset: u64,
    len: u32,
    /// Where in the operation's buffer this part's data starts.
    buf_off: usize,
}

enum Recv {
    Header,
    /// Receiving a read's data: `done` bytes of it so far.
    Payload {
        req: Key,
        done: usize,
    },
}

/// A connection and everything in flight on it.
pub(super) struct Conn {
    stream: Stream,
    pub(super) export: Export,
    /// The export's name, for messages.
    pub(super) name: String,
    ops: Slab<Op>,
    reqs: Slab<Req>,
    /// Requests not yet fully staged, oldest first.
    queue: VecDeque<Key>,
    /// Bytes of the queue's first request already staged.
    staged: usize,
    /// Requests staged (so perhaps sent) and not yet answered: while there
    /// are none, no reply can be waiting, and a step need not try to read.
    on_wire: usize,
    out: Vec<u8>,
    out_pos: usize,
    inb: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    recv: Recv,
    /// Set once the connection failed: later requests fail at once.
    pub(super) failed: Option<(CompletionError, String)>,
    /// When bytes last moved while requests were in flight.
    last_progress: Instant,
    /// The file was dropped: close once nothing is in flight.
    pub(super) released: bool,
}

impl Conn {
    pub(super) fn new(stream: Stream, export: Export, name: String) -> Self {
        Self {
            stream,
            export,
            name,
            ops: Slab::default(),
            reqs: Slab::default(),
            queue: VecDeque::new(),
            staged: 0,
            on_wire: 0,
            out: Vec::with_capacity(OUT_CAP + REQUEST_LEN),
            out_pos: 0,
            inb: vec![0; IN_CAP].into_boxed_slice(),
            in_start: 0,
            in_end: 0,
            recv: Recv::Header,
            failed: None,
            last_progress: Instant::now(),
            released: false,
        }
    }

    pub(super) fn fd(&self) -> RawFd {
        self.stream.fd()
    }

    /// Requests sent or queued and not yet answered.
    pub(super) fn in_flight(&self) -> usize {
        self.reqs.len()
    }

    /// Whether there are bytes to send.
    pub(super) fn wants_write(&self) -> bool {
        self.out_pos < self.out.len() || !self.queue.is_empty()
    }

    /// When the connection times out if nothing moves.
    pub(super) fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        match (timeout, self.reqs.is_empty()) {
            (Some(t), false) => Some(self.last_progress + t),
            _ => None,
        }
    }

    /// Queues an operation (split into requests of at most the export's
    /// largest payload). Fails at once, without queueing, on a failed
    /// connection.
    pub(super) fn submit(&mut self, c: &Completion, op: Request) -> Result<(), CompletionError> {
        let Request {
            cmd,
            buf,
            offset,
            len,
            outcome,
        } = op;
        if self.failed.is_some() {
            return Err(NOT_CONNECTED);
        }
        let max = self.export.max_payload.max(1) as usize;
        let parts = len.div_ceil(max).max(1);
        let parts32 =
            u32::try_from(parts).map_err(|_| CompletionError::IOError(ErrorKind::InvalidInput))?;
        if self.reqs.is_empty() {
            self.last_progress = Instant::now();
        }
        let op = self.ops.insert(Op {
            c: c.clone(),
            buf,
            parts: parts32,
            outcome,
            err: None,
        });
        for part in 0..parts {
            let start = part * max;
            let key = self.reqs.insert(Req {
                op,
                cmd,
                offset: offset + start as u64,
                len: (len - start).min(max) as u32,
                buf_off: start,
            });
            self.queue.push_back(key);
        }
        Ok(())
    }

    /// Sends what the socket takes and handles every reply that arrived,
    /// without blocking. Finished operations are pushed to `ready`; a
    /// connection that fails (reset, closed by the server, out of step, or
    /// silent past `timeout` with requests in flight) finishes all of its
    /// operations with the error.
    pub(super) fn pump(&mut self, ready: &mut Ready, timeout: Option<Duration>) {
        if self.failed.is_some() || self.reqs.is_empty() {
            return;
        }
        let mut moved = false;
        // Replies can only be waiting for requests sent before this pump.
        let replies_possible = self.on_wire > 0;
        let res = self.send(&mut moved).and_then(|()| match replies_possible {
            true => self.receive(ready, &mut moved),
            false => Ok(()),
        });
        if let Err((kind, why)) = res {
            self.fail(kind, why, ready);
            return;
        }
        if moved {
            self.last_progress = Instant::now();
        } else if let Some(deadline) = self.deadline(timeout) {
            if Instant::now() >= deadline {
                let secs = timeout.unwrap_or_default().as_secs_f64();
                self.fail(
                    ErrorKind::TimedOut,
                    format!("no reply from the server in {secs:.1} s"),
                    ready,
                );
            }
        }
    }

    /// Fails every operation in flight with `kind` and closes the socket.
    pub(super) fn fail(&mut self, kind: ErrorKind, why: String, ready: &mut Ready) {
        let err = CompletionError::IOError(kind);
        self.failed = Some((err, why));
        self.ops.drain(|op| ready.push((op.c, Err(err))));
        self.reqs.drain(drop);
        self.queue.clear();
        self.staged = 0;
        self.on_wire = 0;
        self.out.clear();
        self.out_pos = 0;
        self.in_start = 0;
        self.in_end = 0;
        self.recv = Recv::Header;
        self.stream.shutdown();
    }

    /// Best effort, without blocking: tells the server the client is done
    /// (`NBD_CMD_DISC`). Only when nothing is in flight.
    pub(super) fn disconnect(&mut self) {
        if self.failed.is_some() || !self.reqs.is_empty() || self.wants_write() {
            return;
        }
        self.out.clear();
        self.out_pos = 0;
        proto::request(&mut self.out, proto::CMD_DISC, 0, 0, 0);
        let _ = (&self.stream).write(&self.out);
        self.out.clear();
        self.stream.shutdown();
        self.failed = Some((NOT_CONNECTED, "closed".into()));
    }

    fn send(&mut self, moved: &mut bool) -> Result<(), (ErrorKind, String)> {
        loop {
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                self.stage();
                if self.out.is_empty() {
                    return Ok(());
                }
            }
            match (&self.stream).write(&self.out[self.out_pos..]) {
                Ok(0) => return Err((ErrorKind::WriteZero, "the socket took no bytes".into())),
                Ok(n) => {
                    self.out_pos += n;
                    *moved = true;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err((err.kind(), format!("sending to the server: {err}"))),
            }
        }
    }

    /// Moves queued requests into the output buffer, up to its size.
    fn stage(&mut self) {
        while self.out.len() < OUT_CAP {
            let Some(&key) = self.queue.front() else {
                return;
            };
            let Some(req) = self.reqs.get(key) else {
                // Not possible: a queued request stays in the table until
                // it is answered or the connection fails.
                self.queue.pop_front();
                self.staged = 0;
                continue;
            };
            if self.staged == 0 {
                proto::request(&mut self.out, req.cmd, key, req.offset, req.len);
                self.staged = REQUEST_LEN;
            }
            let payload = if req.cmd == proto::CMD_WRITE {
                req.len as usize
            } else {
                0
            };
            let done = self.staged - REQUEST_LEN;
            if done < payload {
                let n = (payload - done).min(OUT_CAP.saturating_sub(self.out.len()));
                if n == 0 {
                    return;
                }
                if let Some(buf) = self.ops.get(req.op).and_then(|op| op.buf.as_ref()) {
                    let start = req.buf_off + done;
                    self.out.extend_from_slice(&buf.lock()[start..start + n]);
                }
                self.staged += n;
            }
            if self.staged == REQUEST_LEN + payload {
                self.queue.pop_front();
                self.staged = 0;
                self.on_wire += 1;
            }
        }
    }

    fn receive(&mut self, ready: &mut Ready, moved: &mut bool) -> Result<(), (ErrorKind, String)> {
        loop {
            self.parse(ready)?;
            if self.reqs.is_empty() && self.in_start == self.in_end {
                return Ok(());
            }
            if self.in_start == self.in_end {
                self.in_start = 0;
                self.in_end = 0;
            } else if self.in_start > 0 && self.inb.len() - self.in_end < REPLY_LEN {
                self.inb.copy_within(self.in_start..self.in_end, 0);
                self.in_end -= self.in_start;
                self.in_start = 0;
            }
            let res = match self.direct_target() {
                Some((req, start, n)) => self.read_direct(req, start, n),
                None => (&self.stream)
                    .read(&mut self.inb[self.in_end..])
                    .inspect(|&n| {
                        self.in_end += n;
                    }),
            };
            match res {
                Ok(0) => {
                    return Err((
                        ErrorKind::ConnectionReset,
                        "the server closed the connection".into(),
                    ))
                }
                Ok(_) => *moved = true,
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err((err.kind(), format!("receiving from the server: {err}"))),
            }
        }
    }

    /// Where to receive straight into a read's buffer: the request, the
    /// offset in its buffer and the bytes still to come, when the input
    /// buffer is empty and at least [`DIRECT_MIN`] bytes of data remain.
    fn direct_target(&self) -> Option<(Key, usize, usize)> {
        let Recv::Payload { req, done } = self.recv else {
            return None;
        };
        let r = self.reqs.get(req)?;
        let left = r.len as usize - done;
        (self.in_start == self.in_end && left >= DIRECT_MIN).then_some((
            req,
            r.buf_off + done,
            left,
        ))
    }

    fn read_direct(&mut self, req: Key, start: usize, n: usize) -> io::Result<usize> {
        let op = self.reqs.get(req).map(|r| r.op);
        let Some(buf) = op
            .and_then(|op| self.ops.get(op))
            .and_then(|op| op.buf.clone())
        else {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "BUG: a read without its buffer",
            ));
        };
        let got = (&self.stream).read(&mut buf.lock()[start..start + n])?;
        if let Recv::Payload { done, .. } = &mut self.recv {
            *done += got;
        }
        Ok(got)
    }

    /// Handles every complete reply (and every piece of read data) in the
    /// input buffer.
    fn parse(&mut self, ready: &mut Ready) -> Result<(), (ErrorKind, String)> {
        loop {
            match self.recv {
                Recv::Header => {
                    if self.in_end - self.in_start < REPLY_LEN {
                        return Ok(());
                    }
                    let mut header = [0; REPLY_LEN];
                    header.copy_from_slice(&self.inb[self.in_start..self.in_start + REPLY_LEN]);
                    self.in_start += REPLY_LEN;
                    let reply =
                        proto::reply(&header).map_err(|why| (ErrorKind::InvalidData, why))?;
                    let Some(req) = self.reqs.get(reply.handle) else {
                        return Err((
                            ErrorKind::InvalidData,
                            format!(
                                "reply for handle {:#x}, which is not in flight",
                                reply.handle
                            ),
                        ));
                    };
                    if reply.error == 0 && req.cmd == proto::CMD_READ && req.len > 0 {
                        self.recv = Recv::Payload {
                            req: reply.handle,
                            done: 0,
                        };
                    } else {
                        self.finish(reply.handle, reply.error, ready);
                    }
                }
                Recv::Payload { req, done } => {
                    let Some(r) = self.reqs.get(req) else {
                        return Err((
                            ErrorKind::InvalidData,
                            "BUG: data for a finished read".into(),
                        ));
                    };
                    let (len, buf_off, op) = (r.len as usize, r.buf_off, r.op);
                    let n = (len - done).min(self.in_end - self.in_start);
                    if n > 0 {
                        if let Some(buf) = self.ops.get(op).and_then(|op| op.buf.as_ref()) {
                            let dst = buf_off + done;
                            buf.lock()[dst..dst + n]
                                .copy_from_slice(&self.inb[self.in_start..self.in_start + n]);
                        }
                        self.in_start += n;
                    }
                    if done + n == len {
                        self.recv = Recv::Header;
                        self.finish(req, 0, ready);
                    } else {
                        self.recv = Recv::Payload {
                            req,
                            done: done + n,
                        };
                        return Ok(());
                    }
                }
            }
        }
    }

    /// One request was answered; its operation finishes with its last part.
    fn finish(&mut self, key: Key, error: u32, ready: &mut Ready) {
        let Some(req) = self.reqs.remove(key) else {
            return;
        };
        self.on_wire = self.on_wire.saturating_sub(1);
        let Some(op) = self.ops.get_mut(req.op) else {
            return;
        };
        if error != 0 && op.err.is_none() {
            op.err = Some(proto::error_of(error));
        }
        op.parts -= 1;
        if op.parts == 0 {
            if let Some(op) = self.ops.remove(req.op) {
                let res = match op.err {
                    Some(err) => Err(err),
                    None => op.outcome,
                };
                ready.push((op.c, res));
            }
        }
    }
}
