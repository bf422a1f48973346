//! Fuzz target `expand`: arbitrary bytes, read as UTF-8 Rust source, go
//! through `io_model_transform::expand` and `expand_or_fallback`.
//!
//! The source is lexed into a token stream. When it starts with
//! `#[resumable(..)]` or `#[io_model::resumable(..)]`, that attribute's
//! arguments are the attribute arguments and the rest is the item, as the
//! compiler would hand them to the macro; otherwise the arguments are empty
//! and the whole stream is the item. Crashes are: a panic in either
//! function, an `Ok` expansion that does not parse as a `syn::File`, and an
//! error reporting an internal invariant (`BUG: ..`).
//!
//! Run with `.ci/fuzz` (60 s) or `.ci/fuzz --full` (30 min); seeds are in
//! `fuzz/corpus/expand/`.

#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Deeper nesting is skipped: every recursive-descent parser (syn's
/// included) runs out of stack on it, which says nothing about the
/// transform.
const MAX_NESTING: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if nesting(text) > MAX_NESTING {
        return;
    }
    let Ok(tokens) = TokenStream::from_str(text) else {
        return;
    };
    let (attr, item) = split_attribute(tokens);
    match io_model_transform::expand(attr.clone(), item.clone()) {
        Ok(out) => {
            if let Err(e) = syn::parse2::<syn::File>(out.clone()) {
                panic!("expand returned Ok, but the output does not parse as a file: {e}\noutput: {out}");
            }
        }
        Err(errors) => {
            for e in errors {
                let msg = e.to_string();
                assert!(
                    !msg.contains("BUG:"),
                    "expand reported an internal error: {msg}"
                );
            }
        }
    }
    let _ = io_model_transform::expand_or_fallback(attr, item);
});

/// The deepest bracket nesting of the text (a rough count that ignores
/// strings and comments, so it can only overestimate).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                max = max.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// `(attribute arguments, item)`: a leading `#[resumable(..)]` or
/// `#[io_model::resumable(..)]` is taken off the item.
fn split_attribute(tokens: TokenStream) -> (TokenStream, TokenStream) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(group))) =
        (trees.first(), trees.get(1))
    else {
        return (TokenStream::new(), tokens);
    };
    if hash.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
        return (TokenStream::new(), tokens);
    }
    let inner: Vec<TokenTree> = group.stream().into_iter().collect();
    let path: Vec<String> = inner
        .iter()
        .take_while(|t| !matches!(t, TokenTree::Group(_)))
        .map(|t| t.to_string())
        .collect();
    let is_resumable = matches!(
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["resumable"] | ["io_model", ":", ":", "resumable"]
    );
    if !is_resumable {
        return (TokenStream::new(), tokens);
    }
    let args = match inner.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.stream(),
        _ => TokenStream::new(),
    };
    (args, trees.into_iter().skip(2).collect())
}
