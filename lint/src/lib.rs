//! `io-model-lint`: finds the re-entrancy bugs of hand-written state
//! machines that return `Result<IOResult<T>>`.
//!
//! Such a function, when it returns `IO`, is called again from its top once
//! the completion has finished. Whatever it did before the yield and after
//! its last state transition runs again: a `push`, a `+= 1`, an I/O
//! submission, a completion added to a group, a cursor move. The lint
//! follows every path through each such function and reports those side
//! effects, the state set to its final or reset value before a call that
//! can still yield, and `IOResult`s dropped without being propagated. It
//! reads syntax only (`syn`), with no type information, and prefers to miss
//! a bug over reporting correct code; the README section lists what it
//! recognizes.
//!
//! The pipeline: read the files ([`collect_files`]), index the types and
//! signatures of all of them ([`Index`]), then analyse each function
//! ([`flow`], [`dropped`]) and drop the findings that an allow comment
//! accepts ([`Source::is_allowed`]).
//!
//! ```
//! use io_model_lint::{lint_inputs, Input, Options};
//!
//! let text = r#"
//! fn bad(&mut self) -> Result<IOResult<()>> {
//!     self.counter += 1;
//!     return_if_io!(self.flush());
//!     Ok(IOResult::Done(()))
//! }
//! "#;
//! let out = lint_inputs(&[Input { path: "op.rs".into(), text: text.into() }], Options::default());
//! assert_eq!(out.findings.len(), 1);
//! assert_eq!(out.findings[0].loc.line, 3);
//! assert!(out.findings[0].message.contains("after the yield at line 4"));
//! ```

pub mod dropped;
mod finding;
pub mod flow;
mod index;
pub mod places;
mod report;
pub mod signature;
mod source;
pub mod vocab;

use std::path::{Path, PathBuf};

use syn::visit::Visit;

pub use finding::{Finding, Kind, Loc, YieldPoint};
pub use flow::Options;
pub use index::Index;
pub use report::{render_finding, render_json};
pub use source::{Source, ALLOW_MARKER};

/// A file to lint.
#[derive(Debug, Clone)]
pub struct Input {
    /// How the file is named in messages.
    pub path: String,
    /// Its contents.
    pub text: String,
}

/// Why a file could not be linted.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// A path given on the command line does not exist.
    #[error("{path}: no such file or directory")]
    NotFound {
        /// The path.
        path: String,
    },
    /// A file or directory could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid Rust.
    #[error("{path}:{line}:{column}: cannot parse: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Where the parser stopped.
        line: usize,
        /// Column there.
        column: usize,
        /// The parser's message.
        message: String,
    },
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings not accepted by an allow comment, sorted by file and line.
    pub findings: Vec<Finding>,
    /// How many findings allow comments accepted.
    pub allowed: usize,
    /// Files that could not be read or parsed.
    pub errors: Vec<LintError>,
    /// Files linted.
    pub files: usize,
    /// Functions analysed (those returning `Result<IOResult<T>>`, not
    /// counting those `#[resumable]` rewrites).
    pub functions: usize,
}

/// The `.rs` files under `paths` (a file given directly is taken whatever
/// its name), sorted; `target` and hidden directories are skipped.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<LintError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match std::fs::metadata(p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                errors.push(LintError::NotFound {
                    path: p.display().to_string(),
                })
            }
            Err(e) => errors.push(LintError::Read {
                path: p.display().to_string(),
                source: e,
            }),
            Ok(m) if m.is_dir() => walk(p, &mut files, &mut errors),
            Ok(_) => files.push(p.clone()),
        }
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LintError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(LintError::Read {
                path: dir.display().to_string(),
                source: e,
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if name.starts_with('.') || name == "target" {
                continue;
            }
            walk(&path, files, errors);
        } else if kind.is_file() && name.ends_with(".rs") {
            files.push(path);
        }
    }
}

/// Reads and lints files and directories.
pub fn lint_paths(paths: &[PathBuf], options: Options) -> Outcome {
    let (files, mut errors) = collect_files(paths);
    let mut inputs = Vec::new();
    for f in files {
        let path = f.display().to_string();
        match std::fs::read(&f) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => inputs.push(Input { path, text }),
                Err(_) => errors.push(LintError::Parse {
                    path,
                    line: 1,
                    column: 1,
                    message: "the file is not UTF-8".into(),
                }),
            },
            Err(e) => errors.push(LintError::Read { path, source: e }),
        }
    }
    let mut out = lint_inputs(&inputs, options);
    errors.append(&mut out.errors);
    out.errors = errors;
    out
}

fn parse(input: &Input) -> Result<syn::File, LintError> {
    syn::parse_file(&input.text).map_err(|e| {
        let start = e.span().start();
        LintError::Parse {
            path: input.path.clone(),
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
        }
    })
}

/// Lints files already in memory: indexes all of them first, then
/// analyses each.
pub fn lint_inputs(inputs: &[Input], options: Options) -> Outcome {
    let mut out = Outcome::default();
    let mut index = Index::default();
    let mut ok = vec![false; inputs.len()];
    for (i, input) in inputs.iter().enumerate() {
        match parse(input) {
            Ok(file) => {
                index.add_file(&file);
                ok[i] = true;
            }
            Err(e) => out.errors.push(e),
        }
    }
    index.finish();
    for (i, input) in inputs.iter().enumerate() {
        if !ok[i] {
            continue;
        }
        // Parsed once already; a second parse keeps memory flat over large
        // trees instead of holding every syntax tree at once.
        let Ok(file) = parse(input) else { continue };
        out.files += 1;
        let source = Source::new(&input.text);
        let mut fns = FnCollector {
            index: &index,
            source: &source,
            path: &input.path,
            options,
            impls: Vec::new(),
            functions: 0,
            findings: Vec::new(),
        };
        fns.visit_file(&file);
        out.functions += fns.functions;
        let mut findings = fns.findings;
        findings.extend(dropped::check_file(
            &file,
            &index,
            &source,
            &input.path,
            options.tests,
        ));
        for mut f in findings {
            if source.is_allowed(f.loc.line) {
                out.allowed += 1;
                continue;
            }
            f.source_line = source.line(f.loc.line).to_string();
            if let Some(y) = &mut f.yield_point {
                y.source_line = source.line(y.loc.line).to_string();
            }
            out.findings.push(f);
        }
    }
    out.findings
        .sort_by(|a, b| (&a.path, a.loc, a.kind).cmp(&(&b.path, b.loc, b.kind)));
    out.findings
        .dedup_by(|a, b| a.path == b.path && a.loc == b.loc && a.kind == b.kind);
    out
}

struct FnCollector<'a> {
    index: &'a Index,
    source: &'a Source,
    path: &'a str,
    options: Options,
    impls: Vec<Option<String>>,
    functions: usize,
    findings: Vec<Finding>,
}

impl FnCollector<'_> {
    fn run(
        &mut self,
        name: String,
        sig: &syn::Signature,
        block: &syn::Block,
        attrs: &[syn::Attribute],
    ) {
        if !signature::is_resumable_fn(sig, self.index)
            || signature::is_attribute_resumable(attrs)
            || (!self.options.tests && is_test_code(attrs))
        {
            return;
        }
        self.functions += 1;
        let self_type = self.impls.last().cloned().flatten();
        let input = flow::FnInput {
            name,
            sig,
            block,
            self_is_enum: self_type.as_deref().is_some_and(|t| self.index.is_enum(t)),
            self_type,
        };
        let found = flow::analyze(&input, self.index, self.source, self.path, self.options);
        self.findings.extend(found);
    }
}

/// Whether an item is test code: `#[test]`, or `#[cfg(test)]`.
pub(crate) fn is_test_code(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().segments.last().is_some_and(|s| s.ident == "test")
            || (a.path().is_ident("cfg")
                && a.parse_args::<syn::Meta>()
                    .is_ok_and(|meta| meta.path().is_ident("test")))
    })
}

impl<'ast> Visit<'ast> for FnCollector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // Test code counts calls and drops results on purpose.
        if self.options.tests || !is_test_code(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.impls.push(index::impl_type_name(i));
        syn::visit::visit_item_impl(self, i);
        self.impls.pop();
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        self.impls.push(None);
        syn::visit::visit_item_trait(self, t);
        self.impls.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.impls.push(None);
        self.run(f.sig.ident.to_string(), &f.sig, &f.block, &f.attrs);
        syn::visit::visit_item_fn(self, f);
        self.impls.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let name = match self.impls.last().cloned().flatten() {
            Some(t) => format!("{t}::{}", f.sig.ident),
            None => f.sig.ident.to_string(),
        };
        self.run(name, &f.sig, &f.block, &f.attrs);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(body) = &f.default {
            self.run(f.sig.ident.to_string(), &f.sig, body, &f.attrs);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }
}
