/* shared/tpool.c -- fixed threads, one FIFO of jobs in, one FIFO of finished jobs out, an
 * eventfd that wakes the loop (tpool.h). */
#include "tpool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct tp_job {
    struct tp_job *next;
    tpool_work_fn work;
    tpool_done_fn done;
    void *job;
};

struct tpool {
    struct event_base *base;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct tp_job *in_head, *in_tail, *out_head, *out_tail;
    unsigned nqueued, max_queued, nthreads;
    int stop, efd;
    struct event *ev;
    pthread_t *threads;
    struct tpool_hooks hooks;
};

struct tp_start {
    struct tpool *p;
    unsigned idx;
};

static void push(struct tp_job **head, struct tp_job **tail, struct tp_job *j)
{
    j->next = NULL;
    if (*tail != NULL)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

static struct tp_job *pop(struct tp_job **head, struct tp_job **tail)
{
    struct tp_job *j = *head;
    if (j != NULL) {
        *head = j->next;
        if (*head == NULL)
            *tail = NULL;
    }
    return j;
}

static void *tp_main(void *arg)
{
    struct tp_start *st = arg;
    struct tpool *p = st->p;
    void *ctx = p->hooks.thread_init ? p->hooks.thread_init(st->idx, p->hooks.ud) : NULL;
    free(st);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->in_head == NULL)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        struct tp_job *j = pop(&p->in_head, &p->in_tail);
        pthread_mutex_unlock(&p->mu);
        j->work(j->job, ctx);
        pthread_mutex_lock(&p->mu);
        push(&p->out_head, &p->out_tail, j);
        uint64_t one = 1;
        ssize_t w = write(p->efd, &one, sizeof one);
        (void)w; /* the counter cannot overflow in practice; the loop drains it */
    }
    pthread_mutex_unlock(&p->mu);
    if (p->hooks.thread_fini != NULL)
        p->hooks.thread_fini(ctx);
    return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *ud)
{
    struct tpool *p = ud;
    uint64_t n;
    (void)what;
    ssize_t r = read(fd, &n, sizeof n);
    (void)r;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        struct tp_job *j = pop(&p->out_head, &p->out_tail);
        if (j != NULL)
            p->nqueued--;
        pthread_mutex_unlock(&p->mu);
        if (j == NULL)
            return;
        j->done(j->job, 0);
        free(j);
    }
}

struct tpool *tpool_new(struct event_base *base, unsigned nthreads, unsigned max_queued,
                        const struct tpool_hooks *hooks)
{
    struct tpool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->base = base;
    p->max_queued = max_queued ? max_queued : 1;
    if (hooks != NULL)
        p->hooks = *hooks;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->threads = calloc(nthreads ? nthreads : 1, sizeof *p->threads);
    if (p->efd < 0 || p->threads == NULL)
        goto fail;
    p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, on_done, p);
    if (p->ev == NULL || event_add(p->ev, NULL) != 0)
        goto fail;
    for (unsigned i = 0; i < (nthreads ? nthreads : 1); i++) {
        struct tp_start *st = malloc(sizeof *st);
        if (st == NULL)
            goto fail;
        st->p = p;
        st->idx = i;
        if (pthread_create(&p->threads[i], NULL, tp_main, st) != 0) {
            free(st);
            goto fail;
        }
        p->nthreads++;
    }
    return p;
fail:
    tpool_free(p);
    return NULL;
}

int tpool_submit(struct tpool *p, tpool_work_fn work, tpool_done_fn done, void *job)
{
    struct tp_job *j = malloc(sizeof *j);
    if (j == NULL)
        return -1;
    j->work = work;
    j->done = done;
    j->job = job;
    pthread_mutex_lock(&p->mu);
    if (p->nqueued >= p->max_queued || p->stop) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return -1;
    }
    p->nqueued++;
    push(&p->in_head, &p->in_tail, j);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

unsigned tpool_queued(const struct tpool *p)
{
    return p->nqueued; /* a racy read is fine for metrics */
}

void tpool_free(struct tpool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    struct tp_job *j;
    while ((j = pop(&p->out_head, &p->out_tail)) != NULL) {
        j->done(j->job, 0);
        free(j);
    }
    while ((j = pop(&p->in_head, &p->in_tail)) != NULL) {
        j->done(j->job, 1);
        free(j);
    }
    if (p->ev != NULL)
        event_free(p->ev);
    if (p->efd >= 0)
        close(p->efd);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}
