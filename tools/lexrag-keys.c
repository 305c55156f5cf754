/* tools/lexrag-keys.c -- API keys for the workers (auth.enabled): create, list and revoke them
 * in PostgreSQL (the api_keys table of sql/004_api_keys.sql; run `lexrag-ingest migrate` first).
 * A new key is printed once and only its SHA-256 is stored. Blocking libpq: a command-line tool.
 *   lexrag-keys [--config FILE] add NAME [--rate N] | list | revoke NAME
 * Exit status: 0 done, 1 a runtime error (database, unknown key), 2 bad usage. */
#include <getopt.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../shared/cfg.h"

#define KEYS_PROG      "lexrag-keys"
#define KEYS_RAW_BYTES 32
#define KEYS_PREFIX    "lxk_"
#define KEYS_SHOWN     12 /* characters of a key kept for listings */
#define KEYS_NAME_MAX  64
#define KEYS_RATE_MAX  1000000
#define EXIT_USAGE     2

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [--config FILE] add NAME [--rate N]   create a key (printed once)\n"
            "       %s [--config FILE] list                  the keys (never the keys themselves)\n"
            "       %s [--config FILE] revoke NAME           stop a key (within auth.refresh_ms)\n"
            "FILE defaults to $LEXRAG_CONFIG; postgres.conninfo says which database.\n",
            KEYS_PROG, KEYS_PROG, KEYS_PROG);
}

/* base64url without padding of n bytes into out (at least 4 * n / 3 + 2 bytes). */
static void b64url(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = tab[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = tab[v & 63];
    }
    out[o] = '\0';
}

static int sha256_hex(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
        return -1;
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int name_ok(const char *n)
{
    size_t l = strlen(n);
    if (l == 0 || l > KEYS_NAME_MAX)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == '@'))
            return 0;
    return 1;
}

static PGresult *q(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "23505") == 0)
            fprintf(stderr, "%s: a key of that name exists already\n", KEYS_PROG);
        else
            fprintf(stderr, "%s: %s", KEYS_PROG, PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int cmd_add(PGconn *c, const char *name, long rate)
{
    unsigned char raw[KEYS_RAW_BYTES];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        fprintf(stderr, "%s: no random bytes\n", KEYS_PROG);
        return 1;
    }
    char key[sizeof KEYS_PREFIX + 4 * KEYS_RAW_BYTES / 3 + 4], hex[65], prefix[KEYS_SHOWN + 1];
    strcpy(key, KEYS_PREFIX);
    b64url(raw, sizeof raw, key + strlen(KEYS_PREFIX));
    if (sha256_hex(key, hex) != 0) {
        fprintf(stderr, "%s: SHA-256 failed\n", KEYS_PROG);
        return 1;
    }
    snprintf(prefix, sizeof prefix, "%s", key);
    char rbuf[24];
    snprintf(rbuf, sizeof rbuf, "%ld", rate);
    const char *params[] = {name, prefix, hex, rate >= 0 ? rbuf : NULL};
    PGresult *r = q(c,
                    "INSERT INTO api_keys (name, prefix, key_hash, rate_per_min)"
                    " VALUES ($1, $2, decode($3, 'hex'), $4::integer)",
                    4, params);
    if (r == NULL)
        return 1;
    PQclear(r);
    printf("%s\n", key);
    fprintf(stderr, "%s: key \"%s\" created; it is shown only now: keep it.\n", KEYS_PROG, name);
    return 0;
}

static int cmd_list(PGconn *c)
{
    PGresult *r = q(c,
                    "SELECT name, prefix || '...', coalesce(rate_per_min::text, 'default'),"
                    " to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
                    " coalesce(to_char(revoked_at, 'YYYY-MM-DD HH24:MI'), '-')"
                    " FROM api_keys ORDER BY created_at, id",
                    0, NULL);
    if (r == NULL)
        return 1;
    printf("%-24s %-16s %-10s %-17s %s\n", "NAME", "KEY", "RATE/MIN", "CREATED", "REVOKED");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-24s %-16s %-10s %-17s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
               PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4));
    PQclear(r);
    return 0;
}

static int cmd_revoke(PGconn *c, const char *name)
{
    const char *params[] = {name};
    PGresult *r =
        q(c, "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", 1,
          params);
    if (r == NULL)
        return 1;
    int n = atoi(PQcmdTuples(r));
    PQclear(r);
    if (n == 0) {
        fprintf(stderr, "%s: no active key named \"%s\"\n", KEYS_PROG, name);
        return 1;
    }
    fprintf(stderr, "%s: key \"%s\" revoked\n", KEYS_PROG, name);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {{"config", required_argument, NULL, 'c'},
                                          {"rate", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *config = getenv("LEXRAG_CONFIG");
    long rate = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:r:h", lopts, NULL)) != -1) {
        char *end;
        switch (ch) {
        case 'c': config = optarg; break;
        case 'r':
            rate = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || rate < 0 || rate > KEYS_RATE_MAX) {
                fprintf(stderr, "%s: --rate must be a whole number from 0 to %d\n", KEYS_PROG,
                        KEYS_RATE_MAX);
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    const char *cmd = nargs > 0 ? argv[optind] : "";
    int add = strcmp(cmd, "add") == 0, revoke = strcmp(cmd, "revoke") == 0,
        list = strcmp(cmd, "list") == 0;
    if (!(add || revoke || list) || nargs != (list ? 1 : 2) || (rate >= 0 && !add)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = nargs > 1 ? argv[optind + 1] : NULL;
    if (name != NULL && !name_ok(name)) {
        fprintf(stderr, "%s: a name is 1 to %d characters of letters, digits and - _ . @\n",
                KEYS_PROG, KEYS_NAME_MAX);
        return EXIT_USAGE;
    }
    struct cfg *cfg = malloc(sizeof *cfg);
    char *err = NULL;
    if (cfg == NULL || cfg_load(cfg, config, &err) != 0) {
        fprintf(stderr, "%s: config: %s\n", KEYS_PROG, err ? err : "out of memory");
        free(err);
        free(cfg);
        return EXIT_USAGE;
    }
    PGconn *c = PQconnectdb(cfg->pg_conninfo);
    free(cfg);
    int rc = 1;
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "%s: PostgreSQL: %s", KEYS_PROG, PQerrorMessage(c));
    } else {
        PGresult *t = q(c, "SELECT to_regclass('api_keys') IS NOT NULL", 0, NULL);
        if (t != NULL && strcmp(PQgetvalue(t, 0, 0), "t") != 0)
            fprintf(stderr, "%s: no api_keys table: run `lexrag-ingest migrate` first\n",
                    KEYS_PROG);
        else if (t != NULL)
            rc = add ? cmd_add(c, name, rate) : list ? cmd_list(c) : cmd_revoke(c, name);
        PQclear(t);
    }
    PQfinish(c);
    return rc;
}
