/* bench/bm25_eval.c -- retrieval quality and speed of the BM25 leg (shared/bm25.cc) on the real
 * corpus: builds an index from id-law-corpus.jsonl (one unit per article; containers skipped;
 * optionally embedded amended articles and one unit per definition of a Ketentuan Umum
 * article, shared/defs.c), runs the questions of id-law-qa-dev.jsonl and prints Recall@1/5/10
 * and MRR@10, overall and per question-id prefix (galqa, pdp, glossary), the search latency
 * (p50/p99 over the questions) and the index build time.
 *
 * Scoring as the data README says: a hit is a retrieved top-level record (parent_pasal null)
 * whose doc_id and pasal equal one of the question's relevant entries. A definition unit counts
 * as its article (its Pasal 1); the ranked list is of distinct records, so several definitions
 * of one Pasal 1 take one place. Recall@k is the share of questions with a relevant record in
 * the first k (281 of the 299 questions have exactly one relevant record); "frac" is the mean
 * share of each question's relevant records found in the first 10.
 *
 *   bm25_eval [-c corpus.jsonl] [-q qa.jsonl] [-i index_dir] [-n] [-e] [-d|-D] [-p]
 *             [-k k1] [-b b] [-f fetch] [-g] [-v] [-s query]
 *     -i dir  index directory (default: a new one under /tmp, removed at the end)
 *     -n      do not build: search the existing index in -i (built with the same -e/-d)
 *     -e      also index embedded records (articles inside amending laws)
 *     -d      also index each definition of a Ketentuan Umum article as its own unit: text
 *             the article's intro ("... yang dimaksud dengan:") and the definition, bab (the
 *             heading) the defined term
 *     -D      as -d, but the unit keeps the article's chapter heading as its bab
 *     -p      append the penjelasan (elucidation) to the article text (experiment)
 *     -f n    hits fetched per question (10..1000, default 100; the first 10 distinct
 *             records are scored, so -f 10 times the search as the service would run it)
 *     -g      grid: evaluate k1 in 0.6..2.0 and b in 0.3..1.0 on the same index
 *     -v      print each question's rank of the first relevant record (or "miss")
 *     -s q    print the first records found for the query q instead of evaluating
 * The questions are third-party text: this prints numbers and ids only.
 *
 * Measured (Xapian 1.4.22, 2 vCPUs; shared/bm25.cc's defaults: stemmed terms only, the
 * project's stopwords, wdf title 1 / bab 2 / text 1):           R@10   MRR@10
 *   articles only, k1 1.2 b 0.75 (the README's reference: 0.739 / 0.557)  0.756  0.564
 *   articles only, k1 0.9 b 0.75                                          0.766  0.576
 *   -d, k1 0.9 b 0.75 (galqa 0.842/0.634, pdp 0.909/0.782, glossary 0.933/0.635)
 *                                                                         0.856  0.645
 *   -D, k1 0.9 b 0.75 (glossary 0.533/0.234)                              0.796  0.596
 * k1 0.6-0.9 with b 0.75-1.0 is a plateau (-g; 0.6/1.0 gives 0.870/0.654 with -d, but b 1.0
 * is worse without definition units); search CPU p50 0.5 ms, p99 2.2 ms at -f 10 (wall the
 * same on an idle machine); build 5-12 s for 51k units (JSON parsing included). */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../shared/bm25.h"
#include "../shared/defs.h"

#define EVAL_TOP 10 /* Recall@10, MRR@10 */
#define EVAL_FETCH_MAX                                                                             \
    1000 /* hits fetched per question, at most (-f; default 100, so that 10                        \
            distinct records remain with definition units) */
#define EVAL_DEF_BASE        (INT64_C(1) << 32) /* definition unit ids start here */
#define EVAL_INTRO_MAX_BYTES 300                /* a longer "intro" is not one sentence: left out */
#define EVAL_MAX_DEFS        1024               /* definitions taken from one article, at most */
#define EVAL_MAX_REL         256                /* relevant entries of one question, at most */
#define EVAL_MAX_PREFIX      8

struct rec {
    char *doc_id, *pasal;
    int top; /* parent_pasal == null */
};

struct corpus {
    struct rec *recs;
    size_t n, cap;
    size_t *def_rec; /* definition unit i belongs to record def_rec[i] */
    size_t ndefs, defs_cap;
    size_t split_articles, empty_terms;
};

struct question {
    char prefix[16];
    char id[32];
    char *query;
    size_t nrel;
    char *rel_doc[EVAL_MAX_REL], *rel_pasal[EVAL_MAX_REL];
};

struct opts {
    const char *corpus, *qa, *index;
    const char *show;
    int no_build, embedded, defs, defs_chapter, penjelasan, grid, verbose;
    double k1, b;
    unsigned fetch;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: the search's own cost, whatever else the machine runs. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "bm25_eval: out of memory\n");
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s != NULL ? s : "");
    if (d == NULL) {
        fprintf(stderr, "bm25_eval: out of memory\n");
        exit(1);
    }
    return d;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int has_flag(json_t *o, const char *flag)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "flags"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), flag) == 0)
            return 1;
    }
    return 0;
}

/* A Ketentuan Umum article worth splitting: Pasal 1, or one that opens with "dimaksud dengan". */
static int is_definitions(const char *pasal, const char *text)
{
    if (pasal == NULL)
        return 0;
    if (strcmp(pasal, "1") == 0)
        return 1;
    size_t n = strlen(text);
    char head[301];
    memcpy(head, text, n < 300 ? n : 300);
    head[n < 300 ? n : 300] = '\0';
    return strstr(head, "dimaksud dengan") != NULL;
}

static void die_err(const char *what, char *err)
{
    fprintf(stderr, "bm25_eval: %s: %s\n", what, err != NULL ? err : "?");
    free(err);
    exit(1);
}

/* Reads the corpus; with w != NULL, indexes it. Record i is unit i + 1. */
static void load_corpus(const struct opts *o, struct corpus *c, bm25_writer *w)
{
    FILE *f = fopen(o->corpus, "r");
    if (f == NULL) {
        fprintf(stderr, "bm25_eval: %s: %s\n", o->corpus, strerror(errno));
        exit(1);
    }
    char *line = NULL, *buf = NULL;
    size_t cap = 0, bufcap = 0;
    ssize_t len;
    static struct defs_item items[EVAL_MAX_DEFS];
    while ((len = getline(&line, &cap, f)) > 0) {
        json_error_t jerr;
        json_t *r = json_loadb(line, (size_t)len, 0, &jerr);
        if (r == NULL) {
            fprintf(stderr, "bm25_eval: corpus line %zu: %s\n", c->n + 1, jerr.text);
            exit(1);
        }
        const char *doc_id = jstr(r, "doc_id"), *pasal = jstr(r, "pasal");
        const char *text = jstr(r, "text");
        int top = json_is_null(json_object_get(r, "parent_pasal"));
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 65536;
            c->recs = xrealloc(c->recs, c->cap * sizeof *c->recs);
        }
        struct rec *rec = &c->recs[c->n++];
        rec->doc_id = xstrdup(doc_id);
        rec->pasal = xstrdup(pasal);
        rec->top = top;
        int skip = has_flag(r, "container") || (!top && !o->embedded);
        if (w != NULL && !skip && doc_id != NULL && pasal != NULL && text != NULL) {
            const char *pj = jstr(r, "penjelasan");
            if (o->penjelasan && pj != NULL) {
                size_t need = strlen(text) + strlen(pj) + 2;
                if (need > bufcap)
                    buf = xrealloc(buf, bufcap = need);
                snprintf(buf, need, "%s\n%s", text, pj);
            }
            struct bm25_unit u = {
                .unit_id = (int64_t)c->n,
                .doc_id = doc_id,
                .doc_type = jstr(r, "doc_type"),
                .number = jstr(r, "number"),
                .year = (int)json_integer_value(json_object_get(r, "year")),
                .pasal = pasal,
                .title = jstr(r, "title"),
                .bab = jstr(r, "bab"),
                .text = o->penjelasan && pj != NULL ? buf : text,
            };
            char *err = NULL;
            if (bm25_writer_put(w, &u, &err) != 0)
                die_err("put", err);
        }
        if (o->defs && !skip && top && text != NULL && is_definitions(pasal, text)) {
            size_t tl = strlen(text);
            size_t nd = defs_split(text, tl, items, EVAL_MAX_DEFS), nterm = 0;
            for (size_t d = 0; d < nd; d++)
                nterm += items[d].term_start != items[d].term_end;
            if (nterm >= 2) { /* a list of definitions, not of amendments or items */
                c->split_articles++;
                for (size_t d = 0; d < nd; d++) {
                    if (items[d].term_start == items[d].term_end) {
                        c->empty_terms++; /* a list item, not a definition */
                        continue;
                    }
                    if (c->ndefs == c->defs_cap) {
                        c->defs_cap = c->defs_cap ? c->defs_cap * 2 : 65536;
                        c->def_rec = xrealloc(c->def_rec, c->defs_cap * sizeof *c->def_rec);
                    }
                    c->def_rec[c->ndefs] = c->n - 1;
                    if (w == NULL) {
                        c->ndefs++;
                        continue;
                    }
                    /* "Dalam Undang-Undang ini yang dimaksud dengan: X adalah ...": the
                     * article's intro sentence, then the definition */
                    size_t il = items[0].marker <= EVAL_INTRO_MAX_BYTES ? items[0].marker : 0;
                    size_t dl = items[d].end - items[d].start;
                    if (il + dl + 2 > bufcap)
                        buf = xrealloc(buf, bufcap = il + dl + 2);
                    memcpy(buf, text, il);
                    buf[il] = ' ';
                    memcpy(buf + il + 1, text + items[d].start, dl);
                    buf[il + 1 + dl] = '\0';
                    char term[512];
                    size_t tl2 = items[d].term_end - items[d].term_start;
                    if (tl2 >= sizeof term)
                        tl2 = sizeof term - 1;
                    memcpy(term, text + items[d].term_start, tl2);
                    term[tl2] = '\0';
                    /* the unit's heading is the term it defines, not "KETENTUAN UMUM" */
                    const char *defbab = o->defs_chapter ? jstr(r, "bab") : term;
                    struct bm25_unit u = {
                        .unit_id = EVAL_DEF_BASE + (int64_t)c->ndefs,
                        .doc_id = doc_id,
                        .doc_type = jstr(r, "doc_type"),
                        .number = jstr(r, "number"),
                        .year = (int)json_integer_value(json_object_get(r, "year")),
                        .pasal = pasal,
                        .title = jstr(r, "title"),
                        .bab = defbab,
                        .text = buf,
                    };
                    char *err = NULL;
                    if (bm25_writer_put(w, &u, &err) != 0)
                        die_err("put", err);
                    c->ndefs++;
                }
            }
        }
        json_decref(r);
    }
    free(line);
    free(buf);
    fclose(f);
}

static size_t load_questions(const char *path, struct question **out)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "bm25_eval: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    struct question *qs = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    char *line = NULL;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        json_error_t jerr;
        json_t *r = json_loadb(line, (size_t)len, 0, &jerr);
        if (r == NULL) {
            fprintf(stderr, "bm25_eval: qa line %zu: %s\n", n + 1, jerr.text);
            exit(1);
        }
        if (n == cap)
            qs = xrealloc(qs, (cap = cap ? cap * 2 : 512) * sizeof *qs);
        struct question *q = &qs[n++];
        memset(q, 0, sizeof *q);
        const char *id = jstr(r, "id");
        snprintf(q->id, sizeof q->id, "%s", id ? id : "?");
        size_t pl = strcspn(q->id, "-");
        if (pl >= sizeof q->prefix)
            pl = sizeof q->prefix - 1;
        memcpy(q->prefix, q->id, pl);
        q->prefix[pl] = '\0';
        q->query = xstrdup(jstr(r, "question"));
        size_t i;
        json_t *rel;
        json_array_foreach(json_object_get(r, "relevant"), i, rel)
        {
            if (q->nrel == EVAL_MAX_REL)
                break;
            const char *d = jstr(rel, "doc_id"), *p = jstr(rel, "pasal");
            size_t k;
            for (k = 0; k < q->nrel; k++) /* chapter questions: one entry per article */
                if (strcmp(q->rel_doc[k], d) == 0 && strcmp(q->rel_pasal[k], p) == 0)
                    break;
            if (k < q->nrel)
                continue;
            q->rel_doc[q->nrel] = xstrdup(d);
            q->rel_pasal[q->nrel++] = xstrdup(p);
        }
        json_decref(r);
    }
    free(line);
    fclose(f);
    *out = qs;
    return n;
}

struct score {
    char prefix[16];
    size_t n;
    double r1, r5, r10, mrr, frac;
};

static struct score *score_for(struct score *s, size_t *ns, const char *prefix)
{
    for (size_t i = 0; i < *ns; i++)
        if (strcmp(s[i].prefix, prefix) == 0)
            return &s[i];
    if (*ns == EVAL_MAX_PREFIX)
        return &s[0];
    struct score *x = &s[(*ns)++];
    memset(x, 0, sizeof *x);
    snprintf(x->prefix, sizeof x->prefix, "%s", prefix);
    return x;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Record index of a hit, or SIZE_MAX. */
static size_t hit_rec(const struct corpus *c, int64_t unit_id)
{
    if (unit_id >= EVAL_DEF_BASE) {
        uint64_t d = (uint64_t)(unit_id - EVAL_DEF_BASE);
        return d < c->ndefs ? c->def_rec[d] : SIZE_MAX;
    }
    return unit_id >= 1 && (uint64_t)unit_id <= c->n ? (size_t)unit_id - 1 : SIZE_MAX;
}

/* Runs every question; prints one block (or one grid line). Returns overall MRR@10. */
static double evaluate(bm25_index *ix, const struct corpus *c, const struct question *qs, size_t nq,
                       unsigned fetch, double k1, double b, int brief, int verbose)
{
    struct score sc[EVAL_MAX_PREFIX + 1];
    size_t ns = 1;
    memset(&sc[0], 0, sizeof sc[0]);
    snprintf(sc[0].prefix, sizeof sc[0].prefix, "all");
    double *lat = xrealloc(NULL, (nq ? nq : 1) * sizeof *lat);
    double *cpu = xrealloc(NULL, (nq ? nq : 1) * sizeof *cpu);
    static struct bm25_hit hits[EVAL_FETCH_MAX];
    for (size_t i = 0; i < nq; i++) {
        const struct question *q = &qs[i];
        char *err = NULL;
        double t0 = now_s(), c0 = cpu_s();
        int n = bm25_search(ix, q->query, NULL, fetch, k1, b, hits, &err);
        lat[i] = now_s() - t0;
        cpu[i] = cpu_s() - c0;
        if (n < 0)
            die_err("search", err);
        size_t ranked[EVAL_TOP], nr = 0;
        for (int h = 0; h < n && nr < EVAL_TOP; h++) {
            size_t r = hit_rec(c, hits[h].unit_id);
            size_t k;
            for (k = 0; k < nr && ranked[k] != r; k++)
                ;
            if (k == nr)
                ranked[nr++] = r;
        }
        size_t first = 0, found = 0; /* 1-based rank of the first relevant record */
        for (size_t k = 0; k < nr; k++) {
            const struct rec *rec = ranked[k] == SIZE_MAX ? NULL : &c->recs[ranked[k]];
            if (rec == NULL || !rec->top)
                continue;
            for (size_t j = 0; j < q->nrel; j++) {
                if (strcmp(rec->doc_id, q->rel_doc[j]) == 0 &&
                    strcmp(rec->pasal, q->rel_pasal[j]) == 0) {
                    found++;
                    if (first == 0)
                        first = k + 1;
                    break;
                }
            }
        }
        if (verbose && first)
            printf("%s\t%zu\n", q->id, first);
        else if (verbose)
            printf("%s\tmiss\n", q->id);
        struct score *parts[2] = {&sc[0], score_for(sc, &ns, q->prefix)};
        for (int p = 0; p < 2; p++) {
            struct score *s = parts[p];
            s->n++;
            s->r1 += first == 1;
            s->r5 += first >= 1 && first <= 5;
            s->r10 += first >= 1;
            s->mrr += first ? 1.0 / (double)first : 0.0;
            s->frac += q->nrel ? (double)found / (double)q->nrel : 0.0;
        }
    }
    if (brief) {
        printf("k1=%.2f b=%.2f  R@10 %.3f  MRR@10 %.3f", k1, b, sc[0].r10 / (double)sc[0].n,
               sc[0].mrr / (double)sc[0].n);
        for (size_t i = 1; i < ns; i++)
            printf("  %s %.3f/%.3f", sc[i].prefix, sc[i].r10 / (double)sc[i].n,
                   sc[i].mrr / (double)sc[i].n);
        printf("\n");
    } else {
        printf("k1=%.2f b=%.2f\n%-10s %5s %6s %6s %6s %7s %6s\n", k1, b, "set", "n", "R@1", "R@5",
               "R@10", "MRR@10", "frac");
        for (size_t i = 0; i < ns; i++) {
            double n = (double)sc[i].n;
            printf("%-10s %5zu %6.3f %6.3f %6.3f %7.3f %6.3f\n", sc[i].prefix, sc[i].n,
                   sc[i].r1 / n, sc[i].r5 / n, sc[i].r10 / n, sc[i].mrr / n, sc[i].frac / n);
        }
        qsort(lat, nq, sizeof *lat, cmp_double);
        qsort(cpu, nq, sizeof *cpu, cmp_double);
        if (nq > 0)
            printf("search latency (k=%u) over %zu questions: wall p50 %.3f ms  p99 %.3f ms  "
                   "max %.3f ms; cpu p50 %.3f ms  p99 %.3f ms\n",
                   fetch, nq, lat[nq / 2] * 1e3, lat[(nq * 99) / 100] * 1e3, lat[nq - 1] * 1e3,
                   cpu[nq / 2] * 1e3, cpu[(nq * 99) / 100] * 1e3);
    }
    free(lat);
    free(cpu);
    return sc[0].mrr / (double)sc[0].n;
}

/* -s: the first records for one query, with their scores (to see why a question misses). */
static void show_query(bm25_index *ix, const struct corpus *c, const char *query, double k1,
                       double b)
{
    struct bm25_hit hits[EVAL_TOP];
    char *err = NULL;
    int n = bm25_search(ix, query, NULL, EVAL_TOP, k1, b, hits, &err);
    if (n < 0)
        die_err("search", err);
    for (int h = 0; h < n; h++) {
        size_t r = hit_rec(c, hits[h].unit_id);
        printf("%2d %8.4f %s:%s%s\n", h + 1, hits[h].score, r == SIZE_MAX ? "?" : c->recs[r].doc_id,
               r == SIZE_MAX ? "?" : c->recs[r].pasal,
               hits[h].unit_id >= EVAL_DEF_BASE ? " (definition)" : "");
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void usage(void)
{
    fprintf(stderr, "usage: bm25_eval [-c corpus.jsonl] [-q qa.jsonl] [-i index_dir] [-n] [-e] "
                    "[-d|-D] [-p] [-k k1] [-b b] [-f fetch] [-g] [-v] [-s query]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct opts o = {
        .corpus = "../shared/data/id-law-corpus.jsonl",
        .qa = "../shared/data/id-law-qa-dev.jsonl",
        .k1 = 0.9, /* the recommended defaults: see "Measured" above */
        .b = 0.75,
        .fetch = 100,
    };
    int opt;
    while ((opt = getopt(argc, argv, "c:q:i:nedDpk:b:gvs:f:")) != -1) {
        switch (opt) {
        case 'c': o.corpus = optarg; break;
        case 'q': o.qa = optarg; break;
        case 'i': o.index = optarg; break;
        case 'n': o.no_build = 1; break;
        case 'e': o.embedded = 1; break;
        case 'd': o.defs = 1; break;
        case 'D': o.defs = o.defs_chapter = 1; break;
        case 'p': o.penjelasan = 1; break;
        case 'k': o.k1 = strtod(optarg, NULL); break;
        case 'b': o.b = strtod(optarg, NULL); break;
        case 'g': o.grid = 1; break;
        case 'v': o.verbose = 1; break;
        case 's': o.show = optarg; break;
        case 'f': o.fetch = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (optind != argc || (o.no_build && o.index == NULL) || o.fetch < EVAL_TOP ||
        o.fetch > EVAL_FETCH_MAX)
        usage();

    char tmpdir[] = "/tmp/bm25_eval.XXXXXX";
    if (o.index == NULL) {
        if (mkdtemp(tmpdir) == NULL) {
            fprintf(stderr, "bm25_eval: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
        o.index = tmpdir;
    }

    struct corpus c = {0};
    char *err = NULL;
    double t0 = now_s();
    if (o.no_build) {
        load_corpus(&o, &c, NULL);
    } else {
        bm25_writer *w = bm25_writer_open(o.index, &err);
        if (w == NULL)
            die_err("writer_open", err);
        load_corpus(&o, &c, w);
        if (bm25_writer_commit(w, &err) != 0)
            die_err("commit", err);
        bm25_writer_close(w);
        printf("index build: %.1f s (%zu records read, %zu definition units from %zu "
               "articles, %zu without a term)\n",
               now_s() - t0, c.n, c.ndefs, c.split_articles, c.empty_terms);
    }

    bm25_index *ix = bm25_open(o.index, &err);
    if (ix == NULL)
        die_err("open", err);
    printf("units indexed: %llu\n", (unsigned long long)bm25_doc_count(ix));

    struct question *qs = NULL;
    size_t nq = 0;
    if (o.show != NULL) {
        show_query(ix, &c, o.show, o.k1, o.b);
    } else if (o.grid) {
        nq = load_questions(o.qa, &qs);
        static const double k1s[] = {0.6, 0.9, 1.2, 1.5, 2.0};
        static const double bs[] = {0.3, 0.5, 0.75, 0.9, 1.0};
        for (size_t i = 0; i < sizeof k1s / sizeof k1s[0]; i++)
            for (size_t j = 0; j < sizeof bs / sizeof bs[0]; j++)
                evaluate(ix, &c, qs, nq, o.fetch, k1s[i], bs[j], 1, 0);
    } else {
        nq = load_questions(o.qa, &qs);
        evaluate(ix, &c, qs, nq, o.fetch, o.k1, o.b, 0, o.verbose);
    }
    bm25_close(ix);

    if (o.index == tmpdir && nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bm25_eval: could not remove %s\n", tmpdir);
    for (size_t i = 0; i < c.n; i++) {
        free(c.recs[i].doc_id);
        free(c.recs[i].pasal);
    }
    free(c.recs);
    free(c.def_rec);
    for (size_t i = 0; i < nq; i++) {
        free(qs[i].query);
        for (size_t j = 0; j < qs[i].nrel; j++) {
            free(qs[i].rel_doc[j]);
            free(qs[i].rel_pasal[j]);
        }
    }
    free(qs);
    return 0;
}
