/* fcgi/h_conversation.c -- GET /api/conversations/{id} (http-api.md): a conversation and its
 * messages in order, each answer with the references it cited. 404 for an unknown id. An
 * exchange appears once it has been persisted, which happens just after its stream ends. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../shared/arena.h"
#include "../shared/cfg.h"
#include "../shared/pg_ev.h"
#include "backends.h"
#include "handlers.h"
#include "req.h"
#include "worker.h"

#define CONV_PREFIX "/api/conversations/"

struct conv_get {
    struct req *r;
    struct pgc_op *op;
    char id[37];
};

static const char conv_sql[] =
    "SELECT to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "       m.role, m.content, m.refs::text, m.status,"
    "       to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    "  FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id"
    " WHERE c.id = $1::uuid ORDER BY m.created_at, m.role = 'assistant', m.seq";

static void on_rows(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct conv_get *g = ud;
    g->op = NULL;
    if (err != LX_OK) {
        req_reply_db_error(g->r, msg);
        return;
    }
    if (PQntuples(res) == 0) {
        req_reply_error(g->r, LX_ENOTFOUND, "conversation %s not found", g->id);
        return;
    }
    json_t *msgs = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 1))
            continue; /* a conversation with no message yet */
        json_t *m = json_pack("{s:s,s:s,s:s}", "role", PQgetvalue(res, i, 1), "content",
                              PQgetvalue(res, i, 2), "created_at", PQgetvalue(res, i, 5));
        if (strcmp(PQgetvalue(res, i, 1), "assistant") == 0) {
            json_t *refs =
                PQgetisnull(res, i, 3) ? NULL : json_loads(PQgetvalue(res, i, 3), 0, NULL);
            json_object_set_new(m, "references", refs ? refs : json_array());
            json_object_set_new(m, "status", json_string(PQgetvalue(res, i, 4)));
        }
        json_array_append_new(msgs, m);
    }
    req_reply_json(g->r, 200,
                   json_pack("{s:s,s:s,s:o}", "conversation_id", g->id, "created_at",
                             PQgetvalue(res, 0, 0), "messages", msgs));
}

static void on_abort(struct req *r, void *ud)
{
    struct conv_get *g = ud;
    (void)r;
    pgc_cancel(g->op);
}

void h_conversation(struct req *r)
{
    const char *id = req_path(r) + strlen(CONV_PREFIX);
    uuid_t u;
    struct backends *b = worker_backends(req_worker(r));
    if (strlen(id) != 36 || uuid_parse(id, u) != 0) {
        req_reply_error(r, LX_ENOTFOUND, "no such conversation: the id must be a UUID");
        return;
    }
    if (b == NULL) {
        req_reply_error(r, LX_EUNAVAIL, "the database is not configured on this worker");
        return;
    }
    struct conv_get *g = arena_calloc(req_arena(r), 1, sizeof *g);
    if (g == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    g->r = r;
    memcpy(g->id, id, 36);
    const char *params[] = {g->id};
    req_on_abort(r, on_abort, g);
    g->op = pgc_query(b->pg, conv_sql, 1, params,
                      (unsigned)worker_cfg(req_worker(r))->pg_timeout_ms, on_rows, g);
    if (g->op == NULL)
        req_reply_error(r, LX_ENOMEM, "out of memory");
}
