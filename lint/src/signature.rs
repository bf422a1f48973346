//! Which functions the lint analyses: those whose return type is
//! `Result<IOResult<T>, E>` in any spelling.
//!
//! A `Result` is any path whose last segment is `Result` or ends in
//! `Result` (`io_model::Result`, `crate::Result`, `std::result::Result`,
//! `LimboResult`), with any error type. An `IOResult` is `IOResult`,
//! Turso's older `CursorResult`, an enum of the linted sources with a
//! variant named `IO`/`Io` (Turso's `InsnFunctionStepResult`), or an alias
//! of one of those. An alias of the whole `Result<IOResult<T>>` counts too,
//! and so does a bare `IOResult<T>`.

use crate::Index;

/// The last path segment of a type, seen through parentheses and groups.
pub fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last(),
        syn::Type::Paren(p) => last_segment(&p.elem),
        syn::Type::Group(g) => last_segment(&g.elem),
        _ => None,
    }
}

fn first_type_arg(seg: &syn::PathSegment) -> Option<&syn::Type> {
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Whether `ty` is an `IOResult` (by name, or a type the index knows).
pub fn is_io_type(ty: &syn::Type, index: &Index) -> bool {
    last_segment(ty).is_some_and(|s| index.is_io_type_name(&s.ident.to_string()))
}

/// Whether `ty` is `Result<IOResult<T>, E>` (or an alias of it, or a bare
/// `IOResult<T>`).
///
/// ```
/// use io_model_lint::{signature::is_resumable_type, Index};
/// let mut index = Index::default();
/// index.finish();
/// let t: syn::Type = syn::parse_quote!(io_model::Result<IOResult<u64>>);
/// assert!(is_resumable_type(&t, &index));
/// let t: syn::Type = syn::parse_quote!(Result<Vec<u8>, MyError>);
/// assert!(!is_resumable_type(&t, &index));
/// ```
pub fn is_resumable_type(ty: &syn::Type, index: &Index) -> bool {
    let Some(seg) = last_segment(ty) else {
        return false;
    };
    let name = seg.ident.to_string();
    if index.is_resumable_alias(&name) || index.is_io_type_name(&name) {
        return true;
    }
    if name.ends_with("Result") {
        return first_type_arg(seg).is_some_and(|t| is_io_type(t, index));
    }
    false
}

/// Whether a function with this signature is analysed.
pub fn is_resumable_fn(sig: &syn::Signature, index: &Index) -> bool {
    match &sig.output {
        syn::ReturnType::Default => false,
        syn::ReturnType::Type(_, t) => is_resumable_type(t, index),
    }
}

/// Whether the attributes mark a function that `#[io_model::resumable]`
/// rewrites (its body holds markers, not a hand-written machine).
pub fn is_attribute_resumable(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "resumable")
    })
}
