//! Locals: the names a pattern binds, and the types the macro can read for
//! them without type inference.
//!
//! A local that is live across a suspension point is stored in the state,
//! so its type must be written in the enum. The macro reads it from, in
//! order: the `let`'s annotation (also through tuple patterns); a suffixed
//! literal, `true`/`false`, a char or string literal; a cast `e as T`; a
//! struct literal `T { .. }`; `Completion::new_*(..)`; another local or
//! parameter of known type; arithmetic on one of those; and, for the
//! iterator of a rewritten `for` loop, a range with a bound of known type or
//! a `Vec<T>`; `.len()`, `.count()` and `.capacity()` are `usize`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Expr, Ident, Lit, Pat, Type};

/// A name bound by a pattern.
#[derive(Clone)]
pub struct PatBinding {
    pub ident: Ident,
    pub mutable: bool,
    /// `ref x` / `ref mut x`: a reference into the matched value.
    pub by_ref: bool,
    pub ty: Option<Type>,
}

/// Whether a pattern identifier is a binding rather than a constant or a
/// unit variant (`None`, `MAX`): bindings are lowercase by convention.
fn is_binding_name(ident: &Ident, has_modifiers: bool) -> bool {
    has_modifiers
        || ident
            .to_string()
            .trim_start_matches("r#")
            .starts_with(|c: char| c.is_lowercase() || c == '_')
}

/// The bindings of `pat`, with types where `ty` (the pattern's declared
/// type) gives them.
pub fn pat_bindings(pat: &Pat, ty: Option<&Type>, out: &mut Vec<PatBinding>) {
    match pat {
        Pat::Ident(p) => {
            let modifiers = p.by_ref.is_some() || p.mutability.is_some() || p.subpat.is_some();
            if is_binding_name(&p.ident, modifiers) {
                out.push(PatBinding {
                    ident: p.ident.clone(),
                    mutable: p.mutability.is_some(),
                    by_ref: p.by_ref.is_some(),
                    ty: ty.cloned(),
                });
            }
            if let Some((_, sub)) = &p.subpat {
                pat_bindings(sub, None, out);
            }
        }
        Pat::Type(p) => pat_bindings(&p.pat, Some(&p.ty), out),
        Pat::Paren(p) => pat_bindings(&p.pat, ty, out),
        Pat::Tuple(p) => {
            let elems = match ty.map(strip_group) {
                Some(Type::Tuple(t))
                    if t.elems.len() == p.elems.len()
                        && !p.elems.iter().any(|e| matches!(e, Pat::Rest(_))) =>
                {
                    Some(t.elems.iter().collect::<Vec<_>>())
                }
                _ => None,
            };
            for (i, e) in p.elems.iter().enumerate() {
                pat_bindings(e, elems.as_ref().map(|v| v[i]), out);
            }
        }
        Pat::Reference(p) => pat_bindings(&p.pat, None, out),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| pat_bindings(e, None, out)),
        Pat::Struct(p) => p
            .fields
            .iter()
            .for_each(|f| pat_bindings(&f.pat, None, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| pat_bindings(e, None, out)),
        Pat::Or(p) => {
            if let Some(first) = p.cases.first() {
                pat_bindings(first, ty, out);
            }
        }
        _ => {}
    }
}

/// The bindings of a `let PAT [: T] = init`, reading types from the
/// initializer where the pattern has none.
pub fn let_bindings(pat: &Pat, init: Option<&Expr>, scope: &dyn TypeScope) -> Vec<PatBinding> {
    let mut out = Vec::new();
    pat_bindings(pat, None, &mut out);
    if let (Some(init), false) = (init, matches!(pat, Pat::Type(_))) {
        fill_from_init(pat, init, scope, &mut out);
    }
    out
}

/// Gives types to untyped bindings of `pat` from the initializer's shape.
fn fill_from_init(pat: &Pat, init: &Expr, scope: &dyn TypeScope, out: &mut [PatBinding]) {
    match (pat, strip_expr(init)) {
        (Pat::Ident(p), _) if p.subpat.is_none() && p.by_ref.is_none() => {
            if let Some(b) = out.iter_mut().find(|b| b.ident == p.ident) {
                if b.ty.is_none() {
                    b.ty = expr_type(init, scope);
                }
            }
        }
        (Pat::Tuple(p), Expr::Tuple(t)) if p.elems.len() == t.elems.len() => {
            for (pe, te) in p.elems.iter().zip(t.elems.iter()) {
                fill_from_init(pe, te, scope, out);
            }
        }
        (Pat::Paren(p), _) => fill_from_init(&p.pat, init, scope, out),
        _ => {}
    }
}

/// Looks up the declared type of a name visible where an expression stands.
pub trait TypeScope {
    fn type_of(&self, name: &str) -> Option<Type>;
}

fn strip_expr(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_expr(&p.expr),
        Expr::Group(g) => strip_expr(&g.expr),
        _ => e,
    }
}

fn strip_group(t: &Type) -> &Type {
    match t {
        Type::Group(g) => strip_group(&g.elem),
        Type::Paren(p) => strip_group(&p.elem),
        _ => t,
    }
}

fn ty(tokens: proc_macro2::TokenStream) -> Option<Type> {
    syn::parse2(tokens).ok()
}

/// The type of `e`, where its shape tells it.
pub fn expr_type(e: &Expr, scope: &dyn TypeScope) -> Option<Type> {
    match strip_expr(e) {
        Expr::Lit(l) => lit_type(&l.lit),
        Expr::Cast(c) => Some((*c.ty).clone()),
        Expr::Struct(s) if s.qself.is_none() => {
            let path = &s.path;
            ty(quote::quote!(#path))
        }
        Expr::Path(p) if p.qself.is_none() => {
            let ident = p.path.get_ident()?;
            scope.type_of(&ident.to_string())
        }
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_) | syn::UnOp::Not(_)) => {
            expr_type(&u.expr, scope)
        }
        Expr::Reference(r) => {
            // A reference: recorded as such so that storing it is refused
            // with the right message.
            let inner = expr_type(&r.expr, scope).unwrap_or(Type::Infer(syn::TypeInfer {
                underscore_token: Default::default(),
            }));
            let mutability = r.mutability;
            ty(quote::quote!(& #mutability #inner))
        }
        Expr::Binary(b) => {
            use syn::BinOp::*;
            match b.op {
                Eq(_) | Lt(_) | Le(_) | Ne(_) | Ge(_) | Gt(_) | And(_) | Or(_) => {
                    ty(quote::quote!(bool))
                }
                Shl(_) | Shr(_) => expr_type(&b.left, scope),
                Add(_) | Sub(_) | Mul(_) | Div(_) | Rem(_) | BitXor(_) | BitAnd(_) | BitOr(_) => {
                    expr_type(&b.left, scope).or_else(|| expr_type(&b.right, scope))
                }
                _ => None,
            }
        }
        Expr::Call(c) => call_type(c, scope),
        Expr::MethodCall(m)
            if m.args.is_empty()
                && ["len", "count", "capacity"].contains(&m.method.to_string().as_str()) =>
        {
            ty(quote::quote!(usize))
        }
        Expr::Match(m) => {
            // `match Iterator::next(&mut it) { .. }`: the `for` rewrite.
            let Expr::Call(c) = strip_expr(&m.expr) else {
                return None;
            };
            if !path_ends_with(&c.func, &["Iterator", "next"]) {
                return None;
            }
            let Some(Expr::Reference(r)) = c.args.first() else {
                return None;
            };
            let iter_ty = expr_type(&r.expr, scope)?;
            iterator_item(&iter_ty)
        }
        _ => None,
    }
}

fn lit_type(lit: &Lit) -> Option<Type> {
    match lit {
        Lit::Int(i) if !i.suffix().is_empty() => ty(i.suffix().parse().ok()?),
        Lit::Float(f) if !f.suffix().is_empty() => ty(f.suffix().parse().ok()?),
        Lit::Bool(_) => ty(quote::quote!(bool)),
        Lit::Char(_) => ty(quote::quote!(char)),
        Lit::Str(_) => ty(quote::quote!(&'static str)),
        _ => None,
    }
}

/// The names of a path expression's segments: `a::b::c` -> `[a, b, c]`.
fn path_segments(e: &Expr) -> Option<Vec<String>> {
    let Expr::Path(p) = strip_expr(e) else {
        return None;
    };
    Some(
        p.path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect(),
    )
}

fn path_ends_with(func: &Expr, names: &[&str]) -> bool {
    path_segments(func)
        .is_some_and(|segs| segs.len() >= names.len() && segs[segs.len() - names.len()..] == *names)
}

fn call_type(c: &syn::ExprCall, scope: &dyn TypeScope) -> Option<Type> {
    let segs = path_segments(&c.func)?;
    let n = segs.len();
    if n >= 2 && segs[n - 2] == "Completion" && segs[n - 1].starts_with("new_") {
        return ty(quote::quote!(::io_model::Completion));
    }
    if path_ends_with(&c.func, &["IntoIterator", "into_iter"]) {
        let arg = c.args.first()?;
        return iterator_of(arg, scope);
    }
    None
}

/// The iterator type `IntoIterator::into_iter(e)` returns, where the
/// iterable's shape tells it.
fn iterator_of(e: &Expr, scope: &dyn TypeScope) -> Option<Type> {
    match strip_expr(e) {
        Expr::Range(r) => {
            let bound = r
                .start
                .as_deref()
                .and_then(|s| expr_type(s, scope))
                .or_else(|| r.end.as_deref().and_then(|s| expr_type(s, scope)))?;
            r.start.as_ref()?;
            r.end.as_ref()?;
            match r.limits {
                syn::RangeLimits::HalfOpen(_) => ty(quote::quote!(::core::ops::Range<#bound>)),
                syn::RangeLimits::Closed(_) => {
                    ty(quote::quote!(::core::ops::RangeInclusive<#bound>))
                }
            }
        }
        other => {
            let t = expr_type(other, scope)?;
            let elem = generic_arg_of(&t, "Vec")?;
            ty(quote::quote!(::std::vec::IntoIter<#elem>))
        }
    }
}

/// The `T` of `Name<T>` (last path segment `Name`, one type argument).
/// The first generic argument of `t` if its last path segment is `name`
/// (`Range<u32>`, "Range" -> `u32`).
pub fn generic_arg_of(t: &Type, name: &str) -> Option<Type> {
    let Type::Path(p) = strip_group(t) else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// The item type of an iterator type this module produced.
fn iterator_item(t: &Type) -> Option<Type> {
    generic_arg_of(t, "Range")
        .or_else(|| generic_arg_of(t, "RangeInclusive"))
        .or_else(|| generic_arg_of(t, "IntoIter"))
}

/// A type whose values have no drop glue and move as copies: a reference,
/// a pointer, a primitive, or a tuple of those. (Anything else may run
/// code when dropped.)
pub fn no_drop_glue(t: &Type) -> bool {
    match t {
        Type::Reference(_) | Type::Ptr(_) | Type::Never(_) => true,
        Type::Paren(p) => no_drop_glue(&p.elem),
        Type::Group(g) => no_drop_glue(&g.elem),
        Type::Tuple(t) => t.elems.iter().all(no_drop_glue),
        Type::Path(_) => is_primitive(t),
        _ => false,
    }
}

/// A primitive scalar type: an integer, `f32`, `f64`, `bool` or `char`.
pub fn is_primitive(t: &Type) -> bool {
    matches!(t, Type::Path(p) if p.qself.is_none() && p.path.get_ident().is_some_and(|i| {
        let i = i.to_string();
        INTEGERS.contains(&i.as_str()) || ["f32", "f64", "bool", "char"].contains(&i.as_str())
    }))
}

const INTEGERS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

/// A primitive integer type.
pub fn is_integer(t: &Type) -> bool {
    matches!(strip_group(t), Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| INTEGERS.contains(&i.to_string().as_str())))
}

/// Why a stored type cannot go into the state enum, if it cannot.
/// Each carries the tokens of the offending part of the type.
pub enum TypeProblem {
    /// A reference or a lifetime: the state would borrow from the caller.
    Borrow(TokenStream),
    /// `_` or `impl Trait`: not a nameable type.
    Unnamed(TokenStream),
    /// Mentions a generic parameter of the function or impl.
    Generic(TokenStream, String),
}

/// Checks a type for use as a field of the (non-generic) state enum.
pub fn check_stored_type(t: &Type, generics: &[String]) -> Option<TypeProblem> {
    use syn::visit::Visit;
    struct Check<'a> {
        generics: &'a [String],
        problem: Option<TypeProblem>,
    }
    impl<'ast> Visit<'ast> for Check<'_> {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            let is_static = r.lifetime.as_ref().is_some_and(|l| l.ident == "static");
            if !is_static && self.problem.is_none() {
                self.problem = Some(TypeProblem::Borrow(r.to_token_stream()));
            }
            syn::visit::visit_type_reference(self, r);
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if l.ident != "static" && self.problem.is_none() {
                self.problem = Some(TypeProblem::Borrow(l.to_token_stream()));
            }
        }
        fn visit_type_infer(&mut self, i: &'ast syn::TypeInfer) {
            if self.problem.is_none() {
                self.problem = Some(TypeProblem::Unnamed(i.to_token_stream()));
            }
        }
        fn visit_type_impl_trait(&mut self, i: &'ast syn::TypeImplTrait) {
            if self.problem.is_none() {
                self.problem = Some(TypeProblem::Unnamed(i.to_token_stream()));
            }
        }
        fn visit_type_path(&mut self, p: &'ast syn::TypePath) {
            if p.qself.is_none() {
                if let Some(first) = p.path.segments.first() {
                    let name = first.ident.to_string();
                    if self.generics.contains(&name) && self.problem.is_none() {
                        self.problem =
                            Some(TypeProblem::Generic(first.ident.to_token_stream(), name));
                    }
                }
            }
            syn::visit::visit_type_path(self, p);
        }
    }
    let mut c = Check {
        generics,
        problem: None,
    };
    c.visit_type(t);
    c.problem
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    struct Scope(Vec<(&'static str, Type)>);
    impl TypeScope for Scope {
        fn type_of(&self, name: &str) -> Option<Type> {
            self.0
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
        }
    }

    fn types(stmt: syn::Stmt, scope: &Scope) -> Vec<(String, Option<String>)> {
        let syn::Stmt::Local(l) = stmt else { panic!() };
        let init = l.init.as_ref().map(|i| &*i.expr);
        let_bindings(&l.pat, init, scope)
            .into_iter()
            .map(|b| {
                (
                    b.ident.to_string(),
                    b.ty.map(|t| t.to_token_stream().to_string().replace(' ', "")),
                )
            })
            .collect()
    }

    #[test]
    fn reads_types_from_annotations_and_shapes() {
        let scope = Scope(vec![
            ("n", parse_quote!(usize)),
            ("pages", parse_quote!(Vec<Page>)),
        ]);
        let t = |s: syn::Stmt| types(s, &scope);
        assert_eq!(
            t(parse_quote!(let x: u64 = f();)),
            [("x".into(), Some("u64".into()))]
        );
        assert_eq!(
            t(parse_quote!(let (a, mut b): (u8, Vec<u8>) = f();)),
            [
                ("a".into(), Some("u8".into())),
                ("b".into(), Some("Vec<u8>".into()))
            ]
        );
        assert_eq!(
            t(parse_quote!(let x = 0u32;)),
            [("x".into(), Some("u32".into()))]
        );
        assert_eq!(
            t(parse_quote!(let x = n as u16;)),
            [("x".into(), Some("u16".into()))]
        );
        assert_eq!(
            t(parse_quote!(let x = n + 1;)),
            [("x".into(), Some("usize".into()))]
        );
        assert_eq!(
            t(parse_quote!(let x = Foo { a: 1 };)),
            [("x".into(), Some("Foo".into()))]
        );
        assert_eq!(
            t(parse_quote!(let c = Completion::new_sync(|_| {});)),
            [("c".into(), Some("::io_model::Completion".into()))]
        );
        assert_eq!(t(parse_quote!(let x = 5;)), [("x".into(), None)]);
        assert_eq!(t(parse_quote!(let x = f();)), [("x".into(), None)]);
        assert_eq!(
            t(parse_quote!(let (a, b) = (1u8, true);)),
            [
                ("a".into(), Some("u8".into())),
                ("b".into(), Some("bool".into()))
            ]
        );
        assert_eq!(
            t(parse_quote!(let it = ::core::iter::IntoIterator::into_iter(0..n);)),
            [("it".into(), Some("::core::ops::Range<usize>".into()))]
        );
        assert_eq!(
            t(parse_quote!(let it = ::core::iter::IntoIterator::into_iter(pages);)),
            [("it".into(), Some("::std::vec::IntoIter<Page>".into()))]
        );
    }

    #[test]
    fn constants_and_variants_are_not_bindings() {
        let mut out = Vec::new();
        pat_bindings(&parse_quote!(Some(x)), None, &mut out);
        pat_bindings(&parse_quote!(None), None, &mut out);
        pat_bindings(&parse_quote!(MAX), None, &mut out);
        pat_bindings(&parse_quote!(ref mut y), None, &mut out);
        let names: Vec<_> = out.iter().map(|b| b.ident.to_string()).collect();
        assert_eq!(names, ["x", "y"]);
        assert!(out[1].by_ref && out[1].mutable);
    }

    #[test]
    fn stored_type_checks() {
        let g = vec!["T".to_string()];
        assert!(check_stored_type(&parse_quote!(u64), &g).is_none());
        assert!(check_stored_type(&parse_quote!(&'static str), &g).is_none());
        assert!(matches!(
            check_stored_type(&parse_quote!(&[u8]), &g),
            Some(TypeProblem::Borrow(_))
        ));
        assert!(matches!(
            check_stored_type(&parse_quote!(Page<'a>), &g),
            Some(TypeProblem::Borrow(_))
        ));
        assert!(matches!(
            check_stored_type(&parse_quote!(Vec<_>), &g),
            Some(TypeProblem::Unnamed(_))
        ));
        assert!(matches!(
            check_stored_type(&parse_quote!(Vec<T>), &g),
            Some(TypeProblem::Generic(..))
        ));
    }
}
