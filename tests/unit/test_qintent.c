/* tests/unit/test_qintent.c -- definition questions and their terms (shared/qintent.c), both
 * ways, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/qintent.c"

static const struct {
    int line;
    const char *q, *term; /* term NULL: not a definition question */
} cases[] = {
    {__LINE__, "Apa definisi Korupsi?", "Korupsi"},
    {__LINE__, "apa definisi korporasi", "korporasi"},
    {__LINE__, "Apa yang dimaksud dengan Pasar Terapung?", "Pasar Terapung"},
    {__LINE__, "  Apa   yang dimaksud dengan   Data Pribadi ? ", "Data Pribadi"},
    {__LINE__, "Apa pengertian Kunjungan Rombongan?", "Kunjungan Rombongan"},
    {__LINE__, "apa itu gratifikasi?", "gratifikasi"},
    {__LINE__, "Pengertian pekerja/buruh", "pekerja/buruh"},
    {__LINE__, "Definisi anak menurut UU 35/2014", "anak"},
    {__LINE__, "Apa definisi Tenaga Kerja dalam Undang-Undang Ketenagakerjaan?", "Tenaga Kerja"},
    {__LINE__, "Pemutusan Hubungan Kerja adalah apa?", "Pemutusan Hubungan Kerja"},
    {__LINE__, "apa arti \"upah minimum\"?", "upah minimum"},
    {__LINE__, "Apa maksud dari Sistem Elektronik?", "Sistem Elektronik"},
    {__LINE__, "Apa sanksi pidana korupsi?", NULL},
    {__LINE__, "Berapa lama cuti haid?", NULL},
    {__LINE__, "apa definisi", NULL},
    {__LINE__, "apa definisi ?", NULL},
    {__LINE__, "", NULL},
    {__LINE__, "apa itu hak pekerja jika perusahaan bangkrut dan tidak membayar pesangon?", NULL},
    {__LINE__, "apa yang dimaksud dengan pekerja, dan apa haknya?", NULL},
    {__LINE__, "pasal 1 UU 13/2003", NULL},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char term[LX_QINTENT_TERM_MAX_BYTES];
        int got = qintent_definition(cases[i].q, term, sizeof term);
        if (got != (cases[i].term != NULL))
            fail_msg("line %d: '%s' gave %d", cases[i].line, cases[i].q, got);
        if (got && strcmp(term, cases[i].term) != 0)
            fail_msg("line %d: term '%s', want '%s'", cases[i].line, term, cases[i].term);
    }
}

static void test_small_buffer_and_long_input(void **state)
{
    (void)state;
    char term[4];
    assert_int_equal(qintent_definition("apa definisi korupsi", term, sizeof term), 0);
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "apa definisi ", 13);
    char t[LX_QINTENT_TERM_MAX_BYTES];
    assert_int_equal(qintent_definition(big, t, sizeof t), 0); /* too long to be a term */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_small_buffer_and_long_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
