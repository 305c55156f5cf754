#!/usr/bin/env bash
# bench/chat.sh -- streaming POST /api/chat through lighttpd (2 workers) with the mock
# OpenAI-compatible model (first token after 200 ms, then one every 20 ms, 20 tokens) over
# the sample corpus: time to the first delta (p50, p99) and to done at 1, 10, 50, 100, 150 and
# 200 concurrent chats (at low concurrency in rounds, so that each point has at least 20
# chats), the ratio of p99 at 200 to p50 at 1 (target: at most 1.2), and the workers' resident
# memory per open stream. Clients: tests/lib/sse_clients.py (one Python thread per chat, on
# the same 2 cores). Writes the "chat" section of docs/benchmarks.md, the figures to
# bench/out/chat.dat and the chart docs/img/chat-first-delta.png.
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

POINTS=${BENCH_CHAT_POINTS:-1 10 50 100 150 200}
SAMPLES=${BENCH_CHAT_SAMPLES:-20} # chats per point at least: rounds of N at once until then
WORKERS=${BENCH_WORKERS:-2}
read -r -a points <<<"$POINTS"
lo=${points[0]} hi=${points[-1]}
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
nunits=$(grep -E '^ *units' "$dir/ingest.txt" | head -n 1 | sed 's/^ *units *//; s/:.*//')
bench_data chat "chats completed first_p50_ms first_p99_ms done_p50_ms done_p99_ms worker_first_p50_ms worker_first_p99_ms" \
    "sample corpus, $nunits units" \
    "$WORKERS workers behind lighttpd, top_k 3; generator: mock OpenAI-compatible model (first token after 200 ms, 20 tokens 20 ms apart); hash embedder; clients: Python threads on the same cores"
out="$dir/chat.md"
{
    echo "## Streaming POST /api/chat through lighttpd (issue: streaming chat)"
    echo
    echo "Command: \`bench/chat.sh\` (part of \`make bench\`). Model: the mock OpenAI-compatible"
    echo "server of tests/fakes (first token after 200 ms, then 20 tokens 20 ms apart). Sample"
    echo "corpus, top_k 3, $WORKERS workers behind lighttpd; clients: one Python thread per chat"
    echo "(tests/lib/sse_clients.py) on the same 2 cores. Below $SAMPLES concurrent chats, the chats run in"
    echo "rounds until there are at least $SAMPLES (one chat: $SAMPLES in a row). Machine: $(bench_machine)."
    echo
    echo "![Time to first delta, p50 and p99, against concurrent streaming chats](img/chat-first-delta.png)"
    echo
    echo "The first-delta and done columns are what the clients saw; the worker columns are the"
    echo "workers' own first_token time (\`timings_ms\` of each done event), from the request's arrival"
    echo "at the worker to its first delta sent, without the clients' and lighttpd's share."
    echo
    echo "| concurrent chats | rounds | completed | first delta p50 ms | first delta p99 ms | done p50 ms | done p99 ms | worker first token p50 ms | worker first token p99 ms |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$out"
# shellcheck disable=SC2016 # jq's $i, not the shell's
pct='def pct(a; p): if (a | length) == 0 then 0 else a[((a | length) * p / 100 | floor) as $i
    | if $i >= (a | length) then (a | length) - 1 else $i end] end;'
for n in "${points[@]}"; do
    rounds=$(((SAMPLES + n - 1) / n))
    : >"$dir/chat-$n.json"
    for _ in $(seq 1 "$rounds"); do
        python3 "$LX_ROOT/tests/lib/sse_clients.py" "$BENCH_URL/api/chat" "$n" "$body" >>"$dir/chat-$n.json"
    done
    r=$(jq -s -c '{rounds: length, n: (map(.n) | add), ok: (map(.ok) | add),
        first_ms: (map(.first_ms[]) | sort), done_ms: (map(.done_ms[]) | sort),
        server_first_ms: (map(.server_first_ms // [] | .[]) | sort),
        errors: (map(.errors[]) | .[:5])}' "$dir/chat-$n.json")
    row=$(jq -r --argjson c "$n" "$pct"'[$c, .ok, (pct(.first_ms; 50), pct(.first_ms; 99), pct(.done_ms; 50),
        pct(.done_ms; 99), pct(.server_first_ms; 50), pct(.server_first_ms; 99) | floor)]
        | map(tostring) | join(" ")' <<<"$r")
    echo "$row" >>"$BENCH_OUT/chat.dat"
    read -r _ ok f50 f99 d50 d99 w50 w99 <<<"$row"
    line="| $n | $rounds | $ok of $(jq -r .n <<<"$r") | $f50 | $f99 | $d50 | $d99 | $w50 | $w99 |"
    echo "$line" >>"$out"
    echo "chat n=$n: $line $(jq -c .errors <<<"$r")"
    [ "$n" = "$lo" ] && p50_lo=$(jq -r "$pct"'pct(.first_ms; 50)' <<<"$r")
    if [ "$n" = "$hi" ]; then
        p99_hi=$(jq -r "$pct"'pct(.first_ms; 99)' <<<"$r")
        # chats whose first token came late by the workers' own clock (over 1.5x one chat's)
        late=$(jq -r --argjson lim "$(awk -v a="$p50_lo" 'BEGIN { print 1.5 * a }')" \
            '[.server_first_ms[] | select(. > $lim)] | length' <<<"$r")
    fi
done
ratio=$(awk -v a="$p99_hi" -v b="$p50_lo" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) ? "met" : "missed" }')

# The workers' connection cap per upstream host, where the source still states it.
cap=$(sed -n 's/.*CURLMOPT_MAX_HOST_CONNECTIONS, *\([0-9][0-9]*\)L*).*/\1/p' \
    "$LX_ROOT/shared/up_multi.c" 2>/dev/null | head -n 1)

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
    echo "Time to first delta, p99 at $hi concurrent chats over p50 at $lo: **$ratio** (target at"
    echo "most 1.2: $verdict)."
    if [ "$verdict" = missed ]; then
        echo "At $hi chats, $late of them had their first token more than 1.5 times one chat's p50"
        echo "late by the workers' own clock, so the tail is on the service's side, not the clients'."
        if [ -n "$cap" ] && [ $((hi - WORKERS * cap)) -gt 0 ]; then
            echo "Each worker opens at most $cap connections to one upstream host"
            echo "(CURLMOPT_MAX_HOST_CONNECTIONS in shared/up_multi.c): beyond $((WORKERS * cap)) concurrent chats"
            echo "($WORKERS workers), a chat waits for another's model stream to end; $((hi - WORKERS * cap)) of $hi would wait."
        fi
    fi
    echo "Resident memory of the $WORKERS workers: $idle KiB idle, $busy KiB with 200 streams open"
    echo "(one worker reported $in_flight in flight): about $per KiB per open stream."
} >>"$out"
cat "$out"
bench_record chat "$out"
bench_chart chat-first-delta
