//! Rendering findings: compiler-style text, and JSON.

use std::fmt::Write as _;

use crate::finding::Finding;
use crate::Outcome;

fn underline(out: &mut String, gutter: usize, line: &str, column: usize, len: usize, mark: char) {
    let pad: String = line
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let len = len.max(1);
    let _ = writeln!(
        out,
        "{:gutter$} | {pad}{}",
        "",
        std::iter::repeat(mark).take(len).collect::<String>()
    );
}

fn snippet(out: &mut String, line_no: usize, line: &str, column: usize, len: usize, mark: char) {
    let gutter = line_no.to_string().len();
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line_no} | {line}");
    underline(out, gutter, line, column, len, mark);
}

/// One finding as a compiler would print it:
///
/// ```text
/// src/op.rs:12:9: warning[reentrancy]: `self.counter += 1` runs again when `bad` is re-entered after the yield at line 13
///    |
/// 12 |         self.counter += 1;
///    |         ^^^^^^^^^^^^^^^^^
/// note: the yield, at src/op.rs:13:9: `bad` may return `IO` at line 13; ..
///    |
/// 13 |         return_if_io!(something());
///    |         ---------------------------
/// help: move it after the yield, or give it its own state ..
/// ```
pub fn render_finding(f: &Finding) -> String {
    let mut out = String::new();
    let line = f.source_line.as_str();
    let _ = writeln!(
        out,
        "{}:{}:{}: warning[reentrancy]: {}",
        f.path, f.loc.line, f.loc.column, f.message
    );
    let len = if f.loc.end_line == f.loc.line {
        f.loc.end_column.saturating_sub(f.loc.column)
    } else {
        line.chars().count().saturating_sub(f.loc.column - 1)
    };
    snippet(&mut out, f.loc.line, line, f.loc.column, len, '^');
    match &f.yield_point {
        Some(y) => {
            let yl = y.source_line.as_str();
            let _ = writeln!(
                out,
                "note: the yield, at {}:{}:{}: {}",
                f.path, y.loc.line, y.loc.column, f.note
            );
            let len = if y.loc.end_line == y.loc.line {
                y.loc.end_column.saturating_sub(y.loc.column)
            } else {
                yl.chars().count().saturating_sub(y.loc.column - 1)
            };
            snippet(&mut out, y.loc.line, yl, y.loc.column, len, '-');
        }
        None => {
            let _ = writeln!(out, "note: {}", f.note);
        }
    }
    let _ = writeln!(out, "help: {}", f.help);
    out
}

/// The JSON document of a run: counts, findings and errors.
pub fn render_json(outcome: &Outcome) -> String {
    use serde_json::{json, Value};
    let findings: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            json!({
                "path": f.path,
                "line": f.loc.line,
                "column": f.loc.column,
                "end_line": f.loc.end_line,
                "end_column": f.loc.end_column,
                "severity": "warning",
                "code": "reentrancy",
                "kind": f.kind.name(),
                "function": f.function,
                "message": f.message,
                "note": f.note,
                "help": f.help,
                "yield": f.yield_point.as_ref().map(|y| json!({
                    "line": y.loc.line,
                    "column": y.loc.column,
                    "text": y.text,
                })),
            })
        })
        .collect();
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| json!({ "message": e.to_string() }))
        .collect();
    let doc = json!({
        "files": outcome.files,
        "functions": outcome.functions,
        "allowed": outcome.allowed,
        "findings": findings,
        "errors": errors,
    });
    serde_json::to_string_pretty(&doc).expect("a JSON value always serializes")
}
