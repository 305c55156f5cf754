/* tests/fuzz/fuzz_log.h -- what the fuzz harnesses share (header-only): a growing byte log in
 * which each way of parsing an input records what it saw, so that the ways can be compared. */
#ifndef LX_TESTS_FUZZ_LOG_H
#define LX_TESTS_FUZZ_LOG_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct flog {
    uint8_t *s;
    size_t len, cap;
};

static void flog_add(struct flog *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 1024;
        while (cap < l->len + n)
            cap *= 2;
        uint8_t *s = realloc(l->s, cap);
        if (s == NULL)
            abort();
        l->s = s;
        l->cap = cap;
    }
    if (n > 0)
        memcpy(l->s + l->len, p, n);
    l->len += n;
}

#endif
