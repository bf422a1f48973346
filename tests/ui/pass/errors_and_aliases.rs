//! Return type spelled through aliases; a custom error type that `call!`
//! converts into; `?` and early `return` after a suspension point.
#![deny(warnings)]
use io_model::{Completion, CompletionError, IOResult};

#[derive(Debug)]
pub enum DbError {
    Io(CompletionError),
    Corrupt,
}

impl From<CompletionError> for DbError {
    fn from(e: CompletionError) -> Self {
        DbError::Io(e)
    }
}

impl From<io_model::Error> for DbError {
    fn from(_: io_model::Error) -> Self {
        DbError::Corrupt
    }
}

type DbResult<T> = std::result::Result<T, DbError>;

fn inner() -> io_model::Result<IOResult<u8>> {
    Ok(IOResult::Done(1))
}

#[io_model::resumable(state = st)]
fn outer(st: &mut OuterState, c: Completion) -> DbResult<IOResult<u8>> {
    let v: u8 = call!(inner());
    wait!(c);
    if v == 0 {
        return Err(DbError::Corrupt);
    }
    let parsed: u8 = "7".parse().map_err(|_| DbError::Corrupt)?;
    Ok(IOResult::Done(v + parsed))
}

#[io_model::resumable(state = st)]
fn plain(st: &mut PlainState) -> io_model::Result<IOResult<()>> {
    yield_now!();
    Ok(IOResult::Done(()))
}

fn main() {
    let c = Completion::new_sync(|_| {});
    c.complete(0);
    let mut st = OuterState::default();
    assert_eq!(outer(&mut st, c).unwrap().done(), Some(8));
    let mut p = PlainState::default();
    assert!(plain(&mut p).unwrap().is_io());
    assert!(matches!(DbError::from(CompletionError::Aborted), DbError::Io(_)));
}
