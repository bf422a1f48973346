//! `#[resumable]` code over the deterministic simulator: a page copier
//! (a generated sub-operation per page, a fan-out of writes with
//! `wait_all!`, one sync) run under many seeds, with and without faults.
//! The simulator's trace shows that no I/O was ever issued twice however
//! the completions were reordered and delayed, the copy is right, and after
//! a crash the synced pages are durable.
#![deny(warnings)]

use std::collections::BTreeMap;
use std::sync::Arc;

use io_model::{Buffer, Completion, File, IOResult, OpenFlags, Result, IO, PAGE_SIZE};
use io_model_backends::{Faults, OpKind, SimIO};

const PAGES: u64 = 6;

struct Copier {
    src: Arc<dyn File>,
    dst: Arc<dyn File>,
    copy: CopyState,
    read_page: ReadPageState,
}

#[io_model::resumable]
impl Copier {
    /// Reads one page of the source.
    #[resumable(state = self.read_page)]
    fn read_page(&mut self, page: u64) -> Result<IOResult<Arc<Buffer>>> {
        let buf: Arc<Buffer> = Arc::new(Buffer::new_page());
        let c = Completion::new_read(buf.clone(), |_| {});
        wait!(ReadIssued => self.src.pread(page * PAGE_SIZE as u64, c)?);
        Ok(IOResult::Done(buf))
    }

    /// Copies `pages` pages, then syncs the destination once.
    #[resumable(state = self.copy)]
    fn copy(&mut self, pages: u64) -> Result<IOResult<u64>> {
        let mut read: Vec<Arc<Buffer>> = Vec::new();
        for page in 0..pages {
            let buf: Arc<Buffer> = call!(self.read_page(page));
            read.push(buf);
        }
        let mut writes: Vec<Completion> = Vec::new();
        for (page, buf) in read.into_iter().enumerate() {
            let c = Completion::new_write(|_| {});
            writes.push(self.dst.pwrite(page as u64 * PAGE_SIZE as u64, buf, c)?);
        }
        wait_all!(writes);
        let sync = Completion::new_sync(|_| {});
        wait!(Syncing => self.dst.sync(sync)?);
        Ok(IOResult::Done(pages))
    }
}

fn source_page(page: u64) -> Vec<u8> {
    (0..PAGE_SIZE)
        .map(|i| (page as usize * 31 + i) as u8)
        .collect()
}

/// A simulator with a synced source file of `PAGES` pages.
fn setup(io: &SimIO) -> Copier {
    let src = io.open_file("src", OpenFlags::CREATE).unwrap();
    for page in 0..PAGES {
        let c = src
            .pwrite(
                page * PAGE_SIZE as u64,
                Arc::new(Buffer::from_vec(source_page(page))),
                Completion::new_write(|_| {}),
            )
            .unwrap();
        io.wait_for_completion(c).unwrap();
    }
    let c = src.sync(Completion::new_sync(|_| {})).unwrap();
    io.wait_for_completion(c).unwrap();
    io.take_trace();
    Copier {
        src,
        dst: io.open_file("dst", OpenFlags::CREATE).unwrap(),
        copy: CopyState::default(),
        read_page: ReadPageState::default(),
    }
}

/// Every operation of the trace issued once: no read, write or sync twice.
fn assert_no_io_twice(io: &SimIO, seed: u64) {
    let mut seen = BTreeMap::new();
    for e in io.trace() {
        *seen.entry((e.kind, e.file.clone(), e.offset)).or_insert(0) += 1;
    }
    for (op, n) in seen {
        assert_eq!(n, 1, "seed {seed}: {op:?} issued {n} times");
    }
}

#[test]
fn every_seed_copies_once_and_durably() {
    for seed in 0..150 {
        let io = SimIO::new(seed);
        let mut copier = setup(&io);
        let copied = io.block(|| copier.copy(PAGES)).unwrap();
        assert_eq!(copied, PAGES);
        assert!(copier.copy.is_idle() && copier.read_page.is_idle());
        assert_no_io_twice(&io, seed);
        let trace = io.trace();
        let count = |kind| trace.iter().filter(|e| e.kind == kind).count() as u64;
        assert_eq!(
            (
                count(OpKind::Read),
                count(OpKind::Write),
                count(OpKind::Sync)
            ),
            (PAGES, PAGES, 1)
        );
        let expected: Vec<u8> = (0..PAGES).flat_map(source_page).collect();
        assert_eq!(io.contents("dst").unwrap(), expected, "seed {seed}");
        io.crash();
        assert_eq!(
            io.durable_contents("dst").unwrap(),
            expected,
            "seed {seed}: synced data lost"
        );
    }
}

#[test]
fn with_faults_every_run_ends_ok_or_err_idle_and_never_repeats_io() {
    let faults = Faults {
        read_error: 0.05,
        write_error: 0.05,
        sync_error: 0.1,
        ..Faults::none()
    };
    let (mut ok, mut failed) = (0, 0);
    for seed in 0..150 {
        let io = SimIO::new(seed);
        let mut copier = setup(&io);
        io.set_faults(faults);
        match io.block(|| copier.copy(PAGES)) {
            Ok(n) => {
                assert_eq!(n, PAGES);
                ok += 1;
            }
            Err(_) => failed += 1,
        }
        assert!(
            copier.copy.is_idle() && copier.read_page.is_idle(),
            "seed {seed}"
        );
        assert_no_io_twice(&io, seed);
    }
    assert!(
        ok > 0 && failed > 0,
        "faults should fail some runs: {ok} ok, {failed} failed"
    );
}
