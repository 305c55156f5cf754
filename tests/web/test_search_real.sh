#!/usr/bin/env bash
# tests/web/test_search_real.sh -- the real corpus (../shared/data, where it exists): ingest it
# and check that citation look-ups return the cited articles (and ayat), that a citation of an
# article the corpus does not hold falls back to retrieval, and that a definition question
# finds its definition. Skipped, with the reason printed, where the data is not there.
# shellcheck source-path=SCRIPTDIR
export LX_WEB_SERVERS=${LX_WEB_SERVERS:-lighttpd}
. "$(dirname "$0")/web_lib.sh"
# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh"
# shellcheck source=../../scripts/lib/redis.sh
. "$LX_ROOT/scripts/lib/redis.sh"

data=${LX_DATA:-$LX_ROOT/../shared/data}
if [ ! -f "$data/id-law-corpus.jsonl" ]; then
    skip "real corpus" "$data/id-law-corpus.jsonl not found"
    _web_done=1
    tap_done
    exit 0
fi
if ! lx_pg_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1 || ! lx_redis_start "$WEB_DIR" >>"$WEB_DIR/setup.log" 2>&1; then
    ok_if "start PostgreSQL and Redis" 1
    web_finish
fi
lx_write_config "$WEB_DIR" log.level=info log.access=false "postgres.conninfo=$LX_PG_CONNINFO" \
    "redis.port=$LX_REDIS_PORT" "index.dir=$WEB_DIR/index" index.check_ms=200
t0=$EPOCHREALTIME
check "lexrag-ingest loads the real corpus" \
    "$LX_BUILD/lexrag-ingest" --config "$WEB_DIR/lexrag.conf" load --quiet \
    --docs "$data/id-law-docs.jsonl" "$data/id-law-corpus.jsonl"
diag "ingest of the real corpus: $(web_ms "$t0") ms"
web_setup 2
base=${BASE[lighttpd]}
# The workers load the indexes on their own: wait until health says so.
web_wait_index "$base"

search() { # NAME QUERY
    web_req "$1" "$base/api/search" -H 'Content-Type: application/json' \
        --data-binary "$(jq -cn --arg q "$2" '{query: $q, top_k: 5}')"
}
# query, then doc_id pasal ayat of the first result (ayat "-" when the citation names none)
while IFS='|' read -r q want; do
    search cite "$q"
    got=$(jq -r '[.citation.doc_id // "none", .results[0].doc_id, .results[0].pasal, (.results[0].ayat // "-"), .cache.embedding] | join(" ")' "$WEB_DIR/cite.body")
    is "citation '$q'" "$WEB_CODE $got" "200 $want none"
done <<'EOF2'
Pasal 2 ayat (1) UU No. 31 Tahun 1999|UU-31-1999 UU-31-1999 2 1
UU 31/1999 pasal 2|UU-31-1999 UU-31-1999 2 -
UU Nomor 13 Tahun 2003 Pasal 156 ayat 2|UU-13-2003 UU-13-2003 156 2
pasal 362 KUHP|KUHP KUHP 362 -
pasal 303 bis KUHP|KUHP KUHP 303 bis -
PP 35/2021 pasal 1|PP-35-2021 PP-35-2021 1 -
Pasal 27 ayat (3) UU ITE|UU-11-2008 UU-11-2008 27 3
EOF2

# The corpus does not hold Pasal 12B of UU 31/1999 as an article of its own (it sits inside the
# amending law's text): the citation is parsed and the query is searched instead.
search jo "Pasal 12B UU 31/1999 jo. UU 20/2001"
is "citation not in the corpus: parsed, then searched" \
    "$WEB_CODE $(jq -r '[.citation.pasal, (.results | length > 0), .cache.embedding != "none"] | join(" ")' "$WEB_DIR/jo.body")" \
    "200 12B true true"

search def "Apa definisi Korporasi?"
is "definition question: the first result defines the term" \
    "$(jq -r '.results[0] | [.kind, (.text | ascii_downcase | startswith("korporasi"))] | join(" ")' "$WEB_DIR/def.body")" \
    "definition true"

web_finish
