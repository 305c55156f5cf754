/* fcgi/req_parse.h -- the JSON request bodies of POST /api/search, POST /api/chat and
 * POST /v1/chat/completions, parsed and validated without a request or a loop: bytes or a
 * json_t in, the parsed fields or one error out, worded as the contract wants it (http-api.md):
 * invalid_json for a body that is not JSON, invalid_argument with a message naming the field
 * for a field of the wrong type or out of range. json_args.c replies with the error; the
 * handlers (h_search.c, h_chat.c) call these and reply exactly that.
 *
 * Lengths are counted in characters (UTF-8 code points; Jansson has checked the encoding).
 * Strings handed out are borrowed from the body: they live as long as it does. Every function
 * that fails returns -1 (or NULL) with *e filled; on success *e is untouched. */
#ifndef LX_FCGI_REQ_PARSE_H
#define LX_FCGI_REQ_PARSE_H

#include <stddef.h>

#include "../shared/lx_err.h"
#include "retrieve.h"

/* POST /api/chat: top_k; "messages" (OpenAI style): how many, and each one's content. */
#define LX_CHAT_TOP_K_MAX         20
#define LX_CHAT_MESSAGES_MAX      100
#define LX_CHAT_MESSAGE_MAX_CHARS 8000
/* POST /v1/chat/completions: the model name echoed back, max_tokens (accepted, not used). */
#define LX_OPENAI_MODEL_MAX_CHARS 128
#define LX_OPENAI_MAX_TOKENS_MAX  1000000
/* An error message, as long as the one the worker sends (req.c). */
#define LX_RP_MSG_MAX_BYTES 512

struct rp_err {
    enum lx_err code;  /* LX_EBADJSON (invalid_json) or LX_EINVAL (invalid_argument) */
    const char *field; /* the field at fault, a static string; "" for invalid_json */
    char msg[LX_RP_MSG_MAX_BYTES];
};

/* Fill *e and return -1. */
int rp_fail(struct rp_err *e, enum lx_err code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The body as a JSON object: a new reference, or NULL with *e (empty, not JSON, duplicate keys:
 * invalid_json; JSON but not an object: invalid_argument). */
json_t *rp_body(const void *body, size_t n, struct rp_err *e);

/* Field key of object o: a string of min..max characters, without NUL. Absent or null:
 * *out = NULL, and an error if required. */
int rp_string(json_t *o, const char *key, int required, size_t min_chars, size_t max_chars,
              const char **out, struct rp_err *e);
/* An integer in min..max; absent or null: *out = def (or an error if required). */
int rp_int(json_t *o, const char *key, int required, long min, long max, long def, long *out,
           struct rp_err *e);
/* A boolean; absent or null: *out = def. */
int rp_bool(json_t *o, const char *key, int def, int *out, struct rp_err *e);
size_t rp_utf8_chars(const char *s);
/* A UUID in its 36-character text form (any hex case), as libuuid's uuid_parse() takes it. */
int rp_uuid_valid(const char *s);
/* "hybrid", "dense" or "bm25": 0, or -1 if unknown. */
int rp_mode(const char *name, enum retr_mode *out);

/* POST /api/search: query (1..LX_RETR_QUERY_MAX_CHARS characters), top_k
 * (1..LX_RETR_TOP_K_MAX, default 10), mode (default hybrid), filters (doc_type 1..16
 * characters, doc_id 1..60, year_min and year_max 1..9999 with min <= max; 0: unbounded). */
int rp_search(json_t *body, struct retr_params *out, struct rp_err *e);

struct rp_chat {
    const char *question;        /* "question", or the last user message of "messages" */
    const char *conversation_id; /* /api/chat only: NULL, or a UUID */
    const char *model;           /* /v1/chat/completions: as sent, or "lexrag" */
    long top_k;                  /* /api/chat: 1..LX_CHAT_TOP_K_MAX; else the default */
    long max_tokens;             /* /v1/chat/completions: 1..LX_OPENAI_MAX_TOKENS_MAX, 0: absent */
    int stream;                  /* default: on for /api/chat, off for the OpenAI form */
    int has_temperature;         /* /v1/chat/completions: temperature given (0..2) */
    double temperature;
};

/* POST /api/chat (openai 0) or POST /v1/chat/completions (openai 1); default_top_k is the
 * configured chat.top_k (what /v1/chat/completions always uses). */
int rp_chat(json_t *body, int openai, long default_top_k, struct rp_chat *out, struct rp_err *e);

#endif
