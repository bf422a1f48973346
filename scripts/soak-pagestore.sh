#!/usr/bin/env bash
# The long SimIO sweep of the page store (CI runs a few hundred seeds in
# `cargo test`): every fault kind SimIO offers, crashes mid-workload and
# mid-recovery. Prints counts, failures (with a replay command) and the
# slowest seeds; exits non-zero if any seed failed.
#
#   scripts/soak-pagestore.sh                 # 1000 seeds
#   scripts/soak-pagestore.sh --seeds 10000   # the full sweep
#   scripts/soak-pagestore.sh --seeds 500 --start 20000 --jobs 2
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release -p io-model-examples --example pagestore-soak -- "$@"
