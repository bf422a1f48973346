//! Guard state places: `&self` methods whose state sits behind a lock
//! (`state = self.st.lock().unwrap()`, `state = self.st.borrow_mut()`). The
//! guard is held only while the state is taken on entry and put back on
//! return, so the body and its callees may take the same lock.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, RwLock};

use io_model::{Completion, IOResult, Result};
use io_model_tests::{same_as_straight_line, Sched};

struct Pager {
    load: RefCell<LoadState>,
    free: Mutex<FreeState>,
    freed: Mutex<Vec<u32>>,
}

#[io_model::resumable]
impl Pager {
    #[resumable(state = self.load.borrow_mut())]
    fn load(&self, s: &Sched, page: u32) -> Result<IOResult<u32>> {
        let c: Completion = s.io(&format!("read {page}"));
        // The body may borrow the state's own cell: the guard is not held
        // while user code runs (it would panic with `BorrowMutError`).
        s.log(format!("load state {}", self.load.borrow().name()));
        wait!(c);
        s.log(format!("loaded {page}"));
        Ok(IOResult::Done(page * 10))
    }

    #[resumable(state = self.free.lock().unwrap())]
    fn free(&self, s: &Sched, first: u32, n: u32) -> Result<IOResult<u32>> {
        let mut page: u32 = first;
        let mut sum: u32 = 0;
        while page < first + n {
            let v: u32 = call!(self.load(s, page));
            // A callee that takes the same lock as the state place.
            self.note(s);
            let c: Completion = s.io(&format!("free {page}"));
            wait!(c);
            self.freed.lock().unwrap().push(page);
            sum += v;
            page += 1;
        }
        Ok(IOResult::Done(sum))
    }

    fn note(&self, s: &Sched) {
        let st = self.free.lock().unwrap();
        s.log(format!("free state {}", st.name()));
    }
}

fn pager() -> Pager {
    Pager {
        load: RefCell::new(LoadState::default()),
        free: Mutex::new(FreeState::default()),
        freed: Mutex::new(Vec::new()),
    }
}

#[test]
fn body_and_callees_take_the_same_lock() {
    let log = same_as_straight_line(100, |s| {
        let p = pager();
        let r = s.run(|| p.free(s, 3, 4));
        assert!(p.free.lock().unwrap().is_idle());
        assert!(p.load.borrow().is_idle());
        assert_eq!(*p.freed.lock().unwrap(), [3, 4, 5, 6]);
        r
    });
    // While the body runs, the state is taken out of its place.
    assert!(log.contains(&"free state Poisoned".to_string()), "{log:?}");
    assert!(log.contains(&"load state Poisoned".to_string()), "{log:?}");
}

#[test]
fn the_state_rests_in_its_lock_between_calls() {
    let s = Sched::deferred(7);
    let p = pager();
    let mut names = Vec::new();
    let v = loop {
        match p.free(&s, 0, 2).unwrap() {
            IOResult::Done(v) => break v,
            IOResult::IO(_) => {
                names.push(p.free.lock().unwrap().name());
                while s.finish_one() {}
            }
        }
    };
    assert_eq!(v, 10);
    assert!(
        names.contains(&"Call0") && names.contains(&"Wait0"),
        "{names:?}"
    );
}

/// The shape of Turso's pager: shared through an `Arc`, used from several
/// threads, each operation's state in an `RwLock`.
struct Shared {
    st: RwLock<CountState>,
    hits: Mutex<u32>,
}

#[io_model::resumable]
impl Shared {
    #[resumable(state = self.st.write().unwrap())]
    fn count(&self, c: Completion) -> Result<IOResult<u32>> {
        wait!(c);
        let mut hits = self.hits.lock().unwrap();
        *hits += 1;
        Ok(IOResult::Done(*hits))
    }
}

#[test]
fn arc_shared_across_threads() {
    let shared = Arc::new(Shared {
        st: RwLock::new(CountState::default()),
        hits: Mutex::new(0),
    });
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // One thread runs the operation (an operation's state serves one run at
    // a time); another keeps reading the state's lock meanwhile, which it
    // can only do because the guard is never held across the body.
    let runner = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            for _ in 0..200 {
                let c = Completion::new_write(|_| {});
                assert!(matches!(shared.count(c.clone()), Ok(IOResult::IO(_))));
                c.complete(0);
                assert!(matches!(shared.count(c), Ok(IOResult::Done(_))));
            }
        })
    };
    let reader = {
        let shared = Arc::clone(&shared);
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                seen.insert(shared.st.read().unwrap().name());
            }
            seen
        })
    };
    runner.join().unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let seen = reader.join().unwrap();
    assert!(
        seen.iter()
            .all(|n| ["Idle", "Wait0", "Poisoned"].contains(n)),
        "{seen:?}"
    );
    assert!(shared.st.read().unwrap().is_idle());
    assert_eq!(*shared.hits.lock().unwrap(), 200);
}
