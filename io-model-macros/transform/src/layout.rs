//! Phase 7: the state enum's layout. One variant per suspension point,
//! holding exactly the locals live after it, in reverse order of
//! declaration (so that dropping the state, or `cancel()`, drops them as
//! leaving their scopes would), plus the completion waited for; one hidden
//! variant per merge, whose locals travel in carriers (`Option` locals of
//! the generated function, never stored between calls).
//!
//! A stored local needs a type the macro can read; where it has none, or a
//! type the enum cannot hold (a reference, `impl Trait`, a generic
//! parameter), the error names the local, the suspension point and the fix.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, ToTokens};
use syn::{Attribute, Ident, Type};

use crate::arms::{Arms, Entry};
use crate::bindings::{check_stored_type, TypeProblem};
use crate::errors::{line_of, Errors};
use crate::ir::{Body, LocalId, Param};
use crate::liveness::Liveness;
use crate::points::{variant_name, Point, PointId};

/// A stored local.
pub struct Field {
    /// The field's name in the variant.
    pub name: Ident,
    pub local: LocalId,
    pub ty: Type,
    /// What the field holds, for its rustdoc.
    pub doc: String,
    pub cfg: Vec<Attribute>,
}

/// The variant of one suspension point.
pub struct Variant {
    pub name: Ident,
    pub point: PointId,
    /// In reverse order of declaration.
    pub fields: Vec<Field>,
    pub holds_completion: bool,
    /// The `#[cfg]` of the statements around the point.
    pub cfg: Vec<Attribute>,
    /// Iterators of counted `for` loops ([`crate::ir::Counted`]) that the
    /// variant does not store: the arm rebuilds each from its loop
    /// variable, which the variant stores.
    pub rebuilt: Vec<LocalId>,
}

/// The hidden variant of a merge.
pub struct Merge {
    pub entry: Entry,
    pub name: Ident,
    pub cfg: Vec<Attribute>,
}

/// Every variant of one function's state enum.
pub struct Layout {
    pub enum_name: Ident,
    pub variants: Vec<Variant>,
    pub merges: Vec<Merge>,
    /// Locals that travel to a merge in a carrier.
    pub carried: BTreeSet<LocalId>,
}

/// A type as a reader writes it: `Vec<u8>`, not `Vec < u8 >`.
pub fn type_string(ty: &Type) -> String {
    let mut s = ty.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("' ", "'"),
    ] {
        s = s.replace(from, to);
    }
    s
}

/// Field names: the local's own name, made unique within the variant.
pub fn field_name(source: &Ident, taken: &mut BTreeSet<String>) -> Ident {
    // `r#type` becomes the field `type_`: a keyword cannot be a plain name.
    let text = source.to_string();
    let base = match text.strip_prefix("r#") {
        Some(raw) => format!("{raw}_"),
        None => text,
    };
    let mut name = base.clone();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    format_ident!("{}", name)
}

/// What layout needs to know about the function.
pub struct Context<'a> {
    pub enum_name: &'a Ident,
    /// The impl's self type, to replace `Self` in stored types.
    pub self_ty: Option<&'a Type>,
    /// The generic parameters in scope, which stored types cannot name.
    pub generics: &'a [String],
}

/// Lays out the variants; reports every local that cannot be stored.
pub fn layout(
    cx: &Context,
    body: &Body,
    points: &[Point],
    arms: &Arms,
    live: &Liveness,
    errors: &mut Errors,
) -> Layout {
    let mut reported = BTreeSet::new();
    let mut variants = Vec::new();
    for p in points {
        let entry = Entry::Point(p.id);
        let cfg = arms
            .arms
            .iter()
            .find(|a| a.entry == entry)
            .map(|a| a.cfg.clone())
            .unwrap_or_default();
        // Parameters are passed again on every call: never stored.
        let mut stored: Vec<LocalId> = live
            .live_in
            .get(&entry)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| body.locals[id.0].param == Param::No)
            .collect();
        // Checked (and reported) in declaration order; stored in reverse.
        stored.sort_by_key(|id| body.locals[id.0].order);
        // A counted loop's iterator is rebuilt from its variable where the
        // variable is stored anyway.
        let rebuilt: Vec<LocalId> = stored
            .iter()
            .copied()
            .filter(|id| {
                body.locals[id.0].counted.as_ref().is_some_and(|c| {
                    stored.contains(&c.var) && live.only_where(entry, c.var).is_none()
                })
            })
            .collect();
        stored.retain(|id| !rebuilt.contains(id));
        let mut fields = Vec::new();
        let mut taken = BTreeSet::new();
        for id in stored {
            if let Some(ty) = stored_type(cx, body, points, p, id, &mut reported, errors) {
                let local = &body.locals[id.0];
                let doc = match &local.for_iter {
                    Some(f) => format!(
                        " The iterator of the `for` loop on line {}.",
                        line_of(syn::spanned::Spanned::span(&f.iterable))
                    ),
                    None => format!(" The local `{}`.", local.ident),
                };
                let name = match &local.for_iter {
                    Some(_) => format_ident!("__io_iter{}", id.0),
                    None => field_name(&local.ident, &mut taken),
                };
                // Live only in some configurations: stored only there.
                let mut cfg = local.cfg.clone();
                cfg.extend(live.only_where(entry, id).cloned());
                fields.push(Field {
                    name,
                    local: id,
                    ty,
                    doc,
                    cfg,
                });
            }
        }
        fields.reverse();
        variants.push(Variant {
            name: variant_name(points, p.id),
            point: p.id,
            fields,
            holds_completion: p.kind.holds_completion(),
            cfg,
            rebuilt,
        });
    }
    let mut merges = Vec::new();
    let mut carried = BTreeSet::new();
    for (k, arm) in arms
        .arms
        .iter()
        .filter(|a| matches!(a.entry, Entry::After(_) | Entry::Head(_)))
        .enumerate()
    {
        carried.extend(
            live.live_in
                .get(&arm.entry)
                .into_iter()
                .flatten()
                .copied()
                .filter(|id| body.locals[id.0].param == Param::No),
        );
        merges.push(Merge {
            entry: arm.entry,
            name: format_ident!("__Merge{}", k),
            cfg: arm.cfg.clone(),
        });
    }
    Layout {
        enum_name: cx.enum_name.clone(),
        variants,
        merges,
        carried,
    }
}

/// The type a stored local is kept as, or `None` with the error reported.
fn stored_type(
    cx: &Context,
    body: &Body,
    points: &[Point],
    p: &Point,
    id: LocalId,
    reported: &mut BTreeSet<LocalId>,
    errors: &mut Errors,
) -> Option<Type> {
    let local = &body.locals[id.0];
    let name = &local.ident;
    let at = format!("the `{}` at line {}", p.kind.macro_name(), p.line);
    let mut report = |errors: &mut Errors, tokens: TokenStream, msg: String| {
        if reported.insert(id) {
            errors.push_spanned(tokens, msg);
        }
    };
    if local.by_ref {
        report(
            errors,
            name.to_token_stream(),
            format!(
                "`{name}` is a reference (`ref`) held across {at}; the state cannot borrow \
                 between calls; bind the value itself (drop `ref`), a clone, or an index"
            ),
        );
        return None;
    }
    let Some(ty) = &local.ty else {
        if let Some(f) = &local.for_iter {
            report(
                errors,
                f.iterable.to_token_stream(),
                format!(
                    "the iterator of this `for` loop is held across {at}, so it is stored in the \
                     state, but its type cannot be read; iterate over a range with a typed bound \
                     (`0..n` with `n: usize`, or `0..n as usize`), or hold the iterator in a typed \
                     local: `let mut it: std::vec::IntoIter<T> = v.into_iter(); while let Some(x) = it.next() {{ .. }}`"
                ),
            );
            return None;
        }
        // A loop variable whose iterator cannot be stored either: the
        // iterator's error says what to fix.
        let iter_failed = body.locals.iter().any(|l| {
            l.ty.is_none()
                && l.for_iter
                    .as_ref()
                    .is_some_and(|f| f.pat_names.iter().any(|n| name == n))
        });
        if iter_failed {
            return None;
        }
        report(
            errors,
            name.to_token_stream(),
            format!(
                "`{name}` is held across {at}, so it is stored in the state, but its type \
                 cannot be read here; give it a type: `let {name}: Type = ..` (for a pattern \
                 binding, rebind it first: `let {name}: Type = {name};`)"
            ),
        );
        return None;
    };
    let _ = points;
    let ty = replace_self(ty, cx.self_ty);
    if let Some(problem) = check_stored_type(&ty, cx.generics) {
        let (tokens, msg) = match problem {
            TypeProblem::Borrow(t) => (
                t,
                format!(
                    "`{name}` holds a reference across {at}; the state cannot borrow between \
                     calls; store an owned value (`.to_vec()`, `.clone()`, `.to_owned()`) or an \
                     index instead"
                ),
            ),
            TypeProblem::Unnamed(t) => (
                t,
                format!(
                    "`{name}` is held across {at}, so it is stored in the state, but its type \
                     has a part that cannot be named there (`_` or `impl Trait`); write the \
                     full type"
                ),
            ),
            TypeProblem::Generic(t, g) => (
                t,
                format!(
                    "`{name}` is held across {at} and its type uses the generic parameter \
                     `{g}`, but the state enum is not generic; store a concrete type, or keep \
                     the value in `self`"
                ),
            ),
        };
        report(errors, tokens, msg);
        return None;
    }
    Some(ty)
}

/// Replaces `Self` in a stored type by the impl's self type.
fn replace_self(ty: &Type, self_ty: Option<&Type>) -> Type {
    use syn::visit_mut::VisitMut;
    struct R<'a>(&'a Type);
    impl VisitMut for R<'_> {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::Path(p) = t {
                if p.qself.is_none() && p.path.is_ident("Self") {
                    *t = self.0.clone();
                    return;
                }
            }
            syn::visit_mut::visit_type_mut(self, t);
        }
    }
    let mut ty = ty.clone();
    if let Some(s) = self_ty {
        R(s).visit_type_mut(&mut ty);
    }
    ty
}
