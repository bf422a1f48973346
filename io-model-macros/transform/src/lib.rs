//! The transform behind `#[io_model::resumable]` (placeholder until the
//! attribute lands).

use proc_macro2::TokenStream;

/// Expands the attribute; errors become `compile_error!` tokens.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let _ = attr;
    let err = syn::Error::new(
        proc_macro2::Span::call_site(),
        "#[io_model::resumable] is not implemented yet",
    )
    .into_compile_error();
    quote::quote!(#err #item)
}
