/* shared/rrf.c -- reciprocal rank fusion (rrf.h). The lists are short (top candidates of each
 * leg), so units are found by linear search. */
#include "rrf.h"

#include <stdlib.h>
#include <string.h>

void rrf_init(struct rrf *f, double k)
{
    memset(f, 0, sizeof *f);
    f->k = k;
}

void rrf_free(struct rrf *f)
{
    free(f->items);
    memset(f, 0, sizeof *f);
}

static struct rrf_item *rrf_find(struct rrf *f, int64_t id)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->items[i].id == id)
            return &f->items[i];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct rrf_item *ni = realloc(f->items, cap * sizeof *ni);
        if (ni == NULL)
            return NULL;
        f->items = ni;
        f->cap = cap;
    }
    struct rrf_item *it = &f->items[f->n++];
    memset(it, 0, sizeof *it);
    it->id = id;
    return it;
}

int rrf_add(struct rrf *f, enum rrf_leg leg, double weight, const int64_t *ids, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        struct rrf_item *it = rrf_find(f, ids[r]);
        if (it == NULL)
            return -1;
        it->score += weight / (f->k + (double)(r + 1));
        if (it->rank[leg] == 0 || it->rank[leg] > r + 1)
            it->rank[leg] = (unsigned)(r + 1);
    }
    return 0;
}

static unsigned best_rank(const struct rrf_item *it)
{
    unsigned best = 0;
    for (int l = 0; l < RRF_LEGS; l++)
        if (it->rank[l] != 0 && (best == 0 || it->rank[l] < best))
            best = it->rank[l];
    return best;
}

static int cmp_items(const void *pa, const void *pb)
{
    const struct rrf_item *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    unsigned ra = best_rank(a), rb = best_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

void rrf_sort(struct rrf *f)
{
    if (f->n > 1)
        qsort(f->items, f->n, sizeof f->items[0], cmp_items);
}
