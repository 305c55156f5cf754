/* shared/breaker.h -- a circuit breaker for one upstream (the embedder, the generator).
 *
 *   closed    calls go through; `failures` consecutive failures (or timeouts) open it;
 *   open      calls are refused at once, for open_ms;
 *   half-open after open_ms one call (the probe) goes through and the others are refused;
 *             its success closes the breaker, its failure opens it again.
 *
 * Pure state: the caller gives the time (milliseconds on any monotonic clock), so tests can
 * drive it without sleeping. Not thread-safe: one per worker loop. */
#ifndef LX_SHARED_BREAKER_H
#define LX_SHARED_BREAKER_H

#include <stdint.h>

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker {
    const char *name; /* "embedder", "generator": in logs and metrics */
    unsigned threshold;
    uint64_t open_ms;
    enum breaker_state state;
    unsigned consecutive;
    uint64_t opened_at;
    int probing; /* half-open: the probe is out */
    /* counters, for /api/metrics */
    uint64_t n_opened, n_rejected, n_failures, n_successes;
};

void breaker_init(struct breaker *b, const char *name, unsigned threshold, uint64_t open_ms);
/* Reconfigure (SIGHUP) without losing the state. */
void breaker_configure(struct breaker *b, unsigned threshold, uint64_t open_ms);
/* May a call go out now? 1: yes (and, when half-open, it is the probe: its outcome must be
 * reported); 0: refused (counted). */
int breaker_allow(struct breaker *b, uint64_t now_ms);
void breaker_success(struct breaker *b);
void breaker_failure(struct breaker *b, uint64_t now_ms);
/* A call that was let through ended without an outcome (cancelled by its client): a probe
 * that is cancelled lets the next call probe. */
void breaker_release(struct breaker *b);
/* The state as seen at now_ms (an open breaker past open_ms reads "half_open"). */
enum breaker_state breaker_state_at(const struct breaker *b, uint64_t now_ms);
const char *breaker_state_name(enum breaker_state s);

#endif
