//! The page store over NBD, on a real nbdkit: `--backend nbd` and
//! `--backend mirror` run and verify; and the fault runs. Each fault run
//! (nbdkit's `delay` filter reordering replies, its `error` filter
//! injecting EIO, the server killed mid-run, the mirror's replica killed)
//! ends without a hang or a panic, and afterwards the page store on a
//! healthy server passes `--verify-only`, having recovered at least every
//! commit the run reported durable.

mod common;
#[path = "../../backends/tests/common/nbdkit.rs"]
mod nbdkit;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{binary, run, text};
use nbdkit::Nbdkit;

/// A small database: 512 pages, logs of 128 frames, so that checkpoints and
/// log switches happen within seconds.
const SHAPE: [&str; 6] = [
    "--pages",
    "512",
    "--wal-frames",
    "128",
    "--checkpoint-frames",
    "32",
];
/// (1 + 512) pages, 2 * (1 + 128) pages.
const DATA_LEN: u64 = 513 * 4096;
const WAL_LEN: u64 = 258 * 4096;

/// Makes the exports of shard 0 at their size.
fn make_exports(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, len) in [("shard-0.db", DATA_LEN), ("shard-0.wal", WAL_LEN)] {
        std::fs::File::create(dir.join(name))
            .and_then(|f| f.set_len(len))
            .unwrap();
    }
}

struct Run {
    /// The durable LSN of the last progress line.
    durable: Option<u64>,
    output: Output,
}

/// The durable LSN of shard 0 in a progress line of the running workload.
fn durable_in(line: &str) -> Option<u64> {
    if !line.contains(": running ") {
        return None;
    }
    let list = line.split("durable lsn per shard [").nth(1)?;
    list.trim_end_matches(']').parse().ok()
}

/// Runs the page store with `args`, reading its progress lines (one a
/// second); once `fault_after` lines of the running workload reported a
/// durable commit, calls `fault` (once). Waits for the process to end by
/// itself, at most `limit` (past that, it hangs: the test fails).
fn run_with_fault(
    args: &[&str],
    fault_after: usize,
    limit: Duration,
    mut fault: impl FnMut(),
) -> Run {
    let mut child = Command::new(binary())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + limit;
    let (mut lines, mut durable, mut seen) = (Vec::new(), None, 0);
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(lsn) = durable_in(&line).filter(|&l| l > 0) {
                    durable = Some(lsn);
                    seen += 1;
                    if seen == fault_after {
                        fault();
                    }
                }
                lines.push(line);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "the page store did not end within {limit:?}: it hangs\n{}",
                lines.join("\n")
            );
        }
    }
    reader.join().unwrap();
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        use std::io::Read;
        let _ = out.read_to_end(&mut stdout);
    }
    let status = child.wait().unwrap();
    Run {
        durable,
        output: Output {
            status,
            stdout,
            stderr: lines.join("\n").into_bytes(),
        },
    }
}

/// `--verify-only` on `args`' backend: passes, and recovered shard 0
/// through at least `durable`.
fn verify(args: &[&str], durable: Option<u64>) {
    let mut all = vec!["--verify-only"];
    all.extend_from_slice(args);
    let out = run(&all);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "verify: {stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.ends_with("verification passed\n"), "{stdout}");
    let recovered: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("shard 0: recovered through lsn "))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no recovery line: {stdout}"));
    if let Some(durable) = durable {
        assert!(
            recovered >= durable,
            "recovered through {recovered}, but {durable} was reported durable\n{stdout}"
        );
    }
}

fn no_panic(out: &Output) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn nbd_and_mirror_run_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    make_exports(&exports);
    let Some(server) = Nbdkit::start("pagestore_nbd::run", &exports, &[], &[]) else {
        return;
    };
    let uri = server.uri();
    let mut args = vec!["--backend", "nbd", "--nbd", &uri, "--duration", "1"];
    args.extend_from_slice(&SHAPE);
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("nbd "),
        "{}",
        text(&out.stdout)
    );
    // A second run opens the database on the server and goes on.
    let out = run(&["--backend", "nbd", "--nbd", &uri, "--duration", "0.5"]);
    assert!(
        text(&out.stderr).contains("opening 512 pages"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    verify(&["--backend", "nbd", "--nbd", &uri], None);

    // The mirror: a local database, every write and sync copied to the
    // exports; afterwards the copies agree byte for byte.
    let local = dir.path().join("local");
    let local_s = local.to_str().unwrap();
    let mut args = vec![
        "--backend",
        "mirror",
        "--nbd",
        &uri,
        "--path",
        local_s,
        "--duration",
        "1",
    ];
    args.extend_from_slice(&SHAPE);
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("mirror ("),
        "{}",
        text(&out.stdout)
    );
    for name in ["shard-0.db", "shard-0.wal"] {
        let a = std::fs::read(local.join(name)).unwrap();
        let b = std::fs::read(exports.join(name)).unwrap();
        assert!(a.len() <= b.len(), "{name}");
        assert!(
            a[..] == b[..a.len()],
            "{name}: the local copy and the export differ"
        );
        assert!(
            b[a.len()..].iter().all(|&x| x == 0),
            "{name}: the export has more"
        );
    }
    // The replica alone is a sound database too.
    verify(&["--backend", "nbd", "--nbd", &uri], None);
    verify(
        &["--backend", "mirror", "--nbd", &uri, "--path", local_s],
        None,
    );
}

#[test]
fn exports_too_small_or_no_server_are_messages() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    std::fs::write(exports.join("shard-0.db"), [0; 4096]).unwrap();
    std::fs::write(exports.join("shard-0.wal"), [0; 4096]).unwrap();
    let Some(server) = Nbdkit::start("pagestore_nbd::small", &exports, &[], &[]) else {
        return;
    };
    let out = run(&[
        "--backend",
        "nbd",
        "--nbd",
        &server.uri(),
        "--duration",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("fixed size") && err.contains("truncate -s 65M DIR/shard-0.db"),
        "{err}"
    );
    no_panic(&out);
    let missing = dir.path().join("none.sock");
    let uri = format!("nbd+unix:///?socket={}", missing.display());
    let out = run(&["--backend", "nbd", "--nbd", &uri, "--duration", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("none.sock"),
        "{}",
        text(&out.stderr)
    );
    no_panic(&out);
}

/// Replies reordered by the delay filter (reads 2 ms, writes 1 ms, flushes
/// none): the run passes, and so does the verification on a healthy
/// server.
#[test]
fn fault_delay_reorders_replies() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    make_exports(&exports);
    let Some(server) = Nbdkit::start(
        "pagestore_nbd::delay",
        &exports,
        &["delay"],
        &["rdelay=2ms", "wdelay=1ms"],
    ) else {
        return;
    };
    let uri = server.uri();
    let mut args = vec!["--backend", "nbd", "--nbd", &uri, "--duration", "2"];
    args.extend_from_slice(&SHAPE);
    let r = run_with_fault(&args, 0, Duration::from_secs(60), || {});
    assert!(r.output.status.success(), "{}", text(&r.output.stderr));
    drop(server);
    let healthy = Nbdkit::start("pagestore_nbd::delay", &exports, &[], &[]).unwrap();
    verify(&["--backend", "nbd", "--nbd", &healthy.uri()], r.durable);
}

/// EIO at a 2% rate from the error filter, switched on once the workload
/// runs: the run stops with an I/O error (no hang, no panic); on a healthy
/// server the database verifies with every commit reported durable.
#[test]
fn fault_error_injects_eio() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    make_exports(&exports);
    let inject = dir.path().join("inject");
    let inject_arg = format!("error-file={}", inject.display());
    let Some(server) = Nbdkit::start(
        "pagestore_nbd::error",
        &exports,
        &["error"],
        &["error=EIO", "error-rate=2%", &inject_arg],
    ) else {
        return;
    };
    let uri = server.uri();
    let mut args = vec!["--backend", "nbd", "--nbd", &uri, "--duration", "30"];
    args.extend_from_slice(&SHAPE);
    let r = run_with_fault(&args, 1, Duration::from_secs(60), || {
        std::fs::write(&inject, b"").unwrap();
    });
    assert!(!r.output.status.success(), "a run with EIO cannot pass");
    let err = text(&r.output.stderr);
    assert!(err.contains("I/O error"), "{err}");
    no_panic(&r.output);
    drop(server);
    let healthy = Nbdkit::start("pagestore_nbd::error", &exports, &[], &[]).unwrap();
    verify(&["--backend", "nbd", "--nbd", &healthy.uri()], r.durable);
}

/// The server killed mid-run: the page store ends with the connection's
/// error; restarted on the same exports, the database verifies.
#[test]
fn fault_server_killed_mid_run() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    make_exports(&exports);
    let Some(mut server) = Nbdkit::start("pagestore_nbd::kill", &exports, &[], &[]) else {
        return;
    };
    let uri = server.uri();
    let mut args = vec!["--backend", "nbd", "--nbd", &uri, "--duration", "30"];
    args.extend_from_slice(&SHAPE);
    let r = run_with_fault(&args, 1, Duration::from_secs(60), || server.kill());
    assert!(!r.output.status.success());
    no_panic(&r.output);
    server.restart();
    verify(&["--backend", "nbd", "--nbd", &uri], r.durable);
}

/// The mirror's replica killed mid-run: the writes fail, the run ends;
/// with the server back, the mirrored database verifies from the primary.
#[test]
fn fault_mirror_replica_killed() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    make_exports(&exports);
    let Some(mut server) = Nbdkit::start("pagestore_nbd::mirror-kill", &exports, &[], &[]) else {
        return;
    };
    let uri = server.uri();
    let local = dir.path().join("local");
    let local_s = local.to_str().unwrap();
    let mut args = vec![
        "--backend",
        "mirror",
        "--nbd",
        &uri,
        "--path",
        local_s,
        "--duration",
        "30",
    ];
    args.extend_from_slice(&SHAPE);
    let r = run_with_fault(&args, 1, Duration::from_secs(60), || server.kill());
    assert!(!r.output.status.success());
    no_panic(&r.output);
    server.restart();
    verify(
        &["--backend", "mirror", "--nbd", &uri, "--path", local_s],
        r.durable,
    );
}
