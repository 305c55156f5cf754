# shellcheck shell=bash
# scripts/lib/services.sh -- start and stop lexrag's workers and a web server in front of them,
# all inside one run directory, on loopback. Sourced by scripts/demo and tests/web/*.sh (bash).
#
#   lx_write_config DIR [section.key=value ...]   write DIR/lexrag.conf
#   lx_start_workers DIR N [VAR=value ...]        spawn-fcgi + multiwatch, N workers on
#                                                 DIR/lexrag.sock; waits until one answers
#   lx_start_worker DIR NAME ADDR [VAR=value ...] one worker, no spawn-fcgi: --listen ADDR;
#                                                 waits until it answers; pid in DIR/NAME.pid
#   lx_worker_pids DIR                            the workers' pids (multiwatch's children)
#   lx_start_lighttpd DIR PORT                    lighttpd on 127.0.0.1:PORT: /api/ and /v1/
#                                                 to the workers, the chat page (www/) at /
#   lx_start_apache DIR PORT                      Apache httpd on 127.0.0.1:PORT, the same
#   lx_stop_all DIR                               SIGTERM all started in DIR, then SIGKILL;
#                                                 a PostgreSQL of pg.sh in DIR: pg_ctl stop
#   lx_wait_http URL TIMEOUT_S                    until URL answers with any HTTP status
#   lx_wait_fcgi ADDR TIMEOUT_S                   until a worker at ADDR answers /api/health
#   lx_port_free PORT, lx_random_port             loopback port helpers
#
# lx_start_lighttpd and lx_start_apache return 2 when the port is already taken (pick another
# one and call again), 1 on any other failure (with the log's tail on stderr). Everything
# started is recorded as DIR/pids/NAME.pid; logs are DIR/NAME.log. The build directory is
# LX_BUILD (absolute), by default $LX_ROOT/build.

LX_ROOT=${LX_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
LX_FCGI_REQUEST="$LX_ROOT/scripts/lib/fcgi_request.py"
# lighttpd and apache2 live in /usr/sbin, which a user's PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

_lx_err() { echo "services.sh: $*" >&2; }

_lx_need() { # COMMAND...: all on PATH (scripts/install-deps installs them)
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || {
            _lx_err "$c is not installed (run scripts/install-deps)"
            return 1
        }
    done
}

# True while PID runs (a zombie does not count).
_lx_alive() {
    local state
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# PID and all its descendants, parents first.
_lx_tree() {
    local p
    echo "$1"
    for p in $(pgrep -P "$1" 2>/dev/null); do
        _lx_tree "$p"
    done
}

_lx_record() { # DIR NAME PID
    mkdir -p "$1/pids"
    echo "$3" >"$1/pids/$2.pid"
}

_lx_pid() { # DIR NAME
    [ -r "$1/pids/$2.pid" ] && cat "$1/pids/$2.pid"
}

_lx_tail() { # FILE: its last lines on stderr
    [ -s "$1" ] || return 0
    echo "--- tail of $1:" >&2
    tail -n 20 "$1" | sed 's/^/    /' >&2
}

lx_port_free() { # PORT: true when nothing listens on 127.0.0.1:PORT
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

lx_random_port() { # a free port in 20000..59999
    local p _
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        lx_port_free "$p" && {
            echo "$p"
            return 0
        }
    done
    return 1
}

lx_wait_http() { # URL TIMEOUT_S
    local url=$1 deadline=$((SECONDS + ${2:-10})) code
    while :; do
        code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) || true
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

lx_wait_fcgi() { # ADDR TIMEOUT_S [PID that must stay alive]
    local addr=$1 deadline=$((SECONDS + ${2:-10})) pid=${3:-}
    while :; do
        python3 "$LX_FCGI_REQUEST" -t 2 "$addr" /api/health >/dev/null 2>&1 && return 0
        if [ -n "$pid" ] && ! _lx_alive "$pid"; then
            return 1
        fi
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

lx_write_config() { # DIR [section.key=value ...]
    local dir=$1 kv sec key val cur=""
    local -a kvs=()
    shift
    mkdir -p "$dir"
    [ $# -gt 0 ] && mapfile -t kvs < <(printf '%s\n' "$@" | sort -s -t. -k1,1)
    {
        echo "; written by scripts/lib/services.sh"
        for kv in "${kvs[@]}"; do
            sec=${kv%%.*} key=${kv#*.}
            val=${key#*=} key=${key%%=*}
            if [ "$sec" != "$cur" ]; then
                printf '[%s]\n' "$sec"
                cur=$sec
            fi
            printf '%s = %s\n' "$key" "$val"
        done
    } >"$dir/lexrag.conf"
}

lx_start_workers() { # DIR N [VAR=value ...]
    local dir=$1 n=$2 bin=$LX_BUILD/lexrag-fcgi pid
    shift 2
    _lx_need spawn-fcgi multiwatch python3 || return 1
    [ -x "$bin" ] || {
        _lx_err "$bin is missing (run make)"
        return 1
    }
    mkdir -p "$dir"
    [ -f "$dir/lexrag.conf" ] || lx_write_config "$dir"
    # spawn-fcgi -n creates and binds the socket, then execs multiwatch (same pid), which forks
    # the N workers with the socket as fd 0 and restarts any that dies.
    env "$@" spawn-fcgi -n -s "$dir/lexrag.sock" -M 0666 -- \
        "$(command -v multiwatch)" -f "$n" -s TERM -- "$bin" --config "$dir/lexrag.conf" \
        >>"$dir/workers.log" 2>&1 </dev/null &
    pid=$!
    _lx_record "$dir" multiwatch "$pid"
    if ! lx_wait_fcgi "$dir/lexrag.sock" 20 "$pid"; then
        _lx_err "workers in $dir did not come up"
        _lx_tail "$dir/workers.log"
        return 1
    fi
}

lx_start_worker() { # DIR NAME ADDR [VAR=value ...]
    local dir=$1 name=$2 addr=$3 bin=$LX_BUILD/lexrag-fcgi pid
    shift 3
    [ -x "$bin" ] || {
        _lx_err "$bin is missing (run make)"
        return 1
    }
    mkdir -p "$dir"
    [ -f "$dir/lexrag.conf" ] || lx_write_config "$dir"
    env "$@" "$bin" --config "$dir/lexrag.conf" --listen "$addr" \
        >>"$dir/$name.log" 2>&1 </dev/null &
    pid=$!
    _lx_record "$dir" "$name" "$pid"
    if ! lx_wait_fcgi "$addr" 20 "$pid"; then
        _lx_err "worker $name in $dir did not come up"
        _lx_tail "$dir/$name.log"
        return 1
    fi
}

lx_worker_pids() { # DIR
    local mw
    mw=$(_lx_pid "$1" multiwatch) || return 1
    pgrep -P "$mw"
}

# Make DIR reachable for the unprivileged web server user when we run as root: DIR itself is
# opened to 0755; a parent directory that others cannot search is opened (o+x) only under /tmp.
_lx_open_path() { # DIR
    local d
    chmod 755 "$1" || return 1
    d=$(dirname "$(realpath "$1")")
    while [ "$d" != / ]; do
        if [ $((8#$(stat -c '%a' "$d") & 1)) -eq 0 ]; then
            case $d in
            /tmp/*) chmod o+x "$d" || return 1 ;;
            *)
                _lx_err "$d is not searchable by others: the web server user cannot reach $1"
                return 1
                ;;
            esac
        fi
        d=$(dirname "$d")
    done
}

# The chat page (the checkout's www/) is copied to DIR/www, the document root of both servers:
# DIR's path is made reachable for Apache's www-data, the checkout's may not be.
_lx_web_prepare() { # DIR PORT
    if ! lx_port_free "$2"; then
        _lx_err "port $2 is already in use"
        return 2
    fi
    [ -S "$1/lexrag.sock" ] || _lx_err "warning: no socket $1/lexrag.sock yet (start the workers)"
    [ -f "$LX_ROOT/www/index.html" ] || {
        _lx_err "$LX_ROOT/www/index.html is missing"
        return 1
    }
    mkdir -p "$1/www" "$1/tmp" || return 1
    cp -R "$LX_ROOT/www/." "$1/www/" || return 1
}

# A web-server snippet of config/ for DIR: the socket and the chat page's directory are DIR's.
_lx_web_snippet() { # DIR FILE
    sed -e "s|/run/lexrag/lexrag.sock|$1/lexrag.sock|g" \
        -e "s|/usr/local/share/lexrag/www|$1/www|g" "$LX_ROOT/config/$2" >"$1/$2"
}

_lx_web_wait() { # DIR NAME PORT PID
    local dir=$1 name=$2 port=$3 pid=$4 deadline=$((SECONDS + 15))
    while :; do
        if ! _lx_alive "$pid"; then
            _lx_err "$name on port $port exited"
            _lx_tail "$dir/$name.log"
            _lx_tail "$dir/$name-error.log"
            wait "$pid" 2>/dev/null || true
            # A bind failure means someone took the port after we looked.
            if grep -qiE 'address already in use|could not bind' "$dir/$name.log" \
                "$dir/$name-error.log" 2>/dev/null; then
                return 2
            fi
            return 1
        fi
        if lx_wait_http "http://127.0.0.1:$port/" 1; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            _lx_err "$name on port $port does not answer"
            _lx_tail "$dir/$name-error.log"
            return 1
        fi
    done
}

lx_start_lighttpd() { # DIR PORT
    local dir=$1 port=$2 pid rc=0
    _lx_need lighttpd curl || return 1
    _lx_web_prepare "$dir" "$port" || return
    _lx_web_snippet "$dir" lighttpd-lexrag.conf || return 1
    cat >"$dir/lighttpd.conf" <<EOF
# generated by scripts/lib/services.sh
server.modules = ( "mod_access", "mod_indexfile", "mod_staticfile", "mod_accesslog" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$dir/www"
server.pid-file = "$dir/lighttpd.pid"
server.errorlog = "$dir/lighttpd-error.log"
accesslog.filename = "$dir/lighttpd-access.log"
server.upload-dirs = ( "$dir/tmp" )
server.max-connections = 1024
index-file.names = ( "index.html" )
mimetype.assign = (
    ".html" => "text/html; charset=utf-8",
    ".txt"  => "text/plain; charset=utf-8",
    ".css"  => "text/css; charset=utf-8",
    ".js"   => "text/javascript; charset=utf-8",
    ".json" => "application/json",
    ".svg"  => "image/svg+xml",
    ".png"  => "image/png",
)
include "$dir/lighttpd-lexrag.conf"
EOF
    lighttpd -tt -f "$dir/lighttpd.conf" >"$dir/lighttpd.log" 2>&1 || {
        _lx_err "lighttpd rejects $dir/lighttpd.conf"
        _lx_tail "$dir/lighttpd.log"
        return 1
    }
    lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/lighttpd.log" 2>&1 </dev/null &
    pid=$!
    _lx_record "$dir" lighttpd "$pid"
    _lx_web_wait "$dir" lighttpd "$port" "$pid" || rc=$?
    [ "$rc" -eq 0 ] || rm -f "$dir/pids/lighttpd.pid"
    return "$rc"
}

lx_start_apache() { # DIR PORT
    local dir=$1 port=$2 pid rc=0 mods=/usr/lib/apache2/modules m user_lines=""
    _lx_need apache2 curl || return 1
    _lx_web_prepare "$dir" "$port" || return
    if [ "$(id -u)" -eq 0 ]; then
        # Apache will not serve as root: its children run as www-data, which must reach the
        # socket (0666 from lx_start_workers), the document root and DIR's path.
        _lx_open_path "$dir" || return 1
        chmod -R a+rX "$dir/www"
        user_lines=$'User www-data\nGroup www-data'
    fi
    _lx_web_snippet "$dir" apache-lexrag.conf || return 1
    {
        echo "# generated by scripts/lib/services.sh"
        echo "ServerRoot \"$dir\""
        for m in mpm_event authz_core proxy proxy_fcgi mime dir alias; do
            echo "LoadModule ${m}_module $mods/mod_$m.so"
        done
        # Built into Debian's apache2 (apache2 -l); loaded only where they are modules.
        for m in log_config unixd; do
            if [ -f "$mods/mod_$m.so" ]; then
                printf '<IfModule !%s_module>\n    LoadModule %s_module %s\n</IfModule>\n' \
                    "$m" "$m" "$mods/mod_$m.so"
            fi
        done
        cat <<EOF
ServerName 127.0.0.1
Listen 127.0.0.1:$port
$user_lines
PidFile "$dir/apache.pid"
DefaultRuntimeDir "$dir"
Mutex file:$dir default
ErrorLog "$dir/apache-error.log"
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b %D" lexrag
CustomLog "$dir/apache-access.log" lexrag
# 256 threads: enough for 250 requests at once, all started up front.
ServerLimit 4
StartServers 4
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 256
MinSpareThreads 64
MaxSpareThreads 256
TypesConfig /etc/mime.types
DocumentRoot "$dir/www"
DirectoryIndex index.html
<Directory />
    Require all denied
</Directory>
<Directory "$dir/www">
    Require all granted
</Directory>
Include "$dir/apache-lexrag.conf"
EOF
    } >"$dir/httpd.conf"
    [ -r /etc/mime.types ] || sed -i 's|^TypesConfig .*|TypesConfig /dev/null|' "$dir/httpd.conf"
    apache2 -t -f "$dir/httpd.conf" >"$dir/apache.log" 2>&1 || {
        _lx_err "apache2 rejects $dir/httpd.conf"
        _lx_tail "$dir/apache.log"
        return 1
    }
    apache2 -f "$dir/httpd.conf" -DFOREGROUND >>"$dir/apache.log" 2>&1 </dev/null &
    pid=$!
    _lx_record "$dir" apache "$pid"
    _lx_web_wait "$dir" apache "$port" "$pid" || rc=$?
    [ "$rc" -eq 0 ] || rm -f "$dir/pids/apache.pid"
    return "$rc"
}

# Stop what was started in DIR: web servers first, then the workers. Each gets SIGTERM (Apache
# and lighttpd stop at once, multiwatch passes it to the workers, which finish what is in
# flight); whatever of a process tree still runs after TIMEOUT_S (default 15) gets SIGKILL, and
# then the status is 1. Safe under set -e.
lx_stop_all() { # DIR [TIMEOUT_S]
    local dir=$1 timeout=${2:-15} f name pid p deadline left killed=0
    local -a tree=() tops=()
    mkdir -p "$dir/pids"
    for name in apache lighttpd multiwatch; do
        [ -f "$dir/pids/$name.pid" ] && tops+=("$dir/pids/$name.pid")
    done
    for f in "$dir"/pids/*.pid; do
        [ -f "$f" ] || continue
        case " ${tops[*]} " in *" $f "*) ;; *) tops+=("$f") ;; esac
    done
    for f in "${tops[@]}"; do
        pid=$(cat "$f")
        if _lx_alive "$pid"; then
            # shellcheck disable=SC2207
            tree+=($(_lx_tree "$pid"))
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    deadline=$((SECONDS + timeout))
    while :; do
        left=""
        for p in "${tree[@]}"; do
            _lx_alive "$p" && left="$left $p"
        done
        [ -z "$left" ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            _lx_err "still running after ${timeout}s, killing:$left"
            # shellcheck disable=SC2086
            kill -KILL $left 2>/dev/null || true
            killed=1
            sleep 0.2
            break
        fi
        sleep 0.1
    done
    for f in "${tops[@]}"; do
        pid=$(cat "$f")
        wait "$pid" 2>/dev/null || true # reap our own children (no zombies)
        rm -f "$f"
    done
    rm -f "$dir/lexrag.sock"
    # A PostgreSQL of scripts/lib/pg.sh in DIR: pg_ctl owns it (a fast stop, after the workers).
    if [ -f "$dir/pg/postmaster.pid" ] && declare -F lx_pg_stop >/dev/null; then
        lx_pg_stop "$dir" >/dev/null 2>&1 || killed=1
    fi
    return "$killed"
}
