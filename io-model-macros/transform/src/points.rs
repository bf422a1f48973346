//! Phase 2: find the suspension points.
//!
//! Every `wait!`, `wait_all!`, `call!` and `yield_now!` in the body is
//! checked for its position, numbered in source order, recorded as a
//! [`Point`], and replaced in the body by a placeholder `__io_point!(N)`
//! that the later phases recognize. A marker may only stand where its value
//! flows straight into a statement, a `let`, an assignment, a block's tail,
//! a match arm, or an `if`/`match`/`while` scrutinee, and only inside
//! blocks, `if`, `match` and loops: those are the constructs the
//! continuation phase knows how to resume into.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::ParseStream;
use syn::{Block, Expr, ExprMacro, Ident, Macro, Stmt, Token};

use crate::errors::{line_of, Errors};

pub use crate::ids::PointId;

/// Which marker a point is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    Wait,
    WaitAll,
    Call,
    Yield,
}

impl MarkerKind {
    fn from_name(name: &str) -> Option<MarkerKind> {
        Some(match name {
            "wait" => MarkerKind::Wait,
            "wait_all" => MarkerKind::WaitAll,
            "call" => MarkerKind::Call,
            "yield_now" => MarkerKind::Yield,
            _ => return None,
        })
    }

    /// The marker as the user writes it, `wait!`.
    pub fn macro_name(self) -> &'static str {
        match self {
            MarkerKind::Wait => "wait!",
            MarkerKind::WaitAll => "wait_all!",
            MarkerKind::Call => "call!",
            MarkerKind::Yield => "yield_now!",
        }
    }

    /// The prefix of generated variant names.
    pub fn variant_prefix(self) -> &'static str {
        match self {
            MarkerKind::Wait => "Wait",
            MarkerKind::WaitAll => "WaitAll",
            MarkerKind::Call => "Call",
            MarkerKind::Yield => "Yield",
        }
    }

    /// Whether the state of this point holds the completion waited for.
    pub fn holds_completion(self) -> bool {
        matches!(self, MarkerKind::Wait | MarkerKind::WaitAll)
    }
}

/// One suspension point.
pub struct Point {
    pub id: PointId,
    pub kind: MarkerKind,
    pub label: Option<Ident>,
    pub operand: Option<Expr>,
    /// The marker's name token, where errors about the point go.
    pub span: Span,
    pub line: usize,
}

const PLACEHOLDER: &str = "__io_point";

/// The point a placeholder expression stands for.
pub fn placeholder_id(expr: &Expr) -> Option<PointId> {
    let Expr::Macro(m) = expr else { return None };
    if !m.mac.path.is_ident(PLACEHOLDER) {
        return None;
    }
    let lit: syn::LitInt = syn::parse2(m.mac.tokens.clone()).ok()?;
    lit.base10_parse().ok().map(PointId)
}

fn placeholder(id: PointId, span: Span) -> Expr {
    let ident = Ident::new(PLACEHOLDER, span);
    let lit = syn::LitInt::new(&id.0.to_string(), span);
    syn::parse_quote_spanned!(span=> #ident!(#lit))
}

/// Whether `expr` holds the placeholder of a point (`id`, or any). The
/// placeholders are macro calls in the syntax tree (the finder never leaves
/// one inside another macro's tokens), so the tree is walked, not printed.
pub fn contains_point(expr: &Expr, id: Option<PointId>) -> bool {
    struct Scan {
        id: Option<PointId>,
        found: bool,
    }
    impl<'ast> syn::visit::Visit<'ast> for Scan {
        fn visit_macro(&mut self, m: &'ast Macro) {
            if m.path.is_ident(PLACEHOLDER) {
                let n: Option<usize> = m.tokens.to_string().trim().parse().ok();
                self.found |= self.id.is_none() || n == self.id.map(|p| p.0);
            }
        }
    }
    let mut scan = Scan { id, found: false };
    syn::visit::Visit::visit_expr(&mut scan, expr);
    scan.found
}

/// Why a marker may not stand where it was found, and what to do instead.
#[derive(Clone, Copy)]
struct Blocker {
    what: &'static str,
    fix: &'static str,
}

const BIND_FIRST: &str = "a suspension point resumes only where its value is used whole; \
                          bind it first: `let v = call!(..);`, then use `v`";

/// What a marker's macro tokens hold: `[Label =>] operand`.
struct MarkerArgs {
    label: Option<Ident>,
    operand: Option<Expr>,
}

impl MarkerArgs {
    fn parse(kind: MarkerKind, input: ParseStream) -> syn::Result<Self> {
        if kind == MarkerKind::Yield && !input.is_empty() {
            let fork = input.fork();
            let is_label = fork
                .parse::<Ident>()
                .is_ok_and(|i| i.to_string().starts_with(|c: char| c.is_ascii_uppercase()))
                && fork.is_empty();
            if !is_label {
                return Err(input.error(
                    "`yield_now!` takes no operand; write `yield_now!()`, or to name its state, \
                     `yield_now!(Label)` with an UpperCamelCase label",
                ));
            }
        }
        let label = if input.peek(Ident) && (input.peek2(Token![=>]) || kind == MarkerKind::Yield) {
            let label: Ident = input.parse()?;
            if kind != MarkerKind::Yield {
                input.parse::<Token![=>]>()?;
            }
            Some(label)
        } else {
            None
        };
        if kind == MarkerKind::Yield {
            if !input.is_empty() {
                return Err(input.error(
                    "`yield_now!` takes no operand; write `yield_now!()` or, to name its state, `yield_now!(Label)`",
                ));
            }
            return Ok(MarkerArgs {
                label,
                operand: None,
            });
        }
        if input.is_empty() {
            return Err(input.error(format!(
                "`{}` needs an operand: {}",
                kind.macro_name(),
                match kind {
                    MarkerKind::Wait => "the completion to wait for, `wait!(c)`",
                    MarkerKind::WaitAll => "the completions to wait for, `wait_all!(completions)`",
                    _ => "the operation to drive, `call!(self.read_page(n))`",
                }
            )));
        }
        let operand: Expr = input.parse()?;
        if let Expr::Let(l) = &operand {
            return Err(syn::Error::new(
                l.let_token.span,
                format!(
                    "`{}` takes an expression, and `let` is not one here; bind first: \
                     `let v = ..;`, then `{}(v)`",
                    kind.macro_name(),
                    kind.macro_name()
                ),
            ));
        }
        if !input.is_empty() {
            return Err(input.error(format!(
                "unexpected tokens after the operand of `{}`; it takes one expression",
                kind.macro_name()
            )));
        }
        Ok(MarkerArgs {
            label,
            operand: Some(operand),
        })
    }
}

/// Recognizes a marker macro: `wait!`, `io_model::wait!`, `::io_model::wait!`.
pub fn marker_kind(mac: &Macro) -> Option<MarkerKind> {
    let segs = &mac.path.segments;
    let last = segs.last()?;
    let kind = MarkerKind::from_name(&last.ident.to_string())?;
    match segs.len() {
        1 => Some(kind),
        2 if segs[0].ident == "io_model" => Some(kind),
        _ => None,
    }
}

/// Finds the markers in `body`, replacing each by its placeholder.
pub struct Finder<'e> {
    pub points: Vec<Point>,
    errors: &'e mut Errors,
}

impl<'e> Finder<'e> {
    pub fn new(errors: &'e mut Errors) -> Self {
        Finder {
            points: Vec::new(),
            errors,
        }
    }

    /// Walks the function body.
    pub fn run(&mut self, body: &mut Block) {
        self.block(body, None);
        self.check_labels();
    }

    fn check_labels(&mut self) {
        let mut seen: Vec<&Ident> = Vec::new();
        for p in &self.points {
            let Some(label) = &p.label else { continue };
            let name = label.to_string();
            if name == "Idle" || name == "Poisoned" {
                self.errors.push(
                    label.span(),
                    format!("the state label `{name}` is reserved for the state enum's own variant; choose another name"),
                );
            } else if !name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                || name.contains('_')
            {
                self.errors.push(
                    label.span(),
                    format!(
                        "the state label `{name}` names an enum variant, so it is written in UpperCamelCase: `{}`",
                        crate::item::pascal_case(&name)
                    ),
                );
            } else if let Some(first) = seen.iter().find(|l| **l == label) {
                self.errors.push(
                    label.span(),
                    format!(
                        "the state label `{name}` is used twice (first at line {}); each suspension point needs its own label",
                        line_of(first.span())
                    ),
                );
            }
            seen.push(label);
        }
        // Generated names must not collide with labels either.
        let generated: Vec<String> = self
            .points
            .iter()
            .filter(|p| p.label.is_none())
            .map(|p| generated_name(&self.points, p.id))
            .collect();
        for p in &self.points {
            if let Some(label) = &p.label {
                if generated.iter().any(|g| label == g) {
                    self.errors.push(
                        label.span(),
                        format!("the state label `{label}` is also the generated name of an unlabelled suspension point; choose another name"),
                    );
                }
            }
        }
    }

    fn block(&mut self, block: &mut Block, blocker: Option<Blocker>) {
        let last = block.stmts.len().saturating_sub(1);
        for (i, stmt) in block.stmts.iter_mut().enumerate() {
            // `wait! { c }` needs no `;` before the next statement; its
            // placeholder, an expression statement, does.
            if let Stmt::Macro(m) = stmt {
                if i < last && m.semi_token.is_none() && marker_kind(&m.mac).is_some() {
                    m.semi_token = Some(Default::default());
                }
            }
            self.stmt(stmt, blocker);
        }
    }

    fn stmt(&mut self, stmt: &mut Stmt, blocker: Option<Blocker>) {
        match stmt {
            Stmt::Local(local) => {
                if let Some(init) = &mut local.init {
                    self.expr(&mut init.expr, true, blocker);
                    if let Some((_, diverge)) = &mut init.diverge {
                        self.expr(diverge, false, blocker);
                    }
                }
            }
            Stmt::Expr(expr, _) => self.expr(expr, true, blocker),
            Stmt::Macro(sm) => {
                if marker_kind(&sm.mac).is_some() {
                    let mut expr = Expr::Macro(ExprMacro {
                        attrs: std::mem::take(&mut sm.attrs),
                        mac: sm.mac.clone(),
                    });
                    self.expr(&mut expr, true, blocker);
                    *stmt = Stmt::Expr(expr, sm.semi_token);
                } else {
                    self.foreign_macro(&sm.mac);
                }
            }
            Stmt::Item(item) => self.nested_item(item),
        }
    }

    fn nested_item(&mut self, item: &syn::Item) {
        if let Some(span) = find_marker_tokens(item.to_token_stream()) {
            self.errors.push(
                span,
                "a suspension point cannot stand inside a nested item (`fn`, `impl`, `const`, ..): \
                 it belongs to its own function, which is not resumable; move the marker into the \
                 #[resumable] function's body, or make the nested function #[resumable] itself",
            );
        }
    }

    fn foreign_macro(&mut self, mac: &Macro) {
        if let Some(span) = find_marker_tokens(mac.tokens.clone()) {
            let name = mac
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            self.errors.push(
                span,
                format!(
                    "a suspension point cannot stand inside the arguments of `{name}!`: the \
                     attribute cannot see into other macros; bind its value first: \
                     `let v = call!(..);`, then use `v` in `{name}!`"
                ),
            );
        }
    }

    fn marker(&mut self, expr: &mut Expr, kind: MarkerKind, sink: bool, blocker: Option<Blocker>) {
        let Expr::Macro(m) = expr else { return };
        let span = m
            .mac
            .path
            .segments
            .last()
            .map(|s| s.ident.span())
            .unwrap_or_else(Span::call_site);
        let name = kind.macro_name();
        if let Some(b) = blocker {
            self.errors.push(
                span,
                format!("`{name}` cannot stand {}: {}", b.what, fix_for(kind, b.fix)),
            );
            return;
        }
        if !sink {
            self.errors.push(
                span,
                format!(
                    "`{name}` must stand on its own: as a statement, a `let` initializer, the right \
                     side of an assignment, a block's tail, a match arm, or an `if`/`match`/`while` \
                     scrutinee; {}",
                    fix_for(kind, BIND_FIRST)
                ),
            );
            return;
        }
        if m.mac.tokens.is_empty() && kind != MarkerKind::Yield {
            self.errors.push(
                span,
                format!(
                    "`{name}` needs an operand: {}",
                    match kind {
                        MarkerKind::Wait => "the completion to wait for, `wait!(c)`",
                        MarkerKind::WaitAll =>
                            "the completions to wait for, `wait_all!(completions)`",
                        _ => "the operation to drive, `call!(self.read_page(n))`",
                    }
                ),
            );
            return;
        }
        let parsed = syn::parse::Parser::parse2(
            |input: ParseStream| MarkerArgs::parse(kind, input),
            m.mac.tokens.clone(),
        );
        let args = match parsed {
            Ok(args) => args,
            Err(e) => {
                self.errors.add(e);
                return;
            }
        };
        let mut operand = args.operand;
        if let Some(op) = &mut operand {
            // Markers inside the operand are errors; a `?` inside it is fine.
            self.expr(
                op,
                false,
                Some(Blocker {
                    what: "inside the operand of another suspension marker",
                    fix: "bind the inner one first: `let v = call!(..);`, then use `v`",
                }),
            );
        }
        let id = PointId(self.points.len());
        self.points.push(Point {
            id,
            kind,
            label: args.label,
            operand,
            span,
            line: line_of(span),
        });
        // The statement's attributes (`#[cfg(..)]`) stay with it.
        let attrs = std::mem::take(&mut m.attrs);
        *expr = placeholder(id, span);
        if let Expr::Macro(m) = expr {
            m.attrs = attrs;
        }
    }

    fn expr(&mut self, expr: &mut Expr, sink: bool, blocker: Option<Blocker>) {
        const CLOSURE: Blocker = Blocker {
            what: "inside a closure",
            fix: "a closure runs outside the state machine and cannot suspend it; move the \
                  marker out of the closure into the function body",
        };
        let inner = |what: &'static str| {
            Some(blocker.unwrap_or(Blocker {
                what,
                fix: BIND_FIRST,
            }))
        };
        match expr {
            Expr::Macro(m) => {
                if let Some(kind) = marker_kind(&m.mac) {
                    self.marker(expr, kind, sink, blocker);
                } else {
                    let mac = m.mac.clone();
                    self.foreign_macro(&mac);
                }
            }
            Expr::Block(b) => self.block(&mut b.block, blocker),
            Expr::Unsafe(b) => self.block(&mut b.block, blocker),
            Expr::If(e) => {
                self.expr(&mut e.cond, true, blocker);
                self.block(&mut e.then_branch, blocker);
                if let Some((_, els)) = &mut e.else_branch {
                    self.expr(els, false, blocker);
                }
            }
            Expr::Let(e) => {
                // Only reached as an `if`/`while` condition (a sink) or
                // inside a `&&` chain (not one).
                self.expr(&mut e.expr, sink, blocker);
            }
            Expr::Match(e) => {
                self.expr(&mut e.expr, true, blocker);
                for arm in &mut e.arms {
                    if let Some((_, guard)) = &mut arm.guard {
                        self.expr(
                            guard,
                            false,
                            Some(blocker.unwrap_or(Blocker {
                                what: "in a match guard",
                                fix: "a guard is evaluated while the arms are being chosen and cannot \
                                      suspend; evaluate it before the `match`: `let ok = call!(..);`, \
                                      then use `if ok` in the guard",
                            })),
                        );
                    }
                    self.expr(&mut arm.body, true, blocker);
                }
            }
            Expr::Loop(e) => self.block(&mut e.body, blocker),
            Expr::While(e) => {
                self.expr(&mut e.cond, true, blocker);
                self.block(&mut e.body, blocker);
            }
            Expr::ForLoop(e) => {
                self.expr(
                    &mut e.expr,
                    false,
                    inner("in the iterable of a `for` loop"),
                );
                self.block(&mut e.body, blocker);
            }
            Expr::Assign(e) => {
                self.expr(&mut e.left, false, inner("in the place of an assignment"));
                self.expr(&mut e.right, true, blocker);
            }
            Expr::Binary(e) if is_compound_assign(&e.op) => {
                self.expr(&mut e.left, false, inner("in the place of an assignment"));
                self.expr(&mut e.right, true, blocker);
            }
            Expr::Paren(e) => self.expr(&mut e.expr, sink, blocker),
            Expr::Group(e) => self.expr(&mut e.expr, sink, blocker),
            Expr::Closure(e) => self.expr(&mut e.body, false, Some(CLOSURE)),
            Expr::Async(e) => self.block(
                &mut e.block,
                Some(Blocker {
                    what: "inside an `async` block",
                    fix: "an async block is a separate future that this state machine does not \
                          drive; move the marker out of the `async` block",
                }),
            ),
            Expr::Const(e) => self.block(
                &mut e.block,
                Some(Blocker {
                    what: "inside a `const` block",
                    fix: "a `const` block is evaluated at compile time and cannot wait for I/O; \
                          move the marker out of it",
                }),
            ),
            Expr::TryBlock(e) => self.block(
                &mut e.block,
                Some(Blocker {
                    what: "inside a `try` block",
                    fix: "move the marker out of the `try` block",
                }),
            ),
            Expr::Try(e) => self.expr(
                &mut e.expr,
                false,
                Some(blocker.unwrap_or(Blocker {
                    what: "as the operand of `?`",
                    fix: "`call!` and `wait!` already return the error from the function; drop the `?`",
                })),
            ),
            Expr::Return(e) => {
                if let Some(v) = &mut e.expr {
                    self.expr(v, false, inner("in a `return` value"));
                }
            }
            Expr::Break(e) => {
                if let Some(v) = &mut e.expr {
                    self.expr(v, false, inner("in a `break` value"));
                }
            }
            other => {
                let what = describe(other);
                self.generic_children(other, inner(what));
            }
        }
    }

    /// Walks the direct sub-expressions of an expression that cannot hold
    /// a suspension point, reporting any marker inside it.
    fn generic_children(&mut self, expr: &mut Expr, blocker: Option<Blocker>) {
        struct Children<'a, 'e> {
            finder: &'a mut Finder<'e>,
            blocker: Option<Blocker>,
            depth: usize,
        }
        impl syn::visit_mut::VisitMut for Children<'_, '_> {
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                if self.depth == 0 {
                    self.depth += 1;
                    syn::visit_mut::visit_expr_mut(self, e);
                    self.depth -= 1;
                } else {
                    self.finder.expr(e, false, self.blocker);
                }
            }
            fn visit_block_mut(&mut self, b: &mut Block) {
                self.finder.block(b, self.blocker);
            }
            fn visit_item_mut(&mut self, i: &mut syn::Item) {
                self.finder.nested_item(i);
            }
            fn visit_macro_mut(&mut self, m: &mut Macro) {
                self.finder.foreign_macro(m);
            }
        }
        let mut c = Children {
            finder: self,
            blocker,
            depth: 0,
        };
        syn::visit_mut::VisitMut::visit_expr_mut(&mut c, expr);
    }
}

/// The fix of a blocker, for this marker: a `wait!` has no value to bind,
/// so it is moved to a statement of its own instead.
fn fix_for(kind: MarkerKind, fix: &'static str) -> String {
    if fix != BIND_FIRST {
        return fix.replace("call!", kind.macro_name());
    }
    match kind {
        MarkerKind::Call => fix.to_string(),
        MarkerKind::Yield => "a suspension point resumes only at a whole statement; put it on its \
                              own: `yield_now!();`"
            .to_string(),
        _ => format!(
            "a suspension point resumes only at a whole statement; put it on its own, before \
             the expression: `{}(..);`",
            kind.macro_name()
        ),
    }
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

fn describe(expr: &Expr) -> &'static str {
    match expr {
        Expr::Call(_) => "inside a function call's arguments",
        Expr::MethodCall(_) => "inside a method call",
        Expr::Binary(_) => "as an operand of a binary operator",
        Expr::Unary(_) => "as the operand of a unary operator",
        Expr::Reference(_) => "behind a reference `&`",
        Expr::Field(_) => "as the base of a field access",
        Expr::Index(_) => "inside an index expression",
        Expr::Tuple(_) => "inside a tuple",
        Expr::Array(_) | Expr::Repeat(_) => "inside an array",
        Expr::Struct(_) => "inside a struct literal",
        Expr::Cast(_) => "inside a cast",
        Expr::Range(_) => "inside a range",
        Expr::Await(_) => "inside an `.await`",
        _ => "inside this expression",
    }
}

/// The span of the first marker invocation (`wait!` ..) in raw tokens.
pub fn find_marker_tokens(tokens: TokenStream) -> Option<Span> {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(i) if MarkerKind::from_name(&i.to_string()).is_some() => {
                if let Some(TokenTree::Punct(p)) = iter.peek() {
                    if p.as_char() == '!' {
                        return Some(i.span());
                    }
                }
            }
            TokenTree::Group(g) => {
                if let Some(s) = find_marker_tokens(g.stream()) {
                    return Some(s);
                }
            }
            _ => {}
        }
    }
    None
}

/// The generated variant name of an unlabelled point: its marker's kind and
/// its index among the points of that kind, in source order (`Call0`,
/// `Wait1`). Labelling one point does not rename the others.
pub fn generated_name(points: &[Point], id: PointId) -> String {
    let kind = points[id.0].kind;
    let n = points[..id.0].iter().filter(|p| p.kind == kind).count();
    format!("{}{}", kind.variant_prefix(), n)
}

/// The variant name of a point.
pub fn variant_name(points: &[Point], id: PointId) -> Ident {
    match &points[id.0].label {
        Some(label) => label.clone(),
        None => quote::format_ident!("{}", generated_name(points, id)),
    }
}
