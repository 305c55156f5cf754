/* fcgi/req.h -- one HTTP request as seen through FastCGI: born at FCGI_BEGIN_REQUEST as the
 * first object of its own arena, fed params and body by its connection, routed, answered
 * (whole or streamed), ended with FCGI_END_REQUEST and reaped at the next safe point.
 *
 * Handlers answer with req_reply*() (whole responses) or req_stream_*() (streamed). A handler
 * that waits on something (a timer, an upstream) registers an abort hook with req_on_abort():
 * it runs once if the client goes away (FCGI_ABORT_REQUEST, connection closed), the deadline
 * passes or the worker stops, and not when the handler itself replies or ends its stream; the
 * hook must cancel what it started. After an abort, or after
 * the response ended, every reply and stream call is a harmless no-op. */
#ifndef LX_FCGI_REQ_H
#define LX_FCGI_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "../shared/lx_err.h"

struct arena;
struct conn;
struct worker;
struct req;
typedef struct json_t json_t;

typedef void (*req_hook)(struct req *r, void *ud);

/* ---- for the connection (conn.c) ---- */
struct req *req_new(struct worker *w, struct conn *c, uint16_t id, int keep_conn);
enum lx_err req_feed_params(struct req *r, const uint8_t *p, size_t n); /* n == 0: the end */
enum lx_err req_feed_stdin(struct req *r, const uint8_t *p, size_t n);  /* n == 0: the end */
/* The client or the connection went away: run the abort hook, end without a response. */
void req_abort(struct req *r, enum lx_err why);
/* The connection's output drained below the low watermark: resume a paused producer. */
void req_drained(struct req *r);
uint16_t req_fcgi_id(const struct req *r);

/* ---- for handlers ---- */
struct arena *req_arena(struct req *r);
struct worker *req_worker(struct req *r);
const char *req_id(const struct req *r);     /* X-Request-Id: the client's, or generated */
const char *req_method(const struct req *r); /* "GET", ... */
const char *req_path(const struct req *r);   /* decoded path, no query */
/* The route that serves it (a static string from the route table), for metrics. */
void req_set_route(struct req *r, const char *route);
/* The API key's name, for the access line (copied). */
void req_set_principal(struct req *r, const char *name);
const char *req_param(const struct req *r, const char *name); /* FastCGI param, or NULL */
/* Query-string parameter, URL-decoded (arena), or NULL. */
const char *req_query(struct req *r, const char *name);
const uint8_t *req_body(const struct req *r, size_t *len);
double req_elapsed_ms(const struct req *r);
int req_is_done(const struct req *r); /* ended or aborted: stop working on it */

void req_on_abort(struct req *r, req_hook fn, void *ud);
/* Extra response header ("Allow: GET"); before the response starts. Copied. */
void req_add_header(struct req *r, const char *name, const char *value);

void req_reply(struct req *r, int status, const char *content_type, const void *body, size_t n);
void req_reply_json(struct req *r, int status, json_t *body); /* steals body */
/* {"error":{"code":..,"message":..}} with the status and code mapped from e. */
void req_reply_error(struct req *r, enum lx_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 503 unavailable for a failed database call: the detail goes to the log, not to the client. */
void req_reply_db_error(struct req *r, const char *detail);
/* The same with an explicit status and code (for codes outside the lx_err table). */
void req_reply_error_code(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Streaming: headers go out at once, then each write reaches the web server as written. */
void req_stream_start(struct req *r, int status, const char *content_type);
/* 0, or -1 if the request is done (aborted). Never blocks; output beyond the high watermark
 * stays queued, so producers should check req_stream_full() and wait for the drain hook. */
int req_stream_write(struct req *r, const void *p, size_t n);
int req_stream_full(const struct req *r);
void req_on_drain(struct req *r, req_hook fn, void *ud); /* once, when below the low mark */
void req_stream_end(struct req *r);

#endif
