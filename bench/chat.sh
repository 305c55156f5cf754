#!/usr/bin/env bash
# bench/chat.sh -- streaming POST /api/chat through lighttpd (2 workers) with the mock
# OpenAI-compatible model (first token after 200 ms, then one every 20 ms, 20 tokens) over
# the sample corpus: time to the first delta (p50, p99) and to done at 1, 10, 50, 100 and 200
# concurrent chats, the ratio of p99 at 200 to p50 at 1 (target: at most 1.2), and the
# workers' resident memory per open stream. Clients: tests/lib/sse_clients.py (one Python
# thread per chat, on the same 2 cores). Writes the "chat" section of docs/benchmarks.md.
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

dir=$(mktemp -d /tmp/lexrag-bench.XXXXXX)
trap 'lx_stop_all "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
chmod 755 "$dir"
lx_mock_start "$dir" --chat-first-token-ms 200 --chat-token-interval-ms 20 --chat-tokens 20
bench_stack_up "$dir" "$LX_ROOT/data/sample/corpus.jsonl" "$LX_ROOT/data/sample/docs.jsonl" \
    generator.kind=openai "generator.url=$LX_MOCK_URL/v1/chat/completions" \
    "chat.spool_dir=$dir/spool"

rss_kb() { # the workers' resident memory, summed
    local p t=0
    for p in $(lx_worker_pids "$dir"); do
        t=$((t + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status")))
    done
    echo "$t"
}
body='{"question": "berapa lama izin pengambilan air berlaku?", "top_k": 3}'
out="$dir/chat.md"
{
    echo "## Streaming POST /api/chat through lighttpd (issue: streaming chat)"
    echo
    echo "Command: \`bench/chat.sh\` (part of \`make bench\`). Model: the mock OpenAI-compatible"
    echo "server of tests/fakes (first token after 200 ms, then 20 tokens 20 ms apart). Sample"
    echo "corpus, top_k 3, 2 workers behind lighttpd; clients: one Python thread per chat"
    echo "(tests/lib/sse_clients.py) on the same 2 cores. Machine: $(bench_machine)."
    echo
    echo "| concurrent chats | completed | first delta p50 ms | first delta p99 ms | done p50 ms | done p99 ms |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$out"
p50_1=0
for n in 1 10 50 100 200; do
    r=$(python3 "$LX_ROOT/tests/lib/sse_clients.py" "$BENCH_URL/api/chat" "$n" "$body")
    line=$(jq -r --argjson n "$n" 'def pct(a; p): a[((a | length) * p / 100 | floor) as $i | if $i >= (a | length) then (a | length) - 1 else $i end];
        [$n, .ok, pct(.first_ms; 50), pct(.first_ms; 99), pct(.done_ms; 50), pct(.done_ms; 99)]
        | "| \(.[0]) | \(.[1]) | \(.[2] | floor) | \(.[3] | floor) | \(.[4] | floor) | \(.[5] | floor) |"' <<<"$r")
    echo "$line" >>"$out"
    echo "chat n=$n: $line"
    [ "$n" = 1 ] && p50_1=$(jq -r '.first_ms[0]' <<<"$r")
    [ "$n" = 200 ] && p99_200=$(jq -r '.first_ms as $a | $a[(($a | length) * 99 / 100 | floor)]' <<<"$r")
done
ratio=$(awk -v a="$p99_200" -v b="$p50_1" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) ? "met" : "missed" }')

# Memory per open stream: 200 long answers held open, the workers' RSS against idle.
idle=$(rss_kb)
lx_mock_control '{"chat_tokens": 400}'
python3 "$LX_ROOT/tests/lib/sse_clients.py" "$BENCH_URL/api/chat" 200 "$body" >/dev/null &
cl=$!
sleep 3
busy=$(rss_kb)
in_flight=$(curl -s "$BENCH_URL/api/health" | jq -r .in_flight)
wait "$cl" || true
per=$(awk -v a="$busy" -v b="$idle" 'BEGIN { printf "%.1f", (a - b) / 200 }')
{
    echo
    echo "Time to first delta, p99 at 200 concurrent chats over p50 at 1: **$ratio** (target at"
    echo "most 1.2: $verdict)."
    [ "$verdict" = missed ] &&
        echo "Everything here (the client threads, lighttpd, the workers, the mock) shares the machine's" &&
        echo "2 cores; compare the p50 column, which shows whether chats wait on one another, with the" &&
        echo "p99 tail, whose cause this benchmark does not isolate (client thread start-up and CPU"  &&
        echo "queueing are the suspects)."
    echo "Resident memory of the 2 workers: $idle KiB idle, $busy KiB with 200 streams open"
    echo "(one worker reported $in_flight in flight): about $per KiB per open stream."
} >>"$out"
cat "$out"
bench_record chat "$out"
