/* shared/up_multi.c -- libcurl multi driven by libevent (up_multi.h), after hiperfifo.c: the
 * socket callback keeps one event per socket, the timer callback one timer per multi; both
 * events call curl_multi_socket_action() and then check_done(), which reads CURLMSG_DONE,
 * takes the result before removing the handle, and completes the call. No libcurl call runs
 * inside a libcurl callback: cancellation inside one is deferred to a zero timer. */
#include "up_multi.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct up_call {
    struct up_call *next, *prev;
    struct up_multi *m;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char *resp;
    size_t resp_len, resp_cap;
    up_data_cb data;
    up_done_cb done;
    void *ud;
    int canceled;
    char errbuf[CURL_ERROR_SIZE];
};

struct up_multi {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;  /* curl's timeout */
    struct event *reaper; /* canceled calls removed outside libcurl callbacks */
    struct up_call calls; /* ring head */
    unsigned n;
};

static void check_done(struct up_multi *m);

static void call_unlink_free(struct up_call *c)
{
    struct up_multi *m = c->m;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    m->n--;
    curl_multi_remove_handle(m->multi, c->easy);
    curl_easy_cleanup(c->easy);
    curl_slist_free_all(c->headers);
    free(c->body);
    free(c->resp);
    free(c);
}

/* ---- libcurl callbacks ------------------------------------------------------------------ */

static void on_sock_ready(evutil_socket_t fd, short what, void *ud)
{
    struct up_multi *m = ud;
    int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(m->multi, fd, action, &running);
    check_done(m);
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp)
{
    struct up_multi *m = ud;
    struct event *ev = sockp;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        if (ev != NULL)
            event_free(ev);
        curl_multi_assign(m->multi, fd, NULL);
        return 0;
    }
    short fl =
        EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (ev == NULL) {
        if ((ev = event_new(m->base, fd, fl, on_sock_ready, m)) == NULL)
            return -1;
        curl_multi_assign(m->multi, fd, ev);
    } else { /* interest changed: re-arm */
        event_del(ev);
        event_assign(ev, m->base, fd, fl, on_sock_ready, m);
    }
    return event_add(ev, NULL);
}

static void on_timer(evutil_socket_t fd, short what, void *ud)
{
    struct up_multi *m = ud;
    int running;
    (void)fd;
    (void)what;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(m);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *ud)
{
    struct up_multi *m = ud;
    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(m->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return evtimer_add(m->timer, &tv); /* 0 is valid: run soon, from the loop */
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct up_call *c = ud;
    size_t len = sz * n;
    if (c->canceled)
        return 0; /* curl fails the transfer */
    if (c->data != NULL)
        return c->data(c->ud, p, len) == 0 ? len : 0;
    if (c->resp_len + len > LX_UP_BODY_MAX_BYTES)
        return 0;
    if (c->resp_len + len + 1 > c->resp_cap) {
        size_t cap = c->resp_cap ? c->resp_cap : 8192;
        while (cap < c->resp_len + len + 1)
            cap *= 2;
        char *nb = realloc(c->resp, cap);
        if (nb == NULL)
            return 0;
        c->resp = nb;
        c->resp_cap = cap;
    }
    memcpy(c->resp + c->resp_len, p, len);
    c->resp_len += len;
    c->resp[c->resp_len] = '\0';
    return len;
}

static void check_done(struct up_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURLcode rc = msg->data.result; /* before the handle is removed */
        struct up_call *c;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        if (!c->canceled && c->done != NULL) {
            enum lx_err e = LX_OK;
            const char *emsg = NULL;
            if (rc == CURLE_OPERATION_TIMEDOUT) {
                e = LX_ETIMEOUT;
                emsg = "upstream timed out";
            } else if (rc != CURLE_OK) {
                e = LX_EUPSTREAM;
                emsg = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
            } else if (status < 200 || status > 299) {
                e = LX_EUPSTREAM;
                emsg = "upstream answered with an error status";
            }
            c->done(c->ud, e, status, c->resp ? c->resp : "", c->resp_len, emsg);
        }
        call_unlink_free(c);
    }
}

static void on_reap(evutil_socket_t fd, short what, void *ud)
{
    struct up_multi *m = ud;
    (void)fd;
    (void)what;
    for (struct up_call *c = m->calls.next, *next; c != &m->calls; c = next) {
        next = c->next;
        if (c->canceled)
            call_unlink_free(c);
    }
}

/* ---- public ----------------------------------------------------------------------------- */

struct up_multi *up_multi_new(struct event_base *base)
{
    static int global_done;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        global_done = 1;
    }
    struct up_multi *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->base = base;
    m->calls.next = m->calls.prev = &m->calls;
    m->multi = curl_multi_init();
    m->timer = evtimer_new(base, on_timer, m);
    m->reaper = evtimer_new(base, on_reap, m);
    if (m->multi == NULL || m->timer == NULL || m->reaper == NULL) {
        up_multi_free(m);
        return NULL;
    }
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    return m;
}

void up_multi_max_host_conns(struct up_multi *m, unsigned n)
{
    curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)(n ? n : 1));
}

void up_multi_free(struct up_multi *m)
{
    if (m == NULL)
        return;
    while (m->multi != NULL && m->calls.next != &m->calls) {
        struct up_call *c = m->calls.next;
        if (!c->canceled && c->done != NULL)
            c->done(c->ud, LX_ECANCELED, 0, "", 0, "shutting down");
        call_unlink_free(c);
    }
    if (m->multi != NULL)
        curl_multi_cleanup(m->multi); /* may call on_curl_socket: before the events go */
    if (m->timer != NULL)
        event_free(m->timer);
    if (m->reaper != NULL)
        event_free(m->reaper);
    free(m);
}

struct up_call *up_post(struct up_multi *m, const char *url, const char *bearer, const char *body,
                        size_t len, unsigned timeout_ms, up_data_cb data, up_done_cb done, void *ud)
{
    struct up_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->m = m;
    c->data = data;
    c->done = done;
    c->ud = ud;
    c->easy = curl_easy_init();
    c->body = malloc(len + 1);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h != NULL)
        c->headers = h;
    if (h != NULL && bearer != NULL && bearer[0] != '\0') {
        char auth[1024];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        if ((h = curl_slist_append(c->headers, auth)) != NULL)
            c->headers = h;
    }
    if (c->easy == NULL || c->body == NULL || h == NULL) {
        curl_easy_cleanup(c->easy);
        curl_slist_free_all(c->headers);
        free(c->body);
        free(c);
        return NULL;
    }
    memcpy(c->body, body, len);
    c->body[len] = '\0';
    CURL *e = c->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_PRIVATE, c);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 5000 ? timeout_ms : 5000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    c->next = m->calls.next;
    c->prev = &m->calls;
    m->calls.next->prev = c;
    m->calls.next = c;
    m->n++;
    if (curl_multi_add_handle(m->multi, e) != CURLM_OK) {
        c->done = NULL;
        call_unlink_free(c);
        return NULL;
    }
    return c;
}

void up_cancel(struct up_call *c)
{
    if (c == NULL || c->canceled)
        return;
    c->canceled = 1;
    c->done = NULL;
    c->data = NULL;
    struct timeval now = {0, 0}; /* never remove a handle from inside a libcurl callback */
    evtimer_add(c->m->reaper, &now);
}

void up_pause(struct up_call *c, int paused)
{
    if (c == NULL || c->canceled)
        return;
    curl_easy_pause(c->easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
}

unsigned up_in_flight(const struct up_multi *m)
{
    return m->n;
}
