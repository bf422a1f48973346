//! The migration pairs under the differential harness: for every pair the
//! correct hand-written version and the `#[resumable]` version agree in
//! every mode, and the buggy version is caught, with a report that names
//! the seed and the first differing operation.

use io_model_difftest::{DiffTest, Difference, Failure, Mismatch, Mode};
use io_model_examples::migration::{self, pages};

/// Asserts that `failure` is a mismatch whose report names its seed, its
/// mode, and what differed first: the first differing I/O of both sides
/// (or, when one side issued nothing there, what it ended with).
fn assert_names_the_difference(failure: Failure) -> Box<Mismatch> {
    let report = failure.to_string();
    let Failure::Mismatch(m) = failure else {
        panic!("expected a mismatch, got: {report}");
    };
    assert!(
        report.contains(&format!("differ on seed {} in mode {}", m.seed, m.mode)),
        "{report}"
    );
    let Difference::Io { index } = m.difference else {
        panic!("the first difference should be an I/O: {report}");
    };
    assert!(
        report.contains(&format!("first difference: I/O #{}", index + 1)),
        "{report}"
    );
    for (side, io) in m.first_ios().expect("an I/O difference").iter().enumerate() {
        match io {
            Some(io) => assert!(
                report.contains(&format!("call {}: {io}", io.call)),
                "side {side}: {report}"
            ),
            None => assert!(report.contains("(nothing: it issued"), "{report}"),
        }
    }
    m
}

macro_rules! pair {
    ($name:ident, $setup:path, first caught in $mode:expr, $expect:literal) => {
        mod $name {
            use super::*;
            use migration::$name::{buggy, hand, resumable};

            #[test]
            fn hand_written_and_resumable_agree() {
                let summary = DiffTest::new("hand-written", hand, "#[resumable]", resumable)
                    .setup($setup)
                    .check();
                assert_eq!(summary.runs, 4 * 64);
                assert!(summary.failed_ios > 0, "{summary}");
                assert!(summary.early_reentries[1] > 0, "{summary}");
            }

            #[test]
            fn buggy_disagrees_with_resumable_too() {
                let failure = DiffTest::new("#[resumable]", resumable, "buggy", buggy)
                    .setup($setup)
                    .run()
                    .unwrap_err();
                assert_names_the_difference(failure);
            }

            #[test]
            fn buggy_is_caught() {
                let failure = DiffTest::new("hand-written", hand, "buggy", buggy)
                    .setup($setup)
                    .run()
                    .unwrap_err();
                let report = failure.to_string();
                let m = assert_names_the_difference(failure);
                assert_eq!(m.mode, $mode, "{report}");
                assert!(report.contains($expect), "{report}");
            }
        }
    };
}

pair!(bump_counter, pages::setup, first caught in Mode::Deferred,
      "the written bytes differ from +8: 2a 00 00 00");
pair!(push_dirty, pages::setup, first caught in Mode::Deferred, "buggy:        call");
pair!(advance_index, pages::setup, first caught in Mode::Deferred, "write backup @1024+1024");
pair!(insert_cached, pages::setup, first caught in Mode::EarlyReentry, "read db @");
pair!(set_loaded, pages::setup, first caught in Mode::EarlyReentry,
      "the written bytes differ from +0");
pair!(read_header, pages::setup, first caught in Mode::EarlyReentry, "write db @0+1024");
pair!(free_overflow, pages::setup, first caught in Mode::Deferred,
      "write db @21504+1024");
pair!(seek_cell, pages::setup, first caught in Mode::Deferred, "read db @");
pair!(commit, pages::setup, first caught in Mode::Deferred, "sync db @0+0");
pair!(checkpoint, migration::checkpoint::setup, first caught in Mode::Deferred,
      "panicked in call");

#[test]
fn interop_mixed_generated_and_state_machine_agree() {
    use migration::interop::{hand, resumable, state_machine};
    DiffTest::new("hand over generated", hand, "#[resumable]", resumable)
        .setup(pages::setup)
        .check();
    DiffTest::new("#[resumable]", resumable, "StateMachine", state_machine)
        .setup(pages::setup)
        .check();
}

#[test]
fn what_replaces_return_and_restore_if_io_agrees() {
    use migration::restore::{after_hand, after_resumable, before};
    DiffTest::new(
        "return_and_restore_if_io!",
        before,
        "match &mut",
        after_hand,
    )
    .setup(pages::setup)
    .check();
    DiffTest::new(
        "return_and_restore_if_io!",
        before,
        "#[resumable]",
        after_resumable,
    )
    .setup(pages::setup)
    .check();
}

/// The hand-written pair of `$pair` (correct against buggy) in `$mode` only.
macro_rules! in_mode {
    ($pair:ident, $mode:expr) => {
        DiffTest::new(
            "hand-written",
            migration::$pair::hand,
            "buggy",
            migration::$pair::buggy,
        )
        .setup(pages::setup)
        .modes([$mode])
        .run()
    };
}

#[test]
fn deferred_mode_alone_misses_what_early_reentry_catches() {
    // The bugs that need a call before the completion finished.
    for result in [
        in_mode!(insert_cached, Mode::Deferred),
        in_mode!(set_loaded, Mode::Deferred),
        in_mode!(read_header, Mode::Deferred),
    ] {
        result.unwrap();
    }
    // Yield-everything catches each of them on its own, on the first seed.
    for result in [
        in_mode!(insert_cached, Mode::YieldEverything),
        in_mode!(set_loaded, Mode::YieldEverything),
        in_mode!(read_header, Mode::YieldEverything),
    ] {
        let m = assert_names_the_difference(result.unwrap_err());
        assert_eq!(m.seed, 0, "yield-everything needs no luck");
    }
}

#[test]
fn the_guide_shows_the_report_the_harness_prints() {
    let guide = include_str!("../../docs/MIGRATING.md");
    let start = guide.find("```text\n").expect("a sample report") + "```text\n".len();
    let sample = &guide[start..start + guide[start..].find("```").unwrap()];
    let report = DiffTest::new(
        "hand-written",
        migration::push_dirty::hand,
        "buggy",
        migration::push_dirty::buggy,
    )
    .setup(pages::setup)
    .run()
    .unwrap_err()
    .to_string();
    assert_eq!(sample.trim_end(), report, "update docs/MIGRATING.md");
}
