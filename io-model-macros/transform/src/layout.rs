//! Phase 6: the state enum's layout: one variant per suspension point,
//! holding exactly the locals live across it (and, for `wait!` and
//! `wait_all!`, the completion waited for).

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Type};

use crate::continuation::internal;
use crate::points::{Point, PointId};

/// A stored local.
pub struct Field {
    /// The field's name in the variant.
    pub name: Ident,
    /// The user's local it is moved from and restored into.
    pub source: Ident,
    pub ty: Type,
    /// The local's id in the point's continuation walk.
    pub visible_id: usize,
    /// What the field holds, for its rustdoc.
    pub doc: String,
}

/// A type as a reader writes it: `Vec<u8>`, not `Vec < u8 >`.
pub fn type_string(ty: &Type) -> String {
    let mut s = quote::ToTokens::to_token_stream(ty).to_string();
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

/// The variant of one suspension point.
pub struct Variant {
    pub name: Ident,
    pub point: PointId,
    pub fields: Vec<Field>,
    pub holds_completion: bool,
}

/// Every variant of one function's state enum.
pub struct Layout {
    pub enum_name: Ident,
    /// The statements that bind `__io_p: &mut Enum` to where the state
    /// lives (see `item::state_place`).
    pub place: TokenStream,
    pub variants: Vec<Variant>,
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
        None => format_ident!("{}", generated_name(points, id)),
    }
}

impl Layout {
    pub fn variant(&self, id: PointId) -> &Variant {
        &self.variants[id.0]
    }

    /// The variants that hold a completion (those of `wait!`/`wait_all!`).
    pub fn wait_variants(&self) -> Vec<&Ident> {
        self.variants
            .iter()
            .filter(|v| v.holds_completion)
            .map(|v| &v.name)
            .collect()
    }

    /// Whether visible local `visible_id` of point `id` is stored.
    pub fn is_live(&self, id: PointId, visible_id: usize) -> bool {
        self.variant(id)
            .fields
            .iter()
            .any(|f| f.visible_id == visible_id)
    }

    /// The statement that records "suspended at `id`" with its locals.
    pub fn store(&self, id: PointId) -> TokenStream {
        let v = self.variant(id);
        let enum_name = &self.enum_name;
        let name = &v.name;
        let next = internal("__io_next");
        let names = v.fields.iter().map(|f| &f.name);
        let sources = v.fields.iter().map(|f| &f.source);
        let completion = v.holds_completion.then(|| {
            let c = internal("__io_c");
            quote!(__io_c: ::core::clone::Clone::clone(&#c),)
        });
        quote! {
            #next = #enum_name::#name { #(#names: #sources,)* #completion };
        }
    }

    /// The pattern of the arm that resumes at `id`.
    pub fn arm_pattern(&self, id: PointId) -> TokenStream {
        let v = self.variant(id);
        let enum_name = &self.enum_name;
        let name = &v.name;
        let names = v.fields.iter().map(|f| &f.name);
        let slots = v
            .fields
            .iter()
            .map(|f| crate::continuation::slot_ident(f.visible_id));
        let completion = v.holds_completion.then(|| {
            let c = internal("__io_c");
            quote!(__io_c: #c,)
        });
        quote!(#enum_name::#name { #(#names: #slots,)* #completion })
    }
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
