//! What the lint reports: a [`Finding`] with its location, the yield it
//! runs again after, and the fix.

use std::fmt;

/// A source range: 1-based lines and columns (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Loc {
    /// First line.
    pub line: usize,
    /// First column.
    pub column: usize,
    /// Last line.
    pub end_line: usize,
    /// Column just past the end.
    pub end_column: usize,
}

impl Loc {
    /// The range a token span covers.
    pub fn of(span: proc_macro2::Span) -> Loc {
        let (s, e) = (span.start(), span.end());
        Loc {
            line: s.line,
            column: s.column + 1,
            end_line: e.line,
            end_column: e.column + 1,
        }
    }
}

/// The kind of re-entrancy problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A write or a mutating call on `self` or a `&mut` parameter before a
    /// yield, with no state transition between.
    SideEffect,
    /// An I/O submission before a yield in the same state.
    IoSubmission,
    /// A completion added to a `CompletionGroup` before a yield in the same
    /// state.
    GroupAdd,
    /// A call that can yield, completed and not idempotent, before another
    /// yield in the same state.
    RepeatedCall,
    /// The state set to its final or reset variant before a call that can
    /// still yield.
    EarlyReset,
    /// An `IOResult` dropped without being propagated.
    DroppedIo,
}

impl Kind {
    /// The stable name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SideEffect => "side-effect",
            Kind::IoSubmission => "io-submission",
            Kind::GroupAdd => "group-add",
            Kind::RepeatedCall => "repeated-call",
            Kind::EarlyReset => "early-reset",
            Kind::DroppedIo => "dropped-io",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The yield point a finding refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YieldPoint {
    /// Where it is.
    pub loc: Loc,
    /// Its source text (first line).
    pub text: String,
    /// The whole source line it starts on, for snippets.
    pub source_line: String,
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, as given on the command line or found under a directory.
    pub path: String,
    /// The function (`Type::method` for methods).
    pub function: String,
    /// What kind of problem it is.
    pub kind: Kind,
    /// Where the code that runs again (or the dropped result) is.
    pub loc: Loc,
    /// The headline, without location.
    pub message: String,
    /// The yield point, if the finding is about one.
    pub yield_point: Option<YieldPoint>,
    /// Why it is a problem, in one line.
    pub note: String,
    /// How to fix it.
    pub help: String,
    /// The whole source line the finding starts on, for snippets.
    pub source_line: String,
}
