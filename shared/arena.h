/* shared/arena.h -- per-request (and per-connection) memory: bump allocation over chained
 * blocks, large allocations chained apart, and cleanup handlers run in reverse order when the
 * arena is freed, so foreign objects (Jansson values, events) die with their owner. */
#ifndef LX_SHARED_ARENA_H
#define LX_SHARED_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(size_t block_bytes); /* NULL on ENOMEM */
void arena_free(struct arena *a);            /* runs cleanups, newest first; NULL is a no-op */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t count, size_t size);
/* Copies exactly n bytes (NULs included: unlike strndup(3)), then a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run fn(p) when the arena is freed. On ENOMEM fn(p) runs at once and -1 is returned, so the
 * caller never leaks p. */
int arena_defer(struct arena *a, void (*fn)(void *), void *p);
size_t arena_bytes(const struct arena *a); /* bytes held, for metrics and tests */

#endif
