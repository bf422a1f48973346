//! The NBD wire protocol, as much of it as [`NbdIO`](super::NbdIO) speaks:
//! the fixed newstyle handshake (`NBD_OPT_GO`, falling back to
//! `NBD_OPT_EXPORT_NAME` on servers without it), and simple replies in the
//! transmission phase. Structured replies are never asked for, so every
//! reply is a 16-byte header, followed for a successful read by its data.
//!
//! The handshake runs once per connection, blocking (with the socket's
//! timeouts); the transmission phase is driven without blocking by
//! [`conn`](super::conn).

use std::io::{self, ErrorKind, Read, Write};

use io_model::CompletionError;

pub(super) const NBDMAGIC: u64 = 0x4e42_444d_4147_4943;
pub(super) const IHAVEOPT: u64 = 0x4948_4156_454f_5054;
const OLDSTYLE_MAGIC: u64 = 0x0000_4202_8186_1253;
const OPT_REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;

const FLAG_FIXED_NEWSTYLE: u16 = 1;
const FLAG_NO_ZEROES: u16 = 2;
const CLIENT_FIXED_NEWSTYLE: u32 = 1;
const CLIENT_NO_ZEROES: u32 = 2;

const OPT_EXPORT_NAME: u32 = 1;
const OPT_ABORT: u32 = 2;
const OPT_GO: u32 = 7;

const REP_ACK: u32 = 1;
const REP_INFO: u32 = 3;
const REP_FLAG_ERROR: u32 = 1 << 31;
const REP_ERR_UNSUP: u32 = REP_FLAG_ERROR | 1;
const REP_ERR_POLICY: u32 = REP_FLAG_ERROR | 2;
const REP_ERR_TLS_REQD: u32 = REP_FLAG_ERROR | 5;
const REP_ERR_UNKNOWN: u32 = REP_FLAG_ERROR | 6;
const REP_ERR_SHUTDOWN: u32 = REP_FLAG_ERROR | 7;

const INFO_EXPORT: u16 = 0;
const INFO_BLOCK_SIZE: u16 = 3;

pub(super) const REQUEST_MAGIC: u32 = 0x2560_9513;
pub(super) const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
/// The size of a request header; a write's data follows it.
pub(super) const REQUEST_LEN: usize = 28;
/// The size of a simple reply header; a successful read's data follows it.
pub(super) const REPLY_LEN: usize = 16;

pub(super) const CMD_READ: u16 = 0;
pub(super) const CMD_WRITE: u16 = 1;
pub(super) const CMD_DISC: u16 = 2;
pub(super) const CMD_FLUSH: u16 = 3;

const TFLAG_READ_ONLY: u16 = 1 << 1;
const TFLAG_SEND_FLUSH: u16 = 1 << 2;

/// The largest payload a client may send or ask for without the server
/// saying it accepts more (the NBD specification's 32 MiB).
pub(super) const DEFAULT_MAX_PAYLOAD: u32 = 32 << 20;

/// The longest option reply we read (servers send short ones; a longer one
/// means the stream is out of step).
const MAX_OPTION_REPLY: u32 = 64 << 10;

/// What the server said about an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Export {
    /// Its size in bytes, fixed for the connection.
    pub size: u64,
    /// The server refuses writes.
    pub read_only: bool,
    /// The server accepts `NBD_CMD_FLUSH`.
    pub can_flush: bool,
    /// The largest read or write in one request.
    pub max_payload: u32,
}

/// Writes the header of a request.
pub(super) fn request(out: &mut Vec<u8>, cmd: u16, handle: u64, offset: u64, len: u32) {
    out.extend_from_slice(&REQUEST_MAGIC.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&cmd.to_be_bytes());
    out.extend_from_slice(&handle.to_be_bytes());
    out.extend_from_slice(&offset.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
}

/// A simple reply header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reply {
    pub error: u32,
    pub handle: u64,
}

/// Parses a reply header; `Err` names what is wrong with it.
pub(super) fn reply(header: &[u8; REPLY_LEN]) -> Result<Reply, String> {
    let magic = u32::from_be_bytes(header[0..4].try_into().unwrap_or_default());
    if magic != SIMPLE_REPLY_MAGIC {
        return Err(format!(
            "reply with magic {magic:#010x}, not the simple reply's {SIMPLE_REPLY_MAGIC:#010x}"
        ));
    }
    Ok(Reply {
        error: u32::from_be_bytes(header[4..8].try_into().unwrap_or_default()),
        handle: u64::from_be_bytes(header[8..16].try_into().unwrap_or_default()),
    })
}

/// The completion error of an NBD error code (the protocol's numbers are
/// Linux's errno values for the errors it names).
pub(super) fn error_of(code: u32) -> CompletionError {
    let errno = match code {
        1 => libc::EPERM,
        5 => libc::EIO,
        12 => libc::ENOMEM,
        22 => libc::EINVAL,
        28 => libc::ENOSPC,
        75 => libc::EOVERFLOW,
        95 => libc::EOPNOTSUPP,
        108 => libc::ESHUTDOWN,
        _ => libc::EIO,
    };
    crate::sys::errno_error(errno)
}

fn read_u16(s: &mut impl Read) -> io::Result<u16> {
    let mut b = [0; 2];
    s.read_exact(&mut b)?;
    Ok(u16::from_be_bytes(b))
}

fn read_u32(s: &mut impl Read) -> io::Result<u32> {
    let mut b = [0; 4];
    s.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

fn read_u64(s: &mut impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    s.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

fn protocol(what: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, what.into())
}

fn send_option(s: &mut impl Write, option: u32, data: &[u8]) -> io::Result<()> {
    let mut msg = Vec::with_capacity(16 + data.len());
    msg.extend_from_slice(&IHAVEOPT.to_be_bytes());
    msg.extend_from_slice(&option.to_be_bytes());
    msg.extend_from_slice(&(data.len() as u32).to_be_bytes());
    msg.extend_from_slice(data);
    s.write_all(&msg)
}

/// Reads the server's greeting and sends the client flags. Returns whether
/// the server omits the 124 zero bytes after `NBD_OPT_EXPORT_NAME`.
fn greet(s: &mut (impl Read + Write)) -> io::Result<bool> {
    if read_u64(s)? != NBDMAGIC {
        return Err(protocol(
            "the server did not greet with NBDMAGIC: not an NBD server",
        ));
    }
    match read_u64(s)? {
        IHAVEOPT => {}
        OLDSTYLE_MAGIC => {
            return Err(io::Error::new(
                ErrorKind::Unsupported,
                "the server speaks the oldstyle NBD handshake; NbdIO needs fixed newstyle",
            ))
        }
        other => return Err(protocol(format!("unknown handshake magic {other:#x}"))),
    }
    let flags = read_u16(s)?;
    if flags & FLAG_FIXED_NEWSTYLE == 0 {
        return Err(io::Error::new(
            ErrorKind::Unsupported,
            "the server does not offer the fixed newstyle NBD handshake",
        ));
    }
    let no_zeroes = flags & FLAG_NO_ZEROES != 0;
    let mut client = CLIENT_FIXED_NEWSTYLE;
    if no_zeroes {
        client |= CLIENT_NO_ZEROES;
    }
    s.write_all(&client.to_be_bytes())?;
    Ok(no_zeroes)
}

/// Greets the server and ends the handshake with `NBD_OPT_ABORT`: checks
/// that an NBD server listens, without opening an export.
pub(super) fn probe(s: &mut (impl Read + Write)) -> io::Result<()> {
    greet(s)?;
    send_option(s, OPT_ABORT, &[])?;
    // The server may acknowledge or just close; either is fine.
    Ok(())
}

/// Runs the handshake for `export` and enters the transmission phase.
pub(super) fn handshake(s: &mut (impl Read + Write), export: &str) -> io::Result<Export> {
    let no_zeroes = greet(s)?;
    let name = export.as_bytes();
    if name.len() > 4096 {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "export names are at most 4096 bytes",
        ));
    }
    let mut data = Vec::with_capacity(8 + name.len());
    data.extend_from_slice(&(name.len() as u32).to_be_bytes());
    data.extend_from_slice(name);
    data.extend_from_slice(&1u16.to_be_bytes());
    data.extend_from_slice(&INFO_BLOCK_SIZE.to_be_bytes());
    send_option(s, OPT_GO, &data)?;

    let mut size_flags: Option<(u64, u16)> = None;
    let mut max_payload = DEFAULT_MAX_PAYLOAD;
    loop {
        if read_u64(s)? != OPT_REPLY_MAGIC {
            return Err(protocol("option reply without its magic"));
        }
        let option = read_u32(s)?;
        let kind = read_u32(s)?;
        let len = read_u32(s)?;
        if option != OPT_GO {
            return Err(protocol(format!(
                "reply to option {option}, while NBD_OPT_GO was asked"
            )));
        }
        if len > MAX_OPTION_REPLY {
            return Err(protocol(format!("option reply of {len} bytes")));
        }
        let mut body = vec![0; len as usize];
        s.read_exact(&mut body)?;
        let message = || String::from_utf8_lossy(&body).into_owned();
        match kind {
            REP_ACK => break,
            REP_INFO if body.len() >= 2 => {
                let info = u16::from_be_bytes([body[0], body[1]]);
                match info {
                    INFO_EXPORT if body.len() >= 12 => {
                        let size = u64::from_be_bytes(body[2..10].try_into().unwrap_or_default());
                        let flags = u16::from_be_bytes([body[10], body[11]]);
                        size_flags = Some((size, flags));
                    }
                    INFO_BLOCK_SIZE if body.len() >= 14 => {
                        let max = u32::from_be_bytes(body[10..14].try_into().unwrap_or_default());
                        if max > 0 {
                            max_payload = max.min(DEFAULT_MAX_PAYLOAD);
                        }
                    }
                    _ => {}
                }
            }
            REP_INFO => return Err(protocol("NBD_REP_INFO shorter than its type")),
            REP_ERR_UNSUP => return export_name(s, export, no_zeroes),
            REP_ERR_UNKNOWN => {
                return Err(io::Error::new(
                    ErrorKind::NotFound,
                    format!("the server has no export {export:?} ({})", message()),
                ))
            }
            REP_ERR_POLICY => {
                return Err(io::Error::new(
                    ErrorKind::PermissionDenied,
                    format!("the server refuses export {export:?} ({})", message()),
                ))
            }
            REP_ERR_TLS_REQD => {
                return Err(io::Error::new(
                    ErrorKind::Unsupported,
                    "the server requires TLS, which NbdIO does not speak",
                ))
            }
            REP_ERR_SHUTDOWN => {
                return Err(io::Error::new(
                    ErrorKind::ConnectionAborted,
                    "the server is shutting down",
                ))
            }
            k if k & REP_FLAG_ERROR != 0 => {
                // nbdkit's file plugin answers a missing file with a plain
                // error and the reason in the message.
                let msg = message();
                let kind = if msg.contains("No such file") || msg.contains("not found") {
                    ErrorKind::NotFound
                } else {
                    ErrorKind::Other
                };
                return Err(io::Error::new(
                    kind,
                    format!(
                        "the server refused export {export:?} (error {}): {msg}",
                        k & !REP_FLAG_ERROR
                    ),
                ));
            }
            _ => {} // Unknown informational replies are ignored.
        }
    }
    let (size, flags) =
        size_flags.ok_or_else(|| protocol("NBD_OPT_GO ended without NBD_INFO_EXPORT"))?;
    Ok(export_of(size, flags, max_payload))
}

/// The handshake's end for servers without `NBD_OPT_GO`.
fn export_name(s: &mut (impl Read + Write), export: &str, no_zeroes: bool) -> io::Result<Export> {
    send_option(s, OPT_EXPORT_NAME, export.as_bytes())?;
    let size = match read_u64(s) {
        Ok(size) => size,
        Err(err) if err.kind() == ErrorKind::UnexpectedEof => {
            return Err(io::Error::new(
                ErrorKind::NotFound,
                format!("the server closed the connection: no export {export:?}"),
            ))
        }
        Err(err) => return Err(err),
    };
    let flags = read_u16(s)?;
    if !no_zeroes {
        let mut zeroes = [0; 124];
        s.read_exact(&mut zeroes)?;
    }
    Ok(export_of(size, flags, DEFAULT_MAX_PAYLOAD))
}

fn export_of(size: u64, flags: u16, max_payload: u32) -> Export {
    Export {
        size,
        read_only: flags & TFLAG_READ_ONLY != 0,
        can_flush: flags & TFLAG_SEND_FLUSH != 0,
        max_payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_header_layout() {
        let mut out = Vec::new();
        request(&mut out, CMD_WRITE, 0x0102_0304_0506_0708, 4096, 512);
        assert_eq!(out.len(), REQUEST_LEN);
        assert_eq!(&out[0..4], &REQUEST_MAGIC.to_be_bytes());
        assert_eq!(&out[6..8], &[0, 1]);
        assert_eq!(&out[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(u64::from_be_bytes(out[16..24].try_into().unwrap()), 4096);
        assert_eq!(u32::from_be_bytes(out[24..28].try_into().unwrap()), 512);
    }

    #[test]
    fn reply_header_parses_and_rejects_other_magic() {
        let mut h = [0u8; REPLY_LEN];
        h[0..4].copy_from_slice(&SIMPLE_REPLY_MAGIC.to_be_bytes());
        h[4..8].copy_from_slice(&5u32.to_be_bytes());
        h[8..16].copy_from_slice(&77u64.to_be_bytes());
        assert_eq!(
            reply(&h),
            Ok(Reply {
                error: 5,
                handle: 77
            })
        );
        h[0] ^= 1;
        assert!(reply(&h).unwrap_err().contains("magic"));
    }

    #[test]
    fn error_codes_map_to_errno_kinds() {
        assert_eq!(error_of(5), crate::sys::errno_error(libc::EIO));
        assert_eq!(error_of(28), crate::sys::errno_error(libc::ENOSPC));
        assert_eq!(
            error_of(1),
            CompletionError::IOError(ErrorKind::PermissionDenied)
        );
        assert_eq!(error_of(9999), crate::sys::errno_error(libc::EIO));
    }

    /// A scripted server: the client's handshake against canned replies.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        sent: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.sent.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn greeting(flags: u16) -> Vec<u8> {
        let mut v = NBDMAGIC.to_be_bytes().to_vec();
        v.extend_from_slice(&IHAVEOPT.to_be_bytes());
        v.extend_from_slice(&flags.to_be_bytes());
        v
    }

    fn opt_reply(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut v = OPT_REPLY_MAGIC.to_be_bytes().to_vec();
        v.extend_from_slice(&OPT_GO.to_be_bytes());
        v.extend_from_slice(&kind.to_be_bytes());
        v.extend_from_slice(&(body.len() as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn run(input: Vec<u8>) -> (io::Result<Export>, Vec<u8>) {
        let mut s = Script {
            input: io::Cursor::new(input),
            sent: Vec::new(),
        };
        let res = handshake(&mut s, "db");
        (res, s.sent)
    }

    #[test]
    fn go_with_export_and_block_size_info() {
        let mut input = greeting(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
        let mut info = INFO_EXPORT.to_be_bytes().to_vec();
        info.extend_from_slice(&(1u64 << 20).to_be_bytes());
        info.extend_from_slice(&(TFLAG_SEND_FLUSH | 1).to_be_bytes());
        input.extend(opt_reply(REP_INFO, &info));
        let mut bs = INFO_BLOCK_SIZE.to_be_bytes().to_vec();
        for v in [1u32, 4096, 65536] {
            bs.extend_from_slice(&v.to_be_bytes());
        }
        input.extend(opt_reply(REP_INFO, &bs));
        input.extend(opt_reply(REP_ACK, &[]));
        let (res, sent) = run(input);
        assert_eq!(
            res.unwrap(),
            Export {
                size: 1 << 20,
                read_only: false,
                can_flush: true,
                max_payload: 65536
            }
        );
        assert_eq!(&sent[0..4], &3u32.to_be_bytes(), "client flags");
        assert_eq!(&sent[4..12], &IHAVEOPT.to_be_bytes());
        assert_eq!(&sent[12..16], &OPT_GO.to_be_bytes());
        assert_eq!(&sent[20..24], &2u32.to_be_bytes(), "export name length");
        assert_eq!(&sent[24..26], b"db");
    }

    #[test]
    fn unknown_export_is_not_found_and_old_servers_are_refused() {
        let mut input = greeting(FLAG_FIXED_NEWSTYLE);
        input.extend(opt_reply(REP_ERR_UNKNOWN, b"no such export"));
        let err = run(input).0.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("no export \"db\""), "{err}");

        let err = run(greeting(0)).0.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);

        let mut old = NBDMAGIC.to_be_bytes().to_vec();
        old.extend_from_slice(&OLDSTYLE_MAGIC.to_be_bytes());
        assert_eq!(run(old).0.unwrap_err().kind(), ErrorKind::Unsupported);

        let err = run(b"HTTP/1.1 400 Bad Request\r\n".to_vec()).0.unwrap_err();
        assert!(err.to_string().contains("not an NBD server"), "{err}");
        // A server that hangs up mid-handshake.
        let mut cut = greeting(FLAG_FIXED_NEWSTYLE);
        cut.extend(&opt_reply(REP_ACK, &[])[..10]);
        assert_eq!(run(cut).0.unwrap_err().kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn servers_without_go_get_export_name() {
        let mut input = greeting(FLAG_FIXED_NEWSTYLE);
        input.extend(opt_reply(REP_ERR_UNSUP, &[]));
        input.extend_from_slice(&8192u64.to_be_bytes());
        input.extend_from_slice(&(TFLAG_READ_ONLY | 1).to_be_bytes());
        input.extend_from_slice(&[0; 124]);
        let export = run(input).0.unwrap();
        assert_eq!(export.size, 8192);
        assert!(export.read_only && !export.can_flush);
    }
}
