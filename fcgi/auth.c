/* fcgi/auth.c -- API keys and rate limits (auth.h). */
#include "auth.h"

#include <event2/event.h>
#include <hiredis.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../shared/arena.h"
#include "../shared/cfg.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/rds.h"
#include "backends.h"
#include "metrics.h"
#include "req.h"
#include "worker.h"

#define AUTH_KEY_MAX_BYTES  256 /* longer is not one of ours: 401 without hashing */
#define AUTH_KEYS_MAX       100000
#define AUTH_RL_KEY_BYTES   64
#define AUTH_RL_TIMEOUT_MIN 50
#define AUTH_FIRST_RETRY_MS 500 /* before any key set was loaded */

struct auth_key {
    unsigned char hash[32];
    long long id;
    long rate; /* -1: the config's */
    char name[72];
};

static struct {
    struct worker *w;
    struct event *timer, *retry;
    int load_failing;
    struct pgc_op *op;
    struct auth_key *keys;
    size_t nkeys;
    int loaded;
    int redis_failing; /* logged once per outage */
} A;

/* A sliding minute per key, from two fixed ones: this minute's count (incremented, expiring
 * after the next minute) and the last minute's, which the worker weighs by the share of it
 * still inside the sliding minute. */
static const char rl_script[] = "local n = redis.call('INCR', KEYS[1]) "
                                "if n == 1 then redis.call('EXPIRE', KEYS[1], 121) end "
                                "return {n, tonumber(redis.call('GET', KEYS[2]) or '0')}";

static const char keys_sql[] =
    "SELECT id, name, encode(key_hash, 'hex'), coalesce(rate_per_min, -1)"
    " FROM api_keys WHERE revoked_at IS NULL ORDER BY id";

/* ---- the key set -------------------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Exactly 2n hex digits into n bytes; -1 for anything else. */
static int unhex(const char *s, unsigned char *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static void on_keys(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    (void)ud;
    A.op = NULL;
    if (err != LX_OK) {
        if (!A.load_failing) /* once per outage */
            log_warn(NULL,
                     "msg=\"cannot read the API keys; keeping the last set\" keys=%zu error=\"%s\"",
                     A.nkeys, msg ? msg : lx_strerror(err));
        A.load_failing = 1;
        if (!A.loaded) { /* nothing to serve with yet: try again soon, not in refresh_ms */
            struct timeval tv = lx_tv_ms(AUTH_FIRST_RETRY_MS);
            evtimer_add(A.retry, &tv);
        }
        return;
    }
    A.load_failing = 0;
    size_t n = (size_t)PQntuples(res);
    if (n > AUTH_KEYS_MAX)
        n = AUTH_KEYS_MAX;
    struct auth_key *k = calloc(n ? n : 1, sizeof *k);
    if (k == NULL)
        return;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (unhex(PQgetvalue(res, (int)i, 2), k[m].hash, sizeof k[m].hash) != 0)
            continue;
        k[m].id = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        k[m].rate = strtol(PQgetvalue(res, (int)i, 3), NULL, 10);
        snprintf(k[m].name, sizeof k[m].name, "%s", PQgetvalue(res, (int)i, 1));
        m++;
    }
    if (!A.loaded || m != A.nkeys)
        log_info(NULL, "msg=\"API keys loaded\" keys=%zu", m);
    free(A.keys);
    A.keys = k;
    A.nkeys = m;
    A.loaded = 1;
}

static void on_refresh(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    (void)ud;
    struct backends *b = worker_backends(A.w);
    if (b == NULL || A.op != NULL)
        return;
    A.op = pgc_query(b->pg, keys_sql, 0, NULL, (unsigned)worker_cfg(A.w)->pg_timeout_ms, on_keys,
                     NULL);
}

void auth_configure(struct worker *w)
{
    const struct cfg *c = worker_cfg(w);
    A.w = w;
    if (!c->auth_enabled) {
        auth_stop();
        return;
    }
    if (A.timer == NULL &&
        (A.timer = event_new(worker_base(w), -1, EV_PERSIST, on_refresh, NULL)) == NULL)
        return;
    if (A.retry == NULL && (A.retry = evtimer_new(worker_base(w), on_refresh, NULL)) == NULL)
        return;
    if (c->auth_rate_per_min > 0 && !c->redis_enabled)
        log_warn(NULL, "msg=\"auth.rate_per_min needs Redis, and redis.enabled is off: keys are "
                       "not rate-limited\"");
    event_del(A.timer);
    struct timeval tv = lx_tv_ms(c->auth_refresh_ms);
    event_add(A.timer, &tv);
    on_refresh(-1, 0, NULL);
}

void auth_stop(void)
{
    if (A.timer != NULL)
        event_free(A.timer);
    if (A.retry != NULL)
        event_free(A.retry);
    A.timer = A.retry = NULL;
    A.load_failing = 0;
    pgc_cancel(A.op);
    A.op = NULL;
    free(A.keys);
    A.keys = NULL;
    A.nkeys = 0;
    A.loaded = 0;
}

/* ---- a request ---------------------------------------------------------------------------- */

int auth_parse_bearer(const char *v, const char **key, unsigned *len)
{
    if (v == NULL || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return -1;
    v += 6;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = 0;
    while (v[n] > ' ' && v[n] != 0x7f)
        n++;
    const char *rest = v + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (n == 0 || n > AUTH_KEY_MAX_BYTES || *rest != '\0')
        return -1;
    *key = v;
    *len = (unsigned)n;
    return 0;
}

int auth_required(struct req *r, const char *route)
{
    (void)r;
    if (A.w == NULL || !worker_cfg(A.w)->auth_enabled)
        return 0;
    return strcmp(route, "/api/health") != 0 && strcmp(route, "/api/metrics") != 0 &&
           strncmp(route, "/api/_test/", 11) != 0;
}

static const struct auth_key *find_key(const char *key, unsigned len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return NULL;
    const struct auth_key *found = NULL;
    for (size_t i = 0; i < A.nkeys; i++) /* every entry compared in constant time */
        if (CRYPTO_memcmp(A.keys[i].hash, md, 32) == 0)
            found = &A.keys[i];
    return found;
}

static void unauthorized(struct req *r, const char *why)
{
    metrics_refused("unauthorized");
    req_add_header(r, "WWW-Authenticate", "Bearer realm=\"lexrag\"");
    req_reply_error_code(r, 401, "unauthorized", "%s", why);
}

struct rl_check {
    struct req *r;
    void (*handler)(struct req *r);
    struct rds_cmd *cmd;
    long limit;
    long long now; /* the request's time (s): which minute, and how far into it */
    char name[72];
};

static void rl_abort(struct req *r, void *ud)
{
    struct rl_check *k = ud;
    (void)r;
    rds_cancel(k->cmd);
    k->cmd = NULL;
}

static void on_counted(void *ud, enum lx_err err, const struct redisReply *rep)
{
    struct rl_check *k = ud;
    k->cmd = NULL;
    req_on_abort(k->r, NULL, NULL);
    if (err != LX_OK || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER ||
        rep->element[1]->type != REDIS_REPLY_INTEGER) {
        if (!A.redis_failing)
            log_warn(req_id(k->r), "msg=\"rate limits not applied while Redis fails\" error=%s",
                     lx_strerror(err));
        A.redis_failing = 1;
        k->handler(k->r);
        return;
    }
    if (A.redis_failing)
        log_info(NULL, "msg=\"rate limits applied again\"");
    A.redis_failing = 0;
    long long n = rep->element[0]->integer, prev = rep->element[1]->integer;
    long left = 60 - (long)(k->now % 60); /* seconds of this minute still to come */
    double est = (double)prev * (double)left / 60.0 + (double)n;
    if (est > (double)k->limit) {
        /* When the last minute's share has fallen enough (or, if this minute alone is over,
         * when it ends). */
        long wait = left;
        if (n <= k->limit && prev > 0) {
            double w = (double)left - (double)(k->limit - n) * 60.0 / (double)prev;
            wait = w < 1 ? 1 : w > left ? left : (long)w + (w > (long)w);
        }
        char s[16];
        snprintf(s, sizeof s, "%ld", wait);
        req_add_header(k->r, "Retry-After", s);
        metrics_refused("rate_limited");
        req_reply_error_code(k->r, 429, "rate_limited",
                             "key %s is over its rate of %ld requests per minute", k->name,
                             k->limit);
        return;
    }
    k->handler(k->r);
}

void auth_then(struct req *r, void (*handler)(struct req *r))
{
    const struct cfg *c = worker_cfg(req_worker(r));
    if (!A.loaded) {
        req_reply_error(r, LX_EUNAVAIL, "the API keys are not loaded yet (PostgreSQL)");
        return;
    }
    const char *key;
    unsigned len;
    const char *h = req_param(r, "HTTP_AUTHORIZATION");
    if (h == NULL) {
        unauthorized(r, "this service needs an API key: Authorization: Bearer KEY");
        return;
    }
    const struct auth_key *k = auth_parse_bearer(h, &key, &len) == 0 ? find_key(key, len) : NULL;
    if (k == NULL) {
        unauthorized(r, "the API key is not valid");
        return;
    }
    req_set_principal(r, k->name); /* the access line names the key, never shows it */
    long limit = k->rate >= 0 ? k->rate : (long)c->auth_rate_per_min;
    struct backends *b = worker_backends(req_worker(r));
    if (limit == 0 || b == NULL || b->rds == NULL || !rds_up(b->rds)) {
        if (limit != 0 && b != NULL && b->rds != NULL && !A.redis_failing) {
            log_warn(req_id(r), "msg=\"rate limits not applied while Redis is down\"");
            A.redis_failing = 1;
        }
        handler(r);
        return;
    }
    struct rl_check *ck = arena_calloc(req_arena(r), 1, sizeof *ck);
    if (ck == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    ck->r = r;
    ck->handler = handler;
    ck->limit = limit;
    snprintf(ck->name, sizeof ck->name, "%s", k->name);
    char rk[AUTH_RL_KEY_BYTES], pk[AUTH_RL_KEY_BYTES];
    ck->now = (long long)time(NULL);
    snprintf(rk, sizeof rk, "lexrag:rl:%lld:%lld", k->id, ck->now / 60);
    snprintf(pk, sizeof pk, "lexrag:rl:%lld:%lld", k->id, ck->now / 60 - 1);
    const char *argv[] = {"EVAL", rl_script, "2", rk, pk};
    size_t argl[] = {4, sizeof rl_script - 1, 1, strlen(rk), strlen(pk)};
    unsigned tmo = c->redis_timeout_ms < AUTH_RL_TIMEOUT_MIN ? AUTH_RL_TIMEOUT_MIN
                                                             : (unsigned)c->redis_timeout_ms;
    req_on_abort(r, rl_abort, ck);
    ck->cmd = rds_command(b->rds, 5, argv, argl, tmo, on_counted, ck);
    if (ck->cmd == NULL) {
        req_on_abort(r, NULL, NULL);
        handler(r);
    }
}
