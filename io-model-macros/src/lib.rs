//! The `#[io_model::resumable]` attribute. Use it through the `io-model`
//! crate, which re-exports it and documents it; the transform itself lives
//! in `io-model-transform` as plain, testable functions.

use proc_macro::TokenStream;

/// See `io_model::resumable`.
#[proc_macro_attribute]
pub fn resumable(attr: TokenStream, item: TokenStream) -> TokenStream {
    io_model_transform::expand_or_fallback(attr.into(), item.into()).into()
}
