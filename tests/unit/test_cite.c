/* tests/unit/test_cite.c -- the citation parser (shared/cite.c): the forms people type, each
 * with every field it should give; queries that must not parse (questions that mention an
 * article, a law without a pasal, numbers out of range, over-long input); the default aliases;
 * a caller's own aliases; input bounded by len, not by a NUL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/cite.c"

static const struct {
    int line;
    const char *in;
    const char *doc_type, *number;
    int year;
    const char *pasal, *ayat, *doc_id, *jo_doc_id;
} good[] = {
    /* the forms in cite.h and the brief */
    {__LINE__, "Pasal 2 ayat (1) UU No. 31 Tahun 1999", "UU", "31", 1999, "2", "1", "UU-31-1999",
     ""},
    {__LINE__, "UU 31/1999 pasal 2", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "UU Nomor 31 Tahun 1999 Pasal 2 ayat 1", "UU", "31", 1999, "2", "1", "UU-31-1999",
     ""},
    {__LINE__, "UU No 31 Th 1999 Psl 2", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "pasal 362 KUHP", "KUHP", "", 0, "362", "", "KUHP", ""},
    {__LINE__, "Pasal 1365 KUHPerdata", "KUHPerdata", "", 0, "1365", "", "KUHPerdata", ""},
    {__LINE__, "PP 71/2019 pasal 5", "PP", "71", 2019, "5", "", "PP-71-2019", ""},
    {__LINE__, "Peraturan Pemerintah Nomor 71 Tahun 2019 Pasal 5", "PP", "71", 2019, "5", "",
     "PP-71-2019", ""},
    {__LINE__, "Undang-Undang Nomor 13 Tahun 2003 Pasal 156 ayat (2)", "UU", "13", 2003, "156", "2",
     "UU-13-2003", ""},
    {__LINE__, "Pasal 12B UU 31/1999 jo. UU 20/2001", "UU", "31", 1999, "12B", "", "UU-31-1999",
     "UU-20-2001"},
    {__LINE__, "pasal 303 bis KUHP", "KUHP", "", 0, "303 bis", "", "KUHP", ""},
    {__LINE__, "Perpu 1/2020 pasal 2", "PERPU", "1", 2020, "2", "", "PERPU-1-2020", ""},
    /* case, spacing, commas, end punctuation, filler words */
    {__LINE__, "PASAL 2 AYAT (1) UU NO. 31 TAHUN 1999", "UU", "31", 1999, "2", "1", "UU-31-1999",
     ""},
    {__LINE__, "  pasal   2 ,  uu  31 / 1999 ?", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "UU No.31 Th.1999, Pasal 2.", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "bunyi pasal 2 UU 31/1999", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "apa isi pasal 362 KUHP?", "KUHP", "", 0, "362", "", "KUHP", ""},
    {__LINE__, "Apa isi dari Pasal 156 UU 13/2003?", "UU", "13", 2003, "156", "", "UU-13-2003", ""},
    {__LINE__, "teks Pasal 12 B UU 31/1999.", "UU", "31", 1999, "12B", "", "UU-31-1999", ""},
    {__LINE__, "pasal 362 KUHP bunyinya apa?", "KUHP", "", 0, "362", "", "KUHP", ""},
    {__LINE__, "tolong tampilkan pasal 1 KUHAP", "UU", "8", 1981, "1", "", "UU-8-1981", ""},
    {__LINE__,
     "pasal\t2\nUU\xc2\xa0"
     "31/1999",
     "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    /* pasal normalisation */
    {__LINE__, "pasal 303bis kuhp", "KUHP", "", 0, "303 bis", "", "KUHP", ""},
    {__LINE__, "Pasal 12b UU 31/1999", "UU", "31", 1999, "12B", "", "UU-31-1999", ""},
    {__LINE__, "Pasal 12 A ayat (2) UU 31/1999", "UU", "31", 1999, "12A", "2", "UU-31-1999", ""},
    {__LINE__, "Pasal 335 ter KUHP", "KUHP", "", 0, "335 ter", "", "KUHP", ""},
    {__LINE__, "Pasal I UU 20/2001", "UU", "20", 2001, "I", "", "UU-20-2001", ""},
    {__LINE__, "pasal ii uu 20/2001", "UU", "20", 2001, "II", "", "UU-20-2001", ""},
    {__LINE__, "Pasal XIV UU 11/2020", "UU", "11", 2020, "XIV", "", "UU-11-2020", ""},
    {__LINE__, "Pasal 007 UU 31/1999", "UU", "31", 1999, "7", "", "UU-31-1999", ""},
    /* ayat forms */
    {__LINE__, "ayat (2) pasal 156 UU 13/2003", "UU", "13", 2003, "156", "2", "UU-13-2003", ""},
    {__LINE__, "Pasal 2 (1) UU 31/1999", "UU", "31", 1999, "2", "1", "UU-31-1999", ""},
    {__LINE__, "Pasal 7 ayat (1a) UU 11/2020", "UU", "11", 2020, "7", "1a", "UU-11-2020", ""},
    {__LINE__, "Pasal 55 ayat (1) ke-1 KUHP", "KUHP", "", 0, "55", "1", "KUHP", ""},
    {__LINE__, "Pasal 5 ayat (1) huruf a UU 20/2001", "UU", "20", 2001, "5", "1", "UU-20-2001", ""},
    {__LINE__, "Pasal 1 angka 3 UU 31/1999", "UU", "31", 1999, "1", "", "UU-31-1999", ""},
    /* law types and spellings */
    {__LINE__, "Perppu No. 1 Tahun 2020 Pasal 2", "PERPU", "1", 2020, "2", "", "PERPU-1-2020", ""},
    {__LINE__, "Peraturan Pemerintah Pengganti Undang-Undang Nomor 1 Tahun 2020 Pasal 2", "PERPU",
     "1", 2020, "2", "", "PERPU-1-2020", ""},
    {__LINE__, "Perpres 12/2021 pasal 3", "PERPRES", "12", 2021, "3", "", "PERPRES-12-2021", ""},
    {__LINE__, "Pasal 4 Peraturan Presiden Nomor 12 Tahun 2021", "PERPRES", "12", 2021, "4", "",
     "PERPRES-12-2021", ""},
    {__LINE__, "pasal 1 keppres 4/1999", "KEPPRES", "4", 1999, "1", "", "KEPPRES-4-1999", ""},
    {__LINE__, "UU RI No. 13 Tahun 2003 tentang Ketenagakerjaan Pasal 156", "UU", "13", 2003, "156",
     "", "UU-13-2003", ""},
    {__LINE__, "pasal 1 undang undang republik indonesia nomor 1 tahun 1974", "UU", "1", 1974, "1",
     "", "UU-1-1974", ""},
    {__LINE__, "UU-31-1999 pasal 2", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "uu31/1999 psl2", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "UU No. 31/1999 Ps. 2", "UU", "31", 1999, "2", "", "UU-31-1999", ""},
    {__LINE__, "UU 2/1945 pasal 1", "UU", "2", 1945, "1", "", "UU-2-1945", ""},
    {__LINE__, "UU 9999/2100 pasal 9999", "UU", "9999", 2100, "9999", "", "UU-9999-2100", ""},
    /* "tentang" titles and "jo." */
    {__LINE__,
     "Pasal 2 UU No. 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi sebagaimana "
     "telah diubah dengan UU No. 20 Tahun 2001",
     "UU", "31", 1999, "2", "", "UU-31-1999", "UU-20-2001"},
    {__LINE__, "UU 31/1999 jo UU 20/2001 pasal 12B", "UU", "31", 1999, "12B", "", "UU-31-1999",
     "UU-20-2001"},
    {__LINE__, "Pasal 12B UU 31/1999 juncto UU 20/2001", "UU", "31", 1999, "12B", "", "UU-31-1999",
     "UU-20-2001"},
    {__LINE__, "UU 31/1999 pasal 12C jo. UU 20/2001", "UU", "31", 1999, "12C", "", "UU-31-1999",
     "UU-20-2001"},
    {__LINE__, "Pasal 1 UU 1/1946 jo KUHP", "UU", "1", 1946, "1", "", "UU-1-1946", "KUHP"},
    /* aliases */
    {__LINE__, "pasal 1365 KUH Perdata", "KUHPerdata", "", 0, "1365", "", "KUHPerdata", ""},
    {__LINE__, "Pasal 1365 BW", "KUHPerdata", "", 0, "1365", "", "KUHPerdata", ""},
    {__LINE__, "pasal 184 KUHAP", "UU", "8", 1981, "184", "", "UU-8-1981", ""},
    {__LINE__, "pasal 2 KUHP baru", "UU", "1", 2023, "2", "", "UU-1-2023", ""},
    {__LINE__, "pasal 2 KUHP 2023", "UU", "1", 2023, "2", "", "UU-1-2023", ""},
    {__LINE__, "Pasal 340 Kitab Undang-Undang Hukum Pidana", "KUHP", "", 0, "340", "", "KUHP", ""},
    {__LINE__, "Pasal 27 ayat (3) UU ITE", "UU", "11", 2008, "27", "3", "UU-11-2008", ""},
    {__LINE__, "UU Ketenagakerjaan pasal 59", "UU", "13", 2003, "59", "", "UU-13-2003", ""},
};

static const struct {
    int line;
    const char *in;
} bad[] = {
    /* questions that mention an article: not citations (cite.h) */
    {__LINE__, "apa sanksi korupsi menurut pasal 2 UU 31/1999?"},
    {__LINE__, "apa sanksi korupsi menurut pasal 2?"},
    {__LINE__, "pasal 2 UU 31/1999 tentang apa sanksinya"},
    {__LINE__, "berapa lama hukuman pasal 362 KUHP"},
    /* no citation at all */
    {__LINE__, "apa sanksi korupsi?"},
    {__LINE__, "pasal berapa yang mengatur korupsi"},
    {__LINE__, ""},
    {__LINE__, "   ?  "},
    {__LINE__, "KUHP"},
    /* a law without a pasal, a pasal without a law */
    {__LINE__, "UU 31/1999"},
    {__LINE__, "UU No. 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi"},
    {__LINE__, "pasal 2"},
    {__LINE__, "pasal 2 ayat (1)"},
    {__LINE__, "pasal 2 UU"},
    {__LINE__, "pasal 2 UU Nomor 31"},
    /* numbers out of range or malformed */
    {__LINE__, "Pasal 0 UU 31/1999"},
    {__LINE__, "pasal 2 ayat (0) UU 31/1999"},
    {__LINE__, "UU 31/1944 pasal 2"},
    {__LINE__, "UU 31/2101 pasal 2"},
    {__LINE__, "UU 31/99 pasal 2"},
    {__LINE__, "UU 31 1999 pasal 2"},
    {__LINE__, "UU 0/1999 pasal 2"},
    {__LINE__, "UU 31/01999 pasal 2"},
    {__LINE__, "pasal 10000 KUHP"},
    {__LINE__, "pasal 99999999999999999999 KUHP"},
    {__LINE__, "Pasal IIII UU 20/2001"},
    {__LINE__, "Pasal IC UU 20/2001"},
    {__LINE__, "pasal 2 ayat (1 UU 31/1999"},
    {__LINE__, "pasal 2 ayat () UU 31/1999"},
    /* more than one article, or trailing junk */
    {__LINE__, "Pasal 2 jo. Pasal 18 UU 31/1999"},
    {__LINE__, "Pasal 2 dan 3 UU 31/1999"},
    {__LINE__, "pasal 362 KUHP dan pasal 363 KUHP"},
    {__LINE__, "Pasal 2 UU 31/1999 pasal 3"},
    {__LINE__, "pasal 362 KUHP?? apa"},
    {__LINE__, "pasal 12B UU 31/1999 jo. UU 20/2001 jo. UU 19/2019"},
    {__LINE__, "pasal 362 KUHP tentang pencurian apa hukumannya"},
    /* non-ASCII where a word should be, and too many fillers */
    {__LINE__, "pasal 2 UU 31\xe2\x80\x93"
               "1999"},
    {__LINE__, "pasal\xc3\xa9 2 UU 31/1999"},
    {__LINE__, "tolong coba lihat isi pasal 2 UU 31/1999"},
};

static void test_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct cite c;
        memset(&c, 0x5a, sizeof c); /* every field must be written */
        if (!cite_parse(good[i].in, strlen(good[i].in), NULL, &c))
            fail_msg("case at line %d: \"%s\" did not parse", good[i].line, good[i].in);
        if (strcmp(c.doc_type, good[i].doc_type) != 0 || strcmp(c.number, good[i].number) != 0 ||
            c.year != good[i].year || strcmp(c.pasal, good[i].pasal) != 0 ||
            strcmp(c.ayat, good[i].ayat) != 0 || strcmp(c.doc_id, good[i].doc_id) != 0 ||
            strcmp(c.jo_doc_id, good[i].jo_doc_id) != 0)
            fail_msg("case at line %d: \"%s\" gave type=%s number=%s year=%d pasal=%s ayat=%s "
                     "doc_id=%s jo=%s",
                     good[i].line, good[i].in, c.doc_type, c.number, c.year, c.pasal, c.ayat,
                     c.doc_id, c.jo_doc_id);
    }
}

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cite c;
        memset(&c, 0x5a, sizeof c);
        struct cite before = c;
        if (cite_parse(bad[i].in, strlen(bad[i].in), NULL, &c))
            fail_msg("case at line %d: \"%s\" parsed as %s pasal %s", bad[i].line, bad[i].in,
                     c.doc_id, c.pasal);
        if (memcmp(&c, &before, sizeof c) != 0) /* *out untouched on failure */
            fail_msg("case at line %d: out written on failure", bad[i].line);
    }
}

/* Each good case still parses with a trailing "?" and in upper case, and stops parsing when a
 * question word is put in front of "menurut". */
static void test_variants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char buf[512];
        struct cite c, want;
        assert_true(cite_parse(good[i].in, strlen(good[i].in), NULL, &want));
        snprintf(buf, sizeof buf, "%s?", good[i].in);
        if (!cite_parse(buf, strlen(buf), NULL, &c) || memcmp(&c, &want, sizeof c) != 0)
            fail_msg("case at line %d: \"%s\" failed", good[i].line, buf);
        for (size_t k = 0; buf[k]; k++)
            if (buf[k] >= 'a' && buf[k] <= 'z')
                buf[k] = (char)(buf[k] - 'a' + 'A');
        if (!cite_parse(buf, strlen(buf), NULL, &c))
            fail_msg("case at line %d: \"%s\" failed", good[i].line, buf);
        snprintf(buf, sizeof buf, "apa sanksi menurut %s", good[i].in);
        if (cite_parse(buf, strlen(buf), NULL, &c))
            fail_msg("case at line %d: \"%s\" parsed", good[i].line, buf);
    }
}

/* len bounds the input: no NUL is needed, and bytes past len are not read. */
static void test_len_bounded(void **state)
{
    (void)state;
    static const char q[] = "pasal 362 KUHP dan seterusnya";
    struct cite c;
    assert_true(cite_parse(q, strlen("pasal 362 KUHP"), NULL, &c));
    assert_string_equal(c.doc_id, "KUHP");
    assert_string_equal(c.pasal, "362");
    char *heap = malloc(14); /* exactly the citation, no NUL: ASan catches a read past it */
    assert_non_null(heap);
    memcpy(heap, "pasal 362 KUHP", 14);
    assert_true(cite_parse(heap, 14, NULL, &c));
    free(heap);
    assert_false(cite_parse(NULL, 3, NULL, &c));
    assert_false(cite_parse(q, 0, NULL, &c));
    char nul[] = "pasal 2\0UU 31/1999";
    assert_false(cite_parse(nul, sizeof nul - 1, NULL, &c));
}

/* A citation padded with spaces parses up to CITE_MAX_INPUT_BYTES, not beyond. */
static void test_too_long(void **state)
{
    (void)state;
    char buf[CITE_MAX_INPUT_BYTES + 2];
    const char *cit = "pasal 362 KUHP";
    size_t cl = strlen(cit);
    memset(buf, ' ', sizeof buf);
    memcpy(buf, cit, cl);
    struct cite c;
    assert_true(cite_parse(buf, CITE_MAX_INPUT_BYTES, NULL, &c));
    assert_false(cite_parse(buf, CITE_MAX_INPUT_BYTES + 1, NULL, &c));
    /* many tokens within the byte limit: refused, not overflowed */
    char many[CITE_MAX_INPUT_BYTES];
    for (size_t k = 0; k < sizeof many; k++)
        many[k] = k % 2 ? '(' : '1';
    assert_false(cite_parse(many, sizeof many, NULL, &c));
}

/* Every default alias is reachable and gives its doc_id; those written as a law's doc_id fill
 * type, number and year. */
static void test_default_aliases(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct cite_alias *a = cite_default_aliases; a->name != NULL; a++, n++) {
        char buf[128];
        struct cite c;
        snprintf(buf, sizeof buf, "pasal 1 %s", a->name);
        if (!cite_parse(buf, strlen(buf), NULL, &c) || strcmp(c.doc_id, a->doc_id) != 0)
            fail_msg("alias \"%s\": \"%s\" did not give %s", a->name, buf, a->doc_id);
        if (strncmp(a->doc_id, "UU-", 3) == 0 &&
            (strcmp(c.doc_type, "UU") != 0 || c.year < 1945 || c.number[0] == '\0'))
            fail_msg("alias \"%s\": type=%s number=%s year=%d", a->name, c.doc_type, c.number,
                     c.year);
    }
    assert_true(n >= 8);
}

/* retrieval.cite_aliases: the built-in aliases plus the configured ones, a later name winning;
 * malformed specs are refused with a message. */
static void test_configured_aliases(void **state)
{
    (void)state;
    char err[200];
    struct cite c;
    struct cite_alias *l =
        cite_aliases_new(" UU Kebun = UU-7-2031 ,, KUHP=UU-1-2023,", err, sizeof err);
    assert_non_null(l);
    const char *q = "pasal 3 UU Kebun";
    assert_true(cite_parse(q, strlen(q), l, &c));
    assert_string_equal(c.doc_id, "UU-7-2031");
    q = "pasal 362 KUHP"; /* overridden */
    assert_true(cite_parse(q, strlen(q), l, &c));
    assert_string_equal(c.doc_id, "UU-1-2023");
    q = "pasal 5 KUHAP"; /* a built-in one still there */
    assert_true(cite_parse(q, strlen(q), l, &c));
    assert_string_equal(c.doc_id, "UU-8-1981");
    cite_aliases_free(l);
    l = cite_aliases_new("", err, sizeof err);
    assert_non_null(l);
    assert_true(cite_parse(q, strlen(q), l, &c));
    cite_aliases_free(l);
    static const char *const malformed[] = {
        "KUHP", "=UU-1-2023", "KUHP=", "A=B=C",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=X"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        err[0] = '\0';
        assert_null(cite_aliases_new(malformed[i], err, sizeof err));
        assert_non_null(strstr(err, "NAME=DOC_ID"));
    }
}

/* A caller's own list replaces the defaults. */
static void test_custom_aliases(void **state)
{
    (void)state;
    static const struct cite_alias mine[] = {
        {"UU Kebun", "UU-7-2031"}, {"Kode Kebun Raya", "KKR"}, {"kkr", "KKR"}, {NULL, NULL}};
    struct cite c;
    const char *q = "pasal 3 ayat (2) UU Kebun";
    assert_true(cite_parse(q, strlen(q), mine, &c));
    assert_string_equal(c.doc_id, "UU-7-2031");
    assert_string_equal(c.doc_type, "UU");
    assert_string_equal(c.number, "7");
    assert_int_equal(c.year, 2031);
    assert_string_equal(c.ayat, "2");
    q = "Pasal 12A kode kebun raya";
    assert_true(cite_parse(q, strlen(q), mine, &c));
    assert_string_equal(c.doc_id, "KKR");
    assert_string_equal(c.doc_type, "KKR");
    assert_string_equal(c.number, "");
    assert_int_equal(c.year, 0);
    q = "pasal 362 KUHP"; /* not in this list */
    assert_false(cite_parse(q, strlen(q), mine, &c));
    q = "UU 31/1999 pasal 2"; /* typed laws need no alias */
    assert_true(cite_parse(q, strlen(q), mine, &c));
    assert_string_equal(c.doc_id, "UU-31-1999");
}

static void test_roman(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *s;
        unsigned v;
    } cases[] = {
        {__LINE__, "i", 1},   {__LINE__, "iv", 4},    {__LINE__, "ix", 9},   {__LINE__, "xiv", 14},
        {__LINE__, "xl", 40}, {__LINE__, "xcix", 99}, {__LINE__, "iiii", 0}, {__LINE__, "vx", 0},
        {__LINE__, "il", 0},  {__LINE__, "c", 0},     {__LINE__, "", 0},     {__LINE__, "vv", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (cite_roman(cases[i].s, strlen(cases[i].s)) != cases[i].v)
            fail_msg("case at line %d: %s", cases[i].line, cases[i].s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),           cmocka_unit_test(test_bad),
        cmocka_unit_test(test_variants),       cmocka_unit_test(test_len_bounded),
        cmocka_unit_test(test_too_long),       cmocka_unit_test(test_default_aliases),
        cmocka_unit_test(test_custom_aliases), cmocka_unit_test(test_configured_aliases),
        cmocka_unit_test(test_roman),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
