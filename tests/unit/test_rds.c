/* tests/unit/test_rds.c -- the Redis adapter (shared/rds.c) against a real Redis: MGET of
 * missing and present keys after SETEX, binary keys and values, per-command timeouts (Redis
 * held by CLIENT PAUSE), cancel, error replies (NOAUTH) and AUTH, a Redis that is not running,
 * the reconnect backoff never stalling the loop, rds_free with commands pending, and (with
 * LX_TEST_REDIS_STOP/START) Redis restarting between two commands. Needs LX_TEST_REDIS_PORT
 * (tests/web/test_adapters.sh starts a server and sets it); every test skips without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/log.c"
#include "../../shared/lx_err.c"
#include "../../shared/rds.c"
#include "evloop_test.h"

#define MAXV 8

static struct event_base *base;
static int port;
static int ndone;

struct mres {
    int calls;
    enum lx_err err;
    size_t n;
    char *vals[MAXV]; /* copies; NULL for a miss */
    size_t lens[MAXV];
    double at_ms;
};

static void mres_clear(struct mres *m)
{
    for (size_t i = 0; i < MAXV; i++)
        free(m->vals[i]);
    memset(m, 0, sizeof *m);
}

static void on_mget(void *ud, enum lx_err err, size_t n, const char *const *vals,
                    const size_t *lens)
{
    struct mres *m = ud;
    m->calls++;
    m->err = err;
    m->n = n;
    m->at_ms = mono_ms();
    if (err == LX_OK) {
        assert_non_null(vals);
        assert_non_null(lens);
    }
    for (size_t i = 0; i < n && i < MAXV; i++) {
        free(m->vals[i]);
        m->vals[i] = NULL;
        m->lens[i] = lens[i];
        if (vals[i] != NULL) {
            m->vals[i] = malloc(lens[i] + 1);
            memcpy(m->vals[i], vals[i], lens[i]);
            m->vals[i][lens[i]] = '\0';
        }
    }
    ndone++;
}

static int setup(void **state)
{
    (void)state;
    log_set_level(getenv("LX_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
    return evloop_setup(&base, &ndone, "an rds test");
}

static int teardown(void **state)
{
    (void)state;
    evloop_teardown(&base);
    return 0;
}

#define NEED_REDIS()                                                                               \
    do {                                                                                           \
        const char *p_ = env_or_null("LX_TEST_REDIS_PORT");                                        \
        if (p_ == NULL)                                                                            \
            SKIP_TEST("LX_TEST_REDIS_PORT is not set (tests/web/test_adapters.sh sets it)");       \
        port = atoi(p_);                                                                           \
    } while (0)

static int wait_up(struct rds *r, unsigned max_ms)
{
    double t0 = mono_ms();
    while (!rds_up(r) && mono_ms() - t0 < max_ms)
        run_for(base, 5);
    return rds_up(r) ? 0 : -1;
}

static struct rds *connect_up(const char *password)
{
    struct rds *r = rds_new(base, "127.0.0.1", port, password);
    assert_non_null(r);
    assert_int_equal(wait_up(r, 3000), 0);
    return r;
}

/* MGET of n keys (strings), waited for. */
static void mget_wait(struct rds *r, size_t n, const char *const *keys, unsigned timeout_ms,
                      struct mres *m)
{
    size_t klens[MAXV];
    for (size_t i = 0; i < n; i++)
        klens[i] = strlen(keys[i]);
    mres_clear(m);
    assert_non_null(rds_mget(r, n, keys, klens, timeout_ms, on_mget, m));
    assert_int_equal(m->calls, 0); /* never inside rds_mget() */
    assert_int_equal(run_until(base, &m->calls, 1, 5000), 0);
    run_for(base, 0);
    assert_int_equal(m->calls, 1);
}

/* A blocking side connection for the test's own commands (CLIENT PAUSE, CONFIG SET, FLUSHALL). */
static void admin(const char *fmt, const char *arg)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    redisReply *rep = redisCommand(c, fmt, arg);
    assert_non_null(rep);
    if (rep->type == REDIS_REPLY_ERROR)
        fail_msg("admin %s: %s", fmt, rep->str);
    freeReplyObject(rep);
    redisFree(c);
}

static void test_mget_setex(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = connect_up(NULL);
    assert_true(rds_up(r));
    char k1[64], k2[64], miss[64];
    snprintf(k1, sizeof k1, "lxtest:%d:a", (int)getpid());
    snprintf(k2, sizeof k2, "lxtest:%d:b", (int)getpid());
    snprintf(miss, sizeof miss, "lxtest:%d:missing", (int)getpid());
    struct mres m = {0};

    const char *keys[] = {k1, miss, k2};
    mget_wait(r, 3, keys, 1000, &m);
    assert_int_equal(m.err, LX_OK);
    assert_int_equal(m.n, 3);
    assert_null(m.vals[0]);
    assert_null(m.vals[1]);
    assert_null(m.vals[2]);

    rds_setex(r, k1, strlen(k1), "uno", 3, 60);
    rds_setex(r, k2, strlen(k2), "", 0, 60); /* empty is a hit, not a miss */
    run_for(base, 20);                       /* a short loop turn: the SETs go out */
    mget_wait(r, 3, keys, 1000, &m);
    assert_int_equal(m.err, LX_OK);
    assert_int_equal(m.n, 3);
    assert_non_null(m.vals[0]);
    assert_int_equal(m.lens[0], 3);
    assert_memory_equal(m.vals[0], "uno", 3);
    assert_null(m.vals[1]);
    assert_non_null(m.vals[2]);
    assert_int_equal(m.lens[2], 0);

    /* Same connection, in order: a SET then a GET need no wait in between. */
    rds_setex(r, k1, strlen(k1), "dos", 3, 60);
    mget_wait(r, 1, keys, 1000, &m);
    assert_int_equal(m.err, LX_OK);
    assert_string_equal(m.vals[0], "dos");

    /* The TTL is set (EX). */
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *ttl = redisCommand(c, "TTL %s", k1);
    assert_int_equal(ttl->type, REDIS_REPLY_INTEGER);
    assert_true(ttl->integer > 50 && ttl->integer <= 60);
    freeReplyObject(ttl);
    redisFree(c);

    /* Out of range key counts fail from the loop, not inside the call. */
    mget_wait(r, 0, keys, 1000, &m);
    assert_int_not_equal(m.err, LX_OK);
    mres_clear(&m);
    rds_free(r);
}

static void test_binary(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = connect_up(NULL);
    static const char key[] = "lxtest:bin\0key\r\n\xff";
    static const char val[] = "\0\x01\x02\r\n$3\r\n\xff\xfe\0end";
    size_t klen = sizeof key - 1, vlen = sizeof val - 1;
    rds_setex(r, key, klen, val, vlen, 60);
    size_t big_len = 1u << 20;
    char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 7 + 3);
    rds_setex(r, "lxtest:bin:big", 14, big, big_len, 60);

    const char *keys[] = {key, "lxtest:bin", "lxtest:bin:big"};
    size_t klens[] = {klen, 10, 14};
    struct mres m = {0};
    assert_non_null(rds_mget(r, 3, keys, klens, 2000, on_mget, &m));
    assert_int_equal(run_until(base, &m.calls, 1, 5000), 0);
    assert_int_equal(m.err, LX_OK);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.lens[0], vlen);
    assert_memory_equal(m.vals[0], val, vlen);
    assert_null(m.vals[1]); /* the key cut at its NUL is another key */
    assert_int_equal(m.lens[2], big_len);
    assert_memory_equal(m.vals[2], big, big_len);
    free(big);
    mres_clear(&m);
    rds_free(r);
}

static void test_timeout(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = connect_up(NULL);
    const char *keys[] = {"lxtest:t"};
    struct mres m = {0}, m2 = {0};
    admin("CLIENT PAUSE %s", "500");
    double t0 = mono_ms();
    mget_wait(r, 1, keys, 100, &m);
    double took = m.at_ms - t0;
    print_message("# MGET with Redis paused for 500 ms, 100 ms timeout: %s after %.0f ms\n",
                  lx_strerror(m.err), took);
    assert_int_equal(m.err, LX_ETIMEOUT);
    assert_true(took >= 95 && took < 300);
    run_for(base, 600); /* the late reply comes and is dropped, without a second call */
    assert_int_equal(m.calls, 1);
    mget_wait(r, 1, keys, 1000, &m2);
    assert_int_equal(m2.err, LX_OK);
    assert_int_equal(ndone, 2);
    mres_clear(&m);
    mres_clear(&m2);
    rds_free(r);
}

static void test_cancel(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = connect_up(NULL);
    const char *keys[] = {"lxtest:c"};
    size_t klens[] = {8};
    struct mres a = {0}, b = {0}, c = {0}, d = {0};

    rds_cancel(rds_mget(r, 1, keys, klens, 1000, on_mget, &a)); /* at once */
    struct rds_cmd *cmd = rds_mget(r, 1, keys, klens, 1000, on_mget, &b);
    admin("CLIENT PAUSE %s", "200");
    struct rds_cmd *slow = rds_mget(r, 1, keys, klens, 100, on_mget, &d);
    run_for(base, 20);
    rds_cancel(slow); /* sent, waiting: neither the timeout nor the reply calls it */
    rds_cancel(cmd);
    rds_cancel(NULL);
    run_for(base, 400);
    mget_wait(r, 1, keys, 1000, &c);
    assert_int_equal(c.err, LX_OK);
    assert_int_equal(a.calls + b.calls + d.calls, 0);
    assert_int_equal(ndone, 1);

    /* Cancelled while Redis is down (failed from the loop): not called either. */
    struct rds *down = rds_new(base, "127.0.0.1", closed_port(), NULL);
    rds_cancel(rds_mget(down, 1, keys, klens, 1000, on_mget, &a));
    run_for(base, 50);
    assert_int_equal(a.calls, 0);
    rds_free(down);
    mres_clear(&c);
    rds_free(r);
}

static void test_not_running(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = rds_new(base, "127.0.0.1", closed_port(), NULL);
    assert_non_null(r);
    assert_false(rds_up(r));
    const char *keys[] = {"k"};
    struct mres m = {0};
    double t0 = mono_ms();
    mget_wait(r, 1, keys, 1000, &m);
    print_message("# Redis not running: %s after %.1f ms (last error: %s)\n", lx_strerror(m.err),
                  m.at_ms - t0, rds_last_error(r));
    assert_int_equal(m.err, LX_EUNAVAIL);
    assert_true(m.at_ms - t0 < 50);
    run_for(base, 50);
    assert_false(rds_up(r));
    assert_true(rds_last_error(r)[0] != '\0');
    rds_setex(r, "k", 1, "v", 1, 10); /* dropped, no crash */
    rds_free(r);
}

/* A reconnect timer armed for a backoff of 1 s or more used to carry the microseconds in
 * tv_usec (backoff_ms * 1000); libevent does not normalize it: the timer fired early, and from
 * 2 s up epoll_wait got no timeout, so the loop (and the reconnect) stalled until some I/O. */
static void test_backoff_timer(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = rds_new(base, "127.0.0.1", closed_port(), NULL);
    run_for(base, 10);
    const unsigned from[] = {1100, 1600, 2500, RDS_BACKOFF_MAX_MS};
    for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
        event_del(r->reconnect);
        r->backoff_ms = from[i];
        rds_connect(r); /* fails: the backoff doubles, the timer is armed */
        run_for(base, 10);
        unsigned want = from[i] * 2 < RDS_BACKOFF_MAX_MS ? from[i] * 2 : RDS_BACKOFF_MAX_MS;
        assert_int_equal(r->backoff_ms, want);
        struct timeval when, now;
        assert_true(event_pending(r->reconnect, EV_TIMEOUT, &when));
        evutil_gettimeofday(&now, NULL);
        double left =
            (double)(when.tv_sec - now.tv_sec) * 1e3 + (double)(when.tv_usec - now.tv_usec) / 1e3;
        if (when.tv_usec < 0 || when.tv_usec >= 1000000 || left < want - 100 || left > want + 5)
            fail_msg("backoff %u ms: reconnect timer at +%.0f ms, tv_usec %ld", want, left,
                     (long)when.tv_usec);
    }
    /* The symptom: Redis comes back (here: the right port) while the timer is 2.2 s away. */
    event_del(r->reconnect);
    r->backoff_ms = 1100;
    rds_connect(r);
    run_for(base, 10);
    r->port = port;
    watchdog_arm("the loop with an rds reconnect timer 2.2 s away", 8);
    run_for(base, 2000); /* one timer of its own, behind the reconnect: nothing else wakes it */
    assert_false(rds_up(r));
    run_for(base, 600);
    watchdog_arm("an rds test", 60);
    assert_true(rds_up(r));
    rds_free(r);
}

/* Wrong or missing password: the error reply is LX_EUPSTREAM; with it, all is well. */
static void test_auth(void **state)
{
    (void)state;
    NEED_REDIS();
    admin("CONFIG SET requirepass %s", "lx-secret");
    struct rds *noauth = rds_new(base, "127.0.0.1", port, NULL);
    struct rds *authed = rds_new(base, "127.0.0.1", port, "lx-secret");
    int up = wait_up(noauth, 3000) == 0 && wait_up(authed, 3000) == 0;
    const char *keys[] = {"lxtest:auth"};
    struct mres m1 = {0}, m2 = {0};
    if (up) {
        mget_wait(noauth, 1, keys, 1000, &m1);
        mget_wait(authed, 1, keys, 1000, &m2);
    }
    redisContext *c = redisConnect("127.0.0.1", port); /* undo, whatever happened */
    redisReply *rep = redisCommand(c, "AUTH lx-secret");
    freeReplyObject(rep);
    rep = redisCommand(c, "CONFIG SET requirepass %s", "");
    freeReplyObject(rep);
    redisFree(c);
    assert_true(up);
    assert_int_equal(m1.err, LX_EUPSTREAM);
    assert_int_equal(m2.err, LX_OK);
    mres_clear(&m1);
    mres_clear(&m2);
    rds_free(noauth);
    rds_free(authed);
}

/* rds_free with commands sent and waiting: each callback runs once, LX_ECANCELED (rds.h). */
static void test_free_pending(void **state)
{
    (void)state;
    NEED_REDIS();
    struct rds *r = connect_up(NULL);
    const char *keys[] = {"lxtest:f"};
    size_t klens[] = {8};
    struct mres m[3] = {{0}};
    admin("CLIENT PAUSE %s", "300");
    rds_mget(r, 1, keys, klens, 2000, on_mget, &m[0]);
    rds_mget(r, 1, keys, klens, 2000, on_mget, &m[1]);
    run_for(base, 30);
    assert_int_equal(ndone, 0);
    rds_free(r);
    assert_int_equal(ndone, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(m[i].calls, 1);
        assert_int_equal(m[i].err, LX_ECANCELED);
    }
    run_for(base, 400);
    assert_int_equal(ndone, 2);
    rds_free(NULL);
}

static int run_cmd(const char *env)
{
    const char *cmd = env_or_null(env);
    return cmd != NULL && system(cmd) == 0 ? 0 : -1;
}

/* Redis stops and starts again between two commands: the first after the stop fails fast,
 * the adapter reconnects by itself, and commands work again. */
static void test_reconnect(void **state)
{
    (void)state;
    NEED_REDIS();
    if (env_or_null("LX_TEST_REDIS_STOP") == NULL || env_or_null("LX_TEST_REDIS_START") == NULL)
        SKIP_TEST("LX_TEST_REDIS_STOP and LX_TEST_REDIS_START are not set");
    struct rds *r = connect_up(NULL);
    const char *keys[] = {"lxtest:r"};
    struct mres m = {0};
    rds_setex(r, "lxtest:r", 8, "before", 6, 60);
    mget_wait(r, 1, keys, 1000, &m);
    assert_string_equal(m.vals[0], "before");

    assert_int_equal(run_cmd("LX_TEST_REDIS_STOP"), 0);
    run_for(base, 50); /* the adapter sees the close */
    assert_false(rds_up(r));
    double t0 = mono_ms();
    mget_wait(r, 1, keys, 1000, &m);
    assert_int_equal(m.err, LX_EUNAVAIL);
    assert_true(m.at_ms - t0 < 50);
    run_for(base, 700); /* a few reconnects fail: the backoff grows */
    assert_false(rds_up(r));

    assert_int_equal(run_cmd("LX_TEST_REDIS_START"), 0);
    t0 = mono_ms();
    assert_int_equal(wait_up(r, 6000), 0);
    print_message("# reconnected %.0f ms after Redis was back (backoff %u ms)\n", mono_ms() - t0,
                  r->backoff_ms);
    rds_setex(r, "lxtest:r", 8, "after", 5, 60);
    mget_wait(r, 1, keys, 1000, &m);
    assert_int_equal(m.err, LX_OK);
    assert_string_equal(m.vals[0], "after");
    mres_clear(&m);
    rds_free(r);
}

int main(void)
{
    if (skip_all("LX_TEST_REDIS_PORT"))
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mget_setex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_timer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
    };
    return cmocka_run_group_tests_name("rds", tests, NULL, NULL);
}
