//! Counts of the constructs and marker positions generated, for the
//! summary: what a run actually exercised.

use std::collections::{BTreeMap, HashSet};

use crate::ast::{
    block_has_point, stmt_has_point, value_has_point, Block, CallOp, Cfg, Func, LoopKind, Marker,
    MarkerKind, Pat, Program, StmtKind, Ty, Value,
};

/// Construct name -> how many times it was generated.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// The counts.
    pub counts: BTreeMap<String, u64>,
}

impl Coverage {
    fn add(&mut self, what: impl Into<String>) {
        *self.counts.entry(what.into()).or_insert(0) += 1;
    }

    /// Adds another run's counts.
    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.counts {
            *self.counts.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Counts one program.
    pub fn program(&mut self, p: &Program) {
        self.add("programs");
        self.add(p.form.name());
        if !p.subs.is_empty() {
            self.add(format!("subs:{}", p.subs.len()));
        }
        self.func(&p.main);
        for s in &p.subs {
            self.func(s);
        }
        if p.main
            .vars
            .iter()
            .chain(p.subs.iter().flat_map(|f| &f.vars))
            .any(|v| v.ty == Ty::ArrU64)
        {
            self.add("programs-with-arrays");
            // The points whose arms the transform runs on the state in
            // place (their variants get the hidden `__io_run` flag).
            let src = crate::emit::resumable_source(p);
            let mut n = 0;
            crate::gen::expand_each(&src, &mut |r| {
                if let Ok(t) = r {
                    n += t.to_string().matches("__io_run : bool").count();
                }
            });
            if n > 0 {
                self.add("programs-with-in-place-arms");
                for _ in 0..n {
                    self.add("in-place-arms");
                }
            }
        }
    }

    fn func(&mut self, f: &Func) {
        let mut w = Walker {
            cov: self,
            f,
            depth: 0,
            names: Vec::new(),
        };
        w.block(&f.body);
        // Types of stored-looking locals.
        let mut seen = HashSet::new();
        for v in &f.vars {
            if !v.param && seen.insert(v.ty) {
                self.add(format!("type:{}", v.ty.rust()));
            }
        }
    }

    /// The counts as lines `name count`, a few per line.
    pub fn render(&self) -> String {
        let items: Vec<String> = self
            .counts
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        items
            .chunks(6)
            .map(|c| format!("  {}", c.join("  ")))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

struct Walker<'c, 'f> {
    cov: &'c mut Coverage,
    f: &'f Func,
    depth: usize,
    /// Names declared so far in enclosing scopes (for shadowing counts).
    names: Vec<Vec<String>>,
}

impl Walker<'_, '_> {
    fn marker(&mut self, m: &Marker, pos: &str) {
        let kind = match &m.kind {
            MarkerKind::Wait(_) => "wait",
            MarkerKind::WaitAll(_) | MarkerKind::WaitAllMap(..) => "wait_all",
            MarkerKind::Call(CallOp::Sub(..)) => "call-sub",
            MarkerKind::Call(_) => "call-hand",
            MarkerKind::Yield => "yield",
        };
        self.cov.add(format!("marker:{kind}"));
        self.cov.add(format!("pos:{pos}"));
        if m.label.is_some() {
            self.cov.add("marker:labelled");
        }
        if let MarkerKind::Call(
            CallOp::HandAdd(Some(_), _)
            | CallOp::HandLt(Some(_), ..)
            | CallOp::HandNext(Some(_), ..),
        ) = &m.kind
        {
            self.cov.add("hand-state-local");
        }
        self.cov.add(format!("marker-depth:{}", self.depth));
    }

    fn declare(&mut self, v: usize) {
        let name = self.f.vars[v].name.clone();
        if self.names.iter().flatten().any(|n| *n == name) {
            self.cov.add("shadowing");
        }
        if let Some(top) = self.names.last_mut() {
            top.push(name);
        }
    }

    fn block(&mut self, b: &Block) {
        self.names.push(Vec::new());
        for s in &b.stmts {
            if let Some(c) = s.cfg {
                let point = stmt_has_point(&s.kind);
                let name = match c {
                    Cfg::All => "all",
                    Cfg::Any => "any",
                    Cfg::NotAny => "not-any",
                };
                let leaves = matches!(
                    s.kind,
                    StmtKind::Return(_) | StmtKind::Break(..) | StmtKind::Continue(_)
                );
                let what = match (point, leaves) {
                    (true, _) => "-with-point",
                    (false, true) => "-diverging",
                    (false, false) => "",
                };
                self.cov.add(format!("cfg:{name}{what}"));
            }
            self.stmt(&s.kind);
        }
        if let Some(t) = &b.tail {
            self.value(t, "tail");
        }
        self.names.pop();
    }

    fn nested(&mut self, what: &str, has_point: bool, f: impl FnOnce(&mut Self)) {
        self.cov
            .add(format!("{what}{}", if has_point { "+point" } else { "" }));
        self.depth += 1;
        self.cov.add(format!("depth:{}", self.depth));
        f(self);
        self.depth -= 1;
    }

    fn value(&mut self, v: &Value, pos: &str) {
        match v {
            Value::Expr(_) => {}
            Value::Try(_) => self.cov.add("try"),
            Value::Marker(m) => self.marker(m, pos),
            Value::Block(b) => self.nested("value:block", block_has_point(b), |w| w.block(b)),
            Value::If(c, t, e) => self.nested("value:if", value_has_point(v), |w| {
                w.value(c, "if-cond");
                w.block(t);
                w.block(e);
            }),
            Value::Match(s, arms) => self.nested("value:match", value_has_point(v), |w| {
                w.value(s, "match-scrut");
                for a in arms {
                    if a.guard.is_some() {
                        w.cov.add("match-guard");
                    }
                    w.value(&a.body, "arm");
                }
            }),
            Value::Loop(h, b) => self.nested("value:loop-break-value", value_has_point(v), |w| {
                if h.label.is_some() {
                    w.cov.add("loop-label");
                }
                w.block(b)
            }),
        }
    }

    fn stmt(&mut self, k: &StmtKind) {
        let has = stmt_has_point(k);
        match k {
            StmtKind::Let(v, init) => {
                match init {
                    None => self.cov.add("deferred-init"),
                    Some(Value::Expr(crate::ast::Expr::Var(_))) => self.cov.add("move:let"),
                    Some(i) => self.value(i, "let-init"),
                }
                if self.f.vars[*v].ty == Ty::Noisy {
                    self.cov.add("noisy-local");
                }
                self.declare(*v);
            }
            StmtKind::LetTuple(a, b, _) => {
                self.cov.add("let-tuple");
                self.declare(*a);
                self.declare(*b);
            }
            StmtKind::Assign {
                compound, value, ..
            } => {
                self.cov.add(if *compound { "assign+=" } else { "assign" });
                self.value(value, "assign-rhs");
            }
            StmtKind::IndexAssign {
                compound, value, ..
            } => {
                self.cov.add(if *compound {
                    "array-index-assign+="
                } else {
                    "array-index-assign"
                });
                self.value(value, "index-assign-rhs");
            }
            StmtKind::Drop(_) => self.cov.add("move:drop"),
            StmtKind::Consume(_) => self.cov.add("move:fn"),
            StmtKind::Marker(m) => self.marker(m, "stmt"),
            StmtKind::If(c, t, e) => self.nested("if", has, |w| {
                if e.is_some() {
                    w.cov.add("if-else");
                }
                w.value(c, "if-cond");
                w.block(t);
                if let Some(e) = e {
                    w.block(e);
                }
            }),
            StmtKind::IfLet(x, s, t, e) => self.nested("if-let", has, |w| {
                w.value(s, "if-let-scrut");
                w.names.push(Vec::new());
                w.declare(*x);
                w.block(t);
                w.names.pop();
                if let Some(e) = e {
                    w.block(e);
                }
            }),
            StmtKind::Match(s, arms) => self.nested("match", has, |w| {
                w.value(s, "match-scrut");
                for a in arms {
                    if a.guard.is_some() {
                        w.cov.add("match-guard");
                    }
                    if matches!(a.pat, Pat::Bind(_) | Pat::SomeBind(_)) {
                        w.cov.add("match-binding");
                    }
                    w.value(&a.body, "arm");
                }
            }),
            StmtKind::Loop(h, kind, b) => {
                let name = match kind {
                    LoopKind::Loop => "loop",
                    LoopKind::While => "while",
                    LoopKind::WhileCall(..) => "while-call-cond",
                    LoopKind::WhileLet(_) => "while-let",
                    LoopKind::WhileLetCall(..) => "while-let-call",
                    LoopKind::ForRange(_) => "for-range",
                    LoopKind::ForVec(..) => "for-vec",
                };
                if matches!(kind, LoopKind::WhileCall(..) | LoopKind::WhileLetCall(..)) {
                    self.cov.add("pos:while-cond");
                    self.cov.add("marker:call-hand");
                }
                if h.label.is_some() {
                    self.cov.add("loop-label");
                }
                self.nested(name, has, |w| w.block(b));
            }
            StmtKind::Break(l, v) => {
                self.cov.add(match (l.is_some(), v.is_some()) {
                    (true, true) => "break-labelled-value",
                    (true, false) => "break-labelled",
                    (false, true) => "break-value",
                    (false, false) => "break",
                });
            }
            StmtKind::Continue(l) => self.cov.add(if l.is_some() {
                "continue-labelled"
            } else {
                "continue"
            }),
            StmtKind::Return(_) => self.cov.add("return"),
            StmtKind::LetElse(x, s, b) => {
                self.nested("let-else", has, |w| {
                    w.value(s, "let-else-scrut");
                    w.block(b);
                });
                self.declare(*x);
            }
            StmtKind::Block(b) => self.nested("block", has, |w| w.block(b)),
            StmtKind::Touch(..) => self.cov.add("touch-state-place"),
            StmtKind::Log(_) | StmtKind::LogVal(..) | StmtKind::Push(..) | StmtKind::PushStr(_) => {
            }
        }
    }
}
