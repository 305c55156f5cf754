#!/usr/bin/env bash
# tests/web/test_ingest.sh -- lexrag-ingest against a throwaway PostgreSQL in a temp dir:
# migrate (twice: the second is a no-op), load the sample corpus and check the counts in the
# database, load it again (nothing changes: no row, no vector, no index file), change one
# record (exactly one unit updated and re-embedded), a Ketentuan Umum that loses a definition,
# --prune, bad JSON lines, a Markdown statute, reindex (the BM25 generation moves), stats, a
# missing database and usage errors. Where the real corpus is beside the checkout
# (LX_ROOT/../shared/data), it is loaded too and the time of each phase is printed ("# ").
set -u
LX_ROOT=${LX_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
LX_BUILD=${LX_BUILD:-$LX_ROOT/build}
# shellcheck source=../lib/tap.sh
. "$LX_ROOT/tests/lib/tap.sh"

ING=$LX_BUILD/lexrag-ingest
SAMPLE=$LX_ROOT/data/sample
REAL=$LX_ROOT/../shared/data
FIXTURES=$LX_ROOT/tests/fixtures

T=$(mktemp -d "${TMPDIR:-/tmp}/lexrag-ingest.XXXXXX")
MOCK_PID=
cleanup() {
    [ -n "$MOCK_PID" ] && kill -KILL "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
    lx_pg_stop "$T" >/dev/null 2>&1
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# shellcheck source=../../scripts/lib/pg.sh
. "$LX_ROOT/scripts/lib/pg.sh" # a throwaway PostgreSQL in $T (lx_pg_start, lx_pg_stop)
PGUSER_=postgres
[ "$(id -u)" -eq 0 ] || PGUSER_=$(id -un)

q() { # SQL -> the value(s), unaligned; on database DB (default lexrag)
    psql -X -h "$LX_PG_SOCKDIR" -p "$LX_PG_PORT" -U "$PGUSER_" -d "${DB:-lexrag}" -Atq \
        -v ON_ERROR_STOP=1 -c "$1"
}

createdb_() { createdb -h "$LX_PG_SOCKDIR" -p "$LX_PG_PORT" -U "$PGUSER_" "$1"; }

write_config() { # FILE DBNAME INDEXDIR [embedder lines...]
    local f=$1 db=$2 idx=$3
    shift 3
    {
        echo "[postgres]"
        echo "conninfo = ${LX_PG_CONNINFO/dbname=lexrag/dbname=$db}"
        echo "[index]"
        echo "dir = $idx"
        echo "[embedder]"
        if [ $# -gt 0 ]; then
            printf '%s\n' "$@"
        else
            printf '%s\n' "kind = hash" "dim = 384" "model = hash-v1"
        fi
    } >"$f"
}

ing() { # NAME args...: run the tool; stdout NAME.out, stderr NAME.err, status in RC
    local name=$1
    shift
    "$ING" "$@" >"$T/$name.out" 2>"$T/$name.err"
    RC=$?
}

has() { grep -qF -- "$2" "$T/$1.out" "$T/$1.err"; } # NAME TEXT: in its output

if [ ! -x "$ING" ]; then
    ok_if "lexrag-ingest is built ($ING)" 1
    tap_done
    exit 1
fi
if ! lx_pg_start "$T" 2>"$T/pg.err"; then
    skip "PostgreSQL tests" "cannot start a PostgreSQL server: $(tail -n 1 "$T/pg.err")"
    tap_done
    exit 0
fi

CONF=$T/lexrag.conf
IDX=$T/index
write_config "$CONF" lexrag "$IDX"

# ---- migrate --------------------------------------------------------------------------------

versions=$(for f in "$LX_ROOT"/sql/[0-9]*_*.sql; do
    v=${f##*/}
    v=${v%%_*}
    echo $((10#$v))
done | sort -n | paste -sd' ')
migrations="SELECT string_agg(version || '@' || applied_at, ' ' ORDER BY version)
            FROM schema_migrations"
ing migrate1 --config "$CONF" migrate
is "migrate exits 0" "$RC" 0
is "migrate records every sql/NNN_*.sql ($versions)" \
    "$(q "SELECT string_agg(version::text, ' ' ORDER BY version) FROM schema_migrations")" \
    "$versions"
applied=$(q "$migrations")
ing migrate2 --config "$CONF" migrate
is "migrate again exits 0" "$RC" 0
check "migrate again applies nothing" has migrate2 "0 migrations applied"
is "... and leaves schema_migrations as it was" "$(q "$migrations")" "$applied"

# ---- load the sample corpus -----------------------------------------------------------------

CORPUS=$T/corpus.jsonl
cp "$SAMPLE/corpus.jsonl" "$CORPUS"
records=$(grep -c . "$CORPUS")
containers=$(grep -c '"container"' "$CORPUS")
docs=$(grep -c . "$SAMPLE/docs.jsonl")

ing load1 --config "$CONF" load --docs "$SAMPLE/docs.jsonl" "$CORPUS"
is "load the sample corpus exits 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$(cat "$T/load1.err")"
is "documents: one per line of docs.jsonl" "$(q 'SELECT count(*) FROM documents')" "$docs"
is "articles + containers: one per record" \
    "$(q "SELECT count(*) FROM chunks WHERE kind IN ('article', 'container')")" "$records"
is "containers: the records flagged container" \
    "$(q "SELECT count(*) FROM chunks WHERE kind = 'container'")" "$containers"
ndefs=$(q "SELECT count(*) FROM chunks WHERE kind = 'definition'")
ok_if "definitions of the Ketentuan Umum articles are units ($ndefs)" $((ndefs >= 2 ? 0 : 1))
is "definitions are keyed {doc_id}:1#{n} with def_no and def_term" \
    "$(q "SELECT key || '|' || def_no || '|' || def_term FROM chunks
          WHERE key = 'UU-91-1999:1#2'")" "UU-91-1999:1#2|2|Pedagang Perahu"
is "every article and definition has a vector of the model" \
    "$(q "SELECT count(*) FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id
          WHERE v.model = 'hash-v1' AND v.dim = 384 AND length(v.vec) = 384 * 4
          AND v.content_hash = c.content_hash")" \
    "$(q "SELECT count(*) FROM chunks WHERE kind <> 'container'")"
is "containers have no vector" \
    "$(q "SELECT count(*) FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id
          WHERE c.kind = 'container'")" 0
is "document titles and tentang come from --docs" \
    "$(q "SELECT source FROM documents WHERE doc_id = 'UU-91-1999'")" "fiktif:data/sample"
check "the BM25 index exists" test -f "$IDX/bm25/iamglass"
check "the vector index exists" test -s "$IDX/dense.ann"
check "the BM25 generation file exists" test -s "$IDX/bm25.generation"
check "no ingest is left pending" test ! -e "$IDX/.ingest-pending"
units=$(q "SELECT count(*) FROM chunks WHERE kind <> 'container'")
check "the summary counts the BM25 units" has load1 "; $units units in the index"
check "the summary counts the ANN vectors" has load1 "ann        $units vectors"

# ---- the same input again: nothing changes --------------------------------------------------

touch "$T/mark"
sleep 1.1 # coarse file-system clocks
stamp=$(q 'SELECT max(updated_at) FROM chunks')
ing load2 --config "$CONF" load --docs "$SAMPLE/docs.jsonl" "$CORPUS"
is "load again exits 0" "$RC" 0
check "load again: 0 inserted, 0 updated" has load2 "changes    inserted 0, updated 0, unchanged"
check "load again: nothing embedded" has load2 "embedded   0 of 0"
check "load again: BM25 untouched" has load2 "bm25       untouched"
is "load again: no row rewritten" "$(q 'SELECT max(updated_at) FROM chunks')" "$stamp"
is "load again: no index file written" \
    "$(find "$IDX" -newer "$T/mark" -type f | wc -l)" 0

# ---- one record changed ---------------------------------------------------------------------

sed -i '/"id": "UU-91-1999:2"/s/"text": "/"text": "DIUBAH untuk uji. /' "$CORPUS"
old_hash=$(q "SELECT content_hash FROM chunks WHERE key = 'UU-91-1999:2'")
ing load3 --config "$CONF" load --docs "$SAMPLE/docs.jsonl" "$CORPUS"
is "load a changed record exits 0" "$RC" 0
check "exactly one unit updated" has load3 "changes    inserted 0, updated 1, unchanged"
check "exactly one unit re-embedded" has load3 "embedded   1 of 1"
check "the BM25 index took it (1 put)" has load3 "bm25       1 put, 0 deleted;"
is "the new text is stored" \
    "$(q "SELECT text LIKE 'DIUBAH untuk uji.%' FROM chunks WHERE key = 'UU-91-1999:2'")" t
is "its vector is of the new text" \
    "$(q "SELECT v.content_hash = c.content_hash AND c.content_hash <> '$old_hash'
          FROM chunk_vectors v JOIN chunks c ON c.id = v.chunk_id WHERE c.key = 'UU-91-1999:2'")" t
check "the vector index was rebuilt" test "$IDX/dense.ann" -nt "$T/mark"

# ---- a Ketentuan Umum article loses its last definition -------------------------------------

last=$(q "SELECT max(def_no) FROM chunks WHERE kind = 'definition' AND key LIKE 'UU-91-1999:1#%'")
sed -i '/"id": "UU-91-1999:1"/s/\\n'"$last"'\. [^"]*"/"/' "$CORPUS"
ing load4 --config "$CONF" load --docs "$SAMPLE/docs.jsonl" "$CORPUS"
is "load a shorter Ketentuan Umum exits 0" "$RC" 0
check "its article is updated, the vanished definition deleted" \
    has load4 "changes    inserted 0, updated 1, unchanged"
check "... deleted 1" has load4 "deleted 1"
is "definition #$last is gone" \
    "$(q "SELECT count(*) FROM chunks WHERE key = 'UU-91-1999:1#$last'")" 0
is "the other definitions are untouched" \
    "$(q "SELECT count(*) FROM chunks WHERE kind = 'definition' AND key LIKE 'UU-91-1999:1#%'")" \
    $((last - 1))

# ---- --prune --------------------------------------------------------------------------------

grep -v '"id": "UU-91-1999:3"' "$CORPUS" >"$T/pruned.jsonl"
ing load5 --config "$CONF" load "$T/pruned.jsonl"
check "without --prune a missing record stays" \
    test "$(q "SELECT count(*) FROM chunks WHERE key = 'UU-91-1999:3'")" = 1
ing load6 --config "$CONF" load --prune "$T/pruned.jsonl"
is "load --prune exits 0" "$RC" 0
check "load --prune deletes the one unit the input lost" has load6 "inserted 0, updated 0, unchanged"
check "... deleted 1" has load6 "deleted 1"
is "... from the database" "$(q "SELECT count(*) FROM chunks WHERE key = 'UU-91-1999:3'")" 0
check "... and from BM25" has load6 "bm25       0 put, 1 deleted;"
is "documents without --docs keep their source from the earlier --docs" \
    "$(q "SELECT source FROM documents WHERE doc_id = 'UU-91-1999'")" "fiktif:data/sample"

# ---- bad lines ------------------------------------------------------------------------------

{
    head -n 2 "$CORPUS"
    echo '{"id": "UU-91-1999:99", "doc_id": "UU-91-1999", "pasal": "99"'
    echo '{"id": "UU-91-1999:98", "doc_id": "UU-91-1999", "pasal": "98", "title": "x"}'
} >"$T/bad.jsonl"
ing bad --config "$CONF" load "$T/bad.jsonl"
is "bad JSON lines: exit status 1" "$RC" 1
check "... the message names the file and line of the bad JSON" has bad "$T/bad.jsonl:3: bad JSON"
check "... and of the missing field" has bad "$T/bad.jsonl:4: field \"text\" is missing"
check "... the good lines are loaded all the same" has bad "2 bad lines"
ing badskip --config "$CONF" load --skip-bad "$T/bad.jsonl"
is "--skip-bad: exit status 0" "$RC" 0

# ---- a Markdown statute ---------------------------------------------------------------------

ing md --config "$CONF" load "$FIXTURES/uu-12-2032.md"
is "load a Markdown statute exits 0" "$RC" 0
[ "$RC" -eq 0 ] || diag "$(cat "$T/md.err")"
is "its articles (Pasal 1, 2, 3, 3A, 4; not the Penjelasan)" \
    "$(q "SELECT string_agg(pasal, ',' ORDER BY id) FROM chunks
          WHERE doc_id = 'UU-12-2032' AND kind = 'article'")" "1,2,3,3A,4"
is "its definitions" \
    "$(q "SELECT string_agg(def_term, ',' ORDER BY def_no) FROM chunks
          WHERE doc_id = 'UU-12-2032' AND kind = 'definition'")" "Kunang-Kunang,Penangkaran,Penangkar"
is "its document from the title lines" \
    "$(q "SELECT doc_type || '|' || number || '|' || year || '|' || title FROM documents
          WHERE doc_id = 'UU-12-2032'")" \
    "UU|12|2032|Undang-Undang Nomor 12 Tahun 2032 tentang Penangkaran Kunang-Kunang (Fiktif)"
is "chapters and ayat spans" \
    "$(q "SELECT bab || '|' || ayat::text FROM chunks WHERE key = 'UU-12-2032:2'")" \
    'BAB II PENANGKARAN|[{"end": 53, "ayat": "1", "start": 0}, {"end": 121, "ayat": "2", "start": 54}]'
printf 'Pasal 1\nSetiap orang dilarang (fiktif).\n\nPasal 2\nCukup (fiktif).\n' >"$T/plain.txt"
ing txt1 --config "$CONF" load "$T/plain.txt"
is "a text statute without a title line and without --doc-id: exit status 1" "$RC" 1
check "... saying to give --doc-id and --title" has txt1 "give --doc-id and --title"
ing txt2 --config "$CONF" load --doc-id UU-13-2032 \
    --title "Undang-Undang Nomor 13 Tahun 2032 tentang Uji (FIKTIF)" "$T/plain.txt"
is "... with --doc-id and --title: exit status 0" "$RC" 0
is "... its two articles" "$(q "SELECT count(*) FROM chunks WHERE doc_id = 'UU-13-2032'")" 2

# ---- reindex and stats ----------------------------------------------------------------------

gen=$(cat "$IDX/bm25.generation")
ing reindex --config "$CONF" reindex
is "reindex exits 0" "$RC" 0
is "reindex moves the BM25 generation" "$(cat "$IDX/bm25.generation")" $((gen + 1))
check "reindex leaves no bm25.new or bm25.old" test ! -e "$IDX/bm25.new" -a ! -e "$IDX/bm25.old"
units=$(q "SELECT count(*) FROM chunks WHERE kind <> 'container'")
check "reindex indexes every unit" has reindex "bm25       $units units"
ing stats --config "$CONF" stats
is "stats exits 0" "$RC" 0
check "stats counts per kind" has stats "definition"
check "stats counts vectors per model" has stats "hash-v1 384"
check "stats reads the index files" has stats "dense.ann: $units vectors of dim 384"

# ---- kind = openai, through the mock server ---------------------------------------------------

MOCK=$LX_BUILD/tests/mock_openai
if [ ! -x "$MOCK" ] || ! command -v curl >/dev/null 2>&1; then
    skip "embedding through an OpenAI-compatible API" "no $MOCK (make tests) or no curl"
else
    "$MOCK" --listen 127.0.0.1:0 --port-file "$T/mock.port" --dim 32 --embed-latency-ms 30 \
        --quiet 2>"$T/mock.log" &
    MOCK_PID=$!
    for _ in $(seq 100); do
        [ -s "$T/mock.port" ] && break
        sleep 0.05
    done
    MOCK_URL=http://127.0.0.1:$(cat "$T/mock.port")
    control() { curl -s -m 5 -o /dev/null -H 'Content-Type: application/json' -d "$1" "$MOCK_URL/_control"; }
    createdb_ lexrag_oa
    write_config "$T/oa.conf" lexrag_oa "$T/index-oa" "kind = openai" "dim = 32" \
        "model = mock-embed" "url = $MOCK_URL/v1/embeddings" "batch_size = 8" "retries = 0"
    cp "$SAMPLE/corpus.jsonl" "$T/oa.jsonl"
    ing oa1 --config "$T/oa.conf" load "$T/oa.jsonl"
    is "kind = openai: load exits 0" "$RC" 0
    [ "$RC" -eq 0 ] || diag "$(tail -n 5 "$T/oa1.err")"
    oa_units=$(DB=lexrag_oa q "SELECT count(*) FROM chunks WHERE kind <> 'container'")
    is "... a vector of the model for every unit" \
        "$(DB=lexrag_oa q "SELECT count(*) FROM chunk_vectors WHERE model = 'mock-embed'
                           AND dim = 32 AND length(vec) = 128")" "$oa_units"
    curl -s -m 5 "$MOCK_URL/_stats" >"$T/mock.stats"
    reqs=$(sed -n 's/.*"embeddings_requests": *\([0-9]*\).*/\1/p' "$T/mock.stats")
    maxin=$(sed -n 's/.*"max_in_flight": *\([0-9]*\).*/\1/p' "$T/mock.stats")
    is "... in batches of batch_size" "$reqs" $(((oa_units + 7) / 8))
    ok_if "... at most 4 batches in flight, more than 1 ($maxin)" \
        $((maxin >= 2 && maxin <= 4 ? 0 : 1))
    control '{"error_rate": 1.0}'
    sed -i '/"id": "UU-91-1999:2"/s/"text": "/"text": "DIUBAH lagi. /' "$T/oa.jsonl"
    ing oa2 --config "$T/oa.conf" load "$T/oa.jsonl"
    is "the embedding API failing: exit status 1" "$RC" 1
    check "... the summary says so" has oa2 "embedded   0 of 1 needed (model mock-embed, dim 32), SOME FAILED"
    check "... the unit is stored and in BM25 all the same" has oa2 "bm25       1 put, 0 deleted;"
    check "... no ingest is left pending (the indexes match the database)" \
        test ! -e "$T/index-oa/.ingest-pending"
    control '{"error_rate": 0}'
    ing oa3 --config "$T/oa.conf" load "$T/oa.jsonl"
    is "the API back: exit status 0" "$RC" 0
    check "... the missing vector is embedded now" has oa3 "embedded   1 of 1 needed"
    check "... nothing else changes" has oa3 "inserted 0, updated 0, unchanged"
fi

# ---- errors ---------------------------------------------------------------------------------

write_config "$T/nodb.conf" no_such_db "$T/index2"
ing nodb --config "$T/nodb.conf" migrate
is "a missing database: exit status 1" "$RC" 1
check "... with how to create it" has nodb "createdb"
ing usage1 --config "$CONF" frobnicate
is "an unknown command: exit status 2" "$RC" 2
ing usage2 --config "$CONF" load "$T/no-such-file.jsonl"
is "a missing input file: exit status 2" "$RC" 2
ing usage3 --config "$CONF" load
is "load without files: exit status 2" "$RC" 2

# ---- the real corpus: timings only ----------------------------------------------------------

if [ ! -f "$REAL/id-law-corpus.jsonl" ]; then
    skip "real corpus timings" "no $REAL/id-law-corpus.jsonl beside the checkout"
elif [[ $LX_BUILD == *asan* ]]; then
    skip "real corpus timings" "not measured under ASan (LX_BUILD=$LX_BUILD)"
else
    createdb_ lexrag_real
    write_config "$T/real.conf" lexrag_real "$T/index-real"
    t0=$SECONDS
    ing real --config "$T/real.conf" load --quiet --docs "$REAL/id-law-docs.jsonl" \
        "$REAL/id-law-corpus.jsonl"
    is "load the real corpus exits 0" "$RC" 0
    diag "real corpus, first load ($((SECONDS - t0)) s wall):"
    while IFS= read -r l; do diag "$l"; done <"$T/real.out"
    t0=$SECONDS
    ing real2 --config "$T/real.conf" load --quiet --docs "$REAL/id-law-docs.jsonl" \
        "$REAL/id-law-corpus.jsonl"
    check "load the real corpus again: nothing changes" \
        has real2 "changes    inserted 0, updated 0, unchanged"
    diag "real corpus, second load ($((SECONDS - t0)) s wall):"
    grep -E 'seconds|rate' "$T/real2.out" | while IFS= read -r l; do diag "$l"; done
fi

tap_done
