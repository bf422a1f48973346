//! A linted file's text: source snippets for messages, and the
//! `// io-model-lint: allow(reentrancy) <reason>` comments that accept a
//! reviewed line.

use crate::finding::Loc;

/// The marker of a reviewed line.
pub const ALLOW_MARKER: &str = "io-model-lint: allow(reentrancy)";

/// A file's lines.
#[derive(Debug, Clone)]
pub struct Source {
    lines: Vec<String>,
}

impl Source {
    /// Splits a file into lines.
    pub fn new(text: &str) -> Self {
        Source {
            lines: text.lines().map(|l| l.to_string()).collect(),
        }
    }

    /// Line `n` (1-based), or `""`.
    pub fn line(&self, n: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    /// The text a range covers, on one line: the first line of a multi-line
    /// range ends with ` ..`, and long text is shortened.
    pub fn text(&self, loc: Loc) -> String {
        let line = self.line(loc.line);
        let start = loc.column.saturating_sub(1);
        let text: String = if loc.end_line == loc.line {
            let len = loc.end_column.saturating_sub(loc.column);
            line.chars().skip(start).take(len).collect()
        } else {
            let first: String = line.chars().skip(start).collect();
            format!("{} ..", first.trim_end())
        };
        let text = text.trim().to_string();
        if text.chars().count() > 80 {
            let short: String = text.chars().take(77).collect();
            format!("{short}..")
        } else {
            text
        }
    }

    /// Whether line `n` is accepted by an allow comment on it, or in the
    /// comment lines directly above it.
    ///
    /// ```
    /// let s = io_model_lint::Source::new(
    ///     "// io-model-lint: allow(reentrancy) idempotent\nself.x = 1;\nself.y += 1;");
    /// assert!(s.is_allowed(2));
    /// assert!(!s.is_allowed(3));
    /// ```
    pub fn is_allowed(&self, n: usize) -> bool {
        if comment_part(self.line(n)).is_some_and(|c| c.contains(ALLOW_MARKER)) {
            return true;
        }
        let mut k = n;
        while k > 1 {
            k -= 1;
            let l = self.line(k).trim_start();
            if l.starts_with("//") {
                if l.contains(ALLOW_MARKER) {
                    return true;
                }
            } else if !l.starts_with("#[") {
                return false;
            }
        }
        false
    }
}

/// The `//` comment of a line, if it has one outside a string literal.
fn comment_part(line: &str) -> Option<&str> {
    let bytes = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return Some(&line[i..]),
            _ => {}
        }
        i += 1;
    }
    None
}
