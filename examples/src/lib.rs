//! Code shared by the examples.
//!
//! - [`pagestore`]: the page store behind
//!   `cargo run --release --example pagestore`.
//! - [`migration`]: the before/after pairs of `docs/MIGRATING.md`.

pub mod migration;
pub mod pagestore;
