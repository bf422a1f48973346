//! A random-program differential tester for `#[io_model::resumable]`.
//!
//! It generates programs that use the attribute ([`gen`], [`ast`]), prints
//! each twice, as the resumable function and as a straight-line oracle
//! ([`oracle`]), writes them in batches into generated crates ([`emit`]),
//! builds and runs them under several drivers and compares every run with
//! the oracle ([`run`]). A diverging program is shrunk ([`shrink`]) and
//! saved as a regression ([`regress`]); [`coverage`] counts what was
//! generated. See `difftest/README.md`.

#![warn(missing_docs)]

pub mod ast;
pub mod coverage;
pub mod emit;
pub mod gen;
pub mod oracle;
pub mod regress;
pub mod run;
pub mod shrink;
