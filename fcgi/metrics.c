/* fcgi/metrics.c -- counters, histograms and their Prometheus text (metrics.h). */
#include "metrics.h"

#include <event2/event.h>
#include <hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../shared/breaker.h"
#include "../shared/cfg.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/rds.h"
#include "../shared/tpool.h"
#include "backends.h"
#include "persist.h"
#include "worker.h"

#define METRICS_ROUTES_MAX 128
#define METRICS_LABELS_MAX 16
#define METRICS_KEY_MAX    300
#define METRICS_SET        METRICS_POOL_SET

/* Histogram bucket bounds in milliseconds (exposed in seconds). */
static const double bounds_ms[] = {1,   2.5,  5,    10,   25,    50,    100,  250,
                                   500, 1000, 2500, 5000, 10000, 30000, 60000};
#define NBOUNDS (sizeof bounds_ms / sizeof bounds_ms[0])

struct hist {
    unsigned long long buckets[NBOUNDS + 1]; /* the last: +Inf */
    unsigned long long count;
    double sum_ms;
};

struct labelled { /* a counter by one label value (values are static strings) */
    const char *label;
    unsigned long long n;
};

static struct {
    struct {
        const char *route;
        int status;
        unsigned long long n;
    } req[METRICS_ROUTES_MAX];
    size_t nreq;
    struct hist stage[MS_COUNT];
    struct labelled timeouts[METRICS_LABELS_MAX], cache[METRICS_LABELS_MAX],
        refused[METRICS_LABELS_MAX], fallback[METRICS_LABELS_MAX];
    unsigned long long gen_paused;
    struct event *publish;
    struct worker *w;
    char key[METRICS_KEY_MAX];
} M;

static const char *const stage_names[MS_COUNT] = {"embed", "dense", "bm25", "first_token", "total"};

static void bump(struct labelled *t, const char *label, unsigned long long n)
{
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++) {
        if (t[i].label == NULL)
            t[i].label = label;
        if (strcmp(t[i].label, label) == 0) {
            t[i].n += n;
            return;
        }
    }
}

void metrics_request(const char *route, int status, double ms)
{
    size_t i;
    for (i = 0; i < M.nreq; i++)
        if (M.req[i].status == status && strcmp(M.req[i].route, route) == 0)
            break;
    if (i == M.nreq) {
        if (M.nreq == METRICS_ROUTES_MAX)
            return;
        M.req[i].route = route;
        M.req[i].status = status;
        M.nreq++;
    }
    M.req[i].n++;
    if (strcmp(route, "/api/search") == 0 || strcmp(route, "/api/chat") == 0 ||
        strcmp(route, "/v1/chat/completions") == 0)
        metrics_stage(MS_TOTAL, ms);
}

void metrics_stage(enum metrics_stage st, double ms)
{
    if ((unsigned)st >= MS_COUNT || ms < 0)
        return;
    struct hist *h = &M.stage[st];
    size_t b = 0;
    while (b < NBOUNDS && ms > bounds_ms[b])
        b++;
    h->buckets[b]++;
    h->count++;
    h->sum_ms += ms;
}

void metrics_leg_timeout(const char *leg)
{
    bump(M.timeouts, leg, 1);
}

void metrics_cache(const char *result, unsigned n)
{
    bump(M.cache, result, n);
}

void metrics_refused(const char *reason)
{
    bump(M.refused, reason, 1);
}

void metrics_fallback(const char *what)
{
    bump(M.fallback, what, 1);
}

void metrics_gen_paused(void)
{
    M.gen_paused++;
}

/* ---- rendering -------------------------------------------------------------------------- */

/* The families, in output order; the merge of a pool keys on these names. */
static const struct family {
    const char *name, *type, *help;
} families[] = {
    {"lexrag_worker_info", "gauge", "this worker (value 1)"},
    {"lexrag_uptime_seconds", "gauge", "seconds since the worker started"},
    {"lexrag_requests_total", "counter", "finished requests by route and status"},
    {"lexrag_stage_duration_seconds", "histogram",
     "latency by stage: embed, dense, bm25, first_token, total (search and chat requests)"},
    {"lexrag_in_flight_requests", "gauge", "requests being served"},
    {"lexrag_connections", "gauge", "FastCGI connections open"},
    {"lexrag_event_loop_lag_seconds", "gauge",
     "event-loop lag over the last minute (quantile 0.99, max, last)"},
    {"lexrag_embed_cache_total", "counter", "query embeddings by cache result"},
    {"lexrag_leg_timeouts_total", "counter", "legs cancelled at their deadline"},
    {"lexrag_circuit_state", "gauge", "circuit breaker: 0 closed, 1 open, 2 half-open"},
    {"lexrag_circuit_opened_total", "counter", "times a circuit opened"},
    {"lexrag_circuit_rejected_total", "counter", "calls refused by an open circuit"},
    {"lexrag_generator_fallback_total", "counter", "answers made by a fallback generator"},
    {"lexrag_refused_total", "counter",
     "requests refused before their handler: overload, unauthorized, rate_limited"},
    {"lexrag_persist_spool_depth", "gauge", "chat exchanges waiting in the spool"},
    {"lexrag_persist_written_total", "counter", "chat exchanges written to PostgreSQL"},
    {"lexrag_persist_spooled_total", "counter", "chat exchanges put in the spool"},
    {"lexrag_persist_failures_total", "counter", "chat exchanges dropped (refused or spool full)"},
    {"lexrag_pg_pool_connections", "gauge", "PostgreSQL connections by state"},
    {"lexrag_pg_queued_queries", "gauge", "queries waiting for a PostgreSQL connection"},
    {"lexrag_backend_up", "gauge", "1 when the backend answers: postgres, redis"},
    {"lexrag_search_jobs_queued", "gauge", "BM25 and ANN jobs waiting for a search thread"},
    {"lexrag_generator_paused_total", "counter",
     "times the model's stream was paused because a client read slower than it"},
};
#define NFAMILIES (sizeof families / sizeof families[0])

static void put_hist(FILE *f, const char *pid, const char *stage, const struct hist *h)
{
    const char *n = "lexrag_stage_duration_seconds";
    unsigned long long cum = 0;
    for (size_t b = 0; b <= NBOUNDS; b++) {
        cum += h->buckets[b];
        if (b < NBOUNDS)
            fprintf(f, "%s_bucket{%s,stage=\"%s\",le=\"%g\"} %llu\n", n, pid, stage,
                    bounds_ms[b] / 1000.0, cum);
        else
            fprintf(f, "%s_bucket{%s,stage=\"%s\",le=\"+Inf\"} %llu\n", n, pid, stage, cum);
    }
    fprintf(f, "%s_sum{%s,stage=\"%s\"} %.6f\n", n, pid, stage, h->sum_ms / 1000.0);
    fprintf(f, "%s_count{%s,stage=\"%s\"} %llu\n", n, pid, stage, h->count);
}

static void put_labelled(FILE *f, const char *name, const char *pid, const char *label,
                         const struct labelled *t)
{
    for (size_t i = 0; i < METRICS_LABELS_MAX && t[i].label != NULL; i++)
        fprintf(f, "%s{%s,%s=\"%s\"} %llu\n", name, pid, label, t[i].label, t[i].n);
}

static void put_breaker(FILE *f, const char *pid, const struct breaker *b, int which, uint64_t now)
{
    if (which == 0)
        fprintf(f, "lexrag_circuit_state{%s,upstream=\"%s\"} %d\n", pid, b->name,
                (int)breaker_state_at(b, now));
    else if (which == 1)
        fprintf(f, "lexrag_circuit_opened_total{%s,upstream=\"%s\"} %llu\n", pid, b->name,
                (unsigned long long)b->n_opened);
    else
        fprintf(f, "lexrag_circuit_rejected_total{%s,upstream=\"%s\"} %llu\n", pid, b->name,
                (unsigned long long)b->n_rejected);
}

static void put_family(FILE *f, struct worker *w, size_t fi, const char *pid)
{
    struct backends *b = worker_backends(w);
    uint64_t now = lx_mono_ms();
    switch (fi) {
    case 0: fprintf(f, "lexrag_worker_info{%s,version=\"%s\"} 1\n", pid, LX_VERSION); break;
    case 1: fprintf(f, "lexrag_uptime_seconds{%s} %.3f\n", pid, worker_uptime_s(w)); break;
    case 2:
        for (size_t i = 0; i < M.nreq; i++)
            fprintf(f, "lexrag_requests_total{%s,route=\"%s\",status=\"%d\"} %llu\n", pid,
                    M.req[i].route, M.req[i].status, M.req[i].n);
        break;
    case 3:
        for (int s = 0; s < MS_COUNT; s++)
            put_hist(f, pid, stage_names[s], &M.stage[s]);
        break;
    case 4: fprintf(f, "lexrag_in_flight_requests{%s} %u\n", pid, worker_in_flight(w)); break;
    case 5: fprintf(f, "lexrag_connections{%s} %u\n", pid, worker_conns(w)); break;
    case 6: {
        struct lag_stats lag;
        worker_lag(w, &lag);
        fprintf(f, "lexrag_event_loop_lag_seconds{%s,quantile=\"0.99\"} %.6f\n", pid,
                lag.p99_ms / 1000.0);
        fprintf(f, "lexrag_event_loop_lag_seconds{%s,quantile=\"max\"} %.6f\n", pid,
                lag.max_ms / 1000.0);
        fprintf(f, "lexrag_event_loop_lag_seconds{%s,quantile=\"last\"} %.6f\n", pid,
                lag.last_ms / 1000.0);
        break;
    }
    case 7: put_labelled(f, "lexrag_embed_cache_total", pid, "result", M.cache); break;
    case 8: put_labelled(f, "lexrag_leg_timeouts_total", pid, "leg", M.timeouts); break;
    case 9:
    case 10:
    case 11:
        if (b != NULL) {
            put_breaker(f, pid, &b->emb_breaker, (int)fi - 9, now);
            put_breaker(f, pid, &b->gen_breaker, (int)fi - 9, now);
        }
        break;
    case 12:
        put_labelled(f, "lexrag_generator_fallback_total", pid, "generator", M.fallback);
        break;
    case 13: put_labelled(f, "lexrag_refused_total", pid, "reason", M.refused); break;
    case 14:
    case 15:
    case 16:
    case 17:
        if (b != NULL && b->persist != NULL) {
            struct persist_stats ps;
            persist_stats(b->persist, &ps);
            unsigned long v = fi == 14   ? ps.spool_depth
                              : fi == 15 ? ps.written
                              : fi == 16 ? ps.spooled
                                         : ps.dropped;
            fprintf(f, "%s{%s} %lu\n", families[fi].name, pid, v);
        }
        break;
    case 18:
    case 19:
    case 20:
        if (b != NULL) {
            struct pgc_stats ps;
            pgc_pool_stats(b->pg, &ps);
            if (fi == 18) {
                fprintf(f, "lexrag_pg_pool_connections{%s,state=\"busy\"} %u\n", pid, ps.busy);
                fprintf(f, "lexrag_pg_pool_connections{%s,state=\"idle\"} %u\n", pid, ps.idle);
            } else if (fi == 19) {
                fprintf(f, "lexrag_pg_queued_queries{%s} %u\n", pid, ps.queued);
            } else {
                fprintf(f, "lexrag_backend_up{%s,backend=\"postgres\"} %d\n", pid, ps.up);
                if (b->rds != NULL)
                    fprintf(f, "lexrag_backend_up{%s,backend=\"redis\"} %d\n", pid, rds_up(b->rds));
            }
        }
        break;
    case 21:
        if (b != NULL)
            fprintf(f, "lexrag_search_jobs_queued{%s} %u\n", pid, tpool_queued(b->pool));
        break;
    case 22: fprintf(f, "lexrag_generator_paused_total{%s} %llu\n", pid, M.gen_paused); break;
    }
}

char *metrics_render(struct worker *w, int headers, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    char host[64] = "localhost", pid[160]; /* the labels every sample carries */
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    for (char *h = host; *h; h++) /* a label value: no quote, backslash or newline */
        if (*h == '"' || *h == '\\' || *h < ' ')
            *h = '_';
    snprintf(pid, sizeof pid, "host=\"%s\",pid=\"%ld\"", host, (long)getpid());
    for (size_t i = 0; i < NFAMILIES; i++) {
        if (headers)
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", families[i].name, families[i].help,
                    families[i].name, families[i].type);
        put_family(f, w, i, pid);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The family a sample line belongs to: its metric name, less a histogram's suffix. */
static int line_family(const char *line, size_t n, size_t fi)
{
    const char *name = families[fi].name;
    size_t nl = strlen(name);
    if (n <= nl || strncmp(line, name, nl) != 0)
        return 0;
    const char *rest = line + nl;
    if (*rest == '{' || *rest == ' ')
        return 1;
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3 && strcmp(families[fi].type, "histogram") == 0; i++) {
        size_t sl = strlen(sfx[i]);
        if (n > nl + sl && strncmp(rest, sfx[i], sl) == 0 && (rest[sl] == '{' || rest[sl] == ' '))
            return 1;
    }
    return 0;
}

char *metrics_merge(const char *const *texts, const size_t *lens, size_t n, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    for (size_t fi = 0; fi < NFAMILIES; fi++) {
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", families[fi].name, families[fi].help,
                families[fi].name, families[fi].type);
        for (size_t t = 0; t < n; t++) {
            const char *p = texts[t], *end = texts[t] + lens[t];
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (ln > 0 && *p != '#' && line_family(p, ln, fi))
                    fprintf(f, "%.*s\n", (int)ln, p);
                p += ln + 1;
            }
        }
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- publishing to Redis ---------------------------------------------------------------- */

static void on_published(void *ud, enum lx_err err, const struct redisReply *rep)
{
    (void)ud;
    (void)err;
    (void)rep;
}

static void on_publish(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)ud;
    struct backends *b = worker_backends(M.w);
    const struct cfg *c = worker_cfg(M.w);
    if (b == NULL || b->rds == NULL || !rds_up(b->rds))
        return;
    size_t n = 0;
    char *text = metrics_render(M.w, 0, &n);
    if (text == NULL)
        return;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lu", c->metrics_publish_ms * 3);
    const char *set[] = {"SET", M.key, text, "PX", ttl};
    size_t setl[] = {3, strlen(M.key), n, 2, strlen(ttl)};
    rds_command(b->rds, 5, set, setl, (unsigned)c->redis_timeout_ms, on_published, NULL);
    const char *add[] = {"SADD", METRICS_SET, M.key};
    size_t addl[] = {4, strlen(METRICS_SET), strlen(M.key)};
    rds_command(b->rds, 3, add, addl, (unsigned)c->redis_timeout_ms, on_published, NULL);
    free(text);
}

void metrics_publish_start(struct worker *w)
{
    const struct cfg *c = worker_cfg(w);
    M.w = w;
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    snprintf(M.key, sizeof M.key, "lexrag:metrics:%s:%ld", host, (long)getpid());
    if (M.publish == NULL)
        M.publish = event_new(worker_base(w), -1, EV_PERSIST, on_publish, NULL);
    if (M.publish == NULL)
        return;
    event_del(M.publish);
    if (c->metrics_publish_ms == 0 || !c->redis_enabled)
        return;
    struct timeval tv = lx_tv_ms(c->metrics_publish_ms);
    event_add(M.publish, &tv);
}

void metrics_publish_stop(void)
{
    if (M.publish != NULL)
        event_free(M.publish);
    M.publish = NULL;
}

const char *metrics_pool_key(void)
{
    return M.key;
}
