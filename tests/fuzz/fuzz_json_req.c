/* tests/fuzz/fuzz_json_req.c -- libFuzzer harness for the request bodies of POST /api/search,
 * POST /api/chat and POST /v1/chat/completions (fcgi/req_parse.c), as the handlers parse them.
 * The first input byte picks the endpoint (byte % 3: search, chat, chat completions) and, for
 * the chat endpoints, the configured chat.top_k (byte / 3 % 3: 1, 6 or 20); the rest is the
 * body. Checked:
 *   - a rejection is invalid_json (no field) or invalid_argument with a non-empty message that
 *     names its field;
 *   - an accepted body is a JSON object and every field is within the contract's bounds: query
 *     and question 1..2000 characters without NUL, top_k 1..100 (search) or 1..20 (chat), mode
 *     one of three, filters within theirs (year_min <= year_max), messages 1..100 of the three
 *     roles with at most 8000 characters each and the question their last user message,
 *     conversation_id a UUID as libuuid reads one, stream a boolean, model 1..128 characters,
 *     max_tokens, temperature within theirs; strings handed out are the body's own;
 *   - the body written back by Jansson and parsed again gives the same answer (or the same
 *     error);
 *   - rp_uuid_valid() agrees with libuuid's uuid_parse() on the input as a string.
 * ASan and UBSan watch all of it, and leaks: every body is released.
 *
 *   make fuzz      (builds build/fuzz/fuzz_json_req; tests/fuzz/test_fuzz.sh runs it in make check)
 *   build/fuzz/fuzz_json_req -dict=tests/fuzz/fuzz_json_req.dict -max_total_time=60 CORPUS
 *
 * (Debian 12: clang 14 needs libclang-rt-14-dev for -fsanitize=fuzzer.) */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../../fcgi/req_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { EP_SEARCH, EP_CHAT, EP_OPENAI };

/* A string of min..max characters with no NUL, or NULL when allowed. */
static void check_str(const char *s, int may_be_null, size_t min, size_t max)
{
    if (s == NULL) {
        if (!may_be_null)
            abort();
        return;
    }
    size_t chars = rp_utf8_chars(s);
    if (chars < min || chars > max)
        abort();
}

/* The body's own string at key (borrowed, so the same pointer). */
static void check_borrowed(json_t *o, const char *key, const char *s)
{
    json_t *v = json_object_get(o, key);
    if (s != json_string_value(v) || json_string_length(v) != strlen(s))
        abort();
}

static void check_err(const struct rp_err *e)
{
    if (e->field == NULL || e->msg[0] == '\0' || memchr(e->msg, '\0', sizeof e->msg) == NULL)
        abort();
    if (e->code == LX_EBADJSON) {
        if (e->field[0] != '\0')
            abort();
    } else if (e->code != LX_EINVAL || e->field[0] == '\0' || strstr(e->msg, e->field) == NULL) {
        abort();
    }
}

static void check_search(json_t *body, const struct retr_params *p)
{
    check_str(p->query, 0, 1, LX_RETR_QUERY_MAX_CHARS);
    check_borrowed(body, "query", p->query);
    if (p->top_k < 1 || p->top_k > LX_RETR_TOP_K_MAX)
        abort();
    if (p->mode != RETR_HYBRID && p->mode != RETR_DENSE && p->mode != RETR_BM25)
        abort();
    json_t *f = json_object_get(body, "filters");
    check_str(p->doc_type, 1, 1, 16);
    check_str(p->doc_id, 1, 1, 60);
    if (p->doc_type != NULL)
        check_borrowed(f, "doc_type", p->doc_type);
    if (p->doc_id != NULL)
        check_borrowed(f, "doc_id", p->doc_id);
    if (p->year_min < 0 || p->year_min > 9999 || p->year_max < 0 || p->year_max > 9999 ||
        (p->year_min && p->year_max && p->year_min > p->year_max))
        abort();
    if (f != NULL && !json_is_null(f) && json_object_size(f) > 4)
        abort();
}

static void check_chat(json_t *body, int openai, long def_top_k, const struct rp_chat *c)
{
    check_str(c->question, 0, 1, LX_RETR_QUERY_MAX_CHARS);
    json_t *msgs = json_object_get(body, "messages");
    if (json_object_get(body, "question") != NULL || msgs == NULL) {
        check_borrowed(body, "question", c->question);
    } else {
        size_t n = json_array_size(msgs), i;
        const char *last_user = NULL;
        json_t *m;
        if (n < 1 || n > LX_CHAT_MESSAGES_MAX)
            abort();
        json_array_foreach(msgs, i, m)
        {
            const char *role = json_string_value(json_object_get(m, "role"));
            const char *content = json_string_value(json_object_get(m, "content"));
            if (role == NULL || content == NULL ||
                rp_utf8_chars(content) > LX_CHAT_MESSAGE_MAX_CHARS ||
                (strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "system")))
                abort();
            if (strcmp(role, "user") == 0)
                last_user = content;
        }
        if (c->question != last_user)
            abort();
    }
    if (c->stream != 0 && c->stream != 1)
        abort();
    if (openai) {
        if (c->top_k != def_top_k || c->conversation_id != NULL || c->model == NULL)
            abort();
        if (json_object_get(body, "model") != NULL && !json_is_null(json_object_get(body, "model")))
            check_borrowed(body, "model", c->model);
        else if (strcmp(c->model, "lexrag") != 0)
            abort();
        check_str(c->model, 0, 1, LX_OPENAI_MODEL_MAX_CHARS);
        if (c->max_tokens < 0 || c->max_tokens > LX_OPENAI_MAX_TOKENS_MAX)
            abort();
        if (c->has_temperature && !(c->temperature >= 0 && c->temperature <= 2))
            abort();
    } else {
        if (c->top_k < 1 || c->top_k > LX_CHAT_TOP_K_MAX || c->model != NULL ||
            c->max_tokens != 0 || c->has_temperature)
            abort();
        if (c->conversation_id != NULL) {
            uuid_t u;
            check_borrowed(body, "conversation_id", c->conversation_id);
            if (strlen(c->conversation_id) != 36 || uuid_parse(c->conversation_id, u) != 0)
                abort();
        }
    }
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Parse the body as the endpoint's handler does: 0 with *out filled, or -1 with *e. */
struct parsed {
    struct retr_params search;
    struct rp_chat chat;
};

static int parse(json_t *body, int ep, long def_top_k, struct parsed *out, struct rp_err *e)
{
    memset(out, 0, sizeof *out);
    if (ep == EP_SEARCH)
        return rp_search(body, &out->search, e);
    return rp_chat(body, ep == EP_OPENAI, def_top_k, &out->chat, e);
}

static void check_same(int ep, const struct parsed *a, const struct parsed *b)
{
    if (ep == EP_SEARCH) {
        const struct retr_params *x = &a->search, *y = &b->search;
        if (!same_str(x->query, y->query) || x->top_k != y->top_k || x->mode != y->mode ||
            !same_str(x->doc_type, y->doc_type) || !same_str(x->doc_id, y->doc_id) ||
            x->year_min != y->year_min || x->year_max != y->year_max)
            abort();
        return;
    }
    const struct rp_chat *x = &a->chat, *y = &b->chat;
    if (!same_str(x->question, y->question) || !same_str(x->conversation_id, y->conversation_id) ||
        !same_str(x->model, y->model) || x->top_k != y->top_k || x->max_tokens != y->max_tokens ||
        x->stream != y->stream || x->has_temperature != y->has_temperature ||
        x->temperature != y->temperature)
        abort();
}

static void check_uuid(const uint8_t *data, size_t size)
{
    char s[40];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    uuid_t u;
    memcpy(s, data, n);
    s[n] = '\0';
    int want = strlen(s) == 36 && uuid_parse(s, u) == 0;
    if (rp_uuid_valid(s) != want)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long top_ks[] = {1, 6, 20};
    if (size < 1)
        return 0;
    int ep = data[0] % 3;
    long def_top_k = top_ks[data[0] / 3 % 3];
    check_uuid(data + 1, size - 1);

    struct rp_err e = {0};
    json_t *body = rp_body(data + 1, size - 1, &e);
    if (body == NULL) {
        check_err(&e);
        return 0;
    }
    if (!json_is_object(body))
        abort();
    struct parsed got, again;
    int rc = parse(body, ep, def_top_k, &got, &e);
    if (rc != 0) {
        check_err(&e);
    } else if (ep == EP_SEARCH) {
        check_search(body, &got.search);
    } else {
        check_chat(body, ep == EP_OPENAI, def_top_k, &got.chat);
    }

    /* written back and read again: the same answer */
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        abort();
    struct rp_err e2 = {0};
    json_t *body2 = rp_body(text, strlen(text), &e2);
    if (body2 == NULL)
        abort();
    int rc2 = parse(body2, ep, def_top_k, &again, &e2);
    if (rc2 != rc)
        abort();
    if (rc == 0)
        check_same(ep, &got, &again);
    else if (e2.code != e.code || strcmp(e2.field, e.field) != 0 || strcmp(e2.msg, e.msg) != 0)
        abort();
    json_decref(body2);
    free(text);
    json_decref(body);
    return 0;
}
