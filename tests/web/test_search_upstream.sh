#!/usr/bin/env bash
# tests/web/test_search_upstream.sh -- POST /api/search with an OpenAI-compatible embedding
# upstream (the mock, 300 ms per call) through lighttpd, 2 workers: the legs run concurrently
# (one uncached search costs one upstream latency, not the sum of its legs; a three-part
# question costs about one latency too), 100 concurrent uncached searches finish within about
# two latency windows, a cached repeat makes no upstream call, and an embedder that fails or
# hangs degrades hybrid search to BM25 instead of failing it.
# shellcheck source-path=SCRIPTDIR
export LX_WEB_SERVERS=${LX_WEB_SERVERS:-lighttpd}
. "$(dirname "$0")/web_lib.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"
# shellcheck source=../lib/mock.sh
. "$LX_ROOT/tests/lib/mock.sh"

LAT=300
if ! lx_pg_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
    ! lx_redis_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
    ! lx_mock_start "$WEB_DIR" --dim 64 2>>"$WEB_DIR/setup.log"; then
    ok_if "start PostgreSQL, Redis and the mock upstream" 1
    web_finish
fi
lx_write_config "$WEB_DIR" log.level=info "postgres.conninfo=$LX_PG_CONNINFO" \
    "redis.port=$LX_REDIS_PORT" "index.dir=$WEB_DIR/index" index.check_ms=200 \
    embedder.kind=openai embedder.dim=64 embedder.model=mock-embed \
    "embedder.url=$LX_MOCK_URL/v1/embeddings" embedder.timeout_ms=1500 embedder.retries=0 \
    retrieval.embed_timeout_ms=2500
check "lexrag-ingest loads the sample corpus through the upstream embedder" \
    "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
    --docs "$LX_ROOT/data/sample/docs.jsonl" "$LX_ROOT/data/sample/corpus.jsonl"
web_setup 2
base=${BASE[lighttpd]}
# The workers load the indexes on their own: wait until health says so.
web_wait_index "$base"
lx_mock_control "{\"embed_latency_ms\": $LAT}"

search() { # NAME JSON
    web_req "$1" "$base/api/search" -H 'Content-Type: application/json' --data-binary "$2"
}

# One uncached search: about one upstream latency (the BM25 leg ran meanwhile).
t0=$EPOCHREALTIME
search one "{\"query\": \"izin pengambilan air $RANDOM$RANDOM\"}"
ms=$(web_ms "$t0")
diag "one uncached search: $ms ms (upstream $LAT ms)"
is "uncached search -> 200, cache miss, nothing degraded" \
    "$WEB_CODE $(jq -r '.cache.embedding + " " + (.degraded | length | tostring)' "$WEB_DIR/one.body")" "200 miss 0"
ok_if "uncached search takes about one latency ($ms ms: >= $LAT, < $((LAT * 2)))" \
    $((ms >= LAT && ms < LAT * 2 ? 0 : 1))

# A three-part question: its sub-queries are embedded in one batched call.
calls0=$(lx_mock_stat embeddings_requests)
t0=$EPOCHREALTIME
search three "{\"query\": \"apa definisi air baku $RANDOM? apa sanksi pengambilan air tanpa izin? berapa iuran pelestarian air?\"}"
ms=$(web_ms "$t0")
calls=$(($(lx_mock_stat embeddings_requests) - calls0))
diag "three-part question: $ms ms, $calls upstream call(s), sub_queries $(jq -c .sub_queries "$WEB_DIR/three.body")"
is "three-part question -> 3 sub-queries" "$(jq -r '.sub_queries | length' "$WEB_DIR/three.body")" 3
ok_if "three-part question takes about one latency, not three ($ms ms < $((LAT * 2)))" \
    $((ms < LAT * 2 ? 0 : 1))
is "three-part question: one batched upstream call" "$calls" 1

# 100 concurrent uncached searches on 2 workers: about one or two latency windows.
cfg="$WEB_DIR/par.curl"
: >"$cfg"
for i in $(seq 1 100); do
    # "next": each URL its own body (without it curl joins every data-binary into one)
    printf 'next\nurl = "%s/api/search"\nheader = "Content-Type: application/json"\ndata-binary = "{\\"query\\": \\"pemegang izin %s %s\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$base" "$i" "$RANDOM$RANDOM" >>"$cfg"
done
t0=$EPOCHREALTIME
codes=$(curl -s --parallel --parallel-immediate --parallel-max 100 -K "$cfg" | sort | uniq -c | tr -s ' ')
ms=$(web_ms "$t0")
diag "100 concurrent uncached searches: $ms ms (one after another would be $((100 * LAT)) ms); codes:$codes"
is "100 concurrent searches all 200" "$(echo "$codes" | tr -d ' ')" "100200"
ok_if "100 concurrent searches within about two latency windows ($ms ms < $((LAT * 5)))" \
    $((ms < LAT * 5 ? 0 : 1))

# A cached repeat makes no upstream call at all.
q="kewajiban pemegang izin $RANDOM$RANDOM"
search c1 "{\"query\": \"$q\"}"
sleep 0.2
calls0=$(lx_mock_stat embeddings_requests)
t0=$EPOCHREALTIME
search c2 "{\"query\": \"$q\"}"
ms=$(web_ms "$t0")
is "cached repeat: cache hit" "$(jq -r .cache.embedding "$WEB_DIR/c2.body")" hit
is "cached repeat: no upstream call" "$(($(lx_mock_stat embeddings_requests) - calls0))" 0
ok_if "cached repeat is faster than one upstream latency ($ms ms)" $((ms < LAT ? 0 : 1))

# The embedder failing: hybrid answers from BM25, dense-only fails with 503.
lx_mock_control '{"error_rate": 1.0}'
search f1 "{\"query\": \"izin pengambilan air $RANDOM$RANDOM\"}"
is "embedder failing: hybrid -> 200 degraded [dense]" \
    "$WEB_CODE $(jq -c .degraded "$WEB_DIR/f1.body")" '200 ["dense"]'
jq_ok=$(jq -r '.results | length > 0 and all(.bm25_rank != null)' "$WEB_DIR/f1.body")
is "embedder failing: results come from BM25" "$jq_ok" true
search f2 "{\"query\": \"izin pengambilan air $RANDOM$RANDOM\", \"mode\": \"dense\"}"
is "embedder failing: dense mode -> 503 unavailable" \
    "$WEB_CODE $(jq -r .error.code "$WEB_DIR/f2.body")" "503 unavailable"

# The embedder hanging: the leg deadline answers from BM25 in bounded time.
lx_mock_control '{"error_rate": 0.0, "hang": true}'
t0=$EPOCHREALTIME
search h1 "{\"query\": \"izin pengambilan air $RANDOM$RANDOM\"}"
ms=$(web_ms "$t0")
is "embedder hanging: hybrid -> 200 degraded [dense]" \
    "$WEB_CODE $(jq -c .degraded "$WEB_DIR/h1.body")" '200 ["dense"]'
ok_if "embedder hanging: answered within the deadline ($ms ms < 3000)" $((ms < 3000 ? 0 : 1))
lx_mock_control '{"hang": false}'

web_finish
