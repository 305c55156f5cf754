/* fcgi/json_args.c -- JSON body and field validation with the contract's errors replied
 * (json_args.h); the checks themselves are req_parse.c's. */
#include "json_args.h"

#include <jansson.h>

#include "../shared/arena.h"
#include "req.h"
#include "req_parse.h"

static void decref_cb(void *p)
{
    json_decref(p);
}

void ja_reply(struct req *r, const struct rp_err *e)
{
    req_reply_error(r, e->code, "%s", e->msg);
}

json_t *ja_body_object(struct req *r)
{
    size_t n;
    const uint8_t *body = req_body(r, &n);
    struct rp_err e;
    json_t *j = rp_body(body, n, &e);
    if (j == NULL) {
        ja_reply(r, &e);
        return NULL;
    }
    if (arena_defer(req_arena(r), decref_cb, j) != 0) { /* j already released */
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return NULL;
    }
    return j;
}

int ja_string(struct req *r, json_t *o, const char *key, int required, size_t min_chars,
              size_t max_chars, const char **out)
{
    struct rp_err e;
    if (rp_string(o, key, required, min_chars, max_chars, out, &e) == 0)
        return 0;
    ja_reply(r, &e);
    return -1;
}

int ja_int(struct req *r, json_t *o, const char *key, int required, long min, long max, long def,
           long *out)
{
    struct rp_err e;
    if (rp_int(o, key, required, min, max, def, out, &e) == 0)
        return 0;
    ja_reply(r, &e);
    return -1;
}

int ja_bool(struct req *r, json_t *o, const char *key, int def, int *out)
{
    struct rp_err e;
    if (rp_bool(o, key, def, out, &e) == 0)
        return 0;
    ja_reply(r, &e);
    return -1;
}
