//! Phase 3: loops that hold a suspension point become plain `loop`s.
//!
//! The continuation phase only needs to know how to resume into `loop`,
//! `if`, `match` and blocks, so `while`, `while let` and `for` loops that
//! contain a suspension point are rewritten first (loops without one are
//! left exactly as written):
//!
//! - `'l: while COND { body }` becomes `'l: loop { if COND { body } else { break; } }`
//!   (this covers `while let` and let chains too: the bindings scope over `body`);
//! - `'l: for PAT in EXPR { body }` becomes
//!   `{ let mut __io_iterN = IntoIterator::into_iter(EXPR);
//!      'l: loop { let PAT = match Iterator::next(&mut __io_iterN) { Some(v) => v, None => break }; { body } } }`,
//!   so the iterator is an ordinary local, stored in the state like any other.

use proc_macro2::Span;
use syn::visit_mut::VisitMut;
use syn::{parse_quote_spanned, Block, Expr, Ident};

use crate::points::contains_point;

/// A `for` loop's hidden iterator, for error messages about it.
pub struct ForLoop {
    pub iter: Ident,
    /// The loop's iterable expression, where errors about the iterator go.
    pub iterable: Expr,
    /// The names the loop's pattern binds.
    pub pat_names: Vec<String>,
}

/// Rewrites the loops of `body` that hold a suspension point.
pub fn normalize_loops(body: &mut Block) -> Vec<ForLoop> {
    let mut n = Normalizer { fors: Vec::new() };
    n.visit_block_mut(body);
    n.fors
}

struct Normalizer {
    fors: Vec<ForLoop>,
}

impl VisitMut for Normalizer {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        // Inner loops first.
        syn::visit_mut::visit_expr_mut(self, expr);
        match expr {
            Expr::While(w) if contains_point(&w.body, None) || contains_point(&w.cond, None) => {
                let label = &w.label;
                let cond = &w.cond;
                let body = &w.body;
                // The glue gets the macro's span (clippy then treats it as
                // macro output); the user's tokens keep theirs.
                let span = Span::call_site();
                *expr = parse_quote_spanned! {span=>
                    #label loop {
                        if #cond #body else {
                            break;
                        }
                    }
                };
            }
            Expr::ForLoop(f) if contains_point(&f.body, None) => {
                let iter = Ident::new(&format!("__io_iter{}", self.fors.len()), Span::call_site());
                let label = &f.label;
                // A `let` takes no top-level or-pattern: `let (A | B) = ..`.
                let pat = match &*f.pat {
                    syn::Pat::Or(or) => {
                        let mut or = or.clone();
                        or.leading_vert = None;
                        quote::quote!((#or))
                    }
                    other => quote::quote!(#other),
                };
                let iterable = &f.expr;
                let body = &f.body;
                let span = Span::call_site();
                let mut names = Vec::new();
                crate::bindings::pat_bindings(&f.pat, None, &mut names);
                self.fors.push(ForLoop {
                    iter: iter.clone(),
                    iterable: (*f.expr).clone(),
                    pat_names: names.iter().map(|b| b.ident.to_string()).collect(),
                });
                *expr = parse_quote_spanned! {span=>
                    {
                        let mut #iter = ::core::iter::IntoIterator::into_iter(#iterable);
                        #label loop {
                            let #pat = match ::core::iter::Iterator::next(&mut #iter) {
                                ::core::option::Option::Some(__io_item) => __io_item,
                                ::core::option::Option::None => break,
                            };
                            #body
                        }
                    }
                };
            }
            _ => {}
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Errors;
    use crate::points::Finder;
    use quote::ToTokens;

    fn run(mut body: Block) -> String {
        let mut errors = Errors::default();
        Finder::new(&mut errors).run(&mut body);
        assert!(errors.is_empty());
        normalize_loops(&mut body);
        body.to_token_stream().to_string()
    }

    #[test]
    fn loops_with_points_become_plain_loops() {
        let out = run(syn::parse_quote!({
            'outer: for i in 0..n {
                while let Some(x) = it.next() {
                    wait!(c);
                }
            }
            for j in v {
                touch(j);
            }
        }));
        assert!(out.contains("'outer : loop"), "{out}");
        assert!(out.contains("__io_iter0"), "{out}");
        assert!(!out.contains("while"), "{out}");
        // The loop without a point is untouched.
        assert!(out.contains("for j in v"), "{out}");
    }
}
