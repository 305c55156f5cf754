/* shared/tpool.h -- a small per-worker thread pool for CPU-heavy steps (BM25 and ANN search)
 * so that they never stall the event loop. Work runs on a pool thread; its done callback runs
 * afterwards on the loop, posted back through one eventfd.
 *
 * Ownership: the submitter allocates the job's data (not in a request arena: the request may
 * be gone before the work finishes) and the done callback frees it. done runs exactly once for
 * every accepted job, also at tpool_free() (with canceled set). A request that goes away marks
 * its job (its own flag); done sees the flag and only frees. */
#ifndef LX_SHARED_TPOOL_H
#define LX_SHARED_TPOOL_H

struct event_base;
struct tpool;

/* Runs on a pool thread. ctx is the thread's own context from thread_init (e.g. a Xapian
 * handle, which must not be shared between threads). */
typedef void (*tpool_work_fn)(void *job, void *ctx);
/* Runs on the loop after work (canceled: the pool is shutting down and work may not have run). */
typedef void (*tpool_done_fn)(void *job, int canceled);

struct tpool_hooks {
    void *(*thread_init)(unsigned idx, void *ud); /* may be NULL */
    void (*thread_fini)(void *ctx);               /* may be NULL */
    void *ud;
};

struct tpool *tpool_new(struct event_base *base, unsigned nthreads, unsigned max_queued,
                        const struct tpool_hooks *hooks);
/* 0, or -1 when the queue is full (nothing will be called: the caller still owns job). */
int tpool_submit(struct tpool *p, tpool_work_fn work, tpool_done_fn done, void *job);
unsigned tpool_queued(const struct tpool *p);
void tpool_free(struct tpool *p); /* joins the threads; NULL is fine */

#endif
