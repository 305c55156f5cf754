/* shared/gen_openai.h -- an answer streamed from any OpenAI-compatible /v1/chat/completions
 * endpoint (OpenAI, vLLM, Ollama, llama.cpp server, ...) with "stream": true, through libcurl
 * multi on the loop (up_multi.h), its server-sent events parsed as they arrive in any chunks
 * (sse.h). Each content piece of a chat.completion.chunk goes to the delta callback; the done
 * callback runs once at the end: after "data: [DONE]", or with the error (an HTTP error, a
 * timeout, a stream cut before [DONE]). gen_openai_cancel() stops the call: neither callback
 * runs afterwards. The request and its deltas are never buffered whole. */
#ifndef LX_SHARED_GEN_OPENAI_H
#define LX_SHARED_GEN_OPENAI_H

#include <stddef.h>

#include "lx_err.h"

struct up_multi;
struct gen_call;
typedef struct json_t json_t;

struct gen_openai_cfg {
    const char *url, *model, *api_key;
    unsigned timeout_ms; /* the whole answer */
    unsigned max_tokens; /* 0: the server's default */
    double temperature;
};

/* 0 to go on; anything else stops the call (done then runs with LX_ECANCELED). */
typedef int (*gen_delta_fn)(void *ud, const char *text, size_t len);
typedef void (*gen_done_fn)(void *ud, enum lx_err err, const char *msg);

/* messages is borrowed (serialised at once). NULL on ENOMEM (no callback will run). */
struct gen_call *gen_openai_start(struct up_multi *m, const struct gen_openai_cfg *c,
                                  json_t *messages, gen_delta_fn delta, gen_done_fn done, void *ud);
void gen_openai_cancel(struct gen_call *g);
/* Backpressure: stop reading the model's stream while the client is behind, then go on. From
 * the loop only, never from inside the delta callback. */
void gen_openai_pause(struct gen_call *g, int paused);

#endif
