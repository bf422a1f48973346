//! Shared by the no-panic tests (`generated_bodies.rs`, `corpus.rs`): runs
//! the expander on one input under `catch_unwind`, records where a panic
//! happened, checks that an `Ok` expansion parses as a file, shrinks a
//! failing input, and lists the failures already reported (each with the
//! ignored regression test that reproduces it).

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};

thread_local! {
    /// Whether a panic on this thread is expected to be caught here.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last caught panic on this thread.
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs a panic hook that, on a thread inside [`catching`], records the
/// message and location instead of printing them; other panics print as
/// usual.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(|c| c.get()) {
                let payload = info.payload();
                let message = if let Some(s) = payload.downcast_ref::<&str>() {
                    (*s).to_string()
                } else if let Some(s) = payload.downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(non-string panic payload)".to_string()
                };
                let location = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_else(|| "(unknown location)".to_string());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, location)));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching a panic as `Err((message, location))`.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, (String, String)> {
    install_hook();
    CAPTURING.with(|c| c.set(true));
    LAST_PANIC.with(|p| *p.borrow_mut() = None);
    let result = catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(false));
    result.map_err(|_| {
        LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| ("(no message)".into(), "(unknown location)".into()))
    })
}

/// What went wrong with one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// `expand` panicked.
    ExpandPanicked,
    /// `expand_or_fallback` panicked (and `expand` did not).
    FallbackPanicked,
    /// `expand` returned `Ok` with tokens that do not parse as a file.
    Unparsable,
    /// `expand` returned an error that reports a broken internal invariant
    /// of the transform (`BUG: ..`), not a problem of the input.
    InternalError,
    /// `expand` returned an error, and `expand_or_fallback`'s output (the
    /// errors next to a stand-in of the item) does not parse as a file, so
    /// the user would see a parse error instead of the real one.
    FallbackUnparsable,
}

#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: FailureKind,
    /// The panic message, or the parse error of the output.
    pub message: String,
    /// Where it panicked (`file:line:col`), or empty.
    pub location: String,
    /// For `Unparsable`: the output, as tokens.
    pub output: Option<String>,
}

impl Failure {
    /// What makes two failures "the same bug": the kind, where it
    /// panicked (file and line), and the message with digits removed.
    pub fn signature(&self) -> String {
        let location: String = self.location.rsplitn(2, ':').last().unwrap_or("").into();
        let message: String = self
            .message
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(80)
            .collect();
        format!("{:?} at {location}: {message}", self.kind)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            FailureKind::ExpandPanicked => {
                write!(
                    f,
                    "`expand` panicked at {}: {}",
                    self.location, self.message
                )
            }
            FailureKind::FallbackPanicked => write!(
                f,
                "`expand_or_fallback` panicked at {}: {}",
                self.location, self.message
            ),
            FailureKind::FallbackUnparsable => write!(
                f,
                "`expand_or_fallback`'s output (errors and stand-in) does not parse as a file: \
                 {}\noutput: {}",
                self.message,
                self.output.as_deref().unwrap_or("")
            ),
            FailureKind::InternalError => {
                write!(f, "`expand` reported an internal error: {}", self.message)
            }
            FailureKind::Unparsable => write!(
                f,
                "`expand` returned Ok, but the output does not parse as a file: {}\noutput: {}",
                self.message,
                self.output.as_deref().unwrap_or("")
            ),
        }
    }
}

/// The result of running the expander on one input.
pub struct Checked {
    /// `Ok(Ok(()))` expanded, `Ok(Err(msg))` an error (its first message),
    /// `Err(failure)` a panic or broken output.
    pub result: Result<Result<(), String>, Failure>,
    /// `expand_or_fallback` gave tokens that do not parse as a file (the
    /// user would see a parse error next to, or instead of, the real one).
    /// Also a failure in `result`, unless `expand` failed first.
    pub fallback_unparsable: Option<String>,
}

/// Runs `expand` and, when it returned an error, `expand_or_fallback` on
/// one input. (On `Ok`, `expand_or_fallback` is `expand` again and returns
/// the same tokens, so it is not run twice; the fuzz target calls both
/// always.)
pub fn check(attr: &TokenStream, item: &TokenStream) -> Checked {
    let expanded = catching(|| io_model_transform::expand(attr.clone(), item.clone()));
    let result = match expanded {
        Err((message, location)) => Err(Failure {
            kind: FailureKind::ExpandPanicked,
            message,
            location,
            output: None,
        }),
        Ok(Ok(tokens)) => match syn::parse2::<syn::File>(tokens.clone()) {
            Ok(_) => Ok(Ok(())),
            Err(e) => Err(Failure {
                kind: FailureKind::Unparsable,
                message: e.to_string(),
                location: String::new(),
                output: Some(tokens.to_string()),
            }),
        },
        Ok(Err(e)) => {
            let first = e.to_string();
            match e
                .into_iter()
                .map(|m| m.to_string())
                .find(|m| m.contains("BUG:"))
            {
                Some(bug) => Err(Failure {
                    kind: FailureKind::InternalError,
                    message: bug,
                    location: String::new(),
                    output: None,
                }),
                None => Ok(Err(first)),
            }
        }
    };
    if matches!(
        result,
        Ok(Ok(()))
            | Err(Failure {
                kind: FailureKind::Unparsable,
                ..
            })
    ) {
        return Checked {
            result,
            fallback_unparsable: None,
        };
    }
    let fallback = catching(|| io_model_transform::expand_or_fallback(attr.clone(), item.clone()));
    let (result, fallback_unparsable) = match fallback {
        Err((message, location)) => {
            let r = match result {
                Err(f) => Err(f),
                Ok(_) => Err(Failure {
                    kind: FailureKind::FallbackPanicked,
                    message,
                    location,
                    output: None,
                }),
            };
            (r, None)
        }
        Ok(tokens) => match syn::parse2::<syn::File>(tokens.clone()) {
            Ok(_) => (result, None),
            Err(e) => {
                let r = match result {
                    Ok(Err(_)) => Err(Failure {
                        kind: FailureKind::FallbackUnparsable,
                        message: e.to_string(),
                        location: String::new(),
                        output: Some(tokens.to_string()),
                    }),
                    other => other,
                };
                (r, Some(e.to_string()))
            }
        },
    };
    Checked {
        result,
        fallback_unparsable,
    }
}

/// A failure found and reported before: the suite does not fail on it
/// (unless `IO_MODEL_FUZZ_STRICT=1`); the named ignored test reproduces
/// it. Remove the entry once the transform is fixed and the test
/// un-ignored. The eight found before are fixed, each with its
/// regression test in `generated_bodies.rs` (the enum name of `fn _1`,
/// stored raw-keyword locals, `name = Self`, a `let` operand, or-patterns
/// in a rewritten `for` loop, `break ::path` in a peeled loop,
/// brace-delimited marker statements, a bare `crate` operand).
pub struct Known {
    pub name: &'static str,
    pub regression_test: &'static str,
    pub matches: fn(&Failure, &str) -> bool,
}

pub const KNOWN: &[Known] = &[];

/// The known failure this one is, if any.
pub fn known(f: &Failure, input: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| (k.matches)(f, input))
}

/// Whether known failures fail the run too.
pub fn strict() -> bool {
    std::env::var_os("IO_MODEL_FUZZ_STRICT").is_some_and(|v| v != "0")
}

/// `usize` from an environment variable (decimal), or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?}: expected a number")),
        Err(_) => default,
    }
}

/// The input as a reader wants it: the attribute's arguments, then the
/// item pretty-printed when it parses and prettyplease can print it (it
/// panics on some verbatim items, `fn f();` in an `impl`), its tokens
/// otherwise.
pub fn pretty(attr: &TokenStream, item: &TokenStream) -> String {
    let printed = syn::parse2::<syn::File>(item.clone())
        .ok()
        .and_then(|file| catching(|| prettyplease::unparse(&file)).ok());
    let body = printed.unwrap_or_else(|| item.to_string());
    format!("attribute arguments: ({attr})\n{body}")
}

/// Runs `f` on a thread with a large stack (the expander and syn recurse
/// over the syntax tree; a debug build's frames are big).
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("spawn a test thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The enum name the transform derives from a function name (through
/// `item::pascal_case`), so that most generated state parameters have
/// the right type and the expansion gets past the signature checks.
pub fn state_enum_name(fn_name: &str) -> String {
    format!("{}State", io_model_transform::item::pascal_case(fn_name))
}

// ----- shrinking -----

/// One way to make an item smaller.
#[derive(Clone, Copy, Debug)]
enum Shrink {
    /// Remove statement `stmt` of block `block` (blocks counted in visit order).
    Stmt { block: usize, stmt: usize },
    /// Replace the `n`th expression by `x`.
    Expr(usize),
    /// Remove the `n`th function parameter (counted over all signatures).
    Param(usize),
    /// Remove the `n`th item of an `impl` block.
    ImplItem(usize),
    /// Replace the `n`th expression, an `if`, loop, `match` or `unsafe`
    /// block, by its (first) body.
    Unwrap(usize),
    /// Remove the generics and `where` clause of the `n`th signature.
    Generics(usize),
}

struct Apply {
    op: Shrink,
    blocks: usize,
    exprs: usize,
    params: usize,
    impl_items: usize,
    done: bool,
}

impl VisitMut for Apply {
    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        if let Shrink::Stmt { block, stmt } = self.op {
            if !self.done && block == self.blocks && stmt < b.stmts.len() {
                b.stmts.remove(stmt);
                self.done = true;
            }
        }
        self.blocks += 1;
        visit_mut::visit_block_mut(self, b);
    }
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let Shrink::Expr(n) = self.op {
            if !self.done && n == self.exprs {
                *e = syn::parse_quote!(x);
                self.done = true;
            }
        }
        if let Shrink::Unwrap(n) = self.op {
            if !self.done && n == self.exprs {
                let body: Option<syn::Block> = match e {
                    syn::Expr::If(i) => Some(i.then_branch.clone()),
                    syn::Expr::Loop(l) => Some(l.body.clone()),
                    syn::Expr::While(w) => Some(w.body.clone()),
                    syn::Expr::ForLoop(f) => Some(f.body.clone()),
                    syn::Expr::Unsafe(u) => Some(u.block.clone()),
                    syn::Expr::Match(m) => m.arms.first().map(|a| {
                        let body = &a.body;
                        syn::parse_quote!({ #body })
                    }),
                    _ => None,
                };
                if let Some(block) = body {
                    *e = syn::Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block,
                    });
                    self.done = true;
                }
            }
        }
        self.exprs += 1;
        visit_mut::visit_expr_mut(self, e);
    }
    fn visit_signature_mut(&mut self, s: &mut syn::Signature) {
        if let Shrink::Generics(n) = self.op {
            if !self.done && n == self.params && !s.generics.params.is_empty() {
                s.generics = syn::Generics::default();
                self.done = true;
            }
            self.params += 1;
        }
        if let Shrink::Param(n) = self.op {
            let len = s.inputs.len();
            if !self.done && n >= self.params && n < self.params + len {
                let k = n - self.params;
                let kept: Vec<syn::FnArg> = std::mem::take(&mut s.inputs)
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i != k)
                    .map(|(_, a)| a)
                    .collect();
                s.inputs = kept.into_iter().collect();
                self.done = true;
            }
            self.params += len;
        }
        visit_mut::visit_signature_mut(self, s);
    }
    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        if let Shrink::ImplItem(n) = self.op {
            let len = i.items.len();
            if !self.done && n >= self.impl_items && n < self.impl_items + len {
                i.items.remove(n - self.impl_items);
                self.done = true;
            }
            self.impl_items += len;
        }
        visit_mut::visit_item_impl_mut(self, i);
    }
}

fn apply(item: &syn::Item, op: Shrink) -> Option<syn::Item> {
    let mut item = item.clone();
    let mut a = Apply {
        op,
        blocks: 0,
        exprs: 0,
        params: 0,
        impl_items: 0,
        done: false,
    };
    a.visit_item_mut(&mut item);
    a.done.then_some(item)
}

/// How many of each shrinkable node an item has, in the order [`Apply`]
/// visits them.
#[derive(Default)]
struct Count {
    block_lens: Vec<usize>,
    exprs: usize,
    params: usize,
    signatures: usize,
    impl_items: usize,
}

impl<'ast> syn::visit::Visit<'ast> for Count {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.block_lens.push(b.stmts.len());
        syn::visit::visit_block(self, b);
    }
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.exprs += 1;
        syn::visit::visit_expr(self, e);
    }
    fn visit_signature(&mut self, s: &'ast syn::Signature) {
        self.params += s.inputs.len();
        self.signatures += 1;
        syn::visit::visit_signature(self, s);
    }
    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.impl_items += i.items.len();
        syn::visit::visit_item_impl(self, i);
    }
}

/// Every shrinking step that applies to `item`, big steps first.
fn steps(item: &syn::Item) -> Vec<Shrink> {
    let mut c = Count::default();
    syn::visit::Visit::visit_item(&mut c, item);
    let mut out: Vec<Shrink> = (0..c.impl_items).map(Shrink::ImplItem).collect();
    out.extend((0..c.signatures).map(Shrink::Generics));
    out.extend((0..c.params).map(Shrink::Param));
    out.extend((0..c.exprs).map(Shrink::Unwrap));
    for (block, &len) in c.block_lens.iter().enumerate() {
        out.extend((0..len).rev().map(|stmt| Shrink::Stmt { block, stmt }));
    }
    out.extend((0..c.exprs).map(Shrink::Expr));
    out
}

/// Greedily removes statements, parameters and impl items and simplifies
/// expressions while the input still fails with the same signature (at
/// most `budget` expansions). Returns the smallest item found.
pub fn shrink(attr: &TokenStream, item: &syn::Item, signature: &str, budget: usize) -> syn::Item {
    let fails_same = |it: &syn::Item| -> bool {
        match check(attr, &it.to_token_stream()).result {
            Err(f) => f.signature() == signature,
            Ok(_) => false,
        }
    };
    let mut best = item.clone();
    let mut best_text = best.to_token_stream().to_string();
    let (mut i, mut improved, mut tries) = (0, false, 0);
    while tries < budget {
        let steps = steps(&best);
        if i >= steps.len() {
            if !improved {
                break;
            }
            (i, improved) = (0, false);
            continue;
        }
        let Some(candidate) = apply(&best, steps[i]) else {
            i += 1;
            continue;
        };
        let text = candidate.to_token_stream().to_string();
        tries += 1;
        if text != best_text && fails_same(&candidate) {
            (best, best_text, improved) = (candidate, text, true);
        } else {
            i += 1;
        }
    }
    best
}
