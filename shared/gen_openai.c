/* shared/gen_openai.c -- streamed chat completions (gen_openai.h). */
#include "gen_openai.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"
#include "up_multi.h"

/* One chat.completion.chunk is small; anything near this is not a chunk. */
#define GEN_EVENT_MAX_BYTES (256 * 1024)

struct gen_call {
    struct up_call *up;
    struct sse_parser sse;
    gen_delta_fn delta;
    gen_done_fn done;
    void *ud;
    int got_done, stopped;
    enum lx_err err;
    char msg[200];
};

static void gen_free(struct gen_call *g)
{
    sse_free(&g->sse);
    free(g);
}

static enum lx_err on_event(void *ud, const struct sse_event *ev)
{
    struct gen_call *g = ud;
    if (sse_is_done(ev)) {
        g->got_done = 1;
        return LX_OK;
    }
    json_t *j = json_loadb(ev->data, ev->data_len, 0, NULL);
    if (j == NULL) {
        snprintf(g->msg, sizeof g->msg, "the chat stream sent an event that is not JSON");
        return LX_EPROTO;
    }
    json_t *err = json_object_get(j, "error");
    if (err != NULL) {
        const char *m = json_string_value(json_object_get(err, "message"));
        snprintf(g->msg, sizeof g->msg, "the chat upstream failed: %s", m ? m : "error event");
        json_decref(j);
        return LX_EUPSTREAM;
    }
    json_t *choice = json_array_get(json_object_get(j, "choices"), 0);
    json_t *content = json_object_get(json_object_get(choice, "delta"), "content");
    enum lx_err e = LX_OK;
    if (json_is_string(content) && json_string_length(content) > 0 &&
        g->delta(g->ud, json_string_value(content), json_string_length(content)) != 0)
        e = LX_ECANCELED;
    json_decref(j);
    return e;
}

static int on_bytes(void *ud, const char *p, size_t n)
{
    struct gen_call *g = ud;
    if (g->stopped)
        return -1;
    enum lx_err e = sse_feed(&g->sse, p, n);
    if (e != LX_OK) {
        g->err = e;
        if (g->msg[0] == '\0')
            snprintf(g->msg, sizeof g->msg, "the chat stream broke: %s", lx_strerror(e));
        g->stopped = 1;
        return -1;
    }
    return 0;
}

static void on_http_done(void *ud, enum lx_err err, long status, const char *body, size_t len,
                         const char *errmsg)
{
    struct gen_call *g = ud;
    (void)body;
    (void)len;
    if (g->err != LX_OK) { /* stopped by an event: that error is the one */
        g->done(g->ud, g->err, g->msg);
    } else if (err != LX_OK) {
        snprintf(g->msg, sizeof g->msg, "chat upstream: %s (HTTP %ld)",
                 errmsg ? errmsg : lx_strerror(err), status);
        g->done(g->ud, err, g->msg);
    } else if (!g->got_done) {
        g->done(g->ud, LX_EUPSTREAM, "the chat stream ended before [DONE]");
    } else {
        g->done(g->ud, LX_OK, NULL);
    }
    gen_free(g);
}

struct gen_call *gen_openai_start(struct up_multi *m, const struct gen_openai_cfg *c,
                                  json_t *messages, gen_delta_fn delta, gen_done_fn done, void *ud)
{
    struct gen_call *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->delta = delta;
    g->done = done;
    g->ud = ud;
    sse_init(&g->sse, GEN_EVENT_MAX_BYTES, on_event, g);
    json_t *req = json_pack("{s:s,s:O,s:b,s:f}", "model", c->model, "messages", messages, "stream",
                            1, "temperature", c->temperature);
    if (req != NULL && c->max_tokens > 0)
        json_object_set_new(req, "max_tokens", json_integer(c->max_tokens));
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (body != NULL)
        g->up = up_post(m, c->url, c->api_key, body, strlen(body), c->timeout_ms, on_bytes,
                        on_http_done, g);
    free(body);
    if (g->up == NULL) {
        gen_free(g);
        return NULL;
    }
    return g;
}

void gen_openai_pause(struct gen_call *g, int paused)
{
    if (g != NULL)
        up_pause(g->up, paused);
}

void gen_openai_cancel(struct gen_call *g)
{
    if (g == NULL)
        return;
    up_cancel(g->up); /* no callback runs after this: free now */
    gen_free(g);
}
