/* fcgi/metrics.h -- this worker's figures for GET /api/metrics (Prometheus text format 0.0.4):
 * requests by route and status, latency histograms by stage, in-flight requests, connections,
 * event-loop lag, embedding cache results, leg timeouts, circuit breakers, the persistence
 * spool, the PostgreSQL pool and refused requests. Every sample carries this worker's host and
 * pid labels.
 *
 * The counters live in the worker process and are touched only from its loop thread. For the
 * view of a whole pool behind one socket, every worker publishes its samples to Redis each
 * metrics.publish_ms (lexrag:metrics:<host>:<pid>, expiring after three periods) and
 * GET /api/metrics?scope=pool merges what the live workers published. */
#ifndef LX_FCGI_METRICS_H
#define LX_FCGI_METRICS_H

#include <stddef.h>

struct worker;
struct req;

enum metrics_stage { MS_EMBED, MS_DENSE, MS_BM25, MS_FIRST_TOKEN, MS_TOTAL, MS_COUNT };

/* One finished request: route is the route table's path ("unmatched" for none). */
void metrics_request(const char *route, int status, double ms);
void metrics_stage(enum metrics_stage st, double ms);
void metrics_leg_timeout(const char *leg); /* "embed", "bm25", "dense", "first_token", "idle" */
void metrics_cache(const char *result, unsigned n); /* "hit", "miss", "bypass" */
void metrics_refused(const char *reason);           /* "overload", "unauthorized", "rate_limited" */
void metrics_fallback(const char *what);            /* "extractive" */
void metrics_gen_paused(void); /* the model's stream paused for a slow client */

/* This worker's exposition text (malloc'ed, *len set); NULL on ENOMEM. With headers 0 only
 * the sample lines (what is published for the pool view). */
char *metrics_render(struct worker *w, int headers, size_t *len);
/* Merge the sample lines of several workers into one exposition (malloc'ed). */
char *metrics_merge(const char *const *texts, const size_t *lens, size_t n, size_t *len);

/* Start/stop publishing to Redis (worker.c). */
void metrics_publish_start(struct worker *w);
void metrics_publish_stop(void);
/* This worker's key in Redis (set by metrics_publish_start). */
const char *metrics_pool_key(void);
#define METRICS_POOL_SET "lexrag:metrics:workers"

#endif
