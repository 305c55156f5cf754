# scripts/lib/redis.sh -- a throwaway Redis for the tests, on loopback, in a temp directory.
# shellcheck shell=bash
# Sourced (bash), or run as a command for the fault tests: `bash scripts/lib/redis.sh stop DIR`.
#
#   lx_redis_start DIR [PORT]  redis-server on 127.0.0.1:PORT (a free random one when omitted,
#                              retried if taken), no persistence, in the foreground of a
#                              background job; waits until it answers PING. Sets LX_REDIS_PORT
#                              (also written to DIR/redis.port). 0, or 1 with the log's tail.
#   lx_redis_stop DIR          SIGTERM, wait until it is gone (SIGKILL after 10 s)
#   lx_redis_kill DIR          SIGKILL (a crash)
#   lx_redis_restart DIR       stop, then start again on the same port
#   lx_redis_cli DIR ARGS...   redis-cli on it
#
# The pid is DIR/pids/redis.pid (so scripts/lib/services.sh's lx_stop_all stops it too); the
# log is DIR/redis.log.

_lx_redis_err() { echo "redis.sh: $*" >&2; }

_lx_redis_port_free() { # PORT
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

_lx_redis_alive() { # PID (a zombie does not count)
    local state
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

_lx_redis_tail() {
    [ -s "$1" ] || return 0
    echo "--- tail of $1:" >&2
    tail -n 20 "$1" | sed 's/^/    /' >&2
}

_lx_redis_run() { # DIR PORT: 0, 2 if the port is taken, 1 otherwise
    local dir=$1 port=$2 pid deadline
    _lx_redis_port_free "$port" || return 2
    mkdir -p "$dir/pids"
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --daemonize no --logfile '' >>"$dir/redis.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/pids/redis.pid"
    deadline=$((SECONDS + 10))
    while :; do
        if ! _lx_redis_alive "$pid"; then
            wait "$pid" 2>/dev/null
            rm -f "$dir/pids/redis.pid"
            if grep -qiE 'address already in use|could not create server tcp' "$dir/redis.log"; then
                return 2
            fi
            _lx_redis_err "redis-server on port $port exited"
            _lx_redis_tail "$dir/redis.log"
            return 1
        fi
        [ "$(redis-cli -h 127.0.0.1 -p "$port" PING 2>/dev/null)" = PONG ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            _lx_redis_err "redis-server on port $port does not answer"
            _lx_redis_tail "$dir/redis.log"
            return 1
        fi
        sleep 0.05
    done
}

lx_redis_start() { # DIR [PORT]
    local dir=$1 port=${2:-} rc _ p
    mkdir -p "$dir" || return 1
    for _ in 1 2 3 4 5; do
        if [ -z "${2:-}" ]; then
            port=""
            for _ in $(seq 1 50); do
                p=$((20000 + RANDOM % 40000))
                _lx_redis_port_free "$p" && {
                    port=$p
                    break
                }
            done
            [ -n "$port" ] || return 1
        fi
        _lx_redis_run "$dir" "$port"
        rc=$?
        [ "$rc" -eq 0 ] && break
        if [ "$rc" -ne 2 ] || [ -n "${2:-}" ]; then
            [ "$rc" -eq 2 ] && _lx_redis_err "port $port is taken"
            return 1
        fi
    done
    [ "$rc" -eq 0 ] || return 1
    LX_REDIS_PORT=$port
    export LX_REDIS_PORT
    echo "$port" >"$dir/redis.port"
}

lx_redis_stop() { # DIR [SIGNAL]
    local dir=$1 sig=${2:-TERM} pid deadline
    [ -f "$dir/pids/redis.pid" ] || return 0
    pid=$(cat "$dir/pids/redis.pid")
    if _lx_redis_alive "$pid"; then
        kill -"$sig" "$pid" 2>/dev/null
        deadline=$((SECONDS + 10))
        while _lx_redis_alive "$pid"; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                kill -KILL "$pid" 2>/dev/null
                sleep 0.1
                break
            fi
            sleep 0.02
        done
    fi
    wait "$pid" 2>/dev/null # our child when started from this shell: reap it
    rm -f "$dir/pids/redis.pid"
    return 0
}

lx_redis_kill() { lx_redis_stop "$1" KILL; }

lx_redis_restart() { # DIR
    lx_redis_stop "$1" || return 1
    lx_redis_start "$1" "$(cat "$1/redis.port")"
}

lx_redis_cli() { # DIR ARGS...
    local dir=$1
    shift
    redis-cli -h 127.0.0.1 -p "$(cat "$dir/redis.port")" "$@"
}

# As a command: bash scripts/lib/redis.sh start|stop|kill|restart DIR [PORT]
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    start | stop | kill | restart)
        cmd=$1
        shift
        "lx_redis_$cmd" "$@"
        exit
        ;;
    *)
        echo "usage: $0 start|stop|kill|restart DIR [PORT]" >&2
        exit 2
        ;;
    esac
fi
