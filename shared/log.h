/* shared/log.h -- one line per event on stderr (journald takes it from there), key=value:
 *   ts=2026-11-24T10:00:00.123Z level=info pid=4242 req=7f3a... msg="..." key=value ...
 * req= is always present ("-" outside a request). Values with spaces or quotes are quoted. */
#ifndef LX_SHARED_LOG_H
#define LX_SHARED_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

void log_set_level(enum log_level lvl);
int log_level_parse(const char *s, enum log_level *out); /* 0, or -1 if unknown */
int log_enabled(enum log_level lvl);
/* fmt gives the rest of the line: key=value pairs, formatted by the caller. */
void log_line(enum log_level lvl, const char *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy s into out as a log value: bare if safe, else quoted with \" and \\ escaped and
 * control bytes as \xNN; truncated to fit. Returns out. */
const char *log_quote(char *out, unsigned cap, const char *s);

#define log_debug(req, ...) log_line(LOG_LVL_DEBUG, req, __VA_ARGS__)
#define log_info(req, ...)  log_line(LOG_LVL_INFO, req, __VA_ARGS__)
#define log_warn(req, ...)  log_line(LOG_LVL_WARN, req, __VA_ARGS__)
#define log_error(req, ...) log_line(LOG_LVL_ERROR, req, __VA_ARGS__)

#endif
