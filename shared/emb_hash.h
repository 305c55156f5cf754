/* shared/emb_hash.h -- the built-in deterministic embedder: hashed word unigram and bigram
 * features plus character n-grams of each word, signed feature hashing into a fixed dimension,
 * sublinear weights, L2-normalised. No network, no model: the same text always gives the same
 * vector, on every machine. Text is lower-cased (ASCII and Latin-1 letters), split on
 * non-alphanumerics, and Indonesian stopwords are left out of word features. */
#ifndef LX_SHARED_EMB_HASH_H
#define LX_SHARED_EMB_HASH_H

#include <stddef.h>

#define LX_EMB_HASH_DIM_DEFAULT 384
#define LX_EMB_DIM_MAX          4096

/* Embed text[0..len) into out[dim] (dim 8..LX_EMB_DIM_MAX). A text with no features gives the
 * zero vector. */
void emb_hash(const char *text, size_t len, unsigned dim, float *out);

#endif
