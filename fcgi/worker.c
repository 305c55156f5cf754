/* fcgi/worker.c -- the worker process: one libevent loop, the listening socket, connection
 * bookkeeping, signals, loop-lag sampling and the reap list (worker.h).
 *
 * Shutdown (SIGTERM, SIGINT, or SIGQUIT, which is what multiwatch sends its children when it is
 * told to stop): the listener is closed at once, idle connections are closed,
 * busy ones are closed as their request ends; after server.shutdown_grace_ms whatever is left
 * is aborted. SIGHUP re-reads the config file; a bad file is logged and the old config kept. */
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../shared/cite.h"
#include "../shared/limits.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "backends.h"
#include "auth.h"
#include "conn.h"
#include "metrics.h"

struct conn_ref {
    struct conn_ref *next, *prev;
    struct conn *c;
};

struct worker {
    struct event_base *base;
    struct cfg cfg;
    char *config_path;
    int listen_fd;
    struct evconnlistener *listener;
    int listener_paused;
    struct event *sig_term, *sig_int, *sig_quit, *sig_hup, *lag_ev, *grace_ev, *reap_ev;
    struct conn_ref conns; /* ring head */
    unsigned nconns, in_flight;
    int stopping;
    double t_start_ms, lag_expect_ms;
    float lag[LX_LAG_WINDOW_SAMPLES];
    unsigned lag_n, lag_pos;
    uint64_t id_seed, id_next;
    struct reap_node *reap;
    struct backends *backends;
    char backends_error[256];
};

double lx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- accessors -------------------------------------------------------------------------- */

struct event_base *worker_base(struct worker *w)
{
    return w->base;
}

struct backends *worker_backends(struct worker *w)
{
    return w->backends;
}

const char *worker_backends_error(const struct worker *w)
{
    return w->backends_error;
}

const struct cfg *worker_cfg(const struct worker *w)
{
    return &w->cfg;
}

double worker_uptime_s(const struct worker *w)
{
    return (lx_now_ms() - w->t_start_ms) / 1e3;
}

unsigned worker_in_flight(const struct worker *w)
{
    return w->in_flight;
}

unsigned worker_conns(const struct worker *w)
{
    return w->nconns;
}

int worker_stopping(const struct worker *w)
{
    return w->stopping;
}

void worker_new_request_id(struct worker *w, char *buf)
{
    uint64_t x = w->id_seed ^ (w->id_next++ * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 31; /* mix, so that consecutive ids do not look alike */
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    snprintf(buf, 17, "%016llx", (unsigned long long)x);
}

/* ---- lag -------------------------------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void worker_lag(const struct worker *w, struct lag_stats *out)
{
    static float sorted[LX_LAG_WINDOW_SAMPLES];
    memset(out, 0, sizeof *out);
    if (w->lag_n == 0)
        return;
    memcpy(sorted, w->lag, w->lag_n * sizeof sorted[0]);
    qsort(sorted, w->lag_n, sizeof sorted[0], cmp_float);
    out->last_ms = w->lag[(w->lag_pos + LX_LAG_WINDOW_SAMPLES - 1) % LX_LAG_WINDOW_SAMPLES];
    out->p99_ms = sorted[(w->lag_n * 99) / 100 < w->lag_n ? (w->lag_n * 99) / 100 : w->lag_n - 1];
    out->max_ms = sorted[w->lag_n - 1];
}

/* A timer every LX_LAG_INTERVAL_MS: how late it fires is how long the loop was busy. */
static void on_lag_tick(evutil_socket_t fd, short what, void *ud)
{
    struct worker *w = ud;
    (void)fd;
    (void)what;
    double now = lx_now_ms(), lag = now - w->lag_expect_ms;
    w->lag[w->lag_pos] = (float)(lag > 0 ? lag : 0);
    w->lag_pos = (w->lag_pos + 1) % LX_LAG_WINDOW_SAMPLES;
    if (w->lag_n < LX_LAG_WINDOW_SAMPLES)
        w->lag_n++;
    w->lag_expect_ms = now + LX_LAG_INTERVAL_MS;
}

/* ---- connections ------------------------------------------------------------------------ */

static void worker_maybe_exit(struct worker *w)
{
    if (w->stopping && w->nconns == 0)
        event_base_loopexit(w->base, NULL);
}

void worker_conn_opened(struct worker *w, struct conn *c)
{
    struct conn_ref *ref = malloc(sizeof *ref);
    if (ref == NULL) { /* untracked: still served, just not closed on shutdown */
        log_warn(NULL, "msg=\"out of memory tracking a connection\"");
        return;
    }
    ref->c = c;
    ref->next = w->conns.next;
    ref->prev = &w->conns;
    w->conns.next->prev = ref;
    w->conns.next = ref;
    w->nconns++;
    if (w->nconns >= w->cfg.max_conns && w->listener != NULL && !w->listener_paused) {
        evconnlistener_disable(w->listener);
        w->listener_paused = 1;
        log_warn(NULL, "msg=\"connection limit reached; not accepting\" max_conns=%lu",
                 w->cfg.max_conns);
    }
}

void worker_conn_closed(struct worker *w, struct conn *c)
{
    for (struct conn_ref *ref = w->conns.next; ref != &w->conns; ref = ref->next) {
        if (ref->c == c) {
            ref->prev->next = ref->next;
            ref->next->prev = ref->prev;
            free(ref);
            w->nconns--;
            break;
        }
    }
    if (w->listener_paused && w->nconns < w->cfg.max_conns && w->listener != NULL) {
        evconnlistener_enable(w->listener);
        w->listener_paused = 0;
    }
    worker_maybe_exit(w);
}

void worker_req_started(struct worker *w)
{
    w->in_flight++;
}

void worker_req_finished(struct worker *w)
{
    w->in_flight--;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *ud)
{
    (void)l;
    (void)sa;
    (void)socklen;
    conn_new(ud, fd);
}

static void on_accept_error(struct evconnlistener *l, void *ud)
{
    struct worker *w = ud;
    int err = EVUTIL_SOCKET_ERROR();
    (void)l;
    /* EMFILE and the like: log and go on; the listener retries on the next readiness. */
    log_error(NULL, "msg=\"accept failed\" error=\"%s\" conns=%u", strerror(err), w->nconns);
}

/* ---- reap ------------------------------------------------------------------------------- */

void worker_reap(struct worker *w, struct reap_node *n, void (*fn)(void *), void *p)
{
    n->fn = fn;
    n->p = p;
    n->next = w->reap;
    w->reap = n;
    event_active(w->reap_ev, EV_TIMEOUT, 0);
}

static void on_reap(evutil_socket_t fd, short what, void *ud)
{
    struct worker *w = ud;
    (void)fd;
    (void)what;
    while (w->reap != NULL) {
        struct reap_node *n = w->reap;
        w->reap = n->next;
        n->fn(n->p);
    }
}

/* ---- signals ---------------------------------------------------------------------------- */

static void on_grace_over(evutil_socket_t fd, short what, void *ud)
{
    struct worker *w = ud;
    (void)fd;
    (void)what;
    log_warn(NULL, "msg=\"shutdown grace period over; aborting requests\" in_flight=%u",
             w->in_flight);
    for (struct conn_ref *ref = w->conns.next; ref != &w->conns; ref = ref->next)
        conn_close(ref->c);
}

static void worker_stop(struct worker *w, const char *why)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    log_info(NULL, "msg=\"stopping\" signal=%s in_flight=%u conns=%u grace_ms=%lu", why,
             w->in_flight, w->nconns, w->cfg.shutdown_grace_ms);
    if (w->listener != NULL) {
        evconnlistener_free(w->listener); /* closes our copy of the listening socket */
        w->listener = NULL;
    }
    for (struct conn_ref *ref = w->conns.next; ref != &w->conns; ref = ref->next)
        if (conn_is_idle(ref->c))
            conn_close(ref->c);
    struct timeval tv = lx_tv_ms(w->cfg.shutdown_grace_ms);
    evtimer_add(w->grace_ev, &tv);
    event_del(w->lag_ev);
    worker_maybe_exit(w);
}

static void on_signal(evutil_socket_t sig, short what, void *ud)
{
    struct worker *w = ud;
    (void)what;
    if (sig == SIGHUP) {
        struct cfg c;
        char *err = NULL;
        if (cfg_load(&c, w->config_path, &err) != 0) {
            log_error(NULL, "msg=\"reload failed; keeping the running config\" error=\"%s\"", err);
            free(err);
            return;
        }
        if (strcmp(c.listen, w->cfg.listen) != 0)
            log_warn(NULL, "msg=\"server.listen changed; takes effect on restart\"");
        w->cfg = c;
        if (w->backends != NULL) {
            char cerr[200];
            struct cite_alias *al = cite_aliases_new(c.cite_aliases, cerr, sizeof cerr);
            if (al != NULL) { /* checked by cfg_load: only out of memory fails here */
                cite_aliases_free(w->backends->cite_aliases);
                w->backends->cite_aliases = al;
            }
            breaker_configure(&w->backends->emb_breaker, (unsigned)c.breaker_failures,
                              c.breaker_open_ms);
            breaker_configure(&w->backends->gen_breaker, (unsigned)c.breaker_failures,
                              c.breaker_open_ms);
        }
        metrics_publish_start(w);
        auth_configure(w);
        enum log_level lvl;
        if (log_level_parse(c.log_level, &lvl) == 0)
            log_set_level(lvl);
        log_info(NULL, "msg=\"config reloaded\" path=%s",
                 w->config_path ? w->config_path : "(defaults)");
        return;
    }
    worker_stop(w, sig == SIGTERM ? "TERM" : sig == SIGQUIT ? "QUIT" : "INT");
}

/* ---- life ------------------------------------------------------------------------------- */

struct worker *worker_new(const struct cfg *c, const char *config_path, int listen_fd)
{
    struct worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->cfg = *c;
    w->config_path = config_path ? strdup(config_path) : NULL;
    w->listen_fd = listen_fd;
    w->conns.next = w->conns.prev = &w->conns;
    w->t_start_ms = lx_now_ms();
    if (getrandom(&w->id_seed, sizeof w->id_seed, 0) != sizeof w->id_seed)
        w->id_seed = (uint64_t)getpid() << 32 ^ (uint64_t)w->t_start_ms;
    /* Precise timers: libevent's default clock on Linux is CLOCK_MONOTONIC_COARSE, whose
     * ticks (4 ms at HZ=250) would make every deadline, pace and lag sample that coarse. */
    struct event_config *ec = event_config_new();
    if (ec != NULL)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    w->base = ec != NULL ? event_base_new_with_config(ec) : NULL;
    if (ec != NULL)
        event_config_free(ec);
    if (w->base == NULL)
        goto fail;
    /* Non-blocking: the socket is shared by every worker, and another may take the connection
     * between our wake-up and our accept(). */
    if (evutil_make_socket_nonblocking(listen_fd) != 0)
        goto fail;
    w->listener = evconnlistener_new(w->base, on_accept, w, LEV_OPT_CLOSE_ON_FREE, 0, listen_fd);
    if (w->listener == NULL)
        goto fail;
    evconnlistener_set_error_cb(w->listener, on_accept_error);
    w->sig_term = evsignal_new(w->base, SIGTERM, on_signal, w);
    w->sig_int = evsignal_new(w->base, SIGINT, on_signal, w);
    w->sig_quit = evsignal_new(w->base, SIGQUIT, on_signal, w);
    w->sig_hup = evsignal_new(w->base, SIGHUP, on_signal, w);
    w->lag_ev = event_new(w->base, -1, EV_PERSIST, on_lag_tick, w);
    w->grace_ev = evtimer_new(w->base, on_grace_over, w);
    w->reap_ev = event_new(w->base, -1, 0, on_reap, w);
    if (!w->sig_term || !w->sig_int || !w->sig_quit || !w->sig_hup || !w->lag_ev || !w->grace_ev ||
        !w->reap_ev)
        goto fail;
    event_add(w->sig_term, NULL);
    event_add(w->sig_int, NULL);
    event_add(w->sig_quit, NULL);
    event_add(w->sig_hup, NULL);
    char *berr = NULL;
    w->backends = backends_new(w->base, &w->cfg, &berr);
    if (w->backends == NULL) {
        snprintf(w->backends_error, sizeof w->backends_error, "%s", berr ? berr : "?");
        log_error(NULL, "msg=\"retrieval backends not available\" error=\"%s\"", w->backends_error);
        free(berr);
    }
    metrics_publish_start(w);
    auth_configure(w);
    struct timeval tv = lx_tv_ms(LX_LAG_INTERVAL_MS);
    w->lag_expect_ms = lx_now_ms() + LX_LAG_INTERVAL_MS;
    event_add(w->lag_ev, &tv);
    return w;
fail:
    worker_free(w);
    return NULL;
}

int worker_run(struct worker *w)
{
    log_info(NULL, "msg=\"worker serving\" backend=%s max_conns=%lu test_routes=%d",
             event_base_get_method(w->base), w->cfg.max_conns, w->cfg.test_routes);
    int rc = event_base_dispatch(w->base);
    on_reap(-1, 0, w);
    log_info(NULL, "msg=\"worker stopped\" in_flight=%u", w->in_flight);
    return rc < 0 ? 1 : 0;
}

void worker_free(struct worker *w)
{
    if (w == NULL)
        return;
    while (w->conns.next != &w->conns && w->conns.next != NULL) {
        struct conn_ref *ref = w->conns.next;
        conn_close(ref->c);
        on_reap(-1, 0, w); /* frees the conn, which unlinks ref */
    }
    metrics_publish_stop();
    auth_stop(); /* before the pool its query may be on */
    backends_free(w->backends);
    if (w->listener != NULL)
        evconnlistener_free(w->listener);
    else if (w->base == NULL && w->listen_fd >= 0)
        close(w->listen_fd);
    struct event *evs[] = {w->sig_term, w->sig_int,  w->sig_quit, w->sig_hup,
                           w->lag_ev,   w->grace_ev, w->reap_ev};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (w->base != NULL)
        event_base_free(w->base);
    free(w->config_path);
    free(w);
}
