//! Writes the state graph (`GRAPH`, Graphviz DOT) of every `#[resumable]`
//! function in the given Rust files to `OUT/<file>.<function>.dot`, by
//! expanding them the way the attribute does (`OUT/<dir>.<file>.<Enum>.dot`). `scripts/render-graphs.sh`
//! renders them to SVG for the docs.
//!
//! `cargo run -p io-model-transform --example state_graphs -- OUT FILE...`

use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

/// The arguments of a `#[resumable(..)]`-like attribute.
fn args(attr: &syn::Attribute) -> TokenStream {
    match &attr.meta {
        syn::Meta::List(l) => l.tokens.clone(),
        _ => TokenStream::new(),
    }
}

/// `const GRAPH: &str = "..";` values in an expansion, with the enum they
/// belong to.
fn graphs(tokens: TokenStream, out: &mut Vec<String>) {
    let mut prev: Vec<TokenTree> = Vec::new();
    for tt in tokens {
        if let TokenTree::Group(g) = &tt {
            graphs(g.stream(), out);
        }
        if let TokenTree::Literal(lit) = &tt {
            let n = prev.len();
            let is_graph = n >= 5
                && matches!(&prev[n - 1], TokenTree::Punct(p) if p.as_char() == '=')
                && prev[..n - 1]
                    .iter()
                    .rev()
                    .any(|t| matches!(t, TokenTree::Ident(i) if i == "GRAPH"));
            if is_graph {
                if let Ok(s) = syn::parse2::<syn::LitStr>(quote!(#lit)) {
                    out.push(s.value());
                }
            }
        }
        prev.push(tt);
        if prev.len() > 8 {
            prev.remove(0);
        }
    }
}

fn is_resumable(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "resumable")
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, files)) = argv.split_first() else {
        eprintln!("usage: state_graphs OUT FILE...");
        std::process::exit(2);
    };
    let out = Path::new(out);
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("cannot create {}: {e}", out.display());
        std::process::exit(1);
    }
    let mut written = 0;
    for file in files {
        let src = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{file}: {e}");
                std::process::exit(1);
            }
        };
        let parsed = match syn::parse_file(&src) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{file}: does not parse: {e}");
                std::process::exit(1);
            }
        };
        // `pagestore/store.rs` -> `pagestore.store`
        let path = Path::new(file);
        let dir = path
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| format!("{}.", d.to_string_lossy()))
            .unwrap_or_default();
        let stem = format!("{dir}{}", path.file_stem().unwrap().to_string_lossy());
        let mut found = Vec::new();
        for item in parsed.items {
            let (attr, item) = match item {
                syn::Item::Fn(mut f) => {
                    let Some(i) = f.attrs.iter().position(is_resumable) else {
                        continue;
                    };
                    let a = f.attrs.remove(i);
                    (args(&a), quote!(#f))
                }
                syn::Item::Impl(mut imp) => {
                    let Some(i) = imp.attrs.iter().position(is_resumable) else {
                        continue;
                    };
                    imp.attrs.remove(i);
                    (TokenStream::new(), quote!(#imp))
                }
                _ => continue,
            };
            match io_model_transform::expand(attr, item) {
                Ok(tokens) => graphs(tokens, &mut found),
                Err(e) => {
                    eprintln!("{file}: {e}");
                    std::process::exit(1);
                }
            }
        }
        for dot in found {
            // `digraph NameState {`
            let name = dot.split_whitespace().nth(1).unwrap_or("Graph").to_string();
            let path = out.join(format!("{stem}.{name}.dot"));
            if let Err(e) = std::fs::write(&path, dot) {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
            written += 1;
        }
    }
    println!("{written} state graphs written to {}", out.display());
}
