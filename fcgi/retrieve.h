/* fcgi/retrieve.h -- retrieval for one request: the engine of POST /api/search, also used by
 * the chat endpoints to find the articles an answer cites (see retrieve.c for the steps). */
#ifndef LX_FCGI_RETRIEVE_H
#define LX_FCGI_RETRIEVE_H

struct req;
typedef struct json_t json_t;

#define LX_RETR_QUERY_MAX_CHARS 2000
#define LX_RETR_TOP_K_MAX       100

enum retr_mode { RETR_HYBRID, RETR_DENSE, RETR_BM25 };

struct retr_params {
    const char *query; /* validated: 1..LX_RETR_QUERY_MAX_CHARS characters */
    long top_k;        /* 1..LX_RETR_TOP_K_MAX */
    enum retr_mode mode;
    const char *doc_type, *doc_id; /* filters; NULL: any */
    long year_min, year_max;       /* 0: unbounded */
};

/* answer: the object POST /api/search answers (query, mode, citation, sub_queries, results,
 * degraded, cache, timings_ms); a new reference the callee owns. */
typedef void (*retr_done_fn)(struct req *r, void *ud, json_t *answer);

/* Run a retrieval for r (its params are borrowed: they must live in r's arena or longer).
 * done runs once, from the loop, when the answer is there, with the request's abort hook
 * cleared; if the retrieval fails (a required backend down, ...) it replies the error itself
 * and done never runs; if the request is aborted first, neither happens. */
void retr_start(struct req *r, const struct retr_params *p, retr_done_fn done, void *ud);
const char *retr_mode_name(enum retr_mode m);
int retr_mode_parse(const char *name, enum retr_mode *out); /* 0, or -1 if unknown */

#endif
