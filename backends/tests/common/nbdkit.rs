//! Starts a real `nbdkit` for a test: the `file` plugin serving a directory
//! (`dir=`, each file an export), on a Unix socket in a temporary
//! directory (or on loopback TCP), optionally behind filters. Tests skip,
//! with a message, where nbdkit is not installed or cannot start; with
//! `IO_MODEL_REQUIRE_NBDKIT` set (as `.ci/run` does after installing it)
//! they fail instead.
//!
//! Self-contained (std only), so that other crates' tests include it with
//! `#[path = ".../backends/tests/common/nbdkit.rs"] mod nbdkit;`.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A directory for the socket (paths of Unix sockets are short), removed
/// on drop.
struct SockDir(PathBuf);

impl SockDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "nbdkit-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("creating the socket's directory");
        Self(path)
    }
}

impl Drop for SockDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const REQUIRE_ENV: &str = "IO_MODEL_REQUIRE_NBDKIT";

/// A running nbdkit, killed on drop.
pub struct Nbdkit {
    child: Option<Child>,
    /// The Unix socket, or `None` on TCP.
    tcp: Option<(String, u16)>,
    pub socket: PathBuf,
    pub exports: PathBuf,
    /// Server flags, filters, plugin and its parameters.
    args: Vec<String>,
    _sock_dir: SockDir,
}

/// `None` after printing that `test` is skipped and why, or a panic where
/// nbdkit is required.
fn unavailable<T>(test: &str, why: &str) -> Option<T> {
    if std::env::var_os(REQUIRE_ENV).is_some() {
        panic!("{test}: nbdkit is required ({REQUIRE_ENV} is set) but {why}");
    }
    eprintln!("skipping {test}: {why} (apt-get install nbdkit)");
    None
}

impl Nbdkit {
    /// `nbdkit --exit-with-parent -U SOCKET [--filter=F]... file dir=EXPORTS [PARAM]...`.
    pub fn start(test: &str, exports: &Path, filters: &[&str], params: &[&str]) -> Option<Self> {
        Self::start_with_flags(test, &[], exports, filters, params)
    }

    /// `start` with server `flags` (such as `-r`) before the filters.
    pub fn start_with_flags(
        test: &str,
        flags: &[&str],
        exports: &Path,
        filters: &[&str],
        params: &[&str],
    ) -> Option<Self> {
        Self::launch(test, None, flags, exports, filters, params)
    }

    /// A server on loopback TCP at `port`.
    pub fn start_tcp(test: &str, port: u16, exports: &Path) -> Option<Self> {
        Self::launch(
            test,
            Some(("127.0.0.1".into(), port)),
            &[],
            exports,
            &[],
            &[],
        )
    }

    fn launch(
        test: &str,
        tcp: Option<(String, u16)>,
        flags: &[&str],
        exports: &Path,
        filters: &[&str],
        params: &[&str],
    ) -> Option<Self> {
        let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        args.extend(filters.iter().map(|f| format!("--filter={f}")));
        args.push("file".into());
        args.push(format!("dir={}", exports.display()));
        args.extend(params.iter().map(|p| p.to_string()));
        let sock_dir = SockDir::new();
        let socket = sock_dir.0.join("sock");
        let mut me = Self {
            child: None,
            tcp,
            socket,
            exports: exports.to_owned(),
            args,
            _sock_dir: sock_dir,
        };
        match me.spawn() {
            Ok(()) => Some(me),
            Err(why) => unavailable(test, &why),
        }
    }

    fn listening(&self) -> bool {
        match &self.tcp {
            // The socket file appears before nbdkit listens on it.
            None => std::os::unix::net::UnixStream::connect(&self.socket).is_ok(),
            Some((host, port)) => std::net::TcpStream::connect((host.as_str(), *port)).is_ok(),
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let _ = std::fs::remove_file(&self.socket);
        let mut cmd = Command::new("nbdkit");
        cmd.arg("--exit-with-parent");
        match &self.tcp {
            None => cmd.arg("-U").arg(&self.socket),
            Some((host, port)) => cmd.arg("-i").arg(host).arg("-p").arg(port.to_string()),
        };
        let mut child = cmd
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("nbdkit cannot be started: {err}"))?;
        let start = Instant::now();
        while !self.listening() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                return Err(format!(
                    "nbdkit {:?} exited ({status}): {}",
                    self.args,
                    err.trim()
                ));
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err("nbdkit was not listening after 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.child = Some(child);
        Ok(())
    }

    /// The URI of the server's default export.
    pub fn uri(&self) -> String {
        match &self.tcp {
            None => format!("nbd+unix:///?socket={}", self.socket.display()),
            Some((host, port)) => format!("nbd://{host}:{port}/"),
        }
    }

    /// The URI of `export`.
    pub fn export_uri(&self, export: &str) -> String {
        match &self.tcp {
            None => format!("nbd+unix:///{export}?socket={}", self.socket.display()),
            Some((host, port)) => format!("nbd://{host}:{port}/{export}"),
        }
    }

    /// Kills the server at once (`SIGKILL`), mid-request if need be.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the same server again at the same address.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn().expect("restarting nbdkit");
    }
}

impl Drop for Nbdkit {
    fn drop(&mut self) {
        self.kill();
    }
}
