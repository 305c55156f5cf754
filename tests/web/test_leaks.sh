#!/usr/bin/env bash
# tests/web/test_leaks.sh -- 10,000 mixed requests (health, metrics, hybrid and BM25 searches,
# citations, streamed and plain chats, chats cut by their client, bad JSON, unknown paths and
# wrong methods) through lighttpd to 2 workers built with ASan+UBSan, 16 at a time; then the
# workers stop and LeakSanitizer, which runs at their exit, must report nothing. Only the
# sanitizer build runs it (the plain build prints a skip).
# shellcheck source-path=SCRIPTDIR
export LX_WEB_SERVERS=${LX_WEB_SERVERS:-lighttpd}
. "$(dirname "$0")/web_lib.sh"

N=${LX_LEAK_REQUESTS:-10000}
if ! ldd "$LX_BUILD/lexrag-fcgi" 2>/dev/null | grep -q libasan; then
    echo "1..0 # SKIP the leak run needs the ASan build (tests/run build-asan)"
    _web_done=1
    exit 0
fi
web_sample_stack 2 log.level=warn log.access=false chat.piece_interval_ms=0 metrics.publish_ms=500
base=${BASE[lighttpd]}

# One curl config with N entries (each with its own write-out), run 16 at a time.
python3 - "$base" "$N" >"$WEB_DIR/mixed.curl" <<'PY'
import json, random, sys
base, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
words = ["izin", "air", "sanksi", "pidana", "kebun", "raya", "iuran", "pelestarian", "desa",
         "pengambilan", "berlaku", "pemegang", "badan", "usaha", "mata"]
def entry(kind, url, data=None, extra=""):
    lines = [f'url = "{url}"', 'output = "/dev/null"', 'silent',
             f'write-out = "{kind} %{{http_code}}\\n"']
    if data is not None:
        lines += ['header = "Content-Type: application/json"',
                  "data-binary = " + json.dumps(data)]
    return "\n".join(lines + ([extra] if extra else []))
out = []
for i in range(n):
    q = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 5)))
    r = rnd.random()
    if r < 0.15:
        e = entry("health", base + "/api/health")
    elif r < 0.20:
        e = entry("metrics", base + "/api/metrics" + ("?scope=pool" if i % 2 else ""))
    elif r < 0.45:
        e = entry("search", base + "/api/search", json.dumps({"query": q, "top_k": rnd.randint(1, 20)}))
    elif r < 0.55:
        e = entry("bm25", base + "/api/search", json.dumps({"query": q, "mode": "bm25",
                  "filters": {"year_min": 1990}}))
    elif r < 0.60:
        e = entry("cite", base + "/api/search", json.dumps({"query": "Pasal %d UU 91 Tahun 1999" % rnd.randint(1, 12)}))
    elif r < 0.72:
        e = entry("chat", base + "/api/chat", json.dumps({"question": q + "?"}), "max-time = 30")
    elif r < 0.78:
        e = entry("chatjson", base + "/v1/chat/completions",
                  json.dumps({"model": "lexrag", "messages": [{"role": "user", "content": q}]}))
    elif r < 0.84:
        e = entry("cut", base + "/api/chat", json.dumps({"question": q + " panjang?"}), "max-time = 0.02")
    elif r < 0.92:
        e = entry("badjson", base + "/api/search", '{"query": "unterminated')
    elif r < 0.96:
        e = entry("notfound", base + "/api/nothing/here")
    else:
        e = entry("method", base + "/api/search")
    out.append(e)
print("\nnext\n".join(out))
PY
t0=$SECONDS
curl --parallel --parallel-max 16 -K "$WEB_DIR/mixed.curl" >"$WEB_DIR/mixed.out" 2>/dev/null
diag "$N mixed requests in $((SECONDS - t0)) s: $(awk '{print $1}' "$WEB_DIR/mixed.out" | sort | uniq -c | paste -sd ' ' -)"
is "every request was made" "$(wc -l <"$WEB_DIR/mixed.out")" "$N"
bad=$(awk '
    $1 == "cut" { next }                       # cut by the client: any outcome
    $1 == "badjson" { if ($2 != 400) n++; next }
    $1 == "notfound" { if ($2 != 404) n++; next }
    $1 == "method" { if ($2 != 405) n++; next }
    { if ($2 != 200) n++ }
    END { print n + 0 }' "$WEB_DIR/mixed.out")
is "each answered as expected (200, 400 bad JSON, 404, 405)" "$bad" 0
grep -v '^cut' "$WEB_DIR/mixed.out" | awk '$2 != 200 && $2 != 400 && $2 != 404 && $2 != 405' |
    sort | uniq -c | head -5 | sed 's/^/# unexpected: /'
web_req after "$base/api/health"
is "the workers still answer" "$WEB_CODE" 200
# web_finish stops the workers; LeakSanitizer reports at their exit.
web_finish
