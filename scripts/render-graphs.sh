#!/usr/bin/env bash
# Renders the state graphs (`GRAPH`, Graphviz DOT) of the page store's and
# the migration examples' #[resumable] machines to docs/graphs/*.svg.
# Installs Debian's graphviz (for `dot`) where it is missing.
#
#   scripts/render-graphs.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dot >/dev/null 2>&1; then
    echo "installing graphviz"
    apt-get install -y -qq graphviz >/dev/null
fi

work=target/state-graphs
rm -rf "$work"
cargo run -q -p io-model-transform --example state_graphs -- "$work" \
    examples/src/pagestore/*.rs examples/src/migration/*.rs
mkdir -p docs/graphs
rm -f docs/graphs/*.svg
for f in "$work"/*.dot; do
    out="docs/graphs/$(basename "${f%.dot}").svg"
    dot -Tsvg "$f" -o "$out"
done
ls docs/graphs | wc -l | xargs echo "SVGs in docs/graphs:"
