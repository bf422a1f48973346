//! Phase 9: which resumes work on the state where it lies. An arm normally
//! moves its variant out of the state, restores the stored locals from it
//! and stores a new variant at the next point: two copies of every stored
//! local per trip round the dispatch loop, which for a page image held
//! across a loop of waits is most of the run. When a variant holds only
//! plain data (primitive scalars, and arrays and tuples of them: copies
//! with no drop glue), its arm binds the fields by reference instead,
//! leaves the arrays where they are (the user's code reads and writes them
//! through the reference) and, at a point of the same variant, writes back
//! only the fields that are not arrays.
//!
//! While such an arm runs the state is not `__Poisoned` but its variant with
//! the hidden flag `__io_run` set: a panic leaves it so, `name()` reports it
//! as `"Poisoned"` and the next call panics as for any poisoned state.
//!
//! An array is used in place only where rewriting its name in the arm's code
//! cannot change what the code means: its name is bound once in the whole
//! function, no macro invocation or literal mentions it, there is no `move`
//! closure or nested item, no struct field shorthand can stand for it, and
//! the arm does not declare it again.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit::Visit;
use syn::Type;

use crate::arms::{Arms, Code, Entry, ResumeSink};
use crate::ir::{Body, LocalId, LoopHeader};
use crate::item::FnInput;
use crate::layout::Layout;
use crate::liveness::Liveness;
use crate::points::PointId;

/// The decision, per suspension point.
#[derive(Default)]
pub struct InPlace {
    /// The arrays each point's arm uses in place; a point that is not
    /// listed moves its variant out as usual.
    pub arms: BTreeMap<PointId, BTreeSet<LocalId>>,
}

impl InPlace {
    /// Whether the arm of `pt` works on the state in place (its variant
    /// then has the hidden `__io_run` flag).
    pub fn at(&self, pt: PointId) -> Option<&BTreeSet<LocalId>> {
        self.arms.get(&pt)
    }
}

/// Decides which arms work in place.
pub fn decide(
    input: &FnInput,
    body: &Body,
    arms: &Arms,
    live: &Liveness,
    layout: &Layout,
) -> InPlace {
    let mut out = InPlace::default();
    let mut facts = None;
    for v in &layout.variants {
        if !v.cfg.is_empty() || v.fields.iter().any(|f| !f.cfg.is_empty()) {
            continue;
        }
        if !v.fields.iter().all(|f| plain(&f.ty)) {
            continue;
        }
        let arrays: BTreeSet<LocalId> = v
            .fields
            .iter()
            .filter(|f| array(&f.ty))
            .map(|f| f.local)
            .collect();
        if arrays.is_empty() {
            continue;
        }
        let facts = facts.get_or_insert_with(|| Facts::of(input));
        let entry = Entry::Point(v.point);
        let Some(arm) = arms.arms.iter().find(|a| a.entry == entry) else {
            continue;
        };
        let live_in = live.live_in.get(&entry);
        let ok = arrays.iter().all(|id| {
            let name = body.locals[id.0].ident.to_string();
            !body.locals[id.0].internal
                && live_in.is_some_and(|l| l.contains(id))
                && facts.safe(&name)
                && !declares(&arm.code, *id, &name)
        });
        if ok {
            out.arms.insert(v.point, arrays);
        }
    }
    out
}

/// A primitive scalar, or an array or tuple of plain types.
fn plain(ty: &Type) -> bool {
    match ty {
        Type::Path(_) => crate::bindings::is_primitive(ty),
        Type::Array(a) => plain(&a.elem),
        Type::Tuple(t) => t.elems.iter().all(plain),
        Type::Paren(p) => plain(&p.elem),
        Type::Group(g) => plain(&g.elem),
        _ => false,
    }
}

fn array(ty: &Type) -> bool {
    match ty {
        Type::Array(_) => true,
        Type::Paren(p) => array(&p.elem),
        Type::Group(g) => array(&g.elem),
        _ => false,
    }
}

/// What the whole function tells about its names.
struct Facts {
    /// How often each name is bound by a pattern (parameters included).
    bindings: BTreeMap<String, usize>,
    /// The names the tokens of some macro invocation mention (opaque to the
    /// rewrite), as [`mentions`] reads them.
    in_macros: BTreeSet<String>,
    /// A `move` closure or `async move` block, or a nested item.
    opaque: bool,
    /// The names that stand alone in braces somewhere in the body, where
    /// they could be struct fields written in shorthand (`S { page }`).
    shorthand: BTreeSet<String>,
}

impl Facts {
    fn of(input: &FnInput) -> Facts {
        let mut f = Facts {
            bindings: BTreeMap::new(),
            in_macros: BTreeSet::new(),
            opaque: false,
            shorthand: BTreeSet::new(),
        };
        shorthand(input.block.to_token_stream(), &mut f.shorthand);
        for arg in &input.sig.inputs {
            if let syn::FnArg::Typed(t) = arg {
                f.visit_pat(&t.pat);
            }
        }
        f.visit_block(&input.block);
        f
    }

    fn safe(&self, name: &str) -> bool {
        !self.opaque
            && self.bindings.get(name) == Some(&1)
            && !self.in_macros.contains(name)
            && !self.shorthand.contains(name)
    }
}

impl<'ast> Visit<'ast> for Facts {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        *self.bindings.entry(p.ident.to_string()).or_default() += 1;
        syn::visit::visit_pat_ident(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        mentioned(m.tokens.clone(), &mut self.in_macros);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.opaque |= c.capture.is_some();
        syn::visit::visit_expr_closure(self, c);
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.opaque |= a.capture.is_some();
        syn::visit::visit_expr_async(self, a);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {
        self.opaque = true;
    }
}

/// Whether `tokens` mention `name`: as an identifier, or captured by a
/// format string (`"{name}"`, `"{name:?}"`).
pub fn mentions(tokens: &TokenStream, name: &str) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == name,
        TokenTree::Literal(l) => crate::scan::captures(&l.to_string()).any(|c| c == name),
        TokenTree::Group(g) => mentions(&g.stream(), name),
        TokenTree::Punct(_) => false,
    })
}

/// Every name `tokens` mention, as [`mentions`] reads them.
fn mentioned(tokens: TokenStream, out: &mut BTreeSet<String>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            TokenTree::Literal(l) => {
                out.extend(crate::scan::captures(&l.to_string()).map(str::to_string))
            }
            TokenTree::Group(g) => mentioned(g.stream(), out),
            TokenTree::Punct(_) => {}
        }
    }
}

/// The names that stand alone between `{`/`,` and `,`/`}` in braces in
/// `tokens`, where they could be struct fields written in shorthand
/// (`S { page }`).
fn shorthand(tokens: TokenStream, out: &mut BTreeSet<String>) {
    for t in tokens {
        let TokenTree::Group(g) = t else { continue };
        if g.delimiter() == Delimiter::Brace {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            for (i, t) in inner.iter().enumerate() {
                let TokenTree::Ident(id) = t else { continue };
                let before = i == 0 || is_punct(&inner[i - 1], ',');
                let after = i + 1 == inner.len() || is_punct(&inner[i + 1], ',');
                if before && after {
                    out.insert(id.to_string());
                }
            }
        }
        shorthand(g.stream(), out);
    }
}

fn is_punct(t: &TokenTree, c: char) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == c)
}

/// Whether the arm's code declares `id` (so that the name means a new local
/// somewhere in it).
fn declares(code: &Code, id: LocalId, name: &str) -> bool {
    let mut found = false;
    crate::arms::visit(code, &mut |c| {
        found |= match c {
            Code::Block { binds, .. } => binds.contains(&id),
            Code::Leaf { info, .. } => info.defs.contains(&id),
            Code::LetElse { defs, .. }
            | Code::Resume {
                sink: ResumeSink::Let { defs, .. },
                ..
            } => defs.contains(&id),
            Code::Loop {
                header: LoopHeader::For { pat, .. },
                ..
            } => mentions(&pat.to_token_stream(), name),
            _ => false,
        };
    });
    found
}

/// `tokens` with every use of the names in `names` replaced by the place it
/// is kept in (`page` -> `(*__io_b4)`): not a field name (`page:`), a field
/// or method (`.page`), a path segment (`a::page`, `page::X`) or a macro.
pub fn rewrite(tokens: TokenStream, names: &BTreeMap<String, TokenStream>) -> TokenStream {
    let list: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    for (i, t) in list.iter().enumerate() {
        match t {
            TokenTree::Ident(id) => {
                let Some(place) = names.get(&id.to_string()) else {
                    out.extend([t.clone()]);
                    continue;
                };
                let prev = |k: usize| i.checked_sub(k).map(|k| &list[k]);
                let next = list.get(i + 1);
                // `.page`, but not the end of a range `..page`.
                let field = prev(1).is_some_and(|p| is_punct(p, '.'))
                    && !prev(2).is_some_and(|p| is_punct(p, '.'));
                let path = prev(1).is_some_and(|p| is_punct(p, ':'))
                    && prev(2).is_some_and(|p| is_punct(p, ':'));
                let label = prev(1).is_some_and(|p| is_punct(p, '\''));
                // `page:` or `page::`; `page!(..)` but not `page != x`.
                let named = next.is_some_and(|n| {
                    is_punct(n, ':')
                        || matches!(n, TokenTree::Punct(p)
                            if p.as_char() == '!' && p.spacing() == proc_macro2::Spacing::Alone)
                });
                if field || path || label || named {
                    out.extend([t.clone()]);
                } else {
                    let g = proc_macro2::Group::new(Delimiter::Parenthesis, place.clone());
                    out.extend([TokenTree::Group(g)]);
                }
            }
            TokenTree::Group(g) => {
                let mut ng = proc_macro2::Group::new(g.delimiter(), rewrite(g.stream(), names));
                ng.set_span(g.span());
                out.extend([TokenTree::Group(ng)]);
            }
            _ => out.extend([t.clone()]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn names() -> BTreeMap<String, TokenStream> {
        [("page".to_string(), quote!(*r))].into_iter().collect()
    }

    #[test]
    fn uses_are_rewritten_and_field_names_paths_and_methods_are_not() {
        let out = rewrite(
            quote!(page[k] = 1; let q = S { page: page }; x.page(); m::page; page::X; f(&mut page);
                for i in 0..page.len() { g(page != q, i) } break 'page;),
            &names(),
        );
        assert_eq!(
            out.to_string(),
            quote!((*r)[k] = 1; let q = S { page: (*r) }; x.page(); m::page; page::X; f(&mut (*r));
                for i in 0..(*r).len() { g((*r) != q, i) } break 'page;)
            .to_string()
        );
    }

    #[test]
    fn plain_types_are_primitives_and_arrays_and_tuples_of_them() {
        let t = |s: &str| syn::parse_str::<Type>(s).unwrap();
        assert!(plain(&t("[u8; 4096]")));
        assert!(plain(&t("(u64, [i32; 4])")));
        assert!(plain(&t("usize")));
        assert!(!plain(&t("Vec<u8>")));
        assert!(!plain(&t("[String; 2]")));
        assert!(!plain(&t("std::primitive::u8")));
        assert!(array(&t("[u8; 4]")) && !array(&t("u8")));
    }

    #[test]
    fn a_name_that_could_be_shorthand_or_is_bound_twice_is_not_safe() {
        let f = |body: TokenStream| {
            let item: syn::ItemFn = syn::parse2(quote!(fn f() #body)).unwrap();
            let input = FnInput::from_fn(item, crate::args::Args::default());
            Facts::of(&input).safe("page")
        };
        assert!(f(quote!({
            let mut page = [0u8; 4];
            page[0] = 1;
            g(page)
        })));
        assert!(!f(quote!({
            let page = [0u8; 4];
            S { page }
        })));
        assert!(!f(quote!({
            let page = [0u8; 4];
            let h = |page: u8| page;
        })));
        assert!(!f(quote!({
            let page = [0u8; 4];
            println!("{page:?}");
        })));
        assert!(!f(quote!({
            let page = [0u8; 4];
            let h = move || page[0];
        })));
        assert!(!f(quote!({
            let page = [0u8; 4];
            fn inner() {}
        })));
    }
}
