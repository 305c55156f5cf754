/* fcgi/h_metrics.c -- GET /api/metrics: this worker's figures in the Prometheus text format
 * (metrics.c), labelled with its pid. GET /api/metrics?scope=pool: the figures of every live
 * worker that publishes to the same Redis (all workers behind one socket, or several hosts),
 * merged into one exposition; 503 when Redis is not there. */
#include <hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "../shared/arena.h"
#include "../shared/cfg.h"
#include "../shared/rds.h"
#include "backends.h"
#include "handlers.h"
#include "metrics.h"
#include "req.h"
#include "worker.h"

#define METRICS_CTYPE       "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_POOL_MAX    512
#define METRICS_TIMEOUT_MIN 500

struct pool_read {
    struct req *r;
    struct rds *rds;
    struct rds_cmd *cmd;
    unsigned timeout_ms;
    size_t nkeys;
    char **keys;
};

static void pool_abort(struct req *r, void *ud)
{
    struct pool_read *p = ud;
    (void)r;
    rds_cancel(p->cmd);
    p->cmd = NULL;
}

static void free_keys(void *ud)
{
    struct pool_read *p = ud;
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i]);
    free(p->keys);
}

static void on_values(void *ud, enum lx_err err, const struct redisReply *rep)
{
    struct pool_read *p = ud;
    p->cmd = NULL;
    if (err != LX_OK || rep->type != REDIS_REPLY_ARRAY) {
        req_reply_error(p->r, LX_EUNAVAIL, "the pool's figures are not readable from Redis");
        return;
    }
    const char **texts = calloc(rep->elements + 1, sizeof *texts);
    size_t *lens = calloc(rep->elements + 1, sizeof *lens), n = 0;
    if (texts == NULL || lens == NULL) {
        free(texts), free(lens);
        req_reply_error(p->r, LX_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const struct redisReply *e = rep->element[i];
        if (e->type == REDIS_REPLY_STRING) {
            texts[n] = e->str;
            lens[n++] = e->len;
        } else if (i < p->nkeys) { /* expired: that worker is gone */
            const char *argv[] = {"SREM", METRICS_POOL_SET, p->keys[i]};
            size_t argl[] = {4, strlen(METRICS_POOL_SET), strlen(p->keys[i])};
            rds_command(p->rds, 3, argv, argl, p->timeout_ms, NULL, NULL);
        }
    }
    size_t len = 0;
    char *out = metrics_merge(texts, lens, n, &len);
    free(texts), free(lens);
    if (out == NULL) {
        req_reply_error(p->r, LX_ENOMEM, "out of memory");
        return;
    }
    req_reply(p->r, 200, METRICS_CTYPE, out, len);
    free(out);
}

static void on_members(void *ud, enum lx_err err, const struct redisReply *rep)
{
    struct pool_read *p = ud;
    p->cmd = NULL;
    if (err != LX_OK || rep->type != REDIS_REPLY_ARRAY) {
        req_reply_error(p->r, LX_EUNAVAIL, "the pool's figures are not readable from Redis");
        return;
    }
    size_t n = rep->elements < METRICS_POOL_MAX ? rep->elements : METRICS_POOL_MAX;
    if (n == 0) {
        on_values(p, LX_OK, rep); /* an empty array: an empty exposition */
        return;
    }
    const char **argv = calloc(n + 1, sizeof *argv);
    size_t *argl = calloc(n + 1, sizeof *argl);
    p->keys = calloc(n, sizeof *p->keys);
    if (argv == NULL || argl == NULL || p->keys == NULL ||
        arena_defer(req_arena(p->r), free_keys, p) != 0) {
        free(argv), free(argl), free(p->keys);
        p->keys = NULL;
        req_reply_error(p->r, LX_ENOMEM, "out of memory");
        return;
    }
    argv[0] = "MGET";
    argl[0] = 4;
    for (size_t i = 0; i < n; i++) {
        const struct redisReply *e = rep->element[i];
        p->keys[i] = e->type == REDIS_REPLY_STRING ? strndup(e->str, e->len) : strdup("");
        if (p->keys[i] == NULL)
            break;
        p->nkeys++;
        argv[i + 1] = p->keys[i];
        argl[i + 1] = strlen(p->keys[i]);
    }
    if (p->nkeys == n)
        p->cmd = rds_command(p->rds, (int)n + 1, argv, argl, p->timeout_ms, on_values, p);
    free(argv), free(argl);
    if (p->cmd == NULL)
        req_reply_error(p->r, LX_ENOMEM, "out of memory");
}

void h_metrics(struct req *r)
{
    const char *scope = req_query(r, "scope");
    if (scope == NULL || strcmp(scope, "worker") == 0) {
        size_t len = 0;
        char *text = metrics_render(req_worker(r), 1, &len);
        if (text == NULL) {
            req_reply_error(r, LX_ENOMEM, "out of memory");
            return;
        }
        req_reply(r, 200, METRICS_CTYPE, text, len);
        free(text);
        return;
    }
    if (strcmp(scope, "pool") != 0) {
        req_reply_error_code(r, 400, "invalid_argument", "scope must be worker or pool");
        return;
    }
    struct backends *b = worker_backends(req_worker(r));
    const struct cfg *c = worker_cfg(req_worker(r));
    if (b == NULL || b->rds == NULL || !rds_up(b->rds) || c->metrics_publish_ms == 0) {
        req_reply_error(r, LX_EUNAVAIL,
                        "the pool view needs Redis and metrics.publish_ms; scrape each worker");
        return;
    }
    struct pool_read *p = arena_calloc(req_arena(r), 1, sizeof *p);
    if (p == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    p->r = r;
    p->rds = b->rds;
    p->timeout_ms = c->redis_timeout_ms < METRICS_TIMEOUT_MIN ? METRICS_TIMEOUT_MIN
                                                              : (unsigned)c->redis_timeout_ms;
    req_on_abort(r, pool_abort, p);
    const char *argv[] = {"SMEMBERS", METRICS_POOL_SET};
    size_t argl[] = {8, strlen(METRICS_POOL_SET)};
    p->cmd = rds_command(b->rds, 2, argv, argl, p->timeout_ms, on_members, p);
    if (p->cmd == NULL)
        req_reply_error(r, LX_ENOMEM, "out of memory");
}
