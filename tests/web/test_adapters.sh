#!/usr/bin/env bash
# tests/web/test_adapters.sh -- the backend adapters against real servers: starts a throwaway
# PostgreSQL and Redis (scripts/lib/pg.sh, redis.sh) and the mock OpenAI server on loopback in a
# temp directory, then runs the unit programs test_pg_ev, test_rds and test_up_multi of
# $LX_BUILD with their environment set (alone, tests/run finds it unset and they skip):
#   LX_TEST_PG_CONNINFO, LX_TEST_PG_STOP / _START      (restart test)
#   LX_TEST_REDIS_PORT, LX_TEST_REDIS_STOP / _START    (reconnect test: Redis stops and starts
#                                                       between two commands)
#   LX_TEST_MOCK_URL
# Each program's results come back as TAP lines of this script ("test_rds: test_reconnect"),
# plus one line per program for its exit status (a crash, a watchdog, a sanitizer report); on
# failure its whole output follows as "# " lines. Then it checks that Redis and PostgreSQL are
# serving again after the fault tests, and stops everything.
# shellcheck source-path=SCRIPTDIR
set -u
export LC_ALL=C
LX_ROOT=${LX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
# shellcheck source=../lib/tap.sh
. "$LX_ROOT/tests/lib/tap.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"

DIR=$(mktemp -d /tmp/lexrag-adapters.XXXXXX) || exit 2
chmod 755 "$DIR"
mock_pid=""

cleanup() {
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
    lx_redis_stop "$DIR" >/dev/null 2>&1
    lx_pg_stop "$DIR" >/dev/null 2>&1 || lx_pg_kill "$DIR" >/dev/null 2>&1
    if [ "$_tap_failed" -gt 0 ]; then
        for f in "$DIR"/pg.log "$DIR"/redis.log "$DIR"/mock.log; do
            [ -s "$f" ] || continue
            diag "--- tail of $(basename "$f"):"
            tail -n 15 "$f" | sed 's/^/#   /'
        done
    fi
    rm -rf "$DIR"
}
trap 'rc=$?; cleanup; exit $rc' EXIT
trap 'exit 130' INT TERM HUP

# ---- servers -------------------------------------------------------------------------------

ms_since() { # $EPOCHREALTIME stamp: milliseconds since
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'
}

t0=$EPOCHREALTIME
if ! _lx_pg_bin >/dev/null; then
    skip "PostgreSQL starts" "no initdb (set LX_PG_BIN): test_pg_ev skips"
elif lx_pg_start "$DIR" 2>"$DIR/pg_start.err"; then
    ok_if "PostgreSQL starts on 127.0.0.1:$LX_PG_PORT (initdb and start: $(ms_since "$t0") ms)" 0
    export LX_TEST_PG_CONNINFO=$LX_PG_CONNINFO
    export LX_TEST_PG_STOP="bash $LX_ROOT/scripts/lib/pg.sh stop $DIR"
    export LX_TEST_PG_START="bash $LX_ROOT/scripts/lib/pg.sh start $DIR $LX_PG_PORT"
else
    ok_if "PostgreSQL starts" 1
    sed 's/^/#   /' "$DIR/pg_start.err"
fi

if ! command -v redis-server >/dev/null; then
    skip "Redis starts" "no redis-server: test_rds skips"
elif lx_redis_start "$DIR" 2>"$DIR/redis_start.err"; then
    ok_if "Redis starts on 127.0.0.1:$LX_REDIS_PORT" 0
    export LX_TEST_REDIS_PORT=$LX_REDIS_PORT
    export LX_TEST_REDIS_STOP="bash $LX_ROOT/scripts/lib/redis.sh stop $DIR"
    export LX_TEST_REDIS_START="bash $LX_ROOT/scripts/lib/redis.sh start $DIR $LX_REDIS_PORT"
else
    ok_if "Redis starts" 1
    sed 's/^/#   /' "$DIR/redis_start.err"
fi

mock_bin=$LX_BUILD/tests/mock_openai
[ -x "$mock_bin" ] || mock_bin=$LX_ROOT/build/tests/mock_openai
if [ -x "$mock_bin" ]; then
    "$mock_bin" --listen 127.0.0.1:0 --port-file "$DIR/mock.port" --quiet \
        >"$DIR/mock.log" 2>&1 </dev/null &
    mock_pid=$!
    for _ in $(seq 1 100); do
        [ -s "$DIR/mock.port" ] && break
        sleep 0.05
    done
    mock_url="http://127.0.0.1:$(cat "$DIR/mock.port" 2>/dev/null)"
    if [ -s "$DIR/mock.port" ] &&
        [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$mock_url/_stats")" = 200 ]; then
        ok_if "the mock OpenAI server starts at $mock_url" 0
        export LX_TEST_MOCK_URL=$mock_url
    else
        ok_if "the mock OpenAI server starts" 1
    fi
else
    skip "the mock OpenAI server starts" "no $mock_bin (make tests builds it): test_up_multi skips"
fi

# ---- the unit programs ---------------------------------------------------------------------

# run_unit NAME: run $LX_BUILD/tests/NAME under TAP, re-emit its lines as ours.
run_unit() {
    local name=$1 bin=$LX_BUILD/tests/$1 out rc line why="" t1=$SECONDS n_ok=0
    if [ ! -x "$bin" ]; then
        ok_if "$name is built ($bin)" 1
        return
    fi
    out="$DIR/$name.out"
    CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 5 300 "$bin" >"$out" 2>&1
    rc=$?
    # Under TAP a test that cannot run prints "# SKIP: why" and passes (evloop_test.h);
    # cmocka 1.1.5 itself would print "not ok N # SKIP".
    while IFS= read -r line; do
        case $line in
        "# SKIP: "*)
            why=${line#\# SKIP: }
            continue ;;
        "ok "*)
            if [ -n "$why" ]; then
                skip "$name: ${line#ok * - }" "$why"
            else
                ok_if "$name: ${line#ok * - }" 0
                n_ok=$((n_ok + 1))
            fi ;;
        "not ok "*"# SKIP"*)
            skip "$name: ${line#not ok * # SKIP }" "cmocka skip()" ;;
        "not ok "*)
            ok_if "$name: ${line#not ok * - }" 1 ;;
        esac
        why=""
    done <"$out"
    ok_if "$name exits 0 ($n_ok passed, $((SECONDS - t1)) s)" "$rc"
    if [ "$rc" -ne 0 ] || grep -q '^not ok' "$out"; then
        diag "--- output of $name (status $rc):"
        sed 's/^/#   /' "$out"
    else
        grep -E '^# ' "$out" | grep -vE '^# (ok|not ok) - ' # its measurements
    fi
}

run_unit test_pg_ev
run_unit test_rds
run_unit test_up_multi

# ---- after the fault tests -------------------------------------------------------------------

if [ -n "${LX_TEST_REDIS_PORT:-}" ]; then
    is "Redis answers again after the stop/start of the reconnect test" \
        "$(lx_redis_cli "$DIR" PING 2>&1)" PONG
fi
if [ -n "${LX_TEST_PG_CONNINFO:-}" ]; then
    is "PostgreSQL answers again after the restart test" \
        "$(lx_pg_psql "$DIR" -tAc 'SELECT 1' 2>&1)" 1
fi

tap_done
