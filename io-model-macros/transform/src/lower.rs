//! Phase 3: lowering. The body, its markers replaced by placeholders, becomes
//! the tree of [`crate::ir`].
//!
//! - Statement-level `if`, `match`, blocks and labelled blocks become nodes;
//!   so do loops that hold a suspension point, rewritten to plain `loop`s:
//!   `while COND { body }` is `loop { if COND { body } else { break; } }`,
//!   and `for PAT in EXPR { body }` is `{ let mut __io_iterN =
//!   IntoIterator::into_iter(EXPR); loop { let PAT = match
//!   Iterator::next(&mut __io_iterN) { Some(x) => x, None => break }; { body } } }`,
//!   so that the iterator is a local like any other.
//! - A construct that holds a suspension point and whose value is used (a
//!   `let` initializer, an assignment's right side, the function's result)
//!   assigns its value to a hidden carrier local instead, at every place the
//!   value is made (block tails, `break` values), and the value is taken
//!   from the carrier after it: `let x = if c { call!(a) } else { 5 };` is
//!   `let __io_v; if c { __io_v = call!(a); } else { __io_v = 5; } let x =
//!   __io_v;`. The later phases then only see values that flow straight
//!   from a marker into a `let`, an assignment or a scrutinee.
//! - Everything else is a leaf, kept as written, with the `break`,
//!   `continue` and `return` inside it that leave it ([`visit_exits`]).

use std::rc::Rc;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;
use syn::{Attribute, Expr, Ident, Label, Lifetime, Pat};

use crate::errors::Errors;
use crate::ir::*;
use crate::points::{placeholder_id, PointId};

/// A loop or labelled block around a leaf, innermost last.
#[derive(Clone)]
pub struct Enclosing {
    pub id: NodeId,
    pub label: Option<Lifetime>,
    pub is_loop: bool,
}

/// Lowers a function body.
pub fn lower(body: &syn::Block, errors: &mut Errors) -> Body {
    let mut l = Lowerer {
        nodes: 0,
        stack: Vec::new(),
        locals: Vec::new(),
        cfg: Vec::new(),
        errors,
    };
    let block = l.body(body);
    Body {
        block,
        nodes: l.nodes,
        locals: l.locals,
        operands: Vec::new(),
    }
}

struct Lowerer<'e> {
    nodes: usize,
    stack: Vec<Enclosing>,
    /// The locals the lowering makes up (carriers, `for` iterators).
    locals: Vec<Local>,
    /// The `#[cfg]` attributes of the statements being lowered.
    cfg: Vec<Attribute>,
    errors: &'e mut Errors,
}

/// The carrier local with id `id`: `__io_v3`.
pub fn carrier_ident(id: LocalId) -> Ident {
    Ident::new(&format!("__io_v{}", id.0), Span::mixed_site())
}

/// The hidden iterator local of a `for` loop: `__io_iter3`.
pub fn iter_ident(id: LocalId) -> Ident {
    Ident::new(&format!("__io_iter{}", id.0), Span::mixed_site())
}

/// The local a macro-made name stands for (`__io_v3`, `__io_iter3`).
pub fn internal_local(name: &str) -> Option<LocalId> {
    let n = name
        .strip_prefix("__io_v")
        .or_else(|| name.strip_prefix("__io_iter"))?;
    n.parse().ok().map(LocalId)
}

fn is_cfg(a: &Attribute) -> bool {
    a.path().is_ident("cfg")
}

/// Takes the `#[cfg]` attributes out of `attrs`.
fn take_cfg(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (cfg, rest) = std::mem::take(attrs).into_iter().partition(is_cfg);
    *attrs = rest;
    cfg
}

/// `e` without the parentheses and invisible groups around it.
pub fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        _ => e,
    }
}

/// The point a bare marker expression stands for (through parentheses).
fn point_of(e: &Expr) -> Option<PointId> {
    placeholder_id(strip(e))
}

fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

impl Lowerer<'_> {
    fn node(&mut self) -> NodeId {
        self.nodes += 1;
        NodeId(self.nodes - 1)
    }

    fn new_local(&mut self, ident: Ident, mutable: bool) -> LocalId {
        let id = LocalId(self.locals.len());
        self.locals.push(Local {
            ident,
            mutable,
            by_ref: false,
            ty: None,
            declared_ty: None,
            cfg: Vec::new(),
            for_iter: None,
            counted: None,
            internal: true,
            order: 0,
            param: Param::No,
        });
        id
    }

    fn new_carrier(&mut self) -> LocalId {
        let id = self.new_local(Ident::new("__io_v", Span::mixed_site()), false);
        self.locals[id.0].ident = carrier_ident(id);
        id
    }

    fn stmt(&mut self, kind: StmtKind, cfg: Vec<Attribute>) -> Stmt {
        let id = self.node();
        self.make(id, kind, cfg)
    }

    fn make(&mut self, id: NodeId, kind: StmtKind, cfg: Vec<Attribute>) -> Stmt {
        let has_point = match &kind {
            StmtKind::Leaf(_) => false,
            StmtKind::Point(_) => true,
            StmtKind::If(i) => if_has_point(i),
            StmtKind::Match(m) => {
                matches!(m.scrut, Cond::Point(_) | Cond::LetPoint { .. })
                    || m.arms.iter().any(|a| block_has_point(&a.body))
            }
            StmtKind::Loop(l) => block_has_point(&l.body),
            StmtKind::Block(b) => block_has_point(&b.body),
            StmtKind::LetElse(_) => true,
        };
        Stmt {
            id,
            cfg,
            kind,
            has_point,
        }
    }

    fn leaf(&mut self, stmt: syn::Stmt) -> Stmt {
        let mut stmt = stmt;
        let info = self.leaf_info(&mut stmt);
        // `#[cfg(..)] return ..;` diverges only where it is compiled: the
        // statement carries its `#[cfg]`, as a node does, so that the code
        // after it is emitted (and its locals kept) for where it is not.
        let mut info = info;
        let cfg = match info.diverges {
            true => take_stmt_cfg(&mut stmt),
            false => {
                info.cfg = stmt_attrs_mut(&mut stmt)
                    .map(|a| a.iter().filter(|a| is_cfg(a)).cloned().collect())
                    .unwrap_or_default();
                Vec::new()
            }
        };
        self.stmt(StmtKind::Leaf(Leaf::new(stmt, info)), cfg)
    }

    fn leaf_info(&mut self, stmt: &mut syn::Stmt) -> LeafInfo {
        let mut info = LeafInfo {
            diverges: diverges(stmt),
            ..LeafInfo::default()
        };
        visit_exits_stmt(stmt, &self.stack, &mut |_, exit| {
            if !info.exits.contains(&exit) {
                info.exits.push(exit)
            }
        });
        info
    }

    fn expr_info(&mut self, expr: &mut Expr) -> LeafInfo {
        let mut info = LeafInfo::default();
        visit_exits(expr, &self.stack, &mut |_, exit| {
            if !info.exits.contains(&exit) {
                info.exits.push(exit)
            }
        });
        info
    }

    fn body(&mut self, b: &syn::Block) -> Block {
        let mut stmts = b.stmts.clone();
        // The function's value: a tail expression without `;`.
        let tail = match stmts.last() {
            Some(syn::Stmt::Expr(_, None)) => match stmts.pop() {
                Some(syn::Stmt::Expr(e, None)) => Some(e),
                _ => None,
            },
            _ => None,
        };
        let id = self.node();
        let mut out = Vec::new();
        for s in stmts {
            out.extend(self.lower_stmt(s));
        }
        let tail = tail.map(|e| {
            let mut probe = Vec::new();
            let carrier = (point_of(&e).is_some() || is_construct(&e)).then(|| self.new_carrier());
            let lowered = carrier.filter(|c| self.value(e.clone(), *c, &mut probe));
            let mut e = match lowered {
                Some(c) => {
                    let v = carrier_ident(c);
                    out.push(self.leaf(syn::parse_quote!(let #v;)));
                    out.extend(probe);
                    syn::parse_quote!(#v)
                }
                None => e,
            };
            let info = self.expr_info(&mut e);
            Leaf::new(syn::Stmt::Expr(e, None), info)
        });
        Block {
            id,
            stmts: out,
            entry_binds: Vec::new(),
            tail,
            span: b.brace_token.span.join(),
        }
    }

    /// A block in statement position (its tail, if any, is a statement).
    fn block(&mut self, b: &syn::Block) -> Block {
        let id = self.node();
        let mut stmts = Vec::new();
        for s in &b.stmts {
            stmts.extend(self.lower_stmt(s.clone()));
        }
        Block {
            id,
            stmts,
            entry_binds: Vec::new(),
            tail: None,
            span: b.brace_token.span.join(),
        }
    }

    /// A block made of statements.
    fn block_of(&mut self, stmts: Vec<Stmt>, span: Span) -> Block {
        Block {
            id: self.node(),
            stmts,
            entry_binds: Vec::new(),
            tail: None,
            span,
        }
    }

    fn with_cfg<T>(&mut self, cfg: &[Attribute], f: impl FnOnce(&mut Self) -> T) -> T {
        let n = self.cfg.len();
        self.cfg.extend(cfg.iter().cloned());
        let out = f(self);
        self.cfg.truncate(n);
        out
    }

    fn lower_stmt(&mut self, stmt: syn::Stmt) -> Vec<Stmt> {
        match stmt {
            syn::Stmt::Local(mut local) => {
                let Some(init) = local.init.take() else {
                    return vec![self.leaf(syn::Stmt::Local(local))];
                };
                let init_point = point_of(&init.expr);
                // The `else` block, lowered once.
                let diverge = init.diverge.as_ref().and_then(|(_, d)| match strip(d) {
                    Expr::Block(b) => Some(self.block(&b.block)),
                    _ => None,
                });
                let else_points = diverge.as_ref().is_some_and(block_has_point);
                let mut out = Vec::new();
                let mut init_expr = (*init.expr).clone();
                if init_point.is_none() && is_construct(&init_expr) {
                    // A value construct holding a point goes through a carrier.
                    let carrier = self.new_carrier();
                    let mut probe = Vec::new();
                    if self.value(init_expr.clone(), carrier, &mut probe) {
                        let v = carrier_ident(carrier);
                        // Typed where the `let` is: under `#[cfg]`, the code
                        // that assigns it may not be compiled.
                        let decl: syn::Stmt = match &local.pat {
                            Pat::Type(t) => {
                                let ty = &t.ty;
                                syn::parse_quote!(let #v: #ty;)
                            }
                            _ => syn::parse_quote!(let #v;),
                        };
                        out.push(self.leaf(decl));
                        out.extend(probe);
                        init_expr = syn::parse_quote!(#v);
                    }
                }
                let holds = init_point.is_some() || else_points || !out.is_empty();
                if holds && local.attrs.iter().any(is_cfg) {
                    self.cfg_let_error(&local);
                }
                if init_point.is_none() && !else_points {
                    local.init = Some(syn::LocalInit {
                        eq_token: init.eq_token,
                        expr: Box::new(init_expr),
                        diverge: init.diverge,
                    });
                    out.push(self.leaf(syn::Stmt::Local(local)));
                    return out;
                }
                let attrs = std::mem::take(&mut local.attrs);
                let kind = match init_point {
                    Some(point) => StmtKind::Point(PointStmt {
                        point,
                        sink: Sink::Let {
                            attrs,
                            pat: local.pat,
                            defs: Vec::new(),
                            diverge,
                        },
                    }),
                    None => {
                        let mut expr = init_expr;
                        let info = self.expr_info(&mut expr);
                        StmtKind::LetElse(LetElse {
                            attrs,
                            pat: local.pat,
                            init: expr,
                            info,
                            defs: Vec::new(),
                            diverge: diverge.expect("checked: the else holds a point"),
                        })
                    }
                };
                out.push(self.stmt(kind, Vec::new()));
                out
            }
            syn::Stmt::Macro(m) => {
                let expr = Expr::Macro(syn::ExprMacro {
                    attrs: m.attrs.clone(),
                    mac: m.mac.clone(),
                });
                if point_of(&expr).is_some() {
                    self.lower_expr_stmt(expr, m.semi_token.is_some())
                } else {
                    vec![self.leaf(syn::Stmt::Macro(m))]
                }
            }
            syn::Stmt::Expr(e, semi) => self.lower_expr_stmt(e, semi.is_some()),
            item @ syn::Stmt::Item(_) => vec![self.leaf(item)],
        }
    }

    fn cfg_let_error(&mut self, local: &syn::Local) {
        self.errors.push(
            local.let_token.span,
            "a `let` under `#[cfg(..)]` cannot hold a suspension point: the attribute could not \
             tell which binding later code uses; put the `#[cfg(..)]` on a block around the \
             `let` and the code that uses it: `#[cfg(..)] { let x = call!(..); .. }`",
        );
    }

    fn lower_expr_stmt(&mut self, mut e: Expr, semi: bool) -> Vec<Stmt> {
        let cfg = match &mut e {
            Expr::If(i) => take_cfg(&mut i.attrs),
            Expr::Match(m) => take_cfg(&mut m.attrs),
            Expr::Loop(l) => take_cfg(&mut l.attrs),
            Expr::While(w) => take_cfg(&mut w.attrs),
            Expr::ForLoop(f) => take_cfg(&mut f.attrs),
            Expr::Block(b) => take_cfg(&mut b.attrs),
            Expr::Unsafe(u) => take_cfg(&mut u.attrs),
            Expr::Macro(m) => take_cfg(&mut m.attrs),
            Expr::Assign(a) => take_cfg(&mut a.attrs),
            Expr::Binary(b) => take_cfg(&mut b.attrs),
            _ => Vec::new(),
        };
        let out = self.with_cfg(&cfg.clone(), |l| l.lower_expr_stmt_inner(e, semi));
        if cfg.is_empty() {
            return out;
        }
        // A statement under `#[cfg]`: a leaf keeps its attribute in place;
        // a node carries it.
        out.into_iter()
            .map(|mut s| {
                match &mut s.kind {
                    StmtKind::Leaf(l) if !l.info.diverges => {
                        put_attrs(Rc::make_mut(&mut l.stmt), &cfg);
                        Rc::make_mut(&mut l.info).cfg = cfg.clone();
                    }
                    _ => s.cfg.extend(cfg.iter().cloned()),
                }
                s
            })
            .collect()
    }

    fn lower_expr_stmt_inner(&mut self, e: Expr, semi: bool) -> Vec<Stmt> {
        let e = hoist_conditions(e);
        if let Some(point) = point_of(&e) {
            let kind = StmtKind::Point(PointStmt {
                point,
                sink: Sink::Discard { semi },
            });
            return vec![self.stmt(kind, Vec::new())];
        }
        let as_leaf = |l: &mut Self, e: Expr| {
            let semi = semi.then(Default::default);
            vec![l.leaf(syn::Stmt::Expr(e, semi))]
        };
        match e {
            Expr::Paren(p) => self.lower_expr_stmt_inner(*p.expr, semi),
            Expr::Group(g) => self.lower_expr_stmt_inner(*g.expr, semi),
            Expr::Assign(a) => {
                let op = a.eq_token.to_token_stream();
                self.assign(*a.left, op, *a.right, semi)
            }
            Expr::Binary(b) if is_compound_assign(&b.op) => {
                let op = b.op.to_token_stream();
                self.assign(*b.left, op, *b.right, semi)
            }
            Expr::If(mut i) if self.jumps_out(&i.cond) => {
                let attrs = std::mem::take(&mut i.attrs);
                let block = condition_first(i);
                let e = Expr::Block(syn::ExprBlock {
                    attrs,
                    label: None,
                    block,
                });
                self.lower_expr_stmt_inner(e, semi)
            }
            Expr::If(i) => {
                let i = self.lower_if(i);
                vec![self.stmt(StmtKind::If(i), Vec::new())]
            }
            Expr::Match(m) => {
                let m = self.lower_match(m);
                vec![self.stmt(StmtKind::Match(m), Vec::new())]
            }
            Expr::Block(b) => {
                let id = self.open(b.label.as_ref(), false);
                let body = self.block(&b.block);
                self.stack.pop();
                let bs = BlockStmt {
                    attrs: b.attrs,
                    label: b.label,
                    unsafety: false,
                    body,
                    semi,
                };
                vec![self.stmt_with_id(id, StmtKind::Block(bs))]
            }
            Expr::Unsafe(u) => {
                let body = self.block(&u.block);
                let bs = BlockStmt {
                    attrs: u.attrs,
                    label: None,
                    unsafety: true,
                    body,
                    semi,
                };
                vec![self.stmt(StmtKind::Block(bs), Vec::new())]
            }
            Expr::Loop(lp) => {
                let id = self.open(lp.label.as_ref(), true);
                let body = self.block(&lp.body);
                self.stack.pop();
                let lo = Loop {
                    attrs: lp.attrs,
                    label: lp.label,
                    header: LoopHeader::Loop,
                    body,
                };
                vec![self.stmt_with_id(id, StmtKind::Loop(lo))]
            }
            Expr::While(w) => {
                let id = self.open(w.label.as_ref(), true);
                // `loop { if COND { body } else { break; } }`, lowered only
                // if it holds a point.
                let then = self.block(&w.body);
                let cond_point = cond_point(&w.cond);
                if !block_has_point(&then) && cond_point.is_none() {
                    // Kept as a `while`, a node so that liveness sees in.
                    let mut cond = *w.cond;
                    self.stack.pop();
                    let info = self.expr_info(&mut cond);
                    let lo = Loop {
                        attrs: w.attrs,
                        label: w.label,
                        header: LoopHeader::While { cond, info },
                        body: then,
                    };
                    return vec![self.stmt_with_id(id, StmtKind::Loop(lo))];
                }
                let cond = self.lower_cond(*w.cond.clone());
                let brk = self.leaf(syn::parse_quote!(break;));
                let span = w.body.brace_token.span.join();
                let els = self.block_of(vec![brk], span);
                let i = If {
                    attrs: Vec::new(),
                    cond,
                    then,
                    els: Some(Box::new(Else::Block(els))),
                };
                let if_stmt = self.stmt(StmtKind::If(i), Vec::new());
                self.stack.pop();
                let body = self.block_of(vec![if_stmt], span);
                let lo = Loop {
                    attrs: w.attrs,
                    label: w.label,
                    header: LoopHeader::Loop,
                    body,
                };
                vec![self.stmt_with_id(id, StmtKind::Loop(lo))]
            }
            Expr::ForLoop(f) => self.lower_for(f, semi),
            other => as_leaf(self, other),
        }
    }

    /// Loops and labelled blocks take the id that their leaves' exits name.
    fn stmt_with_id(&mut self, id: NodeId, kind: StmtKind) -> Stmt {
        self.make(id, kind, Vec::new())
    }

    /// Enters a loop or labelled block: its id, pushed on the stack.
    fn open(&mut self, label: Option<&Label>, is_loop: bool) -> NodeId {
        let id = self.node();
        self.stack.push(Enclosing {
            id,
            label: label.map(|l| l.name.clone()),
            is_loop,
        });
        id
    }

    fn assign(&mut self, place: Expr, op: TokenStream, right: Expr, semi: bool) -> Vec<Stmt> {
        if let Some(point) = point_of(&right) {
            let mut place = place;
            let info = self.expr_info(&mut place);
            let kind = StmtKind::Point(PointStmt {
                point,
                sink: Sink::Assign { place, op, info },
            });
            return vec![self.stmt(kind, Vec::new())];
        }
        let mut probe = Vec::new();
        let carrier = is_construct(&right).then(|| self.new_carrier());
        if let Some(carrier) = carrier.filter(|c| self.value(right.clone(), *c, &mut probe)) {
            let v = carrier_ident(carrier);
            let mut out = vec![self.leaf(syn::parse_quote!(let #v;))];
            out.extend(probe);
            out.push(self.leaf(syn::parse_quote!(#place #op #v;)));
            return out;
        }
        let semi = semi.then(Default::default);
        let e: Expr = syn::parse_quote!(#place #op #right);
        vec![self.leaf(syn::Stmt::Expr(e, semi))]
    }

    fn lower_cond(&mut self, cond: Expr) -> Cond {
        if let Some(p) = point_of(&cond) {
            return Cond::Point(p);
        }
        if let Expr::Let(l) = strip(&cond) {
            if let Some(p) = point_of(&l.expr) {
                return Cond::LetPoint {
                    pat: (*l.pat).clone(),
                    point: p,
                };
            }
        }
        let mut expr = cond;
        let info = self.expr_info(&mut expr);
        Cond::Plain { expr, info }
    }

    fn lower_if(&mut self, i: syn::ExprIf) -> If {
        let cond = self.lower_cond(*i.cond);
        let then = self.block(&i.then_branch);
        let els = i.else_branch.map(|(_, e)| {
            Box::new(match *e {
                Expr::If(inner) if self.jumps_out(&inner.cond) => {
                    Else::Block(self.block(&condition_first(inner)))
                }
                Expr::If(inner) => Else::If(self.lower_if(inner)),
                Expr::Block(b) => Else::Block(self.block(&b.block)),
                other => {
                    // `else` takes a block or an `if`; keep anything else whole.
                    let span = syn::spanned::Spanned::span(&other);
                    let s = self.leaf(syn::Stmt::Expr(other, None));
                    Else::Block(self.block_of(vec![s], span))
                }
            })
        });
        If {
            attrs: i.attrs,
            cond,
            then,
            els,
        }
    }

    fn lower_match(&mut self, m: syn::ExprMatch) -> Match {
        let scrut = self.lower_cond(*m.expr);
        let arms = m
            .arms
            .into_iter()
            .map(|mut arm| {
                let cfg = take_cfg(&mut arm.attrs);
                let body = self.with_cfg(&cfg, |l| l.arm_body(*arm.body));
                let mut attrs = arm.attrs;
                attrs.extend(cfg);
                let guard = arm.guard.map(|(_, g)| {
                    let mut g = *g;
                    let info = self.expr_info(&mut g);
                    (g, info)
                });
                Arm {
                    attrs,
                    pat: arm.pat,
                    guard,
                    body,
                }
            })
            .collect();
        Match {
            attrs: m.attrs,
            scrut,
            arms,
        }
    }

    fn arm_body(&mut self, body: Expr) -> Block {
        match body {
            Expr::Block(b) if b.label.is_none() && b.attrs.is_empty() => self.block(&b.block),
            other => {
                let span = syn::spanned::Spanned::span(&other);
                let stmts = self.lower_expr_stmt(other, false);
                self.block_of(stmts, span)
            }
        }
    }

    fn lower_for(&mut self, f: syn::ExprForLoop, semi: bool) -> Vec<Stmt> {
        // Lowered only if the body holds a point.
        let id = self.open(f.label.as_ref(), true);
        let body = self.block(&f.body);
        if !block_has_point(&body) {
            // Kept as a `for`, a node so that liveness sees in.
            self.stack.pop();
            let _ = semi;
            let mut expr = *f.expr;
            let info = self.expr_info(&mut expr);
            let lo = Loop {
                attrs: f.attrs,
                label: f.label,
                header: LoopHeader::For {
                    pat: *f.pat,
                    expr,
                    info,
                },
                body,
            };
            return vec![self.stmt_with_id(id, StmtKind::Loop(lo))];
        }
        let it_id = self.new_local(Ident::new("__io_iter", Span::mixed_site()), true);
        let it = iter_ident(it_id);
        self.locals[it_id.0].ident = it.clone();
        let mut names = Vec::new();
        crate::bindings::pat_bindings(&f.pat, None, &mut names);
        self.locals[it_id.0].for_iter = Some(ForIter {
            iterable: (*f.expr).clone(),
            pat_names: names.iter().map(|b| b.ident.to_string()).collect(),
        });
        // A `let` takes no top-level or-pattern: `let (A | B) = ..`.
        let pat = match &*f.pat {
            Pat::Or(or) => {
                let mut or = or.clone();
                or.leading_vert = None;
                quote!((#or))
            }
            other => quote!(#other),
        };
        let item = Ident::new("__io_item", Span::mixed_site());
        let next = self.leaf(syn::parse_quote! {
            let #pat = match ::core::iter::Iterator::next(&mut #it) {
                ::core::option::Option::Some(#item) => #item,
                ::core::option::Option::None => break,
            };
        });
        self.stack.pop();
        let iterable = &f.expr;
        let init = self.leaf(syn::parse_quote! {
            let mut #it = ::core::iter::IntoIterator::into_iter(#iterable);
        });
        let span = f.body.brace_token.span.join();
        let inner = BlockStmt {
            attrs: Vec::new(),
            label: None,
            unsafety: false,
            body,
            semi: false,
        };
        let inner = self.stmt(StmtKind::Block(inner), Vec::new());
        let loop_body = self.block_of(vec![next, inner], span);
        let lo = Loop {
            attrs: f.attrs,
            label: f.label,
            header: LoopHeader::Loop,
            body: loop_body,
        };
        let lo = self.stmt_with_id(id, StmtKind::Loop(lo));
        let outer = self.block_of(vec![init, lo], span);
        let bs = BlockStmt {
            attrs: Vec::new(),
            label: None,
            unsafety: false,
            body: outer,
            semi,
        };
        vec![self.stmt(StmtKind::Block(bs), Vec::new())]
    }

    /// Lowers `e`, whose value goes to `carrier`, into `out`; false (and
    /// `out` left unspecified) if `e` holds no point.
    fn value(&mut self, e: Expr, carrier: LocalId, out: &mut Vec<Stmt>) -> bool {
        let v = carrier_ident(carrier);
        if point_of(&e).is_some() {
            out.extend(self.assign(syn::parse_quote!(#v), quote!(=), e, true));
            return true;
        }
        let start = out.len();
        let e = match e {
            e @ (Expr::If(_) | Expr::Match(_)) => hoist_conditions(e),
            e => e,
        };
        let lowered = match e {
            Expr::Paren(p) => return self.value(*p.expr, carrier, out),
            Expr::Group(g) => return self.value(*g.expr, carrier, out),
            Expr::If(i) => {
                let i = self.value_if(i, carrier);
                let s = self.stmt(StmtKind::If(i), Vec::new());
                let has = s.has_point;
                out.push(s);
                has
            }
            Expr::Match(m) => {
                let mut m = m;
                for arm in &mut m.arms {
                    let body =
                        std::mem::replace(&mut *arm.body, Expr::Verbatim(TokenStream::new()));
                    *arm.body = self.value_block_expr(body, &v);
                }
                let m = self.lower_match(m);
                let s = self.stmt(StmtKind::Match(m), Vec::new());
                let has = s.has_point;
                out.push(s);
                has
            }
            Expr::Block(mut b) => {
                let label = b.label.clone();
                let block = std::mem::replace(&mut b.block, syn::parse_quote!({}));
                b.block = self.value_block(block, &v, label.as_ref().map(|l| &l.name));
                let stmts = self.lower_expr_stmt(Expr::Block(b), true);
                let has = stmts.iter().any(|s| s.has_point);
                out.extend(stmts);
                has
            }
            Expr::Unsafe(mut u) => {
                let block = std::mem::replace(&mut u.block, syn::parse_quote!({}));
                u.block = self.value_block(block, &v, None);
                let stmts = self.lower_expr_stmt(Expr::Unsafe(u), true);
                let has = stmts.iter().any(|s| s.has_point);
                out.extend(stmts);
                has
            }
            Expr::Loop(mut lp) => {
                let label = lp.label.as_ref().map(|l| l.name.clone());
                set_break_values(&mut lp.body, label.as_ref(), &v, true);
                let stmts = self.lower_expr_stmt(Expr::Loop(lp), true);
                let has = stmts.iter().any(|s| s.has_point);
                out.extend(stmts);
                has
            }
            e @ (Expr::While(_) | Expr::ForLoop(_)) => {
                let stmts = self.lower_expr_stmt(e, true);
                let has = stmts.iter().any(|s| s.has_point);
                out.extend(stmts);
                out.push(self.leaf(syn::parse_quote!(#v = ();)));
                has
            }
            _ => false,
        };
        if !lowered {
            out.truncate(start);
        }
        lowered
    }

    fn value_if(&mut self, i: syn::ExprIf, carrier: LocalId) -> If {
        let v = carrier_ident(carrier);
        let mut i = i;
        let then = std::mem::replace(&mut i.then_branch, syn::parse_quote!({}));
        i.then_branch = self.value_block(then, &v, None);
        match &mut i.else_branch {
            Some((_, els)) => {
                let e = std::mem::replace(&mut **els, Expr::Verbatim(TokenStream::new()));
                **els = match e {
                    Expr::If(inner) => {
                        // Lowered below, branch by branch.
                        Expr::If(inner)
                    }
                    Expr::Block(mut b) => {
                        let block = std::mem::replace(&mut b.block, syn::parse_quote!({}));
                        b.block = self.value_block(block, &v, None);
                        Expr::Block(b)
                    }
                    other => other,
                };
            }
            None => {
                // `if c { .. }` has the value `()` when `c` is false.
                i.else_branch = Some((
                    Default::default(),
                    Box::new(syn::parse_quote!({ #v = (); })),
                ));
            }
        }
        let cond = self.lower_cond(*i.cond);
        let then = self.block(&i.then_branch);
        let els = i.else_branch.map(|(_, e)| {
            Box::new(match *e {
                Expr::If(inner) => Else::If(self.value_if(inner, carrier)),
                Expr::Block(b) => Else::Block(self.block(&b.block)),
                other => {
                    let span = syn::spanned::Spanned::span(&other);
                    let s = self.leaf(syn::parse_quote!(#v = #other;));
                    Else::Block(self.block_of(vec![s], span))
                }
            })
        });
        If {
            attrs: i.attrs,
            cond,
            then,
            els,
        }
    }

    /// `{ stmts; tail }` as `{ stmts; v = tail; }`; `break 'label value` of
    /// a labelled block as `{ v = value; break 'label; }`.
    fn value_block(
        &mut self,
        mut b: syn::Block,
        v: &Ident,
        label: Option<&Lifetime>,
    ) -> syn::Block {
        if let Some(label) = label {
            set_break_values(&mut b, Some(label), v, false);
        }
        match b.stmts.pop() {
            Some(syn::Stmt::Expr(tail, None)) => {
                let assign = self.value_tail(tail, v);
                b.stmts.push(assign);
            }
            Some(last) => {
                let ends = diverges(&last);
                b.stmts.push(last);
                if !ends {
                    b.stmts.push(syn::parse_quote!(#v = ();));
                }
            }
            None => b.stmts.push(syn::parse_quote!(#v = ();)),
        }
        b
    }

    /// The statement that gives `v` the value `tail`.
    fn value_tail(&mut self, tail: Expr, v: &Ident) -> syn::Stmt {
        match strip(&tail) {
            Expr::If(_) | Expr::Match(_) | Expr::Block(_) | Expr::Unsafe(_) | Expr::Loop(_) => {
                // Nested constructs assign at their own tails.
                let e = self.value_block_expr(tail, v);
                syn::Stmt::Expr(e, None)
            }
            _ if point_of(&tail).is_some() => syn::parse_quote!(#v = #tail;),
            _ => {
                let diverging = matches!(
                    strip(&tail),
                    Expr::Return(_) | Expr::Break(_) | Expr::Continue(_)
                );
                if diverging {
                    syn::Stmt::Expr(tail, Some(Default::default()))
                } else {
                    syn::parse_quote!(#v = #tail;)
                }
            }
        }
    }

    /// An expression whose value goes to `v`, as a block statement that
    /// assigns it.
    fn value_block_expr(&mut self, e: Expr, v: &Ident) -> Expr {
        match e {
            Expr::Paren(p) => self.value_block_expr(*p.expr, v),
            Expr::Group(g) => self.value_block_expr(*g.expr, v),
            Expr::If(mut i) => {
                let then = std::mem::replace(&mut i.then_branch, syn::parse_quote!({}));
                i.then_branch = self.value_block(then, v, None);
                match &mut i.else_branch {
                    Some((_, els)) => {
                        let e = std::mem::replace(&mut **els, Expr::Verbatim(TokenStream::new()));
                        **els = self.value_block_expr(e, v);
                    }
                    None => {
                        i.else_branch = Some((
                            Default::default(),
                            Box::new(syn::parse_quote!({ #v = (); })),
                        ))
                    }
                }
                Expr::If(i)
            }
            Expr::Match(mut m) => {
                for arm in &mut m.arms {
                    let body =
                        std::mem::replace(&mut *arm.body, Expr::Verbatim(TokenStream::new()));
                    *arm.body = self.value_block_expr(body, v);
                }
                Expr::Match(m)
            }
            Expr::Block(mut b) => {
                let label = b.label.clone();
                let block = std::mem::replace(&mut b.block, syn::parse_quote!({}));
                b.block = self.value_block(block, v, label.as_ref().map(|l| &l.name));
                Expr::Block(b)
            }
            Expr::Unsafe(mut u) => {
                let block = std::mem::replace(&mut u.block, syn::parse_quote!({}));
                u.block = self.value_block(block, v, None);
                Expr::Unsafe(u)
            }
            Expr::Loop(mut lp) => {
                let label = lp.label.as_ref().map(|l| l.name.clone());
                set_break_values(&mut lp.body, label.as_ref(), v, true);
                Expr::Loop(lp)
            }
            other => {
                let stmt = self.value_tail(other, v);
                let span = Span::call_site();
                let mut b: syn::ExprBlock = syn::parse_quote_spanned!(span=> {});
                b.block.stmts.push(stmt);
                Expr::Block(b)
            }
        }
    }
}

/// Puts `cfg` before a leaf's own attributes; an expression that takes
/// none in statement position is wrapped in a block first.
fn put_attrs(stmt: &mut syn::Stmt, cfg: &[Attribute]) {
    if stmt_attrs_mut(stmt).is_none() {
        if let syn::Stmt::Expr(e, _) = stmt {
            // Wrap in a block, which takes attributes.
            let inner = e.clone();
            *e = syn::parse_quote!({ #inner });
        }
    }
    if let Some(attrs) = stmt_attrs_mut(stmt) {
        attrs.splice(0..0, cfg.iter().cloned());
    }
}

/// The outer attributes of a statement, where its syntax keeps them: a
/// `let`, a macro, and the expressions that take attributes in statement
/// position here. One accessor for reading, adding and taking them.
pub(crate) fn stmt_attrs_mut(stmt: &mut syn::Stmt) -> Option<&mut Vec<Attribute>> {
    Some(match stmt {
        syn::Stmt::Local(l) => &mut l.attrs,
        syn::Stmt::Macro(m) => &mut m.attrs,
        syn::Stmt::Expr(e, _) => match e {
            Expr::Loop(x) => &mut x.attrs,
            Expr::While(x) => &mut x.attrs,
            Expr::ForLoop(x) => &mut x.attrs,
            Expr::Macro(x) => &mut x.attrs,
            Expr::Call(x) => &mut x.attrs,
            Expr::MethodCall(x) => &mut x.attrs,
            Expr::Assign(x) => &mut x.attrs,
            Expr::Binary(x) => &mut x.attrs,
            Expr::Block(x) => &mut x.attrs,
            Expr::Path(x) => &mut x.attrs,
            Expr::If(x) => &mut x.attrs,
            Expr::Match(x) => &mut x.attrs,
            Expr::Unsafe(x) => &mut x.attrs,
            Expr::Return(x) => &mut x.attrs,
            Expr::Break(x) => &mut x.attrs,
            Expr::Continue(x) => &mut x.attrs,
            _ => return None,
        },
        syn::Stmt::Item(_) => return None,
    })
}

/// An expression that may hold a point in a place whose value flows on.
fn is_construct(e: &Expr) -> bool {
    matches!(
        strip(e),
        Expr::If(_)
            | Expr::Match(_)
            | Expr::Block(_)
            | Expr::Unsafe(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
    )
}

/// Whether `e` is a construct (a block, `if`, `match`, loop) that holds a
/// point, or a `break`/`continue`, somewhere inside: a condition or
/// scrutinee the later phases do not lower in place.
fn construct_with_point(e: &Expr) -> bool {
    is_construct(e) && (crate::points::contains_point(e, None) || has_jump(e))
}

/// Whether `e` holds a `break` or `continue` (which, inside a condition,
/// a leaf rewrites and a condition would not).
fn has_jump(e: &Expr) -> bool {
    fn scan(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "break" || i == "continue",
            proc_macro2::TokenTree::Group(g) => scan(g.stream()),
            _ => false,
        })
    }
    scan(e.to_token_stream())
}

/// Rewrites an `if`, `match` or `while` whose condition or scrutinee is a
/// construct holding a point (`if { call!(a) } { .. }`) so that the value
/// is a `let` first, which lowers like any value construct:
/// `{ let c = { call!(a) }; if c { .. } }`; `while` becomes
/// `loop { let c = ..; if c { .. } else { break; } }`. `else if` chains are
/// rewritten too. Anything else is returned as it is.
fn hoist_conditions(e: Expr) -> Expr {
    // A statement without a point stays a leaf, as written.
    if !crate::points::contains_point(&e, None) {
        return e;
    }
    let c = Ident::new("__io_cond", Span::mixed_site());
    match e {
        Expr::If(mut i) => {
            if let Some((else_token, els)) = i.else_branch.take() {
                let els = match *els {
                    Expr::If(inner) => {
                        let hoisted = hoist_conditions(Expr::If(inner));
                        match hoisted {
                            Expr::If(_) => hoisted,
                            other => syn::parse_quote!({ #other }),
                        }
                    }
                    other => other,
                };
                i.else_branch = Some((else_token, Box::new(els)));
            }
            let attrs = std::mem::take(&mut i.attrs);
            match take_condition(&mut i.cond, &c) {
                Some(decl) => syn::parse_quote!(#(#attrs)* { #decl #i }),
                None => {
                    i.attrs = attrs;
                    Expr::If(i)
                }
            }
        }
        Expr::Match(mut m) if construct_with_point(&m.expr) => {
            let attrs = std::mem::take(&mut m.attrs);
            let value = std::mem::replace(&mut *m.expr, syn::parse_quote!(#c));
            syn::parse_quote!(#(#attrs)* { let #c = #value; #m })
        }
        Expr::While(mut w) => match take_condition(&mut w.cond, &c) {
            Some(decl) => {
                let syn::ExprWhile {
                    attrs,
                    label,
                    cond,
                    body,
                    ..
                } = w;
                syn::parse_quote!(#(#attrs)* #label loop { #decl if #cond #body else { break; } })
            }
            None => Expr::While(w),
        },
        other => other,
    }
}

/// Replaces a condition (`c`, or the value of `let PAT = c`) that
/// [`construct_with_point`] by `name`, and gives the `let` that binds
/// `name` to it: typed `bool` for a plain condition, so that its carrier is
/// typed too (code under `#[cfg]` may be all that assigns it).
fn take_condition(cond: &mut Expr, name: &Ident) -> Option<syn::Stmt> {
    match cond {
        Expr::Let(l) if construct_with_point(&l.expr) => {
            let value = std::mem::replace(&mut *l.expr, syn::parse_quote!(#name));
            Some(syn::parse_quote!(let #name = #value;))
        }
        cond if construct_with_point(cond) => {
            let value = std::mem::replace(cond, syn::parse_quote!(#name));
            Some(syn::parse_quote!(let #name: bool = #value;))
        }
        _ => None,
    }
}

impl Lowerer<'_> {
    /// Whether a plain condition (not `let`) holds a `break` or `continue`
    /// that leaves it.
    fn jumps_out(&self, cond: &Expr) -> bool {
        if matches!(strip(cond), Expr::Let(_)) {
            return false;
        }
        let mut found = false;
        let mut probe = cond.clone();
        visit_exits(&mut probe, &self.stack, &mut |_, exit| {
            found |= !matches!(exit, Exit::Return);
        });
        found
    }
}

/// `if c { .. }` as `{ let __io_cond: bool = c; if __io_cond { .. } }`: a
/// `break`/`continue` in a plain condition is then in a `let`, a leaf,
/// whose jumps are rewritten like any other's (see [`Lowerer::jumps_out`]).
fn condition_first(mut i: syn::ExprIf) -> syn::Block {
    let c = Ident::new("__io_cond", Span::mixed_site());
    let cond = std::mem::replace(&mut *i.cond, syn::parse_quote!(#c));
    syn::Block {
        brace_token: Default::default(),
        stmts: vec![
            syn::parse_quote!(let #c: bool = #cond;),
            syn::Stmt::Expr(Expr::If(i), None),
        ],
    }
}

fn cond_point(cond: &Expr) -> Option<PointId> {
    point_of(cond).or_else(|| match strip(cond) {
        Expr::Let(l) => point_of(&l.expr),
        _ => None,
    })
}

pub fn block_has_point(b: &Block) -> bool {
    b.stmts.iter().any(|s| s.has_point)
}

fn if_has_point(i: &If) -> bool {
    matches!(i.cond, Cond::Point(_) | Cond::LetPoint { .. })
        || block_has_point(&i.then)
        || match i.els.as_deref() {
            Some(Else::Block(b)) => block_has_point(b),
            Some(Else::If(inner)) => if_has_point(inner),
            None => false,
        }
}

/// Takes the `#[cfg]` attributes off a statement that [`diverges`].
fn take_stmt_cfg(stmt: &mut syn::Stmt) -> Vec<Attribute> {
    stmt_attrs_mut(stmt).map(take_cfg).unwrap_or_default()
}

/// Whether a statement never completes normally, as far as its syntax
/// tells: `return`, `break`, `continue`, or a panicking macro.
pub fn diverges(stmt: &syn::Stmt) -> bool {
    let mac_diverges = |m: &syn::Macro| {
        m.path.segments.last().is_some_and(|s| {
            ["panic", "unreachable", "todo", "unimplemented"]
                .contains(&s.ident.to_string().as_str())
        })
    };
    match stmt {
        syn::Stmt::Expr(e, _) => match strip(e) {
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
            Expr::Macro(m) => mac_diverges(&m.mac),
            _ => false,
        },
        syn::Stmt::Macro(m) => mac_diverges(&m.mac),
        _ => false,
    }
}

/// Rewrites `break [label] value` that targets the loop or block whose
/// label is `label` (or, for a loop, an unlabelled `break` outside inner
/// loops) into `{ v = value; break [label]; }`.
fn set_break_values(b: &mut syn::Block, label: Option<&Lifetime>, v: &Ident, is_loop: bool) {
    struct R<'a> {
        label: Option<&'a Lifetime>,
        v: &'a Ident,
        is_loop: bool,
        depth: usize,
    }
    impl VisitMut for R<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Break(br) => {
                    if let Some(val) = &mut br.expr {
                        self.visit_expr_mut(val);
                    }
                    let targets = match &br.label {
                        Some(l) => Some(l) == self.label,
                        None => self.is_loop && self.depth == 0,
                    };
                    if targets {
                        let v = self.v;
                        let label = &br.label;
                        // `#[cfg(..)] break 5;` stays under its `#[cfg]`.
                        let attrs = std::mem::take(&mut br.attrs);
                        *e = match br.expr.take() {
                            Some(val) => syn::parse_quote!({ #v = #val; break #label; }),
                            None => syn::parse_quote!({ #v = (); break #label; }),
                        };
                        if let Expr::Block(b) = e {
                            b.attrs = attrs;
                        }
                    }
                }
                Expr::Loop(_) | Expr::While(_) | Expr::ForLoop(_) => {
                    self.depth += 1;
                    syn::visit_mut::visit_expr_mut(self, e);
                    self.depth -= 1;
                }
                Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
                _ => syn::visit_mut::visit_expr_mut(self, e),
            }
        }
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    R {
        label,
        v,
        is_loop,
        depth: 0,
    }
    .visit_block_mut(b);
}

/// Calls `f` on every `break`, `continue`, `return` and `?` inside `stmt`
/// that leaves it, with where it goes; `f` may rewrite the expression
/// (`break` and `continue` only). `stack` holds the loops and labelled
/// blocks around the statement, innermost last.
pub fn visit_exits_stmt(
    stmt: &mut syn::Stmt,
    stack: &[Enclosing],
    f: &mut dyn FnMut(&mut Expr, Exit),
) {
    visit_exits_stmt_under(stmt, stack, &mut |e, exit, _| f(e, exit));
}

/// [`visit_exits_stmt`] that also gives `f` the `#[cfg]`s inside `stmt`
/// that each exit is compiled under (those on the statements and match
/// arms around it, not those on `stmt` itself).
pub fn visit_exits_stmt_under(
    stmt: &mut syn::Stmt,
    stack: &[Enclosing],
    f: &mut dyn FnMut(&mut Expr, Exit, &[Attribute]),
) {
    let mut v = ExitVisitor {
        stack,
        depth: 0,
        labels: Vec::new(),
        under: Vec::new(),
        f,
    };
    v.visit_stmt_mut(stmt);
}

/// [`visit_exits_stmt`] on an expression.
pub fn visit_exits(expr: &mut Expr, stack: &[Enclosing], f: &mut dyn FnMut(&mut Expr, Exit)) {
    let mut v = ExitVisitor {
        stack,
        depth: 0,
        labels: Vec::new(),
        under: Vec::new(),
        f: &mut |e, exit, _| f(e, exit),
    };
    v.visit_expr_mut(expr);
}

struct ExitVisitor<'a, 'f> {
    stack: &'a [Enclosing],
    /// Loops inside the statement around the current expression.
    depth: usize,
    /// Labels defined inside the statement.
    labels: Vec<Lifetime>,
    /// The `#[cfg]`s inside the statement around the current expression.
    under: Vec<Attribute>,
    f: &'f mut dyn FnMut(&mut Expr, Exit, &[Attribute]),
}

impl ExitVisitor<'_, '_> {
    fn target(&self, label: &Option<Lifetime>, is_continue: bool) -> Option<NodeId> {
        match label {
            Some(l) => {
                if self.labels.contains(l) {
                    return None;
                }
                self.stack
                    .iter()
                    .rev()
                    .find(|e| e.label.as_ref() == Some(l))
                    .map(|e| e.id)
            }
            None => {
                if self.depth > 0 {
                    return None;
                }
                let _ = is_continue;
                self.stack.iter().rev().find(|e| e.is_loop).map(|e| e.id)
            }
        }
    }

    fn scoped(&mut self, label: Option<&Label>, is_loop: bool, f: impl FnOnce(&mut Self)) {
        if let Some(l) = label {
            self.labels.push(l.name.clone());
        }
        if is_loop {
            self.depth += 1;
        }
        f(self);
        if is_loop {
            self.depth -= 1;
        }
        if label.is_some() {
            self.labels.pop();
        }
    }
}

/// The carrier a `{ __io_vN = value; break 'l; }` block sets.
fn carrier_set_by(block: &syn::Block) -> Option<LocalId> {
    let [syn::Stmt::Expr(Expr::Assign(a), Some(_)), syn::Stmt::Expr(Expr::Break(_), _)] =
        block.stmts.as_slice()
    else {
        return None;
    };
    let Expr::Path(p) = &*a.left else { return None };
    let name = p.path.get_ident()?.to_string();
    if !name.starts_with("__io_v") || name.starts_with("__io_iter") {
        return None;
    }
    internal_local(&name)
}

impl VisitMut for ExitVisitor<'_, '_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            Expr::Break(b) => {
                if let Some(v) = &mut b.expr {
                    self.visit_expr_mut(v);
                }
                if let Some(id) = self.target(&b.label, false) {
                    (self.f)(e, Exit::Break(id, None), &self.under);
                }
            }
            Expr::Continue(c) => {
                if let Some(id) = self.target(&c.label, true) {
                    (self.f)(e, Exit::Continue(id), &self.under);
                }
            }
            Expr::Block(b) if b.label.is_none() => {
                if let Some(carrier) = carrier_set_by(&b.block) {
                    if let [_, syn::Stmt::Expr(Expr::Break(br), _)] = b.block.stmts.as_slice() {
                        if let Some(id) = self.target(&br.label, false) {
                            (self.f)(e, Exit::Break(id, Some(carrier)), &self.under);
                            return;
                        }
                    }
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
            Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                }
                (self.f)(e, Exit::Return, &self.under);
            }
            Expr::Try(t) => {
                self.visit_expr_mut(&mut t.expr);
                (self.f)(e, Exit::Return, &self.under);
            }
            Expr::Loop(l) => {
                let label = l.label.clone();
                self.scoped(label.as_ref(), true, |v| v.visit_block_mut(&mut l.body));
            }
            Expr::While(w) => {
                let label = w.label.clone();
                self.visit_expr_mut(&mut w.cond);
                self.scoped(label.as_ref(), true, |v| v.visit_block_mut(&mut w.body));
            }
            Expr::ForLoop(f) => {
                let label = f.label.clone();
                self.visit_expr_mut(&mut f.expr);
                self.scoped(label.as_ref(), true, |v| v.visit_block_mut(&mut f.body));
            }
            Expr::Block(b) => {
                let label = b.label.clone();
                self.scoped(label.as_ref(), false, |v| v.visit_block_mut(&mut b.block));
            }
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            _ => syn::visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
        // `?` and `return` inside other macros' arguments leave the
        // function too; they are not rewritten, only noted.
        if tokens_have_exit(m.tokens.clone()) {
            (self.f)(
                &mut Expr::Verbatim(TokenStream::new()),
                Exit::Return,
                &self.under,
            );
        }
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        for stmt in &mut b.stmts {
            let n = self.under.len();
            if let Some(attrs) = stmt_attrs_mut(stmt) {
                let cfgs = attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned();
                self.under.extend(cfgs);
            }
            self.visit_stmt_mut(stmt);
            self.under.truncate(n);
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let n = self.under.len();
        let cfgs = arm
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("cfg"))
            .cloned();
        self.under.extend(cfgs);
        syn::visit_mut::visit_arm_mut(self, arm);
        self.under.truncate(n);
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn tokens_have_exit(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Punct(p) => p.as_char() == '?',
        proc_macro2::TokenTree::Ident(i) => i == "return",
        proc_macro2::TokenTree::Group(g) => tokens_have_exit(g.stream()),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::points::Finder;

    fn lowered(mut body: syn::Block) -> Body {
        let mut errors = Errors::default();
        Finder::new(&mut errors).run(&mut body);
        let b = lower(&body, &mut errors);
        assert!(errors.is_empty());
        b
    }

    fn kinds(b: &Block) -> Vec<&'static str> {
        b.stmts
            .iter()
            .map(|s| match &s.kind {
                StmtKind::Leaf(_) => "leaf",
                StmtKind::Point(_) => "point",
                StmtKind::If(_) => "if",
                StmtKind::Match(_) => "match",
                StmtKind::Loop(_) => "loop",
                StmtKind::Block(_) => "block",
                StmtKind::LetElse(_) => "let-else",
            })
            .collect()
    }

    #[test]
    fn statements_become_nodes_and_leaves() {
        let b = lowered(syn::parse_quote!({
            let a = f();
            wait!(c);
            if a {
                g();
            }
            while x {
                h();
            }
            for i in v {
                wait!(d);
            }
            Ok(IOResult::Done(a))
        }));
        // A loop without a point stays a `while`, as a node liveness sees into.
        assert_eq!(kinds(&b.block), ["leaf", "point", "if", "loop", "block"]);
        let StmtKind::Loop(w) = &b.block.stmts[3].kind else {
            panic!()
        };
        assert!(matches!(w.header, LoopHeader::While { .. }));
        assert!(b.block.tail.is_some());
        // The `for` loop's iterator is a local the lowering made.
        assert!(b.locals.iter().any(|l| l.for_iter.is_some()));
    }

    #[test]
    fn values_of_constructs_holding_points_go_through_carriers() {
        let b = lowered(syn::parse_quote!({
            let x: u32 = if c { call!(a) } else { 5 };
            let y = loop {
                wait!(c);
                break 7;
            };
            Ok(IOResult::Done(x + y))
        }));
        assert_eq!(
            kinds(&b.block),
            ["leaf", "if", "leaf", "leaf", "loop", "leaf"]
        );
        let id = b.block.stmts[4].id;
        let StmtKind::Loop(l) = &b.block.stmts[4].kind else {
            panic!()
        };
        // `break 7` sets the carrier, then leaves the loop.
        let StmtKind::Block(set) = &l.body.stmts[1].kind else {
            panic!()
        };
        let StmtKind::Leaf(brk) = &set.body.stmts[1].kind else {
            panic!()
        };
        assert_eq!(brk.info.exits, [Exit::Break(id, None)]);
    }

    #[test]
    fn exits_name_their_targets() {
        let b = lowered(syn::parse_quote!({
            'outer: loop {
                wait!(c);
                for i in v {
                    if i {
                        continue 'outer;
                    }
                    break;
                }
                if d {
                    break 'outer;
                }
                x?;
            }
            Ok(IOResult::Done(()))
        }));
        let StmtKind::Loop(l) = &b.block.stmts[0].kind else {
            panic!()
        };
        let id = b.block.stmts[0].id;
        let inner_id = l.body.stmts[1].id;
        let StmtKind::Loop(inner_for) = &l.body.stmts[1].kind else {
            panic!()
        };
        assert!(matches!(inner_for.header, LoopHeader::For { .. }));
        let StmtKind::If(cont) = &inner_for.body.stmts[0].kind else {
            panic!()
        };
        let StmtKind::Leaf(cont) = &cont.then.stmts[0].kind else {
            panic!()
        };
        assert_eq!(cont.info.exits, [Exit::Continue(id)]);
        let StmtKind::Leaf(inner_break) = &inner_for.body.stmts[1].kind else {
            panic!()
        };
        assert_eq!(inner_break.info.exits, [Exit::Break(inner_id, None)]);
        let StmtKind::If(i) = &l.body.stmts[2].kind else {
            panic!()
        };
        let StmtKind::Leaf(brk) = &i.then.stmts[0].kind else {
            panic!()
        };
        assert_eq!(brk.info.exits, [Exit::Break(id, None)]);
        assert!(brk.info.diverges);
        let StmtKind::Leaf(q) = &l.body.stmts[3].kind else {
            panic!()
        };
        assert_eq!(q.info.exits, [Exit::Return]);
    }
}
