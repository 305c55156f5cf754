/* shared/rrf.h -- reciprocal rank fusion of several ranked lists (the BM25 and dense legs of
 * every sub-query): score(u) = sum over lists of weight / (k + rank), rank from 1. Each unit
 * also keeps its best rank in each leg, for the response's bm25_rank and dense_rank. Pure. */
#ifndef LX_SHARED_RRF_H
#define LX_SHARED_RRF_H

#include <stddef.h>
#include <stdint.h>

enum rrf_leg { RRF_BM25, RRF_DENSE, RRF_LEGS };

struct rrf_item {
    int64_t id;
    double score;
    unsigned rank[RRF_LEGS]; /* best 1-based rank in each leg; 0 where the leg missed it */
};

struct rrf {
    struct rrf_item *items;
    size_t n, cap;
    double k;
};

void rrf_init(struct rrf *f, double k);
void rrf_free(struct rrf *f);
/* Add one ranked list (ids best first) of leg with weight. 0, or -1 on ENOMEM. */
int rrf_add(struct rrf *f, enum rrf_leg leg, double weight, const int64_t *ids, size_t n);
/* Sort by score (ties: better best rank, then smaller id), best first. */
void rrf_sort(struct rrf *f);

#endif
