/* tests/unit/test_pg_ev.c -- the libpq pool on libevent (shared/pg_ev.c) against a real
 * PostgreSQL: parameters, many queries sharing a few connections at once, SQL errors, query
 * timeouts, cancel, a server that refuses or never answers, a backend killed under a query,
 * freeing the pool with ops pending, and (with LX_TEST_PG_STOP/START) a restart of the server.
 * Needs LX_TEST_PG_CONNINFO (tests/web/test_adapters.sh starts a server and sets it); every
 * test skips without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>

#include <cmocka.h>

#include "../../shared/log.c"
#include "../../shared/lx_err.c"
#include "../../shared/pg_ev.c"
#include "evloop_test.h"

static struct event_base *base;
static const char *conninfo;
static int ndone; /* callbacks run, all ops of a test */

struct res {
    int calls;
    enum lx_err err;
    char msg[512];
    char val[128]; /* row 0, last column */
    int isnull, ntuples;
    double at_ms;
};

static void on_res(void *ud, const PGresult *res, enum lx_err err, const char *errmsg)
{
    struct res *r = ud;
    r->calls++;
    r->err = err;
    r->at_ms = mono_ms();
    snprintf(r->msg, sizeof r->msg, "%s", errmsg ? errmsg : "");
    if (err == LX_OK) {
        assert_non_null(res);
        r->ntuples = PQntuples(res);
        if (r->ntuples > 0 && PQnfields(res) > 0) {
            int col = PQnfields(res) - 1;
            r->isnull = PQgetisnull(res, 0, col);
            snprintf(r->val, sizeof r->val, "%s", PQgetvalue(res, 0, col));
        }
    } else {
        assert_null(res);
    }
    ndone++;
}

static int setup(void **state)
{
    (void)state;
    log_set_level(getenv("LX_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
    return evloop_setup(&base, &ndone, "a pg_ev test");
}

static int teardown(void **state)
{
    (void)state;
    evloop_teardown(&base);
    return 0;
}

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if ((conninfo = env_or_null("LX_TEST_PG_CONNINFO")) == NULL)                               \
            SKIP_TEST("LX_TEST_PG_CONNINFO is not set (tests/web/test_adapters.sh sets it)");      \
    } while (0)

/* One query, waited for; the pool stays. */
static void query_wait(struct pgc_pool *p, const char *sql, int n, const char *const *params,
                       unsigned timeout_ms, struct res *r)
{
    memset(r, 0, sizeof *r);
    assert_non_null(pgc_query(p, sql, n, params, timeout_ms, on_res, r));
    assert_int_equal(r->calls, 0); /* never inside pgc_query() */
    assert_int_equal(run_until(base, &r->calls, 1, 10000), 0);
    run_for(base, 0); /* a second call would come now */
    assert_int_equal(r->calls, 1);
}

static void test_select_params(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 2, 16);
    assert_non_null(p);
    struct res r;

    const char *one[] = {"41"};
    query_wait(p, "SELECT $1::int + 1", 1, one, 5000, &r);
    assert_int_equal(r.err, LX_OK);
    assert_int_equal(r.ntuples, 1);
    assert_string_equal(r.val, "42");

    const char *two[] = {NULL, "Pasal 2 ayat (1) \xe2\x80\x94 'kutip' \"ganda\""};
    query_wait(p, "SELECT $1::text IS NULL, $2::text", 2, two, 5000, &r);
    assert_int_equal(r.err, LX_OK);
    assert_string_equal(r.val, two[1]);
    query_wait(p, "SELECT $1::text", 1, two, 5000, &r);
    assert_int_equal(r.err, LX_OK);
    assert_true(r.isnull);

    query_wait(p, "SELECT 1 WHERE false", 0, NULL, 5000, &r); /* no rows is still OK */
    assert_int_equal(r.err, LX_OK);
    assert_int_equal(r.ntuples, 0);

    query_wait(p, "CREATE TEMP TABLE t (x int)", 0, NULL, 5000, &r); /* COMMAND_OK */
    assert_int_equal(r.err, LX_OK);

    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_true(st.up);
    assert_int_equal(st.busy, 0);
    assert_int_equal(st.queued, 0);
    assert_true(st.conns >= 1 && st.conns <= 2);
    pgc_pool_free(p);
}

/* 200 queries of 0.1 s on 8 connections: about 25 rounds (2.5 s), not 20 s. */
#define CONC_N     200
#define CONC_CONNS 8
#define CONC_MS    100

static void test_concurrency(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, CONC_CONNS, CONC_N);
    assert_non_null(p);
    static struct res r[CONC_N];
    char arg[CONC_N][16];
    memset(r, 0, sizeof r);
    double t0 = mono_ms();
    for (int i = 0; i < CONC_N; i++) {
        snprintf(arg[i], sizeof arg[i], "q%d", i);
        const char *params[] = {arg[i]};
        assert_non_null(pgc_query(p, "SELECT pg_sleep(0.1), $1", 1, params, 30000, on_res, &r[i]));
    }
    unsigned max_conns = 0;
    while (ndone < CONC_N) {
        assert_int_equal(run_until(base, &ndone, ndone + 1, 30000), 0);
        struct pgc_stats st;
        pgc_pool_stats(p, &st);
        assert_true(st.conns <= CONC_CONNS);
        if (st.conns > max_conns)
            max_conns = st.conns;
    }
    double took = mono_ms() - t0;
    for (int i = 0; i < CONC_N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, LX_OK);
        assert_string_equal(r[i].val, arg[i]);
    }
    double ideal = (double)((CONC_N + CONC_CONNS - 1) / CONC_CONNS) * CONC_MS;
    double serial = (double)CONC_N * CONC_MS;
    print_message("# %d queries of %d ms on %u connections: %.0f ms (ideal %.0f, serial %.0f)\n",
                  CONC_N, CONC_MS, max_conns, took, ideal, serial);
    assert_int_equal(max_conns, CONC_CONNS);
    assert_true(took >= ideal * 0.95);
    assert_true(took < ideal * 2 + 1000); /* serial would be 8x the ideal */
    pgc_pool_free(p);
}

static void test_sql_error(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 1, 16);
    struct res r;
    query_wait(p, "SELECT 1/0", 0, NULL, 5000, &r);
    assert_int_equal(r.err, LX_EUPSTREAM);
    assert_non_null(strstr(r.msg, "division by zero"));

    query_wait(p, "SELEC nonsense", 0, NULL, 5000, &r);
    assert_int_equal(r.err, LX_EUPSTREAM);
    assert_non_null(strstr(r.msg, "syntax error"));

    const char *bad[] = {"not a number"};
    query_wait(p, "SELECT $1::int", 1, bad, 5000, &r);
    assert_int_equal(r.err, LX_EUPSTREAM);
    assert_non_null(strstr(r.msg, "invalid input syntax"));

    /* Several statements in one query: refused by the extended protocol (PQsendQueryParams). */
    query_wait(p, "SELECT 1; SELECT 2", 0, NULL, 5000, &r);
    assert_int_equal(r.err, LX_EUPSTREAM);
    assert_non_null(strstr(r.msg, "multiple commands"));

    query_wait(p, "SELECT 'still fine'", 0, NULL, 5000, &r); /* same connection, reused */
    assert_int_equal(r.err, LX_OK);
    assert_string_equal(r.val, "still fine");
    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_int_equal(st.conns, 1);
    assert_true(st.up);
    pgc_pool_free(p);
}

static void test_timeout(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 1, 16);
    struct res r, q;
    memset(&r, 0, sizeof r);
    memset(&q, 0, sizeof q);
    double t0 = mono_ms();
    pgc_query(p, "SELECT pg_sleep(2)", 0, NULL, 300, on_res, &r);
    pgc_query(p, "SELECT 'queued'", 0, NULL, 150, on_res, &q); /* waits for the only conn */
    assert_int_equal(run_until(base, &ndone, 2, 5000), 0);
    assert_int_equal(q.err, LX_ETIMEOUT); /* timed out in the queue */
    assert_true(q.at_ms - t0 >= 140 && q.at_ms - t0 < 290);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, LX_ETIMEOUT);
    print_message("# pg_sleep(2) with a 300 ms timeout failed after %.0f ms: %s\n", r.at_ms - t0,
                  r.msg);
    assert_true(r.at_ms - t0 >= 290 && r.at_ms - t0 < 1000);

    query_wait(p, "SELECT 'after'", 0, NULL, 5000, &r); /* a new connection replaces it */
    assert_int_equal(r.err, LX_OK);
    assert_string_equal(r.val, "after");
    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_true(st.up);
    assert_int_equal(st.conns, 1);
    pgc_pool_free(p);
}

static void test_cancel(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 2, 16);
    struct res queued, inflight, last;
    memset(&queued, 0, sizeof queued);
    memset(&inflight, 0, sizeof inflight);

    /* Cancelled before the loop ever ran: never sent, never called. */
    pgc_cancel(pgc_query(p, "SELECT 1", 0, NULL, 5000, on_res, &queued));
    /* Cancelled while running on the server. */
    struct pgc_op *op = pgc_query(p, "SELECT pg_sleep(0.3)", 0, NULL, 5000, on_res, &inflight);
    run_for(base, 100);
    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_int_equal(st.busy, 1);
    pgc_cancel(op);
    pgc_cancel(NULL); /* a no-op */
    run_for(base, 400);
    query_wait(p, "SELECT 'next'", 0, NULL, 5000, &last);
    assert_int_equal(last.err, LX_OK);
    assert_int_equal(queued.calls, 0);
    assert_int_equal(inflight.calls, 0);
    assert_int_equal(ndone, 1);

    /* Cancelled in flight with its timeout still pending: the timer fires, the connection is
     * closed, nobody is called. (Cancelling after the callback ran is the owner's bug.) */
    memset(&inflight, 0, sizeof inflight);
    op = pgc_query(p, "SELECT pg_sleep(1)", 0, NULL, 200, on_res, &inflight);
    run_for(base, 50);
    pgc_cancel(op);
    run_for(base, 400);
    assert_int_equal(inflight.calls, 0);
    query_wait(p, "SELECT 'again'", 0, NULL, 5000, &last);
    assert_int_equal(last.err, LX_OK);
    pgc_pool_free(p);
}

/* Nothing listens on the port: the connect fails at once, the query with it. */
static void test_refused(void **state)
{
    (void)state;
    NEED_PG();
    char ci[128];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d dbname=lexrag connect_timeout=5",
             closed_port());
    struct pgc_pool *p = pgc_pool_new(base, ci, 4, 16);
    struct res r, r2;
    double t0 = mono_ms();
    query_wait(p, "SELECT 1", 0, NULL, 5000, &r);
    double took = mono_ms() - t0;
    print_message("# refused: %s after %.1f ms: %s\n", lx_strerror(r.err), took, r.msg);
    assert_int_equal(r.err, LX_EUNAVAIL);
    assert_true(took < 500);
    assert_true(r.msg[0] != '\0');

    t0 = mono_ms(); /* in backoff: fails without trying */
    query_wait(p, "SELECT 1", 0, NULL, 5000, &r2);
    assert_int_equal(r2.err, LX_EUNAVAIL);
    assert_true(mono_ms() - t0 < 100);
    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_false(st.up);
    assert_int_equal(st.conns, 0);
    assert_true(st.last_error[0] != '\0');
    pgc_pool_free(p);
}

/* After a failed connect the pool's retry timer is armed for the backoff (up to
 * PG_BACKOFF_MAX_MS). libevent 2.1 does not normalize a struct timeval: with tv_usec of 1e6
 * or more (backoff_ms * 1000 put in the microseconds) the timer sorts before later ones and
 * epoll_wait gets no timeout at all, so every timer of the loop stalls until some I/O comes. */
static void test_backoff_timer(void **state)
{
    (void)state;
    NEED_PG();
    char ci[128];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d dbname=lexrag", closed_port());
    struct pgc_pool *p = pgc_pool_new(base, ci, 1, 16);
    struct res r;
    const unsigned from[] = {1100, 1600, 2500, PG_BACKOFF_MAX_MS}; /* doubled by the failure */
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        p->backoff_ms = from[i];
        p->down_until_ms = 0; /* let the next query try (and fail) to connect */
        query_wait(p, "SELECT 1", 0, NULL, 5000, &r);
        assert_int_equal(r.err, LX_EUNAVAIL);
        unsigned want = from[i] * 2 < PG_BACKOFF_MAX_MS ? from[i] * 2 : PG_BACKOFF_MAX_MS;
        assert_int_equal(p->backoff_ms, want);
        struct timeval when, now;
        assert_true(event_pending(p->retry, EV_TIMEOUT, &when));
        evutil_gettimeofday(&now, NULL);
        double left =
            (double)(when.tv_sec - now.tv_sec) * 1e3 + (double)(when.tv_usec - now.tv_usec) / 1e3;
        if (when.tv_usec < 0 || when.tv_usec >= 1000000 || left < want - 100 || left > want + 5)
            fail_msg("backoff %u ms: retry timer at +%.0f ms, tv_usec %ld", want, left,
                     (long)when.tv_usec);
    }
    /* The symptom: the retry timer 2.2 s away, a timer at 2.3 s must fire. */
    p->backoff_ms = 1100;
    p->down_until_ms = 0;
    query_wait(p, "SELECT 1", 0, NULL, 5000, &r);
    int fired = 0;
    struct event *t = evtimer_new(base, evt_set_flag, &fired);
    struct timeval tv = tv_ms(2300);
    evtimer_add(t, &tv);
    double t0 = mono_ms();
    watchdog_arm("the loop with a pg retry timer 2.2 s away", 8);
    assert_int_equal(run_until(base, &fired, 1, 4000), 0);
    watchdog_arm("a pg_ev test", 60);
    assert_true(mono_ms() - t0 < 2600);
    event_free(t);
    pgc_pool_free(p);
}

/* A server that never answers the SYN (a firewall dropping packets): connecting must not
 * block the loop, and the query times out in the queue as promised. */
static void test_connect_blackhole(void **state)
{
    (void)state;
    NEED_PG();
    int fds[2];
    int port = blackhole_port(fds);
    if (port < 0)
        SKIP_TEST("the kernel completes connects to a full backlog here");
    char ci[128];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d dbname=lexrag connect_timeout=1", port);
    struct pgc_pool *p = pgc_pool_new(base, ci, 1, 16);
    struct res r;
    memset(&r, 0, sizeof r);
    int fired = 0;
    struct event *t = evtimer_new(base, evt_set_flag, &fired);
    struct timeval tv = tv_ms(50);
    evtimer_add(t, &tv);
    double t0 = mono_ms();
    watchdog_arm("libpq connecting to a host that does not answer", 5);
    pgc_query(p, "SELECT 1", 0, NULL, 300, on_res, &r);
    assert_int_equal(run_until(base, &fired, 1, 3000), 0);
    double timer_at = mono_ms() - t0;
    assert_int_equal(run_until(base, &ndone, 1, 3000), 0);
    watchdog_arm("a pg_ev test", 60);
    print_message("# blackhole: 50 ms timer after %.0f ms; query %s after %.0f ms\n", timer_at,
                  lx_strerror(r.err), r.at_ms - t0);
    assert_true(timer_at < 200);
    assert_int_equal(r.err, LX_ETIMEOUT);
    assert_true(r.at_ms - t0 < 1000);
    event_free(t);
    struct pgc_stats st;
    pgc_pool_stats(p, &st);
    assert_int_equal(st.conns, 1); /* still connecting */

    /* connect_timeout=1 is enforced by the pool (libpq does not under PQconnectPoll): then the
     * pool is down and queries fail fast. */
    double spent = mono_ms() - t0;
    run_for(base, spent < 1100 ? (unsigned)(1100 - spent) : 0);
    pgc_pool_stats(p, &st);
    print_message("# blackhole after 1.1 s: %u connections, up=%d (%s)\n", st.conns, st.up,
                  st.last_error);
    assert_int_equal(st.conns, 0);
    assert_false(st.up);
    double t1 = mono_ms();
    query_wait(p, "SELECT 1", 0, NULL, 300, &r);
    assert_int_equal(r.err, LX_EUNAVAIL);
    assert_true(mono_ms() - t1 < 100);

    memset(&r, 0, sizeof r); /* freed while connecting, with the op waiting for it */
    p->down_until_ms = 0;
    pgc_query(p, "SELECT 1", 0, NULL, 5000, on_res, &r);
    run_for(base, 50);
    pgc_pool_stats(p, &st);
    assert_int_equal(st.conns, 1);
    assert_int_equal(r.calls, 0);
    pgc_pool_free(p);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, LX_ECANCELED);
    close(fds[1]);
    close(fds[0]);
}

/* The backend is killed while a query runs, then while the connection is idle: each time
 * the op fails once and the next query gets a fresh connection. */
static void test_backend_killed(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 1, 16);
    struct pgc_pool *admin = pgc_pool_new(base, conninfo, 1, 16);
    struct res pid, r, k;
    for (int idle = 0; idle < 2; idle++) {
        query_wait(p, "SELECT pg_backend_pid()", 0, NULL, 5000, &pid);
        assert_int_equal(pid.err, LX_OK);
        const char *params[] = {pid.val};
        memset(&r, 0, sizeof r);
        if (!idle)
            pgc_query(p, "SELECT pg_sleep(2)", 0, NULL, 5000, on_res, &r);
        run_for(base, 50);
        query_wait(admin, "SELECT pg_terminate_backend($1::int)", 1, params, 5000, &k);
        assert_int_equal(k.err, LX_OK);
        assert_string_equal(k.val, "t");
        if (!idle) {
            assert_int_equal(run_until(base, &r.calls, 1, 3000), 0);
            print_message("# killed under a query: %s: %s\n", lx_strerror(r.err), r.msg);
            assert_int_equal(r.calls, 1);
            assert_true(r.err == LX_EUPSTREAM || r.err == LX_EUNAVAIL);
        } else {
            run_for(base, 100); /* the idle connection sees the close */
        }
        query_wait(p, "SELECT pg_backend_pid()", 0, NULL, 5000, &r);
        print_message("# next query after the kill (%s): %s %s\n", idle ? "idle" : "busy",
                      lx_strerror(r.err), r.msg);
        assert_int_equal(r.err, LX_OK);
        assert_string_not_equal(r.val, pid.val); /* a new backend */
    }
    pgc_pool_free(admin);
    pgc_pool_free(p);
}

/* The backend dies while a big query is still being flushed to it (stopped, so the socket
 * buffers fill; then terminated and continued): the op fails once, the connection goes, and
 * nothing touches the freed connection (ASan). Needs the right to signal the backend. */
static void test_killed_while_flushing(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 1, 16);
    struct res pid, r;
    query_wait(p, "SELECT pg_backend_pid()", 0, NULL, 5000, &pid);
    assert_int_equal(pid.err, LX_OK);
    pid_t bpid = (pid_t)atoi(pid.val);
    if (kill(bpid, SIGSTOP) != 0) {
        pgc_pool_free(p);
        SKIP_TEST("cannot signal the PostgreSQL backend (not root, not its user)");
    }
    size_t big_len = 32u << 20;
    char *big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, 'x', big_len);
    big[big_len] = '\0';
    const char *params[] = {big};
    memset(&r, 0, sizeof r);
    pgc_query(p, "SELECT length($1)", 1, params, 10000, on_res, &r);
    free(big); /* copied */
    run_for(base, 200);
    int flushing = p->conns != NULL && p->conns->op != NULL && p->conns->op->flushing;
    kill(bpid, SIGTERM);
    kill(bpid, SIGCONT);
    assert_true(flushing);
    assert_int_equal(run_until(base, &r.calls, 1, 5000), 0);
    run_for(base, 100);
    print_message("# backend killed while flushing: %s: %s\n", lx_strerror(r.err), r.msg);
    assert_int_equal(r.calls, 1);
    assert_true(r.err == LX_EUNAVAIL || r.err == LX_EUPSTREAM);
    query_wait(p, "SELECT 'fine'", 0, NULL, 5000, &r);
    assert_int_equal(r.err, LX_OK);
    pgc_pool_free(p);
}

static void test_free_pending(void **state)
{
    (void)state;
    NEED_PG();
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 2, 3);
    struct res r[6];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++) /* these 2 run */
        pgc_query(p, "SELECT pg_sleep(5)", 0, NULL, 10000, on_res, &r[i]);
    struct pgc_stats st;
    for (int i = 0; i < 100; i++) {
        run_for(base, 20);
        pgc_pool_stats(p, &st);
        if (st.busy == 2)
            break;
    }
    assert_int_equal(st.busy, 2);
    for (int i = 2; i < 5; i++) /* these 3 wait */
        pgc_query(p, "SELECT pg_sleep(5)", 0, NULL, 10000, on_res, &r[i]);
    pgc_pool_stats(p, &st);
    assert_int_equal(st.queued, 3);
    pgc_query(p, "SELECT 6", 0, NULL, 10000, on_res, &r[5]); /* queue full: deferred failure */
    assert_int_equal(ndone, 0);
    double t0 = mono_ms();
    pgc_pool_free(p);
    assert_true(mono_ms() - t0 < 500);
    assert_int_equal(ndone, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].err, LX_ECANCELED);
    }
    run_for(base, 50); /* nothing of the pool is left on the loop */
    assert_int_equal(ndone, 6);
    pgc_pool_free(NULL);
}

static int run_cmd(const char *env)
{
    const char *cmd = getenv(env);
    if (cmd == NULL || cmd[0] == '\0')
        return -2;
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

/* The server restarts: queries fail fast while it is down, then work again. */
static void test_server_restart(void **state)
{
    (void)state;
    NEED_PG();
    if (env_or_null("LX_TEST_PG_STOP") == NULL || env_or_null("LX_TEST_PG_START") == NULL)
        SKIP_TEST("LX_TEST_PG_STOP and LX_TEST_PG_START are not set");
    struct pgc_pool *p = pgc_pool_new(base, conninfo, 2, 16);
    struct res r;
    query_wait(p, "SELECT 'before'", 0, NULL, 5000, &r);
    assert_int_equal(r.err, LX_OK);
    watchdog_arm("pg stop", 60);
    assert_int_equal(run_cmd("LX_TEST_PG_STOP"), 0);
    run_for(base, 100);
    int down_errs = 0;
    for (int i = 0; i < 3; i++) {
        double t0 = mono_ms();
        query_wait(p, "SELECT 'down'", 0, NULL, 5000, &r);
        assert_int_not_equal(r.err, LX_OK);
        assert_true(mono_ms() - t0 < 500);
        down_errs += r.err == LX_EUNAVAIL;
    }
    assert_true(down_errs >= 2);
    assert_int_equal(run_cmd("LX_TEST_PG_START"), 0);
    watchdog_arm("a pg_ev test", 60);
    double t0 = mono_ms();
    do { /* the backoff is at most 5 s */
        run_for(base, 100);
        query_wait(p, "SELECT 'back'", 0, NULL, 5000, &r);
    } while (r.err != LX_OK && mono_ms() - t0 < 8000);
    print_message("# after the restart, a query worked again in %.0f ms\n", mono_ms() - t0);
    assert_int_equal(r.err, LX_OK);
    assert_string_equal(r.val, "back");
    pgc_pool_free(p);
}

int main(void)
{
    if (skip_all("LX_TEST_PG_CONNINFO"))
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_select_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_blackhole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_while_flushing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_restart, setup, teardown),
    };
    return cmocka_run_group_tests_name("pg_ev", tests, NULL, NULL);
}
