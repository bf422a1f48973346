//! A durable page store on completion-based I/O, every I/O function
//! `#[io_model::resumable]`: what `cargo run --release --example pagestore`
//! runs.
//!
//! | file | concept |
//! |---|---|
//! | `format.rs`, `checksum.rs` | the on-disk format: page images, headers, offsets, CRC-32 |
//! | `wal.rs` | the log's bookkeeping: reservations, group commit, generations, waiters |
//! | `cache.rs` | the page cache (CLOCK) |
//! | `disk.rs` | the two files, issuing I/O, copying frames into the data file |
//! | `store.rs` | the [`Store`]: read a page, commit |
//! | `checkpoint.rs` | checkpoints, and the automatic checkpointer |
//! | `recovery.rs` | opening: create, or recover ([`Opener`]) |
//! | `scheduler.rs` | many operations in flight on one thread ([`Scheduler`]) |
//! | `workload.rs` | the mixed workload, the expected state, verification |
//! | `shards.rs` | a database of T shards on T threads, one backend each |
//! | `backend.rs` | choosing the backend (`--backend`) |
//! | `sim.rs` | the workload under `SimIO` with faults and crashes |
//! | `stats.rs` | counters |
//!
//! The store is shared as `Arc<Store>`; each operation is a `&self` method
//! whose state lives in a `Mutex` of the slot the operation runs in (a guard
//! state place: `#[resumable(state = lock(&self.slot(op).commit))]`).
//!
//! ```
//! use io_model::IO;
//! use io_model_backends::SimIO;
//! use io_model_examples::pagestore::{open_store, OpenMode, PageWrite, SlotId, StoreOptions, StorePaths};
//!
//! let io = SimIO::new(3);
//! let paths = StorePaths { data: "db".into(), wal: "wal".into() };
//! let store = open_store(&io, &paths, OpenMode::Create, &StoreOptions::default())?;
//! let info = io.block(|| store.commit(SlotId(0), &[PageWrite::new(1, vec![9; 100])?]))?;
//! assert_eq!(info.lsn, 1);
//! drop(store);
//! io.crash(); // the commit was durable before `commit` returned
//! let store = open_store(&io, &paths, OpenMode::Open, &StoreOptions::default())?;
//! assert_eq!(store.recovery().commits, 1);
//! let page = io.block(|| store.read_page(SlotId(0), 1))?;
//! assert_eq!((page.lsn(), page.payload()[99]), (1, 9));
//! # Ok::<(), io_model_examples::pagestore::StoreError>(())
//! ```

pub mod backend;
pub mod cache;
mod checkpoint;
pub mod checksum;
mod disk;
mod error;
pub mod format;
mod recovery;
mod scheduler;
pub mod shards;
pub mod sim;
mod stats;
mod store;
mod wal;
pub mod workload;

pub use checkpoint::CheckpointOutcome;
pub use error::StoreError;
pub use format::PAYLOAD_SIZE;
pub use recovery::{open_store, probe_header, OpenMode, Opener, RecoveryReport, MIN_WAL_FRAMES};
pub use scheduler::{Driver, ReadyQueue, Scheduler, SchedulerStats, SlotId, SlotWaker, Task};
pub use stats::{Stats, StatsSnapshot};
pub use store::{
    CommitInfo, CreateOptions, Page, PageWrite, Payload, Store, StoreOptions, StorePaths,
};
