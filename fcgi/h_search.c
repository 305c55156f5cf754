/* fcgi/h_search.c -- POST /api/search (http-api.md): validate the request, run the retrieval
 * (retrieve.c), answer its result as it is. */
#include <jansson.h>
#include <string.h>

#include "../shared/arena.h"
#include "handlers.h"
#include "json_args.h"
#include "req.h"
#include "retrieve.h"

static int parse_filters(struct req *r, json_t *body, struct retr_params *p)
{
    json_t *f = json_object_get(body, "filters");
    if (f == NULL || json_is_null(f))
        return 0;
    if (!json_is_object(f)) {
        req_reply_error(r, LX_EINVAL, "filters must be an object");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v)
    {
        if (strcmp(key, "doc_type") && strcmp(key, "doc_id") && strcmp(key, "year_min") &&
            strcmp(key, "year_max")) {
            req_reply_error(r, LX_EINVAL,
                            "filters.%s is not a filter (doc_type, doc_id, year_min, year_max)",
                            key);
            return -1;
        }
    }
    if (ja_string(r, f, "doc_type", 0, 1, 16, &p->doc_type) != 0 ||
        ja_string(r, f, "doc_id", 0, 1, 60, &p->doc_id) != 0 ||
        ja_int(r, f, "year_min", 0, 1, 9999, 0, &p->year_min) != 0 ||
        ja_int(r, f, "year_max", 0, 1, 9999, 0, &p->year_max) != 0)
        return -1;
    if (p->year_min && p->year_max && p->year_min > p->year_max) {
        req_reply_error(r, LX_EINVAL, "filters.year_min is after filters.year_max");
        return -1;
    }
    return 0;
}

static void on_answer(struct req *r, void *ud, json_t *answer)
{
    (void)ud;
    req_reply_json(r, 200, answer);
}

void h_search(struct req *r)
{
    struct retr_params *p = arena_calloc(req_arena(r), 1, sizeof *p);
    json_t *body = ja_body_object(r);
    if (body == NULL)
        return;
    if (p == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    const char *mode;
    if (ja_string(r, body, "query", 1, 1, LX_RETR_QUERY_MAX_CHARS, &p->query) != 0 ||
        ja_int(r, body, "top_k", 0, 1, LX_RETR_TOP_K_MAX, 10, &p->top_k) != 0 ||
        ja_string(r, body, "mode", 0, 1, 16, &mode) != 0 || parse_filters(r, body, p) != 0)
        return;
    p->mode = RETR_HYBRID;
    if (mode != NULL && retr_mode_parse(mode, &p->mode) != 0) {
        req_reply_error(r, LX_EINVAL, "mode must be hybrid, dense or bm25");
        return;
    }
    retr_start(r, p, on_answer, NULL);
}
