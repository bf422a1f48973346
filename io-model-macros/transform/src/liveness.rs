//! Phase 5: liveness.
//!
//! The continuation of a suspension point is first built in analysis form
//! (see [`crate::continuation`]): every local visible at the point is
//! re-declared, at the top of the block that declared it, as
//! `let x = __io_probe_N;`. This module resolves every use of a name in that
//! code the way Rust scopes names (blocks, `let`, patterns, closures, `if
//! let`, loops, macro arguments and format-string captures); a probe that
//! some use resolves to is a local live across the point.

use std::collections::BTreeSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Block, Expr, Pat};

use crate::bindings::pat_bindings;

/// Prefix of the probe initializers.
pub const PROBE: &str = "__io_probe_";

/// The ids of the probes that some use in `code` resolves to.
pub fn live_probes(code: &Block) -> BTreeSet<usize> {
    let mut r = Resolver {
        scopes: vec![Vec::new()],
        live: BTreeSet::new(),
    };
    r.visit_block(code);
    r.live
}

struct Resolver {
    /// Innermost last; each name with the probe it stands for, if any.
    scopes: Vec<Vec<(String, Option<usize>)>>,
    live: BTreeSet<usize>,
}

impl Resolver {
    fn bind_pat(&mut self, pat: &Pat, probe: Option<usize>) {
        let mut names = Vec::new();
        pat_bindings(pat, None, &mut names);
        let scope = self.scopes.last_mut().expect("BUG: no scope");
        for b in names {
            scope.push((b.ident.to_string(), probe));
        }
    }

    fn use_name(&mut self, name: &str) {
        for scope in self.scopes.iter().rev() {
            if let Some((_, probe)) = scope.iter().rev().find(|(n, _)| n == name) {
                if let Some(id) = probe {
                    self.live.insert(*id);
                }
                return;
            }
        }
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        self.scopes.push(Vec::new());
        f(self);
        self.scopes.pop();
    }

    /// Visits an `if`/`while` condition whose `let` bindings scope over
    /// what follows in the current scope.
    fn visit_cond(&mut self, cond: &Expr) {
        match cond {
            Expr::Let(l) => {
                self.visit_expr(&l.expr);
                self.bind_pat(&l.pat, None);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.visit_cond(&b.left);
                self.visit_cond(&b.right);
            }
            other => self.visit_expr(other),
        }
    }

    fn tokens(&mut self, tokens: TokenStream) {
        for tt in tokens {
            match tt {
                TokenTree::Ident(i) => self.use_name(&i.to_string()),
                TokenTree::Group(g) => self.tokens(g.stream()),
                TokenTree::Literal(lit) => {
                    // Format-string captures: "{name}", "{name:?}".
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
fn format_captures(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == '{' {
            if bytes.get(i + 1) == Some(&'{') {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_') {
                j += 1;
            }
            if j > start && !bytes[start].is_ascii_digit() {
                out.push(bytes[start..j].iter().collect());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

impl<'ast> Visit<'ast> for Resolver {
    fn visit_block(&mut self, b: &'ast Block) {
        self.scoped(|r| {
            for stmt in &b.stmts {
                r.visit_stmt(stmt);
            }
        });
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        let mut probe = None;
        if let Some(init) = &l.init {
            if let Expr::Path(p) = &*init.expr {
                if let Some(id) = p.path.get_ident().and_then(|i| {
                    i.to_string()
                        .strip_prefix(PROBE)
                        .and_then(|n| n.parse::<usize>().ok())
                }) {
                    probe = Some(id);
                }
            }
            if probe.is_none() {
                self.visit_expr(&init.expr);
            }
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        self.bind_pat(&l.pat, probe);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.scoped(|r| {
            for input in &c.inputs {
                r.bind_pat(input, None);
            }
            r.visit_expr(&c.body);
        });
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.scoped(|r| {
            r.bind_pat(&arm.pat, None);
            if let Some((_, g)) = &arm.guard {
                r.visit_expr(g);
            }
            r.visit_expr(&arm.body);
        });
    }

    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        self.scoped(|r| {
            r.visit_cond(&e.cond);
            r.visit_block(&e.then_branch);
        });
        if let Some((_, els)) = &e.else_branch {
            self.visit_expr(els);
        }
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.scoped(|r| {
            r.visit_cond(&e.cond);
            r.visit_block(&e.body);
        });
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        // A `let` outside an `if`/`while` condition (inside `matches!`-like
        // code): its bindings do not escape.
        self.visit_expr(&l.expr);
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.scoped(|r| {
            r.bind_pat(&e.pat, None);
            r.visit_block(&e.body);
        });
    }

    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.qself.is_none() {
            if let Some(ident) = p.path.get_ident() {
                self.use_name(&ident.to_string());
            }
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}

    fn visit_pat(&mut self, _: &'ast Pat) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn live(b: Block) -> Vec<usize> {
        live_probes(&b).into_iter().collect()
    }

    #[test]
    fn uses_resolve_to_the_nearest_binding() {
        assert_eq!(
            live(parse_quote!({
                let a = __io_probe_0;
                let b = __io_probe_1;
                let c = __io_probe_2;
                {
                    let b = 5;
                    use_it(b);
                }
                let c = 1;
                use_it(a, c);
            })),
            [0]
        );
    }

    #[test]
    fn shadowing_in_patterns_closures_and_if_let() {
        assert_eq!(
            live(parse_quote!({
                let x = __io_probe_0;
                let y = __io_probe_1;
                let z = __io_probe_2;
                let w = __io_probe_3;
                let f = |x| x + 1;
                if let Some(y) = opt {
                    use_it(y)
                }
                match m {
                    Some(z) => z,
                    None => 0,
                };
                for w in 0..3 {
                    use_it(w)
                }
                use_it(f);
            })),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn macros_and_format_captures_are_uses() {
        assert_eq!(
            live(parse_quote!({
                let x = __io_probe_0;
                let y = __io_probe_1;
                let z = __io_probe_2;
                println!("{x} {}", y);
                assert!(true, "{{z}}");
            })),
            [0, 1]
        );
    }

    #[test]
    fn let_initializer_sees_the_outer_binding() {
        assert_eq!(
            live(parse_quote!({
                let x = __io_probe_0;
                let x = x + 1;
                use_it(x);
            })),
            [0]
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
