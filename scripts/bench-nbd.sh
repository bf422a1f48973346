#!/usr/bin/env bash
# NbdIO on a real nbdkit over a Unix socket: read latency at queue depth 1
# and 32 against libnbd (nbdcopy) on the same export, side by side.
#
#   scripts/bench-nbd.sh           # 64 MiB export, 11 rounds (~1-2 minutes)
#   scripts/bench-nbd.sh --quick   # 8 MiB export, 3 rounds (a few seconds)
#
# Needs nbdkit (and nbdcopy/nbdinfo from libnbd-bin for the comparison);
# installs them with apt-get where they are missing and it can. Timings are
# reported, never asserted. Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

mb=64 rounds=11 random_ops=20000
case "${1:-}" in
    "") ;;
    --quick) mb=8 rounds=3 random_ops=2000 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1
    command -v "$1" >/dev/null 2>&1
}
if ! need nbdkit nbdkit; then
    echo "nbdkit is not installed and could not be: nothing to measure" >&2
    exit 0
fi
need nbdcopy libnbd-bin || echo "nbdcopy unavailable: NbdIO alone is measured"

tmp=$(mktemp -d)
nbdkit_pid=
cleanup() {
    [ -n "$nbdkit_pid" ] && kill "$nbdkit_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/exports"
head -c $((mb << 20)) /dev/urandom > "$tmp/exports/disk"
head -c 4096 /dev/urandom > "$tmp/exports/tiny"

nbdkit -f -U "$tmp/sock" file dir="$tmp/exports" &
nbdkit_pid=$!
for _ in $(seq 200); do [ -S "$tmp/sock" ] && break; sleep 0.05; done
uri="nbd+unix:///?socket=$tmp/sock"

cargo build --release -q -p io-model-backends --example bench_nbd
if command -v nbdinfo >/dev/null 2>&1; then
    echo "== the export, as nbdinfo sees it"
    nbdinfo "nbd+unix:///disk?socket=$tmp/sock" | sed -n '1,6p'
    echo
fi
echo "== read latency: NbdIO against libnbd (nbdcopy), nbdkit file plugin, Unix socket"
target/release/examples/bench_nbd --uri "$uri" --export disk --tiny tiny \
    --rounds "$rounds" --random-ops "$random_ops"
