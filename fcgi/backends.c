/* fcgi/backends.c -- the worker's backends (backends.h). Search threads open their own Xapian
 * handle (not shareable between threads) on first use; the vector index is loaded on a search
 * thread and swapped in on the loop. */
#include "backends.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../shared/ann.h"
#include "../shared/bm25.h"
#include "../shared/cfg.h"
#include "../shared/cite.h"
#include "../shared/emb.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/rds.h"
#include "../shared/tpool.h"
#include "../shared/up_multi.h"
#include "persist.h"
#include "search_jobs.h"

#define BACKENDS_PG_MAX_QUEUED   4096
#define BACKENDS_POOL_MAX_QUEUED 4096

static uint64_t file_stamp(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    return (uint64_t)st.st_ino ^ ((uint64_t)st.st_mtim.tv_sec << 20) ^
           (uint64_t)st.st_mtim.tv_nsec ^ ((uint64_t)st.st_size << 40);
}

static void ann_ref_free(struct ann_ref *ref)
{
    ann_close(ref->ix);
    free(ref);
}

struct ann_ref *backends_ann_acquire(struct backends *b)
{
    if (b->ann == NULL)
        return NULL;
    b->ann->refs++;
    return b->ann;
}

void backends_ann_release(struct backends *b, struct ann_ref *ref)
{
    (void)b;
    if (ref != NULL && --ref->refs == 0)
        ann_ref_free(ref);
}

/* ---- index reload ----------------------------------------------------------------------- */

struct ann_load_job {
    struct backends *b;
    char path[600];
    unsigned dim;
    uint64_t stamp;
    struct ann_index *ix;
    char *err;
};

static void ann_load_work(void *job, void *ctx)
{
    struct ann_load_job *j = job;
    (void)ctx;
    j->ix = ann_open(j->path, j->dim, &j->err);
}

static void ann_load_done(void *job, int canceled)
{
    struct ann_load_job *j = job;
    struct backends *b = j->b;
    b->ann_loading = 0;
    if (canceled || j->ix == NULL) {
        if (!canceled) {
            snprintf(b->index_error, sizeof b->index_error, "%s", j->err ? j->err : "?");
            log_warn(NULL, "msg=\"vector index not loaded\" path=%s error=\"%s\"", j->path,
                     b->index_error);
        }
        ann_close(j->ix);
        free(j->err);
        free(j);
        return;
    }
    struct ann_ref *ref = calloc(1, sizeof *ref);
    if (ref == NULL) {
        ann_close(j->ix);
        free(j);
        return;
    }
    ref->ix = j->ix;
    ref->refs = 1; /* the backends' own reference */
    ref->generation = j->stamp;
    struct ann_ref *old = b->ann;
    b->ann = ref;
    b->ann_stamp = j->stamp;
    b->index_error[0] = '\0';
    log_info(NULL, "msg=\"vector index loaded\" path=%s vectors=%zu", j->path, ann_count(j->ix));
    backends_ann_release(b, old);
    free(j);
}

static void on_pg_probe(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct backends *b = ud;
    (void)res;
    (void)err;
    (void)msg;
    b->pg_probe = NULL; /* the pool's own state now says whether PostgreSQL answered */
}

static void on_index_timer(evutil_socket_t fd, short what, void *ud)
{
    struct backends *b = ud;
    (void)fd;
    (void)what;
    /* PostgreSQL marked down: see whether it is back even while no request asks (health). */
    struct pgc_stats ps;
    pgc_pool_stats(b->pg, &ps);
    if (!ps.up && b->pg_probe == NULL)
        b->pg_probe =
            pgc_query(b->pg, "SELECT 1", 0, NULL, (unsigned)b->cfg->pg_timeout_ms, on_pg_probe, b);
    uint64_t stamp = file_stamp(b->ann_path);
    if (stamp == 0 || stamp == b->ann_stamp || b->ann_loading)
        return;
    struct ann_load_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return;
    j->b = b;
    snprintf(j->path, sizeof j->path, "%s", b->ann_path);
    j->dim = emb_dim(b->emb);
    j->stamp = stamp;
    if (tpool_submit(b->pool, ann_load_work, ann_load_done, j) != 0) {
        free(j);
        return;
    }
    b->ann_loading = 1;
}

/* ---- life ------------------------------------------------------------------------------- */

struct backends *backends_new(struct event_base *base, const struct cfg *cfg, char **err)
{
    struct backends *b = calloc(1, sizeof *b);
    if (b == NULL) {
        *err = strdup("out of memory");
        return NULL;
    }
    b->cfg = cfg;
    b->base = base;
    breaker_init(&b->emb_breaker, "embedder", (unsigned)cfg->breaker_failures,
                 cfg->breaker_open_ms);
    breaker_init(&b->gen_breaker, "generator", (unsigned)cfg->breaker_failures,
                 cfg->breaker_open_ms);
    snprintf(b->bm25_dir, sizeof b->bm25_dir, "%s/bm25", cfg->index_dir);
    snprintf(b->ann_path, sizeof b->ann_path, "%s/dense.ann", cfg->index_dir);
    snprintf(b->bm25_generation, sizeof b->bm25_generation, "%s/bm25.generation", cfg->index_dir);
    b->http = up_multi_new(base);
    b->pg =
        pgc_pool_new(base, cfg->pg_conninfo, (unsigned)cfg->pg_pool_size, BACKENDS_PG_MAX_QUEUED);
    if (cfg->redis_enabled)
        b->rds = rds_new(base, cfg->redis_host, (int)cfg->redis_port, cfg->redis_password);
    char cerr[200];
    if ((b->cite_aliases = cite_aliases_new(cfg->cite_aliases, cerr, sizeof cerr)) == NULL) {
        *err = strdup(cerr);
        backends_free(b);
        return NULL;
    }
    struct emb_config ec = emb_config_of(cfg);
    if (b->http != NULL)
        up_multi_max_host_conns(b->http, (unsigned)cfg->max_in_flight);
    if (b->http == NULL || b->pg == NULL || (cfg->redis_enabled && b->rds == NULL)) {
        *err = strdup("cannot create the backend clients");
        backends_free(b);
        return NULL;
    }
    if ((b->emb = emb_new(base, b->http, &ec, err)) == NULL) {
        backends_free(b);
        return NULL;
    }
    struct tpool_hooks hooks = {search_thread_init, search_thread_fini, b};
    b->pool = tpool_new(base, (unsigned)cfg->threads, BACKENDS_POOL_MAX_QUEUED, &hooks);
    b->index_timer = event_new(base, -1, EV_PERSIST, on_index_timer, b);
    b->persist = persist_new(base, b->pg, cfg);
    if (b->pool == NULL || b->index_timer == NULL || b->persist == NULL) {
        *err = strdup("cannot start the search threads");
        backends_free(b);
        return NULL;
    }
    struct timeval tv = lx_tv_ms(cfg->index_check_ms);
    event_add(b->index_timer, &tv);
    on_index_timer(-1, 0, b); /* load what is there now */
    return b;
}

void backends_free(struct backends *b)
{
    if (b == NULL)
        return;
    if (b->index_timer != NULL)
        event_free(b->index_timer);
    tpool_free(b->pool); /* runs the done callbacks of finished and queued jobs */
    backends_ann_release(b, b->ann);
    emb_free(b->emb);
    rds_free(b->rds);
    pgc_cancel(b->pg_probe);
    pgc_pool_free(b->pg); /* writes still pending go to the spool */
    persist_free(b->persist);
    up_multi_free(b->http);
    cite_aliases_free(b->cite_aliases);
    free(b);
}

int backends_health(struct backends *b, json_t *checks)
{
    int down = 0;
    struct pgc_stats ps;
    pgc_pool_stats(b->pg, &ps);
    down += !ps.up;
    json_object_set_new(checks, "postgres",
                        json_pack("{s:s,s:i,s:i,s:i,s:s}", "status", ps.up ? "ok" : "down",
                                  "connections", (int)ps.conns, "busy", (int)ps.busy, "queued",
                                  (int)ps.queued, "error", ps.up ? "" : ps.last_error));
    if (b->rds == NULL) {
        json_object_set_new(checks, "redis", json_pack("{s:s}", "status", "disabled"));
    } else {
        int up = rds_up(b->rds);
        down += !up;
        json_object_set_new(checks, "redis",
                            json_pack("{s:s,s:s}", "status", up ? "ok" : "down", "error",
                                      up ? "" : rds_last_error(b->rds)));
    }
    uint64_t now = lx_mono_ms();
    enum breaker_state es = breaker_state_at(&b->emb_breaker, now);
    int remote = emb_is_remote(b->emb);
    down += remote && es != BREAKER_CLOSED;
    json_object_set_new(checks, "embedder",
                        json_pack("{s:s,s:s,s:i,s:s}", "status",
                                  !remote || es == BREAKER_CLOSED ? "ok" : "down", "kind",
                                  remote ? "openai" : "hash", "dim", (int)emb_dim(b->emb),
                                  "circuit", breaker_state_name(es)));
    enum breaker_state gs = breaker_state_at(&b->gen_breaker, now);
    int gremote = strcmp(b->cfg->gen_kind, "openai") == 0;
    down += gremote && gs != BREAKER_CLOSED;
    json_object_set_new(checks, "generator",
                        json_pack("{s:s,s:s,s:s,s:s}", "status",
                                  !gremote || gs == BREAKER_CLOSED ? "ok" : "down", "kind",
                                  b->cfg->gen_kind, "circuit", breaker_state_name(gs), "fallback",
                                  b->cfg->gen_fallback));
    int have_ann = b->ann != NULL;
    int have_bm25 = search_bm25_available(b);
    down += !have_ann || !have_bm25;
    json_object_set_new(checks, "index",
                        json_pack("{s:s,s:b,s:i,s:b,s:s}", "status",
                                  have_ann && have_bm25 ? "ok" : "missing", "bm25", have_bm25,
                                  "vectors", have_ann ? (int)ann_count(b->ann->ix) : 0, "dense",
                                  have_ann, "error", b->index_error));
    return down;
}
