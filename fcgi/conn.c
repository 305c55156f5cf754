/* fcgi/conn.c -- one FastCGI connection from the web server: socket, record parser, output
 * queue, at most one live request (FCGI_MPXS_CONNS=0; FCGI_KEEP_CONN serves many in turn).
 * Management records (FCGI_GET_VALUES, unknown types) are answered here. A protocol error
 * closes the connection (and aborts its request); the worker goes on. The conn is freed only
 * from the top of its own callbacks or from the reap list, never under a caller's feet. */
#include "conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fastcgi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shared/limits.h"
#include "../shared/log.h"
#include "fcgi_wire.h"
#include "req.h"
#include "worker.h"

struct conn {
    struct worker *w;
    struct bufferevent *bev;
    struct fcgi_parser parser;
    struct req *req;  /* the live request, or NULL */
    uint8_t begin[8]; /* FCGI_BEGIN_REQUEST body being read */
    size_t begin_len;
    struct fcgi_pairs values; /* FCGI_GET_VALUES being read */
    uint8_t *values_out;      /* its answer being built */
    size_t values_len;
    int closing; /* flush the output, then free */
    int dead;    /* freed from the reap list */
    struct reap_node reap;
};

static void conn_free_now(void *p);

static void conn_kill(struct conn *c, enum lx_err why)
{
    if (c->dead)
        return;
    c->dead = 1;
    if (c->req != NULL) {
        struct req *r = c->req;
        c->req = NULL;
        req_abort(r, why);
    }
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    worker_reap(c->w, &c->reap, conn_free_now, c);
}

static void conn_free_now(void *p)
{
    struct conn *c = p;
    fcgi_pairs_free(&c->values);
    free(c->values_out);
    bufferevent_free(c->bev); /* closes the socket */
    worker_conn_closed(c->w, c);
    free(c);
}

void conn_close(struct conn *c)
{
    conn_kill(c, LX_ECANCELED);
}

int conn_is_idle(const struct conn *c)
{
    return c->req == NULL;
}

size_t conn_out_bytes(const struct conn *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

int conn_write(struct conn *c, uint8_t type, uint16_t id, const void *p, size_t n)
{
    if (c->dead)
        return -1;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const uint8_t *b = p;
    static const uint8_t zeros[8];
    do { /* n == 0 writes one empty record: the end of a stream */
        size_t take = n > LX_FCGI_WRITE_CHUNK_BYTES ? LX_FCGI_WRITE_CHUNK_BYTES : n;
        uint8_t hdr[FCGI_HEADER_LEN];
        uint8_t pad = fcgi_pad_for(take);
        fcgi_hdr_encode(hdr, type, id, (uint16_t)take, pad);
        if (evbuffer_add(out, hdr, sizeof hdr) != 0 || evbuffer_add(out, b, take) != 0 ||
            evbuffer_add(out, zeros, pad) != 0)
            return -1;
        b += take;
        n -= take;
    } while (n > 0);
    return 0;
}

static void conn_write_end(struct conn *c, uint16_t id, uint32_t app_status, uint8_t proto)
{
    uint8_t body[8];
    fcgi_end_body_encode(body, app_status, proto);
    conn_write(c, FCGI_END_REQUEST, id, body, sizeof body);
}

static void conn_maybe_finish_close(struct conn *c)
{
    if (c->closing && !c->dead && c->req == NULL && conn_out_bytes(c) == 0)
        conn_kill(c, LX_OK);
}

void conn_end_request(struct conn *c, struct req *r, uint32_t app_status)
{
    if (c->req != r)
        return;
    c->req = NULL;
    conn_write(c, FCGI_STDOUT, req_fcgi_id(r), NULL, 0);
    conn_write_end(c, req_fcgi_id(r), app_status, FCGI_REQUEST_COMPLETE);
    if (c->closing || worker_stopping(c->w)) {
        c->closing = 1;
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0); /* be told when all is out */
        conn_maybe_finish_close(c);
    }
}

/* ---- management records ------------------------------------------------------------------ */

static enum lx_err on_value_name(void *ud, const char *name, size_t nlen, const char *value,
                                 size_t vlen)
{
    struct conn *c = ud;
    char v[32];
    (void)value;
    (void)vlen;
    if (strcmp(name, FCGI_MAX_CONNS) == 0 || strcmp(name, FCGI_MAX_REQS) == 0)
        snprintf(v, sizeof v, "%lu", worker_cfg(c->w)->max_conns);
    else if (strcmp(name, FCGI_MPXS_CONNS) == 0)
        snprintf(v, sizeof v, "0");
    else
        return LX_OK; /* unknown names are left out of the answer */
    size_t need = fcgi_pair_encode(NULL, 0, name, nlen, v, strlen(v));
    if (c->values_len + need > 4096)
        return LX_ETOOBIG;
    uint8_t *nb = realloc(c->values_out, c->values_len + need);
    if (nb == NULL)
        return LX_ENOMEM;
    c->values_out = nb;
    fcgi_pair_encode(nb + c->values_len, need, name, nlen, v, strlen(v));
    c->values_len += need;
    return LX_OK;
}

static enum lx_err conn_get_values_done(struct conn *c)
{
    enum lx_err e = fcgi_pairs_finish(&c->values);
    if (e == LX_OK && conn_write(c, FCGI_GET_VALUES_RESULT, 0, c->values_out, c->values_len) != 0)
        e = LX_ENOMEM;
    fcgi_pairs_free(&c->values);
    free(c->values_out);
    c->values_out = NULL;
    c->values_len = 0;
    return e;
}

static void conn_unknown_type(struct conn *c, uint8_t type)
{
    uint8_t body[8] = {type, 0, 0, 0, 0, 0, 0, 0}; /* FCGI_UnknownTypeBody */
    conn_write(c, FCGI_UNKNOWN_TYPE, 0, body, sizeof body);
}

/* ---- parser callbacks -------------------------------------------------------------------- */

static enum lx_err on_rec_begin(void *ud, const struct fcgi_hdr *h)
{
    struct conn *c = ud;
    if (h->type == FCGI_BEGIN_REQUEST) {
        if (h->id == 0 || h->clen != sizeof c->begin)
            return LX_EPROTO;
        c->begin_len = 0;
    } else if (h->type == FCGI_GET_VALUES) {
        if (h->id != 0)
            return LX_EPROTO;
        fcgi_pairs_free(&c->values);
        fcgi_pairs_init(&c->values, 4096, on_value_name, c);
    }
    return LX_OK;
}

static int conn_owns(const struct conn *c, uint16_t id)
{
    return c->req != NULL && req_fcgi_id(c->req) == id;
}

static enum lx_err on_rec_data(void *ud, const struct fcgi_hdr *h, const uint8_t *p, size_t n)
{
    struct conn *c = ud;
    switch (h->type) {
    case FCGI_BEGIN_REQUEST:
        memcpy(c->begin + c->begin_len, p, n); /* clen is 8: checked at the header */
        c->begin_len += n;
        return LX_OK;
    case FCGI_PARAMS: return conn_owns(c, h->id) ? req_feed_params(c->req, p, n) : LX_OK;
    case FCGI_STDIN: return conn_owns(c, h->id) ? req_feed_stdin(c->req, p, n) : LX_OK;
    case FCGI_GET_VALUES: return fcgi_pairs_feed(&c->values, p, n);
    default: return LX_OK; /* FCGI_DATA, ABORT bodies, unknown types: ignored */
    }
}

static enum lx_err conn_begin_request(struct conn *c, uint16_t id)
{
    unsigned role = (unsigned)c->begin[0] << 8 | c->begin[1];
    int keep = c->begin[2] & FCGI_KEEP_CONN;
    if (c->req != NULL) { /* one request at a time: FCGI_MPXS_CONNS=0 */
        conn_write_end(c, id, 0, FCGI_CANT_MPX_CONN);
        return LX_OK;
    }
    if (role != FCGI_RESPONDER) {
        conn_write_end(c, id, 0, FCGI_UNKNOWN_ROLE);
        if (!keep)
            c->closing = 1;
        return LX_OK;
    }
    if (worker_stopping(c->w)) {
        conn_write_end(c, id, 0, FCGI_OVERLOADED);
        c->closing = 1;
        return LX_OK;
    }
    c->closing = !keep;
    c->req = req_new(c->w, c, id, keep);
    if (c->req == NULL) {
        conn_write_end(c, id, 0, FCGI_OVERLOADED);
        c->closing = 1;
    }
    return LX_OK;
}

static enum lx_err on_rec_end(void *ud, const struct fcgi_hdr *h)
{
    struct conn *c = ud;
    switch (h->type) {
    case FCGI_BEGIN_REQUEST: return conn_begin_request(c, h->id);
    case FCGI_ABORT_REQUEST:
        if (conn_owns(c, h->id)) {
            struct req *r = c->req;
            req_abort(r, LX_ECANCELED); /* ends it: END_REQUEST goes out */
        }
        return LX_OK;
    case FCGI_PARAMS:
        if (h->clen == 0 && conn_owns(c, h->id))
            return req_feed_params(c->req, NULL, 0);
        return LX_OK;
    case FCGI_STDIN:
        if (h->clen == 0 && conn_owns(c, h->id))
            return req_feed_stdin(c->req, NULL, 0);
        return LX_OK;
    case FCGI_GET_VALUES: return conn_get_values_done(c);
    case FCGI_DATA: return LX_OK;
    case FCGI_STDOUT:
    case FCGI_STDERR:
    case FCGI_END_REQUEST:
    case FCGI_GET_VALUES_RESULT:
    case FCGI_UNKNOWN_TYPE: return LX_EPROTO; /* only an application sends these */
    default:
        if (h->id == 0)
            conn_unknown_type(c, h->type);
        return LX_OK;
    }
}

static const struct fcgi_parser_cbs conn_parser_cbs = {on_rec_begin, on_rec_data, on_rec_end};

/* ---- socket callbacks -------------------------------------------------------------------- */

static void on_read(struct bufferevent *bev, void *ud)
{
    struct conn *c = ud;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!c->dead && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = fcgi_parse(&c->parser, v.iov_base, v.iov_len);
        evbuffer_drain(in, used);
        if (c->parser.err != LX_OK) {
            log_warn(NULL, "msg=\"closing FastCGI connection\" reason=\"%s\"",
                     lx_strerror(c->parser.err));
            conn_kill(c, c->parser.err);
        }
    }
    conn_maybe_finish_close(c);
}

static void on_write(struct bufferevent *bev, void *ud)
{
    struct conn *c = ud;
    (void)bev;
    if (c->req != NULL)
        req_drained(c->req);
    conn_maybe_finish_close(c);
}

static void on_event(struct bufferevent *bev, short what, void *ud)
{
    struct conn *c = ud;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if ((what & BEV_EVENT_ERROR) || fcgi_parser_midrecord(&c->parser) || c->req != NULL)
            log_debug(NULL, "msg=\"web server closed the connection\" live_request=%d",
                      c->req != NULL);
        conn_kill(c, LX_ECANCELED);
    }
}

struct conn *conn_new(struct worker *w, int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        evutil_closesocket(fd);
        return NULL;
    }
    c->w = w;
    c->bev = bufferevent_socket_new(worker_base(w), fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return NULL;
    }
    fcgi_parser_init(&c->parser, &conn_parser_cbs, c);
    fcgi_pairs_init(&c->values, 4096, on_value_name, c);
    const struct cfg *cfg = worker_cfg(w);
    bufferevent_setwatermark(c->bev, EV_WRITE, cfg->out_low_bytes, 0);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    worker_conn_opened(w, c);
    return c;
}
