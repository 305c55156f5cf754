/* tests/unit/test_defs.c -- splitting a Ketentuan Umum article into its numbered definitions
 * (shared/defs.c): numbered and lettered lists, on lines or run together, terms before
 * "adalah" / "ialah" / "yaitu" / "yang selanjutnya ...", references that are not markers,
 * OCR gaps and repeats, the max limit, and every prefix of a text read without running past
 * it (under ASan, make check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/defs.c"

#define MAX_ITEMS 8

/* Each expected item: "num|term|text" (term and text as the byte ranges give them). */
static const struct {
    int line;
    const char *text;
    const char *want[MAX_ITEMS]; /* NULL-terminated */
} cases[] = {
    {__LINE__,
     "Dalam Undang-Undang ini yang dimaksud dengan:\n1. Pekerja adalah setiap orang.\n"
     "2. Upah adalah hak pekerja.\n",
     {"1|Pekerja|Pekerja adalah setiap orang.", "2|Upah|Upah adalah hak pekerja."}},
    {__LINE__,
     "yang dimaksud dengan: 1. Ahli Waris adalah x. 2. Bank Sentral adalah y. 3. Badan Usaha "
     "Milik Desa yang selanjutnya disebut BUM Desa adalah z.",
     {"1|Ahli Waris|Ahli Waris adalah x.", "2|Bank Sentral|Bank Sentral adalah y.",
      "3|Badan Usaha Milik Desa|Badan Usaha Milik Desa yang selanjutnya disebut BUM Desa "
      "adalah z."}},
    {__LINE__, /* colon lost: the first marker mid-sentence, before a capital */
     "Dalam Peraturan ini yang dimaksud dengan 1. Ciptaan adalah karya. 2. Menteri adalah "
     "menteri.",
     {"1|Ciptaan|Ciptaan adalah karya.", "2|Menteri|Menteri adalah menteri."}},
    {__LINE__, /* "angka 2." is a reference, "2. Upah" the item */
     "1. Pekerja adalah orang sebagaimana dimaksud dalam angka 2. 2. Upah adalah hak.",
     {"1|Pekerja|Pekerja adalah orang sebagaimana dimaksud dalam angka 2.",
      "2|Upah|Upah adalah hak."}},
    {__LINE__, /* a reference before a lower-case word is not a marker either */
     "1. Kota adalah daerah sebagaimana dimaksud pada angka 2. yang sama. 2. Desa adalah d.",
     {"1|Kota|Kota adalah daerah sebagaimana dimaksud pada angka 2. yang sama.",
      "2|Desa|Desa adalah d."}},
    {__LINE__, /* lettered list, ialah / yaitu */
     "Dalam Undang-undang ini yang dimaksud dengan:\na. Pemerintah adalah X;\nb. Daerah ialah "
     "Y;\nc. Kota yaitu Z.",
     {"1|Pemerintah|Pemerintah adalah X;", "2|Daerah|Daerah ialah Y;", "3|Kota|Kota yaitu Z."}},
    {__LINE__, /* numbered sub-items inside a lettered list stay inside */
     "a. Hak adalah:\n1. satu;\n2. dua.\nb. Kewajiban adalah tiga.",
     {"1|Hak|Hak adalah:\n1. satu;\n2. dua.", "2|Kewajiban|Kewajiban adalah tiga."}},
    {__LINE__, /* lettered sub-items inside a numbered list stay inside */
     "1. Usaha adalah:\na. dagang;\nb. jasa.\n2. Modal adalah uang.",
     {"1|Usaha|Usaha adalah:\na. dagang;\nb. jasa.", "2|Modal|Modal adalah uang."}},
    {__LINE__, /* OCR: a page header between a repeated number */
     "1. Daerah adalah x. 2. Dana PRESIDEN REPUBLIK -3- 2. Dana Transfer adalah y.",
     {"1|Daerah|Daerah adalah x.", "2|Dana Transfer|Dana Transfer adalah y."}},
    {__LINE__, /* a gap at a line start is accepted (items lost in the source) */
     "1. Alpha adalah a.\n5. Epsilon adalah e.",
     {"1|Alpha|Alpha adalah a.", "5|Epsilon|Epsilon adalah e."}},
    {__LINE__, /* the same gap mid-line is not */
     "1. Alpha adalah a. 5. Epsilon adalah e.",
     {"1|Alpha|Alpha adalah a. 5. Epsilon adalah e."}},
    {__LINE__, /* full stop lost before the next number: accepted before a capital */
     "1. Benih adalah bibit yang potensial 2. Varietas adalah jenis.",
     {"1|Benih|Benih adalah bibit yang potensial", "2|Varietas|Varietas adalah jenis."}},
    {__LINE__, /* a year is not an item */
     "1. Undang-Undang adalah peraturan tahun 2020. 2. Menteri adalah m.",
     {"1|Undang-Undang|Undang-Undang adalah peraturan tahun 2020.", "2|Menteri|Menteri adalah m."}},
    {__LINE__, /* two-digit numbers after a gap, CRLF lines, trailing white space trimmed */
     "1. Ikan adalah i.\r\n10. Jala adalah j.\r\n11. Kapal adalah k. \r\n\r\n",
     {"1|Ikan|Ikan adalah i.", "10|Jala|Jala adalah j.", "11|Kapal|Kapal adalah k."}},
    {__LINE__, /* quoted term, comma before "yang selanjutnya" */
     "1. \"Pekerja\" adalah orang. 2. Dewan Pengupahan, yang selanjutnya disebut Dewan, adalah "
     "lembaga.",
     {"1|Pekerja|\"Pekerja\" adalah orang.",
      "2|Dewan Pengupahan|Dewan Pengupahan, yang selanjutnya disebut Dewan, adalah lembaga."}},
    {__LINE__, /* items without a term marker: empty term */
     "1. Setiap pekerja berhak cuti. 2. Upah dibayar bulanan.",
     {"1||Setiap pekerja berhak cuti.", "2||Upah dibayar bulanan."}},
    {__LINE__, /* "1.Xyz" (no space) is accepted, "1.5" is not */
     "1.Alpha adalah 1.5 kali. 2.Beta adalah b.",
     {"1|Alpha|Alpha adalah 1.5 kali.", "2|Beta|Beta adalah b."}},
    {__LINE__, "(1) Setiap orang wajib membayar pajak.\n(2) Pajak dibayar tiap tahun.", {NULL}},
    {__LINE__, "Undang-Undang ini mulai berlaku pada tanggal 1 Januari 2020.", {NULL}},
    {__LINE__, "Pasal 1 angka 2. Ketentuan ini dicabut.", {NULL}},
    {__LINE__, "2. Dimulai dari dua adalah salah.", {NULL}}, /* a list starts at 1 (or a) */
    {__LINE__, "", {NULL}},
    {__LINE__, "1.", {NULL}},
    {__LINE__, "1. ", {NULL}},
    {__LINE__, "1. A", {"1||A"}},
};

static void check_case(size_t c, const char *text, size_t len)
{
    struct defs_item it[MAX_ITEMS];
    size_t n = defs_split(text, len, it, MAX_ITEMS);
    size_t nw = 0;
    while (nw < MAX_ITEMS && cases[c].want[nw] != NULL)
        nw++;
    if (n != nw)
        fail_msg("case at line %d: %zu items, want %zu", cases[c].line, n, nw);
    for (size_t i = 0; i < n; i++) {
        char got[512];
        assert_true(it[i].start <= it[i].end && it[i].end <= len);
        assert_true(it[i].term_start >= it[i].start && it[i].term_end <= it[i].end);
        assert_true(it[i].term_start <= it[i].term_end);
        assert_true(it[i].marker < it[i].start);
        char m = text[it[i].marker];
        assert_true((m >= '0' && m <= '9') || (m >= 'a' && m <= 'z'));
        if (i > 0)
            assert_true(it[i - 1].end <= it[i].marker);
        snprintf(got, sizeof got, "%u|%.*s|%.*s", it[i].num,
                 (int)(it[i].term_end - it[i].term_start), text + it[i].term_start,
                 (int)(it[i].end - it[i].start), text + it[i].start);
        if (strcmp(got, cases[c].want[i]) != 0)
            fail_msg("case at line %d, item %zu:\n got  [%s]\n want [%s]", cases[c].line, i, got,
                     cases[c].want[i]);
    }
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = strlen(cases[c].text);
        char *copy = malloc(len ? len : 1); /* exactly len bytes, no NUL: ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, cases[c].text, len);
        check_case(c, copy, len);
        free(copy);
    }
}

/* max: the last item returned still ends where the next one begins. */
/* The intro before the first item, and the marker of a restarted item. */
static void test_markers(void **state)
{
    (void)state;
    const char *t = "Dalam Undang-Undang ini yang dimaksud dengan:\n1. A adalah a. 2. B x -3- 2. "
                    "B adalah b.";
    struct defs_item it[4];
    assert_int_equal(defs_split(t, strlen(t), it, 4), 2);
    assert_int_equal(it[0].marker, strlen("Dalam Undang-Undang ini yang dimaksud dengan:\n"));
    assert_int_equal(it[1].marker, strlen(t) - strlen("2. B adalah b."));
}

static void test_max(void **state)
{
    (void)state;
    const char *t = "1. A adalah a. 2. B adalah b. 3. C adalah c.";
    struct defs_item it[2];
    assert_int_equal(defs_split(t, strlen(t), it, 2), 2);
    assert_int_equal(it[1].num, 2);
    assert_int_equal(it[1].end - it[1].start, strlen("B adalah b."));
    assert_int_equal(it[0].marker, 0);
    assert_int_equal(it[1].marker, strlen("1. A adalah a. "));
    assert_int_equal(defs_split(t, strlen(t), it, 0), 0);
    assert_int_equal(defs_split(NULL, 0, it, 2), 0);
}

/* Every prefix of every case, in a buffer of exactly that size: no read past len, and the
 * ranges stay inside. */
static void test_prefixes(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t full = strlen(cases[c].text);
        for (size_t len = 0; len <= full; len++) {
            char *copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, cases[c].text, len);
            struct defs_item it[MAX_ITEMS];
            size_t n = defs_split(copy, len, it, MAX_ITEMS);
            assert_true(n <= MAX_ITEMS);
            for (size_t i = 0; i < n; i++) {
                assert_true(it[i].end <= len && it[i].start <= it[i].end);
                assert_true(it[i].term_start >= it[i].start && it[i].term_end <= it[i].end);
            }
            free(copy);
        }
    }
}

/* Many items, and bytes of every value: no crash, ranges in order. */
static void test_many_and_binary(void **state)
{
    (void)state;
    enum { N = 300 };
    size_t cap = N * 32, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    for (unsigned i = 1; i <= N; i++)
        len += (size_t)snprintf(t + len, cap - len, "%u. Istilah%u adalah isi.\n", i, i);
    struct defs_item it[N];
    size_t n = defs_split(t, len, it, N);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        int wl = snprintf(want, sizeof want, "Istilah%zu", i + 1);
        assert_int_equal(it[i].num, i + 1);
        assert_int_equal(it[i].term_end - it[i].term_start, (size_t)wl);
        assert_memory_equal(t + it[i].term_start, want, (size_t)wl);
    }
    free(t);

    unsigned char bin[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof bin; i++) {
        x = x * 1103515245u + 12345u;
        bin[i] = (unsigned char)(x >> 16);
        if (i % 37 == 0)
            bin[i] = '1';
        if (i % 37 == 1)
            bin[i] = '.';
    }
    struct defs_item it2[64];
    size_t m = defs_split((const char *)bin, sizeof bin, it2, 64);
    for (size_t i = 1; i < m; i++)
        assert_true(it2[i - 1].end <= it2[i].start);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_max),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_many_and_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
