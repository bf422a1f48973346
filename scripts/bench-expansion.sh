#!/usr/bin/env bash
# How #[resumable]'s expansion grows with the function (issue: linear code
# generation), measured on generated functions of N suspension points:
#
#   1. expanded bytes per point at N = 10, 40, 160, in a straight line, in
#      a loop and nested in if/match/loop, and the time to expand 200
#      points (release build of the transform);
#   2. a dev build (`cargo build`, debug) of a crate holding one function
#      of N points in a `while` loop: wall time and peak memory of the
#      compiler, for N = 40, 80, 160.
#
#   scripts/bench-expansion.sh            # the table and the 160-point build
#   scripts/bench-expansion.sh --full     # builds at N = 40, 80 and 160
#
# Reports; asserts nothing. Needs /usr/bin/time (Debian's `time` package;
# installed when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=(160)
case "${1:-}" in
    "") ;;
    --full) sizes=(40 80 160) ;;
    *) echo "usage: $0 [--full]" >&2; exit 2 ;;
esac

if [ ! -x /usr/bin/time ]; then
    echo "installing time (for peak memory)"
    apt-get install -y -qq time >/dev/null
fi

cargo bench -q -p io-model-transform --bench growth

work="$root/target/bench-expansion"
mkdir -p "$work/src"
cat >"$work/Cargo.toml" <<TOML
[package]
name = "bench-expansion"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
io-model = { path = "$root/io-model" }

[workspace]
TOML

emit() {
    cargo bench -q -p io-model-transform --bench growth -- --emit "$1" "$2"
}

prelude='use io_model::{Completion, IOResult, Result};
pub struct Sched;
impl Sched {
    pub fn io(&self, _: u32) -> Completion { let c = Completion::new_write(|_| {}); c.complete(0); c }
    pub fn log(&self, _: u32) {}
}
'
echo
echo "dev build of one function of N points in a while loop"
printf '%-6s %10s %12s\n' "N" "seconds" "peak MB"
for n in "${sizes[@]}"; do
    { echo "$prelude"; emit loop "$n"; } >"$work/src/lib.rs"
    # Dependencies first, so that only this crate is measured.
    (cd "$work" && CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$work/target" cargo build -q 2>/dev/null || true)
    (cd "$work" && CARGO_TARGET_DIR="$work/target" cargo clean -q -p bench-expansion)
    if ! (cd "$work" && CARGO_INCREMENTAL=0 CARGO_TARGET_DIR="$work/target" \
        /usr/bin/time -o "$work/time.txt" -f '%e %M' cargo build -q); then
        echo "the $n-point function did not build" >&2
        exit 1
    fi
    out=$(tail -1 "$work/time.txt")
    secs=${out% *}
    kb=${out#* }
    printf '%-6s %10s %12d\n' "$n" "$secs" $((kb / 1024))
done
