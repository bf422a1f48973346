//! Phase 4: name resolution. Every binding of the lowered body gets a
//! [`LocalId`], and every leaf, condition and marker operand learns which
//! locals it reads, declares and assigns, following Rust's scoping: blocks,
//! `let` (a binding is visible after its statement), patterns of `if let`
//! and match arms, closures, nested blocks, macro arguments and
//! format-string captures (`"{name}"`). A read inside a leaf under the
//! `#[cfg]` of an inner statement, match arm or struct field is kept with
//! that `#[cfg]` ([`LeafInfo::only_under`]), so that liveness counts it only
//! where it is compiled. The types of locals are read here too, through
//! [`crate::bindings`], in the scope they are declared in.

use std::rc::Rc;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, Pat, Type};

use crate::bindings::{
    generic_arg_of, is_integer, let_bindings, no_drop_glue, pat_bindings, PatBinding, TypeScope,
};
use crate::ir::*;
use crate::lower::{internal_local, stmt_attrs_mut, strip};
use crate::points::Point;

/// Resolves `body` in place; `params` are the function's parameters.
pub fn resolve(body: &mut Body, points: &[Point], params: &[PatBinding]) {
    let mut r = Resolver {
        locals: std::mem::take(&mut body.locals),
        scopes: vec![Vec::new()],
        params,
        points,
        operands: vec![LeafInfo::default(); points.len()],
        order: 0,
        cfg: Vec::new(),
    };
    let declared = r.declare(params.to_vec(), None, &[]);
    for id in declared {
        let l = &mut r.locals[id.0];
        l.param = match &l.ty {
            Some(t) if no_drop_glue(t) => Param::InPlace,
            _ => Param::Carried,
        };
    }
    r.block(&mut body.block, Vec::new());
    body.locals = r.locals;
    body.operands = r.operands;
    counted_fors(body);
}

/// Finds the `for` loops over `a..end` that [`Counted`] describes.
fn counted_fors(body: &mut Body) {
    fn walk(b: &Block, out: &mut Vec<(LocalId, LocalId)>) {
        for s in &b.stmts {
            match &s.kind {
                StmtKind::Leaf(l) => {
                    if let Some(found) = loop_variable(l) {
                        out.push(found);
                    }
                }
                StmtKind::Point(_) => {}
                StmtKind::If(i) => walk_if(i, out),
                StmtKind::Match(m) => m.arms.iter().for_each(|a| walk(&a.body, out)),
                StmtKind::Loop(l) => walk(&l.body, out),
                StmtKind::Block(bs) => walk(&bs.body, out),
                StmtKind::LetElse(le) => walk(&le.diverge, out),
            }
        }
    }
    fn walk_if(i: &If, out: &mut Vec<(LocalId, LocalId)>) {
        walk(&i.then, out);
        match i.els.as_deref() {
            Some(Else::Block(b)) => walk(b, out),
            Some(Else::If(i)) => walk_if(i, out),
            None => {}
        }
    }
    // `let k = match ::core::iter::Iterator::next(&mut __io_iterN) { .. };`
    fn loop_variable(l: &Leaf) -> Option<(LocalId, LocalId)> {
        let syn::Stmt::Local(local) = &*l.stmt else {
            return None;
        };
        let Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.mutability.is_some() || pi.subpat.is_some() {
            return None;
        }
        let Expr::Match(m) = &*local.init.as_ref()?.expr else {
            return None;
        };
        let Expr::Call(call) = &*m.expr else {
            return None;
        };
        let Expr::Reference(r) = call.args.first()? else {
            return None;
        };
        let Expr::Path(it) = &*r.expr else {
            return None;
        };
        let it = internal_local(&it.path.get_ident()?.to_string())?;
        match l.info.defs.as_slice() {
            [var] => Some((it, *var)),
            _ => None,
        }
    }
    let mut found = Vec::new();
    walk(&body.block, &mut found);
    for (it, var) in found {
        let Some(f) = &body.locals[it.0].for_iter else {
            continue;
        };
        let Expr::Range(range) = strip(&f.iterable) else {
            continue;
        };
        let (syn::RangeLimits::HalfOpen(_), Some(_), Some(end)) =
            (&range.limits, &range.start, &range.end)
        else {
            continue;
        };
        let end = strip(end);
        let fixed = match end {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(_),
                ..
            }) => true,
            Expr::Path(p) => p.path.get_ident().is_some_and(|name| {
                let mut same_name = body.locals.iter().filter(|l| l.ident == *name);
                // Only a parameter of that name, never assigned, primitive.
                same_name.clone().count() == 1
                    && same_name.next().is_some_and(|l| {
                        l.param != Param::No && !l.mutable && l.ty.as_ref().is_some_and(is_integer)
                    })
            }),
            _ => false,
        };
        let integers = body.locals[it.0]
            .ty
            .as_ref()
            .and_then(|t| generic_arg_of(t, "Range"))
            .is_some_and(|t| is_integer(&t));
        if fixed && integers {
            let end = end.clone();
            body.locals[it.0].counted = Some(Counted { var, end });
        }
    }
}

struct Binding {
    name: String,
    id: LocalId,
    /// Declared under `#[cfg]`: a use may mean the binding it shadows too.
    conditional: bool,
}

struct Resolver<'a> {
    locals: Vec<Local>,
    /// The lowered body's scopes, innermost last.
    scopes: Vec<Vec<Binding>>,
    params: &'a [PatBinding],
    points: &'a [Point],
    operands: Vec<LeafInfo>,
    /// Declarations met so far.
    order: usize,
    /// The `#[cfg]` of the statements around the current one.
    cfg: Vec<Attribute>,
}

impl TypeScope for Resolver<'_> {
    fn type_of(&self, name: &str) -> Option<Type> {
        for scope in self.scopes.iter().rev() {
            if let Some(b) = scope.iter().rev().find(|b| b.name == name) {
                return self.locals[b.id.0].ty.clone();
            }
        }
        self.params
            .iter()
            .rev()
            .find(|p| p.ident == name)
            .and_then(|p| p.ty.clone())
    }
}

fn push_unique(v: &mut Vec<LocalId>, id: LocalId) {
    if !v.contains(&id) {
        v.push(id);
    }
}

impl Resolver<'_> {
    /// The locals `name` may mean here, innermost first.
    fn lookup(&self, name: &str) -> Vec<LocalId> {
        let mut out = Vec::new();
        for scope in self.scopes.iter().rev() {
            for b in scope.iter().rev() {
                if b.name == name {
                    out.push(b.id);
                    if !b.conditional {
                        return out;
                    }
                }
            }
        }
        out
    }

    /// Declares the bindings `found` in the current scope.
    fn declare(
        &mut self,
        found: Vec<PatBinding>,
        declared_ty: Option<&Type>,
        cfg: &[Attribute],
    ) -> Vec<LocalId> {
        let mut ids = Vec::new();
        for b in found {
            self.order += 1;
            let order = self.order;
            let name = b.ident.to_string();
            let id = match internal_local(&name) {
                Some(id)
                    if name.starts_with("__io_")
                        && id.0 < self.locals.len()
                        && self.locals[id.0].internal =>
                {
                    let l = &mut self.locals[id.0];
                    // A carrier typed where its `let` is (`let x: T = match
                    // ..`) is typed in every arm that declares it again:
                    // under `#[cfg]` an arm may hold no code that assigns it.
                    if l.declared_ty.is_none() && declared_ty.is_some() {
                        l.declared_ty = b.ty.clone();
                    }
                    if l.ty.is_none() {
                        l.ty = b.ty;
                    }
                    l.order = order;
                    id
                }
                _ => {
                    let id = LocalId(self.locals.len());
                    self.locals.push(Local {
                        ident: b.ident.clone(),
                        mutable: b.mutable,
                        by_ref: b.by_ref,
                        // A pattern's part of the written type (a tuple
                        // pattern's element), as `pat_bindings` read it.
                        declared_ty: declared_ty.and(b.ty.clone()),
                        ty: b.ty,
                        cfg: self.cfg.iter().chain(cfg).cloned().collect(),
                        for_iter: None,
                        counted: None,
                        internal: false,
                        order,
                        param: Param::No,
                    });
                    id
                }
            };
            self.scopes
                .last_mut()
                .expect("BUG: no scope")
                .push(Binding {
                    name,
                    id,
                    conditional: !cfg.is_empty(),
                });
            ids.push(id);
        }
        ids
    }

    fn block(&mut self, b: &mut Block, entry: Vec<PatBinding>) {
        self.scopes.push(Vec::new());
        b.entry_binds = self.declare(entry, None, &[]);
        for s in &mut b.stmts {
            self.stmt(s);
        }
        if let Some(tail) = &mut b.tail {
            self.leaf(Rc::make_mut(&mut tail.stmt), Rc::make_mut(&mut tail.info));
        }
        self.scopes.pop();
    }

    fn expr_info(&mut self, e: &mut Expr, info: &mut LeafInfo) {
        let mut lr = LeafResolver::new(self, Vec::new(), std::mem::take(info));
        lr.visit_expr_mut(e);
        *info = lr.info;
    }

    fn operand(&mut self, point: crate::points::PointId) {
        let mut info = LeafInfo::default();
        if let Some(op) = &self.points[point.0].operand {
            let mut op = op.clone();
            self.expr_info(&mut op, &mut info);
        }
        self.operands[point.0] = info;
    }

    fn stmt(&mut self, s: &mut Stmt) {
        let n = self.cfg.len();
        self.cfg.extend(s.cfg.iter().cloned());
        self.stmt_kind(&mut s.kind);
        self.cfg.truncate(n);
    }

    fn stmt_kind(&mut self, kind: &mut StmtKind) {
        match kind {
            StmtKind::Leaf(l) => {
                self.leaf(Rc::make_mut(&mut l.stmt), Rc::make_mut(&mut l.info));
            }
            StmtKind::Point(ps) => {
                self.operand(ps.point);
                match &mut ps.sink {
                    Sink::Discard { .. } => {}
                    Sink::Let {
                        pat, defs, diverge, ..
                    } => {
                        if let Some(d) = diverge {
                            self.block(d, Vec::new());
                        }
                        let mut found = Vec::new();
                        pat_bindings(pat, None, &mut found);
                        let declared = match &*pat {
                            Pat::Type(t) => Some((*t.ty).clone()),
                            _ => None,
                        };
                        *defs = self.declare(found, declared.as_ref(), &[]);
                    }
                    Sink::Assign { place, info, op } => {
                        if op.to_string() == "=" {
                            self.place(place, info);
                        } else {
                            // `x += ..` reads `x`.
                            self.expr_info(place, info);
                        }
                    }
                }
            }
            StmtKind::If(i) => self.if_(i),
            StmtKind::Match(m) => {
                let binds = self.cond(&mut m.scrut);
                debug_assert!(binds.is_empty());
                for arm in &mut m.arms {
                    let n = self.cfg.len();
                    self.cfg.extend(
                        arm.attrs
                            .iter()
                            .filter(|a| a.path().is_ident("cfg"))
                            .cloned(),
                    );
                    self.scopes.push(Vec::new());
                    let mut found = Vec::new();
                    pat_bindings(&arm.pat, None, &mut found);
                    let ids = self.declare(found, None, &[]);
                    if let Some((g, info)) = &mut arm.guard {
                        self.expr_info(g, info);
                    }
                    self.block(&mut arm.body, Vec::new());
                    // The pattern's bindings are the arm body's entry bindings.
                    let mut ids = ids;
                    ids.append(&mut arm.body.entry_binds);
                    arm.body.entry_binds = ids;
                    self.scopes.pop();
                    self.cfg.truncate(n);
                }
            }
            StmtKind::Loop(l) => match &mut l.header {
                LoopHeader::Loop => self.block(&mut l.body, Vec::new()),
                LoopHeader::While { cond, info } => {
                    let mut c = Cond::Plain {
                        expr: cond.clone(),
                        info: std::mem::take(info),
                    };
                    let binds = self.cond(&mut c);
                    if let Cond::Plain { info: i, .. } = c {
                        *info = i;
                    }
                    self.block(&mut l.body, binds);
                }
                LoopHeader::For { pat, expr, info } => {
                    self.expr_info(expr, info);
                    let mut found = Vec::new();
                    pat_bindings(pat, None, &mut found);
                    self.block(&mut l.body, found);
                }
            },
            StmtKind::Block(b) => self.block(&mut b.body, Vec::new()),
            StmtKind::LetElse(le) => {
                self.expr_info(&mut le.init, &mut le.info);
                self.block(&mut le.diverge, Vec::new());
                let found = let_bindings(&le.pat, Some(&le.init), self);
                le.defs = self.declare(found, None, &[]);
            }
        }
    }

    /// An assignment's place: a bare local is overwritten whole; anything
    /// else reads its base.
    fn place(&mut self, place: &mut Expr, info: &mut LeafInfo) {
        if let Expr::Path(p) = place {
            if let Some(ident) = p.path.get_ident() {
                for id in self.lookup(&ident.to_string()) {
                    push_unique(&mut info.kills, id);
                    push_unique(&mut info.assigns, id);
                }
                return;
            }
        }
        self.expr_info(place, info);
    }

    /// Resolves a condition; returns the bindings it gives its `then`.
    fn cond(&mut self, c: &mut Cond) -> Vec<PatBinding> {
        match c {
            Cond::Plain { expr, info } => {
                let mut lr = LeafResolver::new(self, vec![Vec::new()], std::mem::take(info));
                lr.visit_cond(expr);
                let binds = lr.inner.pop().unwrap_or_default();
                *info = lr.info;
                binds.into_iter().map(|(_, b)| b).collect()
            }
            Cond::Point(p) => {
                self.operand(*p);
                Vec::new()
            }
            Cond::LetPoint { pat, point } => {
                self.operand(*point);
                let mut found = Vec::new();
                pat_bindings(pat, None, &mut found);
                found
            }
        }
    }

    fn if_(&mut self, i: &mut If) {
        let binds = self.cond(&mut i.cond);
        self.block(&mut i.then, binds);
        match i.els.as_deref_mut() {
            Some(Else::Block(b)) => self.block(b, Vec::new()),
            Some(Else::If(inner)) => self.if_(inner),
            None => {}
        }
    }

    fn leaf(&mut self, stmt: &mut syn::Stmt, info: &mut LeafInfo) {
        match stmt {
            syn::Stmt::Local(l) => {
                {
                    let mut lr = LeafResolver::new(self, Vec::new(), std::mem::take(info));
                    if let Some(init) = &mut l.init {
                        lr.visit_expr_mut(&mut init.expr);
                        if let Some((_, d)) = &mut init.diverge {
                            lr.visit_expr_mut(d);
                        }
                    }
                    *info = lr.info;
                }
                let cfg: Vec<Attribute> = l
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("cfg"))
                    .cloned()
                    .collect();
                let init = l.init.as_ref().map(|i| &*i.expr);
                let found = let_bindings(&l.pat, init, self);
                let declared = match &l.pat {
                    Pat::Type(t) => Some((*t.ty).clone()),
                    _ => None,
                };
                info.defs = self.declare(found, declared.as_ref(), &cfg);
            }
            syn::Stmt::Expr(e, _) => {
                if let Expr::Assign(a) = e {
                    let mut place = (*a.left).clone();
                    self.place(&mut place, info);
                    self.expr_info(&mut a.right, info);
                } else {
                    self.expr_info(e, info);
                }
            }
            syn::Stmt::Macro(m) => {
                let mut lr = LeafResolver::new(self, Vec::new(), std::mem::take(info));
                lr.tokens(m.mac.tokens.clone());
                *info = lr.info;
            }
            syn::Stmt::Item(_) => {}
        }
    }
}

/// Resolves the names inside one leaf: its own bindings (closures, inner
/// blocks, match arms) first, then the body's.
struct LeafResolver<'r, 'a> {
    outer: &'r mut Resolver<'a>,
    /// Scopes inside the leaf, innermost last.
    inner: Vec<Vec<(String, PatBinding)>>,
    info: LeafInfo,
    /// The `#[cfg]`s of the statements, arms and fields inside the leaf
    /// around the name being read, outermost first.
    cfg: Vec<Attribute>,
}

impl<'r, 'a> LeafResolver<'r, 'a> {
    fn new(
        outer: &'r mut Resolver<'a>,
        inner: Vec<Vec<(String, PatBinding)>>,
        info: LeafInfo,
    ) -> Self {
        LeafResolver {
            outer,
            inner,
            info,
            cfg: Vec::new(),
        }
    }

    /// Runs `f` with the `#[cfg]`s among `attrs` around what it reads.
    fn under(&mut self, attrs: &[Attribute], f: impl FnOnce(&mut Self)) {
        let n = self.cfg.len();
        self.cfg
            .extend(attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned());
        f(self);
        self.cfg.truncate(n);
    }
    fn bind_pat(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        pat_bindings(pat, None, &mut names);
        if self.inner.is_empty() {
            self.inner.push(Vec::new());
        }
        let scope = self.inner.last_mut().expect("BUG: no scope");
        for b in names {
            scope.push((b.ident.to_string(), b));
        }
    }

    fn is_inner(&self, name: &str) -> bool {
        self.inner.iter().any(|s| s.iter().any(|(n, _)| n == name))
    }

    fn use_name(&mut self, name: &str) {
        if self.is_inner(name) {
            return;
        }
        for id in self.outer.lookup(name) {
            let known = self.info.uses.contains(&id);
            let under = self.info.only_under.iter().any(|(u, _)| *u == id);
            push_unique(&mut self.info.uses, id);
            if self.cfg.is_empty() {
                // Read unconditionally: live wherever the leaf is.
                self.info.only_under.retain(|(u, _)| *u != id);
            } else if !known || under {
                // So far read only under `#[cfg]`s: live only where one
                // of them holds.
                let entry = (id, self.cfg.clone());
                if !self.info.only_under.contains(&entry) {
                    self.info.only_under.push(entry);
                }
            }
        }
    }

    fn assign_name(&mut self, name: &str) {
        if self.is_inner(name) {
            return;
        }
        for id in self.outer.lookup(name) {
            push_unique(&mut self.info.assigns, id);
        }
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.inner.push(Vec::new());
        f(self);
        self.inner.pop();
    }

    /// An `if`/`while` condition whose `let` bindings scope over what
    /// follows in the current scope.
    fn visit_cond(&mut self, cond: &mut Expr) {
        match cond {
            Expr::Let(l) => {
                self.visit_expr_mut(&mut l.expr);
                self.bind_pat(&l.pat);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.visit_cond(&mut b.left);
                self.visit_cond(&mut b.right);
            }
            Expr::Paren(p) => self.visit_cond(&mut p.expr),
            other => self.visit_expr_mut(other),
        }
    }

    fn tokens(&mut self, tokens: TokenStream) {
        for tt in tokens {
            match tt {
                TokenTree::Ident(i) => self.use_name(&i.to_string()),
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(lit) => {
                    let s = lit.to_string();
                    if s.starts_with('"') || s.starts_with("r\"") || s.starts_with("r#") {
                        for name in format_captures(&s) {
                            self.use_name(&name);
                        }
                    }
                }
                TokenTree::Punct(_) => {}
            }
        }
    }
}

/// The identifiers captured by a format string literal's `{name..}`.
pub fn format_captures(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '{' {
            if chars.get(i + 1) == Some(&'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if j > start && !chars[start].is_ascii_digit() {
                out.push(chars[start..j].iter().collect());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

impl VisitMut for LeafResolver<'_, '_> {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        self.scoped(|r| {
            for stmt in &mut b.stmts {
                let attrs = stmt_attrs_mut(stmt).map(|a| a.clone()).unwrap_or_default();
                r.under(&attrs, |r| r.visit_stmt_mut(stmt));
            }
        });
    }

    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        let attrs = std::mem::take(&mut f.attrs);
        self.under(&attrs, |r| syn::visit_mut::visit_field_value_mut(r, f));
        f.attrs = attrs;
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        if let Some(init) = &mut l.init {
            self.visit_expr_mut(&mut init.expr);
            if let Some((_, d)) = &mut init.diverge {
                self.visit_expr_mut(d);
            }
        }
        self.bind_pat(&l.pat);
    }

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        self.scoped(|r| {
            for input in &c.inputs {
                r.bind_pat(input);
            }
            r.visit_expr_mut(&mut c.body);
        });
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let attrs = arm.attrs.clone();
        self.under(&attrs, |r| {
            r.scoped(|r| {
                r.bind_pat(&arm.pat);
                if let Some((_, g)) = &mut arm.guard {
                    r.visit_expr_mut(g);
                }
                r.visit_expr_mut(&mut arm.body);
            })
        });
    }

    fn visit_expr_if_mut(&mut self, e: &mut syn::ExprIf) {
        self.scoped(|r| {
            r.visit_cond(&mut e.cond);
            r.visit_block_mut(&mut e.then_branch);
        });
        if let Some((_, els)) = &mut e.else_branch {
            self.visit_expr_mut(els);
        }
    }

    fn visit_expr_while_mut(&mut self, e: &mut syn::ExprWhile) {
        self.scoped(|r| {
            r.visit_cond(&mut e.cond);
            r.visit_block_mut(&mut e.body);
        });
    }

    fn visit_expr_let_mut(&mut self, l: &mut syn::ExprLet) {
        // A `let` outside an `if`/`while` condition: its bindings do not
        // escape.
        self.visit_expr_mut(&mut l.expr);
    }

    fn visit_expr_for_loop_mut(&mut self, e: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut e.expr);
        self.scoped(|r| {
            r.bind_pat(&e.pat);
            r.visit_block_mut(&mut e.body);
        });
    }

    fn visit_expr_assign_mut(&mut self, a: &mut syn::ExprAssign) {
        match &*a.left {
            Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                let name = p.path.get_ident().expect("checked").to_string();
                self.assign_name(&name);
            }
            _ => self.visit_expr_mut(&mut a.left),
        }
        self.visit_expr_mut(&mut a.right);
    }

    fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
        if p.qself.is_none() {
            if let Some(ident) = p.path.get_ident() {
                let name = ident.to_string();
                self.use_name(&name);
            }
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        self.tokens(m.tokens.clone());
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}

    fn visit_pat_mut(&mut self, _: &mut Pat) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Errors;
    use crate::points::Finder;

    fn resolved(mut block: syn::Block) -> (Body, Vec<Point>) {
        let mut errors = Errors::default();
        let mut f = Finder::new(&mut errors);
        f.run(&mut block);
        let points = std::mem::take(&mut f.points);
        let mut body = crate::lower::lower(&block, &mut errors);
        resolve(&mut body, &points, &[]);
        assert!(errors.is_empty());
        (body, points)
    }

    fn names(body: &Body, ids: &[LocalId]) -> Vec<String> {
        ids.iter()
            .map(|id| body.locals[id.0].ident.to_string())
            .collect()
    }

    fn by_name(body: &Body, name: &str) -> LocalId {
        LocalId(body.locals.iter().position(|l| l.ident == name).unwrap())
    }

    fn leaf(b: &Block, i: usize) -> &LeafInfo {
        match &b.stmts[i].kind {
            StmtKind::Leaf(l) => &l.info,
            _ => panic!("statement {i} is not a leaf"),
        }
    }

    #[test]
    fn uses_resolve_to_the_nearest_binding() {
        let (body, _) = resolved(syn::parse_quote!({
            let a = 1u8;
            let b = 2u8;
            let c = {
                let b = 5;
                b + a
            };
            let f = |a: u8| a + b;
            println!("{c} {}", f(1));
            c = 3;
            Ok(IOResult::Done(()))
        }));
        let b = &body.block;
        assert_eq!(names(&body, &leaf(b, 2).uses), ["a"]);
        assert_eq!(names(&body, &leaf(b, 3).uses), ["b"]);
        assert_eq!(names(&body, &leaf(b, 4).uses), ["c", "f"]);
        assert_eq!(names(&body, &leaf(b, 5).kills), ["c"]);
        assert!(leaf(b, 5).uses.is_empty());
        let a = by_name(&body, "a");
        assert_eq!(
            body.locals[a.0]
                .ty
                .as_ref()
                .map(|t| quote::quote!(#t).to_string()),
            Some("u8".into())
        );
    }

    #[test]
    fn reads_under_inner_cfg_are_kept_with_their_cfg() {
        let (body, _) = resolved(syn::parse_quote!({
            let a = 1u8;
            let b = 2u8;
            let c = 3u8;
            let o = {
                #[cfg(feature = "x")]
                log(a);
                #[cfg(feature = "x")]
                log(b);
                log(b);
                match 1 {
                    #[cfg(unix)]
                    1 => log(c),
                    _ => {}
                }
                5
            };
            Ok(IOResult::Done(o))
        }));
        let info = leaf(&body.block, 3);
        assert_eq!(names(&body, &info.uses), ["a", "b", "c"]);
        // `b` is also read unconditionally: live wherever the leaf is.
        let under: Vec<(String, String)> = info
            .only_under
            .iter()
            .map(|(id, cfg)| {
                let cfg = cfg.iter().map(|a| quote::quote!(#a).to_string()).collect();
                (body.locals[id.0].ident.to_string(), cfg)
            })
            .collect();
        assert_eq!(
            under,
            [
                ("a".into(), "# [cfg (feature = \"x\")]".into()),
                ("c".into(), "# [cfg (unix)]".into())
            ]
        );
    }

    #[test]
    fn patterns_scope_over_their_blocks() {
        let (body, _) = resolved(syn::parse_quote!({
            let x = 1u32;
            if let Some(x) = opt {
                use_it(x);
            } else {
                use_it(x);
            }
            match m {
                Some(y) if y > x => use_it(y),
                _ => {}
            }
            Ok(IOResult::Done(()))
        }));
        let StmtKind::If(i) = &body.block.stmts[1].kind else {
            panic!()
        };
        assert_eq!(names(&body, &i.then.entry_binds), ["x"]);
        let outer = by_name(&body, "x");
        assert_ne!(leaf(&i.then, 0).uses, [outer]);
        let Some(Else::Block(e)) = i.els.as_deref() else {
            panic!()
        };
        assert_eq!(leaf(e, 0).uses, [outer]);
        let StmtKind::Match(m) = &body.block.stmts[2].kind else {
            panic!()
        };
        let (_, guard) = m.arms[0].guard.as_ref().unwrap();
        assert_eq!(names(&body, &guard.uses), ["y", "x"]);
    }

    #[test]
    fn operands_and_assignments() {
        let (body, _) = resolved(syn::parse_quote!({
            let c = Completion::new_sync(|_| {});
            let mut n: u64;
            wait!(c);
            n = call!(op(c));
            if k {
                n = 1;
            } else {
                n = 2;
            }
            Ok(IOResult::Done(n))
        }));
        assert_eq!(names(&body, &body.operands[0].uses), ["c"]);
        let StmtKind::Point(p) = &body.block.stmts[3].kind else {
            panic!()
        };
        let Sink::Assign { info, .. } = &p.sink else {
            panic!()
        };
        assert_eq!(names(&body, &info.kills), ["n"]);
        let n = by_name(&body, "n");
        assert_eq!(
            body.locals[n.0]
                .declared_ty
                .as_ref()
                .map(|t| quote::quote!(#t).to_string()),
            Some("u64".into())
        );
    }

    #[test]
    fn format_capture_parsing() {
        assert_eq!(
            format_captures("\"{a} {b:?} {0} {{c}} {d_1:>4}\""),
            ["a", "b", "d_1"]
        );
    }
}
