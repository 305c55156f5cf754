#!/usr/bin/env bash
# tests/web/test_concurrency.sh -- 200 requests at once to /api/_test/hold?ms=500 through
# lighttpd and through Apache, served by 2 workers: all get 200, and all of them together take
# about as long as one (each worker holds them all at once on its loop). Served one at a time
# per worker they would take 200 * 0.5 s / 2 = 50 s.
# shellcheck source=web_lib.sh
. "$(dirname "$0")/web_lib.sh"

N=200
HOLD_MS=500
MAX_TOTAL_MS=5000 # expected: 0.5 to 1.5 s
MAX_RATIO=8       # all N together < 8 x one alone

web_setup 2

for srv in "${WEB_SERVERS[@]}"; do
    url="${BASE[$srv]}/api/_test/hold?ms=$HOLD_MS"
    cfg="$WEB_DIR/curl-$srv.cfg"
    for ((i = 0; i < N; i++)); do
        printf 'url = "%s"\noutput = "/dev/null"\n' "$url"
    done >"$cfg"

    t0=$EPOCHREALTIME
    code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$url")
    single_ms=$(web_ms "$t0")
    is "$srv: one hold?ms=$HOLD_MS request is 200" "$code" 200
    diag "$srv: one request took $single_ms ms"

    t0=$EPOCHREALTIME
    curl -s --parallel --parallel-immediate --parallel-max "$N" -m 30 -K "$cfg" \
        -w '%{http_code}\n' >"$WEB_DIR/codes-$srv.txt" 2>/dev/null
    total_ms=$(web_ms "$t0")
    n200=$(grep -c '^200$' "$WEB_DIR/codes-$srv.txt")
    is "$srv: $N concurrent hold?ms=$HOLD_MS requests all got 200" "$n200" "$N"
    [ "$n200" -eq "$N" ] || diag "$srv: statuses: $(sort "$WEB_DIR/codes-$srv.txt" | uniq -c | tr -s ' \n' ' ')"
    diag "$srv: $N concurrent requests took $total_ms ms ($(awk -v t="$total_ms" -v s="$single_ms" \
        'BEGIN { printf "%.1f", t / s }') x one request; serialized per worker: $((N * HOLD_MS / 2)) ms)"
    ok_if "$srv: all $N took $total_ms ms < $MAX_TOTAL_MS ms" $((total_ms < MAX_TOTAL_MS ? 0 : 1))
    ok_if "$srv: all $N took < $MAX_RATIO x one request ($total_ms < $MAX_RATIO x $single_ms ms)" \
        $((total_ms < MAX_RATIO * single_ms ? 0 : 1))
done

web_finish
