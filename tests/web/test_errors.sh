#!/usr/bin/env bash
# tests/web/test_errors.sh -- the error contract of docs/http-api (Common rules) as a client sees
# it through lighttpd and through Apache: 400 invalid_json / invalid_argument, 413, 404, 405
# with Allow, the {"error": {"code", "message"}} body, X-Request-Id echoed or generated, health,
# and that nothing outside /api/ and /v1/ reaches the workers.
# shellcheck source=web_lib.sh
. "$(dirname "$0")/web_lib.sh"

web_setup 2

json=(-H 'Content-Type: application/json')
big="$WEB_DIR/big.json"   # 1 MiB + 1 byte: over the default max_body_bytes
edge="$WEB_DIR/edge.json" # exactly 1 MiB: not over it (a query far too long: 400)
web_json_body "$big" $((1048576 + 1))
web_json_body "$edge" 1048576

# shellcheck disable=SC2317 # called through check
jqok() { jq -e "$@" >/dev/null 2>&1; }
# A TAP line: the body of response NAME is an error object with this code and a non-empty
# message (containing WORD if given); on failure the status and body as a diagnostic.
error_is() { # WHAT NAME CODE [WORD]
    if jq -e --arg c "$3" --arg w "${4:-}" '
        (keys == ["error"]) and (.error | type == "object")
        and .error.code == $c
        and (.error.message | type == "string" and length > 0 and contains($w))' \
        "$WEB_DIR/$2.body" >/dev/null 2>&1; then
        ok_if "$1" 0
    else
        ok_if "$1" 1
        diag "  status $WEB_CODE, body: $(head -c 300 "$WEB_DIR/$2.body" 2>/dev/null)"
    fi
}

for srv in "${WEB_SERVERS[@]}"; do
    b=${BASE[$srv]}

    web_req health "$b/api/health"
    is "$srv: GET /api/health -> 200" "$WEB_CODE" 200
    # "degraded" too: these tests run without PostgreSQL and Redis behind the workers.
    check "$srv: health says status ok (or degraded) and a pid" \
        jqok '(.status == "ok" or .status == "degraded") and (.pid | type == "number" and . > 0)' "$WEB_DIR/health.body"

    web_req ok "$b/api/_test/echo" "${json[@]}" --data-binary '{"query": "sanksi pidana korupsi", "top_k": 5}'
    is "$srv: valid echo -> 200" "$WEB_CODE" 200
    check "$srv: echo returns the query" jqok '.query == "sanksi pidana korupsi"' "$WEB_DIR/ok.body"

    web_req badjson "$b/api/_test/echo" "${json[@]}" --data-binary '{"query": "unterminated'
    is "$srv: invalid JSON -> 400" "$WEB_CODE" 400
    error_is "$srv: invalid JSON -> invalid_json error body" badjson invalid_json

    web_req badtype "$b/api/_test/echo" "${json[@]}" --data-binary '{"query": 42}'
    is "$srv: query of the wrong type -> 400" "$WEB_CODE" 400
    error_is "$srv: ... invalid_argument naming query" badtype invalid_argument query

    web_req badk "$b/api/_test/echo" "${json[@]}" --data-binary '{"query": "x", "top_k": 0}'
    is "$srv: top_k out of range -> 400" "$WEB_CODE" 400
    error_is "$srv: ... invalid_argument naming top_k" badk invalid_argument top_k

    web_req edge "$b/api/_test/echo" "${json[@]}" --data-binary "@$edge"
    is "$srv: body of exactly 1 MiB is read (400 for its 1 MiB query, not 413)" "$WEB_CODE" 400

    web_req big "$b/api/_test/echo" "${json[@]}" --data-binary "@$big"
    is "$srv: body of 1 MiB + 1 -> 413" "$WEB_CODE" 413
    error_is "$srv: ... payload_too_large error body (from the worker)" big payload_too_large

    web_req nope "$b/api/nope"
    is "$srv: unknown path /api/nope -> 404" "$WEB_CODE" 404
    error_is "$srv: ... not_found error body" nope not_found

    web_req v1nope "$b/v1/nope"
    is "$srv: /v1/ is forwarded too: /v1/nope -> 404" "$WEB_CODE" 404
    error_is "$srv: ... not_found error body from the worker" v1nope not_found

    web_req method "$b/api/_test/echo"
    is "$srv: GET /api/_test/echo -> 405" "$WEB_CODE" 405
    error_is "$srv: ... method_not_allowed error body" method method_not_allowed
    allow=$(web_header method Allow)
    ok_if "$srv: ... with an Allow header naming POST ($allow)" "$([[ $allow == *POST* ]] && echo 0 || echo 1)"

    web_req rid1 "$b/api/health" -H 'X-Request-Id: abc-123'
    is "$srv: a sane X-Request-Id is echoed" "$(web_header rid1 X-Request-Id)" abc-123
    web_req rid1e "$b/api/nope" -H 'X-Request-Id: abc-124'
    is "$srv: ... on an error response too" "$(web_header rid1e X-Request-Id)" abc-124
    web_req rid2 "$b/api/health"
    rid2=$(web_header rid2 X-Request-Id)
    ok_if "$srv: no X-Request-Id sent: one is generated ($rid2)" "$([ -n "$rid2" ] && echo 0 || echo 1)"
    web_req rid2b "$b/api/health"
    ok_if "$srv: ... and it differs per request" "$([ "$(web_header rid2b X-Request-Id)" != "$rid2" ] && echo 0 || echo 1)"
    long=$(printf 'x%.0s' $(seq 1 500))
    web_req rid3 "$b/api/health" -H "X-Request-Id: $long"
    rid3=$(web_header rid3 X-Request-Id)
    ok_if "$srv: a 500-character X-Request-Id is replaced (${rid3:0:40})" \
        "$([ -n "$rid3" ] && [ "$rid3" != "$long" ] && [ "${#rid3}" -le 64 ] && echo 0 || echo 1)"
    web_req rid4 "$b/api/health" -H 'X-Request-Id: abc 123'
    rid4=$(web_header rid4 X-Request-Id)
    ok_if "$srv: an X-Request-Id with a space is replaced ($rid4)" \
        "$([ -n "$rid4" ] && [ "$rid4" != 'abc 123' ] && [[ $rid4 != *' '* ]] && echo 0 || echo 1)"

    # Outside /api/ and /v1/ the web server answers itself; the worker never sees the request.
    web_req root "$b/"
    is "$srv: / is the static page (200)" "$WEB_CODE" 200
    check "$srv: ... served from the document root" grep -q lexrag "$WEB_DIR/root.body"
    for p in /health /api /apix/health /API/health /v2/health; do
        web_req out "$b$p"
        rid=$(web_header out X-Request-Id)
        ok_if "$srv: $p is not forwarded ($WEB_CODE from the web server, no X-Request-Id)" \
            "$([ "$WEB_CODE" = 404 ] && [ -z "$rid" ] && echo 0 || echo 1)"
    done
done

# The workers' access lines: every path they saw is under /api/ or /v1/.
mapfile -t seen < <(sed -n 's/.*msg="\{0,1\}access"\{0,1\} .*path="\{0,1\}\([^ "]*\).*/\1/p' "$WEB_DIR/workers.log")
outside=$(printf '%s\n' "${seen[@]}" | grep -cvE '^/(api|v1)/')
ok_if "the workers logged ${#seen[@]} requests, none outside /api/ and /v1/ ($outside)" \
    $((${#seen[@]} > 20 && outside == 0 ? 0 : 1))
[ "$outside" -eq 0 ] || printf '%s\n' "${seen[@]}" | grep -vE '^/(api|v1)/' | sort -u | sed 's/^/#   /'

web_finish
