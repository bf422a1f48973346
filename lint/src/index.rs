//! The first pass over all linted files: which types spell an `IOResult`,
//! which aliases spell `Result<IOResult<T>>`, and which function names
//! return one. The second pass (the analysis) reads these tables.

use std::collections::{BTreeSet, HashMap};

use syn::visit::Visit;

use crate::signature::{is_io_type, is_resumable_type, last_segment};
use crate::vocab;

/// Names gathered from every linted file before any function is analysed.
///
/// ```
/// let mut index = io_model_lint::Index::default();
/// let file = syn::parse_file("enum Step { Row, IO(IOCompletions) } \
///     fn f() -> Result<Step> { todo!() }").unwrap();
/// index.add_file(&file);
/// index.finish();
/// assert!(index.is_io_type_name("Step"));
/// assert!(index.always_returns_io("f"));
/// ```
#[derive(Debug, Clone)]
pub struct Index {
    io_types: BTreeSet<String>,
    resumable_aliases: BTreeSet<String>,
    /// `type X<..> = ..` seen, with the right-hand side, resolved in
    /// [`finish`](Self::finish).
    pending_aliases: Vec<(String, syn::Type)>,
    /// `use .. IOResult as X` renames.
    pending_renames: Vec<(String, String)>,
    /// Return types of every function, by name, resolved in `finish`.
    pending_fns: Vec<(String, Option<syn::Type>)>,
    /// Function name -> (returns an IOResult, returns something else).
    fns: HashMap<String, (u32, u32)>,
    /// Enum name -> its `#[default]` variant.
    default_variants: HashMap<String, String>,
    /// Every enum declared.
    enums: BTreeSet<String>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            io_types: vocab::IO_TYPES.iter().map(|s| s.to_string()).collect(),
            resumable_aliases: BTreeSet::new(),
            pending_aliases: Vec::new(),
            pending_renames: Vec::new(),
            pending_fns: Vec::new(),
            fns: HashMap::new(),
            default_variants: HashMap::new(),
            enums: BTreeSet::new(),
        }
    }
}

impl Index {
    /// Records the types, aliases and function signatures of one file.
    pub fn add_file(&mut self, file: &syn::File) {
        let mut v = Collector { index: self };
        v.visit_file(file);
    }

    /// Resolves aliases and signatures once every file has been added.
    pub fn finish(&mut self) {
        for (from, to) in std::mem::take(&mut self.pending_renames) {
            if self.io_types.contains(&from) {
                self.io_types.insert(to);
            }
        }
        // Aliases of aliases: iterate until nothing changes.
        let aliases = std::mem::take(&mut self.pending_aliases);
        loop {
            let mut changed = false;
            for (name, ty) in &aliases {
                if is_io_type(ty, self) && self.io_types.insert(name.clone()) {
                    changed = true;
                }
                if is_resumable_type(ty, self) && self.resumable_aliases.insert(name.clone()) {
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for (name, ret) in std::mem::take(&mut self.pending_fns) {
            let io = ret.as_ref().is_some_and(|t| is_resumable_type(t, self));
            let e = self.fns.entry(name).or_default();
            if io {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }

    /// Whether `name` is a type that spells an `IOResult`.
    pub fn is_io_type_name(&self, name: &str) -> bool {
        self.io_types.contains(name)
    }

    /// Whether `name` is an alias of `Result<IOResult<T>, E>`.
    pub fn is_resumable_alias(&self, name: &str) -> bool {
        self.resumable_aliases.contains(name)
    }

    /// Whether every function named `name` in the linted sources returns
    /// an `IOResult` (and there is at least one).
    pub fn always_returns_io(&self, name: &str) -> bool {
        self.fns
            .get(name)
            .is_some_and(|&(io, other)| io > 0 && other == 0)
    }

    /// Whether an enum named `name` is declared in the linted sources.
    pub fn is_enum(&self, name: &str) -> bool {
        self.enums.contains(name)
    }

    /// The `#[default]` variant of enum `name`, if it declares one.
    pub fn default_variant(&self, name: &str) -> Option<&str> {
        self.default_variants.get(name).map(|s| s.as_str())
    }
}

struct Collector<'a> {
    index: &'a mut Index,
}

fn ret_type(sig: &syn::Signature) -> Option<syn::Type> {
    match &sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, t) => Some((**t).clone()),
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        let name = e.ident.to_string();
        self.index.enums.insert(name.clone());
        if e.variants
            .iter()
            .any(|v| v.ident == "IO" || v.ident == "Io")
        {
            self.index.io_types.insert(name.clone());
        }
        for v in &e.variants {
            if v.attrs.iter().any(|a| a.path().is_ident("default")) {
                self.index
                    .default_variants
                    .insert(name.clone(), v.ident.to_string());
            }
        }
        syn::visit::visit_item_enum(self, e);
    }

    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        self.index
            .pending_aliases
            .push((t.ident.to_string(), (*t.ty).clone()));
        syn::visit::visit_item_type(self, t);
    }

    fn visit_use_rename(&mut self, r: &'ast syn::UseRename) {
        self.index
            .pending_renames
            .push((r.ident.to_string(), r.rename.to_string()));
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.index
            .pending_fns
            .push((f.sig.ident.to_string(), ret_type(&f.sig)));
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.index
            .pending_fns
            .push((f.sig.ident.to_string(), ret_type(&f.sig)));
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.index
            .pending_fns
            .push((f.sig.ident.to_string(), ret_type(&f.sig)));
        syn::visit::visit_trait_item_fn(self, f);
    }
}

/// The name of the type an `impl` block is for (`Pager` for `impl Pager`
/// and `impl<T> Foo for Pager<T>`).
pub fn impl_type_name(item: &syn::ItemImpl) -> Option<String> {
    last_segment(&item.self_ty).map(|s| s.ident.to_string())
}
