/* tests/unit/test_split.c -- the multi-part question splitter (shared/split.c): questions that
 * split, with the topic carried into a part that refers back with -nya; questions whose "dan"
 * joins nouns and stay whole; the cap on parts; short parts merged back; trimming; odd input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/split.c"

#define MAXP LX_SPLIT_MAX_PARTS

static const struct {
    int line;
    const char *in;
    unsigned max;
    const char *want[MAXP]; /* NULL-terminated when fewer */
} cases[] = {
    /* splits */
    {__LINE__,
     "apa definisi korupsi dan apa sanksi pidananya?",
     MAXP,
     {"apa definisi korupsi", "apa sanksi pidana korupsi"}},
    {__LINE__,
     "definisi korupsi dan sanksi pidananya",
     MAXP,
     {"definisi korupsi", "sanksi pidana korupsi"}},
    {__LINE__,
     "apa itu gratifikasi? berapa batas nilainya?",
     MAXP,
     {"apa itu gratifikasi", "berapa batas nilai gratifikasi"}},
    {__LINE__,
     "apa syarat perkawinan; bagaimana tata cara perceraian",
     MAXP,
     {"apa syarat perkawinan", "bagaimana tata cara perceraian"}},
    {__LINE__,
     "apa hak pekerja kontrak, lalu bagaimana cara mengajukan gugatan",
     MAXP,
     {"apa hak pekerja kontrak", "bagaimana cara mengajukan gugatan"}},
    {__LINE__,
     "berapa upah minimum dan bagaimana cara menghitung upah lembur",
     MAXP,
     {"berapa upah minimum", "bagaimana cara menghitung upah lembur"}},
    {__LINE__,
     "apa yang dimaksud dengan korporasi serta apa tanggung jawab pidananya",
     MAXP,
     {"apa yang dimaksud dengan korporasi", "apa tanggung jawab pidana korporasi"}},
    {__LINE__,
     "apa sanksi pencurian juga apa sanksi penggelapan",
     MAXP,
     {"apa sanksi pencurian", "apa sanksi penggelapan"}},
    {__LINE__,
     "Bagaimana prosedur PHK? Berapa pesangonnya?",
     MAXP,
     {"Bagaimana prosedur PHK", "Berapa pesangon PHK"}},
    {__LINE__,
     "apa definisi korupsi dan juga bagaimana pembuktiannya",
     MAXP,
     {"apa definisi korupsi", "bagaimana pembuktian korupsi"}},
    {__LINE__,
     "apa itu wanprestasi, apa akibat hukumnya?",
     MAXP,
     {"apa itu wanprestasi", "apa akibat hukum wanprestasi"}},
    {__LINE__,
     "Apa definisi korupsi. Bagaimana sanksinya?",
     MAXP,
     {"Apa definisi korupsi", "Bagaimana sanksi korupsi"}},
    {__LINE__,
     "Apa yang dimaksud dengan cuti haid dan berapa lama cutinya?",
     MAXP,
     {"Apa yang dimaksud dengan cuti haid", "berapa lama cuti haid"}},
    {__LINE__, "apa hak pekerja dan kewajibannya", MAXP, {"apa hak pekerja", "kewajiban pekerja"}},
    {__LINE__, "apa itu korupsi dan apa itu kolusi", MAXP, {"apa itu korupsi", "apa itu kolusi"}},
    {__LINE__,
     "apa sanksinya bagi pelaku korupsi, kemudian siapa yang berwenang menyidik",
     MAXP,
     {"apa sanksinya bagi pelaku korupsi", "siapa yang berwenang menyidik"}},
    {__LINE__,
     "apa saja syarat cerai! di mana gugatan cerai diajukan",
     MAXP,
     {"apa saja syarat cerai", "di mana gugatan cerai diajukan"}},
    {__LINE__,
     "apa syarat pendirian PT dan berapa modal dasarnya dan siapa yang mengesahkannya",
     MAXP,
     {"apa syarat pendirian PT", "berapa modal dasar pendirian PT",
      "siapa yang mengesahkan pendirian PT"}},
    /* more parts than allowed: the tail goes into the last */
    {__LINE__,
     "apa itu A1 B1? apa itu C1 D1? apa itu E1 F1? apa itu G1 H1? apa itu I1 J1?",
     MAXP,
     {"apa itu A1 B1", "apa itu C1 D1", "apa itu E1 F1", "apa itu G1 H1? apa itu I1 J1"}},
    {__LINE__,
     "apa definisi korupsi dan apa sanksi pidananya?",
     1,
     {"apa definisi korupsi dan apa sanksi pidananya"}},
    {__LINE__,
     "apa itu A1 B1? apa itu C1 D1? apa itu E1 F1?",
     2,
     {"apa itu A1 B1", "apa itu C1 D1? apa itu E1 F1"}},
    {__LINE__,
     "apa itu A1 B1? apa itu C1 D1? apa itu E1 F1?",
     100,
     {"apa itu A1 B1", "apa itu C1 D1", "apa itu E1 F1"}},
    /* no split: "dan" joins nouns, or there is one question */
    {__LINE__, "hak dan kewajiban pekerja", MAXP, {"hak dan kewajiban pekerja"}},
    {__LINE__, "syarat dan tata cara perkawinan", MAXP, {"syarat dan tata cara perkawinan"}},
    {__LINE__,
     "pemberantasan tindak pidana korupsi dan pencucian uang",
     MAXP,
     {"pemberantasan tindak pidana korupsi dan pencucian uang"}},
    {__LINE__, "apa sanksi korupsi?", MAXP, {"apa sanksi korupsi"}},
    {__LINE__,
     "jika pekerja di-PHK, apakah ia berhak atas pesangon?",
     MAXP,
     {"jika pekerja di-PHK, apakah ia berhak atas pesangon"}},
    {__LINE__,
     "pajak tahun lalu dan denda keterlambatan",
     MAXP,
     {"pajak tahun lalu dan denda keterlambatan"}},
    {__LINE__,
     "apa yang dimaksud dengan hak dan kewajiban suami istri",
     MAXP,
     {"apa yang dimaksud dengan hak dan kewajiban suami istri"}},
    {__LINE__,
     "Pasal 2 ayat (1) UU No. 31 Tahun 1999",
     MAXP,
     {"Pasal 2 ayat (1) UU No. 31 Tahun 1999"}},
    {__LINE__,
     "Pasal 12B UU 31/1999 jo. UU 20/2001",
     MAXP,
     {"Pasal 12B UU 31/1999 jo. UU 20/2001"}},
    {__LINE__, "hukum acara pidana dan perdata", MAXP, {"hukum acara pidana dan perdata"}},
    {__LINE__,
     "  apa sanksi korupsi menurut UU No. 31 Tahun 1999 dan UU No. 20 Tahun 2001?  ",
     MAXP,
     {"apa sanksi korupsi menurut UU No. 31 Tahun 1999 dan UU No. 20 Tahun 2001"}},
    {__LINE__,
     "denda Rp5.000.000,00 dan pidana penjara paling lama 5 tahun",
     MAXP,
     {"denda Rp5.000.000,00 dan pidana penjara paling lama 5 tahun"}},
    {__LINE__,
     "siapa yang berwenang memeriksa dan memutus sengketa pajak",
     MAXP,
     {"siapa yang berwenang memeriksa dan memutus sengketa pajak"}},
    /* short parts merged back */
    {__LINE__, "apa definisi korupsi dan apa?", MAXP, {"apa definisi korupsi dan apa"}},
    {__LINE__, "apa hak dan apa kewajiban pekerja", MAXP, {"apa hak dan apa kewajiban pekerja"}},
    {__LINE__, "bagaimana hak dan kewajibannya", MAXP, {"bagaimana hak dan kewajibannya"}},
    {__LINE__,
     "apa sanksinya? dan bagaimana prosedurnya?",
     MAXP,
     {"apa sanksinya? dan bagaimana prosedurnya"}},
    {__LINE__, "apa? apa sanksi korupsi?", MAXP, {"apa? apa sanksi korupsi"}},
    {__LINE__, "dan apa sanksi korupsi", MAXP, {"dan apa sanksi korupsi"}},
    /* -nya words that do not refer back */
    {__LINE__,
     "apa definisi upah minimum dan selanjutnya bagaimana",
     MAXP,
     {"apa definisi upah minimum dan selanjutnya bagaimana"}},
    {__LINE__, "upah minimum kota dan hanya itu", MAXP, {"upah minimum kota dan hanya itu"}},
    /* odd input */
    {__LINE__, "", MAXP, {""}},
    {__LINE__, "   \t\n ", MAXP, {""}},
    {__LINE__, " ??? ", MAXP, {"???"}},
    {__LINE__, "korupsi", MAXP, {"korupsi"}},
    {__LINE__, "?apa itu korupsi", MAXP, {"apa itu korupsi"}},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena *a = arena_new(256);
        assert_non_null(a);
        const char *parts[MAXP + 1] = {0};
        unsigned want_n = 0;
        while (want_n < MAXP && cases[i].want[want_n] != NULL)
            want_n++;
        /* max may exceed the array: split_query never fills more than LX_SPLIT_MAX_PARTS */
        unsigned n = split_query(a, cases[i].in, parts, cases[i].max);
        int same = n == want_n;
        for (unsigned k = 0; same && k < n; k++)
            same = parts[k] != NULL && strcmp(parts[k], cases[i].want[k]) == 0;
        if (!same) {
            char got[1024] = "";
            for (unsigned k = 0; k < n && k < MAXP; k++) {
                size_t gl = strlen(got);
                snprintf(got + gl, sizeof got - gl, " [%s]", parts[k] ? parts[k] : "(null)");
            }
            arena_free(a);
            fail_msg("case at line %d: \"%s\" gave %u parts:%s", cases[i].line, cases[i].in, n,
                     got);
        }
        assert_null(parts[MAXP]); /* never more than LX_SPLIT_MAX_PARTS */
        arena_free(a);
    }
}

/* A caller passing a larger array still gets at most LX_SPLIT_MAX_PARTS. */
static void test_cap(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *parts[16] = {0};
    unsigned n = split_query(a, "apa A1 B1? apa C1 D1? apa E1 F1? apa G1 H1? apa I1 J1? apa K1 L1?",
                             parts, 16);
    assert_int_equal(n, LX_SPLIT_MAX_PARTS);
    assert_null(parts[LX_SPLIT_MAX_PARTS]);
    assert_string_equal(parts[n - 1], "apa G1 H1? apa I1 J1? apa K1 L1");
    assert_int_equal(split_query(a, "apa sanksi korupsi", parts, 0), 0); /* no room */
    assert_int_equal(split_query(a, NULL, parts, 4), 0);
    arena_free(a);
}

/* Every part: trimmed, non-empty, and its words come from the question (or its topic). */
static void test_parts_trimmed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct arena *a = arena_new(0);
        const char *parts[MAXP];
        unsigned n = split_query(a, cases[i].in, parts, MAXP);
        assert_true(n >= 1 && n <= MAXP);
        for (unsigned k = 0; k < n; k++) {
            size_t l = strlen(parts[k]);
            if (n > 1 && l == 0)
                fail_msg("case at line %d: part %u empty", cases[i].line, k);
            if (l > 0 && (split_is_space((unsigned char)parts[k][0]) ||
                          split_is_space((unsigned char)parts[k][l - 1])))
                fail_msg("case at line %d: part %u untrimmed: \"%s\"", cases[i].line, k, parts[k]);
            if (n > 1 && strchr("?!;,.:", parts[k][l - 1]) != NULL)
                fail_msg("case at line %d: part %u ends in punctuation: \"%s\"", cases[i].line, k,
                         parts[k]);
        }
        arena_free(a);
    }
}

/* A query too long or with too many tokens to split comes back whole, trimmed. */
static void test_long(void **state)
{
    (void)state;
    struct arena *a = arena_new(0);
    const char *parts[MAXP];
    size_t len = SPLIT_MAX_INPUT_BYTES + 100;
    char *q = malloc(len + 1);
    assert_non_null(q);
    memset(q, 'x', len);
    memcpy(q, " apa A? apa B? ", 15);
    q[len] = '\0';
    assert_int_equal(split_query(a, q, parts, MAXP), 1);
    assert_int_equal(strlen(parts[0]), len - 1);
    /* many tokens, within the byte limit */
    size_t ml = 2 * SPLIT_MAX_TOKENS + 100; /* about 1050 tokens */
    assert_true(ml <= SPLIT_MAX_INPUT_BYTES);
    for (size_t k = 0; k < ml; k++)
        q[k] = k % 2 ? ' ' : 'a';
    memcpy(q, "apa sanksi korupsi? apa itu suap? ", 34);
    q[ml] = '\0';
    assert_int_equal(split_query(a, q, parts, MAXP), 1);
    free(q);
    arena_free(a);
}

/* The pieces the splitter is made of. */
static void test_nya_ref(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *word;
        int ref;
    } words[] = {
        {__LINE__, "pidananya", 1},  {__LINE__, "sanksinya", 1}, {__LINE__, "Syaratnya", 1},
        {__LINE__, "hak-haknya", 1}, {__LINE__, "hanya", 0},     {__LINE__, "sebelumnya", 0},
        {__LINE__, "lainnya", 0},    {__LINE__, "punya", 0},     {__LINE__, "anya", 0},
        {__LINE__, "2021nya", 0},    {__LINE__, "nyanya", 1},    {__LINE__, "sanksi", 0},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        struct split_tok t = {0, strlen(words[i].word), 0};
        struct split_ctx c = {.q = words[i].word, .t = &t, .n = 1};
        if (split_is_nya_ref(&c, 0) != words[i].ref)
            fail_msg("case at line %d: %s", words[i].line, words[i].word);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),         cmocka_unit_test(test_cap),
        cmocka_unit_test(test_parts_trimmed), cmocka_unit_test(test_long),
        cmocka_unit_test(test_nya_ref),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
