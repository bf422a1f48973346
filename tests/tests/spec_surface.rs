//! Code written against the names of SPEC §2 only, the way a user outside
//! this repository would: if a name or signature drifts, this stops
//! compiling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use io_model::state_machine::{StateMachine, StateTransition, TransitionResult};
use io_model::{
    io_yield_one, return_and_restore_if_io, return_if_io, Buffer, Completion, CompletionError,
    CompletionGroup, Error, File, IOCompletions, IOResult, OpenFlags, Result, IO,
};

#[derive(Debug)]
enum AppError {
    Io(CompletionError),
}

impl From<CompletionError> for AppError {
    fn from(e: CompletionError) -> Self {
        AppError::Io(e)
    }
}

impl From<Error> for AppError {
    fn from(e: Error) -> Self {
        match e {
            Error::Completion(c) => AppError::Io(c),
            other => panic!("unexpected {other}"),
        }
    }
}

fn leaf(c: &Completion) -> std::result::Result<IOResult<u32>, CompletionError> {
    if !c.finished() {
        io_yield_one!(c.clone());
    }
    match c.get_error() {
        Some(e) => Err(e),
        None => Ok(IOResult::Done(7)),
    }
}

fn app(c: &Completion) -> std::result::Result<IOResult<u32>, AppError> {
    let v = return_if_io!(leaf(c));
    Ok(IOResult::Done(v * 2))
}

fn restore(slot: &mut Option<u32>, c: &Completion) -> Result<IOResult<u32>> {
    let saved = slot.take();
    let v = return_and_restore_if_io!(slot, saved, leaf(c));
    Ok(IOResult::Done(v))
}

struct Nothing;
impl File for Nothing {
    fn pread(&self, _pos: u64, c: Completion) -> Result<Completion> {
        let n = c.read_buffer().map_or(0, |b| b.len());
        c.complete(n as i32);
        Ok(c)
    }
    fn pwrite(&self, _pos: u64, buf: Arc<Buffer>, c: Completion) -> Result<Completion> {
        c.complete(buf.len() as i32);
        Ok(c)
    }
    fn sync(&self, c: Completion) -> Result<Completion> {
        c.complete(0);
        Ok(c)
    }
    fn truncate(&self, _len: u64, c: Completion) -> Result<Completion> {
        c.complete(0);
        Ok(c)
    }
    fn size(&self) -> Result<u64> {
        Ok(0)
    }
}

struct NothingIO;
impl IO for NothingIO {
    fn open_file(&self, _path: &str, _flags: OpenFlags) -> Result<Arc<dyn File>> {
        Ok(Arc::new(Nothing))
    }
    fn remove_file(&self, _path: &str) -> Result<()> {
        Ok(())
    }
    fn step(&self) -> Result<()> {
        Ok(())
    }
}

struct Twice(u8, bool);
impl StateTransition for Twice {
    type Context = ();
    type SMResult = u8;
    fn step(&mut self, _: &()) -> Result<TransitionResult<u8>> {
        self.0 += 1;
        if self.0 == 2 {
            self.1 = true;
            Ok(TransitionResult::Done(self.0))
        } else {
            Ok(TransitionResult::Io(IOCompletions::Single(
                Completion::new_yield(),
            )))
        }
    }
    fn finalize(&mut self, _: &()) -> Result<()> {
        Ok(())
    }
    fn is_finalized(&self) -> bool {
        self.1
    }
}

#[test]
fn the_spec_surface_compiles_and_behaves() {
    let c = Completion::new_sync(|_| {});
    assert!(app(&c).unwrap().is_io());
    c.complete(0);
    assert_eq!(app(&c).unwrap().done(), Some(14));

    let failed = Completion::new_write(|_| {});
    failed.error(CompletionError::IOError(std::io::ErrorKind::Other));
    assert!(matches!(
        app(&failed),
        Err(AppError::Io(CompletionError::IOError(
            std::io::ErrorKind::Other
        )))
    ));

    let mut slot = Some(3);
    let pending = Completion::new_trunc(|_| {});
    assert!(restore(&mut slot, &pending).unwrap().is_io());
    assert_eq!(slot, Some(3));

    let io: Arc<dyn IO> = Arc::new(NothingIO);
    let file = io.open_file("x", OpenFlags::CREATE).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let k = calls.clone();
    let buf = Arc::new(Buffer::new_page());
    let r = file
        .pread(
            0,
            Completion::new_read(buf, move |res| {
                assert_eq!(res.unwrap().1, 4096);
                k.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
    io.wait_for_completion(r).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let w = file
        .pwrite(0, Arc::new(Buffer::new(10)), Completion::new_write(|_| {}))
        .unwrap();
    let s = file.sync(Completion::new_sync(|_| {})).unwrap();
    let mut g = CompletionGroup::new(|res| assert!(res.is_ok()));
    g.add(&w);
    g.add(&s);
    let all = g.build();
    assert!(all.succeeded());
    g = CompletionGroup::new(|_| {});
    g.cancel();
    assert!(g.build().is_explicit_yield());
    assert_eq!(file.size().unwrap(), 0);

    let v: u32 = io
        .block(|| -> std::result::Result<IOResult<u32>, AppError> { app(&c) })
        .unwrap();
    assert_eq!(v, 14);

    let mut sm = StateMachine::new(Twice(0, false));
    assert!(sm.step(&()).unwrap().is_io());
    assert_eq!(sm.step(&()).unwrap().done(), Some(2));
    let _ = (CompletionError::Aborted, CompletionError::ShortWrite);
    let _ = CompletionError::ShortRead {
        expected: 1,
        actual: 0,
    };
}
