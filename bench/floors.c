/*
 * The floors, measured in the same process and run as the executors:
 *   DirectCall       an indirect call on one thread;
 *   PingPong/1line   a round trip through one cache line both threads write;
 *   PingPong/2lines  a request line and a response line (a call's shape);
 *   FutexPingPong    a round trip where both sides sleep in the kernel and
 *                    wake each other (two futex wakes per op);
 *   SPSC             a single-producer single-consumer ring of (fn, arg)
 *                    cells whose consumer runs fn: the post throughput floor.
 * The spinning floors wait with the same pause instruction the executors use.
 * On the same PU the spinning floors are skipped (a spinner only yields the
 * CPU when the scheduler preempts it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

/* ---- a server thread pinned to the pair's executor CPU ----------------------- */

typedef struct server {
    pthread_t th;
    int cpu;
    void *(*loop)(void *);
    void *arg;
    _Atomic int pin_err;
    _Atomic uint32_t ready; /* futex word */
} server_t;

static void *server_main(void *p)
{
    server_t *s = p;
    int r = pxb_pin_self(s->cpu);
    atomic_store_explicit(&s->pin_err, r, memory_order_relaxed); /* relaxed: published by ready */
    atomic_store_explicit(&s->ready, 1, memory_order_release);   /* pairs with server_start */
    px__futex_wake(&s->ready, 1);
    if (r) return NULL;
    return s->loop(s->arg);
}

/* Start loop(arg) on CPU cpu; 0, or a negative errno (and nothing runs). */
static int server_start(server_t *s, int cpu, void *(*loop)(void *), void *arg)
{
    memset(s, 0, sizeof *s);
    s->cpu = cpu;
    s->loop = loop;
    s->arg = arg;
    int r = pthread_create(&s->th, NULL, server_main, s);
    if (r) return -r;
    while (atomic_load_explicit(&s->ready, memory_order_acquire) == 0) /* pairs with server_main */
        px__futex_wait(&s->ready, 0, -1);
    r = atomic_load_explicit(&s->pin_err, memory_order_relaxed); /* relaxed: ordered by ready */
    if (r) {
        pthread_join(s->th, NULL);
        return r;
    }
    return 0;
}

/* Common start of a two-thread floor: pin the caller, start the server. */
static int two_threads(pxb_b_t *b, server_t *s, void *(*loop)(void *), void *arg)
{
    const pxb_pair_t *pair = pxb_b_case(b)->pair;
    if (pxb_b_pin_caller(b)) return -1;
    int r = server_start(s, pair->b, loop, arg);
    if (r) {
        pxb_b_fail(b, r, "cannot start the server thread on CPU %d", pair->b);
        return r;
    }
    pxb_b_track_thread(b, pthread_self());
    pxb_b_track_thread(b, s->th);
    return 0;
}

/* ---- DirectCall ------------------------------------------------------------ */

static __attribute__((noinline)) void direct_fn(void *arg) { ++*(volatile uint64_t *)arg; }

static int direct_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    void (*volatile fn)(void *) = direct_fn; /* an indirect call, as an executor makes */
    for (uint64_t i = 0; i < n; i++) fn(ctx);
    return 0;
}

static void bench_direct(pxb_b_t *b)
{
    volatile uint64_t counter = 0;
    if (pxb_b_pin_caller(b)) return;
    pxb_b_track_thread(b, pthread_self());
    pxb_b_measure(b, direct_run, (void *)&counter);
}

/* ---- PingPong/1line and /2lines --------------------------------------------- */

typedef struct pingpong {
    alignas(64) _Atomic uint64_t req;  /* 1line: the only word; 2lines: the caller's */
    alignas(64) _Atomic uint64_t resp; /* 2lines: the server's */
    alignas(64) _Atomic int stop;      /* read-mostly */
    int lines;
} pingpong_t;

/* 1line: the caller makes the word odd, the server makes it even. */
static void *pp1_server(void *arg)
{
    pingpong_t *p = arg;
    for (;;) {
        /* Acquire pairs with the caller's release store (a round trip's
         * happens-before, like a call's). */
        uint64_t v = atomic_load_explicit(&p->req, memory_order_acquire);
        if (v & 1) {
            atomic_store_explicit(&p->req, v + 1, memory_order_release); /* pairs with pp1_run */
            continue;
        }
        if (atomic_load_explicit(&p->stop, memory_order_relaxed)) return NULL; /* relaxed: a flag */
        px__cpu_relax();
    }
}

static int pp1_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    pingpong_t *p = ctx;
    uint64_t v = atomic_load_explicit(&p->req, memory_order_relaxed); /* relaxed: even, ours now */
    for (uint64_t i = 0; i < n; i++) {
        atomic_store_explicit(&p->req, v + 1, memory_order_release); /* pairs with pp1_server */
        while (atomic_load_explicit(&p->req, memory_order_acquire) != v + 2)
            px__cpu_relax(); /* ditto */
        v += 2;
    }
    return 0;
}

/* 2lines: the caller writes a sequence number to req, the server echoes it to resp. */
static void *pp2_server(void *arg)
{
    pingpong_t *p = arg;
    uint64_t last = 0;
    for (;;) {
        uint64_t v = atomic_load_explicit(&p->req, memory_order_acquire); /* pairs with pp2_run */
        if (v != last) {
            atomic_store_explicit(&p->resp, v, memory_order_release); /* pairs with pp2_run */
            last = v;
            continue;
        }
        if (atomic_load_explicit(&p->stop, memory_order_relaxed)) return NULL; /* relaxed: a flag */
        px__cpu_relax();
    }
}

static int pp2_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    pingpong_t *p = ctx;
    uint64_t v =
        atomic_load_explicit(&p->req, memory_order_relaxed); /* relaxed: only we write req */
    for (uint64_t i = 0; i < n; i++) {
        v++;
        atomic_store_explicit(&p->req, v, memory_order_release); /* pairs with pp2_server */
        while (atomic_load_explicit(&p->resp, memory_order_acquire) != v)
            px__cpu_relax(); /* ditto */
    }
    return 0;
}

static void bench_pingpong(pxb_b_t *b)
{
    pingpong_t *p = aligned_alloc(64, sizeof *p);
    if (p == NULL) {
        pxb_b_fail(b, -ENOMEM, "out of memory");
        return;
    }
    memset(p, 0, sizeof *p);
    p->lines = (int)pxb_b_case(b)->param;
    server_t s;
    if (two_threads(b, &s, p->lines == 1 ? pp1_server : pp2_server, p) == 0) {
        pxb_b_measure(b, p->lines == 1 ? pp1_run : pp2_run, p);
        atomic_store_explicit(&p->stop, 1, memory_order_relaxed); /* relaxed: a flag; join orders */
        pthread_join(s.th, NULL);
    }
    free(p);
}

/* ---- FutexPingPong ----------------------------------------------------------- */

enum { TURN_CALLER = 0, TURN_SERVER = 1 };

typedef struct futex_pp {
    alignas(64) _Atomic uint32_t turn;
    _Atomic int stop;
} futex_pp_t;

static void *futex_server(void *arg)
{
    futex_pp_t *f = arg;
    for (;;) {
        /* Acquire pairs with the caller's release store of TURN_SERVER. */
        while (atomic_load_explicit(&f->turn, memory_order_acquire) != TURN_SERVER)
            px__futex_wait(&f->turn, TURN_CALLER, -1);
        if (atomic_load_explicit(&f->stop, memory_order_relaxed))
            return NULL; /* relaxed: ordered by turn */
        atomic_store_explicit(&f->turn, TURN_CALLER,
                              memory_order_release); /* pairs with futex_run */
        px__futex_wake(&f->turn, 1);
    }
}

static int futex_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    futex_pp_t *f = ctx;
    for (uint64_t i = 0; i < n; i++) {
        atomic_store_explicit(&f->turn, TURN_SERVER,
                              memory_order_release); /* pairs with futex_server */
        px__futex_wake(&f->turn, 1);
        /* Acquire pairs with the server's release store of TURN_CALLER. */
        while (atomic_load_explicit(&f->turn, memory_order_acquire) != TURN_CALLER)
            px__futex_wait(&f->turn, TURN_SERVER, -1);
    }
    return 0;
}

static void bench_futex(pxb_b_t *b)
{
    futex_pp_t *f = aligned_alloc(64, sizeof(futex_pp_t) < 64 ? 64 : sizeof(futex_pp_t));
    if (f == NULL) {
        pxb_b_fail(b, -ENOMEM, "out of memory");
        return;
    }
    atomic_init(&f->turn, TURN_CALLER);
    atomic_init(&f->stop, 0);
    server_t s;
    if (two_threads(b, &s, futex_server, f) == 0) {
        pxb_b_fixed_wakes(b, 2.0);
        pxb_b_measure(b, futex_run, f);
        atomic_store_explicit(&f->stop, 1, memory_order_relaxed); /* relaxed: published by turn */
        atomic_store_explicit(&f->turn, TURN_SERVER,
                              memory_order_release); /* pairs with futex_server */
        px__futex_wake(&f->turn, 1);
        pthread_join(s.th, NULL);
    }
    free(f);
}

/* ---- SPSC ring ----------------------------------------------------------------- */

#define SPSC_CAP 1024u /* pinexec's default ring capacity */

typedef struct spsc_cell {
    void (*fn)(void *);
    void *arg;
} spsc_cell_t;

typedef struct spsc {
    alignas(64) _Atomic uint64_t tail; /* producer's */
    uint64_t head_cache;               /* producer's copy of head */
    alignas(64) _Atomic uint64_t head; /* consumer's */
    uint64_t tail_cache;               /* consumer's copy of tail */
    uint64_t ran;                      /* consumer's count of items run */
    alignas(64) _Atomic int stop;
    alignas(64) spsc_cell_t cells[SPSC_CAP];
} spsc_t;

static void *spsc_consumer(void *arg)
{
    spsc_t *q = arg;
    uint64_t h =
        atomic_load_explicit(&q->head, memory_order_relaxed); /* relaxed: we are its writer */
    for (;;) {
        if (h == q->tail_cache) {
            /* Acquire pairs with the producer's release store of tail. */
            q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (h == q->tail_cache) {
                if (atomic_load_explicit(&q->stop, memory_order_relaxed))
                    return NULL; /* relaxed: a flag */
                px__cpu_relax();
                continue;
            }
        }
        spsc_cell_t c = q->cells[h & (SPSC_CAP - 1)];
        c.fn(c.arg);
        h++;
        /* Release pairs with the producer's acquire load of head: the cell
         * was read before the producer refills it. */
        atomic_store_explicit(&q->head, h, memory_order_release);
    }
}

static int spsc_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    spsc_t *q = ctx;
    uint64_t t =
        atomic_load_explicit(&q->tail, memory_order_relaxed); /* relaxed: we are its writer */
    for (uint64_t i = 0; i < n; i++) {
        while (t - q->head_cache >= SPSC_CAP) {
            q->head_cache =
                atomic_load_explicit(&q->head, memory_order_acquire); /* pairs with the consumer */
            if (t - q->head_cache >= SPSC_CAP) px__cpu_relax();
        }
        q->cells[t & (SPSC_CAP - 1)] = (spsc_cell_t){pxb_count, &q->ran};
        t++;
        atomic_store_explicit(&q->tail, t, memory_order_release); /* pairs with the consumer */
    }
    /* The batch ends when the consumer has run everything (as a post batch
     * ends with a barrier call). Acquire pairs with the consumer's release. */
    while (atomic_load_explicit(&q->head, memory_order_acquire) != t) px__cpu_relax();
    q->head_cache = t;
    return 0;
}

static void bench_spsc(pxb_b_t *b)
{
    spsc_t *q = aligned_alloc(64, sizeof *q);
    if (q == NULL) {
        pxb_b_fail(b, -ENOMEM, "out of memory");
        return;
    }
    memset(q, 0, sizeof *q);
    server_t s;
    if (two_threads(b, &s, spsc_consumer, q) == 0) {
        pxb_b_measure(b, spsc_run, q);
        atomic_store_explicit(&q->stop, 1, memory_order_relaxed); /* relaxed: a flag; join orders */
        pthread_join(s.th, NULL);
    }
    free(q);
}

/* ---- registration ----------------------------------------------------------- */

void pxb_floors_register(pxb_list_t *l, const pxb_pairs_t *pairs)
{
    pxb_add(l, bench_direct, NULL, 0, NULL, 0, "BenchmarkDirectCall");
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &pairs->p[k];
        if (!p->present) continue;
        /* Spinning on one PU only progresses when the scheduler preempts. */
        void (*spin_only)(pxb_b_t *) = k == PXB_PAIR_SAME ? pxb_skip_case : NULL;
        const char *why = "a spinning floor on one PU measures the scheduler's time slice";
        pxb_add(l, spin_only ? spin_only : bench_pingpong, p, 1, why, 0,
                "BenchmarkPingPong/1line/%s", p->label);
        pxb_add(l, spin_only ? spin_only : bench_pingpong, p, 2, why, 0,
                "BenchmarkPingPong/2lines/%s", p->label);
        pxb_add(l, bench_futex, p, 0, NULL, 0, "BenchmarkFutexPingPong/%s", p->label);
        pxb_add(l, spin_only ? spin_only : bench_spsc, p, 0, why, 0, "BenchmarkSPSC/%s", p->label);
    }
}
