#!/usr/bin/env bash
# tests/fakes/test_mock_openai.sh -- the mock OpenAI-compatible server (tests/fakes/mock_openai.c)
# that the integration tests and benchmarks use in place of the outside AI APIs: embeddings
# (single, batch, dimension, determinism, similarity, base64), chat whole and streamed (events
# spread over time, [DONE] last), dribbled SSE still parses, injected errors, hangs and client
# cancels counted, a mid-stream drop, the API key, the body limit, the control and stats
# endpoints, and 200 concurrent requests with 300 ms latency finishing in about 300 ms. It does
# not test lexrag itself. Needs LX_BUILD (tests/run sets it; default build/), curl and python3.
# shellcheck source-path=SCRIPTDIR
set -u
export LC_ALL=C # "." in $EPOCHREALTIME and awk
root=${LX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/tap.sh
. "$root/tests/lib/tap.sh"
build=${LX_BUILD:-$root/build}
mock=$build/tests/mock_openai

tmp=$(mktemp -d /tmp/lexrag-mock.XXXXXX) || exit 2
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        if kill -0 "$p" 2>/dev/null; then
            kill -KILL "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    rm -rf "$tmp"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM HUP

if [ ! -x "$mock" ]; then
    echo "not ok 1 - $mock is built (run make tests)"
    echo "1..1"
    exit 1
fi

# start_mock NAME ARGS...: run the mock on an ephemeral port; sets PORT and MPID.
start_mock() {
    local name=$1
    shift
    "$mock" --listen 127.0.0.1:0 --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.log" &
    MPID=$!
    pids+=("$MPID")
    for _ in $(seq 100); do
        [ -s "$tmp/$name.port" ] && break
        kill -0 "$MPID" 2>/dev/null || break
        sleep 0.05
    done
    PORT=$(cat "$tmp/$name.port" 2>/dev/null)
    [ -n "$PORT" ]
}

show_log() {
    diag "mock log (last lines):"
    tail -n 15 "$tmp/mock.log" 2>/dev/null | sed 's/^/#   /'
}

# req NAME METHOD PATH [JSON [CURL ARGS...]]: the body goes to $tmp/NAME.json, status to CODE.
req() {
    local name=$1 method=$2 path=$3 data=${4-}
    shift 3
    [ $# -gt 0 ] && shift
    if [ -n "$data" ]; then
        CODE=$(curl -s -m 10 -X "$method" -H 'Content-Type: application/json' --data-binary "$data" \
            -o "$tmp/$name.json" -w '%{http_code}' "$@" "$BASE$path")
    else
        CODE=$(curl -s -m 10 -X "$method" -o "$tmp/$name.json" -w '%{http_code}' "$@" "$BASE$path")
    fi
}

# js NAME EXPR: the Python expression EXPR is true of j, the JSON in $tmp/NAME.json.
js() {
    if python3 - "$tmp/$1.json" "$2" <<'EOF'; then
import base64, json, math, struct, sys
j = json.load(open(sys.argv[1]))
def emb(i): return j["data"][i]["embedding"]
def cos(a, b): return sum(x * y for x, y in zip(a, b))
def norm(a): return math.sqrt(sum(x * x for x in a))
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
EOF
        return 0
    fi
    diag "false: $2"
    head -c 600 "$tmp/$1.json" | sed 's/^/#   /'
    echo
    return 1
}

stat_is() { # KEY WANT: GET /_stats has KEY == WANT
    req stats GET /_stats
    is "stats: $1" "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" \
        "$tmp/stats.json" "$1")" "$2"
}

# wait_stat KEY WANT: poll /_stats (up to 3 s) until KEY == WANT; then stat_is.
wait_stat() {
    local v
    for _ in $(seq 60); do
        v=$(curl -s -m 2 "$BASE/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1")
        [ "$v" = "$2" ] && break
        sleep 0.05
    done
    stat_is "$1" "$2"
}

control() { # JSON: POST /_control, must be accepted
    req control POST /_control "$1"
    [ "$CODE" = 200 ] || diag "/_control $1 -> $CODE: $(cat "$tmp/control.json")"
}

ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# ---- start ------------------------------------------------------------------------------
check "mock starts on an ephemeral port and writes it to --port-file" \
    start_mock mock --dim 64 --seed 7
BASE=http://127.0.0.1:${PORT:-0}
mpid=$MPID
if [ -z "${PORT:-}" ]; then
    show_log
    tap_done
    exit 1
fi
diag "mock on port $PORT"

# ---- embeddings --------------------------------------------------------------------------
req e1 POST /v1/embeddings '{"model":"m","input":"Pasal 2 ayat (1) tentang korupsi"}'
is "embeddings: single input -> 200" "$CODE" 200
check "embeddings: one vector of dim 64, L2 norm 1, index 0, usage" \
    js e1 'j["object"] == "list" and len(j["data"]) == 1 and j["data"][0]["index"] == 0 and
           j["data"][0]["object"] == "embedding" and len(emb(0)) == 64 and
           abs(norm(emb(0)) - 1) < 1e-5 and j["usage"]["prompt_tokens"] == 6 and j["model"] == "m"'

req e2 POST /v1/embeddings \
    '{"model":"m","input":["korupsi pasal 2 ayat 1","Pasal 2 ayat (1) tentang korupsi","resep nasi goreng pedas"],"encoding_format":"float"}'
is "embeddings: batch of 3 -> 200" "$CODE" 200
check "embeddings: batch gives 3 vectors of dim 64 with indexes 0, 1, 2" \
    js e2 'len(j["data"]) == 3 and [d["index"] for d in j["data"]] == [0, 1, 2] and
           all(len(d["embedding"]) == 64 for d in j["data"])'
req e1b POST /v1/embeddings '{"model":"m","input":"Pasal 2 ayat (1) tentang korupsi"}'
check "embeddings: deterministic (same text, same bytes, twice)" cmp -s "$tmp/e1.json" "$tmp/e1b.json"
e1vec=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"][0]["embedding"])' "$tmp/e1.json")
check "embeddings: the same text in a batch gives the same vector" \
    js e2 "emb(1) == $e1vec"
check "embeddings: texts sharing words are closer than unrelated ones" \
    js e2 'cos(emb(0), emb(1)) > 0.5 and cos(emb(0), emb(1)) > cos(emb(0), emb(2)) + 0.3'

req e3 POST /v1/embeddings '{"model":"m","input":"halo dunia","dimensions":16}'
check "embeddings: request 'dimensions' 16 -> 16 floats" js e3 'len(emb(0)) == 16'
req e4 POST /v1/embeddings '{"model":"m","input":"halo dunia","encoding_format":"base64"}'
req e5 POST /v1/embeddings '{"model":"m","input":"halo dunia"}'
b64=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"][0]["embedding"])' "$tmp/e4.json")
check "embeddings: base64 encoding = the float vector as little-endian float32" \
    js e5 "all(abs(a - b) < 1e-6 for a, b in zip(emb(0), struct.unpack('<64f', base64.b64decode('$b64'))))"

req bad1 POST /v1/embeddings '{"model":"m","input":'
is "embeddings: bad JSON -> 400" "$CODE" 400
check "embeddings: bad JSON -> OpenAI-style error body" \
    js bad1 'j["error"]["type"] == "invalid_request_error" and "parse" in j["error"]["message"]'
req bad2 POST /v1/embeddings '{"model":"m"}'
check "embeddings: no input -> 400, param 'input'" js bad2 'j["error"]["param"] == "input"'
is "embeddings: no input -> status 400" "$CODE" 400
req nf GET /v1/nothing
is "unknown path -> 404" "$CODE" 404
req ma GET /v1/embeddings
is "GET on /v1/embeddings -> 405" "$CODE" 405

# ---- chat, whole ---------------------------------------------------------------------------
control '{"chat_tokens":10}'
chat_body='{"model":"c","messages":[{"role":"system","content":"Anda asisten hukum."},{"role":"user","content":"Apa isi Pasal 2 UU 31/1999?"}]}'
req c1 POST /v1/chat/completions "$chat_body"
is "chat: whole answer -> 200" "$CODE" 200
check "chat: chat.completion with an assistant message, finish_reason stop, usage" \
    js c1 'j["object"] == "chat.completion" and j["id"].startswith("chatcmpl-") and
           j["model"] == "c" and j["choices"][0]["message"]["role"] == "assistant" and
           j["choices"][0]["finish_reason"] == "stop" and
           j["usage"]["completion_tokens"] == 10 and j["usage"]["prompt_tokens"] == 9 and
           j["usage"]["total_tokens"] == 19'
check "chat: the answer quotes the last user message and cites [1]" \
    js c1 'j["choices"][0]["message"]["content"].startswith("Jawaban uji: \"Apa isi Pasal 2 UU 31/1999?\"")
           and j["choices"][0]["message"]["content"].endswith("[1]")'
req c2 POST /v1/chat/completions '{"model":"c","max_tokens":4,"messages":[{"role":"user","content":"halo"}]}'
check "chat: max_tokens 4 -> 4 tokens, finish_reason length" \
    js c2 'j["usage"]["completion_tokens"] == 4 and j["choices"][0]["finish_reason"] == "length"'
req c3 POST /v1/chat/completions '{"model":"c","messages":"x"}'
is "chat: messages not an array -> 400" "$CODE" 400

# ---- chat, streamed ------------------------------------------------------------------------
# stream NAME JSON: each line of the SSE body stamped with its arrival ($tmp/NAME.lines),
# the headers in $tmp/NAME.hdr, curl's status in SRC, the start in T0.
stream() {
    local name=$1 data=$2
    shift 2
    T0=$EPOCHREALTIME
    # bash's read takes a pipe byte by byte, so each line is stamped when it arrives.
    curl -sN -m 10 -D "$tmp/$name.hdr" -H 'Content-Type: application/json' --data-binary "$data" \
        "$@" "$BASE/v1/chat/completions" 2>/dev/null |
        while IFS= read -r line; do
            printf '%s %s\n' "$EPOCHREALTIME" "$line"
        done >"$tmp/$name.lines"
    SRC=${PIPESTATUS[0]}
}
# sse_check NAME: the stream parses (any line endings, comments), prints a JSON summary.
sse_summary() {
    python3 - "$tmp/$1.lines" <<'EOF' >"$tmp/$1.json"
import json, sys
events, data, times = [], [], []
for raw in open(sys.argv[1], encoding="utf-8", newline="\n"):
    t, _, line = raw.rstrip("\n").partition(" ")
    line = line.rstrip("\r")
    if line == "":
        if data:
            events.append(("\n".join(data), float(t)))
        data = []
    elif line.startswith(":"):
        continue
    elif line.startswith("data:"):
        data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
out = {"n": len(events), "done_last": bool(events) and events[-1][0] == "[DONE]",
       "times": [e[1] for e in events], "content": "", "role_first": False, "finish": None,
       "content_events": 0, "usage": None}
for i, (d, _) in enumerate(events):
    if d == "[DONE]":
        continue
    c = json.loads(d)
    if c.get("usage"):
        out["usage"] = c["usage"]
    for ch in c["choices"]:
        if i == 0 and ch["delta"].get("role") == "assistant":
            out["role_first"] = True
        if ch["delta"].get("content"):
            out["content"] += ch["delta"]["content"]
            out["content_events"] += 1
        if ch.get("finish_reason"):
            out["finish"] = ch["finish_reason"]
json.dump(out, sys.stdout)
EOF
}

control '{"chat_tokens":10,"chat_first_token_ms":300,"chat_token_interval_ms":50}'
stream s1 "${chat_body%\}},\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
sse_summary s1
is "stream: curl exit status 0" "$SRC" 0
check "stream: Content-Type text/event-stream" grep -qi '^content-type: text/event-stream' "$tmp/s1.hdr"
check "stream: role first, 10 content events, finish stop, usage, [DONE] last" \
    js s1 'j["role_first"] and j["content_events"] == 10 and j["finish"] == "stop" and
           j["usage"]["completion_tokens"] == 10 and j["done_last"]'
c1content=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"]))' "$tmp/c1.json")
check "stream: the streamed pieces make the same answer as the whole one" \
    js s1 "j['content'] == $c1content"
first_ms=$(python3 -c 'import json,sys; print(int((json.load(open(sys.argv[1]))["times"][0] - float(sys.argv[2])) * 1000))' "$tmp/s1.json" "$T0")
last_ms=$(python3 -c 'import json,sys; print(int((json.load(open(sys.argv[1]))["times"][-1] - float(sys.argv[2])) * 1000))' "$tmp/s1.json" "$T0")
diag "stream: first event after $first_ms ms, [DONE] after $last_ms ms (first token 300, 9 x 50 ms)"
ok_if "stream: first event after >= 280 ms and < 650 ms ($first_ms)" \
    $((first_ms >= 280 && first_ms < 650 ? 0 : 1))
ok_if "stream: last event >= 400 ms after the first (events sent as produced: $((last_ms - first_ms)))" \
    $((last_ms - first_ms >= 400 ? 0 : 1))

# dribbled, CRLF: pieces cut inside events and events merged; the stream still parses the same.
control '{"chat_first_token_ms":0,"chat_token_interval_ms":20,"chat_tokens":10,"dribble":true,"crlf":true}'
stream s2 "${chat_body%\}},\"stream\":true}"
sse_summary s2
check "dribble+crlf: still role first, 10 content events, finish stop, [DONE] last" \
    js s2 'j["role_first"] and j["content_events"] == 10 and j["finish"] == "stop" and j["done_last"]'
check "dribble+crlf: the same answer" js s2 "j['content'] == $c1content"
python3 - "$PORT" "${chat_body%\}},\"stream\":true}" <<'EOF' >"$tmp/raw.json"
import json, socket, sys, time
port, body = int(sys.argv[1]), sys.argv[2].encode()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
pieces, buf = [], b""
while True:
    b = s.recv(65536)
    if not b:
        break
    pieces.append(b)
raw = b"".join(pieces)
head, _, rest = raw.partition(b"\r\n\r\n")
# de-chunk, remembering where each chunk's payload ended in the SSE stream
sse, ends = b"", []
while rest:
    size_line, _, rest = rest.partition(b"\r\n")
    n = int(size_line, 16)
    if n == 0:
        break
    sse += rest[:n]
    ends.append(len(sse))
    rest = rest[n + 2:]
events_end = set()
i = sse.find(b"\r\n\r\n")
while i >= 0:
    events_end.add(i + 4)
    i = sse.find(b"\r\n\r\n", i + 4)
mid = sum(1 for e in ends if e not in events_end)
multi = sum(1 for a, b in zip([0] + ends, ends) if sse[a:b].count(b"\r\n\r\n") > 1)
json.dump({"chunks": len(ends), "cut_mid_event": mid, "multi_event": multi,
           "recvs": len(pieces), "done": sse.endswith(b"data: [DONE]\r\n\r\n")}, sys.stdout)
EOF
diag "dribble: $(cat "$tmp/raw.json")"
check "dribble: some HTTP chunks end inside an event, some hold several, [DONE] last" \
    js raw 'j["cut_mid_event"] >= 1 and j["multi_event"] >= 1 and j["done"]'
control '{"dribble":false,"crlf":false,"chat_first_token_ms":0,"chat_token_interval_ms":0}'

# ---- injected errors, control and stats ------------------------------------------------------
req r0 POST /_reset
is "POST /_reset -> 200" "$CODE" 200
stat_is embeddings_requests 0
control '{"error_rate":1.0}'
req x1 POST /v1/embeddings '{"model":"m","input":"a"}'
is "error_rate 1.0: embeddings -> 500" "$CODE" 500
check "error_rate 1.0: OpenAI-style error body" \
    js x1 'j["error"]["type"] == "server_error" and "message" in j["error"]'
req x2 POST /v1/chat/completions "$chat_body"
is "error_rate 1.0: chat -> 500" "$CODE" 500
control '{"error_rate_chat":0.0,"error_status":429}'
req x3 POST /v1/embeddings '{"model":"m","input":"a"}'
is "error_rate_embeddings 1 with error_status 429: embeddings -> 429" "$CODE" 429
req x4 POST /v1/chat/completions "$chat_body"
is "... while chat (error_rate_chat 0) -> 200" "$CODE" 200
stat_is errors_injected 3
control '{"error_rate":0,"error_status":500}'
req bad POST /_control '{"no_such_setting":1}'
is "/_control: an unknown key -> 400" "$CODE" 400
req bad POST /_control '{"dim":"x"}'
is "/_control: a bad value -> 400" "$CODE" 400
control '{"dim":32,"embed_latency_ms":5}'
req ctl GET /_control
check "GET /_control shows the settings" js ctl 'j["dim"] == 32 and j["embed_latency_ms"] == 5'
req e6 POST /v1/embeddings '{"model":"m","input":["a b","c"]}'
check "/_control dim 32 -> vectors of 32" js e6 'len(emb(0)) == 32 and len(emb(1)) == 32'
control '{"defaults":true}'
req ctl GET /_control
check "/_control defaults: back to the command-line settings" \
    js ctl 'j["dim"] == 64 and j["embed_latency_ms"] == 0 and j["chat_tokens"] == 12 and j["seed"] == 7'
req r1 POST /_reset
req s POST /v1/embeddings '{"model":"m","input":["a","b","c"]}'
req s POST /v1/embeddings '{"model":"m","input":"d"}'
req s POST /v1/chat/completions "$chat_body"
stat_is embeddings_requests 2
stat_is embeddings_inputs 4
stat_is chat_requests 1
stat_is in_flight 0

# ---- hangs, cancels, drops -----------------------------------------------------------------
control '{"hang_chat":true}'
t0=$EPOCHREALTIME
curl -s -m 1 -o /dev/null -H 'Content-Type: application/json' --data-binary "$chat_body" \
    "$BASE/v1/chat/completions"
rc=$?
el=$(ms_between "$t0" "$EPOCHREALTIME")
is "hang: the client times out (curl exit 28) after ~1 s ($el ms)" "$rc" 28
req e7 POST /v1/embeddings '{"model":"m","input":"masih jalan"}'
is "hang_chat: embeddings still answer" "$CODE" 200
wait_stat chat_cancelled 1
stat_is hangs 1
stat_is in_flight 0
control '{"hang_chat":false}'

control '{"chat_tokens":20,"chat_token_interval_ms":100}'
stream s3 "${chat_body%\}},\"stream\":true}" -m 0.5
wait_stat chat_streams_cancelled 1
stat_is in_flight 0

control '{"chat_tokens":10,"chat_token_interval_ms":10,"fail_after_tokens":3}'
stream s4 "${chat_body%\}},\"stream\":true}"
sse_summary s4
is "fail_after_tokens 3: curl sees the body cut (exit 18)" "$SRC" 18
check "fail_after_tokens 3: 3 content events, no finish, no [DONE]" \
    js s4 'j["content_events"] == 3 and j["finish"] is None and not j["done_last"]'
wait_stat chat_streams_dropped 1
stat_is in_flight 0
control '{"defaults":true}'

# ---- API key, body limit -------------------------------------------------------------------
control '{"api_key":"rahasia"}'
req k1 POST /v1/embeddings '{"model":"m","input":"a"}'
is "api_key: no Authorization -> 401" "$CODE" 401
check "api_key: 401 body says invalid_api_key" js k1 'j["error"]["code"] == "invalid_api_key"'
req k2 POST /v1/embeddings '{"model":"m","input":"a"}' -H 'Authorization: Bearer salah'
is "api_key: wrong key -> 401" "$CODE" 401
req k3 POST /v1/embeddings '{"model":"m","input":"a"}' -H 'Authorization: Bearer rahasia'
is "api_key: right key -> 200" "$CODE" 200
control '{"api_key":null}'

python3 -c 'import sys; sys.stdout.write("{\"model\":\"m\",\"input\":\"" + "a " * (9 << 19) + "\"}")' >"$tmp/big.json"
CODE=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$tmp/big.json" "$BASE/v1/embeddings")
is "a 9 MiB body -> 413" "$CODE" 413
req e8 POST /v1/embeddings '{"model":"m","input":"masih hidup"}'
is "... and the mock still answers" "$CODE" 200

# ---- a second instance: command-line flags, no port collision ---------------------------------
if start_mock mock2 --api-key k2 --chat-tokens 3 --error-rate 0 --dim 8; then
    BASE1=$BASE
    BASE=http://127.0.0.1:$PORT
    req m2a POST /v1/chat/completions "$chat_body"
    is "second mock (--api-key): no key -> 401" "$CODE" 401
    req m2b POST /v1/chat/completions "$chat_body" -H 'Authorization: Bearer k2'
    check "second mock (--chat-tokens 3): 3 tokens" js m2b 'j["usage"]["completion_tokens"] == 3'
    kill -TERM "$MPID"
    wait "$MPID"
    is "second mock: SIGTERM -> exit 0" "$?" 0
    BASE=$BASE1
else
    ok_if "second mock starts" 1
fi

# ---- 200 concurrent requests, 300 ms each ------------------------------------------------
N=200
LAT=300
control "{\"embed_latency_ms\":$LAT}"
req r2 POST /_reset
: >"$tmp/par.cfg"
for _ in $(seq $N); do
    printf 'url = "%s/v1/embeddings"\noutput = "/dev/null"\n' "$BASE" >>"$tmp/par.cfg"
done
t0=$EPOCHREALTIME
curl -s --parallel --parallel-immediate --parallel-max $N -m 20 -H 'Content-Type: application/json' \
    --data-binary '{"model":"m","input":"pasal satu ayat dua"}' -w '%{http_code}\n' \
    -K "$tmp/par.cfg" >"$tmp/par.codes" 2>/dev/null
el=$(ms_between "$t0" "$EPOCHREALTIME")
diag "concurrency: $N requests x $LAT ms latency, all at once: $el ms in total"
is "concurrency: all $N answered 200" "$(grep -c '^200$' "$tmp/par.codes")" "$N"
ok_if "concurrency: total $el ms >= $LAT ms" $((el >= LAT ? 0 : 1))
ok_if "concurrency: total $el ms < 3000 ms (serial would be $((N * LAT)) ms)" $((el < 3000 ? 0 : 1))
req st GET /_stats
diag "concurrency: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("max_in_flight", j["max_in_flight"])' "$tmp/st.json")"
check "concurrency: the mock had >= 100 requests in flight at once" js st 'j["max_in_flight"] >= 100'
control '{"defaults":true}'

# ---- stop ---------------------------------------------------------------------------------
kill -TERM "$mpid"
t0=$EPOCHREALTIME
wait "$mpid"
rc=$?
is "SIGTERM: exit status 0" "$rc" 0
ok_if "SIGTERM: stopped within 2 s" $(($(ms_between "$t0" "$EPOCHREALTIME") < 2000 ? 0 : 1))
check "log: one line per request" grep -q 'req=1 method=POST path=/v1/embeddings status=200' "$tmp/mock.log"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp"/*.log; then
    ok_if "no sanitizer reports" 1
    grep -hE -A5 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp"/*.log | head -n 40 | sed 's/^/#   /'
else
    ok_if "no sanitizer reports" 0
fi
[ "$_tap_failed" -gt 0 ] && show_log
tap_done
