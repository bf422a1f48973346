//! `io-model-lint PATH...`: reports re-entrancy bugs in hand-written
//! `Result<IOResult<T>>` state machines. Exit status: 0 when clean, 1 when
//! it reports something, 2 on a usage error or a file it cannot read or
//! parse.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use io_model_lint::{lint_paths, render_finding, render_json, Options};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Compiler-style warnings with source snippets.
    Text,
    /// One JSON document: counts, findings, errors.
    Json,
}

/// Finds side effects that run again when a function returning
/// `Result<IOResult<T>>` is re-entered after a yield.
#[derive(Parser, Debug)]
#[command(name = "io-model-lint", version)]
struct Cli {
    /// Files or directories (searched for `.rs` files; `target` and hidden
    /// directories are skipped).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also report plain assignments before a yield (`self.flag = true`),
    /// which are usually harmless when they run twice.
    #[arg(long)]
    assignments: bool,
    /// Also lint test code (`#[test]` functions and `#[cfg(test)]`
    /// modules), skipped by default: it counts calls and drops results on
    /// purpose.
    #[arg(long)]
    tests: bool,
    /// Do not print the summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = Options {
        assignments: cli.assignments,
        tests: cli.tests,
    };
    let outcome = lint_paths(&cli.paths, options);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match cli.format {
        Format::Json => writeln!(out, "{}", render_json(&outcome)),
        Format::Text => outcome
            .findings
            .iter()
            .try_for_each(|f| writeln!(out, "{}", render_finding(f))),
    };
    if written.is_err() {
        // stdout closed (a pipe into `head`): nothing more to say.
        return ExitCode::from(2);
    }
    if matches!(cli.format, Format::Text) {
        for e in &outcome.errors {
            eprintln!("error: {e}");
        }
    }
    if !cli.quiet {
        eprintln!(
            "io-model-lint: {} warning{} in {} file{} ({} function{} analysed, {} accepted by allow comments{})",
            outcome.findings.len(),
            if outcome.findings.len() == 1 { "" } else { "s" },
            outcome.files,
            if outcome.files == 1 { "" } else { "s" },
            outcome.functions,
            if outcome.functions == 1 { "" } else { "s" },
            outcome.allowed,
            if outcome.errors.is_empty() {
                String::new()
            } else {
                format!(", {} error{}", outcome.errors.len(), if outcome.errors.len() == 1 { "" } else { "s" })
            }
        );
    }
    if !outcome.errors.is_empty() {
        ExitCode::from(2)
    } else if !outcome.findings.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
