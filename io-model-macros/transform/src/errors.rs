//! The error sink: every independent problem is collected at the user's
//! span and reported together, so one compile shows them all.

use proc_macro2::Span;
use std::fmt::Display;

/// Collects `syn::Error`s; [`Errors::finish`] combines them into one.
#[derive(Default)]
pub struct Errors {
    errors: Option<syn::Error>,
}

impl Errors {
    /// Records an error at `span`.
    pub fn push(&mut self, span: Span, message: impl Display) {
        self.add(syn::Error::new(span, message));
    }

    /// Records an error spanning all of `tokens`.
    pub fn push_spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.add(syn::Error::new_spanned(tokens, message));
    }

    /// Records an existing error.
    pub fn add(&mut self, err: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(err),
            None => self.errors = Some(err),
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_none()
    }

    /// `Ok(())` if nothing was recorded, else every error combined.
    pub fn finish(self) -> syn::Result<()> {
        match self.errors {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The 1-based source line of `span` (0 where the compiler gives none).
pub fn line_of(span: Span) -> usize {
    span.start().line
}
