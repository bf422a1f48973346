//! The binary: output format, exit status, errors.

use std::process::Command;

fn lint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_io-model-lint"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("io-model-lint-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const BAD: &str = "impl S {\n    fn op(&mut self) -> Result<IOResult<()>> {\n        self.n += 1;\n        return_if_io!(self.inner());\n        Ok(IOResult::Done(()))\n    }\n}\n";
const GOOD: &str = "impl S {\n    fn op(&mut self) -> Result<IOResult<()>> {\n        return_if_io!(self.inner());\n        self.n += 1;\n        Ok(IOResult::Done(()))\n    }\n}\n";

#[test]
fn a_finding_is_printed_like_a_compiler_warning_and_exits_1() {
    let d = tmp("bad");
    let f = write(&d, "bad.rs", BAD);
    let (code, out, err) = lint(&[&f]);
    assert_eq!(code, 1, "{out}{err}");
    let first = out.lines().next().unwrap();
    assert_eq!(
        first,
        format!("{f}:3:9: warning[reentrancy]: `self.n += 1` runs again when `S::op` is re-entered after the yield at line 4")
    );
    assert!(out.contains("3 |         self.n += 1;"), "{out}");
    assert!(out.contains("note: the yield, at "), "{out}");
    assert!(out.contains("help: move it after the yield"), "{out}");
    assert!(err.contains("1 warning in 1 file"), "{err}");
}

#[test]
fn clean_code_exits_0() {
    let d = tmp("good");
    write(&d, "good.rs", GOOD);
    let (code, out, _) = lint(&[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.is_empty());
}

#[test]
fn json_output_parses() {
    let d = tmp("json");
    let f = write(&d, "bad.rs", BAD);
    let (code, out, _) = lint(&["--format", "json", &f]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["files"], 1);
    assert_eq!(v["functions"], 1);
    let f0 = &v["findings"][0];
    assert_eq!(f0["line"], 3);
    assert_eq!(f0["column"], 9);
    assert_eq!(f0["kind"], "side-effect");
    assert_eq!(f0["code"], "reentrancy");
    assert_eq!(f0["function"], "S::op");
    assert_eq!(f0["yield"]["line"], 4);
}

#[test]
fn an_allow_comment_accepts_the_line() {
    let d = tmp("allow");
    let text = BAD.replace(
        "        self.n += 1;",
        "        // io-model-lint: allow(reentrancy) counts calls, by design\n        self.n += 1;",
    );
    write(&d, "allowed.rs", &text);
    let (code, out, err) = lint(&[d.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(err.contains("1 accepted by allow comments"), "{err}");
}

#[test]
fn a_file_that_does_not_parse_is_an_error_not_a_panic() {
    let d = tmp("parse");
    let f = write(&d, "broken.rs", "fn f( {\n");
    write(&d, "bad.rs", BAD);
    let (code, out, err) = lint(&[d.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains(&format!("error: {f}:")), "{err}");
    assert!(err.contains("cannot parse"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The other file is still linted.
    assert!(out.contains("warning[reentrancy]"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = lint(&[]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = lint(&["--format", "xml", "x.rs"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = lint(&["/no/such/path.rs"]);
    assert_eq!(code, 2);
    assert!(err.contains("no such file or directory"), "{err}");
}
