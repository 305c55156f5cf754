/* shared/arena.c -- bump allocator with cleanups (see arena.h). Blocks grow geometrically up to
 * 64 KiB; an allocation larger than a quarter block gets a block of its own. */
#include "arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN           16
#define ARENA_BLOCK_MAX_BYTES (64 * 1024)

struct arena_block {
    struct arena_block *next;
    size_t size, used;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *p;
};

struct arena {
    struct arena_block *blocks; /* current block first */
    struct arena_cleanup *cleanups;
    size_t next_size, held;
};

static struct arena_block *block_new(size_t size)
{
    struct arena_block *b = malloc(sizeof *b + size);
    if (b == NULL)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *arena_new(size_t block_bytes)
{
    struct arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->next_size = block_bytes < 256 ? 256 : block_bytes;
    return a;
}

void arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    while (a->cleanups != NULL) { /* a cleanup may add another; it runs too */
        struct arena_cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->p);
    }
    struct arena_block *b = a->blocks;
    while (b != NULL) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n == 0)
        n = ARENA_ALIGN;
    struct arena_block *b = a->blocks;
    if (b != NULL && b->size - b->used >= n) {
        void *p = b->data + b->used;
        b->used += n;
        return p;
    }
    if (n > a->next_size / 4) { /* large: own block, behind the current one */
        struct arena_block *big = block_new(n);
        if (big == NULL)
            return NULL;
        big->used = n;
        if (b != NULL) {
            big->next = b->next;
            b->next = big;
        } else {
            a->blocks = big;
        }
        a->held += n;
        return big->data;
    }
    struct arena_block *nb = block_new(a->next_size);
    if (nb == NULL)
        return NULL;
    a->held += a->next_size;
    if (a->next_size < ARENA_BLOCK_MAX_BYTES)
        a->next_size *= 2;
    nb->next = a->blocks;
    a->blocks = nb;
    nb->used = n;
    return nb->data;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = arena_alloc(a, (size_t)n + 1);
    if (d == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

int arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct arena_cleanup *c = arena_alloc(a, sizeof *c);
    if (c == NULL) {
        fn(p);
        return -1;
    }
    c->fn = fn;
    c->p = p;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t arena_bytes(const struct arena *a)
{
    return a->held;
}
