//! Per-thread free lists of completion states.
//!
//! When the last handle of a [`Completion`](crate::Completion) is dropped,
//! its shared state goes back to the free list of the thread that dropped
//! it, and the next completion created on that thread takes it instead of
//! allocating. A state is kept with the callback slot it carries (see
//! `Slot::typed`), so the lists are sorted by the slot's type: a completion
//! whose callback captures something takes a state whose slot already has
//! the room for that closure, and refills it.
//!
//! Each list is bounded; a state that finds its list full is freed. A state
//! dropped on a thread other than the one that created it moves to that
//! thread's list, which is where the next completion there looks.

use std::any::TypeId;
use std::cell::RefCell;
use std::sync::Arc;

use super::{GroupState, Inner};

/// States kept for completions whose callback captures nothing.
const PLAIN_LIMIT: usize = 1024;
/// States kept per callback type.
const TYPED_LIMIT: usize = 256;
/// Callback types a thread keeps states for; others are freed.
const CLASS_LIMIT: usize = 16;
/// Group states kept.
const GROUP_LIMIT: usize = 256;

struct Pool {
    plain: Vec<Arc<Inner>>,
    typed: Vec<(TypeId, Vec<Arc<Inner>>)>,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            plain: Vec::new(),
            typed: Vec::new(),
        })
    };
    // The boxes are what is reused: a group's completion holds its state
    // boxed, so that other completions stay small.
    #[allow(clippy::vec_box)]
    static GROUPS: RefCell<Vec<Box<GroupState>>> = const { RefCell::new(Vec::new()) };
}

/// A recycled group state, reset, if this thread has one.
pub(super) fn take_group() -> Option<Box<GroupState>> {
    GROUPS
        .try_with(|g| g.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten()
}

/// Keeps a reset group state for reuse (frees it where the list is full).
pub(super) fn put_group(state: Box<GroupState>) {
    let _rejected: Option<Box<GroupState>> = GROUPS
        .try_with(|g| match g.try_borrow_mut() {
            Ok(mut g) if g.len() < GROUP_LIMIT => {
                g.push(state);
                None
            }
            _ => Some(state),
        })
        .unwrap_or(None);
}

/// A free state of `class` (the type of its callback slot; `None` for
/// states without one), if this thread has one.
#[inline]
pub(super) fn take(class: Option<TypeId>) -> Option<Arc<Inner>> {
    POOL.try_with(|pool| {
        let mut pool = pool.try_borrow_mut().ok()?;
        match class {
            None => pool.plain.pop(),
            Some(class) => pool
                .typed
                .iter_mut()
                .find(|(key, _)| *key == class)?
                .1
                .pop(),
        }
    })
    .ok()
    .flatten()
}

/// Keeps `inner`, a state nothing else refers to, for reuse; frees it
/// where its list is full (or the thread is exiting).
pub(super) fn put(inner: Arc<Inner>) {
    let class = inner.class;
    // What could not be kept is dropped after the borrow ends.
    let _rejected: Option<Arc<Inner>> = POOL
        .try_with(|pool| {
            let Ok(mut pool) = pool.try_borrow_mut() else {
                return Some(inner);
            };
            let (list, limit) = match class {
                None => (&mut pool.plain, PLAIN_LIMIT),
                Some(class) => {
                    let at = match pool.typed.iter().position(|(key, _)| *key == class) {
                        Some(at) => at,
                        None if pool.typed.len() < CLASS_LIMIT => {
                            pool.typed.push((class, Vec::new()));
                            pool.typed.len() - 1
                        }
                        None => return Some(inner),
                    };
                    (&mut pool.typed[at].1, TYPED_LIMIT)
                }
            };
            if list.len() >= limit {
                return Some(inner);
            }
            list.push(inner);
            None
        })
        .unwrap_or(None);
}
