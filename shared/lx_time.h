/* shared/lx_time.h -- milliseconds to a struct timeval for libevent timers. Always use this:
 * a tv_usec of a million or more corrupts the order of libevent's timer heap (other timers
 * then fire only when the malformed one does). */
#ifndef LX_SHARED_LX_TIME_H
#define LX_SHARED_LX_TIME_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

static inline struct timeval lx_tv_ms(unsigned long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* Milliseconds on the monotonic clock (deadlines, circuit breakers). */
static inline uint64_t lx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
