#!/usr/bin/env bash
# tests/web/test_streaming.sh -- a streamed response reaches the client piece by piece through
# lighttpd and through Apache: GET /api/_test/stream?chunks=5&interval_ms=200&bytes=64 sends
# its first line at once and one every 200 ms; each line is timestamped as it arrives.
# shellcheck source=web_lib.sh
. "$(dirname "$0")/web_lib.sh"

CHUNKS=5
INTERVAL_MS=200
BYTES=64

web_setup 2

for srv in "${WEB_SERVERS[@]}"; do
    url="${BASE[$srv]}/api/_test/stream?chunks=$CHUNKS&interval_ms=$INTERVAL_MS&bytes=$BYTES"
    lines="$WEB_DIR/stream-$srv.txt"
    hdr="$WEB_DIR/stream-$srv.hdr"
    t0=$EPOCHREALTIME
    # bash's read takes a pipe byte by byte, so each line is stamped when it arrives.
    curl -sN -m 10 -D "$hdr" "$url" |
        while IFS= read -r line; do
            printf '%s %d %s\n' "$EPOCHREALTIME" "${#line}" "$line"
        done >"$lines"
    n=$(wc -l <"$lines")
    is "$srv: all $CHUNKS lines arrived" "$n" "$CHUNKS"
    is "$srv: status 200" "$(head -n 1 "$hdr" | awk '{ print $2 }')" 200
    ctype=$(grep -i '^content-type:' "$hdr" | tail -n 1 | sed 's/^[^:]*:[[:space:]]*//; s/\r$//')
    ok_if "$srv: Content-Type is text/plain ($ctype)" "$([[ $ctype == text/plain* ]] && echo 0 || echo 1)"
    ok_if "$srv: X-Request-Id present" "$(grep -qi '^x-request-id: *[^[:space:]]' "$hdr" && echo 0 || echo 1)"
    bad=$(awk -v b="$BYTES" '$2 + 1 != b || $3 != "chunk" || $4 != NR - 1 { print NR }' "$lines" | head -n 1)
    ok_if "$srv: lines are 'chunk i ...', $BYTES bytes each with the newline" "$([ -z "$bad" ] && echo 0 || echo 1)"
    [ -z "$bad" ] || diag "$srv: line $bad: $(sed -n "${bad}p" "$lines" | cut -c1-100)"
    if [ "$n" -ge 2 ]; then
        first_ms=$(web_ms "$t0" "$(head -n 1 "$lines" | cut -d' ' -f1)")
        last_ms=$(web_ms "$t0" "$(tail -n 1 "$lines" | cut -d' ' -f1)")
        diag "$srv: arrivals (ms after start): $(while read -r t _; do printf '%s ' "$(web_ms "$t0" "$t")"; done <"$lines")"
        ok_if "$srv: first line after $first_ms ms < 400 ms" $((first_ms < 400 ? 0 : 1))
        ok_if "$srv: last line after $last_ms ms >= 800 ms" $((last_ms >= 800 ? 0 : 1))
        ok_if "$srv: last - first = $((last_ms - first_ms)) ms >= 600 ms (not buffered to the end)" \
            $((last_ms - first_ms >= 600 ? 0 : 1))
    else
        ok_if "$srv: enough lines to time" 1
    fi
done

web_finish
