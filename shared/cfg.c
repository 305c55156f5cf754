/* shared/cfg.c -- table-driven INI configuration over libinih (see cfg.h). One table row per
 * key: where it lives in struct cfg, its type, range and default. */
#include "cfg.h"
#include "cite.h"
#include "limits.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* CT_SECRET: a string that may come only from the environment, never from the file. */
enum cfg_type { CT_ULONG, CT_BOOL, CT_STR, CT_LOGLEVEL, CT_DOUBLE, CT_SECRET };

struct cfg_row {
    struct cfg_key_info info;
    enum cfg_type type;
    size_t off, size;       /* size: for CT_STR */
    unsigned long min, max; /* CT_DOUBLE: the range is dmin..dmax */
    const char *def;
    double dmin, dmax;
};

#define U(sec, key, field, lo, hi, d, help)                                                        \
    {                                                                                              \
        {sec, key, help, 0}, CT_ULONG, offsetof(struct cfg, field), 0, lo, hi, d, 0, 0             \
    }
#define B(sec, key, field, d, help)                                                                \
    {                                                                                              \
        {sec, key, help, 0}, CT_BOOL, offsetof(struct cfg, field), 0, 0, 1, d, 0, 0                \
    }
#define S(sec, key, field, t, d, help)                                                             \
    {                                                                                              \
        {sec, key, help, 0}, t, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), 0,  \
            0, d, 0, 0                                                                             \
    }

#define D(sec, key, field, lo, hi, d, help)                                                        \
    {                                                                                              \
        {sec, key, help, 0}, CT_DOUBLE, offsetof(struct cfg, field), 0, 0, 0, d, lo, hi            \
    }

static const struct cfg_row cfg_rows[] = {
    S("server", "listen", listen, CT_STR, "",
      "socket to serve on when not given as fd 0: a path, or host:port"),
    U("server", "max_body_bytes", max_body_bytes, 1, 64UL << 20, "1048576",
      "largest request body; larger gets 413"),
    U("server", "max_conns", max_conns, 1, 100000, "1024",
      "FastCGI connections served at once by one worker"),
    U("server", "request_timeout_ms", request_timeout_ms, 100, 3600000, "120000",
      "a request still running after this gets 504 (or its stream ends)"),
    U("server", "shutdown_grace_ms", shutdown_grace_ms, 0, 600000, "10000",
      "on SIGTERM, how long in-flight requests may finish"),
    U("server", "out_high_bytes", out_high_bytes, 4096, 64UL << 20, "262144",
      "output queued to the web server above which producers pause"),
    U("server", "out_low_bytes", out_low_bytes, 0, 64UL << 20, "65536",
      "queued output below which paused producers resume"),
    U("server", "max_in_flight", max_in_flight, 1, 1000000, "512",
      "requests one worker serves at once; beyond it 503 with Retry-After at once"),
    U("server", "retry_after_s", retry_after_s, 1, 3600, "1", "the Retry-After of a 503 for load"),
    B("server", "test_routes", test_routes, "false",
      "serve the test-only routes under /api/_test/ (never in production)"),
    S("log", "level", log_level, CT_LOGLEVEL, "info", "debug, info, warn or error"),
    B("log", "access", access_log, "true", "one access line per request"),
    S("postgres", "conninfo", pg_conninfo, CT_STR, "dbname=lexrag",
      "libpq connection string; the password from PGPASSWORD or ~/.pgpass"),
    U("postgres", "pool_size", pg_pool_size, 1, 256, "4", "connections per worker"),
    U("postgres", "timeout_ms", pg_timeout_ms, 10, 600000, "3000", "one query's deadline"),
    B("redis", "enabled", redis_enabled, "true", "use Redis for the embedding cache"),
    S("redis", "host", redis_host, CT_STR, "127.0.0.1", "Redis host"),
    U("redis", "port", redis_port, 1, 65535, "6379", "Redis port"),
    S("redis", "password", redis_password, CT_SECRET, "", "LEXRAG_REDIS_PASSWORD only"),
    U("redis", "timeout_ms", redis_timeout_ms, 1, 60000, "100",
      "a cache look-up slower than this counts as a miss"),
    U("redis", "embed_cache_ttl_s", embed_cache_ttl_s, 1, 31536000, "2592000",
      "how long a cached query embedding lives"),
    S("embedder", "kind", emb_kind, CT_STR, "hash",
      "hash (built in, no network) or openai (any OpenAI-compatible /v1/embeddings)"),
    U("embedder", "dim", emb_dim, 8, 4096, "384", "vector dimension"),
    S("embedder", "url", emb_url, CT_STR, "http://127.0.0.1:8000/v1/embeddings",
      "the /v1/embeddings endpoint (kind = openai)"),
    S("embedder", "model", emb_model, CT_STR, "hash-v1",
      "model name sent upstream and keyed in the cache"),
    S("embedder", "api_key", emb_api_key, CT_SECRET, "", "LEXRAG_EMBEDDER_API_KEY only"),
    U("embedder", "batch_size", emb_batch, 1, 2048, "64", "texts per upstream call"),
    U("embedder", "timeout_ms", emb_timeout_ms, 10, 600000, "10000",
      "one upstream call's deadline"),
    U("embedder", "retries", emb_retries, 0, 10, "2", "retries of a failed call, with backoff"),
    S("index", "dir", index_dir, CT_STR, "/var/lib/lexrag/index",
      "where lexrag-ingest writes the BM25 and vector indexes and the workers read them"),
    U("index", "check_ms", index_check_ms, 100, 3600000, "2000",
      "how often workers look for a newer index"),
    D("retrieval", "rrf_k", rrf_k, 1, 1000, "10", "reciprocal rank fusion constant"),
    D("retrieval", "weight_bm25", weight_bm25, 0, 100, "1.0",
      "weight of the BM25 leg in the fusion"),
    D("retrieval", "weight_dense", weight_dense, 0, 100, "0.2",
      "weight of the dense leg in the fusion"),
    D("retrieval", "bm25_k1", bm25_k1, 0, 10, "0.9", "BM25 term-frequency saturation"),
    D("retrieval", "bm25_b", bm25_b, 0, 1, "0.75", "BM25 length normalisation"),
    U("retrieval", "candidates", candidates, 1, 1000, "50", "results taken from each leg"),
    U("retrieval", "dense_ef", dense_ef, 1, 4096, "200", "ANN search breadth"),
    U("retrieval", "threads", threads, 1, 64, "2", "search threads per worker (BM25, ANN)"),
    U("retrieval", "embed_timeout_ms", embed_timeout_ms, 10, 600000, "3000",
      "deadline of the query embedding (cache and embedder) in a search"),
    U("retrieval", "bm25_timeout_ms", bm25_timeout_ms, 10, 600000, "1000",
      "deadline of the BM25 leg"),
    U("retrieval", "dense_timeout_ms", dense_timeout_ms, 10, 600000, "1000",
      "deadline of the vector search once the embedding is there"),
    S("retrieval", "cite_aliases", cite_aliases, CT_STR, "",
      "extra code aliases for citations: NAME=DOC_ID, comma-separated (KUHP=KUHP)"),
    U("chat", "top_k", chat_top_k, 1, 20, "6", "articles retrieved for an answer"),
    U("chat", "piece_interval_ms", piece_interval_ms, 0, 10000, "15",
      "pace of the built-in generator's pieces"),
    U("chat", "piece_max_bytes", piece_max_bytes, 1, 4096, "24",
      "largest piece of the built-in generator"),
    U("chat", "ping_interval_ms", ping_interval_ms, 100, 600000, "5000",
      "an SSE comment this often while a stream waits"),
    S("chat", "spool_dir", spool_dir, CT_STR, "/var/lib/lexrag/spool",
      "exchanges wait here while PostgreSQL is down"),
    U("chat", "spool_retry_ms", spool_retry_ms, 100, 3600000, "2000",
      "how often spooled exchanges are retried"),
    U("chat", "spool_max_records", spool_max_records, 1, 10000000, "100000",
      "spooled exchanges at most (then they are logged and dropped)"),
    S("generator", "kind", gen_kind, CT_STR, "extractive",
      "extractive (built in, no network) or openai (any OpenAI-compatible chat endpoint)"),
    S("generator", "url", gen_url, CT_STR, "http://127.0.0.1:8000/v1/chat/completions",
      "the /v1/chat/completions endpoint (kind = openai)"),
    S("generator", "model", gen_model, CT_STR, "gpt-4o-mini", "model name sent upstream"),
    S("generator", "api_key", gen_api_key, CT_SECRET, "", "LEXRAG_GENERATOR_API_KEY only"),
    U("generator", "timeout_ms", gen_timeout_ms, 100, 3600000, "120000",
      "deadline of a whole answer"),
    U("generator", "max_tokens", gen_max_tokens, 0, 1000000, "1024",
      "longest answer in tokens (0: the server's default)"),
    U("generator", "first_token_timeout_ms", gen_first_token_timeout_ms, 100, 3600000, "30000",
      "the model's first token must come within this"),
    U("generator", "idle_timeout_ms", gen_idle_timeout_ms, 100, 3600000, "30000",
      "longest silence of the model between tokens"),
    S("generator", "fallback", gen_fallback, CT_STR, "extractive",
      "while the model is unavailable (breaker open): extractive or none (503)"),
    D("generator", "temperature", gen_temperature, 0, 2, "0.2", "sampling temperature"),
    U("generator", "history_max_chars", history_max_chars, 0, 1000000, "4000",
      "earlier turns of the conversation sent along, newest first, up to this many characters"),
    U("generator", "article_max_chars", article_max_chars, 100, 1000000, "1500",
      "each retrieved article is cut to this many characters in the prompt"),
    U("breaker", "failures", breaker_failures, 1, 1000, "5",
      "consecutive failures or timeouts of an upstream that open its circuit"),
    U("breaker", "open_ms", breaker_open_ms, 100, 3600000, "10000",
      "how long an open circuit refuses calls before one probe is let through"),
    U("metrics", "publish_ms", metrics_publish_ms, 0, 3600000, "5000",
      "how often a worker publishes its figures to Redis for the pool view (0: never)"),
    B("auth", "enabled", auth_enabled, "false",
      "require Authorization: Bearer KEY on /api/ and /v1/ (keys: lexrag-keys)"),
    U("auth", "refresh_ms", auth_refresh_ms, 100, 3600000, "10000",
      "how often workers re-read the API keys from PostgreSQL"),
    U("auth", "rate_per_min", auth_rate_per_min, 0, 1000000, "600",
      "requests per minute per key, shared by all workers through Redis (0: no limit)"),
};

#define CFG_NROWS (sizeof cfg_rows / sizeof cfg_rows[0])

static const struct cfg_row *cfg_find(const char *section, const char *key)
{
    for (size_t i = 0; i < CFG_NROWS; i++)
        if (strcasecmp(cfg_rows[i].info.section, section) == 0 &&
            strcasecmp(cfg_rows[i].info.key, key) == 0)
            return &cfg_rows[i];
    return NULL;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                "off"};
    for (unsigned i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* Set one value; on error write a message into err (cap bytes) and return -1. */
static int cfg_set(struct cfg *c, const struct cfg_row *r, const char *v, char *err, size_t cap)
{
    char *field = (char *)c + r->off;
    switch (r->type) {
    case CT_ULONG: {
        char *end;
        errno = 0;
        if (!isdigit((unsigned char)v[0]))
            goto bad;
        unsigned long n = strtoul(v, &end, 10);
        if (errno != 0 || *end != '\0' || n < r->min || n > r->max) {
            snprintf(err, cap, "%s.%s: %s is not a whole number from %lu to %lu", r->info.section,
                     r->info.key, v, r->min, r->max);
            return -1;
        }
        *(unsigned long *)field = n;
        return 0;
    }
    case CT_BOOL:
        if (parse_bool(v, (int *)field) != 0)
            goto bad;
        return 0;
    case CT_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (errno != 0 || end == v || *end != '\0' || !(d >= r->dmin && d <= r->dmax)) {
            snprintf(err, cap, "%s.%s: %s is not a number from %g to %g", r->info.section,
                     r->info.key, v, r->dmin, r->dmax);
            return -1;
        }
        *(double *)field = d;
        return 0;
    }
    case CT_LOGLEVEL:
    case CT_SECRET:
    case CT_STR: {
        enum log_level l;
        if (r->type == CT_LOGLEVEL && log_level_parse(v, &l) != 0)
            goto bad;
        if (strlen(v) >= r->size) {
            snprintf(err, cap, "%s.%s: value longer than %zu bytes", r->info.section, r->info.key,
                     r->size - 1);
            return -1;
        }
        memcpy(field, v, strlen(v) + 1);
        return 0;
    }
    }
bad:
    snprintf(err, cap, "%s.%s: invalid value '%.64s'", r->info.section, r->info.key, v);
    return -1;
}

void cfg_defaults(struct cfg *c)
{
    char err[256];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < CFG_NROWS; i++)
        if (cfg_set(c, &cfg_rows[i], cfg_rows[i].def, err, sizeof err) != 0)
            abort(); /* a bad default is a programmer error */
}

struct ini_ctx {
    struct cfg *c;
    FILE *f;
    int line, err_line; /* lines read so far; the line of err */
    char err[512];
};

/* Debian's libinih reports no line to the handler, and ini_parse() returns the first bad line
 * of any kind (a syntax error before a bad key would lend the key's message its line): read
 * through this reader, which counts lines as libinih does (one per read). */
static char *ini_read_line(char *buf, int cap, void *ud)
{
    struct ini_ctx *x = ud;
    char *s = fgets(buf, cap, x->f);
    if (s != NULL)
        x->line++;
    return s;
}

static int on_ini(void *ud, const char *section, const char *key, const char *value)
{
    struct ini_ctx *x = ud;
    const struct cfg_row *r = cfg_find(section, key);
    if (x->err[0] != '\0')
        return 0; /* keep the first error */
    x->err_line = x->line;
    if (r == NULL) {
        snprintf(x->err, sizeof x->err, "unknown key [%s] %s", section, key);
        return 0;
    }
    if (r->type == CT_SECRET) {
        snprintf(x->err, sizeof x->err,
                 "[%s] %s is a secret: set it in the environment as LEXRAG_%s_%s, not in the file",
                 section, key, r->info.section, r->info.key);
        for (char *p = strstr(x->err, "LEXRAG_"); p && *p; p++)
            *p = (char)toupper((unsigned char)*p);
        return 0;
    }
    char e[400];
    if (cfg_set(x->c, r, value, e, sizeof e) != 0) {
        snprintf(x->err, sizeof x->err, "%s", e);
        return 0;
    }
    return 1;
}

static char *dup_msg(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

int cfg_load(struct cfg *c, const char *path, char **err)
{
    struct cfg tmp;
    *err = NULL;
    cfg_defaults(&tmp);
    if (path != NULL && path[0] != '\0') {
        struct stat st;
        if (stat(path, &st) != 0) {
            *err = dup_msg("%s: %s", path, strerror(errno));
            return -1;
        }
        if (st.st_size > LX_CONFIG_MAX_BYTES) {
            *err = dup_msg("%s: larger than %d bytes", path, LX_CONFIG_MAX_BYTES);
            return -1;
        }
        struct ini_ctx x = {.c = &tmp, .f = fopen(path, "r")};
        if (x.f == NULL) {
            *err = dup_msg("%s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        int rc = ini_parse_stream(ini_read_line, &x, on_ini, &x);
        fclose(x.f);
        if (rc < 0) {
            *err = dup_msg("%s: cannot parse", path);
            return -1;
        }
        if (rc > 0) {
            *err = x.err[0] && x.err_line == rc ? dup_msg("%s: line %d: %s", path, rc, x.err)
                                                : dup_msg("%s: line %d: syntax error", path, rc);
            return -1;
        }
    }
    for (size_t i = 0; i < CFG_NROWS; i++) { /* LEXRAG_SERVER_LISTEN and the like */
        char name[128], e[400];
        int n = snprintf(name, sizeof name, "LEXRAG_%s_%s", cfg_rows[i].info.section,
                         cfg_rows[i].info.key);
        for (int k = 0; k < n; k++)
            name[k] = (char)toupper((unsigned char)name[k]);
        const char *v = getenv(name);
        if (v != NULL && cfg_set(&tmp, &cfg_rows[i], v, e, sizeof e) != 0) {
            *err = dup_msg("environment %s: %s", name, e);
            return -1;
        }
    }
    if (tmp.out_low_bytes >= tmp.out_high_bytes) {
        *err = dup_msg("server.out_low_bytes must be below server.out_high_bytes");
        return -1;
    }
    char cerr[200];
    struct cite_alias *al = cite_aliases_new(tmp.cite_aliases, cerr, sizeof cerr);
    if (al == NULL) {
        *err = dup_msg("retrieval.%s", cerr);
        return -1;
    }
    cite_aliases_free(al);
    if (strcmp(tmp.gen_kind, "extractive") != 0 && strcmp(tmp.gen_kind, "openai") != 0) {
        *err = dup_msg("generator.kind must be extractive or openai, not \"%s\"", tmp.gen_kind);
        return -1;
    }
    if (strcmp(tmp.gen_fallback, "extractive") != 0 && strcmp(tmp.gen_fallback, "none") != 0) {
        *err =
            dup_msg("generator.fallback must be extractive or none, not \"%s\"", tmp.gen_fallback);
        return -1;
    }
    *c = tmp;
    return 0;
}

size_t cfg_keys(const struct cfg_key_info **out)
{
    static struct cfg_key_info infos[CFG_NROWS];
    for (size_t i = 0; i < CFG_NROWS; i++) {
        infos[i] = cfg_rows[i].info;
        infos[i].secret = cfg_rows[i].type == CT_SECRET;
    }
    *out = infos;
    return CFG_NROWS;
}

int cfg_get_string(const struct cfg *c, const char *section, const char *key, char *buf, size_t cap)
{
    const struct cfg_row *r = cfg_find(section, key);
    if (r == NULL)
        return -1;
    const char *field = (const char *)c + r->off;
    switch (r->type) {
    case CT_ULONG: snprintf(buf, cap, "%lu", *(const unsigned long *)field); break;
    case CT_BOOL: snprintf(buf, cap, "%s", *(const int *)field ? "true" : "false"); break;
    case CT_DOUBLE: snprintf(buf, cap, "%g", *(const double *)field); break;
    case CT_SECRET: snprintf(buf, cap, "%s", field[0] ? "(set)" : ""); break;
    case CT_STR:
    case CT_LOGLEVEL: snprintf(buf, cap, "%s", field); break;
    }
    return 0;
}
