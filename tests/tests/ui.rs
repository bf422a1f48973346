//! trybuild cases: `ui/pass` must compile (under `#![deny(warnings)]`) and
//! run; `ui/fail/<topic>` must fail with the recorded `.stderr`.
//! Refresh the snapshots with `TRYBUILD=overwrite cargo test -p io-model-tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*/*.rs");
}
