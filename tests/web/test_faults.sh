#!/usr/bin/env bash
# tests/web/test_faults.sh -- the service under faults, through lighttpd with 2 workers, real
# PostgreSQL and Redis and the mock model (embeddings and chat):
#   - the embedding upstream hangs: searches answer from BM25 within the embedding deadline;
#     after breaker.failures timeouts the embedder's circuit opens and the mock sees no more
#     calls; health and metrics say so; once the upstream is back a probe closes the circuit;
#   - the chat model fails: the generator's circuit opens and chat falls back to the built-in
#     generator (the retrieval event says "degraded": ["generator"]); a model that sends no
#     first token in time ends the stream with an error event;
#   - Redis stopped and started under load: no request fails; the cache comes back;
#   - PostgreSQL stopped under load: requests that need it get 503 fast, and succeed again once
#     it is back, with the same worker processes;
#   - over server.max_in_flight: 503 at once with Retry-After;
#   - the model's stream is paused (not buffered) while a client does not read.
# shellcheck source-path=SCRIPTDIR
export LX_WEB_SERVERS=${LX_WEB_SERVERS:-lighttpd}
. "$(dirname "$0")/web_lib.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"
# shellcheck source=../lib/mock.sh
. "$LX_ROOT/tests/lib/mock.sh"

if ! lx_pg_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
    ! lx_redis_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
    ! lx_mock_start "$WEB_DIR" --dim 64 --chat-first-token-ms 50 --chat-token-interval-ms 5 \
        --chat-tokens 20 2>>"$WEB_DIR/setup.log"; then
    ok_if "start PostgreSQL, Redis and the mock upstream" 1
    web_finish
fi
EMBED_DEADLINE=400
lx_write_config "$WEB_DIR" log.level=info "postgres.conninfo=$LX_PG_CONNINFO" \
    "redis.port=$LX_REDIS_PORT" "index.dir=$WEB_DIR/index" index.check_ms=200 \
    "chat.spool_dir=$WEB_DIR/spool" postgres.timeout_ms=1000 \
    embedder.kind=openai embedder.dim=64 embedder.model=mock-embed \
    "embedder.url=$LX_MOCK_URL/v1/embeddings" embedder.timeout_ms=10000 embedder.retries=0 \
    "retrieval.embed_timeout_ms=$EMBED_DEADLINE" generator.kind=openai \
    "generator.url=$LX_MOCK_URL/v1/chat/completions" generator.first_token_timeout_ms=1000 \
    generator.max_tokens=0 breaker.failures=3 breaker.open_ms=8000 chat.piece_interval_ms=1 server.max_in_flight=8 server.retry_after_s=2 \
    metrics.publish_ms=300
check "lexrag-ingest loads the sample corpus through the upstream embedder" \
    "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
    --docs "$LX_ROOT/data/sample/docs.jsonl" "$LX_ROOT/data/sample/corpus.jsonl"
web_setup 2
base=${BASE[lighttpd]}
web_wait_index "$base"
pids0=$(lx_worker_pids "$WEB_DIR" | sort | paste -sd ' ' -)

search() { # NAME QUERY: POST /api/search (status in WEB_CODE)
    web_req "$1" "$base/api/search" -H 'Content-Type: application/json' \
        --data-binary "{\"query\": \"$2\"}"
}
metric() { # NAME-AND-LABELS: the sum over the pool's workers of one sample
    curl -s -m 5 "$base/api/metrics?scope=pool" |
        awk -v k="$1" 'index($0, k) == 1 { s += $NF } END { print s + 0 }'
}

# ---- GET /api/metrics --------------------------------------------------------------------
prom_valid() { # FILE: the Prometheus text format: HELP and TYPE once per family, sample syntax
    python3 - "$1" <<'PY'
import re, sys
seen, bad = {}, []
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)$')
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        key = (line[2:6], line.split()[2])
        if key in seen:
            bad.append("line %d: second %s for %s" % (n, key[0], key[1]))
        seen[key] = n
    elif not sample.match(line):
        bad.append("line %d: %r" % (n, line))
print("\n".join(bad[:5]))
sys.exit(1 if bad else 0)
PY
}
for i in $(seq 1 6); do search "warm$i" "izin pengambilan air $i"; done
web_req m1 "$base/api/metrics"
is "GET /api/metrics -> 200 text/plain version 0.0.4" \
    "$WEB_CODE $(web_header m1 Content-Type)" "200 text/plain; version=0.0.4; charset=utf-8"
check "... in the Prometheus text format" prom_valid "$WEB_DIR/m1.body"
for fam in lexrag_requests_total lexrag_stage_duration_seconds_bucket lexrag_in_flight_requests \
    lexrag_event_loop_lag_seconds lexrag_circuit_state \
    lexrag_persist_spool_depth lexrag_pg_pool_connections; do
    grep -q "^$fam{host=\"[^\"]*\",pid=\"[0-9]*\"" "$WEB_DIR/m1.body" || diag "missing: $fam"
done
ok_if "... with requests, stage histograms, in-flight, lag, breakers, spool, pool" \
    "$(for fam in lexrag_requests_total lexrag_stage_duration_seconds_bucket lexrag_in_flight_requests \
        lexrag_event_loop_lag_seconds lexrag_circuit_state \
        lexrag_persist_spool_depth lexrag_pg_pool_connections; do
        grep -q "^$fam{host=\"[^\"]*\",pid=\"[0-9]*\"" "$WEB_DIR/m1.body" || { echo 1; exit; }
    done; echo 0)"
sleep 0.7 # every worker publishes (metrics.publish_ms 300)
web_req m2 "$base/api/metrics?scope=pool"
npids=$(grep -o '^lexrag_worker_info{host="[^"]*",pid="[0-9]*"' "$WEB_DIR/m2.body" | sort -u | wc -l)
is "?scope=pool: every worker of the pool, one exposition" "$WEB_CODE $npids" "200 2"
check "... in the Prometheus text format" prom_valid "$WEB_DIR/m2.body"
searches=$(awk '/^lexrag_requests_total\{.*route="\/api\/search",status="200"\}/ { s += $NF } END { print s + 0 }' "$WEB_DIR/m2.body")
ok_if "... counting the searches of both workers ($searches >= 6)" $((searches >= 6 ? 0 : 1))
ok_if "... and their embedding cache results" \
    "$(grep -q '^lexrag_embed_cache_total{host="[^"]*",pid="[0-9]*",result="miss"} [1-9]' "$WEB_DIR/m2.body" && echo 0 || echo 1)"
web_req m3 "$base/api/metrics?scope=everything"
is "?scope=everything -> 400" "$WEB_CODE $(jq -r .error.code "$WEB_DIR/m3.body")" "400 invalid_argument"

# ---- the embedding upstream hangs -----------------------------------------------------------
lx_mock_control '{"hang_embeddings": true}'
open_workers() { # UPSTREAM: how many workers of the pool have its circuit open
    curl -s -m 5 "$base/api/metrics?scope=pool" |
        grep -c "^lexrag_circuit_state{.*upstream=\"$1\"} 1\$"
}
# Rounds of 5 searches at once (so that both workers see the upstream hang) until both
# workers' circuits are open.
slow=0 degraded=0 total=0
for round in 1 2 3 4 5 6; do
    hang_pids=()
    for i in 1 2 3 4 5; do
        curl -s -m 20 -o "$WEB_DIR/hang$round-$i.body" -w '%{http_code} %{time_total}' \
            -H 'Content-Type: application/json' \
            --data-binary "{\"query\": \"izin pengambilan air hang $round $i $RANDOM\"}" \
            "$base/api/search" >"$WEB_DIR/hang$round-$i.out" &
        hang_pids+=($!)
    done
    wait "${hang_pids[@]}"
    for i in 1 2 3 4 5; do
        read -r code t <"$WEB_DIR/hang$round-$i.out"
        total=$((total + 1))
        awk -v t="$t" -v d="$EMBED_DEADLINE" 'BEGIN { exit !(t * 1000 < d + 600) }' || slow=$((slow + 1))
        [ "$code $(jq -r '.degraded | join(",")' "$WEB_DIR/hang$round-$i.body")" = "200 dense" ] &&
            degraded=$((degraded + 1))
    done
    sleep 0.7 # two publish periods
    [ "$(open_workers embedder)" -eq 2 ] && break
done
is "embedder hanging: every search answers from BM25 with degraded [dense]" "$degraded" "$total"
is "... each within the embedding deadline ($EMBED_DEADLINE ms) plus a margin" "$slow" 0
is "... and after breaker.failures timeouts both workers' circuits are open" "$(open_workers embedder)" 2
calls0=$(lx_mock_stat embeddings_requests)
for i in $(seq 1 6); do search "open$i" "izin pengambilan air open $i $RANDOM"; done
calls1=$(lx_mock_stat embeddings_requests)
is "circuit open: 6 more searches make no embedding call" "$((calls1 - calls0))" 0
is "... and still answer from BM25" \
    "$WEB_CODE $(jq -r '.degraded | join(",")' "$WEB_DIR/open6.body")" "200 dense"
web_req health "$base/api/health"
is "health: the embedder is down with its circuit open" \
    "$(jq -r '.status + " " + .checks.embedder.status + " " + .checks.embedder.circuit' "$WEB_DIR/health.body")" \
    "degraded down open"
sleep 0.5 # a publish period
opened=$(metric 'lexrag_circuit_opened_total{' | head -1)
web_req metrics "$base/api/metrics"
ok_if "metrics: an embedder circuit opened, and its state gauge is there" \
    "$([ "${opened%.*}" -ge 1 ] && grep -q '^lexrag_circuit_state{host="[^"]*",pid="[0-9]*",upstream="embedder"} [0-2]$' "$WEB_DIR/metrics.body" && echo 0 || echo 1)"
ok_if "metrics: leg timeouts of the embedding are counted" \
    "$(grep -q '^lexrag_leg_timeouts_total{host="[^"]*",pid="[0-9]*",leg="embed"} [1-9]' "$WEB_DIR/metrics.body" && echo 0 || echo 1)"

lx_mock_control '{"hang_embeddings": false}'
sleep 8.2 # breaker.open_ms: the next call is a probe
closed=no
for i in $(seq 1 6); do # each worker probes once, then closes
    search "back$i" "izin pengambilan air back $i $RANDOM"
    if [ "$WEB_CODE $(jq -r '.degraded | length' "$WEB_DIR/back$i.body")" = "200 0" ]; then
        closed=yes
    fi
done
search back "izin pengambilan air back again $RANDOM"
is "upstream back: after open_ms a probe closes the circuit and dense retrieval returns" \
    "$closed $WEB_CODE $(jq -r '.degraded | length' "$WEB_DIR/back.body")" "yes 200 0"
ok_if "... and the mock sees calls again" \
    $(($(lx_mock_stat embeddings_requests) > calls1 ? 0 : 1))

# ---- the chat model fails: fallback to the built-in generator -------------------------------
chat() { # FILE QUESTION: a streamed chat into FILE
    curl -sN -m 30 -H 'Content-Type: application/json' \
        --data-binary "{\"question\": \"$2\"}" "$base/api/chat" >"$1"
}
events() { grep '^event:' "$1" | sed 's/event: //' | uniq | paste -sd ' ' -; }
lx_mock_control '{"error_rate_chat": 1.0}'
chat "$WEB_DIR/gfail0.sse" "izin air"
is "model failing: an error event after retrieval" "$(events "$WEB_DIR/gfail0.sse")" "retrieval error"
# Failing chats, 8 at a time (so that both workers get some), until a whole round is answered
# by the fallback: both workers' circuits are open.
for round in 1 2 3 4 5 6; do
    fb_pids=()
    for i in 1 2 3 4 5 6 7 8; do
        chat "$WEB_DIR/gfail$round-$i.sse" "izin air $round $i" &
        fb_pids+=($!)
    done
    wait "${fb_pids[@]}"
    n=0
    for i in 1 2 3 4 5 6 7 8; do
        [ "$(events "$WEB_DIR/gfail$round-$i.sse")" = "retrieval delta done" ] && n=$((n + 1))
    done
    [ "$n" -eq 8 ] && break
done
chats0=$(lx_mock_stat chat_requests)
chat "$WEB_DIR/fb.sse" "berapa lama izin pengambilan air berlaku?"
fb=$(events "$WEB_DIR/fb.sse")
is "generator circuit open: the built-in generator answers (retrieval, delta, done)" \
    "$fb" "retrieval delta done"
[ "$fb" = "retrieval delta done" ] || diag "$(head -c 400 "$WEB_DIR/fb.sse")"
is "... the retrieval event says degraded [generator]" \
    "$(grep -A1 '^event: retrieval' "$WEB_DIR/fb.sse" | sed -n 's/^data: //p' | jq -r '.degraded | join(",")')" generator
is "... and the model is not called" "$(($(lx_mock_stat chat_requests) - chats0))" 0
web_req health2 "$base/api/health"
is "health: the generator's circuit" "$(jq -r '.checks.generator.circuit' "$WEB_DIR/health2.body")" open
lx_mock_control '{"defaults": true}'
sleep 8.2
ok=no
for i in $(seq 1 6); do
    chat "$WEB_DIR/gback$i.sse" "izin air kembali $i"
    if ! grep -q '"degraded"' "$WEB_DIR/gback$i.sse" && [ "$(events "$WEB_DIR/gback$i.sse")" = "retrieval delta done" ]; then
        ok=yes
    fi
done
is "model back: a probe closes the generator's circuit and the model answers again" "$ok" yes

# A model that sends no first token in time: an error event with code timeout, then the end.
lx_mock_control '{"chat_first_token_ms": 3000}'
t0=$EPOCHREALTIME
chat "$WEB_DIR/ftt.sse" "izin air lambat"
ms=$(web_ms "$t0")
is "no first token within generator.first_token_timeout_ms: retrieval, then error" \
    "$(events "$WEB_DIR/ftt.sse")" "retrieval error"
is "... code timeout" "$(grep -A1 '^event: error' "$WEB_DIR/ftt.sse" | sed -n 's/^data: //p' | jq -r .error.code)" timeout
ok_if "... ended at the deadline, not the model's pace ($ms ms < 2500)" $((ms < 2500 ? 0 : 1))
lx_mock_control '{"defaults": true}'

# ---- Redis stopped and started under load ------------------------------------------------
load_pids=()
load() { # NAME SECONDS: 4 clients searching in a loop; one status per line into NAME.codes
    local name=$1 until=$((SECONDS + $2)) k
    load_pids=()
    for k in 1 2 3 4; do
        (
            while [ "$SECONDS" -lt "$until" ]; do
                curl -s -o /dev/null -m 10 -w '%{http_code}\n' -H 'Content-Type: application/json' \
                    --data-binary "{\"query\": \"sanksi air $k $RANDOM\", \"mode\": \"bm25\"}" \
                    "$base/api/search"
            done
        ) >>"$WEB_DIR/$name.codes" &
        load_pids+=($!)
    done
}
load redis 6
sleep 1.5
lx_redis_stop "$WEB_DIR"
sleep 1.5
lx_redis_start "$WEB_DIR" "$(cat "$WEB_DIR/redis.port")" >>"$WEB_DIR/setup.log" 2>&1
wait "${load_pids[@]}"
total=$(wc -l <"$WEB_DIR/redis.codes")
bad=$(grep -vc '^200$' "$WEB_DIR/redis.codes")
diag "Redis stopped and started under load: $total requests, $bad not 200"
ok_if "Redis stopped and started under load: no failed request ($total requests)" \
    $((total > 20 && bad == 0 ? 0 : 1))
cache=bypass
for _ in $(seq 1 40); do
    search rc "izin pengambilan air cache"
    c=$(jq -r .cache.embedding "$WEB_DIR/rc.body")
    [ "$c" = hit ] || [ "$c" = miss ] && cache=$c && break
    sleep 0.25
done
ok_if "Redis back: the cache is used again ($cache)" "$([ "$cache" != bypass ] && echo 0 || echo 1)"

# ---- PostgreSQL stopped under load -------------------------------------------------------
lx_pg_stop "$WEB_DIR"
t0=$EPOCHREALTIME
search pgdown "sanksi pidana air"
ms=$(web_ms "$t0")
is "PostgreSQL down: a search gets 503 unavailable" \
    "$WEB_CODE $(jq -r .error.code "$WEB_DIR/pgdown.body")" "503 unavailable"
ok_if "... fast ($ms ms < 2000)" $((ms < 2000 ? 0 : 1))
lx_pg_start "$WEB_DIR" "$(cat "$WEB_DIR/pg.port")" >>"$WEB_DIR/setup.log" 2>&1
seen=no # health queries nothing itself: the workers notice on their own that it is back
for _ in $(seq 1 40); do
    n=0
    for k in 1 2 3 4; do
        web_req pgh "$base/api/health"
        [ "$(jq -r .checks.postgres.status "$WEB_DIR/pgh.body")" = ok ] && n=$((n + 1))
    done
    [ "$n" -eq 4 ] && seen=yes && break
    sleep 0.25
done
is "PostgreSQL back: health says so before any request needs it" "$seen" yes
up=no
for _ in $(seq 1 60); do
    search pgup "sanksi pidana air"
    [ "$WEB_CODE" = 200 ] && up=yes && break
    sleep 0.25
done
is "PostgreSQL back: searches succeed again" "$up" yes
is "... with the same worker processes" "$(lx_worker_pids "$WEB_DIR" | sort | paste -sd ' ' -)" "$pids0"

# ---- over the in-flight limit ------------------------------------------------------------
hold_pids=()
for i in $(seq 1 30); do
    curl -s -o /dev/null -m 10 -w '%{http_code} %{time_total} ' -D "$WEB_DIR/hold$i.hdr" \
        "$base/api/_test/hold?ms=1500" >"$WEB_DIR/hold$i.out" &
    hold_pids+=($!)
done
wait "${hold_pids[@]}"
n503=0 fast=0 retry=0
for i in $(seq 1 30); do
    read -r code t <"$WEB_DIR/hold$i.out"
    if [ "$code" = 503 ]; then
        n503=$((n503 + 1))
        awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' && fast=$((fast + 1))
        grep -qi '^Retry-After: 2' "$WEB_DIR/hold$i.hdr" && retry=$((retry + 1))
    fi
done
diag "30 holds on 2 workers of max_in_flight 8: $n503 refused"
ok_if "over max_in_flight: requests refused with 503 ($n503 of 30, >= 14)" $((n503 >= 14 ? 0 : 1))
is "... at once (under 0.5 s) and with Retry-After" "$fast $retry" "$n503 $n503"
web_req hh "$base/api/health"
is "health is answered whatever the load" "$WEB_CODE" 200

# ---- the model's stream under backpressure -----------------------------------------------
# A long, fast answer (100k tokens, ~5 MB of events) to a FastCGI client that reads nothing
# for 3 s, straight on the workers' socket (no web server buffers in between): the worker
# stops reading the model (the tokens wait upstream) instead of buffering the answer.
lx_mock_control '{"chat_tokens": 100000, "chat_token_interval_ms": 0, "chat_first_token_ms": 0}'
paused0=$(metric 'lexrag_generator_paused_total{')
rss() { local p s=0; for p in $(lx_worker_pids "$WEB_DIR"); do s=$((s + $(awk '/^VmRSS/ {print $2}' "/proc/$p/status"))); done; echo "$s"; }
rss0=$(rss)
python3 - "$WEB_DIR/lexrag.sock" "$LX_ROOT/scripts/lib" >"$WEB_DIR/slow.out" 2>&1 <<'PY' &
import socket, struct, sys, time
sys.path.insert(0, sys.argv[2])
from fcgi_request import BEGIN, RESPONDER, PARAMS, STDIN, pair, record, stream
body = b'{"question": "izin air panjang"}'
params = {"REQUEST_METHOD": "POST", "REQUEST_URI": "/api/chat", "SCRIPT_NAME": "/api/chat",
          "QUERY_STRING": "", "CONTENT_TYPE": "application/json",
          "CONTENT_LENGTH": str(len(body)), "SERVER_PROTOCOL": "HTTP/1.1"}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(record(BEGIN, struct.pack(">HB5x", RESPONDER, 0))
          + stream(PARAMS, b"".join(pair(k.encode(), v.encode()) for k, v in params.items()))
          + stream(STDIN, body))
time.sleep(3)
n = 0
s.settimeout(0.5)
try:
    while n < 256 * 1024:
        d = s.recv(65536)
        if not d:
            break
        n += len(d)
except socket.timeout:
    pass
s.close()
print(n)
PY
slowpid=$!
sleep 2.5
rss1=$(rss)
sent=$(lx_mock_stat chat_tokens_sent)
wait "$slowpid"
sleep 0.5 # a publish period
paused1=$(metric 'lexrag_generator_paused_total{')
grow=$(((rss1 - rss0) / 1024))
diag "a FastCGI client not reading a 100k-token answer for 2.5 s: worker RSS grew by $grow MiB; the model has sent $sent tokens in all"
ok_if "backpressure: the worker paused the model's stream ($((paused1 - paused0)) times)" \
    $((paused1 > paused0 ? 0 : 1))
if nm "$LX_BUILD/lexrag-fcgi" 2>/dev/null | grep -q __asan_init; then
    # ASan's quarantine keeps the freed parser buffers of 100k events on purpose.
    skip "... and did not buffer the answer" "an ASan build keeps freed memory"
else
    ok_if "... and did not buffer the answer (RSS growth $grow MiB < 2)" $((grow < 2 ? 0 : 1))
fi
lx_mock_control '{"defaults": true}'

web_finish
