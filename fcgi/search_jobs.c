/* fcgi/search_jobs.c -- BM25 and ANN jobs on the search threads (search_jobs.h). */
#include "search_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../shared/ann.h"
#include "../shared/bm25.h"
#include "../shared/tpool.h"
#include "backends.h"

struct search_thread {
    struct backends *b;
    bm25_index *bm25;
    uint64_t generation; /* stamp of bm25.generation when bm25 was opened */
};

/* lexrag-ingest reindex swaps a rebuilt BM25 directory in and rewrites bm25.generation; an
 * open Xapian handle would go on reading the old files, so a new stamp means open anew. */
static uint64_t generation_stamp(const struct backends *b)
{
    struct stat st;
    if (stat(b->bm25_generation, &st) != 0)
        return 0;
    return (uint64_t)st.st_ino ^ ((uint64_t)st.st_mtim.tv_sec << 20) ^ (uint64_t)st.st_mtim.tv_nsec;
}

void *search_thread_init(unsigned idx, void *ud)
{
    struct search_thread *t = calloc(1, sizeof *t);
    (void)idx;
    if (t != NULL)
        t->b = ud;
    return t;
}

void search_thread_fini(void *ctx)
{
    struct search_thread *t = ctx;
    if (t != NULL)
        bm25_close(t->bm25);
    free(t);
}

int search_bm25_available(const struct backends *b)
{
    struct stat st;
    return stat(b->bm25_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void bm25_work(struct leg_job *j, struct search_thread *t)
{
    char *err = NULL;
    uint64_t gen = generation_stamp(j->b);
    if (t->bm25 != NULL && gen != t->generation) {
        bm25_close(t->bm25);
        t->bm25 = NULL;
    }
    if (t->bm25 == NULL) {
        t->bm25 = bm25_open(j->b->bm25_dir, &err);
        t->generation = gen;
    } else if (bm25_reopen(t->bm25, &err) < 0) { /* a newer revision, or a swapped index */
        bm25_close(t->bm25);
        free(err);
        err = NULL;
        t->bm25 = bm25_open(j->b->bm25_dir, &err);
    }
    if (t->bm25 == NULL) {
        snprintf(j->err, sizeof j->err, "BM25 index: %s", err ? err : "cannot open");
        free(err);
        j->n = -1;
        return;
    }
    struct bm25_filter f = {j->doc_type[0] ? j->doc_type : NULL, j->doc_id[0] ? j->doc_id : NULL,
                            j->year_min, j->year_max};
    struct bm25_hit *hits = malloc(j->k * sizeof *hits);
    if (hits == NULL) {
        snprintf(j->err, sizeof j->err, "out of memory");
        j->n = -1;
        return;
    }
    j->n = bm25_search(t->bm25, j->query, &f, j->k, j->k1, j->bm25_b, hits, &err);
    if (j->n < 0) {
        snprintf(j->err, sizeof j->err, "BM25: %s", err ? err : "search failed");
        free(err);
    }
    for (int i = 0; i < j->n; i++)
        j->ids[i] = hits[i].unit_id;
    free(hits);
}

static void dense_work(struct leg_job *j)
{
    char *err = NULL;
    float *sims = malloc(j->k * sizeof *sims);
    if (sims == NULL) {
        snprintf(j->err, sizeof j->err, "out of memory");
        j->n = -1;
        return;
    }
    j->n = ann_search(j->ann->ix, j->vec, j->k, j->ef, j->ids, sims, &err);
    if (j->n < 0) {
        snprintf(j->err, sizeof j->err, "ANN: %s", err ? err : "search failed");
        free(err);
    }
    free(sims);
}

static void leg_work(void *job, void *ctx)
{
    struct leg_job *j = job;
    double t0 = mono_ms(); /* owner is the loop's: never read here */
    if (j->leg == LEG_BM25)
        bm25_work(j, ctx);
    else
        dense_work(j);
    j->ms = mono_ms() - t0;
}

static void leg_free(struct leg_job *j)
{
    if (j->ann != NULL)
        backends_ann_release(j->b, j->ann);
    free(j->query);
    free(j->vec);
    free(j->ids);
    free(j);
}

static void leg_done(void *job, int canceled)
{
    struct leg_job *j = job;
    if (canceled) {
        j->n = -1;
        snprintf(j->err, sizeof j->err, "shutting down");
    }
    if (j->owner != NULL)
        j->deliver(j->owner, j);
    leg_free(j);
}

struct leg_job *leg_job_new(struct backends *b, enum leg_kind leg, unsigned k)
{
    struct leg_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->b = b;
    j->leg = leg;
    j->k = k ? k : 1;
    j->ids = calloc(j->k, sizeof *j->ids);
    if (j->ids == NULL) {
        free(j);
        return NULL;
    }
    return j;
}

int leg_job_submit(struct leg_job *j)
{
    if (tpool_submit(j->b->pool, leg_work, leg_done, j) != 0) {
        leg_free(j);
        return -1;
    }
    return 0;
}
