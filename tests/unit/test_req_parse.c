/* tests/unit/test_req_parse.c -- the request bodies of POST /api/search, POST /api/chat and
 * POST /v1/chat/completions (fcgi/req_parse.c), as the handlers parse them: bodies that are not
 * JSON or not an object; for each endpoint, table cases with __LINE__ -- valid bodies and the
 * defaults they get, each bound and one past it, wrong types, null as absent, an unknown mode,
 * unknown filters, the order in which faults are named -- each rejection with its exact code,
 * field and message (the text the client gets); string bounds counted in characters at
 * 1..2000 (query, question), 8000 (a message), 16, 60, 64, 128 and the 100-message limit,
 * with multi-byte characters; UUIDs checked as libuuid reads them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <uuid/uuid.h>

#include "../../fcgi/req_parse.c"

#define OK      LX_OK
#define BADJSON LX_EBADJSON
#define INVAL   LX_EINVAL
/* A table row's outcome: accepted with these fields, or rejected naming field with msg (NULL:
 * any message naming it). */
/* clang-format off */
#define ACCEPT(...)        OK, "", NULL, {__VA_ARGS__}
#define REJECT(field, msg) INVAL, field, msg, {0}
/* clang-format on */

/* Parse text as a body of endpoint ep (0 search, 1 chat, 2 chat completions; chat.top_k 6). */
struct got {
    int rc;
    struct rp_err e;
    struct retr_params s;
    struct rp_chat c;
    json_t *body;
};

static void parse_text(const char *text, size_t n, int ep, struct got *g)
{
    memset(g, 0, sizeof *g);
    memset(&g->e, 0x5a, sizeof g->e); /* a failure must write every part */
    g->e.field = NULL;
    g->body = rp_body(text, n, &g->e);
    if (g->body == NULL) {
        g->rc = -1;
        return;
    }
    g->rc = ep == 0 ? rp_search(g->body, &g->s, &g->e) : rp_chat(g->body, ep == 2, 6, &g->c, &g->e);
}

static void got_free(struct got *g)
{
    json_decref(g->body);
    g->body = NULL;
}

/* The rejection as wanted; msg NULL: any message naming the field. */
static void check_err(int line, const struct got *g, enum lx_err code, const char *field,
                      const char *msg)
{
    if (g->rc == 0)
        fail_msg("case at line %d: accepted, want %s", line, field);
    if (g->e.code != code || g->e.field == NULL || strcmp(g->e.field, field) != 0)
        fail_msg("case at line %d: code %d field '%s' (%s), want %d '%s'", line, g->e.code,
                 g->e.field ? g->e.field : "(null)", g->e.msg, code, field);
    if (msg != NULL && strcmp(g->e.msg, msg) != 0)
        fail_msg("case at line %d: message\n  '%s', want\n  '%s'", line, g->e.msg, msg);
    if (code == INVAL && strstr(g->e.msg, field) == NULL)
        fail_msg("case at line %d: message '%s' does not name %s", line, g->e.msg, field);
}

static int str_is(const char *got, const char *want)
{
    return got == want || (got != NULL && want != NULL && strcmp(got, want) == 0);
}

/* ---- the body --------------------------------------------------------------------------- */

static const struct {
    int line;
    const char *text;
    size_t len; /* 0: strlen */
    enum lx_err code;
    const char *field, *msg;
} bodies[] = {
    {__LINE__, "", 0, BADJSON, "", "the request body is empty; a JSON object is expected"},
    {__LINE__, "   ", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": ", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": \"x\"} x", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": \"a\", \"query\": \"b\"}", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": \"a\\u0000b\"}", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": \"\xff\"}", 0, BADJSON, "", NULL},
    {__LINE__, "{\"query\": \"x\"}\0", 15, BADJSON, "", NULL},
    {__LINE__, "[{\"query\": \"x\"}]", 0, INVAL, "body", "the request body must be a JSON object"},
    {__LINE__, "[]", 0, INVAL, "body", "the request body must be a JSON object"},
    /* Jansson takes only an array or an object at the top */
    {__LINE__, "\"x\"", 0, BADJSON, "", NULL},
    {__LINE__, "null", 0, BADJSON, "", NULL},
    {__LINE__, "42", 0, BADJSON, "", NULL},
};

static void test_body(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct got g;
        size_t n = bodies[i].len ? bodies[i].len : strlen(bodies[i].text);
        parse_text(bodies[i].text, n, 0, &g);
        check_err(bodies[i].line, &g, bodies[i].code, bodies[i].field, bodies[i].msg);
        assert_null(g.body);
    }
    struct got g;
    parse_text("{\"query\": \"invalid\" ", 19, 0, &g);
    assert_int_equal(g.e.code, BADJSON);
    assert_non_null(strstr(g.e.msg, "invalid JSON at line 1 column"));
    got_free(&g);
    parse_text(" {\"query\": \"x\"} \n", 17, 0, &g);
    assert_int_equal(g.rc, 0);
    assert_string_equal(g.s.query, "x");
    got_free(&g);
}

/* ---- POST /api/search ------------------------------------------------------------------- */

static const struct {
    int line;
    const char *body;
    enum lx_err code; /* OK: accepted with the fields below */
    const char *field, *msg;
    struct {
        const char *query;
        long top_k;
        enum retr_mode mode;
        const char *doc_type, *doc_id;
        long year_min, year_max;
    } ok;
} search_cases[] = {
    /* valid, and the defaults */
    {__LINE__, "{\"query\": \"x\"}", ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"sanksi pidana korupsi\", \"top_k\": 3, \"mode\": \"bm25\"}",
     ACCEPT("sanksi pidana korupsi", 3, RETR_BM25, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"dense\"}", ACCEPT("x", 10, RETR_DENSE, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"hybrid\"}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__,
     "{\"query\": \"x\", \"filters\": {\"doc_type\": \"UU\", \"doc_id\": \"UU-31-1999\", "
     "\"year_min\": 1990, \"year_max\": 2024}}",
     ACCEPT("x", 10, RETR_HYBRID, "UU", "UU-31-1999", 1990, 2024)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": null, \"mode\": null, \"filters\": null}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"filters\": {}}", ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"doc_type\": null, \"year_max\": null}}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"extra\": [1, 2], \"stream\": \"ignored\"}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 0)},
    /* query */
    {__LINE__, "{}", REJECT("query", "query is required")},
    {__LINE__, "{\"query\": null}", REJECT("query", "query is required")},
    {__LINE__, "{\"top_k\": 3}", REJECT("query", "query is required")},
    {__LINE__, "{\"query\": 42}", REJECT("query", "query must be a string")},
    {__LINE__, "{\"query\": [\"x\"]}", REJECT("query", "query must be a string")},
    {__LINE__, "{\"query\": \"\"}",
     REJECT("query", "query must be 1 to 2000 characters long (got 0)")},
    /* top_k: 1..100 */
    {__LINE__, "{\"query\": \"x\", \"top_k\": 1}", ACCEPT("x", 1, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": 100}", ACCEPT("x", 100, RETR_HYBRID, 0, 0, 0, 0)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": 0}",
     REJECT("top_k", "top_k must be an integer from 1 to 100")},
    {__LINE__, "{\"query\": \"x\", \"top_k\": 101}",
     REJECT("top_k", "top_k must be an integer from 1 to 100")},
    {__LINE__, "{\"query\": \"x\", \"top_k\": -1}", REJECT("top_k", NULL)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": 9223372036854775807}", REJECT("top_k", NULL)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": 10.0}", REJECT("top_k", NULL)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": \"10\"}", REJECT("top_k", NULL)},
    {__LINE__, "{\"query\": \"x\", \"top_k\": true}", REJECT("top_k", NULL)},
    /* mode */
    {__LINE__, "{\"query\": \"x\", \"mode\": \"fast\"}",
     REJECT("mode", "mode must be hybrid, dense or bm25")},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"BM25\"}",
     REJECT("mode", "mode must be hybrid, dense or bm25")},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"\"}",
     REJECT("mode", "mode must be 1 to 16 characters long (got 0)")},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"hybridhybridhybri\"}",
     REJECT("mode", "mode must be 1 to 16 characters long (got 17)")},
    {__LINE__, "{\"query\": \"x\", \"mode\": 1}", REJECT("mode", "mode must be a string")},
    /* filters */
    {__LINE__, "{\"query\": \"x\", \"filters\": []}",
     REJECT("filters", "filters must be an object")},
    {__LINE__, "{\"query\": \"x\", \"filters\": \"UU\"}",
     REJECT("filters", "filters must be an object")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"doc_typ\": \"UU\"}}",
     REJECT("filters", "filters.doc_typ is not a filter (doc_type, doc_id, year_min, year_max)")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"doc_type\": 1}}",
     REJECT("doc_type", "doc_type must be a string")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"doc_type\": \"\"}}",
     REJECT("doc_type", "doc_type must be 1 to 16 characters long (got 0)")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"doc_id\": \"\"}}",
     REJECT("doc_id", "doc_id must be 1 to 60 characters long (got 0)")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_min\": 1, \"year_max\": 9999}}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 1, 9999)},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_min\": 0}}",
     REJECT("year_min", "year_min must be an integer from 1 to 9999")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_max\": 10000}}",
     REJECT("year_max", "year_max must be an integer from 1 to 9999")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_min\": \"2000\"}}",
     REJECT("year_min", NULL)},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_min\": 2000, \"year_max\": 2000}}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 2000, 2000)},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_min\": 2001, \"year_max\": 2000}}",
     REJECT("filters", "filters.year_min is after filters.year_max")},
    {__LINE__, "{\"query\": \"x\", \"filters\": {\"year_max\": 1990}}",
     ACCEPT("x", 10, RETR_HYBRID, 0, 0, 0, 1990)},
    /* several faults: the first in the order query, top_k, mode's type, filters, mode's value */
    {__LINE__, "{\"query\": 1, \"top_k\": 0}", REJECT("query", NULL)},
    {__LINE__, "{\"top_k\": 0, \"query\": \"x\", \"mode\": 3}", REJECT("top_k", NULL)},
    {__LINE__, "{\"query\": \"x\", \"mode\": 3, \"filters\": []}", REJECT("mode", NULL)},
    {__LINE__, "{\"query\": \"x\", \"mode\": \"fast\", \"filters\": []}", REJECT("filters", NULL)},
};

static void test_search(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof search_cases / sizeof search_cases[0]; i++) {
        const int line = search_cases[i].line;
        struct got g;
        parse_text(search_cases[i].body, strlen(search_cases[i].body), 0, &g);
        if (search_cases[i].code != OK) {
            check_err(line, &g, search_cases[i].code, search_cases[i].field, search_cases[i].msg);
            got_free(&g);
            continue;
        }
        if (g.rc != 0)
            fail_msg("case at line %d: rejected: %s", line, g.e.msg);
        if (!str_is(g.s.query, search_cases[i].ok.query) || g.s.top_k != search_cases[i].ok.top_k ||
            g.s.mode != search_cases[i].ok.mode ||
            !str_is(g.s.doc_type, search_cases[i].ok.doc_type) ||
            !str_is(g.s.doc_id, search_cases[i].ok.doc_id) ||
            g.s.year_min != search_cases[i].ok.year_min ||
            g.s.year_max != search_cases[i].ok.year_max)
            fail_msg("case at line %d: got query '%s' top_k %ld mode %d doc_type %s doc_id %s "
                     "years %ld..%ld",
                     line, g.s.query, g.s.top_k, (int)g.s.mode, g.s.doc_type ? g.s.doc_type : "-",
                     g.s.doc_id ? g.s.doc_id : "-", g.s.year_min, g.s.year_max);
        got_free(&g);
    }
}

/* ---- POST /api/chat, POST /v1/chat/completions ------------------------------------------ */

#define MSG(role, content) "{\"role\": \"" role "\", \"content\": \"" content "\"}"
#define UUID_A             "9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"

static const struct {
    int line;
    int openai;
    const char *body;
    enum lx_err code;
    const char *field, *msg;
    struct {
        const char *question, *conv, *model;
        long top_k, max_tokens;
        int stream, has_temp;
        double temp;
    } ok;
} chat_cases[] = {
    /* POST /api/chat: valid, and the defaults (chat.top_k is 6) */
    {__LINE__, 0, "{\"question\": \"x\"}", ACCEPT("x", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0,
     "{\"question\": \"Apa sanksinya?\", \"top_k\": 3, \"stream\": false, "
     "\"conversation_id\": \"" UUID_A "\"}",
     ACCEPT("Apa sanksinya?", UUID_A, 0, 3, 0, 0, 0, 0)},
    {__LINE__, 0,
     "{\"question\": \"x\", \"conversation_id\": \"9C3B2F4E-1A2B-4C3D-8E9F-0A1B2C3D4E5F\"}",
     ACCEPT("x", "9C3B2F4E-1A2B-4C3D-8E9F-0A1B2C3D4E5F", 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0,
     "{\"question\": \"x\", \"top_k\": null, \"stream\": null, \"conversation_id\": null}",
     ACCEPT("x", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0,
     "{\"question\": \"x\", \"model\": 5, \"temperature\": \"hot\", \"max_tokens\": 0}",
     ACCEPT("x", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": \"x\", \"top_k\": 1}", ACCEPT("x", 0, 0, 1, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": \"x\", \"top_k\": 20}", ACCEPT("x", 0, 0, 20, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": \"x\", \"top_k\": 0}",
     REJECT("top_k", "top_k must be an integer from 1 to 20")},
    {__LINE__, 0, "{\"question\": \"x\", \"top_k\": 21}",
     REJECT("top_k", "top_k must be an integer from 1 to 20")},
    {__LINE__, 0, "{\"question\": \"x\", \"top_k\": 2.5}", REJECT("top_k", NULL)},
    {__LINE__, 0, "{\"question\": \"x\", \"stream\": \"yes\"}",
     REJECT("stream", "stream must be true or false")},
    {__LINE__, 0, "{\"question\": \"x\", \"stream\": 1}", REJECT("stream", NULL)},
    {__LINE__, 0, "{\"top_k\": 3}", REJECT("question", "question is required")},
    {__LINE__, 0, "{\"question\": \"\"}",
     REJECT("question", "question must be 1 to 2000 characters long (got 0)")},
    {__LINE__, 0, "{\"question\": [\"x\"]}", REJECT("question", "question must be a string")},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": \"nope\"}",
     REJECT("conversation_id", "conversation_id must be a UUID")},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": \"\"}",
     REJECT("conversation_id", "conversation_id must be 1 to 64 characters long (got 0)")},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": 7}",
     REJECT("conversation_id", "conversation_id must be a string")},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": \"" UUID_A "0\"}",
     REJECT("conversation_id", "conversation_id must be a UUID")},
    {__LINE__, 0,
     "{\"question\": \"x\", \"conversation_id\": \"9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5g\"}",
     REJECT("conversation_id", "conversation_id must be a UUID")},
    /* the messages form */
    {__LINE__, 0, "{\"messages\": [" MSG("user", "berapa lama?") "]}",
     ACCEPT("berapa lama?", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0,
     "{\"messages\": [" MSG("system", "s") ", " MSG("user", "a") ", " MSG("assistant", "b") "]}",
     ACCEPT("a", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"messages\": [" MSG("user", "a") ", " MSG("user", "b") "], \"top_k\": 2}",
     ACCEPT("b", 0, 0, 2, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": \"q\", \"messages\": [" MSG("user", "m") "]}",
     ACCEPT("q", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": \"q\", \"messages\": 5}", ACCEPT("q", 0, 0, 6, 0, 1, 0, 0)},
    {__LINE__, 0, "{\"question\": null, \"messages\": [" MSG("user", "m") "]}",
     REJECT("question", "question is required")},
    {__LINE__, 0, "{\"messages\": []}",
     REJECT("messages", "messages must be an array of 1 to 100 messages")},
    {__LINE__, 0, "{\"messages\": {}}",
     REJECT("messages", "messages must be an array of 1 to 100 messages")},
    {__LINE__, 0, "{\"messages\": null}",
     REJECT("messages", "messages must be an array of 1 to 100 messages")},
    {__LINE__, 0, "{\"messages\": [{\"role\": \"user\"}]}",
     REJECT(
         "messages",
         "messages[0] must be {\"role\": user|assistant|system, \"content\": a string of at most "
         "8000 characters}")},
    {__LINE__, 0, "{\"messages\": [" MSG("user", "a") ", " MSG("robot", "b") "]}",
     REJECT("messages", NULL)},
    {__LINE__, 0, "{\"messages\": [" MSG("user", "a") ", \"b\"]}",
     REJECT(
         "messages",
         "messages[1] must be {\"role\": user|assistant|system, \"content\": a string of at most "
         "8000 characters}")},
    {__LINE__, 0, "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}",
     REJECT("messages", NULL)},
    {__LINE__, 0, "{\"messages\": [" MSG("assistant", "a") "]}",
     REJECT("messages", "the last user message of messages must be 1 to 2000 characters")},
    {__LINE__, 0, "{\"messages\": [" MSG("user", "a") ", " MSG("user", "") "]}",
     REJECT("messages", "the last user message of messages must be 1 to 2000 characters")},
    /* several faults: the question first, then top_k, stream, then the UUID */
    {__LINE__, 0, "{\"top_k\": 99, \"stream\": 1}", REJECT("question", NULL)},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": \"nope\", \"top_k\": 99}",
     REJECT("top_k", NULL)},
    {__LINE__, 0, "{\"question\": \"x\", \"conversation_id\": \"nope\", \"stream\": 1}",
     REJECT("stream", NULL)},
    /* POST /v1/chat/completions: stream off by default, model "lexrag", chat.top_k */
    {__LINE__, 1, "{\"messages\": [" MSG("user", "hi") "]}",
     ACCEPT("hi", 0, "lexrag", 6, 0, 0, 0, 0)},
    {__LINE__, 1,
     "{\"model\": \"gpt-4o\", \"messages\": [" MSG(
         "user", "hi") "], \"stream\": true, "
                       "\"temperature\": 0.2, \"max_tokens\": 256}",
     ACCEPT("hi", 0, "gpt-4o", 6, 256, 1, 1, 0.2)},
    {__LINE__, 1,
     "{\"question\": \"x\", \"top_k\": 99, \"conversation_id\": \"nope\", \"temperature\": null}",
     ACCEPT("x", 0, "lexrag", 6, 0, 0, 0, 0)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 0}",
     ACCEPT("x", 0, "lexrag", 6, 0, 0, 1, 0)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 2}",
     ACCEPT("x", 0, "lexrag", 6, 0, 0, 1, 2)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 2.0001}",
     REJECT("temperature", "temperature must be a number from 0 to 2")},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": -0.1}",
     REJECT("temperature", "temperature must be a number from 0 to 2")},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": \"1\"}", REJECT("temperature", NULL)},
    {__LINE__, 1, "{\"question\": \"x\", \"max_tokens\": 1}",
     ACCEPT("x", 0, "lexrag", 6, 1, 0, 0, 0)},
    {__LINE__, 1, "{\"question\": \"x\", \"max_tokens\": 1000000}",
     ACCEPT("x", 0, "lexrag", 6, 1000000, 0, 0, 0)},
    {__LINE__, 1, "{\"question\": \"x\", \"max_tokens\": 0}",
     REJECT("max_tokens", "max_tokens must be an integer from 1 to 1000000")},
    {__LINE__, 1, "{\"question\": \"x\", \"max_tokens\": 1000001}",
     REJECT("max_tokens", "max_tokens must be an integer from 1 to 1000000")},
    {__LINE__, 1, "{\"question\": \"x\", \"model\": \"\"}",
     REJECT("model", "model must be 1 to 128 characters long (got 0)")},
    {__LINE__, 1, "{\"question\": \"x\", \"model\": null}",
     ACCEPT("x", 0, "lexrag", 6, 0, 0, 0, 0)},
    {__LINE__, 1, "{\"question\": \"x\", \"model\": [\"m\"]}",
     REJECT("model", "model must be a string")},
    {__LINE__, 1, "{\"question\": \"x\", \"stream\": \"true\"}",
     REJECT("stream", "stream must be true or false")},
    {__LINE__, 1, "{\"messages\": []}",
     REJECT("messages", "messages must be an array of 1 to 100 messages")},
    {__LINE__, 1, "{\"model\": \"m\"}", REJECT("question", "question is required")},
    /* several faults: the question, then model, stream, max_tokens, temperature */
    {__LINE__, 1, "{\"model\": \"\", \"messages\": []}", REJECT("messages", NULL)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 9, \"model\": \"\"}",
     REJECT("model", NULL)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 9, \"max_tokens\": 0, \"stream\": 0}",
     REJECT("stream", NULL)},
    {__LINE__, 1, "{\"question\": \"x\", \"temperature\": 9, \"max_tokens\": 0}",
     REJECT("max_tokens", NULL)},
};

static void test_chat(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof chat_cases / sizeof chat_cases[0]; i++) {
        const int line = chat_cases[i].line;
        struct got g;
        parse_text(chat_cases[i].body, strlen(chat_cases[i].body), 1 + chat_cases[i].openai, &g);
        if (chat_cases[i].code != OK) {
            check_err(line, &g, chat_cases[i].code, chat_cases[i].field, chat_cases[i].msg);
            got_free(&g);
            continue;
        }
        if (g.rc != 0)
            fail_msg("case at line %d: rejected: %s", line, g.e.msg);
        if (!str_is(g.c.question, chat_cases[i].ok.question) ||
            !str_is(g.c.conversation_id, chat_cases[i].ok.conv) ||
            !str_is(g.c.model, chat_cases[i].ok.model) || g.c.top_k != chat_cases[i].ok.top_k ||
            g.c.max_tokens != chat_cases[i].ok.max_tokens ||
            g.c.stream != chat_cases[i].ok.stream ||
            g.c.has_temperature != chat_cases[i].ok.has_temp ||
            g.c.temperature != chat_cases[i].ok.temp)
            fail_msg("case at line %d: got question '%s' conversation %s model %s top_k %ld "
                     "max_tokens %ld stream %d temperature %d/%g",
                     line, g.c.question, g.c.conversation_id ? g.c.conversation_id : "-",
                     g.c.model ? g.c.model : "-", g.c.top_k, g.c.max_tokens, g.c.stream,
                     g.c.has_temperature, g.c.temperature);
        got_free(&g);
    }
}

/* ---- string bounds, in characters ------------------------------------------------------- */

/* s repeated n times (unit: one character, maybe several bytes); the caller frees. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* The body written by Jansson from a json_pack() format, parsed for endpoint ep. */
static void parse_json(json_t *j, int ep, struct got *g)
{
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    json_decref(j);
    parse_text(text, strlen(text), ep, g);
    free(text);
}

static const struct {
    int line;
    int ep;
    const char *key; /* where the string goes (a filter when it starts with "filters.") */
    size_t min, max;
} bounds[] = {
    {__LINE__, 0, "query", 1, 2000},         {__LINE__, 0, "filters.doc_type", 1, 16},
    {__LINE__, 0, "filters.doc_id", 1, 60},  {__LINE__, 1, "question", 1, 2000},
    {__LINE__, 1, "conversation_id", 1, 64}, /* the length is checked before the UUID */
    {__LINE__, 2, "question", 1, 2000},      {__LINE__, 2, "model", 1, 128},
};

static void test_string_bounds(void **state)
{
    (void)state;
    static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const char *key = bounds[i].key, *field = key;
        int filter = strncmp(key, "filters.", 8) == 0;
        if (filter)
            field = key + 8;
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
            size_t lens[] = {bounds[i].min - 1, bounds[i].min, bounds[i].max, bounds[i].max + 1};
            for (size_t k = 0; k < 4; k++) {
                char *s = repeat(units[u], lens[k]);
                const char *base = bounds[i].ep == 0 ? "query" : "question";
                json_t *j = filter ? json_pack("{s:s,s:{s:s}}", base, "x", "filters", field, s)
                            : strcmp(key, base) == 0 ? json_pack("{s:s}", base, s)
                                                     : json_pack("{s:s,s:s}", base, "x", key, s);
                struct got g;
                parse_json(j, bounds[i].ep, &g);
                int in = lens[k] >= bounds[i].min && lens[k] <= bounds[i].max;
                if (strcmp(key, "conversation_id") == 0 && in) {
                    /* within the length, not a UUID */
                    check_err(bounds[i].line, &g, INVAL, field, "conversation_id must be a UUID");
                } else if (in) {
                    if (g.rc != 0)
                        fail_msg("case at line %d: %zu x '%s' rejected: %s", bounds[i].line,
                                 lens[k], units[u], g.e.msg);
                } else {
                    char want[200];
                    snprintf(want, sizeof want, "%s must be %zu to %zu characters long (got %zu)",
                             field, bounds[i].min, bounds[i].max, lens[k]);
                    check_err(bounds[i].line, &g, INVAL, field, want);
                }
                got_free(&g);
                free(s);
            }
        }
    }
}

/* messages: 1..100 of them, each at most 8000 characters; the question (the last user
 * message) 1..2000. */
static void test_message_bounds(void **state)
{
    (void)state;
    static const struct {
        int line;
        size_t count, content_chars, last_chars;
        enum lx_err code;
    } cases[] = {
        {__LINE__, 1, 1, 1, OK},          {__LINE__, 100, 10, 10, OK},
        {__LINE__, 101, 10, 10, INVAL},   {__LINE__, 2, 8000, 2000, OK},
        {__LINE__, 2, 8001, 2000, INVAL}, {__LINE__, 2, 10, 2001, INVAL},
        {__LINE__, 1, 1, 8000, INVAL},    {__LINE__, 1, 1, 8001, INVAL},
    };
    for (int ep = 1; ep <= 2; ep++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            json_t *msgs = json_array();
            char *content = repeat("\xc3\xa9", cases[i].content_chars);
            char *last = repeat("x", cases[i].last_chars);
            for (size_t k = 0; k + 1 < cases[i].count; k++)
                json_array_append_new(msgs,
                                      json_pack("{s:s,s:s}", "role", k % 2 ? "user" : "assistant",
                                                "content", content));
            json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", last));
            struct got g;
            parse_json(json_pack("{s:o}", "messages", msgs), ep, &g);
            if (cases[i].code == OK) {
                if (g.rc != 0)
                    fail_msg("case at line %d: rejected: %s", cases[i].line, g.e.msg);
                assert_string_equal(g.c.question, last);
            } else {
                check_err(cases[i].line, &g, INVAL, "messages", NULL);
            }
            got_free(&g);
            free(content);
            free(last);
        }
    }
}

/* ---- the pieces ------------------------------------------------------------------------- */

static void test_uuid(void **state)
{
    (void)state;
    static const char *const in[] = {
        UUID_A,
        "9C3B2F4E-1A2B-4C3D-8E9F-0A1B2C3D4E5F",
        "00000000-0000-0000-0000-000000000000",
        "",
        "nope",
        "9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5",
        "9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f0",
        "9c3b2f4e1a2b-4c3d-8e9f-0a1b2c3d4e5f0",
        "9c3b2f4e-1a2b-4c3d-8e9f_0a1b2c3d4e5f",
        "9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5g",
        "{c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        " 9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5",
        "9c3b2f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5\xc3",
        "------------------------------------",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uuid_t u;
        int want = strlen(in[i]) == 36 && uuid_parse(in[i], u) == 0;
        if (rp_uuid_valid(in[i]) != want)
            fail_msg("'%s': %d, libuuid says %d", in[i], rp_uuid_valid(in[i]), want);
    }
    assert_true(rp_uuid_valid(UUID_A));
    assert_false(rp_uuid_valid("nope"));
}

static void test_pieces(void **state)
{
    (void)state;
    enum retr_mode m = RETR_BM25;
    assert_int_equal(rp_mode("hybrid", &m), 0);
    assert_int_equal(m, RETR_HYBRID);
    assert_int_equal(rp_mode("dense", &m), 0);
    assert_int_equal(m, RETR_DENSE);
    assert_int_equal(rp_mode("bm25", &m), 0);
    assert_int_equal(m, RETR_BM25);
    assert_int_equal(rp_mode("", &m), -1);
    assert_int_equal(rp_mode("hybrid ", &m), -1);
    assert_int_equal(m, RETR_BM25);

    assert_int_equal(rp_utf8_chars(""), 0);
    assert_int_equal(rp_utf8_chars("abc"), 3);
    assert_int_equal(rp_utf8_chars("\xc3\xa9t\xc3\xa9"), 3);
    assert_int_equal(rp_utf8_chars("\xf0\x9f\x98\x80"), 1);

    /* a field's default when absent, null or given */
    json_t *o = json_pack("{s:n,s:i,s:b}", "a", "b", 7, "c", 0);
    struct rp_err e;
    long v = 0;
    int b = 5;
    const char *s = "set";
    assert_int_equal(rp_int(o, "a", 0, 1, 9, 4, &v, &e), 0);
    assert_int_equal(v, 4);
    assert_int_equal(rp_int(o, "zz", 0, 1, 9, 3, &v, &e), 0);
    assert_int_equal(v, 3);
    assert_int_equal(rp_int(o, "b", 1, 1, 9, 3, &v, &e), 0);
    assert_int_equal(v, 7);
    assert_int_equal(rp_int(o, "b", 1, 8, 9, 3, &v, &e), -1);
    assert_string_equal(e.field, "b");
    assert_int_equal(rp_int(o, "a", 1, 1, 9, 3, &v, &e), -1);
    assert_string_equal(e.msg, "a is required");
    assert_int_equal(rp_bool(o, "a", 1, &b, &e), 0);
    assert_int_equal(b, 1);
    assert_int_equal(rp_bool(o, "c", 1, &b, &e), 0);
    assert_int_equal(b, 0);
    assert_int_equal(rp_bool(o, "b", 1, &b, &e), -1);
    assert_string_equal(e.msg, "b must be true or false");
    assert_int_equal(rp_string(o, "a", 0, 1, 9, &s, &e), 0);
    assert_null(s);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body),           cmocka_unit_test(test_search),
        cmocka_unit_test(test_chat),           cmocka_unit_test(test_string_bounds),
        cmocka_unit_test(test_message_bounds), cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
