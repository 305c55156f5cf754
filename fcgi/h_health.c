/* fcgi/h_health.c -- GET /api/health: this worker's state (pid, uptime, in-flight requests,
 * connections, event-loop lag) and a check per backend. 503 only when the worker cannot serve
 * at all (it is shutting down). */
#include <jansson.h>
#include <unistd.h>

#include "backends.h"
#include "handlers.h"
#include "req.h"
#include "worker.h"

void h_health(struct req *r)
{
    struct worker *w = req_worker(r);
    struct lag_stats lag;
    worker_lag(w, &lag);
    int stopping = worker_stopping(w);
    json_t *checks = json_object();
    struct backends *b = worker_backends(w);
    int down = b != NULL ? backends_health(b, checks) : 1;
    if (b == NULL)
        json_object_set_new(
            checks, "retrieval",
            json_pack("{s:s,s:s}", "status", "down", "error", worker_backends_error(w)));
    json_t *j = json_pack("{s:s,s:s,s:i,s:f,s:i,s:i,s:{s:f,s:f,s:f},s:o}", "status",
                          stopping ? "stopping"
                          : down   ? "degraded"
                                   : "ok",
                          "version", LX_VERSION, "pid", (int)getpid(), "uptime_s",
                          worker_uptime_s(w), "in_flight", (int)worker_in_flight(w), "connections",
                          (int)worker_conns(w), "loop_lag_ms", "last", lag.last_ms, "p99",
                          lag.p99_ms, "max", lag.max_ms, "checks", checks);
    req_reply_json(r, stopping ? 503 : 200, j);
}
