//! Phase 5: the arms of the generated `match`, as code trees ([`Code`]).
//!
//! The function becomes `loop { match state { .. } }`, one arm per
//! [`Entry`]: the start of the body (`Idle`), the code right after each
//! suspension point, and the *merges*: the end of a statement holding a
//! suspension point that two arms reach (after `if c { wait!(a) }`, both the
//! arm of the `wait!` and the arm that took the `else` go on there), and
//! the head of a loop whose body an arm other than the loop's own reaches
//! the end of. An arm runs from its entry to the next entry it meets and
//! jumps there ([`Code::Goto`], a trip round the `loop`), so every piece of
//! user code is emitted once, not once per later suspension point.
//!
//! An arm that starts inside the body is built by walking down from the
//! function's block to the entry: at each level the locals declared before
//! it are restored (later phases decide which), the statement holding the
//! entry is resumed, and the statements after it follow. A `break` out of a
//! loop the arm is only inside of (no `loop` around it in this arm) leaves
//! through a labelled block around the rest of the loop's body, or jumps to
//! the loop's end; a `continue` jumps to the loop's head.
//!
//! Which merges are entries is decided here, by building every arm with
//! every merge an entry, then turning the merges that only one arm reaches
//! back into plain code of that arm, until nothing changes
//! ([`build`]).

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Attribute, Expr, Ident, Lifetime, Pat};

use crate::conditions::{all_cfg, not_cfg};
use crate::ir::*;
use crate::lower::{visit_exits_stmt, visit_exits_stmt_under, Enclosing};
use crate::points::PointId;

/// Where an arm starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    /// The start of the body.
    Idle,
    /// Right after a suspension point.
    Point(PointId),
    /// The end of a statement (a merge).
    After(NodeId),
    /// The head of a loop (a merge).
    Head(NodeId),
}

/// Where a `break` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The end of a loop or labelled block emitted in this arm.
    Node(NodeId),
    /// The end of the labelled block that stands for the rest of a loop's
    /// body in an arm that is inside the loop (a `break` out of the loop).
    Exit(NodeId),
    /// The end of the labelled block around the rest of such a loop's body,
    /// where the jump round to its head is (a `continue`).
    Next(NodeId),
}

/// A jump out of a leaf, as the arm emits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jump {
    /// To the end of a construct; the carrier it sets first, if any.
    Break(Target, Option<LocalId>),
    /// To the head of a loop emitted in this arm.
    Continue(NodeId),
    /// Round the dispatch loop to another arm; the carrier it sets first.
    Goto(Entry, Option<LocalId>),
    /// Out of the function.
    Return,
}

/// One arm.
pub struct Arm {
    pub entry: Entry,
    pub code: Code,
    /// `#[cfg]` of the statements around the entry: the arm exists only
    /// where they hold.
    pub cfg: Vec<Attribute>,
}

/// The code of an arm: the user's code, restructured.
#[allow(clippy::large_enum_variant)]
pub enum Code {
    /// A scope. `restores` are the locals declared at this level before the
    /// point where the arm starts (restored, or re-declared, as needed).
    Block {
        restores: Vec<LocalId>,
        /// Pattern bindings that a scope of this kind declares on entry
        /// (`if let`, match arms), when the arm runs it fresh.
        binds: Vec<LocalId>,
        items: Vec<Code>,
        label: Option<(NodeId, Lifetime)>,
        unsafety: bool,
        attrs: Vec<Attribute>,
    },
    /// A user statement; `__io_jump!(K)` in it stands for `jumps[K]`.
    Leaf {
        stmt: Rc<syn::Stmt>,
        info: Rc<LeafInfo>,
        jumps: Vec<Jump>,
        /// The jumps that replaced exits, by index in `jumps`.
        rewritten: Vec<usize>,
    },
    If {
        attrs: Vec<Attribute>,
        cond: CondCode,
        then: Box<Code>,
        els: Option<Box<Code>>,
    },
    Match {
        attrs: Vec<Attribute>,
        scrut: CondCode,
        arms: Vec<ArmCode>,
    },
    /// A loop emitted in this arm (`loop`, or a `while`/`for` that holds
    /// no point, as written).
    Loop {
        id: NodeId,
        attrs: Vec<Attribute>,
        label: Lifetime,
        header: LoopHeader,
        body: Box<Code>,
    },
    /// The rest of a loop's body, in an arm that is inside the loop: a
    /// labelled block that `break`s (target `Exit`) or `continue`s (target
    /// `Next`) leave.
    Exit {
        target: Target,
        label: Lifetime,
        body: Box<Code>,
    },
    /// `let PAT = init else { diverge };` with a point in `diverge`.
    LetElse {
        attrs: Vec<Attribute>,
        pat: Pat,
        init: Expr,
        info: LeafInfo,
        defs: Vec<LocalId>,
        diverge: Box<Code>,
    },
    /// Go to another arm (round the dispatch loop).
    Goto(Entry),
    /// A suspension point reached: evaluate the operand, go to its arm.
    Arrive(PointId),
    /// Resume at a suspension point: the marker's value goes to its sink.
    Resume { point: PointId, sink: ResumeSink },
    /// The function's value: `return <tail>`.
    Return(syn::Expr, LeafInfo),
    /// `#[cfg(..)] { body }`, and with `els`,
    /// `#[cfg(not(..))] { els }` after it: exactly one of the two is
    /// compiled. Without `els`, where the attribute is false control goes
    /// on past it if `skips`, and never gets there if not (the code after a
    /// statement that jumps away where the attribute is false).
    Cfg {
        attrs: Vec<Attribute>,
        body: Box<Code>,
        els: Option<Box<Code>>,
        skips: bool,
    },
    /// Code in the enclosing scope.
    Seq(Vec<Code>),
}

#[allow(clippy::large_enum_variant)]
pub enum CondCode {
    Plain(Expr, LeafInfo),
    /// `if <resumed marker>` / `match <resumed marker>`.
    Resume(PointId),
    /// `if let PAT = <resumed marker>`.
    LetResume(Pat, PointId),
}

pub struct ArmCode {
    pub attrs: Vec<Attribute>,
    pub pat: Pat,
    pub guard: Option<(Expr, LeafInfo)>,
    pub body: Code,
}

#[allow(clippy::large_enum_variant)]
pub enum ResumeSink {
    Discard {
        semi: bool,
    },
    Let {
        attrs: Vec<Attribute>,
        pat: Pat,
        defs: Vec<LocalId>,
        diverge: Option<Box<Code>>,
    },
    Assign {
        place: Expr,
        op: TokenStream,
        info: LeafInfo,
    },
}

/// The arms of a function, and the entries that are merges.
pub struct Arms {
    pub arms: Vec<Arm>,
    /// The merges that are entries.
    pub merges: BTreeSet<Entry>,
}

/// A step of the path from the body's block down to an entry.
#[derive(Clone, Copy, Debug)]
enum Step {
    Stmt(usize),
    Then,
    Else,
    ArmBody(usize),
    Body,
    Diverge,
}

/// Where in the tree each point and statement is.
#[derive(Default)]
struct Paths {
    points: BTreeMap<PointId, (Vec<Step>, Vec<Attribute>)>,
    stmts: BTreeMap<NodeId, (Vec<Step>, Vec<Attribute>)>,
    loops: BTreeSet<NodeId>,
    /// The `#[cfg]` inside each statement.
    heads: BTreeMap<NodeId, Vec<Attribute>>,
    /// Statements holding a point: the candidates for merges.
    holders: Vec<NodeId>,
    /// Those of them under `#[cfg]`: their ends are always merges.
    cfg_holders: Vec<NodeId>,
}

fn paths(body: &Body) -> Paths {
    let mut p = Paths::default();
    let mut path = Vec::new();
    let mut cfg = Vec::new();
    walk_block(&body.block, &mut path, &mut cfg, &mut p);
    p
}

fn walk_block(b: &Block, path: &mut Vec<Step>, cfg: &mut Vec<Attribute>, p: &mut Paths) {
    for (i, s) in b.stmts.iter().enumerate() {
        path.push(Step::Stmt(i));
        // A statement's arms (its end, a loop's head, its points) exist
        // where its `#[cfg]` holds.
        let n = cfg.len();
        cfg.extend(s.cfg.iter().cloned());
        p.stmts.insert(s.id, (path.clone(), cfg.clone()));
        p.heads.insert(s.id, cfg.clone());
        if s.has_point && !s.cfg.is_empty() {
            p.cfg_holders.push(s.id);
        }
        if s.has_point {
            p.holders.push(s.id);
        }
        match &s.kind {
            StmtKind::Leaf(_) => {}
            StmtKind::Point(ps) => {
                p.points.insert(ps.point, (path.clone(), cfg.clone()));
                if let Sink::Let {
                    diverge: Some(d), ..
                } = &ps.sink
                {
                    path.push(Step::Diverge);
                    walk_block(d, path, cfg, p);
                    path.pop();
                }
            }
            StmtKind::If(i) => walk_if(i, path, cfg, p),
            StmtKind::Match(m) => {
                if let Cond::Point(pt) | Cond::LetPoint { point: pt, .. } = &m.scrut {
                    p.points.insert(*pt, (path.clone(), cfg.clone()));
                }
                for (k, arm) in m.arms.iter().enumerate() {
                    path.push(Step::ArmBody(k));
                    let n = cfg.len();
                    cfg.extend(
                        arm.attrs
                            .iter()
                            .filter(|a| a.path().is_ident("cfg"))
                            .cloned(),
                    );
                    walk_block(&arm.body, path, cfg, p);
                    cfg.truncate(n);
                    path.pop();
                }
            }
            StmtKind::Loop(l) => {
                p.loops.insert(s.id);
                path.push(Step::Body);
                walk_block(&l.body, path, cfg, p);
                path.pop();
            }
            StmtKind::Block(bs) => {
                path.push(Step::Body);
                walk_block(&bs.body, path, cfg, p);
                path.pop();
            }
            StmtKind::LetElse(le) => {
                path.push(Step::Diverge);
                walk_block(&le.diverge, path, cfg, p);
                path.pop();
            }
        }
        cfg.truncate(n);
        path.pop();
    }
}

fn walk_if(i: &If, path: &mut Vec<Step>, cfg: &mut Vec<Attribute>, p: &mut Paths) {
    if let Cond::Point(pt) | Cond::LetPoint { point: pt, .. } = &i.cond {
        p.points.insert(*pt, (path.clone(), cfg.clone()));
    }
    path.push(Step::Then);
    walk_block(&i.then, path, cfg, p);
    path.pop();
    match i.els.as_deref() {
        Some(Else::Block(b)) => {
            path.push(Step::Else);
            walk_block(b, path, cfg, p);
            path.pop();
        }
        Some(Else::If(inner)) => {
            path.push(Step::Else);
            walk_if(inner, path, cfg, p);
            path.pop();
        }
        None => {}
    }
}

/// Every statement holding a point that may be a merge, and every loop
/// holding one.
fn candidates(paths: &Paths) -> BTreeSet<Entry> {
    let mut merges = BTreeSet::new();
    for id in &paths.holders {
        merges.insert(Entry::After(*id));
        if paths.loops.contains(id) {
            merges.insert(Entry::Head(*id));
        }
    }
    merges
}

/// The arms with every candidate merge an entry: the finest split, from
/// which liveness tells where dropping differs between a merge and none
/// ([`crate::liveness::pins`]). [`build`] starts from what it learnt.
pub struct Finest {
    pub arms: Arms,
    paths: Paths,
    /// Who jumps to each candidate merge in this split.
    sites: BTreeMap<Entry, Sites>,
}

/// Builds the finest split: every candidate merge that some arm reaches is
/// an entry.
pub fn all_cuts(body: &Body) -> Finest {
    let paths = paths(body);
    let mut merges = candidates(&paths);
    let (mut arms, sites, _) = emit_all(body, &paths, &merges, &BTreeSet::new(), false);
    merges.retain(|m| sites.contains_key(m));
    arms.retain(|a| {
        !matches!(a.entry, Entry::After(_) | Entry::Head(_)) || merges.contains(&a.entry)
    });
    Finest {
        arms: Arms { arms, merges },
        paths,
        sites,
    }
}

/// Builds the arms of `body`, deciding which merges are entries. The
/// `pinned` merges stay entries and are never copied: a local that is not
/// used after them would be dropped later if they were not.
pub fn build(body: &Body, finest: Finest, pinned: &BTreeSet<Entry>) -> Arms {
    let Finest { paths, sites, .. } = finest;
    let mut pinned = pinned.clone();
    pinned.extend(paths.cfg_holders.iter().map(|id| Entry::After(*id)));
    let pinned = &pinned;
    let mut known = Some(sites);
    let mut merges = candidates(&paths);
    // The first round is the finest split again (nothing is copied before
    // the last rounds, so `pinned` does not change it): its jumps are known.
    loop {
        let sites = match known.take() {
            Some(sites) => sites,
            None => emit_all(body, &paths, &merges, pinned, false).1,
        };
        let before = merges.len();
        merges.retain(|m| {
            let s = sites.get(m);
            if pinned.contains(m) {
                return s.is_some();
            }
            match m {
                Entry::After(_) => s.is_some_and(|s| s.sources.len() >= 2),
                Entry::Head(_) => s.is_some_and(|s| s.back_edges),
                _ => true,
            }
        });
        if merges.len() == before {
            break;
        }
    }
    // The final arms, with small loop heads copied to where they are
    // entered; a merge that nothing jumps to any more has no arm.
    // A head whose `break` would be copied with it needs the loop's end to
    // be a merge; that costs a jump once per loop, not one per iteration.
    let (mut arms, sites) = loop {
        let (arms, sites, wants) = emit_all(body, &paths, &merges, pinned, true);
        let before = merges.len();
        merges.extend(wants.into_iter().map(Entry::After));
        if merges.len() == before {
            break (arms, sites);
        }
    };
    merges.retain(|m| sites.contains_key(m));
    arms.retain(|a| {
        !matches!(a.entry, Entry::After(_) | Entry::Head(_)) || merges.contains(&a.entry)
    });
    narrow_to_arrivals(&mut arms);
    Arms {
        arms: in_flow_order(arms),
        merges,
    }
}

/// Gives a merge whose every arrival is under `#[cfg]` the disjunction of
/// their conditions: a copy of the merge's code inlined where the
/// attribute holds can leave it reached only where it does not, and an arm
/// compiled where nothing jumps to it reads carriers that no compiled code
/// stores (an untyped one then falls back to `()`: difftest seed 47,
/// program 62968). One pass over the arms' own `#[cfg]`s: a jump from the
/// merge itself does not make it reachable and is left out; a jump from
/// another narrowed arm counts under that arm's wider first condition,
/// which can only keep an arm, never drop one that is reached.
fn narrow_to_arrivals(arms: &mut [Arm]) {
    let mut arrivals: BTreeMap<Entry, Vec<Vec<Attribute>>> = BTreeMap::new();
    for arm in arms.iter() {
        let mut cfg = arm.cfg.clone();
        let mut found = BTreeMap::new();
        arrival_cfgs(&arm.code, &mut cfg, &mut found);
        found.remove(&arm.entry);
        for (e, cfgs) in found {
            arrivals.entry(e).or_default().extend(cfgs);
        }
    }
    for arm in arms.iter_mut() {
        if !matches!(arm.entry, Entry::After(_) | Entry::Head(_)) {
            continue;
        }
        let Some(from) = arrivals.get(&arm.entry) else {
            continue;
        };
        // An arrival under no condition beyond the arm's own makes the
        // disjunction no narrower than what the arm has.
        let own: BTreeSet<String> = arm.cfg.iter().map(|a| quote!(#a).to_string()).collect();
        if from
            .iter()
            .any(|attrs| attrs.iter().all(|a| own.contains(&quote!(#a).to_string())))
        {
            continue;
        }
        let mut alternatives: Vec<TokenStream> = from.iter().map(|a| all_cfg(a)).collect();
        alternatives.sort_by_key(ToString::to_string);
        alternatives.dedup_by_key(|a| a.to_string());
        arm.cfg
            .push(syn::parse_quote!(#[cfg(any(#(#alternatives),*))]));
    }
}

/// The `#[cfg]`s in force at each jump of `code` (as [`successors`] finds
/// them), by target. `Code::Cfg` is the only condition read: a jump under
/// any other `#[cfg]` counts as unconditional, which only keeps an arm.
fn arrival_cfgs(
    code: &Code,
    cfg: &mut Vec<Attribute>,
    out: &mut BTreeMap<Entry, Vec<Vec<Attribute>>>,
) {
    jump_targets(code, |e| out.entry(e).or_default().push(cfg.clone()));
    each_child(code, &mut |c, under| {
        let n = cfg.len();
        match under {
            Under::Same => {}
            Under::CfgBody(attrs) => cfg.extend(attrs.iter().cloned()),
            Under::CfgElse(attrs) => cfg.push(not_cfg(attrs)),
        }
        arrival_cfgs(c, cfg, out);
        cfg.truncate(n);
    });
}

/// Where a piece of code sits in the code that holds it.
enum Under<'c> {
    /// Under the same `#[cfg]`s as its holder.
    Same,
    /// In the body of a `Code::Cfg` with these attributes.
    CfgBody(&'c [Attribute]),
    /// In the `els` of a `Code::Cfg` with these attributes.
    CfgElse(&'c [Attribute]),
}

/// Calls `f` on each piece of code directly inside `code`, in the order
/// they are emitted.
fn each_child<'c>(code: &'c Code, f: &mut impl FnMut(&'c Code, Under<'c>)) {
    match code {
        Code::Block { items, .. } | Code::Seq(items) => {
            items.iter().for_each(|c| f(c, Under::Same))
        }
        Code::If { then, els, .. } => {
            f(then, Under::Same);
            if let Some(e) = els {
                f(e, Under::Same);
            }
        }
        Code::Cfg {
            attrs, body, els, ..
        } => {
            f(body, Under::CfgBody(attrs));
            if let Some(e) = els {
                f(e, Under::CfgElse(attrs));
            }
        }
        Code::Match { arms, .. } => arms.iter().for_each(|a| f(&a.body, Under::Same)),
        Code::Loop { body, .. } | Code::Exit { body, .. } => f(body, Under::Same),
        Code::LetElse { diverge, .. }
        | Code::Resume {
            sink:
                ResumeSink::Let {
                    diverge: Some(diverge),
                    ..
                },
            ..
        } => f(diverge, Under::Same),
        Code::Leaf { .. }
        | Code::Goto(_)
        | Code::Arrive(_)
        | Code::Resume { .. }
        | Code::Return(..) => {}
    }
}

/// Calls `f` on each piece of code in `code`, `code` first, each before
/// what it holds and in the order they are emitted.
pub fn visit<'c>(code: &'c Code, f: &mut impl FnMut(&'c Code)) {
    f(code);
    each_child(code, &mut |c, _| visit(c, f));
}

/// The entries `code` itself jumps to round the dispatch loop (not those
/// of the code inside it), in the order they appear.
fn jump_targets(code: &Code, mut f: impl FnMut(Entry)) {
    match code {
        Code::Leaf { jumps, .. } => {
            for j in jumps {
                if let Jump::Goto(e, _) = j {
                    f(*e);
                }
            }
        }
        Code::Goto(e) => f(*e),
        _ => {}
    }
}

/// The entries an arm's code goes to (a jump round the dispatch loop, or a
/// suspension point reached), in the order they appear.
pub fn successors(code: &Code, out: &mut Vec<Entry>) {
    visit(code, &mut |c| {
        jump_targets(c, |e| out.push(e));
        if let Code::Arrive(p) = c {
            out.push(Entry::Point(*p));
        }
    });
}

/// For each arm, the indices in `arms` of the arms it goes to, in the
/// order its code names them (repeats kept).
pub fn successor_indices(arms: &[Arm]) -> Vec<Vec<usize>> {
    let index: BTreeMap<Entry, usize> =
        arms.iter().enumerate().map(|(i, a)| (a.entry, i)).collect();
    arms.iter()
        .map(|a| {
            let mut out = Vec::new();
            successors(&a.code, &mut out);
            out.iter().filter_map(|e| index.get(e).copied()).collect()
        })
        .collect()
}

/// The arms in the order a run first meets them (reverse postorder of the
/// jumps between them, from `Idle`), arms no run reaches last.
///
/// rustc infers the type of a carrier (`let mut __io_m3 = None;`) from the
/// first use it checks, in the order of the source. In this order every
/// arm but `Idle` comes after an arm that jumps to it, and so after one
/// that stores every local it takes from a carrier, with its type known
/// there: a field access or method call on a restored local never meets a
/// carrier whose type is still unknown.
fn in_flow_order(arms: Vec<Arm>) -> Vec<Arm> {
    let succ = successor_indices(&arms);
    let idle = arms.iter().position(|a| a.entry == Entry::Idle);
    let mut seen = vec![false; arms.len()];
    let mut post = Vec::with_capacity(arms.len());
    if let Some(start) = idle {
        // Depth first without recursion: (arm, next successor to visit).
        let mut stack = vec![(start, 0usize)];
        seen[start] = true;
        while let Some((a, k)) = stack.pop() {
            match succ[a].get(k) {
                Some(&b) => {
                    stack.push((a, k + 1));
                    if !seen[b] {
                        seen[b] = true;
                        stack.push((b, 0));
                    }
                }
                None => post.push(a),
            }
        }
    }
    post.reverse();
    post.extend((0..arms.len()).filter(|i| !seen[*i]));
    let mut slots: Vec<Option<Arm>> = arms.into_iter().map(Some).collect();
    post.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The largest loop head (in tokens, roughly) that is copied to the places
/// that enter it instead of being an arm of its own.
const INLINE_LIMIT: usize = 160;

/// The size of code, in tokens (roughly).
fn size(code: &Code) -> usize {
    match code {
        Code::Block {
            items, restores, ..
        } => 2 + restores.len() * 8 + items.iter().map(size).sum::<usize>(),
        Code::Seq(items) => items.iter().map(size).sum(),
        Code::Leaf { stmt, .. } => token_count(quote::ToTokens::to_token_stream(stmt)),
        Code::If {
            cond, then, els, ..
        } => {
            let c = match cond {
                CondCode::Plain(e, _) => token_count(quote::ToTokens::to_token_stream(e)),
                _ => 40,
            };
            c + size(then) + els.as_deref().map_or(0, size)
        }
        Code::Match { arms, .. } => 8 + arms.iter().map(|a| 8 + size(&a.body)).sum::<usize>(),
        Code::Loop { body, .. } | Code::Exit { body, .. } => 4 + size(body),
        Code::Cfg { body, els, .. } => 4 + size(body) + els.as_deref().map_or(0, size),
        Code::LetElse { diverge, .. } => 16 + size(diverge),
        Code::Goto(_) => 16,
        Code::Arrive(_) | Code::Resume { .. } => 40,
        Code::Return(e, _) => 2 + token_count(quote::ToTokens::to_token_stream(e)),
    }
}

fn token_count(t: TokenStream) -> usize {
    t.into_iter()
        .map(|tt| match tt {
            proc_macro2::TokenTree::Group(g) => 2 + token_count(g.stream()),
            _ => 1,
        })
        .sum()
}

/// Who jumps to a merge.
#[derive(Default)]
struct Sites {
    sources: BTreeSet<Entry>,
    /// A jump to a loop head from inside the loop.
    back_edges: bool,
}

fn emit_all(
    body: &Body,
    paths: &Paths,
    merges: &BTreeSet<Entry>,
    pinned: &BTreeSet<Entry>,
    inline: bool,
) -> (Vec<Arm>, BTreeMap<Entry, Sites>, BTreeSet<NodeId>) {
    let mut entries = vec![Entry::Idle];
    entries.extend(paths.points.keys().map(|p| Entry::Point(*p)));
    entries.extend(merges.iter().copied());
    let mut sites = BTreeMap::new();
    let mut wants = BTreeSet::new();
    let mut arms = Vec::new();
    for entry in entries {
        let mut e = Emitter {
            body,
            paths,
            merges,
            pinned,
            arm: entry,
            sites: &mut sites,
            wants: &mut wants,
            stack: Vec::new(),
            broken: BTreeSet::new(),
            inline,
            inlining: false,
            held: Vec::new(),
            under: Vec::new(),
        };
        let (code, cfg) = e.arm();
        arms.push(Arm { entry, code, cfg });
    }
    (arms, sites, wants)
}

/// Whether control can fall out of the end of emitted code.
#[derive(Clone)]
enum Falls {
    Never,
    Always,
    /// Only where these `#[cfg]`s hold (all of them): after a statement
    /// whose point sits under a `#[cfg]` that holds, the code that follows
    /// runs only where it does not, and is compiled only there too, since
    /// where it is not reached a value carrier it uses is never assigned.
    Under(Vec<Attribute>),
}

impl Falls {
    fn from(falls: bool) -> Falls {
        if falls {
            Falls::Always
        } else {
            Falls::Never
        }
    }

    fn any(&self) -> bool {
        !matches!(self, Falls::Never)
    }

    /// Falls if either does.
    fn or(self, other: Falls) -> Falls {
        match (self, other) {
            (Falls::Never, f) | (f, Falls::Never) => f,
            (Falls::Under(a), Falls::Under(b)) if same_attrs(&a, &b) => Falls::Under(a),
            _ => Falls::Always,
        }
    }

    /// Falls through this, then through `next`.
    fn then(self, next: Falls) -> Falls {
        match (self, next) {
            (Falls::Never, _) | (_, Falls::Never) => Falls::Never,
            (Falls::Always, f) | (f, Falls::Always) => f,
            (Falls::Under(mut a), Falls::Under(b)) => {
                a.extend(b);
                Falls::Under(a)
            }
        }
    }
}

/// Whether two lists of attributes are written the same.
pub fn same_attrs(a: &[Attribute], b: &[Attribute]) -> bool {
    let text = |l: &[Attribute]| quote!(#(#l)*).to_string();
    text(a) == text(b)
}

/// Appends `rest`, the code that runs after falling out of the last item,
/// to `items`: where `falls` is under `#[cfg]`, in a block compiled only
/// there.
fn followed(items: &mut Vec<Code>, falls: &Falls, rest: Vec<Code>) {
    match falls {
        Falls::Under(attrs) if !rest.is_empty() => items.push(Code::Cfg {
            attrs: attrs.clone(),
            body: Box::new(Code::Seq(rest)),
            els: None,
            skips: false,
        }),
        _ => items.extend(rest),
    }
}

/// How an arm treats a loop or labelled block around the code it emits.
#[derive(Clone)]
enum Mode {
    /// Emitted in this arm: its `break`s and `continue`s are kept.
    Real,
    /// The arm is inside it but does not emit it: a `break` leaves through
    /// the labelled block `exit` around the rest of the body, a `continue`
    /// through `next` (while `in_next`: in the body, not in a copy of the
    /// head after it, from where it jumps to the head). The jumps to the
    /// loop's end and head are made at the loop's level, where the locals
    /// they carry are not shadowed. `used`/`next_used` record whether the
    /// blocks are needed.
    Inside {
        exit: Lifetime,
        used: bool,
        /// The `#[cfg]`s every `break` through `exit` is compiled under
        /// (none: some `break` is compiled everywhere).
        exit_under: Vec<Attribute>,
        next: Lifetime,
        next_used: bool,
        in_next: bool,
    },
}

fn inside(id: NodeId) -> Mode {
    Mode::Inside {
        exit: exit_label(id),
        used: false,
        exit_under: Vec::new(),
        next: Lifetime::new(&format!("'__io_next{}", id.0), Span::mixed_site()),
        next_used: false,
        in_next: true,
    }
}

struct Ctx {
    enclosing: Enclosing,
    mode: Mode,
}

struct Emitter<'a> {
    body: &'a Body,
    paths: &'a Paths,
    merges: &'a BTreeSet<Entry>,
    /// Merges that must stay jumps (see [`build`]).
    pinned: &'a BTreeSet<Entry>,
    arm: Entry,
    sites: &'a mut BTreeMap<Entry, Sites>,
    /// Loops whose head would be copied if their end were a merge.
    wants: &'a mut BTreeSet<NodeId>,
    stack: Vec<Ctx>,
    /// Loops and labelled blocks emitted in this arm that a `break` leaves.
    broken: BTreeSet<NodeId>,
    /// Whether small loop heads are copied to the places that jump there.
    inline: bool,
    /// Copying one now (copies are not nested).
    inlining: bool,
    /// The jumps the copy being tried makes, recorded in `sites` only if
    /// the copy is kept.
    held: Vec<(Entry, bool)>,
    /// The `#[cfg]`s the code being emitted is compiled under: the code
    /// after a statement that leaves where its `#[cfg]` holds.
    under: Vec<Attribute>,
}

/// The label a loop gets in generated code: its own, or a made-up one.
pub fn loop_label(id: NodeId, label: &Option<syn::Label>) -> Lifetime {
    match label {
        Some(l) => l.name.clone(),
        None => Lifetime::new(&format!("'__io_l{}", id.0), Span::mixed_site()),
    }
}

fn exit_label(id: NodeId) -> Lifetime {
    Lifetime::new(&format!("'__io_exit{}", id.0), Span::mixed_site())
}

/// The placeholder a rewritten exit leaves in a leaf: `__io_jump!(K)`.
pub const JUMP: &str = "__io_jump";

fn scope(restores: Vec<LocalId>, binds: Vec<LocalId>, items: Vec<Code>) -> Code {
    Code::Block {
        restores,
        binds,
        items,
        label: None,
        unsafety: false,
        attrs: Vec::new(),
    }
}

/// The locals declared at a block's own level.
fn level_defs(s: &Stmt) -> &[LocalId] {
    match &s.kind {
        StmtKind::Leaf(l) => &l.info.defs,
        StmtKind::Point(PointStmt {
            sink: Sink::Let { defs, .. },
            ..
        }) => defs,
        StmtKind::LetElse(le) => &le.defs,
        _ => &[],
    }
}

impl Emitter<'_> {
    /// Runs `f` with `attrs` added to the `#[cfg]`s the code it emits is
    /// compiled under.
    fn compiled_under<T>(&mut self, attrs: &[Attribute], f: impl FnOnce(&mut Self) -> T) -> T {
        let n = self.under.len();
        self.under.extend(attrs.iter().cloned());
        let out = f(self);
        self.under.truncate(n);
        out
    }

    fn is_merge(&self, e: Entry) -> bool {
        self.merges.contains(&e)
    }

    fn goto(&mut self, target: Entry, back_edge: bool) -> Code {
        if self.inlining {
            self.held.push((target, back_edge));
        } else {
            self.record(target, back_edge);
        }
        Code::Goto(target)
    }

    fn record(&mut self, target: Entry, back_edge: bool) {
        let s = self.sites.entry(target).or_default();
        s.sources.insert(self.arm);
        s.back_edges |= back_edge;
    }

    /// Ends the copy being tried: its jumps count if it is kept.
    fn settle(&mut self, kept: bool) {
        for (target, back_edge) in std::mem::take(&mut self.held) {
            if kept {
                self.record(target, back_edge);
            }
        }
    }

    fn arm(&mut self) -> (Code, Vec<Attribute>) {
        let body = self.body;
        match self.arm {
            Entry::Idle => {
                let mut items = Vec::new();
                self.forward(&body.block, 0, &mut items);
                (scope(Vec::new(), Vec::new(), items), Vec::new())
            }
            Entry::Point(p) => {
                let (path, cfg) = self.paths.points[&p].clone();
                let (code, _) = self.resume_block(&body.block, &path, Target_::Point(p));
                (code, cfg)
            }
            Entry::After(id) | Entry::Head(id) => {
                let (path, mut cfg) = self.paths.stmts[&id].clone();
                if let Entry::Head(_) = self.arm {
                    cfg = self.paths.heads[&id].clone();
                }
                let t = match self.arm {
                    Entry::After(_) => Target_::End,
                    _ => Target_::Head,
                };
                let (code, _) = self.resume_block(&body.block, &path, t);
                (code, cfg)
            }
        }
    }

    /// Emits `b.stmts[from..]` (and the body's tail) as they run when
    /// reached; whether (and where) control can fall out of the end.
    fn forward(&mut self, b: &Block, from: usize, items: &mut Vec<Code>) -> Falls {
        for (k, s) in b.stmts.iter().enumerate().skip(from) {
            if s.has_point && !s.cfg.is_empty() {
                // Where the `#[cfg]` holds, the statement runs and its end
                // is a merge (as after any statement holding a point);
                // where it does not, the code after it simply follows.
                let (code, falls) = self.fresh_kind(s);
                let mut inner = vec![code];
                if falls.any() {
                    inner.push(self.goto(Entry::After(s.id), false));
                }
                let mut rest = Vec::new();
                let not = not_cfg(&s.cfg);
                let falls = self.compiled_under(std::slice::from_ref(&not), |e| {
                    e.forward(b, k + 1, &mut rest)
                });
                items.push(Code::Cfg {
                    attrs: s.cfg.clone(),
                    body: Box::new(Code::Seq(inner)),
                    els: Some(Box::new(Code::Seq(rest))),
                    skips: false,
                });
                return Falls::Under(vec![not]).then(falls);
            }
            let (code, falls) = self.fresh_stmt(s);
            items.push(code);
            match falls {
                Falls::Never => return Falls::Never,
                Falls::Always => {
                    if s.has_point && self.is_merge(Entry::After(s.id)) {
                        // A jump to the merge (or a copy of it).
                        return self.after(b, k, false, items);
                    }
                }
                Falls::Under(ref attrs) => {
                    let mut rest = Vec::new();
                    let next = self.compiled_under(attrs, |e| e.after(b, k, false, &mut rest));
                    followed(items, &falls, rest);
                    return falls.then(next);
                }
            }
        }
        if let Some(tail) = &b.tail {
            items.push(self.ret(tail));
            return Falls::Never;
        }
        Falls::Always
    }

    /// The code after `b.stmts[k]`, reached by falling out of it: a jump to
    /// (or a copy of) its end if that is a merge (and not the arm's own
    /// entry, `own`), else the statements after it.
    fn after(&mut self, b: &Block, k: usize, own: bool, items: &mut Vec<Code>) -> Falls {
        let s = &b.stmts[k];
        if s.has_point && !own && self.is_merge(Entry::After(s.id)) {
            if !self.inline_after(b, k, items) {
                let g = self.goto(Entry::After(s.id), false);
                items.push(g);
            }
            return Falls::Never;
        }
        self.forward(b, k + 1, items)
    }

    fn ret(&mut self, tail: &Leaf) -> Code {
        match &*tail.stmt {
            syn::Stmt::Expr(e, _) => Code::Return(e.clone(), (*tail.info).clone()),
            _ => Code::Seq(Vec::new()),
        }
    }

    fn block_fresh(&mut self, b: &Block) -> (Code, Falls) {
        let mut items = Vec::new();
        let falls = self.forward(b, 0, &mut items);
        (scope(Vec::new(), b.entry_binds.clone(), items), falls)
    }

    fn with_cfg(s: &Stmt, code: Code, falls: Falls) -> (Code, Falls) {
        if s.cfg.is_empty() {
            (code, falls)
        } else {
            // Where the attribute is false, the statement is not there and
            // control goes on after it.
            (
                Code::Cfg {
                    attrs: s.cfg.clone(),
                    body: Box::new(code),
                    els: None,
                    skips: true,
                },
                Falls::Always,
            )
        }
    }

    /// A statement reached from its start.
    fn fresh_stmt(&mut self, s: &Stmt) -> (Code, Falls) {
        let (code, falls) = self.compiled_under(&s.cfg, |e| e.fresh_kind(s));
        Self::with_cfg(s, code, falls)
    }

    /// A statement reached from its start, without its `#[cfg]`.
    fn fresh_kind(&mut self, s: &Stmt) -> (Code, Falls) {
        let (code, falls) = match &s.kind {
            StmtKind::Leaf(l) => self.leaf(l),
            StmtKind::Point(ps) => (Code::Arrive(ps.point), Falls::Never),
            StmtKind::If(i) => self.if_fresh(i),
            StmtKind::Match(m) => match &m.scrut {
                Cond::Point(p) | Cond::LetPoint { point: p, .. } => {
                    (Code::Arrive(*p), Falls::Never)
                }
                Cond::Plain { expr, info } => {
                    let scrut = CondCode::Plain(expr.clone(), info.clone());
                    self.match_code(m, scrut)
                }
            },
            StmtKind::Loop(l) => {
                if self.is_merge(Entry::Head(s.id)) {
                    match self.inline_head(s.id, l, true) {
                        Some(copy) => copy,
                        None => (self.goto(Entry::Head(s.id), false), Falls::Never),
                    }
                } else {
                    self.real_loop(s.id, l)
                }
            }
            StmtKind::Block(bs) => self.block_stmt(s.id, bs, None),
            StmtKind::LetElse(le) => {
                let (diverge, _) = self.block_fresh(&le.diverge);
                (
                    Code::LetElse {
                        attrs: le.attrs.clone(),
                        pat: le.pat.clone(),
                        init: le.init.clone(),
                        info: le.info.clone(),
                        defs: le.defs.clone(),
                        diverge: Box::new(diverge),
                    },
                    Falls::Always,
                )
            }
        };
        (code, falls)
    }

    fn if_fresh(&mut self, i: &If) -> (Code, Falls) {
        let cond = match &i.cond {
            Cond::Point(p) | Cond::LetPoint { point: p, .. } => {
                return (Code::Arrive(*p), Falls::Never)
            }
            Cond::Plain { expr, info } => CondCode::Plain(expr.clone(), info.clone()),
        };
        self.if_code(i, cond)
    }

    fn if_code(&mut self, i: &If, cond: CondCode) -> (Code, Falls) {
        let (then, then_falls) = self.block_fresh(&i.then);
        let (els, els_falls) = match i.els.as_deref() {
            None => (None, Falls::Always),
            Some(Else::Block(b)) => {
                let (c, f) = self.block_fresh(b);
                (Some(Box::new(c)), f)
            }
            Some(Else::If(inner)) => {
                let (c, f) = self.if_fresh(inner);
                (Some(Box::new(c)), f)
            }
        };
        (
            Code::If {
                attrs: i.attrs.clone(),
                cond,
                then: Box::new(then),
                els,
            },
            then_falls.or(els_falls),
        )
    }

    fn match_code(&mut self, m: &Match, scrut: CondCode) -> (Code, Falls) {
        let mut falls = Falls::Never;
        let arms = m
            .arms
            .iter()
            .map(|arm| {
                let (body, f) = self.block_fresh(&arm.body);
                falls = std::mem::replace(&mut falls, Falls::Never).or(f);
                ArmCode {
                    attrs: arm.attrs.clone(),
                    pat: arm.pat.clone(),
                    guard: arm.guard.clone(),
                    body,
                }
            })
            .collect();
        (
            Code::Match {
                attrs: m.attrs.clone(),
                scrut,
                arms,
            },
            falls,
        )
    }

    /// A loop emitted whole in this arm.
    fn real_loop(&mut self, id: NodeId, l: &Loop) -> (Code, Falls) {
        let label = loop_label(id, &l.label);
        self.stack.push(Ctx {
            enclosing: Enclosing {
                id,
                label: l.label.as_ref().map(|l| l.name.clone()),
                is_loop: true,
            },
            mode: Mode::Real,
        });
        let (body, _) = self.block_fresh(&l.body);
        self.stack.pop();
        let broken = self.broken.remove(&id);
        // A `while` or `for` also ends when its condition or iterator does.
        let ends = !matches!(l.header, LoopHeader::Loop);
        (
            Code::Loop {
                id,
                attrs: l.attrs.clone(),
                label,
                header: l.header.clone(),
                body: Box::new(body),
            },
            Falls::from(broken || ends),
        )
    }
}

/// What an arm that walks down resumes at.
#[derive(Clone, Copy)]
enum Target_ {
    Point(PointId),
    End,
    Head,
}

impl Emitter<'_> {
    fn leaf(&mut self, l: &Leaf) -> (Code, Falls) {
        let (stmt, jumps, rewritten) = if l.info.exits.iter().all(|e| *e == Exit::Return) {
            let jumps = if l.info.exits.is_empty() {
                Vec::new()
            } else {
                vec![Jump::Return]
            };
            (Rc::clone(&l.stmt), jumps, Vec::new())
        } else {
            let mut stmt = (*l.stmt).clone();
            let (jumps, rewritten) = self.rewrite(&mut stmt);
            (Rc::new(stmt), jumps, rewritten)
        };
        (
            Code::Leaf {
                stmt,
                info: l.info.clone(),
                jumps,
                rewritten,
            },
            Falls::from(!l.info.diverges),
        )
    }

    /// Rewrites the exits of a leaf that leave constructs this arm does
    /// not emit; returns every exit as a [`Jump`], and which were rewritten.
    fn rewrite(&mut self, stmt: &mut syn::Stmt) -> (Vec<Jump>, Vec<usize>) {
        let stack: Vec<Enclosing> = self.stack.iter().map(|c| c.enclosing.clone()).collect();
        let mut jumps = Vec::new();
        let mut rewritten = Vec::new();
        let mut edits: Vec<(Exit, Jump, Option<Lifetime>)> = Vec::new();
        // First find where each exit goes.
        {
            let mut probe = stmt.clone();
            visit_exits_stmt_under(&mut probe, &stack, &mut |_, exit, inner| {
                let jump = self.jump_for(&exit, inner);
                edits.push((exit, jump.0, jump.1));
            });
        }
        let mut k = 0;
        visit_exits_stmt(stmt, &stack, &mut |expr, _exit| {
            let (exit, jump, exit_label) = edits[k].clone();
            k += 1;
            let index = jumps.len();
            jumps.push(jump.clone());
            let replacement = match (&exit, &jump) {
                (Exit::Return, _)
                | (_, Jump::Break(Target::Node(_), _))
                | (_, Jump::Continue(_)) => None,
                (_, Jump::Break(Target::Exit(_) | Target::Next(_), _)) => {
                    let label = exit_label.expect("an exit block label");
                    Some(quote!(break #label))
                }
                (_, Jump::Goto(..)) => {
                    let jump = Ident::new(JUMP, Span::mixed_site());
                    let n = syn::LitInt::new(&index.to_string(), Span::call_site());
                    Some(quote!(#jump!(#n)))
                }
                (_, Jump::Return) => None,
            };
            let Some(new) = replacement else { return };
            rewritten.push(index);
            replace_jump(expr, new);
        });
        for j in &jumps {
            if let Jump::Goto(target, _) = j {
                let back = matches!(target, Entry::Head(_));
                self.goto(*target, back);
            }
        }
        (jumps, rewritten)
    }

    /// Where an exit of a leaf goes in this arm; `inner` are the `#[cfg]`s
    /// inside the leaf that the exit is compiled under.
    fn jump_for(&mut self, exit: &Exit, inner: &[Attribute]) -> (Jump, Option<Lifetime>) {
        let (id, kill, is_continue) = match exit {
            Exit::Return => return (Jump::Return, None),
            Exit::Break(id, kill) => (*id, *kill, false),
            Exit::Continue(id) => (*id, None, true),
        };
        let Some(ctx) = self.stack.iter_mut().rev().find(|c| c.enclosing.id == id) else {
            // Not around this leaf in the tree: cannot happen.
            return (Jump::Return, None);
        };
        match &mut ctx.mode {
            Mode::Real => {
                if is_continue {
                    (Jump::Continue(id), None)
                } else {
                    self.broken.insert(id);
                    (Jump::Break(Target::Node(id), kill), None)
                }
            }
            Mode::Inside {
                exit,
                used,
                exit_under,
                next,
                next_used,
                in_next,
            } => {
                if is_continue {
                    if *in_next {
                        *next_used = true;
                        (Jump::Break(Target::Next(id), None), Some(next.clone()))
                    } else {
                        (Jump::Goto(Entry::Head(id), None), None)
                    }
                } else {
                    let mut under = self.under.clone();
                    under.extend(inner.iter().cloned());
                    if !*used {
                        *exit_under = under;
                    } else if !same_attrs(exit_under, &under) {
                        exit_under.clear();
                    }
                    *used = true;
                    (Jump::Break(Target::Exit(id), kill), Some(exit.clone()))
                }
            }
        }
    }

    /// The head of loop `id` copied here: its body's first stretch up to
    /// the next entry, if that is small. At the loop's start (`arrival`) the
    /// copy gets exit blocks of its own and may fall out of the loop; at the
    /// end of the body of an arm inside the loop it uses that arm's. A copy
    /// that leaves the loop where the loop's end is no merge is not made
    /// (the code after the loop would be copied with it), and the end is
    /// asked to become one.
    fn inline_head(&mut self, id: NodeId, l: &Loop, arrival: bool) -> Option<(Code, Falls)> {
        if !self.inline || self.inlining || self.pinned.contains(&Entry::Head(id)) {
            return None;
        }
        let saved_modes: Vec<Mode> = self.stack.iter().map(|c| c.mode.clone()).collect();
        self.inlining = true;
        if arrival {
            self.stack.push(Ctx {
                enclosing: Enclosing {
                    id,
                    label: l.label.as_ref().map(|l| l.name.clone()),
                    is_loop: true,
                },
                mode: inside(id),
            });
        }
        let exit_used_before = self.exit_used(id);
        let (mut code, falls) = self.block_fresh(&l.body);
        let mut falls = falls.any();
        let next_used = self.leave_next(id);
        if let Some(next) = next_used {
            code = Code::Exit {
                target: Target::Next(id),
                label: next,
                body: Box::new(code),
            };
            falls = true;
        }
        if falls {
            let back = self.goto(Entry::Head(id), true);
            code = Code::Seq(vec![code, back]);
        }
        let exit_used = self.exit_used(id);
        let mut falls_out = false;
        if arrival {
            if let Some(Ctx {
                mode: Mode::Inside {
                    exit, used: true, ..
                },
                ..
            }) = self.stack.pop()
            {
                code = Code::Exit {
                    target: Target::Exit(id),
                    label: exit,
                    body: Box::new(code),
                };
                falls_out = true;
            }
        }
        self.inlining = false;
        let small = size(&code) <= INLINE_LIMIT;
        let leaves = exit_used && !exit_used_before;
        let end_is_merge = self.merges.contains(&Entry::After(id));
        if leaves && small && !end_is_merge {
            self.wants.insert(id);
        }
        if (leaves && !end_is_merge) || !small {
            self.settle(false);
            for (c, m) in self.stack.iter_mut().zip(saved_modes) {
                c.mode = m;
            }
            return None;
        }
        self.settle(true);
        Some((code, Falls::from(falls_out)))
    }

    /// Whether a `break` out of loop `id` has used its exit block.
    fn exit_used(&self, id: NodeId) -> bool {
        self.stack
            .iter()
            .rev()
            .find(|c| c.enclosing.id == id)
            .is_some_and(|c| matches!(c.mode, Mode::Inside { used: true, .. }))
    }

    /// Leaves the body of loop `id` (a `continue` now jumps to the head):
    /// the label of its `continue` block, if one was used.
    fn leave_next(&mut self, id: NodeId) -> Option<Lifetime> {
        let c = self.stack.iter_mut().rev().find(|c| c.enclosing.id == id)?;
        match &mut c.mode {
            Mode::Inside {
                next,
                next_used,
                in_next,
                ..
            } => {
                *in_next = false;
                let used = std::mem::take(next_used);
                used.then(|| next.clone())
            }
            Mode::Real => None,
        }
    }

    /// The code after `b.stmts[k]` copied here instead of a jump to that
    /// merge, if it is small and ends in jumps or returns within `b`.
    fn inline_after(&mut self, b: &Block, k: usize, items: &mut Vec<Code>) -> bool {
        if !self.inline || self.inlining || self.pinned.contains(&Entry::After(b.stmts[k].id)) {
            return false;
        }
        let used_before: Vec<bool> = self
            .stack
            .iter()
            .map(|c| matches!(c.mode, Mode::Inside { used: true, .. }))
            .collect();
        let broken_before = self.broken.clone();
        self.inlining = true;
        let mut rest = Vec::new();
        let falls = self.forward(b, k + 1, &mut rest);
        self.inlining = false;
        let used_after: Vec<bool> = self
            .stack
            .iter()
            .map(|c| matches!(c.mode, Mode::Inside { used: true, .. }))
            .collect();
        let code = Code::Seq(rest);
        if falls.any()
            || used_after != used_before
            || self.broken != broken_before
            || size(&code) > INLINE_LIMIT
        {
            self.settle(false);
            // The exit labels the attempt marked used are marked again by
            // the jump that replaces it, if at all.
            for (c, was) in self.stack.iter_mut().zip(used_before) {
                if let Mode::Inside { used, .. } = &mut c.mode {
                    *used = was;
                }
            }
            self.broken = broken_before;
            return false;
        }
        self.settle(true);
        items.push(code);
        true
    }

    fn block_stmt(
        &mut self,
        id: NodeId,
        bs: &BlockStmt,
        rest: Option<(&[Step], Target_)>,
    ) -> (Code, Falls) {
        if let Some(l) = &bs.label {
            self.stack.push(Ctx {
                enclosing: Enclosing {
                    id,
                    label: Some(l.name.clone()),
                    is_loop: false,
                },
                mode: Mode::Real,
            });
        }
        let (mut code, falls) = match rest {
            None => self.block_fresh(&bs.body),
            Some((path, target)) => self.resume_block(&bs.body, path, target),
        };
        let broken = bs.label.is_some() && {
            self.stack.pop();
            self.broken.remove(&id)
        };
        if let Code::Block {
            label,
            unsafety,
            attrs,
            ..
        } = &mut code
        {
            *label = bs.label.as_ref().map(|l| (id, l.name.clone()));
            *unsafety = bs.unsafety;
            *attrs = bs.attrs.clone();
        }
        (code, falls.or(Falls::from(broken)))
    }

    /// The arm's code from `b` down to its entry, then onwards.
    fn resume_block(&mut self, b: &Block, path: &[Step], target: Target_) -> (Code, Falls) {
        let Some((Step::Stmt(k), rest)) = path.split_first().map(|(s, r)| (*s, r)) else {
            return (Code::Seq(Vec::new()), Falls::Never);
        };
        let mut restores = b.entry_binds.clone();
        for s in &b.stmts[..k] {
            restores.extend_from_slice(level_defs(s));
        }
        if rest.is_empty() && matches!(target, Target_::End) {
            // After a `let .. else` (or `let x = marker else ..`): its
            // bindings are in scope.
            restores.extend_from_slice(level_defs(&b.stmts[k]));
        }
        let s = &b.stmts[k];
        let mut items = Vec::new();
        let (code, falls) = self.resume_stmt(s, rest, target);
        items.push(code);
        let falls = if falls.any() {
            let own = rest.is_empty() && matches!(target, Target_::End);
            let mut after = Vec::new();
            let attrs = match &falls {
                Falls::Under(attrs) => attrs.as_slice(),
                _ => &[],
            };
            let next = self.compiled_under(attrs, |e| e.after(b, k, own, &mut after));
            followed(&mut items, &falls, after);
            falls.then(next)
        } else {
            Falls::Never
        };
        (scope(restores, Vec::new(), items), falls)
    }

    fn resume_stmt(&mut self, s: &Stmt, path: &[Step], target: Target_) -> (Code, Falls) {
        let Some((step, rest)) = path.split_first() else {
            return match (target, &s.kind) {
                (Target_::End, _) => (Code::Seq(Vec::new()), Falls::Always),
                (Target_::Head, StmtKind::Loop(l)) => self.real_loop(s.id, l),
                (Target_::Point(p), StmtKind::Point(ps)) => {
                    let sink = match &ps.sink {
                        Sink::Discard { semi } => ResumeSink::Discard { semi: *semi },
                        Sink::Let {
                            attrs,
                            pat,
                            defs,
                            diverge,
                        } => ResumeSink::Let {
                            attrs: attrs.clone(),
                            pat: pat.clone(),
                            defs: defs.clone(),
                            diverge: diverge.as_ref().map(|d| Box::new(self.block_fresh(d).0)),
                        },
                        Sink::Assign { place, op, info } => ResumeSink::Assign {
                            place: place.clone(),
                            op: op.clone(),
                            info: info.clone(),
                        },
                    };
                    (Code::Resume { point: p, sink }, Falls::Always)
                }
                (Target_::Point(p), StmtKind::If(i)) => {
                    let cond = resumed_cond(&i.cond, p);
                    self.if_code(i, cond)
                }
                (Target_::Point(p), StmtKind::Match(m)) => {
                    let scrut = resumed_cond(&m.scrut, p);
                    self.match_code(m, scrut)
                }
                _ => (Code::Seq(Vec::new()), Falls::Never),
            };
        };
        match (&s.kind, step) {
            (StmtKind::If(i), _) => self.resume_if(i, path, target),
            (StmtKind::Match(m), Step::ArmBody(k)) => {
                self.resume_block(&m.arms[*k].body, rest, target)
            }
            (StmtKind::Loop(l), Step::Body) => {
                self.stack.push(Ctx {
                    enclosing: Enclosing {
                        id: s.id,
                        label: l.label.as_ref().map(|l| l.name.clone()),
                        is_loop: true,
                    },
                    mode: inside(s.id),
                });
                let (mut code, falls) = self.resume_block(&l.body, rest, target);
                let mut falls = falls.any();
                if let Some(next) = self.leave_next(s.id) {
                    code = Code::Exit {
                        target: Target::Next(s.id),
                        label: next,
                        body: Box::new(code),
                    };
                    falls = true;
                }
                if falls {
                    // The end of the body: round to the loop's head.
                    let back = match self.inline_head(s.id, l, false) {
                        Some((head, _)) => head,
                        None => self.goto(Entry::Head(s.id), true),
                    };
                    code = Code::Seq(vec![code, back]);
                }
                match self.stack.pop().map(|c| c.mode) {
                    Some(Mode::Inside {
                        exit,
                        used: true,
                        exit_under,
                        ..
                    }) => (
                        Code::Exit {
                            target: Target::Exit(s.id),
                            label: exit,
                            body: Box::new(code),
                        },
                        // Left only where its `break`s are compiled.
                        match exit_under.is_empty() {
                            true => Falls::Always,
                            false => Falls::Under(exit_under),
                        },
                    ),
                    _ => (code, Falls::Never),
                }
            }
            (StmtKind::Block(bs), Step::Body) => self.block_stmt(s.id, bs, Some((rest, target))),
            (StmtKind::LetElse(le), Step::Diverge) => self.resume_block(&le.diverge, rest, target),
            (
                StmtKind::Point(PointStmt {
                    sink:
                        Sink::Let {
                            diverge: Some(d), ..
                        },
                    ..
                }),
                Step::Diverge,
            ) => self.resume_block(d, rest, target),
            _ => (Code::Seq(Vec::new()), Falls::Never),
        }
    }

    fn resume_if(&mut self, i: &If, path: &[Step], target: Target_) -> (Code, Falls) {
        let Some((step, rest)) = path.split_first() else {
            return (Code::Seq(Vec::new()), Falls::Never);
        };
        match (step, i.els.as_deref()) {
            (Step::Then, _) => self.resume_block(&i.then, rest, target),
            (Step::Else, Some(Else::Block(b))) => self.resume_block(b, rest, target),
            (Step::Else, Some(Else::If(inner))) => {
                if rest.is_empty() {
                    // The point is the condition of the `else if`.
                    let Target_::Point(p) = target else {
                        return (Code::Seq(Vec::new()), Falls::Never);
                    };
                    let cond = resumed_cond(&inner.cond, p);
                    self.if_code(inner, cond)
                } else {
                    self.resume_if(inner, rest, target)
                }
            }
            _ => (Code::Seq(Vec::new()), Falls::Never),
        }
    }
}

fn resumed_cond(c: &Cond, p: PointId) -> CondCode {
    match c {
        Cond::LetPoint { pat, .. } => CondCode::LetResume(pat.clone(), p),
        _ => CondCode::Resume(p),
    }
}

/// Puts `new` in place of the exit `expr`: a `break`/`continue`, or the
/// `{ carrier = value; break }` block whose `break` it replaces.
///
/// The exit's outer attributes (a `#[cfg]` on `break 'l;` as a statement)
/// stay on what replaces it.
fn replace_jump(expr: &mut Expr, new: TokenStream) {
    let attrs = match expr {
        Expr::Break(e) => std::mem::take(&mut e.attrs),
        Expr::Continue(e) => std::mem::take(&mut e.attrs),
        _ => Vec::new(),
    };
    let new = quote!(#(#attrs)* #new);
    if let Expr::Block(b) = expr {
        if let Some(syn::Stmt::Expr(last, _)) = b.block.stmts.last_mut() {
            *last = Expr::Verbatim(new);
            return;
        }
    }
    // A `break value`: the value is still evaluated.
    if let Expr::Break(br) = expr {
        if let Some(v) = br.expr.take() {
            *expr = Expr::Verbatim(quote!({ let _ = #v; #new }));
            return;
        }
    }
    *expr = Expr::Verbatim(new);
}
