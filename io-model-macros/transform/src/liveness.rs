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
use crate::ir::{Body, LeafInfo, LocalId, NodeId};
use crate::points::{MarkerKind, Point};

pub type Set = BTreeSet<LocalId>;

/// The result: what each entry needs, and what each arm mentions.
pub struct Liveness {
    /// The locals live where each arm starts.
    pub live_in: BTreeMap<Entry, Set>,
    /// The locals each arm's code mentions at all (read or assigned).
    pub mentioned: BTreeMap<Entry, Set>,
}

/// Runs the analysis over every arm.
pub fn analyze(body: &Body, points: &[Point], arms: &Arms) -> Liveness {
    let mut live_in: BTreeMap<Entry, Set> =
        arms.arms.iter().map(|a| (a.entry, Set::new())).collect();
    loop {
        let mut changed = false;
        for arm in &arms.arms {
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
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mentioned = arms
        .arms
        .iter()
        .map(|a| {
            let mut m = Set::new();
            mentions(body, points, &a.code, &mut m);
            (a.entry, m)
        })
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
}

fn key(t: Target) -> TargetKey {
    match t {
        Target::Node(id) => TargetKey::Node(id),
        Target::Exit(id) => TargetKey::Exit(id),
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
            Code::Loop { id, body, .. } => {
                self.breaks.insert(TargetKey::Node(*id), after);
                let mut head = Set::new();
                loop {
                    self.continues.insert(*id, head.clone());
                    let l = self.live(body, head.clone());
                    if l == head {
                        return head;
                    }
                    head.extend(l);
                }
            }
            Code::Exit { id, body, .. } => {
                self.breaks.insert(TargetKey::Exit(*id), after);
                self.live(body, Set::new())
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
            Code::Cfg { body, .. } => {
                let mut l = self.live(body, after.clone());
                l.extend(after);
                l
            }
        }
    }
}

fn info_mentions(info: &LeafInfo, out: &mut Set) {
    out.extend(info.uses.iter().copied());
    out.extend(info.assigns.iter().copied());
    out.extend(info.kills.iter().copied());
}

/// Every local `code` reads or assigns.
fn mentions(body: &Body, points: &[Point], code: &Code, out: &mut Set) {
    let operand = |p: crate::points::PointId, out: &mut Set| {
        out.extend(body.operands[p.0].uses.iter().copied());
    };
    // A `call!` evaluates its operand where it resumes; the others where
    // they are reached.
    let is_call = |p: crate::points::PointId| points[p.0].kind == MarkerKind::Call;
    match code {
        Code::Block { items, .. } | Code::Seq(items) => {
            for i in items {
                mentions(body, points, i, out);
            }
        }
        Code::Leaf { info, .. } => info_mentions(info, out),
        Code::If {
            cond, then, els, ..
        } => {
            match cond {
                CondCode::Plain(_, info) => info_mentions(info, out),
                CondCode::Resume(p) | CondCode::LetResume(_, p) if is_call(*p) => operand(*p, out),
                _ => {}
            }
            mentions(body, points, then, out);
            if let Some(e) = els {
                mentions(body, points, e, out);
            }
        }
        Code::Match { scrut, arms, .. } => {
            match scrut {
                CondCode::Plain(_, info) => info_mentions(info, out),
                CondCode::Resume(p) | CondCode::LetResume(_, p) if is_call(*p) => operand(*p, out),
                _ => {}
            }
            for arm in arms {
                if let Some((_, g)) = &arm.guard {
                    info_mentions(g, out);
                }
                mentions(body, points, &arm.body, out);
            }
        }
        Code::Loop { body: b, .. } | Code::Exit { body: b, .. } | Code::Cfg { body: b, .. } => {
            mentions(body, points, b, out)
        }
        Code::LetElse { info, diverge, .. } => {
            info_mentions(info, out);
            mentions(body, points, diverge, out);
        }
        Code::Goto(_) => {}
        Code::Arrive(p) => {
            if !is_call(*p) {
                operand(*p, out)
            }
        }
        Code::Resume { point, sink } => {
            if is_call(*point) {
                operand(*point, out);
            }
            match sink {
                ResumeSink::Discard { .. } => {}
                ResumeSink::Let { diverge, .. } => {
                    if let Some(d) = diverge {
                        mentions(body, points, d, out);
                    }
                }
                ResumeSink::Assign { info, .. } => info_mentions(info, out),
            }
        }
        Code::Return(_, info) => info_mentions(info, out),
    }
}
