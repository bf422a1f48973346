//! The lint over this repository: the hand-written machines and the
//! expansions of `#[resumable]` are correct, so the only findings are the
//! deliberately wrong `free_chain_naive` of `tests/tests/turso_shapes.rs`
//! and the buggy versions of the migration pairs (`examples/src/migration`).

use std::path::PathBuf;

use io_model_lint::{lint_paths, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the lint crate sits in the workspace")
        .to_path_buf()
}

fn lint(rel: &[&str], tests: bool) -> io_model_lint::Outcome {
    let paths: Vec<PathBuf> = rel.iter().map(|r| root().join(r)).collect();
    for p in &paths {
        assert!(p.exists(), "{} is part of the repository", p.display());
    }
    let out = lint_paths(
        &paths,
        Options {
            tests,
            ..Options::default()
        },
    );
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    out
}

#[test]
fn hand_written_machines_are_not_flagged() {
    // Test code too: io-model's unit tests hold hand-written machines.
    let out = lint(
        &[
            "io-model/src",
            "backends/src",
            "tests/benches",
            "tests/src",
            "examples/src/lib.rs",
        ],
        true,
    );
    assert!(out.functions > 0);
    let found: Vec<String> = out.findings.iter().map(|f| f.message.clone()).collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_migration_pairs_are_flagged_only_at_their_deliberate_bugs() {
    let out = lint(&["examples/src"], false);
    let mut found: Vec<(String, String)> = Vec::new();
    for f in &out.findings {
        // Every finding is a buggy version, at the line marked as its bug.
        assert!(
            f.function.starts_with("Buggy") && f.source_line.contains("// BUG"),
            "not a deliberate bug: {f:#?}"
        );
        let module = f.path.rsplit('/').next().unwrap_or_default();
        found.push((module.to_string(), f.kind.name().to_string()));
    }
    found.sort();
    let side_effect = |m: &str| (m.to_string(), "side-effect".to_string());
    // The other buggy versions (a flag, a cached page used while loading,
    // locals that restart a search, a group built without recording it, a
    // group built twice) are past what a static lint sees; the
    // differential harness catches them (examples/tests/migration.rs).
    assert_eq!(
        found,
        [
            side_effect("advance_index.rs"),
            side_effect("bump_counter.rs"),
            side_effect("free_overflow.rs"),
            side_effect("insert_cached.rs"),
            side_effect("push_dirty.rs"),
        ],
        "{:#?}",
        out.findings
    );
}

#[test]
fn the_page_store_is_not_flagged() {
    let out = lint(&["examples/src/pagestore", "examples/examples"], true);
    assert!(out.files > 0);
    let found: Vec<String> = out
        .findings
        .iter()
        .map(|f| format!("{}:{}: {}", f.path, f.loc.line, f.message))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_integration_tests_have_one_deliberate_bug() {
    // `#[test]` functions drop results on purpose (a panic is what they check).
    let out = lint(&["tests/tests"], false);
    let found: Vec<(String, String)> = out
        .findings
        .iter()
        .map(|f| (f.function.clone(), f.kind.name().to_string()))
        .collect();
    assert_eq!(
        found,
        [("free_chain_naive".to_string(), "side-effect".to_string())],
        "{:#?}",
        out.findings
    );
}

#[test]
fn the_expansions_of_resumable_are_not_flagged() {
    let dir = root().join("io-model-macros/transform/tests/expand");
    let expanded: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the expansion snapshots exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".expanded.rs"))
        .collect();
    assert!(!expanded.is_empty());
    let out = lint_paths(&expanded, Options::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(
        out.functions >= expanded.len(),
        "each expansion has a function to analyse"
    );
    let found: Vec<String> = out
        .findings
        .iter()
        .map(|f| format!("{}:{}: {}", f.path, f.loc.line, f.message))
        .collect();
    assert!(found.is_empty(), "{found:#?}");
}
