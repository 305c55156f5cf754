/* shared/cfg.h -- the configuration: one INI file (parsed by libinih), embedded defaults for
 * every key, and environment overrides (LEXRAG_<SECTION>_<KEY>, e.g. LEXRAG_SERVER_LISTEN),
 * which is also how secrets are given. Every key is documented in config/lexrag.conf.example;
 * a unit test checks the two agree. Unknown keys and out-of-range values are errors. */
#ifndef LX_SHARED_CFG_H
#define LX_SHARED_CFG_H

#include <stddef.h>

#define LX_CFG_STR_MAX_BYTES 512

struct cfg {
    /* [server] */
    char listen[LX_CFG_STR_MAX_BYTES]; /* empty: the socket is fd 0 (spawn-fcgi) */
    unsigned long max_body_bytes;
    unsigned long max_conns;
    unsigned long request_timeout_ms;
    unsigned long shutdown_grace_ms;
    unsigned long out_high_bytes;
    unsigned long out_low_bytes;
    int test_routes;
    /* [log] */
    char log_level[16];
    int access_log;
};

/* Fill *c with the defaults, then the file at path (NULL or "" for none), then the environment.
 * Returns 0, or -1 with a malloc'ed message in *err (caller frees). */
int cfg_load(struct cfg *c, const char *path, char **err);
void cfg_defaults(struct cfg *c);

/* For the docs test and --print-config: iterate the known keys. */
struct cfg_key_info {
    const char *section, *key, *help;
};
size_t cfg_keys(const struct cfg_key_info **out);
/* Write the effective value of section.key into buf; -1 if unknown. */
int cfg_get_string(const struct cfg *c, const char *section, const char *key, char *buf,
                   size_t cap);

#endif
