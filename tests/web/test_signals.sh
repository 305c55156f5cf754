#!/usr/bin/env bash
# tests/web/test_signals.sh -- SIGHUP reloads the config live (a bad one is ignored and the
# worker goes on), seen through lighttpd and Apache; SIGTERM lets an in-flight request finish
# and the worker then exits 0 (a worker started directly with --listen, no multiwatch).
# shellcheck source=web_lib.sh
. "$(dirname "$0")/web_lib.sh"

lx_write_config "$WEB_DIR" log.level=info
web_setup 2

body2k="$WEB_DIR/body2k.json"  # 2000 bytes
body500="$WEB_DIR/body500.json" # 500 bytes
web_json_body "$body2k" 2000
web_json_body "$body500" 500

post() { # URL FILE: the status
    curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        --data-binary "@$2" "$1"
}
# Status of K posts of FILE through every server, as one string ("413 413 ...").
posts() { # FILE K
    local srv _ out=""
    for srv in "${WEB_SERVERS[@]}"; do
        for _ in $(seq 1 "$2"); do
            out="$out $(post "${BASE[$srv]}/api/_test/echo" "$1")"
        done
    done
    echo "${out# }"
}
repeat() { # WORD K: WORD K times per server, as posts prints it
    local out="" _
    for _ in $(seq 1 $(($2 * ${#WEB_SERVERS[@]}))); do out="$out $1"; done
    echo "${out# }"
}
hup_all() {
    local p
    for p in $(lx_worker_pids "$WEB_DIR"); do kill -HUP "$p"; done
}
# Poll until a 2000-byte body gets WANT through the first server (the reload is asynchronous).
await() { # WANT
    local _
    for _ in $(seq 1 50); do
        [ "$(post "${BASE[${WEB_SERVERS[0]}]}/api/_test/echo" "$body2k")" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

mapfile -t pids0 < <(lx_worker_pids "$WEB_DIR")
is "2000-byte body accepted with the default limit" "$(posts "$body2k" 2)" "$(repeat 200 2)"

lx_write_config "$WEB_DIR" log.level=info server.max_body_bytes=1000
hup_all
await 413
is "after SIGHUP with max_body_bytes=1000: 2000-byte bodies get 413" "$(posts "$body2k" 4)" "$(repeat 413 4)"
is "... and 500-byte bodies still 200" "$(posts "$body500" 2)" "$(repeat 200 2)"

printf '[server]\nmax_body_bytes = banana\nno_such_key = 1\n' >"$WEB_DIR/lexrag.conf"
hup_all
sleep 0.5
is "bad config on SIGHUP: the workers still serve health" \
    "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "${BASE[${WEB_SERVERS[0]}]}/api/health")" 200
is "... and keep the previous settings (2000 bytes: 413)" "$(posts "$body2k" 2)" "$(repeat 413 2)"
is "... 500 bytes: 200" "$(posts "$body500" 2)" "$(repeat 200 2)"
is "... the same worker processes (none died)" "$(lx_worker_pids "$WEB_DIR" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "${pids0[@]}" | sort | tr '\n' ' ')"
n=$(grep -ciE 'reload|config' "$WEB_DIR/workers.log")
ok_if "... the rejected reload is logged" $((n > 0 ? 0 : 1))
grep -iE 'reload|config' "$WEB_DIR/workers.log" | tail -n 2 | sed 's/^/#   /'

lx_write_config "$WEB_DIR" log.level=info
hup_all
await 200
is "a good config again on SIGHUP: 2000-byte bodies accepted" "$(posts "$body2k" 2)" "$(repeat 200 2)"

# SIGTERM with a request in flight, on a worker of our own (not under multiwatch).
sock="$WEB_DIR/direct.sock"
if lx_start_worker "$WEB_DIR" direct "$sock" LEXRAG_SERVER_TEST_ROUTES=true \
    LEXRAG_SERVER_SHUTDOWN_GRACE_MS=5000 2>>"$WEB_DIR/setup.log"; then
    wpid=$(_lx_pid "$WEB_DIR" direct)
    python3 "$LX_FCGI_REQUEST" -t 10 "$sock" '/api/_test/hold?ms=1000' >"$WEB_DIR/held.out" 2>&1 &
    req_pid=$!
    sleep 0.3
    t_term=$EPOCHREALTIME
    kill -TERM "$wpid"
    sleep 0.1
    python3 "$LX_FCGI_REQUEST" -t 1 "$sock" /api/health >"$WEB_DIR/late.out" 2>&1
    late=$?
    ok_if "after SIGTERM a new request is not served (status $late)" \
        "$([ "$late" -ne 0 ] || ! grep -q '"status"' "$WEB_DIR/late.out"; echo $?)"
    wait "$req_pid"
    req_rc=$?
    is "the in-flight hold?ms=1000 request completed" "$req_rc" 0
    status=$(sed -n 's/^Status: *\([0-9]*\).*/\1/p' "$WEB_DIR/held.out" | head -n 1)
    is "... with 200" "${status:-200}" 200
    check "... and its body (held_ms 1000)" grep -q '"held_ms": *1000' "$WEB_DIR/held.out"
    [ "$req_rc" -eq 0 ] || sed 's/^/#   /' "$WEB_DIR/held.out"
    wait "$wpid"
    wrc=$?
    exit_ms=$(web_ms "$t_term")
    rm -f "$WEB_DIR/pids/direct.pid"
    is "the worker exited 0 after SIGTERM" "$wrc" 0
    ok_if "... once the request was done (${exit_ms} ms after SIGTERM; hold ended ~700 ms after)" \
        $((exit_ms >= 600 && exit_ms < 5000 ? 0 : 1))
else
    ok_if "start a worker with --listen $sock" 1
fi

web_finish
