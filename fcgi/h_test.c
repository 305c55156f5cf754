/* fcgi/h_test.c -- test-only routes, served only with server.test_routes on. They let the
 * tests prove the worker's concurrency, streaming and backpressure through real web servers:
 *   GET  /api/_test/hold?ms=N            answer after N ms on a libevent timer
 *   GET  /api/_test/stream?chunks=N&interval_ms=M&bytes=B
 *                                        B-byte lines, the first at once, then one every M ms
 *                                        (M = 0: as fast as backpressure allows)
 *   POST /api/_test/echo                 validate {"query": string, "top_k": int} and echo it */
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../shared/arena.h"
#include "../shared/lx_time.h"
#include "handlers.h"
#include "json_args.h"
#include "req.h"
#include "worker.h"

/* Chunks written per turn of the loop when interval_ms is 0, so others get their turn. */
#define TEST_STREAM_BURST 16

/* An unsigned query parameter in [min, max] with a default; -1 after replying 400. */
static int query_ulong(struct req *r, const char *name, unsigned long min, unsigned long max,
                       unsigned long def, unsigned long *out)
{
    const char *s = req_query(r, name);
    *out = def;
    if (s == NULL)
        return 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < min || v > max) {
        req_reply_error(r, LX_EINVAL, "%s must be a whole number from %lu to %lu", name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static void free_event_cb(void *p)
{
    event_free(p);
}

/* A timer owned by the request's arena; NULL after replying 503. */
static struct event *req_timer(struct req *r, event_callback_fn fn, void *ud)
{
    struct event *ev = evtimer_new(worker_base(req_worker(r)), fn, ud);
    if (ev == NULL || arena_defer(req_arena(r), free_event_cb, ev) != 0) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return NULL;
    }
    return ev;
}

/* ---- hold ------------------------------------------------------------------------------- */

struct hold {
    struct req *r;
    struct event *ev;
    unsigned long ms;
};

static void hold_done(evutil_socket_t fd, short what, void *ud)
{
    struct hold *h = ud;
    (void)fd;
    (void)what;
    req_reply_json(h->r, 200, json_pack("{s:i,s:i}", "held_ms", (int)h->ms, "pid", (int)getpid()));
}

static void hold_abort(struct req *r, void *ud)
{
    struct hold *h = ud;
    (void)r;
    event_del(h->ev);
}

void h_test_hold(struct req *r)
{
    struct hold *h = arena_calloc(req_arena(r), 1, sizeof *h);
    if (h == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    h->r = r;
    if (query_ulong(r, "ms", 0, 60000, 500, &h->ms) != 0)
        return;
    if ((h->ev = req_timer(r, hold_done, h)) == NULL)
        return;
    struct timeval tv = lx_tv_ms(h->ms);
    evtimer_add(h->ev, &tv);
    req_on_abort(r, hold_abort, h);
}

/* ---- stream ----------------------------------------------------------------------------- */

struct stream {
    struct req *r;
    struct event *ev;
    unsigned long chunks, interval_ms, bytes, sent;
    char *line;
};

static void stream_tick(evutil_socket_t fd, short what, void *ud);

static void stream_drained(struct req *r, void *ud)
{
    struct stream *s = ud;
    (void)r;
    event_active(s->ev, EV_TIMEOUT, 0);
}

static void stream_abort(struct req *r, void *ud)
{
    struct stream *s = ud;
    (void)r;
    event_del(s->ev);
}

static void stream_tick(evutil_socket_t fd, short what, void *ud)
{
    struct stream *s = ud;
    (void)fd;
    (void)what;
    unsigned burst = s->interval_ms == 0 ? TEST_STREAM_BURST : 1;
    for (unsigned i = 0; i < burst && s->sent < s->chunks; i++) {
        if (req_stream_full(s->r)) { /* backpressure: wait for the drain */
            req_on_drain(s->r, stream_drained, s);
            return;
        }
        int n = snprintf(s->line, s->bytes, "chunk %lu ", s->sent);
        memset(s->line + n, '.', s->bytes - (size_t)n - 1);
        s->line[s->bytes - 1] = '\n';
        if (req_stream_write(s->r, s->line, s->bytes) != 0)
            return;
        s->sent++;
    }
    if (s->sent >= s->chunks) {
        req_stream_end(s->r);
        return;
    }
    struct timeval tv = lx_tv_ms(s->interval_ms);
    evtimer_add(s->ev, &tv);
}

void h_test_stream(struct req *r)
{
    struct stream *s = arena_calloc(req_arena(r), 1, sizeof *s);
    if (s == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    s->r = r;
    if (query_ulong(r, "chunks", 1, 1000000, 5, &s->chunks) != 0 ||
        query_ulong(r, "interval_ms", 0, 10000, 200, &s->interval_ms) != 0 ||
        query_ulong(r, "bytes", 32, 1 << 20, 64, &s->bytes) != 0)
        return;
    if ((s->line = arena_alloc(req_arena(r), s->bytes)) == NULL) {
        req_reply_error(r, LX_ENOMEM, "out of memory");
        return;
    }
    if ((s->ev = req_timer(r, stream_tick, s)) == NULL)
        return;
    req_stream_start(r, 200, "text/plain; charset=utf-8");
    req_on_abort(r, stream_abort, s);
    event_active(s->ev, EV_TIMEOUT, 0); /* the first chunk at once, from the loop */
}

/* ---- echo ------------------------------------------------------------------------------- */

void h_test_echo(struct req *r)
{
    json_t *body = ja_body_object(r);
    const char *query;
    long top_k;
    if (body == NULL || ja_string(r, body, "query", 1, 1, 2000, &query) != 0 ||
        ja_int(r, body, "top_k", 0, 1, 100, 10, &top_k) != 0)
        return;
    req_reply_json(r, 200, json_pack("{s:s,s:i}", "query", query, "top_k", (int)top_k));
}
