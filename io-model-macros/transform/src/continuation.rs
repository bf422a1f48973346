//! Phase 4: continuations, the control flow after each suspension point.
//!
//! The generated function is a `match` on the state with one arm per
//! variant. The `Idle` arm runs the body from the top ([`Builder::entry`]);
//! the arm of suspension point P runs *the rest of the function after P*
//! ([`Builder::resume`]), built from the body by walking the path from the
//! function's block down to P:
//!
//! - in a block, the statements before the one holding P are dropped (they
//!   ran before the suspension), the locals they declared that are still
//!   needed are restored from the state at the top of the block, the
//!   statement holding P is resumed, and the statements after it follow as
//!   written;
//! - in an `if` or `match`, the branch or arm holding P is resumed in place
//!   of the whole expression (its pattern's bindings restored), or, with P
//!   the scrutinee, the expression is kept with the scrutinee resumed;
//! - in a `loop`, the first, partial iteration is peeled off and the loop
//!   follows whole: `'exit: { 'next: { <body resumed> } 'l: loop { <body> } }`,
//!   with the partial iteration's `break`s retargeted to `'exit` and its
//!   `continue`s to `'next` (so restored locals are never moved inside a loop);
//! - in a `let`, an assignment or an `if let`, the initializer or right side
//!   is resumed.
//!
//! Every other marker met on the way is emitted as its first-arrival code,
//! which suspends into its own variant. Each continuation is built twice:
//! once in analysis form with probes for [`crate::liveness`], once in final
//! form with the restores of the live locals only.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{parse_quote, Block, Expr, Ident, Stmt, Type};

use crate::bindings::{let_bindings, pat_bindings, PatBinding, TypeScope};
use crate::layout::Layout;
use crate::points::{contains_point, placeholder_id, MarkerKind, Point, PointId};

/// A local visible at the target point, in the order the walk met it.
#[derive(Clone)]
pub struct Visible {
    pub id: usize,
    pub binding: PatBinding,
}

/// Analysis (probes, markers reduced to the code they evaluate) or final
/// (restores of live locals, markers as suspension code).
pub enum Mode<'a> {
    Analysis,
    Final(&'a Layout),
}

/// Builds the code of one arm.
pub struct Builder<'a> {
    pub points: &'a [Point],
    /// The return type's span: a completion error that does not convert
    /// into the function's error type is reported there.
    pub ret_span: Span,
    pub params: &'a [PatBinding],
    pub mode: Mode<'a>,
    target: Option<PointId>,
    /// Locals met on the way down to the target.
    pub visible: Vec<Visible>,
    loops: usize,
    /// Set when an internal invariant failed; reported as a `BUG:` error.
    pub bug: Option<String>,
}

impl TypeScope for Builder<'_> {
    fn type_of(&self, name: &str) -> Option<Type> {
        match self.visible.iter().rev().find(|v| v.binding.ident == name) {
            Some(v) => v.binding.ty.clone(),
            None => self
                .params
                .iter()
                .rev()
                .find(|p| p.ident == name)
                .and_then(|p| p.ty.clone()),
        }
    }
}

/// Internal names: hygienic, so user code can neither see nor clash with
/// them.
pub fn internal(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

impl<'a> Builder<'a> {
    pub fn new(points: &'a [Point], params: &'a [PatBinding], mode: Mode<'a>) -> Self {
        Builder {
            points,
            ret_span: Span::call_site(),
            params,
            mode,
            target: None,
            visible: Vec::new(),
            loops: 0,
            bug: None,
        }
    }

    /// The `Idle` arm: the body from the top.
    pub fn entry(&mut self, body: &Block) -> Block {
        self.target = None;
        self.normal_block(body)
    }

    /// The arm of `target`: the rest of the body after it.
    pub fn resume(&mut self, body: &Block, target: PointId) -> Block {
        self.target = Some(target);
        self.visible.clear();
        self.loops = 0;
        self.resume_block(body, Vec::new())
    }

    fn holds_target(&self, node: &impl quote::ToTokens) -> bool {
        self.target.is_some() && contains_point(node, self.target)
    }

    fn bug(&mut self, what: &str) {
        self.report_bug(&format!("could not resume into {what}"));
    }

    fn report_bug(&mut self, what: &str) {
        if self.bug.is_none() {
            self.bug = Some(format!(
                "BUG: io-model's #[resumable] {what}; please report this with the function"
            ));
        }
    }

    /// Parses generated code that splices user tokens. It always parses
    /// when the marker phase did its job; if it does not, that is reported
    /// as a bug instead of panicking.
    fn expr(&mut self, tokens: TokenStream) -> Expr {
        match syn::parse2(tokens.clone()) {
            Ok(e) => e,
            Err(e) => {
                self.report_bug(&format!("generated code that does not parse ({e})"));
                Expr::Verbatim(tokens)
            }
        }
    }

    // ----- normal code: the body as written, markers as first arrivals -----

    fn normal_block(&mut self, b: &Block) -> Block {
        if !contains_point(b, None) {
            return b.clone();
        }
        Block {
            brace_token: b.brace_token,
            stmts: b.stmts.iter().map(|s| self.normal_stmt(s)).collect(),
        }
    }

    fn normal_stmt(&mut self, s: &Stmt) -> Stmt {
        if !contains_point(s, None) {
            return s.clone();
        }
        match &macro_stmt_as_expr(s) {
            Stmt::Local(l) => {
                let mut l = l.clone();
                if let Some(init) = &mut l.init {
                    *init.expr = self.normal_expr(&init.expr);
                    if let Some((_, d)) = &mut init.diverge {
                        **d = self.normal_expr(d);
                    }
                }
                Stmt::Local(l)
            }
            Stmt::Expr(e, semi) => Stmt::Expr(self.normal_expr(e), *semi),
            other => other.clone(),
        }
    }

    fn normal_expr(&mut self, e: &Expr) -> Expr {
        if !contains_point(e, None) {
            return e.clone();
        }
        if let Some(id) = placeholder_id(e) {
            return self.first_arrival(id);
        }
        let mut e = e.clone();
        match &mut e {
            Expr::Block(b) => b.block = self.normal_block(&b.block),
            Expr::Unsafe(b) => b.block = self.normal_block(&b.block),
            Expr::If(i) => {
                *i.cond = self.normal_expr(&i.cond);
                i.then_branch = self.normal_block(&i.then_branch);
                if let Some((_, els)) = &mut i.else_branch {
                    **els = self.normal_expr(els);
                }
            }
            Expr::Let(l) => *l.expr = self.normal_expr(&l.expr),
            Expr::Match(m) => {
                *m.expr = self.normal_expr(&m.expr);
                for arm in &mut m.arms {
                    *arm.body = self.normal_expr(&arm.body);
                }
            }
            Expr::Loop(l) => l.body = self.normal_block(&l.body),
            Expr::Assign(a) => *a.right = self.normal_expr(&a.right),
            Expr::Binary(b) => *b.right = self.normal_expr(&b.right),
            Expr::Paren(p) => *p.expr = self.normal_expr(&p.expr),
            Expr::Group(g) => *g.expr = self.normal_expr(&g.expr),
            _ => self.bug("an expression holding a suspension point"),
        }
        e
    }

    // ----- resumed code: the rest after the target -----

    fn push_visible(&mut self, binding: PatBinding) -> usize {
        let id = self.visible.len();
        self.visible.push(Visible { id, binding });
        id
    }

    /// The restore statements for the locals `ids` declared in one frame.
    fn restores(&self, ids: &[usize]) -> Vec<Stmt> {
        let mut out = Vec::new();
        for &id in ids {
            let b = &self.visible[id].binding;
            let ident = &b.ident;
            match &self.mode {
                Mode::Analysis => {
                    let probe = format_ident!("{}{}", crate::liveness::PROBE, id);
                    out.push(parse_quote!(let #ident = #probe;));
                }
                Mode::Final(layout) => {
                    if layout.is_live(self.target.expect("BUG: no target"), id) {
                        let slot = slot_ident(id);
                        let mutability = b.mutable.then(|| quote!(mut));
                        out.push(parse_quote!(let #mutability #ident = #slot;));
                    }
                }
            }
        }
        out
    }

    fn resume_block(&mut self, b: &Block, extra: Vec<PatBinding>) -> Block {
        let Some(k) = b.stmts.iter().position(|s| self.holds_target(s)) else {
            self.bug("a block");
            return b.clone();
        };
        let mut ids: Vec<usize> = extra.into_iter().map(|x| self.push_visible(x)).collect();
        for stmt in &b.stmts[..k] {
            if let Stmt::Local(l) = stmt {
                let init = l.init.as_ref().map(|i| &*i.expr);
                for binding in let_bindings(&l.pat, init, self) {
                    ids.push(self.push_visible(binding));
                }
            }
        }
        let mut stmts = self.restores(&ids);
        let (resumed, diverges) = self.resume_stmt(&b.stmts[k]);
        stmts.push(resumed);
        if !diverges {
            for s in &b.stmts[k + 1..] {
                stmts.push(self.normal_stmt(s));
            }
        }
        Block {
            brace_token: b.brace_token,
            stmts,
        }
    }

    /// The resumed statement, and whether control never reaches the
    /// statements after it (the target is in a `let`-`else`'s `else`).
    fn resume_stmt(&mut self, s: &Stmt) -> (Stmt, bool) {
        match &macro_stmt_as_expr(s) {
            Stmt::Local(l) => {
                let mut l = l.clone();
                let Some(init) = &mut l.init else {
                    self.bug("a `let` without initializer");
                    return (Stmt::Local(l), false);
                };
                if self.holds_target(&init.expr) {
                    *init.expr = self.resume_expr(&init.expr);
                    if let Some((_, d)) = &mut init.diverge {
                        **d = self.normal_expr(d);
                    }
                    (Stmt::Local(l), false)
                } else if let Some((_, d)) = &init.diverge {
                    let resumed = self.resume_expr(d);
                    (Stmt::Expr(resumed, None), true)
                } else {
                    self.bug("a `let`");
                    (Stmt::Local(l), false)
                }
            }
            Stmt::Expr(e, semi) => (Stmt::Expr(self.resume_expr(e), *semi), false),
            other => {
                self.bug("a statement");
                (other.clone(), false)
            }
        }
    }

    fn resume_expr(&mut self, e: &Expr) -> Expr {
        if let Some(id) = placeholder_id(e) {
            if Some(id) == self.target {
                return self.resumed_marker(id);
            }
        }
        match e {
            Expr::Block(b) => {
                let mut b = b.clone();
                b.block = self.resume_block(&b.block, Vec::new());
                Expr::Block(b)
            }
            Expr::Unsafe(b) => {
                let mut b = b.clone();
                b.block = self.resume_block(&b.block, Vec::new());
                Expr::Unsafe(b)
            }
            Expr::If(i) => {
                if self.holds_target(&i.cond) {
                    let mut i = i.clone();
                    *i.cond = self.resume_expr(&i.cond);
                    i.then_branch = self.normal_block(&i.then_branch);
                    if let Some((_, els)) = &mut i.else_branch {
                        **els = self.normal_expr(els);
                    }
                    Expr::If(i)
                } else if self.holds_target(&i.then_branch) {
                    let extra = cond_bindings(&i.cond);
                    let block = self.resume_block(&i.then_branch, extra);
                    Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block,
                    })
                } else if let Some((_, els)) = &i.else_branch {
                    self.resume_expr(els)
                } else {
                    self.bug("an `if`");
                    e.clone()
                }
            }
            Expr::Let(l) => {
                let mut l = l.clone();
                *l.expr = self.resume_expr(&l.expr);
                Expr::Let(l)
            }
            Expr::Match(m) => {
                if self.holds_target(&m.expr) {
                    let mut m = m.clone();
                    *m.expr = self.resume_expr(&m.expr);
                    for arm in &mut m.arms {
                        *arm.body = self.normal_expr(&arm.body);
                    }
                    return Expr::Match(m);
                }
                let Some(arm) = m.arms.iter().find(|a| self.holds_target(&a.body)) else {
                    self.bug("a `match`");
                    return e.clone();
                };
                let mut extra = Vec::new();
                pat_bindings(&arm.pat, None, &mut extra);
                let body = Block {
                    brace_token: Default::default(),
                    stmts: vec![Stmt::Expr((*arm.body).clone(), None)],
                };
                let block = self.resume_block(&body, extra);
                Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block,
                })
            }
            Expr::Loop(l) => {
                // The first, partial iteration is peeled off the loop so
                // that the locals it restores are not moved inside a loop;
                // its `break`s leave the whole construct and its
                // `continue`s fall through into the loop.
                let n = self.loops;
                self.loops += 1;
                let exit = syn::Lifetime::new(&format!("'__io_loop{n}"), Span::mixed_site());
                let next = syn::Lifetime::new(&format!("'__io_next{n}"), Span::mixed_site());
                let mut partial = self.resume_block(&l.body, Vec::new());
                let target = l.label.as_ref().map(|lab| &lab.name);
                retarget(&mut partial, target, &exit, &next);
                let mut whole = l.clone();
                whole.body = self.normal_block(&l.body);
                self.expr(quote! {
                    #exit: {
                        #next: #partial
                        #whole
                    }
                })
            }
            Expr::Assign(a) => {
                let mut a = a.clone();
                *a.right = self.resume_expr(&a.right);
                Expr::Assign(a)
            }
            Expr::Binary(b) => {
                let mut b = b.clone();
                *b.right = self.resume_expr(&b.right);
                Expr::Binary(b)
            }
            Expr::Paren(p) => {
                let mut p = p.clone();
                *p.expr = self.resume_expr(&p.expr);
                Expr::Paren(p)
            }
            Expr::Group(g) => {
                let mut g = g.clone();
                *g.expr = self.resume_expr(&g.expr);
                Expr::Group(g)
            }
            _ => {
                self.bug("an expression");
                e.clone()
            }
        }
    }

    // ----- the markers -----

    fn point(&self, id: PointId) -> &'a Point {
        &self.points[id.0]
    }

    /// A marker reached anew: evaluate, and suspend if it must wait.
    fn first_arrival(&mut self, id: PointId) -> Expr {
        let p = self.point(id);
        let operand = p.operand.as_ref();
        let span = p.span;
        let Mode::Final(layout) = &self.mode else {
            return match p.kind {
                MarkerKind::Yield => parse_quote!(()),
                _ => self.expr(quote!({ (#operand) })),
            };
        };
        let store = layout.store(id);
        let c = internal("__io_c");
        let e = internal("__io_e");
        let ok = quote!(::core::result::Result::Ok);
        let err = quote!(::core::result::Result::Err);
        match p.kind {
            MarkerKind::Wait | MarkerKind::WaitAll => {
                let init = if p.kind == MarkerKind::WaitAll {
                    quote_spanned!(span=> ::io_model::__private::group_all(#operand))
                } else {
                    let op_span = operand.map_or(span, syn::spanned::Spanned::span);
                    quote_spanned!(op_span=> ::io_model::__private::waitable(#operand))
                };
                let convert = self.convert_completion_error(&e);
                self.expr(quote! {{
                    let #c: ::io_model::Completion = #init;
                    if !::io_model::Completion::finished(&#c) {
                        #store
                        return #ok(::io_model::IOResult::IO(::io_model::IOCompletions::Single(#c)));
                    }
                    if let ::core::option::Option::Some(#e) = ::io_model::Completion::get_error(&#c) {
                        return #err(#convert);
                    }
                }})
            }
            MarkerKind::Call => self.call_code(id),
            MarkerKind::Yield => self.expr(quote! {{
                if ::io_model::__private::suspend() {
                    #store
                    return #ok(::io_model::IOResult::IO(::io_model::IOCompletions::Single(
                        ::io_model::Completion::new_yield(),
                    )));
                }
            }}),
        }
    }

    fn call_code(&mut self, id: PointId) -> Expr {
        let p = self.point(id);
        let operand = p.operand.as_ref();
        let Mode::Final(layout) = &self.mode else {
            return self.expr(quote!({ (#operand) }));
        };
        let store = layout.store(id);
        let v = internal("__io_v");
        let io = internal("__io_io");
        let e = internal("__io_e");
        let span = p.span;
        // The operand's type is checked at the marker: "expected `Result<IOResult<_>, _>`".
        let done =
            quote_spanned!(span=> ::core::result::Result::Ok(::io_model::IOResult::Done(#v)));
        let pending =
            quote_spanned!(span=> ::core::result::Result::Ok(::io_model::IOResult::IO(#io)));
        let failed = quote_spanned!(span=> ::core::result::Result::Err(#e));
        let op_span = operand.map_or(span, syn::spanned::Spanned::span);
        let operand = quote_spanned!(op_span=> ::io_model::__private::operation(#operand));
        // An error type that does not convert is reported at the marker.
        let convert = quote_spanned!(span=> ::io_model::__private::operation_error(#e));
        self.expr(quote! {
            match #operand {
                #done => #v,
                #pending => {
                    #store
                    return ::core::result::Result::Ok(::io_model::IOResult::IO(#io));
                }
                #failed => return ::core::result::Result::Err(#convert),
            }
        })
    }

    /// The target marker, resumed: its completion has finished (the entry
    /// check guarantees it), or its operation is called again.
    fn resumed_marker(&mut self, id: PointId) -> Expr {
        let p = self.point(id);
        match (&self.mode, p.kind) {
            (_, MarkerKind::Call) => self.call_code(id),
            (Mode::Analysis, _) | (_, MarkerKind::Yield) => parse_quote!(()),
            (Mode::Final(_), MarkerKind::Wait | MarkerKind::WaitAll) => {
                let c = internal("__io_c");
                let e = internal("__io_e");
                let convert = self.convert_completion_error(&e);
                parse_quote! {{
                    if let ::core::option::Option::Some(#e) = ::io_model::Completion::get_error(&#c) {
                        return ::core::result::Result::Err(#convert);
                    }
                }}
            }
        }
    }

    /// `E::from(e)` for a `CompletionError` `e`, spanned at the return type
    /// so that an error type without `From<CompletionError>` is reported
    /// there.
    fn convert_completion_error(&self, e: &Ident) -> TokenStream {
        let span = self.ret_span;
        quote_spanned!(span=> ::io_model::__private::completion_error(#e))
    }
}

/// A statement-position placeholder `__io_point!(N);` (re-parsed code
/// turns it into `Stmt::Macro`) as the expression statement it stands for.
fn macro_stmt_as_expr(s: &Stmt) -> Stmt {
    match s {
        Stmt::Macro(m) => Stmt::Expr(
            Expr::Macro(syn::ExprMacro {
                attrs: m.attrs.clone(),
                mac: m.mac.clone(),
            }),
            m.semi_token,
        ),
        other => other.clone(),
    }
}

/// Points the `break`s and `continue`s of a peeled loop iteration that
/// target the loop (unlabelled ones outside nested loops, or ones naming
/// `label`) at the peeled construct: `break` leaves through `exit`,
/// `continue` ends the iteration through `next`.
fn retarget(
    block: &mut Block,
    label: Option<&syn::Lifetime>,
    exit: &syn::Lifetime,
    next: &syn::Lifetime,
) {
    use syn::visit_mut::VisitMut;
    struct R<'a> {
        label: Option<&'a syn::Lifetime>,
        exit: &'a syn::Lifetime,
        next: &'a syn::Lifetime,
        depth: usize,
    }
    impl R<'_> {
        fn targets(&self, l: &Option<syn::Lifetime>) -> bool {
            match l {
                None => self.depth == 0,
                Some(l) => Some(l) == self.label,
            }
        }
    }
    impl VisitMut for R<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            match e {
                Expr::Break(b) => {
                    if let Some(v) = &mut b.expr {
                        self.visit_expr_mut(v);
                    }
                    if self.targets(&b.label) {
                        b.label = Some(self.exit.clone());
                        // `break 'l ::a::b` would read as a label and `:`.
                        if let Some(v) = &mut b.expr {
                            if quote!(#v).to_string().starts_with("::") {
                                let inner = (**v).clone();
                                **v = parse_quote!((#inner));
                            }
                        }
                    }
                }
                Expr::Continue(c) => {
                    if self.targets(&c.label) {
                        let next = self.next;
                        *e = parse_quote!(break #next);
                    }
                }
                Expr::Loop(l) => {
                    self.depth += 1;
                    self.visit_block_mut(&mut l.body);
                    self.depth -= 1;
                }
                Expr::While(w) => {
                    self.depth += 1;
                    self.visit_expr_mut(&mut w.cond);
                    self.visit_block_mut(&mut w.body);
                    self.depth -= 1;
                }
                Expr::ForLoop(f) => {
                    self.visit_expr_mut(&mut f.expr);
                    self.depth += 1;
                    self.visit_block_mut(&mut f.body);
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
        exit,
        next,
        depth: 0,
    }
    .visit_block_mut(block);
}

/// The arm-local name of the state slot holding visible local `id`.
pub fn slot_ident(id: usize) -> Ident {
    internal(&format!("__io_b{id}"))
}

/// The bindings an `if` condition's `let`s introduce for its `then` block.
fn cond_bindings(cond: &Expr) -> Vec<PatBinding> {
    let mut out = Vec::new();
    fn walk(e: &Expr, out: &mut Vec<PatBinding>) {
        match e {
            Expr::Let(l) => pat_bindings(&l.pat, None, out),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                walk(&b.left, out);
                walk(&b.right, out);
            }
            _ => {}
        }
    }
    walk(cond, &mut out);
    out
}
