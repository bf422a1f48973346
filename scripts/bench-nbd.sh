#!/usr/bin/env bash
# NbdIO on a real nbdkit over a Unix socket, side by side in one run:
#  1. the page store's ops/s with its files on NBD exports (--backend nbd)
#     against local SyncIO (--backend sync), alternating runs, medians;
#  2. read latency at queue depth 1 and 32 against libnbd (nbdcopy) on the
#     same export.
#
#   scripts/bench-nbd.sh           # 5 page-store rounds of 5 s each; 64 MiB
#                                  # export, 11 read rounds (~3 minutes)
#   scripts/bench-nbd.sh --quick   # 2 rounds of 1 s; 8 MiB, 3 rounds (~15 s)
#
# Needs nbdkit (and nbdcopy/nbdinfo from libnbd-bin for the comparison);
# installs them with apt-get where they are missing and it can. Timings are
# reported, never asserted. Not part of .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

mb=64 rounds=11 random_ops=20000 ps_rounds=5 ps_secs=5
case "${1:-}" in
    "") ;;
    --quick) mb=8 rounds=3 random_ops=2000 ps_rounds=2 ps_secs=1 ;;
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
cargo build --release -q -p io-model-examples --example pagestore

# 1. The page store: 16384 pages (64 MiB), a log of 2 x 8192 frames; its
# NBD exports are made at their size (an export cannot grow), beside the
# local database on the same file system.
truncate -s $(((1 + 16384) * 4096)) "$tmp/exports/shard-0.db"
truncate -s $((2 * (1 + 8192) * 4096)) "$tmp/exports/shard-0.wal"
mkdir "$tmp/local"
ops() { awk 'NR == 2 { print $2 }'; }
sync_ops=() nbd_ops=()
echo "== page store ops/s: --backend nbd (Unix socket) against --backend sync, $ps_rounds alternating runs of $ps_secs s"
for r in $(seq "$ps_rounds"); do
    s=$(target/release/examples/pagestore --backend sync --path "$tmp/local" --duration "$ps_secs" 2>/dev/null | ops)
    n=$(target/release/examples/pagestore --backend nbd --nbd "$uri" --duration "$ps_secs" 2>/dev/null | ops)
    echo "  round $r: sync $s ops/s, nbd $n ops/s"
    sync_ops+=("$s") nbd_ops+=("$n")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratios=()
for i in "${!sync_ops[@]}"; do
    ratios+=("$(awk -v n="${nbd_ops[$i]}" -v s="${sync_ops[$i]}" 'BEGIN { printf "%.2f", n / s }')")
done
echo "  median: sync $(median "${sync_ops[@]}") ops/s, nbd $(median "${nbd_ops[@]}") ops/s; nbd/sync per round: ${ratios[*]} (median $(median "${ratios[@]}"))"
echo

# 2. Reads.
if command -v nbdinfo >/dev/null 2>&1; then
    echo "== the export, as nbdinfo sees it"
    nbdinfo "nbd+unix:///disk?socket=$tmp/sock" | sed -n '1,6p'
    echo
fi
echo "== read latency: NbdIO against libnbd (nbdcopy), nbdkit file plugin, Unix socket"
target/release/examples/bench_nbd --uri "$uri" --export disk --tiny tiny \
    --rounds "$rounds" --random-ops "$random_ops"
