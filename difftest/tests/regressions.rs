//! Every saved regression (`difftest/regressions/*.rs`) is built and run
//! under every driver. One listed in `known-failures.txt` must still fail
//! (the list stays true: when the transform is fixed, remove its line);
//! every other one must pass.

use io_model_programs::emit::workspace_root;
use io_model_programs::regress;

#[test]
fn saved_regressions_match_known_failures() {
    let d = regress::dir();
    let known = regress::known_failures(&d).expect("known-failures.txt is readable");
    let work = workspace_root()
        .join("target")
        .join("difftest")
        .join("test");
    let results = regress::run_all(&d, &work, 3).expect("the regressions build and run");
    let mut problems = Vec::new();
    for (name, div) in &results {
        match (div, known.get(name)) {
            (None, Some(reason)) => problems.push(format!(
                "{name} passes now but known-failures.txt lists it ({reason}): remove its line"
            )),
            (Some((kind, detail)), None) => problems.push(format!(
                "{name} fails [{kind}]: {}",
                detail.lines().next().unwrap_or("")
            )),
            _ => {}
        }
    }
    for name in known.keys() {
        if !results.iter().any(|(n, _)| n == name) {
            problems.push(format!(
                "known-failures.txt lists {name}, which is not a regression"
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
