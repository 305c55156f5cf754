/* shared/emb.c -- the embedder interface (emb.h): the built-in hash embedder, answered from the
 * loop on a zero timer, and the OpenAI-compatible client: texts are cut into batches of at most
 * `batch`, each batch is one POST, all batches in flight at once; a failed batch is retried
 * (5xx, timeouts, connection errors) after 100 ms, 200 ms, ... up to `retries` times. */
#include "emb.h"

#include <event2/event.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "emb_hash.h"
#include "log.h"
#include "lx_time.h"
#include "up_multi.h"

struct emb {
    struct event_base *base;
    struct up_multi *m;
    int remote;
    unsigned dim, batch, timeout_ms, retries;
    char *url, *model, *api_key;
};

struct emb_batch {
    struct emb_op *op;
    size_t first, n;
    unsigned attempt;
    struct up_call *call;
    struct event *retry;
    int done;
};

struct emb_op {
    struct emb *e;
    emb_cb cb;
    void *ud;
    size_t n, nbatches, pending;
    char **texts;
    float *vecs;
    struct emb_batch *batches;
    struct event *timer; /* hash: answer from the loop */
    enum lx_err err;
    char msg[200];
    int canceled;
};

void emb_normalize(float *v, unsigned dim)
{
    double s = 0;
    for (unsigned i = 0; i < dim; i++)
        s += (double)v[i] * v[i];
    if (s <= 0)
        return;
    float inv = (float)(1.0 / sqrt(s));
    for (unsigned i = 0; i < dim; i++)
        v[i] *= inv;
}

struct emb_config emb_config_of(const struct cfg *c)
{
    struct emb_config ec = {c->emb_kind,
                            (unsigned)c->emb_dim,
                            c->emb_url,
                            c->emb_model,
                            c->emb_api_key,
                            (unsigned)c->emb_batch,
                            (unsigned)c->emb_timeout_ms,
                            (unsigned)c->emb_retries};
    return ec;
}

struct emb *emb_new(struct event_base *base, struct up_multi *m, const struct emb_config *c,
                    char **err)
{
    int remote = strcmp(c->kind, "openai") == 0;
    if (!remote && strcmp(c->kind, "hash") != 0) {
        *err = strdup("embedder.kind must be hash or openai");
        return NULL;
    }
    if (remote && m == NULL) {
        *err = strdup("the openai embedder needs an HTTP client");
        return NULL;
    }
    if (c->dim < 8 || c->dim > LX_EMB_DIM_MAX) {
        *err = strdup("embedder.dim is out of range");
        return NULL;
    }
    struct emb *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->base = base;
    e->m = m;
    e->remote = remote;
    e->dim = c->dim;
    e->batch = c->batch ? c->batch : 64;
    e->timeout_ms = c->timeout_ms ? c->timeout_ms : 10000;
    e->retries = c->retries;
    e->url = strdup(c->url ? c->url : "");
    e->model = strdup(c->model ? c->model : "");
    e->api_key = strdup(c->api_key ? c->api_key : "");
    if (e->url == NULL || e->model == NULL || e->api_key == NULL) {
        emb_free(e);
        return NULL;
    }
    return e;
}

void emb_free(struct emb *e)
{
    if (e == NULL)
        return;
    free(e->url);
    free(e->model);
    free(e->api_key);
    free(e);
}

unsigned emb_dim(const struct emb *e)
{
    return e->dim;
}

const char *emb_model(const struct emb *e)
{
    return e->model;
}

int emb_is_remote(const struct emb *e)
{
    return e->remote;
}

static void op_free(struct emb_op *op)
{
    for (size_t i = 0; i < op->n; i++)
        free(op->texts[i]);
    free(op->texts);
    free(op->vecs);
    for (size_t b = 0; b < op->nbatches; b++)
        if (op->batches[b].retry != NULL)
            event_free(op->batches[b].retry);
    free(op->batches);
    if (op->timer != NULL)
        event_free(op->timer);
    free(op);
}

static void op_finish(struct emb_op *op)
{
    if (!op->canceled)
        op->cb(op->ud, op->err, op->err == LX_OK ? op->vecs : NULL, op->n,
               op->err == LX_OK ? NULL : op->msg);
    op_free(op);
}

/* ---- hash ------------------------------------------------------------------------------- */

static int batch_send(struct emb_batch *b);

/* From the loop: the hash embedder answers, the remote one sends its batches (so that no
 * callback ever runs inside emb_embed()). */
static void on_start(evutil_socket_t fd, short what, void *ud)
{
    struct emb_op *op = ud;
    (void)fd;
    (void)what;
    if (op->nbatches > 0) {
        size_t nb = op->nbatches;
        for (size_t b = 0; b < nb; b++)
            if (batch_send(&op->batches[b]) != 0)
                break; /* the op failed as a whole and is gone */
        return;
    }
    if (!op->canceled)
        for (size_t i = 0; i < op->n; i++)
            emb_hash(op->texts[i], strlen(op->texts[i]), op->e->dim, op->vecs + i * op->e->dim);
    op_finish(op);
}

/* ---- openai ----------------------------------------------------------------------------- */

/* Parse {"data":[{"index":i,"embedding":[...]}, ...]} into the op's vectors. */
static enum lx_err batch_parse(struct emb_batch *b, const char *body, size_t len, char *msg,
                               size_t cap)
{
    struct emb_op *op = b->op;
    unsigned dim = op->e->dim;
    json_error_t jerr;
    json_t *j = json_loadb(body, len, 0, &jerr);
    json_t *data = j ? json_object_get(j, "data") : NULL;
    enum lx_err e = LX_OK;
    if (!json_is_array(data) || json_array_size(data) != b->n) {
        snprintf(msg, cap, "embedding response: expected %zu vectors", b->n);
        e = LX_EUPSTREAM;
        goto out;
    }
    for (size_t k = 0; k < b->n; k++) {
        json_t *item = json_array_get(data, k);
        json_t *idx = json_object_get(item, "index"), *vec = json_object_get(item, "embedding");
        size_t at = json_is_integer(idx) ? (size_t)json_integer_value(idx) : k;
        if (at >= b->n || !json_is_array(vec) || json_array_size(vec) != dim) {
            snprintf(msg, cap, "embedding response: vector %zu is not %u numbers", k, dim);
            e = LX_EUPSTREAM;
            goto out;
        }
        float *dst = op->vecs + (b->first + at) * dim;
        for (unsigned d = 0; d < dim; d++)
            dst[d] = (float)json_number_value(json_array_get(vec, d));
        emb_normalize(dst, dim);
    }
out:
    json_decref(j);
    return e;
}

static void batch_done(struct emb_batch *b, enum lx_err e, const char *msg)
{
    struct emb_op *op = b->op;
    b->done = 1;
    if (e != LX_OK && op->err == LX_OK) {
        op->err = e;
        snprintf(op->msg, sizeof op->msg, "%s", msg ? msg : lx_strerror(e));
        for (size_t i = 0; i < op->nbatches; i++) { /* the op fails: stop the others */
            struct emb_batch *o = &op->batches[i];
            if (!o->done) {
                up_cancel(o->call);
                o->call = NULL;
                if (o->retry != NULL)
                    event_del(o->retry);
                o->done = 1;
                op->pending--;
            }
        }
    }
    if (--op->pending == 0)
        op_finish(op);
}

static void on_batch_retry(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)batch_send(ud);
}

static void on_batch_http(void *ud, enum lx_err err, long status, const char *body, size_t len,
                          const char *errmsg)
{
    struct emb_batch *b = ud;
    struct emb_op *op = b->op;
    b->call = NULL;
    if (err == LX_OK) {
        char msg[200];
        enum lx_err pe = batch_parse(b, body, len, msg, sizeof msg);
        batch_done(b, pe, msg);
        return;
    }
    int retryable = status == 0 || status == 429 || status >= 500;
    if (retryable && b->attempt < op->e->retries) {
        unsigned ms = 100u << b->attempt;
        b->attempt++;
        log_warn(NULL, "msg=\"embedding call failed; retrying\" status=%ld error=\"%s\" in_ms=%u",
                 status, errmsg ? errmsg : "", ms);
        if (b->retry == NULL)
            b->retry = evtimer_new(op->e->base, on_batch_retry, b);
        struct timeval tv = lx_tv_ms(ms);
        if (b->retry != NULL && evtimer_add(b->retry, &tv) == 0)
            return;
    }
    char msg[200];
    snprintf(msg, sizeof msg, "embedding upstream: %s (HTTP %ld)", errmsg ? errmsg : "failed",
             status);
    batch_done(b, err, msg);
}

/* 0, or -1 when the call could not start: the op has failed (and may be freed). */
static int batch_send(struct emb_batch *b)
{
    struct emb_op *op = b->op;
    struct emb *e = op->e;
    json_t *input = json_array();
    for (size_t i = 0; i < b->n; i++)
        json_array_append_new(input, json_string(op->texts[b->first + i]));
    json_t *req =
        json_pack("{s:s,s:o,s:s}", "model", e->model, "input", input, "encoding_format", "float");
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body != NULL)
        b->call = up_post(e->m, e->url, e->api_key, body, strlen(body), e->timeout_ms, NULL,
                          on_batch_http, b);
    free(body);
    if (b->call != NULL)
        return 0;
    batch_done(b, LX_ENOMEM, "cannot start the embedding call");
    return -1;
}

/* ---- public ----------------------------------------------------------------------------- */

struct emb_op *emb_embed(struct emb *e, const char *const *texts, size_t n, emb_cb cb, void *ud)
{
    struct emb_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->e = e;
    op->cb = cb;
    op->ud = ud;
    op->texts = calloc(n ? n : 1, sizeof *op->texts);
    op->vecs = calloc(n ? n * e->dim : 1, sizeof *op->vecs);
    if (op->texts == NULL || op->vecs == NULL)
        goto fail;
    op->n = n;
    for (size_t i = 0; i < n; i++)
        if ((op->texts[i] = strdup(texts[i])) == NULL)
            goto fail;
    if (e->remote && n > 0) {
        op->nbatches = (n + e->batch - 1) / e->batch;
        op->batches = calloc(op->nbatches, sizeof *op->batches);
        if (op->batches == NULL)
            goto fail;
        op->pending = op->nbatches;
        for (size_t b = 0; b < op->nbatches; b++) {
            op->batches[b].op = op;
            op->batches[b].first = b * e->batch;
            op->batches[b].n = n - b * e->batch < e->batch ? n - b * e->batch : e->batch;
        }
    }
    op->timer = evtimer_new(e->base, on_start, op);
    struct timeval now = {0, 0};
    if (op->timer == NULL || evtimer_add(op->timer, &now) != 0)
        goto fail;
    return op;
fail:
    op->n = op->texts ? n : 0;
    op_free(op);
    return NULL;
}

void emb_cancel(struct emb_op *op)
{
    if (op == NULL || op->canceled)
        return;
    op->canceled = 1;
    if (op->nbatches > 0 && evtimer_pending(op->timer, NULL)) { /* nothing sent yet */
        op_free(op);
        return;
    }
    for (size_t i = 0; i < op->nbatches; i++) { /* the calls die; the op is freed when the */
        struct emb_batch *b = &op->batches[i];  /* last batch reports, or now if none is left */
        if (!b->done) {
            up_cancel(b->call);
            b->call = NULL;
            if (b->retry != NULL)
                event_del(b->retry);
            b->done = 1;
            op->pending--;
        }
    }
    if (op->nbatches > 0 && op->pending == 0)
        op_free(op);
}
