/* fcgi/auth.h -- optional API keys (auth.enabled) and per-key rate limits.
 *
 * Keys live hashed (SHA-256) in PostgreSQL (api_keys, managed with lexrag-keys); every worker
 * loads the active ones into memory at start and every auth.refresh_ms, on its loop, so a
 * request's check costs no database round trip. A revoked key stops working within
 * refresh_ms; while PostgreSQL is down the last loaded set stays in force (before any was
 * loaded, requests get 503). The rate limit is a sliding minute per key counted in Redis (one
 * EVAL per request: this minute's count incremented, the last minute's read and weighed by the
 * share of it still inside the sliding minute), shared by every worker; over it, 429 with
 * Retry-After (when the estimate will be under the rate again). While Redis is down or slow
 * requests are not limited (logged once per outage). */
#ifndef LX_FCGI_AUTH_H
#define LX_FCGI_AUTH_H

struct req;
struct worker;

/* Start (or, on SIGHUP, restart or stop) the key refresh according to the config. */
void auth_configure(struct worker *w);
void auth_stop(void);

/* Does this request need a key? (auth enabled; not health, metrics or the test routes) */
int auth_required(struct req *r, const char *route);
/* Check the request's key and rate, then run handler(r) -- or answer 401, 429 or 503. */
void auth_then(struct req *r, void (*handler)(struct req *r));

/* "Bearer KEY" -> KEY (pointer into value) and its length; 0 on success, -1 when malformed. */
int auth_parse_bearer(const char *value, const char **key, unsigned *len);

#endif
