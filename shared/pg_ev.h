/* shared/pg_ev.h -- PostgreSQL on the event loop: libpq's asynchronous API (PQconnectStart,
 * PQsendQueryParams, PQconsumeInput) driven by libevent, with a small per-worker pool. Nothing
 * here blocks: no PQexec, no PQconnectdb, no PQcancel (which would connect synchronously; an
 * op that times out closes its connection instead).
 *
 * Every op's callback runs exactly once -- result, error or timeout -- unless the owner calls
 * pgc_cancel() first, after which it never runs. The callback may run from the loop only,
 * never inside pgc_query(). The PGresult passed to it is borrowed (cleared after it returns).
 * When the server is down, queries fail fast (LX_EUNAVAIL) and reconnects are retried with
 * backoff, so a restart of PostgreSQL needs no restart of the workers. A connect taking longer
 * than the conninfo's connect_timeout (default 10 s) fails: libpq leaves that to us under
 * PQconnectPoll (added with tests/unit/test_pg_ev.c). */
#ifndef LX_SHARED_PG_EV_H
#define LX_SHARED_PG_EV_H

#include <libpq-fe.h>

#include "lx_err.h"

struct event_base;
struct pgc_pool;
struct pgc_op;

typedef void (*pgc_cb)(void *ud, const PGresult *res, enum lx_err err, const char *errmsg);

struct pgc_pool *pgc_pool_new(struct event_base *base, const char *conninfo, unsigned max_conns,
                              unsigned max_queued);
void pgc_pool_free(struct pgc_pool *p); /* fails pending ops with LX_ECANCELED; NULL is fine */
/* Send sql with text parameters (NULL entries are SQL NULL). params are copied. Returns the op,
 * or NULL on ENOMEM (nothing will be called). */
struct pgc_op *pgc_query(struct pgc_pool *p, const char *sql, int nparams,
                         const char *const *params, unsigned timeout_ms, pgc_cb cb, void *ud);
void pgc_cancel(struct pgc_op *op); /* the owner is gone: the callback never runs */

struct pgc_stats {
    unsigned conns, idle, busy, queued;
    int up; /* the last connection attempt or query reached the server */
    char last_error[160];
};
void pgc_pool_stats(const struct pgc_pool *p, struct pgc_stats *out);

#endif
