#!/usr/bin/env bash
# Random-program differential test of #[io_model::resumable] (difftest/, the
# io-model-programs crate): generated programs, each run under the immediate,
# deferred, failing and cancel drivers against its straight-line oracle.
#
#   scripts/difftest.sh [--full] [--seed S] [--jobs J] [--all] [-- EXTRA FLAGS]
#
# Default: 2 000 programs. --full: 100 000 programs. The shapes of the open
# transform findings (see difftest/regressions/known-failures.txt) are left
# out (--skip-known) so that a run finds new bugs; --all keeps them in.
# Diverging programs are listed with the flags that reproduce them; the
# first three are shrunk and saved to difftest/regressions/.
#
# Measured on this 2-core machine (the proc-macro built optimized, warm
# target): a build of a 125-program batch ~7 s, ~85 % of it rustc's front
# end on the generated code (expansion 20 %, type check 15 %, borrow check
# 25 %); the runs themselves take ~1 %. Larger batches share more of each
# build's fixed cost: 1 000 programs with two jobs ran at 24 programs/s in
# batches of 125 and 32 programs/s in batches of 500, so batches are 500
# (a batch that does not compile is built again without the failing
# programs). --full uses both cores (--jobs 2, a batch crate and target
# directory each): about 55 min for 100 000 programs on an otherwise idle
# machine. The first run also builds the batches' dependencies once per job
# (~1.5 min).
set -euo pipefail
cd "$(dirname "$0")/.."

count=2000
seed=1
jobs=1
known=(--skip-known)
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --full) count=100000; jobs=2 ;;
        --seed) seed="${2:?--seed needs a value}"; shift ;;
        --jobs) jobs="${2:?--jobs needs a value}"; shift ;;
        --all) known=() ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "difftest.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

cargo build --release -p io-model-programs
exec ./target/release/io-model-programs --seed "$seed" --count "$count" --batch 500 \
    --jobs "$jobs" --max-shrink 3 "${known[@]}" "${extra[@]}"
