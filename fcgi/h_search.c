/* fcgi/h_search.c -- POST /api/search (http-api.md): validate the request (req_parse.c), run the
 * retrieval (retrieve.c), answer its result as it is. */
#include <jansson.h>

#include "../shared/arena.h"
#include "handlers.h"
#include "json_args.h"
#include "req.h"
#include "req_parse.h"
#include "retrieve.h"

static void on_answer(struct req *r, void *ud, json_t *answer)
{
    (void)ud;
    req_reply_json(r, 200, answer);
}

void h_search(struct req *r)
{
    struct retr_params *p = arena_calloc(req_arena(r), 1, sizeof *p);
    json_t *body = ja_body_object(r);
    struct rp_err e;
    if (body == NULL)
        return;
    if (p == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    if (rp_search(body, p, &e) != 0) {
        ja_reply(r, &e);
        return;
    }
    retr_start(r, p, on_answer, NULL);
}
