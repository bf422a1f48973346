//! Reading every name a body mentions, as a shared leaf: the identifiers of
//! its syntax tree and the text of its literals (a format string names
//! what it captures, `"{x}"`), in source order.
//!
//! The syntax tree is walked as it is. Printing it to tokens and scanning
//! those would copy every token once, and every group again as the scan
//! enters it; only what syn keeps unparsed (macro arguments, attribute
//! arguments, verbatim syntax) is read as tokens.

use std::ops::ControlFlow;

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::Ident;

/// What the scan meets.
#[derive(Clone, Copy, Debug)]
pub enum Seen<'a> {
    /// An identifier (`self` included; keywords only where the tokens are
    /// read unparsed).
    Ident(&'a Ident),
    /// A literal's source text, quotes included.
    Literal(&'a str),
}

/// Calls `f` on each identifier and literal of `block` in source order,
/// until it breaks; returns what it broke with.
///
/// ```
/// use io_model_transform::scan::{find, Seen};
/// use std::ops::ControlFlow;
///
/// let block: syn::Block = syn::parse_quote!({ let a = 1; println!("{b}"); });
/// let mut idents = Vec::new();
/// let found = find(&block, |s| {
///     if let Seen::Ident(i) = s {
///         idents.push(i.to_string());
///     }
///     match s {
///         Seen::Literal(t) if t.contains("{b}") => ControlFlow::Break(t.to_string()),
///         _ => ControlFlow::Continue(()),
///     }
/// });
/// assert_eq!(found.as_deref(), Some("\"{b}\""));
/// assert_eq!(idents, ["a", "println"]);
/// ```
pub fn find<B>(block: &syn::Block, f: impl FnMut(Seen<'_>) -> ControlFlow<B>) -> Option<B> {
    let mut v = Walker { f, found: None };
    v.visit_block(block);
    v.found
}

/// Whether `block` mentions `name`: as an identifier, or as a capture of
/// a literal that could be a format string.
///
/// ```
/// use io_model_transform::scan::mentions;
///
/// let block: syn::Block = syn::parse_quote!({ log!("at {st:?}"); });
/// assert!(mentions(&block, "st"));
/// assert!(!mentions(&block, "s"));
/// ```
pub fn mentions(block: &syn::Block, name: &str) -> bool {
    find(block, |s| match s {
        Seen::Ident(i) if i == name => ControlFlow::Break(()),
        Seen::Literal(t) if captures(t).any(|c| c == name) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_some()
}

/// What a literal could capture as a format string: the text after each
/// `{` up to the `}` or `:` that ends it.
///
/// ```
/// let c: Vec<&str> = io_model_transform::scan::captures("\"{a} {b:?}\"").collect();
/// assert_eq!(c, ["a", "b"]);
/// ```
pub fn captures(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('{').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        rest.find(['}', ':']).map(|end| &rest[..end])
    })
}

struct Walker<F, B> {
    f: F,
    found: Option<B>,
}

impl<F: FnMut(Seen<'_>) -> ControlFlow<B>, B> Walker<F, B> {
    fn see(&mut self, s: Seen<'_>) {
        if self.found.is_none() {
            if let ControlFlow::Break(b) = (self.f)(s) {
                self.found = Some(b);
            }
        }
    }

    fn tokens(&mut self, tokens: &TokenStream) {
        for tt in tokens.clone() {
            if self.found.is_some() {
                return;
            }
            match tt {
                TokenTree::Ident(i) => self.see(Seen::Ident(&i)),
                TokenTree::Literal(l) => self.see(Seen::Literal(&l.to_string())),
                TokenTree::Group(g) => self.tokens(&g.stream()),
                TokenTree::Punct(_) => {}
            }
        }
    }
}

impl<'ast, F: FnMut(Seen<'_>) -> ControlFlow<B>, B> Visit<'ast> for Walker<F, B> {
    fn visit_ident(&mut self, i: &'ast Ident) {
        self.see(Seen::Ident(i));
    }
    fn visit_lit(&mut self, l: &'ast syn::Lit) {
        use quote::ToTokens;
        match l {
            // The two literals that are identifiers as tokens.
            syn::Lit::Bool(b) => {
                let i = Ident::new(if b.value { "true" } else { "false" }, b.span);
                self.see(Seen::Ident(&i));
            }
            other => self.see(Seen::Literal(&other.to_token_stream().to_string())),
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.tokens(&m.tokens);
    }
    fn visit_meta_list(&mut self, m: &'ast syn::MetaList) {
        self.visit_path(&m.path);
        self.tokens(&m.tokens);
    }
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        match e {
            syn::Expr::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_expr(self, e),
        }
    }
    fn visit_pat(&mut self, p: &'ast syn::Pat) {
        match p {
            syn::Pat::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_pat(self, p),
        }
    }
    fn visit_type(&mut self, t: &'ast syn::Type) {
        match t {
            syn::Type::Verbatim(v) => self.tokens(v),
            _ => syn::visit::visit_type(self, t),
        }
    }
    fn visit_item(&mut self, i: &'ast syn::Item) {
        match i {
            syn::Item::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_item(self, i),
        }
    }
    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        match i {
            syn::ImplItem::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_impl_item(self, i),
        }
    }
    fn visit_trait_item(&mut self, i: &'ast syn::TraitItem) {
        match i {
            syn::TraitItem::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_trait_item(self, i),
        }
    }
    fn visit_foreign_item(&mut self, i: &'ast syn::ForeignItem) {
        match i {
            syn::ForeignItem::Verbatim(t) => self.tokens(t),
            _ => syn::visit::visit_foreign_item(self, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(s: &str) -> syn::Block {
        syn::parse_str(s).expect("a block")
    }

    #[test]
    fn finds_names_wherever_the_body_holds_them() {
        let m = |s: &str, name: &str| mentions(&block(s), name);
        assert!(!m("{ let a = 1; f(a); }", "b"));
        assert!(m("{ let b = 1; }", "b"));
        assert!(m("{ x.b(); }", "b"));
        assert!(m("{ 'b: loop {} }", "b"));
        // Tokens syn keeps unparsed: macro and attribute arguments.
        assert!(m("{ wait!(s.io(b)); }", "b"));
        assert!(m("{ m!{ [(b)] }; }", "b"));
        assert!(m("{ #[cfg(b)] f(); }", "b"));
        // Format captures, in macros and out.
        assert!(m("{ println!(\"{b:?}\"); }", "b"));
        assert!(m("{ let s = \"{b}\"; }", "b"));
        // Items in the body.
        assert!(m("{ fn g(b: u8) {} }", "b"));
        assert!(!m("{ let ab = 1; }", "b"));
    }

    #[test]
    fn stops_at_the_first_in_source_order() {
        let mut seen = 0;
        let first = find(&block("{ let x1 = 1; let x2 = x1; }"), |s| {
            seen += 1;
            match s {
                Seen::Ident(i) if i.to_string().starts_with('x') => {
                    ControlFlow::Break(i.to_string())
                }
                _ => ControlFlow::Continue(()),
            }
        });
        assert_eq!(first.as_deref(), Some("x1"));
        assert_eq!(seen, 1);
    }
}
