//! The analysis of one function: a forward walk over its body that follows
//! every path, carrying the side effects that ran since the state last
//! changed, and reports those that reach a yield point.
//!
//! # The model
//!
//! A function returning `Result<IOResult<T>>` that returns `IO` is called
//! again from its top. What it runs again is the code on the path from its
//! entry (or from the `match` on its state that routes the call, the
//! *dispatch*) to the yield point, unless the path changed the state in
//! between (a *transition*), which routes the next call elsewhere. So the
//! walk carries a [`Fact`]:
//!
//! - `pending`: side effects since the last transition, each with the
//!   yield sites the path had already passed when it ran (re-entry resumes
//!   at the first of those, so an effect after one of them does not run
//!   again before it);
//! - `passed`: the yield sites passed on the path (their call returned
//!   `Done` and the path went on);
//! - `resets`: writes of a final or reset variant into the state not yet
//!   followed by another transition;
//! - `flipped`: once-guards (`if x.is_none() { x = Some(..) }`) whose
//!   condition the path has already turned false: what runs inside them
//!   does not run again;
//! - `routed`: a transition happened inside an arm of a dispatch: re-entry
//!   goes to another arm, so later effects in this arm do not run again.
//!
//! Paths join at the end of `if`/`match` and loop heads (loops are walked
//! until the head's fact stops changing). At a dispatch inside a loop,
//! effects from earlier iterations are dropped: re-entry re-does only the
//! arm it is routed to. Closures are not walked, except those called at
//! once (`(|| ..)()`, where a `return` leaves the closure) and those passed
//! to iterator adapters (`for_each`, `map`, ..), whose effects count where
//! the call is.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::finding::{Finding, Kind, Loc, YieldPoint};
use crate::places::{call_path_name, peel, place_of, places_read, source_place_of, Place};
use crate::signature::last_segment;
use crate::source::Source;
use crate::vocab::{self, CallClass};
use crate::Index;

/// One function to analyse.
pub struct FnInput<'a> {
    /// The name used in messages (`Pager::free_page`).
    pub name: String,
    /// Its signature.
    pub sig: &'a syn::Signature,
    /// Its body.
    pub block: &'a syn::Block,
    /// The type of `self`, for methods.
    pub self_type: Option<String>,
    /// Whether `self` is an enum declared in the linted sources.
    pub self_is_enum: bool,
}

/// What the analysis is told about the run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also report plain assignments (`self.flag = true`) whose value does
    /// not depend on the place: running them twice writes the same value,
    /// which is usually harmless.
    pub assignments: bool,
    /// Also lint test code (`#[test]` functions, `#[cfg(test)]` modules),
    /// which counts calls and drops results on purpose.
    pub tests: bool,
}

type EffectId = usize;
type SiteId = usize;
type GuardId = usize;
type LoopId = usize;
type ResetId = usize;

#[derive(Debug, Clone)]
struct CallInfo {
    name: String,
    receiver: Option<Place>,
    loc: Loc,
    /// Rooted places its receiver and arguments read.
    reads: Vec<Place>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum EffectKind {
    Compound,
    DependentWrite,
    Write,
    MutCall,
    IoSubmit,
    GroupAdd,
    CompletedCall,
}

#[derive(Debug, Clone)]
struct EffectInfo {
    kind: EffectKind,
    loc: Loc,
    text: String,
    loops: Vec<LoopId>,
    guards: Vec<GuardId>,
    call: Option<(CallInfo, CallClass)>,
    /// The place written, for writes and mutating calls.
    place: Option<Place>,
    /// The method (or `mem` function) of a mutating call.
    method: Option<String>,
}

#[derive(Debug, Clone)]
struct SiteInfo {
    loc: Loc,
    text: String,
    call: Option<CallInfo>,
    loops: Vec<LoopId>,
}

#[derive(Debug, Clone)]
struct ResetInfo {
    loc: Loc,
    text: String,
    taken: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pend {
    passed_before: BTreeSet<SiteId>,
    /// Created in an earlier iteration of one of its loops.
    stale: bool,
    /// A later condition on the path read the place it wrote: the place
    /// works as the machine's state (a counter the next call tests).
    branched: bool,
}

/// What is known on one path at one point (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Fact {
    pending: BTreeMap<EffectId, Pend>,
    passed: BTreeSet<SiteId>,
    resets: BTreeSet<ResetId>,
    flipped: BTreeSet<GuardId>,
    routed: bool,
    /// Places a condition on the path has read: writing one of them
    /// changes what the next call decides (`if self.sent { return .. }` ..
    /// `self.sent = true`).
    tested: BTreeSet<Place>,
}

fn join(a: Option<Fact>, b: Option<Fact>) -> Option<Fact> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(mut a), Some(b)) => {
            for (k, pb) in b.pending {
                match a.pending.get_mut(&k) {
                    Some(pa) => {
                        pa.passed_before = pa
                            .passed_before
                            .intersection(&pb.passed_before)
                            .copied()
                            .collect();
                        pa.stale &= pb.stale;
                        pa.branched |= pb.branched;
                    }
                    None => {
                        a.pending.insert(k, pb);
                    }
                }
            }
            a.passed = a.passed.intersection(&b.passed).copied().collect();
            a.resets.extend(b.resets);
            a.flipped.extend(b.flipped);
            a.routed &= b.routed;
            a.tested.extend(b.tested);
            Some(a)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// The value is used by the surrounding expression.
    Value,
    /// The value is returned from the function.
    Return,
}

struct LoopFrame {
    id: LoopId,
    label: Option<String>,
    /// A labelled block, which `break 'label` leaves but `continue` does not
    /// target.
    is_block: bool,
    breaks: Option<Fact>,
    continues: Option<Fact>,
}

struct GuardFrame {
    id: GuardId,
    places: Vec<Place>,
}

/// What a `let` binds its name to.
enum Binding {
    Alias(Place),
    StateValue,
    Taken,
    Group,
    Call(Option<CallInfo>),
    Other,
}

/// What a returned expression is.
enum Returned {
    NotYield,
    /// Always `IO` (`Ok(IOResult::IO(..))`).
    Explicit,
    /// The result of a call, which may be `IO`.
    Call(Option<CallInfo>),
}

struct Analyzer<'a> {
    index: &'a Index,
    source: &'a Source,
    options: Options,
    self_type: Option<String>,
    self_is_enum: bool,
    has_self: bool,
    /// Parameters that are references or shared handles.
    ref_params: HashSet<String>,
    aliases: HashMap<String, Place>,
    state_enums: HashSet<String>,
    state_places: Vec<Place>,
    state_locals: HashSet<String>,
    /// Locals holding the state taken out of its place (`let s =
    /// mem::take(&mut self.state)`).
    taken_locals: HashSet<String>,
    /// Places the function reads its position from (`self.stack.top()`).
    stack_places: Vec<Place>,
    /// Places the function matches on or tests in a condition.
    read_places: Vec<Place>,
    group_locals: HashSet<String>,
    call_locals: HashMap<String, Option<CallInfo>>,

    effects: Vec<EffectInfo>,
    effect_ids: HashMap<(Loc, EffectKind), EffectId>,
    sites: Vec<SiteInfo>,
    site_ids: HashMap<Loc, SiteId>,
    resets: Vec<ResetInfo>,
    reset_ids: HashMap<Loc, ResetId>,
    next_id: usize,
    stable_ids: HashMap<(Loc, u8), usize>,

    loops: Vec<LoopFrame>,
    guards: Vec<GuardFrame>,
    closures: Vec<Option<Fact>>,
    site_override: Vec<SiteId>,
    dispatch_depth: usize,

    effect_reports: BTreeMap<EffectId, SiteId>,
    reset_reports: BTreeMap<ResetId, SiteId>,
}

/// Analyses one function and returns its findings (allow comments are
/// applied by the caller).
pub fn analyze(
    input: &FnInput<'_>,
    index: &Index,
    source: &Source,
    path: &str,
    options: Options,
) -> Vec<Finding> {
    let mut a = Analyzer {
        index,
        source,
        options,
        self_type: input.self_type.clone(),
        self_is_enum: input.self_is_enum,
        has_self: false,
        ref_params: HashSet::new(),
        aliases: HashMap::new(),
        state_enums: HashSet::new(),
        state_places: Vec::new(),
        state_locals: HashSet::new(),
        taken_locals: HashSet::new(),
        stack_places: Vec::new(),
        read_places: Vec::new(),
        group_locals: HashSet::new(),
        call_locals: HashMap::new(),
        effects: Vec::new(),
        effect_ids: HashMap::new(),
        sites: Vec::new(),
        site_ids: HashMap::new(),
        resets: Vec::new(),
        reset_ids: HashMap::new(),
        next_id: 0,
        stable_ids: HashMap::new(),
        loops: Vec::new(),
        guards: Vec::new(),
        closures: Vec::new(),
        site_override: Vec::new(),
        dispatch_depth: 0,
        effect_reports: BTreeMap::new(),
        reset_reports: BTreeMap::new(),
    };
    a.params(input.sig);
    a.prepass(input.block);
    let _ = a.block(input.block, Fact::default(), Tail::Return);
    a.findings(&input.name, path)
}

impl<'a> Analyzer<'a> {
    // ------------------------------------------------------------ setup

    fn params(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => self.has_self = true,
                syn::FnArg::Typed(t) => {
                    let shared = is_mut_reference_type(&t.ty);
                    let mut names = Vec::new();
                    pat_idents(&t.pat, &mut names);
                    for n in names {
                        if shared {
                            self.ref_params.insert(n);
                        }
                    }
                    if let Some(e) = state_type_name(&t.ty) {
                        if is_state_enum_name(&e) {
                            self.state_enums.insert(e);
                        }
                    }
                }
            }
        }
    }

    /// Finds the state enums and state places before the walk: enums whose
    /// name says so, enums matched on a place that is also written with
    /// their variants, and `Self` for a method of an enum that matches on
    /// `self`.
    fn prepass(&mut self, block: &syn::Block) {
        struct Pre<'p> {
            matched: Vec<(Option<Place>, Vec<String>)>,
            written: Vec<(Place, String)>,
            named: HashSet<String>,
            self_type: Option<&'p str>,
            readers: Vec<Place>,
            local_sources: HashMap<String, Place>,
            conds: Vec<Place>,
        }
        impl<'ast> Visit<'ast> for Pre<'_> {
            fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
                let mut enums = Vec::new();
                for arm in &m.arms {
                    pat_enums(&arm.pat, self.self_type, &mut enums);
                }
                for e in &enums {
                    if is_state_enum_name(e) {
                        self.named.insert(e.clone());
                    }
                }
                self.matched.push((source_place_of(&m.expr), enums));
                syn::visit::visit_expr_match(self, m);
            }
            fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
                if let (Some(p), Some((e, _))) =
                    (place_of(&a.left), enum_value(&a.right, self.self_type))
                {
                    if is_state_enum_name(&e) {
                        self.named.insert(e.clone());
                    }
                    self.written.push((p, e));
                }
                syn::visit::visit_expr_assign(self, a);
            }
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(e) = path_enum(&p.path, self.self_type) {
                    if is_state_enum_name(&e) {
                        self.named.insert(e);
                    }
                }
            }
            fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
                self.conds.extend(places_read(&i.cond));
                syn::visit::visit_expr_if(self, i);
            }
            fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
                self.conds.extend(places_read(&w.cond));
                syn::visit::visit_expr_while(self, w);
            }
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                if vocab::is_position_reader(&m.method.to_string()) {
                    if let Some(p) = place_of(&m.receiver) {
                        self.readers.push(p);
                    }
                }
                syn::visit::visit_expr_method_call(self, m);
            }
            fn visit_local(&mut self, l: &'ast syn::Local) {
                if let (syn::Pat::Ident(i), Some(init)) = (&l.pat, &l.init) {
                    if !matches!(peel(&init.expr), syn::Expr::Path(_)) {
                        if let Some(p) = source_place_of(&init.expr) {
                            self.local_sources.insert(i.ident.to_string(), p);
                        }
                    }
                }
                syn::visit::visit_local(self, l);
            }
            fn visit_macro(&mut self, m: &'ast syn::Macro) {
                if let Ok(args) = m.parse_body_with(
                    syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
                ) {
                    for a in &args {
                        self.visit_expr(a);
                    }
                }
            }
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut pre = Pre {
            matched: Vec::new(),
            written: Vec::new(),
            named: HashSet::new(),
            self_type: self.self_type.as_deref(),
            readers: Vec::new(),
            local_sources: HashMap::new(),
            conds: Vec::new(),
        };
        pre.visit_block(block);
        for (place, _) in pre.matched.iter_mut() {
            if let Some(p) = place {
                if p.proj.is_empty() {
                    if let Some(src) = pre.local_sources.get(&p.root) {
                        *p = src.clone();
                    }
                }
            }
        }
        self.stack_places = pre.readers.clone();
        self.read_places = pre.conds.clone();
        self.read_places
            .extend(pre.matched.iter().filter_map(|(p, _)| p.clone()));
        // Through the aliases of parameters the walk resolves later; the
        // plain names are compared here.
        if self.self_is_enum {
            self.read_places.push(Place::var("self"));
        }
        self.state_enums.extend(pre.named);
        for (place, enums) in &pre.matched {
            for e in enums {
                let written_here = pre
                    .written
                    .iter()
                    .any(|(p, we)| we == e && place.as_ref().is_some_and(|mp| mp.overlaps(p)));
                let self_match = self.self_is_enum
                    && Some(e.as_str()) == self.self_type.as_deref()
                    && place.as_ref().is_some_and(|p| p.root == "self");
                if written_here || self_match {
                    self.state_enums.insert(e.clone());
                }
            }
        }
        for (place, enums) in &pre.matched {
            if enums.iter().any(|e| self.state_enums.contains(e)) {
                if let Some(p) = place {
                    self.state_places.push(p.clone());
                }
            }
        }
        for (p, e) in &pre.written {
            if self.state_enums.contains(e) {
                self.state_places.push(p.clone());
            }
        }
    }

    /// The id of a loop, labelled block or guard, the same every time the
    /// walk passes it (loops are walked again until their head settles, and
    /// what was recorded on an earlier pass must still match).
    fn stable_id(&mut self, span: proc_macro2::Span, role: u8) -> usize {
        let key = (Loc::of(span), role);
        if let Some(&id) = self.stable_ids.get(&key) {
            return id;
        }
        self.next_id += 1;
        self.stable_ids.insert(key, self.next_id);
        self.next_id
    }

    // ------------------------------------------------------------ places

    /// The place rooted in `self`, a reference parameter or an alias of
    /// one, if `p` is such a place.
    fn rooted(&self, p: Option<Place>) -> Option<Place> {
        let p = p?;
        if p.root == "self" && self.has_self {
            return Some(p);
        }
        if let Some(base) = self.aliases.get(&p.root) {
            return Some(base.join(&p.proj));
        }
        if self.ref_params.contains(&p.root) {
            return Some(p);
        }
        None
    }

    fn is_state_place(&self, p: &Place) -> bool {
        if self.state_places.iter().any(|s| s == p) {
            return true;
        }
        if p.root == "self" && p.proj.is_empty() && self.self_is_enum {
            return true;
        }
        let last = p.last_name().to_ascii_lowercase();
        last.contains("state") || last == "phase" || last.ends_with("_phase") || last == "stage"
    }

    /// Whether `p` is a field inside the state (`self.read_state.page`, a
    /// binding of `match &mut self.state { S::A { page } => .. }`).
    fn under_state_place(&self, p: &Place) -> bool {
        (0..p.proj.len()).any(|n| {
            let prefix = Place {
                root: p.root.clone(),
                proj: p.proj[..n].to_vec(),
            };
            self.state_places.contains(&prefix) || (n > 0 && self.is_state_place(&prefix))
        })
    }

    /// Whether the function decides anything from this state place (it
    /// matches on it or tests it): only then does a reset written before a
    /// yield change what the next call does.
    fn reads_state(&self, p: &Place) -> bool {
        self.read_places.iter().any(|r| r.overlaps(p))
    }

    fn is_stack_place(&self, p: &Place) -> bool {
        self.stack_places.iter().any(|s| s == p)
    }

    fn is_state_value(&self, e: &syn::Expr) -> bool {
        if let Some((en, _)) = enum_value(e, self.self_type.as_deref()) {
            return self.state_enums.contains(&en);
        }
        match peel(e) {
            syn::Expr::Struct(s) => s
                .path
                .segments
                .last()
                .is_some_and(|l| is_state_enum_name(&l.ident.to_string())),
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.state_locals.contains(&i.to_string())),
            _ => false,
        }
    }

    /// Whether `e` is a final or reset value of a state enum.
    fn is_reset_value(&self, e: &syn::Expr) -> bool {
        if let syn::Expr::Call(c) = peel(e) {
            if c.args.is_empty() && call_path_name(c).as_deref() == Some("default") {
                return true;
            }
        }
        match enum_value(e, self.self_type.as_deref()) {
            Some((en, v)) => {
                vocab::RESET_VARIANTS.contains(&v.as_str())
                    || self.index.default_variant(&en) == Some(v.as_str())
            }
            None => false,
        }
    }

    // ------------------------------------------------------------ facts

    fn loop_ids(&self) -> Vec<LoopId> {
        self.loops
            .iter()
            .filter(|l| !l.is_block)
            .map(|l| l.id)
            .collect()
    }

    fn add_effect(
        &mut self,
        f: &mut Fact,
        kind: EffectKind,
        span: proc_macro2::Span,
        place: Option<Place>,
        method: Option<&str>,
    ) {
        if f.routed {
            return;
        }
        if self.guards.iter().any(|g| f.flipped.contains(&g.id)) {
            return;
        }
        let loc = Loc::of(span);
        let id = match self.effect_ids.get(&(loc, kind)) {
            Some(&id) => id,
            None => {
                let id = self.effects.len();
                self.effects.push(EffectInfo {
                    kind,
                    loc,
                    text: self.source.text(loc),
                    loops: self.loop_ids(),
                    guards: self.guards.iter().map(|g| g.id).collect(),
                    call: None,
                    place,
                    method: method.map(|m| m.to_string()),
                });
                self.effect_ids.insert((loc, kind), id);
                id
            }
        };
        let fresh = Pend {
            passed_before: f.passed.clone(),
            stale: false,
            branched: false,
        };
        match f.pending.get_mut(&id) {
            Some(p) => {
                p.passed_before = p
                    .passed_before
                    .intersection(&fresh.passed_before)
                    .copied()
                    .collect();
                p.stale = false;
                p.branched = false;
            }
            None => {
                f.pending.insert(id, fresh);
            }
        }
    }

    fn site(&mut self, span: proc_macro2::Span, call: Option<CallInfo>) -> SiteId {
        let loc = Loc::of(span);
        if let Some(&id) = self.site_ids.get(&loc) {
            return id;
        }
        let id = self.sites.len();
        self.sites.push(SiteInfo {
            loc,
            text: self.source.text(loc),
            call,
            loops: self.loop_ids(),
        });
        self.site_ids.insert(loc, id);
        id
    }

    fn transition(&mut self, f: &mut Fact, reset: Option<(proc_macro2::Span, bool)>) {
        f.pending.clear();
        f.resets.clear();
        if let Some((span, taken)) = reset {
            let loc = Loc::of(span);
            let id = match self.reset_ids.get(&loc) {
                Some(&id) => id,
                None => {
                    let id = self.resets.len();
                    self.resets.push(ResetInfo {
                        loc,
                        text: self.source.text(loc),
                        taken,
                    });
                    self.reset_ids.insert(loc, id);
                    id
                }
            };
            f.resets.insert(id);
        }
        if self.dispatch_depth > 0 {
            f.routed = true;
        }
    }

    /// A write to `p`: if a guard tests `p`, the guard flips and what ran
    /// inside it will not run again.
    fn try_flip(&mut self, p: &Place, f: &mut Fact) -> bool {
        let Some(g) = self
            .guards
            .iter()
            .rev()
            .find(|g| g.places.iter().any(|q| q.overlaps(p)))
        else {
            return false;
        };
        let gid = g.id;
        f.flipped.insert(gid);
        let effects = &self.effects;
        f.pending.retain(|e, _| !effects[*e].guards.contains(&gid));
        true
    }

    fn at_yield(&mut self, f: &Fact, site: SiteId) {
        // Inside a closure called at once, a yield macro returns from the
        // closure: its value reaches the function's return through a local.
        if let Some(slot) = self.closures.last_mut() {
            *slot = join(slot.take(), Some(f.clone()));
            return;
        }
        let site_call = self.sites[site].call.clone();
        let site_line = self.sites[site].loc;
        for (&eid, pend) in &f.pending {
            if pend.passed_before.contains(&site) || (pend.branched && site_call.is_none()) {
                continue;
            }
            let eff = &self.effects[eid];
            if eff.kind == EffectKind::Write && !self.options.assignments {
                continue;
            }
            let idempotent = eff
                .method
                .as_deref()
                .is_some_and(|m| vocab::IDEMPOTENT_MUTATIONS.contains(&m));
            if idempotent {
                let under_call = match (&eff.place, &site_call) {
                    (Some(p), Some(c)) => c.reads.iter().any(|r| r.overlaps(p)),
                    _ => false,
                };
                if !under_call {
                    continue;
                }
            }
            if let Some((call, class)) = &eff.call {
                let report = match class {
                    CallClass::RelativeMove | CallClass::Mutation => true,
                    CallClass::AbsoluteMove => site_call.as_ref().is_some_and(|sc| {
                        vocab::call_class(&sc.name) == CallClass::Mutation
                            && match (&sc.receiver, &call.receiver) {
                                (Some(a), Some(b)) => a.overlaps(b),
                                _ => false,
                            }
                    }),
                    CallClass::Other => false,
                };
                if !report || call.loc == site_line {
                    continue;
                }
            }
            let better = match self.effect_reports.get(&eid) {
                Some(&old) => self.sites[old].loc > site_line,
                None => true,
            };
            if better {
                self.effect_reports.insert(eid, site);
            }
        }
        if site_call.is_some() {
            for &r in &f.resets {
                let better = match self.reset_reports.get(&r) {
                    Some(&old) => self.sites[old].loc > site_line,
                    None => true,
                };
                if better {
                    self.reset_reports.insert(r, site);
                }
            }
        }
    }

    /// After a call that can yield returned `Done`.
    fn passed_call(&mut self, f: &mut Fact, site: SiteId) {
        f.passed.insert(site);
        if let Some(call) = self.sites[site].call.clone() {
            let class = vocab::call_class(&call.name);
            if class != CallClass::Other && call.receiver.is_some() {
                self.add_completed(f, call, class);
            }
        }
    }

    fn add_completed(&mut self, f: &mut Fact, call: CallInfo, class: CallClass) {
        if f.routed || self.guards.iter().any(|g| f.flipped.contains(&g.id)) {
            return;
        }
        let loc = call.loc;
        let kind = EffectKind::CompletedCall;
        let id = match self.effect_ids.get(&(loc, kind)) {
            Some(&id) => id,
            None => {
                let id = self.effects.len();
                self.effects.push(EffectInfo {
                    kind,
                    loc,
                    text: self.source.text(loc),
                    loops: self.loop_ids(),
                    guards: self.guards.iter().map(|g| g.id).collect(),
                    call: Some((call, class)),
                    place: None,
                    method: None,
                });
                self.effect_ids.insert((loc, kind), id);
                id
            }
        };
        f.pending.insert(
            id,
            Pend {
                passed_before: f.passed.clone(),
                stale: false,
                branched: false,
            },
        );
    }

    // ------------------------------------------------------------ walk

    fn block(&mut self, b: &syn::Block, f: Fact, tail: Tail) -> Option<Fact> {
        let mut cur = f;
        let n = b.stmts.len();
        for (i, stmt) in b.stmts.iter().enumerate() {
            let last = i + 1 == n;
            // `let _ = x.take();` and `x.take();` only clear `x`: running
            // them twice leaves it as running them once.
            if let Some(recv) = discarded_take(stmt) {
                cur = self.expr(recv, cur)?;
                continue;
            }
            cur = match stmt {
                syn::Stmt::Local(l) => self.local(l, cur)?,
                syn::Stmt::Item(_) => cur,
                syn::Stmt::Expr(e, None) if last => return self.expr_tail(e, cur, tail),
                syn::Stmt::Expr(e, _) => self.expr(e, cur)?,
                syn::Stmt::Macro(m) => self.mac(&m.mac, cur)?,
            };
        }
        Some(cur)
    }

    fn local(&mut self, l: &syn::Local, f: Fact) -> Option<Fact> {
        let mut f = f;
        if let Some(init) = &l.init {
            f = self.expr(&init.expr, f)?;
            if let Some((_, els)) = &init.diverge {
                let _ = self.expr(els, f.clone());
            }
        }
        self.bind_local(&l.pat, l.init.as_ref().map(|i| &*i.expr));
        Some(f)
    }

    fn forget(&mut self, name: &str) {
        self.aliases.remove(name);
        self.state_locals.remove(name);
        self.taken_locals.remove(name);
        self.group_locals.remove(name);
        self.call_locals.remove(name);
    }

    fn bind_local(&mut self, pat: &syn::Pat, init: Option<&syn::Expr>) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        // What the initializer refers to is decided before its names are
        // shadowed (`let cursor = cursor.as_btree_mut();`).
        let binding = match (init, names.as_slice()) {
            (Some(init), [_]) => Some(self.classify_init(pat, init)),
            // `let S { a, b, .. } = self.s.as_mut().unwrap();`: each name
            // refers into the place.
            (Some(init), [_, ..]) => self
                .ref_base(init)
                .or_else(|| self.ref_base(strip_unwrap(init)))
                .map(Binding::Alias),
            _ => None,
        };
        for n in &names {
            self.forget(n);
        }
        if names.len() > 1 {
            if let Some(Binding::Alias(base)) = binding {
                for n in names {
                    self.aliases.insert(n.clone(), base.join(&[n]));
                }
            }
            return;
        }
        let (Some(binding), [name]) = (binding, names.as_slice()) else {
            return;
        };
        let name = name.clone();
        match binding {
            Binding::Alias(base) => {
                self.aliases.insert(name, base);
            }
            Binding::StateValue => {
                self.state_locals.insert(name);
            }
            Binding::Taken => {
                self.taken_locals.insert(name);
            }
            Binding::Group => {
                self.group_locals.insert(name);
            }
            Binding::Call(c) => {
                self.call_locals.insert(name, c);
            }
            Binding::Other => {}
        }
    }

    fn classify_init(&self, pat: &syn::Pat, init: &syn::Expr) -> Binding {
        let single = matches!(pat, syn::Pat::Ident(_) | syn::Pat::Type(_));
        if !single {
            // `let Some(x) = self.v.as_mut() else ..`: x is inside the place.
            return match self
                .ref_base(init)
                .or_else(|| self.ref_base(strip_unwrap(init)))
            {
                Some(base) => Binding::Alias(base),
                None => Binding::Other,
            };
        }
        if self.is_state_value(init) {
            return Binding::StateValue;
        }
        if self.taken_state(init) {
            return Binding::Taken;
        }
        if let syn::Expr::Call(c) = peel(init) {
            if let syn::Expr::Path(p) = peel(&c.func) {
                if p.path.segments.iter().any(|s| s.ident == "CompletionGroup") {
                    return Binding::Group;
                }
            }
        }
        if let Some(base) = self.alias_of(init, pat) {
            return Binding::Alias(base);
        }
        if let Some(call) = self.call_info(init) {
            Binding::Call(Some(call))
        } else if matches!(peel(init), syn::Expr::Call(_) | syn::Expr::MethodCall(_)) {
            Binding::Call(None)
        } else {
            Binding::Other
        }
    }

    /// The place a `let` initializer refers into, when it produces a
    /// reference to a rooted place.
    fn alias_of(&self, init: &syn::Expr, pat: &syn::Pat) -> Option<Place> {
        let e = strip_unwrap(init);
        match peel(e) {
            syn::Expr::Reference(r) => self.rooted(place_of(&r.expr)),
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                let projects = vocab::REFERENCE_PROJECTIONS.contains(&name.as_str())
                    || name.starts_with("get_")
                    || name.starts_with("mut_")
                    || name.ends_with("_mut");
                if projects {
                    let base = self
                        .rooted(place_of(&m.receiver))
                        .or_else(|| self.alias_of(&m.receiver, pat))?;
                    return Some(base.join(&["[]".to_string()]));
                }
                None
            }
            syn::Expr::Call(c) if is_mut_ref_type_pat(pat) && c.args.len() == 1 => {
                match peel(&c.args[0]) {
                    syn::Expr::Reference(r) if r.mutability.is_some() => {
                        self.rooted(place_of(&r.expr))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The rooted place a scrutinee borrows, so that its pattern's
    /// bindings refer into it (`&mut self.x`, `self.x.as_mut()`, `st` for
    /// a `&mut` parameter).
    fn ref_base(&self, e: &syn::Expr) -> Option<Place> {
        match peel(e) {
            syn::Expr::Reference(r) => self.rooted(place_of(&r.expr)),
            syn::Expr::MethodCall(m)
                if vocab::REFERENCE_PROJECTIONS.contains(&m.method.to_string().as_str())
                    || m.method == "as_ref"
                    || m.method == "iter" =>
            {
                self.rooted(place_of(&m.receiver))
            }
            syn::Expr::Path(p) => {
                let id = p.path.get_ident()?.to_string();
                if id == "self" && self.has_self {
                    return Some(Place::var("self"));
                }
                if self.ref_params.contains(&id) || self.aliases.contains_key(&id) {
                    return self.rooted(Some(Place::var(id)));
                }
                None
            }
            _ => None,
        }
    }

    fn bind_pattern(&mut self, pat: &syn::Pat, base: Option<Place>) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        for n in names {
            self.forget(&n);
            if let Some(b) = &base {
                self.aliases.insert(n.clone(), b.join(&[n]));
            }
        }
    }

    fn expr_tail(&mut self, e: &syn::Expr, f: Fact, tail: Tail) -> Option<Fact> {
        if tail == Tail::Value {
            return self.expr(e, f);
        }
        match peel(e) {
            syn::Expr::If(i) => self.if_expr(i, f, tail),
            syn::Expr::Match(m) => self.match_expr(m, f, tail),
            syn::Expr::Block(b) if b.label.is_none() => self.block(&b.block, f, tail),
            syn::Expr::Unsafe(u) => self.block(&u.block, f, tail),
            syn::Expr::Macro(_)
            | syn::Expr::Loop(_)
            | syn::Expr::While(_)
            | syn::Expr::ForLoop(_)
            | syn::Expr::Return(_) => self.expr(e, f),
            other => {
                let kind = self.returned_kind(other);
                let f = match &kind {
                    Returned::Call(_) => self.expr_operand(other, f)?,
                    _ => self.expr(other, f)?,
                };
                self.on_return(other, kind, &f);
                None
            }
        }
    }

    fn on_return(&mut self, e: &syn::Expr, kind: Returned, f: &Fact) {
        match kind {
            Returned::NotYield => {}
            Returned::Explicit => {
                let site = match self.site_override.last() {
                    Some(&s) => s,
                    None => self.site(e.span(), None),
                };
                self.at_yield(f, site);
            }
            Returned::Call(call) => {
                let site = self.site(e.span(), call);
                self.at_yield(f, site);
            }
        }
    }

    fn returned_kind(&self, e: &syn::Expr) -> Returned {
        let e = peel(e);
        if self.is_io_variant(e) {
            return Returned::Explicit;
        }
        match e {
            syn::Expr::Call(c) => {
                let name = call_path_name(c).unwrap_or_default();
                if name == "Ok" && c.args.len() == 1 {
                    let inner = peel(&c.args[0]);
                    if self.is_io_variant(inner) {
                        return Returned::Explicit;
                    }
                    return match inner {
                        syn::Expr::Try(t) => Returned::Call(self.call_info(&t.expr)),
                        syn::Expr::Path(p) => match p.path.get_ident() {
                            Some(id) => match self.call_locals.get(&id.to_string()) {
                                Some(c) => Returned::Call(c.clone()),
                                None => Returned::NotYield,
                            },
                            None => Returned::NotYield,
                        },
                        _ => Returned::NotYield,
                    };
                }
                if is_constructor_name(&name) || enum_value(e, self.self_type.as_deref()).is_some()
                {
                    return Returned::NotYield;
                }
                Returned::Call(self.call_info(e))
            }
            // `op(..).map(IOResult::Done)`: always done.
            syn::Expr::MethodCall(m)
                if m.method == "map"
                    && m.args.len() == 1
                    && matches!(peel(&m.args[0]), syn::Expr::Path(p)
                        if p.path.segments.last().is_some_and(|s| s.ident == "Done")) =>
            {
                Returned::NotYield
            }
            syn::Expr::MethodCall(_) => Returned::Call(self.call_info(e)),
            syn::Expr::Path(p) => match p.path.get_ident() {
                Some(id) => match self.call_locals.get(&id.to_string()) {
                    Some(c) => Returned::Call(c.clone()),
                    None => Returned::NotYield,
                },
                None => Returned::NotYield,
            },
            _ => Returned::NotYield,
        }
    }

    /// `IOResult::IO(..)`, `IOResult::IO`, `InsnFunctionStepResult::IO(..)`.
    fn is_io_variant(&self, e: &syn::Expr) -> bool {
        let path = match peel(e) {
            syn::Expr::Path(p) => &p.path,
            syn::Expr::Call(c) => match peel(&c.func) {
                syn::Expr::Path(p) => &p.path,
                _ => return false,
            },
            _ => return false,
        };
        self.is_io_path(path)
    }

    fn is_io_path(&self, path: &syn::Path) -> bool {
        let n = path.segments.len();
        if n < 2 {
            return false;
        }
        let last = &path.segments[n - 1].ident;
        let ty = path.segments[n - 2].ident.to_string();
        (last == "IO" || last == "Io") && self.index.is_io_type_name(&ty)
    }

    fn pat_has_io(&self, pat: &syn::Pat) -> bool {
        struct V<'x, 'y>(&'x Analyzer<'y>, bool);
        impl<'ast> Visit<'ast> for V<'_, '_> {
            fn visit_path(&mut self, p: &'ast syn::Path) {
                if self.0.is_io_path(p) {
                    self.1 = true;
                }
            }
        }
        let mut v = V(self, false);
        v.visit_pat(pat);
        v.1
    }

    /// The call an operand of `return_if_io!` (or a returned expression)
    /// makes: its name and receiver.
    fn call_info(&self, e: &syn::Expr) -> Option<CallInfo> {
        let e = strip_unwrap(e);
        match peel(e) {
            syn::Expr::MethodCall(m) => Some(CallInfo {
                name: m.method.to_string(),
                receiver: self.rooted(place_of(&m.receiver)),
                loc: Loc::of(e.span()),
                reads: self.rooted_reads(e),
            }),
            syn::Expr::Call(c) => {
                if c.args.len() == 1 && is_call(&c.args[0]) {
                    return self.call_info(&c.args[0]);
                }
                if let syn::Expr::Closure(_) = peel(&c.func) {
                    return Some(CallInfo {
                        name: "{closure}".into(),
                        receiver: None,
                        loc: Loc::of(e.span()),
                        reads: Vec::new(),
                    });
                }
                let name = call_path_name(c)?;
                let receiver = c.args.first().and_then(|a| match peel(a) {
                    syn::Expr::Reference(r) if r.mutability.is_some() => {
                        self.rooted(place_of(&r.expr))
                    }
                    other => self
                        .rooted(place_of(other))
                        .filter(|_| matches!(other, syn::Expr::Path(_)) && c.args.len() > 1),
                });
                Some(CallInfo {
                    name,
                    receiver,
                    loc: Loc::of(e.span()),
                    reads: self.rooted_reads(e),
                })
            }
            _ => None,
        }
    }

    fn rooted_reads(&self, e: &syn::Expr) -> Vec<Place> {
        let mut out: Vec<Place> = places_read(e)
            .into_iter()
            .filter_map(|p| self.rooted(Some(p)))
            .collect();
        // `&mut buf` passed to the call: the call reads and writes `buf`.
        out.retain(|p| !(p.root == "self" && p.proj.is_empty()));
        out
    }

    /// Evaluates the receiver and arguments of a call that can yield, but
    /// not the call itself: it is resumed on re-entry, not repeated.
    fn expr_operand(&mut self, e: &syn::Expr, f: Fact) -> Option<Fact> {
        match peel(e) {
            syn::Expr::Try(t) => self.expr_operand(&t.expr, f),
            syn::Expr::MethodCall(m)
                if (m.method == "unwrap" || m.method == "expect") && is_call(&m.receiver) =>
            {
                self.expr_operand(&m.receiver, f)
            }
            syn::Expr::MethodCall(m) => {
                let mut f = self.expr(&m.receiver, f)?;
                for a in &m.args {
                    f = self.expr(a, f)?;
                }
                Some(f)
            }
            syn::Expr::Call(c) => {
                if c.args.len() == 1 && is_call(&c.args[0]) {
                    return self.expr_operand(&c.args[0], f);
                }
                if let syn::Expr::Closure(cl) = peel(&c.func) {
                    return self.inline_closure(cl, f);
                }
                let mut f = f;
                for a in &c.args {
                    f = self.expr(a, f)?;
                }
                Some(f)
            }
            other => self.expr(other, f),
        }
    }

    fn expr(&mut self, e: &syn::Expr, f: Fact) -> Option<Fact> {
        use syn::Expr as E;
        match e {
            E::Array(a) => self.exprs(a.elems.iter(), f),
            E::Tuple(t) => self.exprs(t.elems.iter(), f),
            E::Assign(a) => {
                let f = self.expr(&a.right, f)?;
                let f = self.lhs_subexprs(&a.left, f)?;
                Some(self.assign(&a.left, &a.right, e, f))
            }
            E::Binary(b) => {
                use syn::BinOp as B;
                match b.op {
                    B::And(_) | B::Or(_) => {
                        let f = self.expr(&b.left, f)?;
                        let r = self.expr(&b.right, f.clone());
                        join(Some(f), r)
                    }
                    B::BitOrAssign(_) | B::BitAndAssign(_) => {
                        // `flags |= F` twice is `flags |= F` once: an
                        // assignment-like write.
                        let f = self.expr(&b.right, f)?;
                        let mut f = self.lhs_subexprs(&b.left, f)?;
                        if let Some(p) = self.rooted(place_of(&b.left)) {
                            let dependent = places_read(&b.right)
                                .into_iter()
                                .any(|q| self.rooted(Some(q)).is_some_and(|q| q.overlaps(&p)));
                            let kind = if dependent {
                                EffectKind::DependentWrite
                            } else {
                                EffectKind::Write
                            };
                            if !self.try_flip(&p, &mut f) {
                                self.add_effect(&mut f, kind, e.span(), Some(p), None);
                            }
                        }
                        Some(f)
                    }
                    B::AddAssign(_)
                    | B::SubAssign(_)
                    | B::MulAssign(_)
                    | B::DivAssign(_)
                    | B::RemAssign(_)
                    | B::BitXorAssign(_)
                    | B::ShlAssign(_)
                    | B::ShrAssign(_) => {
                        let f = self.expr(&b.right, f)?;
                        let mut f = self.lhs_subexprs(&b.left, f)?;
                        if let Some(p) = self.rooted(place_of(&b.left)) {
                            if !self.try_flip(&p, &mut f) {
                                self.add_effect(
                                    &mut f,
                                    EffectKind::Compound,
                                    e.span(),
                                    Some(p),
                                    None,
                                );
                            }
                        }
                        Some(f)
                    }
                    _ => {
                        let f = self.expr(&b.left, f)?;
                        self.expr(&b.right, f)
                    }
                }
            }
            E::Block(b) => match &b.label {
                Some(l) => self.labelled_block(&l.name.ident.to_string(), &b.block, f),
                None => self.block(&b.block, f, Tail::Value),
            },
            E::Unsafe(u) => self.block(&u.block, f, Tail::Value),
            E::TryBlock(t) => self.block(&t.block, f, Tail::Value),
            E::Const(_) | E::Async(_) | E::Closure(_) => Some(f),
            E::Break(b) => {
                let f = match &b.expr {
                    Some(v) => self.expr(v, f)?,
                    None => f,
                };
                let label = b.label.as_ref().map(|l| l.ident.to_string());
                if let Some(frame) = self.target(label.as_deref()) {
                    frame.breaks = join(frame.breaks.take(), Some(f));
                }
                None
            }
            E::Continue(c) => {
                let label = c.label.as_ref().map(|l| l.ident.to_string());
                if let Some(frame) = self.target(label.as_deref()) {
                    frame.continues = join(frame.continues.take(), Some(f));
                }
                None
            }
            E::Return(r) => {
                if !self.closures.is_empty() {
                    let f = match &r.expr {
                        Some(v) => self.expr(v, f)?,
                        None => f,
                    };
                    let slot = self.closures.last_mut().expect("checked");
                    *slot = join(slot.take(), Some(f));
                    return None;
                }
                if let Some(v) = &r.expr {
                    let kind = self.returned_kind(v);
                    let f = match &kind {
                        Returned::Call(_) => self.expr_operand(v, f)?,
                        _ => self.expr(v, f)?,
                    };
                    self.on_return(v, kind, &f);
                }
                None
            }
            E::Call(c) => self.call(c, e, f),
            E::MethodCall(m) => self.method_call(m, e, f),
            E::Cast(c) => self.expr(&c.expr, f),
            E::Field(x) => self.expr(&x.base, f),
            E::ForLoop(l) => {
                let f = self.expr(&l.expr, f)?;
                let base = self.ref_base(&l.expr);
                self.bind_pattern(&l.pat, base);
                let label = l.label.as_ref().map(|l| l.name.ident.to_string());
                self.run_loop(label, f, None, &l.body, true)
            }
            E::While(w) => {
                let label = w.label.as_ref().map(|l| l.name.ident.to_string());
                self.run_loop(label, f, Some(&w.cond), &w.body, true)
            }
            E::Loop(l) => {
                let label = l.label.as_ref().map(|l| l.name.ident.to_string());
                self.run_loop(label, f, None, &l.body, false)
            }
            E::If(i) => self.if_expr(i, f, Tail::Value),
            E::Match(m) => self.match_expr(m, f, Tail::Value),
            E::Index(i) => {
                let f = self.expr(&i.expr, f)?;
                self.expr(&i.index, f)
            }
            E::Let(l) => self.expr(&l.expr, f),
            E::Macro(m) => self.mac(&m.mac, f),
            E::Paren(p) => self.expr(&p.expr, f),
            E::Group(g) => self.expr(&g.expr, f),
            E::Range(r) => {
                let mut f = f;
                if let Some(s) = &r.start {
                    f = self.expr(s, f)?;
                }
                if let Some(s) = &r.end {
                    f = self.expr(s, f)?;
                }
                Some(f)
            }
            E::Reference(r) => self.expr(&r.expr, f),
            E::Repeat(r) => self.expr(&r.expr, f),
            E::Struct(s) => {
                let mut f = self.exprs(s.fields.iter().map(|fv| &fv.expr), f)?;
                if let Some(r) = &s.rest {
                    f = self.expr(r, f)?;
                }
                Some(f)
            }
            E::Try(t) => self.expr(&t.expr, f),
            E::Unary(u) => self.expr(&u.expr, f),
            E::Await(a) => self.expr(&a.base, f),
            _ => Some(f),
        }
    }

    fn exprs<'e>(&mut self, es: impl Iterator<Item = &'e syn::Expr>, f: Fact) -> Option<Fact> {
        let mut f = f;
        for e in es {
            f = self.expr(e, f)?;
        }
        Some(f)
    }

    /// The index expressions inside an assignment's left side.
    fn lhs_subexprs(&mut self, e: &syn::Expr, f: Fact) -> Option<Fact> {
        match peel(e) {
            syn::Expr::Index(i) => {
                let f = self.lhs_subexprs(&i.expr, f)?;
                self.expr(&i.index, f)
            }
            syn::Expr::Field(x) => self.lhs_subexprs(&x.base, f),
            syn::Expr::Unary(u) => self.lhs_subexprs(&u.expr, f),
            syn::Expr::MethodCall(m) => {
                let f = self.lhs_subexprs(&m.receiver, f)?;
                self.exprs(m.args.iter(), f)
            }
            _ => Some(f),
        }
    }

    fn target(&mut self, label: Option<&str>) -> Option<&mut LoopFrame> {
        self.loops.iter_mut().rev().find(|l| match label {
            Some(name) => l.label.as_deref() == Some(name),
            None => !l.is_block,
        })
    }

    fn labelled_block(&mut self, label: &str, b: &syn::Block, f: Fact) -> Option<Fact> {
        let id = self.stable_id(b.brace_token.span.join(), 0);
        self.loops.push(LoopFrame {
            id,
            label: Some(label.to_string()),
            is_block: true,
            breaks: None,
            continues: None,
        });
        let end = self.block(b, f, Tail::Value);
        let frame = self.loops.pop().expect("pushed");
        join(end, frame.breaks)
    }

    fn run_loop(
        &mut self,
        label: Option<String>,
        entry: Fact,
        cond: Option<&syn::Expr>,
        body: &syn::Block,
        may_skip: bool,
    ) -> Option<Fact> {
        let id = self.stable_id(body.brace_token.span.join(), 1);
        let mut head = entry.clone();
        let mut exit = None;
        for _ in 0..16 {
            let mut h = head.clone();
            for (e, p) in h.pending.iter_mut() {
                if self.effects[*e].loops.contains(&id) {
                    p.stale = true;
                }
            }
            self.loops.push(LoopFrame {
                id,
                label: label.clone(),
                is_block: false,
                breaks: None,
                continues: None,
            });
            let guard_places = cond.map(|c| self.guard_places(c)).unwrap_or_default();
            let (enter, skip) = match cond {
                Some(c) => {
                    if let syn::Expr::Let(l) = peel(c) {
                        let after = self.expr(&l.expr, h);
                        let base = self.ref_base(&l.expr);
                        self.bind_pattern(&l.pat, base);
                        (after.clone(), after)
                    } else {
                        let after = self.expr(c, h);
                        (after.clone(), after)
                    }
                }
                None => (Some(h.clone()), if may_skip { Some(h) } else { None }),
            };
            let pushed = self.push_guard(guard_places, body.brace_token.span.join(), 2);
            let end = enter.and_then(|h| self.block(body, h, Tail::Value));
            let end = self.pop_guard(pushed, end);
            let frame = self.loops.pop().expect("pushed");
            let back = join(end, frame.continues);
            exit = join(skip, frame.breaks);
            let new_head = join(Some(entry.clone()), back).expect("entry is reachable");
            if new_head == head {
                break;
            }
            head = new_head;
        }
        exit
    }

    fn guard_places(&self, cond: &syn::Expr) -> Vec<Place> {
        places_read(cond)
            .into_iter()
            .filter_map(|p| self.rooted(Some(p)))
            .filter(|p| !(p.root == "self" && p.proj.is_empty()))
            .collect()
    }

    /// Effects on a place a condition now reads: the place works as state.
    fn mark_branched(&self, f: &mut Fact, places: &[Place]) {
        f.tested.extend(places.iter().cloned());
        for (e, p) in f.pending.iter_mut() {
            if let Some(w) = &self.effects[*e].place {
                if places.iter().any(|q| q.overlaps(w)) {
                    p.branched = true;
                }
            }
        }
    }

    fn push_guard(
        &mut self,
        places: Vec<Place>,
        span: proc_macro2::Span,
        role: u8,
    ) -> Option<GuardId> {
        if places.is_empty() {
            return None;
        }
        let id = self.stable_id(span, role);
        self.guards.push(GuardFrame { id, places });
        Some(id)
    }

    fn pop_guard(&mut self, pushed: Option<GuardId>, f: Option<Fact>) -> Option<Fact> {
        let Some(id) = pushed else {
            return f;
        };
        self.guards.pop();
        f.map(|mut f| {
            f.flipped.remove(&id);
            f
        })
    }

    /// The call an `if` condition checks for `IO` (`if let Ok(IOResult::IO(io))
    /// = op()`, `if op()?.is_io()`, `if matches!(op()?, IOResult::IO(_))`).
    fn io_checked_call(&self, cond: &syn::Expr) -> Option<syn::Expr> {
        match peel(cond) {
            syn::Expr::Let(l) if self.pat_has_io(&l.pat) && is_call(&l.expr) => {
                Some((*l.expr).clone())
            }
            syn::Expr::MethodCall(m) if m.method == "is_io" && is_call(&m.receiver) => {
                Some((*m.receiver).clone())
            }
            syn::Expr::Macro(m) if m.mac.path.is_ident("matches") => {
                let args = m
                    .mac
                    .parse_body_with(
                        syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
                    )
                    .ok()?;
                let first = args.first()?.clone();
                let text = m.mac.tokens.to_string();
                let io = text.contains(":: IO") || text.contains(":: Io");
                (io && is_call(&first)).then_some(first)
            }
            _ => None,
        }
    }

    fn if_expr(&mut self, i: &syn::ExprIf, f: Fact, tail: Tail) -> Option<Fact> {
        let checked = self.io_checked_call(&i.cond);
        let (f, site) = match &checked {
            Some(op) => {
                let f = self.expr_operand(op, f)?;
                let call = self.call_info(op);
                (f, Some(self.site(op.span(), call)))
            }
            None => (self.expr(&i.cond, f)?, None),
        };
        if let syn::Expr::Let(l) = peel(&i.cond) {
            let base = self.ref_base(&l.expr);
            self.bind_pattern(&l.pat, base);
        }
        let places = self.guard_places(&i.cond);
        let mut f = f;
        self.mark_branched(&mut f, &places);
        let pushed = self.push_guard(places.clone(), i.then_branch.brace_token.span.join(), 3);
        if let Some(s) = site {
            self.site_override.push(s);
        }
        let t = self.block(&i.then_branch, f.clone(), tail);
        if site.is_some() {
            self.site_override.pop();
        }
        let t = self.pop_guard(pushed, t);
        // `if let Some(x) = p.take() { .. } else { .. }`: where the
        // pattern did not match, the take took nothing.
        if let syn::Expr::Let(l) = peel(&i.cond) {
            if let syn::Expr::MethodCall(mc) = peel(&l.expr) {
                if mc.method == "take" && mc.args.is_empty() {
                    if let Some(t) = self.rooted(place_of(&mc.receiver)) {
                        let effects = &self.effects;
                        f.pending.retain(|e, _| {
                            let eff = &effects[*e];
                            !(eff.method.as_deref() == Some("take")
                                && eff.place.as_ref().is_some_and(|q| q.overlaps(&t)))
                        });
                    }
                }
            }
        }
        let e = match &i.else_branch {
            Some((_, els)) => {
                let pushed = self.push_guard(places, els.span(), 4);
                let r = self.expr_tail(els, f, tail);
                self.pop_guard(pushed, r)
            }
            None if tail == Tail::Return => None,
            None => Some(f),
        };
        let mut out = join(t, e)?;
        if let Some(s) = site {
            self.passed_call(&mut out, s);
        }
        Some(out)
    }

    fn is_dispatch(&self, m: &syn::ExprMatch) -> bool {
        let mut enums = Vec::new();
        for arm in &m.arms {
            pat_enums(&arm.pat, self.self_type.as_deref(), &mut enums);
        }
        if enums.iter().any(|e| self.state_enums.contains(e)) {
            return true;
        }
        match source_place_of(&m.expr) {
            Some(p) => {
                !enums.is_empty()
                    && self.rooted(Some(p.clone())).is_some()
                    && self.is_state_place(&p)
            }
            None => false,
        }
    }

    /// `match mem::take(st)`: the state is left at its default while the
    /// arm runs.
    fn taken_state(&self, scrutinee: &syn::Expr) -> bool {
        match peel(scrutinee) {
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.taken_locals.contains(&i.to_string())),
            syn::Expr::Call(c) => {
                call_path_name(c).as_deref() == Some("take")
                    && c.args.len() == 1
                    && self
                        .rooted(place_of(&c.args[0]))
                        .is_some_and(|p| self.is_state_place(&p) || self.state_places.contains(&p))
            }
            syn::Expr::MethodCall(m) => {
                m.method == "take" && m.args.is_empty() && {
                    self.rooted(place_of(&m.receiver))
                        .is_some_and(|p| self.is_state_place(&p))
                }
            }
            _ => false,
        }
    }

    fn match_expr(&mut self, m: &syn::ExprMatch, f: Fact, tail: Tail) -> Option<Fact> {
        let io_arms = m.arms.iter().any(|a| self.pat_has_io(&a.pat)) && is_call(&m.expr);
        let dispatch = self.is_dispatch(m);
        let taken = dispatch && self.taken_state(&m.expr);
        let (mut f, site) = if io_arms {
            let f = self.expr_operand(&m.expr, f)?;
            let call = self.call_info(&m.expr);
            (f, Some(self.site(m.expr.span(), call)))
        } else if taken {
            // The take is the state's write of its default; reported per arm.
            let f = match peel(&m.expr) {
                syn::Expr::Call(c) => self.exprs(c.args.iter(), f)?,
                _ => f,
            };
            (f, None)
        } else {
            (self.expr(&m.expr, f)?, None)
        };
        if dispatch {
            if let Some(lid) = self.loops.iter().rev().find(|l| !l.is_block).map(|l| l.id) {
                let effects = &self.effects;
                f.pending
                    .retain(|e, p| !(p.stale && effects[*e].loops.contains(&lid)));
                let sites = &self.sites;
                f.passed.retain(|s| !sites[*s].loops.contains(&lid));
            }
            f.resets.clear();
            f.routed = false;
            self.dispatch_depth += 1;
        }
        let base = self.ref_base(&m.expr);
        let places = if dispatch {
            Vec::new()
        } else {
            self.guard_places(&m.expr)
        };
        self.mark_branched(&mut f, &places);
        // `match x.take() { None => .. }`: on that arm the take took nothing.
        let taken_from = match peel(&m.expr) {
            syn::Expr::MethodCall(mc) if mc.method == "take" && mc.args.is_empty() => {
                self.rooted(place_of(&mc.receiver))
            }
            _ => None,
        };
        let mut out = None;
        for arm in &m.arms {
            let mut fa = f.clone();
            if let Some(t) = &taken_from {
                if pat_is_none(&arm.pat) {
                    let effects = &self.effects;
                    fa.pending.retain(|e, _| {
                        let eff = &effects[*e];
                        !(eff.method.as_deref() == Some("take")
                            && eff.place.as_ref().is_some_and(|q| q.overlaps(t)))
                    });
                }
            }
            self.bind_pattern(&arm.pat, base.clone());
            if taken && !self.arm_is_reset(&arm.pat) {
                let span = m.expr.span();
                let loc = Loc::of(span);
                let id = match self.reset_ids.get(&loc) {
                    Some(&id) => id,
                    None => {
                        let id = self.resets.len();
                        self.resets.push(ResetInfo {
                            loc,
                            text: self.source.text(loc),
                            taken: true,
                        });
                        self.reset_ids.insert(loc, id);
                        id
                    }
                };
                fa.resets.insert(id);
            }
            let pushed = self.push_guard(places.clone(), arm.pat.span(), 5);
            let is_io_arm = site.is_some() && self.pat_has_io(&arm.pat);
            if is_io_arm {
                self.site_override.push(site.expect("checked"));
            }
            let r = match &arm.guard {
                Some((_, g)) => self.expr(g, fa),
                None => Some(fa),
            };
            let r = r.and_then(|fa| self.expr_tail(&arm.body, fa, tail));
            if is_io_arm {
                self.site_override.pop();
            }
            let r = self.pop_guard(pushed, r);
            out = join(out, r);
        }
        if dispatch {
            self.dispatch_depth -= 1;
        }
        let mut out = out?;
        if let Some(s) = site {
            self.passed_call(&mut out, s);
        }
        Some(out)
    }

    fn arm_is_reset(&self, pat: &syn::Pat) -> bool {
        let mut names = Vec::new();
        pat_variants(pat, &mut names);
        names.iter().any(|(en, v)| {
            vocab::RESET_VARIANTS.contains(&v.as_str())
                || self.index.default_variant(en) == Some(v.as_str())
        }) || names.is_empty()
    }

    fn inline_closure(&mut self, cl: &syn::ExprClosure, f: Fact) -> Option<Fact> {
        for input in &cl.inputs {
            self.bind_pattern(input, None);
        }
        self.closures.push(None);
        let end = match peel(&cl.body) {
            syn::Expr::Block(b) if b.label.is_none() => self.block(&b.block, f, Tail::Value),
            other => self.expr(other, f),
        };
        let exits = self.closures.pop().expect("pushed");
        join(end, exits)
    }

    fn call(&mut self, c: &syn::ExprCall, e: &syn::Expr, f: Fact) -> Option<Fact> {
        if let syn::Expr::Closure(cl) = peel(&c.func) {
            let f = self.exprs(c.args.iter(), f)?;
            return self.inline_closure(cl, f);
        }
        let mut f = self.expr(&c.func, f)?;
        for a in &c.args {
            f = self.expr(a, f)?;
        }
        let name = call_path_name(c).unwrap_or_default();
        let from_mem = match peel(&c.func) {
            syn::Expr::Path(p) => {
                p.path.segments.len() == 1 || p.path.segments.iter().any(|s| s.ident == "mem")
            }
            _ => false,
        };
        if from_mem && matches!(name.as_str(), "take" | "replace" | "swap") && !c.args.is_empty() {
            let target = match peel(&c.args[0]) {
                syn::Expr::Reference(r) if r.mutability.is_some() => place_of(&r.expr),
                other => place_of(other),
            };
            if let Some(p) = self.rooted(target) {
                let new_value = c.args.get(1);
                let state =
                    self.is_state_place(&p) || new_value.is_some_and(|v| self.is_state_value(v));
                if state {
                    let reset = name == "take" || new_value.is_some_and(|v| self.is_reset_value(v));
                    self.transition(&mut f, reset.then(|| (e.span(), false)));
                    return Some(f);
                }
                if name != "swap" && self.try_flip(&p, &mut f) {
                    return Some(f);
                }
                self.add_effect(&mut f, EffectKind::MutCall, e.span(), Some(p), Some(&name));
            }
            return Some(f);
        }
        if c.args.iter().any(|a| self.is_state_value(a)) {
            self.transition(&mut f, None);
            return Some(f);
        }
        if vocab::IO_FUNCTIONS.contains(&name.as_str()) {
            self.add_effect(&mut f, EffectKind::IoSubmit, e.span(), None, None);
            return Some(f);
        }
        if vocab::MUTATING_METHODS.contains(&name.as_str()) && !from_mem {
            if let Some(syn::Expr::Reference(r)) = c.args.first().map(peel) {
                if let Some(p) = self
                    .rooted(place_of(&r.expr))
                    .filter(|_| r.mutability.is_some())
                {
                    self.add_effect(&mut f, EffectKind::MutCall, e.span(), Some(p), None);
                }
            }
        }
        Some(f)
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall, e: &syn::Expr, f: Fact) -> Option<Fact> {
        let name = m.method.to_string();
        let mut f = self.expr(&m.receiver, f)?;
        let eager = vocab::EAGER_CLOSURE_METHODS.contains(&name.as_str());
        for a in &m.args {
            match peel(a) {
                syn::Expr::Closure(cl) if eager => {
                    let before = f.clone();
                    let after = self.inline_closure(cl, f);
                    f = join(Some(before), after)?;
                }
                _ => f = self.expr(a, f)?,
            }
        }
        let rooted = self.rooted(place_of(&m.receiver));
        // Transitions written through a method: `state.set(S::B)`,
        // `self.state.replace(S::B)`.
        if matches!(name.as_str(), "set" | "replace" | "store" | "take")
            && vocab::mutating_arity_ok(&name, m.args.len())
        {
            let state_arg = m.args.iter().any(|a| self.is_state_value(a));
            let state_recv = rooted.as_ref().is_some_and(|p| self.is_state_place(p));
            if state_arg || state_recv {
                let reset =
                    name == "take" || m.args.first().is_some_and(|a| self.is_reset_value(a));
                let reset = reset && rooted.is_some();
                self.transition(&mut f, reset.then(|| (e.span(), false)));
                return Some(f);
            }
        }
        if name == "add" && m.args.len() == 1 {
            let group = match place_of(&m.receiver) {
                Some(p) => {
                    (p.proj.is_empty() && self.group_locals.contains(&p.root))
                        || p.last_name().to_ascii_lowercase().contains("group")
                }
                None => false,
            };
            if group {
                self.add_effect(&mut f, EffectKind::GroupAdd, e.span(), None, None);
                return Some(f);
            }
        }
        if let Some(p) = &rooted {
            let arity = vocab::mutating_arity_ok(&name, m.args.len());
            let writes = arity
                && (vocab::GUARD_FLIPPING_METHODS.contains(&name.as_str())
                    || vocab::MUTATING_METHODS.contains(&name.as_str())
                    || vocab::ASSIGNING_METHODS.contains(&name.as_str()));
            if writes && self.is_stack_place(p) {
                // The function finds its way from this place on the next
                // call: changing it is a transition.
                self.transition(&mut f, None);
                return Some(f);
            }
            if writes && self.try_flip(p, &mut f) {
                return Some(f);
            }
            if vocab::IO_METHODS.contains(&name.as_str())
                && (name != "truncate" || !m.args.is_empty())
                && self.looks_like_io(&m.receiver, &name, m.args.len())
            {
                self.add_effect(&mut f, EffectKind::IoSubmit, e.span(), None, None);
                return Some(f);
            }
            if arity && vocab::MUTATING_METHODS.contains(&name.as_str()) {
                self.add_effect(
                    &mut f,
                    EffectKind::MutCall,
                    e.span(),
                    Some(p.clone()),
                    Some(&name),
                );
                return Some(f);
            }
            if vocab::ASSIGNING_METHODS.contains(&name.as_str()) {
                let dependent = m.args.iter().any(|a| {
                    places_read(a)
                        .into_iter()
                        .any(|q| self.rooted(Some(q)).is_some_and(|q| q.overlaps(p)))
                });
                let kind = if dependent {
                    EffectKind::DependentWrite
                } else {
                    EffectKind::Write
                };
                self.add_effect(&mut f, kind, e.span(), Some(p.clone()), None);
                return Some(f);
            }
        } else if vocab::IO_METHODS.contains(&name.as_str())
            && !m.args.is_empty()
            && name != "truncate"
            && self.looks_like_io(&m.receiver, &name, m.args.len())
        {
            self.add_effect(&mut f, EffectKind::IoSubmit, e.span(), None, None);
        }
        Some(f)
    }

    /// Whether `recv.name(..)` reads as an I/O submission: `pread`/`pwrite`
    /// always; `sync`/`truncate` when they take a completion or the
    /// receiver is named like a file.
    fn looks_like_io(&self, recv: &syn::Expr, name: &str, nargs: usize) -> bool {
        if matches!(name, "pread" | "pwrite" | "pwritev" | "preadv") {
            return true;
        }
        let fileish = place_of(recv).is_some_and(|p| {
            let n = p.last_name().to_ascii_lowercase();
            n.contains("file") || n == "fd" || n.contains("storage") || n.contains("device")
        });
        fileish || (name != "truncate" && nargs >= 1)
    }

    fn assign(&mut self, lhs: &syn::Expr, rhs: &syn::Expr, e: &syn::Expr, f: Fact) -> Fact {
        let mut f = f;
        let lp = place_of(lhs);
        let rooted = self.rooted(lp.clone());
        let state_value = self.is_state_value(rhs);
        let state_place = rooted.as_ref().is_some_and(|p| self.is_state_place(p));
        if state_value || state_place {
            if rooted.is_none() {
                if let Some(p) = &lp {
                    if p.proj.is_empty() && state_value {
                        self.state_locals.insert(p.root.clone());
                    }
                }
            }
            let reset =
                rooted.as_ref().is_some_and(|p| self.reads_state(p)) && self.is_reset_value(rhs);
            self.transition(&mut f, reset.then(|| (e.span(), false)));
            return f;
        }
        let Some(p) = rooted else {
            if let Some(lp) = lp {
                if lp.proj.is_empty() {
                    self.forget(&lp.root);
                }
            }
            return f;
        };
        // Writing back what a `take()`/`replace()` took: the take is undone.
        let effects = &self.effects;
        f.pending.retain(|e, _| {
            let eff = &effects[*e];
            !(matches!(eff.method.as_deref(), Some("take" | "replace"))
                && eff.place.as_ref().is_some_and(|q| q.overlaps(&p)))
        });
        if self.try_flip(&p, &mut f) {
            return f;
        }
        let dependent = places_read(rhs)
            .into_iter()
            .any(|q| self.rooted(Some(q)).is_some_and(|q| q.overlaps(&p)));
        if !dependent && f.tested.iter().any(|t| t.overlaps(&p)) {
            // A flag an earlier condition tested: the next call takes the
            // other branch.
            self.transition(&mut f, None);
            return f;
        }
        if !dependent && self.under_state_place(&p) {
            // A new value for a field of the state (`*page = new_page`)
            // moves the state on: the next call sees it.
            self.transition(&mut f, None);
            return f;
        }
        let dependent = places_read(rhs)
            .into_iter()
            .any(|q| self.rooted(Some(q)).is_some_and(|q| q.overlaps(&p)));
        let kind = if dependent {
            EffectKind::DependentWrite
        } else {
            EffectKind::Write
        };
        self.add_effect(&mut f, kind, e.span(), Some(p), None);
        f
    }

    fn mac(&mut self, mac: &syn::Macro, f: Fact) -> Option<Fact> {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let args = || {
            mac.parse_body_with(
                syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
            )
            .ok()
        };
        let span = mac.span();
        if vocab::CALL_YIELD_MACROS.contains(&name.as_str())
            || vocab::RESTORE_YIELD_MACROS.contains(&name.as_str())
        {
            let Some(args) = args() else {
                return Some(f);
            };
            let Some(op) = args.last() else {
                return Some(f);
            };
            let restore = vocab::RESTORE_YIELD_MACROS.contains(&name.as_str());
            let mut f = self.expr_operand(op, f)?;
            let call = self.call_info(op);
            let site = self.site(span, call);
            if restore {
                // The macro writes the saved value back before returning:
                // what was taken from that place is put back.
                let mut io = f.clone();
                io.resets.clear();
                if let Some(target) = args.first().and_then(|a| self.rooted(place_of(a))) {
                    let effects = &self.effects;
                    io.pending.retain(|e, _| {
                        !effects[*e]
                            .place
                            .as_ref()
                            .is_some_and(|p| p.overlaps(&target))
                    });
                }
                self.at_yield(&io, site);
            } else {
                self.at_yield(&f, site);
            }
            self.passed_call(&mut f, site);
            return Some(f);
        }
        if vocab::EXPLICIT_YIELD_MACROS.contains(&name.as_str()) {
            let f = match args() {
                Some(a) => self.exprs(a.iter(), f)?,
                None => f,
            };
            let site = match self.site_override.last() {
                Some(&s) => s,
                None => self.site(span, None),
            };
            self.at_yield(&f, site);
            return None;
        }
        if vocab::CONDITIONAL_YIELD_MACROS.contains(&name.as_str()) {
            let mut f = match args() {
                Some(a) => self.exprs(a.iter(), f)?,
                None => f,
            };
            let site = self.site(span, None);
            self.at_yield(&f, site);
            f.passed.insert(site);
            return Some(f);
        }
        if name == "matches" {
            if let Some(a) = args() {
                if let Some(first) = a.first() {
                    return self.expr(first, f);
                }
            }
        }
        Some(f)
    }

    // ------------------------------------------------------------ output

    fn findings(&self, function: &str, path: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for (&eid, &sid) in &self.effect_reports {
            let eff = &self.effects[eid];
            let site = &self.sites[sid];
            let yl = site.loc.line;
            let (kind, what, note, help) = match eff.kind {
                EffectKind::Compound | EffectKind::DependentWrite | EffectKind::MutCall => (
                    Kind::SideEffect,
                    format!("`{}`", eff.text),
                    format!(
                        "`{function}` may return `IO` at line {yl}; its caller then calls it again from the top, and the state does not change in between"
                    ),
                    "move it after the yield, or give it its own state (write the next state before the yield)".to_string(),
                ),
                EffectKind::Write => (
                    Kind::SideEffect,
                    format!("the assignment `{}`", eff.text),
                    format!(
                        "`{function}` may return `IO` at line {yl}; the assignment runs again on the next call, which is harmless only if nothing between reads the place"
                    ),
                    "move it after the yield, or give it its own state".to_string(),
                ),
                EffectKind::IoSubmit => (
                    Kind::IoSubmission,
                    format!("the I/O submission `{}`", eff.text),
                    format!(
                        "`{function}` may return `IO` at line {yl} without recording the submitted completion in the state, so the next call submits it again"
                    ),
                    "store the completion in the state before the yield and wait on it there".to_string(),
                ),
                EffectKind::GroupAdd => (
                    Kind::GroupAdd,
                    format!("adding a completion to a group (`{}`)", eff.text),
                    format!(
                        "after the yield at line {yl} the next call adds the completion to a new group again (a completion belongs to one group)"
                    ),
                    "build the group once, keep its completion in the state, and yield on that".to_string(),
                ),
                EffectKind::CompletedCall => {
                    let (call, class) = eff.call.as_ref().expect("completed calls have a call");
                    let why = match class {
                        CallClass::RelativeMove => "moves the cursor again",
                        CallClass::AbsoluteMove => "repositions the cursor under the operation in flight",
                        _ => "repeats the change",
                    };
                    (
                        Kind::RepeatedCall,
                        format!("the completed call `{}`", eff.text),
                        format!(
                            "`{}` already returned `Done`; the call that yields at line {yl} is in the same state, so the next call runs `{}` again before resuming it, which {why}",
                            call.name, call.name
                        ),
                        format!(
                            "give each call its own state: advance the state once `{}` returns `Done`, so the next call resumes the second one",
                            call.name
                        ),
                    )
                }
            };
            out.push(Finding {
                path: path.to_string(),
                function: function.to_string(),
                kind,
                loc: eff.loc,
                message: format!(
                    "{what} runs again when `{function}` is re-entered after the yield at line {yl}"
                ),
                yield_point: Some(YieldPoint {
                    loc: site.loc,
                    text: site.text.clone(),
                    source_line: String::new(),
                }),
                note,
                help,
                source_line: String::new(),
            });
        }
        for (&rid, &sid) in &self.reset_reports {
            let r = &self.resets[rid];
            let site = &self.sites[sid];
            let yl = site.loc.line;
            let (message, help) = if r.taken {
                (
                    format!(
                        "the state taken by `{}` is not put back before the call at line {yl}, which can still yield: when `{function}` is re-entered after that yield it starts over from the default state",
                        r.text
                    ),
                    "put the state back before the call (`return_and_restore_if_io!`), or match on the state by reference".to_string(),
                )
            } else {
                (
                    format!(
                        "the state is set to a final or reset value (`{}`) before the call at line {yl}, which can still yield: when `{function}` is re-entered after that yield it does not resume the call",
                        r.text
                    ),
                    "set the state after the call returns `Done`".to_string(),
                )
            };
            out.push(Finding {
                path: path.to_string(),
                function: function.to_string(),
                kind: Kind::EarlyReset,
                loc: r.loc,
                message,
                yield_point: Some(YieldPoint {
                    loc: site.loc,
                    text: site.text.clone(),
                    source_line: String::new(),
                }),
                note: format!("the call at line {yl} may return `IO`; the next call of `{function}` then sees the state written here"),
                help,
                source_line: String::new(),
            });
        }
        out
    }
}

// ---------------------------------------------------------------- helpers

fn pat_is_none(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Ident(i) => i.ident == "None" && i.subpat.is_none(),
        syn::Pat::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "None"),
        _ => false,
    }
}

/// The receiver of a statement that takes a value and drops it.
fn discarded_take(stmt: &syn::Stmt) -> Option<&syn::Expr> {
    let e = match stmt {
        syn::Stmt::Local(l) if matches!(l.pat, syn::Pat::Wild(_)) => &*l.init.as_ref()?.expr,
        syn::Stmt::Expr(e, Some(_)) => e,
        _ => return None,
    };
    match peel(e) {
        syn::Expr::MethodCall(m) if m.method == "take" && m.args.is_empty() => Some(&m.receiver),
        _ => None,
    }
}

/// Enum names that say they are a machine's state.
fn is_state_enum_name(e: &str) -> bool {
    e.contains("State") || e.contains("Phase") || e.contains("Stage")
}

fn strip_unwrap(e: &syn::Expr) -> &syn::Expr {
    match peel(e) {
        syn::Expr::Try(t) => strip_unwrap(&t.expr),
        syn::Expr::MethodCall(m)
            if (m.method == "unwrap" || m.method == "expect") && m.args.len() <= 1 =>
        {
            strip_unwrap(&m.receiver)
        }
        other => other,
    }
}

fn is_call(e: &syn::Expr) -> bool {
    match peel(e) {
        syn::Expr::Try(t) => is_call(&t.expr),
        syn::Expr::Call(_) | syn::Expr::MethodCall(_) => true,
        _ => false,
    }
}

fn is_constructor_name(name: &str) -> bool {
    matches!(name, "Ok" | "Err" | "Some" | "None")
}

/// `&mut T`, or a guard that derefs mutably (`RefMut`, `MutexGuard`).
fn is_mut_reference_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => r.mutability.is_some(),
        syn::Type::Paren(p) => is_mut_reference_type(&p.elem),
        syn::Type::Group(g) => is_mut_reference_type(&g.elem),
        other => last_segment(other).is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "RefMut" | "MutexGuard" | "RwLockWriteGuard"
            )
        }),
    }
}

/// `E` in a parameter typed `&mut E`.
fn state_type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) if r.mutability.is_some() => {
            last_segment(&r.elem).map(|s| s.ident.to_string())
        }
        _ => None,
    }
}

fn is_mut_ref_type_pat(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::Type(t) => matches!(&*t.ty, syn::Type::Reference(r) if r.mutability.is_some()),
        _ => false,
    }
}

fn pat_idents(pat: &syn::Pat, out: &mut Vec<String>) {
    struct V<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
            let s = i.ident.to_string();
            if !s.chars().next().is_some_and(|c| c.is_uppercase()) {
                self.0.push(s);
            }
            syn::visit::visit_pat_ident(self, i);
        }
        fn visit_expr(&mut self, _: &'ast syn::Expr) {}
    }
    V(out).visit_pat(pat);
}

/// The enum a path names a variant of (`State` for `State::Start` and
/// `crate::State::Start`; the impl's type for `Self::Start`).
fn path_enum(path: &syn::Path, self_type: Option<&str>) -> Option<String> {
    let n = path.segments.len();
    if n < 2 {
        return None;
    }
    let variant = path.segments[n - 1].ident.to_string();
    let en = path.segments[n - 2].ident.to_string();
    if !variant.chars().next().is_some_and(|c| c.is_uppercase()) {
        return None;
    }
    let en = if en == "Self" {
        self_type?.to_string()
    } else {
        en
    };
    if !en.chars().next().is_some_and(|c| c.is_uppercase()) {
        return None;
    }
    if matches!(
        en.as_str(),
        "Option" | "Result" | "Ordering" | "Some" | "Ok" | "Err" | "Poll" | "Cow"
    ) {
        return None;
    }
    Some(en)
}

/// `(enum, variant)` of an enum value expression: `E::V`, `E::V(..)`,
/// `E::V { .. }`, `E::default()`.
fn enum_value(e: &syn::Expr, self_type: Option<&str>) -> Option<(String, String)> {
    let path = match peel(e) {
        syn::Expr::Path(p) => &p.path,
        syn::Expr::Call(c) => match peel(&c.func) {
            syn::Expr::Path(p) => &p.path,
            _ => return None,
        },
        syn::Expr::Struct(s) => &s.path,
        _ => return None,
    };
    let n = path.segments.len();
    if n >= 2 && path.segments[n - 1].ident == "default" {
        let en = path.segments[n - 2].ident.to_string();
        let en = if en == "Self" {
            self_type?.to_string()
        } else {
            en
        };
        return Some((en, "default".into()));
    }
    let en = path_enum(path, self_type)?;
    Some((en, path.segments[n - 1].ident.to_string()))
}

/// The enums named by the variant paths of a pattern.
fn pat_enums(pat: &syn::Pat, self_type: Option<&str>, out: &mut Vec<String>) {
    let mut v = Vec::new();
    pat_variants_with(pat, self_type, &mut v);
    for (e, _) in v {
        if !out.contains(&e) {
            out.push(e);
        }
    }
}

fn pat_variants(pat: &syn::Pat, out: &mut Vec<(String, String)>) {
    pat_variants_with(pat, None, out)
}

fn pat_variants_with(pat: &syn::Pat, self_type: Option<&str>, out: &mut Vec<(String, String)>) {
    let top = |p: &syn::Path, out: &mut Vec<(String, String)>| {
        if let Some(en) = path_enum(p, self_type.or(Some("Self"))) {
            let v = p.segments.last().expect("n >= 2").ident.to_string();
            out.push((en, v));
        }
    };
    match pat {
        syn::Pat::Path(p) => top(&p.path, out),
        syn::Pat::TupleStruct(t) => top(&t.path, out),
        syn::Pat::Struct(s) => top(&s.path, out),
        syn::Pat::Or(o) => {
            for c in &o.cases {
                pat_variants_with(c, self_type, out);
            }
        }
        syn::Pat::Reference(r) => pat_variants_with(&r.pat, self_type, out),
        syn::Pat::Paren(p) => pat_variants_with(&p.pat, self_type, out),
        syn::Pat::Ident(i) => {
            if let Some((_, sub)) = &i.subpat {
                pat_variants_with(sub, self_type, out);
            }
        }
        _ => {}
    }
}
