//! [`IoRecord`]: one I/O an operation issued, as the harness saw it.

use std::fmt;
use std::sync::Arc;

use io_model::CompletionError;
use io_model_backends::OpKind;

/// One I/O request, recorded when the operation issued it.
///
/// Two records are the [same I/O](IoRecord::same_io) when kind, file,
/// range and written bytes are equal; the call that issued it and its
/// outcome are shown in reports but not compared (a hand-written machine
/// may need more calls than a generated one for the same work).
///
/// ```
/// use io_model_backends::OpKind;
/// use io_model_difftest::IoRecord;
///
/// let w = IoRecord::new(3, OpKind::Write, "db", 4096, Some(vec![1, 2, 3]));
/// assert_eq!(w.len, 3);
/// assert_eq!(w.to_string(), "write db @4096+3 #56cf37ab (unfinished)");
/// let r = IoRecord::new(1, OpKind::Read, "db", 0, None)
///     .with_len(4096)
///     .with_result(Err(io_model::CompletionError::Aborted));
/// assert_eq!(r.to_string(), "read db @0+4096 (failed: I/O aborted)");
/// assert!(!w.same_io(&r));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IoRecord {
    /// The call of the operation that issued it, from 1 (0: the factory
    /// that built the operation).
    pub call: usize,
    /// What was issued.
    pub kind: OpKind,
    /// The path the file was opened with.
    pub file: String,
    /// The first byte (the new length for a truncation, 0 for a sync).
    pub offset: u64,
    /// The number of bytes (0 for a sync or truncation).
    pub len: u64,
    /// The bytes of a write, as they were when it was issued.
    pub data: Option<Arc<[u8]>>,
    /// How it finished, if it had when the run ended: the byte count, or
    /// the error.
    pub result: Option<Result<i32, CompletionError>>,
}

impl IoRecord {
    /// A record without a result; `len` is the length of `data` (0 without
    /// data; see [`with_len`](Self::with_len)).
    pub fn new(
        call: usize,
        kind: OpKind,
        file: impl Into<String>,
        offset: u64,
        data: Option<Vec<u8>>,
    ) -> Self {
        Self {
            call,
            kind,
            file: file.into(),
            offset,
            len: data.as_ref().map_or(0, |d| d.len() as u64),
            data: data.map(Into::into),
            result: None,
        }
    }

    /// The same record with `len` bytes.
    pub fn with_len(mut self, len: u64) -> Self {
        self.len = len;
        self
    }

    /// The same record, finished with `result`.
    pub fn with_result(mut self, result: Result<i32, CompletionError>) -> Self {
        self.result = Some(result);
        self
    }

    /// Whether `other` is the same request: kind, file, range and written
    /// bytes.
    pub fn same_io(&self, other: &IoRecord) -> bool {
        self.kind == other.kind
            && self.file == other.file
            && self.offset == other.offset
            && self.len == other.len
            && self.data == other.data
    }

    /// Where the written bytes of two writes of the same range first
    /// differ, with a few bytes of each from there.
    pub(crate) fn data_difference(&self, other: &IoRecord) -> Option<String> {
        let (a, b) = (self.data.as_deref()?, other.data.as_deref()?);
        let at = a.iter().zip(b).position(|(x, y)| x != y)?;
        let show = |d: &[u8]| {
            d[at..(at + 8).min(d.len())]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        Some(format!(
            "the written bytes differ from +{at}: {} vs {}",
            show(a),
            show(b)
        ))
    }
}

/// FNV-1a, 32 bits: a short tag that tells written buffers apart in a
/// report.
fn digest(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

impl fmt::Display for IoRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} @{}+{}",
            self.kind, self.file, self.offset, self.len
        )?;
        if let Some(d) = &self.data {
            write!(f, " #{:08x}", digest(d))?;
        }
        match self.result {
            Some(Err(e)) => write!(f, " (failed: {e})"),
            None => write!(f, " (unfinished)"),
            Some(Ok(_)) => Ok(()),
        }
    }
}

impl fmt::Debug for IoRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {}: {self}", self.call)
    }
}
