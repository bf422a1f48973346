//! [`Env`]: the simulated machine one run of one implementation gets, and
//! the recording layer between the operation and [`SimIO`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use io_model::{Buffer, Completion, File, OpenFlags, Result, IO};
use io_model_backends::{OpKind, SimIO};

use crate::record::IoRecord;
use crate::Mode;

/// What a run of one implementation runs on: a fresh [`SimIO`] built from
/// the seed, seen through [`io`](Env::io), which records every request
/// with the bytes written and the call that issued it.
///
/// The setup function and the factories of [`DiffTest`](crate::DiffTest)
/// receive it. Open files through [`io`](Env::io) (or
/// [`open`](Env::open)), not through [`sim`](Env::sim): I/O on files opened
/// directly on the simulator is not recorded.
///
/// ```
/// use io_model::{File, IO};
/// use io_model_difftest::{Env, Mode};
///
/// let env = Env::new(5, Mode::Deferred);
/// env.write_file("db", &[7; 512])?;
/// assert_eq!(env.sim().contents("db"), Some(vec![7; 512]));
/// assert_eq!(env.sim().durable_contents("db"), Some(vec![7; 512]));
/// let db = env.open("db")?;
/// assert_eq!(db.size()?, 512);
/// # Ok::<(), io_model::Error>(())
/// ```
pub struct Env {
    io: Arc<RecordingIO>,
    seed: u64,
    mode: Mode,
}

/// What the recording layer has seen.
#[derive(Default)]
pub(crate) struct Recorder {
    /// The call in progress (0 outside the operation).
    pub(crate) call: usize,
    pub(crate) ios: Vec<IoRecord>,
    completions: Vec<Completion>,
    /// Every path opened.
    pub(crate) files: BTreeSet<String>,
}

struct RecordingIO {
    sim: SimIO,
    rec: Arc<Mutex<Recorder>>,
}

struct RecordingFile {
    inner: Arc<dyn File>,
    path: String,
    rec: Arc<Mutex<Recorder>>,
}

fn lock(m: &Mutex<Recorder>) -> MutexGuard<'_, Recorder> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Env {
    /// A fresh simulator for `seed`, set up for `mode` (one operation per
    /// step in [`Mode::YieldEverything`]). Faults are not injected yet: the
    /// harness turns them on after setup.
    pub fn new(seed: u64, mode: Mode) -> Self {
        let sim = SimIO::new(seed);
        let sim = if mode == Mode::YieldEverything {
            sim.one_at_a_time()
        } else {
            sim
        };
        Env {
            io: Arc::new(RecordingIO {
                sim,
                rec: Arc::default(),
            }),
            seed,
            mode,
        }
    }

    /// The backend to give the operation: the simulator, recorded.
    pub fn io(&self) -> Arc<dyn IO> {
        self.io.clone()
    }

    /// The simulator itself, for its contents, trace or crash.
    pub fn sim(&self) -> &SimIO {
        &self.io.sim
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The mode of this run.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Opens `path` through [`io`](Self::io), creating it if needed.
    pub fn open(&self, path: &str) -> Result<Arc<dyn File>> {
        self.io.open_file(path, OpenFlags::CREATE)
    }

    /// For setup: makes `path` hold exactly `bytes`, written and synced
    /// (so a crash keeps them), waiting for both.
    pub fn write_file(&self, path: &str, bytes: &[u8]) -> Result<()> {
        let f = self
            .io
            .open_file(path, OpenFlags::CREATE | OpenFlags::TRUNCATE)?;
        if !bytes.is_empty() {
            let buf = Arc::new(Buffer::from_vec(bytes.to_vec()));
            let c = f.pwrite(0, buf, Completion::new_write(|_| {}))?;
            self.io.wait_for_completion(c)?;
        }
        let c = f.sync(Completion::new_sync(|_| {}))?;
        self.io.wait_for_completion(c)
    }

    pub(crate) fn recorder(&self) -> MutexGuard<'_, Recorder> {
        lock(&self.io.rec)
    }

    /// Forgets the I/O recorded so far (the setup's), keeping the paths.
    pub(crate) fn forget_ios(&self) {
        let mut rec = self.recorder();
        rec.ios.clear();
        rec.completions.clear();
    }

    /// The recorded I/O with the result of each finished one.
    pub(crate) fn finished_ios(&self) -> Vec<IoRecord> {
        let rec = self.recorder();
        rec.ios
            .iter()
            .zip(&rec.completions)
            .map(|(r, c)| IoRecord {
                result: c.result(),
                ..r.clone()
            })
            .collect()
    }
}

impl RecordingFile {
    fn record(&self, kind: OpKind, offset: u64, len: u64, data: Option<&Buffer>, c: &Completion) {
        let mut rec = lock(&self.rec);
        let call = rec.call;
        rec.ios.push(IoRecord {
            call,
            kind,
            file: self.path.clone(),
            offset,
            len,
            data: data.map(|b| b.to_vec().into()),
            result: None,
        });
        rec.completions.push(c.clone());
    }
}

impl File for RecordingFile {
    fn pread(&self, pos: u64, c: Completion) -> Result<Completion> {
        let len = c.read_buffer().map_or(0, |b| b.len() as u64);
        self.record(OpKind::Read, pos, len, None, &c);
        self.inner.pread(pos, c)
    }

    fn pwrite(&self, pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        self.record(OpKind::Write, pos, buf.len() as u64, Some(&buf), &c);
        self.inner.pwrite(pos, buf, c)
    }

    fn sync(&self, c: Completion) -> Result<Completion> {
        self.record(OpKind::Sync, 0, 0, None, &c);
        self.inner.sync(c)
    }

    fn truncate(&self, len: u64, c: Completion) -> Result<Completion> {
        self.record(OpKind::Truncate, len, 0, None, &c);
        self.inner.truncate(len, c)
    }

    fn size(&self) -> Result<u64> {
        self.inner.size()
    }
}

impl IO for RecordingIO {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let inner = self.sim.open_file(path, flags)?;
        lock(&self.rec).files.insert(path.to_owned());
        Ok(Arc::new(RecordingFile {
            inner,
            path: path.to_owned(),
            rec: self.rec.clone(),
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        self.sim.remove_file(path)
    }

    fn step(&self) -> Result<()> {
        self.sim.step()
    }

    fn wait_for_completion(&self, c: Completion) -> Result<()> {
        self.sim.wait_for_completion(c)
    }
}
