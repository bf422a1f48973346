#!/usr/bin/env bash
# Instructions per I/O, counted by valgrind (repeatable on a noisy machine,
# unlike time): the framework floor (tests/benches/floor.rs: a raw loop, a
# completion, dyn File::pread, and the full stack of IO::block over a
# #[resumable] fn with one wait!) and cached 4 KiB reads through the
# backends (backends/examples/bench_uring.rs --profile: SyncIO, UringIO
# default and Never, at queue depth 1 and 32).
#
# Each figure runs the program for N and 2N I/Os and divides the difference
# of callgrind's totals by N, so start-up and warm-up cancel out. User-space
# instructions only: the kernel's work is not counted.
#
#   scripts/bench-instructions.sh            # N = 100000 (floor), 20000 (reads)
#   scripts/bench-instructions.sh --quick    # smaller N
#
# Installs valgrind with apt-get where it is missing (and apt-get exists).
set -euo pipefail
cd "$(dirname "$0")/.."

floor_n=100000
reads_n=20000
case "${1:-}" in
    "") ;;
    --quick) floor_n=20000 reads_n=4000 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

if ! command -v valgrind >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        apt-get install -y valgrind >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y valgrind >/dev/null 2>&1; } \
            || { echo "valgrind is missing and could not be installed" >&2; exit 1; }
    else
        echo "valgrind is missing (install it: apt-get install valgrind)" >&2
        exit 1
    fi
fi

# Collected instructions of one run of "$@".
# Callgrind's profile goes to a scratch file: given /dev/null, callgrind
# (as root) replaces the device with a regular file, which then feeds
# whatever was written to it to every later reader of /dev/null.
count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" 2>&1 \
        | sed -n 's/.*Collected : //p'
    rm -f "$out"
}

# Instructions per I/O of "$@" run with --ops N and --ops 2N; $1 is N, $2 is
# the share of N each run adds on top (the runs' own warm-up, in quarters).
per_io() {
    local n=$1 warm_quarters=$2
    shift 2
    local a b
    a=$(count "$@" --ops "$n")
    b=$(count "$@" --ops $((2 * n)))
    # The 2N run also warms up a quarter more: (2N + 2N*w/4) - (N + N*w/4).
    echo $(((b - a) * 4 / (n * (4 + warm_quarters))))
}

cargo bench -q -p io-model-tests --bench floor --no-run 2>/dev/null
floor=$(ls -t target/release/deps/floor-* | grep -v '\.d$' | head -1)
echo "framework floor (instructions per I/O):"
for v in raw completion pread stack; do
    printf '  %-12s %6d\n' "$v" "$(per_io $floor_n 0 "$floor" --only $v)"
done

cargo build -q --release -p io-model-backends --example bench_uring
bench=target/release/examples/bench_uring
if "$bench" --profile sync:1 --ops 100 --file-mb 1 >/dev/null 2>&1; then
    echo "cached 4 KiB reads (user-space instructions per read):"
    for spec in sync:1 default:1 sync:32 default:32 never:32; do
        printf '  %-12s %6d\n' "$spec" "$(per_io $reads_n 1 "$bench" --profile $spec --file-mb 16)"
    done
else
    echo "cached reads: not measured ($("$bench" --profile sync:1 --ops 100 --file-mb 1 2>&1 | tail -1))"
fi
