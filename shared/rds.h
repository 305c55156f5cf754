/* shared/rds.h -- Redis on the event loop: hiredis's async API with its libevent adapter, one
 * connection per worker, reconnected with backoff when Redis goes away. Commands are objects
 * owning their callback data with a timeout of their own (hiredis 0.14 has none for async
 * commands), in the manner of h2o's lib/common/redis.c.
 *
 * Every command's callback runs exactly once -- reply, error or timeout -- unless the owner
 * calls rds_cancel() first. It runs from the loop, never inside the call that sent it. While
 * Redis is down, commands fail at once with LX_EUNAVAIL: callers treat the cache as bypassed. */
#ifndef LX_SHARED_RDS_H
#define LX_SHARED_RDS_H

#include <stddef.h>

#include "lx_err.h"

struct event_base;
struct rds;
struct rds_cmd;

/* For MGET: vals[i] is NULL for a miss; the arrays are borrowed for the callback's duration. */
typedef void (*rds_mget_cb)(void *ud, enum lx_err err, size_t n, const char *const *vals,
                            const size_t *lens);

struct rds *rds_new(struct event_base *base, const char *host, int port, const char *password);
void rds_free(struct rds *r); /* NULL is fine; pending callbacks run with LX_ECANCELED */
struct rds_cmd *rds_mget(struct rds *r, size_t n, const char *const *keys, const size_t *klens,
                         unsigned timeout_ms, rds_mget_cb cb, void *ud);
/* SET key value EX ttl_s, without waiting for the reply (a failure is only counted). */
void rds_setex(struct rds *r, const char *key, size_t klen, const void *val, size_t vlen,
               unsigned ttl_s);
/* Any command (argv with lengths, binary-safe). The callback gets the reply (a hiredis
 * redisReply, borrowed for the callback's duration) with LX_OK; a Redis error reply is
 * LX_EUPSTREAM (logged), Redis down LX_EUNAVAIL, the deadline LX_ETIMEOUT, each with NULL. */
struct redisReply;
typedef void (*rds_reply_cb)(void *ud, enum lx_err err, const struct redisReply *reply);
struct rds_cmd *rds_command(struct rds *r, int argc, const char *const *argv, const size_t *argl,
                            unsigned timeout_ms, rds_reply_cb cb, void *ud);
void rds_cancel(struct rds_cmd *cmd);
int rds_up(const struct rds *r);
const char *rds_last_error(const struct rds *r);

#endif
