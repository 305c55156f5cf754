/* fcgi/h_chat.c -- POST /api/chat (http-api.md): the question's articles are retrieved
 * (retrieve.c), then the answer is streamed as server-sent events -- retrieval, delta...,
 * done -- each event flushed through the web server as it is produced, with ": ping" comments
 * while a stream waits; with "stream": false the done event's fields come as one JSON object.
 * The answer comes from the built-in extractive generator (shared/answer.c), paced in pieces.
 * After done has been sent and the request ended, the exchange is persisted (persist.c); a
 * client that goes away mid-stream leaves a partial exchange, stored as "interrupted". */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "../shared/answer.h"
#include "../shared/arena.h"
#include "../shared/cfg.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/sse.h"
#include "backends.h"
#include "handlers.h"
#include "json_args.h"
#include "persist.h"
#include "req.h"
#include "retrieve.h"
#include "worker.h"

#define CHAT_MESSAGES_MAX      100
#define CHAT_MESSAGE_MAX_CHARS 8000
#define CHAT_ANSWER_MAX_BYTES  6000
#define CHAT_SNIPPET_MAX_BYTES 240
#define CHAT_UUID_BYTES        37

struct chat {
    struct req *r;
    struct backends *b;
    const struct cfg *cfg;
    const char *question;
    char conv_id[CHAT_UUID_BYTES], user_msg_id[CHAT_UUID_BYTES], msg_id[CHAT_UUID_BYTES];
    char user_at[32];
    long top_k;
    int stream, new_conv;
    struct retr_params rp;
    json_t *refs; /* the references, as sent */
    struct answer_ref *arefs;
    size_t nrefs;
    char *answer;
    size_t len, at; /* the answer, and how much of it was sent */
    struct event *piece_ev, *ping_ev;
    double t_retrieval, t_first;
    struct pgc_op *pg_op;
};

static void free_event_cb(void *p)
{
    event_free(p);
}

static void free_cb(void *p)
{
    free(p);
}

static void decref_cb(void *p)
{
    json_decref(p);
}

static void new_uuid(char *out)
{
    uuid_t u;
    uuid_generate_random(u);
    uuid_unparse_lower(u, out);
}

static int uuid_valid(const char *s)
{
    uuid_t u;
    return strlen(s) == 36 && uuid_parse(s, u) == 0;
}

/* ---- persistence ------------------------------------------------------------------------ */

static void chat_persist(struct chat *c, const char *status)
{
    char answer_at[32];
    persist_now_iso(answer_at);
    json_t *x = json_pack(
        "{s:s,s:s,s:s,s:s,s:s%,s:O,s:{s:f,s:f,s:f},s:s,s:s,s:s}", "conversation_id", c->conv_id,
        "user_message_id", c->user_msg_id, "question", c->question, "message_id", c->msg_id,
        "answer", c->answer ? c->answer : "", c->at, "references", c->refs ? c->refs : json_null(),
        "timings", "retrieval", c->t_retrieval, "first_token", c->t_first, "total",
        req_elapsed_ms(c->r), "status", status, "user_at", c->user_at, "answer_at", answer_at);
    if (x != NULL)
        persist_exchange(c->b->persist, x);
}

/* ---- the stream ------------------------------------------------------------------------- */

static int chat_event(struct chat *c, const char *event, json_t *data)
{
    char *s = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    if (s == NULL)
        return -1;
    size_t n = strlen(s), need = sse_format(NULL, 0, event, s, n);
    char *buf = malloc(need + 1);
    int rc = -1;
    if (buf != NULL) {
        sse_format(buf, need + 1, event, s, n);
        rc = req_stream_write(c->r, buf, need);
    }
    free(buf);
    free(s);
    return rc;
}

static json_t *done_object(struct chat *c)
{
    return json_pack("{s:s,s:s,s:s%,s:O,s:{s:f,s:f,s:f}}", "conversation_id", c->conv_id,
                     "message_id", c->msg_id, "answer", c->answer, c->len, "references", c->refs,
                     "timings_ms", "retrieval", c->t_retrieval, "first_token", c->t_first, "total",
                     req_elapsed_ms(c->r));
}

static void chat_finish_stream(struct chat *c)
{
    event_del(c->piece_ev);
    event_del(c->ping_ev);
    chat_event(c, "done", done_object(c));
    req_stream_end(c->r);
    chat_persist(c, "complete");
}

static void on_piece(evutil_socket_t fd, short what, void *ud);

static void on_drained(struct req *r, void *ud)
{
    struct chat *c = ud;
    (void)r;
    event_active(c->piece_ev, EV_TIMEOUT, 0);
}

static void on_piece(evutil_socket_t fd, short what, void *ud)
{
    struct chat *c = ud;
    (void)fd;
    (void)what;
    if (c->at >= c->len) {
        chat_finish_stream(c);
        return;
    }
    if (req_stream_full(c->r)) { /* a slow client: wait for the web server to drain */
        req_on_drain(c->r, on_drained, c);
        return;
    }
    size_t n = answer_next_piece(c->answer, c->len, c->at, (size_t)c->cfg->piece_max_bytes);
    if (c->at == 0)
        c->t_first = req_elapsed_ms(c->r);
    if (chat_event(c, "delta", json_pack("{s:s%}", "content", c->answer + c->at, n)) != 0)
        return; /* the request is gone: the abort hook has run */
    c->at += n;
    struct timeval tv = lx_tv_ms(c->cfg->piece_interval_ms);
    evtimer_add(c->piece_ev, &tv);
}

static void on_ping(evutil_socket_t fd, short what, void *ud)
{
    struct chat *c = ud;
    char buf[16];
    (void)fd;
    (void)what;
    size_t n = sse_format_comment(buf, sizeof buf, "ping");
    req_stream_write(c->r, buf, n);
}

/* The client went away (or the deadline passed) mid-stream: keep what was said. */
static void chat_abort(struct req *r, void *ud)
{
    struct chat *c = ud;
    (void)r;
    event_del(c->piece_ev);
    event_del(c->ping_ev);
    pgc_cancel(c->pg_op);
    c->pg_op = NULL;
    if (c->answer != NULL)
        chat_persist(c, "interrupted");
}

/* ---- the answer ------------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* References from the retrieval's results: what the client sees, and what the generator uses. */
static int chat_refs(struct chat *c, json_t *results)
{
    struct arena *a = req_arena(c->r);
    size_t n = json_array_size(results);
    c->refs = json_array();
    c->arefs = arena_calloc(a, n ? n : 1, sizeof *c->arefs);
    if (c->refs == NULL || c->arefs == NULL || arena_defer(a, decref_cb, c->refs) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(results, i);
        struct answer_ref *ar = &c->arefs[i];
        ar->n = (unsigned)i + 1;
        ar->doc_id = arena_strdup(a, jstr(o, "doc_id") ? jstr(o, "doc_id") : "");
        ar->doc_type = arena_strdup(a, jstr(o, "doc_type") ? jstr(o, "doc_type") : "");
        ar->number = jstr(o, "number") ? arena_strdup(a, jstr(o, "number")) : NULL;
        ar->year = (int)json_integer_value(json_object_get(o, "year"));
        ar->title = arena_strdup(a, jstr(o, "title") ? jstr(o, "title") : "");
        ar->pasal = arena_strdup(a, jstr(o, "pasal") ? jstr(o, "pasal") : "");
        ar->ayat = jstr(o, "ayat") ? arena_strdup(a, jstr(o, "ayat")) : NULL;
        ar->kind = arena_strdup(a, jstr(o, "kind") ? jstr(o, "kind") : "article");
        ar->text = arena_strdup(a, jstr(o, "text") ? jstr(o, "text") : "");
        if (!ar->doc_id || !ar->doc_type || !ar->title || !ar->pasal || !ar->kind || !ar->text)
            return -1;
        size_t tl = strlen(ar->text), sl = tl;
        if (sl > CHAT_SNIPPET_MAX_BYTES) { /* cut at a UTF-8 boundary */
            sl = CHAT_SNIPPET_MAX_BYTES;
            while (sl > 0 && ((unsigned char)ar->text[sl] & 0xc0) == 0x80)
                sl--;
        }
        json_t *ref = json_pack("{s:i,s:O,s:s,s:s,s:O,s:s,s:s%}", "n", (int)i + 1, "chunk_id",
                                json_object_get(o, "chunk_id"), "doc_id", ar->doc_id, "pasal",
                                ar->pasal, "ayat", json_object_get(o, "ayat"), "title", ar->title,
                                "snippet", ar->text, sl);
        if (ref == NULL || json_array_append_new(c->refs, ref) != 0)
            return -1;
    }
    c->nrefs = n;
    return 0;
}

static void on_retrieved(struct req *r, void *ud, json_t *answer)
{
    struct chat *c = ud;
    c->t_retrieval = req_elapsed_ms(r);
    int bad = chat_refs(c, json_object_get(answer, "results"));
    json_decref(answer);
    if (!bad) {
        c->answer = answer_compose(c->question, c->arefs, c->nrefs, CHAT_ANSWER_MAX_BYTES);
        bad = c->answer == NULL || arena_defer(req_arena(r), free_cb, c->answer) != 0;
    }
    if (bad) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    c->len = strlen(c->answer);
    req_on_abort(r, chat_abort, c);
    if (!c->stream) {
        c->at = c->len;
        c->t_first = req_elapsed_ms(r);
        req_reply_json(r, 200, done_object(c));
        chat_persist(c, "complete");
        return;
    }
    struct event_base *base = worker_base(req_worker(r));
    c->piece_ev = evtimer_new(base, on_piece, c);
    c->ping_ev = event_new(base, -1, EV_PERSIST, on_ping, c);
    if (c->piece_ev == NULL || arena_defer(req_arena(r), free_event_cb, c->piece_ev) != 0 ||
        c->ping_ev == NULL || arena_defer(req_arena(r), free_event_cb, c->ping_ev) != 0) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    req_stream_start(r, 200, "text/event-stream; charset=utf-8");
    chat_event(c, "retrieval",
               json_pack("{s:s,s:s,s:O}", "conversation_id", c->conv_id, "message_id", c->msg_id,
                         "references", c->refs));
    struct timeval tv = lx_tv_ms(c->cfg->ping_interval_ms);
    event_add(c->ping_ev, &tv);
    event_active(c->piece_ev, EV_TIMEOUT, 0);
}

/* ---- the request ------------------------------------------------------------------------ */

static void chat_retrieve(struct chat *c)
{
    c->rp.query = c->question;
    c->rp.top_k = c->top_k;
    c->rp.mode = RETR_HYBRID;
    retr_start(c->r, &c->rp, on_retrieved, c);
}

static void on_conversation(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct chat *c = ud;
    c->pg_op = NULL;
    if (err != LX_OK) {
        req_reply_error(c->r, LX_EUNAVAIL, "database unavailable: %s", msg ? msg : "");
        return;
    }
    if (PQntuples(res) == 0) {
        req_reply_error(c->r, LX_ENOTFOUND, "conversation %s not found", c->conv_id);
        return;
    }
    req_on_abort(c->r, NULL, NULL);
    chat_retrieve(c);
}

static void chat_abort_lookup(struct req *r, void *ud)
{
    struct chat *c = ud;
    (void)r;
    pgc_cancel(c->pg_op);
    c->pg_op = NULL;
}

/* The question: "question", or the last user message of "messages" (OpenAI style). */
static int chat_question(struct req *r, json_t *body, const char **out)
{
    json_t *msgs = json_object_get(body, "messages");
    if (json_object_get(body, "question") != NULL || msgs == NULL)
        return ja_string(r, body, "question", 1, 1, LX_RETR_QUERY_MAX_CHARS, out);
    if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
        json_array_size(msgs) > CHAT_MESSAGES_MAX) {
        req_reply_error(r, LX_EINVAL, "messages must be an array of 1 to %d messages",
                        CHAT_MESSAGES_MAX);
        return -1;
    }
    size_t i;
    json_t *m;
    *out = NULL;
    json_array_foreach(msgs, i, m)
    {
        const char *role = jstr(m, "role"), *content = jstr(m, "content");
        if (!json_is_object(m) || role == NULL || content == NULL ||
            (strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "system")) ||
            ja_utf8_chars(content) > CHAT_MESSAGE_MAX_CHARS) {
            req_reply_error(r, LX_EINVAL,
                            "messages[%zu] must be {\"role\": user|assistant|system, "
                            "\"content\": a string of at most %d characters}",
                            i, CHAT_MESSAGE_MAX_CHARS);
            return -1;
        }
        if (strcmp(role, "user") == 0)
            *out = content;
    }
    size_t chars = *out ? ja_utf8_chars(*out) : 0;
    if (chars < 1 || chars > LX_RETR_QUERY_MAX_CHARS) {
        req_reply_error(r, LX_EINVAL, "the last user message must be 1 to %d characters",
                        LX_RETR_QUERY_MAX_CHARS);
        return -1;
    }
    return 0;
}

void h_chat(struct req *r)
{
    struct backends *b = worker_backends(req_worker(r));
    struct chat *c = arena_calloc(req_arena(r), 1, sizeof *c);
    json_t *body = ja_body_object(r);
    if (body == NULL)
        return;
    if (c == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    c->r = r;
    c->b = b;
    c->cfg = worker_cfg(req_worker(r));
    const char *conv = NULL;
    if (chat_question(r, body, &c->question) != 0 ||
        ja_string(r, body, "conversation_id", 0, 1, 64, &conv) != 0 ||
        ja_int(r, body, "top_k", 0, 1, 20, (long)c->cfg->chat_top_k, &c->top_k) != 0 ||
        ja_bool(r, body, "stream", 1, &c->stream) != 0)
        return;
    if (conv != NULL && !uuid_valid(conv)) {
        req_reply_error(r, LX_EINVAL, "conversation_id must be a UUID");
        return;
    }
    if (b == NULL) {
        req_reply_error(r, LX_EUNAVAIL, "retrieval is not configured on this worker");
        return;
    }
    new_uuid(c->msg_id);
    new_uuid(c->user_msg_id);
    persist_now_iso(c->user_at);
    if (conv == NULL) {
        new_uuid(c->conv_id);
        c->new_conv = 1;
        chat_retrieve(c);
        return;
    }
    snprintf(c->conv_id, sizeof c->conv_id, "%s", conv);
    const char *params[] = {c->conv_id};
    req_on_abort(r, chat_abort_lookup, c);
    c->pg_op = pgc_query(b->pg, "SELECT 1 FROM conversations WHERE id = $1::uuid", 1, params,
                         (unsigned)c->cfg->pg_timeout_ms, on_conversation, c);
    if (c->pg_op == NULL)
        req_reply_error(r, LX_ENOMEM, "out of memory");
}
