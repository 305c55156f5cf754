#!/usr/bin/env bash
# tests/web/test_smoke.sh -- scripts/smoke, the operator's check after a deploy: it passes
# against lighttpd and Apache over the sample corpus (PostgreSQL, Redis, the extractive
# generator), one "ok" line per check in order; it fails, naming the failing check, against a
# port where nothing listens, a path where no lexrag answers, and the stack with PostgreSQL
# stopped, and passes again once PostgreSQL is back; it sends the API key as a bearer token
# (from --key or LEXRAG_API_KEY) without showing it in the process list; usage errors exit 2.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/web_lib.sh"

smoke=$LX_ROOT/scripts/smoke

web_sample_stack 2 chat.spool_retry_ms=300 postgres.timeout_ms=1000

# run_smoke NAME ARGS...: scripts/smoke's output in $WEB_DIR/NAME.out, its status in SMOKE_RC,
# its duration in SMOKE_MS.
run_smoke() {
    local name=$1 t0=$EPOCHREALTIME
    shift
    SMOKE_RC=0
    "$smoke" "$@" >"$WEB_DIR/$name.out" 2>&1 || SMOKE_RC=$?
    SMOKE_MS=$(web_ms "$t0")
    sed "s/^/#   $name: /" "$WEB_DIR/$name.out"
}
# checks NAME: the first word and the check of each result line ("ok health", "FAIL search:")
checks() { awk '$1 == "ok" || $1 == "FAIL" { print $1, $2 }' "$WEB_DIR/$1.out" | paste -sd ' '; }

for srv in "${WEB_SERVERS[@]}"; do
    base=${BASE[$srv]}
    run_smoke "ok-$srv" "$base"
    is "$srv: smoke passes (status 0)" "$SMOKE_RC" 0
    is "$srv: one ok line per check, in order" "$(checks "ok-$srv")" \
        "ok health ok search ok chat ok conversation"
    ok_if "$srv: ... each with its time in ms" \
        "$(grep -cE '^ok +[a-z]+ +[0-9]+ ms ' "$WEB_DIR/ok-$srv.out" | grep -qx 4; echo $?)"
    ok_if "$srv: ... and a summary line" "$(grep -q '^smoke: all 4 checks passed' "$WEB_DIR/ok-$srv.out"; echo $?)"
done

base=${BASE[${WEB_SERVERS[0]}]}
run_smoke query --query "apa yang dimaksud dengan pasar terapung?" "$base/"
is "--query: another question, base URL with a trailing slash: passes" "$SMOKE_RC" 0
ok_if "--query: the conversation holds that question" \
    "$(grep -qE '^ok +conversation .*messages' "$WEB_DIR/query.out"; echo $?)"

# Nothing listens: every request fails at once, the first check named.
port=$(lx_random_port)
run_smoke down "http://127.0.0.1:$port"
is "nothing listening: status 1" "$SMOKE_RC" 1
is "nothing listening: every check fails, in order" "$(checks down)" \
    "FAIL health: FAIL search: FAIL chat: FAIL conversation:"
ok_if "nothing listening: the reason is the connection" \
    "$(grep -qE '^FAIL +health: no answer: .*(connect|Connection refused)' "$WEB_DIR/down.out"; echo $?)"
ok_if "nothing listening: done within 10 s ($SMOKE_MS ms)" $((SMOKE_MS < 10000 ? 0 : 1))

# A web server without lexrag behind the path: 404 from the first check on.
run_smoke wrong "$base/nope"
is "wrong path: status 1, health fails with 404" \
    "$SMOKE_RC $(grep -oE '^FAIL +health: HTTP [0-9]+' "$WEB_DIR/wrong.out")" "1 FAIL  health: HTTP 404"

# PostgreSQL stopped: the service still answers (health degraded), but searching, chatting and
# storing conversations cannot work; smoke says which.
if lx_pg_stop "$WEB_DIR"; then
    run_smoke pgdown --timeout 10 --wait 2 "$base"
    is "PostgreSQL stopped: status 1" "$SMOKE_RC" 1
    ok_if "PostgreSQL stopped: health still answers (ok line)" \
        "$(grep -qE '^ok +health .*degraded' "$WEB_DIR/pgdown.out"; echo $?)"
    ok_if "PostgreSQL stopped: a FAIL line names search, chat or conversation" \
        "$(grep -qE '^FAIL +(search|chat|conversation): ' "$WEB_DIR/pgdown.out"; echo $?)"
    ok_if "PostgreSQL stopped: the summary says it failed" \
        "$(grep -qE '^smoke: [1-4] of 4 checks FAILED' "$WEB_DIR/pgdown.out"; echo $?)"
    ok_if "PostgreSQL stopped: bounded (${SMOKE_MS} ms, under 40 s)" $((SMOKE_MS < 40000 ? 0 : 1))
    check "PostgreSQL started again" lx_pg_start "$WEB_DIR" "$(cat "$WEB_DIR/pg.port")"
    for _ in $(seq 1 50); do # until the workers are connected again
        run_smoke pgback "$base" >/dev/null
        [ "$SMOKE_RC" -eq 0 ] && break
        sleep 0.2
    done
    run_smoke pgback "$base"
    is "PostgreSQL back: smoke passes again" "$SMOKE_RC" 0
else
    ok_if "stop PostgreSQL" 1
fi

# The API key goes out as a bearer token, read from a file by curl (never on its command line,
# which every user of the machine can read). A listener records each request and answers 503,
# the first one after a second, while the test looks at the command lines of the curls running.
cat >"$WEB_DIR/listen.py" <<'PY'
import socket, sys, time
body = b'{"error":{"code":"unavailable","message":"nope!!"}}'
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "wb") as out:
    for i in range(3):  # health, search, chat
        c, _ = s.accept()
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            part = c.recv(4096)
            if not part:
                break
            data += part
        out.write(data.split(b"\r\n\r\n")[0] + b"\n\n")
        out.flush()
        if i == 0:
            time.sleep(1)
        c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        c.close()
PY
# key_run NAME SECRET ARGS...: smoke against the listener; what it received in NAME.req; SEEN
# is 1 when SECRET was in a running curl's command line.
key_run() {
    local name=$1 secret=$2 lp sp p _
    shift 2
    rm -f "$WEB_DIR/listen.port"
    python3 "$WEB_DIR/listen.py" "$WEB_DIR/listen.port" "$WEB_DIR/$name.req" &
    lp=$!
    for _ in $(seq 1 50); do
        [ -s "$WEB_DIR/listen.port" ] && break
        sleep 0.1
    done
    SEEN=0
    run_smoke "$name" "$@" "http://127.0.0.1:$(cat "$WEB_DIR/listen.port")" &
    sp=$!
    while _lx_alive "$sp"; do
        for p in $(pgrep -x curl); do
            tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$secret" && SEEN=1
        done
        sleep 0.05
    done
    wait "$sp"
    kill "$lp" 2>/dev/null
    wait "$lp" 2>/dev/null
}
key_run key1 k-123.secret --key k-123.secret
is "--key: sent as Authorization: Bearer on every request" \
    "$(grep -c '^Authorization: Bearer k-123.secret' "$WEB_DIR/key1.req")" 3
is "--key: not in any curl's command line" "$SEEN" 0
is "a 503 fails health, search and chat with its code; conversation not checked" \
    "$(checks key1) $(grep -c 'HTTP 503 unavailable: nope!!' "$WEB_DIR/key1.out")" \
    "FAIL health: FAIL search: FAIL chat: FAIL conversation: 3"
ok_if "each request carries its X-Request-Id, named in the FAIL line" \
    "$(rid=$(grep -oE 'smoke-[0-9]+-search' "$WEB_DIR/key1.out") &&
        grep -q "^X-Request-Id: $rid" "$WEB_DIR/key1.req"; echo $?)"
LEXRAG_API_KEY=from-env key_run key2 from-env
is "LEXRAG_API_KEY: sent as the bearer token" \
    "$(grep -c '^Authorization: Bearer from-env' "$WEB_DIR/key2.req")" 3
key_run key3 none
is "no key: no Authorization header" "$(grep -ci '^Authorization:' "$WEB_DIR/key3.req")" 0

# Usage errors: status 2, nothing requested.
for args in "--nope" "--timeout 0 $base" "--timeout x $base" "--query" "ftp://x" "$base $base" \
    "--wait 99999 $base"; do
    # shellcheck disable=SC2086 # the words are the arguments
    run_smoke usage $args
    is "usage error ($args): status 2" "$SMOKE_RC" 2
done
run_smoke usage --key $'a\nb' "$base"
is "a key with a newline: status 2" "$SMOKE_RC" 2

web_finish
