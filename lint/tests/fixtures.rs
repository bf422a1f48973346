//! Fixture tests: every line marked `//~ KIND` in `tests/fixtures/*.rs` is
//! reported with that kind, and nothing else is (`//~? KIND`: reported with
//! `--assignments` only).

use std::collections::BTreeSet;
use std::path::Path;

use io_model_lint::{lint_inputs, Input, Options};

fn marks(text: &str, with_assignments: bool) -> BTreeSet<(usize, String)> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("//~") else {
            continue;
        };
        let rest = &line[pos + 3..];
        let (optional, kind) = match rest.strip_prefix('?') {
            Some(k) => (true, k.trim()),
            None => (false, rest.trim()),
        };
        if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            continue;
        }
        if !optional || with_assignments {
            out.insert((i + 1, kind.to_string()));
        }
    }
    out
}

fn check(name: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    for assignments in [false, true] {
        let out = lint_inputs(
            &[Input {
                path: name.to_string(),
                text: text.clone(),
            }],
            Options {
                assignments,
                tests: true,
            },
        );
        assert!(out.errors.is_empty(), "{name}: {:?}", out.errors);
        let got: BTreeSet<(usize, String)> = out
            .findings
            .iter()
            .map(|f| (f.loc.line, f.kind.name().to_string()))
            .collect();
        let want = marks(&text, assignments);
        let missed: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = out
            .findings
            .iter()
            .filter(|f| !want.contains(&(f.loc.line, f.kind.name().to_string())))
            .map(|f| format!("{}:{}: {} ({})", name, f.loc.line, f.message, f.kind))
            .collect();
        assert!(
            missed.is_empty() && extra.is_empty(),
            "{name} (assignments: {assignments}):\n  missed: {missed:?}\n  unexpected:\n    {}",
            extra.join("\n    ")
        );
    }
}

#[test]
fn the_seed_table_is_caught() {
    check("seed_table.rs");
}

#[test]
fn every_kind_is_caught() {
    check("kinds.rs");
}

#[test]
fn correct_machines_are_not_flagged() {
    check("correct.rs");
}

#[test]
fn the_harness_sees_a_missing_mark() {
    let text = "fn f(&mut self) -> Result<IOResult<()>> {\n    self.n += 1;\n    return_if_io!(self.g());\n    Ok(IOResult::Done(()))\n}\n";
    let out = lint_inputs(
        &[Input {
            path: "x.rs".into(),
            text: text.into(),
        }],
        Options::default(),
    );
    assert_eq!(marks(text, false).len(), 0);
    assert_eq!(
        out.findings.len(),
        1,
        "an unmarked finding makes `check` fail"
    );
}
