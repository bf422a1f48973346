//! The page store's workload under SimIO over many seeds, with every fault
//! kind and crashes (see `io_model_examples::pagestore::sim`). CI runs
//! `PAGESTORE_SEEDS` seeds (300 unless set); `scripts/soak-pagestore.sh`
//! runs the long sweep.

use io_model_examples::pagestore::sim::run_seed;

#[test]
fn seeds_survive_faults_and_crashes() {
    let seeds: u64 = std::env::var("PAGESTORE_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut failures = Vec::new();
    let (mut commits, mut crashes, mut recovered) = (0, 0, 0);
    for seed in 0..seeds {
        let r = run_seed(seed);
        commits += r.commits;
        crashes += r.crashes;
        recovered += r.recovered_commits;
        if let Some(f) = r.failure {
            failures.push(format!("seed {seed}: {f}"));
        }
    }
    println!("{seeds} seeds: {commits} commits done, {crashes} crashes, {recovered} commits recovered from the log");
    assert!(
        failures.is_empty(),
        "{} of {seeds} seeds failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
