/* fcgi/persist.h -- writing a chat exchange (the question and its answer) to PostgreSQL after
 * the answer's stream has ended, off the critical path. The write is one statement,
 * idempotent by message id. If PostgreSQL is down (or slow past its deadline) the exchange
 * goes to the durable spool (shared/spool.h) and is retried every chat.spool_retry_ms until it
 * is written; the spool survives a worker restart, so an exchange is never lost and never
 * written twice. An exchange the database refuses (an SQL error) is logged and dropped. */
#ifndef LX_FCGI_PERSIST_H
#define LX_FCGI_PERSIST_H

struct event_base;
struct pgc_pool;
struct cfg;
struct persist;
typedef struct json_t json_t;

/* The exchange object: conversation_id, user_message_id, question, message_id, answer,
 * references (array), timings (object), status ("complete" or "interrupted"), user_at and
 * answer_at (ISO 8601). */
struct persist *persist_new(struct event_base *base, struct pgc_pool *pg, const struct cfg *cfg);
void persist_free(struct persist *p);
void persist_exchange(struct persist *p, json_t *x); /* steals x */

struct persist_stats {
    unsigned in_flight;        /* writes under way */
    unsigned long written;     /* exchanges written (directly or from the spool) */
    unsigned long spooled;     /* exchanges put in the spool */
    unsigned long dropped;     /* refused by the database, or the spool full/unavailable */
    unsigned long spool_depth; /* waiting in the spool now */
    int spool_ok;              /* the spool directory is usable */
};
void persist_stats(const struct persist *p, struct persist_stats *out);

/* Now as ISO 8601 with microseconds, UTC ("2026-11-23T10:00:00.123456Z"), into buf[32]. */
void persist_now_iso(char *buf);

#endif
