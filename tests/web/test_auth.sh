#!/usr/bin/env bash
# tests/web/test_auth.sh -- API keys and rate limits (auth.enabled) through lighttpd and Apache,
# 2 workers, real PostgreSQL and Redis: keys made with lexrag-keys; no key or a wrong one gets
# 401 with WWW-Authenticate; a good key passes on every endpoint; health and metrics need none;
# a revoked key stops within auth.refresh_ms; a key's rate is shared by both workers (429 with
# Retry-After past it); with Redis stopped requests are not limited, and limits resume when it
# is back. The tool: list never shows a key or a hash; bad usage exits 2.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/web_lib.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"

if ! lx_pg_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
    ! lx_redis_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1; then
    ok_if "start PostgreSQL and Redis" 1
    web_finish
fi
lx_write_config "$WEB_DIR" log.level=info "postgres.conninfo=$LX_PG_CONNINFO" \
    "redis.port=$LX_REDIS_PORT" "index.dir=$WEB_DIR/index" index.check_ms=200 \
    "chat.spool_dir=$WEB_DIR/spool" chat.piece_interval_ms=0 auth.enabled=true \
    auth.refresh_ms=300 auth.rate_per_min=1000
check "lexrag-ingest loads the sample corpus" \
    "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
    --docs "$LX_ROOT/data/sample/docs.jsonl" "$LX_ROOT/data/sample/corpus.jsonl"
keys() { "$LX_BUILD/lexrag-keys" --config "$WEB_DIR/lexrag.conf" "$@"; }

# ---- the tool --------------------------------------------------------------------------------
good=$(keys add app-one 2>"$WEB_DIR/add.err")
ok_if "lexrag-keys add prints a new key once (lxk_...)" \
    "$([[ "$good" =~ ^lxk_[A-Za-z0-9_-]{43}$ ]] && echo 0 || echo 1)"
slow=$(keys add slow-app --rate 5 2>/dev/null)
doomed=$(keys add doomed 2>/dev/null)
keys add app-one >/dev/null 2>"$WEB_DIR/dup.err"
is "... a second key of the same name: exit 1, said" "$? $(grep -c 'exists already' "$WEB_DIR/dup.err")" "1 1"
keys list >"$WEB_DIR/list.out"
is "lexrag-keys list: the keys, with their rates" \
    "$(awk 'NR > 1 { print $1, $3 }' "$WEB_DIR/list.out" | paste -sd ' ' -)" "app-one default slow-app 5 doomed default"
ok_if "... and never a key or a hash" \
    "$(grep -qF -e "$good" -e "${good:20}" "$WEB_DIR/list.out" ||
        lx_pg_psql "$WEB_DIR" -Atc "SELECT encode(key_hash, 'hex') FROM api_keys" | grep -qFf - "$WEB_DIR/list.out" && echo 1 || echo 0)"
is "the database holds no key, only hashes" \
    "$(lx_pg_psql "$WEB_DIR" -Atc "SELECT count(*) FROM api_keys WHERE position('$good' in prefix || name) > 0 OR length(key_hash) <> 32")" 0
keys frobnicate >/dev/null 2>&1
is "bad usage: exit 2" "$?" 2
keys add 'bad name!' >/dev/null 2>&1
is "a bad name: exit 2" "$?" 2
keys add x --rate -3 >/dev/null 2>&1
is "a bad rate: exit 2" "$?" 2
keys revoke nobody >/dev/null 2>&1
is "revoking an unknown key: exit 1" "$?" 1

web_setup 2
base0=${BASE[${WEB_SERVERS[0]}]}
web_wait_index "$base0"

req() { # NAME URL KEY|- [curl args...]
    local name=$1 url=$2 key=$3
    shift 3
    if [ "$key" = - ]; then
        web_req "$name" "$url" "$@"
    else
        web_req "$name" "$url" -H "Authorization: Bearer $key" "$@"
    fi
}
search() { req "$1" "$2/api/search" "$3" -H 'Content-Type: application/json' --data-binary '{"query": "izin air"}'; }

for srv in "${WEB_SERVERS[@]}"; do
    base=${BASE[$srv]}
    search nokey "$base" -
    is "$srv: no key -> 401 unauthorized with WWW-Authenticate" \
        "$WEB_CODE $(jq -r .error.code "$WEB_DIR/nokey.body") $(web_header nokey WWW-Authenticate)" \
        '401 unauthorized Bearer realm="lexrag"'
    search wrong "$base" "lxk_wrongwrongwrongwrongwrongwrongwrongwrongwro"
    is "$srv: a wrong key -> 401" "$WEB_CODE" 401
    req basic "$base/api/search" - -H 'Authorization: Basic dXNlcjpwYXNz' \
        -H 'Content-Type: application/json' --data-binary '{"query": "izin air"}'
    is "$srv: not a bearer key -> 401" "$WEB_CODE" 401
    search good "$base" "$good"
    is "$srv: a good key -> 200 on /api/search" "$WEB_CODE" 200
    req chat "$base/api/chat" "$good" -H 'Content-Type: application/json' \
        --data-binary '{"question": "izin air", "stream": false}'
    is "$srv: ... on /api/chat" "$WEB_CODE" 200
    req oai "$base/v1/chat/completions" "$good" -H 'Content-Type: application/json' \
        --data-binary '{"model": "lexrag", "messages": [{"role": "user", "content": "izin air"}]}'
    is "$srv: ... on /v1/chat/completions" "$WEB_CODE" 200
    req health "$base/api/health" -
    req metrics "$base/api/metrics" -
    is "$srv: health and metrics need no key" "$WEB_CODE" 200
    is "$srv: (health)" "$(jq -r .status "$WEB_DIR/health.body")" ok
done
base=$base0
ok_if "the access line names the key, and no log line shows it" \
    "$(grep -q 'path=/api/search status=200 .* key=app-one' "$WEB_DIR/workers.log" &&
        ! grep -qF "$good" "$WEB_DIR"/*.log && echo 0 || echo 1)"

# Revoked: refused within refresh_ms (300 ms), on every worker.
search d1 "$base" "$doomed"
is "a key before it is revoked -> 200" "$WEB_CODE" 200
keys revoke doomed 2>/dev/null
sleep 0.8
codes=""
for i in 1 2 3 4; do search "d2$i" "$base" "$doomed"; codes="$codes$WEB_CODE "; done
is "revoked: 401 within auth.refresh_ms, on both workers" "$codes" "401 401 401 401 "

# The rate of slow-app (5 a minute), counted across both workers. A window of one minute: wait
# for a fresh one if the current is about to end.
[ $((10#$(date +%S))) -lt 50 ] || sleep $((61 - 10#$(date +%S)))
rl_pids=()
for i in 1 2 3 4 5 6 7 8 9 10; do # at once: they spread over both workers
    search "rl$i" "$base" "$slow" &
    rl_pids+=($!)
done
wait "${rl_pids[@]}"
codes=$(for i in 1 2 3 4 5 6 7 8 9 10; do
    curl_code=$(head -n 1 "$WEB_DIR/rl$i.hdr" | awk '{print $2}')
    echo "$curl_code"
done | sort | uniq -c | awk '{print $2 "x" $1}' | paste -sd ' ' -)
is "a key with --rate 5, 10 requests at once on 2 workers: 5 pass, 5 get 429" "$codes" "200x5 429x5"
first429=$(grep -l '^HTTP/1.1 429' "$WEB_DIR"/rl*.hdr | head -n 1)
ra=$(grep -i '^Retry-After:' "$first429" | tr -d '\r' | awk '{print $2}')
is "... rate_limited, with Retry-After in 1..60 s" \
    "$(jq -r .error.code "${first429%.hdr}.body") $([ "${ra:-0}" -ge 1 ] && [ "${ra:-0}" -le 60 ] && echo ok)" "rate_limited ok"
served=$(grep -c 'path=/api/search status=200' "$WEB_DIR/workers.log")
pids=$(grep 'path=/api/search status=429' "$WEB_DIR/workers.log" | sed 's/.* pid=\([0-9]*\) .*/\1/' | sort -u | wc -l)
diag "429s came from $pids worker(s); $served searches served in all"
search other "$base" "$good"
is "another key is not limited by it" "$WEB_CODE" 200

# Redis stopped: not limited (the count is not there); started: limits apply again.
lx_redis_stop "$WEB_DIR"
codes=""
for i in 1 2 3 4; do search "nr$i" "$base" "$slow"; codes="$codes$WEB_CODE "; done
is "Redis down: a key over its rate is not limited (fail open)" "$codes" "200 200 200 200 "
lx_redis_start "$WEB_DIR" "$(cat "$WEB_DIR/redis.port")" >>"$WEB_DIR/setup.log" 2>&1
back=no
for _ in $(seq 1 40); do
    search rb "$base" "$slow"
    [ "$WEB_CODE" = 429 ] && back=yes && break
    sleep 0.25
done
is "Redis back: limits apply again" "$back" yes

web_finish
