/* fcgi/worker.h -- the worker process: one libevent loop serving the listening socket (fd 0
 * from spawn-fcgi, or --listen), its connections and requests; signals (SIGTERM: drain and
 * exit, SIGHUP: reload the config); event-loop lag sampling; the reap list where ended requests
 * wait to be freed at a safe point. */
#ifndef LX_FCGI_WORKER_H
#define LX_FCGI_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "../shared/cfg.h"

struct event_base;
struct backends;
struct conn;
struct req;

#define LX_VERSION "0.1.0"

struct lag_stats {
    double last_ms, p99_ms, max_ms;
};

struct worker;

struct worker *worker_new(const struct cfg *c, const char *config_path, int listen_fd);
int worker_run(struct worker *w); /* until stopped; 0 on a clean stop */
void worker_free(struct worker *w);

struct event_base *worker_base(struct worker *w);
/* The backends (PostgreSQL, Redis, embedder, search threads, indexes); NULL if they could not
 * be set up (then retrieval answers 503 and /api/health says why). */
struct backends *worker_backends(struct worker *w);
const char *worker_backends_error(const struct worker *w);
const struct cfg *worker_cfg(const struct worker *w);
double worker_uptime_s(const struct worker *w);
unsigned worker_in_flight(const struct worker *w);
unsigned worker_conns(const struct worker *w);
int worker_stopping(const struct worker *w);
void worker_lag(const struct worker *w, struct lag_stats *out);
/* A fresh request id (16 hex characters) into buf of at least 17 bytes. */
void worker_new_request_id(struct worker *w, char *buf);

/* Bookkeeping called by conn.c and req.c. */
void worker_conn_opened(struct worker *w, struct conn *c);
void worker_conn_closed(struct worker *w, struct conn *c);
void worker_req_started(struct worker *w);
void worker_req_finished(struct worker *w);
/* Objects that die inside their own callbacks are freed later, at the top of the loop: the
 * owner embeds a reap_node and hands it over; fn(p) runs once, soon. */
struct reap_node {
    struct reap_node *next;
    void (*fn)(void *);
    void *p;
};
void worker_reap(struct worker *w, struct reap_node *n, void (*fn)(void *), void *p);

/* Monotonic milliseconds. */
double lx_now_ms(void);

#endif
