//! Corpus test: the expander never panics on real-world function bodies.
//!
//! At test time this finds the `syn` 2.x sources in the local cargo
//! registry (`$CARGO_HOME/registry/src/*/syn-2.*/src`, `~/.cargo` when
//! `CARGO_HOME` is unset; the highest 2.x version present), parses every
//! file, and takes every function with a body: free functions (nested ones
//! too), methods of inherent and trait impls, and default methods of
//! traits. Each one is expanded
//!
//! 1. as written, with `state = st` (a free function) or inside an `impl`
//!    block with `#[resumable(state = self.st)]` (a method): mostly errors;
//! 2. rewritten to fit: a free function gets a first parameter
//!    `st: &mut <Name>State`, a method takes `&mut self`, and the return
//!    type `T` becomes `Result<IOResult<T>, Error>`;
//! 3. rewritten, with a suspension marker inserted at a statement position
//!    of some block (`wait!(c);`, `let v: u32 = call!(op());`,
//!    `yield_now!();`, `wait_all!(Label => cs);`, ..), and with two markers
//!    at two positions.
//!
//! Every expansion runs under `catch_unwind`: a panic, an `Ok` output that
//! does not parse as a `syn::File`, or a `BUG: ..` error fails the test
//! with the function (shrunk) and what happened. Failures already reported (see
//! `support::KNOWN`) are counted, not failed, unless
//! `IO_MODEL_FUZZ_STRICT=1`. Without the sources the test prints a message
//! and passes.
//!
//! The default run samples the marker positions (about 20 s in a debug
//! build on 2 cores). The long run does every function and every statement
//! position with every marker, and two-marker pairs (about 2 minutes in
//! release; or `.ci/no-panic-long`):
//!   IO_MODEL_CORPUS_FULL=1 cargo test --release -p io-model-transform \
//!       --test corpus -- --nocapture

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use support::{check, known, pretty, shrink, state_enum_name, strict, Failure};

/// In the default run, one statement position in `SAMPLE` gets a marker.
const SAMPLE: usize = 8;

// ----- finding the sources -----

/// `(version, src directory)` of the highest `syn` 2.x in the registry.
fn syn_sources() -> Option<(String, PathBuf)> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let mut best: Option<((u64, u64, u64), String, PathBuf)> = None;
    for index in std::fs::read_dir(cargo_home.join("registry/src")).ok()? {
        let Ok(index) = index else { continue };
        let Ok(crates) = std::fs::read_dir(index.path()) else {
            continue;
        };
        for krate in crates.flatten() {
            let name = krate.file_name().to_string_lossy().into_owned();
            let Some(version) = name.strip_prefix("syn-") else {
                continue;
            };
            let nums: Vec<u64> = version
                .split('.')
                .map(|p| {
                    p.chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect::<String>()
                        .parse()
                        .unwrap_or(0)
                })
                .collect();
            if nums.len() != 3 || nums[0] != 2 || version.contains('-') {
                continue;
            }
            let key = (nums[0], nums[1], nums[2]);
            let src = krate.path().join("src");
            if src.join("lib.rs").is_file() && best.as_ref().map_or(true, |b| key > b.0) {
                best = Some((key, version.to_string(), src));
            }
        }
    }
    best.map(|(_, v, p)| (v, p))
}

fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

// ----- the functions -----

/// Where a function was found.
#[derive(Clone)]
enum Place {
    Free,
    /// A method of `impl<generics> [trait for] self_ty`, or a trait's
    /// default method (`trait_` set, self type `Self_`).
    Method {
        generics: syn::Generics,
        trait_: Option<syn::Path>,
        self_ty: Box<syn::Type>,
    },
}

#[derive(Clone)]
struct Func {
    file: String,
    place: Place,
    attrs: Vec<syn::Attribute>,
    sig: syn::Signature,
    block: syn::Block,
}

#[derive(Default)]
struct Collect {
    file: String,
    out: Vec<Func>,
    /// The enclosing `impl` or `trait`, for methods.
    context: Vec<Place>,
}

impl<'ast> Visit<'ast> for Collect {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.out.push(Func {
            file: self.file.clone(),
            place: Place::Free,
            attrs: f.attrs.clone(),
            sig: f.sig.clone(),
            block: (*f.block).clone(),
        });
        self.context.push(Place::Free);
        syn::visit::visit_item_fn(self, f);
        self.context.pop();
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.context.push(Place::Method {
            generics: i.generics.clone(),
            trait_: i.trait_.as_ref().map(|t| t.1.clone()),
            self_ty: i.self_ty.clone(),
        });
        syn::visit::visit_item_impl(self, i);
        self.context.pop();
    }
    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let name = &t.ident;
        self.context.push(Place::Method {
            generics: t.generics.clone(),
            trait_: Some(syn::parse_quote!(#name)),
            self_ty: Box::new(syn::parse_quote!(Self_)),
        });
        syn::visit::visit_item_trait(self, t);
        self.context.pop();
    }
    fn visit_impl_item_fn(&mut self, m: &'ast syn::ImplItemFn) {
        let place = self.context.last().cloned().unwrap_or(Place::Free);
        self.out.push(Func {
            file: self.file.clone(),
            place,
            attrs: m.attrs.clone(),
            sig: m.sig.clone(),
            block: m.block.clone(),
        });
        self.context.push(Place::Free);
        syn::visit::visit_impl_item_fn(self, m);
        self.context.pop();
    }
    fn visit_trait_item_fn(&mut self, m: &'ast syn::TraitItemFn) {
        if let Some(block) = &m.default {
            let place = self.context.last().cloned().unwrap_or(Place::Free);
            self.out.push(Func {
                file: self.file.clone(),
                place,
                attrs: m.attrs.clone(),
                sig: m.sig.clone(),
                block: block.clone(),
            });
        }
        self.context.push(Place::Free);
        syn::visit::visit_trait_item_fn(self, m);
        self.context.pop();
    }
}

/// One expansion's input: the attribute's arguments and the item.
struct Input {
    attr: TokenStream,
    item: syn::Item,
}

impl Func {
    fn is_method(&self) -> bool {
        self.sig.receiver().is_some()
    }

    /// The item to expand: a free function with `state = st`, or the
    /// method in an `impl` block with `#[resumable(state = self.st)]`.
    fn input(&self, sig: syn::Signature, block: syn::Block) -> Option<Input> {
        let attrs = &self.attrs;
        match (&self.place, sig.receiver().is_some()) {
            (
                Place::Method {
                    generics,
                    trait_,
                    self_ty,
                },
                true,
            ) => {
                let trait_ = trait_.as_ref().map(|t| quote!(#t for));
                let (impl_generics, _, where_clause) = generics.split_for_impl();
                let item = syn::parse2(quote! {
                    impl #impl_generics #trait_ #self_ty #where_clause {
                        #[resumable(state = self.st)]
                        #(#attrs)*
                        #sig #block
                    }
                })
                .ok()?;
                Some(Input {
                    attr: TokenStream::new(),
                    item,
                })
            }
            _ => Some(Input {
                attr: quote!(state = st),
                item: syn::parse2(quote!(#(#attrs)* #sig #block)).ok()?,
            }),
        }
    }

    /// The function as written.
    fn as_written(&self) -> Option<Input> {
        self.input(self.sig.clone(), self.block.clone())
    }

    /// The signature made to fit: a state parameter or `&mut self`, and
    /// `Result<IOResult<T>, Error>`.
    fn fitted_sig(&self) -> syn::Signature {
        let mut sig = self.sig.clone();
        sig.asyncness = None;
        sig.constness = None;
        if self.is_method() {
            let recv: syn::FnArg = syn::parse_quote!(&mut self);
            sig.inputs[0] = recv;
        } else {
            let state = syn::Ident::new(&state_enum_name(&sig.ident.to_string()), sig.ident.span());
            sig.inputs.insert(0, syn::parse_quote!(st: &mut #state));
        }
        let ret: syn::Type = match &sig.output {
            syn::ReturnType::Default => syn::parse_quote!(()),
            syn::ReturnType::Type(_, t) => (**t).clone(),
        };
        sig.output = syn::parse_quote!(-> Result<IOResult<#ret>, Error>);
        sig
    }

    fn fitted(&self, block: syn::Block) -> Option<Input> {
        self.input(self.fitted_sig(), block)
    }
}

// ----- inserting markers -----

const MARKERS: &[&str] = &[
    "wait!(c);",
    "let v_io: u32 = call!(op());",
    "yield_now!();",
    "wait_all!(Label => cs);",
    "x_io = call!(op());",
    "let w_io = call!(op());",
    "if call!(check()) { yield_now!(); }",
    "let Some(y_io) = call!(find()) else { return Ok(IOResult::Done(Default::default())); };",
];

fn marker(k: usize) -> syn::Stmt {
    let block: syn::Block =
        syn::parse_str(&format!("{{ {} }}", MARKERS[k % MARKERS.len()])).expect("marker parses");
    block.stmts.into_iter().next().expect("one statement")
}

/// Inserts `marker` at statement position `n` (positions counted over all
/// blocks, `len + 1` per block); `done` tells whether `n` existed.
struct Insert {
    n: usize,
    seen: usize,
    marker: Option<syn::Stmt>,
}

impl VisitMut for Insert {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let len = b.stmts.len();
        if self.n >= self.seen && self.n <= self.seen + len {
            if let Some(m) = self.marker.take() {
                let at = self.n - self.seen;
                // After a tail expression, that expression becomes a statement.
                if let Some(syn::Stmt::Expr(_, semi @ None)) =
                    at.checked_sub(1).map(|i| &mut b.stmts[i])
                {
                    *semi = Some(Default::default());
                }
                b.stmts.insert(at, m);
            }
        }
        self.seen += len + 1;
        syn::visit_mut::visit_block_mut(self, b);
    }
}

fn positions(block: &syn::Block) -> usize {
    let mut ins = Insert {
        n: usize::MAX,
        seen: 0,
        marker: None,
    };
    ins.visit_block_mut(&mut block.clone());
    ins.seen
}

fn with_marker(block: &syn::Block, n: usize, k: usize) -> syn::Block {
    let mut b = block.clone();
    Insert {
        n,
        seen: 0,
        marker: Some(marker(k)),
    }
    .visit_block_mut(&mut b);
    b
}

// ----- the run -----

#[derive(Default)]
struct Stats {
    files: usize,
    unparsed_files: usize,
    functions: usize,
    expansions: usize,
    ok: usize,
    err: usize,
    fallback_unparsable: usize,
    /// Inputs the test could not build (a bug of the test; reported).
    unbuilt: usize,
    /// The slowest expansion: (time, function). Reported, never asserted.
    slowest: (std::time::Duration, String),
    known: BTreeMap<&'static str, usize>,
    /// By failure signature: the failure, the smallest input, and how many
    /// inputs hit it.
    found: BTreeMap<String, (Failure, String, String, usize)>,
}

impl Stats {
    fn run(&mut self, input: Option<Input>, func: &Func) {
        let Some(input) = input else {
            self.unbuilt += 1;
            return;
        };
        let tokens = input.item.to_token_stream();
        let start = std::time::Instant::now();
        let checked = check(&input.attr, &tokens);
        let took = start.elapsed();
        if took > self.slowest.0 {
            self.slowest = (took, format!("{} `{}`", func.file, func.sig.ident));
        }
        self.expansions += 1;
        self.fallback_unparsable += usize::from(checked.fallback_unparsable.is_some());
        match checked.result {
            Ok(Ok(())) => self.ok += 1,
            Ok(Err(_)) => self.err += 1,
            Err(failure) => {
                let text = format!("{} {tokens}", input.attr);
                if let Some(k) = known(&failure, &text) {
                    *self.known.entry(k.name).or_default() += 1;
                    if !strict() {
                        return;
                    }
                }
                // Shrink here, where the syntax tree is at hand.
                let sig = failure.signature();
                let seen_smaller = self
                    .found
                    .get(&sig)
                    .is_some_and(|f| f.2.len() <= tokens.to_string().len());
                if let Some(f) = self.found.get_mut(&sig) {
                    f.3 += 1;
                }
                if seen_smaller {
                    return;
                }
                let small = shrink(&input.attr, &input.item, &sig, 2000);
                let shown = match check(&input.attr, &small.to_token_stream()).result {
                    Err(f) => f,
                    Ok(_) => failure,
                };
                let hits = self.found.get(&sig).map_or(1, |f| f.3);
                self.found.insert(
                    sig,
                    (
                        shown,
                        format!("{} `{}`", func.file, func.sig.ident),
                        pretty(&input.attr, &small.to_token_stream()),
                        hits,
                    ),
                );
            }
        }
    }

    fn merge(&mut self, o: Stats) {
        self.files = self.files.max(o.files);
        self.unparsed_files = self.unparsed_files.max(o.unparsed_files);
        self.functions += o.functions;
        self.expansions += o.expansions;
        self.ok += o.ok;
        self.err += o.err;
        self.fallback_unparsable += o.fallback_unparsable;
        self.unbuilt += o.unbuilt;
        if o.slowest.0 > self.slowest.0 {
            self.slowest = o.slowest;
        }
        for (k, v) in o.known {
            *self.known.entry(k).or_default() += v;
        }
        for (k, v) in o.found {
            match self.found.get_mut(&k) {
                Some(mine) => {
                    mine.3 += v.3;
                    if v.2.len() < mine.2.len() {
                        let hits = mine.3;
                        *mine = (v.0, v.1, v.2, hits);
                    }
                }
                None => {
                    self.found.insert(k, v);
                }
            }
        }
    }
}

/// Worker `w` of `workers`: parses every file, expands its share of the
/// functions.
fn work(files: &[PathBuf], root: &Path, w: usize, workers: usize, full: bool) -> Stats {
    let mut stats = Stats::default();
    let mut index = 0usize;
    for path in files {
        stats.files += 1;
        let Ok(src) = std::fs::read_to_string(path) else {
            stats.unparsed_files += 1;
            continue;
        };
        let Ok(file) = syn::parse_file(&src) else {
            stats.unparsed_files += 1;
            continue;
        };
        let mut c = Collect {
            file: path
                .strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string(),
            ..Collect::default()
        };
        c.visit_file(&file);
        for func in c.out {
            index += 1;
            if index % workers != w {
                continue;
            }
            stats.functions += 1;
            // The default run takes the function as written for half of
            // them, and a two-marker pair for the other half.
            let odd = index % 2 == 1;
            if full || !odd {
                stats.run(func.as_written(), &func);
            }
            stats.run(func.fitted(func.block.clone()), &func);
            let n = positions(&func.block);
            for pos in 0..n {
                if full {
                    for k in 0..MARKERS.len() {
                        stats.run(func.fitted(with_marker(&func.block, pos, k)), &func);
                    }
                } else if (pos + index) % SAMPLE == 0 {
                    let k = (pos / SAMPLE + index) % MARKERS.len();
                    stats.run(func.fitted(with_marker(&func.block, pos, k)), &func);
                }
            }
            // Two markers: the second one's positions count the first.
            let pairs: Vec<(usize, usize)> = if full {
                (0..n).map(|p| (p, (p * 7 + 3) % (n + 1))).collect()
            } else if n > 0 && odd {
                vec![(index % n, (index * 7 + 3) % (n + 1))]
            } else {
                Vec::new()
            };
            for (i, (p, q)) in pairs.into_iter().enumerate() {
                let b = with_marker(&func.block, p, index + i);
                let b = with_marker(&b, q, index + i + 3);
                stats.run(func.fitted(b), &func);
            }
        }
    }
    stats
}

#[test]
fn the_expander_never_panics_on_the_syn_sources() {
    let Some((version, src)) = syn_sources() else {
        println!(
            "corpus: SKIPPED: no syn 2.x sources under $CARGO_HOME/registry/src (or ~/.cargo); \
             run `cargo fetch` first"
        );
        return;
    };
    let full = std::env::var_os("IO_MODEL_CORPUS_FULL").is_some_and(|v| v != "0");
    let files = rs_files(&src);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (files, src) = (files.clone(), src.clone());
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn(move || work(&files, &src, w, workers, full))
                .expect("spawn a worker")
        })
        .collect();
    let mut stats = Stats::default();
    for h in handles {
        stats.merge(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
    }
    println!(
        "corpus: syn {version} ({}), {} mode: {} files ({} not parsed), {} functions, {} \
         expansions: {} Ok, {} Err",
        src.display(),
        if full { "full" } else { "sampled" },
        stats.files,
        stats.unparsed_files,
        stats.functions,
        stats.expansions,
        stats.ok,
        stats.err
    );
    println!(
        "slowest expansion (expand and expand_or_fallback): {:?}, {}",
        stats.slowest.0, stats.slowest.1
    );
    if stats.unbuilt > 0 {
        println!(
            "note: {} inputs could not be built (skipped)",
            stats.unbuilt
        );
    }
    if stats.fallback_unparsable > 0 {
        println!(
            "note: expand_or_fallback's output did not parse as a file in {} expansions",
            stats.fallback_unparsable
        );
    }
    for (name, n) in &stats.known {
        let test = support::KNOWN
            .iter()
            .find(|k| k.name == *name)
            .map_or("", |k| k.regression_test);
        println!("known failure, {n} expansions (reproduced by {test}): {name}");
    }
    let mut report = String::new();
    for (failure, origin, input, hits) in stats.found.values() {
        report += &format!(
            "\n=== {hits} expansions; from {origin}\n{failure}\ninput (shrunk):\n{input}\n"
        );
    }
    assert!(
        stats.found.is_empty(),
        "the expander failed on {} distinct inputs:{report}",
        stats.found.len()
    );
    assert!(
        stats.functions > 500,
        "found only {} functions",
        stats.functions
    );
}

/// The markers parse (a guard for the table above).
#[test]
fn markers_parse() {
    for k in 0..MARKERS.len() {
        let _ = marker(k);
    }
    let _ = TokenStream::from_str("state = st").expect("tokens");
}
