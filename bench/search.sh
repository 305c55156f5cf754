#!/usr/bin/env bash
# bench/search.sh -- POST /api/search through lighttpd (2 workers) over the real corpus with
# cached embeddings, measured with wrk at 1, 10, 50, 100 and 200 connections: requests per
# second, p50/p99 latency, and the workers' event-loop lag (p99 and max over the run, from
# /api/health). The 299 development questions are cycled as the queries. The ingest before it
# is timed by phase. Writes the "search" section of docs/benchmarks.md, the figures to
# bench/out/search.dat and ingest.dat, and the charts docs/img/search-latency.png,
# throughput.png (with health's figures where bench/health.sh left them) and ingest-rate.png.
set -euo pipefail
LX_ROOT=$(cd "$(dirname "$0")/.." && pwd)
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_ROOT LX_BUILD
# shellcheck source=lib.sh
. "$LX_ROOT/bench/lib.sh"
# shellcheck source=stack.sh
. "$LX_ROOT/bench/stack.sh"

data=${LX_DATA:-$LX_ROOT/../shared/data}
DURATION=${BENCH_DURATION:-8}
POINTS=${BENCH_SEARCH_POINTS:-1 10 50 100 200}
WORKERS=${BENCH_WORKERS:-2}
if [ ! -f "$data/id-law-corpus.jsonl" ]; then
    echo "bench/search.sh: $data/id-law-corpus.jsonl not found (set LX_DATA); skipped"
    exit 0
fi
dir=$(mktemp -d /tmp/lexrag-bench.XXXXXX)
trap 'lx_stop_all "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
bench_stack_up "$dir" "$data/id-law-corpus.jsonl" "$data/id-law-docs.jsonl"
units=$(grep -E '^ *units' "$dir/ingest.txt" | head -n 1 | sed 's/^ *units *//; s/ (.*//')

# The request bodies, one per line, and a wrk script that cycles through them.
jq -c '{query: .question, top_k: 10}' "$data/id-law-qa-dev.jsonl" >"$dir/bodies.txt"
cat >"$dir/cycle.lua" <<LUA
local bodies = {}
for line in io.lines("$dir/bodies.txt") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
    i = i % #bodies + 1
    return wrk.format(nil, "/api/search", nil, bodies[i])
end
LUA
# Warm the embedding cache: every question once.
while IFS= read -r b; do
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary "$b" "$BENCH_URL/api/search"
done <"$dir/bodies.txt"
hits=$(curl -s -H 'Content-Type: application/json' --data-binary "$(head -n 1 "$dir/bodies.txt")" \
    "$BENCH_URL/api/search" | jq -r .cache.embedding)

lag() { # the largest p99 and max event-loop lag either worker reports (several tries)
    local _ p99=0 max=0 h
    for _ in 1 2 3 4 5 6; do
        h=$(curl -s "$BENCH_URL/api/health")
        p99=$(jq -r --argjson a "$p99" '[.loop_lag_ms.p99, $a] | max' <<<"$h")
        max=$(jq -r --argjson a "$max" '[.loop_lag_ms.max, $a] | max' <<<"$h")
    done
    printf '%.2f | %.2f' "$p99" "$max"
}
to_ms() { # wrk prints 1.23ms, 456.00us or 1.20s
    python3 -c "import sys; v=sys.argv[1]; u={'us':1e-3,'ms':1,'s':1e3}; n=v.rstrip('mus'); print(f'{float(n)*u[v[len(n):]]:.2f}')" "$1"
}

ingest_lines=$(grep -E '^ *(units|embedded|bm25|ann|seconds|rate) ' "$dir/ingest.txt" | sed 's/^ */    /')
nunits=${units%%:*}

# The ingest's phases as units per second: each phase over the units it handled (articles,
# definitions and containers parsed and stored; the units with text embedded, indexed).
ingest_field() { # LINE-NAME: the first number after it in the summary
    awk -v k="$1" '$1 == k { sub(/:$/, "", $2); print $2; exit }' "$dir/ingest.txt"
}
phase_s() { # PHASE: its seconds from "seconds parse 0.80, database 1.30, ..."
    sed -n 's/^ *seconds *//p' "$dir/ingest.txt" | tr ',' '\n' | awk -v p="$1" '$1 == p { print $2 }'
}
bench_data ingest "phase units seconds units_per_s" "real corpus, $nunits units" \
    "lexrag-ingest load into an empty database, hash embedder (dim 384), one process"
overall=$(awk '$1 == "rate" { print $2; exit }' "$dir/ingest.txt")
for ph in parse:units database:units embed:embedded bm25:bm25 ann:ann; do
    n=$(ingest_field "${ph#*:}")
    t=$(phase_s "${ph%%:*}")
    awk -v p="${ph%%:*}" -v n="$n" -v t="$t" \
        'BEGIN { printf "%s %d %.2f %.0f\n", p, n, t, (t > 0 ? n / t : 0) }' >>"$BENCH_OUT/ingest.dat"
done
awk -v n="$nunits" -v r="$overall" 'BEGIN { printf "overall %d %.2f %.0f\n", n, (r > 0 ? n / r : 0), r }' \
    >>"$BENCH_OUT/ingest.dat"
bench_data search "connections rps p50_ms p99_ms lag_p99_ms lag_max_ms" "real corpus, $nunits units" \
    "hybrid, top_k 10, hash embedder (dim 384), embeddings cached; $WORKERS workers x 2 search threads behind lighttpd; wrk -d${DURATION}s on the same cores"
out="$dir/search.md"
{
    echo "## POST /api/search through lighttpd (issue: hybrid retrieval)"
    echo
    echo "Command: \`bench/search.sh\` (part of \`make bench\`). Real corpus ($units units), hybrid mode,"
    echo "top_k 10, the 299 development questions cycled, embeddings cached in Redis (warmed"
    echo "first: repeat lookups report cache \"$hits\"). $WORKERS workers, 2 search threads each, behind"
    echo "lighttpd; wrk -d${DURATION}s on the same 2 cores (its load counts against the figures)."
    echo "Event-loop lag: how late a 50 ms timer fires on a worker's loop, p99 and max over the"
    echo "last 60 s, read from /api/health after the run. Machine: $(bench_machine)."
    echo
    echo "Ingest of the real corpus before it (\`lexrag-ingest load\`, hash embedder, into an empty"
    echo "database): ${BENCH_INGEST_S} s in all:"
    echo
    echo "$ingest_lines"
    echo
    echo "![Units per second of each ingest phase](img/ingest-rate.png)"
    echo
    echo "Requests per second against connections: the chart of the health section, which shows"
    echo "both. Latency:"
    echo
    echo "![Search latency p50 and p99 and event-loop lag p99 against concurrent connections](img/search-latency.png)"
    echo
    echo "| connections | requests/s | p50 ms | p99 ms | errors | loop lag p99 ms | loop lag max ms |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$out"
for c in $POINTS; do
    w="$dir/wrk-$c.txt"
    threads=$((c < 2 ? 1 : 2))
    wrk -t"$threads" -c"$c" -d"${DURATION}s" --latency -s "$dir/cycle.lua" "$BENCH_URL" >"$w" 2>&1
    rps=$(awk '/^Requests\/sec/ {print $2}' "$w")
    p50=$(awk '$1 == "50%" {print $2}' "$w")
    p99=$(awk '$1 == "99%" {print $2}' "$w")
    errs=$(awk '/Non-2xx|Socket errors/ {s = s $0 "; "} END {print s ? s : "0"}' "$w")
    p50=$(to_ms "$p50")
    p99=$(to_ms "$p99")
    l=$(lag)
    printf '| %d | %.0f | %s | %s | %s | %s |\n' "$c" "$rps" "$p50" "$p99" "$errs" "$l" >>"$out"
    printf '%d %.0f %s %s %s\n' "$c" "$rps" "$p50" "$p99" "${l/ | / }" >>"$BENCH_OUT/search.dat"
    echo "search c=$c: $rps req/s, p50 $p50, p99 $p99"
done
cat "$out"
bench_record search "$out"
bench_chart search-latency throughput ingest-rate
