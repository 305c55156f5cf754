/* shared/cfg.c -- table-driven INI configuration over libinih (see cfg.h). One table row per
 * key: where it lives in struct cfg, its type, range and default. */
#include "cfg.h"
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

enum cfg_type { CT_ULONG, CT_BOOL, CT_STR, CT_LOGLEVEL };

struct cfg_row {
    struct cfg_key_info info;
    enum cfg_type type;
    size_t off, size; /* size: for CT_STR */
    unsigned long min, max;
    const char *def;
};

#define U(sec, key, field, lo, hi, d, help)                                                        \
    {                                                                                              \
        {sec, key, help}, CT_ULONG, offsetof(struct cfg, field), 0, lo, hi, d                      \
    }
#define B(sec, key, field, d, help)                                                                \
    {                                                                                              \
        {sec, key, help}, CT_BOOL, offsetof(struct cfg, field), 0, 0, 1, d                         \
    }
#define S(sec, key, field, t, d, help)                                                             \
    {                                                                                              \
        {sec, key, help}, t, offsetof(struct cfg, field), sizeof(((struct cfg *)0)->field), 0, 0,  \
            d                                                                                      \
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
    B("server", "test_routes", test_routes, "false",
      "serve the test-only routes under /api/_test/ (never in production)"),
    S("log", "level", log_level, CT_LOGLEVEL, "info", "debug, info, warn or error"),
    B("log", "access", access_log, "true", "one access line per request"),
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
    case CT_LOGLEVEL:
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
    *c = tmp;
    return 0;
}

size_t cfg_keys(const struct cfg_key_info **out)
{
    static struct cfg_key_info infos[CFG_NROWS];
    for (size_t i = 0; i < CFG_NROWS; i++)
        infos[i] = cfg_rows[i].info;
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
    case CT_STR:
    case CT_LOGLEVEL: snprintf(buf, cap, "%s", field); break;
    }
    return 0;
}
