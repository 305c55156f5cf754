/* tests/unit/test_helpers.h -- small helpers several unit tests share (header-only; include it
 * after <cmocka.h>): a growing text buffer for recording what callbacks saw, and removing a
 * temporary directory tree. */
#ifndef LX_TESTS_UNIT_TEST_HELPERS_H
#define LX_TESTS_UNIT_TEST_HELPERS_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct text {
    char *s;
    size_t len, cap;
};

static inline void text_addf(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void text_addf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        t->s = realloc(t->s, cap);
        assert_non_null(t->s);
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static inline int rm_tree_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove dir and everything below it (links are removed, not followed). */
static inline void rm_tree(const char *dir)
{
    nftw(dir, rm_tree_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
