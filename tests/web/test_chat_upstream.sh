#!/usr/bin/env bash
# tests/web/test_chat_upstream.sh -- POST /api/chat with an OpenAI-compatible chat model (the
# mock: first token after 300 ms, then one every 20 ms) through lighttpd, 2 workers: the first
# delta reaches the client long before done; 200 concurrent chats each get their first delta
# within a small multiple of one chat's time (not 200 times it); the non-streaming form; a
# model failing before or during the stream gives an "error" event and a clean end; a client
# leaving mid-stream cancels the upstream call.
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
    ! lx_mock_start "$WEB_DIR" --chat-first-token-ms 300 --chat-token-interval-ms 20 \
        --chat-tokens 20 2>>"$WEB_DIR/setup.log"; then
    ok_if "start PostgreSQL, Redis and the mock upstream" 1
    web_finish
fi
lx_write_config "$WEB_DIR" log.level=info "postgres.conninfo=$LX_PG_CONNINFO" \
    "redis.port=$LX_REDIS_PORT" "index.dir=$WEB_DIR/index" index.check_ms=200 \
    "chat.spool_dir=$WEB_DIR/spool" generator.kind=openai \
    "generator.url=$LX_MOCK_URL/v1/chat/completions" generator.timeout_ms=10000
check "lexrag-ingest loads the sample corpus" \
    "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
    --docs "$LX_ROOT/data/sample/docs.jsonl" "$LX_ROOT/data/sample/corpus.jsonl"
web_setup 2
base=${BASE[lighttpd]}
web_wait_index "$base"
clients() { # N: concurrent streaming chats, their first-delta and done times
    python3 "$LX_ROOT/tests/lib/sse_clients.py" "$base/api/chat" "$1" \
        '{"question": "berapa lama izin pengambilan air berlaku?", "top_k": 3}'
}

one=$(clients 1)
first1=$(jq -r '.first_ms[0] | floor' <<<"$one")
done1=$(jq -r '.done_ms[0] | floor' <<<"$one")
diag "one chat: first delta at $first1 ms, done at $done1 ms (model: first token 300 ms)"
ok_if "one chat: the first delta comes with the model's first token ($first1 ms: >= 300, < 700)" \
    $((first1 >= 300 && first1 < 700 ? 0 : 1))
ok_if "one chat: the first delta long before done ($first1 ms vs $done1 ms)" \
    $((done1 - first1 >= 250 ? 0 : 1))

many=$(clients 200)
ok=$(jq -r .ok <<<"$many")
p50=$(jq -r '.first_ms[(.first_ms | length) / 2 | floor] | floor' <<<"$many")
max=$(jq -r '.first_ms[-1] | floor' <<<"$many")
diag "200 concurrent chats: $ok complete; first delta p50 $p50 ms, max $max ms (one chat: $first1 ms)"
is "200 concurrent chats all complete" "$ok" 200
ok_if "200 concurrent chats: first delta p50 within 2x one chat's ($p50 ms vs $first1 ms)" \
    $((p50 < 2 * first1 ? 0 : 1))
ok_if "200 concurrent chats: the slowest first delta within 6x, not 200x ($max ms)" \
    $((max < 6 * first1 ? 0 : 1))

web_req nos "$base/api/chat" -H 'Content-Type: application/json' \
    --data-binary '{"question": "apa itu kebun raya?", "stream": false}'
is "stream false: one JSON object with the model's answer" \
    "$WEB_CODE $(jq -r '.answer | startswith("Jawaban uji")' "$WEB_DIR/nos.body")" "200 true"

# The model fails mid-stream: some deltas, then an error event, and the stream ends.
lx_mock_control '{"fail_after_tokens": 5}'
curl -sN -m 20 -H 'Content-Type: application/json' --data-binary '{"question": "izin air"}' \
    "$base/api/chat" >"$WEB_DIR/mid.sse"
is "model failing mid-stream: retrieval, deltas, then an error event" \
    "$(grep '^event:' "$WEB_DIR/mid.sse" | sed 's/event: //' | uniq | paste -sd ' ' -)" "retrieval delta error"
is "... with an error body" "$(grep -A1 '^event: error' "$WEB_DIR/mid.sse" | sed -n 's/^data: //p' | jq -r '.error | has("code") and has("message")')" true
# The model refusing at once: an error event after retrieval.
lx_mock_control '{"defaults": true}'
lx_mock_control '{"error_rate": 1.0}'
curl -sN -m 20 -H 'Content-Type: application/json' --data-binary '{"question": "izin air"}' \
    "$base/api/chat" >"$WEB_DIR/err.sse"
is "model failing before its first token: retrieval, then an error event" \
    "$(grep '^event:' "$WEB_DIR/err.sse" | sed 's/event: //' | paste -sd ' ' -)" "retrieval error"
lx_mock_control '{"defaults": true}'

# A client leaving mid-stream: the upstream call is cancelled (a long answer, so that the web
# server notices the client gone, on its next writes, well before the model would finish).
lx_mock_control '{"chat_tokens": 200}'
before=$(lx_mock_stat chat_streams_cancelled)
curl -sN -m 0.5 -H 'Content-Type: application/json' --data-binary '{"question": "izin air"}' \
    "$base/api/chat" >/dev/null 2>&1
cancelled=no
for _ in $(seq 1 30); do
    [ "$(lx_mock_stat chat_streams_cancelled)" -gt "$before" ] && cancelled=yes && break
    sleep 0.1
done
is "a client leaving mid-stream: the mock sees its stream cancelled" "$cancelled" yes

web_finish
