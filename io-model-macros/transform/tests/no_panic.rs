//! The expander never panics: every function of the repository's own test
//! sources, as written and with suspension markers inserted at every
//! statement position of every block, expands to code or to errors.
//! (The large corpus and fuzz runs are separate; this is the quick version.)

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use quote::quote;
use syn::visit_mut::VisitMut;

fn sources() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// Every `fn` body in the file, as a free function with `state = st`.
fn functions(src: &str) -> Vec<syn::ItemFn> {
    let Ok(file) = syn::parse_file(src) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Fn(f) => out.push(f),
            syn::Item::Impl(i) => {
                for it in i.items {
                    if let syn::ImplItem::Fn(m) = it {
                        out.push(syn::ItemFn {
                            attrs: Vec::new(),
                            vis: m.vis,
                            sig: m.sig,
                            block: Box::new(m.block),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Inserts `marker` at statement `n` (counted over all blocks); returns
/// whether it found that position.
struct Insert {
    n: usize,
    seen: usize,
    marker: syn::Stmt,
    done: bool,
}

impl VisitMut for Insert {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        for i in 0..=b.stmts.len() {
            if !self.done && self.seen == self.n {
                b.stmts.insert(i, self.marker.clone());
                self.done = true;
            }
            self.seen += 1;
        }
        syn::visit_mut::visit_block_mut(self, b);
    }
}

fn expand_no_panic(f: &syn::ItemFn) -> bool {
    let mut f = f.clone();
    f.attrs.clear();
    let item = quote!(#f);
    let ok = catch_unwind(AssertUnwindSafe(|| {
        let _ = io_model_transform::expand(quote!(state = st), item.clone());
        let _ = io_model_transform::expand_or_fallback(quote!(state = st), item);
    }));
    ok.is_ok()
}

#[test]
fn the_expander_never_panics_on_the_test_sources() {
    let markers: Vec<syn::Stmt> = vec![
        syn::parse_quote!(wait!(c);),
        syn::parse_quote!(let v: u32 = call!(op());),
        syn::parse_quote!(let w = call!(op());),
        syn::parse_quote!(yield_now!();),
        syn::parse_quote!(wait_all!(Label => cs);),
        syn::parse_quote!(x = call!(op());),
    ];
    let (mut fns, mut runs) = (0, 0);
    for src in sources() {
        for f in functions(&src) {
            fns += 1;
            assert!(expand_no_panic(&f), "panicked on {}", f.sig.ident);
            runs += 1;
            for (k, marker) in markers.iter().enumerate() {
                for n in 0.. {
                    let mut g = f.clone();
                    let mut ins = Insert {
                        n,
                        seen: 0,
                        marker: marker.clone(),
                        done: false,
                    };
                    ins.visit_block_mut(&mut g.block);
                    if !ins.done || n > 60 {
                        break;
                    }
                    // A quarter of (marker, position) pairs keeps the default run short.
                    if (n + k) % 4 == 0 {
                        assert!(
                            expand_no_panic(&g),
                            "panicked on {} with marker {k} at {n}",
                            g.sig.ident
                        );
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(fns > 50, "found only {fns} functions");
    println!("{fns} functions, {runs} expansions, no panic");
}
