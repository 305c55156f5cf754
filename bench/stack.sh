# bench/stack.sh -- the whole service on loopback for a benchmark (sourced): PostgreSQL, Redis,
# a corpus ingested with lexrag-ingest, N workers behind lighttpd, all in one run directory.
#   bench_stack_up DIR CORPUS DOCS [section.key=value ...]   sets BENCH_URL; ingest summary in
#                                                           DIR/ingest.txt
# shellcheck shell=bash
# shellcheck source=../scripts/lib/services.sh
. "$LX_ROOT/scripts/lib/services.sh"
# shellcheck source=../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"

bench_stack_up() {
    local dir=$1 corpus=$2 docs=$3 port rc _
    shift 3
    chmod 755 "$dir"
    lx_pg_start "$dir" >>"$dir/setup.log" 2>&1 || { echo "bench: PostgreSQL did not start" >&2; return 1; }
    lx_redis_start "$dir" >>"$dir/setup.log" 2>&1 || { echo "bench: Redis did not start" >&2; return 1; }
    lx_write_config "$dir" log.access=false "postgres.conninfo=$LX_PG_CONNINFO" \
        "redis.port=$LX_REDIS_PORT" "index.dir=$dir/index" index.check_ms=200 "$@"
    local t0=$EPOCHREALTIME
    "$LX_BUILD/lexrag-ingest" --config "$dir/lexrag.conf" load --quiet --docs "$docs" "$corpus" \
        >"$dir/ingest.txt" 2>&1 || { cat "$dir/ingest.txt" >&2; return 1; }
    BENCH_INGEST_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    lx_start_workers "$dir" "${BENCH_WORKERS:-2}" >>"$dir/setup.log" 2>&1 || return 1
    for _ in 1 2 3 4 5; do
        port=$(lx_random_port)
        rc=0
        lx_start_lighttpd "$dir" "$port" >>"$dir/setup.log" 2>&1 || rc=$?
        [ $rc -eq 0 ] && break
        [ $rc -eq 2 ] || return 1
    done
    BENCH_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do # until the workers have loaded the vector index
        [ "$(curl -s "$BENCH_URL/api/health" | jq -r .checks.index.dense)" = true ] && return 0
        sleep 0.2
    done
    echo "bench: the workers did not load the indexes" >&2
    return 1
}
