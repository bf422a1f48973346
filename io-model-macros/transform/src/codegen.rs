//! Phase 10: code generation. The state enum with its methods, and the
//! function rewritten as "take the state out of its place, go round
//! `loop { match state { .. } }` from arm to arm until the run suspends or
//! ends, put the state back". A state parameter that the body never names
//! is worked on where it is instead ([`state_stays`]), and arms whose variant
//! holds only plain data bind it by reference ([`crate::in_place`]).
//!
//! ```text
//! fn f(..) -> Result<IOResult<T>, E> {
//!     let mut __io_s = { <bind __io_p to the place>; <return at once if the
//!                        awaited completion is still pending>; take(__io_p) };
//!     let __io_ret = (|| -> Result<IOResult<T>, E> {
//!         let mut __io_m3 = None; ..          // carriers to merges
//!         '__io_dispatch: loop {
//!             match __io_s {                   // one arm per entry
//!                 FState::Idle => { __io_s = Poisoned; .. }
//!                 FState::Wait0 { .. } => {
//!                     let FState::Wait0 { n: __io_b0, __io_c } =
//!                         replace(&mut __io_s, Poisoned) else { unreachable!() };
//!                     ..
//!                 }
//!                 FState::__Merge0 => { __io_s = Poisoned; .. }
//!                 FState::__Poisoned => panic!(..),
//!             }
//!         }
//!     })();
//!     { <bind __io_p>; *__io_p = if poisoned { Idle } else { __io_s }; }
//!     __io_ret
//! }
//! ```

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::Ident;

use crate::args::StatePlace;
use crate::arms::{Arms, Code, CondCode, Entry, Jump, ResumeSink, JUMP};
use crate::conditions::{all_cfg, cfg_predicates, not_cfg};
use crate::errors::Errors;
use crate::in_place::InPlace;
use crate::ir::{Body, LocalId, LoopHeader, Param};
use crate::item::{Checked, FnInput};
use crate::layout::{Layout, Variant};
use crate::liveness::Liveness;
use crate::names::{carrier, dispatch, internal, slot, state};
use crate::points::{MarkerKind, Point, PointId};

/// Everything the generated code is made from.
pub struct Parts<'a> {
    pub checked: &'a Checked,
    pub points: &'a [Point],
    pub body: &'a Body,
    pub arms: &'a Arms,
    pub live: &'a Liveness,
    pub layout: &'a Layout,
    pub in_place: &'a InPlace,
}

fn cfg_attrs(attrs: &[syn::Attribute]) -> TokenStream {
    quote!(#(#attrs)*)
}

/// The enum, its trait impls and methods.
pub fn state_enum(p: &Parts) -> TokenStream {
    let l = p.layout;
    let name = &l.enum_name;
    let fn_name = &p.checked.input.sig.ident;
    let vis = &p.checked.input.vis;
    let variants = l.variants.iter().map(|v| {
        let pt = &p.points[v.point.0];
        let vname = &v.name;
        let holds: Vec<String> = v
            .fields
            .iter()
            .map(|f| format!("`{}: {}`", f.name, crate::layout::type_string(&f.ty)))
            .collect();
        let doc = format!(
            " Suspended at the `{}` on line {}{}.",
            pt.kind.macro_name(),
            pt.line,
            if holds.is_empty() {
                "; holds no locals".to_string()
            } else {
                format!("; holds {}", holds.join(", "))
            }
        );
        let fields = v.fields.iter().map(|f| {
            let fname = &f.name;
            let ty = &f.ty;
            let fdoc = &f.doc;
            let cfg = cfg_attrs(&f.cfg);
            quote!(#cfg #[doc = #fdoc] #fname: #ty,)
        });
        let completion = v.holds_completion.then(
            || quote!(#[doc = " The completion waited for."] __io_c: ::io_model::Completion,),
        );
        let run = p
            .in_place
            .at(v.point)
            .map(|_| quote!(#[doc(hidden)] __io_run: bool,));
        let cfg = cfg_attrs(&v.cfg);
        quote! {
            #cfg
            #[doc = #doc]
            #vname { #(#fields)* #completion #run },
        }
    });
    let merges = l.merges.iter().map(|m| {
        let mname = &m.name;
        let cfg = cfg_attrs(&m.cfg);
        quote!(#cfg #[doc(hidden)] #mname,)
    });
    let names = l.variants.iter().map(|v| {
        let vname = &v.name;
        let s = vname.to_string();
        let cfg = cfg_attrs(&v.cfg);
        // An arm that works in place leaves its variant flagged while it
        // runs: poisoned if a panic interrupts it.
        let running = p
            .in_place
            .at(v.point)
            .map(|_| quote!(#name::#vname { __io_run: true, .. } => "Poisoned",));
        quote!(#running #cfg #name::#vname { .. } => #s,)
    });
    let merge_names = l.merges.iter().map(|m| {
        let mname = &m.name;
        let cfg = cfg_attrs(&m.cfg);
        quote!(#cfg #name::#mname => "Running",)
    });
    let aborts = wait_variants(l).map(|v| {
        let vname = &v.name;
        let cfg = cfg_attrs(&v.cfg);
        quote!(#cfg #name::#vname { __io_c, .. } => ::io_model::Completion::abort(__io_c),)
    });
    let graph = crate::graph::dot(&fn_name.to_string(), p.points, p.arms, l);
    let graph_doc = format!(
        " The state graph of `{fn_name}` in Graphviz DOT: one node per state a run can rest \
         in (`Idle` and each suspension point, with its marker and line), the exits `Done` and \
         `Err`, and an edge wherever a run can go from one to the other. Render it with \
         `dot -Tsvg`."
    );
    let doc = format!(
        " The state of `{fn_name}` between calls: idle, or the suspension point it waits at with \
         the locals it holds there. Generated by `#[io_model::resumable]`."
    );
    quote! {
        #[doc = #doc]
        #[allow(private_interfaces, missing_docs, clippy::large_enum_variant, non_camel_case_types)]
        #vis enum #name {
            /// Not running: the next call starts a new run.
            Idle,
            #(#variants)*
            #(#merges)*
            #[doc(hidden)]
            __Poisoned,
        }

        #[automatically_derived]
        impl ::core::default::Default for #name {
            fn default() -> Self {
                #name::Idle
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.name())
            }
        }

        #[allow(dead_code)]
        impl #name {
            #[doc = #graph_doc]
            pub const GRAPH: &'static str = #graph;

            /// The name of the current state: `"Idle"`, a suspension point's
            /// variant, or `"Poisoned"` after a panic (or while a call runs).
            pub fn name(&self) -> &'static str {
                match self {
                    #name::Idle => "Idle",
                    #(#names)*
                    #(#merge_names)*
                    #name::__Poisoned => "Poisoned",
                }
            }

            /// Whether no run is in progress.
            pub fn is_idle(&self) -> bool {
                ::core::matches!(self, #name::Idle)
            }

            /// Abandons the current run: aborts the completion the state
            /// waits for, if any, drops the stored locals (in reverse order
            /// of declaration) and returns to idle.
            pub fn cancel(&mut self) {
                #[allow(unreachable_patterns)]
                match self {
                    #(#aborts)*
                    _ => {}
                }
                *self = #name::Idle;
            }
        }
    }
}

fn wait_variants(l: &Layout) -> impl Iterator<Item = &Variant> {
    l.variants.iter().filter(|v| v.holds_completion)
}

/// The rewritten function.
pub fn function(p: &Parts, errors: &mut Errors) -> TokenStream {
    let FnInput {
        attrs, vis, sig, ..
    } = &p.checked.input;
    let name = &p.layout.enum_name;
    let place = &p.checked.place;
    let ret = &p.checked.ret_ty;
    let out = internal("__io_ret");
    let pp = internal("__io_p");
    let fn_name = sig.ident.to_string();
    let s = state();
    let direct = state_stays(&p.checked.input);
    let st = if direct { quote!((*#s)) } else { quote!(#s) };
    let label = dispatch();
    // One arm for every wait variant (an or-pattern), one more for each
    // under `#[cfg]` (an alternative of a pattern takes no attribute).
    let peek_body = quote! {
        if let __io_rt::Some(__io_y) = __io_rt::pending(__io_c) {
            return __io_rt::suspended(__io_y);
        }
    };
    let (plain, cfgd): (Vec<&Variant>, Vec<&Variant>) =
        wait_variants(p.layout).partition(|v| v.cfg.is_empty());
    let plain_pats = plain.iter().map(|v| {
        let vname = &v.name;
        let idle = p.in_place.at(v.point).map(|_| quote!(__io_run: false,));
        quote!(#name::#vname { __io_c, #idle .. })
    });
    let plain_arm = (!plain.is_empty()).then(|| quote!(#(#plain_pats)|* => { #peek_body }));
    let cfgd_arms = cfgd.iter().map(|v| {
        let vname = &v.name;
        let cfg = cfg_attrs(&v.cfg);
        quote!(#cfg #name::#vname { __io_c, .. } => { #peek_body })
    });
    let peek = (wait_variants(p.layout).next().is_some()).then(|| {
        quote! {
            // Called again before the completion finished: nothing to do.
            #[allow(unreachable_patterns)]
            match &*#pp {
                #plain_arm
                #(#cfgd_arms)*
                _ => {}
            }
        }
    });
    // A carrier exists where some merge that uses it does (a merge under
    // `#[cfg]` may be all there is), so that it is always assigned.
    let carriers = p.layout.carried.iter().map(|id| {
        let c = carrier(*id);
        let mut conds: Vec<TokenStream> = Vec::new();
        let mut always = false;
        for arm in &p.arms.arms {
            if !matches!(arm.entry, Entry::After(_) | Entry::Head(_)) {
                continue;
            }
            if !p
                .live
                .live_in
                .get(&arm.entry)
                .is_some_and(|l| l.contains(id))
            {
                continue;
            }
            if cfg_predicates(&arm.cfg).next().is_none() {
                always = true;
            }
            conds.push(all_cfg(&arm.cfg));
        }
        let cfg = (!always && !conds.is_empty()).then(|| quote!(#[cfg(any(#(#conds),*))]));
        // Typed where the macro can read the type: under `#[cfg]`, the code
        // that stores the local first may not be compiled.
        let ty = p.body.locals[id.0]
            .ty
            .as_ref()
            .map(|t| quote!(: ::core::option::Option<#t>));
        quote!(#cfg let mut #c #ty = __io_rt::None;)
    });
    // Parameters that may be moved out of wait in carriers between arms.
    let params: Vec<LocalId> = (0..p.body.locals.len())
        .map(LocalId)
        .filter(|id| p.body.locals[id.0].param == Param::Carried)
        .collect();
    let param_carriers = params.iter().map(|id| {
        let c = carrier(*id);
        let ident = &p.body.locals[id.0].ident;
        quote!(let mut #c = __io_rt::Some(#ident);)
    });
    // One `match` on the state's place, the arms in flow order (type
    // inference reads them in that order): an arm whose variant holds
    // nothing writes only the poisoned tag, one that works in place binds
    // by reference, any other moves its variant out.
    let mut arms = Vec::new();
    let poisoned = poisoned_message(p);
    for arm in &p.arms.arms {
        let mut pr = Printer {
            p,
            arm: arm.entry,
            scopes: vec![Vec::new()],
            taken: BTreeSet::new(),
            st: st.clone(),
            own: in_place_point(p, arm.entry),
            errors,
        };
        let takes = pr.take_params(&params);
        let code = pr.code(&arm.code);
        let pat = arm_pattern(p, arm.entry);
        let cfg = cfg_attrs(&arm.cfg);
        match in_place_point(p, arm.entry) {
            Some(pt) => {
                // Bound by reference, the variant flagged while the arm runs.
                let v = &p.layout.variants[pt.0];
                let vname = &v.name;
                let fields = v.fields.iter().map(|f| {
                    let fname = &f.name;
                    let b = slot(f.local);
                    quote!(#fname: ref mut #b,)
                });
                let (c, cr, run) = (
                    internal("__io_c"),
                    internal("__io_cr"),
                    internal("__io_run"),
                );
                let (c, see) = if v.holds_completion {
                    (
                        quote!(__io_c: ref mut #cr,),
                        quote!(let #c: &::io_model::Completion = &*#cr;),
                    )
                } else {
                    (TokenStream::new(), TokenStream::new())
                };
                arms.push(quote! {
                    #cfg
                    #name::#vname { #(#fields)* #c __io_run: ref mut #run } => {
                        if *#run {
                            ::core::panic!(#poisoned);
                        }
                        *#run = true;
                        #see
                        #takes
                        #code
                    }
                });
            }
            None if holds_nothing(p, arm.entry) => arms.push(quote! {
                #cfg
                #pat => {
                    #st = #name::__Poisoned;
                    #takes
                    #code
                }
            }),
            None => {
                let any = any_pattern(p, arm.entry);
                arms.push(quote! {
                    #cfg
                    #any => {
                        let #pat = __io_rt::replace(&mut #st, #name::__Poisoned) else {
                            __io_rt::unreachable!()
                        };
                        #takes
                        #code
                    }
                });
            }
        }
    }
    // The states a call that ends leaves behind: poisoned, or a variant
    // whose arm worked in place and returned.
    let flagged = p
        .layout
        .variants
        .iter()
        .filter(|v| p.in_place.at(v.point).is_some())
        .map(|v| {
            let vname = &v.name;
            quote!(| #name::#vname { __io_run: true, .. })
        });
    let ended = quote!(#name::__Poisoned #(#flagged)*);
    let (outer, inner) = split_attrs(attrs);
    // The running state: moved out of its place and put back at the end,
    // or, when nothing else can reach the place while the body runs, worked
    // on where it is (no copy of the whole state on entry and return).
    let (take_state, put_state) = if direct {
        let take = quote! {
            let #s: &mut #name = {
                #place
                #peek
                #pp
            };
        };
        let put = quote! {
            // Done or an error: the next call starts a new run.
            if let #ended = *#s {
                *#s = #name::Idle;
            }
        };
        (take, put)
    } else {
        let take = quote! {
            let mut #s: #name = {
                #place
                #peek
                ::core::mem::replace(#pp, #name::__Poisoned)
            };
        };
        let put = quote! {{
            // Done, an error, or a suspension that set the next state.
            #place
            *#pp = match #s {
                #ended => #name::Idle,
                __io_next => __io_next,
            };
        }};
        (take, put)
    };
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            // The paths the code below repeats at every point, made short.
            #[allow(unused_imports)]
            use ::io_model::__private as __io_rt;
            #take_state
            __io_rt::trace_start!(__io_at, #st.name());
            #[allow(clippy::redundant_closure_call)]
            let #out: #ret = (|| -> #ret {
                #(#param_carriers)*
                #(#carriers)*
                #[allow(
                    unreachable_code,
                    unused_mut,
                    unused_variables,
                    unused_assignments,
                    unused_braces,
                    unused_parens,
                    unused_labels,
                    clippy::needless_return,
                    clippy::never_loop,
                    clippy::let_unit_value,
                    clippy::unused_unit,
                    clippy::needless_late_init
                )]
                #label: loop {
                    match #st {
                        #(#arms)*
                        #name::__Poisoned => ::core::panic!(#poisoned),
                    }
                }
            })();
            __io_rt::trace_end!(__io_at, #fn_name, &#out);
            #put_state
            #out
        }
    }
}

fn poisoned_message(p: &Parts) -> String {
    let sig = &p.checked.input.sig;
    let name = &p.layout.enum_name;
    format!(
        "`{}` was called again after a panic interrupted an earlier call (or while another call \
         on the same state is running), so its state `{}` is poisoned; call `.cancel()` on the \
         state (or reset it to `{}::default()`) to start a new run",
        sig.ident, name, name
    )
}

/// The pattern of an entry's variant, whatever it holds.
fn any_pattern(p: &Parts, e: Entry) -> TokenStream {
    let name = &p.layout.enum_name;
    match e {
        Entry::Point(pt) => {
            let vname = &p.layout.variants[pt.0].name;
            quote!(#name::#vname { .. })
        }
        _ => arm_pattern(p, e),
    }
}

/// Whether the variant an arm starts from holds nothing (idle, a merge,
/// a point with no locals and no completion).
fn holds_nothing(p: &Parts, e: Entry) -> bool {
    match e {
        Entry::Point(pt) => {
            let v = &p.layout.variants[pt.0];
            v.fields.is_empty() && !v.holds_completion
        }
        Entry::Idle | Entry::After(_) | Entry::Head(_) => true,
    }
}

/// The point of an arm that works on its variant in place.
fn in_place_point(p: &Parts, e: Entry) -> Option<PointId> {
    match e {
        Entry::Point(pt) => p.in_place.at(pt).map(|_| pt),
        _ => None,
    }
}

/// Whether the state can be worked on in its place: a parameter
/// `st: &mut FState` that the body never names (not even in a format
/// string's capture), so that holding `st` borrowed for the whole call is
/// invisible.
/// A field of `self` or a guard is moved out and put back instead: the body
/// may use `self` or take the lock.
fn state_stays(input: &FnInput) -> bool {
    let Some(state) = &input.args.state else {
        return false;
    };
    match &state.value {
        StatePlace::Param(name) => !crate::scan::mentions(&input.block, &name.to_string()),
        StatePlace::SelfField { .. } | StatePlace::Guard(_) => false,
    }
}

/// The pattern of an entry's arm in the dispatch `match`.
fn arm_pattern(p: &Parts, e: Entry) -> TokenStream {
    let name = &p.layout.enum_name;
    match e {
        Entry::Idle => quote!(#name::Idle),
        Entry::Point(pt) => {
            let v = &p.layout.variants[pt.0];
            let vname = &v.name;
            let fields = v.fields.iter().map(|f| {
                let fname = &f.name;
                let b = slot(f.local);
                let cfg = cfg_attrs(&f.cfg);
                quote!(#cfg #fname: #b,)
            });
            let c = v.holds_completion.then(|| {
                let c = internal("__io_c");
                quote!(__io_c: #c,)
            });
            quote!(#name::#vname { #(#fields)* #c })
        }
        Entry::After(_) | Entry::Head(_) => {
            let m = p
                .layout
                .merges
                .iter()
                .find(|m| m.entry == e)
                .map(|m| m.name.clone())
                .unwrap_or_else(|| internal("__BUG"));
            quote!(#name::#m)
        }
    }
}

/// An item's attributes: the outer ones (`#[..]`), written before it, and
/// the inner ones (`#![..]`), written at the top of its body.
pub fn split_attrs(attrs: &[syn::Attribute]) -> (Vec<&syn::Attribute>, Vec<&syn::Attribute>) {
    attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Outer))
}

struct Printer<'a, 'e> {
    p: &'a Parts<'a>,
    arm: Entry,
    /// The locals visible by name, innermost last, to check that a stored
    /// local is the one its name means where it is stored.
    scopes: Vec<Vec<(String, LocalId)>>,
    /// The parameters this arm took out of their carriers.
    taken: BTreeSet<LocalId>,
    /// Where the arms store the next state: `__io_s`, or `(*__io_s)` when
    /// the state stays in its place (see [`state_stays`]).
    st: TokenStream,
    /// The point of this arm, if it works on its variant in place: the
    /// fields are bound by reference (see [`crate::in_place`]).
    own: Option<PointId>,
    errors: &'e mut Errors,
}

/// `{ inner }`, taking the tokens as they are (`quote!({ #inner })` would
/// copy them).
fn braces(inner: TokenStream) -> TokenTree {
    TokenTree::Group(proc_macro2::Group::new(
        proc_macro2::Delimiter::Brace,
        inner,
    ))
}

fn take(c: &Ident) -> TokenStream {
    quote!(__io_rt::carried(&mut #c))
}

impl Printer<'_, '_> {
    /// Takes the parameters this arm uses out of their carriers.
    fn take_params(&mut self, params: &[LocalId]) -> TokenStream {
        let live = self.p.live.live_in.get(&self.arm);
        let mentioned = self.p.live.mentioned.get(&self.arm);
        let mut out = TokenStream::new();
        for id in params {
            let used =
                live.is_some_and(|l| l.contains(id)) || mentioned.is_some_and(|m| m.contains(id));
            if !used {
                // Not used after the point or merge this arm starts at:
                // dropped here, as a local would be (an unused parameter
                // lives to the end of the call).
                if self.arm != Entry::Idle {
                    let c = carrier(*id);
                    out.extend(quote!(#c = __io_rt::None;));
                }
                continue;
            }
            let local = &self.p.body.locals[id.0];
            let ident = &local.ident;
            let mutability = local.mutable.then(|| quote!(mut));
            let source = take(&carrier(*id));
            out.extend(quote!(let #mutability #ident = #source;));
            self.taken.insert(*id);
            self.declare(*id);
        }
        out
    }

    /// Puts back the parameters the arm took that `e` needs.
    fn put_params(&self, e: Entry) -> TokenStream {
        let live = self.p.live.live_in.get(&e);
        let puts = self
            .taken
            .iter()
            .filter(|id| live.is_some_and(|l| l.contains(id)))
            .map(|id| {
                let c = carrier(*id);
                let ident = &self.p.body.locals[id.0].ident;
                quote!(#c = __io_rt::Some(#ident);)
            });
        quote!(#(#puts)*)
    }

    fn declare(&mut self, id: LocalId) {
        let name = self.p.body.locals[id.0].ident.to_string();
        self.scopes
            .last_mut()
            .expect("BUG: no scope")
            .push((name, id));
    }

    fn visible(&self, id: LocalId) -> bool {
        let name = self.p.body.locals[id.0].ident.to_string();
        for scope in self.scopes.iter().rev() {
            if let Some((_, found)) = scope.iter().rev().find(|(n, _)| *n == name) {
                return *found == id;
            }
        }
        false
    }

    fn live_in(&self, e: Entry) -> Vec<LocalId> {
        self.p
            .live
            .live_in
            .get(&e)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Checks that the locals a jump moves are the ones their names mean.
    fn check_visible(&mut self, ids: &[LocalId], point: Option<PointId>) {
        for id in ids {
            if self.visible(*id) {
                continue;
            }
            let local = &self.p.body.locals[id.0];
            // A binding under `#[cfg]` may be the one its name means, or
            // not, depending on the configuration: both are stored.
            if local.internal || !local.cfg.is_empty() {
                continue;
            }
            let name = &local.ident;
            let at = match point {
                Some(pt) => {
                    let pt = &self.p.points[pt.0];
                    format!("the `{}` at line {}", pt.kind.macro_name(), pt.line)
                }
                None => "a suspension point".to_string(),
            };
            self.errors.push(
                name.span(),
                format!(
                    "`{name}` is needed after {at}, but another `{name}` shadows it there, so it \
                     cannot be stored in the state; rename one of the two"
                ),
            );
        }
    }

    fn code(&mut self, c: &Code) -> TokenStream {
        match c {
            Code::Block {
                restores,
                binds,
                items,
                label,
                unsafety,
                attrs,
            } => {
                self.scopes.push(Vec::new());
                for b in binds {
                    self.declare(*b);
                }
                let (restores, kept) = self.restores(restores, items);
                let body = self.items(items);
                self.scopes.pop();
                let label = label.as_ref().map(|(_, l)| quote!(#l:));
                let unsafety = unsafety.then(|| quote!(unsafe));
                let mut inner = restores;
                inner.extend(body);
                if !kept.is_empty() {
                    // The arrays left in the state, used where they are.
                    inner = crate::in_place::rewrite(inner, &kept);
                }
                let inner = braces(inner);
                quote!(#(#attrs)* #label #unsafety #inner)
            }
            Code::Seq(items) => self.items(items),
            Code::Leaf {
                stmt, info, jumps, ..
            } => {
                let tokens = self.leaf_tokens(stmt, jumps);
                for d in &info.defs {
                    self.declare(*d);
                }
                tokens
            }
            Code::If {
                attrs,
                cond,
                then,
                els,
            } => self.if_code(attrs, cond, then, els.as_deref()),
            Code::Match { attrs, scrut, arms } => {
                let scrut = self.cond(scrut);
                let arms: Vec<TokenStream> = arms
                    .iter()
                    .map(|arm| {
                        let attrs = &arm.attrs;
                        let pat = &arm.pat;
                        let guard = arm.guard.as_ref().map(|(g, _)| quote!(if #g));
                        let body = self.code(&arm.body);
                        quote!(#(#attrs)* #pat #guard => #body)
                    })
                    .collect();
                quote!(#(#attrs)* match #scrut { #(#arms)* })
            }
            Code::Loop {
                attrs,
                label,
                header,
                body,
                ..
            } => {
                let body = self.braced(body);
                match header {
                    LoopHeader::Loop => quote!(#(#attrs)* #label: loop #body),
                    LoopHeader::While { cond, .. } => quote!(#(#attrs)* #label: while #cond #body),
                    LoopHeader::For { pat, expr, .. } => {
                        quote!(#(#attrs)* #label: for #pat in #expr #body)
                    }
                }
            }
            Code::Exit { label, body, .. } => {
                let body = self.braced(body);
                quote!(#label: #body;)
            }
            Code::LetElse {
                attrs,
                pat,
                init,
                defs,
                diverge,
                ..
            } => {
                let diverge = self.braced(diverge);
                for d in defs {
                    self.declare(*d);
                }
                quote!(#(#attrs)* let #pat = #init else #diverge;)
            }
            Code::Goto(e) => self.goto(*e, None),
            Code::Arrive(pt) => self.arrive(*pt),
            Code::Resume { point, sink } => {
                let value = self.resumed(*point);
                match sink {
                    ResumeSink::Discard { .. } => quote!(#value;),
                    ResumeSink::Let {
                        attrs,
                        pat,
                        defs,
                        diverge,
                    } => {
                        let (value, diverge) = match diverge {
                            // `let PAT = match .. {..} else {..}` does not parse.
                            Some(d) => {
                                let d = self.braced(d);
                                (quote!((#value)), Some(quote!(else #d)))
                            }
                            None => (value, None),
                        };
                        for d in defs {
                            self.declare(*d);
                        }
                        quote!(#(#attrs)* let #pat = #value #diverge;)
                    }
                    ResumeSink::Assign { place, op, .. } => quote!(#place #op #value;),
                }
            }
            Code::Return(e, _) => quote!(return #e;),
            Code::Cfg {
                attrs, body, els, ..
            } => {
                let body = self.braced(body);
                let els = els.as_deref().map(|e| {
                    let not = not_cfg(attrs);
                    let e = self.braced(e);
                    quote!(#not #e)
                });
                quote!(#(#attrs)* #body #els)
            }
        }
    }

    /// Code as a block: `{ .. }`.
    fn braced(&mut self, c: &Code) -> TokenStream {
        match c {
            Code::Block { .. } => self.code(c),
            other => {
                self.scopes.push(Vec::new());
                let inner = self.code(other);
                self.scopes.pop();
                braces(inner).into()
            }
        }
    }

    fn if_code(
        &mut self,
        attrs: &[syn::Attribute],
        cond: &CondCode,
        then: &Code,
        els: Option<&Code>,
    ) -> TokenStream {
        let cond = self.cond(cond);
        let then = self.braced(then);
        let els = els.map(|e| match e {
            Code::If {
                attrs,
                cond,
                then,
                els,
            } => {
                let inner = self.if_code(attrs, cond, then, els.as_deref());
                quote!(else #inner)
            }
            other => {
                let b = self.braced(other);
                quote!(else #b)
            }
        });
        quote!(#(#attrs)* if #cond #then #els)
    }

    fn cond(&mut self, c: &CondCode) -> TokenStream {
        match c {
            CondCode::Plain(e, _) => e.to_token_stream(),
            CondCode::Resume(pt) => self.resumed(*pt),
            CondCode::LetResume(pat, pt) => {
                let v = self.resumed(*pt);
                quote!(let #pat = #v)
            }
        }
    }

    /// Statements of one scope; a tail expression that code follows gets
    /// its `;`.
    fn items(&mut self, items: &[Code]) -> TokenStream {
        let mut flat = Vec::new();
        flatten(items, &mut flat);
        let n = flat.len();
        let mut out = TokenStream::new();
        // A `let x;` whose local the rest of its scope never touches is left
        // out: its type could not be inferred (a carrier declared before the
        // arm jumps away, say). What the statements after each one touch is
        // computed once per scope, and only if it has such a declaration.
        let after: Option<Vec<BTreeSet<LocalId>>> =
            flat.iter().any(|c| bare_declaration(c).is_some()).then(|| {
                let mut acc = BTreeSet::new();
                let mut after = vec![acc.clone()];
                for item in flat.iter().rev() {
                    acc.extend(crate::liveness::touches(self.p.body, self.p.points, item));
                    after.push(acc.clone());
                }
                after.reverse();
                after
            });
        for (i, item) in flat.iter().enumerate() {
            if let (Some(defs), Some(after)) = (bare_declaration(item), &after) {
                if !defs.iter().any(|d| after[i + 1].contains(d)) {
                    continue;
                }
                if let [d] = defs {
                    // Declared only where the code that uses it is compiled.
                    let only = self.mention_cfg(&flat[i + 1..], *d);
                    out.extend(cfg_attrs(&only));
                }
            }
            let t = self.code(item);
            out.extend(t);
            if i + 1 < n {
                if let Code::Leaf { stmt, .. } = item {
                    if let syn::Stmt::Expr(_, None) = **stmt {
                        out.extend(quote!(;));
                    }
                }
                if matches!(item, Code::Goto(_) | Code::Arrive(_)) {
                    // Unreachable code may follow a jump; it is allowed.
                }
            }
        }
        out
    }

    /// The restores of a scope, and the arrays it uses in place (by name,
    /// with the place each is kept in).
    fn restores(
        &mut self,
        ids: &[LocalId],
        items: &[Code],
    ) -> (TokenStream, BTreeMap<String, TokenStream>) {
        let p = self.p;
        let kept_here = self.own.and_then(|pt| p.in_place.at(pt));
        let mut kept = BTreeMap::new();
        let none = BTreeSet::new();
        let live = p.live.live_in.get(&self.arm).unwrap_or(&none);
        let mentioned = p.live.mentioned.get(&self.arm).unwrap_or(&none);
        let mut out = TokenStream::new();
        // What the arm's jumps and points move on, read once, and only
        // where a `#[cfg]` makes liveness differ by configuration.
        let stored_here = std::cell::OnceCell::new();
        for id in ids {
            if !p.live.by_configuration && !live.contains(id) && !mentioned.contains(id) {
                // In scope, but not needed here.
                continue;
            }
            let local = &self.p.body.locals[id.0];
            let ident = &local.ident;
            let mutability = local.mutable.then(|| quote!(mut));
            // Live only in some configurations: restored only there.
            let only = p.live.only_where(self.arm, *id);
            let mut cfg = cfg_attrs(&local.cfg);
            cfg.extend(only.map(|a| quote!(#a)));
            // Code that is compiled where the local is dead is not reached
            // there (it follows a statement that diverges under `#[cfg]`),
            // but it still names the local: there the local is declared,
            // with the type it is stored as, and never assigned.
            let named = || {
                mentioned.contains(id)
                    || stored_here
                        .get_or_init(|| self.stored_in(items))
                        .contains(id)
            };
            let unreached = match (live.contains(id), only) {
                (true, Some(only)) if named() => {
                    Some(cfg_attrs(&[not_cfg(std::slice::from_ref(only))]))
                }
                (false, _) if p.live.by_configuration && !mentioned.contains(id) && named() => {
                    Some(TokenStream::new())
                }
                _ => None,
            };
            let mut declared = false;
            if let Some((extra, ty)) = unreached.and_then(|u| Some((u, self.stored_type(*id)?))) {
                let local_cfg = cfg_attrs(&local.cfg);
                out.extend(quote!(#local_cfg #extra let #mutability #ident: #ty;));
                declared = true;
            }
            if live.contains(id) && kept_here.is_some_and(|k| k.contains(id)) {
                let b = slot(*id);
                kept.insert(ident.to_string(), quote!(*#b));
            } else if live.contains(id) {
                // Bound by reference where the arm works in place.
                let deref = self.own.map(|_| quote!(*));
                let source = match self.arm {
                    Entry::Point(pt) if self.p.layout.variants[pt.0].rebuilt.contains(id) => {
                        // A counted loop's iterator, rebuilt from its
                        // variable (which this arm's pattern binds).
                        let c = local.counted.as_ref().expect("a counted loop");
                        let var = slot(c.var);
                        let end = &c.end;
                        quote!(((#deref #var + 1)..#end))
                    }
                    Entry::Point(_) => {
                        let b = slot(*id);
                        quote!(#deref #b)
                    }
                    _ => take(&carrier(*id)),
                };
                out.extend(quote!(#cfg let #mutability #ident = #source;));
            } else if mentioned.contains(id) {
                // Assigned before any use in this arm (a deferred
                // initialization, or a value overwritten whole).
                let ty = local.declared_ty.as_ref().map(|t| quote!(: #t));
                // Untyped, it is declared only where the code that uses it
                // is compiled: elsewhere its type could not be inferred.
                let only = match ty {
                    None => {
                        let mut flat = Vec::new();
                        flatten(items, &mut flat);
                        cfg_attrs(&self.mention_cfg(&flat, *id))
                    }
                    Some(_) => TokenStream::new(),
                };
                out.extend(quote!(#cfg #only let #mutability #ident #ty;));
            } else if !declared {
                continue;
            }
            self.declare(*id);
        }
        (out, kept)
    }

    /// The type `id` is stored as, or else the one it was declared with.
    fn stored_type(&self, id: LocalId) -> Option<syn::Type> {
        let stored = self.p.layout.variants.iter().flat_map(|v| &v.fields);
        stored
            .filter(|f| f.local == id)
            .map(|f| f.ty.clone())
            .next()
            .or_else(|| self.p.body.locals[id.0].ty.clone())
    }

    /// The `#[cfg]`s under which every use of `id` in `flat` lies: those
    /// common to the branches of the `Code::Cfg`s the uses sit in.
    fn mention_cfg(&self, flat: &[&Code], id: LocalId) -> Vec<syn::Attribute> {
        // A jump that carries the local to a merge (or stores it at a
        // point) uses it too, wherever it stands.
        let touches = |c: &Code| {
            crate::liveness::touches(self.p.body, self.p.points, c).contains(&id)
                || self.carries(c, id)
        };
        let mut common: Option<Vec<syn::Attribute>> = None;
        for user in flat.iter().copied().filter(|c| touches(c)) {
            let own = self.use_cfg(user, id, &touches);
            common = Some(match common {
                None => own,
                Some(c) => c
                    .into_iter()
                    .filter(|a| own.iter().any(|o| same(a, o)))
                    .collect(),
            });
            if common.as_ref().is_some_and(|c| c.is_empty()) {
                break;
            }
        }
        common.unwrap_or_default()
    }

    /// Every local a jump or a suspension point in `items` moves on.
    fn stored_in(&self, items: &[Code]) -> BTreeSet<LocalId> {
        let mut out = BTreeSet::new();
        for item in items {
            crate::arms::visit(item, &mut |c| match c {
                Code::Goto(e @ (Entry::After(_) | Entry::Head(_))) => {
                    out.extend(self.p.live.live_in.get(e).into_iter().flatten().copied())
                }
                Code::Goto(Entry::Point(pt)) | Code::Arrive(pt) => {
                    out.extend(self.p.layout.variants[pt.0].fields.iter().map(|f| f.local))
                }
                _ => {}
            });
        }
        out
    }

    /// Whether a jump or a suspension point inside `c` moves `id` on.
    fn carries(&self, c: &Code, id: LocalId) -> bool {
        let mut found = false;
        crate::arms::visit(c, &mut |c| {
            found |= match c {
                Code::Goto(e @ (Entry::After(_) | Entry::Head(_))) => {
                    self.p.live.live_in.get(e).is_some_and(|l| l.contains(&id))
                }
                Code::Goto(Entry::Point(pt)) | Code::Arrive(pt) => self.p.layout.variants[pt.0]
                    .fields
                    .iter()
                    .any(|f| f.local == id),
                _ => false,
            };
        });
        found
    }

    /// The `#[cfg]`s under which every use of `id` inside `c` lies.
    fn use_cfg(
        &self,
        c: &Code,
        id: LocalId,
        touches: &dyn Fn(&Code) -> bool,
    ) -> Vec<syn::Attribute> {
        let within = |codes: Vec<&Code>| {
            let mut flat = Vec::new();
            for code in codes {
                flatten(std::slice::from_ref(code), &mut flat);
            }
            self.mention_cfg(&flat, id)
        };
        match c {
            Code::Cfg {
                attrs, body, els, ..
            } => match (touches(body), els.as_deref().filter(|e| touches(e))) {
                (true, None) => attrs.iter().cloned().chain(within(vec![body])).collect(),
                (false, Some(e)) => std::iter::once(not_cfg(attrs))
                    .chain(within(vec![e]))
                    .collect(),
                _ => Vec::new(),
            },
            Code::Block { items, .. } | Code::Seq(items) => within(items.iter().collect()),
            Code::Exit { body, .. } => within(vec![body]),
            // The branches that use it, if the condition does not.
            Code::If {
                cond, then, els, ..
            } if !cond_mentions(cond, id) => {
                within(std::iter::once(&**then).chain(els.as_deref()).collect())
            }
            Code::Match { scrut, arms, .. }
                if !cond_mentions(scrut, id)
                    && !arms
                        .iter()
                        .any(|a| a.guard.as_ref().is_some_and(|(_, i)| info_mentions(i, id))) =>
            {
                within(arms.iter().map(|a| &a.body).collect())
            }
            _ => Vec::new(),
        }
    }

    /// The statements that move `ids` into the variant of `pt`.
    fn variant_value(&mut self, pt: PointId, completion: Option<TokenStream>) -> TokenStream {
        let v = &self.p.layout.variants[pt.0];
        let name = &self.p.layout.enum_name;
        let vname = &v.name;
        let ids: Vec<LocalId> = v.fields.iter().map(|f| f.local).collect();
        self.check_visible(&ids, Some(pt));
        let fields = v.fields.iter().map(|f| {
            let fname = &f.name;
            let src = &self.p.body.locals[f.local.0].ident;
            let cfg = cfg_attrs(&f.cfg);
            quote!(#cfg #fname: #src,)
        });
        let c = completion.map(|c| quote!(__io_c: #c,));
        let run = self.p.in_place.at(pt).map(|_| quote!(__io_run: false,));
        quote!(#name::#vname { #(#fields)* #c #run })
    }

    /// Stores the variant of `pt`: the whole value, or, in an arm that
    /// works in place on the same variant, the fields that are not left
    /// where they are.
    fn store(&mut self, pt: PointId, completion: Option<TokenStream>) -> TokenStream {
        if self.own != Some(pt) {
            let v = self.variant_value(pt, completion);
            let st = &self.st;
            return quote!(#st = #v;);
        }
        let v = &self.p.layout.variants[pt.0];
        let ids: Vec<LocalId> = v.fields.iter().map(|f| f.local).collect();
        self.check_visible(&ids, Some(pt));
        let kept = self.p.in_place.at(pt);
        let fields = v
            .fields
            .iter()
            .filter(|f| !kept.is_some_and(|k| k.contains(&f.local)))
            .map(|f| {
                let b = slot(f.local);
                let src = &self.p.body.locals[f.local.0].ident;
                quote!(*#b = #src;)
            });
        let (cr, run) = (internal("__io_cr"), internal("__io_run"));
        let c = completion.map(|c| quote!(*#cr = #c;));
        quote!(#(#fields)* #c *#run = false;)
    }

    /// Jumps to a merge, or (through its variant) to a point's arm.
    fn goto(&mut self, e: Entry, kill: Option<LocalId>) -> TokenStream {
        let st = self.st.clone();
        let label = dispatch();
        let name = &self.p.layout.enum_name;
        match e {
            Entry::After(_) | Entry::Head(_) => {
                // A carrier the jump sets (`kill`) travels on like the rest.
                let _ = kill;
                let ids: Vec<LocalId> = self
                    .live_in(e)
                    .into_iter()
                    .filter(|id| self.p.body.locals[id.0].param == Param::No)
                    .collect();
                self.check_visible(&ids, None);
                let params = self.put_params(e);
                let stores = ids.iter().map(|id| {
                    let c = carrier(*id);
                    let local = &self.p.body.locals[id.0];
                    let src = &local.ident;
                    let store = quote!(#c = __io_rt::Some(#src););
                    let only = self.p.live.only_where(e, *id);
                    if local.cfg.is_empty() && only.is_none() {
                        store
                    } else {
                        let mut cfg = cfg_attrs(&local.cfg);
                        cfg.extend(only.map(|a| quote!(#a)));
                        quote!(#cfg { #store })
                    }
                });
                let pat = arm_pattern(self.p, e);
                quote!({ #(#stores)* #params #st = #pat; continue #label; })
            }
            Entry::Point(pt) => {
                let store = self.store(pt, None);
                let params = self.put_params(e);
                let _ = name;
                quote!({ #params #store continue #label; })
            }
            Entry::Idle => quote!({ continue #label; }),
        }
    }

    /// The tracing of a transition to `pt` (nothing without the feature).
    fn trace_to(&self, pt: PointId) -> TokenStream {
        let f = self.p.checked.input.sig.ident.to_string();
        let to = self.p.layout.variants[pt.0].name.to_string();
        let line = self.p.points[pt.0].line;
        quote!(__io_rt::trace_to!(__io_at, #f, #to, #line);)
    }

    fn arrive(&mut self, pt: PointId) -> TokenStream {
        let mut inner = self.trace_to(pt);
        inner.extend(self.arrive_code(pt));
        braces(inner).into()
    }

    fn arrive_code(&mut self, pt: PointId) -> TokenStream {
        let point = &self.p.points[pt.0];
        let label = dispatch();
        let c = internal("__io_c");
        match point.kind {
            MarkerKind::Wait | MarkerKind::WaitAll => {
                let operand = point.operand.as_ref();
                let span = point.span;
                let init = if point.kind == MarkerKind::WaitAll {
                    quote_spanned!(span=> ::io_model::__private::group_all(#operand))
                } else {
                    let op_span = operand.map_or(span, syn::spanned::Spanned::span);
                    quote_spanned!(op_span=> ::io_model::__private::waitable(#operand))
                };
                // The variant is built once; a completion that has not
                // finished is handed to the caller, one that has goes round
                // the dispatch loop.
                let store = self.store(pt, Some(quote!(#c)));
                let params = self.put_params(Entry::Point(pt));
                let y = internal("__io_y");
                quote! {{
                    let #c = #init;
                    let #y = __io_rt::pending(&#c);
                    #store
                    if let __io_rt::Some(#y) = #y {
                        return __io_rt::suspended(#y);
                    }
                    #params
                    continue #label;
                }}
            }
            MarkerKind::Call => self.goto(Entry::Point(pt), None),
            MarkerKind::Yield => {
                let store = self.store(pt, None);
                quote! {{
                    #store
                    return __io_rt::yielded();
                }}
            }
        }
    }

    /// The value of the marker the arm resumes at.
    fn resumed(&mut self, pt: PointId) -> TokenStream {
        let point = &self.p.points[pt.0];
        let span = point.span;
        let e = internal("__io_e");
        let c = internal("__io_c");
        match point.kind {
            MarkerKind::Wait | MarkerKind::WaitAll => {
                let ret_span = self.p.checked.ret_span;
                let convert =
                    quote_spanned!(ret_span=> ::io_model::__private::completion_error(#e));
                quote! {{
                    if let __io_rt::Some(#e) = __io_rt::Completion::get_error(&#c) {
                        return __io_rt::Err(#convert);
                    }
                }}
            }
            MarkerKind::Yield => quote!(()),
            MarkerKind::Call => {
                let operand = point.operand.as_ref();
                let v = internal("__io_v");
                let io = internal("__io_io");
                let again = self.store(pt, None);
                // The operand's type is checked at the marker: "expected
                // `Result<IOResult<_>, _>`".
                let done = quote_spanned!(span=> ::core::result::Result::Ok(::io_model::IOResult::Done(#v)));
                let pending = quote_spanned!(span=> ::core::result::Result::Ok(::io_model::IOResult::IO(#io)));
                let failed = quote_spanned!(span=> ::core::result::Result::Err(#e));
                let op_span = operand.map_or(span, syn::spanned::Spanned::span);
                let operand = quote_spanned!(op_span=> ::io_model::__private::operation(#operand));
                // An error type that does not convert is reported at the marker.
                let convert = quote_spanned!(span=> ::io_model::__private::operation_error(#e));
                quote! {
                    match #operand {
                        #done => #v,
                        #pending => {
                            #again
                            return __io_rt::Ok(__io_rt::IOResult::IO(#io));
                        }
                        #failed => return __io_rt::Err(#convert),
                    }
                }
            }
        }
    }

    /// A leaf's tokens with its rewritten jumps filled in.
    fn leaf_tokens(&mut self, stmt: &syn::Stmt, jumps: &[Jump]) -> TokenStream {
        let tokens = stmt.to_token_stream();
        if !jumps.iter().any(|j| matches!(j, Jump::Goto(..))) {
            return tokens;
        }
        let mut gotos = BTreeMap::new();
        for (i, j) in jumps.iter().enumerate() {
            if let Jump::Goto(e, kill) = j {
                gotos.insert(i, (*e, *kill));
            }
        }
        self.fill(tokens, &gotos)
    }

    fn fill(
        &mut self,
        tokens: TokenStream,
        gotos: &BTreeMap<usize, (Entry, Option<LocalId>)>,
    ) -> TokenStream {
        let mut out = Vec::new();
        let mut iter = tokens.into_iter().peekable();
        while let Some(tt) = iter.next() {
            match tt {
                TokenTree::Ident(i) if i == JUMP => {
                    let _bang = iter.next();
                    let Some(TokenTree::Group(g)) = iter.next() else {
                        continue;
                    };
                    let k: usize = g.stream().to_string().trim().parse().unwrap_or(usize::MAX);
                    let code = match gotos.get(&k) {
                        Some((e, kill)) => self.goto(*e, *kill),
                        None => quote!(::core::compile_error!(
                            "BUG: io-model's #[resumable] lost a jump; please report this with the function"
                        )),
                    };
                    out.extend(code);
                }
                TokenTree::Group(g) => {
                    let inner = self.fill(g.stream(), gotos);
                    let mut ng = proc_macro2::Group::new(g.delimiter(), inner);
                    ng.set_span(g.span());
                    out.push(TokenTree::Group(ng));
                }
                other => out.push(other),
            }
        }
        out.into_iter().collect()
    }
}

/// Whether two attributes are written the same.
fn same(a: &syn::Attribute, b: &syn::Attribute) -> bool {
    crate::arms::same_attrs(std::slice::from_ref(a), std::slice::from_ref(b))
}

/// Whether a leaf reads, declares or assigns `id`.
fn info_mentions(info: &crate::ir::LeafInfo, id: LocalId) -> bool {
    [&info.uses, &info.defs, &info.assigns, &info.kills]
        .iter()
        .any(|s| s.contains(&id))
}

/// Whether a condition or scrutinee reads or assigns `id`.
fn cond_mentions(c: &CondCode, id: LocalId) -> bool {
    match c {
        CondCode::Plain(_, info) => info_mentions(info, id),
        CondCode::Resume(_) | CondCode::LetResume(..) => false,
    }
}

/// The locals of a `let x;` (no value, no type), if `c` is one.
fn bare_declaration(c: &Code) -> Option<&[LocalId]> {
    let Code::Leaf { stmt, info, .. } = c else {
        return None;
    };
    match &**stmt {
        syn::Stmt::Local(l) if l.init.is_none() && !matches!(l.pat, syn::Pat::Type(_)) => {
            Some(&info.defs)
        }
        _ => None,
    }
}

fn flatten<'c>(items: &'c [Code], out: &mut Vec<&'c Code>) {
    for i in items {
        match i {
            Code::Seq(inner) => flatten(inner, out),
            other => out.push(other),
        }
    }
}

/// The stand-in emitted when the function has errors: its signature with a
/// body that is never run, and the enum with its idle variant, so that the
/// user sees the real errors and not a cascade of missing names.
pub fn fallback(input: &FnInput, enum_name: &Ident) -> TokenStream {
    let state = stand_in_enum(&input.vis, enum_name);
    let func = stand_in_fn(input);
    quote!(#state #func)
}

/// The state enum of a function that has errors: its `Idle` variant and
/// the methods the real one has, so the user's uses of it still resolve.
pub fn stand_in_enum(vis: &syn::Visibility, enum_name: &Ident) -> TokenStream {
    quote! {
        #[allow(private_interfaces, missing_docs, dead_code)]
        #[derive(Default, Debug)]
        #vis enum #enum_name {
            #[default]
            Idle,
        }
        #[allow(dead_code)]
        impl #enum_name {
            pub fn name(&self) -> &'static str { "Idle" }
            pub fn is_idle(&self) -> bool { true }
            pub fn cancel(&mut self) {}
        }
    }
}

/// A function that has errors: its signature and a body that is never
/// run. Where the signature is sound, the body is the user's own, with the
/// markers standing for values of the right types: the items and locals
/// the body uses stay used (so `#![deny(warnings)]` adds no error of its
/// own), and the user sees the attribute's error alone.
pub fn stand_in_fn(input: &FnInput) -> TokenStream {
    let FnInput { attrs, vis, .. } = input;
    let sig = stand_in_signature(&input.sig);
    let (outer, inner) = split_attrs(attrs);
    // Sound: the signature checks pass and every marker stands where a
    // value of its type may (a misplaced marker's stand-in could itself
    // fail to compile there).
    let mut check = Errors::default();
    let sound = crate::item::check(input.clone(), &mut check).is_some() && check.is_empty() && {
        let mut block = input.block.clone();
        crate::points::Finder::new(&mut check).run(&mut block);
        check.is_empty()
    };
    let body = if sound {
        let stmts = &input.block.stmts;
        quote! {
            #[allow(unused_macros)]
            macro_rules! wait {
                ($l:ident => $e:expr) => { ::io_model::__private::stand_in_wait($e) };
                ($e:expr) => { ::io_model::__private::stand_in_wait($e) };
                ($($t:tt)*) => { () };
            }
            #[allow(unused_macros)]
            macro_rules! wait_all {
                ($l:ident => $e:expr) => { ::io_model::__private::stand_in_wait_all($e) };
                ($e:expr) => { ::io_model::__private::stand_in_wait_all($e) };
                ($($t:tt)*) => { () };
            }
            #[allow(unused_macros)]
            macro_rules! call {
                ($l:ident => $e:expr) => { ::io_model::__private::stand_in_call($e) };
                ($e:expr) => { ::io_model::__private::stand_in_call($e) };
                ($($t:tt)*) => { ::core::unreachable!() };
            }
            #[allow(unused_macros)]
            macro_rules! yield_now {
                ($($t:tt)*) => { () };
            }
            #(#stmts)*
        }
    } else {
        quote!(::core::unreachable!("this function did not compile"))
    };
    quote! {
        #(#outer)*
        #[allow(
            unused_variables,
            unused_mut,
            unused_assignments,
            unreachable_code,
            dead_code,
            clippy::diverging_sub_expression
        )]
        #vis #sig {
            #(#inner)*
            #body
        }
    }
}

/// The signature of a stand-in body: `const` and `async` dropped, so the
/// stand-in itself adds no error.
pub fn stand_in_signature(sig: &syn::Signature) -> syn::Signature {
    let mut sig = sig.clone();
    sig.constness = None;
    sig.asyncness = None;
    sig
}
