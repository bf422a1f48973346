//! [`Stats`]: what a store did, counted as it happens.

use std::ops::Sub;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Counters a store updates as it works (shared with its completion
        /// callbacks, hence atomics).
        #[derive(Debug, Default)]
        pub struct Stats {
            $($(#[$doc])* pub(crate) $name: AtomicU64,)*
        }

        /// A copy of [`Stats`] at one instant; subtract two for a delta.
        ///
        /// ```
        /// use io_model_examples::pagestore::StatsSnapshot;
        /// let a = StatsSnapshot { commits: 5, ..Default::default() };
        /// let b = StatsSnapshot { commits: 2, ..Default::default() };
        /// assert_eq!((a - b).commits, 3);
        /// ```
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct StatsSnapshot {
            $($(#[$doc])* pub $name: u64,)*
        }

        impl Stats {
            /// The counters now.
            pub fn snapshot(&self) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl Sub for StatsSnapshot {
            type Output = StatsSnapshot;
            fn sub(self, rhs: StatsSnapshot) -> StatsSnapshot {
                StatsSnapshot { $($name: self.$name.saturating_sub(rhs.$name),)* }
            }
        }

        impl std::ops::AddAssign for StatsSnapshot {
            fn add_assign(&mut self, rhs: StatsSnapshot) {
                $(self.$name += rhs.$name;)*
            }
        }
    };
}

counters! {
    /// Commits that became durable.
    commits,
    /// Log frames written.
    frames_written,
    /// fsyncs of the log.
    wal_syncs,
    /// fsyncs of the data file.
    data_syncs,
    /// Bytes written to either file (frames, headers, checkpointed pages).
    bytes_written,
    /// Bytes read from either file.
    bytes_read,
    /// Page reads served.
    reads,
    /// Page reads served from the cache.
    cache_hits,
    /// Page reads that found their location changed under them and read
    /// again.
    read_retries,
    /// Checkpoints completed.
    checkpoints,
    /// Pages copied into the data file by checkpoints.
    pages_checkpointed,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl StatsSnapshot {
    /// Commits per fsync of the log (group commit makes it exceed 1), or 0
    /// without any fsync.
    ///
    /// ```
    /// use io_model_examples::pagestore::StatsSnapshot;
    /// let s = StatsSnapshot { commits: 30, wal_syncs: 10, ..Default::default() };
    /// assert_eq!(s.commits_per_fsync(), 3.0);
    /// ```
    pub fn commits_per_fsync(&self) -> f64 {
        if self.wal_syncs == 0 {
            0.0
        } else {
            self.commits as f64 / self.wal_syncs as f64
        }
    }
}
