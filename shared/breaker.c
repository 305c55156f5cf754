/* shared/breaker.c -- circuit breaker state machine (breaker.h). */
#include "breaker.h"

#include <stddef.h>

#include "log.h"

void breaker_init(struct breaker *b, const char *name, unsigned threshold, uint64_t open_ms)
{
    *b = (struct breaker){.name = name};
    breaker_configure(b, threshold, open_ms);
}

void breaker_configure(struct breaker *b, unsigned threshold, uint64_t open_ms)
{
    b->threshold = threshold ? threshold : 1;
    b->open_ms = open_ms;
}

enum breaker_state breaker_state_at(const struct breaker *b, uint64_t now_ms)
{
    if (b->state == BREAKER_OPEN && now_ms - b->opened_at >= b->open_ms)
        return BREAKER_HALF_OPEN;
    return b->state;
}

const char *breaker_state_name(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED: return "closed";
    case BREAKER_OPEN: return "open";
    case BREAKER_HALF_OPEN: return "half_open";
    }
    return "closed";
}

int breaker_allow(struct breaker *b, uint64_t now_ms)
{
    if (b->state == BREAKER_OPEN && now_ms - b->opened_at >= b->open_ms) {
        b->state = BREAKER_HALF_OPEN;
        b->probing = 0;
    }
    if (b->state == BREAKER_CLOSED)
        return 1;
    if (b->state == BREAKER_HALF_OPEN && !b->probing) {
        b->probing = 1;
        log_info(NULL, "msg=\"circuit half-open: probing\" upstream=%s", b->name);
        return 1;
    }
    b->n_rejected++;
    return 0;
}

void breaker_success(struct breaker *b)
{
    b->n_successes++;
    b->consecutive = 0;
    if (b->state != BREAKER_CLOSED)
        log_info(NULL, "msg=\"circuit closed\" upstream=%s", b->name);
    b->state = BREAKER_CLOSED;
    b->probing = 0;
}

void breaker_failure(struct breaker *b, uint64_t now_ms)
{
    b->n_failures++;
    if (b->state == BREAKER_OPEN) /* a call from before it opened: already counted */
        return;
    if (b->state == BREAKER_HALF_OPEN || ++b->consecutive >= b->threshold) {
        b->state = BREAKER_OPEN;
        b->opened_at = now_ms;
        b->probing = 0;
        b->n_opened++;
        log_warn(NULL, "msg=\"circuit open\" upstream=%s failures=%u open_ms=%llu", b->name,
                 b->consecutive, (unsigned long long)b->open_ms);
    }
}

void breaker_release(struct breaker *b)
{
    if (b->state == BREAKER_HALF_OPEN)
        b->probing = 0;
}
