//! [`Completion`], the handle of one I/O operation, and [`CompletionGroup`],
//! which joins several of them into one.
//!
//! A completion is created by the code that wants the I/O, handed to a
//! backend together with the request, and finished by the backend
//! (possibly from another thread) with [`Completion::complete`],
//! [`Completion::error`] or [`Completion::abort`]. Finishing is idempotent:
//! the first call wins, runs the callback once, and every later call is a
//! no-op.

mod pool;

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError, Weak};

use crate::{Buffer, CompletionError};

/// What a read callback receives: the buffer that was read into and the
/// number of bytes read, or the error.
type ReadResult = Result<(Arc<Buffer>, i32), CompletionError>;
/// What every other callback receives: the backend's result (bytes
/// written, or 0), or the error.
type IoResult = Result<i32, CompletionError>;

/// What kind of operation a [`Completion`] stands for.
///
/// ```
/// use io_model::{Completion, CompletionKind};
///
/// assert_eq!(Completion::new_sync(|_| {}).kind(), CompletionKind::Sync);
/// assert_eq!(Completion::new_yield().kind(), CompletionKind::Yield);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompletionKind {
    /// A read into a buffer ([`Completion::new_read`]).
    Read,
    /// A write ([`Completion::new_write`]).
    Write,
    /// A sync to stable storage ([`Completion::new_sync`]).
    Sync,
    /// A truncation ([`Completion::new_trunc`]).
    Truncate,
    /// A built [`CompletionGroup`].
    Group,
    /// An explicit yield ([`Completion::new_yield`]).
    Yield,
}

// The state word: the low two bits say where the operation is; once it is
// finished successfully, the high 32 bits hold the result.
const TAG: u64 = 3;
const PENDING: u64 = 0;
/// Claimed by a finisher whose callback is running.
const FINISHING: u64 = 1;
/// Finished successfully; the result is in the high 32 bits.
const DONE_OK: u64 = 2;
/// Finished with the error in `Inner::error`.
const DONE_ERR: u64 = 3;

/// The state word of a success with result `n`.
fn done_ok(n: i32) -> u64 {
    DONE_OK | (u64::from(n as u32) << 32)
}

fn is_done(word: u64) -> bool {
    word & TAG >= DONE_OK
}

enum Kind {
    Read(Arc<Buffer>),
    Write,
    Sync,
    Truncate,
    Group(Box<GroupState>),
}

/// A group's state. Recycled with its lists when the group's completion is
/// (see `pool`), so that a warm thread builds groups without allocating.
struct GroupState {
    /// Children not finished yet, plus one while the group is being built.
    outstanding: AtomicUsize,
    /// The first error any child finished with, in time: the lowest
    /// failure number ([`Inner::failure`]) seen. Locked only where a
    /// child failed (`failed`).
    first_error: Mutex<Option<(u64, CompletionError)>>,
    /// Whether `first_error` holds an error.
    failed: AtomicBool,
    /// The pending children, for aborting them; weak so that no reference
    /// cycle forms with the child's parent link. A child that finishes
    /// empties its entry (its index is in its parent link), so that its
    /// state can be recycled at once.
    children: Mutex<Vec<Weak<Inner>>>,
    /// The builder's list of children, empty, kept for the next group.
    spare_members: Mutex<Vec<Completion>>,
}

impl GroupState {
    /// A child failed with `err`, the `failure`-th failure of the process:
    /// kept if it is the earliest so far. A child that had failed before
    /// the group was built counts from when it failed, not from when the
    /// build saw it, so the group's error is the first in time whatever
    /// the order the children were added in.
    fn record(&self, failure: u64, err: CompletionError) {
        let mut first = lock(&self.first_error);
        if first.map_or(true, |(f, _)| failure < f) {
            *first = Some((failure, err));
        }
        self.failed.store(true, Ordering::Release);
    }

    /// The first error in time, if a child failed.
    fn first_error(&self) -> Option<CompletionError> {
        if !self.failed.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.first_error).map(|(_, e)| e)
    }

    fn new() -> Self {
        Self {
            outstanding: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            failed: AtomicBool::new(false),
            children: Mutex::new(Vec::new()),
            spare_members: Mutex::new(Vec::new()),
        }
    }

    /// Readies a recycled state for another group, keeping its lists'
    /// room.
    fn reset(&mut self) {
        *self.outstanding.get_mut() = 0;
        *self
            .first_error
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner) = None;
        *self.failed.get_mut() = false;
        self.children
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.spare_members
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// Where a completion's callback is.
enum Callback {
    /// Nothing to run: it ran, or the state is free.
    None,
    /// A read callback that captures nothing: its box allocated nothing.
    Read(Box<dyn FnOnce(ReadResult) + Send>),
    /// Any other callback that captures nothing.
    Result(Box<dyn FnOnce(IoResult) + Send>),
    /// The callback is in [`Slot::typed`].
    Typed,
}

/// A callback slot typed after its closure. It stays with the state when
/// the state is recycled, empty, and is refilled by the next completion
/// whose callback has the same type.
trait TypedSlot: Send {
    /// Runs the callback, if the slot holds one. `buf` is the read buffer.
    fn run(&mut self, buf: Option<&Arc<Buffer>>, res: IoResult);
    /// Drops a callback that never ran.
    fn clear(&mut self);
    fn as_any(&mut self) -> &mut dyn Any;
}

struct ReadSlot<F>(Option<F>);
struct ResultSlot<F>(Option<F>);

impl<F> TypedSlot for ReadSlot<F>
where
    F: FnOnce(ReadResult) + Send + 'static,
{
    fn run(&mut self, buf: Option<&Arc<Buffer>>, res: IoResult) {
        if let Some(f) = self.0.take() {
            let buf = buf.expect("BUG: a read callback on a completion that is not a read");
            f(res.map(|n| (buf.clone(), n)));
        }
    }
    fn clear(&mut self) {
        self.0 = None;
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

impl<F> TypedSlot for ResultSlot<F>
where
    F: FnOnce(IoResult) + Send + 'static,
{
    fn run(&mut self, _buf: Option<&Arc<Buffer>>, res: IoResult) {
        if let Some(f) = self.0.take() {
            f(res);
        }
    }
    fn clear(&mut self) {
        self.0 = None;
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// A callback on its way into a completion: boxed when it captures nothing,
/// into a typed slot otherwise.
trait NewCallback: Sized + Send + 'static {
    type Slot: TypedSlot + 'static;
    fn boxed(self) -> Callback;
    fn into_slot(self) -> Self::Slot;
    fn fill(self, slot: &mut Self::Slot);
}

struct NewRead<F>(F);
struct NewResult<F>(F);

impl<F> NewCallback for NewRead<F>
where
    F: FnOnce(ReadResult) + Send + 'static,
{
    type Slot = ReadSlot<F>;
    fn boxed(self) -> Callback {
        Callback::Read(Box::new(self.0))
    }
    fn into_slot(self) -> ReadSlot<F> {
        ReadSlot(Some(self.0))
    }
    fn fill(self, slot: &mut ReadSlot<F>) {
        slot.0 = Some(self.0);
    }
}

impl<F> NewCallback for NewResult<F>
where
    F: FnOnce(IoResult) + Send + 'static,
{
    type Slot = ResultSlot<F>;
    fn boxed(self) -> Callback {
        Callback::Result(Box::new(self.0))
    }
    fn into_slot(self) -> ResultSlot<F> {
        ResultSlot(Some(self.0))
    }
    fn fill(self, slot: &mut ResultSlot<F>) {
        slot.0 = Some(self.0);
    }
}

/// What a finisher takes the state's lock for.
struct Slot {
    callback: Callback,
    /// The typed callback slot this state carries, if any (see
    /// [`Inner::class`]).
    typed: Option<Box<dyn TypedSlot>>,
    /// The group this completion was linked into while still pending, and
    /// its entry in the group's list of children; taken by whoever finishes
    /// it.
    parent: Option<(Completion, usize)>,
}

impl Slot {
    /// Runs the callback, if it has not run yet.
    fn run_callback(&mut self, buf: Option<&Arc<Buffer>>, res: IoResult) {
        match std::mem::replace(&mut self.callback, Callback::None) {
            Callback::None => {}
            Callback::Read(cb) => {
                let buf = buf.expect("BUG: a read callback on a completion that is not a read");
                cb(res.map(|n| (buf.clone(), n)));
            }
            Callback::Result(cb) => cb(res),
            Callback::Typed => {
                if let Some(typed) = &mut self.typed {
                    typed.run(buf, res);
                }
            }
        }
    }
}

/// The state every handle of one completion shares.
struct Inner {
    /// `PENDING`, `FINISHING`, or finished with the result (see `TAG`).
    /// Written only under `slot`'s lock or through `&mut`.
    state: AtomicU64,
    kind: Kind,
    /// The error, when `state` is `DONE_ERR`.
    error: OnceLock<CompletionError>,
    /// When it fails: its number in the process's failures (from
    /// `FAILURES`), set as the failure is claimed, before its callback
    /// runs; what orders the errors of a group's children in time.
    failure: AtomicU64,
    slot: Mutex<Slot>,
    /// Set once the completion is added to a group.
    in_group: AtomicBool,
    /// The type of `slot.typed`, fixed for the state's life: which free list
    /// the state returns to.
    class: Option<TypeId>,
}

/// The failures of the process so far: each failing completion takes the
/// next number ([`Inner::failure`]), which orders a group's errors in time.
static FAILURES: AtomicU64 = AtomicU64::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    /// The result, once finished.
    #[inline]
    fn result(&self) -> Option<IoResult> {
        let word = self.state.load(Ordering::Acquire);
        match word & TAG {
            DONE_OK => Some(Ok((word >> 32) as u32 as i32)),
            DONE_ERR => Some(Err(*self
                .error
                .get()
                .expect("BUG: a failed completion without its error"))),
            _ => None,
        }
    }

    /// Readies a free state for a new operation of `kind`.
    fn reuse(&mut self, kind: Kind) {
        *self.state.get_mut() = PENDING;
        self.error.take();
        *self.failure.get_mut() = 0;
        *self.in_group.get_mut() = false;
        self.kind = kind;
    }

    /// Whether a state whose last handle is gone still holds something of
    /// its operation (a buffer, a group's children, an unrun callback, a
    /// parent) that must be released now rather than when it is reused.
    fn holds_anything(&self) -> bool {
        !matches!(self.kind, Kind::Write | Kind::Sync | Kind::Truncate)
            || !is_done(self.state.load(Ordering::Acquire))
    }

    /// Releases what the finished or abandoned operation held.
    fn release(&mut self) {
        if let Kind::Group(mut g) = std::mem::replace(&mut self.kind, Kind::Sync) {
            g.reset();
            pool::put_group(g);
        }
        let slot = self.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        slot.callback = Callback::None;
        if let Some(typed) = &mut slot.typed {
            typed.clear();
        }
        slot.parent = None;
    }
}

/// Takes a state for a new operation: a free one of this thread, else a
/// new allocation.
fn create<C: NewCallback>(kind: Kind, callback: C) -> Completion {
    let captures = std::mem::size_of::<C>() != 0;
    let class = captures.then(TypeId::of::<C::Slot>);
    if let Some(mut arc) = pool::take(class) {
        // Always unique: a free state has no other handle and no `Weak`.
        if let Some(inner) = Arc::get_mut(&mut arc) {
            inner.reuse(kind);
            let slot = inner.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
            if captures {
                match slot
                    .typed
                    .as_mut()
                    .and_then(|t| t.as_any().downcast_mut::<C::Slot>())
                {
                    Some(typed) => callback.fill(typed),
                    // Free states are sorted by this type, so this does not
                    // happen; were it to, a new slot of the type does.
                    None => slot.typed = Some(Box::new(callback.into_slot())),
                }
                slot.callback = Callback::Typed;
            } else {
                slot.callback = callback.boxed();
            }
            return Completion { inner: Some(arc) };
        }
    }
    let (callback, typed) = if captures {
        let typed: Box<dyn TypedSlot> = Box::new(callback.into_slot());
        (Callback::Typed, Some(typed))
    } else {
        (callback.boxed(), None)
    };
    Completion {
        inner: Some(Arc::new(Inner {
            state: AtomicU64::new(PENDING),
            kind,
            error: OnceLock::new(),
            failure: AtomicU64::new(0),
            slot: Mutex::new(Slot {
                callback,
                typed,
                parent: None,
            }),
            in_group: AtomicBool::new(false),
            class,
        })),
    }
}

/// Returns the state of a dropped last handle to this thread's free list.
fn recycle(mut arc: Arc<Inner>) {
    if arc.slot.is_poisoned() {
        // A callback panicked while it ran: let this one go.
        return;
    }
    if arc.holds_anything() {
        let Some(inner) = Arc::get_mut(&mut arc) else {
            return;
        };
        inner.release();
    }
    pool::put(arc);
}

/// The handle of one I/O operation.
///
/// Cheap to clone: every clone shares the same state, so the code that waits
/// and the backend that finishes can each hold one. `Send + Sync`, so a
/// backend may finish it from another thread.
///
/// # What it costs
///
/// Once a thread is warm, creating, finishing and dropping a completion
/// allocates nothing:
///
/// - The shared state is recycled. When the last handle is dropped, the
///   state goes back to a free list of the dropping thread, and the next
///   completion created there reuses it. What the operation held
///   (its buffer, an unrun callback) is released at that moment, as if the
///   state had been freed.
/// - A callback that captures nothing is a zero-sized value, and boxing it
///   allocates nothing. A callback that captures something lives in a slot
///   typed after its closure, which stays with the recycled state: the next
///   completion created with the same closure type refills it.
/// - Finishing takes the state's lock once, uncontended, and publishes the
///   result in one atomic word that the queries (`finished`, `result`, ...)
///   read without locking; [`Completion::finish`], by the only handle,
///   takes no lock at all.
/// - A [`CompletionGroup`]'s state and lists are recycled the same way, and
///   each child leaves the group's list as it finishes, so that its own
///   state can be recycled at once.
///
/// Each I/O still costs a handful of atomic read-modify-writes (taking a
/// free state, finishing, returning it; and the reference counts of the
/// read buffer, which the callback receives by value): the floor benchmark
/// (`cargo bench -p io-model-tests --bench floor`) measures them.
///
/// The callback runs while its completion is being finished, on the
/// finishing thread. It may finish, abort or drop any completion, this one
/// included (that is a no-op), and add it to a group (it counts as
/// finished there), but must not wait for another thread that is finishing
/// this same completion.
///
/// ```
/// use io_model::Completion;
/// use std::sync::{Arc, atomic::{AtomicI32, Ordering}};
///
/// let seen = Arc::new(AtomicI32::new(-1));
/// let s = seen.clone();
/// let c = Completion::new_write(move |res| s.store(res.unwrap(), Ordering::SeqCst));
/// let backend_copy = c.clone();
/// assert!(!c.finished());
/// backend_copy.complete(512);
/// backend_copy.complete(7); // idempotent: the first result wins
/// assert!(c.succeeded());
/// assert_eq!(seen.load(Ordering::SeqCst), 512);
/// ```
#[derive(Clone)]
pub struct Completion {
    /// `None` is an explicit yield: finished, and nothing allocated.
    inner: Option<Arc<Inner>>,
}

impl Completion {
    /// A read into `buf`. The callback receives the buffer and the number of
    /// bytes read, or the error.
    ///
    /// ```
    /// use io_model::{Buffer, Completion};
    /// use std::sync::Arc;
    ///
    /// let c = Completion::new_read(Arc::new(Buffer::new(4)), |res| {
    ///     let (buf, n) = res.unwrap();
    ///     assert_eq!(&buf.lock()[..n as usize], &[0, 0, 0, 0]);
    /// });
    /// c.complete(4);
    /// assert!(c.succeeded());
    /// ```
    pub fn new_read<F>(buf: Arc<Buffer>, callback: F) -> Self
    where
        F: FnOnce(Result<(Arc<Buffer>, i32), CompletionError>) + Send + 'static,
    {
        create(Kind::Read(buf), NewRead(callback))
    }

    /// A write. The callback receives the number of bytes written, or the
    /// error.
    ///
    /// ```
    /// let c = io_model::Completion::new_write(|res| assert_eq!(res, Ok(10)));
    /// c.complete(10);
    /// ```
    pub fn new_write<F>(callback: F) -> Self
    where
        F: FnOnce(Result<i32, CompletionError>) + Send + 'static,
    {
        create(Kind::Write, NewResult(callback))
    }

    /// A sync (fsync or fdatasync) of a file.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// c.complete(0);
    /// assert!(c.finished());
    /// ```
    pub fn new_sync<F>(callback: F) -> Self
    where
        F: FnOnce(Result<i32, CompletionError>) + Send + 'static,
    {
        create(Kind::Sync, NewResult(callback))
    }

    /// A truncation of a file.
    ///
    /// ```
    /// let c = io_model::Completion::new_trunc(|_| {});
    /// c.error(io_model::CompletionError::IOError(std::io::ErrorKind::Other));
    /// assert!(c.failed());
    /// ```
    pub fn new_trunc<F>(callback: F) -> Self
    where
        F: FnOnce(Result<i32, CompletionError>) + Send + 'static,
    {
        create(Kind::Truncate, NewResult(callback))
    }

    /// An explicit yield: a completion that is already finished, allocates
    /// nothing, and tells the caller "call me again" rather than "your I/O
    /// is done" ([`is_explicit_yield`](Self::is_explicit_yield)).
    ///
    /// ```
    /// let y = io_model::Completion::new_yield();
    /// assert!(y.finished() && y.succeeded() && y.is_explicit_yield());
    /// ```
    pub const fn new_yield() -> Self {
        Self { inner: None }
    }

    /// The kind of operation this completion stands for.
    ///
    /// ```
    /// let c = io_model::Completion::new_write(|_| {});
    /// assert_eq!(c.kind(), io_model::CompletionKind::Write);
    /// ```
    #[inline]
    pub fn kind(&self) -> CompletionKind {
        match self.inner.as_deref().map(|i| &i.kind) {
            None => CompletionKind::Yield,
            Some(Kind::Read(_)) => CompletionKind::Read,
            Some(Kind::Write) => CompletionKind::Write,
            Some(Kind::Sync) => CompletionKind::Sync,
            Some(Kind::Truncate) => CompletionKind::Truncate,
            Some(Kind::Group(_)) => CompletionKind::Group,
        }
    }

    /// The buffer of a read completion, which a backend reads into.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let buf = Arc::new(io_model::Buffer::new(8));
    /// let c = io_model::Completion::new_read(buf.clone(), |_| {});
    /// assert!(Arc::ptr_eq(c.read_buffer().unwrap(), &buf));
    /// assert!(io_model::Completion::new_sync(|_| {}).read_buffer().is_none());
    /// ```
    #[inline]
    pub fn read_buffer(&self) -> Option<&Arc<Buffer>> {
        match self.inner.as_deref().map(|i| &i.kind) {
            Some(Kind::Read(buf)) => Some(buf),
            _ => None,
        }
    }

    /// Whether the operation has finished, successfully or not, and its
    /// callback has run. An explicit yield is always finished.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// assert!(!c.finished());
    /// c.abort();
    /// assert!(c.finished());
    /// ```
    #[inline]
    pub fn finished(&self) -> bool {
        match &self.inner {
            None => true,
            Some(inner) => is_done(inner.state.load(Ordering::Acquire)),
        }
    }

    /// Whether the operation finished without an error.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// assert!(!c.succeeded());
    /// c.complete(0);
    /// assert!(c.succeeded());
    /// ```
    #[inline]
    pub fn succeeded(&self) -> bool {
        match &self.inner {
            None => true,
            Some(inner) => inner.state.load(Ordering::Acquire) & TAG == DONE_OK,
        }
    }

    /// Whether the operation finished with an error.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// c.abort();
    /// assert!(c.failed() && !c.succeeded());
    /// ```
    #[inline]
    pub fn failed(&self) -> bool {
        match &self.inner {
            None => false,
            Some(inner) => inner.state.load(Ordering::Acquire) & TAG == DONE_ERR,
        }
    }

    /// The error the operation finished with, if it finished with one.
    ///
    /// ```
    /// use io_model::{Completion, CompletionError};
    /// let c = Completion::new_sync(|_| {});
    /// assert_eq!(c.get_error(), None);
    /// c.abort();
    /// assert_eq!(c.get_error(), Some(CompletionError::Aborted));
    /// ```
    #[inline]
    pub fn get_error(&self) -> Option<CompletionError> {
        match &self.inner {
            Some(inner) if inner.state.load(Ordering::Acquire) & TAG == DONE_ERR => {
                inner.result().and_then(Result::err)
            }
            _ => None,
        }
    }

    /// The result the backend reported (bytes transferred for reads and
    /// writes), or `None` while the operation is in flight. An explicit
    /// yield reports `Ok(0)`.
    ///
    /// ```
    /// let c = io_model::Completion::new_write(|_| {});
    /// assert_eq!(c.result(), None);
    /// c.complete(100);
    /// assert_eq!(c.result(), Some(Ok(100)));
    /// ```
    #[inline]
    pub fn result(&self) -> Option<Result<i32, CompletionError>> {
        match &self.inner {
            None => Some(Ok(0)),
            Some(inner) => inner.result(),
        }
    }

    /// Whether this is an explicit yield ([`new_yield`](Self::new_yield)),
    /// as opposed to an I/O that happens to be finished. A caller that gets
    /// one back must call the operation again; there is nothing to wait for.
    ///
    /// ```
    /// use io_model::Completion;
    /// let io = Completion::new_sync(|_| {});
    /// io.complete(0);
    /// assert!(io.finished() && !io.is_explicit_yield());
    /// assert!(Completion::new_yield().is_explicit_yield());
    /// ```
    #[inline]
    pub fn is_explicit_yield(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether two handles share the same operation.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// assert!(c.ptr_eq(&c.clone()));
    /// assert!(!c.ptr_eq(&io_model::Completion::new_sync(|_| {})));
    /// ```
    pub fn ptr_eq(&self, other: &Completion) -> bool {
        match (&self.inner, &other.inner) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Finishes the operation successfully with the backend's result (bytes
    /// transferred, or 0). Only the first finishing call has an effect.
    ///
    /// ```
    /// let c = io_model::Completion::new_sync(|_| {});
    /// c.complete(0);
    /// c.abort(); // too late: already finished
    /// assert!(c.succeeded());
    /// ```
    #[inline]
    pub fn complete(&self, res: i32) {
        if let Some(inner) = &self.inner {
            finish(inner, Ok(res));
        }
    }

    /// Finishes the operation with an error. Only the first finishing call
    /// has an effect.
    ///
    /// ```
    /// use io_model::{Completion, CompletionError};
    /// let c = Completion::new_sync(|res| assert_eq!(res, Err(CompletionError::ShortWrite)));
    /// c.error(CompletionError::ShortWrite);
    /// assert_eq!(c.get_error(), Some(CompletionError::ShortWrite));
    /// ```
    #[inline]
    pub fn error(&self, err: CompletionError) {
        if let Some(inner) = &self.inner {
            finish(inner, Err(err));
        }
    }

    /// Finishes the operation with `res`, as [`complete`](Self::complete)
    /// or [`error`](Self::error) would. Taking `&mut self` lets it skip the
    /// lock that finishing otherwise takes when this is the only handle: the
    /// case of a backend that finishes the completion it was handed before
    /// giving it back, and the one to use there.
    ///
    /// ```
    /// use io_model::{Completion, CompletionError};
    /// let mut c = Completion::new_write(|res| assert_eq!(res, Ok(512)));
    /// c.finish(Ok(512));
    /// c.finish(Err(CompletionError::ShortWrite)); // too late: already finished
    /// assert_eq!(c.result(), Some(Ok(512)));
    /// ```
    #[inline]
    pub fn finish(&mut self, res: Result<i32, CompletionError>) {
        let Some(arc) = &mut self.inner else { return };
        let Some(inner) = Arc::get_mut(arc) else {
            finish(arc, res);
            return;
        };
        // The only handle, and no group lists it (that would be a `Weak`):
        // nobody can observe the completion while this runs, its callback
        // included, so the plain accesses of `&mut` suffice.
        if *inner.state.get_mut() != PENDING {
            return;
        }
        let slot = inner.slot.get_mut().unwrap_or_else(PoisonError::into_inner);
        let buf = match &inner.kind {
            Kind::Read(buf) => Some(buf),
            _ => None,
        };
        slot.run_callback(buf, res);
        *inner.state.get_mut() = match res {
            Ok(n) => done_ok(n),
            Err(err) => {
                inner.error = OnceLock::from(err);
                DONE_ERR
            }
        };
    }

    /// Cancels the operation: finishes it with [`CompletionError::Aborted`]
    /// unless it already finished. Aborting a built group aborts its
    /// unfinished children too; the group then reports the first error of its
    /// children, or `Aborted`.
    ///
    /// ```
    /// use io_model::{Completion, CompletionGroup};
    /// let child = Completion::new_sync(|_| {});
    /// let mut g = CompletionGroup::new(|_| {});
    /// g.add(&child);
    /// let group = g.build();
    /// group.abort();
    /// assert!(child.failed() && group.failed());
    /// ```
    pub fn abort(&self) {
        let Some(inner) = &self.inner else { return };
        if let Kind::Group(g) = &inner.kind {
            let mut children: Vec<Weak<Inner>> = std::mem::take(&mut *lock(&g.children));
            for child in children.iter().filter_map(Weak::upgrade) {
                finish(&child, Err(CompletionError::Aborted));
            }
            // Every child is finished now: keep the list's room.
            children.clear();
            *lock(&g.children) = children;
            let err = g.first_error().unwrap_or(CompletionError::Aborted);
            finish(inner, Err(err));
        } else {
            finish(inner, Err(CompletionError::Aborted));
        }
    }
}

impl Drop for Completion {
    /// The last handle returns the shared state to this thread's free list.
    #[inline]
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // Only the last handle can see a count of one; no `Weak` means no
            // group still lists it. A racing drop on another thread only
            // makes both miss the free list.
            if Arc::strong_count(&inner) == 1 && Arc::weak_count(&inner) == 0 {
                recycle(inner);
            }
        }
    }
}

/// Claims and finishes `inner`: runs its callback once, publishes the
/// result, then tells the group it belongs to, if any.
fn finish(inner: &Arc<Inner>, res: IoResult) {
    let mut slot = match inner.slot.try_lock() {
        Ok(slot) => slot,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => {
            // A finisher holds the lock (its callback may be the caller):
            // it wins. Or a group is linking this completion, briefly:
            // wait for it.
            if inner.state.load(Ordering::Acquire) != PENDING {
                return;
            }
            lock(&inner.slot)
        }
    };
    // Written only under the lock: this is the claim.
    if inner.state.load(Ordering::Relaxed) != PENDING {
        return;
    }
    inner.state.store(FINISHING, Ordering::Relaxed);
    if res.is_err() {
        inner
            .failure
            .store(FAILURES.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }
    let buf = match &inner.kind {
        Kind::Read(buf) => Some(buf),
        _ => None,
    };
    {
        let _marker = InCallback::enter(inner, res);
        slot.run_callback(buf, res);
    }
    match res {
        Ok(n) => inner.state.store(done_ok(n), Ordering::Release),
        Err(err) => {
            let _ = inner.error.set(err);
            inner.state.store(DONE_ERR, Ordering::Release);
        }
    }
    let parent = slot.parent.take();
    drop(slot);
    if let Some((parent, entry)) = parent {
        let failed = res
            .err()
            .map(|e| (inner.failure.load(Ordering::Relaxed), e));
        child_finished(&parent, Some(entry), failed);
    }
}

thread_local! {
    /// The completion whose callback this thread is running (the innermost
    /// one), with its result: a callback may build a group of its own
    /// completion, whose lock its finisher holds.
    static IN_CALLBACK: std::cell::Cell<Option<(usize, IoResult)>> = const { std::cell::Cell::new(None) };
}

/// Marks this thread as running `inner`'s callback until dropped (also when
/// the callback panics).
struct InCallback(Option<(usize, IoResult)>);

impl InCallback {
    fn enter(inner: &Arc<Inner>, res: IoResult) -> Self {
        let me = Some((Arc::as_ptr(inner) as usize, res));
        Self(IN_CALLBACK.try_with(|c| c.replace(me)).unwrap_or(None))
    }

    /// The result of `inner`, if this thread is running its callback.
    fn result_of(inner: &Arc<Inner>) -> Option<IoResult> {
        match IN_CALLBACK.try_with(std::cell::Cell::get).ok().flatten() {
            Some((at, res)) if at == Arc::as_ptr(inner) as usize => Some(res),
            _ => None,
        }
    }
}

impl Drop for InCallback {
    fn drop(&mut self) {
        let _ = IN_CALLBACK.try_with(|c| c.set(self.0));
    }
}

/// One child of the group `group` finished, the one at `entry` of its list
/// of children (`None`: one finished before it was linked, or the build
/// guard was released).
fn child_finished(
    group: &Completion,
    entry: Option<usize>,
    failed: Option<(u64, CompletionError)>,
) {
    let Some(Kind::Group(g)) = group.inner.as_deref().map(|i| &i.kind) else {
        unreachable!("BUG: a completion's parent is not a group")
    };
    if let Some(entry) = entry {
        // Nothing to abort there any more; dropping the `Weak` lets the
        // child's state be recycled.
        if let Some(weak) = lock(&g.children).get_mut(entry) {
            *weak = Weak::new();
        }
    }
    if let Some((failure, err)) = failed {
        g.record(failure, err);
    }
    if g.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
        let res = g.first_error().map_or(Ok(0), Err);
        if let Some(inner) = &group.inner {
            finish(inner, res);
        }
    }
}

impl Default for Completion {
    /// An explicit yield.
    fn default() -> Self {
        Self::new_yield()
    }
}

impl fmt::Debug for Completion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Completion");
        d.field("kind", &self.kind());
        match self.result() {
            None => d.field("state", &"pending"),
            Some(res) => d.field("result", &res),
        };
        d.finish()
    }
}

/// Joins several completions into one that finishes when all of them have.
///
/// Build it once per batch of I/O: [`add`](Self::add) each child, then
/// [`build`](Self::build) the completion to wait on. The built completion
/// finishes when every child has, carries the first error any child
/// reported (first in time, also among children that had failed before
/// the build, whatever order they were added in), and runs the group's
/// callback once. A built group is a
/// completion like any other, so groups nest.
///
/// A completion belongs to at most one group. Adding it to a second one
/// panics: that is the symptom of an operation that built its group again
/// when it was re-entered, and the fix is to keep the built completion in
/// the operation's state (or to use `wait_all!` in a `#[resumable]`
/// function, which builds its group once).
///
/// ```
/// use io_model::{Completion, CompletionGroup};
///
/// let a = Completion::new_write(|_| {});
/// let b = Completion::new_write(|_| {});
/// let mut group = CompletionGroup::new(|res| assert!(res.is_ok()));
/// group.add(&a);
/// group.add(&b);
/// let all = group.build();
/// a.complete(4096);
/// assert!(!all.finished());
/// b.complete(4096);
/// assert!(all.succeeded());
/// ```
pub struct CompletionGroup {
    children: Vec<Completion>,
    /// The completion `build` returns, pending, with the group's callback.
    group: Completion,
}

impl CompletionGroup {
    /// An empty group whose callback runs once, when the built completion
    /// finishes, with `Ok(0)` or the first error.
    ///
    /// ```
    /// let g = io_model::CompletionGroup::new(|_| {});
    /// assert!(g.is_empty());
    /// ```
    pub fn new<F>(callback: F) -> Self
    where
        F: FnOnce(Result<i32, CompletionError>) + Send + 'static,
    {
        let mut state = pool::take_group().unwrap_or_else(|| Box::new(GroupState::new()));
        let children = std::mem::take(
            state
                .spare_members
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner),
        );
        Self {
            children,
            group: create(Kind::Group(state), NewResult(callback)),
        }
    }

    /// Adds a child. An explicit yield counts as finished and is not kept.
    ///
    /// ```
    /// let mut g = io_model::CompletionGroup::new(|_| {});
    /// g.add(&io_model::Completion::new_sync(|_| {}));
    /// g.add(&io_model::Completion::new_yield());
    /// assert_eq!(g.len(), 1);
    /// ```
    ///
    /// # Panics
    ///
    /// If `completion` was already added to a group (this one or another).
    pub fn add(&mut self, completion: &Completion) {
        let Some(inner) = &completion.inner else {
            return;
        };
        if inner.in_group.swap(true, Ordering::AcqRel) {
            panic!(
                "CompletionGroup::add: this {:?} completion already belongs to a group; \
                 a completion can be added to one group only. If the operation was \
                 re-entered, keep the built group in its state instead of building it \
                 again (or use `wait_all!` in a #[resumable] function)",
                completion.kind()
            );
        }
        self.children.push(completion.clone());
    }

    /// The number of children added so far.
    ///
    /// ```
    /// assert_eq!(io_model::CompletionGroup::new(|_| {}).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether no child was added.
    ///
    /// ```
    /// assert!(io_model::CompletionGroup::new(|_| {}).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// Aborts every child added so far (see [`Completion::abort`]). A group
    /// built afterwards finishes with the first error, `Aborted`.
    ///
    /// ```
    /// use io_model::{Completion, CompletionError, CompletionGroup};
    /// let c = Completion::new_sync(|_| {});
    /// let mut g = CompletionGroup::new(|_| {});
    /// g.add(&c);
    /// g.cancel();
    /// let built = g.build();
    /// assert_eq!(built.get_error(), Some(CompletionError::Aborted));
    /// ```
    pub fn cancel(&self) {
        for child in &self.children {
            child.abort();
        }
    }

    /// Builds the completion that stands for the whole group. An empty group
    /// runs its callback at once and builds to an explicit yield.
    ///
    /// ```
    /// let done = io_model::CompletionGroup::new(|_| {}).build();
    /// assert!(done.is_explicit_yield());
    /// ```
    pub fn build(mut self) -> Completion {
        let mut children = std::mem::take(&mut self.children);
        let group = std::mem::take(&mut self.group);
        let group_inner = group
            .inner
            .as_ref()
            .expect("BUG: a group without its completion");
        let Kind::Group(g) = &group_inner.kind else {
            unreachable!("BUG: a group's completion is not a group")
        };
        if children.is_empty() {
            *lock(&g.spare_members) = children;
            finish(group_inner, Ok(0));
            return Completion::new_yield();
        }
        // One extra count while linking, so that children finishing during
        // the build cannot finish the group early.
        g.outstanding.store(children.len() + 1, Ordering::Relaxed);
        let mut finished_before = 0;
        {
            let mut list = lock(&g.children);
            for child in &children {
                let child = child
                    .inner
                    .as_ref()
                    .expect("BUG: a yield completion was kept in a group");
                // A finisher of the child holds this lock until it has
                // published the result and taken the parent link: either it
                // finds the link, or this finds the child finished. Unless
                // the finisher is this very thread, in the child's callback:
                // then the child's result is known, and it counts as
                // finished.
                let mut slot = match child.slot.try_lock() {
                    Ok(slot) => slot,
                    Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                    Err(TryLockError::WouldBlock) => match InCallback::result_of(child) {
                        Some(res) => {
                            if let Err(err) = res {
                                g.record(child.failure.load(Ordering::Relaxed), err);
                            }
                            finished_before += 1;
                            continue;
                        }
                        None => lock(&child.slot),
                    },
                };
                if is_done(child.state.load(Ordering::Acquire)) {
                    if let Some(err) = child.result().and_then(Result::err) {
                        g.record(child.failure.load(Ordering::Relaxed), err);
                    }
                    finished_before += 1;
                } else {
                    slot.parent = Some((group.clone(), list.len()));
                    list.push(Arc::downgrade(child));
                }
            }
        }
        // The builder's strong handles go; its list is kept for the next
        // group.
        children.clear();
        *lock(&g.spare_members) = children;
        for _ in 0..finished_before {
            child_finished(&group, None, None);
        }
        child_finished(&group, None, None);
        group
    }
}

impl Drop for CompletionGroup {
    /// A group dropped without being built releases its children, so they can
    /// be added to another group.
    fn drop(&mut self) {
        for child in &self.children {
            if let Some(inner) = &child.inner {
                inner.in_group.store(false, Ordering::Release);
            }
        }
    }
}

impl fmt::Debug for CompletionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionGroup")
            .field("children", &self.children)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn counter() -> (Arc<AtomicUsize>, impl Fn() -> usize) {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        (n, move || m.load(Ordering::SeqCst))
    }

    fn counting_sync(n: &Arc<AtomicUsize>) -> Completion {
        let n = n.clone();
        Completion::new_sync(move |_| {
            n.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn completion_is_send_sync_and_small() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Completion>();
        assert_eq!(
            std::mem::size_of::<Completion>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn finishing_is_idempotent_and_calls_back_once() {
        let (n, calls) = counter();
        let c = counting_sync(&n);
        c.complete(0);
        c.complete(1);
        c.error(CompletionError::ShortWrite);
        c.abort();
        assert_eq!(calls(), 1);
        assert_eq!(c.result(), Some(Ok(0)));
    }

    #[test]
    fn first_finisher_wins_with_its_error() {
        let c = Completion::new_write(|_| {});
        c.error(CompletionError::IOError(std::io::ErrorKind::Other));
        c.complete(10);
        assert!(c.failed());
        assert_eq!(
            c.get_error(),
            Some(CompletionError::IOError(std::io::ErrorKind::Other))
        );
    }

    #[test]
    fn yield_is_finished_but_not_an_io() {
        let y = Completion::new_yield();
        assert!(y.finished());
        assert!(y.succeeded());
        assert!(!y.failed());
        assert!(y.is_explicit_yield());
        y.abort();
        assert!(y.succeeded(), "finishing a yield is a no-op");
        let io = Completion::new_sync(|_| {});
        io.complete(0);
        assert!(io.finished());
        assert!(!io.is_explicit_yield());
    }

    #[test]
    fn read_callback_sees_buffer_and_length() {
        let buf = Arc::new(Buffer::new(8));
        buf.lock()[0] = 42;
        let got = Arc::new(Mutex::new(None));
        let g = got.clone();
        let c = Completion::new_read(buf, move |res| {
            let (b, n) = res.unwrap();
            *g.lock().unwrap() = Some((b.lock()[0], n));
        });
        c.complete(8);
        assert_eq!(*got.lock().unwrap(), Some((42, 8)));
    }

    #[test]
    fn callback_effects_are_visible_once_finished() {
        // finished() turns true only after the callback has run.
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let c = Completion::new_sync(move |_| f.store(true, Ordering::SeqCst));
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.complete(0));
        loop {
            if c.finished() {
                assert!(flag.load(Ordering::SeqCst));
                break;
            }
            std::hint::spin_loop();
        }
        t.join().unwrap();
    }

    #[test]
    fn group_finishes_after_all_children_with_one_callback() {
        let (n, calls) = counter();
        let a = Completion::new_write(|_| {});
        let b = Completion::new_write(|_| {});
        let mut g = CompletionGroup::new({
            let n = n.clone();
            move |res| {
                assert_eq!(res, Ok(0));
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        g.add(&a);
        g.add(&b);
        let built = g.build();
        assert!(!built.finished());
        b.complete(1);
        assert!(!built.finished());
        a.complete(1);
        assert!(built.succeeded());
        a.complete(1);
        assert_eq!(calls(), 1);
    }

    #[test]
    fn group_keeps_the_first_error_and_waits_for_everyone() {
        let a = Completion::new_write(|_| {});
        let b = Completion::new_write(|_| {});
        let c = Completion::new_write(|_| {});
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let mut g = CompletionGroup::new(move |res| s.lock().unwrap().push(res));
        for x in [&a, &b, &c] {
            g.add(x);
        }
        let built = g.build();
        b.error(CompletionError::ShortWrite);
        assert!(!built.finished(), "a group waits for every child");
        a.error(CompletionError::Aborted);
        c.complete(1);
        assert_eq!(built.get_error(), Some(CompletionError::ShortWrite));
        assert_eq!(
            *seen.lock().unwrap(),
            vec![Err(CompletionError::ShortWrite)]
        );
    }

    #[test]
    fn group_error_is_the_first_in_time_not_in_list_order() {
        // Both fail before the build, the later one listed first.
        let early = Completion::new_write(|_| {});
        let late = Completion::new_write(|_| {});
        early.error(CompletionError::ShortWrite);
        late.error(CompletionError::Aborted);
        let mut g = CompletionGroup::new(|_| {});
        g.add(&late);
        g.add(&early);
        assert_eq!(g.build().get_error(), Some(CompletionError::ShortWrite));
        // One fails before the build, one after, the later one listed first.
        let early = Completion::new_write(|_| {});
        let late = Completion::new_write(|_| {});
        early.error(CompletionError::ShortWrite);
        let mut g = CompletionGroup::new(|_| {});
        g.add(&late);
        g.add(&early);
        let built = g.build();
        late.error(CompletionError::Aborted);
        assert_eq!(built.get_error(), Some(CompletionError::ShortWrite));
    }

    #[test]
    fn child_already_failed_when_group_is_built() {
        let a = Completion::new_write(|_| {});
        let b = Completion::new_write(|_| {});
        a.error(CompletionError::IOError(
            std::io::ErrorKind::PermissionDenied,
        ));
        let mut g = CompletionGroup::new(|_| {});
        g.add(&a);
        g.add(&b);
        let built = g.build();
        assert!(!built.finished());
        b.complete(1);
        assert_eq!(
            built.get_error(),
            Some(CompletionError::IOError(
                std::io::ErrorKind::PermissionDenied
            ))
        );
    }

    #[test]
    fn all_children_finished_before_build_finishes_at_build() {
        let (n, calls) = counter();
        let a = Completion::new_write(|_| {});
        a.complete(1);
        let mut g = CompletionGroup::new({
            let n = n.clone();
            move |_| {
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        g.add(&a);
        let built = g.build();
        assert!(built.succeeded());
        assert!(!built.is_explicit_yield());
        assert_eq!(calls(), 1);
    }

    #[test]
    fn empty_group_is_a_yield_and_calls_back() {
        let (n, calls) = counter();
        let g = CompletionGroup::new({
            let n = n.clone();
            move |res| {
                assert_eq!(res, Ok(0));
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        let built = g.build();
        assert!(built.is_explicit_yield());
        assert_eq!(calls(), 1);
    }

    #[test]
    fn group_of_groups() {
        let leaves: Vec<Completion> = (0..6).map(|_| Completion::new_write(|_| {})).collect();
        let (n, calls) = counter();
        let mut outer = CompletionGroup::new({
            let n = n.clone();
            move |_| {
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        let mut inners = Vec::new();
        for pair in leaves.chunks(2) {
            let mut g = CompletionGroup::new(|_| {});
            g.add(&pair[0]);
            g.add(&pair[1]);
            let built = g.build();
            outer.add(&built);
            inners.push(built);
        }
        let top = outer.build();
        for (i, leaf) in leaves.iter().enumerate() {
            assert!(!top.finished());
            if i == 3 {
                leaf.error(CompletionError::ShortWrite);
            } else {
                leaf.complete(1);
            }
        }
        assert!(inners[0].succeeded());
        assert_eq!(inners[1].get_error(), Some(CompletionError::ShortWrite));
        assert_eq!(top.get_error(), Some(CompletionError::ShortWrite));
        assert_eq!(calls(), 1);
    }

    #[test]
    #[should_panic(expected = "already belongs to a group")]
    fn linking_a_completion_twice_panics() {
        // What a re-entered operation that rebuilds its group would do.
        let c = Completion::new_write(|_| {});
        let mut first = CompletionGroup::new(|_| {});
        first.add(&c);
        let _built = first.build();
        let mut second = CompletionGroup::new(|_| {});
        second.add(&c);
    }

    #[test]
    #[should_panic(expected = "already belongs to a group")]
    fn adding_the_same_completion_twice_to_one_group_panics() {
        let c = Completion::new_write(|_| {});
        let mut g = CompletionGroup::new(|_| {});
        g.add(&c);
        g.add(&c);
    }

    #[test]
    fn a_dropped_unbuilt_group_releases_its_children() {
        let c = Completion::new_write(|_| {});
        {
            let mut g = CompletionGroup::new(|_| {});
            g.add(&c);
        }
        let mut g = CompletionGroup::new(|_| {});
        g.add(&c);
        let built = g.build();
        c.complete(1);
        assert!(built.succeeded());
    }

    #[test]
    fn cancel_aborts_children_and_late_finishes_are_ignored() {
        let (n, calls) = counter();
        let a = counting_sync(&n);
        let b = counting_sync(&n);
        let mut g = CompletionGroup::new(|_| {});
        g.add(&a);
        g.add(&b);
        g.cancel();
        let built = g.build();
        // The backend reports the real result later; it is ignored.
        a.complete(0);
        b.error(CompletionError::ShortWrite);
        assert_eq!(calls(), 2);
        assert_eq!(a.get_error(), Some(CompletionError::Aborted));
        assert_eq!(built.get_error(), Some(CompletionError::Aborted));
    }

    #[test]
    fn aborting_a_built_group_aborts_children_then_child_finishes_late() {
        let (n, calls) = counter();
        let a = Completion::new_write(|_| {});
        let b = Completion::new_write(|_| {});
        a.complete(1);
        let mut g = CompletionGroup::new({
            let n = n.clone();
            move |res| {
                assert_eq!(res, Err(CompletionError::Aborted));
                n.fetch_add(1, Ordering::SeqCst);
            }
        });
        g.add(&a);
        g.add(&b);
        let built = g.build();
        built.abort();
        assert!(a.succeeded(), "a finished child stays as it was");
        assert_eq!(b.get_error(), Some(CompletionError::Aborted));
        b.complete(1);
        assert_eq!(calls(), 1);
        assert!(built.failed());
    }

    #[test]
    fn aborting_a_group_whose_children_were_dropped_still_finishes_it() {
        let mut g = CompletionGroup::new(|_| {});
        g.add(&Completion::new_write(|_| {}));
        let built = g.build();
        built.abort();
        assert_eq!(built.get_error(), Some(CompletionError::Aborted));
    }

    #[test]
    fn completions_finished_from_other_threads() {
        const N: usize = 64;
        let (n, calls) = counter();
        let children: Vec<Completion> = (0..N).map(|_| counting_sync(&n)).collect();
        let mut g = CompletionGroup::new(|_| {});
        for c in &children {
            g.add(c);
        }
        let group_calls = Arc::new(AtomicUsize::new(0));
        let built = {
            let gc = group_calls.clone();
            let mut outer = CompletionGroup::new(move |_| {
                gc.fetch_add(1, Ordering::SeqCst);
            });
            outer.add(&g.build());
            outer.build()
        };
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mine: Vec<Completion> = children.iter().skip(t).step_by(4).cloned().collect();
                let all = children.clone();
                std::thread::spawn(move || {
                    for c in &mine {
                        c.complete(0);
                    }
                    // Race to finish everyone's completions a second time.
                    for c in &all {
                        c.complete(0);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(built.succeeded());
        assert_eq!(calls(), N);
        assert_eq!(group_calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn group_built_while_children_finish_on_other_threads() {
        // Exercises the race between linking a child and finishing it.
        for _ in 0..200 {
            let children: Vec<Completion> = (0..8).map(|_| Completion::new_write(|_| {})).collect();
            let (n, calls) = counter();
            let mut g = CompletionGroup::new({
                let n = n.clone();
                move |_| {
                    n.fetch_add(1, Ordering::SeqCst);
                }
            });
            for c in &children {
                g.add(c);
            }
            let others = children.clone();
            let t = std::thread::spawn(move || {
                for c in &others {
                    c.complete(1);
                }
            });
            let built = g.build();
            t.join().unwrap();
            assert!(built.succeeded());
            assert_eq!(calls(), 1);
        }
    }

    /// A value whose drops are counted.
    struct Token(Arc<AtomicUsize>);
    impl Drop for Token {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_last_handle_releases_the_buffer_at_once() {
        let buf = Arc::new(Buffer::new(16));
        for finish in [true, false] {
            let c = Completion::new_read(buf.clone(), |_| {});
            let copy = c.clone();
            if finish {
                copy.complete(16);
            }
            drop(copy);
            assert_eq!(Arc::strong_count(&buf), 2, "one handle is left");
            drop(c);
            assert_eq!(Arc::strong_count(&buf), 1, "recycled, buffer released");
        }
    }

    #[test]
    fn an_unrun_callback_is_dropped_with_the_last_handle() {
        let drops = Arc::new(AtomicUsize::new(0));
        let token = Token(drops.clone());
        let c = Completion::new_sync(move |_| drop(token));
        drop(c);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_recycled_state_starts_fresh() {
        // Finish one of each kind, with and without captures, with and
        // without errors, in and out of groups; every next completion is
        // pending, errorless and free to join a group.
        let n = Arc::new(AtomicUsize::new(0));
        for round in 0..50 {
            let c = match round % 4 {
                0 => Completion::new_write(|_| {}),
                1 => counting_sync(&n),
                2 => Completion::new_read(Arc::new(Buffer::new(1)), |_| {}),
                _ => {
                    let n = n.clone();
                    Completion::new_read(Arc::new(Buffer::new(1)), move |_| {
                        n.fetch_add(1, Ordering::SeqCst);
                    })
                }
            };
            assert!(!c.finished() && c.result().is_none() && c.get_error().is_none());
            let mut g = CompletionGroup::new(|_| {});
            g.add(&c);
            let built = g.build();
            if round % 3 == 0 {
                c.error(CompletionError::ShortWrite);
                assert_eq!(built.get_error(), Some(CompletionError::ShortWrite));
            } else {
                c.complete(round);
                assert_eq!(c.result(), Some(Ok(round)));
                assert!(built.succeeded());
            }
        }
        assert_eq!(n.load(Ordering::SeqCst), 25);
    }

    #[test]
    fn capturing_callbacks_of_several_types_are_kept_apart() {
        let sum = Arc::new(AtomicUsize::new(0));
        for i in 0..40 {
            let s = sum.clone();
            let c = if i % 2 == 0 {
                Completion::new_write(move |r| {
                    s.fetch_add(r.unwrap() as usize, Ordering::SeqCst);
                })
            } else {
                let shift: u32 = 1;
                Completion::new_write(move |r| {
                    s.fetch_add((r.unwrap() as usize) << shift, Ordering::SeqCst);
                })
            };
            c.complete(1);
        }
        assert_eq!(sum.load(Ordering::SeqCst), 20 + 40);
    }

    #[test]
    fn finish_by_the_only_handle_and_by_a_shared_one() {
        let (n, calls) = counter();
        let mut only = counting_sync(&n);
        only.finish(Ok(3));
        only.finish(Err(CompletionError::ShortWrite));
        assert_eq!((only.result(), calls()), (Some(Ok(3)), 1));
        let mut shared = counting_sync(&n);
        let other = shared.clone();
        shared.finish(Err(CompletionError::Aborted));
        other.complete(0);
        assert_eq!(other.get_error(), Some(CompletionError::Aborted));
        assert_eq!(calls(), 2);
    }

    #[test]
    fn a_callback_may_finish_its_own_completion() {
        let slot: Arc<Mutex<Option<Completion>>> = Arc::new(Mutex::new(None));
        let s = slot.clone();
        let c = Completion::new_write(move |res| {
            assert_eq!(res, Ok(1));
            if let Some(me) = s.lock().unwrap().take() {
                me.abort(); // a no-op: this completion is being finished
                assert!(!me.finished());
            }
        });
        *slot.lock().unwrap() = Some(c.clone());
        c.complete(1);
        assert_eq!(c.result(), Some(Ok(1)));
    }

    #[test]
    fn handles_dropped_on_other_threads_are_recycled_there() {
        let buf = Arc::new(Buffer::new(8));
        let handles: Vec<Completion> = (0..64)
            .map(|_| Completion::new_read(buf.clone(), |_| {}))
            .collect();
        std::thread::spawn(move || {
            for c in &handles {
                c.complete(8);
            }
            drop(handles);
            // New completions here take the states dropped here.
            for _ in 0..64 {
                let c = Completion::new_write(|_| {});
                c.complete(1);
            }
        })
        .join()
        .unwrap();
        assert_eq!(Arc::strong_count(&buf), 1);
    }

    #[test]
    fn a_callback_may_group_its_own_completion() {
        let slot: Arc<Mutex<Option<Completion>>> = Arc::new(Mutex::new(None));
        let built: Arc<Mutex<Option<Completion>>> = Arc::new(Mutex::new(None));
        let (s, b) = (slot.clone(), built.clone());
        let c = Completion::new_write(move |_| {
            let me = s.lock().unwrap().take().unwrap();
            let other = Completion::new_write(|_| {});
            let mut g = CompletionGroup::new(|_| {});
            g.add(&me);
            g.add(&other);
            let group = g.build();
            other.error(CompletionError::ShortWrite);
            *b.lock().unwrap() = Some(group);
        });
        *slot.lock().unwrap() = Some(c.clone());
        c.complete(7);
        let group = built.lock().unwrap().take().unwrap();
        assert_eq!(group.get_error(), Some(CompletionError::ShortWrite));
        assert_eq!(c.result(), Some(Ok(7)));
    }
}
