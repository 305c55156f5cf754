/* fcgi/route.c -- the route table (route.h). Paths are matched exactly; the table is short
 * enough that a linear scan costs nothing next to the request. */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "../shared/cfg.h"
#include "auth.h"
#include "handlers.h"
#include "metrics.h"
#include "req.h"
#include "worker.h"

struct route {
    const char *method, *path; /* a path ending in '/' matches every path below it */
    void (*handler)(struct req *r);
    int test_only;
};

static const struct route routes[] = {
    {"GET", "/api/health", h_health, 0},
    {"GET", "/api/metrics", h_metrics, 0},
    {"POST", "/api/search", h_search, 0},
    {"POST", "/api/chat", h_chat, 0},
    {"POST", "/v1/chat/completions", h_chat_completions, 0},
    {"GET", "/api/conversations/", h_conversation, 0},
    {"GET", "/api/_test/hold", h_test_hold, 1},
    {"GET", "/api/_test/stream", h_test_stream, 1},
    {"POST", "/api/_test/echo", h_test_echo, 1},
};

/* The load limit: past server.max_in_flight requests (this one counted) a request is refused
 * at once with 503 and Retry-After, never queued. Health and metrics are always answered. */
static int route_overloaded(struct req *r, const struct route *rt)
{
    struct worker *w = req_worker(r);
    const struct cfg *c = worker_cfg(w);
    if (rt->handler == h_health || rt->handler == h_metrics ||
        worker_in_flight(w) <= c->max_in_flight)
        return 0;
    char s[16];
    snprintf(s, sizeof s, "%lu", c->retry_after_s);
    req_add_header(r, "Retry-After", s);
    metrics_refused("overload");
    req_reply_error_code(r, 503, "unavailable", "the worker is at its limit of %lu requests",
                         c->max_in_flight);
    return 1;
}

void route_dispatch(struct req *r)
{
    const char *path = req_path(r), *method = req_method(r);
    int test_routes = worker_cfg(req_worker(r))->test_routes;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *rt = &routes[i];
        size_t plen = strlen(rt->path);
        int prefix = rt->path[plen - 1] == '/';
        if ((rt->test_only && !test_routes) ||
            (prefix ? strncmp(rt->path, path, plen) != 0 || path[plen] == '\0'
                    : strcmp(rt->path, path) != 0))
            continue;
        if (strcmp(rt->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            req_set_route(r, rt->path);
            if (route_overloaded(r, rt))
                return;
            if (auth_required(r, rt->path))
                auth_then(r, rt->handler); /* the handler runs once the key and rate pass */
            else
                rt->handler(r);
            return;
        }
        if (strlen(allow) + strlen(rt->method) + 3 < sizeof allow) {
            if (allow[0] != '\0')
                strcat(allow, ", ");
            strcat(allow, rt->method);
        }
    }
    if (allow[0] != '\0') {
        req_add_header(r, "Allow", allow);
        req_reply_error_code(r, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)",
                             method, path, allow);
        return;
    }
    req_reply_error_code(r, 404, "not_found", "no such endpoint: %s", path);
}
