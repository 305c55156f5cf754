/* tests/unit/test_prompt.c -- the chat model's messages (shared/prompt.c): the system prompt
 * first, the newest history that fits the budget, articles numbered and cut at a character
 * limit without splitting UTF-8, the question last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../shared/prompt.c"

static const char *content(json_t *msgs, size_t i)
{
    return json_string_value(json_object_get(json_array_get(msgs, i), "content"));
}

static const char *role(json_t *msgs, size_t i)
{
    return json_string_value(json_object_get(json_array_get(msgs, i), "role"));
}

static void test_shape(void **state)
{
    (void)state;
    struct prompt_article arts[] = {
        {"Undang-Undang Nomor 7 Tahun 2031", "5", NULL, "Kebun Raya dibuka setiap hari."},
        {"Peraturan Pemerintah Nomor 12 Tahun 2031", "8", "1", "Izin diberikan oleh menteri."},
    };
    struct prompt_turn turns[] = {{"user", "satu"}, {"assistant", "dua"}, {"user", "tiga"}};
    json_t *m = prompt_messages("Kapan kebun raya dibuka?", arts, 2, turns, 3, 100, 1000);
    assert_non_null(m);
    assert_int_equal(json_array_size(m), 5);
    assert_string_equal(role(m, 0), "system");
    assert_string_equal(content(m, 0), prompt_system);
    assert_string_equal(content(m, 1), "satu");
    assert_string_equal(role(m, 3), "user");
    assert_string_equal(role(m, 4), "user");
    const char *u = content(m, 4);
    assert_non_null(strstr(u, "[1] Undang-Undang Nomor 7 Tahun 2031, Pasal 5\nKebun Raya dibuka"));
    assert_non_null(strstr(u, "[2] Peraturan Pemerintah Nomor 12 Tahun 2031, Pasal 8 ayat (1)"));
    assert_true(strstr(u, "[1]") < strstr(u, "[2]"));
    assert_non_null(strstr(u, "Pertanyaan: Kapan kebun raya dibuka?"));
    json_decref(m);
}

static void test_history_budget(void **state)
{
    (void)state;
    struct prompt_turn turns[] = {
        {"user", "aaaaaaaaaa"}, {"assistant", "bbbbbbbbbb"}, {"user", "cccccccccc"}};
    json_t *m = prompt_messages("q", NULL, 0, turns, 3, 25, 100); /* room for two turns */
    assert_int_equal(json_array_size(m), 4);
    assert_string_equal(content(m, 1), "bbbbbbbbbb");
    assert_string_equal(content(m, 2), "cccccccccc");
    assert_non_null(strstr(content(m, 3), "Tidak ada pasal"));
    json_decref(m);
    m = prompt_messages("q", NULL, 0, turns, 3, 0, 100); /* no history at all */
    assert_int_equal(json_array_size(m), 2);
    json_decref(m);
}

static void test_article_cut_utf8(void **state)
{
    (void)state;
    /* "é" is two bytes: cutting at any character count must keep the text valid UTF-8 */
    struct prompt_article a = {"T", "1", NULL, "éééééééééé"};
    for (size_t max = 0; max <= 12; max++) {
        json_t *m = prompt_messages("q", &a, 1, NULL, 0, 0, max);
        assert_non_null(m); /* Jansson refuses invalid UTF-8: non-NULL means valid */
        const char *u = content(m, 1);
        size_t want = max < 10 ? max : 10;
        const char *t = strstr(u, "Pasal 1\n") + strlen("Pasal 1\n");
        size_t got = 0;
        for (const char *p = t; *p && *p != ' ' && *p != '\n'; p++)
            got += ((unsigned char)*p & 0xc0) != 0x80;
        assert_int_equal(got, want);
        assert_int_equal(strstr(u, " ...") != NULL, max < 10);
        json_decref(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_history_budget),
        cmocka_unit_test(test_article_cut_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
