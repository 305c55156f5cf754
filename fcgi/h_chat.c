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
#include "../shared/breaker.h"
#include "../shared/cfg.h"
#include "../shared/gen_openai.h"
#include "../shared/log.h"
#include "../shared/prompt.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/sse.h"
#include "backends.h"
#include "handlers.h"
#include "json_args.h"
#include "metrics.h"
#include "persist.h"
#include "req.h"
#include "req_parse.h"
#include "retrieve.h"
#include "worker.h"

#define CHAT_ANSWER_MAX_BYTES  6000
#define CHAT_SNIPPET_MAX_BYTES 240
#define CHAT_UUID_BYTES        37
/* Earlier messages read for the prompt; generator.history_max_chars trims them further. */
#define CHAT_HISTORY_MAX_MESSAGES 20
/* A question of at most this many words in a conversation is retrieved with the previous one. */
#define CHAT_FOLLOWUP_MAX_WORDS 6

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
    struct event *gen_timer; /* openai: first token, then idle, deadline */
    struct event *flow_ev;   /* openai: applies `paused` to the model's stream, from the loop */
    int paused;              /* the client is behind: the model's stream is not read */
    int gen_probe;           /* the call was let through the generator's breaker */
    int fallback;            /* the breaker is open: the built-in generator answers */
    char deadline_msg[120];  /* our own deadline's words, safe to send to the client */
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
    if (c->at == 0) {
        c->t_first = req_elapsed_ms(c->r);
        metrics_stage(MS_FIRST_TOKEN, c->t_first);
    }
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
    if (c->gen_timer != NULL)
        event_del(c->gen_timer);
    if (c->flow_ev != NULL)
        event_del(c->flow_ev);
    pgc_cancel(c->pg_op);
    c->pg_op = NULL;
    if (c->gen != NULL && c->gen_probe)
        breaker_release(&c->b->gen_breaker);
    gen_openai_cancel(c->gen);
    c->gen = NULL;
    if (c->answer != NULL)
        chat_persist(c, "interrupted");
}

/* ---- an OpenAI-compatible model ------------------------------------------------------- */

static void on_gen_drained(struct req *r, void *ud)
{
    struct chat *c = ud;
    (void)r;
    c->paused = 0;
    event_active(c->flow_ev, EV_TIMEOUT, 0);
    struct timeval tv = lx_tv_ms(c->cfg->gen_idle_timeout_ms);
    evtimer_add(c->gen_timer, &tv);
}

static void on_flow(evutil_socket_t fd, short what, void *ud)
{
    struct chat *c = ud;
    (void)fd;
    (void)what;
    gen_openai_pause(c->gen, c->paused);
}

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
    if (c->t_first == 0) {
        c->t_first = req_elapsed_ms(c->r);
        metrics_stage(MS_FIRST_TOKEN, c->t_first);
    }
    if (c->stream) {
        if (chat_event(c, "delta", json_pack("{s:s%}", "content", text, n)) != 0)
            return -1;
    }
    c->at = c->len;
    if (c->stream && !c->paused && req_stream_full(c->r)) { /* the client is behind */
        c->paused = 1;
        metrics_gen_paused();
        req_on_drain(c->r, on_gen_drained, c);
        event_active(c->flow_ev, EV_TIMEOUT, 0);
        event_del(c->gen_timer); /* the model is not silent: it is not being read */
    } else if (!c->paused) {
        struct timeval tv = lx_tv_ms(c->cfg->gen_idle_timeout_ms);
        evtimer_add(c->gen_timer, &tv);
    }
    return 0;
}

static void on_gen_done(void *ud, enum lx_err err, const char *msg)
{
    struct chat *c = ud;
    c->gen = NULL;
    event_del(c->gen_timer);
    event_del(c->flow_ev);
    if (c->gen_probe) {
        if (err == LX_OK)
            breaker_success(&c->b->gen_breaker);
        else if (err == LX_ECANCELED)
            breaker_release(&c->b->gen_breaker);
        else
            breaker_failure(&c->b->gen_breaker, lx_mono_ms());
        c->gen_probe = 0;
    }
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
    /* The upstream's own words (addresses, its error text) go to the log, not to the client. */
    log_warn(req_id(c->r), "msg=\"chat model failed\" error=%s detail=\"%s\"", lx_strerror(err),
             msg ? msg : "");
    const char *said = c->deadline_msg[0]   ? c->deadline_msg
                       : err == LX_ETIMEOUT ? "the chat model timed out"
                                            : "the chat model failed";
    if (!c->stream) {
        req_reply_error(c->r, LX_EUNAVAIL, "%s", said);
        return;
    }
    const char *code = err == LX_ETIMEOUT ? "timeout" : "unavailable";
    event_del(c->piece_ev);
    event_del(c->ping_ev);
    chat_event(c, "error", json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", said));
    req_stream_end(c->r);
    chat_persist(c, "failed");
}

/* The model sent no first token, or fell silent, past its deadline: the call is cancelled and
 * the stream ends with an error event (a failure for the breaker). */
static void on_gen_deadline(evutil_socket_t fd, short what, void *ud)
{
    struct chat *c = ud;
    (void)fd;
    (void)what;
    if (c->gen == NULL)
        return;
    gen_openai_cancel(c->gen);
    c->gen = NULL;
    int first = c->t_first == 0;
    metrics_leg_timeout(first ? "first_token" : "idle");
    char *msg = c->deadline_msg;
    snprintf(msg, sizeof c->deadline_msg, "the chat model sent %s within %lu ms",
             first ? "no first token" : "nothing more",
             first ? c->cfg->gen_first_token_timeout_ms : c->cfg->gen_idle_timeout_ms);
    on_gen_done(c, LX_ETIMEOUT, msg);
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
    struct event_base *base = worker_base(req_worker(c->r));
    c->gen_timer = evtimer_new(base, on_gen_deadline, c);
    c->flow_ev = event_new(base, -1, 0, on_flow, c);
    if (c->gen_timer == NULL || arena_defer(req_arena(c->r), free_event_cb, c->gen_timer) != 0 ||
        c->flow_ev == NULL || arena_defer(req_arena(c->r), free_event_cb, c->flow_ev) != 0) {
        json_decref(msgs);
        return -1;
    }
    c->gen = msgs ? gen_openai_start(c->b->http, &gc, msgs, on_gen_delta, on_gen_done, c) : NULL;
    json_decref(msgs);
    if (c->gen == NULL)
        return -1;
    struct timeval tv = lx_tv_ms(cf->gen_first_token_timeout_ms);
    evtimer_add(c->gen_timer, &tv);
    return 0;
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
    if (remote && !breaker_allow(&c->b->gen_breaker, lx_mono_ms())) {
        if (strcmp(c->cfg->gen_fallback, "extractive") != 0) {
            json_decref(answer);
            char s[16];
            snprintf(s, sizeof s, "%lu", c->cfg->retry_after_s);
            req_add_header(r, "Retry-After", s);
            req_reply_error(r, LX_EUNAVAIL, "the chat model is unavailable (circuit open)");
            return;
        }
        remote = 0; /* the built-in generator answers; the retrieval event says so */
        c->fallback = 1;
        metrics_fallback("extractive");
    }
    c->gen_probe = remote;
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
        json_t *ev = json_pack("{s:s,s:s,s:O}", "conversation_id", c->conv_id, "message_id",
                               c->msg_id, "references", c->refs);
        if (ev != NULL && c->fallback)
            json_object_set_new(ev, "degraded", json_pack("[s]", "generator"));
        chat_event(c, "retrieval", ev);
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

/* A short follow-up in a conversation ("bagaimana sanksinya?") names too little to retrieve by:
 * it is retrieved together with the previous question, for both generators. */
static const char *retrieval_query(struct chat *c)
{
    const char *prev = NULL;
    for (size_t i = c->nturns; i-- > 0;) {
        if (strcmp(c->turns[i].role, "user") == 0 && strcmp(c->turns[i].content, c->question)) {
            prev = c->turns[i].content;
            break;
        }
    }
    unsigned words = 0;
    for (const char *p = c->question; *p; p++)
        if ((p == c->question || p[-1] == ' ') && *p != ' ')
            words++;
    if (prev == NULL || words > CHAT_FOLLOWUP_MAX_WORDS)
        return c->question;
    size_t ql = strlen(c->question), pl = strlen(prev);
    if (ql + 1 >= LX_RETR_QUERY_MAX_CHARS)
        return c->question;
    if (pl > LX_RETR_QUERY_MAX_CHARS - ql - 1) { /* bytes bound characters; cut at UTF-8 */
        pl = LX_RETR_QUERY_MAX_CHARS - ql - 1;
        while (pl > 0 && ((unsigned char)prev[pl] & 0xc0) == 0x80)
            pl--;
    }
    char *q = arena_alloc(req_arena(c->r), pl + ql + 2);
    if (q == NULL)
        return c->question;
    memcpy(q, prev, pl);
    q[pl] = ' ';
    memcpy(q + pl + 1, c->question, ql + 1);
    return q;
}

static void chat_retrieve(struct chat *c)
{
    c->rp.query = retrieval_query(c);
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

/* The OpenAI form carries the conversation itself: its messages before the last user message
 * (validated by rp_chat) are the earlier turns, for the prompt and for a follow-up's retrieval. */
static int chat_turns_of_messages(struct chat *c, json_t *msgs)
{
    size_t n = json_array_size(msgs), last = n;
    for (size_t i = n; i-- > 0;) {
        const char *role = json_string_value(json_object_get(json_array_get(msgs, i), "role"));
        if (role != NULL && strcmp(role, "user") == 0) {
            last = i;
            break;
        }
    }
    if (last == 0 || last == n)
        return 0;
    c->turns = arena_calloc(req_arena(c->r), last, sizeof *c->turns);
    if (c->turns == NULL)
        return -1;
    for (size_t i = 0; i < last; i++) {
        json_t *m = json_array_get(msgs, i);
        const char *role = json_string_value(json_object_get(m, "role"));
        const char *text = json_string_value(json_object_get(m, "content"));
        if (role == NULL || text == NULL ||
            (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0))
            continue; /* system messages: the service's own system prompt stands */
        c->turns[c->nturns].role = role;
        c->turns[c->nturns].content = text;
        c->nturns++;
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
    struct rp_chat pc;
    struct rp_err e;
    if (rp_chat(body, openai, (long)c->cfg->chat_top_k, &pc, &e) != 0) {
        ja_reply(r, &e);
        return;
    }
    const char *conv = pc.conversation_id;
    c->question = pc.question;
    c->model = pc.model;
    c->top_k = pc.top_k;
    c->stream = pc.stream;
    if (openai && chat_turns_of_messages(c, json_object_get(body, "messages")) != 0) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
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
