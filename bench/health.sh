#!/usr/bin/env bash
# bench/health.sh -- GET /api/health through lighttpd with 2 workers, measured with wrk at 1,
# 10, 50, 100 and 200 concurrent connections: requests per second and p50/p99 latency. Writes
# the "health" section of docs/benchmarks.md, the figures to bench/out/health.dat and the
# throughput chart (docs/img/throughput.png, with search's figures where bench/search.sh left
# them). Starts and stops everything it needs on loopback.
set -euo pipefail
LX_ROOT=$(cd "$(dirname "$0")/.." && pwd)
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
export LX_ROOT LX_BUILD
# shellcheck source=../scripts/lib/services.sh
. "$LX_ROOT/scripts/lib/services.sh"
# shellcheck source=lib.sh
. "$LX_ROOT/bench/lib.sh"

DURATION=${BENCH_DURATION:-8}
POINTS=${BENCH_HEALTH_POINTS:-1 10 50 100 200}
WORKERS=${BENCH_WORKERS:-2}
dir=$(mktemp -d /tmp/lexrag-bench.XXXXXX)
trap 'lx_stop_all "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
chmod 755 "$dir"

lx_write_config "$dir" log.access=false
lx_start_workers "$dir" "$WORKERS"
for _ in 1 2 3 4 5; do
    port=$(lx_random_port)
    rc=0
    lx_start_lighttpd "$dir" "$port" || rc=$?
    [ $rc -eq 0 ] && break
    [ $rc -eq 2 ] || exit 1
done
url="http://127.0.0.1:$port/api/health"
curl -fsS "$url" >/dev/null

bench_data health "connections rps p50_ms p99_ms" "no corpus (the workers alone)" \
    "$WORKERS workers behind lighttpd, access log off; wrk -d${DURATION}s on the same cores"
out="$dir/health.md"
{
    echo "## GET /api/health through lighttpd (issue: foundation)"
    echo
    echo "Command: \`bench/health.sh\` (part of \`make bench\`): wrk -t2 (-t1 at 1 connection) -d${DURATION}s --latency,"
    echo "$WORKERS workers behind lighttpd on loopback, access log off. Machine: $(bench_machine)."
    echo "wrk runs on the same 2 cores as the workers and lighttpd, so these figures are a floor."
    echo
    echo "![Requests per second against concurrent connections, GET /api/health and POST /api/search](img/throughput.png)"
    echo
    echo "| connections | requests/s | p50 ms | p99 ms | errors |"
    echo "| ---: | ---: | ---: | ---: | ---: |"
} >"$out"
for c in $POINTS; do
    w="$dir/wrk-$c.txt"
    threads=$((c < 2 ? 1 : 2)) # wrk wants at least one connection per thread
    wrk -t"$threads" -c"$c" -d"${DURATION}s" --latency "$url" >"$w" 2>&1
    rps=$(awk '/^Requests\/sec/ {print $2}' "$w")
    p50=$(awk '$1 == "50%" {print $2}' "$w")
    p99=$(awk '$1 == "99%" {print $2}' "$w")
    errs=$(awk '/Non-2xx|Socket errors/ {s = s $0 "; "} END {print s ? s : "0"}' "$w")
    to_ms() { # wrk prints 1.23ms, 456.00us or 1.20s
        python3 -c "import sys; v=sys.argv[1]; u={'us':1e-3,'ms':1,'s':1e3}; n=v.rstrip('mus'); print(f'{float(n)*u[v[len(n):]]:.2f}')" "$1"
    }
    p50=$(to_ms "$p50")
    p99=$(to_ms "$p99")
    printf '| %d | %.0f | %s | %s | %s |\n' "$c" "$rps" "$p50" "$p99" "$errs" >>"$out"
    printf '%d %.0f %s %s\n' "$c" "$rps" "$p50" "$p99" >>"$BENCH_OUT/health.dat"
    echo "health c=$c: $rps req/s, p50 $p50, p99 $p99"
done
cat "$out"
bench_record health "$out"
bench_chart throughput
