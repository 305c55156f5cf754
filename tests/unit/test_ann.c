/* tests/unit/test_ann.c -- the vector index (shared/ann.cc, a C++ shim: this test links its
 * object instead of #including it). Build/save/open round trip, exact search against a brute
 * force here, recall of HNSW against exact on random unit vectors, atomic replacement (readers
 * of the old file keep working; a reader opening during many saves never sees a torn file),
 * dimension mismatch, truncated and corrupt files (bad checksums, and resealed files whose
 * structure lies: the loader must refuse them, never crash), builder errors, empty and tiny
 * indexes, unnormalised input, and searches from several threads with different ef. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../shared/ann.h"

static char tmpdir[] = "/tmp/lx_test_ann.XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* ---------------------------------------------------------------- vectors */

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_normal(void)
{
    double u1 = ((rng_next() >> 11) + 0.5) / 9007199254740992.0;
    double u2 = (rng_next() >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* n random unit vectors (uniform on the sphere). */
static float *random_unit(size_t n, unsigned dim, uint64_t seed)
{
    rng_state = seed;
    float *v = malloc(n * dim * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (unsigned j = 0; j < dim; j++) {
            v[i * dim + j] = (float)rng_normal();
            ss += (double)v[i * dim + j] * v[i * dim + j];
        }
        for (unsigned j = 0; j < dim; j++)
            v[i * dim + j] = (float)(v[i * dim + j] / sqrt(ss));
    }
    return v;
}

static void build_and_save(const char *path, const float *v, size_t n, unsigned dim,
                           const int64_t *ids, unsigned m, unsigned efc)
{
    char *err = NULL;
    ann_builder *b = ann_builder_new(dim, n, m, efc, &err);
    if (b == NULL)
        fail_msg("builder: %s", err);
    for (size_t i = 0; i < n; i++)
        if (ann_builder_add(b, ids ? ids[i] : (int64_t)i, v + i * dim, &err) != 0)
            fail_msg("add %zu: %s", i, err);
    if (ann_builder_save(b, path, &err) != 0)
        fail_msg("save: %s", err);
    ann_builder_free(b);
}

static ann_index *open_ok(const char *path, unsigned dim)
{
    char *err = NULL;
    ann_index *ix = ann_open(path, dim, &err);
    if (ix == NULL)
        fail_msg("open %s: %s", path, err);
    assert_null(err);
    return ix;
}

/* ann_open must fail with a message containing want (if not NULL). */
static void open_fails(const char *path, unsigned dim, const char *want, int line)
{
    char *err = NULL;
    ann_index *ix = ann_open(path, dim, &err);
    if (ix != NULL) {
        ann_close(ix);
        fail_msg("case at line %d: open succeeded", line);
    }
    if (err == NULL)
        fail_msg("case at line %d: no error message", line);
    if (want != NULL && strstr(err, want) == NULL)
        fail_msg("case at line %d: error \"%s\" lacks \"%s\"", line, err, want);
    free(err);
}

/* ---------------------------------------------------------------- files */

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void write_all(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The file's checksum (shared/ann.cc, AnnSum), to reseal a file after changing it. */
#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P5 2870177450012600261ULL

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t sum64(const unsigned char *p, size_t n)
{
    uint64_t lane[4] = {P1 + P2, P2, 0, 0 - P1}, total = n;
    for (; n >= 32; p += 32, n -= 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            lane[k] = rotl(lane[k] + w * P2, 31) * P1;
        }
    uint64_t h =
        rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18) + total;
    for (size_t i = 0; i < n; i++)
        h = rotl(h ^ (p[i] * P5), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

/* Header layout (shared/ann.cc, AnnHeader) and hnswlib 0.6.2's body. */
enum {
    H_DIM = 16,
    H_M = 20,
    H_NODES = 32,
    H_ALIASES = 40,
    H_HNSW_BYTES = 48,
    H_BODY_BYTES = 56,
    H_BODY_SUM = 64,
    H_SUM = 88,
    HEADER = 96,
    B_MAXLEVEL = HEADER + 48,
    B_ENTER = HEADER + 52,
    B_LEVEL0 = HEADER + 96,
};

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void reseal(unsigned char *buf, size_t len)
{
    put64(buf + H_BODY_BYTES, len - HEADER);
    put64(buf + H_BODY_SUM, sum64(buf + HEADER, len - HEADER));
    put64(buf + H_SUM, sum64(buf, H_SUM));
}

/* ---------------------------------------------------------------- tests */

/* Saved and opened again: sizes, every vector finds itself, exact search = brute force. */
static void test_roundtrip(void **state)
{
    (void)state;
    enum { N = 1000, D = 32, K = 10 };
    float *v = random_unit(N, D, 1);
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = (int64_t)i * 7 - 500; /* negative ids too */
    char path[256], tmp[300];
    path_of(path, sizeof path, "roundtrip.idx");
    build_and_save(path, v, N, D, ids, 0, 0);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1); /* renamed away */

    ann_index *ix = open_ok(path, D);
    assert_int_equal(ann_count(ix), N);
    assert_int_equal(ann_dim(ix), D);
    char *err = NULL;
    for (int q = 0; q < N; q += 17) {
        int64_t got[K], want[K];
        float sims[K], wsims[K];
        assert_int_equal(ann_search(ix, v + q * D, K, 0, got, sims, &err), K);
        assert_true(got[0] == ids[q]);
        assert_true(fabsf(sims[0] - 1.0f) < 1e-4f);
        for (int i = 1; i < K; i++)
            assert_true(sims[i] <= sims[i - 1]);
        /* Brute force here: the K best of all N by dot product. */
        for (int i = 0; i < K; i++)
            wsims[i] = -2.0f, want[i] = -1;
        for (int i = 0; i < N; i++) {
            float s = 0;
            for (int j = 0; j < D; j++)
                s += v[q * D + j] * v[i * D + j];
            for (int p = 0; p < K; p++)
                if (s > wsims[p]) {
                    memmove(wsims + p + 1, wsims + p, (K - 1 - p) * sizeof *wsims);
                    memmove(want + p + 1, want + p, (K - 1 - p) * sizeof *want);
                    wsims[p] = s, want[p] = ids[i];
                    break;
                }
        }
        assert_int_equal(ann_search_exact(ix, v + q * D, K, got, sims, &err), K);
        for (int i = 0; i < K; i++) {
            if (got[i] != want[i] && fabsf(sims[i] - wsims[i]) > 1e-5f)
                fail_msg("query %d rank %d: id %lld, want %lld", q, i, (long long)got[i],
                         (long long)want[i]);
            assert_true(fabsf(sims[i] - wsims[i]) < 1e-5f);
        }
    }
    assert_null(err);
    ann_close(ix);
    free(v);
}

static double recall_at(ann_index *ix, const float *qv, size_t nq, unsigned dim, unsigned ef)
{
    enum { K = 10 };
    size_t found = 0;
    char *err = NULL;
    for (size_t q = 0; q < nq; q++) {
        int64_t a[K], e[K];
        float s[K];
        assert_int_equal(ann_search_exact(ix, qv + q * dim, K, e, s, &err), K);
        assert_int_equal(ann_search(ix, qv + q * dim, K, ef, a, s, &err), K);
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                found += a[j] == e[i];
    }
    return (double)found / (double)(nq * K);
}

/* HNSW against exact on 5000 random unit vectors of dimension 64 (a hard case: no clusters). */
static void test_recall(void **state)
{
    (void)state;
    enum { N = 5000, D = 64, NQ = 200 };
    float *v = random_unit(N, D, 2), *q = random_unit(NQ, D, 3);
    char path[256];
    path_of(path, sizeof path, "recall.idx");
    build_and_save(path, v, N, D, NULL, 16, 200);
    ann_index *ix = open_ok(path, D);
    static const unsigned efs[] = {10, 0, 64, 128, 256};
    double r[5];
    for (size_t i = 0; i < 5; i++) {
        r[i] = recall_at(ix, q, NQ, D, efs[i]);
        printf("# recall@10 ef=%u: %.4f\n", efs[i], r[i]);
    }
    assert_true(r[3] >= 0.95); /* ef 128 */
    assert_true(r[4] >= r[0]);
    ann_close(ix);
    free(v);
    free(q);
}

/* Readers of the old file keep working after a replace; new opens see the new one. */
static void test_atomic_replace(void **state)
{
    (void)state;
    enum { D = 16 };
    float *a = random_unit(100, D, 4), *b = random_unit(150, D, 5);
    int64_t ida[100], idb[150];
    for (int i = 0; i < 100; i++)
        ida[i] = i;
    for (int i = 0; i < 150; i++)
        idb[i] = 1000 + i;
    char path[256];
    path_of(path, sizeof path, "replace.idx");
    build_and_save(path, a, 100, D, ida, 0, 0);
    ann_index *old = open_ok(path, D);
    build_and_save(path, b, 150, D, idb, 0, 0);
    ann_index *fresh = open_ok(path, D);
    assert_int_equal(ann_count(old), 100);
    assert_int_equal(ann_count(fresh), 150);
    int64_t ids[5];
    float sims[5];
    char *err = NULL;
    assert_int_equal(ann_search(old, a + 7 * D, 5, 0, ids, sims, &err), 5);
    assert_true(ids[0] == 7);
    for (int i = 0; i < 5; i++)
        assert_true(ids[i] < 100);
    assert_int_equal(ann_search(fresh, b + 9 * D, 5, 0, ids, sims, &err), 5);
    assert_true(ids[0] == 1009);
    ann_close(old);
    ann_close(fresh);
    free(a);
    free(b);
}

struct opener {
    const char *path;
    atomic_int stop, opened, failed, odd;
};

static void *opener_main(void *arg)
{
    struct opener *o = arg;
    while (!o->stop) {
        char *err = NULL;
        ann_index *ix = ann_open(o->path, 16, &err);
        if (ix == NULL) {
            o->failed++;
            free(err);
            continue;
        }
        if (ann_count(ix) != 100 && ann_count(ix) != 150)
            o->odd++;
        o->opened++;
        ann_close(ix);
    }
    return NULL;
}

/* A reader opening while the file is replaced again and again sees one whole file or the other. */
static void test_concurrent_replace(void **state)
{
    (void)state;
    enum { D = 16 };
    float *a = random_unit(100, D, 6), *b = random_unit(150, D, 7);
    char path[256];
    path_of(path, sizeof path, "concurrent.idx");
    build_and_save(path, a, 100, D, NULL, 0, 0);
    struct opener o = {.path = path};
    atomic_init(&o.stop, 0), atomic_init(&o.opened, 0), atomic_init(&o.failed, 0);
    atomic_init(&o.odd, 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, opener_main, &o), 0);
    for (int i = 0; i < 40; i++)
        build_and_save(path, i % 2 ? a : b, i % 2 ? 100 : 150, D, NULL, 0, 0);
    while (o.opened < 20) /* let the reader see some files */
        usleep(1000);
    o.stop = 1;
    pthread_join(t, NULL);
    printf("# opened %d, failed %d\n", atomic_load(&o.opened), atomic_load(&o.failed));
    assert_int_equal(atomic_load(&o.failed), 0);
    assert_int_equal(atomic_load(&o.odd), 0);
    free(a);
    free(b);
}

static void test_dim_mismatch(void **state)
{
    (void)state;
    float *v = random_unit(50, 24, 8);
    char path[256];
    path_of(path, sizeof path, "dim.idx");
    build_and_save(path, v, 50, 24, NULL, 0, 0);
    open_fails(path, 25, "dimension is 24, expected 25", __LINE__);
    open_fails(path, 0, "dimension", __LINE__);
    ann_close(open_ok(path, 24));
    path_of(path, sizeof path, "does-not-exist.idx");
    open_fails(path, 24, "cannot open", __LINE__);
    free(v);
}

/* A saved index of 300 vectors (dimension 16, M 8), as bytes. */
static unsigned char *good_file(size_t *len, float **vecs)
{
    enum { N = 300, D = 16 };
    float *v = random_unit(N, D, 9);
    char path[256];
    path_of(path, sizeof path, "good.idx");
    build_and_save(path, v, N, D, NULL, 8, 100);
    *vecs = v;
    return read_all(path, len);
}

/* Open buf as a file; run searches if it opens (ASan/UBSan watch), report whether it did. */
static int try_open(const unsigned char *buf, size_t len, const float *v)
{
    char path[256];
    path_of(path, sizeof path, "mangled.idx");
    write_all(path, buf, len);
    char *err = NULL;
    ann_index *ix = ann_open(path, 16, &err);
    if (ix == NULL) {
        assert_non_null(err);
        free(err);
        return 0;
    }
    assert_null(err);
    int64_t ids[10];
    float sims[10];
    for (int q = 0; q < 300; q += 15) {
        assert_true(ann_search(ix, v + q * 16, 10, 0, ids, sims, &err) >= 0);
        assert_true(ann_search(ix, v + q * 16, 10, 300, ids, sims, &err) >= 0);
        assert_true(ann_search_exact(ix, v + q * 16, 10, ids, sims, &err) >= 0);
    }
    ann_close(ix);
    return 1;
}

static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    float *v;
    unsigned char *buf = good_file(&len, &v);
    assert_int_equal(try_open(buf, len, v), 1);
    const size_t cuts[] = {0,   1,   8,       63,      64,        65,      100,     159,
                           160, 161, len / 3, len / 2, len - 100, len - 5, len - 4, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        if (try_open(buf, cuts[i], v))
            fail_msg("truncated to %zu of %zu bytes: opened", cuts[i], len);
    for (size_t cut = 0; cut < len; cut += 97) /* and many more places */
        assert_int_equal(try_open(buf, cut, v), 0);
    unsigned char *longer = malloc(len + 16);
    assert_non_null(longer);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 16);
    assert_int_equal(try_open(longer, len + 1, v), 0); /* trailing bytes */
    reseal(longer, len + 16); /* even resealed: the body must end where the lists end */
    assert_int_equal(try_open(longer, len + 16, v), 0);
    free(longer);
    free(buf);
    free(v);
}

/* A flipped byte anywhere is caught by a checksum. */
static void test_corrupt_checksum(void **state)
{
    (void)state;
    size_t len;
    float *v;
    unsigned char *buf = good_file(&len, &v);
    for (size_t off = 0; off < len; off += len / 53 + 1) {
        buf[off] ^= 0x20;
        if (try_open(buf, len, v))
            fail_msg("byte %zu of %zu flipped: opened", off, len);
        buf[off] ^= 0x20;
    }
    buf[len - 1] ^= 1;
    assert_int_equal(try_open(buf, len, v), 0);
    free(buf);
    free(v);
}

/* Files with valid checksums whose content lies: each must be refused with a message. */
static void test_corrupt_structure(void **state)
{
    (void)state;
    enum { N = 300, D = 16, M = 8 };
    const size_t per = (2 * M) * 4 + 4 + D * 4 + 8; /* one element of the level-0 block */
    size_t len;
    float *v;
    unsigned char *good = good_file(&len, &v);
    unsigned char *buf = malloc(len);
    assert_non_null(buf);
    const size_t links_start = B_LEVEL0 + N * per; /* element 0's upper link-list size */
    static const struct {
        int line;
        int what;
    } cases[] = {
        {__LINE__, 0}, {__LINE__, 1}, {__LINE__, 2}, {__LINE__, 3}, {__LINE__, 4},
        {__LINE__, 5}, {__LINE__, 6}, {__LINE__, 7}, {__LINE__, 8}, {__LINE__, 9},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(buf, good, len);
        uint32_t u32;
        switch (cases[c].what) {
        case 0: /* a level-0 neighbour past the end */
            put32(buf + B_LEVEL0 + 5 * per + 4, N + 5);
            break;
        case 1: /* more level-0 links than 2M */ buf[B_LEVEL0 + 7 * per] = 2 * M + 1; break;
        case 2: /* entry point past the end */ put32(buf + B_ENTER, N); break;
        case 3: /* absurd top level */ put32(buf + B_MAXLEVEL, 1000); break;
        case 4: /* top level that is not the entry point's */
            memcpy(&u32, buf + B_MAXLEVEL, 4);
            put32(buf + B_MAXLEVEL, u32 + 1);
            break;
        case 5: /* an upper link-list size that is not whole lists */
            memcpy(&u32, buf + links_start, 4);
            put32(buf + links_start, u32 + 3);
            break;
        case 6: /* header dimension changed consistently with the open call */
            put32(buf + H_DIM, 15);
            break;
        case 7: /* header count changed */ put64(buf + H_NODES, N - 1); break;
        case 8: /* two elements with the same id */
            memcpy(buf + B_LEVEL0 + 0 * per + per - 8, buf + B_LEVEL0 + 1 * per + per - 8, 8);
            break;
        case 9: /* M in the header disagrees with the body */ put32(buf + H_M, M + 1); break;
        }
        reseal(buf, len);
        char path[256];
        path_of(path, sizeof path, "structure.idx");
        write_all(path, buf, len);
        open_fails(path, cases[c].what == 6 ? 15 : D, NULL, cases[c].line);
    }
    /* Random resealed byte changes in the body: refused, or opened and searchable. */
    rng_state = 42;
    int opened = 0, refused = 0;
    for (int i = 0; i < 400; i++) {
        memcpy(buf, good, len);
        size_t off = HEADER + (size_t)(rng_next() % (len - HEADER));
        buf[off] = (unsigned char)rng_next();
        if (i % 4 == 0) /* sometimes a whole link slot */
            put32(buf + (off & ~(size_t)3), (uint32_t)rng_next());
        reseal(buf, len);
        if (try_open(buf, len, v))
            opened++;
        else
            refused++;
    }
    printf("# fuzz: opened %d, refused %d\n", opened, refused);
    assert_true(refused > 0);
    free(buf);
    free(good);
    free(v);
}

/* Equal vectors become aliases of one graph node: hundreds of them ("Cukup jelas" articles)
 * must not trap the search, every id is still found, and searches return aliases with their
 * node's similarity. The alias table is checked on load like the rest. */
static void test_duplicates(void **state)
{
    (void)state;
    enum { N = 2000, D = 32, DUP = 300, DUP2 = 40, NQ = 100 };
    float *v = random_unit(N, D, 15), *q = random_unit(NQ, D, 16);
    char path[256], *err = NULL;
    path_of(path, sizeof path, "dups.idx");
    ann_builder *b = ann_builder_new(D, N + DUP + DUP2 + 3, 16, 200, &err);
    assert_non_null(b);
    float zero[D] = {0}, twice[D];
    for (int j = 0; j < D; j++)
        twice[j] = 2.0f * v[7 * D + j];
    int64_t next = 100000;
    /* the copies come first, so that one of them would be the entry point */
    for (int i = 0; i < DUP; i++)
        assert_int_equal(ann_builder_add(b, next++, v, &err), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ann_builder_add(b, next++, zero, &err), 0);
    for (int i = 1; i < N; i++) {
        assert_int_equal(ann_builder_add(b, i, v + i * D, &err), 0);
        if (i == 500)
            for (int j = 0; j < DUP2; j++) /* scaled copies are equal once normalised */
                assert_int_equal(ann_builder_add(b, 200000 + j, twice, &err), 0);
    }
    assert_int_equal(ann_builder_add(b, 100000, v + 9 * D, &err), -1); /* an alias's id */
    assert_non_null(strstr(err, "duplicate"));
    free(err), err = NULL;
    assert_int_equal(ann_builder_save(b, path, &err), 0);
    ann_builder_free(b);

    ann_index *ix = open_ok(path, D);
    assert_int_equal(ann_count(ix), DUP + 3 + (N - 1) + DUP2);
    double r = recall_at(ix, q, NQ, D, 0);
    printf("# recall@10 with %d equal vectors: %.4f\n", DUP, r);
    assert_true(r >= 0.95);
    int64_t ids[20];
    float sims[20];
    assert_int_equal(ann_search(ix, v, 20, 0, ids, sims, &err), 20);
    for (int i = 0; i < 20; i++) {
        assert_true(ids[i] >= 100000 && ids[i] < 100000 + DUP);
        assert_true(fabsf(sims[i] - 1.0f) < 1e-4f);
    }
    assert_int_equal(ann_search_exact(ix, v + 7 * D, 20, ids, sims, &err), 20);
    assert_true(ids[0] == 7);
    for (int i = 1; i <= DUP2 && i < 20; i++)
        assert_true(ids[i] >= 200000 && fabsf(sims[i] - sims[0]) < 1e-6f);
    for (int i = 1; i < N; i += 37) { /* every node still reachable */
        assert_int_equal(ann_search(ix, v + i * D, 1, 0, ids, sims, &err), 1);
        assert_true(ids[0] == i || (i == 7 && ids[0] >= 200000));
    }
    ann_close(ix);

    /* The alias table, resealed: a node past the end, a label that is also a node's. */
    size_t len;
    unsigned char *buf = read_all(path, &len);
    uint64_t n_alias = get64(buf + H_ALIASES);
    assert_int_equal(n_alias, DUP - 1 + 2 + DUP2);
    size_t table = len - n_alias * 16;
    unsigned char *bad = malloc(len);
    assert_non_null(bad);
    static const struct {
        int line;
        int what;
    } cases[] = {{__LINE__, 0}, {__LINE__, 1}, {__LINE__, 2}, {__LINE__, 3}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(bad, buf, len);
        size_t l = len;
        switch (cases[c].what) {
        case 0: put32(bad + table + 5 * 16 + 8, N + 10); break; /* node out of range */
        case 1: put64(bad + table + 5 * 16, 3); break;          /* label 3 is a node */
        case 2: put32(bad + table + 16 + 12, 1); break;         /* padding not zero */
        case 3: put64(bad + H_ALIASES, n_alias - 1); break;     /* count disagrees */
        }
        reseal(bad, l);
        path_of(path, sizeof path, "dups-bad.idx");
        write_all(path, bad, l);
        open_fails(path, D, NULL, cases[c].line);
    }
    free(bad);
    free(buf);
    free(v);
    free(q);
}

static void test_builder_errors(void **state)
{
    (void)state;
    char *err = NULL;
    assert_null(ann_builder_new(0, 10, 0, 0, &err));
    assert_non_null(err);
    free(err), err = NULL;
    assert_null(ann_builder_new(8, 10, 1, 0, &err)); /* M 1 */
    free(err), err = NULL;

    enum { D = 8 };
    float *v = random_unit(3, D, 10);
    ann_builder *b = ann_builder_new(D, 2, 0, 0, &err);
    assert_non_null(b);
    assert_int_equal(ann_builder_add(b, 1, v, &err), 0);
    assert_int_equal(ann_builder_add(b, 1, v + D, &err), -1);
    assert_non_null(strstr(err, "duplicate"));
    free(err), err = NULL;
    float bad[D];
    memcpy(bad, v + D, sizeof bad);
    bad[3] = NAN;
    assert_int_equal(ann_builder_add(b, 2, bad, &err), -1);
    assert_non_null(strstr(err, "non-finite"));
    err[0] = 'X'; /* a leftover message is replaced, not leaked (ASan would say) */
    bad[3] = INFINITY;
    assert_int_equal(ann_builder_add(b, 2, bad, &err), -1);
    free(err), err = NULL;
    assert_int_equal(ann_builder_add(b, 2, v + D, &err), 0);
    assert_int_equal(ann_builder_add(b, 3, v + 2 * D, &err), -1); /* max_elements 2 */
    assert_non_null(strstr(err, "full"));
    free(err), err = NULL;
    char path[256];
    path_of(path, sizeof path, "errors.idx");
    assert_int_equal(ann_builder_save(b, path, &err), 0); /* the good points survive */
    assert_int_equal(ann_builder_save(b, "/nonexistent-dir/x.idx", &err), -1);
    assert_non_null(err);
    free(err), err = NULL;
    ann_builder_free(b);
    ann_builder_free(NULL);
    ann_index *ix = open_ok(path, D);
    assert_int_equal(ann_count(ix), 2);
    int64_t ids[2];
    float sims[2];
    assert_int_equal(ann_search(ix, bad, 2, 0, ids, sims, &err), -1); /* non-finite query */
    assert_non_null(err);
    free(err);
    ann_close(ix);
    ann_close(NULL);
    free(v);
}

/* No vectors, fewer vectors than k, k 0. */
static void test_small_indexes(void **state)
{
    (void)state;
    enum { D = 8 };
    float *v = random_unit(5, D, 11);
    char path[256], *err = NULL;
    int64_t ids[10];
    float sims[10];
    path_of(path, sizeof path, "empty.idx");
    build_and_save(path, v, 0, D, NULL, 0, 0);
    ann_index *ix = open_ok(path, D);
    assert_int_equal(ann_count(ix), 0);
    assert_int_equal(ann_search(ix, v, 10, 0, ids, sims, &err), 0);
    assert_int_equal(ann_search_exact(ix, v, 10, ids, sims, &err), 0);
    ann_close(ix);

    path_of(path, sizeof path, "five.idx");
    build_and_save(path, v, 5, D, NULL, 0, 0);
    ix = open_ok(path, D);
    assert_int_equal(ann_search(ix, v, 10, 0, ids, sims, &err), 5);
    assert_int_equal(ann_search_exact(ix, v, 10, ids, sims, &err), 5);
    assert_int_equal(ann_search(ix, v, 0, 0, ids, sims, &err), 0);
    assert_null(err);
    ann_close(ix);
    free(v);
}

/* Vectors are normalised inside: scaled input gives the same neighbours and cosines. */
static void test_unnormalised_input(void **state)
{
    (void)state;
    enum { N = 200, D = 16 };
    float *v = random_unit(N, D, 12), *scaled = malloc(N * D * sizeof *scaled);
    assert_non_null(scaled);
    for (int i = 0; i < N * D; i++)
        scaled[i] = v[i] * (float)(1 + i / D % 5);
    char path[256], *err = NULL;
    path_of(path, sizeof path, "scaled.idx");
    build_and_save(path, scaled, N, D, NULL, 0, 0);
    ann_index *ix = open_ok(path, D);
    int64_t ids[3];
    float sims[3], q[D];
    for (int j = 0; j < D; j++)
        q[j] = v[42 * D + j] * 0.25f;
    assert_int_equal(ann_search(ix, q, 3, 0, ids, sims, &err), 3);
    assert_true(ids[0] == 42);
    assert_true(fabsf(sims[0] - 1.0f) < 1e-4f);
    float zero[D] = {0};
    assert_int_equal(ann_search_exact(ix, zero, 3, ids, sims, &err), 3);
    assert_true(sims[0] == 0.0f);
    ann_close(ix);
    free(v);
    free(scaled);
}

struct searcher {
    ann_index *ix;
    const float *q;
    unsigned ef, nq;
    const int64_t *want; /* nq x 10 from one thread */
    int mismatches;
};

static void *searcher_main(void *arg)
{
    struct searcher *s = arg;
    for (int rep = 0; rep < 5; rep++)
        for (unsigned q = 0; q < s->nq; q++) {
            int64_t ids[10];
            float sims[10];
            char *err = NULL;
            int n = ann_search(s->ix, s->q + q * 32, 10, s->ef, ids, sims, &err);
            if (n != 10 || memcmp(ids, s->want + q * 10, sizeof ids) != 0)
                s->mismatches++;
            free(err);
        }
    return NULL;
}

/* Several threads search one index at once, each with its own ef: each gets what it would get
 * alone (ef is per call, not index state). */
static void test_threads(void **state)
{
    (void)state;
    enum { N = 3000, D = 32, NQ = 60, T = 4 };
    float *v = random_unit(N, D, 13), *q = random_unit(NQ, D, 14);
    char path[256], *err = NULL;
    path_of(path, sizeof path, "threads.idx");
    build_and_save(path, v, N, D, NULL, 0, 0);
    ann_index *ix = open_ok(path, D);
    static const unsigned efs[T] = {10, 0, 100, 400};
    int64_t *want = malloc(T * NQ * 10 * sizeof *want);
    assert_non_null(want);
    float sims[10];
    for (int t = 0; t < T; t++)
        for (int i = 0; i < NQ; i++)
            assert_int_equal(
                ann_search(ix, q + i * D, 10, efs[t], want + (t * NQ + i) * 10, sims, &err), 10);
    struct searcher s[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        s[t] = (struct searcher){ix, q, efs[t], NQ, want + t * NQ * 10, 0};
        assert_int_equal(pthread_create(&th[t], NULL, searcher_main, &s[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_int_equal(s[t].mismatches, 0);
    }
    ann_close(ix);
    free(want);
    free(v);
    free(q);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state) /* every file the tests left, then the directory */
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d != NULL) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),        cmocka_unit_test(test_recall),
        cmocka_unit_test(test_atomic_replace),   cmocka_unit_test(test_concurrent_replace),
        cmocka_unit_test(test_dim_mismatch),     cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_corrupt_checksum), cmocka_unit_test(test_corrupt_structure),
        cmocka_unit_test(test_duplicates),       cmocka_unit_test(test_builder_errors),
        cmocka_unit_test(test_small_indexes),    cmocka_unit_test(test_unnormalised_input),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
