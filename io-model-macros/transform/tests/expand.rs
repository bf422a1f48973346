//! Expansion snapshots: each `expand/NAME.rs` is expanded and pretty-printed
//! (prettyplease) and compared with `expand/NAME.expanded.rs`, so a reviewer
//! sees what the macro writes. Refresh with `IO_MODEL_BLESS=1`.

use std::path::Path;

fn expand_file(path: &Path) -> String {
    let src = std::fs::read_to_string(path).unwrap();
    let mut item: syn::Item = syn::parse_str(&src).unwrap();
    let attrs = match &mut item {
        syn::Item::Fn(f) => &mut f.attrs,
        syn::Item::Impl(i) => &mut i.attrs,
        _ => panic!("{}: expected a fn or an impl", path.display()),
    };
    let attr = attrs.remove(0);
    let args = match attr.meta {
        syn::Meta::List(l) => l.tokens,
        _ => proc_macro2::TokenStream::new(),
    };
    let out = io_model_transform::expand(args, quote::quote!(#item))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: syn::File = syn::parse2(out).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

#[test]
fn expansions_match_their_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let bless = std::env::var_os("IO_MODEL_BLESS").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".expanded.rs"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 4);
    let mut stale = Vec::new();
    for input in inputs {
        let got = expand_file(&input);
        let snapshot = input.with_extension("expanded.rs");
        if bless {
            std::fs::write(&snapshot, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if want != got {
            stale.push(snapshot.display().to_string());
        }
    }
    // docs/transform.md shows one expansion; it must be the current one.
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/transform.md");
    let text = std::fs::read_to_string(&docs).unwrap();
    let open = "<!-- expansion: docs_example -->\n```rust\n";
    let close = "```\n<!-- /expansion -->";
    let start = text
        .find(open)
        .expect("docs/transform.md shows docs_example")
        + open.len();
    let end = start + text[start..].find(close).expect("the expansion block ends");
    let current = std::fs::read_to_string(dir.join("docs_example.expanded.rs")).unwrap();
    if text[start..end] != current {
        if bless {
            let mut new = text[..start].to_string();
            new.push_str(&current);
            new.push_str(&text[end..]);
            std::fs::write(&docs, new).unwrap();
        } else {
            stale.push(docs.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "expansions changed: {stale:?}; review them with IO_MODEL_BLESS=1 and `git diff`"
    );
}
