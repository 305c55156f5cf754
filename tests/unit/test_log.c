/* tests/unit/test_log.c -- logging (shared/log.c): log_quote (bare or quoted, escapes,
 * truncation that never cuts an escape nor overruns cap), level names, and the line format
 * written to stderr (captured through a pipe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shared/log.c"

static const struct {
    int line;
    const char *in;
    const char *want; /* with a large buffer */
} quote_cases[] = {
    {__LINE__, "abc", "abc"},
    {__LINE__, "/api/search", "/api/search"},
    {__LINE__, "7f3a-09", "7f3a-09"},
    {__LINE__, "", "\"\""},
    {__LINE__, NULL, "\"\""},
    {__LINE__, "a b", "\"a b\""},
    {__LINE__, " ", "\" \""},
    {__LINE__, "say \"hi\"", "\"say \\\"hi\\\"\""},
    {__LINE__, "a\"b", "\"a\\\"b\""},
    {__LINE__, "C:\\dir", "\"C:\\\\dir\""},
    {__LINE__, "k=v", "\"k=v\""},
    {__LINE__, "line1\nline2", "\"line1\\x0aline2\""},
    {__LINE__, "tab\there", "\"tab\\x09here\""},
    {__LINE__, "\r", "\"\\x0d\""},
    {__LINE__, "del\x7f", "\"del\\x7f\""},
    {__LINE__, "\x1b[31m", "\"\\x1b[31m\""},
    {__LINE__,
     "Pasal\xc2\xa0"
     "2",
     "Pasal\xc2\xa0"
     "2"}, /* UTF-8 bytes pass as they are */
    {__LINE__, "é", "é"},
    {__LINE__, "ayat (1)", "\"ayat (1)\""},
};

static void test_quote(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof quote_cases / sizeof quote_cases[0]; c++) {
        char out[256];
        memset(out, 'Z', sizeof out);
        const char *r = log_quote(out, sizeof out, quote_cases[c].in);
        if (r != out || strcmp(out, quote_cases[c].want) != 0)
            fail_msg("case at line %d: got [%s] want [%s]", quote_cases[c].line, out,
                     quote_cases[c].want);
    }
}

/* Undo log_quote's quoting; returns 0 if out is not a well-formed quoted value. */
static int unquote(const char *q, char *out, size_t cap)
{
    size_t n = strlen(q), o = 0;
    if (n < 2 || q[0] != '"' || q[n - 1] != '"')
        return 0;
    for (size_t i = 1; i < n - 1; i++) {
        if (o + 1 >= cap)
            return 0;
        if (q[i] != '\\') {
            out[o++] = q[i];
            continue;
        }
        if (i + 1 >= n - 1)
            return 0;
        if (q[i + 1] == '"' || q[i + 1] == '\\') {
            out[o++] = q[++i];
        } else if (q[i + 1] == 'x' && i + 3 < n - 1) {
            unsigned v;
            if (sscanf(q + i + 2, "%2x", &v) != 1)
                return 0;
            out[o++] = (char)v;
            i += 3;
        } else {
            return 0;
        }
    }
    out[o] = '\0';
    return 1;
}

/* Every buffer size: the result fits (NUL included), a bare value is a prefix of the input, and
 * from 3 bytes on a quoted one is well formed and unquotes to a prefix of the input. */
static void test_quote_truncation(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "abcdefghijklmnop", "a b c d e f g h",  "\"\"\"\"\"\"\"\"",
        "\n\n\n\n\n\n\n",   "x\\y\\z\\w\\v\\u", "mix \"q\" \\ \x01 end",
    };
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        const char *in = inputs[k];
        for (unsigned cap = 1; cap <= 64; cap++) {
            char out[80], plain[80];
            memset(out, 'Z', sizeof out);
            log_quote(out, cap, in);
            size_t len = strnlen(out, sizeof out);
            if (len >= cap)
                fail_msg("input %zu cap %u: %zu bytes", k, cap, len);
            for (size_t i = cap; i < sizeof out; i++)
                if (out[i] != 'Z')
                    fail_msg("input %zu cap %u: byte %zu written", k, cap, i);
            if (out[0] != '"') {
                if (strncmp(out, in, len) != 0)
                    fail_msg("input %zu cap %u: bare [%s] is not a prefix", k, cap, out);
                continue;
            }
            if (cap < 3)
                continue;
            if (!unquote(out, plain, sizeof plain) || strncmp(plain, in, strlen(plain)) != 0)
                fail_msg("input %zu cap %u: quoted [%s] is not a prefix", k, cap, out);
        }
    }
    char out[4] = "xyz";
    log_quote(out, 0, "abc"); /* no room at all: untouched */
    assert_string_equal(out, "xyz");
    log_quote(out, 1, "abc");
    assert_string_equal(out, "");
}

static const struct {
    int line;
    const char *name;
    int rc;
    enum log_level want;
} level_cases[] = {
    {__LINE__, "debug", 0, LOG_LVL_DEBUG}, {__LINE__, "info", 0, LOG_LVL_INFO},
    {__LINE__, "warn", 0, LOG_LVL_WARN},   {__LINE__, "error", 0, LOG_LVL_ERROR},
    {__LINE__, "INFO", 0, LOG_LVL_INFO},   {__LINE__, "Warn", 0, LOG_LVL_WARN},
    {__LINE__, "warning", -1, 0},          {__LINE__, "", -1, 0},
    {__LINE__, "verbose", -1, 0},          {__LINE__, "info ", -1, 0},
};

static void test_levels(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof level_cases / sizeof level_cases[0]; c++) {
        enum log_level l = LOG_LVL_ERROR;
        int rc = log_level_parse(level_cases[c].name, &l);
        if (rc != level_cases[c].rc || (rc == 0 && l != level_cases[c].want))
            fail_msg("case at line %d: rc %d level %d", level_cases[c].line, rc, (int)l);
    }
    log_set_level(LOG_LVL_WARN);
    assert_false(log_enabled(LOG_LVL_DEBUG));
    assert_false(log_enabled(LOG_LVL_INFO));
    assert_true(log_enabled(LOG_LVL_WARN));
    assert_true(log_enabled(LOG_LVL_ERROR));
    log_set_level(LOG_LVL_INFO);
}

/* Run fn with stderr going into a pipe; return what it wrote (malloc'ed). */
static char *capture_stderr(void (*fn)(void))
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    close(fds[1]);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    char *buf = malloc(65536);
    assert_non_null(buf);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + n, 65535 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    buf[n] = '\0';
    return buf;
}

static void write_lines(void)
{
    log_set_level(LOG_LVL_INFO);
    log_debug("r1", "msg=hidden");
    log_info("7f3a", "msg=%s status=%d", "hello", 200);
    log_warn(NULL, "msg=no_request");
    log_error("", "msg=empty_request");
    char big[6000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_info("r2", "msg=%s", big);
}

static void test_line_format(void **state)
{
    (void)state;
    char *out = capture_stderr(write_lines);
    assert_null(strstr(out, "hidden"));
    char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1,
         *l4 = strchr(l3, '\n') + 1;
    assert_memory_equal(l1, "ts=", 3);
    /* ts=2026-11-24T10:00:00.123Z */
    assert_int_equal(l1[7], '-');
    assert_int_equal(l1[13], 'T');
    assert_int_equal(l1[26], 'Z');
    assert_int_equal(l1[27], ' ');
    char want[128];
    snprintf(want, sizeof want, " level=info pid=%d req=7f3a msg=hello status=200\n",
             (int)getpid());
    assert_int_equal(strncmp(l1 + 27, want, strlen(want)), 0);
    snprintf(want, sizeof want, " level=warn pid=%d req=- msg=no_request\n", (int)getpid());
    assert_int_equal(strncmp(l2 + 27, want, strlen(want)), 0);
    snprintf(want, sizeof want, " level=error pid=%d req=- msg=empty_request\n", (int)getpid());
    assert_int_equal(strncmp(l3 + 27, want, strlen(want)), 0);
    /* too long: truncated, still one line ending in a newline */
    char *end = strchr(l4, '\n');
    assert_non_null(end);
    assert_int_equal(end[1], '\0');
    assert_true((size_t)(end - l4 + 1) <= LOG_LINE_MAX_BYTES);
    assert_non_null(strstr(l4, "req=r2 msg=xxxx"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_truncation),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_line_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
