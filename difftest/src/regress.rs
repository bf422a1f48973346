//! Saved regressions: shrunk diverging programs in `difftest/regressions/`,
//! each a module file holding both forms and a `main`, and
//! `known-failures.txt`, the ones that still fail, each with a reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ast::Program;
use crate::emit::{module, workspace_root, Module};
use crate::run::{RunError, Runner, Status, Timing};

/// The regressions directory.
pub fn dir() -> PathBuf {
    workspace_root().join("difftest").join("regressions")
}

/// Saves `p` as regression `name`; returns its path.
pub fn save(p: &Program, name: &str, note: &str) -> std::io::Result<PathBuf> {
    let d = dir();
    std::fs::create_dir_all(&d)?;
    let m = module(p, name, note);
    let path = d.join(format!("{name}.rs"));
    std::fs::write(&path, m.text)?;
    Ok(path)
}

/// The saved regressions, by name.
pub fn load(d: &Path) -> std::io::Result<Vec<Module>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(d)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path)?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let oracle_line = text
            .lines()
            .position(|l| l.starts_with("pub mod oracle"))
            .map(|i| i + 1)
            .unwrap_or(usize::MAX);
        let index = text
            .lines()
            .find_map(|l| l.strip_prefix("pub const INDEX: usize = "))
            .and_then(|s| s.trim_end_matches(';').parse().ok())
            .unwrap_or(0);
        out.push(Module {
            name,
            index,
            text,
            oracle_line,
        });
    }
    Ok(out)
}

/// `known-failures.txt`: name -> reason (`name: reason` lines, `#`
/// comments).
pub fn known_failures(d: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let path = d.join("known-failures.txt");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(':') {
            Some((n, r)) => (n.trim().to_string(), r.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect())
}

/// A regression's name and its first divergence (kind and detail), `None`
/// when it passes.
pub type Outcome = (String, Option<(String, String)>);

/// Builds and runs every regression in `d`.
pub fn run_all(d: &Path, work: &Path, seeds: u64) -> Result<Vec<Outcome>, RunError> {
    let modules = load(d)?;
    let mut runner = Runner::new(work, seeds);
    runner.optimize_macros = false;
    let mut timing = Timing::default();
    let statuses = runner.run(&modules, &mut timing)?;
    Ok(modules
        .iter()
        .zip(statuses)
        .map(|(m, st): (&Module, Status)| {
            (
                m.name.clone(),
                st.divergence().map(|(k, mode, d)| {
                    (
                        k,
                        if mode.is_empty() {
                            d
                        } else {
                            format!("{mode} {d}")
                        },
                    )
                }),
            )
        })
        .collect())
}
