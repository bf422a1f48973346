//! Names of the generated code, shared by the phases that emit it.
//!
//! Internal names start with `__io_` (reserved: user code may not use the
//! prefix) and get `Span::mixed_site()`, so they never clash with the user's
//! names; locals restored into user code keep the user's identifiers.

use proc_macro2::Span;
use quote::format_ident;
use syn::Ident;

use crate::ids::LocalId;

/// An internal name: hygienic, so user code can neither see nor clash with
/// it.
pub fn internal(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// The arm-local binding of a stored local's field: `__io_b3`.
pub fn slot(id: LocalId) -> Ident {
    internal(&format!("__io_b{}", id.0))
}

/// The carrier of a local on its way to a merge: `__io_m3`.
pub fn carrier(id: LocalId) -> Ident {
    internal(&format!("__io_m{}", id.0))
}

/// The state while the function runs.
pub fn state() -> Ident {
    internal("__io_s")
}

/// The label of the dispatch loop.
pub fn dispatch() -> syn::Lifetime {
    syn::Lifetime::new("'__io_dispatch", Span::mixed_site())
}

/// A field name made from a number, for the hidden ones.
pub fn numbered(prefix: &str, n: usize) -> Ident {
    format_ident!("{}{}", prefix, n)
}
