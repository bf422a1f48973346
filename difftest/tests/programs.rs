//! CI's slice of the random-program differential test: a few hundred
//! programs of a fixed seed, each built and run under every driver
//! against its oracle. The shapes of open transform findings are left out
//! (`KNOWN_FAILING`; their regressions are checked by `regressions.rs`).
//! The full run is `scripts/difftest.sh --full`.

use io_model_programs::emit::workspace_root;
use io_model_programs::gen::{GenConfig, KNOWN_FAILING};
use io_model_programs::run::{run_many, Options};

#[test]
fn generated_programs_match_their_oracles() {
    let gen = GenConfig {
        disabled: KNOWN_FAILING.iter().map(|s| s.to_string()).collect(),
        ..GenConfig::default()
    };
    let seed = 20_240_601;
    let opts = Options {
        seed,
        programs: (0..240).collect(),
        batch: 120,
        jobs: 1,
        seeds: 2,
        gen,
        work_dir: workspace_root()
            .join("target")
            .join("difftest")
            .join("test"),
        progress: false,
        optimize_macros: false,
        build_timeout: Options::BUILD_TIMEOUT,
    };
    let s = run_many(&opts).expect("the batches build and run");
    assert_eq!(s.programs, 240);
    assert!(
        s.runs >= 240 * 7,
        "every program ran under every driver: {} runs",
        s.runs
    );
    let lines: Vec<String> = s
        .divergent
        .iter()
        .map(|d| {
            format!(
                "program {} [{}] {} {}\n  reproduce: cargo run --release -p io-model-programs -- --seed {seed} --only {} --disable {}",
                d.index,
                d.kind,
                d.mode,
                d.detail.lines().next().unwrap_or(""),
                d.index,
                KNOWN_FAILING.join(",")
            )
        })
        .collect();
    assert!(lines.is_empty(), "\n{}", lines.join("\n"));
}
