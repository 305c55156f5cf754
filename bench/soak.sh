#!/usr/bin/env bash
# bench/soak.sh -- `make bench-soak`: mixed search (70%) and streamed chat (30%) from 100
# concurrent clients for 10 minutes (SOAK_SECONDS, SOAK_CLIENTS) through lighttpd to 2 workers,
# with the embedding upstream (the mock of tests/fakes) failing 10% of its calls and the chat
# model streaming 20 tokens 20 ms apart. Reports requests served, errors by kind, degraded
# answers, p50/p99 latency, and the workers' memory at start and end (sampled every 30 s into
# bench/out/soak-rss.dat). Writes the "soak" section of docs/benchmarks.md.
set -euo pipefail
LX_ROOT=$(cd "$(dirname "$0")/.." && pwd)
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_ROOT LX_BUILD
# shellcheck source=lib.sh
. "$LX_ROOT/bench/lib.sh"
# shellcheck source=stack.sh
. "$LX_ROOT/bench/stack.sh"
# shellcheck source=../tests/lib/mock.sh
. "$LX_ROOT/tests/lib/mock.sh"

SECS=${SOAK_SECONDS:-600}
CLIENTS=${SOAK_CLIENTS:-100}
WORKERS=${BENCH_WORKERS:-2}
dir=$(mktemp -d /tmp/lexrag-soak.XXXXXX)
trap 'lx_stop_all "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
chmod 755 "$dir"
lx_mock_start "$dir" --dim 64 --chat-first-token-ms 200 --chat-token-interval-ms 20 \
    --chat-tokens 20
bench_stack_up "$dir" "$LX_ROOT/data/sample/corpus.jsonl" "$LX_ROOT/data/sample/docs.jsonl" \
    embedder.kind=openai embedder.dim=64 embedder.model=mock-embed \
    "embedder.url=$LX_MOCK_URL/v1/embeddings" embedder.retries=0 \
    generator.kind=openai "generator.url=$LX_MOCK_URL/v1/chat/completions" \
    "chat.spool_dir=$dir/spool" server.max_in_flight=1024
lx_mock_control '{"error_rate_embeddings": 0.1, "embed_latency_ms": 30}'

rss_kb() { # the workers' resident memory, summed
    local p t=0
    for p in $(lx_worker_pids "$dir"); do
        t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
    done
    echo "$t"
}
pids0=$(lx_worker_pids "$dir" | sort | paste -sd ' ' -)
# Warm up (caches, connections, allocator) so that the start figure is the steady state's.
python3 "$LX_ROOT/bench/soak_clients.py" "$BENCH_URL" 20 10 >/dev/null
rss0=$(rss_kb)
bench_data soak-rss "seconds worker_rss_mib" "sample corpus" \
    "$WORKERS workers, $CLIENTS clients (70% search, 30% chat), embedder failing 10%"
python3 "$LX_ROOT/bench/soak_clients.py" "$BENCH_URL" "$CLIENTS" "$SECS" >"$dir/soak.json" &
load=$!
t0=$SECONDS
while kill -0 "$load" 2>/dev/null; do
    echo "$((SECONDS - t0)) $(awk -v k="$(rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')" \
        >>"$BENCH_OUT/soak-rss.dat"
    for _ in $(seq 1 30); do kill -0 "$load" 2>/dev/null && sleep 1; done
done
wait "$load"
rss1=$(rss_kb)
# The first sample under the full load (30 s in): the start figure is at the warm-up's 20 clients.
rss30=$(awk '!/^#/ && $1 >= 30 { print $2; exit }' "$BENCH_OUT/soak-rss.dat")
pids1=$(lx_worker_pids "$dir" | sort | paste -sd ' ' -)
calls=$(lx_mock_stat embeddings_requests)
spool=$(find "$dir/spool" -type f 2>/dev/null | wc -l)
cat "$dir/soak.json"
j() { jq -r "$1" "$dir/soak.json"; }
out="$dir/soak.md"
{
    echo "## Soak: mixed search and chat, embedder failing 10% (issue: hardening)"
    echo
    echo "Command: \`make bench-soak\` (bench/soak.sh; SOAK_SECONDS=$SECS, SOAK_CLIENTS=$CLIENTS). $CLIENTS clients"
    echo "(bench/soak_clients.py, Python threads on the same cores) each loop: a search (70%) or a"
    echo "streamed chat read to its end (30%), with varied questions so that most embeddings miss the"
    echo "cache. $WORKERS workers behind lighttpd, sample corpus; the mock upstream's embeddings fail 10%"
    echo "of calls (HTTP 500, 30 ms latency), its chat model streams 20 tokens 20 ms apart after"
    echo "200 ms. Machine: $(bench_machine)."
    echo
    echo "| figure | value |"
    echo "| --- | ---: |"
    echo "| duration | $(j .seconds) s |"
    echo "| searches served | $(j .served.search) |"
    echo "| chats served (streamed to done) | $(j .served.chat) |"
    echo "| requests/s | $(j .rps) |"
    echo "| errors by kind | $(j '.errors | if length == 0 then "none" else to_entries | map("\(.key) \(.value)") | join(", ") end') |"
    echo "| degraded answers (leg: count) | $(j '.degraded | if length == 0 then "none" else to_entries | map("\(.key) \(.value)") | join(", ") end') |"
    echo "| search latency p50 / p99 | $(j .search_ms.p50) / $(j .search_ms.p99) ms |"
    echo "| chat first delta p50 / p99 | $(j .chat_first_ms.p50) / $(j .chat_first_ms.p99) ms |"
    echo "| chat done p50 / p99 | $(j .chat_done_ms.p50) / $(j .chat_done_ms.p99) ms |"
    echo "| embedding calls made upstream | $calls |"
    echo "| worker memory (RSS, both workers): start / 30 s in / end | $((rss0 / 1024)) / ${rss30:-?} / $((rss1 / 1024)) MiB |"
    echo "| worker processes restarted | $([ "$pids0" = "$pids1" ] && echo none || echo "yes ($pids0 -> $pids1)") |"
    echo "| exchanges left in the spool | $spool |"
    echo
    echo "A failed embedding call degrades that search to BM25 (\`degraded: [\"dense\"]\`) or, for a chat,"
    echo "retrieves from BM25 alone; it is not an error. The worker memory over the run is in"
    echo "bench/out/soak-rss.dat (every 30 s). The start figure is taken after a warm-up of 20"
    echo "clients; growth over the run shows between the 30 s and the end figures."
} >"$out"
bench_record soak "$out"
echo "bench/soak.sh: recorded in docs/benchmarks.md"
