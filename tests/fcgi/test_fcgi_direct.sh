#!/usr/bin/env bash
# tests/fcgi/test_fcgi_direct.sh -- one lexrag-fcgi worker driven directly by
# tests/fcgi/fcgi_client, no web server: requests whole, in pieces, byte by byte and on kept
# connections; the request cut at every byte; FCGI_GET_VALUES and an unknown type;
# FCGI_ABORT_REQUEST; a slow reader (bounded memory); garbage input. The worker must survive
# all of it and exit 0 on SIGTERM. Needs LX_BUILD (tests/run sets it; default build/).
set -u
root=${LX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=SCRIPTDIR/../lib/tap.sh
. "$root/tests/lib/tap.sh"
build=${LX_BUILD:-$root/build}
worker=$build/lexrag-fcgi
client=$build/tests/fcgi_client

tmp=$(mktemp -d)
sock=$tmp/w.sock
log=$tmp/worker.log
wpid=
cleanup() {
    if [ -n "$wpid" ] && kill -0 "$wpid" 2>/dev/null; then
        kill -KILL "$wpid" 2>/dev/null
        wait "$wpid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

show_log() {
    diag "worker log (last lines of $log):"
    tail -n 25 "$log" 2>/dev/null | sed 's/^/#   /'
}

# fc NAME ARGS...: run fcgi_client against the worker; its stdout goes to $tmp/NAME.out (and
# summary lines to the TAP output as comments); on failure, its message and the worker's log.
fc() {
    local name=$1
    shift
    "$client" --connect "$sock" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        diag "fcgi_client $* -> exit $rc"
        sed 's/^/#   /' "$tmp/$name.err" | tail -n 20
        head -c 2000 "$tmp/$name.out" | sed 's/^/#   out: /'
        show_log
    fi
    return "$rc"
}

# fc_summary NAME ARGS...: fc, with its stdout shown as comments (scenarios print summaries).
fc_summary() {
    fc "$@"
    local rc=$?
    [ "$rc" -eq 0 ] && sed 's/^/# /' "$tmp/$1.out"
    return "$rc"
}

# has NAME TEXT: the response saved as NAME contains TEXT.
has() {
    if grep -qF -- "$2" "$tmp/$1.out"; then
        return 0
    fi
    diag "no '$2' in:"
    head -c 1000 "$tmp/$1.out" | sed 's/^/#   /'
    return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

for f in "$worker" "$client"; do
    if [ ! -x "$f" ]; then
        echo "not ok 1 - $f is built (run make tests)"
        echo "1..1"
        exit 1
    fi
done

# ---- start ------------------------------------------------------------------------------
LEXRAG_SERVER_TEST_ROUTES=true "$worker" --listen "$sock" </dev/null 2>"$log" &
wpid=$!
wait_socket() {
    local i
    for i in $(seq 100); do
        [ -S "$sock" ] && return 0
        kill -0 "$wpid" 2>/dev/null || break
        sleep 0.05
    done
    show_log
    return 1
}
check "the worker listens on $sock" wait_socket
if [ ! -S "$sock" ]; then
    tap_done
    exit 1
fi

# ---- requests ---------------------------------------------------------------------------
check "GET /api/health: 200" fc health request --uri /api/health --expect-status 200
if [ ! -s "$tmp/health.out" ]; then
    diag "the worker does not answer at all: not running the rest"
    tap_done
    exit 1
fi
check "  its body is JSON with this worker's pid" has health "\"pid\""
check "  pid is $wpid" grep -qE "\"pid\": *${wpid}[,}]" "$tmp/health.out"
check "  Content-Type: application/json" has health "Content-Type: application/json"

check "X-Request-Id of the client is echoed" \
    fc rid request --uri /api/health --header X-Request-Id=fcgi-direct-42 --expect-status 200
check "  X-Request-Id: fcgi-direct-42" has rid "X-Request-Id: fcgi-direct-42"

check "request written in 3-byte pieces" fc split3 request --split 3 --expect-status 200
check "request written in 8-byte pieces" fc split8 request --split 8 --expect-status 200
check "request written one byte at a time" fc bytewise request --bytewise --expect-status 200
check "PARAMS in 7-byte records (pairs straddle records)" \
    fc pchunk request --params-chunk 7 --expect-status 200
check "5 requests on one FCGI_KEEP_CONN connection" \
    fc keep5 request --keep-conn 5 --expect-status 200
check "3 kept requests, each one byte at a time" \
    fc keep3b request --keep-conn 3 --bytewise --pause-us 200 --expect-status 200
check "unknown path: 404" fc notfound request --uri /api/no-such-route --expect-status 404

printf '{"query": "sanksi pidana korupsi", "top_k": 3}' >"$tmp/echo.json"
check "POST /api/_test/echo with a JSON body: 200" \
    fc echo request --method POST --uri /api/_test/echo --body "$tmp/echo.json" \
    --expect-status 200
check "  the body came through" has echo "sanksi pidana korupsi"
check "POST body written in 5-byte pieces" \
    fc echo5 request --method POST --uri /api/_test/echo --body "$tmp/echo.json" --split 5 \
    --pause-us 100 --expect-status 200
printf '{"query": "unterminated' >"$tmp/bad.json"
check "POST invalid JSON: 400" \
    fc badjson request --method POST --uri /api/_test/echo --body "$tmp/bad.json" \
    --expect-status 400
check "  code invalid_json" has badjson "invalid_json"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$tmp/big.body"
check "POST of 2 MiB (over max_body_bytes, many STDIN records): 413" \
    fc big request --method POST --uri /api/_test/echo --body "$tmp/big.body" \
    --expect-status 413

held_together() { # 20 requests holding 500 ms each, at once: done in about 500 ms
    local t0 i rc=0 pids=()
    t0=$(date +%s%N)
    for i in $(seq 20); do
        "$client" --connect "$sock" request --uri "/api/_test/hold?ms=500" --expect-status 200 \
            >/dev/null 2>"$tmp/hold.$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || rc=1
    done
    local ms=$((($(date +%s%N) - t0) / 1000000))
    diag "20 requests holding 500 ms each took $ms ms together"
    [ "$rc" -eq 0 ] || { cat "$tmp"/hold.*.err | sed 's/^/#   /' | head -n 20; show_log; }
    [ "$rc" -eq 0 ] && [ "$ms" -lt 5000 ] # one after another: 10 s
}
check "20 held requests are served at once" held_together

# ---- protocol scenarios -----------------------------------------------------------------
check "the request cut at every byte: 200 each time" fc_summary splits splits
check "FCGI_GET_VALUES and an unknown record type" fc_summary values get-values
check "FCGI_MPXS_CONNS=0" has values "FCGI_MPXS_CONNS=0"
check "FCGI_ABORT_REQUEST is answered at once" fc_summary abort abort
rss0=$(rss_kb "$wpid")
check "a slow reader of 256 MB: worker RSS within ${rss0} + 32768 kB" \
    fc_summary slow slow-reader --pid "$wpid" --max-rss-kb $((rss0 + 32768))
check "garbage closes its connection; the worker serves on" fc_summary garbage garbage

# ---- the end ----------------------------------------------------------------------------
check "GET /api/health still answers" fc health2 request --uri /api/health --expect-status 200
alive() {
    kill -0 "$wpid" 2>/dev/null || { show_log; return 1; }
}
check "the worker is still alive" alive

stop_worker() { # SIGTERM: exit status 0 within 5 s
    kill -TERM "$wpid" || return 1
    local i
    for i in $(seq 50); do
        kill -0 "$wpid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$wpid" 2>/dev/null; then
        diag "still running 5 s after SIGTERM"
        show_log
        return 1
    fi
    wait "$wpid"
    local rc=$?
    wpid=
    [ "$rc" -eq 0 ] || { diag "exit status $rc"; show_log; }
    return "$rc"
}
check "SIGTERM: the worker exits 0 within 5 s" stop_worker

tap_done
