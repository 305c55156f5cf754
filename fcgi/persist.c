/* fcgi/persist.c -- exchanges to PostgreSQL, or to the spool and later to PostgreSQL
 * (persist.h). The spool's file operations are small and happen only while the database is
 * down; retries are paced by a timer, one record at a time. */
#include "persist.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../shared/cfg.h"
#include "../shared/log.h"
#include "../shared/lx_time.h"
#include "../shared/pg_ev.h"
#include "../shared/spool.h"

/* Conversation, question and answer in one statement; a retry changes nothing. */
static const char persist_sql[] =
    "WITH c AS (INSERT INTO conversations (id, created_at) VALUES ($1::uuid, $7::timestamptz)"
    "           ON CONFLICT (id) DO NOTHING),"
    " u AS (INSERT INTO messages (id, conversation_id, role, content, created_at)"
    "       VALUES ($2::uuid, $1::uuid, 'user', $3, $7::timestamptz) ON CONFLICT (id) DO NOTHING)"
    " INSERT INTO messages (id, conversation_id, role, content, refs, timings, status, created_at)"
    " VALUES ($4::uuid, $1::uuid, 'assistant', $5, $6::jsonb, $8::jsonb, $9, $10::timestamptz)"
    " ON CONFLICT (id) DO NOTHING";

struct persist {
    struct event_base *base;
    struct pgc_pool *pg;
    const struct cfg *cfg;
    struct spool *spool;
    struct event *retry; /* every chat.spool_retry_ms */
    struct event *kick;  /* at once: the database took one, try the next */
    int retrying;        /* a spooled record is being written */
    struct persist_stats st;
};

struct pwrite {
    struct persist *p;
    json_t *x;
    int from_spool;
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
};

void persist_now_iso(char *buf)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, 32 - n, ".%06ldZ", (long)tv.tv_usec % 1000000);
}

static const char *xs(json_t *x, const char *k)
{
    const char *v = json_string_value(json_object_get(x, k));
    return v != NULL ? v : "";
}

static void spool_it(struct persist *p, json_t *x)
{
    const char *id = xs(x, "message_id");
    char *s = json_dumps(x, JSON_COMPACT), *err = NULL;
    if (p->spool == NULL || s == NULL || spool_put(p->spool, id, s, strlen(s), &err) != 0) {
        p->st.dropped++;
        log_error(NULL,
                  "msg=\"exchange lost: not written and not spooled\" message_id=%s "
                  "error=\"%s\"",
                  id,
                  err        ? err
                  : p->spool ? "out of memory"
                             : "no spool");
    } else {
        p->st.spooled++;
        log_warn(NULL, "msg=\"exchange spooled until the database is back\" message_id=%s", id);
    }
    free(err);
    free(s);
}

static void write_start(struct persist *p, json_t *x, int from_spool, const char *id);

static void on_written(void *ud, const PGresult *res, enum lx_err err, const char *msg)
{
    struct pwrite *w = ud;
    struct persist *p = w->p;
    (void)res;
    p->st.in_flight--;
    if (err == LX_OK) {
        p->st.written++;
        if (w->from_spool)
            spool_remove(p->spool, w->id);
    } else if (err == LX_EUPSTREAM) { /* the database refused it: retrying will not help */
        p->st.dropped++;
        log_error(NULL,
                  "msg=\"exchange refused by the database; dropped\" message_id=%s "
                  "error=\"%s\"",
                  xs(w->x, "message_id"), msg ? msg : "");
        if (w->from_spool)
            spool_remove(p->spool, w->id);
    } else if (!w->from_spool) {
        spool_it(p, w->x);
    }
    if (w->from_spool) {
        p->retrying = 0;
        if (err == LX_OK || err == LX_EUPSTREAM) { /* the database answers: go on at once */
            struct timeval now = {0, 0};
            evtimer_add(p->kick, &now);
        }
    }
    json_decref(w->x);
    free(w);
}

static void write_start(struct persist *p, json_t *x, int from_spool, const char *id)
{
    struct pwrite *w = calloc(1, sizeof *w);
    char *refs = json_dumps(json_object_get(x, "references"), JSON_COMPACT | JSON_ENCODE_ANY);
    char *timings = json_dumps(json_object_get(x, "timings"), JSON_COMPACT | JSON_ENCODE_ANY);
    const char *params[] = {xs(x, "conversation_id"), xs(x, "user_message_id"), xs(x, "question"),
                            xs(x, "message_id"),      xs(x, "answer"),          refs ? refs : "[]",
                            xs(x, "user_at"),         timings ? timings : "{}", xs(x, "status"),
                            xs(x, "answer_at")};
    struct pgc_op *op = NULL;
    if (w != NULL) {
        w->p = p;
        w->x = x;
        w->from_spool = from_spool;
        snprintf(w->id, sizeof w->id, "%s", id ? id : "");
        op = pgc_query(p->pg, persist_sql, 10, params, (unsigned)p->cfg->pg_timeout_ms, on_written,
                       w);
    }
    free(refs);
    free(timings);
    if (op != NULL) {
        p->st.in_flight++;
        return;
    }
    free(w); /* out of memory: keep it on disk if it is not there already */
    if (from_spool)
        p->retrying = 0;
    else
        spool_it(p, x);
    json_decref(x);
}

void persist_exchange(struct persist *p, json_t *x)
{
    if (p == NULL) {
        json_decref(x);
        return;
    }
    write_start(p, x, 0, NULL);
}

/* One spooled record at a time, while the database takes them. */
static void on_retry(evutil_socket_t fd, short what, void *ud)
{
    struct persist *p = ud;
    (void)fd;
    (void)what;
    /* Nothing spooled (this worker's puts, or what was there at start): no directory scan. */
    if (p->spool == NULL || p->retrying || spool_count(p->spool) == 0)
        return;
    char id[LX_SPOOL_ID_MAX_BYTES + 1];
    void *data = NULL;
    size_t len = 0;
    int rc;
    /* A record that cannot be read is skipped (and logged), not retried before the others. */
    for (int tries = 0; (rc = spool_next(p->spool, id, sizeof id, &data, &len)) == -1; tries++) {
        if (id[0] == '\0' || tries >= 16)
            break;
        log_error(NULL, "msg=\"spooled exchange cannot be read; left in the spool\" id=%s", id);
    }
    if (rc != 1) { /* none left: the next scan starts from the oldest */
        if (rc == 0 || id[0] == '\0')
            spool_rewind(p->spool);
        free(data);
        return;
    }
    json_t *x = json_loadb(data, len, 0, NULL);
    free(data);
    if (x == NULL) {
        log_error(NULL, "msg=\"unreadable spooled exchange removed\" id=%s", id);
        spool_remove(p->spool, id);
        return;
    }
    p->retrying = 1;
    write_start(p, x, 1, id);
}

struct persist *persist_new(struct event_base *base, struct pgc_pool *pg, const struct cfg *cfg)
{
    struct persist *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->base = base;
    p->pg = pg;
    p->cfg = cfg;
    char *err = NULL;
    p->spool = spool_open(cfg->spool_dir, cfg->spool_max_records, &err);
    if (p->spool == NULL) {
        log_warn(NULL,
                 "msg=\"chat spool unavailable: exchanges are lost while the database is "
                 "down\" dir=%s error=\"%s\"",
                 cfg->spool_dir, err ? err : "?");
        free(err);
    }
    p->retry = event_new(base, -1, EV_PERSIST, on_retry, p);
    p->kick = evtimer_new(base, on_retry, p);
    if (p->retry == NULL || p->kick == NULL) {
        persist_free(p);
        return NULL;
    }
    struct timeval tv = lx_tv_ms(cfg->spool_retry_ms);
    event_add(p->retry, &tv);
    return p;
}

void persist_free(struct persist *p)
{
    if (p == NULL)
        return;
    if (p->retry != NULL)
        event_free(p->retry);
    if (p->kick != NULL)
        event_free(p->kick);
    spool_close(p->spool);
    free(p);
}

void persist_stats(const struct persist *p, struct persist_stats *out)
{
    *out = p->st;
    out->spool_ok = p->spool != NULL;
    out->spool_depth = p->spool ? spool_count(p->spool) : 0;
}
