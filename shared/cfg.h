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
    unsigned long max_in_flight, retry_after_s;
    int test_routes;
    /* [log] */
    char log_level[16];
    int access_log;
    /* [postgres] */
    char pg_conninfo[LX_CFG_STR_MAX_BYTES];
    unsigned long pg_pool_size, pg_timeout_ms;
    /* [redis] */
    int redis_enabled;
    char redis_host[128];
    unsigned long redis_port;
    char redis_password[128]; /* secret: environment only */
    unsigned long redis_timeout_ms, embed_cache_ttl_s;
    /* [embedder] */
    char emb_kind[16]; /* "hash" or "openai" */
    unsigned long emb_dim;
    char emb_url[LX_CFG_STR_MAX_BYTES];
    char emb_model[128];
    char emb_api_key[256]; /* secret: environment only */
    unsigned long emb_batch, emb_timeout_ms, emb_retries;
    /* [index] */
    char index_dir[LX_CFG_STR_MAX_BYTES];
    unsigned long index_check_ms;
    /* [retrieval] */
    double rrf_k, weight_bm25, weight_dense, bm25_k1, bm25_b;
    unsigned long candidates, dense_ef, threads;
    unsigned long embed_timeout_ms, bm25_timeout_ms, dense_timeout_ms;
    char cite_aliases[LX_CFG_STR_MAX_BYTES];
    /* [chat] */
    unsigned long chat_top_k, piece_interval_ms, piece_max_bytes, ping_interval_ms;
    char spool_dir[LX_CFG_STR_MAX_BYTES];
    unsigned long spool_retry_ms, spool_max_records;
    /* [generator] */
    char gen_kind[16]; /* "extractive" or "openai" */
    char gen_url[LX_CFG_STR_MAX_BYTES];
    char gen_model[128];
    char gen_api_key[256]; /* secret: environment only */
    unsigned long gen_timeout_ms, gen_max_tokens, history_max_chars, article_max_chars;
    unsigned long gen_first_token_timeout_ms, gen_idle_timeout_ms;
    char gen_fallback[16]; /* "extractive" or "none" */
    double gen_temperature;
    /* [breaker] */
    unsigned long breaker_failures, breaker_open_ms;
    /* [metrics] */
    unsigned long metrics_publish_ms;
    /* [auth] */
    int auth_enabled;
    unsigned long auth_refresh_ms, auth_rate_per_min;
};

/* Fill *c with the defaults, then the file at path (NULL or "" for none), then the environment.
 * Returns 0, or -1 with a malloc'ed message in *err (caller frees). */
int cfg_load(struct cfg *c, const char *path, char **err);
void cfg_defaults(struct cfg *c);

/* For the docs test and --print-config: iterate the known keys. */
struct cfg_key_info {
    const char *section, *key, *help;
    int secret; /* environment only: documented by its variable name, never as `key =` */
};
size_t cfg_keys(const struct cfg_key_info **out);
/* Write the effective value of section.key into buf; -1 if unknown. */
int cfg_get_string(const struct cfg *c, const char *section, const char *key, char *buf,
                   size_t cap);

#endif
