/* tests/unit/test_answer.c -- the built-in extractive generator (shared/answer.c): answers for
 * zero, one, three and many references (one pinned byte for byte), every reference cited by its
 * [n], definitions, the names of laws, quotations cut at sentence, clause and word boundaries
 * (table-driven), the size limit over a range of max_bytes with long articles, UTF-8 safety
 * around every cut, the streaming pieces for every max_piece from 1 to 40, and determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../shared/answer.c"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- helpers */

/* UTF-8 validity, written apart from the module's own check. */
static int valid_utf8(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned cp, need;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if ((u[i] & 0xE0) == 0xC0)
            need = 1, cp = u[i] & 0x1F;
        else if ((u[i] & 0xF0) == 0xE0)
            need = 2, cp = u[i] & 0x0F;
        else if ((u[i] & 0xF8) == 0xF0)
            need = 3, cp = u[i] & 0x07;
        else
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if (i + k >= n || (u[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (u[i + k] & 0x3F);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += nl)
        n++;
    return n;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The checks every answer passes. */
static void check_answer(const char *a, int line)
{
    if (a == NULL)
        fail_msg("line %d: no answer", line);
    if (!valid_utf8(a, strlen(a)))
        fail_msg("line %d: not UTF-8: %s", line, a);
    if (!ends_with(a, "\n\n" CLOSING))
        fail_msg("line %d: no closing note: %s", line, a);
    if (strstr(a, "  ") != NULL || strstr(a, "\n\n\n") != NULL || a[0] == ' ' || a[0] == '\n')
        fail_msg("line %d: stray blanks: %s", line, a);
    /* every quotation of an article ends at a sentence or with "…" after a word */
    for (const char *q = strstr(a, "], " LQUOTE); q != NULL; q = strstr(q + 1, "], " LQUOTE)) {
        const char *e = strstr(q, RQUOTE "\n\n");
        if (e == NULL)
            fail_msg("line %d: quotation not closed: %s", line, q);
        size_t len = (size_t)(e - q);
        if (len >= 3 && memcmp(e - 3, ELLIPSIS, 3) == 0) {
            char before = e[-4];
            if (before == ' ' || before == ',' || before == ';' || before == ':')
                fail_msg("line %d: bad cut before …: %.*s", line, (int)len + 3, q);
        } else if (e[-1] != '.' && e[-1] != ')' && e[-1] != '!' && e[-1] != '?' && e[-1] != '"') {
            fail_msg("line %d: quotation ends badly: %.*s", line, (int)len + 3, q);
        }
    }
}

/* ---------------------------------------------------------------- fixtures */

static const char T_UU31_2[] =
    "(1) Setiap orang yang secara melawan hukum melakukan perbuatan memperkaya diri sendiri atau "
    "orang lain atau suatu korporasi yang dapat merugikan keuangan negara atau perekonomian "
    "negara, dipidana penjara dengan penjara seumur hidup atau pidana penjara paling singkat 4 "
    "(empat) tahun dan paling lama 20 (dua puluh) tahun dan denda paling sedikit Rp. "
    "200.000.000,00 (dua ratus juta rupiah) dan paling banyak Rp. 1.000.000.000,00 (satu milyar "
    "rupiah).\n(2) Dalam hal tindak pidana korupsi sebagaimana dimaksud dalam ayat (1) dilakukan "
    "dalam keadaan tertentu, pidana mati dapat dijatuhkan.";

static const char T_KUHP_362[] =
    "Barang siapa mengambil barang sesuatu, yang seluruhnya atau sebagian kepunyaan orang lain, "
    "dengan maksud untuk dimiliki secara melawan hukum, diancam karena pencurian, dengan pidana "
    "penjara paling lama lima tahun atau pidana denda paling banyak sembilan ratus rupiah.";

static const char T_LIST[] = "Setiap orang dilarang:\n"
                             "a. menambatkan perahu di luar Jalur Sandar;\n"
                             "b. mengoperasikan perahu bermotor dengan kecepatan lebih dari 5 "
                             "(lima) kilometer per jam; dan\n"
                             "c. memperdagangkan barang yang dilarang.";

static const char T_MULTI[] =
    "(1) Setiap Kebun Raya wajib memiliki Herbarium.\n"
    "(2) Biji disimpan pada suhu paling tinggi \xe2\x88\x92"
    "18 \xc2\xb0"
    "C (minus delapan belas derajat Celsius) dengan kelembapan relatif paling tinggi 15% (lima "
    "belas persen).\n(3) Iuran sebesar Rp150,00 per meter kubik (m\xc2\xb3) air.";

static const char T_DEF[] = "Pasar Terapung adalah tempat bertemunya penjual dan pembeli di atas "
                            "perahu yang ditetapkan oleh Pemerintah Daerah;";

#define TITLE_UU31 "Undang-Undang Nomor 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi"
#define TITLE_KUHP                                                                                 \
    "Kitab Undang-Undang Hukum Pidana (Wetboek van Strafrecht, Staatsblad 1915 Nomor 732)"
#define TITLE_UU91 "Undang-Undang Nomor 91 Tahun 1999 tentang Ketertiban Pasar Terapung"
#define TITLE_PP   "Peraturan Pemerintah Nomor 177 Tahun 2005 tentang Iuran Pelestarian Mata Air Desa"

static struct answer_ref ref_uu31(unsigned n, const char *pasal, const char *text)
{
    return (struct answer_ref){n,          "UU-31-1999", "UU", "31",      1999,
                               TITLE_UU31, pasal,        NULL, "article", text};
}

static struct answer_ref ref_kuhp(unsigned n)
{
    return (struct answer_ref){n,          "KUHP", "KUHP", NULL,      1946,
                               TITLE_KUHP, "362",  NULL,   "article", T_KUHP_362};
}

static struct answer_ref ref_uu91(unsigned n, const char *pasal, const char *kind, const char *text)
{
    return (struct answer_ref){n,          "UU-91-1999", "UU", "91", 1999,
                               TITLE_UU91, pasal,        NULL, kind, text};
}

static struct answer_ref ref_pp(unsigned n, const char *text)
{
    return (struct answer_ref){n,        "PP-177-2005", "PP", "177",     2005,
                               TITLE_PP, "2",           NULL, "article", text};
}

/* A long article: sentences of clauses, with multibyte characters near the boundaries. */
static char *long_text(unsigned seed, size_t sentences)
{
    static const char *const words[] = {
        "pengelolaan",
        "air",
        "desa",
        "\xc3\xa9tude",
        "m\xc2\xb3",
        "\xe2\x88\x92"
        "18",
        "wajib",
        "\xe2\x80\x9c"
        "bersih\xe2\x80\x9d",
        "(lima)",
        "kilometer",
        "Rp. 1.000,00",
        "dan/atau",
        "sebagaimana",
        "dimaksud",
        "pada",
        "ayat (1)",
        "\xc3\xa0",
        "Pemerintah",
        "Daerah",
    };
    size_t cap = sentences * 600 + 1, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    unsigned x = seed * 2654435761u + 1;
    for (size_t k = 0; k < sentences; k++) {
        size_t nw = 20 + (x >> 7) % 50;
        for (size_t w = 0; w < nw; w++) {
            x = x * 1103515245u + 12345u;
            const char *word = words[(x >> 8) % ARRAY_LEN(words)];
            n += (size_t)snprintf(s + n, cap - n, "%s%s", w == 0 ? (k ? " Setiap" : "Setiap") : " ",
                                  w == 0 ? "" : word);
            if (w > 0 && w + 1 < nw && (x >> 20) % 9 == 0)
                n += (size_t)snprintf(s + n, cap - n, "%s", (x >> 24) % 2 ? "," : ";");
            if (w > 0 && (x >> 20) % 23 == 1)
                n += (size_t)snprintf(s + n, cap - n, "\n%c.", 'a' + (int)(w % 5));
        }
        n += (size_t)snprintf(s + n, cap - n, ".");
    }
    return s;
}

/* ---------------------------------------------------------------- no reference */

static const struct {
    int line;
    const char *question, *want;
} none_cases[] = {
    {__LINE__, "Apa sanksi bagi pelaku korupsi?",
     NONE_HEAD " untuk pertanyaan " LQUOTE "Apa sanksi bagi pelaku korupsi?" RQUOTE " dalam"},
    {__LINE__, NULL, NONE_HEAD " dalam kumpulan peraturan yang tersedia."},
    {__LINE__, "", NONE_HEAD " dalam kumpulan"},
    {__LINE__, " \t\n ", NONE_HEAD " dalam kumpulan"},
    {__LINE__, "  apa\n\tdefinisi\r\n  pasar ", LQUOTE "apa definisi pasar" RQUOTE},
    {__LINE__, "bad \xff byte \xc3", LQUOTE "bad \xef\xbf\xbd byte \xef\xbf\xbd" RQUOTE},
    {__LINE__, "ctl \x01\x7f\xc2\x85 x", LQUOTE "ctl x" RQUOTE},
    {__LINE__, "kata [1] bukan sitasi", LQUOTE "kata [1] bukan sitasi" RQUOTE},
};

static void test_no_refs(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(none_cases); i++) {
        char *a = answer_compose(none_cases[i].question, NULL, 0, 0);
        check_answer(a, none_cases[i].line);
        if (strncmp(a, NONE_HEAD, strlen(NONE_HEAD)) != 0 || !strstr(a, none_cases[i].want))
            fail_msg("line %d: %s", none_cases[i].line, a);
        free(a);
    }
    /* a long question is shortened, at a word; within a small max_bytes too */
    char q[2001];
    for (size_t i = 0; i < 2000; i++)
        q[i] = i % 8 == 7 ? ' ' : "korupsi"[i % 8];
    q[2000] = '\0';
    for (size_t max = LX_ANSWER_MIN_BYTES; max <= 1000; max += 13) {
        char *a = answer_compose(q, NULL, 0, max);
        check_answer(a, __LINE__);
        assert_true(strlen(a) <= max);
        assert_non_null(strstr(a, "korupsi" ELLIPSIS RQUOTE));
        free(a);
    }
    /* refs NULL with a count: no refs */
    char *a = answer_compose("x", NULL, 5, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, NONE_HEAD));
    free(a);
}

/* ---------------------------------------------------------------- one, three, many refs */

static void test_one_ref_exact(void **state)
{
    (void)state;
    struct answer_ref r = ref_uu31(1, "2", T_UU31_2);
    char *a = answer_compose("Apa sanksi bagi pelaku korupsi?", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_string_equal(
        a,
        "Berdasarkan pasal peraturan perundang-undangan yang paling relevan dengan pertanyaan "
        "Anda:\n\n"
        "Menurut Pasal 2 ayat (1) Undang-Undang Nomor 31 Tahun 1999 tentang Pemberantasan Tindak "
        "Pidana Korupsi [1], \xe2\x80\x9cSetiap orang yang secara melawan hukum melakukan "
        "perbuatan memperkaya diri sendiri atau orang lain atau suatu korporasi yang dapat "
        "merugikan keuangan negara atau perekonomian negara, dipidana penjara dengan penjara "
        "seumur hidup atau pidana penjara paling singkat 4 (empat) tahun dan paling lama 20 (dua "
        "puluh) tahun dan denda paling sedikit Rp. 200.000.000,00 (dua ratus juta rupiah) dan "
        "paling banyak Rp. 1.000.000.000,00 (satu milyar rupiah).\xe2\x80\x9d\n\n"
        "Jawaban ini disusun otomatis dari teks peraturan dan bukan nasihat hukum.");
    free(a);

    /* the ref's own ayat is the one quoted */
    r.ayat = "2";
    a = answer_compose("q", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, "Menurut Pasal 2 ayat (2) Undang-Undang Nomor 31 Tahun 1999"));
    assert_non_null(strstr(a, LQUOTE "Dalam hal tindak pidana korupsi sebagaimana dimaksud "
                                     "dalam ayat (1) dilakukan dalam keadaan tertentu, pidana "
                                     "mati dapat dijatuhkan." RQUOTE));
    free(a);

    /* a short first ayat: the quotation goes on into the next, and cites the article */
    r = ref_uu91(4, "10", "article", T_MULTI);
    a = answer_compose("q", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, "Menurut Pasal 10 Undang-Undang Nomor 91 Tahun 1999 tentang "
                              "Ketertiban Pasar Terapung [4], " LQUOTE "(1) Setiap Kebun Raya "
                              "wajib memiliki Herbarium. (2) Biji disimpan pada suhu paling "
                              "tinggi \xe2\x88\x92"
                              "18 \xc2\xb0"
                              "C (minus"));
    free(a);

    /* a list article: its lines and markers as running text */
    r = ref_uu91(2, "10", "article", T_LIST);
    a = answer_compose("q", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, "[2], " LQUOTE
                              "Setiap orang dilarang: a. menambatkan perahu di luar Jalur Sandar; "
                              "b. mengoperasikan perahu bermotor dengan kecepatan lebih dari 5 "
                              "(lima) kilometer per jam; dan c. memperdagangkan barang yang "
                              "dilarang." RQUOTE));
    free(a);
}

static void test_three_refs(void **state)
{
    (void)state;
    struct answer_ref refs[] = {
        ref_uu31(1, "2", T_UU31_2),
        ref_kuhp(2),
        ref_pp(3, T_MULTI),
    };
    char *a = answer_compose("Apa sanksi?", refs, 3, 0);
    check_answer(a, __LINE__);
    assert_true(strncmp(a, "Berdasarkan tiga pasal ", 23) == 0);
    assert_int_equal(count(a, "\n\nMenurut "), 3);
    assert_int_equal(count(a, "[1]"), 1);
    assert_int_equal(count(a, "[2]"), 1);
    assert_int_equal(count(a, "[3]"), 1);
    assert_true(strstr(a, "[1]") < strstr(a, "[2]") && strstr(a, "[2]") < strstr(a, "[3]"));
    assert_non_null(strstr(a, "Menurut Pasal 362 Kitab Undang-Undang Hukum Pidana [2], " LQUOTE
                              "Barang siapa mengambil"));
    assert_non_null(strstr(a, "Menurut Pasal 2 Peraturan Pemerintah Nomor 177 Tahun 2005 "
                              "tentang Iuran Pelestarian Mata Air Desa [3], "));
    assert_null(strstr(a, LIST_MORE));
    free(a);

    /* two */
    a = answer_compose("Apa sanksi?", refs, 2, 0);
    check_answer(a, __LINE__);
    assert_true(strncmp(a, "Berdasarkan dua pasal ", 22) == 0);
    free(a);
}

static void test_many_refs(void **state)
{
    (void)state;
    static const unsigned nums[] = {7, 3, 12, 100, 1, 44, 5, 9, 10, 11, 2, 4294967295u};
    struct answer_ref refs[ARRAY_LEN(nums)];
    for (size_t i = 0; i < ARRAY_LEN(nums); i++) {
        switch (i % 4) {
        case 0: refs[i] = ref_uu31(nums[i], "2", T_UU31_2); break;
        case 1: refs[i] = ref_kuhp(nums[i]); break;
        case 2: refs[i] = ref_pp(nums[i], T_MULTI); break;
        default: refs[i] = ref_uu91(nums[i], "1", "definition", T_DEF); break;
        }
    }
    refs[1].text = NULL; /* no text: listed, not quoted */
    refs[2].text = " \n ";
    char *a = answer_compose("q", refs, ARRAY_LEN(refs), 0);
    check_answer(a, __LINE__);
    for (size_t i = 0; i < ARRAY_LEN(nums); i++) {
        char num[16];
        snprintf(num, sizeof num, "[%u]", nums[i]);
        if (count(a, num) != 1)
            fail_msg("%s cited %zu times in %s", num, count(a, num), a);
    }
    assert_int_equal(count(a, "\n\nMenurut "), 3);
    assert_true(strncmp(a, "Berdasarkan tiga pasal ", 23) == 0);
    /* quoted: the first three with text, in order, but not [1], the same as [7]; the rest
     * listed in order */
    assert_non_null(strstr(a, "[7], " LQUOTE));
    assert_true(strstr(a, "[7], " LQUOTE) < strstr(a, "[100], " LQUOTE));
    assert_true(strstr(a, "[100], " LQUOTE) < strstr(a, "[44], " LQUOTE));
    assert_non_null(strstr(a, "\n\n" LIST_MORE "Pasal 362 KUHP [3]; Pasal 2 PP 177/2005 [12]; "
                              "Pasal 2 UU 31/1999 [1]; Pasal 2 PP 177/2005 [5]; Pasal 1 UU "
                              "91/1999 [9]; Pasal 2 UU 31/1999 [10]; Pasal 362 KUHP [11]; Pasal 2 "
                              "PP 177/2005 [2]; Pasal 1 UU 91/1999 [4294967295].\n\n" CLOSING));
    free(a);

    /* a hundred refs, the most a search gives: all cited in the default size */
    struct answer_ref many[100];
    for (unsigned i = 0; i < 100; i++)
        many[i] = ref_kuhp(i + 1);
    a = answer_compose("q", many, 100, 0);
    check_answer(a, __LINE__);
    assert_true(strlen(a) <= LX_ANSWER_DEFAULT_MAX_BYTES);
    for (unsigned i = 1; i <= 100; i++) {
        char num[16];
        snprintf(num, sizeof num, "[%u]", i);
        assert_int_equal(count(a, num), 1);
    }
    free(a);

    /* no ref has text: all listed */
    struct answer_ref bare[2] = {ref_kuhp(1), ref_uu31(2, "3", "")};
    bare[0].text = NULL;
    a = answer_compose("q", bare, 2, 0);
    check_answer(a, __LINE__);
    assert_string_equal(a, OPENING_NOTEXT
                        "\n\n" LIST_ONLY "Pasal 362 KUHP [1]; Pasal 3 UU 31/1999 [2].\n\n" CLOSING);
    free(a);
}

static void test_definition(void **state)
{
    (void)state;
    struct answer_ref r = ref_uu91(1, "1", "definition", T_DEF);
    char *a = answer_compose("apa itu pasar terapung", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, "\n\nMenurut ketentuan umum dalam Pasal 1 Undang-Undang Nomor 91 "
                              "Tahun 1999 tentang Ketertiban Pasar Terapung [1], " LQUOTE
                              "Pasar Terapung adalah tempat bertemunya penjual dan pembeli di atas "
                              "perahu yang ditetapkan oleh Pemerintah Daerah." RQUOTE "\n\n"));
    free(a);
    /* a definition whose text is a sentence keeps it; one without ayat handling */
    r.text = "Menteri adalah menteri yang menyelenggarakan urusan pemerintahan di bidang "
             "perdagangan.";
    r.ayat = NULL;
    a = answer_compose("q", &r, 1, 0);
    check_answer(a, __LINE__);
    assert_non_null(strstr(a, LQUOTE "Menteri adalah menteri yang menyelenggarakan urusan "
                                     "pemerintahan di bidang perdagangan." RQUOTE));
    free(a);
}

/* ---------------------------------------------------------------- names */

static const struct {
    int line;
    const char *doc_id, *doc_type, *number;
    int year;
    const char *title, *pasal, *ayat;
    const char *want;  /* the citation, between "Menurut " and " [1]" */
    const char *brief; /* in the closing list */
} name_cases[] = {
    {__LINE__, "UU-31-1999", "UU", "31", 1999, TITLE_UU31, "2", NULL,
     "Pasal 2 Undang-Undang Nomor 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi",
     "Pasal 2 UU 31/1999"},
    {__LINE__, "UU-31-1999", "uu", "31", 1999, NULL, "12B", "1",
     "Pasal 12B ayat (1) Undang-Undang Nomor 31 Tahun 1999", "Pasal 12B ayat (1) UU 31/1999"},
    {__LINE__, "PP-35-2021", "PP", "35", 2021,
     "Peraturan Pemerintah Nomor 35 Tahun 2021 Tentang Perjanjian Kerja Waktu Tertentu", "5", NULL,
     "Pasal 5 Peraturan Pemerintah Nomor 35 Tahun 2021 tentang Perjanjian Kerja Waktu Tertentu",
     "Pasal 5 PP 35/2021"},
    {__LINE__, "KUHP", "KUHP", NULL, 1946, TITLE_KUHP, "303 bis", NULL,
     "Pasal 303 bis Kitab Undang-Undang Hukum Pidana", "Pasal 303 bis KUHP"},
    {__LINE__, "KUHP", NULL, NULL, 0, NULL, "1", NULL, "Pasal 1 Kitab Undang-Undang Hukum Pidana",
     "Pasal 1 KUHP"},
    {__LINE__, "PERPU-1-2020", "PERPU", "1", 2020, NULL, "2", NULL,
     "Pasal 2 Peraturan Pemerintah Pengganti Undang-Undang Nomor 1 Tahun 2020",
     "Pasal 2 Perpu 1/2020"},
    {__LINE__, "PERPRES-5-2020", "PERPRES", "5", 2020, NULL, "3", NULL,
     "Pasal 3 Peraturan Presiden Nomor 5 Tahun 2020", "Pasal 3 Perpres 5/2020"},
    {__LINE__, "UU-20-2001", "UU", "20", 2001,
     "Undang-Undang Nomor 20 Tahun 2001 tentang Perubahan atas Undang-Undang Nomor 31 Tahun "
     "1999 tentang Pemberantasan Tindak Pidana Korupsi",
     "I", NULL,
     "Pasal I Undang-Undang Nomor 20 Tahun 2001 tentang Perubahan atas Undang-Undang Nomor 31 "
     "Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi",
     "Pasal I UU 20/2001"},
    /* no number: the title as given */
    {__LINE__, "UU-X", "UU", NULL, 1999, "Undang-Undang  Darurat\nTentang Sesuatu", "4", NULL,
     "Pasal 4 Undang-Undang Darurat Tentang Sesuatu", "Pasal 4 UU-X"},
    {__LINE__, "PERMEN-1-2020", "PERMEN", "1", 2020, "Peraturan Menteri Nomor 1 Tahun 2020", "9",
     NULL, "Pasal 9 Peraturan Menteri Nomor 1 Tahun 2020", "Pasal 9 PERMEN-1-2020"},
    {__LINE__, NULL, NULL, NULL, 0, "Sebuah Peraturan", "9", NULL, "Pasal 9 Sebuah Peraturan",
     "Pasal 9 Sebuah Peraturan"},
    {__LINE__, "DOC-1", NULL, NULL, 0, NULL, "9", NULL, "Pasal 9 DOC-1", "Pasal 9 DOC-1"},
    {__LINE__, NULL, NULL, NULL, 0, NULL, NULL, NULL, "peraturan yang dirujuk",
     "peraturan yang dirujuk"},
    {__LINE__, "UU-1-2023", "UU", "1", 2023, "", "", "", "Undang-Undang Nomor 1 Tahun 2023",
     "UU 1/2023"},
    /* the year or number missing: not derived */
    {__LINE__, "UU-9-0", "UU", "9", 0, "Judul", "1", NULL, "Pasal 1 Judul", "Pasal 1 UU-9-0"},
    /* a very long title: cut at a word, within NAME_MAX_BYTES */
    {__LINE__, "UU-2-2000", "UU", "2", 2000,
     "Undang-Undang Nomor 2 Tahun 2000 tentang Pengesahan Persetujuan antara Pemerintah "
     "Republik Indonesia dan Pemerintah Kerajaan Belanda mengenai Kerja Sama di Bidang "
     "Pengelolaan Sumber Daya Air, Pelestarian Lingkungan Hidup, dan Pembangunan Infrastruktur "
     "Perkotaan yang Berkelanjutan",
     "1", NULL,
     "Pasal 1 Undang-Undang Nomor 2 Tahun 2000 tentang Pengesahan Persetujuan antara Pemerintah "
     "Republik Indonesia dan Pemerintah Kerajaan Belanda mengenai Kerja Sama di Bidang "
     "Pengelolaan Sumber Daya Air" ELLIPSIS,
     "Pasal 1 UU 2/2000"},
};

static void test_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(name_cases); i++) {
        struct answer_ref r[2] = {{1, name_cases[i].doc_id, name_cases[i].doc_type,
                                   name_cases[i].number, name_cases[i].year, name_cases[i].title,
                                   name_cases[i].pasal, name_cases[i].ayat, "article",
                                   "Teks pasal."},
                                  {2, name_cases[i].doc_id, name_cases[i].doc_type,
                                   name_cases[i].number, name_cases[i].year, name_cases[i].title,
                                   name_cases[i].pasal, name_cases[i].ayat, "article", NULL}};
        char *a = answer_compose("q", r, 2, 0);
        check_answer(a, name_cases[i].line);
        char want[512], brief[256];
        snprintf(want, sizeof want, "\n\nMenurut %s [1], " LQUOTE "Teks pasal." RQUOTE "\n\n",
                 name_cases[i].want);
        snprintf(brief, sizeof brief, LIST_MORE "%s [2].", name_cases[i].brief);
        if (strstr(a, want) == NULL || strstr(a, brief) == NULL)
            fail_msg("line %d: %s", name_cases[i].line, a);
        free(a);
    }
}

/* ---------------------------------------------------------------- quotations */

static const struct {
    int line;
    const char *text;
    size_t quota;
    int is_def;
    const char *want;
} excerpt_cases[] = {
    /* sentences: the first, and more while short */
    {__LINE__, "Satu kalimat. Dua kalimat.", 100, 0, "Satu kalimat. Dua kalimat."},
    {__LINE__, "Satu kalimat. Dua kalimat.", 13, 0, "Satu kalimat."},
    {__LINE__, "Satu kalimat. Dua kalimat.", 25, 0, "Satu kalimat."},
    {__LINE__, "Satu kalimat! Dua? Tiga.", 100, 0, "Satu kalimat! Dua? Tiga."},
    {__LINE__, "Satu kalimat.\n\nDua kalimat.", 100, 0, "Satu kalimat. Dua kalimat."},
    {__LINE__, "  Awal  dengan\tspasi.  ", 100, 0, "Awal dengan spasi."},
    /* dots that end no sentence */
    {__LINE__, "Denda paling banyak Rp. 1.000.000,00 (satu juta rupiah). Kalimat kedua.", 60, 0,
     "Denda paling banyak Rp. 1.000.000,00 (satu juta rupiah)."},
    {__LINE__, "Lihat UU No. 31 Tahun 1999 jo. UU No. 20 Tahun 2001. Kedua.", 55, 0,
     "Lihat UU No. 31 Tahun 1999 jo. UU No. 20 Tahun 2001."},
    {__LINE__, "Oleh Dr. Budi S.H. yang hadir. Kedua.", 20, 0, "Oleh Dr. Budi" ELLIPSIS},
    {__LINE__, "Kata dsb. lalu lanjut. Kedua.", 23, 0, "Kata dsb. lalu lanjut."},
    {__LINE__, "Tunggu... Lalu. Kedua.", 16, 0, "Tunggu... Lalu."},
    /* "huruf a." and a closing quote end sentences */
    {__LINE__, "Sebagaimana dimaksud dalam huruf a. Kalimat kedua yang lebih panjang.", 40, 0,
     "Sebagaimana dimaksud dalam huruf a."},
    {__LINE__, "Ia berkata \"cukup.\" Lalu pergi jauh sekali.", 22, 0, "Ia berkata \"cukup.\""},
    {__LINE__,
     "Ia berkata \xe2\x80\x9c"
     "cukup.\xe2\x80\x9d Lalu pergi jauh sekali.",
     26, 0,
     "Ia berkata \xe2\x80\x9c"
     "cukup.\xe2\x80\x9d"},
    {__LINE__, "Ayat (1) berlaku (lihat Pasal 5.) Kedua kalimat.", 34, 0,
     "Ayat (1) berlaku (lihat Pasal 5.)"},
    /* list markers: running text, never a sentence end */
    {__LINE__, "Setiap orang dilarang:\na. merusak;\nb. mencuri; dan\nc. membakar.", 200, 0,
     "Setiap orang dilarang: a. merusak; b. mencuri; dan c. membakar."},
    {__LINE__, "Yang dimaksud dengan:\n1. Air adalah air.\n2. Desa adalah desa.", 200, 0,
     "Yang dimaksud dengan: 1. Air adalah air. 2. Desa adalah desa."},
    {__LINE__, "Yang dimaksud dengan:\n1. Air adalah air.\n2. Desa adalah desa.", 40, 0,
     "Yang dimaksud dengan: 1. Air adalah air."},
    {__LINE__, "Asas: 1. manfaat; 2. keadilan; dan 3. kepastian. Kedua.", 49, 0,
     "Asas: 1. manfaat; 2. keadilan; dan 3. kepastian."},
    {__LINE__, "Berlaku:\n12a. satu hal.", 100, 0, "Berlaku: 12a. satu hal."},
    /* cut at a clause, a comma, a word (outside brackets), with "…" */
    {__LINE__, "Setiap orang dilarang:\na. merusak;\nb. mencuri; dan\nc. membakar.", 40, 0,
     "Setiap orang dilarang: a. merusak" ELLIPSIS},
    {__LINE__, "Setiap orang dilarang:\na. merusak;\nb. mencuri; dan\nc. membakar.", 51, 0,
     "Setiap orang dilarang: a. merusak; b. mencuri" ELLIPSIS},
    {__LINE__, "Setiap orang dilarang:\na. merusak;\nb. mencuri; dan\nc. membakar.", 54, 0,
     "Setiap orang dilarang: a. merusak; b. mencuri" ELLIPSIS},
    {__LINE__, "Setiap orang yang, dengan sengaja merusak barang milik orang lain", 40, 0,
     "Setiap orang yang" ELLIPSIS},
    {__LINE__, "Setiap orang, dengan sengaja merusak barang milik orang lain", 40, 0,
     "Setiap orang, dengan sengaja merusak" ELLIPSIS},
    {__LINE__, "Setiap orang yang dengan sengaja, merusak barang milik orang lain", 40, 0,
     "Setiap orang yang dengan sengaja" ELLIPSIS},
    {__LINE__, "Pidana penjara paling lama 4 (empat tahun lamanya) dan denda", 44, 0,
     "Pidana penjara paling lama 4" ELLIPSIS},
    {__LINE__, "Satu; dua tiga empat lima enam tujuh delapan sembilan", 30, 0,
     "Satu; dua tiga empat lima" ELLIPSIS},
    {__LINE__, "Hak: a. satu hal yang sangat penting sekali; b. dua", 50, 0,
     "Hak: a. satu hal yang sangat penting sekali" ELLIPSIS},
    /* a marker left at the end is dropped, as is "dan" after a clause */
    {__LINE__, "Hak: a. satu hal; b. dua hal penting sekali sekali", 24, 0,
     "Hak: a. satu hal" ELLIPSIS},
    {__LINE__, "Hak: a. satu hal; dan b. dua hal penting sekali", 28, 0,
     "Hak: a. satu hal" ELLIPSIS},
    /* no sentence end */
    {__LINE__, "Kalimat tanpa titik", 100, 0, "Kalimat tanpa titik"},
    {__LINE__, "Kalimat tanpa titik;", 100, 0, "Kalimat tanpa titik" ELLIPSIS},
    {__LINE__, "Kalimat tanpa titik;", 21, 0, "Kalimat tanpa" ELLIPSIS},
    {__LINE__, "Air adalah air yang mengalir;", 100, 1, "Air adalah air yang mengalir."},
    {__LINE__, "Air adalah air yang mengalir,", 29, 1, "Air adalah air yang mengalir."},
    {__LINE__, "Air adalah air yang mengalir dan jernih.", 20, 1, "Air adalah air" ELLIPSIS},
    {__LINE__, "Air adalah air yang mengalir dan jernih.", 22, 1, "Air adalah air yang" ELLIPSIS},
    /* one long word: cut between characters */
    {__LINE__, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     10, 0, "\xc3\xa9\xc3\xa9\xc3\xa9" ELLIPSIS},
    {__LINE__, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
     11, 0, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" ELLIPSIS},
    {__LINE__, "abcdefghijklmnop", 8, 0, "abcde" ELLIPSIS},
    /* nothing fits, or nothing there */
    {__LINE__, "abcdefghijklmnop", 3, 0, ""},
    {__LINE__, "", 100, 0, ""},
    {__LINE__, ";", 100, 0, ""},
    {__LINE__, "x", 0, 0, ""},
    /* bytes that are not UTF-8, controls */
    {__LINE__,
     "A\xff"
     "b\x01"
     "c\xe2\x82.",
     100, 0,
     "A\xef\xbf\xbd"
     "b c\xef\xbf\xbd\xef\xbf\xbd."},
    {__LINE__,
     "Suhu \xe2\x88\x92"
     "18\xc2\xa0\xc2\xb0"
     "C.",
     100, 0,
     "Suhu \xe2\x88\x92"
     "18 \xc2\xb0"
     "C."},
};

static void test_excerpts(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(excerpt_cases); i++) {
        struct arena *a = arena_new(1024);
        struct ntext t;
        const char *text = excerpt_cases[i].text;
        assert_int_equal(norm(a, text, strlen(text), &t), 0);
        char *out = arena_alloc(a, excerpt_cases[i].quota + 1);
        size_t n = excerpt(&t, excerpt_cases[i].quota, excerpt_cases[i].is_def, out);
        if (n == 0)
            out[0] = '\0';
        if (strcmp(out, excerpt_cases[i].want) != 0 || n != strlen(out) ||
            n > excerpt_cases[i].quota)
            fail_msg("line %d: got \"%s\" (%zu), want \"%s\"", excerpt_cases[i].line, out, n,
                     excerpt_cases[i].want);
        arena_free(a);
    }
}

/* Every quota over texts with multibyte characters at the cut points: valid UTF-8, in quota. */
static void test_excerpt_utf8(void **state)
{
    (void)state;
    const char *texts[] = {T_MULTI, T_UU31_2, T_LIST, T_DEF, NULL, NULL};
    char *l1 = long_text(1, 3), *l2 = long_text(2, 5);
    texts[4] = l1;
    texts[5] = l2;
    for (size_t k = 0; k < ARRAY_LEN(texts); k++) {
        struct arena *a = arena_new(4096);
        struct ntext t;
        assert_int_equal(norm(a, texts[k], strlen(texts[k]), &t), 0);
        assert_true(valid_utf8(t.p, t.n));
        char *out = arena_alloc(a, 701);
        for (size_t quota = 0; quota <= 700; quota++) {
            for (int def = 0; def < 2; def++) {
                size_t n = excerpt(&t, quota, def, out);
                if (n > quota || !valid_utf8(out, n) || (n > 0 && out[n - 1] == ' '))
                    fail_msg("text %zu quota %zu: %zu bytes \"%.*s\"", k, quota, n, (int)n, out);
            }
        }
        arena_free(a);
    }
    free(l1);
    free(l2);
}

/* Texts longer than what is read of them (TEXT_INPUT_MAX_BYTES). */
static void test_huge_text(void **state)
{
    (void)state;
    size_t big = TEXT_INPUT_MAX_BYTES + 5000;
    char *words = malloc(big + 1), *blank = malloc(big + 1), *mb = malloc(big + 1);
    assert_true(words && blank && mb);
    for (size_t i = 0; i < big; i++) {
        words[i] = "kata "[i % 5];
        blank[i] = i < big - 9 ? ' ' : "Kalimat. "[i - (big - 9)];
        mb[i] = i == 0 ? 'x' : (i % 2 ? '\xc3' : '\xa9'); /* é across the cut */
    }
    words[big] = blank[big] = mb[big] = '\0';
    struct answer_ref r[3] = {ref_pp(1, words), ref_pp(2, blank), ref_pp(3, mb)};
    char *a = answer_compose("q", r, 3, 0);
    check_answer(a, __LINE__);
    /* words: cut at a word; blank: nothing read, so listed; mb: cut between characters */
    assert_non_null(strstr(a, "[1], " LQUOTE "kata kata kata "));
    assert_non_null(strstr(a, " kata" ELLIPSIS RQUOTE));
    assert_non_null(strstr(a, "[3], " LQUOTE "x\xc3\xa9\xc3\xa9"));
    assert_non_null(strstr(a, LIST_MORE "Pasal 2 PP 177/2005 [2]."));
    assert_true(strlen(a) <= LX_ANSWER_DEFAULT_MAX_BYTES);
    free(a);
    free(words);
    free(blank);
    free(mb);
}

/* ---------------------------------------------------------------- the size limit */

/* From this max_bytes on, five refs with long texts are all cited and three quoted. */
#define FULL_BYTES 1700

static void test_max_bytes(void **state)
{
    (void)state;
    char *texts[5];
    for (unsigned i = 0; i < 5; i++)
        texts[i] = long_text(i + 7, 8);
    struct answer_ref refs[5] = {
        ref_uu31(1, "2", texts[0]), ref_pp(2, texts[1]), ref_uu91(3, "1", "definition", texts[2]),
        ref_uu31(4, "5", texts[3]), ref_pp(5, texts[4]),
    };
    refs[4].title = "Peraturan Pemerintah Nomor 177 Tahun 2005 tentang Sesuatu yang Sangat "
                    "Panjang Sekali Judulnya sehingga Harus Dipotong pada Batas Kata yang Wajar "
                    "dan Tetap Dapat Dibaca oleh Siapa pun yang Membutuhkannya untuk Keperluan "
                    "Apa pun";
    for (size_t nrefs = 1; nrefs <= 5; nrefs++) {
        size_t prev = 0;
        for (size_t max = LX_ANSWER_MIN_BYTES; max <= 4200; max += 17) {
            char *a = answer_compose("q", refs, nrefs, max);
            check_answer(a, __LINE__);
            size_t n = strlen(a);
            if (n > max)
                fail_msg("%zu refs, max %zu: %zu bytes: %s", nrefs, max, n, a);
            assert_non_null(strstr(a, "[1]"));
            if (max >= FULL_BYTES) /* room for every ref */
                for (unsigned r = 1; r <= nrefs; r++) {
                    char num[8];
                    snprintf(num, sizeof num, "[%u]", r);
                    if (count(a, num) != 1)
                        fail_msg("max %zu: %s not cited once: %s", max, num, a);
                }
            if (max >= FULL_BYTES && nrefs >= 3)
                assert_int_equal(count(a, "], " LQUOTE), 3);
            assert_true(n + 80 >= prev || max < FULL_BYTES); /* more room, no much shorter answer */
            prev = n;
            free(a);
        }
        char *a = answer_compose("q", refs, nrefs, 0); /* the default */
        assert_true(strlen(a) <= LX_ANSWER_DEFAULT_MAX_BYTES);
        check_answer(a, __LINE__);
        free(a);
    }
    /* the longest citations there can be: LX_ANSWER_MIN_BYTES still holds */
    char huge[1000];
    memset(huge, 'x', sizeof huge - 1);
    for (size_t i = 9; i < sizeof huge - 1; i += 10)
        huge[i] = ' ';
    huge[sizeof huge - 1] = '\0';
    struct answer_ref worst[3];
    for (unsigned i = 0; i < 3; i++)
        worst[i] = (struct answer_ref){4294967295u - i, huge,    "UU", huge, 2000, huge, huge, huge,
                                       "definition",    texts[i]};
    for (size_t max = LX_ANSWER_MIN_BYTES; max <= 2000; max += 11) {
        char *a = answer_compose("q", worst, 3, max);
        check_answer(a, __LINE__);
        if (strlen(a) > max)
            fail_msg("max %zu: %zu bytes", max, strlen(a));
        assert_non_null(strstr(a, "[4294967295]"));
        free(a);
    }

    /* below the least answer: still an answer, every part whole */
    for (size_t max = 1; max < LX_ANSWER_MIN_BYTES; max += 29) {
        char *a = answer_compose("q", refs, 5, max);
        check_answer(a, __LINE__);
        assert_non_null(strstr(a, "[1]"));
        free(a);
    }
    for (unsigned i = 0; i < 5; i++)
        free(texts[i]);
}

/* ---------------------------------------------------------------- streaming pieces */

static const struct {
    int line;
    const char *s;
    size_t at, max, want;
} piece_cases[] = {
    {__LINE__, "Menurut Pasal 2", 0, 8, 8},
    {__LINE__, "Menurut Pasal 2", 0, 14, 14},
    {__LINE__, "Menurut Pasal 2", 0, 15, 15},
    {__LINE__, "Menurut Pasal 2", 0, 100, 15},
    {__LINE__, "Menurut Pasal 2", 0, 3, 8}, /* one longer word */
    {__LINE__, "Menurut Pasal 2", 8, 1, 6},
    {__LINE__, "Menurut Pasal 2", 14, 1, 1},
    {__LINE__, "Menurut Pasal 2", 15, 1, 0},
    {__LINE__, "Menurut Pasal 2", 99, 1, 0},
    {__LINE__, "a  b", 0, 1, 3}, /* the spaces go with the word before */
    {__LINE__, "Korupsi [12], \xe2\x80\x9cSetiap", 0, 10, 8},
    {__LINE__, "Korupsi [12], \xe2\x80\x9cSetiap", 8, 2, 6},
    {__LINE__, "Korupsi [12], \xe2\x80\x9cSetiap", 8, 100, 15},
    {__LINE__, "x [1234567]", 2, 3, 9},
    {__LINE__, "dan/atau pidana", 0, 5, 4},
    {__LINE__, "dan/atau pidana", 0, 9, 9},
    {__LINE__, "Rp1.000.000,00 dan", 0, 6, 4},
    {__LINE__, "Rp1.000.000,00 dan", 0, 12, 12},
    {__LINE__,
     "\xe2\x88\x92"
     "18 \xc2\xb0"
     "C",
     0, 1, 6},
    {__LINE__, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 0, 3, 8},
    {__LINE__, "rupiah).\xe2\x80\x9d\n\nJawaban", 0, 8, 13}, /* not before the quote */
    {__LINE__, "rupiah).\xe2\x80\x9d\n\nJawaban", 0, 13, 13},
    {__LINE__, "rupiah).\xe2\x80\x9d\n\nJawaban", 0, 19, 13},
    {__LINE__, "rupiah).\xe2\x80\x9d\n\nJawaban", 0, 20, 20},
    {__LINE__, "(empat)tahun", 0, 7, 7},
    {__LINE__, "x", 0, 0, 1},
};

static void test_piece_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(piece_cases); i++) {
        const char *s = piece_cases[i].s;
        size_t got = answer_next_piece(s, strlen(s), piece_cases[i].at, piece_cases[i].max);
        if (got != piece_cases[i].want)
            fail_msg("line %d: got %zu, want %zu", piece_cases[i].line, got, piece_cases[i].want);
    }
}

/* Whether position p of s is inside a "[digits]" marker. */
static int inside_marker(const char *s, size_t len, size_t p)
{
    for (size_t b = p; b > 0 && p - b < 12; b--) {
        if (s[b - 1] == '[') {
            size_t e = b;
            while (e < len && is_digit(s[e]))
                e++;
            return e > b && e < len && s[e] == ']' && p <= e && p > b - 1;
        }
        if (!is_digit(s[b - 1]))
            return 0;
    }
    return 0;
}

/* Every max_piece from 1 to 40 over one answer: pieces concatenate to it, none splits a UTF-8
 * sequence or a "[n]", none is longer than max_piece unless it is one word. */
static void check_pieces(const char *a)
{
    size_t len = strlen(a);
    char *joined = malloc(len + 1);
    assert_non_null(joined);
    for (size_t max = 1; max <= 40; max++) {
        size_t at = 0, pieces = 0;
        while (at < len) {
            size_t n = answer_next_piece(a, len, at, max);
            assert_true(n > 0 && at + n <= len);
            memcpy(joined + at, a + at, n);
            size_t end = at + n;
            if (end < len && ((unsigned char)a[end] & 0xC0) == 0x80)
                fail_msg("max %zu: piece ends inside a UTF-8 sequence at %zu", max, end);
            if (end < len && inside_marker(a, len, end))
                fail_msg("max %zu: piece splits a marker at %zu: %.20s", max, end, a + end - 3);
            if (!valid_utf8(a + at, n))
                fail_msg("max %zu: piece at %zu not UTF-8", max, at);
            if (n > max) /* only one word: no space before the trailing spaces */
                for (size_t k = at; k < end; k++)
                    if (is_space(a[k]) && k + 1 < end && !is_space(a[k + 1]))
                        fail_msg("max %zu: piece of %zu bytes holds several words: %.*s", max, n,
                                 (int)n, a + at);
            at = end;
            pieces++;
        }
        assert_int_equal(at, len);
        assert_memory_equal(joined, a, len);
        if (max == 1)
            assert_true(pieces >= count(a, " "));
    }
    free(joined);
}

static void test_pieces_of_answers(void **state)
{
    (void)state;
    char *l1 = long_text(3, 4), *l2 = long_text(4, 6);
    char longword[400];
    for (size_t i = 0; i + 2 < sizeof longword; i += 2)
        memcpy(longword + i, "\xc3\xa9", 2);
    longword[sizeof longword - 2] = '.';
    longword[sizeof longword - 1] = '\0';
    struct answer_ref sets[][4] = {
        {ref_uu31(1, "2", T_UU31_2), ref_kuhp(2), ref_pp(12, T_MULTI),
         ref_uu91(100, "1", NULL, T_LIST)},
        {ref_uu91(7, "1", "definition", T_DEF), ref_uu31(23, "5", l1), ref_pp(5, l2), ref_kuhp(31)},
        {ref_pp(9, longword), ref_uu31(10, "3", "[1] teks [22] dengan [333] kurung [ 4 ] x."),
         ref_kuhp(11), ref_kuhp(12)},
    };
    for (size_t k = 0; k < ARRAY_LEN(sets); k++) {
        for (size_t n = 0; n <= 4; n++) {
            char *a = answer_compose("Apa sanksi [1]?", sets[k], n, n == 3 ? 900 : 0);
            check_answer(a, __LINE__);
            check_pieces(a);
            free(a);
        }
    }
    free(l1);
    free(l2);
}

/* ---------------------------------------------------------------- determinism */

static void test_deterministic(void **state)
{
    (void)state;
    char *l = long_text(5, 6);
    struct answer_ref refs[] = {ref_uu31(1, "2", T_UU31_2), ref_pp(2, l), ref_kuhp(3),
                                ref_uu91(4, "1", "definition", T_DEF)};
    /* the same refs again, every string at another address */
    struct answer_ref copy[ARRAY_LEN(refs)];
    char *owned[ARRAY_LEN(refs)][7];
    for (size_t i = 0; i < ARRAY_LEN(refs); i++) {
        copy[i] = refs[i];
        const char **f[] = {&copy[i].doc_id, &copy[i].doc_type, &copy[i].number, &copy[i].title,
                            &copy[i].pasal,  &copy[i].kind,     &copy[i].text};
        for (size_t j = 0; j < 7; j++) {
            owned[i][j] = *f[j] ? strdup(*f[j]) : NULL;
            *f[j] = owned[i][j];
        }
    }
    for (size_t max = 0; max <= 3000; max += 500) {
        char *a = answer_compose("q", refs, ARRAY_LEN(refs), max);
        char *b = answer_compose("q", refs, ARRAY_LEN(refs), max);
        char *c = answer_compose("q", copy, ARRAY_LEN(copy), max);
        assert_string_equal(a, b);
        assert_string_equal(a, c);
        free(a);
        free(b);
        free(c);
    }
    for (size_t i = 0; i < ARRAY_LEN(refs); i++)
        for (size_t j = 0; j < 7; j++)
            free(owned[i][j]);
    free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_refs),       cmocka_unit_test(test_one_ref_exact),
        cmocka_unit_test(test_three_refs),    cmocka_unit_test(test_many_refs),
        cmocka_unit_test(test_definition),    cmocka_unit_test(test_names),
        cmocka_unit_test(test_excerpts),      cmocka_unit_test(test_excerpt_utf8),
        cmocka_unit_test(test_huge_text),     cmocka_unit_test(test_max_bytes),
        cmocka_unit_test(test_piece_cases),   cmocka_unit_test(test_pieces_of_answers),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
