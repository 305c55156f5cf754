/* shared/limits.h -- compiled-in limits. Each carries its unit in its name and its reason
 * beside it. Limits an operator may want to change live in the config instead (cfg.h). */
#ifndef LX_SHARED_LIMITS_H
#define LX_SHARED_LIMITS_H

/* FastCGI params of one request: the web servers cap HTTP headers at 8-16 KiB each. */
#define LX_FCGI_PARAMS_MAX_BYTES (64 * 1024)
/* Largest FastCGI record content we write; a multiple of 8, so no padding is needed. */
#define LX_FCGI_WRITE_CHUNK_BYTES 65528
/* Client-supplied X-Request-Id: longer or odder ones are replaced by a generated id. */
#define LX_REQUEST_ID_MAX_BYTES 64
/* Request path we route on. */
#define LX_PATH_MAX_BYTES 2048
/* First block of a request's arena. */
#define LX_REQ_ARENA_BLOCK_BYTES (8 * 1024)
/* Event-loop lag sampling: one timer per worker, a window of samples for p99 and max. */
#define LX_LAG_INTERVAL_MS    50
#define LX_LAG_WINDOW_SAMPLES 1200
/* A config file larger than this is refused (it is a short INI file). */
#define LX_CONFIG_MAX_BYTES (1024 * 1024)

#endif
