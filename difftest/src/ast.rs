//! The small program AST the generator builds, and its printer to Rust.
//!
//! One printer writes both forms of a program: the `#[resumable]` form
//! (markers as written) and, given the drops the oracle computed
//! ([`crate::oracle::Drops`]), the straight-line oracle form (markers
//! replaced by their straight-line equivalents, every local given a name of
//! its own, [`Noisy`](io_model_programs_runtime::Noisy) locals held in
//! `Slot`s and dropped explicitly where the resumable form drops them).

use std::collections::HashMap;
use std::fmt::Write;

/// A local of one function, an index into [`Func::vars`].
pub type VarId = usize;

/// The types of locals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// `u64`
    U64,
    /// `bool` (conditions only)
    Bool,
    /// `String`
    Str,
    /// `Vec<u64>`
    VecU64,
    /// `Option<u64>`
    OptU64,
    /// `Noisy`: its drop is logged
    Noisy,
    /// `(u64, String)`
    Tup,
    /// `Completion`
    Completion,
    /// `HandState`: the state of the hand-written sub-operations
    Hand,
    /// The state enum of generated sub-operation `n` (free functions only)
    SubState(usize),
    /// `()` (the value of `wait!`)
    Unit,
    /// `[u64; 4]`: plain data, `Copy`
    ArrU64,
}

impl Ty {
    /// The type as written in the resumable form.
    pub fn rust(self) -> String {
        match self {
            Ty::U64 => "u64".into(),
            Ty::Bool => "bool".into(),
            Ty::Str => "String".into(),
            Ty::VecU64 => "Vec<u64>".into(),
            Ty::OptU64 => "Option<u64>".into(),
            Ty::Noisy => "Noisy".into(),
            Ty::Tup => "(u64, String)".into(),
            Ty::Completion => "Completion".into(),
            Ty::Hand => "HandState".into(),
            Ty::SubState(n) => format!("S{n}State"),
            Ty::Unit => "()".into(),
            Ty::ArrU64 => "[u64; 4]".into(),
        }
    }

    /// Whether values of the type are `Copy` (and so never moved).
    pub fn is_copy(self) -> bool {
        matches!(
            self,
            Ty::U64 | Ty::Bool | Ty::OptU64 | Ty::Unit | Ty::ArrU64
        )
    }
}

/// A local.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Var {
    /// Its name in the resumable form (names repeat: shadowing).
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Whether it needs `mut` (computed by [`Program::finish`]).
    pub mutable: bool,
    /// A parameter (not declared in the body).
    pub param: bool,
}

/// Where the state lives and how the function is declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `#[io_model::resumable(state = st)] fn run(st: &mut RunState, ..)`.
    Free,
    /// Methods of an impl block, `state = self.field`, `&mut self`.
    Field,
    /// Methods taking `&self`, `state = self.field.borrow_mut()` (RefCell).
    RefCell,
    /// Methods taking `&self`, `state = self.field.lock().unwrap()` (Mutex).
    Mutex,
}

impl Form {
    /// The form's name in coverage counts.
    pub fn name(self) -> &'static str {
        match self {
            Form::Free => "form:free",
            Form::Field => "form:field",
            Form::RefCell => "form:refcell",
            Form::Mutex => "form:mutex",
        }
    }
}

/// `#[cfg(..)]` on a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cfg {
    /// `#[cfg(all())]`: kept.
    All,
    /// `#[cfg(any())]`: removed.
    Any,
    /// `#[cfg(not(any()))]`: kept.
    NotAny,
}

impl Cfg {
    /// Whether the statement is compiled.
    pub fn active(self) -> bool {
        !matches!(self, Cfg::Any)
    }

    fn attr(self) -> &'static str {
        match self {
            Cfg::All => "#[cfg(all())]",
            Cfg::Any => "#[cfg(any())]",
            Cfg::NotAny => "#[cfg(not(any()))]",
        }
    }
}

/// A plain expression (no suspension point inside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A `u64` literal.
    Lit(u64),
    /// A local (a `u64`, `Option<u64>` or `bool` read; anything else only
    /// where a move is meant).
    Var(VarId),
    /// `u64::wrapping_add(a, b)`
    Add(Box<Expr>, Box<Expr>),
    /// `u64::wrapping_mul(a, 3)`
    Mul3(Box<Expr>),
    /// `a % m`
    Mod(Box<Expr>, u64),
    /// `v.len() as u64` (a `Vec` or `String` local)
    Len(VarId),
    /// `n.id()` (a `Noisy` local)
    NoisyId(VarId),
    /// `o.unwrap_or(d)`
    UnwrapOr(VarId, u64),
    /// `t.0`
    TupFirst(VarId),
    /// `t.1.len() as u64`
    TupLen(VarId),
    /// `v.first().copied().unwrap_or(0)`
    First(VarId),
    /// `a < b`
    Lt(Box<Expr>, Box<Expr>),
    /// `a % 2 == 0`
    Even(Box<Expr>),
    /// `o.is_some()`
    IsSome(VarId),
    /// `v.is_empty()`
    IsEmpty(VarId),
    /// `format!("v{}", a)`
    Format(Box<Expr>),
    /// `x.clone()` (a `String` or `Vec` local)
    Clone(VarId),
    /// `String::from("k")`
    StrLit,
    /// `vec![..]`
    VecLit(Vec<Expr>),
    /// `Some(a)`
    Some(Box<Expr>),
    /// `None`
    None,
    /// `v.last().copied()`
    Last(VarId),
    /// `(a, s)`
    Tuple(Box<Expr>, Box<Expr>),
    /// `env.noisy(id)`
    NewNoisy(u32),
    /// `env.io(tag)`
    Io(u32),
    /// `HandState::default()` / `S0State::default()`
    DefaultState(Ty),
    /// `env.check(a)?` (a `?` inside an expression, a `call!` operand too)
    Check(Box<Expr>),
    /// `[a, b, c, d]` (four `u64`s)
    ArrLit(Vec<Expr>),
    /// `[a; 4]`
    ArrRepeat(Box<Expr>),
    /// `r[(i % 4) as usize]` (an array local)
    Index(VarId, Box<Expr>),
    /// `r[2]`
    IndexLit(VarId, u64),
    /// `arr_sum(r)`: the array passed by value to a helper (wrapping sum)
    ArrSum(VarId),
    /// `arr_rot(r)`: rotated left by one, first element plus one: `[u64; 4]`
    ArrRot(VarId),
    /// `r.iter().fold(0u64, |acc, el| acc.wrapping_add(*el))`
    ArrFold(VarId),
    /// `(0..4usize).map(|i| r[i] % 1000).sum::<u64>()` (a closure capturing it)
    ArrClosure(VarId),
    /// `a == b` (two array expressions)
    ArrEq(Box<Expr>, Box<Expr>),
    /// `r.contains(&a)`
    ArrContains(VarId, Box<Expr>),
    /// `format!("{:?}", r).len() as u64` or, with `true`, the inline
    /// capture `format!("{r:?}").len() as u64` (a macro naming the array)
    ArrFmtLen(VarId, bool),
}

/// What a `call!` drives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOp {
    /// `hand_add(place, env, x)`: `u64`
    HandAdd(Option<VarId>, Expr),
    /// `hand_lt(place, env, a, b)`: `bool`
    HandLt(Option<VarId>, Expr, Expr),
    /// `hand_next(place, env, a, b)`: `Option<u64>`
    HandNext(Option<VarId>, Expr, Expr),
    /// Generated sub-operation `n` with its state local (free form) or
    /// field: `u64`
    Sub(usize, Option<VarId>, Expr),
}

impl CallOp {
    /// The type of the value.
    pub fn ty(&self) -> Ty {
        match self {
            CallOp::HandAdd(..) | CallOp::Sub(..) => Ty::U64,
            CallOp::HandLt(..) => Ty::Bool,
            CallOp::HandNext(..) => Ty::OptU64,
        }
    }
}

/// A suspension marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// `wait!(c)`: `c` is `env.io(tag)` or a `Completion` local.
    Wait(Expr),
    /// `wait_all!(vec![..])` of these.
    WaitAll(Vec<Expr>),
    /// `wait_all!((0..n).map(|_| env.io(tag)).collect::<Vec<Completion>>())`
    WaitAllMap(u64, u32),
    /// `call!(op)`
    Call(CallOp),
    /// `yield_now!()`
    Yield,
}

/// A marker with its optional label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Marker {
    /// What it is.
    pub kind: MarkerKind,
    /// `wait!(Label => c)`.
    pub label: Option<String>,
}

impl Marker {
    /// The marker's value type.
    pub fn ty(&self) -> Ty {
        match &self.kind {
            MarkerKind::Call(op) => op.ty(),
            _ => Ty::Unit,
        }
    }

    /// The prefix of the transform's generated variant name.
    pub fn prefix(&self) -> &'static str {
        match self.kind {
            MarkerKind::Wait(_) => "Wait",
            MarkerKind::WaitAll(_) | MarkerKind::WaitAllMap(..) => "WaitAll",
            MarkerKind::Call(_) => "Call",
            MarkerKind::Yield => "Yield",
        }
    }
}

/// Something in a value position: a `let` initializer, an assignment's
/// right side, a block's tail, an arm, a condition or scrutinee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A plain expression.
    Expr(Expr),
    /// A marker (its value flows straight into the position).
    Marker(Box<Marker>),
    /// `{ stmts; tail }`
    Block(Box<Block>),
    /// `if cond { .. } else { .. }`, both blocks with tails.
    If(Box<Value>, Box<Block>, Box<Block>),
    /// `match scrut { arms }` with value arms.
    Match(Box<Value>, Vec<Arm>),
    /// `loop { guard; body }` left by `break value`.
    Loop(Box<LoopHead>, Box<Block>),
    /// `env.check(e)?`
    Try(Expr),
}

/// A loop's label and iteration bound (every loop is bounded: a counter
/// local declared before it counts its iterations).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopHead {
    /// `'lN`
    pub label: Option<String>,
    /// The counter, a `u64` local declared before the loop.
    pub counter: VarId,
    /// At most this many iterations.
    pub bound: u64,
}

/// A match arm pattern (the scrutinee is `u64` or `Option<u64>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pat {
    /// `3`
    Lit(u64),
    /// `2..=4`
    Range(u64, u64),
    /// `v` (binds; untyped)
    Bind(VarId),
    /// `_`
    Wild,
    /// `Some(v)`
    SomeBind(VarId),
    /// `None`
    NoneP,
}

/// An arm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arm {
    /// The pattern.
    pub pat: Pat,
    /// `if guard`
    pub guard: Option<Expr>,
    /// The body: a value (value match) or a block whose tail is `None`
    /// (statement match).
    pub body: Value,
}

/// A block; `tail` is its value (value positions only).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// The tail.
    pub tail: Option<Box<Value>>,
}

/// A statement, with its optional `#[cfg]` and a node id (numbered by
/// [`Program::finish`]; the oracle's drops are keyed by it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    /// `#[cfg(..)]`
    pub cfg: Option<Cfg>,
    /// What it is.
    pub kind: StmtKind,
}

/// How a loop is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoopKind {
    /// `loop { if k >= B { break; } k += 1; .. }`
    Loop,
    /// `while k < B { k += 1; .. }`
    While,
    /// `while call!(hand_lt(place, env, k, B)) { k += 1; .. }`
    WhileCall(Option<VarId>, Option<String>),
    /// `while let Some(x) = (k < B).then_some(k * 2) { k += 1; .. }`
    WhileLet(VarId),
    /// `while let Some(x) = call!(hand_next(place, env, k, B)) { k += 1; .. }`
    WhileLetCall(VarId, Option<VarId>, Option<String>),
    /// `for x in 0..B_u64 { .. }` (the counter unused)
    ForRange(VarId),
    /// `for x in v { .. }` (`v` a `Vec<u64>` local, moved)
    ForVec(VarId, VarId),
}

/// The statements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StmtKind {
    /// `let x: T = init;` or, without init, `let x: T;`
    Let(VarId, Option<Value>),
    /// `let (a, b): (u64, String) = e;`
    LetTuple(VarId, VarId, Expr),
    /// `r[(i % 4) as usize] = v;` or `r[..] += v;` (an array local)
    IndexAssign {
        /// The array local.
        var: VarId,
        /// The index (printed `(i % 4) as usize`).
        index: Expr,
        /// `+=`
        compound: bool,
        /// The right side (a `u64` value).
        value: Value,
    },
    /// `x = v;` (`init`: the assignment that initializes a `let x: T;`) or
    /// `x += v;`
    Assign {
        /// The local.
        var: VarId,
        /// `+=`
        compound: bool,
        /// Initializes a deferred `let`.
        init: bool,
        /// The right side.
        value: Value,
    },
    /// `env.log(id);`
    Log(u32),
    /// `env.val(id, &x);`
    LogVal(u32, VarId),
    /// `v.push(e);`
    Push(VarId, Expr),
    /// `s.push_str("z");`
    PushStr(VarId),
    /// `drop(n);`
    Drop(VarId),
    /// `env.consume(n);`
    Consume(VarId),
    /// Logs whether the function's state place can be locked now
    /// (`self.st.try_borrow_mut().is_ok()` / `try_lock`): it must be, the
    /// place is only held on entry and on return. Other forms and the
    /// oracle log `true`.
    Touch(u32, usize),
    /// A marker as a statement.
    Marker(Marker),
    /// `if c { .. } else { .. }` (the blocks without tails).
    If(Value, Block, Option<Block>),
    /// `if let Some(x) = scrut { .. } else { .. }`
    IfLet(VarId, Value, Block, Option<Block>),
    /// `match scrut { .. }` with block arms.
    Match(Value, Vec<Arm>),
    /// A loop.
    Loop(LoopHead, LoopKind, Block),
    /// `break 'l value;`
    Break(Option<String>, Option<Expr>),
    /// `continue 'l;`
    Continue(Option<String>),
    /// `return Ok(IOResult::Done(e));`
    Return(Expr),
    /// `let Some(x) = scrut else { .. };` (the block diverges).
    LetElse(VarId, Value, Block),
    /// `{ .. }`
    Block(Block),
}

/// One function: the program's main one or a generated sub-operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Func {
    /// Its locals (parameters first).
    pub vars: Vec<Var>,
    /// The body.
    pub body: Block,
    /// The value returned at the end.
    pub ret: Expr,
}

/// One generated program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Its number in the run (`--only K`).
    pub index: usize,
    /// The generator seed of the run.
    pub seed: u64,
    /// How its functions are declared.
    pub form: Form,
    /// The main function (parameters `a`, `b`).
    pub main: Func,
    /// Generated sub-operations (parameter `x`).
    pub subs: Vec<Func>,
    /// The arguments the drivers pass.
    pub args: (u64, u64),
    /// The generator flags beyond `--seed` and `--only` that make it again
    /// (`--skip-known`, `--disable ..`, `--max-depth ..`).
    pub flags: String,
}

impl Func {
    /// Visits every statement (pre-order, in source order), with whether
    /// it is compiled (no enclosing `#[cfg(any())]`).
    pub fn walk_stmts(&self, f: &mut dyn FnMut(&Stmt, bool)) {
        walk_block(&self.body, true, f);
    }

    /// The markers in source order, with whether each is compiled.
    pub fn markers(&self) -> Vec<(MarkerRef<'_>, bool)> {
        let mut out = Vec::new();
        collect_markers_block(&self.body, true, &mut out);
        out
    }
}

/// A marker as found in the AST: a marker node, or the `call!` a loop's
/// head holds (`while call!(..)`).
#[derive(Clone, Copy, Debug)]
pub enum MarkerRef<'a> {
    /// A marker node.
    Marker(&'a Marker),
    /// A loop head's `call!`.
    LoopHead(&'a LoopKind),
}

impl MarkerRef<'_> {
    /// The address the oracle keys the point's drops by.
    pub fn key(&self) -> *const () {
        match self {
            MarkerRef::Marker(m) => *m as *const Marker as *const (),
            MarkerRef::LoopHead(k) => *k as *const LoopKind as *const (),
        }
    }

    /// The marker kind's variant prefix.
    pub fn prefix(&self) -> &'static str {
        match self {
            MarkerRef::Marker(m) => m.prefix(),
            MarkerRef::LoopHead(_) => "Call",
        }
    }

    /// The label.
    pub fn label(&self) -> Option<&str> {
        match self {
            MarkerRef::Marker(m) => m.label.as_deref(),
            MarkerRef::LoopHead(LoopKind::WhileCall(_, l))
            | MarkerRef::LoopHead(LoopKind::WhileLetCall(_, _, l)) => l.as_deref(),
            MarkerRef::LoopHead(_) => None,
        }
    }

    /// Whether it is a `call!`.
    pub fn is_call(&self) -> bool {
        match self {
            MarkerRef::Marker(m) => matches!(m.kind, MarkerKind::Call(_)),
            MarkerRef::LoopHead(_) => true,
        }
    }
}

fn walk_block(b: &Block, active: bool, f: &mut dyn FnMut(&Stmt, bool)) {
    for s in &b.stmts {
        let a = active && s.cfg.map_or(true, Cfg::active);
        f(s, a);
        for_children(&s.kind, &mut |c| match c {
            Child::Block(blk) => walk_block(blk, a, f),
            Child::Value(v) => walk_value(v, a, f),
        });
    }
    if let Some(t) = &b.tail {
        walk_value(t, active, f);
    }
}

fn walk_value(v: &Value, active: bool, f: &mut dyn FnMut(&Stmt, bool)) {
    match v {
        Value::Expr(_) | Value::Marker(_) | Value::Try(_) => {}
        Value::Block(b) => walk_block(b, active, f),
        Value::If(c, t, e) => {
            walk_value(c, active, f);
            walk_block(t, active, f);
            walk_block(e, active, f);
        }
        Value::Match(s, arms) => {
            walk_value(s, active, f);
            for a in arms {
                walk_value(&a.body, active, f);
            }
        }
        Value::Loop(_, b) => walk_block(b, active, f),
    }
}

/// A child of a statement: a block or a value.
#[derive(Clone, Copy)]
pub enum Child<'a> {
    /// A block.
    Block(&'a Block),
    /// A value.
    Value(&'a Value),
}

/// Calls `f` for each child block and value of a statement, in source
/// order.
pub fn for_children<'a>(k: &'a StmtKind, f: &mut dyn FnMut(Child<'a>)) {
    use Child::{Block as B, Value as V};
    match k {
        StmtKind::Let(_, Some(v))
        | StmtKind::Assign { value: v, .. }
        | StmtKind::IndexAssign { value: v, .. } => f(V(v)),
        StmtKind::If(c, t, e) => {
            f(V(c));
            f(B(t));
            if let Some(e) = e {
                f(B(e));
            }
        }
        StmtKind::IfLet(_, s, t, e) => {
            f(V(s));
            f(B(t));
            if let Some(e) = e {
                f(B(e));
            }
        }
        StmtKind::Match(s, arms) => {
            f(V(s));
            for a in arms {
                f(V(&a.body));
            }
        }
        StmtKind::Loop(_, _, b) => f(B(b)),
        StmtKind::LetElse(_, s, b) => {
            f(V(s));
            f(B(b));
        }
        StmtKind::Block(b) => f(B(b)),
        _ => {}
    }
}

fn collect_markers_block<'a>(b: &'a Block, active: bool, out: &mut Vec<(MarkerRef<'a>, bool)>) {
    for s in &b.stmts {
        let a = active && s.cfg.map_or(true, Cfg::active);
        collect_markers_stmt(&s.kind, a, out);
    }
    if let Some(t) = &b.tail {
        collect_markers_value(t, active, out);
    }
}

fn collect_markers_stmt<'a>(k: &'a StmtKind, a: bool, out: &mut Vec<(MarkerRef<'a>, bool)>) {
    match k {
        StmtKind::Marker(m) => out.push((MarkerRef::Marker(m), a)),
        StmtKind::Let(_, Some(v))
        | StmtKind::Assign { value: v, .. }
        | StmtKind::IndexAssign { value: v, .. } => collect_markers_value(v, a, out),
        StmtKind::If(c, t, e) => {
            collect_markers_value(c, a, out);
            collect_markers_block(t, a, out);
            if let Some(e) = e {
                collect_markers_block(e, a, out);
            }
        }
        StmtKind::IfLet(_, s, t, e) => {
            collect_markers_value(s, a, out);
            collect_markers_block(t, a, out);
            if let Some(e) = e {
                collect_markers_block(e, a, out);
            }
        }
        StmtKind::Match(s, arms) => {
            collect_markers_value(s, a, out);
            for arm in arms {
                collect_markers_value(&arm.body, a, out);
            }
        }
        StmtKind::Loop(_, kind, b) => {
            if matches!(kind, LoopKind::WhileCall(..) | LoopKind::WhileLetCall(..)) {
                out.push((MarkerRef::LoopHead(kind), a));
            }
            collect_markers_block(b, a, out);
        }
        StmtKind::LetElse(_, s, b) => {
            collect_markers_value(s, a, out);
            collect_markers_block(b, a, out);
        }
        StmtKind::Block(b) => collect_markers_block(b, a, out),
        _ => {}
    }
}

fn collect_markers_value<'a>(v: &'a Value, a: bool, out: &mut Vec<(MarkerRef<'a>, bool)>) {
    match v {
        Value::Expr(_) | Value::Try(_) => {}
        Value::Marker(m) => out.push((MarkerRef::Marker(m), a)),
        Value::Block(b) => collect_markers_block(b, a, out),
        Value::If(c, t, e) => {
            collect_markers_value(c, a, out);
            collect_markers_block(t, a, out);
            collect_markers_block(e, a, out);
        }
        Value::Match(s, arms) => {
            collect_markers_value(s, a, out);
            for arm in arms {
                collect_markers_value(&arm.body, a, out);
            }
        }
        Value::Loop(_, b) => collect_markers_block(b, a, out),
    }
}

/// Whether the markers that `collect` finds hold a compiled one (`.0`)
/// and any at all (`.1`).
fn holds<'a>(collect: impl FnOnce(&mut Vec<(MarkerRef<'a>, bool)>)) -> (bool, bool) {
    let mut out = Vec::new();
    collect(&mut out);
    (out.iter().any(|(_, a)| *a), !out.is_empty())
}

/// Whether a value holds a compiled marker.
pub fn value_has_point(v: &Value) -> bool {
    holds(|o| collect_markers_value(v, true, o)).0
}

/// Whether a block holds a compiled marker.
pub fn block_has_point(b: &Block) -> bool {
    holds(|o| collect_markers_block(b, true, o)).0
}

/// Whether a statement holds a compiled marker (its own cfg aside).
pub fn stmt_has_point(k: &StmtKind) -> bool {
    holds(|o| collect_markers_stmt(k, true, o)).0
}

/// Whether a value holds a marker, compiled or not. The attribute cannot
/// evaluate `#[cfg]`, so a construct holding a marker only under a false
/// `#[cfg]` is a drop boundary all the same (docs/transform.md, `#[cfg]`).
pub fn value_has_marker(v: &Value) -> bool {
    holds(|o| collect_markers_value(v, true, o)).1
}

/// Whether a block holds a marker, compiled or not.
pub fn block_has_marker(b: &Block) -> bool {
    holds(|o| collect_markers_block(b, true, o)).1
}

/// Whether a statement holds a marker, compiled or not (its own cfg aside).
pub fn stmt_has_marker(k: &StmtKind) -> bool {
    holds(|o| collect_markers_stmt(k, true, o)).1
}

/// The transform's variant names of a function's points, in source order
/// (a label, or the marker's kind and its index among that kind), with
/// whether each is compiled and whether it is a `call!`.
pub fn point_names(f: &Func) -> Vec<(String, *const (), bool, bool)> {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (m, active) in f.markers() {
        let prefix = m.prefix();
        let n = counts.entry(prefix).or_insert(0);
        let name = match m.label() {
            Some(l) => l.to_string(),
            None => format!("{prefix}{n}"),
        };
        *n += 1;
        out.push((name, m.key(), active, m.is_call()));
    }
    out
}

impl Program {
    /// Computes which locals need `mut`.
    pub fn finish(&mut self) {
        fix_mut(&mut self.main);
        for s in &mut self.subs {
            fix_mut(s);
        }
    }
}

fn fix_mut(f: &mut Func) {
    let mut muts = vec![false; f.vars.len()];
    fn in_call(op: &CallOp, muts: &mut [bool]) {
        match op {
            CallOp::HandAdd(Some(h), _)
            | CallOp::HandLt(Some(h), ..)
            | CallOp::HandNext(Some(h), ..)
            | CallOp::Sub(_, Some(h), _) => muts[*h] = true,
            _ => {}
        }
    }
    fn value(v: &Value, muts: &mut [bool]) {
        match v {
            Value::Marker(m) => {
                if let MarkerKind::Call(op) = &m.kind {
                    in_call(op, muts);
                }
            }
            Value::Block(b) => block(b, muts),
            Value::If(c, t, e) => {
                value(c, muts);
                block(t, muts);
                block(e, muts);
            }
            Value::Match(s, arms) => {
                value(s, muts);
                for a in arms {
                    value(&a.body, muts);
                }
            }
            Value::Loop(h, b) => {
                muts[h.counter] = true;
                block(b, muts);
            }
            Value::Expr(_) | Value::Try(_) => {}
        }
    }
    fn block(b: &Block, muts: &mut [bool]) {
        for s in &b.stmts {
            match &s.kind {
                StmtKind::Assign {
                    var,
                    init: false,
                    value: v,
                    ..
                } => {
                    muts[*var] = true;
                    value(v, muts);
                }
                StmtKind::Push(v, _) | StmtKind::PushStr(v) => muts[*v] = true,
                StmtKind::IndexAssign { var, .. } => muts[*var] = true,
                StmtKind::Marker(m) => {
                    if let MarkerKind::Call(op) = &m.kind {
                        in_call(op, muts);
                    }
                }
                StmtKind::Loop(h, kind, _) => {
                    muts[h.counter] = !matches!(kind, LoopKind::ForRange(_) | LoopKind::ForVec(..));
                    match kind {
                        LoopKind::WhileCall(Some(p), _) | LoopKind::WhileLetCall(_, Some(p), _) => {
                            muts[*p] = true
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            for_children(&s.kind, &mut |c| match c {
                Child::Block(b) => block(b, muts),
                Child::Value(v) => value(v, muts),
            });
        }
        if let Some(t) = &b.tail {
            value(t, muts);
        }
    }
    block(&f.body, &mut muts);
    for (v, m) in f.vars.iter_mut().zip(muts) {
        v.mutable = m;
    }
}

/// Which function of the program is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The main function.
    Main,
    /// Sub-operation `n`.
    Sub(usize),
}

/// What the oracle form needs from its caller: the explicit drops.
pub trait OracleHooks {
    /// Locals to drop at a point (keyed by [`MarkerRef::key`]), in order.
    fn at_point(&self, m: *const ()) -> &[VarId];
    /// Locals to drop after a statement or value construct (by address).
    fn at_end(&self, node: *const ()) -> &[VarId];
    /// Locals to drop before a loop (by address of its statement or value).
    fn at_start(&self, node: *const ()) -> &[VarId];
    /// The variant name of a point (keyed by [`MarkerRef::key`]).
    fn name_of(&self, m: *const ()) -> String;
}

/// Prints one function's body in either form.
pub struct Printer<'a> {
    prog: &'a Program,
    func: &'a Func,
    oracle: Option<&'a dyn OracleHooks>,
    out: String,
    indent: usize,
}

impl<'a> Printer<'a> {
    /// A printer of `which` function; `oracle` given: the oracle form.
    pub fn new(prog: &'a Program, which: Which, oracle: Option<&'a dyn OracleHooks>) -> Self {
        let func = match which {
            Which::Main => &prog.main,
            Which::Sub(n) => &prog.subs[n],
        };
        Printer {
            prog,
            func,
            oracle,
            out: String::new(),
            indent: 1,
        }
    }

    /// The body, printed.
    pub fn body(mut self) -> String {
        self.indent = 1;
        let b = &self.func.body;
        for s in &b.stmts {
            self.stmt(s);
        }
        let ret = self.expr(&self.func.ret);
        if self.oracle.is_some() {
            self.line(&format!("Ok({ret})"));
        } else {
            self.line(&format!("Ok(IOResult::Done({ret}))"));
        }
        self.out
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn name(&self, v: VarId) -> String {
        let var = &self.func.vars[v];
        if self.oracle.is_some() && !var.param {
            format!("{}_{v}", var.name)
        } else {
            var.name.clone()
        }
    }

    /// A read of `v` by reference: a Noisy in the oracle is in a Slot.
    fn read(&self, v: VarId) -> String {
        if self.oracle.is_some() && self.func.vars[v].ty == Ty::Noisy {
            format!("{}.get()", self.name(v))
        } else {
            self.name(v)
        }
    }

    /// A move of `v`.
    fn moved(&self, v: VarId) -> String {
        if self.oracle.is_some() && self.func.vars[v].ty == Ty::Noisy {
            format!("{}.take()", self.name(v))
        } else {
            self.name(v)
        }
    }

    /// An expression.
    pub fn expr(&self, e: &Expr) -> String {
        match e {
            Expr::Lit(n) => format!("{n}"),
            Expr::Var(v) => self.moved(*v),
            Expr::Add(a, b) => format!("u64::wrapping_add({}, {})", self.expr(a), self.expr(b)),
            Expr::Mul3(a) => format!("u64::wrapping_mul({}, 3)", self.expr(a)),
            Expr::Mod(a, m) => format!("{} % {m}", self.atom(a)),
            Expr::Len(v) => format!("{}.len() as u64", self.name(*v)),
            Expr::NoisyId(v) => format!("{}.id()", self.read(*v)),
            Expr::UnwrapOr(v, d) => format!("{}.unwrap_or({d})", self.name(*v)),
            Expr::TupFirst(v) => format!("{}.0", self.name(*v)),
            Expr::TupLen(v) => format!("{}.1.len() as u64", self.name(*v)),
            Expr::First(v) => format!("{}.first().copied().unwrap_or(0)", self.name(*v)),
            Expr::Lt(a, b) => format!("{} < {}", self.atom(a), self.atom(b)),
            Expr::Even(a) => format!("{} % 2 == 0", self.atom(a)),
            Expr::IsSome(v) => format!("{}.is_some()", self.name(*v)),
            Expr::IsEmpty(v) => format!("{}.is_empty()", self.name(*v)),
            Expr::Format(a) => format!("format!(\"v{{}}\", {})", self.expr(a)),
            Expr::Clone(v) => format!("{}.clone()", self.name(*v)),
            Expr::StrLit => "String::from(\"k\")".to_string(),
            Expr::VecLit(es) => format!("vec![{}]", self.list(es)),
            Expr::Some(a) => format!("Some({})", self.expr(a)),
            Expr::None => "None::<u64>".to_string(),
            Expr::Last(v) => format!("{}.last().copied()", self.name(*v)),
            Expr::Tuple(a, b) => format!("({}, {})", self.expr(a), self.expr(b)),
            Expr::NewNoisy(id) => {
                if self.oracle.is_some() {
                    format!("Slot::new(env.noisy({id}))")
                } else {
                    format!("env.noisy({id})")
                }
            }
            Expr::Io(tag) => format!("env.io({tag})"),
            Expr::DefaultState(t) => format!("{}::default()", t.rust()),
            Expr::Check(a) => format!("env.check({})?", self.expr(a)),
            Expr::ArrLit(es) => format!("[{}]", self.list(es)),
            Expr::ArrRepeat(a) => format!("[{}; 4]", self.expr(a)),
            Expr::Index(v, i) => format!("{}[({} % 4) as usize]", self.name(*v), self.atom(i)),
            Expr::IndexLit(v, i) => format!("{}[{i}]", self.name(*v)),
            Expr::ArrSum(v) => format!("arr_sum({})", self.name(*v)),
            Expr::ArrRot(v) => format!("arr_rot({})", self.name(*v)),
            Expr::ArrFold(v) => format!(
                "{}.iter().fold(0u64, |acc, el| acc.wrapping_add(*el))",
                self.name(*v)
            ),
            Expr::ArrClosure(v) => format!(
                "(0..4usize).map(|i| {}[i] % 1000).sum::<u64>()",
                self.name(*v)
            ),
            Expr::ArrEq(a, b) => format!("{} == {}", self.atom(a), self.atom(b)),
            Expr::ArrContains(v, a) => format!("{}.contains(&{})", self.name(*v), self.atom(a)),
            Expr::ArrFmtLen(v, false) => {
                format!("format!(\"{{:?}}\", {}).len() as u64", self.name(*v))
            }
            Expr::ArrFmtLen(v, true) => {
                format!("format!(\"{{{}:?}}\").len() as u64", self.name(*v))
            }
        }
    }

    /// Values separated by commas, as in a `vec![..]` or an array.
    fn list(&self, es: &[Expr]) -> String {
        es.iter()
            .map(|e| self.expr(e))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn atom(&self, e: &Expr) -> String {
        match e {
            Expr::Lit(_) | Expr::Var(_) | Expr::Add(..) | Expr::Mul3(_) => self.expr(e),
            Expr::Len(_) | Expr::TupLen(_) => format!("({})", self.expr(e)),
            Expr::NoisyId(_) | Expr::UnwrapOr(..) | Expr::TupFirst(_) | Expr::First(_) => {
                self.expr(e)
            }
            Expr::ArrLit(_)
            | Expr::ArrRepeat(_)
            | Expr::Index(..)
            | Expr::IndexLit(..)
            | Expr::ArrSum(_)
            | Expr::ArrRot(_)
            | Expr::ArrFold(_) => self.expr(e),
            _ => format!("({})", self.expr(e)),
        }
    }

    fn hand_place(&self, h: Option<VarId>) -> String {
        if let Some(h) = h {
            return format!("&mut {}", self.name(h));
        }
        match self.prog.form {
            Form::Free => "hs".to_string(),
            Form::Field => "&mut self.hs".to_string(),
            Form::RefCell => "&mut self.hs.borrow_mut()".to_string(),
            Form::Mutex => "&mut self.hs.lock().unwrap()".to_string(),
        }
    }

    fn call_op(&self, op: &CallOp) -> String {
        if self.oracle.is_some() {
            return match op {
                CallOp::HandAdd(_, x) => format!("hand_add_oracle(env, {})?", self.expr(x)),
                CallOp::HandLt(_, a, b) => {
                    format!("hand_lt_oracle(env, {}, {})?", self.expr(a), self.expr(b))
                }
                CallOp::HandNext(_, a, b) => {
                    format!("hand_next_oracle(env, {}, {})?", self.expr(a), self.expr(b))
                }
                CallOp::Sub(n, _, x) => format!("s{n}_oracle(env, {})?", self.expr(x)),
            };
        }
        match op {
            CallOp::HandAdd(h, x) => {
                format!("hand_add({}, env, {})", self.hand_place(*h), self.expr(x))
            }
            CallOp::HandLt(h, a, b) => format!(
                "hand_lt({}, env, {}, {})",
                self.hand_place(*h),
                self.expr(a),
                self.expr(b)
            ),
            CallOp::HandNext(h, a, b) => format!(
                "hand_next({}, env, {}, {})",
                self.hand_place(*h),
                self.expr(a),
                self.expr(b)
            ),
            CallOp::Sub(n, st, x) => match self.prog.form {
                Form::Free => format!(
                    "s{n}(&mut {}, env, hs, {})",
                    self.name(st.expect("BUG: a free sub call without its state local")),
                    self.expr(x)
                ),
                _ => format!("self.s{n}(env, {})", self.expr(x)),
            },
        }
    }

    fn kills(&self, vars: &[VarId]) -> String {
        vars.iter()
            .map(|v| format!("{}.kill(); ", self.name(*v)))
            .collect()
    }

    /// A marker as an expression of its value.
    fn marker(&self, m: &Marker) -> String {
        let Some(o) = self.oracle else {
            let label = |sep: &str| {
                m.label
                    .as_ref()
                    .map(|l| format!("{l}{sep}"))
                    .unwrap_or_default()
            };
            return match &m.kind {
                MarkerKind::Wait(c) => format!("wait!({}{})", label(" => "), self.expr(c)),
                MarkerKind::WaitAll(cs) => format!(
                    "wait_all!({}vec![{}])",
                    label(" => "),
                    cs.iter()
                        .map(|c| self.expr(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                MarkerKind::WaitAllMap(n, tag) => format!(
                    "wait_all!({}(0..{n}).map(|_| env.io({tag})).collect::<Vec<Completion>>())",
                    label(" => ")
                ),
                MarkerKind::Call(op) => format!("call!({}{})", label(" => "), self.call_op(op)),
                MarkerKind::Yield => format!("yield_now!({})", label("")),
            };
        };
        let kills = self.kills(o.at_point(m as *const Marker as *const ()));
        let at = format!(
            "env.at({:?})?; ",
            o.name_of(m as *const Marker as *const ())
        );
        match &m.kind {
            MarkerKind::Wait(c) => format!(
                "{{ let __c: Completion = {}; {kills}{at}env.oracle_wait(__c)? }}",
                self.expr(c)
            ),
            MarkerKind::WaitAll(cs) => format!(
                "{{ let __c: Vec<Completion> = vec![{}]; {kills}{at}env.oracle_wait_all(__c)? }}",
                cs.iter().map(|c| self.expr(c)).collect::<Vec<_>>().join(", ")
            ),
            MarkerKind::WaitAllMap(n, tag) => format!(
                "{{ let __c: Vec<Completion> = (0..{n}).map(|_| env.io({tag})).collect(); {kills}{at}env.oracle_wait_all(__c)? }}"
            ),
            MarkerKind::Call(op) => format!("{{ {kills}{} }}", self.call_op(op)),
            MarkerKind::Yield => format!("{{ {kills}{at}}}"),
        }
    }

    /// A value, printed inline (multi-line values are printed at the
    /// current indentation).
    fn value(&mut self, v: &Value, ty: Ty) -> String {
        let s = match v {
            Value::Expr(e) => self.expr(e),
            Value::Marker(m) => self.marker(m),
            Value::Try(e) => format!("env.check({})?", self.expr(e)),
            Value::Block(b) => self.block_inline(b, ty),
            Value::If(c, t, e) => {
                let c = self.value(c, Ty::Bool);
                let t = self.block_inline(t, ty);
                let e = match (&e.tail, e.stmts.is_empty(), self.oracle) {
                    // `else { if .. }` is written `else if ..` (the oracle
                    // keeps the block: its drops may follow the inner if).
                    (Some(inner), true, None) if matches!(**inner, Value::If(..)) => {
                        self.value(inner, ty)
                    }
                    _ => self.block_inline(e, ty),
                };
                format!("if {c} {t} else {e}")
            }
            Value::Match(s, arms) => {
                let sty = arm_scrut_ty(arms);
                let s = self.value(s, sty);
                let mut out = format!("match {s} {{\n");
                for a in arms {
                    let pat = self.pat(&a.pat);
                    let guard = a
                        .guard
                        .as_ref()
                        .map(|g| format!(" if {}", self.expr(g)))
                        .unwrap_or_default();
                    self.indent += 1;
                    let body = self.value(&a.body, ty);
                    self.indent -= 1;
                    out.push_str(&self.pad(1));
                    let _ = writeln!(out, "{pat}{guard} => {body},");
                }
                out.push_str(&self.pad(0));
                out.push('}');
                out
            }
            Value::Loop(h, b) => {
                let k = self.name(h.counter);
                let label = h
                    .label
                    .as_ref()
                    .map(|l| format!("{l}: "))
                    .unwrap_or_default();
                let guard = format!("if {k} >= {} {{ break 0; }} {k} += 1;", h.bound);
                let body = self.block_lines(b, Ty::Unit, Some(&guard));
                format!("{label}loop {body}")
            }
        };
        let Some(o) = self.oracle else { return s };
        let key = v as *const Value as *const ();
        let start = o.at_start(key);
        let end = o.at_end(key);
        if start.is_empty() && end.is_empty() {
            return s;
        }
        format!(
            "{{ {}let __t: {} = {s}; {}__t }}",
            self.kills(start),
            ty.rust(),
            self.kills(end)
        )
    }

    fn pad(&self, extra: usize) -> String {
        "    ".repeat(self.indent + extra)
    }

    fn block_inline(&mut self, b: &Block, ty: Ty) -> String {
        self.block_lines(b, ty, None)
    }

    /// `{\n stmts \n tail \n}` with the closing brace at the current indent.
    fn block_lines(&mut self, b: &Block, ty: Ty, first: Option<&str>) -> String {
        let saved = std::mem::take(&mut self.out);
        self.indent += 1;
        if let Some(f) = first {
            self.line(f);
        }
        for s in &b.stmts {
            self.stmt(s);
        }
        if let Some(t) = &b.tail {
            let v = self.value(t, ty);
            self.line(&v);
        }
        self.indent -= 1;
        let inner = std::mem::replace(&mut self.out, saved);
        format!("{{\n{inner}{}}}", self.pad(0))
    }

    fn pat(&self, p: &Pat) -> String {
        match p {
            Pat::Lit(n) => format!("{n}"),
            Pat::Range(a, b) => format!("{a}..={b}"),
            Pat::Bind(v) => self.name(*v),
            Pat::Wild => "_".to_string(),
            Pat::SomeBind(v) => format!("Some({})", self.name(*v)),
            Pat::NoneP => "None".to_string(),
        }
    }

    fn decl(&self, v: VarId) -> String {
        let var = &self.func.vars[v];
        let mutable = var.mutable || (self.oracle.is_some() && var.ty == Ty::Noisy);
        let m = if mutable { "mut " } else { "" };
        let ty = if self.oracle.is_some() && var.ty == Ty::Noisy {
            "Slot".to_string()
        } else {
            var.ty.rust()
        };
        format!("{m}{}: {ty}", self.name(v))
    }

    fn stmt(&mut self, s: &Stmt) {
        if let Some(c) = s.cfg {
            self.line(c.attr());
        }
        let key = s as *const Stmt as *const ();
        if let Some(o) = self.oracle {
            let start = o.at_start(key);
            if !start.is_empty() {
                let k = self.kills(start);
                // The loop's own cfg must cover its start drops too.
                self.line(&format!("{{ {} }}", k.trim_end()));
                if let Some(c) = s.cfg {
                    // Re-attach the cfg to the loop itself.
                    self.line(c.attr());
                }
            }
        }
        let text = self.stmt_text(s);
        self.line(&text);
        if let Some(o) = self.oracle {
            let end = o.at_end(key);
            if !end.is_empty() {
                if let Some(c) = s.cfg {
                    self.line(c.attr());
                }
                let k = self.kills(end);
                self.line(&format!("{{ {} }}", k.trim_end()));
            }
        }
    }

    fn oracle_skips(&self, v: VarId) -> bool {
        self.oracle.is_some() && matches!(self.func.vars[v].ty, Ty::Hand | Ty::SubState(_))
    }

    fn stmt_text(&mut self, s: &Stmt) -> String {
        match &s.kind {
            StmtKind::Let(v, init) => {
                if self.oracle_skips(*v) {
                    return "// (a sub-operation's state: the oracle needs none)".to_string();
                }
                let d = self.decl(*v);
                match init {
                    None => format!("let {d};"),
                    Some(Value::Expr(Expr::Var(w)))
                        if self.oracle.is_some() && self.func.vars[*v].ty == Ty::Noisy =>
                    {
                        format!("let {d} = Slot::new({});", self.moved(*w))
                    }
                    Some(i) => {
                        let ty = self.func.vars[*v].ty;
                        let i = self.value(i, ty);
                        format!("let {d} = {i};")
                    }
                }
            }
            StmtKind::LetTuple(a, b, e) => {
                let m = |v: VarId| {
                    if self.func.vars[v].mutable {
                        "mut "
                    } else {
                        ""
                    }
                };
                format!(
                    "let ({}{}, {}{}): (u64, String) = {};",
                    m(*a),
                    self.name(*a),
                    m(*b),
                    self.name(*b),
                    self.expr(e)
                )
            }
            StmtKind::Assign {
                var,
                compound,
                value,
                ..
            } => {
                let ty = self.func.vars[*var].ty;
                let v = self.value(value, ty);
                let op = if *compound { "+=" } else { "=" };
                format!("{} {op} {v};", self.name(*var))
            }
            StmtKind::IndexAssign {
                var,
                index,
                compound,
                value,
            } => {
                let v = self.value(value, Ty::U64);
                let op = if *compound { "+=" } else { "=" };
                format!(
                    "{}[({} % 4) as usize] {op} {v};",
                    self.name(*var),
                    self.atom(index)
                )
            }
            StmtKind::Log(id) => format!("env.log({id});"),
            StmtKind::LogVal(id, v) => format!("env.val({id}, &{});", self.read(*v)),
            StmtKind::Push(v, e) => format!("{}.push({});", self.name(*v), self.expr(e)),
            StmtKind::PushStr(v) => format!("{}.push_str(\"z\");", self.name(*v)),
            StmtKind::Drop(v) => format!("drop({});", self.moved(*v)),
            StmtKind::Consume(v) => format!("env.consume({});", self.moved(*v)),
            StmtKind::Touch(id, field) => {
                let field = match field {
                    0 => "st".to_string(),
                    n => format!("s{}", n - 1),
                };
                match (self.oracle.is_some(), self.prog.form) {
                    (false, Form::RefCell) => {
                        format!("env.val({id}, &self.{field}.try_borrow_mut().is_ok());")
                    }
                    (false, Form::Mutex) => {
                        format!("env.val({id}, &self.{field}.try_lock().is_ok());")
                    }
                    _ => format!("env.val({id}, &true);"),
                }
            }
            StmtKind::Marker(m) => {
                let t = self.marker(m);
                format!("{t};")
            }
            StmtKind::If(c, t, e) => {
                let c = self.value(c, Ty::Bool);
                let t = self.block_inline(t, Ty::Unit);
                match e {
                    Some(e) => {
                        let e = match (e.stmts.as_slice(), &e.tail, self.oracle) {
                            // `else { if .. }` is written `else if ..`.
                            (
                                [Stmt {
                                    cfg: None,
                                    kind: inner @ StmtKind::If(..),
                                }],
                                None,
                                None,
                            ) => self.stmt_text(&Stmt {
                                cfg: None,
                                kind: inner.clone(),
                            }),
                            _ => self.block_inline(e, Ty::Unit),
                        };
                        format!("if {c} {t} else {e}")
                    }
                    None => format!("if {c} {t}"),
                }
            }
            StmtKind::IfLet(x, sc, t, e) => {
                let sc = self.value(sc, Ty::OptU64);
                let t = self.block_inline(t, Ty::Unit);
                let x = self.name(*x);
                match e {
                    Some(e) => {
                        let e = self.block_inline(e, Ty::Unit);
                        format!("if let Some({x}) = {sc} {t} else {e}")
                    }
                    None => format!("if let Some({x}) = {sc} {t}"),
                }
            }
            StmtKind::Match(sc, arms) => self.match_stmt(sc, arms),
            StmtKind::Loop(h, kind, b) => self.loop_stmt(h, kind, b),
            StmtKind::Break(l, v) => {
                let l = l.as_ref().map(|l| format!(" {l}")).unwrap_or_default();
                let v = v
                    .as_ref()
                    .map(|v| format!(" {}", self.expr(v)))
                    .unwrap_or_default();
                format!("break{l}{v};")
            }
            StmtKind::Continue(l) => {
                let l = l.as_ref().map(|l| format!(" {l}")).unwrap_or_default();
                format!("continue{l};")
            }
            StmtKind::Return(e) => {
                if self.oracle.is_some() {
                    format!("return Ok({});", self.expr(e))
                } else {
                    format!("return Ok(IOResult::Done({}));", self.expr(e))
                }
            }
            StmtKind::LetElse(x, sc, b) => {
                let sc = self.value(sc, Ty::OptU64);
                // A `}` may not end a let-else's initializer.
                let sc = if sc.ends_with('}') {
                    format!("({sc})")
                } else {
                    sc
                };
                let b = self.block_inline(b, Ty::Unit);
                format!("let Some({}) = {sc} else {b};", self.name(*x))
            }
            StmtKind::Block(b) => self.block_inline(b, Ty::Unit),
        }
    }

    fn match_stmt(&mut self, sc: &Value, arms: &[Arm]) -> String {
        let sty = arm_scrut_ty(arms);
        let s = self.value(sc, sty);
        let mut out = format!("match {s} {{\n");
        for a in arms {
            let pat = self.pat(&a.pat);
            let guard = a
                .guard
                .as_ref()
                .map(|g| format!(" if {}", self.expr(g)))
                .unwrap_or_default();
            self.indent += 1;
            let body = self.value(&a.body, Ty::Unit);
            self.indent -= 1;
            out.push_str(&self.pad(1));
            let _ = writeln!(out, "{pat}{guard} => {body},");
        }
        out.push_str(&self.pad(0));
        out.push('}');
        out
    }

    fn loop_stmt(&mut self, h: &LoopHead, kind: &LoopKind, b: &Block) -> String {
        let k = self.name(h.counter);
        let bound = h.bound;
        let label = h
            .label
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let incr = format!("{k} += 1;");
        match kind {
            LoopKind::Loop => {
                let guard = format!("if {k} >= {bound} {{ break; }} {k} += 1;");
                let body = self.block_lines(b, Ty::Unit, Some(&guard));
                format!("{label}loop {body}")
            }
            LoopKind::While => {
                let body = self.block_lines(b, Ty::Unit, Some(&incr));
                format!("{label}while {k} < {bound} {body}")
            }
            LoopKind::WhileCall(hp, lbl) => {
                let m = Marker {
                    kind: MarkerKind::Call(CallOp::HandLt(
                        *hp,
                        Expr::Var(h.counter),
                        Expr::Lit(bound),
                    )),
                    label: lbl.clone(),
                };
                let c = self.loop_marker_text(kind, &m);
                let body = self.block_lines(b, Ty::Unit, Some(&incr));
                format!("{label}while {c} {body}")
            }
            LoopKind::WhileLet(x) => {
                let body = self.block_lines(b, Ty::Unit, Some(&incr));
                format!(
                    "{label}while let Some({}) = ({k} < {bound}).then_some({k} * 2) {body}",
                    self.name(*x)
                )
            }
            LoopKind::WhileLetCall(x, hp, lbl) => {
                let m = Marker {
                    kind: MarkerKind::Call(CallOp::HandNext(
                        *hp,
                        Expr::Var(h.counter),
                        Expr::Lit(bound),
                    )),
                    label: lbl.clone(),
                };
                let c = self.loop_marker_text(kind, &m);
                let body = self.block_lines(b, Ty::Unit, Some(&incr));
                format!("{label}while let Some({}) = {c} {body}", self.name(*x))
            }
            LoopKind::ForRange(x) => {
                let body = self.block_lines(b, Ty::Unit, None);
                format!("{label}for {} in 0..{bound}_u64 {body}", self.name(*x))
            }
            LoopKind::ForVec(x, v) => {
                let body = self.block_lines(b, Ty::Unit, None);
                format!("{label}for {} in {} {body}", self.name(*x), self.name(*v))
            }
        }
    }

    /// The marker of a loop's head, printed; the oracle's drops for it are
    /// keyed by the loop kind's address.
    fn loop_marker_text(&self, kind: &LoopKind, m: &Marker) -> String {
        let Some(o) = self.oracle else {
            return self.marker(m);
        };
        let key = kind as *const LoopKind as *const ();
        let kills = self.kills(o.at_point(key));
        let op = match &m.kind {
            MarkerKind::Call(op) => self.call_op(op),
            _ => unreachable!("BUG: a loop head holds a call"),
        };
        format!("{{ {kills}{op} }}")
    }
}

/// The scrutinee type of a match, from its arms' patterns.
pub fn arm_scrut_ty(arms: &[Arm]) -> Ty {
    if arms
        .iter()
        .any(|a| matches!(a.pat, Pat::SomeBind(_) | Pat::NoneP))
    {
        Ty::OptU64
    } else {
        Ty::U64
    }
}

/// Every local a value mentions: read, moved, assigned or declared in it.
pub fn value_vars(v: &Value, out: &mut Vec<VarId>) {
    fn expr(e: &Expr, out: &mut Vec<VarId>) {
        expr_vars(e, out);
    }
    fn call(op: &CallOp, out: &mut Vec<VarId>) {
        match op {
            CallOp::HandAdd(h, x) | CallOp::Sub(_, h, x) => {
                out.extend(*h);
                expr(x, out);
            }
            CallOp::HandLt(h, a, b) | CallOp::HandNext(h, a, b) => {
                out.extend(*h);
                expr(a, out);
                expr(b, out);
            }
        }
    }
    fn marker(m: &Marker, out: &mut Vec<VarId>) {
        match &m.kind {
            MarkerKind::Wait(c) => expr(c, out),
            MarkerKind::WaitAll(cs) => cs.iter().for_each(|c| expr(c, out)),
            MarkerKind::Call(op) => call(op, out),
            MarkerKind::WaitAllMap(..) | MarkerKind::Yield => {}
        }
    }
    fn pat(p: &Pat, out: &mut Vec<VarId>) {
        if let Pat::Bind(x) | Pat::SomeBind(x) = p {
            out.push(*x);
        }
    }
    fn block(b: &Block, out: &mut Vec<VarId>) {
        for s in &b.stmts {
            match &s.kind {
                StmtKind::Let(v, _) => out.push(*v),
                StmtKind::LetTuple(a, b, e) => {
                    out.push(*a);
                    out.push(*b);
                    expr(e, out);
                }
                StmtKind::Assign { var, .. } => out.push(*var),
                StmtKind::IndexAssign { var, index, .. } => {
                    out.push(*var);
                    expr(index, out);
                }
                StmtKind::LogVal(_, v)
                | StmtKind::PushStr(v)
                | StmtKind::Drop(v)
                | StmtKind::Consume(v) => out.push(*v),
                StmtKind::Push(v, e) => {
                    out.push(*v);
                    expr(e, out);
                }
                StmtKind::Marker(m) => marker(m, out),
                StmtKind::IfLet(x, ..) | StmtKind::LetElse(x, ..) => out.push(*x),
                StmtKind::Match(_, arms) => arms.iter().for_each(|a| {
                    pat(&a.pat, out);
                    if let Some(g) = &a.guard {
                        expr(g, out);
                    }
                }),
                StmtKind::Loop(h, kind, _) => {
                    out.push(h.counter);
                    match kind {
                        LoopKind::WhileCall(p, _) => out.extend(*p),
                        LoopKind::WhileLet(x) | LoopKind::ForRange(x) => out.push(*x),
                        LoopKind::WhileLetCall(x, p, _) => {
                            out.push(*x);
                            out.extend(*p);
                        }
                        LoopKind::ForVec(x, v) => {
                            out.push(*x);
                            out.push(*v);
                        }
                        LoopKind::Loop | LoopKind::While => {}
                    }
                }
                StmtKind::Break(_, Some(e)) | StmtKind::Return(e) => expr(e, out),
                _ => {}
            }
            for_children(&s.kind, &mut |c| match c {
                Child::Block(b) => block(b, out),
                Child::Value(v) => value_vars(v, out),
            });
        }
        if let Some(t) = &b.tail {
            value_vars(t, out);
        }
    }
    match v {
        Value::Expr(e) | Value::Try(e) => expr(e, out),
        Value::Marker(m) => marker(m, out),
        Value::Block(b) => block(b, out),
        Value::If(c, t, e) => {
            value_vars(c, out);
            block(t, out);
            block(e, out);
        }
        Value::Match(s, arms) => {
            value_vars(s, out);
            for a in arms {
                pat(&a.pat, out);
                if let Some(g) = &a.guard {
                    expr(g, out);
                }
                value_vars(&a.body, out);
            }
        }
        Value::Loop(h, b) => {
            out.push(h.counter);
            block(b, out);
        }
    }
}

/// The locals an expression reads or moves.
pub fn expr_vars(e: &Expr, out: &mut Vec<VarId>) {
    match e {
        Expr::Var(v)
        | Expr::Len(v)
        | Expr::NoisyId(v)
        | Expr::UnwrapOr(v, _)
        | Expr::TupFirst(v)
        | Expr::TupLen(v)
        | Expr::First(v)
        | Expr::IsSome(v)
        | Expr::IsEmpty(v)
        | Expr::Clone(v)
        | Expr::Last(v)
        | Expr::IndexLit(v, _)
        | Expr::ArrSum(v)
        | Expr::ArrRot(v)
        | Expr::ArrFold(v)
        | Expr::ArrClosure(v)
        | Expr::ArrFmtLen(v, _) => out.push(*v),
        Expr::Index(v, a) | Expr::ArrContains(v, a) => {
            out.push(*v);
            expr_vars(a, out);
        }
        Expr::ArrEq(a, b) => {
            expr_vars(a, out);
            expr_vars(b, out);
        }
        Expr::ArrRepeat(a) => expr_vars(a, out),
        Expr::ArrLit(es) => es.iter().for_each(|e| expr_vars(e, out)),
        Expr::Add(a, b) | Expr::Lt(a, b) | Expr::Tuple(a, b) => {
            expr_vars(a, out);
            expr_vars(b, out);
        }
        Expr::Mul3(a)
        | Expr::Mod(a, _)
        | Expr::Even(a)
        | Expr::Format(a)
        | Expr::Some(a)
        | Expr::Check(a) => expr_vars(a, out),
        Expr::VecLit(es) => es.iter().for_each(|e| expr_vars(e, out)),
        Expr::Lit(_)
        | Expr::StrLit
        | Expr::None
        | Expr::NewNoisy(_)
        | Expr::Io(_)
        | Expr::DefaultState(_) => {}
    }
}
