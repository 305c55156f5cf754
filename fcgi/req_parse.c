/* fcgi/req_parse.c -- request bodies parsed and validated without a request (req_parse.h).
 * The order of the checks is the order of the replies: the first field at fault is the one
 * named. */
#include "req_parse.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const rp_mode_names[] = {
    [RETR_HYBRID] = "hybrid",
    [RETR_DENSE] = "dense",
    [RETR_BM25] = "bm25",
};

int rp_fail(struct rp_err *e, enum lx_err code, const char *field, const char *fmt, ...)
{
    va_list ap;
    e->code = code;
    e->field = field;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

json_t *rp_body(const void *body, size_t n, struct rp_err *e)
{
    json_error_t jerr;
    if (n == 0) {
        rp_fail(e, LX_EBADJSON, "", "the request body is empty; a JSON object is expected");
        return NULL;
    }
    json_t *j = json_loadb(body, n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        rp_fail(e, LX_EBADJSON, "", "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                jerr.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        rp_fail(e, LX_EINVAL, "body", "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

size_t rp_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

int rp_uuid_valid(const char *s)
{
    size_t i;
    for (i = 0; s[i] != '\0' && i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return i == 36 && s[i] == '\0';
}

int rp_mode(const char *name, enum retr_mode *out)
{
    for (unsigned m = 0; m < sizeof rp_mode_names / sizeof rp_mode_names[0]; m++) {
        if (strcmp(name, rp_mode_names[m]) == 0) {
            *out = (enum retr_mode)m;
            return 0;
        }
    }
    return -1;
}

int rp_string(json_t *o, const char *key, int required, size_t min_chars, size_t max_chars,
              const char **out, struct rp_err *e)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        return rp_fail(e, LX_EINVAL, key, "%s is required", key);
    }
    if (!json_is_string(v))
        return rp_fail(e, LX_EINVAL, key, "%s must be a string", key);
    const char *s = json_string_value(v);
    size_t chars = rp_utf8_chars(s);
    if (json_string_length(v) != strlen(s))
        return rp_fail(e, LX_EINVAL, key, "%s must not contain NUL characters", key);
    if (chars < min_chars || chars > max_chars)
        return rp_fail(e, LX_EINVAL, key, "%s must be %zu to %zu characters long (got %zu)", key,
                       min_chars, max_chars, chars);
    *out = s;
    return 0;
}

int rp_int(json_t *o, const char *key, int required, long min, long max, long def, long *out,
           struct rp_err *e)
{
    json_t *v = json_object_get(o, key);
    *out = def;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        return rp_fail(e, LX_EINVAL, key, "%s is required", key);
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return rp_fail(e, LX_EINVAL, key, "%s must be an integer from %ld to %ld", key, min, max);
    *out = (long)json_integer_value(v);
    return 0;
}

int rp_bool(json_t *o, const char *key, int def, int *out, struct rp_err *e)
{
    json_t *v = json_object_get(o, key);
    *out = def;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return rp_fail(e, LX_EINVAL, key, "%s must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* ---- POST /api/search ------------------------------------------------------------------- */

static int rp_filters(json_t *body, struct retr_params *p, struct rp_err *e)
{
    json_t *f = json_object_get(body, "filters");
    if (f == NULL || json_is_null(f))
        return 0;
    if (!json_is_object(f))
        return rp_fail(e, LX_EINVAL, "filters", "filters must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        if (strcmp(key, "doc_type") && strcmp(key, "doc_id") && strcmp(key, "year_min") &&
            strcmp(key, "year_max"))
            return rp_fail(e, LX_EINVAL, "filters",
                           "filters.%s is not a filter (doc_type, doc_id, year_min, year_max)",
                           key);
    }
    if (rp_string(f, "doc_type", 0, 1, 16, &p->doc_type, e) != 0 ||
        rp_string(f, "doc_id", 0, 1, 60, &p->doc_id, e) != 0 ||
        rp_int(f, "year_min", 0, 1, 9999, 0, &p->year_min, e) != 0 ||
        rp_int(f, "year_max", 0, 1, 9999, 0, &p->year_max, e) != 0)
        return -1;
    if (p->year_min && p->year_max && p->year_min > p->year_max)
        return rp_fail(e, LX_EINVAL, "filters", "filters.year_min is after filters.year_max");
    return 0;
}

int rp_search(json_t *body, struct retr_params *out, struct rp_err *e)
{
    struct retr_params p = {0};
    const char *mode;
    if (rp_string(body, "query", 1, 1, LX_RETR_QUERY_MAX_CHARS, &p.query, e) != 0 ||
        rp_int(body, "top_k", 0, 1, LX_RETR_TOP_K_MAX, 10, &p.top_k, e) != 0 ||
        rp_string(body, "mode", 0, 1, 16, &mode, e) != 0 || rp_filters(body, &p, e) != 0)
        return -1;
    p.mode = RETR_HYBRID;
    if (mode != NULL && rp_mode(mode, &p.mode) != 0)
        return rp_fail(e, LX_EINVAL, "mode", "mode must be hybrid, dense or bm25");
    *out = p;
    return 0;
}

/* ---- POST /api/chat, POST /v1/chat/completions ------------------------------------------ */

static const char *rp_jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The question: "question", or the last user message of "messages" (OpenAI style). */
static int rp_question(json_t *body, const char **out, struct rp_err *e)
{
    json_t *msgs = json_object_get(body, "messages");
    if (json_object_get(body, "question") != NULL || msgs == NULL)
        return rp_string(body, "question", 1, 1, LX_RETR_QUERY_MAX_CHARS, out, e);
    if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
        json_array_size(msgs) > LX_CHAT_MESSAGES_MAX)
        return rp_fail(e, LX_EINVAL, "messages", "messages must be an array of 1 to %d messages",
                       LX_CHAT_MESSAGES_MAX);
    size_t i;
    json_t *m;
    *out = NULL;
    json_array_foreach(msgs, i, m)
    {
        const char *role = rp_jstr(m, "role"), *content = rp_jstr(m, "content");
        if (!json_is_object(m) || role == NULL || content == NULL ||
            (strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "system")) ||
            rp_utf8_chars(content) > LX_CHAT_MESSAGE_MAX_CHARS)
            return rp_fail(e, LX_EINVAL, "messages",
                           "messages[%zu] must be {\"role\": user|assistant|system, "
                           "\"content\": a string of at most %d characters}",
                           i, LX_CHAT_MESSAGE_MAX_CHARS);
        if (strcmp(role, "user") == 0)
            *out = content;
    }
    size_t chars = *out ? rp_utf8_chars(*out) : 0;
    if (chars < 1 || chars > LX_RETR_QUERY_MAX_CHARS) {
        *out = NULL;
        return rp_fail(e, LX_EINVAL, "messages",
                       "the last user message of messages must be 1 to %d characters",
                       LX_RETR_QUERY_MAX_CHARS);
    }
    return 0;
}

int rp_chat(json_t *body, int openai, long default_top_k, struct rp_chat *out, struct rp_err *e)
{
    struct rp_chat c = {0};
    c.top_k = default_top_k;
    if (rp_question(body, &c.question, e) != 0)
        return -1;
    if (openai) { /* OpenAI's fields: stream is off unless asked for */
        json_t *temp = json_object_get(body, "temperature");
        if (rp_string(body, "model", 0, 1, LX_OPENAI_MODEL_MAX_CHARS, &c.model, e) != 0 ||
            rp_bool(body, "stream", 0, &c.stream, e) != 0 ||
            rp_int(body, "max_tokens", 0, 1, LX_OPENAI_MAX_TOKENS_MAX, 0, &c.max_tokens, e) != 0)
            return -1;
        if (temp != NULL && !json_is_null(temp)) {
            if (!json_is_number(temp) || json_number_value(temp) < 0 || json_number_value(temp) > 2)
                return rp_fail(e, LX_EINVAL, "temperature",
                               "temperature must be a number from 0 to 2");
            c.has_temperature = 1;
            c.temperature = json_number_value(temp);
        }
        if (c.model == NULL)
            c.model = "lexrag";
    } else if (rp_string(body, "conversation_id", 0, 1, 64, &c.conversation_id, e) != 0 ||
               rp_int(body, "top_k", 0, 1, LX_CHAT_TOP_K_MAX, default_top_k, &c.top_k, e) != 0 ||
               rp_bool(body, "stream", 1, &c.stream, e) != 0) {
        return -1;
    }
    if (c.conversation_id != NULL && !rp_uuid_valid(c.conversation_id))
        return rp_fail(e, LX_EINVAL, "conversation_id", "conversation_id must be a UUID");
    *out = c;
    return 0;
}
