/* tests/unit/test_emb_hash.c -- the built-in embedder (shared/emb_hash.c): the same text gives
 * the same bits, vectors are unit length (or zero when the text has no features), dimensions at
 * and past the bounds, nothing written past out[dim), case, stopwords, boilerplate and UTF-8
 * punctuation do not change a vector, inflected forms stay close (the stemmer's table), and
 * related texts are nearer than unrelated ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/bm25_stopwords.c"
#include "../../shared/emb_hash.c"

#define DIM LX_EMB_HASH_DIM_DEFAULT
/* The vector of "tindak pidana korupsi" at DIM (test_pinned_values). */
#define EMB_TEST_PINNED_NONZERO 49
#define EMB_TEST_PINNED_SUM     (-582.117766)

static void embed(const char *s, float *v)
{
    emb_hash(s, strlen(s), DIM, v);
}

static double dot(const float *a, const float *b, unsigned n)
{
    double s = 0;
    for (unsigned i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double cosine_of(const char *a, const char *b)
{
    float va[DIM], vb[DIM];
    embed(a, va);
    embed(b, vb);
    return dot(va, vb, DIM);
}

static int is_zero(const float *v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (v[i] != 0.0f)
            return 0;
    return 1;
}

static const char *const texts[] = {
    "Setiap orang yang secara melawan hukum melakukan perbuatan memperkaya diri sendiri",
    "Pasal 2 ayat (1) UU No. 31 Tahun 1999",
    "Permohonan pengesahan RPTKA memuat rencana penyerapan tenaga kerja Indonesia",
    "x",
    "a b c 1 2 3 yy",
    "\xc3\x89"
    "COLE \xe2\x80\x9c"
    "data pribadi\xe2\x80\x9d \xe2\x80\xa6 50\xc2\xb0",
};

/* Same input, same bits; at several dimensions. */
static void test_deterministic(void **state)
{
    (void)state;
    static const unsigned dims[] = {8, 13, 256, DIM, 768, LX_EMB_DIM_MAX};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            float *a = calloc(dims[d], sizeof *a), *b = malloc(dims[d] * sizeof *b);
            assert_non_null(a);
            assert_non_null(b);
            memset(b, 0x7f, dims[d] * sizeof *b); /* the output need not be cleared first */
            emb_hash(texts[t], strlen(texts[t]), dims[d], a);
            emb_hash(texts[t], strlen(texts[t]), dims[d], b);
            if (memcmp(a, b, dims[d] * sizeof *a) != 0)
                fail_msg("text %zu dim %u: two calls differ", t, dims[d]);
            free(a);
            free(b);
        }
}

/* A known vector, so that a change of hashing or weights (which invalidates every stored
 * vector and index) is a deliberate act: update these numbers and rebuild the indexes. */
static void test_pinned_values(void **state)
{
    (void)state;
    float v[DIM];
    embed("tindak pidana korupsi", v);
    size_t nonzero = 0;
    for (unsigned i = 0; i < DIM; i++)
        nonzero += v[i] != 0.0f;
    double s = 0;
    for (unsigned i = 0; i < DIM; i++)
        s += v[i] * (double)(i + 1);
    printf("# pinned: nonzero=%zu weighted_sum=%.6f\n", nonzero, s);
    assert_int_equal(nonzero, EMB_TEST_PINNED_NONZERO);
    assert_true(fabs(s - EMB_TEST_PINNED_SUM) < 1e-3);
}

/* Unit length for any text with a feature; zero vector otherwise. */
static void test_normalised(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        float v[DIM];
        embed(texts[t], v);
        double n = dot(v, v, DIM);
        if (is_zero(v, DIM))
            continue;
        if (fabs(n - 1.0) > 1e-5)
            fail_msg("text %zu: squared norm %.8f", t, n);
    }
    /* A long text of many distinct words: the counting table empties itself in parts. */
    size_t cap = 400000, len = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    for (unsigned i = 0; len + 32 < cap; i++)
        len += (size_t)snprintf(big + len, cap - len, "kata%uq lain%c ", i * 7919u,
                                'a' + (char)(i % 26));
    float v[DIM];
    emb_hash(big, len, DIM, v);
    assert_true(fabs(dot(v, v, DIM) - 1.0) < 1e-5);
    for (unsigned i = 0; i < DIM; i++)
        assert_true(isfinite(v[i]));
    free(big);
}

static const struct {
    int line;
    const char *text;
} empty_cases[] = {
    {__LINE__, ""},
    {__LINE__, "   \n\t  "},
    {__LINE__, "!!! ,,, --- ... ()"},
    {__LINE__, "yang dan di dari untuk"},            /* stopwords only */
    {__LINE__, "Apakah yang dimaksud itu?"},         /* stopwords and boilerplate */
    {__LINE__, "a b c d e"},                         /* one-byte tokens */
    {__LINE__, "1 2 3 2024 31/1999"},                /* numbers carry no weight by default */
    {__LINE__, "Pasal 2 ayat (1) BAB IV huruf a"},   /* document structure only */
    {__LINE__, "\xe2\x80\x9c\xe2\x80\x9d \xc2\xa7"}, /* UTF-8 punctuation only */
};

static void test_empty_is_zero(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof empty_cases / sizeof empty_cases[0]; c++) {
        float v[DIM];
        memset(v, 0x7f, sizeof v);
        embed(empty_cases[c].text, v);
        if (!is_zero(v, DIM))
            fail_msg("case at line %d: expected the zero vector", empty_cases[c].line);
    }
    float v[DIM];
    memset(v, 0x7f, sizeof v);
    emb_hash(NULL, 0, DIM, v);
    assert_true(is_zero(v, DIM));
    memset(v, 0x7f, sizeof v);
    emb_hash("pidana", 0, DIM, v); /* len counts, not the NUL */
    assert_true(is_zero(v, DIM));
}

/* dim 8..LX_EMB_DIM_MAX work; outside it the output is zero; nothing past out[dim) changes. */
static void test_dimension_bounds(void **state)
{
    (void)state;
    static const struct {
        int line;
        unsigned dim;
        int valid;
    } cases[] = {
        {__LINE__, 1, 0},
        {__LINE__, 7, 0},
        {__LINE__, 8, 1},
        {__LINE__, 9, 1},
        {__LINE__, 4095, 1},
        {__LINE__, LX_EMB_DIM_MAX, 1},
        {__LINE__, LX_EMB_DIM_MAX + 1, 0},
    };
    const char *t = texts[0];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned dim = cases[c].dim;
        float *v = malloc((dim + 16) * sizeof *v);
        assert_non_null(v);
        for (unsigned i = 0; i < dim + 16; i++)
            v[i] = 42.0f;
        emb_hash(t, strlen(t), dim, v);
        for (unsigned i = dim; i < dim + 16; i++)
            if (v[i] != 42.0f)
                fail_msg("case at line %d: wrote past out[%u]", cases[c].line, dim);
        double n = dot(v, v, dim);
        if (cases[c].valid ? fabs(n - 1.0) > 1e-5 : !is_zero(v, dim))
            fail_msg("case at line %d: squared norm %.6f", cases[c].line, n);
        free(v);
    }
    emb_hash(t, strlen(t), 0, NULL); /* dim 0: nothing to write, no crash */
}

/* Pairs that must give the very same vector. */
static const struct {
    int line;
    const char *a, *b;
} same_cases[] = {
    {__LINE__, "TINDAK PIDANA Korupsi", "tindak pidana korupsi"},
    {__LINE__, "pidana yang dilakukan korporasi", "pidana dilakukan korporasi"},
    {__LINE__, "sebagaimana dimaksud dalam Pasal 5 sanksi pidana", "sanksi pidana"},
    {__LINE__,
     "\xe2\x80\x9c"
     "data pribadi\xe2\x80\x9d",
     "data pribadi"},
    {__LINE__, "pidana\xe2\x80\x94korupsi", "pidana korupsi"},
    {__LINE__, "pidana\xc2\xa0korupsi", "pidana korupsi"},
    {__LINE__, "\xc3\x89\xc3\x80ROPA", "\xc3\xa9\xc3\xa0ropa"}, /* Latin-1 capitals in UTF-8 */
    {__LINE__, "data, pribadi; (subjek)", "data pribadi subjek"},
};

static void test_same_vector(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof same_cases / sizeof same_cases[0]; c++) {
        float a[DIM], b[DIM];
        embed(same_cases[c].a, a);
        embed(same_cases[c].b, b);
        if (is_zero(a, DIM) || memcmp(a, b, sizeof a) != 0)
            fail_msg("case at line %d: vectors differ (or are zero)", same_cases[c].line);
    }
}

static const struct {
    int line;
    const char *word, *stem;
} stem_cases[] = {
    {__LINE__, "pidananya", "pidana"},     {__LINE__, "pidana", "pidana"},
    {__LINE__, "pemidanaan", "pidana"},    {__LINE__, "menyusun", "susun"},
    {__LINE__, "penyusunan", "susun"},     {__LINE__, "pemutusan", "putus"},
    {__LINE__, "memutuskan", "putus"},     {__LINE__, "pengupahan", "upah"},
    {__LINE__, "perlindungan", "lindung"}, {__LINE__, "pelindungan", "lindung"},
    {__LINE__, "ketentuan", "tentu"},      {__LINE__, "menentukan", "tentu"},
    {__LINE__, "ditetapkan", "tetap"},     {__LINE__, "penetapan", "tetap"},
    {__LINE__, "dipenuhi", "penuh"},       {__LINE__, "memenuhi", "penuh"},
    {__LINE__, "wajibkah", "wajib"},       {__LINE__, "masalah", "masalah"},
    {__LINE__, "bekerja", "kerja"},        {__LINE__, "pekerjaan", "kerja"},
    {__LINE__, "diperlukan", "perlu"},     {__LINE__, "perusahaan", "usaha"},
    {__LINE__, "pengusaha", "usaha"},      {__LINE__, "berdasarkan", "dasar"},
    {__LINE__, "keuangan", "uang"},        {__LINE__, "menggunakan", "guna"},
    {__LINE__, "penggunaan", "guna"},      {__LINE__, "diatur", "atur"},
    {__LINE__, "peraturan", "atur"},       {__LINE__, "uu", "uu"},
};

static void test_stem(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof stem_cases / sizeof stem_cases[0]; c++) {
        unsigned char out[EMB_WORD_MAX_BYTES + 2];
        const char *w = stem_cases[c].word;
        size_t n = emb_stem((const unsigned char *)w, strlen(w), out);
        if (n != strlen(stem_cases[c].stem) || strcmp((char *)out, stem_cases[c].stem) != 0)
            fail_msg("case at line %d: %s -> %s, want %s", stem_cases[c].line, w, (char *)out,
                     stem_cases[c].stem);
    }
}

/* anchor is nearer to near than to far. */
static const struct {
    int line;
    const char *anchor, *near, *far;
} nearer_cases[] = {
    {__LINE__, "pidananya", "pidana", "perdata"},
    {__LINE__, "pemutusan hubungan kerja", "memutuskan hubungan kerja",
     "perkawinan adalah ikatan lahir batin"},
    {__LINE__, "Apa sanksi bagi pelaku tindak pidana korupsi?",
     "Setiap orang yang melakukan tindak pidana korupsi dipidana dengan pidana penjara",
     "Perkawinan adalah ikatan lahir batin antara seorang pria dengan seorang wanita"},
    {__LINE__, "hak subjek data pribadi",
     "Subjek Data Pribadi berhak mendapatkan informasi tentang kejelasan identitas",
     "Pajak penghasilan dikenakan terhadap subjek pajak atas penghasilan"},
    {__LINE__, "upah minimum pekerja",
     "Pengusaha dilarang membayar upah lebih rendah dari upah minimum",
     "Kapal berbendera Indonesia wajib memiliki surat tanda kebangsaan"},
    {__LINE__, "persetqjuan", "persetujuan", "pertanahan"}, /* OCR damage: character n-grams */
};

static void test_nearer(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof nearer_cases / sizeof nearer_cases[0]; c++) {
        double near = cosine_of(nearer_cases[c].anchor, nearer_cases[c].near);
        double far = cosine_of(nearer_cases[c].anchor, nearer_cases[c].far);
        if (!(near > far + 0.05))
            fail_msg("case at line %d: near %.3f, far %.3f", nearer_cases[c].line, near, far);
    }
    assert_true(cosine_of("pidananya", "pidana") > 0.5);
}

/* Bytes that are not valid UTF-8, NULs inside, very long tokens: no crash, a unit vector. */
static void test_odd_bytes(void **state)
{
    (void)state;
    static const char odd[] =
        "\xff\xfe pidana\x00korupsi \xc3 \xe2\x80 \xe2 abc\xc3\x28 "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    float v[DIM];
    emb_hash(odd, sizeof odd - 1, DIM, v);
    assert_true(fabs(dot(v, v, DIM) - 1.0) < 1e-5);
    for (unsigned i = 0; i < 256; i++) { /* every single byte alone */
        char c = (char)i;
        emb_hash(&c, 1, DIM, v);
        assert_true(is_zero(v, DIM));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_pinned_values),
        cmocka_unit_test(test_normalised),
        cmocka_unit_test(test_empty_is_zero),
        cmocka_unit_test(test_dimension_bounds),
        cmocka_unit_test(test_same_vector),
        cmocka_unit_test(test_stem),
        cmocka_unit_test(test_nearer),
        cmocka_unit_test(test_odd_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
