#!/usr/bin/env bash
# Runs io-model-lint over a checkout of tursodatabase/turso: its `core` at
# HEAD, and each re-entrancy fix listed in lint/scripts/turso-fixes.txt at
# the fix's parent and at the fix, reporting whether the lint flags the
# parent at the lines the fix changed and leaves the fix clean there.
#
#   lint/scripts/turso-history.sh PATH-TO-TURSO-CHECKOUT [OUT-DIR]
#
# It reads the checkout with `git archive` (the checkout is not modified),
# builds and runs only this repository's lint, and never builds Turso. Not
# run by CI. Needs git, tar and python3. OUT-DIR (default: a temporary
# directory) keeps the JSON of every run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
turso="${1:?usage: $0 PATH-TO-TURSO-CHECKOUT [OUT-DIR]}"
out="${2:-$(mktemp -d)}"
mkdir -p "$out"
git -C "$turso" rev-parse --git-dir >/dev/null 2>&1 || { echo "$turso is not a git checkout" >&2; exit 2; }

cargo build --release -q -p io-model-lint --manifest-path "$repo/Cargo.toml"
lint="$repo/target/release/io-model-lint"

# Extracts PATHS of COMMIT into DIR.
extract() {
    local commit=$1 dir=$2; shift 2
    rm -rf "$dir"; mkdir -p "$dir"
    git -C "$turso" archive "$commit" "$@" 2>/dev/null | tar -x -C "$dir" 2>/dev/null || true
}

head=$(git -C "$turso" rev-parse HEAD)
echo "== HEAD $head: core/"
extract "$head" "$out/head" core
"$lint" --quiet --format json "$out/head/core" > "$out/head.json" || true
python3 - "$out/head.json" "$out/head/" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1])); root = sys.argv[2]
fs = d["findings"]
print(f"files {d['files']}, functions analysed {d['functions']}, findings {len(fs)}, errors {len(d['errors'])}")
for k, n in collections.Counter(f["kind"] for f in fs).most_common():
    print(f"  {k:14} {n}")
print(f"  in {len({f['function'] for f in fs})} functions of {len({f['path'] for f in fs})} files")
for f in fs:
    print(f"  {f['path'].replace(root, '')}:{f['line']}: [{f['kind']}] {f['function']}: {f['message'][:150]}")
PY

echo
echo "== fixes (lint/scripts/turso-fixes.txt)"
printf '%-10s %-8s %-9s %s\n' commit parent fix subject
grep -v '^\s*#' "$here/turso-fixes.txt" | grep -v '^\s*$' | while read -r sha _rest; do
    files=$(git -C "$turso" diff --name-only "$sha^" "$sha" -- 'core/*.rs' | tr '\n' ' ')
    [ -n "$files" ] || { echo "$sha: no core/*.rs change"; continue; }
    # shellcheck disable=SC2086
    extract "$sha^" "$out/$sha-parent" $files
    # shellcheck disable=SC2086
    extract "$sha" "$out/$sha-fix" $files
    # The lint indexes types and signatures of the files it is given; give
    # it all of core so that types declared elsewhere are known.
    extract "$sha^" "$out/$sha-parent-all" core
    extract "$sha" "$out/$sha-fix-all" core
    "$lint" --quiet --format json "$out/$sha-parent-all/core" > "$out/$sha-parent.json" || true
    "$lint" --quiet --format json "$out/$sha-fix-all/core" > "$out/$sha-fix.json" || true
    git -C "$turso" diff -U0 "$sha^" "$sha" -- $files > "$out/$sha.diff"
    python3 - "$out" "$sha" "$(git -C "$turso" log -1 --format=%s "$sha")" <<'PY'
import json, re, sys
out, sha, subject = sys.argv[1:4]
old, new = {}, {}
cur = None
for line in open(f"{out}/{sha}.diff"):
    if line.startswith("+++ b/"):
        cur = line[6:].strip()
    m = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line)
    if m and cur:
        a, b = int(m[1]), int(m[2] or 1)
        c, d = int(m[3]), int(m[4] or 1)
        # A pure insertion changes the code around it: count the line before.
        old.setdefault(cur, set()).update(range(a, a + max(b, 1)) if b else {a})
        new.setdefault(cur, set()).update(range(c, c + max(d, 1)) if d else {c})
def hits(side, lines):
    # A finding is at the fixed lines when it, or the yield it names, is
    # within two lines of a line the fix changed.
    d = json.load(open(f"{out}/{sha}-{side}.json"))
    res = []
    for f in d["findings"]:
        rel = f["path"].split(f"{sha}-{side}-all/", 1)[-1]
        changed = lines.get(rel, set())
        near = lambda n: any(abs(n - c) <= 2 for c in changed)
        y = (f.get("yield") or {}).get("line")
        if near(f["line"]) or (y is not None and near(y)):
            res.append(f"{rel}:{f['line']} [{f['kind']}] {f['function']}" + (f" (yield {y})" if y else ""))
    return res
p, f = hits("parent", old), hits("fix", new)
print(f"{sha[:10]} {'FLAGGED' if p else 'missed':8} {'clean' if not f else 'FLAGGED':9} {subject[:70]}")
for h in p: print(f"    parent: {h}")
for h in f: print(f"    fix:    {h}")
PY
done
echo
echo "JSON of every run: $out"
