//! Phase 6: liveness. Which locals each arm needs from the one that jumps
//! to it: the locals stored in a suspension point's variant, and the ones
//! carried to a merge.
//!
//! A backward analysis over each arm's code ([`crate::arms::Code`]): a
//! local is live where some path reads it before it is assigned whole or
//! goes out of scope. `break`, `continue`, `return`, `?` and jumps to other
//! arms are followed, so a local whose every later use is behind a
//! `continue` that rebinds it first is not live. The arms refer to each
//! other, so the analysis runs until nothing changes.
//!
//! A statement under `#[cfg]` is there in some configurations only: past
//! it, each live local carries the configurations it is live in, a formula
//! over the statements' `#[cfg]`s ([`crate::conditions`]), which the
//! variant's field and the merge's carrier get as their own `#[cfg]`
//! ([`Liveness::only_where`]). Without `#[cfg]` in the body there are none.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use syn::Attribute;

use crate::arms::{Arms, Code, CondCode, Entry, Jump, ResumeSink, Target};
use crate::conditions::{Cond, Predicates};
use crate::ir::{Body, LeafInfo, LocalId, LoopHeader, NodeId, Param};
use crate::points::{MarkerKind, Point};

pub type Set = BTreeSet<LocalId>;

/// The result: what each entry needs, and what each arm mentions.
pub struct Liveness {
    /// The locals live where each arm starts.
    pub live_in: BTreeMap<Entry, Set>,
    /// The locals each arm's code reads or assigns before declaring them
    /// itself: those it must restore or re-declare.
    pub mentioned: BTreeMap<Entry, Set>,
    /// The locals live where an arm starts only in some configurations,
    /// with the `#[cfg]` that says where: the variant (or the carrier)
    /// holds them only there, and elsewhere they are dropped at the point
    /// (or the merge).
    pub only_where: BTreeMap<(Entry, LocalId), Attribute>,
    /// Some statement is under `#[cfg]`, so that liveness may differ by
    /// configuration (code compiled in one may be unreachable there).
    pub by_configuration: bool,
}

impl Liveness {
    /// The `#[cfg]` under which `id` is live where `e`'s arm starts, if
    /// it is not live in every configuration.
    pub fn only_where(&self, e: Entry, id: LocalId) -> Option<&Attribute> {
        if self.only_where.is_empty() {
            return None;
        }
        self.only_where.get(&(e, id))
    }
}

/// Live locals, each with the configurations it is live in: the set, and
/// the conditions of those not live in every configuration (none, and no
/// allocation, without `#[cfg]` in the body).
#[derive(Clone, Default, PartialEq)]
struct Live {
    set: Set,
    only: BTreeMap<LocalId, Cond>,
}

impl Live {
    fn minus(mut self, ids: &[LocalId]) -> Live {
        for id in ids {
            self.set.remove(id);
            if !self.only.is_empty() {
                self.only.remove(id);
            }
        }
        self
    }

    fn plus(mut self, ids: &[LocalId]) -> Live {
        for id in ids {
            self.set.insert(*id);
            if !self.only.is_empty() {
                self.only.remove(id);
            }
        }
        self
    }

    fn cond(&self, id: LocalId) -> Cond {
        self.only.get(&id).cloned().unwrap_or(Cond::Always)
    }

    fn extend(&mut self, other: Live) {
        if self.only.is_empty() && other.only.is_empty() {
            self.set.extend(other.set);
            return;
        }
        for id in other.set {
            let theirs = other.only.get(&id);
            if self.set.insert(id) {
                if let Some(c) = theirs {
                    self.only.insert(id, c.clone());
                }
                continue;
            }
            if let Some(mine) = self.only.get_mut(&id) {
                match theirs {
                    Some(c) => mine.or(c),
                    None => *mine = Cond::Always,
                }
                if *mine == Cond::Always {
                    self.only.remove(&id);
                }
            }
        }
    }

    /// Only where `lit` holds.
    fn and(self, lit: crate::conditions::Lit) -> Live {
        let mut out = Live::default();
        for id in self.set {
            let c = self.only.get(&id).unwrap_or(&Cond::Always);
            if let Some(c) = c.and(lit) {
                out.set.insert(id);
                if c != Cond::Always {
                    out.only.insert(id, c);
                }
            }
        }
        out
    }

    /// Every local of `self` is live in `other`, wherever it is in `self`.
    fn within(&self, other: &Live) -> bool {
        self.set.is_subset(&other.set)
            && other
                .only
                .iter()
                .all(|(id, o)| !self.set.contains(id) || self.cond(*id).implies(o))
    }

    /// `id` is live in every configuration where it is live.
    fn everywhere(&mut self, id: LocalId) {
        self.only.remove(&id);
    }
}

/// Runs the analysis over every arm.
pub fn analyze(body: &Body, points: &[Point], arms: &Arms) -> Liveness {
    let mut live_in: BTreeMap<Entry, Live> = arms
        .arms
        .iter()
        .map(|a| (a.entry, Live::default()))
        .collect();
    let preds = RefCell::new(Predicates::default());
    // An arm's result depends only on what the arms it jumps to need: a
    // worklist that starts from the last arms (the arms are in flow order,
    // and the analysis runs backwards) and takes an arm again only when an
    // arm it jumps to has changed.
    let mut preds_of: Vec<Vec<usize>> = vec![Vec::new(); arms.arms.len()];
    for (i, succ) in crate::arms::successor_indices(&arms.arms)
        .into_iter()
        .enumerate()
    {
        for j in succ {
            if !preds_of[j].contains(&i) {
                preds_of[j].push(i);
            }
        }
    }
    let mut queued = vec![true; arms.arms.len()];
    let mut work: std::collections::VecDeque<usize> = (0..arms.arms.len()).rev().collect();
    while let Some(i) = work.pop_front() {
        queued[i] = false;
        let arm = &arms.arms[i];
        let mut a = Analysis {
            body,
            points,
            live_in: &live_in,
            preds: &preds,
            breaks: BTreeMap::new(),
            continues: BTreeMap::new(),
        };
        let mut l = a.live(&arm.code, Live::default());
        // A variant's field or a merge's carrier holds a local only where
        // it is live; but a parameter is passed again on every call, and an
        // untyped local's carrier needs a store to infer its type.
        let point = matches!(arm.entry, Entry::Point(_));
        let widen: Vec<LocalId> = l
            .only
            .keys()
            .copied()
            .filter(|id| {
                let local = &body.locals[id.0];
                local.param != Param::No || (!point && local.ty.is_none())
            })
            .collect();
        for id in widen {
            l.everywhere(id);
        }
        // Joined with what the arm needed before: the same conditions can
        // come back written differently (`a ∨ b` and `a ∧ ¬b ∨ b`), and
        // taking the new value alone could then go back and forth between
        // them for ever (difftest seed 60, program 86030). What an arm
        // needs only grows as the arms it jumps to need more, so the join
        // changes nothing else.
        if let Some(old) = live_in.get(&arm.entry) {
            let mut joined = old.clone();
            joined.extend(l);
            l = joined;
        }
        if live_in.get(&arm.entry) != Some(&l) {
            live_in.insert(arm.entry, l);
            for &p in &preds_of[i] {
                if !queued[p] {
                    queued[p] = true;
                    work.push_back(p);
                }
            }
        }
    }
    let mentioned = arms
        .arms
        .iter()
        .map(|a| {
            let mut m = Mentions {
                body,
                points,
                declared: Set::new(),
                out: Set::new(),
                all: Set::new(),
            };
            m.code(&a.code);
            (a.entry, m.out)
        })
        .collect();
    let preds = preds.into_inner();
    let by_configuration = !preds.is_empty();
    let mut only_where = BTreeMap::new();
    for (e, l) in &live_in {
        for (id, c) in &l.only {
            if let Some(attr) = preds.attribute(c) {
                only_where.insert((*e, *id), attr);
            }
        }
    }
    Liveness {
        live_in: live_in.into_iter().map(|(e, l)| (e, l.set)).collect(),
        mentioned,
        only_where,
        by_configuration,
    }
}

struct Analysis<'a> {
    body: &'a Body,
    points: &'a [Point],
    live_in: &'a BTreeMap<Entry, Live>,
    preds: &'a RefCell<Predicates>,
    breaks: BTreeMap<TargetKey, Live>,
    continues: BTreeMap<NodeId, Live>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TargetKey {
    Node(NodeId),
    Exit(NodeId),
    Next(NodeId),
}

fn key(t: Target) -> TargetKey {
    match t {
        Target::Node(id) => TargetKey::Node(id),
        Target::Exit(id) => TargetKey::Exit(id),
        Target::Next(id) => TargetKey::Next(id),
    }
}

impl Analysis<'_> {
    fn entry(&self, e: Entry) -> Live {
        self.live_in.get(&e).cloned().unwrap_or_default()
    }

    fn jump(&self, j: &Jump) -> Live {
        let (s, kill) = match j {
            Jump::Break(t, kill) => (
                self.breaks.get(&key(*t)).cloned().unwrap_or_default(),
                *kill,
            ),
            Jump::Continue(id) => (self.continues.get(id).cloned().unwrap_or_default(), None),
            Jump::Goto(e, kill) => (self.entry(*e), *kill),
            Jump::Return => (Live::default(), None),
        };
        match kill {
            Some(k) => s.minus(&[k]),
            None => s,
        }
    }

    fn leaf(&self, info: &LeafInfo, jumps: &[Jump], after: Live) -> Live {
        let base = if info.diverges {
            Live::default()
        } else {
            after
        };
        let mut out = self.reads(info, base.minus(&info.kills).minus(&info.defs));
        for j in jumps {
            out.extend(self.jump(j));
        }
        out
    }

    /// Live before code that reads what `info` says, with `live` after it:
    /// a local read only under `#[cfg]`s inside it is live only where one
    /// of them holds.
    fn reads(&self, info: &LeafInfo, live: Live) -> Live {
        if info.only_under.is_empty() {
            return live.plus(&info.uses);
        }
        let only = |id: &LocalId| info.only_under.iter().any(|(u, _)| u == id);
        let plain: Vec<LocalId> = info.uses.iter().copied().filter(|id| !only(id)).collect();
        let mut out = live.plus(&plain);
        for (id, cfg) in &info.only_under {
            let lit = self.preds.borrow_mut().lit(cfg, true);
            out.extend(Live::default().plus(&[*id]).and(lit));
        }
        out
    }

    fn operand(&self, p: crate::points::PointId) -> &[LocalId] {
        &self.body.operands[p.0].uses
    }

    fn cond(&self, c: &CondCode, branches: Live) -> Live {
        match c {
            CondCode::Plain(_, info) => self.reads(info, branches),
            CondCode::Resume(p) | CondCode::LetResume(_, p) => self.resumed(*p, branches),
        }
    }

    /// Before a resumed marker whose value flows into code live with `after`.
    fn resumed(&self, p: crate::points::PointId, after: Live) -> Live {
        match self.points[p.0].kind {
            MarkerKind::Call => after.plus(self.operand(p)),
            _ => after,
        }
    }

    fn live(&mut self, code: &Code, after: Live) -> Live {
        match code {
            Code::Block {
                items,
                binds,
                label,
                ..
            } => {
                if let Some((id, _)) = label {
                    self.breaks.insert(TargetKey::Node(*id), after.clone());
                }
                let mut cur = after;
                for item in items.iter().rev() {
                    cur = self.live(item, cur);
                }
                cur.minus(binds)
            }
            Code::Seq(items) => {
                let mut cur = after;
                for item in items.iter().rev() {
                    cur = self.live(item, cur);
                }
                cur
            }
            Code::Leaf { info, jumps, .. } => {
                if info.cfg.is_empty() {
                    return self.leaf(info, jumps, after);
                }
                // Where its `#[cfg]` is false, the statement is not there.
                let on = self.preds.borrow_mut().lit(&info.cfg, true);
                let off = self.preds.borrow_mut().lit(&info.cfg, false);
                let mut l = self.leaf(info, jumps, after.clone()).and(on);
                // A local it declares does not exist before it, either way.
                l.extend(after.minus(&info.defs).and(off));
                l
            }
            Code::If {
                cond, then, els, ..
            } => {
                let t = self.live(then, after.clone());
                let e = match els {
                    Some(e) => self.live(e, after),
                    None => after,
                };
                let mut both = t;
                both.extend(e);
                self.cond(cond, both)
            }
            Code::Match { scrut, arms, .. } => {
                let mut all = Live::default();
                for arm in arms {
                    let mut l = self.live(&arm.body, after.clone());
                    if let Some((_, g)) = &arm.guard {
                        l = self.reads(g, l);
                    }
                    if let Code::Block { binds, .. } = &arm.body {
                        l = l.minus(binds);
                    }
                    all.extend(l);
                }
                self.cond(scrut, all)
            }
            Code::Loop {
                id, header, body, ..
            } => {
                self.breaks.insert(TargetKey::Node(*id), after.clone());
                // `head`: live where an iteration starts (for a `while`,
                // before its condition; for a `for`, before `next()`).
                let mut head = Live::default();
                loop {
                    self.continues.insert(*id, head.clone());
                    let body_live = self.live(body, head.clone());
                    let l = match header {
                        LoopHeader::Loop => body_live,
                        LoopHeader::While { info, .. } => {
                            let mut l = self.reads(info, body_live);
                            l.extend(after.clone());
                            l
                        }
                        LoopHeader::For { .. } => {
                            let mut l = body_live;
                            l.extend(after.clone());
                            l
                        }
                    };
                    if l.within(&head) {
                        break;
                    }
                    head.extend(l);
                }
                match header {
                    LoopHeader::For { info, .. } => self.reads(info, head),
                    _ => head,
                }
            }
            Code::Exit { target, body, .. } => {
                self.breaks.insert(key(*target), after.clone());
                self.live(body, after)
            }
            Code::LetElse {
                info,
                defs,
                diverge,
                ..
            } => {
                let d = self.live(diverge, Live::default());
                let mut l = self.reads(info, after.minus(defs));
                l.extend(d);
                l
            }
            Code::Goto(e) => self.entry(*e),
            Code::Arrive(p) => {
                let mut l = self.entry(Entry::Point(*p));
                if self.points[p.0].kind != MarkerKind::Call {
                    l = l.plus(self.operand(*p));
                }
                l
            }
            Code::Resume { point, sink } => {
                let before_sink = match sink {
                    ResumeSink::Discard { .. } => after,
                    ResumeSink::Let { defs, diverge, .. } => {
                        let mut l = after.minus(defs);
                        if let Some(d) = diverge {
                            l.extend(self.live(d, Live::default()));
                        }
                        l
                    }
                    ResumeSink::Assign { info, .. } => self.reads(info, after.minus(&info.kills)),
                };
                self.resumed(*point, before_sink)
            }
            Code::Return(_, info) => self.reads(info, Live::default()),
            Code::Cfg {
                attrs,
                body,
                els,
                skips,
            } => {
                let on = self.preds.borrow_mut().lit(attrs, true);
                let off = self.preds.borrow_mut().lit(attrs, false);
                match els {
                    // Exactly one of the two is compiled.
                    Some(e) => {
                        let mut l = self.live(body, after.clone()).and(on);
                        l.extend(self.live(e, after).and(off));
                        l
                    }
                    // Where the attribute is false, nothing is there.
                    None if *skips => {
                        let mut l = self.live(body, after.clone()).and(on);
                        l.extend(after.and(off));
                        l
                    }
                    // And control does not get there.
                    None => self.live(body, after),
                }
            }
        }
    }
}

/// The locals `code` reads or assigns that it has not declared itself
/// (a loop head copied into an arm declares its own locals again).
struct Mentions<'a> {
    body: &'a Body,
    points: &'a [Point],
    declared: Set,
    out: Set,
    all: Set,
}

impl Mentions<'_> {
    fn add(&mut self, ids: &[LocalId]) {
        for id in ids {
            self.all.insert(*id);
            if !self.declared.contains(id) {
                self.out.insert(*id);
            }
        }
    }

    fn info(&mut self, info: &LeafInfo) {
        self.add(&info.uses);
        self.add(&info.assigns);
        self.add(&info.kills);
    }

    fn operand(&mut self, p: crate::points::PointId, evaluated: bool) {
        if evaluated {
            let uses = self.body.operands[p.0].uses.clone();
            self.add(&uses);
        }
    }

    fn is_call(&self, p: crate::points::PointId) -> bool {
        self.points[p.0].kind == MarkerKind::Call
    }

    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        let saved = self.declared.clone();
        f(self);
        self.declared = saved;
    }

    fn cond(&mut self, c: &CondCode) {
        match c {
            CondCode::Plain(_, info) => self.info(info),
            // A `call!` evaluates its operand where it resumes; the others
            // where they are reached.
            CondCode::Resume(p) | CondCode::LetResume(_, p) => self.operand(*p, self.is_call(*p)),
        }
    }

    fn code(&mut self, code: &Code) {
        match code {
            Code::Block { items, binds, .. } => self.scoped(|m| {
                m.declared.extend(binds.iter().copied());
                for i in items {
                    m.code(i);
                }
            }),
            Code::Seq(items) => {
                for i in items {
                    self.code(i);
                }
            }
            Code::Leaf { info, .. } => {
                self.info(info);
                self.declared.extend(info.defs.iter().copied());
            }
            Code::If {
                cond, then, els, ..
            } => {
                self.cond(cond);
                self.scoped(|m| m.code(then));
                if let Some(e) = els {
                    self.scoped(|m| m.code(e));
                }
            }
            Code::Match { scrut, arms, .. } => {
                self.cond(scrut);
                for arm in arms {
                    self.scoped(|m| {
                        if let Code::Block { binds, .. } = &arm.body {
                            m.declared.extend(binds.iter().copied());
                        }
                        if let Some((_, g)) = &arm.guard {
                            m.info(g);
                        }
                        m.code(&arm.body);
                    });
                }
            }
            Code::Loop { header, body, .. } => {
                match header {
                    LoopHeader::Loop => {}
                    LoopHeader::While { info, .. } | LoopHeader::For { info, .. } => {
                        self.info(info)
                    }
                }
                self.scoped(|m| m.code(body))
            }
            Code::Exit { body, .. } => self.scoped(|m| m.code(body)),
            Code::Cfg { body, els, .. } => {
                self.scoped(|m| m.code(body));
                if let Some(e) = els {
                    self.scoped(|m| m.code(e));
                }
            }
            Code::LetElse {
                info,
                defs,
                diverge,
                ..
            } => {
                self.info(info);
                self.scoped(|m| m.code(diverge));
                self.declared.extend(defs.iter().copied());
            }
            Code::Goto(_) => {}
            Code::Arrive(p) => self.operand(*p, !self.is_call(*p)),
            Code::Resume { point, sink } => {
                self.operand(*point, self.is_call(*point));
                match sink {
                    ResumeSink::Discard { .. } => {}
                    ResumeSink::Let { diverge, defs, .. } => {
                        if let Some(d) = diverge {
                            self.scoped(|m| m.code(d));
                        }
                        self.declared.extend(defs.iter().copied());
                    }
                    ResumeSink::Assign { info, .. } => self.info(info),
                }
            }
            Code::Return(_, info) => self.info(info),
        }
    }
}

/// The merges where dropping would differ if they were not jumps: a local
/// in scope there (or a parameter that may be moved) whose drop may run
/// code, and that is not used afterwards. At a jump it is dropped at the
/// merge (the end of the statement holding a suspension point, or the start
/// of a loop holding one); without the jump it would live on to its scope's
/// end. Computed on the arms with every candidate merge a jump.
pub fn pins(body: &Body, arms: &Arms, live: &Liveness) -> Set2 {
    let mut out = Set2::new();
    let points = point_statements(body);
    let none = BTreeSet::new();
    // Whether dropping each local may run code, read once.
    let droppable: Vec<bool> = body
        .locals
        .iter()
        .map(|l| !l.internal && !l.ty.as_ref().is_some_and(crate::bindings::no_drop_glue))
        .collect();
    let carried: Vec<LocalId> = (0..body.locals.len())
        .map(LocalId)
        .filter(|id| body.locals[id.0].param == crate::ir::Param::Carried)
        .collect();
    let mut in_scope = Vec::new();
    for arm in &arms.arms {
        let (Entry::After(id) | Entry::Head(id)) = arm.entry else {
            continue;
        };
        if points.contains(&id) {
            continue;
        }
        let live_here = live.live_in.get(&arm.entry).unwrap_or(&none);
        in_scope.clear();
        restores_of(&arm.code, &mut in_scope);
        in_scope.extend_from_slice(&carried);
        // Dead in some configuration is enough.
        let dead =
            |id: &LocalId| !live_here.contains(id) || live.only_where(arm.entry, *id).is_some();
        if in_scope.iter().any(|id| droppable[id.0] && dead(id)) {
            out.insert(arm.entry);
        }
    }
    out
}

pub type Set2 = BTreeSet<Entry>;

/// The statements that are a suspension point, found in one walk.
fn point_statements(body: &Body) -> BTreeSet<NodeId> {
    fn block(b: &crate::ir::Block, out: &mut BTreeSet<NodeId>) {
        use crate::ir::StmtKind;
        for s in &b.stmts {
            match &s.kind {
                StmtKind::If(i) => if_(i, out),
                StmtKind::Match(m) => m.arms.iter().for_each(|a| block(&a.body, out)),
                StmtKind::Loop(l) => block(&l.body, out),
                StmtKind::Block(bs) => block(&bs.body, out),
                StmtKind::LetElse(le) => block(&le.diverge, out),
                StmtKind::Point(p) => {
                    out.insert(s.id);
                    if let crate::ir::Sink::Let {
                        diverge: Some(d), ..
                    } = &p.sink
                    {
                        block(d, out);
                    }
                }
                StmtKind::Leaf(_) => {}
            }
        }
    }
    fn if_(i: &crate::ir::If, out: &mut BTreeSet<NodeId>) {
        block(&i.then, out);
        match i.els.as_deref() {
            Some(crate::ir::Else::Block(b)) => block(b, out),
            Some(crate::ir::Else::If(inner)) => if_(inner, out),
            None => {}
        }
    }
    let mut out = BTreeSet::new();
    block(&body.block, &mut out);
    out
}

/// Every local an arm's walk-down restores or re-declares: those in scope
/// where it starts.
fn restores_of(code: &Code, out: &mut Vec<LocalId>) {
    match code {
        Code::Block {
            restores, items, ..
        } => {
            out.extend(restores.iter().copied());
            for i in items {
                restores_of(i, out);
            }
        }
        Code::Seq(items) => {
            for i in items {
                restores_of(i, out);
            }
        }
        Code::Exit { body, .. } | Code::Loop { body, .. } => restores_of(body, out),
        Code::Cfg { body, els, .. } => {
            restores_of(body, out);
            if let Some(e) = els {
                restores_of(e, out);
            }
        }
        Code::If { then, els, .. } => {
            restores_of(then, out);
            if let Some(e) = els {
                restores_of(e, out);
            }
        }
        Code::Match { arms, .. } => {
            for a in arms {
                restores_of(&a.body, out);
            }
        }
        _ => {}
    }
}

/// Parameters that need no carrier after all: the code never moves out of
/// them ([`crate::moves`]) and every arm but the first uses them, so no arm
/// drops one early. They are read in place, whatever their type, which
/// saves moving the value in and out of its carrier in every arm.
pub fn params_in_place(body: &mut Body, arms: &Arms, live: &Liveness, block: &syn::Block) {
    for i in 0..body.locals.len() {
        if body.locals[i].param != crate::ir::Param::Carried {
            continue;
        }
        let id = LocalId(i);
        let used_everywhere = arms.arms.iter().all(|arm| {
            arm.entry == Entry::Idle
                || live
                    .live_in
                    .get(&arm.entry)
                    .is_some_and(|l| l.contains(&id))
                || live
                    .mentioned
                    .get(&arm.entry)
                    .is_some_and(|m| m.contains(&id))
        });
        let name = body.locals[i].ident.to_string();
        if used_everywhere && !crate::moves::may_move(block, &name) {
            body.locals[i].param = crate::ir::Param::InPlace;
        }
    }
}

/// Every local that `code` reads, assigns or declares.
pub fn touches(body: &Body, points: &[Point], code: &Code) -> Set {
    let mut m = Mentions {
        body,
        points,
        declared: Set::new(),
        out: Set::new(),
        all: Set::new(),
    };
    m.code(code);
    m.all
}
