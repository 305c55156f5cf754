/* shared/up_multi.h -- HTTP calls to the upstream AI APIs (OpenAI-compatible embeddings and
 * chat) with libcurl's multi interface on the worker's libevent loop, in the shape of curl's
 * docs/examples/hiperfifo.c: one multi and one timer per loop, one event per socket, and a
 * call object per transfer. Connections are reused across calls.
 *
 * A call's done callback runs exactly once -- response, error or timeout -- unless the owner
 * calls up_cancel() first; it runs from the loop, never inside up_post(). With a data callback
 * (streaming), response bytes are handed over as they arrive; returning nonzero from it aborts
 * the transfer. Response bodies without a data callback are kept up to LX_UP_BODY_MAX_BYTES. */
#ifndef LX_SHARED_UP_MULTI_H
#define LX_SHARED_UP_MULTI_H

#include <stddef.h>

#include "lx_err.h"

#define LX_UP_BODY_MAX_BYTES (32 * 1024 * 1024)

struct event_base;
struct up_multi;
struct up_call;

typedef void (*up_done_cb)(void *ud, enum lx_err err, long http_status, const char *body,
                           size_t len, const char *errmsg);
typedef int (*up_data_cb)(void *ud, const char *p, size_t n);

struct up_multi *up_multi_new(struct event_base *base);
/* Connections to one upstream host at most (64 unless set); calls beyond it wait for one.
 * A streamed chat answer holds its connection until the end, so the worker sets this to its
 * in-flight limit: chats never queue behind other chats' streams. */
void up_multi_max_host_conns(struct up_multi *m, unsigned n);
void up_multi_free(struct up_multi *m); /* pending calls complete with LX_ECANCELED */
/* POST a JSON body (copied). bearer may be NULL. */
struct up_call *up_post(struct up_multi *m, const char *url, const char *bearer, const char *body,
                        size_t len, unsigned timeout_ms, up_data_cb data, up_done_cb done,
                        void *ud);
void up_cancel(struct up_call *c); /* callbacks never run; the transfer is stopped */
/* Stop reading the response (paused nonzero) or go on: backpressure from a slow consumer.
 * Call it from the loop, never from inside the call's data callback. */
void up_pause(struct up_call *c, int paused);
unsigned up_in_flight(const struct up_multi *m);

#endif
