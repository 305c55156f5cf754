/* fcgi/json_args.c -- JSON body and field validation with the contract's errors (json_args.h). */
#include "json_args.h"

#include <jansson.h>
#include <string.h>

#include "../shared/arena.h"
#include "req.h"

static void decref_cb(void *p)
{
    json_decref(p);
}

json_t *ja_body_object(struct req *r)
{
    size_t n;
    const uint8_t *body = req_body(r, &n);
    json_error_t jerr;
    if (n == 0) {
        req_reply_error(r, LX_EBADJSON, "the request body is empty; a JSON object is expected");
        return NULL;
    }
    json_t *j = json_loadb((const char *)body, n, JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        req_reply_error(r, LX_EBADJSON, "invalid JSON at line %d column %d: %s", jerr.line,
                        jerr.column, jerr.text);
        return NULL;
    }
    if (arena_defer(req_arena(r), decref_cb, j) != 0) { /* j already released */
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return NULL;
    }
    if (!json_is_object(j)) {
        req_reply_error(r, LX_EINVAL, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

size_t ja_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

int ja_string(struct req *r, json_t *o, const char *key, int required, size_t min_chars,
              size_t max_chars, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        req_reply_error(r, LX_EINVAL, "%s is required", key);
        return -1;
    }
    if (!json_is_string(v)) {
        req_reply_error(r, LX_EINVAL, "%s must be a string", key);
        return -1;
    }
    const char *s = json_string_value(v);
    size_t chars = ja_utf8_chars(s);
    if (json_string_length(v) != strlen(s)) {
        req_reply_error(r, LX_EINVAL, "%s must not contain NUL characters", key);
        return -1;
    }
    if (chars < min_chars || chars > max_chars) {
        req_reply_error(r, LX_EINVAL, "%s must be %zu to %zu characters long (got %zu)", key,
                        min_chars, max_chars, chars);
        return -1;
    }
    *out = s;
    return 0;
}

int ja_int(struct req *r, json_t *o, const char *key, int required, long min, long max, long def,
           long *out)
{
    json_t *v = json_object_get(o, key);
    *out = def;
    if (v == NULL || json_is_null(v)) {
        if (!required)
            return 0;
        req_reply_error(r, LX_EINVAL, "%s is required", key);
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        req_reply_error(r, LX_EINVAL, "%s must be an integer from %ld to %ld", key, min, max);
        return -1;
    }
    *out = (long)json_integer_value(v);
    return 0;
}

int ja_bool(struct req *r, json_t *o, const char *key, int def, int *out)
{
    json_t *v = json_object_get(o, key);
    *out = def;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v)) {
        req_reply_error(r, LX_EINVAL, "%s must be true or false", key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}
