/* tests/unit/test_up_multi.c -- libcurl multi on libevent (shared/up_multi.c) against the mock
 * OpenAI server (tests/fakes/mock_openai.c): a POST and its body, 100 POSTs at once sharing the
 * latency, timeouts (a hanging server; a host that never answers the SYN), HTTP 500 and 401,
 * connection refused, cancel (before, during, and from inside the data callback: no callback,
 * and the server sees the client go), streaming bytes arriving over time, a data callback that
 * aborts, and up_multi_free with calls in flight. Needs LX_TEST_MOCK_URL (the mock's base URL;
 * tests/web/test_adapters.sh starts the mock and sets it); every test skips without it. */
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
#include "../../shared/up_multi.c"
#include "evloop_test.h"

#define EMBED_BODY "{\"model\": \"mock-embed\", \"input\": \"pasal dua ayat satu\"}"
#define CHAT_BODY                                                                                  \
    "{\"model\": \"mock-chat\", \"stream\": true, \"messages\": [{\"role\": \"user\", "            \
    "\"content\": \"apa isi pasal dua\"}]}"
#define MAX_CHUNKS 256

static struct event_base *base;
static const char *mock; /* base URL */
static int ndone;

struct call {
    int calls;
    enum lx_err err;
    long status;
    char *body;
    size_t len;
    char msg[CURL_ERROR_SIZE + 64];
    double at_ms;
    /* streaming */
    int chunks, abort_at, cancel_at;
    struct up_call *self;
    double chunk_ms[MAX_CHUNKS];
    char *stream;
    size_t stream_len;
};

static void call_clear(struct call *c)
{
    free(c->body);
    free(c->stream);
    memset(c, 0, sizeof *c);
}

static void on_done(void *ud, enum lx_err err, long status, const char *body, size_t len,
                    const char *errmsg)
{
    struct call *c = ud;
    c->calls++;
    c->err = err;
    c->status = status;
    c->at_ms = mono_ms();
    assert_non_null(body);
    assert_int_equal(body[len], '\0');
    free(c->body);
    c->body = malloc(len + 1);
    memcpy(c->body, body, len + 1);
    c->len = len;
    snprintf(c->msg, sizeof c->msg, "%s", errmsg ? errmsg : "");
    assert_true(err == LX_OK ? errmsg == NULL : errmsg != NULL);
    ndone++;
}

static int on_data(void *ud, const char *p, size_t n)
{
    struct call *c = ud;
    if (c->chunks < MAX_CHUNKS)
        c->chunk_ms[c->chunks] = mono_ms();
    c->chunks++;
    char *s = realloc(c->stream, c->stream_len + n + 1);
    assert_non_null(s);
    memcpy(s + c->stream_len, p, n);
    c->stream = s;
    c->stream_len += n;
    c->stream[c->stream_len] = '\0';
    if (c->cancel_at != 0 && c->chunks == c->cancel_at)
        up_cancel(c->self); /* inside a libcurl callback: deferred by the adapter */
    return c->abort_at != 0 && c->chunks >= c->abort_at;
}

/* ---- the mock's control endpoints, blocking (the test's own business) ------------------- */

static size_t keep_body(char *p, size_t sz, size_t n, void *ud)
{
    char *out = ud;
    size_t have = strlen(out), add = sz * n;
    if (have + add >= 4096)
        add = 4095 - have;
    memcpy(out + have, p, add);
    out[have + add] = '\0';
    return sz * n;
}

/* method path [body]: the HTTP status (0 if no answer); the body (up to 4 KiB) in out. */
static long mock_req(const char *method, const char *path, const char *body, char out[4096])
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", mock, path);
    out[0] = '\0';
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    return status;
}

static void control(const char *json)
{
    char out[4096];
    long st = mock_req("POST", "/_control", json, out);
    if (st != 200)
        fail_msg("mock /_control %s: HTTP %ld %s", json, st, out);
}

/* A counter of GET /_stats. */
static long stat_of(const char *name)
{
    char out[4096], key[128];
    assert_int_equal(mock_req("GET", "/_stats", NULL, out), 200);
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *p = strstr(out, key);
    if (p == NULL)
        fail_msg("no %s in /_stats: %s", name, out);
    return strtol(p + strlen(key), NULL, 10);
}

/* ---- fixtures --------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    log_set_level(getenv("LX_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
    return evloop_setup(&base, &ndone, "an up_multi test");
}

static int teardown(void **state)
{
    (void)state;
    watchdog_disarm();
    if (mock != NULL) { /* leave the mock as found */
        char out[4096];
        mock_req("POST", "/_control", "{\"defaults\": true}", out);
        mock_req("POST", "/_reset", "", out);
    }
    event_base_free(base);
    base = NULL;
    return 0;
}

#define NEED_MOCK()                                                                                \
    do {                                                                                           \
        if ((mock = env_or_null("LX_TEST_MOCK_URL")) == NULL)                                      \
            SKIP_TEST("LX_TEST_MOCK_URL is not set (tests/web/test_adapters.sh sets it)");         \
        control("{\"defaults\": true, \"embed_latency_ms\": 0}");                                  \
    } while (0)

static struct up_call *post(struct up_multi *m, const char *path, const char *body,
                            unsigned timeout_ms, int stream, struct call *c)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", mock, path);
    struct up_call *uc =
        up_post(m, url, NULL, body, strlen(body), timeout_ms, stream ? on_data : NULL, on_done, c);
    assert_non_null(uc);
    assert_int_equal(c->calls, 0); /* never inside up_post() */
    c->self = uc;
    return uc;
}

static void post_wait(struct up_multi *m, const char *path, const char *body, unsigned timeout_ms,
                      struct call *c)
{
    post(m, path, body, timeout_ms, 0, c);
    assert_int_equal(run_until(base, &c->calls, 1, 10000), 0);
    run_for(base, 0);
    assert_int_equal(c->calls, 1);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_post(void **state)
{
    (void)state;
    NEED_MOCK();
    struct up_multi *m = up_multi_new(base);
    assert_non_null(m);
    struct call c = {0};
    post_wait(m, "/v1/embeddings", EMBED_BODY, 5000, &c);
    assert_int_equal(c.err, LX_OK);
    assert_int_equal(c.status, 200);
    assert_true(c.len > 100);
    assert_int_equal(strlen(c.body), c.len);
    assert_non_null(strstr(c.body, "\"embedding\""));
    assert_int_equal(up_in_flight(m), 0);

    /* A second call reuses the connection; a body with NUL bytes is sent whole (the mock
     * rejects it as JSON: 400, with the reason in the body). */
    call_clear(&c);
    char url[512];
    snprintf(url, sizeof url, "%s/v1/embeddings", mock);
    static const char nul_body[] = "{\"model\": \"mock-embed\", \"input\": \"a\0b\"}";
    up_post(m, url, "sk-whatever", nul_body, sizeof nul_body - 1, 5000, NULL, on_done, &c);
    assert_int_equal(run_until(base, &c.calls, 1, 5000), 0);
    print_message("# a body with a NUL byte: HTTP %ld %.80s\n", c.status, c.body);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.status, 400);
    call_clear(&c);
    up_multi_free(m);
}

static void test_concurrency(void **state)
{
    (void)state;
    NEED_MOCK();
    enum { N = 100, LATENCY_MS = 300 };
    control("{\"embed_latency_ms\": 300}");
    struct up_multi *m = up_multi_new(base);
    static struct call c[N];
    memset(c, 0, sizeof c);
    double t0 = mono_ms();
    for (int i = 0; i < N; i++)
        post(m, "/v1/embeddings", EMBED_BODY, 10000, 0, &c[i]);
    assert_int_equal(up_in_flight(m), N);
    assert_int_equal(run_until(base, &ndone, N, 20000), 0);
    double took = mono_ms() - t0;
    long max_in_flight = stat_of("max_in_flight");
    print_message("# %d POSTs with %d ms latency: %.0f ms (serial: %d ms); the mock saw %ld at "
                  "once\n",
                  N, LATENCY_MS, took, N * LATENCY_MS, max_in_flight);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c[i].err, LX_OK);
        assert_int_equal(c[i].status, 200);
        call_clear(&c[i]);
    }
    assert_int_equal(up_in_flight(m), 0);
    assert_true(took >= LATENCY_MS);
    assert_true(took < 3000); /* 64 connections per host: two rounds, not a hundred */
    assert_true(max_in_flight >= 32);
    up_multi_free(m);
}

static void test_timeout(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"hang_embeddings\": true}");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    double t0 = mono_ms();
    post_wait(m, "/v1/embeddings", EMBED_BODY, 300, &c);
    print_message("# a hanging server, 300 ms timeout: %s after %.0f ms (%s)\n", lx_strerror(c.err),
                  c.at_ms - t0, c.msg);
    assert_int_equal(c.err, LX_ETIMEOUT);
    assert_true(c.at_ms - t0 >= 290 && c.at_ms - t0 < 800);
    call_clear(&c);
    control("{\"hang_embeddings\": false}");
    post_wait(m, "/v1/embeddings", EMBED_BODY, 2000, &c); /* still usable */
    assert_int_equal(c.err, LX_OK);
    call_clear(&c);
    up_multi_free(m);
}

static void test_http_errors(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"error_rate\": 1.0, \"error_status\": 500}");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    post_wait(m, "/v1/embeddings", EMBED_BODY, 2000, &c);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.status, 500);
    assert_non_null(strstr(c.body, "error")); /* the body comes along */
    assert_true(c.msg[0] != '\0');
    call_clear(&c);

    control("{\"error_status\": 429}");
    post_wait(m, "/v1/embeddings", EMBED_BODY, 2000, &c);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.status, 429);
    call_clear(&c);

    control("{\"error_rate\": 0.0}");
    post_wait(m, "/v1/nowhere", EMBED_BODY, 2000, &c);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.status, 404);
    call_clear(&c);
    up_multi_free(m);
}

static void test_refused(void **state)
{
    (void)state;
    NEED_MOCK();
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/embeddings", closed_port());
    double t0 = mono_ms();
    up_post(m, url, NULL, EMBED_BODY, strlen(EMBED_BODY), 5000, NULL, on_done, &c);
    assert_int_equal(run_until(base, &c.calls, 1, 5000), 0);
    print_message("# connection refused: %s after %.1f ms: %s\n", lx_strerror(c.err), c.at_ms - t0,
                  c.msg);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.status, 0);
    assert_true(c.at_ms - t0 < 200);
    assert_non_null(strstr(c.msg, "onnect")); /* curl's own words */
    call_clear(&c);
    up_multi_free(m);
}

/* A host that never answers the SYN: the loop goes on, the call times out at its deadline. */
static void test_connect_blackhole(void **state)
{
    (void)state;
    NEED_MOCK();
    int fds[2];
    int port = blackhole_port(fds);
    if (port < 0)
        SKIP_TEST("the kernel completes connects to a full backlog here");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/embeddings", port);
    int fired = 0;
    struct event *t = evtimer_new(base, evt_set_flag, &fired);
    struct timeval tv = tv_ms(50);
    evtimer_add(t, &tv);
    double t0 = mono_ms();
    up_post(m, url, NULL, EMBED_BODY, strlen(EMBED_BODY), 300, NULL, on_done, &c);
    assert_int_equal(run_until(base, &fired, 1, 2000), 0);
    assert_true(mono_ms() - t0 < 200);
    assert_int_equal(run_until(base, &c.calls, 1, 3000), 0);
    assert_int_equal(c.err, LX_ETIMEOUT);
    assert_true(c.at_ms - t0 >= 290 && c.at_ms - t0 < 800);
    event_free(t);
    call_clear(&c);
    up_multi_free(m);
    close(fds[1]);
    close(fds[0]);
}

static void test_cancel(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"embed_latency_ms\": 300}");
    struct up_multi *m = up_multi_new(base);
    struct call a = {0}, b = {0}, ok = {0};
    up_cancel(post(m, "/v1/embeddings", EMBED_BODY, 5000, 0, &a)); /* before the loop ran */
    struct up_call *uc = post(m, "/v1/embeddings", EMBED_BODY, 5000, 0, &b);
    run_for(base, 100); /* b is at the server, waiting */
    assert_int_equal(stat_of("in_flight"), 1);
    up_cancel(uc);
    up_cancel(uc); /* twice is harmless while it has not been reaped */
    up_cancel(NULL);
    run_for(base, 100);
    assert_int_equal(up_in_flight(m), 0);
    assert_int_equal(stat_of("embeddings_cancelled"), 1); /* the server saw b's client go */
    run_for(base, 300);
    post_wait(m, "/v1/embeddings", EMBED_BODY, 5000, &ok);
    assert_int_equal(ok.err, LX_OK);
    assert_int_equal(a.calls + b.calls, 0);
    assert_int_equal(ndone, 1);
    call_clear(&ok);
    up_multi_free(m);
}

static void test_stream(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"chat_first_token_ms\": 100, \"chat_token_interval_ms\": 50, \"chat_tokens\": 8}");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    double t0 = mono_ms();
    post(m, "/v1/chat/completions", CHAT_BODY, 5000, 1, &c);
    assert_int_equal(run_until(base, &c.calls, 1, 5000), 0);
    assert_int_equal(c.err, LX_OK);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.len, 0); /* the bytes went to the data callback */
    int n = c.chunks < MAX_CHUNKS ? c.chunks : MAX_CHUNKS;
    print_message("# stream: %d chunks, %zu bytes, first at %.0f ms, last at %.0f ms\n", c.chunks,
                  c.stream_len, c.chunk_ms[0] - t0, c.chunk_ms[n - 1] - t0);
    assert_true(c.chunks >= 5);
    assert_true(c.chunk_ms[0] - t0 >= 90);
    assert_true(c.chunk_ms[n - 1] - c.chunk_ms[0] >= 300); /* over time, not at once */
    assert_non_null(strstr(c.stream, "data: "));
    assert_non_null(strstr(c.stream, "Jawaban"));
    assert_non_null(strstr(c.stream, "data: [DONE]"));
    call_clear(&c);
    up_multi_free(m);
}

/* The data callback says stop: the call ends at once, as an error. */
static void test_stream_abort(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"chat_first_token_ms\": 20, \"chat_token_interval_ms\": 100, \"chat_tokens\": 20}");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0};
    c.abort_at = 2;
    double t0 = mono_ms();
    post(m, "/v1/chat/completions", CHAT_BODY, 5000, 1, &c);
    assert_int_equal(run_until(base, &c.calls, 1, 5000), 0);
    print_message("# data callback aborting at chunk 2: %s after %.0f ms: %s\n", lx_strerror(c.err),
                  c.at_ms - t0, c.msg);
    assert_int_equal(c.err, LX_EUPSTREAM);
    assert_int_equal(c.chunks, 2);
    assert_true(c.at_ms - t0 < 1000); /* not after all 20 tokens (2 s) */
    run_for(base, 100);
    assert_int_equal(stat_of("chat_streams_cancelled"), 1);
    call_clear(&c);
    up_multi_free(m);
}

/* up_cancel from inside the data callback (inside libcurl): no more data, no done. */
static void test_cancel_in_data_callback(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"chat_first_token_ms\": 20, \"chat_token_interval_ms\": 50, \"chat_tokens\": 20}");
    struct up_multi *m = up_multi_new(base);
    struct call c = {0}, ok = {0};
    c.cancel_at = 2;
    post(m, "/v1/chat/completions", CHAT_BODY, 5000, 1, &c);
    run_for(base, 1500);
    assert_int_equal(c.chunks, 2);
    assert_int_equal(c.calls, 0);
    assert_int_equal(up_in_flight(m), 0);
    assert_int_equal(stat_of("chat_streams_cancelled"), 1);
    post_wait(m, "/v1/embeddings", EMBED_BODY, 5000, &ok);
    assert_int_equal(ok.err, LX_OK);
    call_clear(&c);
    call_clear(&ok);
    up_multi_free(m);
}

static void test_free_pending(void **state)
{
    (void)state;
    NEED_MOCK();
    control("{\"hang_embeddings\": true}");
    struct up_multi *m = up_multi_new(base);
    struct call c[3] = {{0}};
    for (int i = 0; i < 3; i++)
        post(m, "/v1/embeddings", EMBED_BODY, 5000, 0, &c[i]);
    struct call gone = {0};
    up_cancel(post(m, "/v1/embeddings", EMBED_BODY, 5000, 0, &gone));
    run_for(base, 100);
    assert_int_equal(ndone, 0);
    up_multi_free(m);
    assert_int_equal(ndone, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].err, LX_ECANCELED);
        call_clear(&c[i]);
    }
    assert_int_equal(gone.calls, 0);
    run_for(base, 50); /* nothing of the multi is left on the loop */
    assert_int_equal(ndone, 3);
    up_multi_free(NULL);
}

int main(void)
{
    if (skip_all("LX_TEST_MOCK_URL"))
        return 0;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_post, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_blackhole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_in_data_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_pending, setup, teardown),
    };
    return cmocka_run_group_tests_name("up_multi", tests, NULL, NULL);
}
