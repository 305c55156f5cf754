/* shared/lx_time.h -- milliseconds to a struct timeval for libevent timers. Always use this:
 * a tv_usec of a million or more corrupts the order of libevent's timer heap (other timers
 * then fire only when the malformed one does). */
#ifndef LX_SHARED_LX_TIME_H
#define LX_SHARED_LX_TIME_H

#include <sys/time.h>

static inline struct timeval lx_tv_ms(unsigned long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

#endif
