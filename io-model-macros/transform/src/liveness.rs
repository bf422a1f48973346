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

use std::collections::{BTreeMap, BTreeSet};

use crate::arms::{Arms, Code, CondCode, Entry, Jump, ResumeSink, Target};
use crate::ir::{Body, LeafInfo, LocalId, LoopHeader, NodeId};
use crate::points::{MarkerKind, Point};

pub type Set = BTreeSet<LocalId>;

/// The result: what each entry needs, and what each arm mentions.
pub struct Liveness {
    /// The locals live where each arm starts.
    pub live_in: BTreeMap<Entry, Set>,
    /// The locals each arm's code reads or assigns before declaring them
    /// itself: those it must restore or re-declare.
    pub mentioned: BTreeMap<Entry, Set>,
}

/// Runs the analysis over every arm.
pub fn analyze(body: &Body, points: &[Point], arms: &Arms) -> Liveness {
    let mut live_in: BTreeMap<Entry, Set> =
        arms.arms.iter().map(|a| (a.entry, Set::new())).collect();
    // An arm's result depends only on what the arms it jumps to need: a
    // worklist that starts from the last arms (the arms are in flow order,
    // and the analysis runs backwards) and takes an arm again only when an
    // arm it jumps to has changed.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); arms.arms.len()];
    for (i, succ) in crate::arms::successor_indices(&arms.arms)
        .into_iter()
        .enumerate()
    {
        for j in succ {
            if !preds[j].contains(&i) {
                preds[j].push(i);
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
            breaks: BTreeMap::new(),
            continues: BTreeMap::new(),
        };
        let l = a.live(&arm.code, Set::new());
        if live_in.get(&arm.entry) != Some(&l) {
            live_in.insert(arm.entry, l);
            for &p in &preds[i] {
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
            (a.entry, (m.out, m.all))
        })
        .collect::<Vec<_>>();
    let mentioned = mentioned
        .into_iter()
        .map(|(e, (free, _))| (e, free))
        .collect();
    Liveness { live_in, mentioned }
}

struct Analysis<'a> {
    body: &'a Body,
    points: &'a [Point],
    live_in: &'a BTreeMap<Entry, Set>,
    breaks: BTreeMap<TargetKey, Set>,
    continues: BTreeMap<NodeId, Set>,
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

fn minus(mut s: Set, ids: &[LocalId]) -> Set {
    for id in ids {
        s.remove(id);
    }
    s
}

fn plus(mut s: Set, ids: &[LocalId]) -> Set {
    s.extend(ids.iter().copied());
    s
}

impl Analysis<'_> {
    fn entry(&self, e: Entry) -> Set {
        self.live_in.get(&e).cloned().unwrap_or_default()
    }

    fn jump(&self, j: &Jump) -> Set {
        let (s, kill) = match j {
            Jump::Break(t, kill) => (
                self.breaks.get(&key(*t)).cloned().unwrap_or_default(),
                *kill,
            ),
            Jump::Continue(id) => (self.continues.get(id).cloned().unwrap_or_default(), None),
            Jump::Goto(e, kill) => (self.entry(*e), *kill),
            Jump::Return => (Set::new(), None),
        };
        match kill {
            Some(k) => minus(s, &[k]),
            None => s,
        }
    }

    fn leaf(&self, info: &LeafInfo, jumps: &[Jump], after: Set) -> Set {
        let base = if info.diverges { Set::new() } else { after };
        let mut out = plus(minus(minus(base, &info.kills), &info.defs), &info.uses);
        for j in jumps {
            out.extend(self.jump(j));
        }
        out
    }

    fn operand(&self, p: crate::points::PointId) -> &[LocalId] {
        &self.body.operands[p.0].uses
    }

    fn cond(&self, c: &CondCode, branches: Set) -> Set {
        match c {
            CondCode::Plain(_, info) => plus(branches, &info.uses),
            CondCode::Resume(p) | CondCode::LetResume(_, p) => self.resumed(*p, branches),
        }
    }

    /// Before a resumed marker whose value flows into code live with `after`.
    fn resumed(&self, p: crate::points::PointId, after: Set) -> Set {
        match self.points[p.0].kind {
            MarkerKind::Call => plus(after, self.operand(p)),
            _ => after,
        }
    }

    fn live(&mut self, code: &Code, after: Set) -> Set {
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
                minus(cur, binds)
            }
            Code::Seq(items) => {
                let mut cur = after;
                for item in items.iter().rev() {
                    cur = self.live(item, cur);
                }
                cur
            }
            Code::Leaf { info, jumps, .. } => self.leaf(info, jumps, after),
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
                let mut all = Set::new();
                for arm in arms {
                    let mut l = self.live(&arm.body, after.clone());
                    if let Some((_, g)) = &arm.guard {
                        l.extend(g.uses.iter().copied());
                    }
                    if let Code::Block { binds, .. } = &arm.body {
                        l = minus(l, binds);
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
                let mut head = Set::new();
                loop {
                    self.continues.insert(*id, head.clone());
                    let body_live = self.live(body, head.clone());
                    let l = match header {
                        LoopHeader::Loop => body_live,
                        LoopHeader::While { info, .. } => {
                            let mut l = plus(body_live, &info.uses);
                            l.extend(after.iter().copied());
                            l
                        }
                        LoopHeader::For { .. } => {
                            let mut l = body_live;
                            l.extend(after.iter().copied());
                            l
                        }
                    };
                    if l.is_subset(&head) {
                        break;
                    }
                    head.extend(l);
                }
                match header {
                    LoopHeader::For { info, .. } => plus(head, &info.uses),
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
                let d = self.live(diverge, Set::new());
                let mut l = plus(minus(after, defs), &info.uses);
                l.extend(d);
                l
            }
            Code::Goto(e) => self.entry(*e),
            Code::Arrive(p) => {
                let mut l = self.entry(Entry::Point(*p));
                if self.points[p.0].kind != MarkerKind::Call {
                    l.extend(self.operand(*p).iter().copied());
                }
                l
            }
            Code::Resume { point, sink } => {
                let before_sink = match sink {
                    ResumeSink::Discard { .. } => after,
                    ResumeSink::Let { defs, diverge, .. } => {
                        let mut l = minus(after, defs);
                        if let Some(d) = diverge {
                            l.extend(self.live(d, Set::new()));
                        }
                        l
                    }
                    ResumeSink::Assign { info, .. } => plus(minus(after, &info.kills), &info.uses),
                };
                self.resumed(*point, before_sink)
            }
            Code::Return(_, info) => info.uses.iter().copied().collect(),
            Code::Cfg {
                body, els, skips, ..
            } => {
                let mut l = self.live(body, after.clone());
                match els {
                    // Exactly one of the two is compiled.
                    Some(e) => l.extend(self.live(e, after)),
                    // Where the attribute is false, nothing is there.
                    None if *skips => l.extend(after),
                    // And control does not get there.
                    None => {}
                }
                l
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
    for arm in &arms.arms {
        let (Entry::After(id) | Entry::Head(id)) = arm.entry else {
            continue;
        };
        if points.contains(&id) {
            continue;
        }
        let live_here = live.live_in.get(&arm.entry).unwrap_or(&none);
        let mut in_scope = Vec::new();
        restores_of(&arm.code, &mut in_scope);
        in_scope.extend(
            (0..body.locals.len())
                .map(LocalId)
                .filter(|id| body.locals[id.0].param == crate::ir::Param::Carried),
        );
        let droppable = |id: &LocalId| {
            let l = &body.locals[id.0];
            !l.internal && !l.ty.as_ref().is_some_and(crate::bindings::no_drop_glue)
        };
        if in_scope
            .iter()
            .any(|id| !live_here.contains(id) && droppable(id))
        {
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
