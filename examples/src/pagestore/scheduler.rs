//! [`Scheduler`]: many operations in flight on one thread.
//!
//! Each operation runs in a *slot* ([`SlotId`]). Every completion the store
//! creates for an operation carries a callback that puts the operation's
//! slot on a [`ReadyQueue`]; a completion many operations wait on (the
//! group commit's fsync, a checkpoint's log switch) wakes each waiter
//! through a signal completion of its own. The scheduler resumes only the
//! slots on the queue, and only once the completion the operation returned
//! has finished (a slot woken by one write of a group stays parked until the
//! whole group is done). When the queue is empty it steps the backend,
//! which blocks in the kernel until some I/O finishes. It never polls the
//! operations that are waiting.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use io_model::{Buffer, Completion, CompletionError, IOResult, IO};

use super::StoreError;

/// The slot an operation runs in: an index below the number of slots the
/// store was opened with. Each slot has its own operation states, as each
/// connection of a database has its own.
///
/// ```
/// use io_model_examples::pagestore::SlotId;
/// assert_eq!(SlotId(3).to_string(), "slot 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub usize);

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "slot {}", self.0)
    }
}

/// The slots whose operations can make progress, each at most once, in the
/// order they were woken.
///
/// ```
/// use io_model_examples::pagestore::{ReadyQueue, SlotId};
/// let q = ReadyQueue::new(4);
/// q.wake(SlotId(2));
/// q.wake(SlotId(0));
/// q.wake(SlotId(2)); // already queued
/// assert_eq!(q.pop(), Some(SlotId(2)));
/// assert_eq!(q.pop(), Some(SlotId(0)));
/// assert_eq!(q.pop(), None);
/// ```
pub struct ReadyQueue {
    inner: Mutex<Ready>,
}

struct Ready {
    order: VecDeque<usize>,
    queued: Vec<bool>,
    wakes: u64,
}

impl ReadyQueue {
    /// A queue for `slots` slots (it grows if a larger slot is woken).
    pub fn new(slots: usize) -> Self {
        Self {
            inner: Mutex::new(Ready {
                order: VecDeque::with_capacity(slots),
                queued: vec![false; slots],
                wakes: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ready> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `slot` on the queue unless it is already there.
    pub fn wake(&self, slot: SlotId) {
        let mut r = self.lock();
        r.wakes += 1;
        if slot.0 >= r.queued.len() {
            r.queued.resize(slot.0 + 1, false);
        }
        if !r.queued[slot.0] {
            r.queued[slot.0] = true;
            r.order.push_back(slot.0);
        }
    }

    /// Takes the slot woken longest ago.
    pub fn pop(&self) -> Option<SlotId> {
        let mut r = self.lock();
        let s = r.order.pop_front()?;
        r.queued[s] = false;
        Some(SlotId(s))
    }

    /// How many wake-ups were delivered so far (including those for slots
    /// already queued).
    pub fn wakes(&self) -> u64 {
        self.lock().wakes
    }
}

impl fmt::Debug for ReadyQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.lock();
        f.debug_struct("ReadyQueue")
            .field("queued", &r.order)
            .finish()
    }
}

/// Wakes one slot: the callback of every completion the store creates for
/// an operation in that slot. Without a queue (an operation driven alone by
/// [`IO::block`]) it does nothing.
#[derive(Clone)]
pub struct SlotWaker {
    queue: Option<Arc<ReadyQueue>>,
    slot: SlotId,
}

impl SlotWaker {
    /// A waker of `slot` on `queue`.
    pub fn new(queue: Option<Arc<ReadyQueue>>, slot: SlotId) -> Self {
        Self { queue, slot }
    }

    /// Puts the slot on its queue.
    pub fn wake(&self) {
        if let Some(q) = &self.queue {
            q.wake(self.slot);
        }
    }

    /// The slot this waker wakes.
    pub fn slot(&self) -> SlotId {
        self.slot
    }

    /// A completion that nothing but the store finishes: what an operation
    /// waits on while it waits for another operation (the group fsync it
    /// joined, log space, a drained region). Finishing it wakes the slot.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use io_model_examples::pagestore::{ReadyQueue, SlotId, SlotWaker};
    /// let q = Arc::new(ReadyQueue::new(1));
    /// let signal = SlotWaker::new(Some(q.clone()), SlotId(0)).signal();
    /// assert!(!signal.finished());
    /// signal.complete(0);
    /// assert_eq!(q.pop(), Some(SlotId(0)));
    /// ```
    pub fn signal(&self) -> Completion {
        let w = self.clone();
        Completion::new_sync(move |_| w.wake())
    }

    /// A write completion that runs `then` with its result and wakes the
    /// slot.
    pub fn write(
        &self,
        then: impl FnOnce(Result<i32, CompletionError>) + Send + 'static,
    ) -> Completion {
        let w = self.clone();
        Completion::new_write(move |res| {
            then(res);
            w.wake();
        })
    }

    /// A sync completion that runs `then` with its result and wakes the
    /// slot.
    pub fn sync(
        &self,
        then: impl FnOnce(Result<i32, CompletionError>) + Send + 'static,
    ) -> Completion {
        let w = self.clone();
        Completion::new_sync(move |res| {
            then(res);
            w.wake();
        })
    }

    /// A read completion into `buf` that wakes the slot.
    pub fn read(&self, buf: Arc<Buffer>) -> Completion {
        let w = self.clone();
        Completion::new_read(buf, move |_| w.wake())
    }
}

impl fmt::Debug for SlotWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotWaker({})", self.slot)
    }
}

/// Finishes every signal in `signals` (outside any lock of the store).
pub(crate) fn fire(signals: Vec<Completion>) {
    for s in signals {
        s.complete(0);
    }
}

/// One operation as the scheduler runs it: called again with the same
/// slot until it returns `Done` or an error, exactly like a `#[resumable]`
/// operation.
pub trait Task {
    /// What the operation returns.
    type Output;
    /// Runs the operation until it waits or ends.
    fn resume(&mut self, slot: SlotId) -> Result<IOResult<Self::Output>, StoreError>;
}

/// What the scheduler asks of the code that feeds it work.
pub trait Driver<T: Task> {
    /// The next operation for `slot`, or `None` to leave the slot idle for
    /// the rest of the run.
    fn next(&mut self, slot: SlotId) -> Option<T>;
    /// An operation ended.
    fn done(&mut self, slot: SlotId, task: T, result: Result<T::Output, StoreError>);
    /// Checked after every step of the backend: `true` ends the run at once,
    /// leaving the operations in flight where they are (a simulated crash).
    fn interrupt(&mut self) -> bool {
        false
    }
    /// Called after each operation resumed, with the slot; a test uses it to
    /// attribute the backend's trace to operations.
    fn resumed(&mut self, _slot: SlotId) {}
}

struct Running<T> {
    task: T,
    /// What the task last returned `IO` with, while unfinished.
    waiting: Option<Completion>,
}

/// Counters of one [`Scheduler::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulerStats {
    /// Calls of [`Task::resume`].
    pub resumes: u64,
    /// Wake-ups of a slot whose completion had not finished yet (one write
    /// of a group, say): the slot stayed parked.
    pub parked_wakes: u64,
    /// Calls of [`IO::step`].
    pub steps: u64,
}

/// Consecutive steps of the backend that woke nobody before the run is
/// declared stalled. A step with I/O in flight blocks until some finishes,
/// so only a run where every operation waits for another one gets here.
const STALL_STEPS: u64 = 100_000;

/// Runs up to one operation per slot on the calling thread.
///
/// ```
/// use std::sync::Arc;
/// use io_model::{Completion, IOResult};
/// use io_model_examples::pagestore::{Driver, ReadyQueue, Scheduler, SlotId, SlotWaker, StoreError, Task};
///
/// /// Waits for one signal that the driver finishes from outside.
/// struct Wait(Option<Completion>, SlotWaker);
/// impl Task for Wait {
///     type Output = ();
///     fn resume(&mut self, _: SlotId) -> Result<IOResult<()>, StoreError> {
///         match self.0.take() {
///             None => { let c = self.1.signal(); self.0 = Some(c.clone()); c.complete(0); Ok(IOResult::IO(c.into())) }
///             Some(_) => Ok(IOResult::Done(())),
///         }
///     }
/// }
/// struct Two { q: Arc<ReadyQueue>, left: u32, done: u32 }
/// impl Driver<Wait> for Two {
///     fn next(&mut self, slot: SlotId) -> Option<Wait> {
///         (self.left > 0).then(|| { self.left -= 1; Wait(None, SlotWaker::new(Some(self.q.clone()), slot)) })
///     }
///     fn done(&mut self, _: SlotId, _: Wait, r: Result<(), StoreError>) { r.unwrap(); self.done += 1; }
/// }
/// let q = Arc::new(ReadyQueue::new(2));
/// let mut d = Two { q: q.clone(), left: 5, done: 0 };
/// Scheduler::new(q, 2).run(&io_model_backends::SyncIO::new(), &mut d)?;
/// assert_eq!(d.done, 5);
/// # Ok::<(), StoreError>(())
/// ```
pub struct Scheduler<T: Task> {
    ready: Arc<ReadyQueue>,
    slots: Vec<Option<Running<T>>>,
    stats: SchedulerStats,
}

impl<T: Task> Scheduler<T> {
    /// A scheduler of `slots` slots woken through `ready` (the queue the
    /// store's completions wake).
    pub fn new(ready: Arc<ReadyQueue>, slots: usize) -> Self {
        Self {
            ready,
            slots: (0..slots).map(|_| None).collect(),
            stats: SchedulerStats::default(),
        }
    }

    /// What the runs so far counted.
    pub fn stats(&self) -> SchedulerStats {
        self.stats
    }

    /// How many operations are in flight (after an interrupted run).
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Drops every operation in flight without finishing it (after an
    /// interrupted run, when the backend was crashed).
    pub fn abandon(&mut self) -> Vec<T> {
        self.slots
            .iter_mut()
            .filter_map(|s| s.take().map(|r| r.task))
            .collect()
    }

    /// Fills every slot from `driver` and runs until every slot is idle or
    /// the driver interrupts. An error of the backend's `step` ends the run
    /// with that error; an operation's error goes to [`Driver::done`].
    pub fn run<D: Driver<T>>(&mut self, io: &dyn IO, driver: &mut D) -> Result<(), StoreError> {
        for s in 0..self.slots.len() {
            if self.slots[s].is_none() {
                if let Some(task) = driver.next(SlotId(s)) {
                    self.slots[s] = Some(Running {
                        task,
                        waiting: None,
                    });
                    self.ready.wake(SlotId(s));
                }
            }
        }
        let mut idle_steps = 0u64;
        loop {
            let mut woke_any = false;
            while let Some(slot) = self.ready.pop() {
                woke_any = true;
                self.run_slot(slot, driver);
                if driver.interrupt() {
                    return Ok(());
                }
            }
            if self.slots.iter().all(Option::is_none) {
                return Ok(());
            }
            if woke_any {
                idle_steps = 0;
            } else {
                idle_steps += 1;
                if idle_steps > STALL_STEPS {
                    return Err(StoreError::Stalled(self.describe_waiting()));
                }
            }
            io.step()?;
            self.stats.steps += 1;
            if driver.interrupt() {
                return Ok(());
            }
        }
    }

    /// Resumes the operation in `slot` if what it waits for has finished,
    /// and keeps it running (or starts the slot's next operation) until it
    /// waits for something unfinished.
    fn run_slot<D: Driver<T>>(&mut self, slot: SlotId, driver: &mut D) {
        let Some(running) = self.slots.get_mut(slot.0).and_then(Option::as_mut) else {
            return; // a late wake-up of a finished operation
        };
        if running.waiting.as_ref().is_some_and(|c| !c.finished()) {
            self.stats.parked_wakes += 1;
            return;
        }
        loop {
            let Some(running) = self.slots[slot.0].as_mut() else {
                return;
            };
            running.waiting = None;
            self.stats.resumes += 1;
            let res = running.task.resume(slot);
            driver.resumed(slot);
            let finished = match res {
                Ok(IOResult::IO(io)) => {
                    let c = io.into_completion();
                    if c.is_explicit_yield() {
                        // Let the others run first.
                        self.ready.wake(slot);
                        return;
                    }
                    if !c.finished() {
                        running.waiting = Some(c);
                        return;
                    }
                    continue;
                }
                Ok(IOResult::Done(v)) => Ok(v),
                Err(e) => Err(e),
            };
            let done = self.slots[slot.0].take().expect("BUG: the slot ran");
            driver.done(slot, done.task, finished);
            if let Some(task) = driver.next(slot) {
                self.slots[slot.0] = Some(Running {
                    task,
                    waiting: None,
                });
            }
        }
    }

    fn describe_waiting(&self) -> String {
        let waiting: Vec<String> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.as_ref()
                    .map(|r| format!("slot {i} waits on {:?}", r.waiting))
            })
            .collect();
        waiting.join("; ")
    }
}
