//! The lowered body: the function's statements as a tree whose control
//! flow the later phases can follow.
//!
//! [`crate::lower`] builds it from the body in which [`crate::points`]
//! replaced every marker by a placeholder. Every statement-level `if`,
//! `match`, block and labelled block is a node of its own, and so is every
//! loop that holds a suspension point (rewritten to a plain `loop`);
//! everything else is a [`Leaf`], a user statement kept as written, which
//! holds no suspension point. [`crate::resolve`] then gives every local an
//! id and fills in what each leaf reads, binds and assigns. Only data lives
//! here; the phases own the logic.

use std::rc::Rc;

use proc_macro2::Span;
use syn::{Attribute, Expr, Ident, Label, Lifetime, Pat, Type};

pub use crate::ids::{LocalId, NodeId, PointId};

/// The lowered function body.
pub struct Body {
    pub block: Block,
    /// Every local, indexed by [`LocalId`]; filled by [`crate::resolve`].
    pub locals: Vec<Local>,
    /// How many [`NodeId`]s were handed out.
    pub nodes: usize,
    /// What each point's operand reads, indexed by [`PointId`]; filled by
    /// [`crate::resolve`].
    pub operands: Vec<LeafInfo>,
}

/// One local.
pub struct Local {
    pub ident: Ident,
    pub mutable: bool,
    /// `ref x` / `ref mut x`.
    pub by_ref: bool,
    /// The type the macro can read for it, if any.
    pub ty: Option<Type>,
    /// The type written on its `let` (`let x: T;`), for a re-declaration.
    pub declared_ty: Option<Type>,
    /// `#[cfg(..)]` attributes on the `let` that declares it: where it is
    /// stored or restored, the same attributes apply.
    pub cfg: Vec<Attribute>,
    /// The hidden iterator of a `for` loop that holds a suspension point.
    pub for_iter: Option<ForIter>,
    /// For such an iterator over `a..end` of integers, with an immutable
    /// loop variable and an `end` that every call evaluates the same (a
    /// literal, or a primitive parameter that is never assigned): the loop
    /// variable. A point's variant that stores the variable does not store
    /// the iterator; the arm rebuilds it as `(var + 1)..end`.
    pub counted: Option<Counted>,
    /// Declared by the macro (a value carrier), not by the user.
    pub internal: bool,
    /// Its place in declaration order (stored locals drop in reverse).
    pub order: usize,
    /// A parameter of the function: passed again on every call, so never
    /// stored. One that may be moved out of (not a reference or a
    /// primitive) travels between arms in a carrier, so that the dispatch
    /// loop does not move it twice.
    pub param: Param,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Param {
    No,
    /// A reference or a `Copy` primitive: used in place.
    InPlace,
    /// Taken out of its carrier by the arms that use it.
    Carried,
}

/// How a counted `for` loop's iterator is rebuilt from its variable.
#[derive(Clone)]
pub struct Counted {
    pub var: LocalId,
    pub end: Expr,
}

/// The `for` loop whose iterator a hidden local holds, for its messages.
#[derive(Clone)]
pub struct ForIter {
    pub iterable: Expr,
    pub pat_names: Vec<String>,
}

/// A block: a scope with its statements.
pub struct Block {
    pub id: NodeId,
    pub stmts: Vec<Stmt>,
    /// Bindings in scope from the block's start: a match arm's or an `if
    /// let`'s pattern. Filled by [`crate::resolve`].
    pub entry_binds: Vec<LocalId>,
    /// The value of the function's body block (only there: every other
    /// block's tail is a statement, or was assigned to a carrier).
    pub tail: Option<Leaf>,
    pub span: Span,
}

/// One statement.
pub struct Stmt {
    pub id: NodeId,
    /// `#[cfg(..)]` on a statement node (leaves keep theirs in place).
    pub cfg: Vec<Attribute>,
    pub kind: StmtKind,
    /// Whether a suspension point is inside.
    pub has_point: bool,
}

#[allow(clippy::large_enum_variant)]
pub enum StmtKind {
    Leaf(Leaf),
    Point(PointStmt),
    If(If),
    Match(Match),
    Loop(Loop),
    Block(BlockStmt),
    LetElse(LetElse),
}

/// A user statement without a suspension point, as written (or as the
/// lowering rewrote it). Shared: the arms hold the same statement without
/// copying it, unless they rewrite its jumps.
pub struct Leaf {
    pub stmt: Rc<syn::Stmt>,
    pub info: Rc<LeafInfo>,
}

impl Leaf {
    /// A leaf that owns its statement and what it does, to be shared.
    pub fn new(stmt: syn::Stmt, info: LeafInfo) -> Leaf {
        Leaf {
            stmt: Rc::new(stmt),
            info: Rc::new(info),
        }
    }
}

/// What a leaf does to locals, and where it can jump.
#[derive(Default, Clone)]
pub struct LeafInfo {
    /// Locals it reads or writes in part.
    pub uses: Vec<LocalId>,
    /// Locals its `let` declares (in declaration order).
    pub defs: Vec<LocalId>,
    /// Locals it overwrites whole on every path (`x = ..;`).
    pub kills: Vec<LocalId>,
    /// Locals it assigns whole somewhere (`kills` and conditional ones).
    pub assigns: Vec<LocalId>,
    /// The `break`/`continue`/`return` inside it that leave it.
    pub exits: Vec<Exit>,
    /// It never completes normally (`return ..;`, `break;`, `panic!()`).
    pub diverges: bool,
    /// The `#[cfg]`s it carries in place (where they are false, it is not
    /// there).
    pub cfg: Vec<syn::Attribute>,
    /// Locals of `uses` it reads only inside statements, match arms or
    /// struct fields under `#[cfg]`s, each with the `#[cfg]`s around one
    /// such read: it reads them only where one of those holds.
    pub only_under: Vec<(LocalId, Vec<syn::Attribute>)>,
}

/// A jump out of a leaf.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Exit {
    /// `break` to a loop or labelled block; the carrier it sets, if any.
    Break(NodeId, Option<LocalId>),
    Continue(NodeId),
    /// `return` or `?`.
    Return,
}

/// A marker standing as a statement, a `let` initializer or an assignment's
/// right side.
pub struct PointStmt {
    pub point: PointId,
    pub sink: Sink,
}

/// Where a marker's value goes.
#[allow(clippy::large_enum_variant)]
pub enum Sink {
    /// `wait!(c);`
    Discard { semi: bool },
    /// `let PAT [: T] = marker [else { .. }];`
    Let {
        attrs: Vec<Attribute>,
        pat: Pat,
        defs: Vec<LocalId>,
        diverge: Option<Block>,
    },
    /// `PLACE = marker;` or `PLACE op= marker;`.
    Assign {
        place: Expr,
        /// The operator tokens: `=`, `+=`, ..
        op: proc_macro2::TokenStream,
        info: LeafInfo,
    },
}

/// `if`, with its `else if` chain.
pub struct If {
    pub attrs: Vec<Attribute>,
    pub cond: Cond,
    pub then: Block,
    pub els: Option<Box<Else>>,
}

#[allow(clippy::large_enum_variant)]
pub enum Else {
    Block(Block),
    If(If),
}

/// An `if` condition or a `match` scrutinee.
#[allow(clippy::large_enum_variant)]
pub enum Cond {
    /// A plain expression (let chains included).
    Plain { expr: Expr, info: LeafInfo },
    /// A marker: `if call!(..)`, `match call!(..)`.
    Point(PointId),
    /// `if let PAT = call!(..)`.
    LetPoint { pat: Pat, point: PointId },
}

pub struct Match {
    pub attrs: Vec<Attribute>,
    pub scrut: Cond,
    pub arms: Vec<Arm>,
}

pub struct Arm {
    pub attrs: Vec<Attribute>,
    pub pat: Pat,
    pub guard: Option<(Expr, LeafInfo)>,
    pub body: Block,
}

/// A loop that holds a suspension point, as a plain `loop`.
pub struct Loop {
    pub attrs: Vec<Attribute>,
    pub label: Option<Label>,
    /// How the loop is written. A loop holding a point is always a plain
    /// `loop` (its `while`/`for` rewritten); one without keeps its form and
    /// is a node only so that liveness can see into it.
    pub header: LoopHeader,
    pub body: Block,
}

#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum LoopHeader {
    Loop,
    /// `while COND` (the condition's `let` bindings scope over the body).
    While {
        cond: Expr,
        info: LeafInfo,
    },
    /// `for PAT in EXPR`.
    For {
        pat: Pat,
        expr: Expr,
        info: LeafInfo,
    },
}

/// `{ .. }`, `unsafe { .. }` or `'label: { .. }`.
pub struct BlockStmt {
    pub attrs: Vec<Attribute>,
    pub label: Option<Label>,
    pub unsafety: bool,
    pub body: Block,
    pub semi: bool,
}

/// `let PAT [: T] = init else { diverge };` whose `else` holds a point.
pub struct LetElse {
    pub attrs: Vec<Attribute>,
    pub pat: Pat,
    pub init: Expr,
    pub info: LeafInfo,
    pub defs: Vec<LocalId>,
    pub diverge: Block,
}

/// A loop's or labelled block's label, made up where the user wrote none.
pub fn label_name(label: &Option<Label>) -> Option<&Lifetime> {
    label.as_ref().map(|l| &l.name)
}
