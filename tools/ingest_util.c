/* tools/ingest_util.c -- small helpers of lexrag-ingest: growable byte buffers, a string map
 * (open addressing, FNV-1a), the 128-bit content hash (MurmurHash3 x64_128, public domain by
 * Austin Appleby, written out again here) and the progress display of each phase. */
#include "ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- buffers ---------------------------------------------------------------------------- */

int buf_reserve(struct ing_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_add(struct ing_buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int buf_adds(struct ing_buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_addc(struct ing_buf *b, char c)
{
    return buf_add(b, &c, 1);
}

int buf_printf(struct ing_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_free(struct ing_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- string map ------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static int map_grow(struct ing_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    const char **keys = calloc(cap, sizeof *keys);
    size_t *vals = calloc(cap, sizeof *vals);
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = (size_t)fnv1a(m->keys[i]) & (cap - 1);
        while (keys[j] != NULL)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int map_put(struct ing_map *m, const char *key, size_t val)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m) != 0)
        return -1;
    size_t j = (size_t)fnv1a(key) & (m->cap - 1);
    while (m->keys[j] != NULL && strcmp(m->keys[j], key) != 0)
        j = (j + 1) & (m->cap - 1);
    if (m->keys[j] == NULL)
        m->n++;
    m->keys[j] = key;
    m->vals[j] = val;
    return 0;
}

int map_get(const struct ing_map *m, const char *key, size_t *val)
{
    if (m->cap == 0)
        return 0;
    size_t j = (size_t)fnv1a(key) & (m->cap - 1);
    while (m->keys[j] != NULL) {
        if (strcmp(m->keys[j], key) == 0) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void map_free(struct ing_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- MurmurHash3 x64_128 ---------------------------------------------------------------- */

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static uint64_t load64le(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void hash128_hex(const void *data, size_t len, char out[33])
{
    const unsigned char *p = data;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0x6c65787261670001ULL, h2 = h1; /* seed: "lexrag", format 1 */
    size_t nblocks = len / 16;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = load64le(p + i * 16), k2 = load64le(p + i * 16 + 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = p + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    size_t rest = len & 15;
    for (size_t i = rest; i > 8; i--)
        k2 ^= (uint64_t)tail[i - 1] << ((i - 9) * 8);
    if (rest > 8) {
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
        k1 ^= (uint64_t)tail[i - 1] << ((i - 1) * 8);
    if (rest > 0) {
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h1, (unsigned long long)h2);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- progress --------------------------------------------------------------------------- */

#define PROG_TTY_INTERVAL_S   0.1 /* at most 10 redraws a second */
#define PROG_PLAIN_INTERVAL_S 5.0
#define PROG_BAR_WIDTH        24

static int prog_tty = -1, prog_quiet;
static struct ing_progress *prog_shown; /* the bar on screen, if any */

void prog_init(int quiet)
{
    prog_quiet = quiet;
    prog_tty = isatty(STDERR_FILENO);
}

static void fmt_count(char *out, size_t cap, double v)
{
    if (v >= 1e6)
        snprintf(out, cap, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(out, cap, "%.1fk", v / 1e3);
    else
        snprintf(out, cap, "%.0f", v);
}

static void fmt_eta(char *out, size_t cap, double s)
{
    if (s < 0 || s > 359999)
        snprintf(out, cap, "--:--");
    else if (s >= 3600)
        snprintf(out, cap, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(out, cap, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void prog_draw(struct ing_progress *p, double t, int final)
{
    double el = t - p->t0;
    double rate = el > 0 ? (double)p->items / el : 0;
    double frac = p->total ? (double)p->done / (double)p->total : 0;
    if (frac > 1)
        frac = 1;
    char rs[32], eta[32], line[256];
    fmt_count(rs, sizeof rs, rate);
    if (prog_tty) {
        char bar[PROG_BAR_WIDTH + 1];
        int fill = (int)(frac * PROG_BAR_WIDTH);
        for (int i = 0; i < PROG_BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[PROG_BAR_WIDTH] = '\0';
        if (final)
            snprintf(eta, sizeof eta, "%.1fs", el);
        else if (!p->total)
            fmt_eta(eta, sizeof eta, el);
        else if (frac > 0)
            fmt_eta(eta, sizeof eta, el * (1 - frac) / frac);
        else
            snprintf(eta, sizeof eta, "--:--");
        if (p->total)
            snprintf(line, sizeof line, "%-8s [%s] %3.0f%% %10llu %-8s %7s/s  %s %s", p->phase, bar,
                     frac * 100, (unsigned long long)p->items, p->what, rs, final ? "took" : "ETA",
                     eta);
        else
            snprintf(line, sizeof line, "%-8s %10llu %-8s %7s/s  %s %s", p->phase,
                     (unsigned long long)p->items, p->what, rs, final ? "took" : "elapsed", eta);
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
        prog_shown = final ? NULL : p;
    } else if (final) {
        fprintf(stderr, "%s: %s: %llu %s in %.2f s (%s/s)\n", ING_PROG, p->phase,
                (unsigned long long)p->items, p->what, el, rs);
    } else {
        if (p->total && frac > 0)
            fmt_eta(eta, sizeof eta, el * (1 - frac) / frac);
        else
            snprintf(eta, sizeof eta, "?");
        fprintf(stderr, "%s: %s: %llu %s (%.0f%%), %s/s, ETA %s\n", ING_PROG, p->phase,
                (unsigned long long)p->items, p->what, frac * 100, rs, eta);
    }
    fflush(stderr);
    p->last = t;
    p->drawn = 1;
}

void prog_start(struct ing_progress *p, const char *phase, uint64_t total, const char *what)
{
    memset(p, 0, sizeof *p);
    p->phase = phase;
    p->what = what;
    p->total = total;
    p->t0 = p->last = now_s();
    if (prog_tty < 0)
        prog_init(0);
    if (!prog_quiet && prog_tty)
        prog_draw(p, p->t0, 0);
}

void prog_update(struct ing_progress *p, uint64_t done, uint64_t items)
{
    p->done = done;
    p->items = items;
    if (prog_quiet)
        return;
    double t = now_s();
    if (t - p->last >= (prog_tty ? PROG_TTY_INTERVAL_S : PROG_PLAIN_INTERVAL_S))
        prog_draw(p, t, 0);
}

double prog_end(struct ing_progress *p)
{
    double t = now_s();
    if (!prog_quiet)
        prog_draw(p, t, 1);
    return t - p->t0;
}

void prog_msg(const char *fmt, ...)
{
    if (prog_tty > 0 && prog_shown != NULL)
        fputs("\r\033[K", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (prog_tty > 0 && prog_shown != NULL && !prog_quiet)
        prog_draw(prog_shown, now_s(), 0);
    fflush(stderr);
}
