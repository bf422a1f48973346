//! `default_io()`'s choice: forced by `IO_MODEL_BACKEND`, and made for it
//! by a kernel that refuses io_uring (a seccomp filter). Each scenario runs
//! in a child process (this test binary run again with only `child`
//! selected), so that environment variables and filters never reach other
//! tests.

mod common;

use std::process::Command;

use common::{read, write, TempDir};
use io_model::{Error, OpenFlags};
use io_model_backends::{default_io, BackendKind, UringIO};

const SCENARIO: &str = "IO_MODEL_BACKENDS_TEST_SCENARIO";

/// Runs `scenario` in a child process with `env` set, and checks it
/// passed.
fn run_child(scenario: &str, env: &[(&str, &str)]) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, scenario)
        .env_remove("IO_MODEL_BACKEND")
        .envs(env.iter().copied())
        .output()
        .expect("running the test binary again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("scenario {scenario} passed")),
        "child scenario {scenario} failed:\n{stdout}\n{stderr}"
    );
    format!("{stdout}{stderr}")
}

/// Writes and reads back through the chosen backend.
fn round_trip(io: &dyn io_model::IO) {
    let dir = TempDir::new("default-io");
    let f = io.open_file(&dir.file("f"), OpenFlags::CREATE).unwrap();
    write(io, &*f, 0, b"chosen").unwrap();
    assert_eq!(read(io, &*f, 0, 6).unwrap(), b"chosen");
}

/// Makes the calling thread's `syscall` fail with `EPERM`, as a container
/// runtime's seccomp profile does for the io_uring calls.
fn refuse_syscall(syscall: libc::c_long) {
    let insn = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let filter = [
        // Load the system call number.
        insn(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        // The refused call: skip to the EPERM return; else to ALLOW.
        insn(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            0,
            1,
            syscall as u32,
        ),
        insn(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        insn(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: plain prctl calls; the kernel copies the filter program
    // (which `prog` points at and which outlives the call) during the call.
    unsafe {
        assert_eq!(
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
            0,
            "PR_SET_NO_NEW_PRIVS"
        );
        assert_eq!(
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog
            ),
            0,
            "installing the seccomp filter: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// The child side: does nothing in a normal test run.
#[test]
fn child() {
    let Ok(scenario) = std::env::var(SCENARIO) else {
        return;
    };
    match scenario.as_str() {
        "forced-sync" => {
            let chosen = default_io().unwrap();
            assert_eq!(chosen.kind, BackendKind::Sync);
            assert_eq!(chosen.to_string(), "sync (forced by IO_MODEL_BACKEND=sync)");
            round_trip(&*chosen.io);
        }
        "forced-uring" => match default_io() {
            Ok(chosen) => {
                assert_eq!(chosen.kind, BackendKind::Uring);
                println!("chose {chosen}");
                round_trip(&*chosen.io);
            }
            Err(err) => println!("io_uring refused here: {err}"),
        },
        "bogus" => {
            let err = default_io().unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        }
        "automatic" => {
            let chosen = default_io().unwrap();
            println!("chose {chosen}");
            round_trip(&*chosen.io);
        }
        "seccomp-setup" | "seccomp-enter" => {
            let call = if scenario == "seccomp-setup" {
                libc::SYS_io_uring_setup
            } else {
                libc::SYS_io_uring_enter
            };
            refuse_syscall(call);
            let err = UringIO::new().unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Unsupported(_)), "{msg}");
            let call = if scenario == "seccomp-setup" {
                "io_uring_setup"
            } else {
                "io_uring_enter"
            };
            assert!(
                msg.starts_with(&format!(
                    "unsupported: io_uring refused: {call} failed: Operation not permitted"
                )),
                "the message names the call that failed: {msg}"
            );
            assert!(
                msg.contains("seccomp"),
                "the message names the likely cause: {msg}"
            );
            println!("UringIO::new(): {msg}");
            // The automatic choice falls back to SyncIO and says why.
            let chosen = default_io().unwrap();
            assert_eq!(chosen.kind, BackendKind::Sync);
            assert!(chosen.reason.starts_with("io_uring refused: "), "{chosen}");
            println!("default_io(): {chosen}");
            round_trip(&*chosen.io);
            // Forcing io_uring reports the refusal instead.
            std::env::set_var("IO_MODEL_BACKEND", "uring");
            let err = default_io().unwrap_err();
            assert!(err.to_string().contains("io_uring refused"), "{err}");
        }
        other => panic!("unknown scenario {other}"),
    }
    println!("scenario {scenario} passed");
}

#[test]
fn io_model_backend_sync_forces_sync_io() {
    run_child("forced-sync", &[("IO_MODEL_BACKEND", "sync")]);
}

#[test]
fn io_model_backend_uring_forces_uring_io_or_its_refusal() {
    let out = run_child("forced-uring", &[("IO_MODEL_BACKEND", "uring")]);
    assert!(
        out.contains("chose io_uring (forced by IO_MODEL_BACKEND; io_uring: ")
            || out.contains("io_uring refused"),
        "{out}"
    );
}

#[test]
fn an_unknown_io_model_backend_is_an_error() {
    run_child("bogus", &[("IO_MODEL_BACKEND", "sqpoll")]);
}

#[test]
fn the_automatic_choice_works_here() {
    let out = run_child("automatic", &[]);
    eprintln!(
        "{}",
        out.lines().find(|l| l.starts_with("chose")).unwrap_or("")
    );
}

#[test]
fn a_seccomp_filter_refusing_io_uring_setup_falls_back_to_sync_io() {
    let out = run_child("seccomp-setup", &[]);
    eprintln!(
        "{}",
        out.lines()
            .filter(|l| l.contains("refused"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_seccomp_filter_refusing_only_io_uring_enter_is_caught_by_the_probe() {
    run_child("seccomp-enter", &[]);
}
