//! Shrinking a diverging program.
//!
//! A program has a numbered list of one-step simplifications ("edits"):
//! remove a statement, replace a compound statement by one of its blocks,
//! drop an `else` or a match arm, remove a `#[cfg]` or a label, bound a
//! loop to one iteration, replace a value construct or a marker in a value
//! position by a literal, a generated sub-operation call by a hand-written
//! one, the return value by `0`, a guard form by the field form. The
//! [`Shrinker`] tries them in batches (one build per batch) and keeps the
//! first that still diverges the same way, until none does. Many edits
//! give programs that no longer compile (a removed `let` whose local is
//! used later): their oracle form fails, and they are simply not kept.

use crate::ast::{
    Block, CallOp, Expr, Form, Func, LoopKind, MarkerKind, Program, StmtKind, Ty, Value,
};

/// The `k`-th edit of `p`, or `None` when edit `k` does not apply (or
/// `p` has fewer edits).
pub fn edit(p: &Program, k: usize) -> Option<Program> {
    let mut q = p.clone();
    let mut e = Editor {
        left: k,
        done: false,
    };
    if e.hit() {
        // A guard form becomes the field form.
        if !matches!(q.form, Form::RefCell | Form::Mutex) {
            return None;
        }
        q.form = Form::Field;
    } else if e.hit() {
        // The last sub-operation goes, when nothing calls it.
        let last = q.subs.len().checked_sub(1)?;
        if calls_sub(&q.main, last) || q.subs.iter().any(|s| calls_sub(s, last)) {
            return None;
        }
        q.subs.pop();
    } else if e.hit() {
        if q.main.ret == Expr::Lit(0) {
            return None;
        }
        q.main.ret = Expr::Lit(0);
    } else {
        e.func(&mut q.main);
        for s in &mut q.subs {
            if e.done {
                break;
            }
            e.func(s);
        }
        if !e.done {
            return None;
        }
    }
    q.finish();
    (q != *p).then_some(q)
}

fn calls_sub(f: &Func, n: usize) -> bool {
    let mut found = false;
    fn value(v: &Value, n: usize, found: &mut bool) {
        match v {
            Value::Marker(m) => {
                if matches!(&m.kind, MarkerKind::Call(CallOp::Sub(k, ..)) if *k == n) {
                    *found = true;
                }
            }
            Value::Block(b) => block(b, n, found),
            Value::If(c, t, e) => {
                value(c, n, found);
                block(t, n, found);
                block(e, n, found);
            }
            Value::Match(s, arms) => {
                value(s, n, found);
                for a in arms {
                    value(&a.body, n, found);
                }
            }
            Value::Loop(_, b) => block(b, n, found),
            Value::Expr(_) | Value::Try(_) => {}
        }
    }
    fn block(b: &Block, n: usize, found: &mut bool) {
        for s in &b.stmts {
            if let StmtKind::Marker(m) = &s.kind {
                if matches!(&m.kind, MarkerKind::Call(CallOp::Sub(k, ..)) if *k == n) {
                    *found = true;
                }
            }
            if let StmtKind::Let(v, _) = &s.kind {
                let _ = v;
            }
            crate::ast::for_children(&s.kind, &mut |c| match c {
                crate::ast::Child::Block(b) => block(b, n, found),
                crate::ast::Child::Value(v) => value(v, n, found),
            });
        }
        if let Some(t) = &b.tail {
            value(t, n, found);
        }
    }
    block(&f.body, n, &mut found);
    // A free function's state local of the sub counts as a use too.
    found || f.vars.iter().any(|v| v.ty == Ty::SubState(n))
}

struct Editor {
    left: usize,
    done: bool,
}

impl Editor {
    /// Whether this edit site is the one to apply.
    fn hit(&mut self) -> bool {
        if self.done {
            return false;
        }
        if self.left == 0 {
            self.done = true;
            true
        } else {
            self.left -= 1;
            false
        }
    }

    fn func(&mut self, f: &mut Func) {
        let vars: Vec<Ty> = f.vars.iter().map(|v| v.ty).collect();
        self.block(&mut f.body, &vars);
    }

    fn block(&mut self, b: &mut Block, vars: &[Ty]) {
        let mut i = 0;
        while i < b.stmts.len() {
            if self.done {
                return;
            }
            // Remove the statement.
            if self.hit() {
                b.stmts.remove(i);
                return;
            }
            // Replace it by the statements of one of its blocks.
            let children = child_blocks(&b.stmts[i].kind);
            for c in 0..children {
                if self.hit() {
                    let inner = take_child(&mut b.stmts[i].kind, c);
                    b.stmts.splice(i..=i, inner.stmts);
                    return;
                }
            }
            if b.stmts[i].cfg.is_some() && self.hit() {
                b.stmts[i].cfg = None;
                return;
            }
            self.stmt(&mut b.stmts[i].kind, vars);
            if self.done {
                return;
            }
            i += 1;
        }
        if let Some(t) = &mut b.tail {
            self.value(t, None, vars);
        }
    }

    fn stmt(&mut self, k: &mut StmtKind, vars: &[Ty]) {
        match k {
            StmtKind::Let(v, Some(init)) => {
                let ty = vars[*v];
                self.value(init, Some(ty), vars);
            }
            StmtKind::Assign { var, value, .. } => {
                let ty = vars[*var];
                self.value(value, Some(ty), vars);
            }
            StmtKind::IndexAssign {
                index,
                compound,
                value,
                ..
            } => {
                if *compound && self.hit() {
                    *compound = false;
                    return;
                }
                if !matches!(index, Expr::Lit(_)) && self.hit() {
                    *index = Expr::Lit(0);
                    return;
                }
                self.value(value, Some(Ty::U64), vars);
            }
            StmtKind::Marker(m) => {
                if m.label.is_some() && self.hit() {
                    m.label = None;
                    return;
                }
                if let MarkerKind::Call(op @ CallOp::Sub(..)) = &mut m.kind {
                    if self.hit() {
                        let CallOp::Sub(_, _, x) = op.clone() else {
                            unreachable!()
                        };
                        *op = CallOp::HandAdd(None, x);
                    }
                }
            }
            StmtKind::If(c, t, e) => {
                if e.is_some() && self.hit() {
                    *e = None;
                    return;
                }
                self.value(c, Some(Ty::Bool), vars);
                self.block(t, vars);
                if let Some(e) = e {
                    self.block(e, vars);
                }
            }
            StmtKind::IfLet(_, s, t, e) => {
                if e.is_some() && self.hit() {
                    *e = None;
                    return;
                }
                self.value(s, Some(Ty::OptU64), vars);
                self.block(t, vars);
                if let Some(e) = e {
                    self.block(e, vars);
                }
            }
            StmtKind::Match(s, arms) => {
                for j in 0..arms.len().saturating_sub(1) {
                    if self.hit() {
                        arms.remove(j);
                        return;
                    }
                }
                let sty = crate::ast::arm_scrut_ty(arms);
                self.value(s, Some(sty), vars);
                for a in arms {
                    if a.guard.is_some() && self.hit() {
                        a.guard = None;
                        return;
                    }
                    self.value(&mut a.body, Some(Ty::Unit), vars);
                }
            }
            StmtKind::Loop(h, kind, b) => {
                if h.bound > 1 && self.hit() {
                    h.bound = 1;
                    return;
                }
                if h.label.is_some() && self.hit() {
                    h.label = None;
                    return;
                }
                if let LoopKind::WhileCall(_, l) | LoopKind::WhileLetCall(_, _, l) = kind {
                    if l.is_some() && self.hit() {
                        *l = None;
                        return;
                    }
                }
                self.block(b, vars);
            }
            StmtKind::LetElse(x, s, b) => {
                if self.hit() {
                    let x = *x;
                    *k = StmtKind::Let(x, Some(Value::Expr(Expr::Lit(1))));
                    return;
                }
                self.value(s, Some(Ty::OptU64), vars);
                self.block(b, vars);
            }
            StmtKind::Block(b) => self.block(b, vars),
            StmtKind::Return(e) | StmtKind::Break(_, Some(e))
                if *e != Expr::Lit(0) && self.hit() =>
            {
                *e = Expr::Lit(0);
            }
            _ => {}
        }
    }

    fn value(&mut self, v: &mut Value, ty: Option<Ty>, vars: &[Ty]) {
        if self.done {
            return;
        }
        // Replace a construct or marker by a literal of its type.
        if !matches!(v, Value::Expr(Expr::Lit(_))) {
            if let Some(lit) = ty.and_then(literal) {
                if !matches!(v, Value::Expr(e) if !is_u64_expr(e) && ty == Some(Ty::U64))
                    && self.hit()
                {
                    *v = Value::Expr(lit);
                    return;
                }
            }
        }
        match v {
            Value::Marker(m) => {
                if m.label.is_some() && self.hit() {
                    m.label = None;
                    return;
                }
                if let MarkerKind::Call(op @ CallOp::Sub(..)) = &mut m.kind {
                    if self.hit() {
                        let CallOp::Sub(_, _, x) = op.clone() else {
                            unreachable!()
                        };
                        *op = CallOp::HandAdd(None, x);
                    }
                }
            }
            Value::Block(b) => {
                if b.stmts.is_empty() && b.tail.is_some() && self.hit() {
                    if let Some(t) = b.tail.take() {
                        *v = *t;
                    }
                    return;
                }
                self.block(b, vars);
            }
            Value::If(c, t, e) => {
                for branch in 0..2 {
                    if self.hit() {
                        let b = if branch == 0 {
                            (**t).clone()
                        } else {
                            (**e).clone()
                        };
                        *v = Value::Block(Box::new(b));
                        return;
                    }
                }
                self.value(c, Some(Ty::Bool), vars);
                self.block(t, vars);
                self.block(e, vars);
            }
            Value::Match(s, arms) => {
                for j in 0..arms.len().saturating_sub(1) {
                    if self.hit() {
                        arms.remove(j);
                        return;
                    }
                }
                let sty = crate::ast::arm_scrut_ty(arms);
                self.value(s, Some(sty), vars);
                for a in arms.iter_mut() {
                    if a.guard.is_some() && self.hit() {
                        a.guard = None;
                        return;
                    }
                    self.value(&mut a.body, ty, vars);
                }
            }
            Value::Loop(h, b) => {
                if h.bound > 1 && self.hit() {
                    h.bound = 1;
                    return;
                }
                if h.label.is_some() && self.hit() {
                    h.label = None;
                    return;
                }
                self.block(b, vars);
            }
            Value::Expr(_) | Value::Try(_) => {}
        }
    }
}

fn is_u64_expr(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Add(..)
            | Expr::Mul3(_)
            | Expr::Mod(..)
            | Expr::Len(_)
            | Expr::NoisyId(_)
            | Expr::UnwrapOr(..)
            | Expr::TupFirst(_)
            | Expr::TupLen(_)
            | Expr::First(_)
            | Expr::Var(_)
            | Expr::Index(..)
            | Expr::IndexLit(..)
            | Expr::ArrSum(_)
            | Expr::ArrFold(_)
            | Expr::ArrClosure(_)
            | Expr::ArrFmtLen(..)
    )
}

fn literal(ty: Ty) -> Option<Expr> {
    match ty {
        Ty::U64 => Some(Expr::Lit(1)),
        Ty::Bool => Some(Expr::Lt(Box::new(Expr::Lit(0)), Box::new(Expr::Lit(1)))),
        Ty::OptU64 => Some(Expr::None),
        Ty::ArrU64 => Some(Expr::ArrRepeat(Box::new(Expr::Lit(1)))),
        _ => None,
    }
}

fn child_blocks(k: &StmtKind) -> usize {
    match k {
        StmtKind::If(_, _, e) | StmtKind::IfLet(_, _, _, e) => 1 + usize::from(e.is_some()),
        StmtKind::Loop(..) | StmtKind::Block(_) => 1,
        StmtKind::Match(_, arms) => arms
            .iter()
            .filter(|a| matches!(a.body, Value::Block(_)))
            .count(),
        _ => 0,
    }
}

fn take_child(k: &mut StmtKind, c: usize) -> Block {
    match k {
        StmtKind::If(_, t, e) | StmtKind::IfLet(_, _, t, e) => {
            if c == 0 {
                std::mem::take(t)
            } else {
                e.take().unwrap_or_default()
            }
        }
        StmtKind::Loop(_, _, b) | StmtKind::Block(b) => std::mem::take(b),
        StmtKind::Match(_, arms) => {
            let mut blocks = arms.iter_mut().filter_map(|a| match &mut a.body {
                Value::Block(b) => Some(b),
                _ => None,
            });
            blocks
                .nth(c)
                .map(|b| std::mem::take(&mut **b))
                .unwrap_or_default()
        }
        _ => Block::default(),
    }
}

/// Greedy shrinking, one batch of candidate edits per step.
pub struct Shrinker<'a> {
    /// Whether a candidate still diverges the same way (given the batch
    /// of candidates, returns one verdict per candidate).
    pub reproduces: &'a mut dyn FnMut(&[Program]) -> Vec<bool>,
    /// Candidates per batch.
    pub batch: usize,
    /// Steps (batches) at most.
    pub max_steps: usize,
}

impl Shrinker<'_> {
    /// Shrinks `p`; returns the smallest program found and the steps taken.
    pub fn shrink(&mut self, p: &Program) -> (Program, usize) {
        let mut cur = p.clone();
        let mut steps = 0;
        for _pass in 0..4 {
            let mut k = 0;
            let mut changed = false;
            loop {
                if steps >= self.max_steps {
                    return (cur, steps);
                }
                let n = count_sites(&cur);
                let mut cands = Vec::new();
                let mut idx = Vec::new();
                let mut j = k;
                while cands.len() < self.batch && j < n {
                    if let Some(c) = edit(&cur, j) {
                        cands.push(c);
                        idx.push(j);
                    }
                    j += 1;
                }
                if cands.is_empty() {
                    break;
                }
                steps += 1;
                let ok = (self.reproduces)(&cands);
                match ok.iter().position(|x| *x) {
                    Some(i) => {
                        cur = cands.swap_remove(i);
                        k = idx[i];
                        changed = true;
                    }
                    None => k = j,
                }
            }
            if !changed {
                break;
            }
        }
        (cur, steps)
    }
}

/// The number of edit sites of `p` (applicable or not).
pub fn count_sites(p: &Program) -> usize {
    // An editor that never hits counts every site it passes.
    let mut q = p.clone();
    let mut e = Editor {
        left: usize::MAX,
        done: false,
    };
    e.hit();
    e.hit();
    e.hit();
    e.func(&mut q.main);
    for s in &mut q.subs {
        e.func(s);
    }
    usize::MAX - e.left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::{generate, GenConfig};

    #[test]
    fn every_edit_changes_the_program() {
        let c = GenConfig::default();
        for i in 0..30 {
            let p = generate(2, i, &c);
            let n = count_sites(&p);
            assert!(n > 3, "program {i} has {n} edit sites");
            for k in 0..n {
                if let Some(q) = edit(&p, k) {
                    assert_ne!(q, p, "program {i} edit {k}");
                }
            }
            assert!(edit(&p, n).is_none());
        }
    }
}
