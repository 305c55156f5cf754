/* fcgi/json_args.h -- the JSON request body and its fields for a handler, with the contract's
 * errors replied: a body that is not JSON gets 400 invalid_json; a field of the wrong type or
 * out of range gets 400 invalid_argument with a message naming the field. The checks are
 * req_parse.c's; each function here that fails has already replied: the handler just returns.
 * Lengths are counted in characters (UTF-8 code points; Jansson has checked the encoding). */
#ifndef LX_FCGI_JSON_ARGS_H
#define LX_FCGI_JSON_ARGS_H

#include <stddef.h>

struct req;
struct rp_err;
typedef struct json_t json_t;

/* Reply the error of a req_parse.c function. */
void ja_reply(struct req *r, const struct rp_err *e);
/* The body as a JSON object, owned by the request (borrowed), or NULL after replying. */
json_t *ja_body_object(struct req *r);
/* Field key of o: a string of min..max characters. Absent: *out = NULL, and an error if
 * required. Returns 0, or -1 after replying. */
int ja_string(struct req *r, json_t *o, const char *key, int required, size_t min_chars,
              size_t max_chars, const char **out);
/* An integer in min..max; absent: *out = def (or an error if required). */
int ja_int(struct req *r, json_t *o, const char *key, int required, long min, long max, long def,
           long *out);
/* A boolean; absent: *out = def. */
int ja_bool(struct req *r, json_t *o, const char *key, int def, int *out);

#endif
