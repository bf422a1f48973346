#!/usr/bin/env bash
# Every benchmark of issue #11 in one run, written up as docs/benchmarks.md:
#
#   1. the framework floor: the cost of one I/O above a raw loop, and heap
#      allocations per I/O (tests/benches/floor.rs), with instruction counts
#      (scripts/bench-instructions.sh);
#   2. the backends against each other and fio (.ci/bench-backends);
#   3. generated against hand-written state machines on six shapes, state
#      sizes against async fn (tests/benches/resumable/);
#   4. the page store against SQLite (examples/benches/sqlite.rs);
#   5. the compile cost of #[resumable] (scripts/bench-compile.sh);
#   6. the page store demo as the README shows it, and the page store over
#      NBD (scripts/bench-nbd.sh; the full run only: it builds in release).
#
#   scripts/bench.sh           # the full run (~20 min on 2 cores): release
#                              # builds, writes docs/benchmarks.md
#   scripts/bench.sh --quick   # a smoke run (about a minute once built):
#                              # debug builds, tiny sizes, writes
#                              # target/bench/benchmarks-quick.md; its
#                              # figures mean nothing
#   scripts/bench.sh --report [--quick]
#                              # only write the report again from the last
#                              # run's outputs (target/bench), e.g. after
#                              # editing docs/bench-notes/
#
# Installs fio and valgrind from Debian's packages where they are missing
# (apt-get). A benchmark that cannot run (a tool missing, the kernel
# refusing io_uring or O_DIRECT) is reported as not measured, with why; the
# script fails only when a benchmark itself breaks. Timings are reported,
# never asserted, so machine noise cannot fail it.
set -euo pipefail

# All of it in a function, so that bash has read the whole script before it
# runs any of it (editing the file during a run does not disturb the run).
main() {
cd "$(dirname "$0")/.."
root=$(pwd)

quick=0 report_only=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        --report) report_only=1 ;;
        *) echo "usage: $0 [--quick] [--report]" >&2; exit 2 ;;
    esac
done

if [ "$quick" = 1 ]; then
    out="$root/target/bench/quick"
    doc="$root/target/bench/benchmarks-quick.md"
    build_profile=(--profile dev)
    bench_profile=(--profile dev)
    bin=debug
else
    out="$root/target/bench/full"
    doc="$root/docs/benchmarks.md"
    build_profile=(--release)
    bench_profile=()
    bin=release
fi
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*" >&2; }

if [ "$report_only" = 0 ]; then
# ------------------------------------------------------------------ tools
install_pkg() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if command -v apt-get >/dev/null 2>&1; then
        step "installing $pkg"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1; } || true
    fi
    command -v "$cmd" >/dev/null 2>&1
}
missing=()
install_pkg fio fio || missing+=("fio (its rows of the backend tables are left out)")
install_pkg valgrind valgrind || missing+=("valgrind (no instruction counts)")
install_pkg /usr/bin/time time || missing+=("/usr/bin/time (no compile cost)")

# ------------------------------------------------------------ the benches
# Each section's output goes to $out/NAME.txt; its status to NAME.status.
# A failed section is recorded, not fatal, so that the others still run.
failed=()
section() {
    local name=$1
    shift
    step "$name"
    local status=0
    "$@" >"$out/$name.txt" 2>"$out/$name.err" || status=$?
    echo "$status" >"$out/$name.status"
    if [ "$status" -ne 0 ]; then
        failed+=("$name")
        echo "$name failed (exit $status); last lines:" >&2
        tail -5 "$out/$name.err" >&2
    fi
    cat "$out/$name.txt" >&2
}

step "building"
cargo build -q "${build_profile[@]}" -p io-model-backends --example bench_uring
cargo bench -q "${bench_profile[@]}" -p io-model-tests --bench floor --bench resumable --no-run
# SQLite's log sync is fdatasync, as the page store's, only when it is
# built knowing fdatasync exists (the bundled build assumes fsync). The
# quick run skips the rebuild this flag causes.
if [ "$quick" = 0 ]; then
    export LIBSQLITE3_FLAGS="-DHAVE_FDATASYNC=1"
fi
cargo bench -q "${bench_profile[@]}" -p io-model-examples --bench sqlite --no-run
cargo build -q "${build_profile[@]}" -p io-model-examples --example pagestore
newest() { ls -t "$root"/target/$bin/deps/"$1"-* | grep -v '\.d$' | head -1; }
floor=$(newest floor)
resumable=$(newest resumable)
sqlite=$(newest sqlite)

if [ "$quick" = 1 ]; then
    section floor "$floor" --ops 20000 --rounds 3
    section instructions true
    section backends "$root/target/$bin/examples/bench_uring" --quick
    section resumable "$resumable" --quick --instructions --variants --shape straight --shape chain
    section sqlite "$sqlite" --quick
    section compile scripts/bench-compile.sh --quick --functions 40
    section pagestore "$root/target/$bin/examples/pagestore" --duration 1 --pages 2048
else
    section floor "$floor"
    section instructions scripts/bench-instructions.sh
    section backends .ci/bench-backends
    section resumable "$resumable" --instructions --variants
    section sqlite "$sqlite"
    section compile scripts/bench-compile.sh
    section pagestore "$root/target/$bin/examples/pagestore"
    section nbd scripts/bench-nbd.sh
fi
printf '%s\n' "${missing[@]}" >"$out/missing.txt"
fi
mapfile -t missing < <(grep . "$out/missing.txt" 2>/dev/null || true)
failed=()
for f in "$out"/*.status; do
    [ -f "$f" ] && [ "$(cat "$f")" -ne 0 ] && failed+=("$(basename "$f" .status)")
done

# ------------------------------------------------------------- the report
status_of() { cat "$out/$1.status" 2>/dev/null || echo 1; }
# Why a section has no figures, or nothing when it has.
why_missing() {
    local name=$1
    if [ "$(status_of "$name")" -ne 0 ]; then
        echo "Not measured: the run failed (exit $(status_of "$name")): \`$(tail -1 "$out/$name.err" | tr -d '`')\`"
    elif [ ! -s "$out/$name.txt" ]; then
        echo "Not measured: $(tail -1 "$out/$name.err" | tr -d '`')"
    fi
}
# The hand-written analysis of a section (docs/bench-notes/NAME.md: what
# a profile showed where a target is missed), when there is one.
notes() {
    local f="$root/docs/bench-notes/$1.md"
    if [ -f "$f" ]; then
        echo
        echo "**What the profile shows** (\`docs/bench-notes/$1.md\`, written by hand; its commit says when it was last profiled):"
        echo
        cat "$f"
    fi
}
# A section's output, fenced, or why it is missing.
fenced() {
    local why
    why=$(why_missing "$1")
    if [ -n "$why" ]; then
        echo "$why"
    else
        echo '```text'
        cat "$out/$1.txt"
        echo '```'
    fi
}
# A section's output as it is (Markdown), or why it is missing.
verbatim() {
    local why
    why=$(why_missing "$1")
    if [ -n "$why" ]; then echo "$why"; else cat "$out/$1.txt"; fi
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
cores=$(nproc 2>/dev/null || echo "?")
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || echo "?")
fs=$(findmnt -n -T "$root" -o FSTYPE,SOURCE,OPTIONS 2>/dev/null | tr -s ' ' || stat -f -c %T "$root")
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
version() { "$@" 2>/dev/null | head -1 || true; }
sqlite_version=$(grep -o 'SQLite [0-9.]*' "$out/sqlite.txt" 2>/dev/null | head -1 || true)
uring=$(grep -m1 '^io_uring' "$out/backends.txt" 2>/dev/null || echo "io_uring: see the backend section")
uring=${uring//|/\\|} # a Markdown table cell

# The figures the targets are judged on, pulled from the sections' output.
# Each prints "measured|verdict" or "not measured|why".
floor_target() {
    [ "$(status_of floor)" -eq 0 ] || { echo "not measured|the floor bench failed"; return; }
    awk '/full stack/ {
            for (i = 1; i <= NF; i++) if ($i == "ns" && $(i + 1) == "over") over = $(i - 1)
            for (i = 1; i <= NF; i++) if ($i == "allocations") allocs = $(i - 1)
        }
        END {
            if (over == "") { print "not measured|no full-stack line"; exit }
            printf "%s ns over the raw loop, %s allocations per I/O|%s\n", over, allocs,
                (over + 0 <= 15 && allocs + 0 == 0) ? "met" : "missed"
        }' "$out/floor.txt"
}
# The median ratio to reference $3 on the line of $2 in the table whose
# heading starts with $1 (bench_uring prints "1.07x SyncIO (0.78-1.43)").
backend_ratio() {
    awk -v head="$1" -v row="$2" -v ref="$3" '
        index($0, head) == 1 { on = 1; next }
        /^$/ { on = 0 }
        on && index($0, "  " row " ") == 1 {
            if (match($0, "[0-9.]+x " ref " [(]")) { s = substr($0, RSTART, RLENGTH); sub(/x .*/, "", s); print s; exit }
        }' "$out/backends.txt"
}
judge() { # value op target -> met/missed (by how much)
    awk -v v="$1" -v t="$2" 'BEGIN {
        if (v == "") { print "not measured"; exit }
        if (v + 0 >= t + 0) print "met"; else printf "missed by %.0f%%\n", (1 - v / t) * 100
    }'
}
backend_row() { # label head row ref target
    local v
    v=$(backend_ratio "$2" "$3" "$4" 2>/dev/null || true)
    if [ -z "$v" ]; then
        echo "| $1 | not measured (see the backend section) | |"
    else
        echo "| $1 | ${v}x | $(judge "$v" "$5") |"
    fi
}
resumable_rows() {
    [ "$(status_of resumable)" -eq 0 ] || { echo "| generated vs hand-written | not measured | |"; return; }
    # Time: the ratio column of the time table; instructions: of the
    # instruction table.
    awk -F'|' '
        /^#### Time per run/ { t = 1; c = 0; next }
        /^#### Instructions per run/ { t = 2; next }
        /^#### / { t = 0 }
        function trim(x) { gsub(/^ +| +$/, "", x); return x }
        function row(what, n, met, lo, lw, hi, hw) {
            if (n == 0) { printf "| generated / hand-written %s <= 1.02x | not measured | |\n", what; return }
            printf "| generated / hand-written %s <= 1.02x, 6 shapes x 2 modes | %.3fx (%s) to %.3fx (%s) | %s |\n", what, lo, lw, hi, hw, met == n ? "met" : sprintf("missed on %d of %d", n - met, n)
        }
        t == 1 && $2 ~ /[a-z]/ && $7 ~ /[0-9]/ {
            split($7, r, " "); v = r[1] + 0; w = trim($2) ", " trim($4); tn++; if (v <= 1.02) tm++
            if (tn == 1 || v > thi) { thi = v; thw = w }
            if (tn == 1 || v < tlo) { tlo = v; tlw = w }
        }
        t == 2 && $2 ~ /[a-z]/ && $6 ~ /[0-9]/ {
            v = $6 + 0; w = trim($2) ", " trim($3); in_++; if (v <= 1.02) im++
            if (in_ == 1 || v > ihi) { ihi = v; ihw = w }
            if (in_ == 1 || v < ilo) { ilo = v; ilw = w }
        }
        END {
            row("time", tn, tm, tlo, tlw, thi, thw)
            row("instructions", in_, im, ilo, ilw, ihi, ihw)
        }' "$out/resumable.txt"
    awk -F'|' '
        /^#### State sizes/ { s = 1; next }
        /^#### / { s = 0 }
        s && $2 ~ /[a-z]/ && $3 ~ /[0-9]/ {
            name = $2; gsub(/ /, "", name)
            if ($4 + 0 > $3 + 0) bigger = bigger sprintf(" %s (%d vs %d)", name, $4, $3)
            if (name == "straight") st = sprintf("%d vs %d", $4, $5)
            if (name == "chain") ch = sprintf("%d vs %d", $4, $5)
            if (name == "straight") stm = ($4 + 0 < $5 + 0)
            if (name == "chain") chm = ($4 + 0 < $5 + 0)
        }
        END {
            printf "| state size <= hand-written | %s | %s |\n", bigger == "" ? "every shape" : "larger on" bigger, bigger == "" ? "met" : "missed"
            if (st != "") printf "| state < async fn, argument held across (straight) | %s bytes | %s |\n", st, stm ? "met" : "missed"
            if (ch != "") printf "| state < async fn, nested sub-operations (chain, 3 states summed) | %s bytes | %s |\n", ch, chm ? "met" : "missed"
        }' "$out/resumable.txt"
}
sqlite_rows() {
    [ "$(status_of sqlite)" -eq 0 ] || { echo "| page store vs SQLite | not measured | |"; return; }
    awk -F'|' '
        function trim(x) { gsub(/^ +| +$/, "", x); return x }
        function verdict(v, t) { return v >= t ? "met" : sprintf("missed by %.0f%%", (1 - v / t) * 100) }
        trim($2) ~ /^[0-9]+$/ {
            k = trim($2); w = trim($3); r = trim($6) + 0
            if (w == "reads") printf "| page store reads/s >= 1x SQLite, %d in flight (one thread) | %.2fx | %s |\n", k, r, verdict(r, 1)
            else if (w ~ /shards/) printf "| page store reads/s >= 1x SQLite, %d in flight (one shard per core) | %.2fx | %s |\n", k, r, verdict(r, 1)
            else if (w ~ /^commits/ && k == 64) printf "| page store commits/s >= 2x SQLite, 64 in flight | %.2fx | %s |\n", r, verdict(r, 2)
        }' "$out/sqlite.txt"
}
compile_row() {
    [ "$(status_of compile)" -eq 0 ] || { echo "| compile cost | not measured | |"; return; }
    local ms
    ms=$(grep -o '\*\*[0-9.]* ms per function\*\*' "$out/compile.txt" | tr -dc '0-9.' || true)
    if [ -z "$ms" ]; then
        echo "| compile cost per function above hand-written | not measured ($(head -1 "$out/compile.txt")) | |"
    else
        echo "| compile cost per function above hand-written | $ms ms | $(awk -v v="$ms" 'BEGIN { if (v <= 1.4) print "met"; else printf "missed: %.1fx the target\n", v / 1.4 }') |"
    fi
}

{
    echo "# Benchmarks"
    echo
    if [ "$quick" = 1 ]; then
        echo "**A smoke run (\`scripts/bench.sh --quick\`): debug builds and tiny sizes; the figures below mean nothing.**"
        echo
    fi
    echo "Written by \`scripts/bench.sh\`$([ "$quick" = 1 ] && echo " --quick") (issue #11) at commit \`$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\` on $(date -u '+%Y-%m-%d %H:%M UTC'); do not edit by hand, run the script. The README quotes its figures from here."
    echo
    echo "## The machine"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | $cpu, $cores cores |"
    echo "| memory | $mem |"
    echo "| kernel | $(uname -sr) |"
    echo "| file system of the working directory | $fs |"
    echo "| load average at the end | $load (the machine is shared: other builds run beside these benchmarks) |"
    echo "| rustc | $(version rustc --version) |"
    echo "| gcc | $(version gcc --version) |"
    echo "| fio | $(version fio --version || echo "not installed") |"
    echo "| valgrind | $(version valgrind --version || echo "not installed") |"
    echo "| SQLite | ${sqlite_version:-not measured} (bundled by rusqlite 0.43$([ "$quick" = 0 ] && echo ", built with -DHAVE_FDATASYNC=1")) |"
    echo "| io_uring | ${uring#io_uring: } |"
    echo
    if [ ${#missing[@]} -gt 0 ]; then
        echo "Missing tools: ${missing[*]}."
        echo
    fi
    echo "## Method"
    echo
    echo "- **Side by side.** Every comparison runs its variants in one process (or one script), in alternating or rotated order, round after round; the figures are medians over the rounds, and ratios are medians of the per-round ratios, so that a slow moment of the machine hits both sides."
    echo "- **CPU time where only the CPU works.** The framework floor, cached reads and the state machines are timed in the CPU time of the thread doing the work (fio: its job's user and system time), which other processes' load does not inflate; O_DIRECT reads, appends, commits and compiles wait for the device or are whole processes, and are timed in wall-clock time."
    echo "- **Instructions.** valgrind's callgrind counts user-space instructions of one variant run alone for N and for 2N iterations; the difference over N is the count per iteration, without start-up, repeatable to the instruction."
    echo "- **Nothing is asserted.** Benchmarks report; CI runs \`--quick\` only to keep the scripts working."
    echo
    echo "## Targets"
    echo
    echo "| target (issue #11) | measured | |"
    echo "|---|---|---|"
    floor_target | awk -F'|' '{ printf "| full stack <= 15 ns per I/O over the raw loop, 0 allocations | %s | %s |\n", $1, $2 }'
    backend_row "default_io() cached reads, QD1, vs SyncIO >= 1.0x" "cached random reads, queue depth 1," "UringIO (default)" "SyncIO" 1.0
    backend_row "default_io() cached reads, QD32, vs SyncIO >= 1.1x" "cached random reads, queue depth 32," "UringIO (default)" "SyncIO" 1.1
    backend_row "default_io() cached reads, QD32, vs fio io_uring >= 1.1x" "cached random reads, queue depth 32," "UringIO (default)" "fio io_uring fixed buffers" 1.1
    backend_row "default_io() O_DIRECT, QD1, vs fio io_uring >= 1.0x" "O_DIRECT random reads, queue depth 1," "UringIO (default)" "fio io_uring fixed buffers" 1.0
    backend_row "default_io() O_DIRECT, QD32, vs fio io_uring >= 1.0x" "O_DIRECT random reads, queue depth 32," "UringIO (default)" "fio io_uring fixed buffers" 1.0
    backend_row "default_io() O_DIRECT, QD128, vs fio io_uring >= 1.0x" "O_DIRECT random reads, queue depth 128," "UringIO (default)" "fio io_uring fixed buffers" 1.0
    backend_row "appends, fdatasync every write, vs SyncIO >= 1.0x" "appends, fdatasync every 1 writes" "UringIO (default)" "SyncIO" 1.0
    backend_row "appends, fdatasync every 16 writes, vs SyncIO >= 1.0x" "appends, fdatasync every 16 writes" "UringIO (default)" "SyncIO" 1.0
    backend_row "SyncIO cached reads, QD1, vs fio psync >= 1.0x" "cached random reads, queue depth 1," "SyncIO" "fio psync" 1.0
    resumable_rows
    sqlite_rows
    compile_row
    echo
    echo "Where a target is missed, the section below says what the profile shows."
    echo
    echo "## 1. The framework floor"
    echo
    echo "\`cargo bench -p io-model-tests --bench floor\`: one read that a null file finishes inside \`pread\`, through each layer; CPU time per I/O and heap allocations per I/O (a counting allocator)."
    echo
    fenced floor
    notes floor
    echo
    if [ "$quick" = 0 ]; then
        echo "\`scripts/bench-instructions.sh\`: the same, and cached reads through the backends, in user-space instructions per I/O."
        echo
        fenced instructions
        echo
    fi
    echo "## 2. The backends against fio"
    echo
    echo "\`.ci/bench-backends\`$([ "$quick" = 1 ] && echo " --quick"): 4 KiB random reads of a cached file and with O_DIRECT, and appends with fdatasync; ratios above 1.00x are faster than the reference named."
    echo
    fenced backends
    notes backends
    echo
    echo "## 3. Generated against hand-written"
    echo
    echo "\`cargo bench -p io-model-tests --bench resumable -- --instructions --variants\`: six shapes (\`tests/benches/shapes/\`), each written by hand in Turso's style and with \`#[resumable]\`; \"finished at once\": every completion is finished when issued, \"every wait suspends\": the driver finishes them after each call. The \`async fn\` column is the size of the same function's future."
    echo
    verbatim resumable
    notes resumable
    echo
    echo "## 4. The page store against SQLite"
    echo
    echo "\`cargo bench -p io-model-examples --bench sqlite\` (its rustdoc has the setup): the same pages and operations on both; a commit returns only once it is durable on both (the page store: an fdatasync of its log covers it; SQLite: WAL with synchronous = FULL syncs the log in every commit). The page store runs on one thread; SQLite gets a thread per operation in flight, so from 8 in flight on it uses every core, which the CPU column accounts for."
    echo
    verbatim sqlite
    notes sqlite
    echo
    echo "## 5. Compile cost"
    echo
    echo "\`scripts/bench-compile.sh\`: a dev build of a crate of #[resumable] functions against the same functions written by hand (one shape: a loop with a wait, a wait after it, an \`if\` with a wait)."
    echo
    verbatim compile
    notes compile
    echo
    echo "## 6. The page store demo"
    echo
    echo "\`cargo run --release --example pagestore$([ "$quick" = 1 ] && echo " -- --duration 1 --pages 2048")\`, as the README describes it: 32 operations in flight on one thread, 80% reads, commits of 1-8 pages, then a reopen and a verification of every page; one row per backend, run one after the other. Its commits wait for fsyncs, whose latency on this shared virtual disk moves a lot from run to run."
    echo
    fenced pagestore
    if [ "$quick" = 0 ]; then
        echo
        echo "\`scripts/bench-nbd.sh\`: the page store with its files on NBD exports (nbdkit over a Unix socket) against local SyncIO in alternating runs, and NBD reads against libnbd."
        echo
        fenced nbd
    fi
} >"$doc"

step "wrote $doc"
if [ ${#failed[@]} -gt 0 ]; then
    echo "these benchmarks failed: ${failed[*]} (see $out/*.err)" >&2
    exit 1
fi
}

main "$@"
