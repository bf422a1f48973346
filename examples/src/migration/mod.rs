//! Migration pairs: each operation three times, side by side — written by
//! hand with a re-entrancy bug, written by hand correctly, and written
//! with `#[io_model::resumable]` — plus the factories that let the
//! differential harness (`io-model-difftest`) run any two of them against
//! each other. `docs/MIGRATING.md` walks through them.
//!
//! Each module has the three versions (`Buggy`, `Hand`, `Resumable`, or
//! functions named the same way) and the factories `buggy`, `hand` and
//! `resumable`; [`pages::setup`] prepares the database they all run on.
//!
//! | module | pattern | the bug | first caught in mode |
//! |---|---|---|---|
//! | [`bump_counter`] | counter advanced before a yield | the counter moves on every call | deferred |
//! | [`push_dirty`] | `Vec` push before a yield | a page is queued once per call | deferred |
//! | [`advance_index`] | index advanced before a yield | a page is skipped, another copied twice | deferred |
//! | [`insert_cached`] | map insert before a yield | a loading cache entry is replaced, its page read again | early-reentry |
//! | [`set_loaded`] | flag set before a yield | "loaded" is set when the read is issued, not when it finished | early-reentry |
//! | [`read_header`] | header page through the cache (`&self`, `Mutex`) | a cached page is used while its read is in flight | early-reentry |
//! | [`free_overflow`] | free an overflow chain in a loop | a page is freed once per call | deferred |
//! | [`seek_cell`] | binary search that loads key pages mid-search | the bounds are locals, so each call restarts the search | deferred |
//! | [`commit`] | `CompletionGroup` and a one-fsync guard (`&self`, `Mutex`) | the group is built again on every call | deferred |
//! | [`checkpoint`] | checkpoint re-entered while its writes are in flight (`&self`, `RwLock`) | the group is built twice: a panic | deferred |
//!
//! [`interop`] mixes hand-written and generated code inside one operation,
//! and [`restore`] shows what replaces `return_and_restore_if_io!`.

pub mod advance_index;
pub mod bump_counter;
pub mod checkpoint;
pub mod commit;
pub mod free_overflow;
pub mod insert_cached;
pub mod interop;
pub mod pages;
pub mod push_dirty;
pub mod read_header;
pub mod restore;
pub mod seek_cell;
pub mod set_loaded;
