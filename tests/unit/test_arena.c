/* tests/unit/test_arena.c -- the request arena (shared/arena.c): alignment, blocks and large
 * allocations kept apart, calloc/strndup/printf, cleanups run newest first (also many of them,
 * and one added by another cleanup), arena_free(NULL). Leaks show under ASan (make check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/arena.c"

static int aligned(const void *p)
{
    return (uintptr_t)p % _Alignof(max_align_t) == 0 && (uintptr_t)p % ARENA_ALIGN == 0;
}

static const struct {
    int line;
    size_t block_bytes;
} arena_sizes[] = {
    {__LINE__, 0}, {__LINE__, 1}, {__LINE__, 256}, {__LINE__, 1000}, {__LINE__, 8 * 1024},
};

/* Every allocation is aligned for any type, and none overlaps another. */
static void test_alignment(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof arena_sizes / sizeof arena_sizes[0]; c++) {
        struct arena *a = arena_new(arena_sizes[c].block_bytes);
        assert_non_null(a);
        enum { N = 600 };
        unsigned char *ptrs[N];
        size_t sizes[N];
        for (size_t i = 0; i < N; i++) {
            sizes[i] = i % 7 == 0 ? 0 : (i * 37) % 301; /* 0..300, some zero */
            if (i % 50 == 49)
                sizes[i] = 5000 + i; /* large ones in between */
            ptrs[i] = arena_alloc(a, sizes[i]);
            if (ptrs[i] == NULL || !aligned(ptrs[i]))
                fail_msg("case at line %d: allocation %zu of %zu bytes at %p", arena_sizes[c].line,
                         i, sizes[i], (void *)ptrs[i]);
            memset(ptrs[i], (int)(i & 0xff), sizes[i]);
        }
        for (size_t i = 0; i < N; i++)
            for (size_t k = 0; k < sizes[i]; k++)
                if (ptrs[i][k] != (unsigned char)(i & 0xff))
                    fail_msg("case at line %d: allocation %zu overwritten at byte %zu",
                             arena_sizes[c].line, i, k);
        for (size_t i = 1; i < N; i++) /* two zero-byte allocations are still distinct */
            assert_ptr_not_equal(ptrs[i], ptrs[i - 1]);
        assert_true(aligned(arena_calloc(a, 3, 7)));
        assert_true(aligned(arena_strdup(a, "x")));
        assert_true(aligned(arena_printf(a, "%d", 1)));
        double *d = arena_alloc(a, sizeof *d);
        *d = 1.5;
        long double *ld = arena_alloc(a, sizeof *ld);
        *ld = 2.5L;
        assert_true(*d == 1.5 && *ld == 2.5L);
        arena_free(a);
    }
}

/* Large allocations get their own block, behind the current one: small allocations after one
 * keep filling the current block. */
static void test_large(void **state)
{
    (void)state;
    struct arena *a = arena_new(1024);
    assert_non_null(a);
    assert_int_equal(arena_bytes(a), 0);
    char *small1 = arena_alloc(a, 16);
    assert_non_null(small1);
    size_t after_small = arena_bytes(a);
    assert_int_equal(after_small, 1024);

    static const size_t big_sizes[] = {1 << 20, 300000, 4096, 64 * 1024 + 1};
    size_t held = after_small;
    for (size_t i = 0; i < sizeof big_sizes / sizeof big_sizes[0]; i++) {
        unsigned char *big = arena_alloc(a, big_sizes[i]);
        assert_non_null(big);
        assert_true(aligned(big));
        memset(big, 0xab, big_sizes[i]); /* all of it is ours (ASan checks) */
        assert_int_equal(big[big_sizes[i] - 1], 0xab);
        held += (big_sizes[i] + 15) & ~(size_t)15;
        assert_int_equal(arena_bytes(a), held);
    }
    char *small2 = arena_alloc(a, 16);
    assert_ptr_equal(small2, small1 + 16); /* same block, right after */
    assert_int_equal(arena_bytes(a), held);

    /* a large first allocation, in a fresh arena */
    struct arena *b = arena_new(256);
    void *p = arena_alloc(b, 100000);
    assert_non_null(p);
    memset(p, 1, 100000);
    assert_non_null(arena_alloc(b, 8));
    arena_free(b);

    /* arena_calloc: zeroed, and overflow refused */
    unsigned char *z = arena_calloc(a, 1000, 100);
    assert_non_null(z);
    for (size_t i = 0; i < 100000; i++)
        if (z[i] != 0)
            fail_msg("calloc byte %zu is %u", i, z[i]);
    assert_null(arena_calloc(a, SIZE_MAX / 2, 4));
    assert_null(arena_calloc(a, SIZE_MAX, SIZE_MAX));
    assert_non_null(arena_calloc(a, 0, 10));
    arena_free(a);
}

/* Blocks grow geometrically up to 64 KiB: many small allocations hold memory in proportion. */
static void test_growth(void **state)
{
    (void)state;
    struct arena *a = arena_new(256);
    size_t want = 0;
    for (int i = 0; i < 100000; i++) {
        assert_non_null(arena_alloc(a, 32));
        want += 32;
    }
    assert_true(arena_bytes(a) >= want);
    assert_true(arena_bytes(a) <= want + 2 * ARENA_BLOCK_MAX_BYTES);
    arena_free(a);
}

static const struct {
    int line;
    const char *s;
    size_t n;
    const char *want;
} strndup_cases[] = {
    {__LINE__, "Pasal 2 ayat (1)", 16, "Pasal 2 ayat (1)"},
    {__LINE__, "Pasal 2 ayat (1)", 7, "Pasal 2"},
    {__LINE__, "Pasal", 0, ""},
    {__LINE__, "", 0, ""},
    {__LINE__, "UU No. 31 Tahun 1999", 2, "UU"},
};

static void test_strndup(void **state)
{
    (void)state;
    struct arena *a = arena_new(64);
    for (size_t c = 0; c < sizeof strndup_cases / sizeof strndup_cases[0]; c++) {
        const char *src = strndup_cases[c].s;
        char *d = arena_strndup(a, src, strndup_cases[c].n);
        if (d == NULL || d == src || strcmp(d, strndup_cases[c].want) != 0)
            fail_msg("case at line %d: got '%s'", strndup_cases[c].line, d ? d : "(null)");
        assert_int_equal(d[strndup_cases[c].n], '\0');
    }
    /* a length-exact copy of bytes that are not NUL-terminated */
    static const char raw[4] = {'a', 'b', 'c', 'd'};
    char *d = arena_strndup(a, raw, 3);
    assert_string_equal(d, "abc");
    char *s = arena_strdup(a, "Undang-Undang Nomor 31 Tahun 1999");
    assert_string_equal(s, "Undang-Undang Nomor 31 Tahun 1999");
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    s = arena_strdup(a, big);
    assert_string_equal(s, big);
    arena_free(a);
}

static const struct {
    int line;
    const char *want;
} printf_cases[] = {
    {__LINE__, ""},
    {__LINE__, "req=7f3a status=200 ms=4.60"},
    {__LINE__, "-42 ff z (null)"},
};

static void test_printf(void **state)
{
    (void)state;
    struct arena *a = arena_new(256);
    const char *got[3];
    got[0] = arena_printf(a, "%s", "");
    got[1] = arena_printf(a, "req=%s status=%d ms=%.2f", "7f3a", 200, 4.6);
    got[2] = arena_printf(a, "%d %x %c %s", -42, 255, 'z', "(null)");
    for (size_t c = 0; c < sizeof printf_cases / sizeof printf_cases[0]; c++)
        if (got[c] == NULL || strcmp(got[c], printf_cases[c].want) != 0)
            fail_msg("case at line %d: got '%s'", printf_cases[c].line, got[c]);
    /* longer than a block, and than the block maximum */
    for (int width = 100; width <= 200000; width *= 10) {
        char *s = arena_printf(a, "[%*d]", width, 7);
        assert_non_null(s);
        assert_int_equal(strlen(s), (size_t)width + 2);
        assert_int_equal(s[0], '[');
        assert_int_equal(s[width], '7');
        assert_int_equal(s[width + 1], ']');
    }
    arena_free(a);
}

/* ---- cleanups --------------------------------------------------------------------------- */

struct order {
    int seen[16];
    int n;
};

struct mark {
    struct order *o;
    int id;
};

static void on_mark(void *p)
{
    struct mark *m = p;
    m->o->seen[m->o->n++] = m->id;
}

static void test_defer_order(void **state)
{
    (void)state;
    struct order o = {0};
    struct mark m[5];
    struct arena *a = arena_new(256);
    for (int i = 0; i < 5; i++) {
        m[i] = (struct mark){&o, i + 1};
        assert_int_equal(arena_defer(a, on_mark, &m[i]), 0);
        arena_alloc(a, 1000); /* cleanups and allocations interleave across blocks */
    }
    assert_int_equal(o.n, 0); /* nothing runs before the arena is freed */
    arena_free(a);
    assert_int_equal(o.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(o.seen[i], 5 - i);
}

/* Many foreign objects, each freed by its cleanup: ASan reports any that is not. */
static int freed_count;

static void free_counted(void *p)
{
    free(p);
    freed_count++;
}

static void test_defer_many(void **state)
{
    (void)state;
    freed_count = 0;
    struct arena *a = arena_new(512);
    for (int i = 0; i < 20000; i++) {
        char *obj = malloc(1 + (size_t)(i % 200));
        assert_non_null(obj);
        obj[0] = (char)i;
        assert_int_equal(arena_defer(a, free_counted, obj), 0);
        if (i % 3 == 0)
            assert_non_null(arena_alloc(a, (size_t)(i % 500)));
    }
    arena_free(a);
    assert_int_equal(freed_count, 20000);
}

/* A cleanup that registers another: that one runs too, before the blocks go. */
struct chain {
    struct arena *a;
    struct order *o;
    struct mark late;
};

static void on_chain(void *p)
{
    struct chain *c = p;
    c->o->seen[c->o->n++] = 100;
    assert_int_equal(arena_defer(c->a, on_mark, &c->late), 0);
}

static void test_defer_from_cleanup(void **state)
{
    (void)state;
    struct order o = {0};
    struct arena *a = arena_new(256);
    struct mark first = {&o, 1};
    struct chain *c = arena_alloc(a, sizeof *c); /* lives in the arena itself */
    *c = (struct chain){a, &o, {&o, 2}};
    arena_defer(a, on_mark, &first);
    arena_defer(a, on_chain, c);
    arena_free(a);
    assert_int_equal(o.n, 3);
    assert_int_equal(o.seen[0], 100);
    assert_int_equal(o.seen[1], 2);
    assert_int_equal(o.seen[2], 1);
}

static void test_free_null(void **state)
{
    (void)state;
    arena_free(NULL);
    struct arena *a = arena_new(0); /* empty arena: nothing allocated, nothing to run */
    assert_non_null(a);
    assert_int_equal(arena_bytes(a), 0);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),  cmocka_unit_test(test_large),
        cmocka_unit_test(test_growth),     cmocka_unit_test(test_strndup),
        cmocka_unit_test(test_printf),     cmocka_unit_test(test_defer_order),
        cmocka_unit_test(test_defer_many), cmocka_unit_test(test_defer_from_cleanup),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
