//! The straight-line oracle form: where it drops each `Noisy` local.
//!
//! The oracle is the same body with every marker replaced by its
//! straight-line equivalent. What the resumable form changes is *when*
//! locals are dropped (docs/transform.md, "What is dropped when"; SPEC
//! §3.5 rule 5): at every boundary, every local in scope that is not used
//! afterwards on any path is dropped, in reverse order of declaration. The
//! boundaries are
//!
//! 1. a suspension point: after a `wait!`'s or `wait_all!`'s operand is
//!    evaluated, before a `call!`'s operand is (it is evaluated again on
//!    every resume), at a `yield_now!`;
//! 2. the end of an `if`, `match`, loop, block or `let`-`else` that holds a
//!    (compiled) suspension point, and the start of a loop that holds one.
//!
//! This module computes those drops from the generator's own AST: it
//! lowers a function to a control-flow graph, runs a backward liveness
//! analysis over its `Noisy` locals, and lists, for each boundary, the
//! locals in scope that are dead there. The oracle form then calls
//! `slot.kill()` on each (a no-op for a value already moved).
//!
//! A statement under `#[cfg(any())]` is not there: its uses keep nothing
//! alive and its points are no boundaries. (The transform sees the code
//! before the compiler evaluates the `#[cfg]`, so it stores such a local
//! only under the `#[cfg]` that uses it, and the compiler removes the
//! field.) That holds inside a statement the transform keeps whole as one
//! leaf too: it reads each use there with the `#[cfg]`s around it (F28).

use std::collections::HashMap;

use crate::ast::{
    block_has_marker, expr_vars, point_names, stmt_has_marker, value_has_marker, Arm, Block,
    CallOp, Expr, Func, LoopHead, LoopKind, Marker, MarkerKind, OracleHooks, Pat, Stmt, StmtKind,
    Ty, Value, VarId,
};

/// The oracle's drops of one function, keyed by AST node address.
#[derive(Default)]
pub struct Drops {
    point: HashMap<*const (), Vec<VarId>>,
    end: HashMap<*const (), Vec<VarId>>,
    start: HashMap<*const (), Vec<VarId>>,
    names: HashMap<*const (), String>,
}

impl Drops {
    /// The same drops, the points named `prefix` + name: a sub-operation's
    /// points, which the main function's cancellation (by its own state
    /// names) must never match.
    pub fn qualified(mut self, prefix: &str) -> Drops {
        for name in self.names.values_mut() {
            name.insert_str(0, prefix);
        }
        self
    }
}

impl OracleHooks for Drops {
    fn at_point(&self, m: *const ()) -> &[VarId] {
        self.point.get(&m).map(Vec::as_slice).unwrap_or(&[])
    }
    fn at_end(&self, node: *const ()) -> &[VarId] {
        self.end.get(&node).map(Vec::as_slice).unwrap_or(&[])
    }
    fn at_start(&self, node: *const ()) -> &[VarId] {
        self.start.get(&node).map(Vec::as_slice).unwrap_or(&[])
    }
    fn name_of(&self, m: *const ()) -> String {
        self.names.get(&m).cloned().unwrap_or_default()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    Point,
    End,
    Start,
}

#[derive(Default)]
struct Node {
    uses: Vec<usize>,
    defs: Vec<usize>,
    succ: Vec<usize>,
}

struct LoopCx {
    label: Option<String>,
    head: usize,
    breaks: Vec<usize>,
}

struct Builder<'f> {
    f: &'f Func,
    /// Noisy local -> bit.
    bit: HashMap<VarId, usize>,
    nodes: Vec<Node>,
    cur: Option<usize>,
    exit: usize,
    loops: Vec<LoopCx>,
    scope: Vec<Vec<VarId>>,
    boundaries: Vec<(usize, Where, *const (), Vec<VarId>)>,
    /// Every boundary with every local in scope there (not only Noisy ones).
    all_boundaries: Vec<(usize, Where, *const (), Vec<VarId>)>,
}

/// The locals that shadow another local live across a suspension point
/// where both are in scope (the later-declared of each such pair).
pub fn shadow_conflicts(f: &Func) -> Vec<VarId> {
    let all: HashMap<VarId, usize> = (0..f.vars.len()).map(|i| (i, i)).collect();
    let (b, live) = analyse(f, all);
    let mut out = Vec::new();
    for (node, _, _, cands) in &b.all_boundaries {
        for (i, v) in cands.iter().enumerate() {
            if !live[*node][*v] {
                continue;
            }
            for later in &cands[i + 1..] {
                if f.vars[*later].name == f.vars[*v].name && !out.contains(later) {
                    out.push(*later);
                }
            }
        }
    }
    out
}

fn analyse(f: &Func, bit: HashMap<VarId, usize>) -> (Builder<'_>, Vec<Vec<bool>>) {
    let mut b = Builder {
        f,
        bit,
        nodes: vec![Node::default()],
        cur: None,
        exit: 0,
        loops: Vec::new(),
        scope: vec![Vec::new()],
        boundaries: Vec::new(),
        all_boundaries: Vec::new(),
    };
    let entry = b.new_node(Vec::new(), Vec::new());
    b.cur = Some(entry);
    b.block(&f.body);
    let u = b.expr_uses(&f.ret);
    b.node(u, Vec::new());
    if let Some(c) = b.cur {
        b.edge(c, 0);
    }
    let live = b.liveness();
    (b, live)
}

/// Computes the oracle's drops of `f`.
pub fn drops(f: &Func) -> Drops {
    let mut bit = HashMap::new();
    for (i, v) in f.vars.iter().enumerate() {
        if v.ty == Ty::Noisy {
            let n = bit.len();
            bit.insert(i, n);
        }
    }
    let (b, live) = analyse(f, bit);
    let mut out = Drops::default();
    for (node, w, key, cands) in &b.boundaries {
        let dead: Vec<VarId> = cands
            .iter()
            .rev()
            .copied()
            .filter(|v| !live[*node][b.bit[v]])
            .collect();
        let map = match w {
            Where::Point => &mut out.point,
            Where::End => &mut out.end,
            Where::Start => &mut out.start,
        };
        map.insert(*key, dead);
    }
    for (name, key, _, _) in point_names(f) {
        out.names.insert(key, name);
    }
    out
}

impl<'f> Builder<'f> {
    fn new_node(&mut self, uses: Vec<VarId>, defs: Vec<VarId>) -> usize {
        let uses = uses
            .iter()
            .filter_map(|v| self.bit.get(v).copied())
            .collect();
        let defs = defs
            .iter()
            .filter_map(|v| self.bit.get(v).copied())
            .collect();
        self.nodes.push(Node {
            uses,
            defs,
            succ: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// A node after the current one.
    fn node(&mut self, uses: Vec<VarId>, defs: Vec<VarId>) -> usize {
        let n = self.new_node(uses, defs);
        if let Some(c) = self.cur {
            self.edge(c, n);
        }
        self.cur = Some(n);
        n
    }

    fn edge(&mut self, a: usize, b: usize) {
        self.nodes[a].succ.push(b);
    }

    /// Joins the current path with `other` in a new node.
    fn join(&mut self, others: &[Option<usize>]) {
        let n = self.new_node(Vec::new(), Vec::new());
        let mut any = false;
        for o in others.iter().copied().chain([self.cur]).flatten() {
            self.edge(o, n);
            any = true;
        }
        // An unreachable join still gets a node (code after it is lowered).
        let _ = any;
        self.cur = Some(n);
    }

    fn boundary(&mut self, w: Where, key: *const ()) {
        let n = self.node(Vec::new(), Vec::new());
        let all: Vec<VarId> = self.scope.iter().flatten().copied().collect();
        let cands: Vec<VarId> = all
            .iter()
            .copied()
            .filter(|v| self.f.vars[*v].ty == Ty::Noisy)
            .collect();
        self.boundaries.push((n, w, key, cands));
        self.all_boundaries.push((n, w, key, all));
    }

    /// A `break`/`continue`: what it carries must not be shadowed there
    /// (for [`shadow_conflicts`]).
    fn jump_site(&mut self, n: usize) {
        let all: Vec<VarId> = self.scope.iter().flatten().copied().collect();
        self.all_boundaries
            .push((n, Where::Point, std::ptr::null(), all));
    }

    fn declare(&mut self, v: VarId) {
        self.scope.last_mut().expect("BUG: no scope").push(v);
    }

    fn liveness(&self) -> Vec<Vec<bool>> {
        let nbits = self.bit.len();
        let n = self.nodes.len();
        let mut live_in = vec![vec![false; nbits]; n];
        let mut live_out = vec![vec![false; nbits]; n];
        let mut changed = true;
        while changed {
            changed = false;
            for i in (0..n).rev() {
                let mut out = vec![false; nbits];
                for &s in &self.nodes[i].succ {
                    for (o, l) in out.iter_mut().zip(&live_in[s]) {
                        *o |= *l;
                    }
                }
                let mut inn = out.clone();
                for &d in &self.nodes[i].defs {
                    inn[d] = false;
                }
                for &u in &self.nodes[i].uses {
                    inn[u] = true;
                }
                if out != live_out[i] || inn != live_in[i] {
                    changed = true;
                    live_out[i] = out;
                    live_in[i] = inn;
                }
            }
        }
        live_out
    }

    fn expr_uses(&self, e: &Expr) -> Vec<VarId> {
        let mut out = Vec::new();
        expr_vars(e, &mut out);
        out
    }

    fn block(&mut self, b: &Block) {
        self.scope.push(Vec::new());
        for s in &b.stmts {
            self.stmt(s);
        }
        if let Some(t) = &b.tail {
            self.value(t);
        }
        self.scope.pop();
    }

    fn marker(&mut self, m: &Marker) {
        let key = m as *const Marker as *const ();
        match &m.kind {
            MarkerKind::Wait(c) => {
                let u = self.expr_uses(c);
                self.node(u, Vec::new());
                self.boundary(Where::Point, key);
            }
            MarkerKind::WaitAll(cs) => {
                let mut u = Vec::new();
                for c in cs {
                    expr_vars(c, &mut u);
                }
                self.node(u, Vec::new());
                self.boundary(Where::Point, key);
            }
            MarkerKind::WaitAllMap(..) | MarkerKind::Yield => self.boundary(Where::Point, key),
            MarkerKind::Call(op) => {
                self.boundary(Where::Point, key);
                let u = call_uses(op);
                self.node(u, Vec::new());
            }
        }
        if let Some(c) = self.cur {
            self.edge(c, self.exit);
        }
    }

    fn value(&mut self, v: &Value) {
        let key = v as *const Value as *const ();
        match v {
            Value::Expr(e) => {
                let u = self.expr_uses(e);
                self.node(u, Vec::new());
            }
            Value::Try(e) => {
                let u = self.expr_uses(e);
                let n = self.node(u, Vec::new());
                self.edge(n, self.exit);
            }
            Value::Marker(m) => self.marker(m),
            Value::Block(b) => {
                self.block(b);
                if block_has_marker(b) {
                    self.boundary(Where::End, key);
                }
            }
            Value::If(c, t, e) => {
                self.value(c);
                let split = self.cur;
                self.block(t);
                let t_end = self.cur;
                self.cur = split;
                self.block(e);
                self.join(&[t_end]);
                if value_has_marker(v) {
                    self.boundary(Where::End, key);
                }
            }
            Value::Match(s, arms) => {
                self.value(s);
                self.arms(arms);
                if value_has_marker(v) {
                    self.boundary(Where::End, key);
                }
            }
            Value::Loop(h, b) => {
                let has = value_has_marker(v);
                if has {
                    self.boundary(Where::Start, key);
                }
                self.plain_loop(h, b);
                if has {
                    self.boundary(Where::End, key);
                }
            }
        }
    }

    fn arms(&mut self, arms: &[Arm]) {
        let split = self.cur;
        let mut ends = Vec::new();
        for a in arms {
            self.cur = split;
            self.scope.push(Vec::new());
            let mut uses = Vec::new();
            if let Some(g) = &a.guard {
                expr_vars(g, &mut uses);
            }
            let defs = match a.pat {
                Pat::Bind(x) | Pat::SomeBind(x) => vec![x],
                _ => Vec::new(),
            };
            self.node(uses, defs.clone());
            for d in defs {
                self.declare(d);
            }
            self.value(&a.body);
            self.scope.pop();
            ends.push(self.cur);
        }
        self.cur = None;
        self.join(&ends);
    }

    /// `loop { if k >= B { break; } k += 1; body }` (statement or value).
    fn plain_loop(&mut self, h: &LoopHead, b: &Block) {
        let head = self.node(Vec::new(), Vec::new());
        let guard = self.node(vec![h.counter], Vec::new());
        self.loops.push(LoopCx {
            label: h.label.clone(),
            head,
            breaks: vec![guard],
        });
        self.node(vec![h.counter], vec![h.counter]);
        self.block(b);
        if let Some(c) = self.cur {
            self.edge(c, head);
        }
        let cx = self.loops.pop().expect("BUG: loop stack");
        self.cur = None;
        let ends: Vec<Option<usize>> = cx.breaks.into_iter().map(Some).collect();
        self.join(&ends);
    }

    fn stmt(&mut self, s: &Stmt) {
        if !s.cfg.map_or(true, |c| c.active()) {
            // Not compiled: not there (the transform reads a use inside a
            // statement it keeps whole under the `#[cfg]`s around it).
            return;
        }
        self.stmt_kind(s);
        // A marker statement under a `#[cfg]` that holds: its end is a
        // boundary (the attribute makes it a merge, as the code after it
        // is there only where the condition does not hold).
        let marker_stmt = matches!(
            &s.kind,
            StmtKind::Marker(_)
                | StmtKind::Let(_, Some(Value::Marker(_)))
                | StmtKind::Assign {
                    value: Value::Marker(_),
                    ..
                }
                | StmtKind::IndexAssign {
                    value: Value::Marker(_),
                    ..
                }
        );
        if s.cfg.is_some() && marker_stmt {
            self.boundary(Where::End, s as *const Stmt as *const ());
        }
    }

    fn stmt_kind(&mut self, s: &Stmt) {
        let key = s as *const Stmt as *const ();
        let has = stmt_has_marker(&s.kind);
        match &s.kind {
            StmtKind::Let(v, init) => {
                if let Some(i) = init {
                    self.value(i);
                }
                self.node(Vec::new(), vec![*v]);
                self.declare(*v);
            }
            StmtKind::LetTuple(a, b, e) => {
                let u = self.expr_uses(e);
                self.node(u, vec![*a, *b]);
                self.declare(*a);
                self.declare(*b);
            }
            StmtKind::Assign {
                var,
                compound,
                value,
                ..
            } => {
                self.value(value);
                let uses = if *compound { vec![*var] } else { Vec::new() };
                self.node(uses, vec![*var]);
            }
            StmtKind::IndexAssign {
                var, index, value, ..
            } => {
                // The right side is evaluated first, then the place.
                self.value(value);
                let mut uses = self.expr_uses(index);
                uses.push(*var);
                self.node(uses, Vec::new());
            }
            StmtKind::Log(_) | StmtKind::Touch(..) => {}
            StmtKind::LogVal(_, v)
            | StmtKind::PushStr(v)
            | StmtKind::Drop(v)
            | StmtKind::Consume(v) => {
                self.node(vec![*v], Vec::new());
            }
            StmtKind::Push(v, e) => {
                let mut u = self.expr_uses(e);
                u.push(*v);
                self.node(u, Vec::new());
            }
            StmtKind::Marker(m) => self.marker(m),
            StmtKind::If(c, t, e) => {
                self.value(c);
                let split = self.cur;
                self.block(t);
                let t_end = self.cur;
                self.cur = split;
                if let Some(e) = e {
                    self.block(e);
                }
                self.join(&[t_end]);
                if has {
                    self.boundary(Where::End, key);
                }
            }
            StmtKind::IfLet(x, sc, t, e) => {
                self.value(sc);
                let split = self.cur;
                self.scope.push(Vec::new());
                self.node(Vec::new(), vec![*x]);
                self.declare(*x);
                self.block(t);
                self.scope.pop();
                let t_end = self.cur;
                self.cur = split;
                if let Some(e) = e {
                    self.block(e);
                }
                self.join(&[t_end]);
                if has {
                    self.boundary(Where::End, key);
                }
            }
            StmtKind::Match(sc, arms) => {
                self.value(sc);
                self.arms(arms);
                if has {
                    self.boundary(Where::End, key);
                }
            }
            StmtKind::Loop(h, kind, b) => {
                if has {
                    self.boundary(Where::Start, key);
                }
                self.loop_stmt(h, kind, b);
                if has {
                    self.boundary(Where::End, key);
                }
            }
            StmtKind::Break(label, v) => {
                let u = v.as_ref().map(|v| self.expr_uses(v)).unwrap_or_default();
                let n = self.node(u, Vec::new());
                self.jump_site(n);
                match self.loop_index(label) {
                    Some(i) => self.loops[i].breaks.push(n),
                    None => self.edge(n, self.exit),
                }
                self.cur = None;
            }
            StmtKind::Continue(label) => {
                let head = match self.loop_index(label) {
                    Some(i) => self.loops[i].head,
                    None => self.exit,
                };
                let n = self.node(Vec::new(), Vec::new());
                self.jump_site(n);
                self.edge(n, head);
                self.cur = None;
            }
            StmtKind::Return(e) => {
                let u = self.expr_uses(e);
                let n = self.node(u, Vec::new());
                self.edge(n, self.exit);
                self.cur = None;
            }
            StmtKind::LetElse(x, sc, b) => {
                self.value(sc);
                let split = self.cur;
                self.block(b);
                self.cur = split;
                self.node(Vec::new(), vec![*x]);
                self.declare(*x);
                // A boundary where the `else` holds a marker, unless the
                // initializer is a marker itself: then the statement is a
                // point like `let x = call!(..);` (docs/transform.md).
                if block_has_marker(b) && !matches!(sc, Value::Marker(_)) {
                    self.boundary(Where::End, key);
                }
            }
            StmtKind::Block(b) => {
                self.block(b);
                if has {
                    self.boundary(Where::End, key);
                }
            }
        }
    }

    /// The loop a `break`/`continue` leaves; `None` outside any (a
    /// shrinker's candidate that does not compile).
    fn loop_index(&self, label: &Option<String>) -> Option<usize> {
        match label {
            None => self.loops.len().checked_sub(1),
            Some(l) => self
                .loops
                .iter()
                .rposition(|cx| cx.label.as_deref() == Some(l.as_str())),
        }
    }

    fn loop_stmt(&mut self, h: &LoopHead, kind: &LoopKind, b: &Block) {
        let k = h.counter;
        let kind_key = kind as *const LoopKind as *const ();
        if let LoopKind::ForVec(_, v) = kind {
            self.node(vec![*v], Vec::new());
        }
        if matches!(kind, LoopKind::Loop) {
            self.plain_loop(h, b);
            return;
        }
        let head = self.node(Vec::new(), Vec::new());
        self.scope.push(Vec::new());
        let exit_from = match kind {
            LoopKind::While => self.node(vec![k], Vec::new()),
            LoopKind::WhileCall(hp, _) => {
                self.boundary(Where::Point, kind_key);
                let mut u = vec![k];
                u.extend(*hp);
                let n = self.node(u, Vec::new());
                self.edge(n, self.exit);
                n
            }
            LoopKind::WhileLet(x) => {
                let n = self.node(vec![k], vec![*x]);
                self.declare(*x);
                n
            }
            LoopKind::WhileLetCall(x, hp, _) => {
                self.boundary(Where::Point, kind_key);
                let mut u = vec![k];
                u.extend(*hp);
                let n = self.node(u, Vec::new());
                self.edge(n, self.exit);
                self.node(Vec::new(), vec![*x]);
                self.declare(*x);
                n
            }
            LoopKind::ForRange(x) | LoopKind::ForVec(x, _) => {
                let n = self.node(Vec::new(), vec![*x]);
                self.declare(*x);
                n
            }
            LoopKind::Loop => unreachable!("BUG: handled above"),
        };
        self.loops.push(LoopCx {
            label: h.label.clone(),
            head,
            breaks: vec![exit_from],
        });
        if !matches!(kind, LoopKind::ForRange(_) | LoopKind::ForVec(..)) {
            self.node(vec![k], vec![k]);
        }
        self.block(b);
        if let Some(c) = self.cur {
            self.edge(c, head);
        }
        self.scope.pop();
        let cx = self.loops.pop().expect("BUG: loop stack");
        self.cur = None;
        let ends: Vec<Option<usize>> = cx.breaks.into_iter().map(Some).collect();
        self.join(&ends);
    }
}

fn call_uses(op: &CallOp) -> Vec<VarId> {
    let mut u = Vec::new();
    match op {
        CallOp::HandAdd(h, x) => {
            u.extend(*h);
            expr_vars(x, &mut u);
        }
        CallOp::HandLt(h, a, b) | CallOp::HandNext(h, a, b) => {
            u.extend(*h);
            expr_vars(a, &mut u);
            expr_vars(b, &mut u);
        }
        CallOp::Sub(_, st, x) => {
            u.extend(*st);
            expr_vars(x, &mut u);
        }
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Marker, Var};

    fn var(name: &str, ty: Ty, param: bool) -> Var {
        Var {
            name: name.into(),
            ty,
            mutable: false,
            param,
        }
    }

    fn func(stmts: Vec<StmtKind>) -> Func {
        Func {
            vars: vec![var("a", Ty::U64, true), var("n", Ty::Noisy, false)],
            body: Block {
                stmts: stmts
                    .into_iter()
                    .map(|kind| Stmt { cfg: None, kind })
                    .collect(),
                tail: None,
            },
            ret: Expr::Lit(0),
        }
    }

    fn wait() -> StmtKind {
        StmtKind::Marker(Marker {
            kind: MarkerKind::Wait(Expr::Io(1)),
            label: None,
        })
    }

    fn point_drops(f: &Func) -> Vec<VarId> {
        let d = drops(f);
        let StmtKind::Marker(m) = &f.body.stmts[1].kind else {
            unreachable!()
        };
        d.at_point(m as *const Marker as *const ()).to_vec()
    }

    #[test]
    fn a_local_dead_after_a_point_is_dropped_there() {
        let f = func(vec![
            StmtKind::Let(1, Some(Value::Expr(Expr::NewNoisy(1)))),
            wait(),
            StmtKind::Log(1),
        ]);
        assert_eq!(point_drops(&f), vec![1]);
    }

    #[test]
    fn a_local_used_after_a_point_is_kept() {
        let f = func(vec![
            StmtKind::Let(1, Some(Value::Expr(Expr::NewNoisy(1)))),
            wait(),
            StmtKind::LogVal(1, 1),
        ]);
        assert_eq!(point_drops(&f), Vec::<VarId>::new());
    }

    #[test]
    fn a_use_under_a_false_cfg_keeps_nothing_alive() {
        let mut f = func(vec![
            StmtKind::Let(1, Some(Value::Expr(Expr::NewNoisy(1)))),
            wait(),
            StmtKind::Drop(1),
        ]);
        f.body.stmts[2].cfg = Some(crate::ast::Cfg::Any);
        assert_eq!(point_drops(&f), vec![1]);
    }
}
