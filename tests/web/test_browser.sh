#!/usr/bin/env bash
# tests/web/test_browser.sh -- the chat page (www/) in headless Chromium (Debian's chromium,
# driven by npm playwright-core, installed into the build directory on first use) through
# lighttpd and Apache, with real PostgreSQL and Redis over the sample corpus: the answer grows
# as it streams, references open from their [n], a second turn continues the conversation, a
# reload shows it again, a 401 asks for an API key, errors are shown (tests/browser/
# chat_page.mjs has the steps). Then Redis is stopped (the page says the service is degraded)
# and the workers are stopped (the page says it is unavailable). Screenshots are kept in
# $LX_BUILD/artifacts/chat-page-SERVER.png (and -degraded, -down).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/web_lib.sh"

# The newest playwright-core that still runs on bookworm's Node.js 18; it drives bookworm's
# chromium (156) through the DevTools protocol.
PLAYWRIGHT_VERSION=1.61.1
CHROMIUM=${LX_CHROMIUM:-/usr/bin/chromium}
ART="$LX_BUILD/artifacts"

if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    ok_if "chromium, node and npm are installed (scripts/install-deps)" 1
    web_finish
fi
nd="$LX_BUILD/node-playwright-$PLAYWRIGHT_VERSION"
if [ ! -f "$nd/node_modules/playwright-core/package.json" ]; then
    mkdir -p "$nd"
    (cd "$nd" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm install --silent --no-audit \
        --no-fund "playwright-core@$PLAYWRIGHT_VERSION" >"$WEB_DIR/npm.log" 2>&1)
fi
if [ ! -f "$nd/node_modules/playwright-core/package.json" ]; then
    ok_if "npm installs playwright-core@$PLAYWRIGHT_VERSION" 1
    sed 's/^/#   /' "$WEB_DIR/npm.log" | tail -n 10
    web_finish
fi
cp "$LX_ROOT/tests/browser/chat_page.mjs" "$nd/"
mkdir -p "$ART"

# Pieces every 40 ms: an answer streams for a second or two, long enough to watch it grow.
web_sample_stack 2 chat.piece_interval_ms=40

# browser MODE SERVER SHOT: chat_page.mjs's checks as TAP lines, prefixed with the server.
browser() {
    local mode=$1 srv=$2 shot=$3 out status what detail ended=0
    out=$(cd "$nd" && timeout 300 node chat_page.mjs "$mode" "${BASE[$srv]}" "$shot" 2>&1)
    while IFS=$'\t' read -r status what detail; do
        case $status in
        ok) ok_if "$srv: $what" 0 ;;
        "not ok")
            ok_if "$srv: $what" 1
            [ -n "$detail" ] && diag "  $detail"
            ;;
        end) ended=1 ;;
        \#*) echo "# $srv: ${status#\# }${what:+ $what}" ;;
        *) [ -n "$status" ] && diag "  $srv: $status $what" ;;
        esac
    done <<<"$out"
    ok_if "$srv: the browser script ($mode) ran to the end" $((ended == 1 ? 0 : 1))
    if [ -s "$shot" ]; then
        diag "$srv: screenshot kept: $shot"
    else
        ok_if "$srv: screenshot $shot written" 1
    fi
}

for srv in "${WEB_SERVERS[@]}"; do
    browser chat "$srv" "$ART/chat-page-$srv.png"
done

# Redis gone: the page says the service is degraded, and still answers.
lx_redis_stop "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1
for srv in "${WEB_SERVERS[@]}"; do
    browser degraded "$srv" "$ART/chat-page-$srv-degraded.png"
done

# The workers gone (the web servers still serve the page): a clear error.
mw=$(_lx_pid "$WEB_DIR" multiwatch)
kill -TERM "$mw" 2>/dev/null
for _ in $(seq 1 200); do
    _lx_alive "$mw" || break
    sleep 0.1
done
ok_if "the workers stop (SIGTERM to multiwatch)" "$(_lx_alive "$mw" && echo 1 || echo 0)"
for srv in "${WEB_SERVERS[@]}"; do
    browser down "$srv" "$ART/chat-page-$srv-down.png"
done

web_finish
