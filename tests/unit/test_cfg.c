/* tests/unit/test_cfg.c -- the configuration (shared/cfg.c): defaults, files overriding them,
 * errors naming the line (unknown key, out of range, bad bool, syntax), environment overrides
 * winning over the file, the out_low < out_high rule, a missing file; and the docs test: the
 * keys of cfg_keys() and those of config/lexrag.conf.example are the same, section by section,
 * and the example's values are the embedded defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../shared/cfg.c"
#include "../../shared/log.c"

extern char **environ;

/* Tests must not see LEXRAG_* from the environment they were started in. */
static int clear_env(void **state)
{
    (void)state;
    for (;;) {
        char **e = environ;
        while (*e != NULL && strncmp(*e, "LEXRAG_", 7) != 0)
            e++;
        if (*e == NULL)
            return 0;
        char name[256];
        size_t n = strcspn(*e, "=");
        snprintf(name, sizeof name, "%.*s", (int)n, *e);
        unsetenv(name);
    }
}

/* A config file in a temporary directory; the path is static, the file removed by rm_conf. */
static char conf_path[256];

static const char *write_conf(const char *text)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(conf_path, sizeof conf_path, "%s/test_cfg.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(conf_path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
    return conf_path;
}

static void rm_conf(void)
{
    unlink(conf_path);
}

static void check_value(const struct cfg *c, int line, const char *section, const char *key,
                        const char *want)
{
    char got[LX_CFG_STR_MAX_BYTES + 16];
    if (cfg_get_string(c, section, key, got, sizeof got) != 0)
        fail_msg("case at line %d: no key %s.%s", line, section, key);
    if (strcmp(got, want) != 0)
        fail_msg("case at line %d: %s.%s is '%s', want '%s'", line, section, key, got, want);
}

static const struct {
    int line;
    const char *section, *key, *want;
} default_cases[] = {
    {__LINE__, "server", "listen", ""},
    {__LINE__, "server", "max_body_bytes", "1048576"},
    {__LINE__, "server", "max_conns", "1024"},
    {__LINE__, "server", "request_timeout_ms", "120000"},
    {__LINE__, "server", "shutdown_grace_ms", "10000"},
    {__LINE__, "server", "out_high_bytes", "262144"},
    {__LINE__, "server", "out_low_bytes", "65536"},
    {__LINE__, "server", "max_in_flight", "512"},
    {__LINE__, "server", "retry_after_s", "1"},
    {__LINE__, "server", "test_routes", "false"},
    {__LINE__, "log", "level", "info"},
    {__LINE__, "log", "access", "true"},
    {__LINE__, "postgres", "conninfo", "dbname=lexrag"},
    {__LINE__, "postgres", "pool_size", "4"},
    {__LINE__, "postgres", "timeout_ms", "3000"},
    {__LINE__, "redis", "enabled", "true"},
    {__LINE__, "redis", "host", "127.0.0.1"},
    {__LINE__, "redis", "port", "6379"},
    {__LINE__, "redis", "password", ""},
    {__LINE__, "redis", "timeout_ms", "100"},
    {__LINE__, "redis", "embed_cache_ttl_s", "2592000"},
    {__LINE__, "embedder", "kind", "hash"},
    {__LINE__, "embedder", "dim", "384"},
    {__LINE__, "embedder", "url", "http://127.0.0.1:8000/v1/embeddings"},
    {__LINE__, "embedder", "model", "hash-v1"},
    {__LINE__, "embedder", "api_key", ""},
    {__LINE__, "embedder", "batch_size", "64"},
    {__LINE__, "embedder", "timeout_ms", "10000"},
    {__LINE__, "embedder", "retries", "2"},
    {__LINE__, "index", "dir", "/var/lib/lexrag/index"},
    {__LINE__, "index", "check_ms", "2000"},
    {__LINE__, "retrieval", "rrf_k", "10"},
    {__LINE__, "retrieval", "weight_bm25", "1"},
    {__LINE__, "retrieval", "weight_dense", "0.2"},
    {__LINE__, "retrieval", "bm25_k1", "0.9"},
    {__LINE__, "retrieval", "bm25_b", "0.75"},
    {__LINE__, "retrieval", "candidates", "50"},
    {__LINE__, "retrieval", "dense_ef", "200"},
    {__LINE__, "retrieval", "threads", "2"},
    {__LINE__, "retrieval", "embed_timeout_ms", "3000"},
    {__LINE__, "retrieval", "bm25_timeout_ms", "1000"},
    {__LINE__, "retrieval", "dense_timeout_ms", "1000"},
    {__LINE__, "retrieval", "cite_aliases", ""},
    {__LINE__, "chat", "top_k", "6"},
    {__LINE__, "chat", "piece_interval_ms", "15"},
    {__LINE__, "chat", "piece_max_bytes", "24"},
    {__LINE__, "chat", "ping_interval_ms", "5000"},
    {__LINE__, "chat", "spool_dir", "/var/lib/lexrag/spool"},
    {__LINE__, "chat", "spool_retry_ms", "2000"},
    {__LINE__, "chat", "spool_max_records", "100000"},
    {__LINE__, "generator", "kind", "extractive"},
    {__LINE__, "generator", "url", "http://127.0.0.1:8000/v1/chat/completions"},
    {__LINE__, "generator", "model", "gpt-4o-mini"},
    {__LINE__, "generator", "api_key", ""},
    {__LINE__, "generator", "timeout_ms", "120000"},
    {__LINE__, "generator", "max_tokens", "1024"},
    {__LINE__, "generator", "first_token_timeout_ms", "30000"},
    {__LINE__, "generator", "idle_timeout_ms", "30000"},
    {__LINE__, "generator", "fallback", "extractive"},
    {__LINE__, "generator", "temperature", "0.2"},
    {__LINE__, "generator", "history_max_chars", "4000"},
    {__LINE__, "generator", "article_max_chars", "1500"},
    {__LINE__, "breaker", "failures", "5"},
    {__LINE__, "breaker", "open_ms", "10000"},
    {__LINE__, "metrics", "publish_ms", "5000"},
    {__LINE__, "auth", "enabled", "false"},
    {__LINE__, "auth", "refresh_ms", "10000"},
    {__LINE__, "auth", "rate_per_min", "600"},
};

static void test_defaults(void **state)
{
    (void)state;
    struct cfg d, c;
    cfg_defaults(&d);
    assert_string_equal(d.listen, "");
    assert_int_equal(d.max_body_bytes, 1048576);
    assert_int_equal(d.max_conns, 1024);
    assert_int_equal(d.request_timeout_ms, 120000);
    assert_int_equal(d.shutdown_grace_ms, 10000);
    assert_int_equal(d.out_high_bytes, 262144);
    assert_int_equal(d.out_low_bytes, 65536);
    assert_int_equal(d.test_routes, 0);
    assert_string_equal(d.log_level, "info");
    assert_int_equal(d.access_log, 1);
    for (size_t i = 0; i < sizeof default_cases / sizeof default_cases[0]; i++)
        check_value(&d, default_cases[i].line, default_cases[i].section, default_cases[i].key,
                    default_cases[i].want);
    assert_int_equal(sizeof default_cases / sizeof default_cases[0], CFG_NROWS);

    /* no file, or an empty path: the defaults */
    char *err = (char *)"untouched";
    memset(&c, 0x5a, sizeof c);
    assert_int_equal(cfg_load(&c, NULL, &err), 0);
    assert_null(err);
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(cfg_load(&c, "", &err), 0);
    assert_memory_equal(&c, &d, sizeof c);
    /* an empty file, and one of comments only */
    assert_int_equal(cfg_load(&c, write_conf(""), &err), 0);
    rm_conf();
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(cfg_load(&c, write_conf("; nothing\n# here\n\n[server]\n[log]\n"), &err), 0);
    rm_conf();
    assert_memory_equal(&c, &d, sizeof c);

    char buf[8];
    assert_int_equal(cfg_get_string(&d, "server", "nope", buf, sizeof buf), -1);
    assert_int_equal(cfg_get_string(&d, "nope", "listen", buf, sizeof buf), -1);
}

/* Files that load: each row checks one key afterwards. */
static const struct {
    int line;
    const char *file;
    const char *section, *key, *want;
} good_cases[] = {
    {__LINE__, "[server]\nmax_body_bytes = 2048\n", "server", "max_body_bytes", "2048"},
    {__LINE__, "[server]\nmax_body_bytes = 2048\n", "server", "max_conns", "1024"},
    {__LINE__, "[server]\nlisten = /run/lexrag/w.sock\n", "server", "listen", "/run/lexrag/w.sock"},
    {__LINE__, "[server]\nlisten = 127.0.0.1:9000\n", "server", "listen", "127.0.0.1:9000"},
    {__LINE__, "[server]\nlisten =\n", "server", "listen", ""},
    {__LINE__, "[server]\nmax_conns = 1\n", "server", "max_conns", "1"},
    {__LINE__, "[server]\nmax_conns = 100000\n", "server", "max_conns", "100000"},
    {__LINE__, "[server]\nshutdown_grace_ms = 0\n", "server", "shutdown_grace_ms", "0"},
    {__LINE__, "[server]\nmax_body_bytes = 67108864\n", "server", "max_body_bytes", "67108864"},
    {__LINE__, "[server]\ntest_routes = true\n", "server", "test_routes", "true"},
    {__LINE__, "[server]\ntest_routes = yes\n", "server", "test_routes", "true"},
    {__LINE__, "[server]\ntest_routes = On\n", "server", "test_routes", "true"},
    {__LINE__, "[server]\ntest_routes = 1\n", "server", "test_routes", "true"},
    {__LINE__, "[log]\naccess = false\n", "log", "access", "false"},
    {__LINE__, "[log]\naccess = no\n", "log", "access", "false"},
    {__LINE__, "[log]\naccess = OFF\n", "log", "access", "false"},
    {__LINE__, "[log]\naccess = 0\n", "log", "access", "false"},
    {__LINE__, "[log]\nlevel = debug\n", "log", "level", "debug"},
    {__LINE__, "[log]\nlevel = error\n", "log", "level", "error"},
    {__LINE__, "; comment\n[log]\n  level = warn  \n", "log", "level", "warn"},
    {__LINE__, "[server]\nout_high_bytes = 8192\nout_low_bytes = 4096\n", "server",
     "out_high_bytes", "8192"},
    {__LINE__, "[server]\nout_low_bytes = 0\n", "server", "out_low_bytes", "0"},
    {__LINE__, "[server]\nmax_conns = 5\nmax_conns = 6\n", "server", "max_conns", "6"},
    {__LINE__, "[log]\nlevel = warn\n[server]\nmax_conns = 7\n", "log", "level", "warn"},
    {__LINE__, "[log]\nlevel = warn\n[server]\nmax_conns = 7\n", "server", "max_conns", "7"},
};

static void test_file_overrides(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof good_cases / sizeof good_cases[0]; i++) {
        struct cfg c;
        char *err = NULL;
        int rc = cfg_load(&c, write_conf(good_cases[i].file), &err);
        rm_conf();
        if (rc != 0)
            fail_msg("case at line %d: %s", good_cases[i].line, err);
        assert_null(err);
        check_value(&c, good_cases[i].line, good_cases[i].section, good_cases[i].key,
                    good_cases[i].want);
    }
}

/* Files that do not load: the message names the line (1-based) and says what is wrong. */
static const struct {
    int line;
    const char *file;
    int bad_line; /* 0: no line in the message */
    const char *want1, *want2;
} bad_cases[] = {
    {__LINE__, "[server]\nbogus = 1\n", 2, "unknown key [server] bogus", NULL},
    {__LINE__, "[server]\nmax_conns = 5\n\n[log]\nlisten = x\n", 5, "unknown key [log] listen",
     NULL},
    {__LINE__, "[nosuch]\nlevel = info\n", 2, "unknown key [nosuch] level", NULL},
    {__LINE__, "max_conns = 5\n", 1, "unknown key", "max_conns"},
    {__LINE__, "[server]\nmax_conns = 0\n", 2, "server.max_conns", "from 1 to 100000"},
    {__LINE__, "[server]\nmax_conns = 100001\n", 2, "server.max_conns", "from 1 to 100000"},
    {__LINE__, "[server]\nmax_body_bytes = 67108865\n", 2, "server.max_body_bytes", "67108864"},
    {__LINE__, "[server]\nrequest_timeout_ms = 99\n", 2, "server.request_timeout_ms", "99"},
    {__LINE__, "[server]\nmax_conns = -1\n", 2, "server.max_conns", "-1"},
    {__LINE__, "[server]\nmax_conns = 12abc\n", 2, "server.max_conns", "12abc"},
    {__LINE__, "[server]\nmax_conns = 99999999999999999999999\n", 2, "server.max_conns", NULL},
    {__LINE__, "[server]\nmax_conns =\n", 2, "server.max_conns", NULL},
    {__LINE__, "[server]\ntest_routes = maybe\n", 2, "server.test_routes", "maybe"},
    {__LINE__, "[server]\ntest_routes = 2\n", 2, "server.test_routes", NULL},
    {__LINE__, "[log]\naccess = \n", 2, "log.access", NULL},
    {__LINE__, "[log]\nlevel = verbose\n", 2, "log.level", "verbose"},
    {__LINE__, "[server]\nthis line has no equals sign\n", 2, "syntax error", NULL},
    /* the first error is the one reported, with its own line */
    {__LINE__, "[server]\nnonsense\nmax_connsx = 5\n", 2, "syntax error", NULL},
    {__LINE__, "[server]\nmax_connsx = 5\nnonsense\n", 2, "unknown key [server] max_connsx", NULL},
    {__LINE__, "[server\nmax_conns = 5\n", 1, "syntax error", NULL},
    {__LINE__, "[embedder]\napi_key = sk-123\n", 2, "is a secret", "LEXRAG_EMBEDDER_API_KEY"},
    {__LINE__, "[retrieval]\nweight_dense = 101\n", 2, "retrieval.weight_dense", "from 0 to 100"},
    {__LINE__, "[retrieval]\nbm25_b = x\n", 2, "retrieval.bm25_b", NULL},
    {__LINE__, "[server]\nmax_conns = 5\nfoo = 1\nbar = 2\n", 3, "foo", NULL},
    {__LINE__, "[server]\nout_low_bytes = 300000\n", 0, "out_low_bytes", "out_high_bytes"},
    {__LINE__, "[server]\nout_low_bytes = 262144\n", 0, "out_low_bytes", "out_high_bytes"},
    {__LINE__, "[server]\nout_high_bytes = 4096\nout_low_bytes = 4096\n", 0, "out_low_bytes", NULL},
};

static void test_file_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        struct cfg c, before;
        memset(&c, 0x33, sizeof c);
        before = c;
        char *err = NULL;
        const char *path = write_conf(bad_cases[i].file);
        int rc = cfg_load(&c, path, &err);
        rm_conf();
        int line = bad_cases[i].line;
        if (rc != -1 || err == NULL)
            fail_msg("case at line %d: loaded (rc %d)", line, rc);
        if (memcmp(&c, &before, sizeof c) != 0)
            fail_msg("case at line %d: *c changed on failure", line);
        char want_line[32];
        snprintf(want_line, sizeof want_line, "line %d:", bad_cases[i].bad_line);
        if (bad_cases[i].bad_line != 0 &&
            (strstr(err, want_line) == NULL || strstr(err, path) == NULL))
            fail_msg("case at line %d: '%s' does not name %s of %s", line, err, want_line, path);
        if (bad_cases[i].bad_line == 0 && strstr(err, "line ") != NULL)
            fail_msg("case at line %d: '%s' names a line", line, err);
        if ((bad_cases[i].want1 && strstr(err, bad_cases[i].want1) == NULL) ||
            (bad_cases[i].want2 && strstr(err, bad_cases[i].want2) == NULL))
            fail_msg("case at line %d: '%s' lacks '%s' / '%s'", line, err, bad_cases[i].want1,
                     bad_cases[i].want2 ? bad_cases[i].want2 : "");
        free(err);
    }
}

/* Strings: a file line longer than libinih's line limit (200 bytes in Debian's build) is refused,
 * not silently cut; from the environment the limit is LX_CFG_STR_MAX_BYTES. */
static void test_string_too_long(void **state)
{
    (void)state;
    char text[LX_CFG_STR_MAX_BYTES + 64], val[LX_CFG_STR_MAX_BYTES + 1];
    memset(val, 'p', LX_CFG_STR_MAX_BYTES);
    val[LX_CFG_STR_MAX_BYTES] = '\0';
    snprintf(text, sizeof text, "[server]\nlisten = %.300s\n", val);
    struct cfg c;
    char *err = NULL;
    assert_int_equal(cfg_load(&c, write_conf(text), &err), -1);
    rm_conf();
    assert_non_null(err);
    free(err);
    /* 150 bytes are fine in a file */
    snprintf(text, sizeof text, "[server]\nlisten = /%.149s\n", val);
    assert_int_equal(cfg_load(&c, write_conf(text), &err), 0);
    rm_conf();
    assert_int_equal(strlen(c.listen), 150);

    assert_int_equal(setenv("LEXRAG_SERVER_LISTEN", val, 1), 0);
    assert_int_equal(cfg_load(&c, NULL, &err), -1);
    assert_non_null(strstr(err, "LEXRAG_SERVER_LISTEN"));
    assert_non_null(strstr(err, "longer than 511 bytes"));
    free(err);
    val[LX_CFG_STR_MAX_BYTES - 1] = '\0'; /* 511 bytes fit */
    assert_int_equal(setenv("LEXRAG_SERVER_LISTEN", val, 1), 0);
    assert_int_equal(cfg_load(&c, NULL, &err), 0);
    unsetenv("LEXRAG_SERVER_LISTEN");
    assert_int_equal(strlen(c.listen), LX_CFG_STR_MAX_BYTES - 1);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct cfg c;
    char *err = NULL;
    const char *path = "/nonexistent/lexrag-test/lexrag.conf";
    assert_int_equal(cfg_load(&c, path, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    free(err);
}

/* The environment wins over the file; a bad value there is an error naming the variable. */
static const struct {
    int line;
    const char *file, *var, *value;
    int rc;
    const char *section, *key, *want; /* rc 0: this value; rc -1: in the message */
} env_cases[] = {
    {__LINE__, "[server]\nmax_body_bytes = 2048\n", "LEXRAG_SERVER_MAX_BODY_BYTES", "4096", 0,
     "server", "max_body_bytes", "4096"},
    {__LINE__, NULL, "LEXRAG_SERVER_MAX_BODY_BYTES", "4096", 0, "server", "max_body_bytes", "4096"},
    {__LINE__, "[server]\nlisten = /a.sock\n", "LEXRAG_SERVER_LISTEN", "127.0.0.1:9001", 0,
     "server", "listen", "127.0.0.1:9001"},
    {__LINE__, "[server]\ntest_routes = false\n", "LEXRAG_SERVER_TEST_ROUTES", "true", 0, "server",
     "test_routes", "true"},
    {__LINE__, "[log]\nlevel = error\n", "LEXRAG_LOG_LEVEL", "debug", 0, "log", "level", "debug"},
    {__LINE__, "[log]\naccess = true\n", "LEXRAG_LOG_ACCESS", "off", 0, "log", "access", "false"},
    {__LINE__, "[server]\nmax_body_bytes = 2048\n", "LEXRAG_SERVER_MAX_BODY_BYTES", "0", -1, NULL,
     NULL, "LEXRAG_SERVER_MAX_BODY_BYTES"},
    {__LINE__, NULL, "LEXRAG_SERVER_TEST_ROUTES", "sometimes", -1, NULL, NULL,
     "LEXRAG_SERVER_TEST_ROUTES"},
    {__LINE__, NULL, "LEXRAG_LOG_LEVEL", "loud", -1, NULL, NULL, "log.level"},
    {__LINE__, "[server]\nout_high_bytes = 100000\n", "LEXRAG_SERVER_OUT_LOW_BYTES", "100000", -1,
     NULL, NULL, "out_low_bytes"},
    {__LINE__, "[server]\nout_low_bytes = 5000\n", "LEXRAG_SERVER_OUT_HIGH_BYTES", "4096", -1, NULL,
     NULL, "out_low_bytes"},
    /* an unknown LEXRAG_ variable is not a key: ignored */
    {__LINE__, NULL, "LEXRAG_SERVER_NO_SUCH_KEY", "1", 0, "server", "max_conns", "1024"},
};

static void test_env_overrides(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof env_cases / sizeof env_cases[0]; i++) {
        int line = env_cases[i].line;
        struct cfg c;
        char *err = NULL;
        assert_int_equal(setenv(env_cases[i].var, env_cases[i].value, 1), 0);
        const char *path = env_cases[i].file ? write_conf(env_cases[i].file) : NULL;
        int rc = cfg_load(&c, path, &err);
        if (path != NULL)
            rm_conf();
        unsetenv(env_cases[i].var);
        if (rc != env_cases[i].rc)
            fail_msg("case at line %d: rc %d (%s)", line, rc, err ? err : "");
        if (rc == 0) {
            check_value(&c, line, env_cases[i].section, env_cases[i].key, env_cases[i].want);
        } else if (err == NULL || strstr(err, env_cases[i].want) == NULL) {
            fail_msg("case at line %d: '%s' lacks '%s'", line, err ? err : "(null)",
                     env_cases[i].want);
        }
        free(err);
    }
}

/* ---- the docs test ---------------------------------------------------------------------- */

/* The checkout: LX_ROOT (tests/run sets it), else two levels above this source file. */
static void example_path(char *out, size_t cap)
{
    const char *root = getenv("LX_ROOT");
    if (root != NULL && root[0] != '\0') {
        snprintf(out, cap, "%s/config/lexrag.conf.example", root);
        return;
    }
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dlen = slash ? (int)(slash - file) : 1;
    snprintf(out, cap, "%.*s/../../config/lexrag.conf.example", dlen, slash ? file : ".");
}

struct doc_key {
    char section[64], key[64];
    int line, matched;
};

/* Read the example: each `key =` line (not a comment) under its [section]. */
static size_t read_example(const char *path, struct doc_key *keys, size_t max)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s (set LX_ROOT to the checkout)", path);
    char line[1024], section[64] = "";
    size_t n = 0;
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = line + strspn(line, " \t");
        if (*s == ';' || *s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end == NULL)
                fail_msg("%s:%d: bad section line", path, lineno);
            snprintf(section, sizeof section, "%.*s", (int)(end - s - 1), s + 1);
            continue;
        }
        size_t klen = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");
        char *after = s + klen + strspn(s + klen, " \t");
        if (klen == 0 || *after != '=')
            fail_msg("%s:%d: not a `key =` line: %s", path, lineno, line);
        if (section[0] == '\0')
            fail_msg("%s:%d: key outside any section", path, lineno);
        if (n == max)
            fail_msg("%s: more than %zu keys", path, max);
        snprintf(keys[n].section, sizeof keys[n].section, "%s", section);
        snprintf(keys[n].key, sizeof keys[n].key, "%.*s", (int)klen, s);
        keys[n].line = lineno;
        keys[n].matched = 0;
        n++;
    }
    fclose(f);
    return n;
}

static void test_docs_agree(void **state)
{
    (void)state;
    char path[1024];
    example_path(path, sizeof path);
    struct doc_key doc[128];
    size_t ndoc = read_example(path, doc, sizeof doc / sizeof doc[0]);
    assert_true(ndoc > 0);

    const struct cfg_key_info *keys;
    size_t nkeys = cfg_keys(&keys);
    assert_int_equal(nkeys, CFG_NROWS);
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].help == NULL || keys[i].help[0] == '\0')
            fail_msg("%s.%s has no help text", keys[i].section, keys[i].key);
        if (keys[i].secret) { /* documented by its environment variable */
            char var[160], text[65536];
            snprintf(var, sizeof var, "LEXRAG_%s_%s", keys[i].section, keys[i].key);
            for (char *p = var; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            FILE *f = fopen(path, "r");
            size_t len = f ? fread(text, 1, sizeof text - 1, f) : 0;
            if (f)
                fclose(f);
            text[len] = '\0';
            if (strstr(text, var) == NULL)
                fail_msg("secret %s.%s: %s is not mentioned in %s", keys[i].section, keys[i].key,
                         var, path);
            continue;
        }
        int found = 0;
        for (size_t k = 0; k < ndoc; k++) {
            if (strcmp(doc[k].section, keys[i].section) == 0 &&
                strcmp(doc[k].key, keys[i].key) == 0) {
                found++;
                doc[k].matched = 1;
            }
        }
        if (found != 1)
            fail_msg("key %s.%s appears %d times as `%s =` under [%s] in %s", keys[i].section,
                     keys[i].key, found, keys[i].key, keys[i].section, path);
    }
    for (size_t k = 0; k < ndoc; k++)
        if (!doc[k].matched)
            fail_msg("%s:%d: [%s] %s is not a known key", path, doc[k].line, doc[k].section,
                     doc[k].key);

    /* "the values shown are the embedded defaults": loading the example changes nothing */
    struct cfg c, d;
    char *err = NULL;
    if (cfg_load(&c, path, &err) != 0)
        fail_msg("the example does not load: %s", err);
    cfg_defaults(&d);
    for (size_t i = 0; i < nkeys; i++) {
        char got[LX_CFG_STR_MAX_BYTES], want[LX_CFG_STR_MAX_BYTES];
        cfg_get_string(&c, keys[i].section, keys[i].key, got, sizeof got);
        cfg_get_string(&d, keys[i].section, keys[i].key, want, sizeof want);
        if (strcmp(got, want) != 0)
            fail_msg("%s: %s.%s = %s, but the default is %s", path, keys[i].section, keys[i].key,
                     got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_file_overrides),
        cmocka_unit_test(test_file_errors),  cmocka_unit_test(test_string_too_long),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_env_overrides),
        cmocka_unit_test(test_docs_agree),
    };
    return cmocka_run_group_tests(tests, clear_env, NULL);
}
