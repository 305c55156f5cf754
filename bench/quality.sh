#!/usr/bin/env bash
# bench/quality.sh -- `make bench-quality`: retrieval quality of POST /api/search over the real
# corpus (../shared/data) with the built-in hash embedder: Recall@1/5/10 and MRR@10, overall
# and per question set, for the hybrid, bm25 and dense modes. Writes the "quality" section of
# docs/benchmarks.md. Starts and stops everything it needs on loopback.
set -euo pipefail
LX_ROOT=$(cd "$(dirname "$0")/.." && pwd)
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_ROOT LX_BUILD
# shellcheck source=lib.sh
. "$LX_ROOT/bench/lib.sh"
# shellcheck source=stack.sh
. "$LX_ROOT/bench/stack.sh"

data=${LX_DATA:-$LX_ROOT/../shared/data}
if [ ! -f "$data/id-law-corpus.jsonl" ]; then
    echo "bench/quality.sh: $data/id-law-corpus.jsonl not found (set LX_DATA); skipped"
    exit 0
fi
dir=$(mktemp -d /tmp/lexrag-bench.XXXXXX)
trap 'lx_stop_all "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
bench_stack_up "$dir" "$data/id-law-corpus.jsonl" "$data/id-law-docs.jsonl"
units=$(grep -E '^ *units' "$dir/ingest.txt" | head -n 1 | sed 's/^ *units *//; s/ (.*//')
python3 "$LX_ROOT/bench/eval_search.py" "$BENCH_URL" "$data/id-law-qa-dev.jsonl" --out "$dir/q.md"

out="$dir/quality.md"
{
    echo "## Retrieval quality (POST /api/search, real corpus)"
    echo
    echo "Command: \`make bench-quality\` (bench/quality.sh). Corpus: ../shared/data/id-law-corpus.jsonl"
    echo "($units units), questions: id-law-qa-dev.jsonl (299). Built-in hash embedder"
    echo "(dim 384), BM25 k1 0.9 b 0.75, fusion rrf_k 10, weights bm25 1.0 / dense 0.2 (the"
    echo "defaults), top_k 10. Machine: $(bench_machine)."
    echo
    echo "Reference point (plain BM25, from the data's README): Recall@10 0.739, MRR@10 0.557;"
    echo "definitions (glossary) 0.300 / 0.110. Target for hybrid: Recall@10 >= 0.82, MRR@10 >= 0.65,"
    echo "glossary >= 0.6 / 0.4."
    echo
    cat "$dir/q.md"
} >"$out"
cat "$out"
bench_record quality "$out"
