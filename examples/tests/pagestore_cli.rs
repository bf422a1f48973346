//! The `pagestore` example binary end to end: a small run, its table and
//! exit status; bad input; and a kill -9 in the middle of a run followed by
//! `--verify-only`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{binary, run, text};

#[test]
fn a_small_run_prints_one_passing_row_per_backend() {
    let out = run(&[
        "--duration",
        "0.5",
        "--pages",
        "256",
        "--concurrency",
        "8",
        "--wal-frames",
        "64",
        "--checkpoint-frames",
        "16",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two rows:\n{stdout}");
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "backend",
            "ops/s",
            "read p50",
            "read p99",
            "commit p50",
            "commit p99",
            "commits/fsync",
            "written",
            "verified"
        ]
    );
    assert!(
        lines[1].starts_with("default (io_uring)") || lines[1].starts_with("default (sync)"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("sync "), "{stdout}");
    for row in &lines[1..] {
        assert!(row.ends_with("passed"), "{row}");
        let ops: f64 = row.split_whitespace().find_map(|w| w.parse().ok()).unwrap();
        assert!(ops > 0.0, "{row}");
    }
    assert!(stderr.contains("verification passed"), "{stderr}");
}

#[test]
fn a_run_on_a_given_path_keeps_the_database_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let p = path.to_str().unwrap();
    let out = run(&[
        "--backend",
        "sync",
        "--path",
        p,
        "--duration",
        "0.3",
        "--pages",
        "100",
        "--threads",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for f in ["shard-0.db", "shard-0.wal", "shard-1.db", "shard-1.wal"] {
        assert!(path.join(f).exists(), "{f}");
    }
    // A second run opens it (keeping its shards and pages) and goes on.
    let out = run(&["--backend", "sync", "--path", p, "--duration", "0.3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("opening 100 pages"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["--verify-only", "--path", p]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("shard 1: 50 pages verified, 0 problems"),
        "{stdout}"
    );
    assert!(stdout.ends_with("verification passed\n"), "{stdout}");
    // Asking for another shape of the same database is an error.
    let out = run(&["--path", p, "--threads", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has 2 shards"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn bad_flags_are_a_message_and_exit_status_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["--read-ratio", "1.5"], "out of range (0 to 1)"),
        (&["--concurrency", "0"], "--concurrency"),
        (&["--duration=-1"], "out of range (more than 0"),
        (&["--duration", "0"], "out of range (more than 0"),
        (&["--duration", "soon"], "is not a number of seconds"),
        (&["--pages", "0"], "--pages"),
        (&["--threads", "1000"], "--threads"),
        (&["--backend", "floppy"], "--backend"),
        (&["--verify-only"], "--path"),
        (
            &["--nbd", "nbd://localhost:10809"],
            "--nbd needs --backend nbd",
        ),
        (&["--backend", "nbd"], "--backend nbd needs --nbd URI"),
        (&["--backend", "mirror"], "--backend mirror needs --nbd URI"),
        (
            &["--backend", "nbd", "--nbd", "http://localhost/"],
            "--nbd: invalid argument: NBD URI",
        ),
        (&["--backend", "sync", "--nbd", "nbd://h"], "--nbd is for"),
        (&["--pages", "2", "--threads", "3"], "fewer than --threads"),
        (
            &["--wal-frames", "64", "--checkpoint-frames", "40"],
            "at most half",
        ),
    ];
    for (args, msg) in cases {
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(msg), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn verifying_what_is_not_a_sound_database_fails_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_str().unwrap();
    // Nothing there.
    let out = run(&["--verify-only", "--path", p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no page store database"),
        "{}",
        text(&out.stderr)
    );
    // Something else.
    std::fs::write(dir.path().join("shard-0.db"), vec![b'x'; 3 * 4096]).unwrap();
    std::fs::write(dir.path().join("shard-0.wal"), b"").unwrap();
    let out = run(&["--verify-only", "--path", p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not a page store database"),
        "{}",
        text(&out.stderr)
    );
    // A damaged header.
    let db = dir.path().join("real");
    let dbp = db.to_str().unwrap();
    let out = run(&[
        "--backend",
        "sync",
        "--path",
        dbp,
        "--duration",
        "0.2",
        "--pages",
        "64",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = db.join("shard-0.db");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[20] ^= 0xff;
    bytes[512 + 20] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let out = run(&["--verify-only", "--path", dbp]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("is corrupt: no valid header slot"), "{all}");
    // A damaged page (the header repaired).
    bytes[20] ^= 0xff;
    bytes[512 + 20] ^= 0xff;
    bytes[4096 * 10 + 2000] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    let out = run(&["--verify-only", "--path", dbp]);
    let all = text(&out.stdout) + &text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("page 9") && all.contains("verification FAILED"),
        "{all}"
    );
    assert!(!all.contains("panicked"), "{all}");
}

#[test]
fn a_kill_9_mid_run_leaves_a_database_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("db");
    let p = p.to_str().unwrap();
    for round in 0..3 {
        let mut child = Command::new(binary())
            .args([
                "--backend",
                "default",
                "--path",
                p,
                "--duration",
                "60",
                "--pages",
                "512",
                "--threads",
                "2",
            ])
            .args(["--wal-frames", "128", "--checkpoint-frames", "32"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        // Progress lines (stderr is not a terminal) report the durable LSN
        // of each shard; wait for some commits, then kill at once.
        let stderr = child.stderr.take().unwrap();
        // The k-th round kills after the k-th line: about k seconds in.
        let mut reported: Vec<u64> = Vec::new();
        let mut seen = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            assert!(Instant::now() < deadline, "no progress from the binary");
            let Some(list) = line.split("durable lsn per shard [").nth(1) else {
                continue;
            };
            let lsns: Vec<u64> = list
                .trim_end_matches(']')
                .split(", ")
                .filter_map(|s| s.parse().ok())
                .collect();
            if line.contains(": running ") && lsns.len() == 2 && lsns.iter().all(|&l| l > 0) {
                reported = lsns;
                seen += 1;
                if seen > round {
                    break;
                }
            }
        }
        assert!(
            !reported.is_empty(),
            "round {round}: the run reported no durable commit"
        );
        child.kill().expect("kill -9");
        child.wait().unwrap();
        let out = run(&["--verify-only", "--path", p]);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "round {round}:\n{stdout}\n{}",
            text(&out.stderr)
        );
        // Every commit reported durable before the kill survived.
        for (shard, &lsn) in reported.iter().enumerate() {
            let line = stdout
                .lines()
                .find(|l| l.starts_with(&format!("shard {shard}: recovered through lsn ")))
                .unwrap_or_else(|| panic!("{stdout}"));
            let got: u64 = line
                .split("lsn ")
                .nth(1)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                got >= lsn,
                "round {round}, shard {shard}: recovered through {got}, reported {lsn}\n{stdout}"
            );
        }
    }
}
