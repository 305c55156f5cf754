#!/usr/bin/env bash
# bench/legs.sh -- the CPU legs on their own, in process (no service): BM25 (Xapian) search
# latency over the real corpus and over a 100k-unit corpus (the real one twice, the copy under
# other document ids), and the vector index (hnswlib): build time, recall@10 against exact
# search and latency, on the real corpus and on a synthetic 100k-vector index. Targets: p50
# under 2 ms for each at 100k; ANN recall@10 at least 0.95. Writes the "legs" section of
# docs/benchmarks.md.
set -euo pipefail
LX_ROOT=$(cd "$(dirname "$0")/.." && pwd)
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_ROOT LX_BUILD
# shellcheck source=lib.sh
. "$LX_ROOT/bench/lib.sh"
data=${LX_DATA:-$LX_ROOT/../shared/data}
if [ ! -f "$data/id-law-corpus.jsonl" ]; then
    echo "bench/legs.sh: $data/id-law-corpus.jsonl not found (set LX_DATA); skipped"
    exit 0
fi
dir=$(mktemp -d /tmp/lexrag-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# The 100k-unit corpus: every record twice, the copy under doc_id "<doc_id>-copy".
jq -c '., (.id |= sub("^(?<d>[^:]+)"; "\(.d)-copy") | .doc_id |= . + "-copy")' \
    "$data/id-law-corpus.jsonl" >"$dir/corpus2.jsonl"

out="$dir/legs.md"
{
    echo "## The retrieval legs in process (BM25 and ANN)"
    echo
    echo "Command: \`bench/legs.sh\` (part of \`make bench\`): \`build/bench/bm25_eval\` and"
    echo "\`build/bench/ann_eval\` on one core, no service around them. BM25: k1 0.9, b 0.75, 50 hits"
    echo "fetched per search (as the service's candidates), over the 299 development questions."
    echo "ANN: hnswlib M 16, ef_construction 200, hash embedder dim 384, recall@10 against exact"
    echo "search. Targets: p50 under 2 ms for each at 100k units; recall@10 at least 0.95."
    echo "Machine: $(bench_machine)."
    echo
    echo '```'
    echo "# BM25, real corpus"
    "$LX_BUILD/bench/bm25_eval" -d -f 50 -c "$data/id-law-corpus.jsonl" -q "$data/id-law-qa-dev.jsonl" 2>&1 |
        grep -E 'index build|units indexed|search latency'
    echo "# BM25, 100k units (the corpus twice)"
    "$LX_BUILD/bench/bm25_eval" -d -f 50 -c "$dir/corpus2.jsonl" -q "$data/id-law-qa-dev.jsonl" 2>&1 |
        grep -E 'index build|units indexed|search latency'
    echo "# ANN, real corpus and a synthetic 100k-vector index"
    "$LX_BUILD/bench/ann_eval" --corpus "$data/id-law-corpus.jsonl" --qa "$data/id-law-qa-dev.jsonl" \
        --tmp "$dir" --synthetic 100000 2>&1 | grep -vE '^(galqa|pdp|glossary|all) ' | tail -n 40
    echo '```'
} >"$out"
cat "$out"
bench_record legs "$out"
