# tests/lib/mock.sh -- the mock OpenAI-compatible upstream (tests/fakes/mock_openai.c) for the
# integration tests and benchmarks (sourced).
# shellcheck shell=bash
#
#   lx_mock_start DIR [mock flags...]  start it on an ephemeral loopback port; sets LX_MOCK_URL
#                                      (http://127.0.0.1:PORT); pid in DIR/pids/mock.pid (so
#                                      lx_stop_all stops it), log in DIR/mock.log
#   lx_mock_control JSON               POST /_control (latency, error_rate, hang, ...)
#   lx_mock_stat NAME                  one counter of GET /_stats (embeddings_requests, ...)

lx_mock_start() {
    local dir=$1 i
    shift
    mkdir -p "$dir/pids"
    rm -f "$dir/mock.port"
    "$LX_BUILD/tests/mock_openai" --listen 127.0.0.1:0 --port-file "$dir/mock.port" --quiet "$@" \
        >>"$dir/mock.log" 2>&1 &
    echo $! >"$dir/pids/mock.pid"
    for i in $(seq 1 100); do
        if [ -s "$dir/mock.port" ]; then
            LX_MOCK_URL="http://127.0.0.1:$(cat "$dir/mock.port")"
            export LX_MOCK_URL
            return 0
        fi
        sleep 0.05
    done
    echo "mock.sh: the mock did not start; $(tail -n 5 "$dir/mock.log")" >&2
    return 1
}

lx_mock_control() {
    curl -fsS -m 5 -H 'Content-Type: application/json' --data-binary "$1" "$LX_MOCK_URL/_control" \
        >/dev/null
}

lx_mock_stat() {
    curl -fsS -m 5 "$LX_MOCK_URL/_stats" | jq -r ".$1"
}
