/* fcgi/req.c -- one request: params, body, routing, responses, deadline, abort, end (req.h).
 * Everything the request holds lives in its arena, freed from the worker's reap list after
 * FCGI_END_REQUEST, so no callback ever runs on freed memory. */
#include "req.h"

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fastcgi.h>
#include <sys/queue.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../shared/arena.h"
#include "../shared/limits.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "conn.h"
#include "fcgi_wire.h"
#include "http_status.h"
#include "metrics.h"
#include "route.h"
#include "worker.h"

enum req_state { RS_PARAMS, RS_STDIN, RS_HANDLER, RS_DONE };

struct req_param {
    struct req_param *next;
    const char *name, *value;
};

struct req_header {
    struct req_header *next;
    const char *line; /* "Name: value" */
};

struct req {
    struct arena *arena;
    struct worker *w;
    struct conn *conn; /* NULL once ended */
    uint16_t fcgi_id;
    enum req_state state;
    unsigned aborted : 1, headers_sent : 1, streaming : 1, params_done : 1, query_parsed : 1;
    struct fcgi_pairs pairs;
    struct req_param *params;
    const char *method, *path, *query_string;
    const char *route;     /* static: the route table's path */
    const char *principal; /* the API key's name (arena), or NULL */
    char id[LX_REQUEST_ID_MAX_BYTES + 1];
    unsigned long content_length;
    int has_content_length;
    uint8_t *body;
    size_t body_len, body_cap;
    struct evkeyvalq query;
    struct req_header *headers;
    int status;
    size_t bytes_out;
    double t0_ms;
    struct event *deadline;
    req_hook abort_fn, drain_fn;
    void *abort_ud, *drain_ud;
    struct reap_node reap;
};

/* ---- life ------------------------------------------------------------------------------- */

static void free_deadline(void *p)
{
    event_free(p);
}

static void free_pairs(void *p)
{
    fcgi_pairs_free(p);
}

static void free_query(void *p)
{
    evhttp_clear_headers(p);
}

static void on_deadline(evutil_socket_t fd, short what, void *ud);
static enum lx_err on_param(void *ud, const char *name, size_t nlen, const char *value,
                            size_t vlen);

struct req *req_new(struct worker *w, struct conn *c, uint16_t id, int keep_conn)
{
    (void)keep_conn; /* the connection keeps or closes itself */
    struct arena *a = arena_new(LX_REQ_ARENA_BLOCK_BYTES);
    struct req *r = a != NULL ? arena_calloc(a, 1, sizeof *r) : NULL;
    if (r == NULL) {
        arena_free(a);
        return NULL;
    }
    r->arena = a;
    r->w = w;
    r->conn = c;
    r->fcgi_id = id;
    r->state = RS_PARAMS;
    r->t0_ms = lx_now_ms();
    r->method = "-";
    r->path = "-";
    fcgi_pairs_init(&r->pairs, LX_FCGI_PARAMS_MAX_BYTES, on_param, r);
    TAILQ_INIT(&r->query);
    r->deadline = evtimer_new(worker_base(w), on_deadline, r);
    if (r->deadline == NULL || arena_defer(a, free_deadline, r->deadline) != 0 ||
        arena_defer(a, free_pairs, &r->pairs) != 0) {
        arena_free(a);
        return NULL;
    }
    unsigned long ms = worker_cfg(w)->request_timeout_ms;
    struct timeval tv = lx_tv_ms(ms);
    evtimer_add(r->deadline, &tv);
    worker_req_started(w);
    return r;
}

static void req_free_now(void *p)
{
    struct req *r = p;
    arena_free(r->arena); /* r itself lives in it */
}

static void req_access_log(struct req *r)
{
    if (!worker_cfg(r->w)->access_log)
        return;
    char m[32], path[256], key[80];
    log_info(r->id, "msg=access method=%s path=%s status=%d bytes=%zu ms=%.3f%s%s",
             log_quote(m, sizeof m, r->method), log_quote(path, sizeof path, r->path), r->status,
             r->bytes_out, req_elapsed_ms(r), r->principal ? " key=" : "",
             r->principal ? log_quote(key, sizeof key, r->principal) : "");
}

/* The one way out: END_REQUEST (if the connection still wants it), log, reap. */
static void req_finish(struct req *r)
{
    if (r->state == RS_DONE)
        return;
    r->state = RS_DONE;
    event_del(r->deadline);
    if (r->conn != NULL)
        conn_end_request(r->conn, r, 0);
    r->conn = NULL;
    req_access_log(r);
    metrics_request(r->route ? r->route : "unmatched", r->status, req_elapsed_ms(r));
    worker_req_finished(r->w);
    worker_reap(r->w, &r->reap, req_free_now, r);
}

static void req_run_abort_hook(struct req *r)
{
    req_hook fn = r->abort_fn;
    r->abort_fn = NULL;
    r->drain_fn = NULL;
    if (fn != NULL)
        fn(r, r->abort_ud);
}

void req_abort(struct req *r, enum lx_err why)
{
    if (r->state == RS_DONE)
        return;
    r->aborted = 1;
    if (!r->headers_sent)
        r->status = http_err_of(why).status;
    log_debug(r->id, "msg=\"request aborted\" reason=\"%s\"", lx_strerror(why));
    req_run_abort_hook(r);
    req_finish(r);
}

static void on_deadline(evutil_socket_t fd, short what, void *ud)
{
    struct req *r = ud;
    (void)fd;
    (void)what;
    log_warn(r->id, "msg=\"request deadline passed\" path=%s ms=%.0f", r->path, req_elapsed_ms(r));
    req_run_abort_hook(r);
    if (r->state == RS_DONE)
        return;
    if (!r->headers_sent)
        req_reply_error(r, LX_ETIMEOUT, "the request took longer than %lu ms",
                        worker_cfg(r->w)->request_timeout_ms);
    else
        req_stream_end(r);
}

/* ---- input ------------------------------------------------------------------------------ */

static int request_id_sane(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == ':'))
            return 0;
    }
    return n > 0 && n <= LX_REQUEST_ID_MAX_BYTES;
}

static enum lx_err on_param(void *ud, const char *name, size_t nlen, const char *value, size_t vlen)
{
    struct req *r = ud;
    struct req_param *p = arena_alloc(r->arena, sizeof *p);
    if (p == NULL)
        return LX_ENOMEM;
    p->name = arena_strndup(r->arena, name, nlen);
    p->value = arena_strndup(r->arena, value, vlen);
    if (p->name == NULL || p->value == NULL)
        return LX_ENOMEM;
    p->next = r->params;
    r->params = p;
    return LX_OK;
}

const char *req_param(const struct req *r, const char *name)
{
    for (const struct req_param *p = r->params; p != NULL; p = p->next)
        if (strcmp(p->name, name) == 0)
            return p->value;
    return NULL;
}

/* Path from REQUEST_URI (Apache and lighttpd both send it), else SCRIPT_NAME + PATH_INFO. */
static void req_take_path(struct req *r)
{
    const char *uri = req_param(r, "REQUEST_URI");
    const char *q = NULL;
    if (uri != NULL && uri[0] == '/') {
        q = strchr(uri, '?');
        size_t n = q != NULL ? (size_t)(q - uri) : strlen(uri);
        char *raw = arena_strndup(r->arena, uri, n > LX_PATH_MAX_BYTES ? LX_PATH_MAX_BYTES : n);
        char *dec = raw != NULL ? evhttp_uridecode(raw, 0, NULL) : NULL;
        r->path = dec != NULL ? arena_strdup(r->arena, dec) : raw;
        free(dec);
        r->query_string = q != NULL ? q + 1 : "";
    } else {
        const char *sn = req_param(r, "SCRIPT_NAME"), *pi = req_param(r, "PATH_INFO");
        r->path = arena_printf(r->arena, "%s%s", sn ? sn : "", pi ? pi : "");
        r->query_string = req_param(r, "QUERY_STRING");
    }
    if (r->path == NULL || r->path[0] == '\0')
        r->path = "/";
    if (r->query_string == NULL)
        r->query_string = "";
}

static void req_params_done(struct req *r)
{
    const char *m = req_param(r, "REQUEST_METHOD");
    r->method = m != NULL && m[0] != '\0' ? m : "GET";
    req_take_path(r);
    const char *rid = req_param(r, "HTTP_X_REQUEST_ID");
    if (rid != NULL && request_id_sane(rid))
        snprintf(r->id, sizeof r->id, "%s", rid);
    else
        worker_new_request_id(r->w, r->id);
    const char *cl = req_param(r, "CONTENT_LENGTH");
    if (cl != NULL && cl[0] != '\0') {
        char *end;
        r->content_length = strtoul(cl, &end, 10);
        r->has_content_length = *end == '\0' && cl[0] != '-';
    }
    r->state = RS_STDIN;
}

enum lx_err req_feed_params(struct req *r, const uint8_t *p, size_t n)
{
    if (r->state != RS_PARAMS)
        return r->state == RS_DONE ? LX_OK : LX_EPROTO;
    if (n > 0)
        return fcgi_pairs_feed(&r->pairs, p, n); /* LX_ETOOBIG closes the connection */
    enum lx_err e = fcgi_pairs_finish(&r->pairs);
    if (e != LX_OK)
        return e;
    fcgi_pairs_free(&r->pairs);
    req_params_done(r);
    unsigned long max = worker_cfg(r->w)->max_body_bytes;
    if (r->has_content_length && r->content_length > max)
        req_reply_error(r, LX_ETOOBIG, "request body is larger than %lu bytes", max);
    return LX_OK;
}

static void free_body(void *p)
{
    free(*(void **)p);
}

enum lx_err req_feed_stdin(struct req *r, const uint8_t *p, size_t n)
{
    if (r->state != RS_STDIN)
        return r->state == RS_PARAMS ? LX_EPROTO : LX_OK; /* answered early: discard */
    if (n == 0) {
        r->state = RS_HANDLER;
        route_dispatch(r);
        return LX_OK;
    }
    unsigned long max = worker_cfg(r->w)->max_body_bytes;
    if (r->body_len + n > max) {
        req_reply_error(r, LX_ETOOBIG, "request body is larger than %lu bytes", max);
        return LX_OK;
    }
    if (r->body_len + n + 1 > r->body_cap) {
        size_t cap =
            r->body_cap == 0
                ? (r->has_content_length && r->content_length <= max ? r->content_length + 1 : 4096)
                : r->body_cap;
        while (cap < r->body_len + n + 1)
            cap *= 2;
        uint8_t *nb = realloc(r->body, cap);
        if (nb == NULL)
            return LX_ENOMEM;
        if (r->body == NULL && arena_defer(r->arena, free_body, &r->body) != 0) {
            free(nb);
            return LX_ENOMEM;
        }
        r->body = nb;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, p, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    return LX_OK;
}

/* ---- accessors -------------------------------------------------------------------------- */

void req_set_route(struct req *r, const char *route)
{
    r->route = route;
}

void req_set_principal(struct req *r, const char *name)
{
    r->principal = arena_strdup(r->arena, name);
}

uint16_t req_fcgi_id(const struct req *r)
{
    return r->fcgi_id;
}

struct arena *req_arena(struct req *r)
{
    return r->arena;
}

struct worker *req_worker(struct req *r)
{
    return r->w;
}

const char *req_id(const struct req *r)
{
    return r->id;
}

const char *req_method(const struct req *r)
{
    return r->method;
}

const char *req_path(const struct req *r)
{
    return r->path;
}

const char *req_query(struct req *r, const char *name)
{
    if (!r->query_parsed) {
        r->query_parsed = 1;
        if (evhttp_parse_query_str(r->query_string, &r->query) == 0)
            arena_defer(r->arena, free_query, &r->query);
        else
            evhttp_clear_headers(&r->query);
    }
    return evhttp_find_header(&r->query, name);
}

const uint8_t *req_body(const struct req *r, size_t *len)
{
    *len = r->body_len;
    return r->body != NULL ? r->body : (const uint8_t *)"";
}

double req_elapsed_ms(const struct req *r)
{
    return lx_now_ms() - r->t0_ms;
}

int req_is_done(const struct req *r)
{
    return r->state == RS_DONE;
}

void req_on_abort(struct req *r, req_hook fn, void *ud)
{
    r->abort_fn = fn;
    r->abort_ud = ud;
}

void req_on_drain(struct req *r, req_hook fn, void *ud)
{
    r->drain_fn = fn;
    r->drain_ud = ud;
}

void req_drained(struct req *r)
{
    if (r->drain_fn == NULL || req_stream_full(r))
        return;
    req_hook fn = r->drain_fn;
    r->drain_fn = NULL;
    fn(r, r->drain_ud);
}

/* ---- output ----------------------------------------------------------------------------- */

void req_add_header(struct req *r, const char *name, const char *value)
{
    if (r->headers_sent || r->state == RS_DONE)
        return;
    struct req_header *h = arena_alloc(r->arena, sizeof *h);
    if (h == NULL || (h->line = arena_printf(r->arena, "%s: %s", name, value)) == NULL)
        return;
    h->next = r->headers;
    r->headers = h;
}

/* Send the CGI header block; content_length < 0 means streamed (no Content-Length). */
static int req_send_headers(struct req *r, int status, const char *ctype, long content_length)
{
    char head[2048];
    int n = snprintf(head, sizeof head, "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n",
                     status, http_reason(status), ctype, r->id);
    for (const struct req_header *h = r->headers; h != NULL && n > 0 && (size_t)n < sizeof head;
         h = h->next)
        n += snprintf(head + n, sizeof head - (size_t)n, "%s\r\n", h->line);
    if (content_length >= 0 && n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %ld\r\n", content_length);
    else if (n > 0 && (size_t)n < sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
    if (n < 0 || (size_t)n + 2 >= sizeof head)
        return -1;
    head[n++] = '\r';
    head[n++] = '\n';
    r->status = status;
    r->headers_sent = 1;
    return conn_write(r->conn, FCGI_STDOUT, r->fcgi_id, head, (size_t)n);
}

void req_reply(struct req *r, int status, const char *content_type, const void *body, size_t n)
{
    if (r->state == RS_DONE || r->headers_sent || r->conn == NULL)
        return;
    r->abort_fn = r->drain_fn = NULL; /* the handler has finished */
    if (req_send_headers(r, status, content_type, (long)n) == 0 && n > 0 &&
        conn_write(r->conn, FCGI_STDOUT, r->fcgi_id, body, n) == 0)
        r->bytes_out = n;
    req_finish(r);
}

void req_reply_json(struct req *r, int status, json_t *body)
{
    char *s = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
    json_decref(body);
    if (s == NULL) {
        req_reply(r, 503, "application/json",
                  "{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}", 58);
        return;
    }
    size_t n = strlen(s);
    s[n] = '\n'; /* replaces the NUL: the body is sent by length */
    req_reply(r, status, "application/json", s, n + 1);
    free(s);
}

static void req_reply_error_va(struct req *r, int status, const char *code, const char *fmt,
                               va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (status >= 500)
        log_warn(r->id, "msg=\"request failed\" status=%d code=%s detail=\"%s\"", status, code,
                 msg);
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
    req_reply_json(r, status, j);
}

void req_reply_error(struct req *r, enum lx_err e, const char *fmt, ...)
{
    struct http_err he = http_err_of(e);
    va_list ap;
    va_start(ap, fmt);
    req_reply_error_va(r, he.status, he.code, fmt, ap);
    va_end(ap);
}

void req_reply_db_error(struct req *r, const char *detail)
{
    char d[300];
    log_warn(r->id, "msg=\"database call failed\" error=%s",
             log_quote(d, sizeof d, detail ? detail : "?"));
    req_reply_error(r, LX_EUNAVAIL, "the database is unavailable; try again shortly");
}

void req_reply_error_code(struct req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    req_reply_error_va(r, status, code, fmt, ap);
    va_end(ap);
}

void req_stream_start(struct req *r, int status, const char *content_type)
{
    if (r->state == RS_DONE || r->headers_sent || r->conn == NULL)
        return;
    r->streaming = 1;
    req_send_headers(r, status, content_type, -1);
}

int req_stream_write(struct req *r, const void *p, size_t n)
{
    if (r->state == RS_DONE || !r->streaming || r->conn == NULL)
        return -1;
    if (n == 0)
        return 0;
    if (conn_write(r->conn, FCGI_STDOUT, r->fcgi_id, p, n) != 0)
        return -1;
    r->bytes_out += n;
    return 0;
}

int req_stream_full(const struct req *r)
{
    return r->conn == NULL || conn_out_bytes(r->conn) >= worker_cfg(r->w)->out_high_bytes;
}

void req_stream_end(struct req *r)
{
    if (r->state == RS_DONE)
        return;
    r->abort_fn = r->drain_fn = NULL;
    req_finish(r);
}
