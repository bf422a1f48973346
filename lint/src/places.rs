//! Places: the memory an expression names (`self.pages`, `*st`,
//! `state.registers[]`), seen through derefs, references and the methods
//! that only project (`borrow_mut()`, `lock().unwrap()`, `as_mut()`).

use std::fmt;

use crate::vocab;

/// A place: a root variable and the fields (or `[]` for an index) below it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    /// `self`, a parameter or a local.
    pub root: String,
    /// Field names, tuple indices, or `[]`.
    pub proj: Vec<String>,
}

impl Place {
    /// A place that is just a variable.
    pub fn var(root: impl Into<String>) -> Self {
        Place {
            root: root.into(),
            proj: Vec::new(),
        }
    }

    /// Whether one place contains the other (`self.a` and `self.a.b`).
    pub fn overlaps(&self, other: &Place) -> bool {
        self.root == other.root
            && self
                .proj
                .iter()
                .zip(other.proj.iter())
                .all(|(a, b)| a == b || a == "[]" || b == "[]")
    }

    /// The last name in the place (the field, or the root).
    pub fn last_name(&self) -> &str {
        self.proj
            .iter()
            .rev()
            .find(|p| *p != "[]")
            .unwrap_or(&self.root)
    }

    /// The place with `rest` appended.
    pub fn join(&self, rest: &[String]) -> Place {
        let mut p = self.clone();
        p.proj.extend(rest.iter().cloned());
        p
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.root)?;
        for p in &self.proj {
            if p == "[]" {
                f.write_str("[..]")?;
            } else {
                write!(f, ".{p}")?;
            }
        }
        Ok(())
    }
}

/// Strips parentheses and invisible groups.
pub fn peel(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => peel(&p.expr),
        syn::Expr::Group(g) => peel(&g.expr),
        _ => e,
    }
}

/// The place an expression names, if it names one: `self.a.b`, `*st`,
/// `&mut self.v`, `self.v.borrow_mut()`, `x[i]`, `self.q.lock().unwrap()`.
///
/// ```
/// use io_model_lint::places::place_of;
/// let e: syn::Expr = syn::parse_quote!(self.pages.borrow_mut());
/// assert_eq!(place_of(&e).unwrap().to_string(), "self.pages");
/// let e: syn::Expr = syn::parse_quote!((*st).items[3]);
/// assert_eq!(place_of(&e).unwrap().to_string(), "st.items[..]");
/// ```
pub fn place_of(e: &syn::Expr) -> Option<Place> {
    match peel(e) {
        syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let id = p.path.segments[0].ident.to_string();
            // A single capitalized segment is a unit struct or variant.
            if id.chars().next().is_some_and(|c| c.is_uppercase()) {
                return None;
            }
            Some(Place::var(id))
        }
        syn::Expr::Field(f) => {
            let mut base = place_of(&f.base)?;
            base.proj.push(match &f.member {
                syn::Member::Named(i) => i.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            });
            Some(base)
        }
        syn::Expr::Index(i) => {
            let mut base = place_of(&i.expr)?;
            base.proj.push("[]".into());
            Some(base)
        }
        syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => place_of(&u.expr),
        syn::Expr::Reference(r) => place_of(&r.expr),
        syn::Expr::Try(t) => place_of(&t.expr),
        syn::Expr::MethodCall(m) if vocab::PROJECTIONS.contains(&m.method.to_string().as_str()) => {
            let mut base = place_of(&m.receiver)?;
            if !m.args.is_empty() && m.method != "expect" {
                base.proj.push("[]".into());
            }
            Some(base)
        }
        _ => None,
    }
}

/// Like [`place_of`], but also through `.clone()`, `mem::take(..)`,
/// `mem::replace(.., _)` and `.take()`: the place a `match` scrutinee reads
/// its value from.
pub fn source_place_of(e: &syn::Expr) -> Option<Place> {
    match peel(e) {
        syn::Expr::MethodCall(m)
            if (m.method == "clone" || m.method == "take" || m.method == "to_owned")
                && m.args.is_empty() =>
        {
            place_of(&m.receiver)
        }
        syn::Expr::Call(c) => {
            let name = call_path_name(c)?;
            if (name == "take" || name == "replace") && !c.args.is_empty() {
                place_of(&c.args[0])
            } else {
                None
            }
        }
        other => place_of(other),
    }
}

/// The last segment of a called path (`take` for `std::mem::take(x)`).
pub fn call_path_name(c: &syn::ExprCall) -> Option<String> {
    match peel(&c.func) {
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Every place read by an expression (receivers, operands, arguments),
/// without descending into closures.
pub fn places_read(e: &syn::Expr) -> Vec<Place> {
    use syn::visit::Visit;
    struct V(Vec<Place>);
    impl<'ast> Visit<'ast> for V {
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            if let Some(p) = place_of(e) {
                self.0.push(p);
                // The place's own prefixes (`self` in `self.a`) are not
                // reads; only the index and argument expressions inside it.
                inner_operands(e, self);
                return;
            }
            syn::visit::visit_expr(self, e);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Ok(args) = m.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            ) {
                for a in &args {
                    self.visit_expr(a);
                }
            }
        }
    }
    fn inner_operands(e: &syn::Expr, v: &mut V) {
        match peel(e) {
            syn::Expr::Field(f) => inner_operands(&f.base, v),
            syn::Expr::Index(i) => {
                inner_operands(&i.expr, v);
                v.visit_expr(&i.index);
            }
            syn::Expr::Unary(u) => inner_operands(&u.expr, v),
            syn::Expr::Reference(r) => inner_operands(&r.expr, v),
            syn::Expr::Try(t) => inner_operands(&t.expr, v),
            syn::Expr::MethodCall(m) => {
                inner_operands(&m.receiver, v);
                for a in &m.args {
                    v.visit_expr(a);
                }
            }
            _ => {}
        }
    }
    let mut v = V(Vec::new());
    v.visit_expr(e);
    v.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<String> {
        let e: syn::Expr = syn::parse_str(s).unwrap();
        place_of(&e).map(|p| p.to_string())
    }

    #[test]
    fn places() {
        assert_eq!(p("self.a.b").as_deref(), Some("self.a.b"));
        assert_eq!(p("*st").as_deref(), Some("st"));
        assert_eq!(p("&mut self.v").as_deref(), Some("self.v"));
        assert_eq!(p("self.q.lock().unwrap()").as_deref(), Some("self.q"));
        assert_eq!(p("self.m.get_mut(&k)").as_deref(), Some("self.m[..]"));
        assert_eq!(p("self.f()").as_deref(), None);
        assert_eq!(p("State::Start").as_deref(), None);
        assert_eq!(p("Start").as_deref(), None);
        let a = Place {
            root: "self".into(),
            proj: vec!["a".into()],
        };
        let b = a.join(&["b".into()]);
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&Place::var("self").join(&["c".into()])));
    }

    #[test]
    fn sources() {
        let e: syn::Expr = syn::parse_quote!(std::mem::take(&mut self.state));
        assert_eq!(source_place_of(&e).unwrap().to_string(), "self.state");
        let e: syn::Expr = syn::parse_quote!(self.state.clone());
        assert_eq!(source_place_of(&e).unwrap().to_string(), "self.state");
    }
}
