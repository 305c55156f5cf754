# scripts/lib/pg.sh -- a throwaway PostgreSQL for the tests, on loopback, in a temp directory.
# shellcheck shell=bash
# Sourced (bash), or run as a command for the fault tests: `bash scripts/lib/pg.sh stop DIR`.
#
#   lx_pg_start DIR [PORT]  initdb into DIR/pg (once), start on a unix socket in DIR/pgsock and
#                           on 127.0.0.1:PORT (a free random one when omitted, retried if
#                           taken), trust auth, wait until it accepts, create database lexrag.
#                           Sets LX_PG_PORT, LX_PG_SOCKDIR and LX_PG_CONNINFO (TCP; also in
#                           DIR/pg.port, DIR/pg.conninfo). 0, or 1 with the log's tail.
#   lx_pg_stop DIR          pg_ctl stop -m fast (connections are cut; nothing is lost)
#   lx_pg_kill DIR          SIGKILL the postmaster (a crash; its backends exit on their own)
#   lx_pg_restart DIR       stop, then start again on the same port
#   lx_pg_psql DIR ARGS...  psql on the lexrag database as postgres (-X -q -v ON_ERROR_STOP=1)
#
# Running as root, initdb and postgres run as the postgres user (runuser) and DIR is opened
# to 0755 (mktemp -d makes it 0700); DIR/pg and DIR/pgsock belong to postgres. The log is DIR/pg.log.
# PostgreSQL's own server binaries are taken from LX_PG_BIN (default: pg_config's bindir, or
# /usr/lib/postgresql/<newest>/bin).

_lx_pg_err() { echo "pg.sh: $*" >&2; }

_lx_pg_bin() {
    local d
    if [ -n "${LX_PG_BIN:-}" ]; then
        echo "$LX_PG_BIN"
        return 0
    fi
    for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
        [ -x "$d/initdb" ] && {
            echo "$d"
            return 0
        }
    done
    d=$(pg_config --bindir 2>/dev/null) && [ -x "$d/initdb" ] && {
        echo "$d"
        return 0
    }
    return 1
}

_lx_pg_as() { # command... as the postgres user when we are root
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_lx_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

_lx_pg_port_free() { # PORT
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

_lx_pg_random_port() {
    local p _
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        _lx_pg_port_free "$p" && {
            echo "$p"
            return 0
        }
    done
    return 1
}

_lx_pg_tail() {
    [ -s "$1" ] || return 0
    echo "--- tail of $1:" >&2
    tail -n 20 "$1" | sed 's/^/    /' >&2
}

_lx_pg_init() { # DIR
    local dir=$1 bin
    bin=$(_lx_pg_bin) || {
        _lx_pg_err "no PostgreSQL server binaries (initdb) found; set LX_PG_BIN"
        return 1
    }
    [ -f "$dir/pg/PG_VERSION" ] && return 0
    chmod 755 "$dir" || return 1
    mkdir -p "$dir/pg" "$dir/pgsock" || return 1
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pg" "$dir/pgsock"
    chmod 700 "$dir/pg"
    chmod 755 "$dir/pgsock"
    : >"$dir/pg.log"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/pg.log"
    if ! _lx_pg_as "$bin/initdb" -D "$dir/pg" -U "$(_lx_pg_user)" -A trust -E UTF8 \
        --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
        _lx_pg_err "initdb failed in $dir/pg"
        _lx_pg_tail "$dir/initdb.log"
        return 1
    fi
}

_lx_pg_ctl_start() { # DIR PORT: 0, 2 if the port is taken, 1 otherwise
    local dir=$1 port=$2 bin
    bin=$(_lx_pg_bin) || return 1
    _lx_pg_port_free "$port" || return 2
    # -c options: loopback + a socket in DIR/pgsock only; no fsync (throwaway data); log to stderr,
    # which pg_ctl -l sends to DIR/pg.log.
    if ! _lx_pg_as "$bin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 30 \
        -o "-p $port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >"$dir/pg_ctl.log" 2>&1; then
        if grep -qiE 'could not bind|address already in use|could not create any TCP' \
            "$dir/pg.log" 2>/dev/null; then
            return 2
        fi
        _lx_pg_err "PostgreSQL did not start on port $port"
        _lx_pg_tail "$dir/pg_ctl.log"
        _lx_pg_tail "$dir/pg.log"
        return 1
    fi
    return 0
}

lx_pg_start() { # DIR [PORT]
    local dir=$1 port=${2:-} rc _ fixed=0
    [ -n "$port" ] && fixed=1
    _lx_pg_init "$dir" || return 1
    for _ in 1 2 3 4 5; do
        if [ "$fixed" -eq 0 ]; then
            port=$(_lx_pg_random_port) || return 1
        fi
        _lx_pg_ctl_start "$dir" "$port"
        rc=$?
        [ "$rc" -eq 0 ] && break
        if [ "$rc" -ne 2 ] || [ "$fixed" -eq 1 ]; then
            [ "$rc" -eq 2 ] && _lx_pg_err "port $port is taken"
            return 1
        fi
    done
    [ "$rc" -eq 0 ] || return 1
    LX_PG_PORT=$port
    LX_PG_CONNINFO="host=127.0.0.1 port=$port dbname=lexrag user=$(_lx_pg_user) connect_timeout=5"
    LX_PG_SOCKDIR=$dir/pgsock
    echo "$port" >"$dir/pg.port"
    echo "$LX_PG_CONNINFO" >"$dir/pg.conninfo"
    export LX_PG_PORT LX_PG_SOCKDIR LX_PG_CONNINFO
    if ! _lx_pg_as psql -X -q -h "$dir/pgsock" -p "$port" -U "$(_lx_pg_user)" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'lexrag'" 2>>"$dir/pg_ctl.log" | grep -q 1; then
        _lx_pg_as createdb -h "$dir/pgsock" -p "$port" -U "$(_lx_pg_user)" lexrag 2>>"$dir/pg_ctl.log" || {
            _lx_pg_err "createdb lexrag failed"
            _lx_pg_tail "$dir/pg_ctl.log"
            return 1
        }
    fi
    return 0
}

lx_pg_stop() { # DIR
    local dir=$1 bin
    bin=$(_lx_pg_bin) || return 1
    [ -f "$dir/pg/postmaster.pid" ] || return 0
    _lx_pg_as "$bin/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >>"$dir/pg_ctl.log" 2>&1
}

lx_pg_kill() { # DIR
    local dir=$1 pid deadline
    [ -f "$dir/pg/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$dir/pg/postmaster.pid")
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    # Wait until it is gone, reaped too: the next postmaster takes a pid that still answers
    # kill -0 (a zombie) for a live one and refuses to start. Its children exit on their own
    # when they notice; the next start copes with what they leave.
    deadline=$((SECONDS + 10))
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.05
    done
    rm -f "$dir/pg/postmaster.pid"
}

lx_pg_restart() { # DIR
    local dir=$1
    lx_pg_stop "$dir" || return 1
    lx_pg_start "$dir" "$(cat "$dir/pg.port")"
}

lx_pg_psql() { # DIR ARGS...
    local dir=$1
    shift
    _lx_pg_as psql -X -q -v ON_ERROR_STOP=1 -h "$dir/pgsock" -p "$(cat "$dir/pg.port")" \
        -U "$(_lx_pg_user)" -d lexrag "$@"
}

# As a command: bash scripts/lib/pg.sh start|stop|kill|restart DIR [PORT]
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
    start | stop | kill | restart)
        cmd=$1
        shift
        "lx_pg_$cmd" "$@"
        exit
        ;;
    *)
        echo "usage: $0 start|stop|kill|restart DIR [PORT]" >&2
        exit 2
        ;;
    esac
fi
