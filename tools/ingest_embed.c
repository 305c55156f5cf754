/* tools/ingest_embed.c -- vectors for every article and definition whose vector for the
 * configured model is missing or stale (chunk_vectors.content_hash differs from the unit's).
 * The texts go through the configured embedder (shared/emb.h) on a libevent loop in batches,
 * at most ING_EMBED_IN_FLIGHT at once (for kind = openai each batch is one HTTP call of
 * [embedder] batch_size texts, retried by emb.c); the vectors are stored as they arrive, a
 * few thousand rows per transaction with COPY (binary format: no text encoding of floats), so
 * what was embedded before a failure stays stored and the next run embeds only the rest. */
#include "ingest.h"

#include <event2/event.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shared/cfg.h"
#include "../shared/emb.h"
#include "../shared/up_multi.h"

#define ING_EMBED_IN_FLIGHT  4    /* batches in flight at once */
#define ING_EMBED_HASH_BATCH 256  /* texts per batch for the built-in embedder */
#define ING_EMBED_FLUSH_ROWS 4096 /* vectors stored per transaction */

static const char SQL_STALE[] =
    "SELECT c.id, c.kind, c.title, c.bab, c.def_term, c.text, c.content_hash "
    "FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model = $1 "
    "WHERE c.kind <> 'container' AND (v.chunk_id IS NULL OR v.content_hash <> c.content_hash"
    "  OR v.dim <> $2::integer) "
    "ORDER BY c.id";

struct emb_run {
    PGconn *c;
    struct event_base *base;
    struct emb *e;
    const char *model;
    unsigned dim;
    PGresult *rows;
    size_t n, next, batch, in_flight;
    struct ing_buf copy; /* binary COPY rows not stored yet */
    struct ing_buf ids;  /* "{1,2,...}": their ids */
    size_t staged;
    int failed;
    struct ing_embed_stats *st;
    struct ing_progress *p;
};

struct emb_batch_ud {
    struct emb_run *r;
    size_t first, n;
};

static void put_be16(struct ing_buf *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, x, 2);
}

static void put_be32(struct ing_buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, x, 4);
}

static void put_be64(struct ing_buf *b, uint64_t v)
{
    put_be32(b, (uint32_t)(v >> 32));
    put_be32(b, (uint32_t)v);
}

static void put_text(struct ing_buf *b, const char *s)
{
    put_be32(b, (uint32_t)strlen(s));
    buf_adds(b, s);
}

/* Store the staged vectors: replace those rows of (model) in one transaction. */
static int flush_vectors(struct emb_run *r)
{
    if (r->staged == 0)
        return 0;
    static const char hdr[] = "PGCOPY\n\377\r\n"; /* + its NUL: 11 bytes */
    struct ing_buf all = {0};
    buf_add(&all, hdr, sizeof hdr);
    put_be32(&all, 0); /* flags */
    put_be32(&all, 0); /* header extension */
    buf_add(&all, r->copy.p, r->copy.len);
    put_be16(&all, 0xffff); /* trailer: -1 */
    buf_addc(&r->ids, '}');
    int rc = all.p == NULL || r->ids.p == NULL ? -1 : 0;
    if (rc == 0)
        rc = db_exec(r->c, "BEGIN");
    if (rc == 0) {
        const char *params[] = {r->model, r->ids.p};
        PGresult *x = PQexecParams(r->c,
                                   "DELETE FROM chunk_vectors WHERE model = $1"
                                   " AND chunk_id = ANY($2::bigint[])",
                                   2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(x) != PGRES_COMMAND_OK) {
            prog_msg("%s: store vectors: %s", ING_PROG, PQresultErrorMessage(x));
            rc = -1;
        }
        PQclear(x);
    }
    if (rc == 0) {
        PGresult *x = PQexec(r->c, "COPY chunk_vectors (chunk_id, model, dim, content_hash, vec)"
                                   " FROM STDIN (FORMAT binary)");
        rc = PQresultStatus(x) == PGRES_COPY_IN ? 0 : -1;
        if (rc != 0)
            prog_msg("%s: store vectors: %s", ING_PROG, PQresultErrorMessage(x));
        PQclear(x);
        if (rc == 0) {
            rc = PQputCopyData(r->c, all.p, (int)all.len) == 1 ? 0 : -1;
            if (PQputCopyEnd(r->c, rc == 0 ? NULL : "lexrag-ingest gave up") != 1)
                rc = -1;
            while ((x = PQgetResult(r->c)) != NULL) {
                if (PQresultStatus(x) != PGRES_COMMAND_OK) {
                    prog_msg("%s: store vectors: %s", ING_PROG, PQresultErrorMessage(x));
                    rc = -1;
                }
                PQclear(x);
            }
        }
    }
    if (rc == 0)
        rc = db_exec(r->c, "COMMIT");
    else
        db_exec(r->c, "ROLLBACK");
    buf_free(&all);
    r->copy.len = 0;
    r->ids.len = 0;
    r->staged = 0;
    return rc;
}

static void stage(struct emb_run *r, size_t row, const float *vec)
{
    const char *id = PQgetvalue(r->rows, (int)row, 0);
    struct ing_buf *b = &r->copy;
    put_be16(b, 5);
    put_be32(b, 8);
    put_be64(b, (uint64_t)strtoll(id, NULL, 10));
    put_text(b, r->model);
    put_be32(b, 4);
    put_be32(b, r->dim);
    put_text(b, PQgetvalue(r->rows, (int)row, 6));
    put_be32(b, r->dim * 4);
    if (buf_reserve(b, r->dim * 4) == 0) {
        unsigned char *o = (unsigned char *)b->p + b->len;
        for (unsigned d = 0; d < r->dim; d++) { /* little-endian float32, whatever the host */
            uint32_t u;
            memcpy(&u, &vec[d], 4);
            o[4 * d] = (unsigned char)u;
            o[4 * d + 1] = (unsigned char)(u >> 8);
            o[4 * d + 2] = (unsigned char)(u >> 16);
            o[4 * d + 3] = (unsigned char)(u >> 24);
        }
        b->len += r->dim * 4;
    }
    buf_adds(&r->ids, r->staged == 0 ? "{" : ",");
    buf_adds(&r->ids, id);
    r->staged++;
}

static void submit(struct emb_run *r);

static void on_embedded(void *ud, enum lx_err err, const float *vecs, size_t n, const char *msg)
{
    struct emb_batch_ud *b = ud;
    struct emb_run *r = b->r;
    r->in_flight--;
    if (err != LX_OK) {
        if (!r->failed)
            prog_msg("%s: embedding failed: %s\n", ING_PROG, msg ? msg : lx_strerror(err));
        r->failed = 1;
        r->st->failed += b->n;
    } else {
        for (size_t i = 0; i < n; i++)
            stage(r, b->first + i, vecs + i * r->dim);
        r->st->embedded += n;
        if ((r->copy.p == NULL || r->ids.p == NULL) && !r->failed) {
            prog_msg("%s: out of memory\n", ING_PROG);
            r->failed = 1;
        }
        if (!r->failed && r->staged >= ING_EMBED_FLUSH_ROWS && flush_vectors(r) != 0)
            r->failed = 1;
    }
    prog_update(r->p, r->st->embedded + r->st->failed, r->st->embedded);
    free(b);
    submit(r);
    if (r->in_flight == 0)
        event_base_loopbreak(r->base);
}

static void submit(struct emb_run *r)
{
    struct ing_buf text = {0};
    while (!r->failed && r->in_flight < ING_EMBED_IN_FLIGHT && r->next < r->n) {
        size_t k = r->n - r->next < r->batch ? r->n - r->next : r->batch;
        const char **texts = calloc(k, sizeof *texts);
        size_t *offs = calloc(k, sizeof *offs);
        struct emb_batch_ud *b = calloc(1, sizeof *b);
        int rc = texts && offs && b ? 0 : -1;
        text.len = 0;
        for (size_t i = 0; i < k && rc == 0; i++) {
            int row = (int)(r->next + i);
            const char *bab = PQgetisnull(r->rows, row, 3) ? NULL : PQgetvalue(r->rows, row, 3);
            const char *term = PQgetisnull(r->rows, row, 4) ? NULL : PQgetvalue(r->rows, row, 4);
            offs[i] = text.len;
            rc = unit_embed_text(&text, PQgetvalue(r->rows, row, 1), PQgetvalue(r->rows, row, 2),
                                 bab, term, PQgetvalue(r->rows, row, 5)) ||
                 buf_addc(&text, '\0');
        }
        struct emb_op *op = NULL;
        if (rc == 0) {
            for (size_t i = 0; i < k; i++)
                texts[i] = text.p + offs[i];
            b->r = r;
            b->first = r->next;
            b->n = k;
            op = emb_embed(r->e, texts, k, on_embedded, b);
        }
        free(texts);
        free(offs);
        if (op == NULL) {
            free(b);
            prog_msg("%s: cannot start an embedding call: out of memory\n", ING_PROG);
            r->failed = 1;
            break;
        }
        r->next += k;
        r->in_flight++;
    }
    buf_free(&text);
}

int embed_missing(PGconn *c, const struct cfg *cfg, struct ing_embed_stats *st,
                  struct ing_progress *p)
{
    memset(st, 0, sizeof *st);
    char dim[16];
    snprintf(dim, sizeof dim, "%lu", cfg->emb_dim);
    const char *params[] = {cfg->emb_model, dim};
    PGresult *rows = PQexecParams(c, SQL_STALE, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
        prog_msg("%s: find units to embed: %s", ING_PROG, PQresultErrorMessage(rows));
        PQclear(rows);
        return -1;
    }
    struct emb_run r = {.c = c,
                        .model = cfg->emb_model,
                        .dim = (unsigned)cfg->emb_dim,
                        .rows = rows,
                        .n = (size_t)PQntuples(rows),
                        .st = st,
                        .p = p};
    st->wanted = r.n;
    p->total = r.n;
    if (r.n == 0) {
        PQclear(rows);
        return 0;
    }
    struct emb_config ec = emb_config_of(cfg);
    int remote = strcmp(cfg->emb_kind, "openai") == 0;
    struct up_multi *m = NULL;
    char *err = NULL;
    int rc = -1;
    r.base = event_base_new();
    if (r.base != NULL && remote)
        m = up_multi_new(r.base);
    if (r.base == NULL || (remote && m == NULL)) {
        prog_msg("%s: cannot start the event loop\n", ING_PROG);
        goto out;
    }
    if ((r.e = emb_new(r.base, m, &ec, &err)) == NULL) {
        prog_msg("%s: embedder: %s\n", ING_PROG, err ? err : "out of memory");
        goto out;
    }
    r.batch = remote ? (size_t)cfg->emb_batch : ING_EMBED_HASH_BATCH;
    submit(&r);
    while (r.in_flight > 0)
        if (event_base_dispatch(r.base) < 0)
            break;
    if (!r.failed && flush_vectors(&r) != 0)
        r.failed = 1;
    else if (r.failed)
        (void)flush_vectors(&r); /* keep what did arrive */
    if (r.next < r.n)
        st->failed += r.n - r.next; /* never sent */
    rc = r.failed || r.in_flight > 0 ? -1 : 0;
out:
    free(err);
    emb_free(r.e);
    up_multi_free(m);
    if (r.base != NULL)
        event_base_free(r.base);
    buf_free(&r.copy);
    buf_free(&r.ids);
    PQclear(rows);
    return rc;
}
