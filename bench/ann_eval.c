/* bench/ann_eval.c -- measures the dense leg on the real corpus: the built-in embedder
 * (shared/emb_hash.c: speed, retrieval quality of its vectors alone and fused with BM25) and
 * the vector index (shared/ann.cc: build time, recall of HNSW against exact search, latency),
 * plus two synthetic 100k-vector indexes. Prints key=value lines; reads the data in place.
 *
 *   ann_eval [--corpus F] [--qa F] [--units articles|defs] [--dims 384,768] [--m 16] [--efc 200]
 *            [--efs 32,64,128] [--synthetic N] [--bm25 DIR] [--rrf-k 60] [--candidates 100]
 *            [--variant SPEC]... [--no-title] [--no-bab] [--no-ann] [--keep] [--tmp DIR]
 *   --corpus, --qa   default ../shared/data/id-law-{corpus,qa-dev}.jsonl (run from the checkout)
 *   --units defs     also one unit per definition of a Ketentuan Umum article (shared/defs.c),
 *                    built as bench/bm25_eval.c -d builds them (bab: the term; text: the intro
 *                    sentence and the definition); it counts as its article
 *   --bm25 DIR       BM25 index of the same units (built there if missing), ranked with k1 0.9,
 *                    b 0.75, and fused with the dense ranking by RRF (weights 1, 0.7 .. 0.2)
 *   --variant SPEC   embedder weights, one line each: word=,stem=,bigram=,chars=,number=,
 *                    nmin=,nmax=,boiler=0|1, and IDF experiments idf=POWER,top=N,drop=N,dropw=
 *                    (document frequencies from the units themselves)
 *   --synthetic N    N vectors around 1000 centres, and N uniform on the sphere (0: skip)
 *   --keep           keep the index files in --tmp
 *
 * Corpus: top-level records (parent_pasal null) that are not containers, embedded as
 * title + bab + text joined by newlines. Quality: a question scores a hit at rank r when the
 * r-th distinct record retrieved has the doc_id and pasal of one of its "relevant" entries;
 * Recall@k is the share of questions with a hit in the first k (hit rate, as
 * bench/bm25_eval.c), MRR@10 the mean of 1/r (0 past 10); overall and per id prefix.
 * ANN recall@k counts a result right if exact search has it or it ties the exact k-th
 * similarity. Build: make build/bench/ann_eval.
 *
 * Measured (2 vCPUs, Xeon with AVX-512; hnswlib 0.6.2; dim 384, M 16, ef_construction 200):
 *   embed 2 KiB 16-20 us; 44k articles 0.6 s (70k units/s)
 *   dense alone, articles   R@10 0.599 MRR 0.399 (dim 256 0.562/0.361, 512 0.629/0.417,
 *                           768 0.629/0.427); BM25 0.766/0.576
 *   with definition units   dense 0.719/0.465; BM25 0.856/0.645; RRF(60) w_dense 0.3
 *                           0.860/0.650, 0.5 0.860/0.643, 1.0 0.853/0.596
 *   HNSW, 44k articles      build 15 s, 73 MB; ef 128: recall@10 0.965, p50 0.25 ms, p99 0.39;
 *                           exact 3.0 ms. k 100 at ef 300: recall 0.954, p50 0.60 ms
 *   HNSW, 100k synthetic    build 72 s (clustered) / 109 s (uniform), 168 MB; exact 15 ms;
 *                           clustered: ef 64 recall 1.00, ef 128 p50 0.42 ms; uniform on the
 *                           sphere (no neighbourhoods): ef 128 recall 0.16, p50 0.72 ms,
 *                           ef 256 p50 1.34 ms (target p50 < 2 ms)
 *   with definition units, RRF k 10 and 50 candidates (the config's): w_dense 0.2 0.863/0.656,
 *                           0.5 0.863/0.657; k 50 at ef 128 recall 0.930, at ef 200 0.956 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../shared/ann.h"
#include "../shared/bm25_stopwords.c"
#include "../shared/defs.c"
#include "../shared/emb_hash.c"
#include "../shared/bm25.h"

#define EV_TOPK_UNITS 100 /* units kept per question (before records are deduplicated) */
#define EV_MAX_REL    64
static double ev_rrf_k = 60.0;     /* --rrf-k */
static size_t ev_candidates = 100; /* --candidates: units taken from each leg (<= 100) */
#define EV_BM25_K1 0.9             /* bench/bm25_eval.c's recommended k1, b */
#define EV_BM25_B  0.75

struct ev_rec {
    char *doc_id, *doc_type, *number, *pasal, *title, *bab, *text;
    int year;
    size_t text_len;
};

/* A retrieval unit: an article, or one definition of a Ketentuan Umum article ("--units
 * defs": bab is the term it defines, text the article's intro sentence and the definition, as
 * bench/bm25_eval.c -d builds them). Both legs index title, bab and text; the embedder gets
 * them joined by newlines. */
struct ev_unit {
    size_t rec;
    const char *bab;
    char *bm25_text; /* NULL: the record's text */
    char *text;      /* what is embedded */
    size_t len;
};

struct ev_q {
    char *id, *prefix, *question;
    size_t n_rel_recs;
    size_t *rel_recs; /* indices of relevant records */
};

struct ev_metrics {
    double r1, r5, r10, mrr;
    size_t n;
};

static double ev_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *ev_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "ann_eval: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static char *ev_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = ev_xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

static const char *ev_jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---------------------------------------------------------------- data */

static struct ev_rec *ev_load_corpus(const char *path, size_t *n_out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "ann_eval: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 1024, n = 0, skipped = 0;
    struct ev_rec *recs = ev_xmalloc(cap * sizeof *recs);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, f)) > 0) {
        json_error_t jerr;
        json_t *o = json_loadb(line, (size_t)got, 0, &jerr);
        if (o == NULL) {
            fprintf(stderr, "ann_eval: %s: %s\n", path, jerr.text);
            exit(1);
        }
        int container = 0;
        json_t *flags = json_object_get(o, "flags"), *fl;
        size_t i;
        json_array_foreach(flags, i, fl)
        {
            if (json_is_string(fl) && strcmp(json_string_value(fl), "container") == 0)
                container = 1;
        }
        if (!json_is_null(json_object_get(o, "parent_pasal")) || container) {
            skipped++;
            json_decref(o);
            continue;
        }
        if (n == cap)
            recs = realloc(recs, (cap *= 2) * sizeof *recs);
        if (recs == NULL)
            exit(1);
        const char *bab = ev_jstr(o, "bab"), *title = ev_jstr(o, "title");
        const char *number = ev_jstr(o, "number");
        recs[n].doc_id = ev_strdup(ev_jstr(o, "doc_id"));
        recs[n].doc_type = ev_strdup(ev_jstr(o, "doc_type"));
        recs[n].number = number ? ev_strdup(number) : NULL;
        recs[n].year = (int)json_integer_value(json_object_get(o, "year"));
        recs[n].pasal = ev_strdup(ev_jstr(o, "pasal"));
        recs[n].title = ev_strdup(title ? title : "");
        recs[n].bab = ev_strdup(bab ? bab : "");
        recs[n].text = ev_strdup(ev_jstr(o, "text"));
        recs[n].text_len = strlen(recs[n].text);
        n++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    printf("corpus=%s records=%zu skipped_embedded_or_container=%zu\n", path, n, skipped);
    *n_out = n;
    return recs;
}

static struct ev_q *ev_load_qa(const char *path, const struct ev_rec *recs, size_t n_recs,
                               size_t *n_out)
{
    json_error_t jerr;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "ann_eval: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 512, n = 0;
    struct ev_q *qs = ev_xmalloc(cap * sizeof *qs);
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t got;
    size_t unmatched = 0;
    while ((got = getline(&line, &line_cap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)got, 0, &jerr);
        if (o == NULL) {
            fprintf(stderr, "ann_eval: %s: %s\n", path, jerr.text);
            exit(1);
        }
        if (n == cap)
            qs = realloc(qs, (cap *= 2) * sizeof *qs);
        if (qs == NULL)
            exit(1);
        struct ev_q *q = &qs[n++];
        q->id = ev_strdup(ev_jstr(o, "id"));
        q->prefix = ev_strdup(q->id);
        char *dash = strchr(q->prefix, '-');
        if (dash)
            *dash = '\0';
        q->question = ev_strdup(ev_jstr(o, "question"));
        json_t *rel = json_object_get(o, "relevant"), *r;
        size_t i;
        q->rel_recs = ev_xmalloc(EV_MAX_REL * sizeof *q->rel_recs);
        q->n_rel_recs = 0;
        for (size_t k = 0; k < n_recs && q->n_rel_recs < EV_MAX_REL; k++) {
            json_array_foreach(rel, i, r)
            {
                const char *d = ev_jstr(r, "doc_id"), *p = ev_jstr(r, "pasal");
                if (d && p && strcmp(d, recs[k].doc_id) == 0 && strcmp(p, recs[k].pasal) == 0) {
                    q->rel_recs[q->n_rel_recs++] = k;
                    break;
                }
            }
        }
        if (q->n_rel_recs == 0)
            unmatched++;
        json_decref(o);
    }
    free(line);
    fclose(f);
    printf("qa=%s questions=%zu with_no_record_in_corpus=%zu\n", path, n, unmatched);
    *n_out = n;
    return qs;
}

static char *ev_concat3(const char *a, const char *b, const char *c, size_t c_len, size_t *len)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = ev_xmalloc(la + lb + c_len + 3);
    memcpy(s, a, la);
    s[la] = '\n';
    memcpy(s + la + 1, b, lb);
    s[la + 1 + lb] = '\n';
    memcpy(s + la + lb + 2, c, c_len);
    s[la + lb + 2 + c_len] = '\0';
    *len = la + lb + 2 + c_len;
    return s;
}

/* A Ketentuan Umum article: Pasal 1, or "dimaksud dengan" in its first 300 bytes. */
static int ev_is_definitions(const struct ev_rec *r)
{
    if (strcmp(r->pasal, "1") == 0)
        return 1;
    char head[301];
    size_t n = r->text_len < 300 ? r->text_len : 300;
    memcpy(head, r->text, n);
    head[n] = '\0';
    return strstr(head, "dimaksud dengan") != NULL;
}

static struct ev_unit *ev_make_units(const struct ev_rec *recs, size_t n_recs, int defs,
                                     int no_title, int no_bab, size_t *n_out)
{
    size_t cap = n_recs + 1024, n = 0, n_defs = 0;
    struct ev_unit *u = ev_xmalloc(cap * sizeof *u);
    static struct defs_item items[4096];
    for (size_t i = 0; i < n_recs; i++) {
        if (n == cap)
            u = realloc(u, (cap *= 2) * sizeof *u);
        if (u == NULL)
            exit(1);
        u[n].rec = i;
        u[n].bab = recs[i].bab;
        u[n].bm25_text = NULL;
        u[n].text = ev_concat3(no_title ? "" : recs[i].title, no_bab ? "" : recs[i].bab,
                               recs[i].text, recs[i].text_len, &u[n].len);
        n++;
        if (!defs || !ev_is_definitions(&recs[i]))
            continue;
        size_t k = defs_split(recs[i].text, recs[i].text_len, items, 4096), nterm = 0;
        for (size_t j = 0; j < k; j++)
            nterm += items[j].term_start != items[j].term_end;
        if (nterm < 2) /* a list of items or amendments, not of definitions */
            continue;
        size_t il = items[0].marker <= 300 ? items[0].marker : 0; /* the intro sentence */
        for (size_t j = 0; j < k; j++) {
            if (items[j].term_start == items[j].term_end)
                continue;
            if (n == cap)
                u = realloc(u, (cap *= 2) * sizeof *u);
            if (u == NULL)
                exit(1);
            size_t dl = items[j].end - items[j].start, tl = items[j].term_end - items[j].term_start;
            char *t = ev_xmalloc(il + dl + 2), *term = ev_xmalloc(tl + 1);
            memcpy(t, recs[i].text, il);
            t[il] = ' ';
            memcpy(t + il + 1, recs[i].text + items[j].start, dl);
            t[il + 1 + dl] = '\0';
            memcpy(term, recs[i].text + items[j].term_start, tl);
            term[tl] = '\0';
            u[n].rec = i;
            u[n].bab = term;
            u[n].bm25_text = t;
            u[n].text = ev_concat3(no_title ? "" : recs[i].title, no_bab ? "" : term, t,
                                   il + 1 + dl, &u[n].len);
            n++;
            n_defs++;
        }
    }
    printf("units=%zu (articles %zu, definitions %zu)\n", n, n_recs, n_defs);
    *n_out = n;
    return u;
}

/* ---------------------------------------------------------------- embedding and ranking */

static double ev_embed_units(const struct ev_unit *u, size_t n, unsigned dim,
                             const struct emb_weights *w, float *out)
{
    double t0 = ev_now();
    for (size_t i = 0; i < n; i++)
        emb_hash_weighted(w, u[i].text, u[i].len, dim, out + i * dim);
    return ev_now() - t0;
}

/* Exact top-K units per question: all questions against each unit at once (the inner loop runs
 * over questions, so it vectorises without reassociating sums). rank[q * K + j]. */
static void ev_dense_rank(const float *uv, size_t n_units, const float *qv, size_t nq, unsigned dim,
                          size_t K, size_t *rank, float *score)
{
    float *qt = ev_xmalloc((size_t)dim * nq * sizeof *qt), *acc = ev_xmalloc(nq * sizeof *acc);
    for (size_t q = 0; q < nq; q++)
        for (unsigned j = 0; j < dim; j++)
            qt[(size_t)j * nq + q] = qv[q * dim + j];
    for (size_t q = 0; q < nq * K; q++)
        score[q] = -INFINITY, rank[q] = SIZE_MAX;
    for (size_t u = 0; u < n_units; u++) {
        memset(acc, 0, nq * sizeof *acc);
        const float *v = uv + u * dim;
        for (unsigned j = 0; j < dim; j++) {
            float x = v[j];
            if (x == 0.0f)
                continue;
            const float *row = qt + (size_t)j * nq;
            for (size_t q = 0; q < nq; q++)
                acc[q] += x * row[q];
        }
        for (size_t q = 0; q < nq; q++) { /* insertion into the sorted top-K */
            float s = acc[q];
            float *sc = score + q * K;
            size_t *rk = rank + q * K;
            if (s <= sc[K - 1])
                continue;
            size_t p = K - 1;
            while (p > 0 && sc[p - 1] < s) {
                sc[p] = sc[p - 1], rk[p] = rk[p - 1];
                p--;
            }
            sc[p] = s, rk[p] = u;
        }
    }
    free(qt);
    free(acc);
}

/* First rank (1..10) of a relevant record among the first distinct records of units[], or 0. */
static int ev_first_hit(const struct ev_q *q, const struct ev_unit *units, const size_t *ranked,
                        size_t n_ranked)
{
    size_t seen[10];
    size_t n_seen = 0;
    for (size_t i = 0; i < n_ranked && n_seen < 10; i++) {
        if (ranked[i] == SIZE_MAX)
            break;
        size_t rec = units[ranked[i]].rec;
        int dup = 0;
        for (size_t j = 0; j < n_seen; j++)
            dup |= seen[j] == rec;
        if (dup)
            continue;
        seen[n_seen++] = rec;
        for (size_t j = 0; j < q->n_rel_recs; j++)
            if (q->rel_recs[j] == rec)
                return (int)n_seen;
    }
    return 0;
}

static struct ev_metrics ev_score(const struct ev_q *qs, size_t nq, const struct ev_unit *units,
                                  const size_t *ranked, size_t K, const char *prefix)
{
    struct ev_metrics m = {0};
    for (size_t q = 0; q < nq; q++) {
        if (prefix != NULL && strcmp(qs[q].prefix, prefix) != 0)
            continue;
        int r = ev_first_hit(&qs[q], units, ranked + q * K, K);
        m.n++;
        m.r1 += r == 1;
        m.r5 += r >= 1 && r <= 5;
        m.r10 += r >= 1 && r <= 10;
        m.mrr += r ? 1.0 / r : 0.0;
    }
    if (m.n) {
        m.r1 /= m.n, m.r5 /= m.n, m.r10 /= m.n, m.mrr /= m.n;
    }
    return m;
}

static void ev_report(const char *label, const struct ev_q *qs, size_t nq,
                      const struct ev_unit *units, const size_t *ranked, size_t K)
{
    static const char *const prefixes[] = {NULL, "galqa", "pdp", "glossary"};
    for (size_t i = 0; i < 4; i++) {
        struct ev_metrics m = ev_score(qs, nq, units, ranked, K, prefixes[i]);
        printf("%s subset=%s n=%zu R@1=%.3f R@5=%.3f R@10=%.3f MRR@10=%.3f\n", label,
               prefixes[i] ? prefixes[i] : "all", m.n, m.r1, m.r5, m.r10, m.mrr);
    }
}

static void ev_embed_queries(const struct ev_q *qs, size_t nq, unsigned dim,
                             const struct emb_weights *w, float *out)
{
    for (size_t q = 0; q < nq; q++)
        emb_hash_weighted(w, qs[q].question, strlen(qs[q].question), dim, out + q * dim);
}

static int ev_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void ev_percentiles(double *v, size_t n, double *p50, double *p99)
{
    qsort(v, n, sizeof *v, ev_cmp_double);
    *p50 = v[n / 2];
    *p99 = v[(size_t)((n - 1) * 0.99)];
}

/* ---------------------------------------------------------------- ANN */

static ann_index *ev_build_index(const float *v, size_t n, unsigned dim, unsigned m, unsigned efc,
                                 const char *path, double *build_s)
{
    char *err = NULL;
    double t0 = ev_now();
    ann_builder *b = ann_builder_new(dim, n, m, efc, &err);
    if (b == NULL) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        if (ann_builder_add(b, (int64_t)i, v + i * dim, &err) != 0) {
            fprintf(stderr, "ann_eval: %s\n", err);
            exit(1);
        }
    double t1 = ev_now();
    if (ann_builder_save(b, path, &err) != 0) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    double t2 = ev_now();
    ann_builder_free(b);
    ann_index *ix = ann_open(path, dim, &err);
    if (ix == NULL) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    double t3 = ev_now();
    struct stat st;
    stat(path, &st);
    printf("ann_build n=%zu dim=%u M=%u efc=%u build_s=%.2f save_s=%.3f open_s=%.3f "
           "file_mb=%.1f\n",
           n, dim, m, efc, t1 - t0, t2 - t1, t3 - t2, st.st_size / 1e6);
    *build_s = t1 - t0;
    return ix;
}

/* Recall@k of ANN against exact and latency percentiles, for each ef; also exact latency. */
static void ev_ann_sweep(const char *label, ann_index *ix, const float *qv, size_t nq, unsigned dim,
                         unsigned K, const unsigned *efs, size_t n_efs, unsigned reps)
{
    char *err = NULL;
    int64_t *exact = ev_xmalloc(nq * K * sizeof *exact), *ids = ev_xmalloc(K * sizeof *ids);
    float *sims = ev_xmalloc(K * sizeof *sims), *kth = ev_xmalloc(nq * sizeof *kth);
    double *lat = ev_xmalloc(nq * reps * sizeof *lat), p50, p99;
    for (unsigned r = 0; r < reps; r++)
        for (size_t q = 0; q < nq; q++) {
            double t0 = ev_now();
            int n = ann_search_exact(ix, qv + q * dim, K, exact + q * K, sims, &err);
            lat[r * nq + q] = ev_now() - t0;
            if (n < 0) {
                fprintf(stderr, "ann_eval: %s\n", err);
                exit(1);
            }
            for (unsigned j = (unsigned)n; j < K; j++)
                exact[q * K + j] = -1;
            kth[q] = n > 0 ? sims[n - 1] : -2.0f;
        }
    ev_percentiles(lat, nq * reps, &p50, &p99);
    printf("%s exact n=%zu k=%u p50_ms=%.3f p99_ms=%.3f\n", label, ann_count(ix), K, p50 * 1e3,
           p99 * 1e3);
    for (size_t e = 0; e < n_efs; e++) {
        size_t found = 0, total = 0;
        for (unsigned r = 0; r < reps; r++)
            for (size_t q = 0; q < nq; q++) {
                double t0 = ev_now();
                int n = ann_search(ix, qv + q * dim, K, efs[e], ids, sims, &err);
                lat[r * nq + q] = ev_now() - t0;
                if (n < 0) {
                    fprintf(stderr, "ann_eval: %s\n", err);
                    exit(1);
                }
                if (r > 0)
                    continue;
                /* A result is right if exact search has it, or if it ties the exact k-th
                 * similarity: the corpus has groups of identical vectors (360 "Cukup jelas"
                 * records in PP-22-2021), and which members of a tie come back is arbitrary. */
                for (unsigned j = 0; j < K; j++)
                    total += exact[q * K + j] >= 0;
                for (int i = 0; i < n; i++) {
                    int ok = sims[i] >= kth[q] - 1e-5f;
                    for (unsigned j = 0; j < K && !ok; j++)
                        ok = ids[i] == exact[q * K + j];
                    found += ok;
                }
            }
        ev_percentiles(lat, nq * reps, &p50, &p99);
        printf("%s ann k=%u ef=%u recall@%u=%.4f p50_ms=%.3f p99_ms=%.3f\n", label, K, efs[e], K,
               total ? (double)found / total : 0.0, p50 * 1e3, p99 * 1e3);
    }
    free(exact);
    free(ids);
    free(sims);
    free(kth);
    free(lat);
}

/* Synthetic vectors: n points around 1000 random centres (normalised), so neighbourhoods exist
 * as in real embeddings; queries are fresh points of the same mixture. splitmix64 for noise. */
static uint64_t ev_rng = 0x243f6a8885a308d3ULL;
static uint64_t ev_rand_u64(void)
{
    uint64_t z = (ev_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double ev_rand_normal(void)
{
    double u1 = ((ev_rand_u64() >> 11) + 0.5) / 9007199254740992.0;
    double u2 = (ev_rand_u64() >> 11) / 9007199254740992.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void ev_synthetic(float *v, size_t n, unsigned dim, const float *centres, size_t nc,
                         double noise)
{
    for (size_t i = 0; i < n; i++) {
        const float *c = centres + (size_t)(ev_rand_u64() % nc) * dim;
        double ss = 0;
        for (unsigned j = 0; j < dim; j++) {
            v[i * dim + j] = c[j] + (float)(noise * ev_rand_normal());
            ss += (double)v[i * dim + j] * v[i * dim + j];
        }
        for (unsigned j = 0; j < dim; j++)
            v[i * dim + j] = (float)(v[i * dim + j] / sqrt(ss));
    }
}

/* ---------------------------------------------------------------- hybrid (BM25 + dense) */

/* RRF over unit rankings: score = w_d / (k + rank_d) + w_b / (k + rank_b). */
static void ev_rrf(const size_t *dense, const size_t *bm, size_t K, double wd, double wb,
                   size_t *out)
{
    size_t cand[2 * EV_TOPK_UNITS];
    double sc[2 * EV_TOPK_UNITS];
    size_t n = 0;
    for (int leg = 0; leg < 2; leg++) {
        const size_t *r = leg ? bm : dense;
        double w = leg ? wb : wd;
        for (size_t i = 0; i < K && i < ev_candidates && r[i] != SIZE_MAX; i++) {
            size_t j = 0;
            while (j < n && cand[j] != r[i])
                j++;
            if (j == n)
                cand[n] = r[i], sc[n++] = 0.0;
            sc[j] += w / (ev_rrf_k + (double)(i + 1));
        }
    }
    for (size_t i = 0; i < K; i++) { /* selection of the best K */
        size_t best = SIZE_MAX;
        for (size_t j = 0; j < n; j++)
            if (sc[j] > -1.0 && (best == SIZE_MAX || sc[j] > sc[best]))
                best = j;
        out[i] = best == SIZE_MAX ? SIZE_MAX : cand[best];
        if (best != SIZE_MAX)
            sc[best] = -2.0;
    }
}

static struct ev_metrics ev_fused(const struct ev_q *qs, size_t nq, const struct ev_unit *units,
                                  const size_t *dense, const size_t *bm, double wd, double wb,
                                  const char *prefix)
{
    const size_t K = EV_TOPK_UNITS;
    size_t *fused = ev_xmalloc(nq * K * sizeof *fused);
    for (size_t q = 0; q < nq; q++)
        ev_rrf(dense + q * K, bm + q * K, K, wd, wb, fused + q * K);
    struct ev_metrics m = ev_score(qs, nq, units, fused, K, prefix);
    free(fused);
    return m;
}

static bm25_index *ev_bm25_open(const char *dir, const struct ev_rec *recs,
                                const struct ev_unit *units, size_t n_units)
{
    char *err = NULL;
    bm25_index *ix = bm25_open(dir, &err);
    if (ix != NULL && bm25_doc_count(ix) == n_units)
        return ix;
    bm25_close(ix);
    free(err);
    err = NULL;
    double t0 = ev_now();
    bm25_writer *w = bm25_writer_open(dir, &err);
    if (w == NULL) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    for (size_t i = 0; i < n_units; i++) {
        const struct ev_rec *r = &recs[units[i].rec];
        struct bm25_unit u = {
            .unit_id = (int64_t)i,
            .doc_id = r->doc_id,
            .doc_type = r->doc_type,
            .number = r->number,
            .year = r->year,
            .pasal = r->pasal,
            .title = r->title,
            .bab = units[i].bab,
            .text = units[i].bm25_text ? units[i].bm25_text : r->text,
        };
        if (bm25_writer_put(w, &u, &err) != 0) {
            fprintf(stderr, "ann_eval: %s\n", err);
            exit(1);
        }
    }
    if (bm25_writer_commit(w, &err) != 0) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    bm25_writer_close(w);
    printf("bm25_build dir=%s units=%zu s=%.1f\n", dir, n_units, ev_now() - t0);
    ix = bm25_open(dir, &err);
    if (ix == NULL) {
        fprintf(stderr, "ann_eval: %s\n", err);
        exit(1);
    }
    return ix;
}

/* BM25 top-K units per question (unit ids are unit indices). */
static size_t *ev_bm25_rank(const char *dir, const struct ev_rec *recs, const struct ev_unit *units,
                            size_t n_units, const struct ev_q *qs, size_t nq)
{
    enum { K = EV_TOPK_UNITS };
    bm25_index *ix = ev_bm25_open(dir, recs, units, n_units);
    size_t *bm = ev_xmalloc(nq * K * sizeof *bm);
    struct bm25_hit hits[K];
    char *err = NULL;
    for (size_t q = 0; q < nq; q++) {
        int n = bm25_search(ix, qs[q].question, NULL, K, EV_BM25_K1, EV_BM25_B, hits, &err);
        if (n < 0) {
            fprintf(stderr, "ann_eval: %s\n", err);
            exit(1);
        }
        for (int i = 0; i < K; i++)
            bm[q * K + i] = i < n ? (size_t)hits[i].unit_id : SIZE_MAX;
    }
    bm25_close(ix);
    return bm;
}

/* ---------------------------------------------------------------- IDF experiments */

/* Document frequency of stems over the units, as the embedder tokenises and stems them. */
#define EV_DF_SLOTS (1u << 21)
struct ev_df_slot {
    uint64_t key;
    uint32_t df, last;
    char word[EMB_WORD_MAX_BYTES + 2];
};
static struct ev_df_slot *ev_df;
static double ev_df_docs;
static uint32_t ev_df_clamp; /* df below this counts as this (a top-N list); 0: none */
static double ev_idf_power = 1.0;
static uint32_t ev_drop_df; /* stems with df >= this get ev_drop_factor (0: none) */
static double ev_drop_factor;

static struct ev_df_slot *ev_df_find(uint64_t key)
{
    size_t i = (size_t)(emb_mix(key) & (EV_DF_SLOTS - 1));
    while (ev_df[i].key != 0 && ev_df[i].key != key)
        i = (i + 1) & (EV_DF_SLOTS - 1);
    return &ev_df[i];
}

static void ev_df_build(const struct ev_unit *u, size_t n)
{
    ev_df = calloc(EV_DF_SLOTS, sizeof *ev_df);
    if (ev_df == NULL)
        exit(1);
    unsigned char buf[EMB_WORD_MAX_BYTES + 1], stem[EMB_WORD_MAX_BYTES + 2];
    for (size_t i = 0; i < n; i++) {
        const unsigned char *t = (const unsigned char *)u[i].text;
        size_t pos = 0, start;
        while (emb_next_token(t, u[i].len, &pos, &start)) {
            size_t k = emb_lower(t + start, pos - start, buf);
            if (k < 2 || emb_all_digits(buf, k) || bm25_is_stopword((const char *)buf))
                continue;
            size_t sn = emb_stem(buf, k, stem);
            uint64_t key = emb_fnv(EMB_SEED_STEM, stem, sn) | 1;
            struct ev_df_slot *sl = ev_df_find(key);
            if (sl->key == 0) {
                sl->key = key;
                snprintf(sl->word, sizeof sl->word, "%s", (const char *)stem);
            }
            if (sl->last != i + 1)
                sl->df++, sl->last = (uint32_t)(i + 1);
        }
    }
    ev_df_docs = (double)n;
}

static double ev_len_power; /* "len=p": factor (min(stem length, 8) / 8)^p, an IDF proxy */

static float ev_idf(const unsigned char *stem, size_t n)
{
    uint64_t key = emb_fnv(EMB_SEED_STEM, stem, n) | 1;
    struct ev_df_slot *sl = ev_df_find(key);
    double df = sl->key ? sl->df : 1, f = 1.0;
    if (ev_drop_df != 0 && df >= ev_drop_df)
        return (float)ev_drop_factor;
    if (ev_len_power > 0.0)
        f *= pow((n < 8 ? n : 8) / 8.0, ev_len_power);
    if (ev_idf_power > 0.0) {
        if (df < ev_df_clamp)
            df = ev_df_clamp;
        f *= pow(log(1.0 + ev_df_docs / df), ev_idf_power);
    }
    return (float)f;
}

static int ev_cmp_df_desc(const void *a, const void *b)
{
    uint32_t x = ((const struct ev_df_slot *)a)->df, y = ((const struct ev_df_slot *)b)->df;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* df of the n-th most frequent stem (the clamp of a top-n list). */
static uint32_t ev_df_rank(size_t nth)
{
    size_t m = 0;
    struct ev_df_slot *all = ev_xmalloc(EV_DF_SLOTS * sizeof *all);
    for (size_t i = 0; i < EV_DF_SLOTS; i++)
        if (ev_df[i].key)
            all[m++] = ev_df[i];
    qsort(all, m, sizeof *all, ev_cmp_df_desc);
    uint32_t df = nth < m ? all[nth].df : 1;
    free(all);
    return df;
}

/* ---------------------------------------------------------------- main */

static size_t ev_parse_list(const char *s, unsigned *out, size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s)
            break;
        out[n++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

/* An embedder variant: "word=1,stem=1,bigram=0.7,chars=1,number=0,nmin=3,nmax=5,idf=0.5,
 * top=300" (any subset; the rest from the defaults). idf: power of ln(1 + N/df) as the word
 * factor, df from the units themselves (0: off); top: df clamped at the top-th stem's. */
struct ev_variant {
    const char *spec;
    struct emb_weights w;
    double idf_power;
    size_t idf_top;
    size_t drop_top; /* "drop=N": the N most frequent stems get factor "dropw" (default 0) */
    double drop_factor;
    double len_power;
};

static int ev_parse_variant(const char *spec, struct ev_variant *v)
{
    v->spec = spec;
    v->w = emb_default_weights;
    v->idf_power = 0.0;
    v->idf_top = 0;
    v->drop_top = 0;
    v->drop_factor = 0.0;
    v->len_power = 0.0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (eq == NULL)
            return -1;
        *eq = '\0';
        double x = atof(eq + 1);
        if (strcmp(kv, "word") == 0)
            v->w.word = (float)x;
        else if (strcmp(kv, "stem") == 0)
            v->w.stem = (float)x;
        else if (strcmp(kv, "bigram") == 0)
            v->w.bigram = (float)x;
        else if (strcmp(kv, "chars") == 0)
            v->w.chars = (float)x;
        else if (strcmp(kv, "number") == 0)
            v->w.number = (float)x;
        else if (strcmp(kv, "nmin") == 0)
            v->w.ngram_min = (unsigned)x;
        else if (strcmp(kv, "nmax") == 0)
            v->w.ngram_max = (unsigned)x;
        else if (strcmp(kv, "idf") == 0)
            v->idf_power = x;
        else if (strcmp(kv, "top") == 0)
            v->idf_top = (size_t)x;
        else if (strcmp(kv, "boiler") == 0)
            v->w.boilerplate = (int)x;
        else if (strcmp(kv, "len") == 0)
            v->len_power = x;
        else if (strcmp(kv, "drop") == 0)
            v->drop_top = (size_t)x;
        else if (strcmp(kv, "dropw") == 0)
            v->drop_factor = x;
        else
            return -1;
    }
    if (v->idf_power > 0.0 || v->drop_top > 0 || v->len_power > 0.0)
        v->w.factor = ev_idf;
    return 0;
}

int main(int argc, char **argv)
{
    const char *corpus = "../shared/data/id-law-corpus.jsonl";
    const char *qa_path = "../shared/data/id-law-qa-dev.jsonl";
    const char *tmp = "/tmp", *bm25_dir = NULL;
    unsigned dims[8] = {LX_EMB_HASH_DIM_DEFAULT}, efs[16] = {16, 32, 64, 128, 256};
    size_t n_dims = 1, n_efs = 5, synthetic = 100000, n_vars = 0;
    unsigned m = 16, efc = 200;
    int use_defs = 0, no_ann = 0, no_title = 0, no_bab = 0, keep = 0;
    struct ev_variant vars[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-ann") == 0) {
            no_ann = 1;
        } else if (strcmp(a, "--keep") == 0) {
            keep = 1;
        } else if (strcmp(a, "--no-title") == 0) {
            no_title = 1;
        } else if (strcmp(a, "--no-bab") == 0) {
            no_bab = 1;
        } else if (v == NULL) {
            fprintf(stderr, "ann_eval: %s needs a value (see the top of bench/ann_eval.c)\n", a);
            return 2;
        } else if (strcmp(a, "--corpus") == 0) {
            corpus = v, i++;
        } else if (strcmp(a, "--qa") == 0) {
            qa_path = v, i++;
        } else if (strcmp(a, "--tmp") == 0) {
            tmp = v, i++;
        } else if (strcmp(a, "--bm25") == 0) {
            bm25_dir = v, i++;
        } else if (strcmp(a, "--dims") == 0) {
            n_dims = ev_parse_list(v, dims, 8), i++;
        } else if (strcmp(a, "--efs") == 0) {
            n_efs = ev_parse_list(v, efs, 16), i++;
        } else if (strcmp(a, "--m") == 0) {
            m = (unsigned)atoi(v), i++;
        } else if (strcmp(a, "--rrf-k") == 0) {
            ev_rrf_k = atof(v), i++;
        } else if (strcmp(a, "--candidates") == 0) {
            ev_candidates = (size_t)atol(v), i++;
            if (ev_candidates == 0 || ev_candidates > EV_TOPK_UNITS)
                ev_candidates = EV_TOPK_UNITS;
        } else if (strcmp(a, "--efc") == 0) {
            efc = (unsigned)atoi(v), i++;
        } else if (strcmp(a, "--synthetic") == 0) {
            synthetic = (size_t)atol(v), i++;
        } else if (strcmp(a, "--units") == 0) {
            use_defs = strcmp(v, "defs") == 0, i++;
        } else if (strcmp(a, "--variant") == 0 && n_vars < 64) {
            if (ev_parse_variant(v, &vars[n_vars++]) != 0) {
                fprintf(stderr, "ann_eval: bad variant %s\n", v);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "ann_eval: unknown option %s\n", a);
            return 2;
        }
    }

    size_t n_recs, nq, n_units;
    struct ev_rec *recs = ev_load_corpus(corpus, &n_recs);
    struct ev_q *qs = ev_load_qa(qa_path, recs, n_recs, &nq);
    struct ev_unit *units = ev_make_units(recs, n_recs, use_defs, no_title, no_bab, &n_units);
    const size_t K = EV_TOPK_UNITS;
    size_t *ranked = ev_xmalloc(nq * K * sizeof *ranked), *bm = NULL;
    float *scores = ev_xmalloc(nq * K * sizeof *scores);
    if (bm25_dir != NULL) {
        bm = ev_bm25_rank(bm25_dir, recs, units, n_units, qs, nq);
        ev_report("bm25 k1=0.9 b=0.75", qs, nq, units, bm, K);
    }

    /* Embedder speed on one 2 KiB piece of real text. */
    {
        char piece[2048];
        size_t fill = 0;
        for (size_t i = 0; fill < sizeof piece && i < n_units; i++) {
            size_t take = units[i].len < sizeof piece - fill ? units[i].len : sizeof piece - fill;
            memcpy(piece + fill, units[i].text, take);
            fill += take;
        }
        float v[LX_EMB_HASH_DIM_DEFAULT];
        const int reps = 20000;
        double t0 = ev_now();
        for (int r = 0; r < reps; r++)
            emb_hash(piece, sizeof piece, LX_EMB_HASH_DIM_DEFAULT, v);
        double dt = ev_now() - t0;
        printf("embed_2kib dim=%d us_per_call=%.2f\n", LX_EMB_HASH_DIM_DEFAULT, dt / reps * 1e6);
    }

    float *qv = NULL, *uv = NULL;
    char label[160];
    for (size_t d = 0; d < n_dims; d++) {
        unsigned dim = dims[d];
        uv = realloc(uv, n_units * dim * sizeof *uv);
        qv = realloc(qv, nq * dim * sizeof *qv);
        if (uv == NULL || qv == NULL)
            return 1;
        size_t bytes = 0;
        for (size_t i = 0; i < n_units; i++)
            bytes += units[i].len;
        double s = ev_embed_units(units, n_units, dim, &emb_default_weights, uv);
        ev_embed_queries(qs, nq, dim, &emb_default_weights, qv);
        printf("embed dim=%u units=%zu s=%.2f units_per_s=%.0f mb_per_s=%.1f us_per_unit=%.2f\n",
               dim, n_units, s, n_units / s, bytes / s / 1e6, s / n_units * 1e6);
        ev_dense_rank(uv, n_units, qv, nq, dim, K, ranked, scores);
        snprintf(label, sizeof label, "dense_exact dim=%u units=%s", dim,
                 use_defs ? "defs" : "articles");
        ev_report(label, qs, nq, units, ranked, K);
        if (bm != NULL) {
            static const double ws[][2] = {
                {1.0, 1.0}, {0.7, 1.0}, {0.5, 1.0}, {0.3, 1.0}, {0.2, 1.0}};
            for (size_t w = 0; w < sizeof ws / sizeof ws[0]; w++) {
                static const char *const prefixes[] = {NULL, "galqa", "pdp", "glossary"};
                for (size_t p = 0; p < 4; p++) {
                    struct ev_metrics mt =
                        ev_fused(qs, nq, units, ranked, bm, ws[w][0], ws[w][1], prefixes[p]);
                    printf("hybrid rrf_k=%g candidates=%zu dim=%u w_dense=%.1f w_bm25=%.1f "
                           "subset=%s n=%zu R@1=%.3f R@5=%.3f R@10=%.3f MRR@10=%.3f\n",
                           ev_rrf_k, ev_candidates, dim, ws[w][0], ws[w][1],
                           prefixes[p] ? prefixes[p] : "all", mt.n, mt.r1, mt.r5, mt.r10, mt.mrr);
                }
            }
        }
        if (!no_ann) {
            char path[4096];
            snprintf(path, sizeof path, "%s/ann_eval_%u.idx", tmp, dim);
            double build_s;
            ann_index *ix = ev_build_index(uv, n_units, dim, m, efc, path, &build_s);
            snprintf(label, sizeof label, "corpus dim=%u M=%u efc=%u", dim, m, efc);
            ev_ann_sweep(label, ix, qv, nq, dim, 10, efs, n_efs, 5);
            static const unsigned efs50[] = {0, 64, 128, 200}, efs100[] = {0, 100, 150, 200, 300};
            ev_ann_sweep(label, ix, qv, nq, dim, 50, efs50, 4, 1);
            ev_ann_sweep(label, ix, qv, nq, dim, 100, efs100, 5, 1);
            ann_close(ix);
            if (!keep)
                unlink(path);
        }
    }

    if (n_vars > 0) { /* embedder variants at the default dimension: one line each */
        unsigned dim = dims[0];
        uv = realloc(uv, n_units * dim * sizeof *uv);
        qv = realloc(qv, nq * dim * sizeof *qv);
        if (uv == NULL || qv == NULL)
            return 1;
        ev_df_build(units, n_units);
        for (size_t i = 0; i < n_vars; i++) {
            ev_idf_power = vars[i].idf_power;
            ev_df_clamp = vars[i].idf_top ? ev_df_rank(vars[i].idf_top) : 0;
            ev_drop_df = vars[i].drop_top ? ev_df_rank(vars[i].drop_top - 1) : 0;
            ev_drop_factor = vars[i].drop_factor;
            ev_len_power = vars[i].len_power;
            ev_embed_units(units, n_units, dim, &vars[i].w, uv);
            ev_embed_queries(qs, nq, dim, &vars[i].w, qv);
            ev_dense_rank(uv, n_units, qv, nq, dim, K, ranked, scores);
            struct ev_metrics a = ev_score(qs, nq, units, ranked, K, NULL);
            struct ev_metrics g = ev_score(qs, nq, units, ranked, K, "galqa");
            struct ev_metrics p = ev_score(qs, nq, units, ranked, K, "pdp");
            struct ev_metrics l = ev_score(qs, nq, units, ranked, K, "glossary");
            printf("variant %-44s dense %.3f/%.3f (g %.3f/%.3f p %.3f/%.3f l %.3f/%.3f)",
                   vars[i].spec, a.r10, a.mrr, g.r10, g.mrr, p.r10, p.mrr, l.r10, l.mrr);
            if (bm != NULL) {
                struct ev_metrics h1 = ev_fused(qs, nq, units, ranked, bm, 1.0, 1.0, NULL);
                struct ev_metrics h5 = ev_fused(qs, nq, units, ranked, bm, 0.5, 1.0, NULL);
                struct ev_metrics h3 = ev_fused(qs, nq, units, ranked, bm, 0.3, 1.0, NULL);
                printf(" hyb1 %.3f/%.3f hyb.5 %.3f/%.3f hyb.3 %.3f/%.3f", h1.r10, h1.mrr, h5.r10,
                       h5.mrr, h3.r10, h3.mrr);
                size_t only_d = 0, only_b = 0; /* hits@10 one leg has and the other not */
                for (size_t q = 0; q < nq; q++) {
                    int hd = ev_first_hit(&qs[q], units, ranked + q * K, K) != 0;
                    int hb = ev_first_hit(&qs[q], units, bm + q * K, K) != 0;
                    only_d += hd && !hb, only_b += hb && !hd;
                }
                printf(" only_dense=%zu only_bm25=%zu", only_d, only_b);
            }
            printf("\n");
            fflush(stdout);
        }
    }

    /* Synthetic: 100k vectors around 1000 centres (noise as large as the centre: neighbourhoods
     * exist, as in real embeddings), and 100k uniform on the sphere (no structure: the hardest
     * case for a graph index). Queries are fresh draws of the same distribution. */
    for (int kind = 0; kind < 2 && synthetic > 0 && !no_ann; kind++) {
        unsigned dim = LX_EMB_HASH_DIM_DEFAULT;
        size_t nc = kind == 0 ? 1000 : 1, nqs = 1000;
        float *centres = ev_xmalloc(nc * dim * sizeof *centres);
        for (size_t i = 0; i < nc * dim; i++)
            centres[i] = kind == 0 ? (float)(ev_rand_normal() / sqrt((double)dim)) : 0.0f;
        float *sv = ev_xmalloc(synthetic * dim * sizeof *sv);
        float *sq = ev_xmalloc(nqs * dim * sizeof *sq);
        ev_synthetic(sv, synthetic, dim, centres, nc, 1.0 / sqrt((double)dim));
        ev_synthetic(sq, nqs, dim, centres, nc, 1.0 / sqrt((double)dim));
        char path[4096];
        snprintf(path, sizeof path, "%s/ann_eval_synth.idx", tmp);
        double build_s;
        ann_index *ix = ev_build_index(sv, synthetic, dim, m, efc, path, &build_s);
        snprintf(label, sizeof label, "synthetic_%s n=%zu dim=%u M=%u efc=%u",
                 kind == 0 ? "clustered" : "uniform", synthetic, dim, m, efc);
        ev_ann_sweep(label, ix, sq, nqs, dim, 10, efs, n_efs, 1);
        ann_close(ix);
        unlink(path);
        free(centres);
        free(sv);
        free(sq);
    }
    return 0;
}
