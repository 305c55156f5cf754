# shellcheck shell=bash source-path=SCRIPTDIR
# tests/web/web_lib.sh -- what the web tests share (sourced; not a test itself).
#
#   web_setup N [VAR=value ...]  N workers (test routes on) behind lighttpd and Apache, each on a
#                                random free loopback port; BASE[lighttpd], BASE[apache] are the
#                                base URLs, WEB_SERVERS the servers in use (LX_WEB_SERVERS, e.g.
#                                "lighttpd", narrows it). Everything lives in $WEB_DIR.
#   web_finish                   stop everything, check the worker logs, print the TAP plan and
#                                exit with the result.
#   web_req NAME URL [ARGS...]   curl URL; the status in WEB_CODE, headers and body in
#                                $WEB_DIR/NAME.hdr and $WEB_DIR/NAME.body
#   web_header NAME HEADER       a response header's value (last one, CR stripped)
#   web_ms T0 [T1]               milliseconds between two $EPOCHREALTIME stamps (T1: now)
#   web_wait_index BASE          until the workers have loaded the search indexes
#   web_json_body FILE BYTES     write {"query": "aaa..."} of exactly BYTES bytes
# On failure the tails of the worker and web-server logs are printed as "# " lines.
set -u
export LC_ALL=C # "." in $EPOCHREALTIME and awk
LX_ROOT=${LX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export LX_ROOT
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_BUILD
# shellcheck source=../lib/tap.sh
. "$LX_ROOT/tests/lib/tap.sh"
# shellcheck source=../../scripts/lib/services.sh
. "$LX_ROOT/scripts/lib/services.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"

# Under /tmp so that Apache's www-data children can reach the socket when we are root.
WEB_DIR=$(mktemp -d /tmp/lexrag-web.XXXXXX) || exit 2
declare -A BASE=()
read -r -a WEB_SERVERS <<<"${LX_WEB_SERVERS:-lighttpd apache}"
_web_done=0

web_diag_logs() {
    local f
    for f in "$WEB_DIR"/*.log; do
        [ -s "$f" ] || continue
        diag "--- tail of $(basename "$f"):"
        tail -n 25 "$f" | sed 's/^/#   /'
    done
}

_web_cleanup() {
    if [ "$_web_done" -eq 0 ]; then
        lx_stop_all "$WEB_DIR" 5 2>/dev/null
        [ "$_tap_failed" -gt 0 ] && web_diag_logs
    fi
    rm -rf "$WEB_DIR"
}
trap 'rc=$?; _web_cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM HUP

_web_start_server() { # lighttpd|apache
    local name=$1 port rc _
    for _ in 1 2 3 4 5; do
        port=$(lx_random_port) || return 1
        "lx_start_$name" "$WEB_DIR" "$port"
        rc=$?
        if [ "$rc" -eq 0 ]; then
            BASE[$name]="http://127.0.0.1:$port"
            return 0
        fi
        [ "$rc" -eq 2 ] || return 1 # 2: port taken, try another
    done
    return 1
}

web_setup() { # N [VAR=value ...]
    local n=$1 srv
    shift
    if [ ! -x "$LX_BUILD/lexrag-fcgi" ]; then
        ok_if "worker binary $LX_BUILD/lexrag-fcgi exists" 1
        tap_done
        exit 1
    fi
    [ -f "$WEB_DIR/lexrag.conf" ] || lx_write_config "$WEB_DIR" log.level=info
    if ! lx_start_workers "$WEB_DIR" "$n" LEXRAG_SERVER_TEST_ROUTES=true "$@" 2>>"$WEB_DIR/setup.log"; then
        ok_if "start $n workers" 1
        web_finish
    fi
    for srv in "${WEB_SERVERS[@]}"; do
        if ! _web_start_server "$srv" 2>>"$WEB_DIR/setup.log"; then
            ok_if "start $srv" 1
            web_finish
        fi
    done
    diag "workers: $(lx_worker_pids "$WEB_DIR" | tr '\n' ' ')build: $LX_BUILD"
    for srv in "${WEB_SERVERS[@]}"; do
        diag "$srv: ${BASE[$srv]}"
    done
}

web_finish() {
    local stopped=0
    lx_stop_all "$WEB_DIR" 15 2>>"$WEB_DIR/setup.log" || stopped=1
    _web_done=1
    ok_if "everything stopped on SIGTERM (workers finished within their grace)" "$stopped"
    if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' \
        "$WEB_DIR"/workers.log "$WEB_DIR"/direct*.log 2>/dev/null; then
        ok_if "no sanitizer reports in the worker logs" 1
        grep -hE -A 12 'ERROR: [A-Za-z]+Sanitizer|runtime error:' \
            "$WEB_DIR"/workers.log "$WEB_DIR"/direct*.log 2>/dev/null | head -n 40 | sed 's/^/#   /'
    else
        ok_if "no sanitizer reports in the worker logs" 0
    fi
    [ "$_tap_failed" -gt 0 ] && web_diag_logs
    tap_done
    exit
}

web_req() { # NAME URL [curl-args...]
    local name=$1 url=$2
    shift 2
    # shellcheck disable=SC2034 # read by the tests
    WEB_CODE=$(curl -s -m 20 -D "$WEB_DIR/$name.hdr" -o "$WEB_DIR/$name.body" -w '%{http_code}' \
        "$@" "$url" 2>/dev/null)
}

web_header() { # NAME HEADER
    grep -i "^$2:" "$WEB_DIR/$1.hdr" 2>/dev/null | tail -n 1 | sed 's/^[^:]*:[[:space:]]*//; s/\r$//'
}

web_json_body() { # FILE BYTES: {"query": "aaa..."} of exactly BYTES bytes
    python3 -c 'import sys; n = int(sys.argv[2]); open(sys.argv[1], "w").write("{\"query\": \"" + "a" * (n - 13) + "\"}")' \
        "$1" "$2"
}

# web_sample_stack N [section.key=value ...]: PostgreSQL and Redis, a config (the run
# directory's index and spool, the given keys), the sample corpus loaded with lexrag-ingest,
# N workers behind the web servers, and the indexes loaded. A failure ends the test.
web_sample_stack() {
    local n=$1
    shift
    if ! lx_pg_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 ||
        ! lx_redis_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1; then
        ok_if "start PostgreSQL and Redis" 1
        web_finish
    fi
    lx_write_config "$WEB_DIR" "postgres.conninfo=$LX_PG_CONNINFO" "redis.port=$LX_REDIS_PORT" \
        "index.dir=$WEB_DIR/index" index.check_ms=200 "chat.spool_dir=$WEB_DIR/spool" "$@"
    check "lexrag-ingest loads the sample corpus" \
        "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
        --docs "$LX_ROOT/data/sample/docs.jsonl" "$LX_ROOT/data/sample/corpus.jsonl"
    web_setup "$n"
    web_wait_index "${BASE[${WEB_SERVERS[0]}]}" || {
        ok_if "the workers load the indexes" 1
        web_finish
    }
}

web_wait_index() { # BASE: until the workers behind it have loaded the indexes (30 s at most)
    local _
    for _ in $(seq 1 150); do
        web_req health "$1/api/health"
        [ "$(jq -r '.checks.index.dense' "$WEB_DIR/health.body" 2>/dev/null)" = true ] && return 0
        sleep 0.2
    done
    return 1
}

web_ms() { # T0 [T1]
    awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%d", (b - a) * 1000 }'
}
