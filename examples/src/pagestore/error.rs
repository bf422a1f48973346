//! [`StoreError`]: everything an operation of the page store can fail with.

use io_model::CompletionError;

/// Why a page-store operation failed.
///
/// ```
/// use io_model_examples::pagestore::StoreError;
/// let e = StoreError::Corrupt { file: "db/shard-0.db".into(), what: "page 3: checksum mismatch".into() };
/// assert_eq!(e.to_string(), "db/shard-0.db is corrupt: page 3: checksum mismatch");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O finished with an error.
    #[error("I/O error: {0}")]
    Completion(#[from] CompletionError),
    /// A request could not be issued, or a file could not be opened.
    #[error("{0}")]
    Io(String),
    /// A file of the store does not exist.
    #[error("{file}: no such file")]
    Missing {
        /// The file.
        file: String,
    },
    /// The file holds no page-store database.
    #[error("{file} is not a page store database: {why}")]
    NotADatabase {
        /// The file.
        file: String,
        /// What was found instead.
        why: String,
    },
    /// The database's files are inconsistent or damaged.
    #[error("{file} is corrupt: {what}")]
    Corrupt {
        /// The file.
        file: String,
        /// What is wrong.
        what: String,
    },
    /// An earlier write or sync failed, so the store refuses writes until it
    /// is reopened (recovery then restores a consistent state).
    #[error("the store stopped accepting writes after an I/O failure: {0}")]
    Failed(String),
    /// An argument is out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Every operation is waiting and no I/O is in flight that could wake one.
    #[error("no operation can make progress: {0}")]
    Stalled(String),
}

impl From<io_model::Error> for StoreError {
    fn from(err: io_model::Error) -> Self {
        match err {
            io_model::Error::Completion(c) => StoreError::Completion(c),
            other => StoreError::Io(other.to_string()),
        }
    }
}
