#!/usr/bin/env bash
# Compile cost of #[resumable] (issue #11 part 5): a dev build of a crate of
# N #[resumable] functions against a dev build of the same N written by hand
# in Turso's style (an enum per function and a `loop { match state }`).
#
# Every function is the same shape, numbered: a `while` loop with a wait in
# it, a wait after it, and an `if` holding a third wait (3 suspension
# points, 3 locals held across them). The hand-written machine has a state
# per suspension point and derives Default; the generated one also carries
# what the attribute adds (Debug, name(), is_idle(), cancel(), GRAPH).
#
# Both crates depend only on io-model; their dependencies are built first,
# then each crate is rebuilt alone (`cargo clean -p`), in alternating
# rounds, with CARGO_INCREMENTAL=0. Reports the median wall and CPU (user +
# sys) time of each and the difference per function. Asserts nothing.
#
#   scripts/bench-compile.sh            # N = 200, 5 rounds
#   scripts/bench-compile.sh --quick    # N = 200, 1 round
#   scripts/bench-compile.sh --rounds R --functions N
#
# Needs /usr/bin/time (Debian's `time`; installed when missing and apt-get
# can). Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

n=200 rounds=5
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) rounds=1 ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --functions) n=${2:?--functions needs a number}; shift ;;
        *) echo "usage: $0 [--quick] [--rounds R] [--functions N]" >&2; exit 2 ;;
    esac
    shift
done
case "$n$rounds" in
    *[!0-9]*) echo "$0: --rounds and --functions take positive integers" >&2; exit 2 ;;
esac
if [ "$n" -lt 1 ] || [ "$rounds" -lt 1 ]; then
    echo "$0: --rounds and --functions take positive integers" >&2
    exit 2
fi

if [ ! -x /usr/bin/time ]; then
    if command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 || true
    fi
    if [ ! -x /usr/bin/time ]; then
        echo "Not measured: /usr/bin/time is missing and could not be installed."
        exit 0
    fi
fi

work="$root/target/bench-compile"
mkdir -p "$work"

prelude='#![allow(clippy::all, dead_code)]
use io_model::{Completion, IOResult, Result};

/// Where the functions do their I/O.
pub struct Sched;

impl Sched {
    pub fn io(&self, _: u32) -> Completion {
        let c = Completion::new_write(|_| {});
        c.complete(0);
        c
    }
    pub fn value(&self, i: u32) -> u64 {
        u64::from(i) * 3
    }
}
'

generated_fn() {
    local i=$1
    cat <<RS
#[io_model::resumable(state = st)]
pub fn op_$i(st: &mut Op${i}State, s: &Sched, n: u32) -> Result<IOResult<u64>> {
    let mut sum: u64 = $i;
    let mut k: u32 = 0;
    while k < n {
        let c = s.io(k);
        wait!(c);
        sum += s.value(k);
        k += 1;
    }
    let a = s.io(n);
    wait!(a);
    if sum % 2 == 0 {
        let b = s.io(n + 1);
        wait!(b);
        sum += 1;
    }
    Ok(IOResult::Done(sum))
}

RS
}

hand_fn() {
    local i=$1
    cat <<RS
#[derive(Default)]
pub enum Op${i}State {
    #[default]
    Start,
    Looping { k: u32, sum: u64, c: Completion },
    After { sum: u64, c: Completion },
    Even { sum: u64, c: Completion },
}

pub fn op_$i(st: &mut Op${i}State, s: &Sched, n: u32) -> Result<IOResult<u64>> {
    loop {
        match st {
            Op${i}State::Start => {
                let sum: u64 = $i;
                if 0 < n {
                    let c = s.io(0);
                    *st = Op${i}State::Looping { k: 0, sum, c };
                } else {
                    let c = s.io(n);
                    *st = Op${i}State::After { sum, c };
                }
            }
            Op${i}State::Looping { k, sum, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = Op${i}State::Start;
                    return Err(e.into());
                }
                *sum += s.value(*k);
                *k += 1;
                if *k < n {
                    *c = s.io(*k);
                    continue;
                }
                let sum = *sum;
                let c = s.io(n);
                *st = Op${i}State::After { sum, c };
            }
            Op${i}State::After { sum, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = Op${i}State::Start;
                    return Err(e.into());
                }
                let sum = *sum;
                if sum % 2 == 0 {
                    let c = s.io(n + 1);
                    *st = Op${i}State::Even { sum, c };
                } else {
                    *st = Op${i}State::Start;
                    return Ok(IOResult::Done(sum));
                }
            }
            Op${i}State::Even { sum, c } => {
                if !c.finished() {
                    io_yield_one!(c.clone());
                }
                if let Some(e) = c.get_error() {
                    *st = Op${i}State::Start;
                    return Err(e.into());
                }
                let sum = *sum + 1;
                *st = Op${i}State::Start;
                return Ok(IOResult::Done(sum));
            }
        }
    }
}

RS
}

# A check that the two agree, compiled into each crate's tests (not built
# here; `cargo test` in the directory runs it).
check_fn() {
    cat <<'RS'
#[cfg(test)]
mod tests {
    #[test]
    fn op_0_sums() {
        let mut st = super::Op0State::default();
        let r = match super::op_0(&mut st, &super::Sched, 3).unwrap() {
            io_model::IOResult::Done(v) => v,
            io_model::IOResult::IO(_) => unreachable!("every completion is finished"),
        };
        assert_eq!(r, 0 + 3 + 6 + 1);
    }
}
RS
}

make_crate() {
    local kind=$1 dir="$work/$1"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<TOML
[package]
name = "bench-compile-$kind"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
io-model = { path = "$root/io-model" }

[workspace]
TOML
    {
        echo "$prelude"
        [ "$kind" = hand ] && echo 'use io_model::io_yield_one;'
        for i in $(seq 0 $((n - 1))); do
            "${kind}_fn" "$i"
        done
        check_fn
    } >"$dir/src/lib.rs"
}

make_crate generated
make_crate hand
# Both crates build in the workspace's target directory with its lock
# file, so that the dependencies the workspace has built are reused.
cp Cargo.lock "$work/hand/Cargo.lock"
cp Cargo.lock "$work/generated/Cargo.lock"
export CARGO_TARGET_DIR="$root/target" CARGO_INCREMENTAL=0
for kind in hand generated; do
    (cd "$work/$kind" && cargo build -q) || { echo "the $kind crate did not build" >&2; exit 1; }
done

# One timed build of a crate alone: "wall cpu" in seconds.
timed() {
    local kind=$1
    (cd "$work/$kind" && cargo clean -q -p "bench-compile-$kind")
    (cd "$work/$kind" && /usr/bin/time -o "$work/time.txt" -f '%e %U %S' cargo build -q)
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$work/time.txt"
}

hw=() hc=() gw=() gc=()
for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order="hand generated"; else order="generated hand"; fi
    for kind in $order; do
        read -r w c < <(timed "$kind")
        if [ "$kind" = hand ]; then hw+=("$w") hc+=("$c"); else gw+=("$w") gc+=("$c"); fi
    done
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mhw=$(median "${hw[@]}") mhc=$(median "${hc[@]}") mgw=$(median "${gw[@]}") mgc=$(median "${gc[@]}")
hand_lines=$(wc -l <"$work/hand/src/lib.rs") gen_lines=$(wc -l <"$work/generated/src/lib.rs")

echo "Dev build (\`cargo build\`, debug, CARGO_INCREMENTAL=0) of one crate of $n functions, io-model prebuilt; median of $rounds alternating round(s)."
echo
echo "| crate | source lines | wall s | CPU s (user + sys) |"
echo "|---|---:|---:|---:|"
echo "| hand-written | $hand_lines | $mhw | $mhc |"
echo "| \`#[resumable]\` | $gen_lines | $mgw | $mgc |"
echo
awk -v n="$n" -v hw="$mhw" -v gw="$mgw" -v hc="$mhc" -v gc="$mgc" 'BEGIN {
    printf "Above the hand-written build: **%.2f ms per function** wall, %.2f ms per function CPU (target: <= 1.4 ms).\n",
        (gw - hw) * 1000 / n, (gc - hc) * 1000 / n
}'
echo
echo "Per round (wall s): hand ${hw[*]}; generated ${gw[*]}."
