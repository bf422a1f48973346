//! The rule for dropped `IOResult`s: `let _ = op()?;`, `op()?;` and
//! `drop(op())`, where `op` is a function that returns an `IOResult` in
//! every definition the linted sources have. Dropping one loses its `IO`:
//! the operation is never driven to the end.

use syn::visit::Visit;

use crate::finding::{Finding, Kind, Loc};
use crate::places::{call_path_name, peel};
use crate::source::Source;
use crate::{vocab, Index};

/// The findings of this rule in one file.
pub fn check_file(
    file: &syn::File,
    index: &Index,
    source: &Source,
    path: &str,
    tests: bool,
) -> Vec<Finding> {
    let mut v = Dropped {
        tests,
        index,
        source,
        path,
        fns: Vec::new(),
        params: Vec::new(),
        out: Vec::new(),
    };
    v.visit_file(file);
    v.out
}

struct Dropped<'a> {
    tests: bool,
    index: &'a Index,
    source: &'a Source,
    path: &'a str,
    fns: Vec<String>,
    /// Parameter names of the enclosing functions: calling one (a closure
    /// passed in) is not a call of a function the index knows.
    params: Vec<Vec<String>>,
    out: Vec<Finding>,
}

fn param_names(sig: &syn::Signature) -> Vec<String> {
    sig.inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    crate::is_test_code(attrs)
}

/// The name of the function an expression calls when its value is an
/// `IOResult` (seen through `?`, `.unwrap()`, `.expect(..)`, `.ok()`), and
/// whether the call was fallible.
fn io_call(e: &syn::Expr, index: &Index, params: &[String]) -> Option<String> {
    let mut e = peel(e);
    let mut fallible = false;
    loop {
        match e {
            syn::Expr::Try(t) => {
                fallible = true;
                e = peel(&t.expr);
            }
            syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "unwrap" | "expect" | "ok") =>
            {
                fallible = true;
                e = peel(&m.receiver);
            }
            _ => break,
        }
    }
    let name = match e {
        syn::Expr::MethodCall(m) => m.method.to_string(),
        syn::Expr::Call(c) => {
            let name = call_path_name(c)?;
            if matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.len() == 1)
                && params.contains(&name)
            {
                return None;
            }
            name
        }
        _ => return None,
    };
    if !index.always_returns_io(&name) {
        return None;
    }
    if vocab::COMMON_STD_NAMES.contains(&name.as_str()) && !fallible {
        return None;
    }
    Some(name)
}

impl Dropped<'_> {
    fn check(&mut self, e: &syn::Expr, span: proc_macro2::Span) {
        let params = self.params.last().cloned().unwrap_or_default();
        let Some(name) = io_call(e, self.index, &params) else {
            return;
        };
        let loc = Loc::of(span);
        let function = self.fns.last().cloned().unwrap_or_default();
        let text = self.source.text(loc);
        self.out.push(Finding {
            path: self.path.to_string(),
            function: function.clone(),
            kind: Kind::DroppedIo,
            loc,
            message: format!(
                "the `IOResult` of `{name}` is dropped without being propagated in `{function}`: `{text}`"
            ),
            yield_point: None,
            note: format!(
                "if `{name}` returns `IO`, nothing waits for its completion or calls it again, so the operation never finishes"
            ),
            help: "propagate it with `return_if_io!(..)`, or drive it to `Done` (`io.block(|| ..)`)".to_string(),
            source_line: String::new(),
        });
    }
}

impl<'ast> Visit<'ast> for Dropped<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        // Tests drop results on purpose (a panic or error is what they check).
        if !self.tests && is_test(&f.attrs) {
            return;
        }
        self.fns.push(f.sig.ident.to_string());
        self.params.push(param_names(&f.sig));
        syn::visit::visit_item_fn(self, f);
        self.params.pop();
        self.fns.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // Tests drop results on purpose (a panic or error is what they check).
        if !self.tests && is_test(&f.attrs) {
            return;
        }
        self.fns.push(f.sig.ident.to_string());
        self.params.push(param_names(&f.sig));
        syn::visit::visit_impl_item_fn(self, f);
        self.params.pop();
        self.fns.pop();
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        // Tests drop results on purpose (a panic or error is what they check).
        if !self.tests && is_test(&f.attrs) {
            return;
        }
        self.fns.push(f.sig.ident.to_string());
        self.params.push(param_names(&f.sig));
        syn::visit::visit_trait_item_fn(self, f);
        self.params.pop();
        self.fns.pop();
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // `#[cfg(test)]` modules drive operations their own way.
        if self.tests || !crate::is_test_code(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        use syn::spanned::Spanned;
        match s {
            syn::Stmt::Local(l) if matches!(l.pat, syn::Pat::Wild(_)) => {
                if let Some(init) = &l.init {
                    if init.diverge.is_none() {
                        self.check(&init.expr, s.span());
                    }
                }
            }
            syn::Stmt::Expr(e, Some(_)) => match peel(e) {
                syn::Expr::Call(c)
                    if call_path_name(c).as_deref() == Some("drop") && c.args.len() == 1 =>
                {
                    self.check(&c.args[0], s.span())
                }
                other => self.check(other, s.span()),
            },
            _ => {}
        }
        syn::visit::visit_stmt(self, s);
    }
}
