/* fcgi/search_jobs.h -- the CPU legs of a search (BM25 over Xapian, ANN over hnswlib) as jobs
 * for the worker's search threads (shared/tpool.h). A job owns copies of its inputs and its
 * results, so it outlives a request that goes away: the request only clears job->owner, and
 * the job is freed when it comes back to the loop. */
#ifndef LX_FCGI_SEARCH_JOBS_H
#define LX_FCGI_SEARCH_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "../shared/cite.h"

struct backends;
struct ann_ref;

enum leg_kind { LEG_BM25, LEG_DENSE };

struct leg_job {
    void *owner; /* NULL once the request is gone */
    void (*deliver)(void *owner, struct leg_job *j);
    struct backends *b;
    enum leg_kind leg;
    unsigned sub; /* which sub-query */
    /* in */
    char *query;
    char doc_type[LX_CITE_FIELD_BYTES], doc_id[LX_CITE_FIELD_BYTES * 2];
    int year_min, year_max;
    unsigned k, ef;
    double k1, bm25_b;
    float *vec;
    struct ann_ref *ann;
    /* out */
    int64_t *ids;
    int n; /* -1: failed, see err */
    char err[160];
    double ms;
};

/* tpool hooks: each search thread keeps its own Xapian handle. */
void *search_thread_init(unsigned idx, void *ud);
void search_thread_fini(void *ctx);
int search_bm25_available(const struct backends *b);

/* A job with room for k results; NULL on ENOMEM. */
struct leg_job *leg_job_new(struct backends *b, enum leg_kind leg, unsigned k);
/* Hand it to a search thread; deliver(owner, job) runs on the loop afterwards (unless owner
 * was cleared), then the job is freed. -1 when the threads are saturated (job freed). */
int leg_job_submit(struct leg_job *j);

#endif
