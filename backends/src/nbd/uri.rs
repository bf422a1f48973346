//! NBD URIs (the subset of the NBD URI specification a plain client
//! needs): `nbd://host[:port][/export]` and
//! `nbd+unix:///[export]?socket=PATH`.

use std::fmt;
use std::path::PathBuf;

use io_model::{Error, Result};

/// The port an `nbd://` URI without one means (IANA's for NBD).
pub const DEFAULT_PORT: u16 = 10809;

/// Where an NBD server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP host (name or address, IPv6 without brackets) and port.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A parsed NBD URI: the server's address and the export it names (empty
/// where the URI names none: the server's default export).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NbdUri {
    /// Where the server listens.
    pub address: Address,
    /// The export named by the URI's path, percent-decoded, without the
    /// leading `/`.
    pub export: String,
}

impl NbdUri {
    /// Parses `nbd://host[:port][/export]` or
    /// `nbd+unix:///[export]?socket=PATH`. TLS schemes (`nbds://`,
    /// `nbds+unix://`) are [`Error::Unsupported`]; anything else is an
    /// [`Error::InvalidArgument`] naming what is wrong.
    ///
    /// ```
    /// use io_model_backends::{NbdAddress, NbdUri};
    ///
    /// let uri = NbdUri::parse("nbd+unix:///disk?socket=/tmp/nbd.sock")?;
    /// assert_eq!(uri.address, NbdAddress::Unix("/tmp/nbd.sock".into()));
    /// assert_eq!(uri.export, "disk");
    ///
    /// let uri = NbdUri::parse("nbd://[::1]:10810")?;
    /// assert_eq!(uri.address, NbdAddress::Tcp { host: "::1".into(), port: 10810 });
    /// assert_eq!(uri.export, "");
    /// # Ok::<(), io_model::Error>(())
    /// ```
    pub fn parse(uri: &str) -> Result<Self> {
        let bad = |why: &str| Error::InvalidArgument(format!("NBD URI {uri:?}: {why}"));
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
            bad("expected nbd://host[:port][/export] or nbd+unix:///[export]?socket=PATH")
        })?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let export = decode(path).map_err(|why| bad(&why))?;
        match scheme.to_ascii_lowercase().as_str() {
            "nbd" => {
                if query.is_some_and(|q| !q.is_empty()) {
                    return Err(bad("nbd:// takes no query parameters"));
                }
                let (host, port) = split_host_port(authority).map_err(|why| bad(&why))?;
                Ok(Self {
                    address: Address::Tcp { host, port },
                    export,
                })
            }
            "nbd+unix" => {
                if !authority.is_empty() {
                    return Err(bad(
                        "nbd+unix:// takes no host: write nbd+unix:///export?socket=PATH",
                    ));
                }
                let mut socket = None;
                for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
                    match pair.split_once('=') {
                        Some(("socket", value)) => {
                            socket = Some(decode(value).map_err(|why| bad(&why))?);
                        }
                        _ => return Err(bad(&format!("unknown query parameter {pair:?}"))),
                    }
                }
                match socket {
                    Some(path) if !path.is_empty() => Ok(Self {
                        address: Address::Unix(PathBuf::from(path)),
                        export,
                    }),
                    _ => Err(bad("nbd+unix:// needs ?socket=PATH")),
                }
            }
            "nbds" | "nbds+unix" => Err(Error::Unsupported(format!(
                "NBD URI {uri:?}: TLS (nbds://) is not supported by NbdIO"
            ))),
            other => Err(bad(&format!(
                "unknown scheme {other:?}: expected nbd or nbd+unix"
            ))),
        }
    }
}

impl fmt::Display for NbdUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.address {
            Address::Tcp { .. } => write!(f, "nbd://{}/{}", self.address, self.export),
            Address::Unix(path) => {
                write!(f, "nbd+unix:///{}?socket={}", self.export, path.display())
            }
        }
    }
}

fn split_host_port(authority: &str) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 host opened with [ is not closed")?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected {after:?} after the host")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err("nbd:// needs a host".into());
    }
    let port = match port {
        None | Some("") => DEFAULT_PORT,
        Some(p) => p
            .parse()
            .map_err(|_| format!("port {p:?} is not a number in 0..=65535"))?,
    };
    Ok((decode(host)?, port))
}

/// Percent-decodes a URI component.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape at byte {i} of {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} decodes to bytes that are not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Address {
        Address::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn tcp_uris() {
        let u = NbdUri::parse("nbd://localhost").unwrap();
        assert_eq!(
            (u.address, u.export),
            (tcp("localhost", 10809), String::new())
        );
        let u = NbdUri::parse("nbd://127.0.0.1:10900/my%20disk").unwrap();
        assert_eq!(
            (u.address, u.export),
            (tcp("127.0.0.1", 10900), "my disk".into())
        );
        let u = NbdUri::parse("NBD://[::1]/x/y").unwrap();
        assert_eq!((u.address, u.export), (tcp("::1", 10809), "x/y".into()));
        assert_eq!(
            NbdUri::parse("nbd://h:1/e").unwrap().to_string(),
            "nbd://h:1/e"
        );
    }

    #[test]
    fn unix_uris() {
        let u = NbdUri::parse("nbd+unix:///?socket=/tmp/a%20b.sock").unwrap();
        assert_eq!(u.address, Address::Unix("/tmp/a b.sock".into()));
        assert_eq!(u.export, "");
        let u = NbdUri::parse("nbd+unix:///wal?socket=s").unwrap();
        assert_eq!(u.export, "wal");
        assert_eq!(u.to_string(), "nbd+unix:///wal?socket=s");
    }

    #[test]
    fn bad_uris_say_why() {
        for (uri, why) in [
            ("localhost:10809", "expected nbd://"),
            ("nbd://", "needs a host"),
            ("nbd://h:99999", "port \"99999\""),
            ("nbd://[::1", "not closed"),
            ("nbd+unix:///x", "needs ?socket=PATH"),
            ("nbd+unix://host/?socket=s", "takes no host"),
            (
                "nbd+unix:///?socket=s&tls=on",
                "unknown query parameter \"tls=on\"",
            ),
            ("nbd://h/%zz", "bad percent escape"),
            ("http://h/", "unknown scheme \"http\""),
        ] {
            let err = NbdUri::parse(uri).unwrap_err().to_string();
            assert!(err.contains(why), "{uri}: {err}");
            assert!(err.starts_with("invalid argument: NBD URI"), "{err}");
        }
        assert!(matches!(
            NbdUri::parse("nbds://h/"),
            Err(Error::Unsupported(_))
        ));
    }
}
