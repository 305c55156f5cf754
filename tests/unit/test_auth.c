/* tests/unit/test_auth.c -- API keys in the worker (fcgi/auth.c), without a web server: the
 * Authorization header (table cases with __LINE__: scheme in any case, spaces, tabs, trailing
 * blanks, empty and over-long tokens, other schemes); which routes need a key; the digests'
 * hex; the look-up among several keys (a key found only by its own digest); and a request's
 * way through auth_then() with the request, worker and metrics functions stubbed: 503 before
 * any key set was loaded, 401 with WWW-Authenticate for a missing, malformed, unknown or
 * revoked key (counted as refused), the handler for a good key when its rate is 0 or Redis is
 * not configured. Finally the refresh against a PostgreSQL that is not there: nothing
 * loaded, requests get 503 (not 401), and auth_stop() frees it all (ASan checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../fcgi/auth.c"
#include "../../fcgi/http_status.c"

/* ---- stubs: a request, the worker, metrics ------------------------------------------------ */

struct req {
    const char *authorization; /* HTTP_AUTHORIZATION, or NULL */
    int status, handled;
    char code[32], www[64];
    req_hook abort_fn;
};

static struct cfg test_cfg;
static struct backends *test_backends;
static struct event_base *test_base;
static char test_worker; /* an address for the opaque struct worker */
static int refused_unauthorized, refused_limited;

struct worker *req_worker(struct req *r)
{
    (void)r;
    return (struct worker *)&test_worker;
}

const struct cfg *worker_cfg(const struct worker *w)
{
    (void)w;
    return &test_cfg;
}

struct backends *worker_backends(struct worker *w)
{
    (void)w;
    return test_backends;
}

struct event_base *worker_base(struct worker *w)
{
    (void)w;
    return test_base;
}

const char *req_param(const struct req *r, const char *name)
{
    return strcmp(name, "HTTP_AUTHORIZATION") == 0 ? r->authorization : NULL;
}

struct arena *req_arena(struct req *r)
{
    (void)r;
    return NULL; /* arena_calloc(NULL) is never reached by these cases */
}

const char *req_id(const struct req *r)
{
    (void)r;
    return "test";
}

void req_on_abort(struct req *r, req_hook fn, void *ud)
{
    (void)ud;
    r->abort_fn = fn;
}

void req_add_header(struct req *r, const char *name, const char *value)
{
    if (strcmp(name, "WWW-Authenticate") == 0)
        snprintf(r->www, sizeof r->www, "%s", value);
}

void req_set_principal(struct req *r, const char *name)
{
    (void)r;
    (void)name;
}

void req_reply_error(struct req *r, enum lx_err e, const char *fmt, ...)
{
    (void)fmt;
    struct http_err he = http_err_of(e);
    r->status = he.status;
    snprintf(r->code, sizeof r->code, "%s", he.code);
}

void req_reply_error_code(struct req *r, int status, const char *code, const char *fmt, ...)
{
    (void)fmt;
    r->status = status;
    snprintf(r->code, sizeof r->code, "%s", code);
}

void metrics_refused(const char *reason)
{
    refused_unauthorized += strcmp(reason, "unauthorized") == 0;
    refused_limited += strcmp(reason, "rate_limited") == 0;
}

static void handler(struct req *r)
{
    r->handled++;
    r->status = 200;
}

/* ---- keys --------------------------------------------------------------------------------- */

#define KEY_GOOD  "lxk_Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo"
#define KEY_OTHER "lxk_b3RoZXJrZXlvdGhlcmtleW90aGVya2V5b3RoZXJrZXk"

static void sha256(const char *s, unsigned char out[32])
{
    unsigned len = 0;
    assert_int_equal(EVP_Digest(s, strlen(s), out, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
}

/* The loaded set: KEY_GOOD (id 7, rate r_good) and KEY_OTHER (id 9, the config's rate). */
static void load_keys(long r_good)
{
    free(A.keys);
    A.keys = calloc(2, sizeof *A.keys);
    assert_non_null(A.keys);
    sha256(KEY_OTHER, A.keys[0].hash);
    A.keys[0].id = 9;
    A.keys[0].rate = -1;
    snprintf(A.keys[0].name, sizeof A.keys[0].name, "other");
    sha256(KEY_GOOD, A.keys[1].hash);
    A.keys[1].id = 7;
    A.keys[1].rate = r_good;
    snprintf(A.keys[1].name, sizeof A.keys[1].name, "good");
    A.nkeys = 2;
    A.loaded = 1;
}

static void unload_keys(void)
{
    free(A.keys);
    A.keys = NULL;
    A.nkeys = 0;
    A.loaded = 0;
    A.redis_failing = 0;
}

static int setup(void **state)
{
    (void)state;
    cfg_defaults(&test_cfg);
    test_cfg.auth_enabled = 1;
    test_backends = NULL;
    refused_unauthorized = refused_limited = 0;
    A.w = (struct worker *)&test_worker;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unload_keys();
    A.w = NULL;
    return 0;
}

/* ---- the header --------------------------------------------------------------------------- */

static const struct {
    int line;
    const char *in;
    const char *tok; /* NULL: malformed */
} bearer_cases[] = {
    {__LINE__, "Bearer abc", "abc"},
    {__LINE__, "bearer abc", "abc"},
    {__LINE__, "BEARER abc", "abc"},
    {__LINE__, "Bearer    abc", "abc"},
    {__LINE__, "Bearer\tabc", "abc"},
    {__LINE__, "Bearer abc  ", "abc"},
    {__LINE__, "Bearer abc\t", "abc"},
    {__LINE__, "Bearer " KEY_GOOD, KEY_GOOD},
    {__LINE__, "Bearer a-b_c.d~e+f/g==", "a-b_c.d~e+f/g=="},
    {__LINE__, "Bearer", NULL},
    {__LINE__, "Bearer ", NULL},
    {__LINE__, "Bearer   ", NULL},
    {__LINE__, "Bearerabc", NULL},
    {__LINE__, "Basic dXNlcjpwYXNz", NULL},
    {__LINE__, "Token abc", NULL},
    {__LINE__, "", NULL},
    {__LINE__, "Bearer abc def", NULL},       /* two tokens */
    {__LINE__, "Bearer abc, Bearer d", NULL}, /* two headers joined by the web server */
    {__LINE__, " Bearer abc", NULL},
};

static void test_bearer_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bearer_cases / sizeof bearer_cases[0]; i++) {
        const char *tok = NULL;
        unsigned len = 0;
        int rc = auth_parse_bearer(bearer_cases[i].in, &tok, &len);
        if (bearer_cases[i].tok == NULL) {
            if (rc != -1)
                fail_msg("line %d: \"%s\" accepted", bearer_cases[i].line, bearer_cases[i].in);
            continue;
        }
        if (rc != 0 || len != strlen(bearer_cases[i].tok) ||
            memcmp(tok, bearer_cases[i].tok, len) != 0)
            fail_msg("line %d: \"%s\" -> rc %d \"%.*s\"", bearer_cases[i].line, bearer_cases[i].in,
                     rc, rc == 0 ? (int)len : 0, rc == 0 ? tok : "");
    }
    const char *tok;
    unsigned len;
    assert_int_equal(auth_parse_bearer(NULL, &tok, &len), -1);
}

static void test_bearer_bounded(void **state)
{
    (void)state;
    char h[8 + AUTH_KEY_MAX_BYTES + 2];
    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'a', AUTH_KEY_MAX_BYTES);
    h[7 + AUTH_KEY_MAX_BYTES] = '\0';
    const char *tok;
    unsigned len;
    assert_int_equal(auth_parse_bearer(h, &tok, &len), 0); /* the longest token taken */
    assert_int_equal(len, AUTH_KEY_MAX_BYTES);
    h[7 + AUTH_KEY_MAX_BYTES] = 'a';
    h[8 + AUTH_KEY_MAX_BYTES] = '\0';
    assert_int_equal(auth_parse_bearer(h, &tok, &len), -1); /* one more: refused */
}

/* ---- routes, hex, look-up ----------------------------------------------------------------- */

static void test_required(void **state)
{
    (void)state;
    struct req r = {0};
    assert_true(auth_required(&r, "/api/search"));
    assert_true(auth_required(&r, "/api/chat"));
    assert_true(auth_required(&r, "/v1/chat/completions"));
    assert_true(auth_required(&r, "/api/conversations/"));
    assert_false(auth_required(&r, "/api/health"));
    assert_false(auth_required(&r, "/api/metrics"));
    assert_false(auth_required(&r, "/api/_test/echo"));
    test_cfg.auth_enabled = 0; /* the default: nothing needs a key */
    assert_false(auth_required(&r, "/api/search"));
    assert_false(auth_required(&r, "/v1/chat/completions"));
}

static void test_unhex(void **state)
{
    (void)state;
    unsigned char out[4];
    assert_int_equal(unhex("00ff7a10", out, 4), 0);
    assert_memory_equal(out, "\x00\xff\x7a\x10", 4);
    assert_int_equal(unhex("00FF7A10", out, 4), 0);
    assert_memory_equal(out, "\x00\xff\x7a\x10", 4);
    assert_int_equal(unhex("00ff7a1000", out, 4), -1); /* longer than the digest */
    assert_int_equal(unhex("00ff7a1", out, 4), -1);    /* shorter */
    assert_int_equal(unhex("00fg7a10", out, 4), -1);   /* not hex */
    assert_int_equal(unhex(" 0ff7a10", out, 4), -1);   /* no blanks, signs or 0x */
    assert_int_equal(unhex("0x0f7a10", out, 4), -1);
}

static void test_find_key(void **state)
{
    (void)state;
    load_keys(5);
    const struct auth_key *k = find_key(KEY_GOOD, sizeof KEY_GOOD - 1);
    assert_non_null(k);
    assert_int_equal(k->id, 7);
    assert_string_equal(k->name, "good");
    k = find_key(KEY_OTHER, sizeof KEY_OTHER - 1);
    assert_non_null(k);
    assert_int_equal(k->id, 9);
    assert_null(find_key(KEY_GOOD, sizeof KEY_GOOD - 2)); /* a prefix of a key is not it */
    assert_null(find_key("lxk_x", 5));
    assert_null(find_key("", 0));
    /* Every byte of the digest counts: a set entry differing from KEY_GOOD's digest in its
     * last byte, or its first, does not let KEY_GOOD in. */
    A.keys[1].hash[31] ^= 1;
    assert_null(find_key(KEY_GOOD, sizeof KEY_GOOD - 1));
    A.keys[1].hash[31] ^= 1;
    A.keys[1].hash[0] ^= 0x80;
    assert_null(find_key(KEY_GOOD, sizeof KEY_GOOD - 1));
    A.keys[1].hash[0] ^= 0x80;
    assert_non_null(find_key(KEY_GOOD, sizeof KEY_GOOD - 1));
}

/* ---- a request's way ---------------------------------------------------------------------- */

static void run(struct req *r, const char *authorization)
{
    memset(r, 0, sizeof *r);
    r->authorization = authorization;
    auth_then(r, handler);
}

static void test_not_loaded_is_503(void **state)
{
    (void)state;
    struct req r;
    run(&r, "Bearer " KEY_GOOD);
    assert_int_equal(r.status, 503);
    assert_string_equal(r.code, "unavailable");
    assert_int_equal(r.handled, 0);
    run(&r, NULL); /* not 401 either: the service cannot tell yet */
    assert_int_equal(r.status, 503);
    assert_int_equal(refused_unauthorized, 0);
}

static void test_unauthorized(void **state)
{
    (void)state;
    load_keys(0);
    static const char *const bad[] = {
        NULL,                         /* missing */
        "Basic dXNlcjpwYXNz",         /* another scheme */
        "Bearer",                     /* no token */
        "Bearer " KEY_GOOD " x",      /* malformed */
        "Bearer " KEY_GOOD "x",       /* unknown */
        "Bearer lxk_wrongwrongwrong", /* unknown */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct req r;
        run(&r, bad[i]);
        if (r.status != 401 || strcmp(r.code, "unauthorized") != 0 ||
            strncmp(r.www, "Bearer", 6) != 0 || r.handled != 0)
            fail_msg("case %zu (%s): status %d code %s WWW-Authenticate \"%s\" handled %d", i,
                     bad[i] ? bad[i] : "none", r.status, r.code, r.www, r.handled);
    }
    assert_int_equal(refused_unauthorized, (int)(sizeof bad / sizeof bad[0]));

    /* Revoked: the next refresh no longer has it. */
    struct req r;
    run(&r, "Bearer " KEY_GOOD);
    assert_int_equal(r.handled, 1);
    A.nkeys = 1; /* KEY_OTHER only (the set as a refresh without KEY_GOOD leaves it) */
    run(&r, "Bearer " KEY_GOOD);
    assert_int_equal(r.status, 401);
    assert_int_equal(r.handled, 0);
    run(&r, "Bearer " KEY_OTHER);
    assert_int_equal(r.handled, 1);
}

static void test_good_key_unlimited(void **state)
{
    (void)state;
    struct req r;
    load_keys(0); /* its own rate 0: no limit even though the config has one */
    test_cfg.auth_rate_per_min = 5;
    for (int i = 0; i < 20; i++) {
        run(&r, "Bearer " KEY_GOOD);
        assert_int_equal(r.handled, 1);
        assert_null(r.abort_fn); /* no Redis round trip to wait for */
    }
    /* The config's rate applies to KEY_OTHER, but without Redis nothing is counted. */
    for (int i = 0; i < 20; i++) {
        run(&r, "bearer " KEY_OTHER);
        assert_int_equal(r.handled, 1);
    }
    assert_int_equal(refused_limited, 0);
    assert_int_equal(refused_unauthorized, 0);
}

/* ---- the refresh without PostgreSQL -------------------------------------------------------- */

static void on_enough(evutil_socket_t fd, short what, void *ud)
{
    (void)fd;
    (void)what;
    event_base_loopexit(ud, NULL);
}

static void test_refresh_pg_down(void **state)
{
    (void)state;
    test_base = event_base_new();
    assert_non_null(test_base);
    struct backends b;
    memset(&b, 0, sizeof b);
    b.pg = pgc_pool_new(test_base, "host=127.0.0.1 port=1 dbname=lexrag connect_timeout=1", 1, 16);
    assert_non_null(b.pg);
    test_backends = &b;
    test_cfg.auth_refresh_ms = 100;
    auth_configure((struct worker *)&test_worker);
    struct event *stop = evtimer_new(test_base, on_enough, test_base);
    struct timeval tv = lx_tv_ms(350);
    evtimer_add(stop, &tv);
    event_base_dispatch(test_base);
    assert_false(A.loaded);
    struct req r;
    run(&r, "Bearer " KEY_GOOD);
    assert_int_equal(r.status, 503);

    test_cfg.auth_enabled = 0; /* a reload that turns it off stops the refresh */
    auth_configure((struct worker *)&test_worker);
    assert_null(A.timer);
    test_cfg.auth_enabled = 1;
    auth_configure((struct worker *)&test_worker); /* and on again, then the worker stops */
    assert_non_null(A.timer);
    auth_stop();
    assert_null(A.timer);
    assert_null(A.op);
    event_free(stop);
    pgc_pool_free(b.pg);
    test_backends = NULL;
    event_base_free(test_base);
    test_base = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bearer_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unhex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_loaded_is_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unauthorized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_good_key_unlimited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_pg_down, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
