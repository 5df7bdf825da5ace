/*
 * A pool of producer threads for the multi-producer cases. The threads are
 * started once per case and run in rounds: the measuring thread publishes the
 * operation count, bumps a generation word and sleeps until the last thread
 * of the round reports (futex words; nothing allocated per round).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

struct pxb_pool;

typedef struct worker {
    struct pxb_pool *pool;
    unsigned index;
    pthread_t th;
} worker_t;

struct pxb_pool {
    unsigned n;
    int cpu; /* the CPU the threads avoid */
    int (*work)(void *ctx, unsigned index, uint64_t n);
    void *ctx;
    _Atomic uint32_t gen;     /* bumped to start a round; futex word */
    _Atomic uint32_t pending; /* threads still in this round; futex word */
    _Atomic uint32_t started; /* threads that recorded their tid; futex word */
    _Atomic uint64_t per_thread;
    _Atomic int error;
    _Atomic int stop;
    worker_t w[PXB_POOL_MAX];
};

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    struct pxb_pool *p = w->pool;
    pxb_pin_self_except(p->cpu); /* threads inherit their creator's binding: replace it */
    /* Release pairs with the acquire load in pxb_pool_start: bound. */
    atomic_fetch_add_explicit(&p->started, 1, memory_order_release);
    px__futex_wake(&p->started, INT_MAX);
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        /* Acquire pairs with the release increment of gen in round/stop:
         * per_thread and stop are visible. */
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen)
            px__futex_wait(&p->gen, seen, -1);
        seen = g;
        if (atomic_load_explicit(&p->stop, memory_order_relaxed))
            break; /* relaxed: ordered by gen */
        uint64_t n = atomic_load_explicit(&p->per_thread, memory_order_relaxed); /* ditto */
        int r = p->work(p->ctx, w->index, n);
        if (r) {
            int expected = 0; /* relaxed: the first error wins; read after pending drops */
            atomic_compare_exchange_strong_explicit(&p->error, &expected, r, memory_order_relaxed,
                                                    memory_order_relaxed);
        }
        /* Release pairs with the acquire load of pending in round: this
         * round's work happens before the measuring thread goes on. */
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release) == 1)
            px__futex_wake(&p->pending, 1);
    }
    return NULL;
}

int pxb_pool_start(pxb_pool_t **out, unsigned nthreads, int except_cpu,
                   int (*work)(void *ctx, unsigned index, uint64_t n), void *ctx)
{
    if (nthreads == 0 || nthreads > PXB_POOL_MAX) return -EINVAL;
    struct pxb_pool *p = calloc(1, sizeof *p);
    if (p == NULL) return -ENOMEM;
    p->n = nthreads;
    p->cpu = except_cpu;
    p->work = work;
    p->ctx = ctx;
    for (unsigned i = 0; i < nthreads; i++) {
        p->w[i].pool = p;
        p->w[i].index = i;
        int r = pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]);
        if (r) {
            p->n = i;
            pxb_pool_stop(p);
            return -r;
        }
    }
    uint32_t s;
    /* Acquire pairs with the release increment in worker_main: all bound. */
    while ((s = atomic_load_explicit(&p->started, memory_order_acquire)) < nthreads)
        px__futex_wait(&p->started, s, -1);
    *out = p;
    return 0;
}

int pxb_pool_round(pxb_pool_t *p, uint64_t n)
{
    /* Relaxed: published by the release increment of gen. */
    atomic_store_explicit(&p->per_thread, n, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->n, memory_order_relaxed);
    atomic_store_explicit(&p->error, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->gen, 1,
                              memory_order_release); /* pairs with worker_main's acquire */
    px__futex_wake(&p->gen, INT_MAX);
    uint32_t left;
    /* Acquire pairs with the release decrements in worker_main. */
    while ((left = atomic_load_explicit(&p->pending, memory_order_acquire)) != 0)
        px__futex_wait(&p->pending, left, -1);
    return atomic_load_explicit(&p->error, memory_order_relaxed); /* relaxed: ordered by pending */
}

void pxb_pool_track(pxb_pool_t *p, pxb_b_t *b)
{
    for (unsigned i = 0; i < p->n; i++) pxb_b_track_thread(b, p->w[i].th);
}

void pxb_pool_stop(pxb_pool_t *p)
{
    if (p == NULL) return;
    atomic_store_explicit(&p->stop, 1, memory_order_relaxed);    /* relaxed: published by gen */
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release); /* pairs with worker_main */
    px__futex_wake(&p->gen, INT_MAX);
    for (unsigned i = 0; i < p->n; i++) pthread_join(p->w[i].th, NULL);
    free(p);
}

/* ---- the multi-producer cases ------------------------------------------------ */

typedef struct producers {
    px_thread_t *t;
    uint64_t counter; /* written on the executor only */
    bool posts;
    pxb_pool_t *pool;
    unsigned p;
} producers_t;

static int producers_work(void *ctx, unsigned index, uint64_t n)
{
    (void)index;
    producers_t *x = ctx;
    return x->posts ? pxb_posts(x->t, &x->counter, n) : pxb_calls(x->t, &x->counter, n);
}

static int producers_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    producers_t *x = ctx;
    int r = pxb_pool_round(x->pool, n / x->p);
    if (r || !x->posts) return r;
    /* Every post of the round was reserved before this call's position. */
    return px_call(x->t, pxb_nothing, NULL);
}

static void producers_case(pxb_b_t *b, bool posts)
{
    producers_t x = {.posts = posts, .p = (unsigned)pxb_b_case(b)->param};
    if (pxb_b_pin_caller(b)) return;
    x.t = pxb_b_executor(b, PX_WAIT_ADAPTIVE);
    if (x.t == NULL) return;
    int r = pxb_pool_start(&x.pool, x.p, pxb_b_case(b)->pair->b, producers_work, &x);
    if (r) {
        pxb_b_fail(b, r, "cannot start %u producer threads", x.p);
    } else {
        pxb_pool_track(x.pool, b);
        pxb_b_multiple(b, x.p);
        pxb_b_measure(b, producers_run, &x);
        pxb_pool_stop(x.pool);
    }
    pxb_b_destroy(b, x.t);
}

void pxb_pool_calls(pxb_b_t *b) { producers_case(b, false); }
void pxb_pool_posts(pxb_b_t *b) { producers_case(b, true); }
