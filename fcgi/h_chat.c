/* fcgi/h_chat.c -- POST /api/chat (http-api.md): the question's articles are retrieved
 * (retrieve.c), then the answer is streamed as server-sent events -- retrieval, delta...,
 * done -- each event flushed through the web server as it is produced, with ": ping" comments
 * while a stream waits; with "stream": false the done event's fields come as one JSON object.
 * The answer comes from the built-in extractive generator (shared/answer.c), paced in pieces,
 * or from an OpenAI-compatible chat model (shared/gen_openai.c) as it streams; a failure after
 * the stream has started is sent as an "error" event and the stream ends.
 * POST /v1/chat/completions is the same exchange in the OpenAI shapes: chat.completion, or
 * chat.completion.chunk events ending with "data: [DONE]", with the references as an extra
 * "references" field, so that unmodified OpenAI client libraries work against it.
 * After done has been sent and the request ended, the exchange is persisted (persist.c); a
 * client that goes away mid-stream leaves a partial exchange, stored as "interrupted". */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uuid/uuid.h>

#include "../shared/answer.h"
#include "../shared/arena.h"
#include "../shared/cfg.h"
#include "../shared/gen_openai.h"
#include "../shared/prompt.h"
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
/* Earlier messages read for the prompt; generator.history_max_chars trims them further. */
#define CHAT_HISTORY_MAX_MESSAGES 20

struct chat {
    struct req *r;
    struct backends *b;
    const struct cfg *cfg;
    const char *question;
    char conv_id[CHAT_UUID_BYTES], user_msg_id[CHAT_UUID_BYTES], msg_id[CHAT_UUID_BYTES];
    char user_at[32];
    long top_k;
    int stream;
    struct retr_params rp;
    json_t *refs; /* the references, as sent */
    struct answer_ref *arefs;
    size_t nrefs;
    char *answer;
    size_t len, at, cap; /* the answer, how much of it was sent, its buffer (openai) */
    struct prompt_turn *turns;
    size_t nturns;
    struct gen_call *gen; /* openai: the call under way */
    int openai;           /* /v1/chat/completions: the OpenAI shapes */
    const char *model;    /* echoed in those shapes */
    long created;
    struct event *piece_ev, *ping_ev;
    double t_retrieval, t_first;
    struct pgc_op *pg_op;
};

static void free_event_cb(void *p)
{
    event_free(p);
}

/* The answer buffer: composed (extractive) or grown as it streams (openai). */
static void free_answer_cb(void *p)
{
    struct chat *c = p;
    free(c->answer);
    c->answer = NULL;
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

static int stream_write_json(struct chat *c, const char *event, json_t *data)
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

/* A chat.completion.chunk with this delta (stolen) and finish_reason (NULL: null). */
static json_t *oa_chunk(struct chat *c, json_t *delta, const char *finish)
{
    char id[64];
    snprintf(id, sizeof id, "chatcmpl-%s", c->msg_id);
    return json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:o,s:o}]}", "id", id, "object",
                     "chat.completion.chunk", "created", (json_int_t)c->created, "model", c->model,
                     "choices", "index", 0, "delta", delta, "finish_reason",
                     finish ? json_string(finish) : json_null());
}

/* One event of the stream: as it is (/api/chat), or in the OpenAI shape (no event names;
 * retrieval becomes the first chunk, carrying the role and the references; done the last one,
 * then [DONE]; an error is an error object, then [DONE]). Takes data. */
static int chat_event(struct chat *c, const char *event, json_t *data)
{
    if (!c->openai)
        return stream_write_json(c, event, data);
    json_t *out = NULL;
    int last = 0;
    if (strcmp(event, "retrieval") == 0) {
        out = oa_chunk(c, json_pack("{s:s,s:s}", "role", "assistant", "content", ""), NULL);
        if (out != NULL)
            json_object_set(out, "references", c->refs);
    } else if (strcmp(event, "delta") == 0) {
        out = oa_chunk(c, json_incref(data), NULL);
    } else if (strcmp(event, "done") == 0) {
        out = oa_chunk(c, json_object(), "stop");
        last = 1;
    } else { /* error */
        out = json_incref(data);
        last = 1;
    }
    json_decref(data);
    int rc = out != NULL ? stream_write_json(c, NULL, out) : -1;
    if (last && rc == 0)
        rc = req_stream_write(c->r, "data: [DONE]\n\n", 14);
    return rc;
}

static json_t *done_object(struct chat *c)
{
    if (c->openai) {
        char id[64];
        snprintf(id, sizeof id, "chatcmpl-%s", c->msg_id);
        return json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:{s:s,s:s%},s:s}],s:{s:i,s:i,s:i},s:O}", "id",
                         id, "object", "chat.completion", "created", (json_int_t)c->created,
                         "model", c->model, "choices", "index", 0, "message", "role", "assistant",
                         "content", c->answer, c->len, "finish_reason", "stop", "usage",
                         "prompt_tokens", 0, "completion_tokens", 0, "total_tokens", 0,
                         "references", c->refs);
    }
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
    gen_openai_cancel(c->gen);
    c->gen = NULL;
    if (c->answer != NULL)
        chat_persist(c, "interrupted");
}

/* ---- an OpenAI-compatible model ------------------------------------------------------- */

static int on_gen_delta(void *ud, const char *text, size_t n)
{
    struct chat *c = ud;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        while (cap < c->len + n + 1)
            cap *= 2;
        char *nb = realloc(c->answer, cap);
        if (nb == NULL)
            return -1;
        c->answer = nb;
        c->cap = cap;
    }
    memcpy(c->answer + c->len, text, n);
    c->len += n;
    c->answer[c->len] = '\0';
    if (c->t_first == 0)
        c->t_first = req_elapsed_ms(c->r);
    if (c->stream) {
        if (chat_event(c, "delta", json_pack("{s:s%}", "content", text, n)) != 0)
            return -1;
    }
    c->at = c->len;
    return 0;
}

static void on_gen_done(void *ud, enum lx_err err, const char *msg)
{
    struct chat *c = ud;
    c->gen = NULL;
    if (c->answer == NULL) { /* nothing said at all */
        c->answer = strdup("");
        c->cap = 1;
    }
    if (err == LX_OK) {
        if (c->stream) {
            chat_finish_stream(c);
        } else {
            req_reply_json(c->r, 200, done_object(c));
            chat_persist(c, "complete");
        }
        return;
    }
    if (!c->stream) {
        req_reply_error(c->r, LX_EUNAVAIL, "%s", msg ? msg : "the chat model failed");
        return;
    }
    const char *code = err == LX_ETIMEOUT ? "timeout" : "unavailable";
    event_del(c->piece_ev);
    event_del(c->ping_ev);
    chat_event(c, "error",
               json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
                         msg ? msg : "the chat model failed"));
    req_stream_end(c->r);
    chat_persist(c, "failed");
}

static int chat_generate_openai(struct chat *c)
{
    const struct cfg *cf = c->cfg;
    struct prompt_article *arts =
        arena_calloc(req_arena(c->r), c->nrefs ? c->nrefs : 1, sizeof *arts);
    if (arts == NULL)
        return -1;
    for (size_t i = 0; i < c->nrefs; i++) {
        arts[i].title = c->arefs[i].title;
        arts[i].pasal = c->arefs[i].pasal;
        arts[i].ayat = c->arefs[i].ayat;
        arts[i].text = c->arefs[i].text;
    }
    json_t *msgs = prompt_messages(c->question, arts, c->nrefs, c->turns, c->nturns,
                                   (size_t)cf->history_max_chars, (size_t)cf->article_max_chars);
    struct gen_openai_cfg gc = {cf->gen_url,
                                cf->gen_model,
                                cf->gen_api_key,
                                (unsigned)cf->gen_timeout_ms,
                                (unsigned)cf->gen_max_tokens,
                                cf->gen_temperature};
    c->gen = msgs ? gen_openai_start(c->b->http, &gc, msgs, on_gen_delta, on_gen_done, c) : NULL;
    json_decref(msgs);
    return c->gen != NULL ? 0 : -1;
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
    int remote = strcmp(c->cfg->gen_kind, "openai") == 0;
    c->t_retrieval = req_elapsed_ms(r);
    int bad = chat_refs(c, json_object_get(answer, "results"));
    json_decref(answer);
    if (!bad && !remote) {
        c->answer = answer_compose(c->question, c->arefs, c->nrefs, CHAT_ANSWER_MAX_BYTES);
        bad = c->answer == NULL;
        c->len = c->answer ? strlen(c->answer) : 0;
    }
    if (bad || arena_defer(req_arena(r), free_answer_cb, c) != 0) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    req_on_abort(r, chat_abort, c);
    if (!c->stream && !remote) {
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
    if (c->stream) {
        req_stream_start(r, 200, "text/event-stream; charset=utf-8");
        chat_event(c, "retrieval",
                   json_pack("{s:s,s:s,s:O}", "conversation_id", c->conv_id, "message_id",
                             c->msg_id, "references", c->refs));
        struct timeval tv = lx_tv_ms(c->cfg->ping_interval_ms);
        event_add(c->ping_ev, &tv);
    }
    if (!remote) {
        event_active(c->piece_ev, EV_TIMEOUT, 0);
        return;
    }
    if (chat_generate_openai(c) != 0)
        on_gen_done(c, LX_ENOMEM, "cannot start the chat model call");
}

/* ---- the request ------------------------------------------------------------------------ */

static void chat_retrieve(struct chat *c)
{
    c->rp.query = c->question;
    c->rp.top_k = c->top_k;
    c->rp.mode = RETR_HYBRID;
    retr_start(c->r, &c->rp, on_retrieved, c);
}

/* A conversation's last messages, oldest first; no row: no such conversation. */
#define STR_(x) #x
#define STR(x)  STR_(x)
static const char chat_history_sql[] =
    "SELECT m.role, m.content FROM conversations c LEFT JOIN LATERAL"
    " (SELECT role, content, seq FROM messages WHERE conversation_id = c.id"
    "  ORDER BY seq DESC LIMIT " STR(
        CHAT_HISTORY_MAX_MESSAGES) ") m ON true"
                                   " WHERE c.id = $1::uuid ORDER BY m.seq";

static void on_conversation(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct chat *c = ud;
    c->pg_op = NULL;
    if (err != LX_OK) {
        req_reply_db_error(c->r, msg);
        return;
    }
    if (PQntuples(res) == 0) {
        req_reply_error(c->r, LX_ENOTFOUND, "conversation %s not found", c->conv_id);
        return;
    }
    /* Its last messages, oldest first, for the model's prompt (a row of NULLs: none yet). */
    struct arena *a = req_arena(c->r);
    c->turns = arena_calloc(a, (size_t)PQntuples(res), sizeof *c->turns);
    for (int i = 0; c->turns != NULL && i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 0))
            continue;
        c->turns[c->nturns].role = arena_strdup(a, PQgetvalue(res, i, 0));
        c->turns[c->nturns].content = arena_strdup(a, PQgetvalue(res, i, 1));
        if (c->turns[c->nturns].role && c->turns[c->nturns].content)
            c->nturns++;
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

/* Both endpoints: the request's common fields, then retrieval (after the conversation's
 * history, when one is continued). */
static void chat_begin(struct req *r, int openai)
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
    c->openai = openai;
    c->created = (long)time(NULL);
    const char *conv = NULL;
    long max_tokens;
    json_t *temp = json_object_get(body, "temperature");
    if (chat_question(r, body, &c->question) != 0)
        return;
    if (openai) { /* OpenAI's fields: stream is off unless asked for */
        if (ja_string(r, body, "model", 0, 1, 128, &c->model) != 0 ||
            ja_bool(r, body, "stream", 0, &c->stream) != 0 ||
            ja_int(r, body, "max_tokens", 0, 1, 1000000, 0, &max_tokens) != 0)
            return;
        if (temp != NULL && !json_is_null(temp) &&
            (!json_is_number(temp) || json_number_value(temp) < 0 || json_number_value(temp) > 2)) {
            req_reply_error(r, LX_EINVAL, "temperature must be a number from 0 to 2");
            return;
        }
        if (c->model == NULL)
            c->model = "lexrag";
        c->top_k = (long)c->cfg->chat_top_k;
    } else if (ja_string(r, body, "conversation_id", 0, 1, 64, &conv) != 0 ||
               ja_int(r, body, "top_k", 0, 1, 20, (long)c->cfg->chat_top_k, &c->top_k) != 0 ||
               ja_bool(r, body, "stream", 1, &c->stream) != 0) {
        return;
    }
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
        chat_retrieve(c);
        return;
    }
    snprintf(c->conv_id, sizeof c->conv_id, "%s", conv);
    const char *params[] = {c->conv_id};
    req_on_abort(r, chat_abort_lookup, c);
    c->pg_op = pgc_query(b->pg, chat_history_sql, 1, params, (unsigned)c->cfg->pg_timeout_ms,
                         on_conversation, c);
    if (c->pg_op == NULL)
        req_reply_error(r, LX_ENOMEM, "out of memory");
}

void h_chat(struct req *r)
{
    chat_begin(r, 0);
}

void h_chat_completions(struct req *r)
{
    chat_begin(r, 1);
}
