//! The ids the phases hand each other: small newtypes instead of bare
//! numbers.

/// A suspension point, numbered in source order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PointId(pub usize);

/// A statement, `if` branch, loop or labelled block of the lowered body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// A local of the function (a binding of a `let`, a pattern, a loop or a
/// parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalId(pub usize);
