/* fcgi/backends.h -- what one worker talks to, made once at start on the worker's loop:
 * the PostgreSQL pool, Redis (embedding cache), the HTTP client for upstream APIs, the
 * embedder, the search threads (BM25 and ANN run there, never on the loop) and the loaded
 * indexes, which are checked every index.check_ms and replaced without a restart.
 * Every part is optional at run time: a backend that is down is reported by /api/health and
 * degrades or fails only the requests that need it. */
#ifndef LX_FCGI_BACKENDS_H
#define LX_FCGI_BACKENDS_H

#include <stddef.h>
#include <stdint.h>

#include "../shared/breaker.h"

struct event_base;
struct cfg;
struct pgc_pool;
struct pgc_op;
struct rds;
struct up_multi;
struct emb;
struct tpool;
struct persist;
struct ann_index;
struct cite_alias;
typedef struct json_t json_t;

/* A loaded vector index, shared by the searches in flight; freed with its last user. */
struct ann_ref {
    struct ann_index *ix;
    unsigned refs;
    uint64_t generation;
};

struct backends {
    const struct cfg *cfg;
    struct event_base *base;
    struct pgc_pool *pg;
    struct rds *rds; /* NULL when redis.enabled is off */
    struct up_multi *http;
    struct emb *emb;
    struct tpool *pool;
    struct persist *persist;         /* chat exchanges to PostgreSQL (or the spool) */
    struct ann_ref *ann;             /* NULL until an index is there */
    struct cite_alias *cite_aliases; /* built-in + retrieval.cite_aliases (cite.h) */
    char bm25_dir[600], bm25_generation[600], ann_path[600];
    struct event *index_timer;
    uint64_t ann_stamp; /* of the loaded file: inode ^ mtime ^ size */
    int ann_loading;
    char index_error[200];
    struct breaker emb_breaker, gen_breaker; /* per upstream (breaker.h) */
    struct pgc_op *pg_probe;                 /* "SELECT 1" while PostgreSQL is marked down */
};

/* NULL + *err (malloc'ed) when the config cannot work (bad embedder kind, ...). */
struct backends *backends_new(struct event_base *base, const struct cfg *cfg, char **err);
void backends_free(struct backends *b);
struct ann_ref *backends_ann_acquire(struct backends *b); /* NULL: no index; else _release */
void backends_ann_release(struct backends *b, struct ann_ref *ref);
/* Health checks: adds "postgres", "redis", "embedder", "index" to checks; returns the number
 * of checks that are down. */
int backends_health(struct backends *b, json_t *checks);

#endif
