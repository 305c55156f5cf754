/* fcgi/retrieve.c -- retrieval for one request (retrieve.h), the engine behind POST
 * /api/search and the chat endpoints. One retrieval is one state object in the request's
 * arena; nothing waits:
 *   1. a query that is a legal citation is answered by a direct PostgreSQL look-up (no
 *      embedding call); one the corpus does not hold as cited falls back to retrieval;
 *   2. a multi-part question is split into sub-queries;
 *   3. at once, for every sub-query: the BM25 leg on a search thread, and the dense leg: the
 *      Redis cache (one MGET), one batched embedding call for the misses (written back without
 *      waiting), then ANN on a search thread; each stage has its own deadline
 *      (retrieval.bm25_timeout_ms, embed_timeout_ms, dense_timeout_ms): one that misses it is
 *      cancelled (its late result dropped) and named in "degraded" or, alone, a 503;
 *      while the embedder's circuit breaker is open the dense leg is not tried at all;
 *   4. fuse by reciprocal rank fusion, fetch the texts (with the filters) in one async query.
 *      A dense leg that fails in hybrid mode is named in "degraded".
 * A definition question ("apa definisi X?") also fetches the definitions of X directly and
 * ranks them first, the one the legs ranked best leading. */
#include "retrieve.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../shared/arena.h"
#include "../shared/breaker.h"
#include "../shared/cfg.h"
#include "../shared/cite.h"
#include "../shared/emb.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/qintent.h"
#include "../shared/rds.h"
#include "../shared/rrf.h"
#include "../shared/split.h"
#include "backends.h"
#include "metrics.h"
#include "req.h"
#include "search_jobs.h"
#include "worker.h"

#define SEARCH_KEY_MAX_BYTES 160
/* Definitions of the asked term that no leg found, added after those it did. */
#define SEARCH_EXTRA_DEFS 3

static const char *const mode_names[] = {"hybrid", "dense", "bm25"};

enum { TIMER_BM25, TIMER_EMBED, TIMER_DENSE };

struct search {
    struct req *r;
    retr_done_fn done;
    void *done_ud;
    struct backends *b;
    const struct cfg *cfg;
    const char *query;
    long top_k;
    enum retr_mode mode;
    const char *doc_type, *doc_id;
    long year_min, year_max;
    unsigned nsub;
    const char *subs[LX_SPLIT_MAX_PARTS];
    int64_t *ids[2][LX_SPLIT_MAX_PARTS]; /* [leg][sub], arena copies */
    int nids[2][LX_SPLIT_MAX_PARTS];
    float *vecs; /* nsub x dim */
    unsigned dim;
    unsigned pending; /* legs (or leg stages) still running */
    int legs_done;
    int failed[2];
    char leg_err[2][160];
    const char *cache_state;
    char *keys[LX_SPLIT_MAX_PARTS];
    unsigned miss[LX_SPLIT_MAX_PARTS], nmiss;
    double t_embed0, t_embed, t_dense, t_bm25, t_fetch0;
    struct rds_cmd *cache_cmd;
    struct emb_op *emb_op;
    struct pgc_op *pg_op;
    struct leg_job *jobs[2 * LX_SPLIT_MAX_PARTS];
    unsigned njobs;
    struct event *timer[3]; /* deadlines: TIMER_BM25, TIMER_EMBED, TIMER_DENSE */
    int emb_probe;          /* this search's embedding call is the breaker's probe or counted */
    struct rrf fused;
    struct cite cite;
    int is_cite;
    char def_term[LX_QINTENT_TERM_MAX_BYTES];
    int is_def;
};

static void search_legs_done(struct search *s);
static void search_retrieve(struct search *s);

/* ---- helpers ---------------------------------------------------------------------------- */

static void free_event_cb(void *p)
{
    event_free(p);
}

static void free_rrf_cb(void *p)
{
    rrf_free(p);
}

static void search_abort(struct req *r, void *ud)
{
    struct search *s = ud;
    (void)r;
    rds_cancel(s->cache_cmd);
    emb_cancel(s->emb_op);
    pgc_cancel(s->pg_op);
    s->cache_cmd = NULL;
    s->emb_op = NULL;
    s->pg_op = NULL;
    for (unsigned i = 0; i < s->njobs; i++)
        if (s->jobs[i] != NULL)
            s->jobs[i]->owner = NULL;
    for (int t = 0; t < 3; t++)
        if (s->timer[t] != NULL)
            event_del(s->timer[t]);
    if (s->emb_probe) { /* the call was dropped without an outcome */
        breaker_release(&s->b->emb_breaker);
        s->emb_probe = 0;
    }
}

static void json_set_nullable_str(json_t *o, const char *k, const char *v)
{
    json_object_set_new(o, k, v != NULL ? json_string(v) : json_null());
}

/* Normalised text for the cache key: lower-case ASCII, runs of space folded, trimmed. */
static void cache_key(const struct search *s, const char *text, char *out, size_t cap)
{
    uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
    int space = 0, any = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        unsigned char c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = any;
            continue;
        }
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        for (int k = 0; k < 1 + space; k++) {
            unsigned char x = k < space ? ' ' : c;
            h1 = (h1 ^ x) * 1099511628211ULL;
            h2 = (h2 ^ x) * 0xff51afd7ed558ccdULL;
            h2 ^= h2 >> 33;
        }
        space = 0;
        any = 1;
    }
    snprintf(out, cap, "lx:emb:v1:%s:%u:%016llx%016llx", emb_model(s->b->emb), s->dim,
             (unsigned long long)h1, (unsigned long long)h2);
}

/* ---- the answer ------------------------------------------------------------------------- */

static json_t *citation_json(const struct search *s)
{
    if (!s->is_cite)
        return json_null();
    json_t *c = json_object();
    json_object_set_new(c, "doc_type", json_string(s->cite.doc_type));
    json_set_nullable_str(c, "number", s->cite.number[0] ? s->cite.number : NULL);
    json_object_set_new(c, "year", s->cite.year ? json_integer(s->cite.year) : json_null());
    json_object_set_new(c, "pasal", json_string(s->cite.pasal));
    json_set_nullable_str(c, "ayat", s->cite.ayat[0] ? s->cite.ayat : NULL);
    json_object_set_new(c, "doc_id", json_string(s->cite.doc_id));
    return c;
}

/* The columns of SEARCH_COLUMNS, row i, as a result object. */
#define SEARCH_COLUMNS                                                                             \
    "id, kind, doc_id, doc_type, number, year, title, pasal, ayat::text, def_no, text, def_term"

static const char *col(const PGresult *res, int row, int c)
{
    return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

/* The text of one ayat: its byte span in the article, from the ayat column's offsets. */
static json_t *ayat_text(const char *ayat_json, const char *text, const char *want)
{
    json_t *spans = ayat_json ? json_loads(ayat_json, 0, NULL) : NULL, *out = NULL;
    size_t len = strlen(text), i;
    json_t *sp;
    json_array_foreach(spans, i, sp)
    {
        const char *a = json_string_value(json_object_get(sp, "ayat"));
        json_int_t st = json_integer_value(json_object_get(sp, "start"));
        json_int_t en = json_integer_value(json_object_get(sp, "end"));
        if (a != NULL && strcmp(a, want) == 0 && st >= 0 && en > st && (size_t)en <= len) {
            out = json_stringn(text + st, (size_t)(en - st));
            break;
        }
    }
    json_decref(spans);
    return out;
}

static json_t *row_json(const PGresult *res, int row)
{
    json_t *o = json_object();
    json_object_set_new(o, "chunk_id", json_integer(strtoll(col(res, row, 0), NULL, 10)));
    json_object_set_new(o, "doc_id", json_string(col(res, row, 2)));
    json_object_set_new(o, "doc_type", json_string(col(res, row, 3)));
    json_set_nullable_str(o, "number", col(res, row, 4));
    json_object_set_new(o, "year", json_integer(atoi(col(res, row, 5))));
    json_object_set_new(o, "title", json_string(col(res, row, 6)));
    json_object_set_new(o, "pasal", json_string(col(res, row, 7)));
    json_object_set_new(o, "ayat", json_null());
    json_object_set_new(o, "kind", json_string(col(res, row, 1)));
    const char *def = col(res, row, 9);
    json_object_set_new(o, "definition", def ? json_integer(atoi(def)) : json_null());
    json_object_set_new(o, "text", json_string(col(res, row, 10)));
    return o;
}

static void search_reply(struct search *s, json_t *results, int include_degraded)
{
    struct req *r = s->r;
    json_t *subs = json_array(), *deg = json_array();
    for (unsigned i = 0; i < s->nsub; i++)
        json_array_append_new(subs, json_string(s->subs[i]));
    if (include_degraded) {
        if (s->failed[LEG_DENSE])
            json_array_append_new(deg, json_string("dense"));
        if (s->failed[LEG_BM25])
            json_array_append_new(deg, json_string("bm25"));
    }
    double total = req_elapsed_ms(r);
    if (s->t_embed > 0)
        metrics_stage(MS_EMBED, s->t_embed);
    if (s->t_dense > 0)
        metrics_stage(MS_DENSE, s->t_dense);
    if (s->t_bm25 > 0)
        metrics_stage(MS_BM25, s->t_bm25);
    if (s->mode != RETR_BM25 && !s->is_cite)
        metrics_cache(s->cache_state, 1);
    json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:{s:s},s:{s:f,s:f,s:f,s:f}}", "query",
                          s->query, "mode", mode_names[s->mode], "citation", citation_json(s),
                          "sub_queries", subs, "results", results, "degraded", deg, "cache",
                          "embedding", s->cache_state, "timings_ms", "embed", s->t_embed, "dense",
                          s->t_dense, "bm25", s->t_bm25, "total", total);
    if (s->leg_err[LEG_DENSE][0] && s->failed[LEG_DENSE])
        log_warn(req_id(r), "msg=\"dense leg failed\" error=\"%s\"", s->leg_err[LEG_DENSE]);
    if (s->leg_err[LEG_BM25][0] && s->failed[LEG_BM25])
        log_warn(req_id(r), "msg=\"bm25 leg failed\" error=\"%s\"", s->leg_err[LEG_BM25]);
    req_on_abort(r, NULL, NULL); /* the retrieval is over: the caller takes the request on */
    if (j == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    s->done(r, s->done_ud, j);
}

/* ---- citation fast path ----------------------------------------------------------------- */

static void on_cite_rows(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct search *s = ud;
    s->pg_op = NULL;
    if (err != LX_OK) {
        req_reply_db_error(s->r, msg);
        return;
    }
    if (PQntuples(res) == 0) { /* not in the corpus as cited: search for it instead */
        search_retrieve(s);
        return;
    }
    json_t *results = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *o = row_json(res, i);
        if (s->cite.ayat[0]) {
            json_t *t = ayat_text(col(res, i, 8), col(res, i, 10), s->cite.ayat);
            if (t != NULL) {
                json_object_set_new(o, "ayat", json_string(s->cite.ayat));
                json_object_set_new(o, "text", t);
            }
        }
        json_object_set_new(o, "score", json_real(1.0));
        json_object_set_new(o, "dense_rank", json_null());
        json_object_set_new(o, "bm25_rank", json_null());
        json_array_append_new(results, o);
    }
    search_reply(s, results, 0);
}

static void search_citation(struct search *s)
{
    /* The article itself; an article inserted or changed by an amending law lives under that
     * law with amends = the cited law ("Pasal 12B UU 31/1999 jo. UU 20/2001"). */
    static const char sql[] = "SELECT " SEARCH_COLUMNS " FROM chunks"
                              " WHERE kind <> 'definition' AND pasal = $2"
                              "   AND (doc_id = $1 OR amends = $1 OR doc_id = $3)"
                              " ORDER BY (doc_id = $1) DESC, (doc_id = $3) DESC, year, id LIMIT $4";
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", s->top_k);
    const char *params[] = {s->cite.doc_id, s->cite.pasal,
                            s->cite.jo_doc_id[0] ? s->cite.jo_doc_id : NULL, limit};
    s->cache_state = "none";
    s->subs[0] = s->query;
    s->nsub = 1;
    s->pg_op =
        pgc_query(s->b->pg, sql, 4, params, (unsigned)s->cfg->pg_timeout_ms, on_cite_rows, s);
    if (s->pg_op == NULL)
        req_reply_error(s->r, LX_ENOMEM, "out of memory");
}

/* ---- fetch and fuse --------------------------------------------------------------------- */

/* Is row a definition of the asked term? */
static int row_defines(const struct search *s, const PGresult *res, int row)
{
    const char *kind = col(res, row, 1), *term = col(res, row, 11);
    return s->is_def && term != NULL && strcmp(kind, "definition") == 0 &&
           strcasecmp(term, s->def_term) == 0;
}

static void add_result(json_t *results, const PGresult *res, int row, const struct rrf_item *it)
{
    json_t *o = row_json(res, row);
    json_object_set_new(o, "score", json_real(it ? it->score : 0.0));
    json_object_set_new(o, "dense_rank",
                        it && it->rank[RRF_DENSE] ? json_integer(it->rank[RRF_DENSE])
                                                  : json_null());
    json_object_set_new(o, "bm25_rank",
                        it && it->rank[RRF_BM25] ? json_integer(it->rank[RRF_BM25]) : json_null());
    json_array_append_new(results, o);
}

/* The row of unit id, or -1 (the filters dropped it). */
static int find_row(const PGresult *res, int64_t id)
{
    for (int row = 0; row < PQntuples(res); row++)
        if (strtoll(col(res, row, 0), NULL, 10) == id)
            return row;
    return -1;
}

static void on_fetch_rows(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct search *s = ud;
    s->pg_op = NULL;
    if (err != LX_OK) {
        req_reply_db_error(s->r, msg);
        return;
    }
    /* Rows come in any order. Definitions of the asked term first (fused order, then up to
     * SEARCH_EXTRA_DEFS the legs missed), then the fused order; filtered-out units are gone. */
    json_t *results = json_array();
    size_t want = (size_t)s->top_k;
    char *used = arena_calloc(req_arena(s->r), (size_t)PQntuples(res) + 1, 1);
    if (used == NULL) {
        json_decref(results);
        req_reply_error(s->r, LX_ENOMEM, "out of memory");
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0 && !s->is_def)
            continue;
        for (size_t i = 0; i < s->fused.n && json_array_size(results) < want; i++) {
            int row = find_row(res, s->fused.items[i].id);
            if (row < 0 || used[row] || (pass == 0 && !row_defines(s, res, row)))
                continue;
            used[row] = 1;
            add_result(results, res, row, &s->fused.items[i]);
        }
        for (int row = 0, extra = 0; pass == 0 && row < PQntuples(res); row++) {
            if (used[row] || !row_defines(s, res, row) || extra >= SEARCH_EXTRA_DEFS ||
                json_array_size(results) >= want)
                continue;
            used[row] = 1;
            extra++;
            add_result(results, res, row, NULL);
        }
    }
    search_reply(s, results, 1);
}

static void search_fetch(struct search *s)
{
    double w[2] = {s->cfg->weight_bm25, s->cfg->weight_dense};
    enum rrf_leg legs[2] = {RRF_BM25, RRF_DENSE};
    rrf_init(&s->fused, s->cfg->rrf_k);
    arena_defer(req_arena(s->r), free_rrf_cb, &s->fused);
    for (int leg = 0; leg < 2; leg++)
        for (unsigned i = 0; i < s->nsub; i++)
            if (!s->failed[leg] && s->nids[leg][i] > 0 &&
                rrf_add(&s->fused, legs[leg], w[leg], s->ids[leg][i], (size_t)s->nids[leg][i]) !=
                    0) {
                req_reply_error(s->r, LX_ENOMEM, "out of memory");
                return;
            }
    rrf_sort(&s->fused);
    if (s->fused.n == 0 && !s->is_def) {
        search_reply(s, json_array(), 1);
        return;
    }
    /* '{1,2,3}': the units to fetch. Unfiltered, the first top_k fused are the answer; with
     * filters, every fused unit, since the fetch drops what the dense leg could not filter. */
    int filtered = s->doc_type || s->doc_id || s->year_min || s->year_max;
    size_t nfetch = filtered || s->fused.n < (size_t)s->top_k ? s->fused.n : (size_t)s->top_k;
    size_t cap = nfetch * 21 + 3, at = 0;
    char *arr = arena_alloc(req_arena(s->r), cap);
    if (arr == NULL) {
        req_reply_error(s->r, LX_ENOMEM, "out of memory");
        return;
    }
    arr[at++] = '{';
    for (size_t i = 0; i < nfetch; i++)
        at += (size_t)snprintf(arr + at, cap - at, "%s%lld", i ? "," : "",
                               (long long)s->fused.items[i].id);
    snprintf(arr + at, cap - at, "}");
    static const char sql[] =
        "SELECT " SEARCH_COLUMNS " FROM chunks"
        " WHERE (id = ANY($1::bigint[])"
        "        OR ($6::text IS NOT NULL AND kind = 'definition' AND lower(def_term) = lower($6)))"
        "   AND ($2::text IS NULL OR doc_type = $2)"
        "   AND ($3::text IS NULL OR doc_id = $3)"
        "   AND ($4::int IS NULL OR year >= $4)"
        "   AND ($5::int IS NULL OR year <= $5)"
        " ORDER BY year DESC, id LIMIT 2000";
    char ymin[16], ymax[16];
    snprintf(ymin, sizeof ymin, "%ld", s->year_min);
    snprintf(ymax, sizeof ymax, "%ld", s->year_max);
    const char *params[] = {arr,
                            s->doc_type,
                            s->doc_id,
                            s->year_min ? ymin : NULL,
                            s->year_max ? ymax : NULL,
                            s->is_def ? s->def_term : NULL};
    s->t_fetch0 = req_elapsed_ms(s->r);
    s->pg_op =
        pgc_query(s->b->pg, sql, 6, params, (unsigned)s->cfg->pg_timeout_ms, on_fetch_rows, s);
    if (s->pg_op == NULL)
        req_reply_error(s->r, LX_ENOMEM, "out of memory");
}

static void search_legs_done(struct search *s)
{
    if (s->legs_done)
        return;
    s->legs_done = 1;
    search_abort(s->r, s); /* whatever is still running is not waited for */
    int need_bm25 = s->mode != RETR_DENSE, need_dense = s->mode != RETR_BM25;
    if ((!need_bm25 || s->failed[LEG_BM25]) && (!need_dense || s->failed[LEG_DENSE])) {
        const char *e =
            need_dense && s->failed[LEG_DENSE] ? s->leg_err[LEG_DENSE] : s->leg_err[LEG_BM25];
        req_reply_error(s->r, LX_EUNAVAIL, "retrieval unavailable: %s", e);
        return;
    }
    search_fetch(s);
}

static void leg_finished(struct search *s)
{
    if (--s->pending == 0)
        search_legs_done(s);
}

static void leg_fail(struct search *s, enum leg_kind leg, const char *msg)
{
    s->failed[leg] = 1;
    if (s->leg_err[leg][0] == '\0')
        snprintf(s->leg_err[leg], sizeof s->leg_err[leg], "%s", msg);
}

/* A stage missed its deadline: its jobs are dropped (the threads finish them, nobody waits) and
 * its calls cancelled; the leg is failed and reported like any failure. */
static void expire_stage(struct search *s, int stage)
{
    if (s->legs_done)
        return;
    if (stage == TIMER_EMBED) {
        if (s->emb_op == NULL && s->cache_cmd == NULL)
            return;
        rds_cancel(s->cache_cmd);
        emb_cancel(s->emb_op);
        if (s->emb_op != NULL && s->emb_probe) {
            breaker_failure(&s->b->emb_breaker, lx_mono_ms());
            s->emb_probe = 0;
        }
        s->cache_cmd = NULL;
        s->emb_op = NULL;
        leg_fail(s, LEG_DENSE, "embedding timed out");
        metrics_leg_timeout("embed");
        leg_finished(s); /* the embedding stage */
        return;
    }
    enum leg_kind leg = stage == TIMER_BM25 ? LEG_BM25 : LEG_DENSE;
    unsigned n = 0;
    for (unsigned i = 0; i < s->njobs; i++) {
        if (s->jobs[i] != NULL && s->jobs[i]->leg == leg) {
            s->jobs[i]->owner = NULL;
            s->jobs[i] = NULL;
            n++;
        }
    }
    if (n == 0)
        return;
    leg_fail(s, leg, "timed out");
    metrics_leg_timeout(leg == LEG_BM25 ? "bm25" : "dense");
    s->pending -= n - 1;
    leg_finished(s);
}

static void on_bm25_deadline(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    expire_stage(ud, TIMER_BM25);
}

static void on_embed_deadline(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    expire_stage(ud, TIMER_EMBED);
}

static void on_dense_deadline(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    expire_stage(ud, TIMER_DENSE);
}

static void arm(struct search *s, int stage, unsigned long ms)
{
    struct timeval tv = lx_tv_ms(ms);
    evtimer_add(s->timer[stage], &tv);
}

/* ---- legs ------------------------------------------------------------------------------- */

static void on_leg_job(void *owner, struct leg_job *j)
{
    struct search *s = owner;
    for (unsigned i = 0; i < s->njobs; i++)
        if (s->jobs[i] == j)
            s->jobs[i] = NULL;
    double *t = j->leg == LEG_BM25 ? &s->t_bm25 : &s->t_dense;
    if (j->ms > *t)
        *t = j->ms;
    if (j->n < 0) {
        leg_fail(s, j->leg, j->err);
    } else {
        int64_t *ids = arena_alloc(req_arena(s->r), (size_t)(j->n ? j->n : 1) * sizeof *ids);
        if (ids == NULL) {
            leg_fail(s, j->leg, "out of memory");
        } else {
            memcpy(ids, j->ids, (size_t)j->n * sizeof *ids);
            s->ids[j->leg][j->sub] = ids;
            s->nids[j->leg][j->sub] = j->n;
        }
    }
    leg_finished(s);
}

static int submit_leg(struct search *s, struct leg_job *j, unsigned sub)
{
    j->owner = s;
    j->deliver = on_leg_job;
    j->sub = sub;
    s->jobs[s->njobs++] = j;
    s->pending++;
    if (leg_job_submit(j) != 0) { /* freed */
        s->jobs[--s->njobs] = NULL;
        s->pending--;
        return -1;
    }
    return 0;
}

static void start_bm25(struct search *s)
{
    arm(s, TIMER_BM25, s->cfg->bm25_timeout_ms);
    for (unsigned i = 0; i < s->nsub; i++) {
        struct leg_job *j = leg_job_new(s->b, LEG_BM25, (unsigned)s->cfg->candidates);
        if (j == NULL || (j->query = strdup(s->subs[i])) == NULL) {
            if (j != NULL)
                free(j->ids), free(j);
            leg_fail(s, LEG_BM25, "out of memory");
            return;
        }
        snprintf(j->doc_type, sizeof j->doc_type, "%s", s->doc_type ? s->doc_type : "");
        snprintf(j->doc_id, sizeof j->doc_id, "%s", s->doc_id ? s->doc_id : "");
        j->year_min = (int)s->year_min;
        j->year_max = (int)s->year_max;
        j->k1 = s->cfg->bm25_k1;
        j->bm25_b = s->cfg->bm25_b;
        if (submit_leg(s, j, i) != 0) {
            leg_fail(s, LEG_BM25, "search threads saturated");
            return;
        }
    }
}

/* The vectors are there: one ANN job per sub-query. */
static void start_ann(struct search *s)
{
    /* Over-fetch when filtering: the ANN index has no filters, the fetch applies them. */
    int filtered = s->doc_type || s->doc_id || s->year_min || s->year_max;
    unsigned k = (unsigned)s->cfg->candidates * (filtered ? 4 : 1);
    arm(s, TIMER_DENSE, s->cfg->dense_timeout_ms);
    for (unsigned i = 0; i < s->nsub; i++) {
        struct ann_ref *ref = backends_ann_acquire(s->b);
        if (ref == NULL) {
            leg_fail(s, LEG_DENSE, "no vector index loaded (run lexrag-ingest)");
            return;
        }
        struct leg_job *j = leg_job_new(s->b, LEG_DENSE, k);
        if (j != NULL)
            j->vec = malloc(s->dim * sizeof *j->vec);
        if (j == NULL || j->vec == NULL) {
            backends_ann_release(s->b, ref);
            if (j != NULL)
                free(j->ids), free(j);
            leg_fail(s, LEG_DENSE, "out of memory");
            return;
        }
        j->ann = ref;
        j->ef = (unsigned)s->cfg->dense_ef;
        memcpy(j->vec, s->vecs + (size_t)i * s->dim, s->dim * sizeof *j->vec);
        if (submit_leg(s, j, i) != 0) {
            leg_fail(s, LEG_DENSE, "search threads saturated");
            return;
        }
    }
}

static void on_embedded(void *ud, enum lx_err err, const float *vecs, size_t n, const char *msg)
{
    struct search *s = ud;
    s->emb_op = NULL;
    s->t_embed = req_elapsed_ms(s->r) - s->t_embed0;
    event_del(s->timer[TIMER_EMBED]);
    if (s->emb_probe) {
        if (err == LX_OK)
            breaker_success(&s->b->emb_breaker);
        else
            breaker_failure(&s->b->emb_breaker, lx_mono_ms());
        s->emb_probe = 0;
    }
    if (err != LX_OK) { /* the upstream's words (addresses, its errors) stay in the log */
        log_warn(req_id(s->r), "msg=\"embedding failed\" error=%s detail=\"%s\"", lx_strerror(err),
                 msg ? msg : "");
        leg_fail(s, LEG_DENSE,
                 err == LX_ETIMEOUT ? "the embedder timed out" : "the embedder failed");
    } else {
        for (size_t m = 0; m < n; m++) {
            unsigned i = s->miss[m];
            memcpy(s->vecs + (size_t)i * s->dim, vecs + m * s->dim, s->dim * sizeof(float));
            if (s->b->rds != NULL && s->keys[i] != NULL) /* written back, not waited for */
                rds_setex(s->b->rds, s->keys[i], strlen(s->keys[i]), vecs + m * s->dim,
                          s->dim * sizeof(float), (unsigned)s->cfg->embed_cache_ttl_s);
        }
        start_ann(s);
    }
    leg_finished(s); /* the embedding stage */
}

static void embed_misses(struct search *s)
{
    if (s->nmiss == 0) {
        event_del(s->timer[TIMER_EMBED]);
        start_ann(s);
        leg_finished(s);
        return;
    }
    if (emb_is_remote(s->b->emb)) {
        if (!breaker_allow(&s->b->emb_breaker, lx_mono_ms())) {
            event_del(s->timer[TIMER_EMBED]);
            leg_fail(s, LEG_DENSE, "the embedder's circuit breaker is open");
            leg_finished(s);
            return;
        }
        s->emb_probe = 1; /* every call let through reports its outcome */
    }
    const char *texts[LX_SPLIT_MAX_PARTS];
    for (unsigned m = 0; m < s->nmiss; m++)
        texts[m] = s->subs[s->miss[m]];
    s->emb_op = emb_embed(s->b->emb, texts, s->nmiss, on_embedded, s);
    if (s->emb_op == NULL) {
        if (s->emb_probe)
            breaker_release(&s->b->emb_breaker);
        s->emb_probe = 0;
        leg_fail(s, LEG_DENSE, "out of memory");
        leg_finished(s);
    }
}

static void on_cache(void *ud, enum lx_err err, size_t n, const char *const *vals,
                     const size_t *lens)
{
    struct search *s = ud;
    s->cache_cmd = NULL;
    s->nmiss = 0;
    for (unsigned i = 0; i < s->nsub; i++) {
        if (err == LX_OK && i < n && vals[i] != NULL && lens[i] == s->dim * sizeof(float))
            memcpy(s->vecs + (size_t)i * s->dim, vals[i], lens[i]);
        else
            s->miss[s->nmiss++] = i;
    }
    if (err != LX_OK)
        s->cache_state = "bypass";
    else
        s->cache_state = s->nmiss == 0 ? "hit" : "miss";
    embed_misses(s);
}

static void start_dense(struct search *s)
{
    if (emb_is_remote(s->b->emb) &&
        breaker_state_at(&s->b->emb_breaker, lx_mono_ms()) == BREAKER_OPEN) {
        s->b->emb_breaker.n_rejected++;
        s->cache_state = "none"; /* no embedding is tried: not a cache failure */
        leg_fail(s, LEG_DENSE, "the embedder's circuit breaker is open");
        return;
    }
    s->dim = emb_dim(s->b->emb);
    s->vecs = arena_calloc(req_arena(s->r), (size_t)s->nsub * s->dim, sizeof(float));
    if (s->vecs == NULL) {
        leg_fail(s, LEG_DENSE, "out of memory");
        return;
    }
    s->pending++; /* the embedding stage (cache, then the embedder) */
    s->t_embed0 = req_elapsed_ms(s->r);
    arm(s, TIMER_EMBED, s->cfg->embed_timeout_ms);
    if (s->b->rds != NULL && rds_up(s->b->rds)) {
        const char *keys[LX_SPLIT_MAX_PARTS];
        size_t lens[LX_SPLIT_MAX_PARTS];
        for (unsigned i = 0; i < s->nsub; i++) {
            char k[SEARCH_KEY_MAX_BYTES];
            cache_key(s, s->subs[i], k, sizeof k);
            s->keys[i] = arena_strdup(req_arena(s->r), k);
            keys[i] = s->keys[i] ? s->keys[i] : "";
            lens[i] = strlen(keys[i]);
        }
        s->cache_cmd = rds_mget(s->b->rds, s->nsub, keys, lens, (unsigned)s->cfg->redis_timeout_ms,
                                on_cache, s);
        if (s->cache_cmd != NULL)
            return;
    }
    s->cache_state = "bypass";
    for (unsigned i = 0; i < s->nsub; i++)
        s->miss[i] = i;
    s->nmiss = s->nsub;
    embed_misses(s);
}

/* The retrieval legs, at once; the last to finish fuses and fetches. */
static void search_retrieve(struct search *s)
{
    struct req *r = s->r;
    s->is_def = qintent_definition(s->query, s->def_term, sizeof s->def_term);
    s->nsub = split_query(req_arena(r), s->query, s->subs, LX_SPLIT_MAX_PARTS);
    if (s->nsub == 0) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    s->cache_state = s->mode == RETR_BM25 ? "none" : "bypass";
    static const event_callback_fn deadline_cb[3] = {on_bm25_deadline, on_embed_deadline,
                                                     on_dense_deadline};
    for (int t = 0; t < 3; t++) {
        s->timer[t] = evtimer_new(worker_base(req_worker(r)), deadline_cb[t], s);
        if (s->timer[t] == NULL || arena_defer(req_arena(r), free_event_cb, s->timer[t]) != 0) {
            if (s->timer[t] != NULL)
                event_free(s->timer[t]);
            s->timer[t] = NULL;
            req_reply_error(r, LX_ENOMEM, "out of memory");
            return;
        }
    }
    s->pending = 1; /* held while the legs start, so none can finish the search early */
    if (s->mode != RETR_DENSE)
        start_bm25(s);
    if (s->mode != RETR_BM25)
        start_dense(s);
    leg_finished(s);
}

/* ---- public ----------------------------------------------------------------------------- */

const char *retr_mode_name(enum retr_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "hybrid";
}

int retr_mode_parse(const char *name, enum retr_mode *out)
{
    for (unsigned m = 0; m < 3; m++) {
        if (strcmp(name, mode_names[m]) == 0) {
            *out = (enum retr_mode)m;
            return 0;
        }
    }
    return -1;
}

void retr_start(struct req *r, const struct retr_params *p, retr_done_fn done, void *ud)
{
    struct backends *b = worker_backends(req_worker(r));
    if (b == NULL) {
        req_reply_error(r, LX_EUNAVAIL, "retrieval is not configured on this worker");
        return;
    }
    struct search *s = arena_calloc(req_arena(r), 1, sizeof *s);
    if (s == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    s->r = r;
    s->done = done;
    s->done_ud = ud;
    s->b = b;
    s->cfg = worker_cfg(req_worker(r));
    s->query = p->query;
    s->top_k = p->top_k;
    s->mode = p->mode;
    s->doc_type = p->doc_type;
    s->doc_id = p->doc_id;
    s->year_min = p->year_min;
    s->year_max = p->year_max;
    req_on_abort(r, search_abort, s);
    s->cache_state = s->mode == RETR_BM25 ? "none" : "bypass";
    if (cite_parse(s->query, strlen(s->query), b->cite_aliases, &s->cite)) {
        s->is_cite = 1;
        search_citation(s);
        return;
    }
    search_retrieve(s);
}
