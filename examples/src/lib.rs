//! Code shared by the examples.
//!
//! [`migration`]: the before/after pairs of `docs/MIGRATING.md`.

pub mod migration;
