/* shared/emb.h -- embedders behind one interface, on the event loop:
 *   hash    the built-in deterministic embedder (emb_hash.h): no network;
 *   openai  any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Jina, Ollama, TEI, vLLM,
 *           llama.cpp server) through libcurl multi: batched, with a deadline per call and
 *           limited retries with backoff; the API key comes from the environment.
 * Vectors are L2-normalised (cosine similarity is their dot product).
 *
 * The done callback runs exactly once, from the loop, unless emb_cancel() ran first. */
#ifndef LX_SHARED_EMB_H
#define LX_SHARED_EMB_H

#include <stddef.h>

#include "lx_err.h"

struct event_base;
struct up_multi;
struct emb;
struct emb_op;

struct emb_config {
    const char *kind; /* "hash" or "openai" */
    unsigned dim;
    const char *url, *model, *api_key;
    unsigned batch, timeout_ms, retries;
};

/* vecs: n * dim floats, borrowed for the callback's duration. */
typedef void (*emb_cb)(void *ud, enum lx_err err, const float *vecs, size_t n, const char *msg);

struct cfg;
/* The [embedder] section of the config as an emb_config (pointers into c). */
struct emb_config emb_config_of(const struct cfg *c);

/* NULL + *err (malloc'ed) on a bad config. m may be NULL for kind = hash. */
struct emb *emb_new(struct event_base *base, struct up_multi *m, const struct emb_config *c,
                    char **err);
void emb_free(struct emb *e);
unsigned emb_dim(const struct emb *e);
const char *emb_model(const struct emb *e);
int emb_is_remote(const struct emb *e);
/* Embed texts[0..n) (copied). NULL on ENOMEM. */
struct emb_op *emb_embed(struct emb *e, const char *const *texts, size_t n, emb_cb cb, void *ud);
void emb_cancel(struct emb_op *op);

/* Scale v to unit length (a zero vector stays zero). */
void emb_normalize(float *v, unsigned dim);

#endif
