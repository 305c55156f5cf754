/* tests/unit/test_bm25.c -- the BM25 shim (shared/bm25.cc, linked from liblexrag.a; the stopword
 * list is #included) over tiny indexes in a temporary directory: scores equal Xapian 1.4's BM25
 * computed here by hand, filters (doc_type, doc_id, year ranges), put replaces, delete,
 * stopword-only queries, reopen after a commit, law and article numbers in a query, and odd
 * input that must never be an error.
 *
 * Xapian 1.4's BM25Weight (weight/bm25weight.cc; parameters in xapian/weight.h), as bm25.cc
 * uses it: k2 = 0 (no extra per-document part), k3 = 1, min_normlen = 0.5. With N documents,
 * n of them containing term t, wdf its count in document d, len(d) the sum of d's wdfs and avgdl
 * the mean len over the N documents:
 *     tw      = (N - n + 0.5) / (n + 0.5);  if tw < 2 then tw = tw / 2 + 1
 *               (Xapian's replacement for the negative idf of very common terms)
 *     idf     = log(tw)
 *     qf      = (k3 + 1) * wqf / (k3 + wqf)        (wqf: times t occurs in the query; 1 -> 1)
 *     normlen = max(len(d) / avgdl, min_normlen)
 *     part    = idf * qf * (k1 + 1) * wdf / (k1 * (normlen * b + (1 - b)) + wdf)
 *     score   = sum of part over the query terms in d
 * The test documents use words the Indonesian stemmer leaves alone and no stopwords, so n, wdf
 * and len are counted here from the text; every unit also carries three structured terms of
 * wdf 1 (XD doc_id, XP pasal, XL both), so len(d) = words + 3. */
#include <ftw.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shared/bm25_stopwords.c"

#define STRUCT_TERMS 3 /* XD, XP, XL: wdf 1 each in every unit */
#define MAX_HITS     16

/* ------------------------------------------------------------------------------------------ */
/* A temporary index directory per test                                                      */

struct fx {
    char dir[64];
};

#include "test_helpers.h"

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lx_test_bm25.XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    rm_tree(f->dir);
    free(f);
    return 0;
}

static void put_all(const char *dir, const struct bm25_unit *u, size_t n)
{
    char *err = NULL;
    bm25_writer *w = bm25_writer_open(dir, &err);
    if (w == NULL)
        fail_msg("writer_open: %s", err);
    for (size_t i = 0; i < n; i++)
        if (bm25_writer_put(w, &u[i], &err) != 0)
            fail_msg("put %zu: %s", i, err);
    if (bm25_writer_commit(w, &err) != 0)
        fail_msg("commit: %s", err);
    bm25_writer_close(w);
}

static bm25_index *open_ok(const char *dir)
{
    char *err = NULL;
    bm25_index *ix = bm25_open(dir, &err);
    if (ix == NULL)
        fail_msg("open: %s", err);
    return ix;
}

static int search_ok(bm25_index *ix, const char *q, const struct bm25_filter *f, unsigned k,
                     double k1, double b, struct bm25_hit *hits)
{
    char *err = NULL;
    int n = bm25_search(ix, q, f, k, k1, b, hits, &err);
    if (n < 0 || err != NULL)
        fail_msg("search \"%.60s\": %s", q, err ? err : "(no message)");
    return n;
}

static int has_unit(const struct bm25_hit *h, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (h[i].unit_id == id)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The stopword list                                                                          */

static void test_stopword_list(void **state)
{
    (void)state;
    size_t n = 0;
    for (; bm25_stopwords[n] != NULL; n++) {
        for (const char *p = bm25_stopwords[n]; *p; p++)
            if (!(*p >= 'a' && *p <= 'z'))
                fail_msg("\"%s\" is not lower-case a-z", bm25_stopwords[n]);
        if (n > 0 && strcmp(bm25_stopwords[n - 1], bm25_stopwords[n]) >= 0)
            fail_msg("not sorted or duplicate: \"%s\" before \"%s\"", bm25_stopwords[n - 1],
                     bm25_stopwords[n]);
        assert_true(bm25_is_stopword(bm25_stopwords[n]));
    }
    assert_true(n >= 100 && n <= 200);
}

static const struct {
    int line;
    const char *word;
    int stop;
} stop_cases[] = {
    {__LINE__, "apa", 1},   {__LINE__, "apakah", 1},   {__LINE__, "bagaimana", 1},
    {__LINE__, "yang", 1},  {__LINE__, "dengan", 1},   {__LINE__, "tersebut", 1},
    {__LINE__, "siapa", 1}, {__LINE__, "di", 1},       {__LINE__, "pidana", 0},
    {__LINE__, "pasal", 0}, {__LINE__, "hak", 0},      {__LINE__, "wajib", 0},
    {__LINE__, "tidak", 0}, {__LINE__, "sanksi", 0},   {__LINE__, "Apa", 0}, /* lower-case */
    {__LINE__, "", 0},      {__LINE__, "yangg", 0},    {__LINE__, "zzz", 0},
    {__LINE__, "aaa", 0},   {__LINE__, "dimaksud", 0}, {__LINE__, "dapat", 0},
};

static void test_is_stopword(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stop_cases / sizeof stop_cases[0]; i++)
        if (bm25_is_stopword(stop_cases[i].word) != stop_cases[i].stop)
            fail_msg("case at line %d: \"%s\"", stop_cases[i].line, stop_cases[i].word);
    assert_false(bm25_is_stopword(NULL));
}

/* ------------------------------------------------------------------------------------------ */
/* Scores against the formula                                                                 */

static const char *const formula_texts[] = {
    "kucing gajah kucing rusa",
    "gajah buaya",
    "kucing",
    "rusa rusa rusa gajah zebra singa unta domba kambing kuda buaya elang domba domba domba "
    "domba domba kambing kambing kambing kambing singa singa singa singa", /* long: raises
    avgdl so that doc 2 ("kucing", 4 terms) falls under min_normlen */
    "zebra unta",
};
#define N_FORMULA (sizeof formula_texts / sizeof formula_texts[0])

static size_t count_words(const char *text, const char *word)
{
    size_t n = 0, wl = strlen(word);
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == wl && memcmp(p, word, wl) == 0)
            n++;
        p = e;
    }
    return n;
}

static size_t doc_len(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        if (*p)
            n++;
        while (*p && *p != ' ')
            p++;
    }
    return n + STRUCT_TERMS;
}

/* Xapian 1.4's BM25 (see the top of this file) for document d and the query's distinct words
 * q[] with their wqf[]. */
static double bm25_expected(size_t d, const char *const *q, const unsigned *wqf, size_t nq,
                            double k1, double b)
{
    const double k3 = 1.0, min_normlen = 0.5;
    double total = 0;
    for (size_t i = 0; i < N_FORMULA; i++)
        total += (double)doc_len(formula_texts[i]);
    double avgdl = total / (double)N_FORMULA;
    double score = 0;
    for (size_t t = 0; t < nq; t++) {
        size_t n = 0;
        for (size_t i = 0; i < N_FORMULA; i++)
            n += count_words(formula_texts[i], q[t]) > 0;
        double wdf = (double)count_words(formula_texts[d], q[t]);
        if (n == 0 || wdf == 0)
            continue;
        double tw = ((double)N_FORMULA - (double)n + 0.5) / ((double)n + 0.5);
        if (tw < 2)
            tw = tw * 0.5 + 1;
        double qf = (k3 + 1) * wqf[t] / (k3 + wqf[t]);
        double normlen = fmax((double)doc_len(formula_texts[d]) / avgdl, min_normlen);
        score += log(tw) * qf * (k1 + 1) * wdf / (k1 * (normlen * b + (1 - b)) + wdf);
    }
    return score;
}

static const struct {
    int line;
    const char *query;
    const char *words[4]; /* the query's distinct words, as the index has them */
    unsigned wqf[4];
    double k1, b;
} formula_cases[] = {
    {__LINE__, "kucing", {"kucing"}, {1}, 1.2, 0.75}, /* doc 2 clamped to min_normlen */
    {__LINE__, "gajah", {"gajah"}, {1}, 1.2, 0.75},   /* n = 3 of 5: the tw < 2 branch */
    {__LINE__, "rusa zebra singa", {"rusa", "zebra", "singa"}, {1, 1, 1}, 1.2, 0.75},
    {__LINE__, "kucing rusa buaya", {"kucing", "rusa", "buaya"}, {1, 1, 1}, 0.9, 0.4},
    {__LINE__, "kucing kucing gajah", {"kucing", "gajah"}, {2, 1}, 1.2, 0.75}, /* wqf 2 */
    {__LINE__, "Apakah kucing, yang gajah?", {"kucing", "gajah"}, {1, 1}, 2.0, 1.0},
    {__LINE__, "unta zebra elang", {"unta", "zebra", "elang"}, {1, 1, 1}, 0.0, 0.75},  /* k1 0 */
    {__LINE__, "unta zebra kucing", {"unta", "zebra", "kucing"}, {1, 1, 1}, 1.5, 0.0}, /* b 0 */
};

static void test_scores_match_formula(void **state)
{
    struct fx *f = *state;
    struct bm25_unit u[N_FORMULA];
    char pasal[N_FORMULA][8];
    for (size_t i = 0; i < N_FORMULA; i++) {
        snprintf(pasal[i], sizeof pasal[i], "%zu", i + 1);
        u[i] = (struct bm25_unit){.unit_id = (int64_t)i + 100,
                                  .doc_id = "UU-9-2020",
                                  .doc_type = "UU",
                                  .number = "9",
                                  .year = 2020,
                                  .pasal = pasal[i],
                                  .title = "",
                                  .bab = NULL,
                                  .text = formula_texts[i]};
    }
    put_all(f->dir, u, N_FORMULA);
    bm25_index *ix = open_ok(f->dir);
    assert_int_equal(bm25_doc_count(ix), N_FORMULA);
    for (size_t c = 0; c < sizeof formula_cases / sizeof formula_cases[0]; c++) {
        size_t nq = 0;
        while (nq < 4 && formula_cases[c].words[nq] != NULL)
            nq++;
        struct bm25_hit hits[MAX_HITS];
        int n = search_ok(ix, formula_cases[c].query, NULL, MAX_HITS, formula_cases[c].k1,
                          formula_cases[c].b, hits);
        int want = 0;
        for (size_t d = 0; d < N_FORMULA; d++) {
            double e = bm25_expected(d, formula_cases[c].words, formula_cases[c].wqf, nq,
                                     formula_cases[c].k1, formula_cases[c].b);
            if (e == 0) /* no query word in d (idf is always > 0 here) */
                continue;
            int found = 0;
            for (int h = 0; h < n; h++) {
                if (hits[h].unit_id != (int64_t)d + 100)
                    continue;
                found = 1;
                if (fabs(hits[h].score - e) > 1e-9 * fmax(1.0, fabs(e)))
                    fail_msg("case at line %d: doc %zu scored %.12f, formula %.12f",
                             formula_cases[c].line, d, hits[h].score, e);
            }
            if (!found)
                fail_msg("case at line %d: doc %zu (expected %.6f) not returned",
                         formula_cases[c].line, d, e);
            want += found;
        }
        assert_int_equal(n, want);
        for (int h = 1; h < n; h++) /* best first */
            assert_true(hits[h - 1].score >= hits[h].score);
    }
    bm25_close(ix);
}

/* ------------------------------------------------------------------------------------------ */
/* Filters                                                                                    */

static const struct bm25_unit filter_units[] = {
    {1, "UU-13-2003", "UU", "13", 2003, "1", "UU Ketenagakerjaan", "BAB I", "pekerja upah"},
    {2, "UU-13-2003", "UU", "13", 2003, "2", "UU Ketenagakerjaan", NULL, "pekerja cuti"},
    {3, "PP-35-2021", "PP", "35", 2021, "1", "PP PKWT", "BAB I", "pekerja kontrak"},
    {4, "UU-1-2023", "UU", "1", 2023, "27A", "UU KUHP", NULL, "pekerja pidana"},
    {5, "KUHP", "KUHP", NULL, 1946, "303 bis", "KUHP", NULL, "pekerja judi"},
};

static const struct {
    int line;
    struct bm25_filter f;
    int64_t want[6]; /* 0-terminated */
} filter_cases[] = {
    {__LINE__, {NULL, NULL, 0, 0}, {1, 2, 3, 4, 5}},
    {__LINE__, {"UU", NULL, 0, 0}, {1, 2, 4}},
    {__LINE__, {"uu", NULL, 0, 0}, {1, 2, 4}}, /* case-insensitive */
    {__LINE__, {"PP", NULL, 0, 0}, {3}},
    {__LINE__, {"PERPRES", NULL, 0, 0}, {0}},
    {__LINE__, {NULL, "UU-13-2003", 0, 0}, {1, 2}},
    {__LINE__, {NULL, "KUHP", 0, 0}, {5}},
    {__LINE__, {"PP", "UU-13-2003", 0, 0}, {0}},
    {__LINE__, {NULL, NULL, 2003, 2021}, {1, 2, 3}},
    {__LINE__, {NULL, NULL, 2004, 2021}, {3}},
    {__LINE__, {NULL, NULL, 2021, 0}, {3, 4}},
    {__LINE__, {NULL, NULL, 0, 2003}, {1, 2, 5}},
    {__LINE__, {NULL, NULL, 2024, 0}, {0}},
    {__LINE__, {"UU", NULL, 2000, 2025}, {1, 2, 4}},
    {__LINE__, {"UU", "UU-1-2023", 2023, 2023}, {4}},
};

static void test_filters(void **state)
{
    struct fx *f = *state;
    put_all(f->dir, filter_units, sizeof filter_units / sizeof filter_units[0]);
    bm25_index *ix = open_ok(f->dir);
    for (size_t c = 0; c < sizeof filter_cases / sizeof filter_cases[0]; c++) {
        struct bm25_hit hits[MAX_HITS];
        int n = search_ok(ix, "pekerja", &filter_cases[c].f, MAX_HITS, 1.2, 0.75, hits);
        int nw = 0;
        while (filter_cases[c].want[nw] != 0)
            nw++;
        if (n != nw)
            fail_msg("case at line %d: %d hits, want %d", filter_cases[c].line, n, nw);
        for (int i = 0; i < nw; i++)
            if (!has_unit(hits, n, filter_cases[c].want[i]))
                fail_msg("case at line %d: unit %lld missing", filter_cases[c].line,
                         (long long)filter_cases[c].want[i]);
    }
    bm25_close(ix);
}

/* ------------------------------------------------------------------------------------------ */
/* Writer: replace, delete, unit ids; reader: reopen                                          */

static void test_put_replaces_and_delete(void **state)
{
    struct fx *f = *state;
    char *err = NULL;
    bm25_writer *w = bm25_writer_open(f->dir, &err);
    assert_non_null(w);
    struct bm25_unit u = {7, "UU-5-2010", "UU", "5", 2010, "3", "t", NULL, "kucing gajah"};
    assert_int_equal(bm25_writer_put(w, &u, &err), 0);
    u.text = "rusa zebra"; /* same unit_id: replaces */
    assert_int_equal(bm25_writer_put(w, &u, &err), 0);
    struct bm25_unit big = u;
    big.unit_id = INT64_C(1) << 40; /* ids past 32 bits survive the round trip */
    big.text = "buaya";
    assert_int_equal(bm25_writer_put(w, &big, &err), 0);
    struct bm25_unit neg = u;
    neg.unit_id = -5;
    neg.text = "elang";
    assert_int_equal(bm25_writer_put(w, &neg, &err), 0);
    assert_int_equal(bm25_writer_commit(w, &err), 0);

    bm25_index *ix = open_ok(f->dir);
    assert_int_equal(bm25_doc_count(ix), 3);
    struct bm25_hit hits[MAX_HITS];
    assert_int_equal(search_ok(ix, "kucing gajah", NULL, MAX_HITS, 1.2, 0.75, hits), 0);
    assert_int_equal(search_ok(ix, "zebra", NULL, MAX_HITS, 1.2, 0.75, hits), 1);
    assert_int_equal(hits[0].unit_id, 7);
    assert_int_equal(search_ok(ix, "buaya", NULL, MAX_HITS, 1.2, 0.75, hits), 1);
    assert_true(hits[0].unit_id == INT64_C(1) << 40);
    assert_int_equal(search_ok(ix, "elang", NULL, MAX_HITS, 1.2, 0.75, hits), 1);
    assert_true(hits[0].unit_id == -5);

    assert_int_equal(bm25_writer_delete(w, 7, &err), 0);
    assert_int_equal(bm25_writer_delete(w, 999, &err), 0); /* absent: nothing to do */
    assert_int_equal(bm25_writer_commit(w, &err), 0);
    assert_int_equal(bm25_reopen(ix, &err), 1);
    assert_int_equal(bm25_doc_count(ix), 2);
    assert_int_equal(search_ok(ix, "zebra", NULL, MAX_HITS, 1.2, 0.75, hits), 0);
    assert_null(err);
    bm25_writer_close(w);
    bm25_close(ix);
}

static void test_reopen_sees_commit(void **state)
{
    struct fx *f = *state;
    struct bm25_unit u = {1, "UU-1-2000", "UU", "1", 2000, "1", "t", NULL, "kucing"};
    put_all(f->dir, &u, 1);
    bm25_index *ix = open_ok(f->dir);
    char *err = NULL;
    assert_int_equal(bm25_reopen(ix, &err), 0); /* nothing new */
    struct bm25_hit hits[MAX_HITS];
    assert_int_equal(search_ok(ix, "gajah", NULL, MAX_HITS, 1.2, 0.75, hits), 0);

    bm25_writer *w = bm25_writer_open(f->dir, &err);
    assert_non_null(w);
    struct bm25_unit v = {2, "UU-1-2000", "UU", "1", 2000, "2", "t", NULL, "gajah"};
    assert_int_equal(bm25_writer_put(w, &v, &err), 0);
    assert_int_equal(search_ok(ix, "gajah", NULL, MAX_HITS, 1.2, 0.75, hits), 0); /* not yet */
    assert_int_equal(bm25_writer_commit(w, &err), 0);
    assert_int_equal(bm25_doc_count(ix), 1); /* the old revision until reopen */
    assert_int_equal(bm25_reopen(ix, &err), 1);
    assert_int_equal(bm25_doc_count(ix), 2);
    assert_int_equal(search_ok(ix, "gajah", NULL, MAX_HITS, 1.2, 0.75, hits), 1);
    assert_int_equal(hits[0].unit_id, 2);
    assert_int_equal(bm25_reopen(ix, &err), 0);
    assert_null(err);
    bm25_writer_close(w);
    bm25_close(ix);
}

/* ------------------------------------------------------------------------------------------ */
/* Queries: stopwords only, law and article numbers, odd input                                */

static void test_stopwords_only(void **state)
{
    struct fx *f = *state;
    put_all(f->dir, filter_units, sizeof filter_units / sizeof filter_units[0]);
    bm25_index *ix = open_ok(f->dir);
    static const char *const q[] = {
        "apa", "Apakah yang di mana?", "bagaimana dengan itu", "", "   ", "?!.,;:()"};
    struct bm25_hit hits[MAX_HITS];
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        assert_int_equal(search_ok(ix, q[i], NULL, MAX_HITS, 1.2, 0.75, hits), 0);
    assert_int_equal(search_ok(ix, "apa pekerja", NULL, MAX_HITS, 1.2, 0.75, hits), 5);
    assert_int_equal(search_ok(ix, "pekerja", NULL, 0, 1.2, 0.75, hits), 0); /* k = 0 */
    assert_int_equal(search_ok(ix, "pekerja", NULL, 2, 1.2, 0.75, hits), 2);
    bm25_close(ix);
}

static const struct {
    int line;
    const char *query;
    int64_t first; /* unit expected first */
} struct_cases[] = {
    {__LINE__, "kucing pasal 27A", 2},
    {__LINE__, "kucing pasal 303 bis", 5},
    {__LINE__, "kucing UU 1/2023", 2},
    {__LINE__, "kucing UU 2/2023", 3},
    {__LINE__, "kucing Undang-Undang Nomor 2 Tahun 2023", 3},
    {__LINE__, "kucing PP No. 7 Tahun 2019", 4},
    {__LINE__, "kucing 7/2019", 4}, /* no type given: UU or PP */
    {__LINE__, "kucing KUHP", 5},
    {__LINE__, "pasal 27 UU 2/2023 kucing", 3}, /* law and article named together */
    {__LINE__, "kucing Pasal 27 UU No. 4 Tahun 2023", 1},
};

static void test_law_and_article_numbers(void **state)
{
    struct fx *f = *state;
    static const struct bm25_unit u[] = {
        {1, "UU-4-2023", "UU", "4", 2023, "27", "t", NULL, "kucing rusa"},
        {2, "UU-1-2023", "UU", "1", 2023, "27A", "t", NULL, "kucing rusa"},
        {3, "UU-2-2023", "UU", "2", 2023, "27", "t", NULL, "kucing rusa"},
        {4, "PP-7-2019", "PP", "7", 2019, "3", "t", NULL, "kucing rusa"},
        {5, "KUHP", "KUHP", NULL, 1946, "303 bis", "t", NULL, "kucing rusa"},
        {6, "UU-3-2003", "UU", "3", 2003, "5", "t", NULL, "kucing kucing rusa"},
    };
    put_all(f->dir, u, sizeof u / sizeof u[0]);
    bm25_index *ix = open_ok(f->dir);
    struct bm25_hit hits[MAX_HITS];
    assert_int_equal(search_ok(ix, "kucing", NULL, 1, 1.2, 0.75, hits), 1);
    assert_int_equal(hits[0].unit_id, 6); /* without numbers: the text decides */
    for (size_t c = 0; c < sizeof struct_cases / sizeof struct_cases[0]; c++) {
        int n = search_ok(ix, struct_cases[c].query, NULL, MAX_HITS, 1.2, 0.75, hits);
        if (n < 1 || hits[0].unit_id != struct_cases[c].first)
            fail_msg("case at line %d: first is %lld, want %lld", struct_cases[c].line,
                     n ? (long long)hits[0].unit_id : -1LL, (long long)struct_cases[c].first);
        if (n > 1 && !(hits[0].score > hits[1].score))
            fail_msg("case at line %d: no strict lead", struct_cases[c].line);
    }
    bm25_close(ix);
}

static const struct {
    int line;
    const char *query;
} odd_cases[] = {
    {__LINE__, "\"pekerja\""},
    {__LINE__, "(pekerja AND upah)"},
    {__LINE__, "pekerja OR NOT cuti"},
    {__LINE__, "AND"},
    {__LINE__, "NOT"},
    {__LINE__, "*"},
    {__LINE__, "pek*"},
    {__LINE__, "pekerja* +upah -cuti"},
    {__LINE__, "\"unclosed phrase"},
    {__LINE__, "((((("},
    {__LINE__, ")))"},
    {__LINE__, "title:pekerja"},
    {__LINE__, "pekerja..upah"},
    {__LINE__, "~pekerja^2"},
    {__LINE__, "\xff\xfe\xfd pekerja"},
    {__LINE__, "pekerja \xc3"},
    {__LINE__, "\xe2\x82"},
    {__LINE__, "\xed\xa0\x80 surrogate"},
    {__LINE__, "pekerja\t\r\n\v\f"},
    {__LINE__, "pasal"},
    {__LINE__, "pasal 99999999999"},
    {__LINE__, "pasal 1a2b"},
    {__LINE__, "UU 1/20233"},
    {__LINE__, "1/2023/2024 UU/PP"},
    {__LINE__, "nomor tahun"},
    {__LINE__, "Nomor 5 Tahun"},
    {__LINE__, "pekerja 27A 27a XDuu-13-2003 Q1 XT"},
    {__LINE__, "pekerja \xf0\x9f\x98\x80 emoji"},
    {__LINE__, "百 pekerja"},
};

static void test_odd_input(void **state)
{
    struct fx *f = *state;
    put_all(f->dir, filter_units, sizeof filter_units / sizeof filter_units[0]);
    bm25_index *ix = open_ok(f->dir);
    struct bm25_hit hits[MAX_HITS];
    for (size_t c = 0; c < sizeof odd_cases / sizeof odd_cases[0]; c++) {
        char *err = NULL;
        int n = bm25_search(ix, odd_cases[c].query, NULL, MAX_HITS, 1.2, 0.75, hits, &err);
        if (n < 0 || err != NULL)
            fail_msg("case at line %d: %s", odd_cases[c].line, err ? err : "-1");
    }
    /* a very long query: cut, never an error */
    size_t len = 200 * 1024;
    char *q = malloc(len + 1);
    assert_non_null(q);
    for (size_t i = 0; i < len; i++)
        q[i] = "pekerja upah \xc3\xa9 "[i % 16];
    q[len] = '\0';
    assert_true(search_ok(ix, q, NULL, MAX_HITS, 1.2, 0.75, hits) > 0);
    for (size_t i = 0; i < len; i++) /* many distinct words */
        q[i] = (char)('a' + (i * 7 + i / 26) % 26);
    for (size_t i = 5; i < len; i += 6)
        q[i] = ' ';
    assert_true(search_ok(ix, q, NULL, MAX_HITS, 1.2, 0.75, hits) >= 0);
    free(q);
    bm25_close(ix);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */

static void test_errors(void **state)
{
    struct fx *f = *state;
    char *err = NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_null(bm25_open(path, &err)); /* no index there */
    assert_non_null(err);
    assert_non_null(strstr(err, "bm25"));
    free(err);
    err = NULL;

    put_all(f->dir, filter_units, 2);
    bm25_writer *w = bm25_writer_open(f->dir, &err);
    assert_non_null(w);
    assert_null(bm25_writer_open(f->dir, &err)); /* one writer at a time */
    assert_non_null(err);
    free(err);
    err = NULL;
    bm25_writer_close(w);

    bm25_index *ix = open_ok(f->dir);
    struct bm25_hit hits[MAX_HITS];
    assert_int_equal(bm25_search(ix, "pekerja", NULL, MAX_HITS, -1.0, 0.75, hits, &err), -1);
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_int_equal(bm25_search(ix, "pekerja", NULL, MAX_HITS, 1.2, NAN, hits, &err), -1);
    assert_non_null(err);
    free(err);
    err = NULL;
    assert_int_equal(bm25_search(ix, "pekerja", NULL, MAX_HITS, 1.2, 1.5, hits, &err), -1);
    free(err);
    bm25_close(ix);
    bm25_close(NULL);
    bm25_writer_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stopword_list),
        cmocka_unit_test(test_is_stopword),
        cmocka_unit_test_setup_teardown(test_scores_match_formula, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_filters, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_put_replaces_and_delete, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_sees_commit, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stopwords_only, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_law_and_article_numbers, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_odd_input, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_errors, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
