//! Whether the function's code may move out of a by-value parameter.
//!
//! Arguments are passed again on every call (SPEC §3.2), so a parameter is
//! never stored. The arms of the dispatch loop all see it, and one trip
//! round the loop may run several of them: if any may move out of the
//! parameter, it travels between arms in a carrier (an `Option` taken by
//! the arm that uses it), so that the loop never moves it twice. A
//! parameter that the code only reads in place needs no carrier, whatever
//! its type; that saves a move of the value per arm.
//!
//! The check is syntactic and errs towards "may move": a use counts as in
//! place only where Rust never moves, whatever the type:
//!
//! - under `&` or `&mut`, or as the base of an index (`x[i]`, `x.f[i]`):
//!   moving out of an index is an error in plain Rust too;
//! - as an operand of `==`, `!=`, `<`, `<=`, `>`, `>=` (they borrow);
//! - on the left of an assignment, compound ones too;
//! - as a field path (`x.f.g`) in one of those places;
//! - as the receiver of a method that takes `&self` in the standard
//!   library (`len`, `is_empty`, `iter`, `clone`, `as_ref`, `as_slice`,
//!   `as_str`, `as_bytes`, `contains`, `to_string`, `to_owned`, `to_vec`);
//! - as an argument of a formatting or assertion macro (`format!`,
//!   `println!`, `write!`, `assert_eq!`, ..), which borrow their arguments.
//!
//! Anything else, a closure or another macro that mentions the name
//! included, counts as a possible move. Shadowing is not followed: a local
//! of the same name counts as the parameter, which only errs towards a
//! carrier.

use proc_macro2::{TokenStream, TokenTree};
use syn::punctuated::Punctuated;
use syn::{BinOp, Block, Expr, Macro, Stmt, Token};

/// Whether `block` may move out of the local or parameter `name`.
///
/// ```
/// use io_model_transform::moves::may_move;
/// let block: syn::Block = syn::parse_quote!({
///     let a = key.0[1] + key.len() as u64;
///     println!("{}", key.name);
///     a
/// });
/// assert!(!may_move(&block, "key"));
/// let block: syn::Block = syn::parse_quote!({ consume(key) });
/// assert!(may_move(&block, "key"));
/// ```
pub fn may_move(block: &Block, name: &str) -> bool {
    let mut m = Mover { name, moved: false };
    m.block(block);
    m.moved
}

/// Methods of the standard library that take `&self`.
const BY_REF_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "iter",
    "clone",
    "as_ref",
    "as_slice",
    "as_str",
    "as_bytes",
    "contains",
    "to_string",
    "to_owned",
    "to_vec",
];

/// Macros that take their arguments by reference.
const BORROWING_MACROS: &[&str] = &[
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
];

struct Mover<'a> {
    name: &'a str,
    moved: bool,
}

impl Mover<'_> {
    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            if self.moved {
                return;
            }
            match s {
                Stmt::Local(l) => {
                    if let Some(init) = &l.init {
                        self.expr(&init.expr, false);
                        if let Some((_, e)) = &init.diverge {
                            self.expr(e, false);
                        }
                    }
                }
                Stmt::Expr(e, _) => self.expr(e, false),
                Stmt::Macro(m) => self.mac(&m.mac),
                Stmt::Item(_) => {}
            }
        }
    }

    /// Visits `e`; `in_place` says that `e` itself is used as a place
    /// (borrowed, indexed, compared, assigned to), not moved.
    fn expr(&mut self, e: &Expr, in_place: bool) {
        if self.moved {
            return;
        }
        match e {
            Expr::Path(p) => {
                if !in_place && p.qself.is_none() && p.path.is_ident(self.name) {
                    self.moved = true;
                }
            }
            Expr::Reference(r) => self.expr(&r.expr, true),
            Expr::Index(i) => {
                self.expr(&i.expr, true);
                self.expr(&i.index, false);
            }
            Expr::Field(f) => self.expr(&f.base, in_place),
            Expr::Paren(p) => self.expr(&p.expr, in_place),
            Expr::Group(g) => self.expr(&g.expr, in_place),
            Expr::Binary(b) => {
                let borrows = matches!(
                    b.op,
                    BinOp::Eq(_)
                        | BinOp::Ne(_)
                        | BinOp::Lt(_)
                        | BinOp::Le(_)
                        | BinOp::Gt(_)
                        | BinOp::Ge(_)
                );
                let assigns = matches!(
                    b.op,
                    BinOp::AddAssign(_)
                        | BinOp::SubAssign(_)
                        | BinOp::MulAssign(_)
                        | BinOp::DivAssign(_)
                        | BinOp::RemAssign(_)
                        | BinOp::BitXorAssign(_)
                        | BinOp::BitAndAssign(_)
                        | BinOp::BitOrAssign(_)
                        | BinOp::ShlAssign(_)
                        | BinOp::ShrAssign(_)
                );
                self.expr(&b.left, borrows || assigns);
                self.expr(&b.right, borrows);
            }
            Expr::Assign(a) => {
                self.expr(&a.left, true);
                self.expr(&a.right, false);
            }
            Expr::MethodCall(m) => {
                let by_ref = BY_REF_METHODS.contains(&m.method.to_string().as_str());
                self.expr(&m.receiver, by_ref);
                for a in &m.args {
                    self.expr(a, false);
                }
            }
            Expr::Macro(m) => self.mac(&m.mac),
            Expr::Closure(c) => {
                let body = &c.body;
                self.moved |= mentions(quote::quote!(#body), self.name);
            }
            Expr::Block(b) => self.block(&b.block),
            Expr::Unsafe(b) => self.block(&b.block),
            Expr::Const(b) => self.block(&b.block),
            Expr::Async(_) => self.moved |= mentions(quote::quote!(#e), self.name),
            Expr::Loop(l) => self.block(&l.body),
            Expr::While(w) => {
                self.expr(&w.cond, false);
                self.block(&w.body);
            }
            Expr::ForLoop(f) => {
                self.expr(&f.expr, false);
                self.block(&f.body);
            }
            Expr::If(i) => {
                self.expr(&i.cond, false);
                self.block(&i.then_branch);
                if let Some((_, e)) = &i.else_branch {
                    self.expr(e, false);
                }
            }
            Expr::Match(m) => {
                self.expr(&m.expr, false);
                for arm in &m.arms {
                    if let Some((_, g)) = &arm.guard {
                        self.expr(g, false);
                    }
                    self.expr(&arm.body, false);
                }
            }
            _ => {
                // Every other expression: its direct sub-expressions are
                // used by value.
                match children(e) {
                    Some(subs) => {
                        for s in subs {
                            self.expr(s, false);
                        }
                    }
                    None => self.moved |= mentions(quote::quote!(#e), self.name),
                }
            }
        }
    }

    fn mac(&mut self, m: &Macro) {
        let name = m.path.segments.last().map(|s| s.ident.to_string());
        if name
            .as_deref()
            .is_some_and(|n| BORROWING_MACROS.contains(&n))
        {
            let parsed = m.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated);
            if let Ok(args) = parsed {
                for a in &args {
                    // `write!(w, ..)` takes its writer by `&mut`.
                    self.expr(a, true);
                }
                return;
            }
        }
        if mentions(m.tokens.clone(), self.name) {
            self.moved = true;
        }
    }
}

/// The direct sub-expressions of the expressions `Mover::expr` does not
/// handle itself; `None` for one it does not know.
fn children(e: &Expr) -> Option<Vec<&Expr>> {
    Some(match e {
        Expr::Array(a) => a.elems.iter().collect(),
        Expr::Tuple(t) => t.elems.iter().collect(),
        Expr::Call(c) => std::iter::once(&*c.func).chain(c.args.iter()).collect(),
        Expr::Cast(c) => vec![&c.expr],
        Expr::Unary(u) => vec![&u.expr],
        Expr::Lit(_) => vec![],
        Expr::Range(r) => r.start.iter().chain(r.end.iter()).map(|b| &**b).collect(),
        Expr::Repeat(r) => vec![&r.expr, &r.len],
        Expr::Return(r) => r.expr.iter().map(|b| &**b).collect(),
        Expr::Break(b) => b.expr.iter().map(|b| &**b).collect(),
        Expr::Continue(_) => vec![],
        Expr::Try(t) => vec![&t.expr],
        Expr::Struct(s) => s
            .fields
            .iter()
            .map(|f| &f.expr)
            .chain(s.rest.iter().map(|b| &**b))
            .collect(),
        Expr::Let(l) => vec![&l.expr],
        Expr::Await(a) => vec![&a.base],
        _ => return None,
    })
}

/// Whether `tokens` hold the identifier `name` anywhere.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::may_move;

    fn moves(block: syn::Block) -> bool {
        may_move(&block, "x")
    }

    #[test]
    fn reads_in_place_do_not_move() {
        assert!(!moves(syn::parse_quote!({
            let a = &x;
            let b = x.0[3];
            let c = x.f.g[1] + 2;
            if x == y || x.len() > 3 {}
            x.count += 1;
            x.f = 4;
            println!("{} {:?}", x, x.f);
            assert_eq!(x.a, 3);
        })));
    }

    #[test]
    fn values_move() {
        for b in [
            syn::parse_quote!({
                let y = x;
            }),
            syn::parse_quote!({ f(x) }),
            syn::parse_quote!({
                let y = x.f;
            }),
            syn::parse_quote!({ x.into_inner() }),
            syn::parse_quote!({
                let c = || x.len();
            }),
            syn::parse_quote!({ call!(op(x)) }),
            syn::parse_quote!({
                match x {
                    _ => {}
                }
            }),
            syn::parse_quote!({ x + 1 }),
            syn::parse_quote!({ S { a: x } }),
        ] {
            assert!(moves(b));
        }
    }

    #[test]
    fn other_names_are_ignored() {
        assert!(!moves(syn::parse_quote!({
            f(y);
            let z = w;
        })));
    }
}
