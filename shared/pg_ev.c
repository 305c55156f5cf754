/* shared/pg_ev.c -- libpq asynchronous connections and queries on libevent (pg_ev.h), shaped
 * after hiredis's libevent adapter: one event per connection, re-armed as libpq asks (the
 * socket may change during PQconnectPoll), and ops as objects owning their callback data.
 *
 * A connection is CONNECTING (PQconnectPoll steps), IDLE, or BUSY with one op (flushing the
 * query, then reading results). Ops wait in a FIFO when every connection is busy; the queue is
 * bounded. After a failed connect, new connects wait (backoff up to 5 s) and queries fail fast
 * with LX_EUNAVAIL meanwhile. */
#include "pg_ev.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PG_BACKOFF_MIN_MS 200
#define PG_BACKOFF_MAX_MS 5000
/* Added (tests): a connect that never completes (SYNs dropped) used to hold its slot until the
 * kernel gave up (~2 min). libpq ignores connect_timeout under PQconnectPoll (its manual leaves
 * it to the application), so the pool enforces it: the conninfo's value, else this. */
#define PG_CONNECT_TIMEOUT_DEFAULT_MS 10000

enum pgc_state { PGC_CONNECTING, PGC_IDLE, PGC_BUSY };

struct pgc_conn;

struct pgc_op {
    struct pgc_op *next; /* queue */
    struct pgc_pool *pool;
    struct pgc_conn *conn;
    char *sql;
    int nparams;
    char **params;
    pgc_cb cb;
    void *ud;
    unsigned timeout_ms;
    struct event *timer;
    PGresult *last; /* the last non-NULL result, handed to the callback */
    int sent, flushing;
};

struct pgc_conn {
    struct pgc_conn *next;
    struct pgc_pool *pool;
    PGconn *pg;
    enum pgc_state state;
    struct event *ev;
    int fd;
    short want;
    PostgresPollingStatusType poll;
    struct pgc_op *op;
    struct event *connect_timer; /* added (tests): while CONNECTING */
};

struct pgc_pool {
    struct event_base *base;
    char *conninfo;
    unsigned max_conns, max_queued, nconns, nqueued;
    struct pgc_conn *conns;
    struct pgc_op *qhead, *qtail;
    struct event *retry;   /* backoff timer; also runs deferred failures */
    struct pgc_op *failed; /* ops to fail from the loop, not inside pgc_query() */
    unsigned backoff_ms;
    unsigned connect_timeout_ms; /* added (tests) */
    double down_until_ms;
    int up;
    char last_error[160];
};

static double now_ms(const struct pgc_pool *p)
{
    struct timeval tv;
    event_base_gettimeofday_cached(p->base, &tv);
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static void set_error(struct pgc_pool *p, const char *msg)
{
    snprintf(p->last_error, sizeof p->last_error, "%s", msg ? msg : "unknown error");
    char *nl = strchr(p->last_error, '\n');
    if (nl != NULL)
        *nl = '\0';
}

/* ---- ops -------------------------------------------------------------------------------- */

static void op_free(struct pgc_op *op)
{
    if (op->timer != NULL)
        event_free(op->timer);
    if (op->last != NULL)
        PQclear(op->last);
    for (int i = 0; i < op->nparams; i++)
        free(op->params[i]);
    free(op->params);
    free(op->sql);
    free(op);
}

/* Run the callback once (if the owner is still there) and free the op. */
static void op_complete(struct pgc_op *op, enum lx_err e, const char *msg)
{
    if (op->cb != NULL)
        op->cb(op->ud, e == LX_OK ? op->last : NULL, e, msg);
    op_free(op);
}

static void pool_kick(struct pgc_pool *p);
static void conn_drop(struct pgc_conn *c, enum lx_err e, const char *msg);
static void conn_send(struct pgc_conn *c, struct pgc_op *op);

static void on_op_timeout(evutil_socket_t fd, short what, void *ud)
{
    struct pgc_op *op = ud;
    (void)fd;
    (void)what;
    if (op->conn != NULL) { /* in flight: the connection is unusable now */
        conn_drop(op->conn, LX_ETIMEOUT, "query timed out");
        return;
    }
    struct pgc_pool *p = op->pool; /* queued: unlink it */
    struct pgc_op **pp = &p->qhead, *prev = NULL;
    for (; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            if (p->qtail == op)
                p->qtail = prev;
            p->nqueued--;
            break;
        }
    }
    op_complete(op, LX_ETIMEOUT, "timed out waiting for a database connection");
}

void pgc_cancel(struct pgc_op *op)
{
    if (op != NULL)
        op->cb = NULL;
}

/* ---- connections ------------------------------------------------------------------------ */

static void on_conn_event(evutil_socket_t fd, short what, void *ud);

/* (Re)arm the connection's event for fd and the wanted directions. */
static int conn_arm(struct pgc_conn *c, short want)
{
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    if (c->ev != NULL && (fd != c->fd || want != c->want)) {
        event_free(c->ev);
        c->ev = NULL;
    }
    if (c->ev == NULL) {
        c->ev = event_new(c->pool->base, fd, want | EV_PERSIST, on_conn_event, c);
        if (c->ev == NULL || event_add(c->ev, NULL) != 0)
            return -1;
    }
    c->fd = fd;
    c->want = want;
    return 0;
}

static void conn_unlink(struct pgc_conn *c)
{
    struct pgc_pool *p = c->pool;
    for (struct pgc_conn **pp = &p->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            p->nconns--;
            break;
        }
    }
}

static void conn_free(struct pgc_conn *c)
{
    if (c->connect_timer != NULL)
        event_free(c->connect_timer);
    if (c->ev != NULL)
        event_free(c->ev);
    PQfinish(c->pg);
    free(c);
}

/* The connection failed or timed out: fail its op, forget it, maybe start another. */
static void conn_drop(struct pgc_conn *c, enum lx_err e, const char *msg)
{
    struct pgc_pool *p = c->pool;
    struct pgc_op *op = c->op;
    conn_unlink(c);
    set_error(p, msg);
    if (c->state == PGC_CONNECTING) {
        p->up = 0;
        p->backoff_ms = p->backoff_ms == 0 ? PG_BACKOFF_MIN_MS : p->backoff_ms * 2;
        if (p->backoff_ms > PG_BACKOFF_MAX_MS)
            p->backoff_ms = PG_BACKOFF_MAX_MS;
        p->down_until_ms = now_ms(p) + p->backoff_ms;
        log_warn(NULL, "msg=\"postgres connection failed\" error=\"%s\" retry_ms=%u", p->last_error,
                 p->backoff_ms);
    } else if (PQstatus(c->pg) == CONNECTION_BAD) {
        p->up = 0;
        log_warn(NULL, "msg=\"postgres connection lost\" error=\"%s\"", p->last_error);
    }
    conn_free(c);
    if (op != NULL) {
        op->conn = NULL;
        op_complete(op, e, p->last_error);
    }
    if (!p->up) { /* fail the queue fast rather than let it wait for its timeouts */
        while (p->qhead != NULL && p->nconns == 0) {
            struct pgc_op *q = p->qhead;
            p->qhead = q->next;
            if (p->qhead == NULL)
                p->qtail = NULL;
            p->nqueued--;
            op_complete(q, LX_EUNAVAIL, p->last_error);
        }
        /* Fixed (tests): was {0, backoff_ms * 1000}. libevent does not normalize a timeval;
         * tv_usec >= 1000000 (backoffs from 1 s up) made the timer fire early and, past 2 s,
         * made epoll_wait wait with no timeout, stalling every timer of the loop. */
        struct timeval tv = {(time_t)(p->backoff_ms / 1000),
                             (suseconds_t)(p->backoff_ms % 1000) * 1000};
        evtimer_add(p->retry, &tv);
    }
    pool_kick(p);
}

static void conn_become_idle(struct pgc_conn *c)
{
    c->state = PGC_IDLE;
    c->op = NULL;
    conn_arm(c, EV_READ); /* notices a server-side close */
    pool_kick(c->pool);
}

static void conn_connect_step(struct pgc_conn *c)
{
    struct pgc_pool *p = c->pool;
    c->poll = PQconnectPoll(c->pg);
    switch (c->poll) {
    case PGRES_POLLING_READING:
        if (conn_arm(c, EV_READ) != 0)
            conn_drop(c, LX_EUNAVAIL, "cannot watch the database socket");
        return;
    case PGRES_POLLING_WRITING:
        if (conn_arm(c, EV_WRITE) != 0)
            conn_drop(c, LX_EUNAVAIL, "cannot watch the database socket");
        return;
    case PGRES_POLLING_OK:
        if (c->connect_timer != NULL) { /* added (tests) */
            event_free(c->connect_timer);
            c->connect_timer = NULL;
        }
        if (PQsetnonblocking(c->pg, 1) != 0) {
            conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
            return;
        }
        if (!p->up)
            log_info(NULL, "msg=\"postgres connected\"");
        p->up = 1;
        p->backoff_ms = 0;
        p->down_until_ms = 0;
        conn_become_idle(c);
        return;
    default: conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg)); return;
    }
}

static void conn_read_results(struct pgc_conn *c)
{
    struct pgc_op *op = c->op;
    if (!PQconsumeInput(c->pg)) {
        conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
        return;
    }
    while (!PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        if (res == NULL) { /* the op is complete */
            c->op = NULL;
            event_del(op->timer);
            ExecStatusType st = op->last ? PQresultStatus(op->last) : PGRES_FATAL_ERROR;
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
                op_complete(op, LX_OK, NULL);
            } else {
                char msg[256];
                snprintf(msg, sizeof msg, "%s",
                         op->last ? PQresultErrorMessage(op->last) : "no result");
                op_complete(op, LX_EUPSTREAM, msg);
            }
            conn_become_idle(c);
            return;
        }
        if (op->last != NULL)
            PQclear(op->last);
        op->last = res;
    }
}

/* Fixed (review): returns -1 when it dropped (freed) c; on_conn_event used to read c->state
 * after a drop here. (libpq >= 12 reports a peer's close on the read side, so PQflush rarely
 * fails; a failed conn_arm still drops.) */
static int conn_flush(struct pgc_conn *c)
{
    int rc = PQflush(c->pg);
    if (rc < 0) {
        conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
        return -1;
    }
    c->op->flushing = rc == 1;
    if (conn_arm(c, rc == 1 ? EV_READ | EV_WRITE : EV_READ) != 0) {
        conn_drop(c, LX_EUNAVAIL, "cannot watch the database socket");
        return -1;
    }
    return 0;
}

static void on_conn_event(evutil_socket_t fd, short what, void *ud)
{
    struct pgc_conn *c = ud;
    (void)fd;
    switch (c->state) {
    case PGC_CONNECTING: conn_connect_step(c); return;
    case PGC_IDLE: /* input while idle: a notice, or the server went away */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD)
            conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
        return;
    case PGC_BUSY:
        if ((what & EV_WRITE) && c->op->flushing) {
            if (conn_flush(c) != 0)
                return;
        }
        if (what & EV_READ)
            conn_read_results(c);
        return;
    }
}

static void conn_send(struct pgc_conn *c, struct pgc_op *op)
{
    c->state = PGC_BUSY;
    c->op = op;
    op->conn = c;
    if (!PQsendQueryParams(c->pg, op->sql, op->nparams, NULL, (const char *const *)op->params, NULL,
                           NULL, 0)) {
        conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
        return;
    }
    conn_flush(c);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *ud) /* added (tests) */
{
    (void)fd;
    (void)what;
    conn_drop(ud, LX_EUNAVAIL, "timeout expired while connecting");
}

static void conn_start(struct pgc_pool *p)
{
    struct pgc_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->pool = p;
    c->fd = -1;
    c->state = PGC_CONNECTING;
    c->pg = PQconnectStart(p->conninfo);
    c->next = p->conns;
    p->conns = c;
    p->nconns++;
    if (c->pg == NULL) {
        p->nconns--;
        p->conns = c->next;
        free(c);
        return;
    }
    struct timeval tv = {(time_t)(p->connect_timeout_ms / 1000),
                         (suseconds_t)(p->connect_timeout_ms % 1000) * 1000};
    c->connect_timer = evtimer_new(p->base, on_connect_timeout, c); /* added (tests) */
    if (c->connect_timer != NULL)
        evtimer_add(c->connect_timer, &tv);
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        conn_drop(c, LX_EUNAVAIL, PQerrorMessage(c->pg));
        return;
    }
    conn_connect_step(c);
}

/* Give queued ops to idle connections; start connections while there is demand. */
static void pool_kick(struct pgc_pool *p)
{
    struct pgc_conn *c = p->conns;
    while (c != NULL && p->qhead != NULL) {
        if (c->state != PGC_IDLE) {
            c = c->next;
            continue;
        }
        struct pgc_op *op = p->qhead;
        p->qhead = op->next;
        if (p->qhead == NULL)
            p->qtail = NULL;
        p->nqueued--;
        conn_send(c, op);
        c = p->conns; /* conn_send may have dropped c and changed the list */
    }
    unsigned connecting = 0;
    for (c = p->conns; c != NULL; c = c->next)
        connecting += c->state == PGC_CONNECTING;
    if (p->nqueued > connecting && p->nconns < p->max_conns && now_ms(p) >= p->down_until_ms)
        conn_start(p);
}

static void on_retry(evutil_socket_t fd, short what, void *ud)
{
    struct pgc_pool *p = ud;
    (void)fd;
    (void)what;
    while (p->failed != NULL) {
        struct pgc_op *op = p->failed;
        p->failed = op->next;
        op_complete(op, LX_EUNAVAIL, p->last_error[0] ? p->last_error : "database unavailable");
    }
    pool_kick(p);
}

/* ---- public ----------------------------------------------------------------------------- */

struct pgc_pool *pgc_pool_new(struct event_base *base, const char *conninfo, unsigned max_conns,
                              unsigned max_queued)
{
    struct pgc_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->base = base;
    p->conninfo = strdup(conninfo);
    p->max_conns = max_conns ? max_conns : 1;
    p->max_queued = max_queued ? max_queued : 1;
    p->up = 1; /* until a connect says otherwise */
    /* Added (tests): the connect timeout, from the conninfo (see PG_CONNECT_TIMEOUT_...). */
    p->connect_timeout_ms = PG_CONNECT_TIMEOUT_DEFAULT_MS;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, "connect_timeout") == 0 && o->val != NULL && atoi(o->val) > 0)
            p->connect_timeout_ms = (unsigned)atoi(o->val) * 1000;
    PQconninfoFree(opts);
    p->retry = evtimer_new(base, on_retry, p);
    if (p->conninfo == NULL || p->retry == NULL) {
        pgc_pool_free(p);
        return NULL;
    }
    return p;
}

void pgc_pool_free(struct pgc_pool *p)
{
    if (p == NULL)
        return;
    while (p->conns != NULL) {
        struct pgc_conn *c = p->conns;
        p->conns = c->next;
        if (c->op != NULL) {
            c->op->conn = NULL;
            op_complete(c->op, LX_ECANCELED, "shutting down");
        }
        conn_free(c);
    }
    struct pgc_op *lists[] = {p->qhead, p->failed};
    for (int i = 0; i < 2; i++) {
        while (lists[i] != NULL) {
            struct pgc_op *op = lists[i];
            lists[i] = op->next;
            op_complete(op, LX_ECANCELED, "shutting down");
        }
    }
    if (p->retry != NULL)
        event_free(p->retry);
    free(p->conninfo);
    free(p);
}

struct pgc_op *pgc_query(struct pgc_pool *p, const char *sql, int nparams,
                         const char *const *params, unsigned timeout_ms, pgc_cb cb, void *ud)
{
    struct pgc_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return NULL;
    op->pool = p;
    op->cb = cb;
    op->ud = ud;
    op->sql = strdup(sql);
    op->nparams = nparams;
    op->params = nparams > 0 ? calloc((size_t)nparams, sizeof *op->params) : NULL;
    op->timer = evtimer_new(p->base, on_op_timeout, op);
    int bad = op->sql == NULL || op->timer == NULL || (nparams > 0 && op->params == NULL);
    for (int i = 0; !bad && i < nparams; i++)
        if (params[i] != NULL && (op->params[i] = strdup(params[i])) == NULL)
            bad = 1;
    if (bad) {
        op->cb = NULL;
        op_free(op);
        return NULL;
    }
    /* Down (in backoff) or the queue is full: fail from the loop, fast. */
    if ((!p->up && now_ms(p) < p->down_until_ms) || p->nqueued >= p->max_queued) {
        if (p->nqueued >= p->max_queued)
            set_error(p, "too many queued database queries");
        op->next = p->failed;
        p->failed = op;
        event_active(p->retry, EV_TIMEOUT, 0);
        return op;
    }
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    evtimer_add(op->timer, &tv);
    if (p->qtail != NULL)
        p->qtail->next = op;
    else
        p->qhead = op;
    p->qtail = op;
    p->nqueued++;
    event_active(p->retry, EV_TIMEOUT, 0); /* hand it to a connection from the loop */
    return op;
}

void pgc_pool_stats(const struct pgc_pool *p, struct pgc_stats *out)
{
    memset(out, 0, sizeof *out);
    for (const struct pgc_conn *c = p->conns; c != NULL; c = c->next) {
        out->conns++;
        out->idle += c->state == PGC_IDLE;
        out->busy += c->state == PGC_BUSY;
    }
    out->queued = p->nqueued;
    out->up = p->up;
    snprintf(out->last_error, sizeof out->last_error, "%s", p->last_error);
}
