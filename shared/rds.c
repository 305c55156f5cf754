/* shared/rds.c -- hiredis async + libevent, reconnecting, with per-command timeouts (rds.h).
 * hiredis's adapters/libevent.h is included here and only here (its functions are static). */
#include "rds.h"

#include <event2/event.h>
#include <hiredis.h>
#include <async.h>
#include <adapters/libevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RDS_BACKOFF_MIN_MS 200
#define RDS_BACKOFF_MAX_MS 5000
#define RDS_MGET_MAX_KEYS  256

struct rds_cmd {
    struct rds *r;
    rds_mget_cb cb;
    rds_reply_cb rcb; /* rds_command(): the reply itself */
    void *ud;
    struct event *timer;
    int done; /* callback already run (timeout or cancel); the reply is only freed */
};

struct rds {
    struct event_base *base;
    char *host, *password;
    int port;
    redisAsyncContext *ac;
    int connected;
    unsigned backoff_ms;
    struct event *reconnect;
    char last_error[128];
};

static void rds_connect(struct rds *r);

/* Fixed (tests): the backoff timers were {0, backoff_ms * 1000}. libevent does not normalize a
 * timeval: tv_usec >= 1000000 made the reconnect fire early and, from 2 s up, made epoll_wait
 * wait with no timeout, so the loop's timers (the reconnect too) stalled until some I/O. */
static struct timeval backoff_tv(unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static void cmd_finish(struct rds_cmd *c, enum lx_err e, size_t n, const char *const *vals,
                       const size_t *lens)
{
    if (c->done)
        return;
    c->done = 1;
    event_del(c->timer);
    if (c->cb != NULL)
        c->cb(c->ud, e, n, vals, lens);
    else if (c->rcb != NULL)
        c->rcb(c->ud, e, NULL);
}

static void cmd_free(struct rds_cmd *c)
{
    event_free(c->timer);
    free(c);
}

static void on_cmd_timeout(evutil_socket_t fd, short what, void *ud)
{
    struct rds_cmd *c = ud;
    (void)fd;
    (void)what;
    if (c->r == NULL) { /* never sent: failed from the loop */
        cmd_finish(c, LX_EUNAVAIL, 0, NULL, NULL);
        cmd_free(c);
        return;
    }
    cmd_finish(c, LX_ETIMEOUT, 0, NULL, NULL); /* the reply, if any, frees it */
}

static void on_mget_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rds_cmd *c = privdata;
    redisReply *rep = reply;
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        /* Fixed (tests): rds.h promises LX_ECANCELED from rds_free(), which clears ac->data
         * before redisAsyncFree() runs the pending callbacks; a lost connection stays
         * LX_EUNAVAIL. */
        enum lx_err e = rep != NULL ? LX_EUPSTREAM : ac->data == NULL ? LX_ECANCELED : LX_EUNAVAIL;
        cmd_finish(c, e, 0, NULL, NULL);
    } else if (!c->done) {
        size_t n = rep->elements;
        const char *vals[RDS_MGET_MAX_KEYS];
        size_t lens[RDS_MGET_MAX_KEYS];
        for (size_t i = 0; i < n && i < RDS_MGET_MAX_KEYS; i++) {
            redisReply *e = rep->element[i];
            vals[i] = e->type == REDIS_REPLY_STRING ? e->str : NULL;
            lens[i] = e->type == REDIS_REPLY_STRING ? e->len : 0;
        }
        cmd_finish(c, LX_OK, n, vals, lens);
    }
    cmd_free(c);
}

static void on_command_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct rds_cmd *c = privdata;
    redisReply *rep = reply;
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        enum lx_err e = rep != NULL ? LX_EUPSTREAM : ac->data == NULL ? LX_ECANCELED : LX_EUNAVAIL;
        if (rep != NULL && !c->done)
            log_warn(NULL, "msg=\"redis error reply\" reply=\"%.*s\"",
                     rep->len > 120 ? 120 : (int)rep->len, rep->str);
        cmd_finish(c, e, 0, NULL, NULL);
    } else if (!c->done) {
        c->done = 1;
        event_del(c->timer);
        if (c->rcb != NULL)
            c->rcb(c->ud, LX_OK, rep);
    }
    cmd_free(c);
}

static void on_set_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)reply;
    (void)privdata;
}

/* Connect again after a backoff that doubles up to RDS_BACKOFF_MAX_MS. */
static void rds_retry_later(struct rds *r)
{
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : RDS_BACKOFF_MIN_MS;
    if (r->backoff_ms > RDS_BACKOFF_MAX_MS)
        r->backoff_ms = RDS_BACKOFF_MAX_MS;
    struct timeval tv = backoff_tv(r->backoff_ms);
    evtimer_add(r->reconnect, &tv);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct rds *r = ac->data;
    if (status != REDIS_OK) { /* hiredis frees ac after this */
        snprintf(r->last_error, sizeof r->last_error, "%s", ac->errstr);
        r->ac = NULL;
        r->connected = 0;
        rds_retry_later(r);
        return;
    }
    if (r->backoff_ms != 0)
        log_info(NULL, "msg=\"redis connected\"");
    r->connected = 1;
    r->backoff_ms = 0;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct rds *r = ac->data;
    if (r == NULL)
        return; /* rds_free() */
    r->ac = NULL;
    r->connected = 0;
    if (status != REDIS_OK) {
        snprintf(r->last_error, sizeof r->last_error, "%s", ac->errstr);
        log_warn(NULL, "msg=\"redis connection lost\" error=\"%s\"", r->last_error);
    }
    r->backoff_ms = RDS_BACKOFF_MIN_MS;
    struct timeval tv = backoff_tv(RDS_BACKOFF_MIN_MS);
    evtimer_add(r->reconnect, &tv);
}

static void on_reconnect(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    rds_connect(ud);
}

static void rds_connect(struct rds *r)
{
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (ac == NULL || ac->err) {
        snprintf(r->last_error, sizeof r->last_error, "%s", ac ? ac->errstr : "out of memory");
        if (ac != NULL)
            redisAsyncFree(ac);
        rds_retry_later(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (r->password != NULL && r->password[0] != '\0')
        redisAsyncCommand(ac, on_set_reply, NULL, "AUTH %s", r->password);
}

struct rds *rds_new(struct event_base *base, const char *host, int port, const char *password)
{
    struct rds *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->base = base;
    r->host = strdup(host);
    r->port = port;
    r->password = password ? strdup(password) : NULL;
    r->reconnect = evtimer_new(base, on_reconnect, r);
    if (r->host == NULL || r->reconnect == NULL) {
        rds_free(r);
        return NULL;
    }
    rds_connect(r);
    return r;
}

void rds_free(struct rds *r)
{
    if (r == NULL)
        return;
    if (r->ac != NULL) {
        r->ac->data = NULL;
        redisAsyncFree(r->ac); /* runs pending callbacks with a NULL reply */
    }
    if (r->reconnect != NULL)
        event_free(r->reconnect);
    free(r->host);
    free(r->password);
    free(r);
}

int rds_up(const struct rds *r)
{
    return r != NULL && r->connected;
}

const char *rds_last_error(const struct rds *r)
{
    return r->last_error;
}

/* A command object (its timer made), then sent: argc == 0 (or Redis down, or hiredis refusing
 * it) fails it from the loop, through its timer; else the timer is its deadline. */
static struct rds_cmd *cmd_send(struct rds *r, struct rds_cmd *c, redisCallbackFn *fn, int argc,
                                const char **argv, const size_t *argl, unsigned timeout_ms)
{
    c->timer = evtimer_new(r->base, on_cmd_timeout, c);
    if (c->timer == NULL) {
        free(c);
        return NULL;
    }
    struct timeval tv = {0, 0};
    if (r->connected && argc > 0 &&
        redisAsyncCommandArgv(r->ac, fn, c, argc, argv, argl) == REDIS_OK) {
        c->r = r;
        tv = (struct timeval){(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    }
    evtimer_add(c->timer, &tv);
    return c;
}

struct rds_cmd *rds_mget(struct rds *r, size_t n, const char *const *keys, const size_t *klens,
                         unsigned timeout_ms, rds_mget_cb cb, void *ud)
{
    struct rds_cmd *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->cb = cb;
    c->ud = ud;
    const char *argv[RDS_MGET_MAX_KEYS + 1];
    size_t argl[RDS_MGET_MAX_KEYS + 1];
    argv[0] = "MGET";
    argl[0] = 4;
    for (size_t i = 0; i < n && i < RDS_MGET_MAX_KEYS; i++) {
        argv[i + 1] = keys[i];
        argl[i + 1] = klens[i];
    }
    int argc = n == 0 || n > RDS_MGET_MAX_KEYS ? 0 : (int)n + 1;
    return cmd_send(r, c, on_mget_reply, argc, argv, argl, timeout_ms);
}

struct rds_cmd *rds_command(struct rds *r, int argc, const char *const *argv, const size_t *argl,
                            unsigned timeout_ms, rds_reply_cb cb, void *ud)
{
    struct rds_cmd *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->rcb = cb;
    c->ud = ud;
    return cmd_send(r, c, on_command_reply, argc, (const char **)argv, argl, timeout_ms);
}

void rds_setex(struct rds *r, const char *key, size_t klen, const void *val, size_t vlen,
               unsigned ttl_s)
{
    if (!r->connected)
        return;
    char ttl[16];
    int tl = snprintf(ttl, sizeof ttl, "%u", ttl_s ? ttl_s : 1);
    const char *argv[] = {"SET", key, val, "EX", ttl};
    size_t argl[] = {3, klen, vlen, 2, (size_t)tl};
    redisAsyncCommandArgv(r->ac, on_set_reply, NULL, 5, argv, argl);
}

void rds_cancel(struct rds_cmd *cmd)
{
    if (cmd != NULL)
        cmd->cb = NULL, cmd->rcb = NULL;
}
