//! The state graph of a generated machine, as Graphviz DOT: the `GRAPH`
//! constant of every state enum.
//!
//! One node per state a run can rest in (`Idle` and each suspension
//! point's variant, labelled with its marker and source line), the exits
//! `Done` and `Err`, and an edge from each state to every state (or exit)
//! the code after it can reach before it rests again. Merges, through
//! which an arm jumps to another without resting, are followed, not drawn.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

use crate::arms::{visit, Arms, Code, CondCode, Entry, Jump};
use crate::layout::Layout;
use crate::points::{MarkerKind, Point};

/// Where an arm goes when it stops running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Next {
    Entry(Entry),
    Done,
    Err,
}

#[derive(Default)]
struct Reach(BTreeSet<Next>);

impl Reach {
    fn add(&mut self, n: Next) {
        self.0.insert(n);
    }

    /// The exits of a `return`/`?` somewhere in `tokens`.
    fn exits_in(&mut self, tokens: TokenStream) {
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            match tt {
                TokenTree::Punct(p) if p.as_char() == '?' => self.add(Next::Err),
                TokenTree::Ident(i) if i == "return" => match iter.peek() {
                    Some(TokenTree::Ident(e)) if e == "Err" => self.add(Next::Err),
                    _ => self.add(Next::Done),
                },
                TokenTree::Group(g) => self.exits_in(g.stream()),
                _ => {}
            }
        }
    }

    fn value(&mut self, e: &syn::Expr) {
        let t = e.to_token_stream();
        match t.clone().into_iter().next() {
            Some(TokenTree::Ident(i)) if i == "Err" => self.add(Next::Err),
            _ => self.add(Next::Done),
        }
        self.exits_in(t);
    }

    fn code(&mut self, c: &Code, points: &[Point]) {
        visit(c, &mut |c| self.node(c, points));
    }

    /// What one piece of code adds, without the code inside it.
    fn node(&mut self, c: &Code, points: &[Point]) {
        match c {
            Code::Leaf { stmt, jumps, .. } => {
                for j in jumps {
                    match j {
                        Jump::Goto(e, _) => self.add(Next::Entry(*e)),
                        Jump::Return => self.exits_in(stmt.to_token_stream()),
                        _ => {}
                    }
                }
            }
            Code::If { cond, .. } => self.cond(cond, points),
            Code::Match { scrut, .. } => self.cond(scrut, points),
            Code::Loop { header, .. } => match header {
                crate::ir::LoopHeader::Loop => {}
                crate::ir::LoopHeader::While { cond: e, .. }
                | crate::ir::LoopHeader::For { expr: e, .. } => self.exits_in(e.to_token_stream()),
            },
            Code::LetElse { init, .. } => self.exits_in(init.to_token_stream()),
            Code::Goto(e) => self.add(Next::Entry(*e)),
            Code::Arrive(p) => self.add(Next::Entry(Entry::Point(*p))),
            Code::Resume { point, .. } => self.resumed(*point, points),
            Code::Return(e, _) => self.value(e),
            Code::Block { .. } | Code::Seq(_) | Code::Exit { .. } | Code::Cfg { .. } => {}
        }
    }

    fn cond(&mut self, c: &CondCode, points: &[Point]) {
        match c {
            CondCode::Plain(e, _) => self.exits_in(e.to_token_stream()),
            CondCode::Resume(p) | CondCode::LetResume(_, p) => self.resumed(*p, points),
        }
    }

    /// A resumed marker: a failed completion or operation ends the run; a
    /// pending operation suspends in the same state again.
    fn resumed(&mut self, p: crate::points::PointId, points: &[Point]) {
        match points[p.0].kind {
            MarkerKind::Wait | MarkerKind::WaitAll => self.add(Next::Err),
            MarkerKind::Call => {
                self.add(Next::Err);
                self.add(Next::Entry(Entry::Point(p)));
            }
            MarkerKind::Yield => {}
        }
    }
}

/// The DOT text of a function's state graph.
pub fn dot(fn_name: &str, points: &[Point], arms: &Arms, layout: &Layout) -> String {
    let mut reach: BTreeMap<Entry, BTreeSet<Next>> = BTreeMap::new();
    for arm in &arms.arms {
        let mut r = Reach::default();
        r.code(&arm.code, points);
        reach.insert(arm.entry, r.0);
    }
    let name = |e: Entry| match e {
        Entry::Point(p) => layout.variants[p.0].name.to_string(),
        _ => "Idle".to_string(),
    };
    let mut out = format!(
        "digraph {} {{\n  label=\"{fn_name}\";\n  Idle [shape=circle];\n",
        layout.enum_name
    );
    for v in &layout.variants {
        let p = &points[v.point.0];
        out.push_str(&format!(
            "  {} [shape=box, label=\"{}\\n{} line {}\"];\n",
            v.name,
            v.name,
            p.kind.macro_name(),
            p.line
        ));
    }
    out.push_str("  Done [shape=doublecircle];\n  Err [shape=doublecircle];\n");
    let rests =
        std::iter::once(Entry::Idle).chain(layout.variants.iter().map(|v| Entry::Point(v.point)));
    for from in rests {
        // Follow merges: they pass control on without resting.
        let mut targets = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut todo: Vec<Entry> = vec![from];
        while let Some(e) = todo.pop() {
            for n in reach.get(&e).into_iter().flatten() {
                match n {
                    Next::Entry(m @ (Entry::After(_) | Entry::Head(_))) => {
                        if seen.insert(*m) {
                            todo.push(*m);
                        }
                    }
                    other => {
                        targets.insert(*other);
                    }
                }
            }
        }
        for t in targets {
            let to = match t {
                Next::Entry(e) => name(e),
                Next::Done => "Done".to_string(),
                Next::Err => "Err".to_string(),
            };
            out.push_str(&format!("  {} -> {};\n", name(from), to));
        }
    }
    out.push_str("}\n");
    out
}
