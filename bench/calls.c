/*
 * Synchronous calls to a created executor: the caller on the pair's CPU a,
 * the executor pinned to CPU b.
 *   Call/<wait>          px_call back to back (spin: the hot path);
 *   CallV/<wait>         px_call_v;
 *   CallInline           px_call made on the executor's own thread;
 *   CallCold/<wait>      each call made once the executor is asleep in the
 *                        kernel (the wake path), timed per call;
 *   CallContended/P=<p>  P producer threads calling one executor, on every
 *                        allowed CPU but the executor's (oversubscribed on
 *                        purpose: 16 threads on 1 CPU here).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "platform.h"

const char *pxb_wait_name(px_wait_t w)
{
    switch (w) {
    case PX_WAIT_SPIN: return "spin";
    case PX_WAIT_ADAPTIVE: return "adaptive";
    case PX_WAIT_SLEEP: return "sleep";
    }
    return "?";
}

int pxb_executor(px_thread_t **out, int cpu, px_wait_t wait, const char *name)
{
    char spec[16];
    snprintf(spec, sizeof spec, "%d", cpu);
    px_thread_options_t o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.name = name;
    o.cpus = cpu >= 0 ? spec : NULL;
    o.wait = wait;
    o.flags = cpu >= 0 ? PX_PIN_STRICT : 0;
    return px_thread_create(out, &o);
}

px_thread_t *pxb_b_executor(pxb_b_t *b, px_wait_t wait)
{
    const pxb_case_t *c = pxb_b_case(b);
    px_thread_t *t = NULL;
    int r = pxb_executor(&t, c->pair->b, wait, "bench-exec");
    if (r) {
        pxb_b_fail(b, r, "px_thread_create on CPU %d: %s", c->pair->b, px_last_error());
        return NULL;
    }
    pxb_b_track_executor(b, t);
    return t;
}

void pxb_b_destroy(pxb_b_t *b, px_thread_t *t)
{
    int r = px_thread_destroy(t);
    if (r) pxb_b_fail(b, r, "px_thread_destroy: %s", px_last_error());
}

typedef struct call_ctx {
    px_thread_t *t;
    uint64_t counter; /* written on the executor only */
    uint64_t parks_seen;
} call_ctx_t;

static int call_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    call_ctx_t *c = ctx;
    return pxb_calls(c->t, &c->counter, n);
}

static int call_v_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    call_ctx_t *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        void *res = NULL;
        int r = px_call_v(c->t, pxb_count_v, &c->counter, &res);
        if (r) return r;
        if (res != &c->counter) return -EPROTO;
    }
    return 0;
}

static void bench_call(pxb_b_t *b)
{
    const pxb_case_t *cs = pxb_b_case(b);
    if (pxb_b_pin_caller(b)) return;
    call_ctx_t c = {0};
    c.t = pxb_b_executor(b, (px_wait_t)cs->param);
    if (c.t == NULL) return;
    pxb_b_track_thread(b, pthread_self());
    pxb_b_measure(b, cs->ptr ? call_v_run : call_run, &c);
    pxb_b_destroy(b, c.t);
}

/* ---- inline ---- */

typedef struct inline_ctx {
    call_ctx_t *c;
    uint64_t n;
    int err;
} inline_ctx_t;

static void inline_loop(void *arg)
{
    inline_ctx_t *x = arg;
    for (uint64_t i = 0; i < x->n; i++) {
        int r = px_call(x->c->t, pxb_count, &x->c->counter);
        if (r) {
            x->err = r;
            return;
        }
    }
}

static int inline_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    inline_ctx_t x = {.c = ctx, .n = n};
    int r = px_call(x.c->t, inline_loop, &x);
    return r ? r : x.err;
}

static void bench_inline(pxb_b_t *b)
{
    if (pxb_b_pin_caller(b)) return;
    call_ctx_t c = {0};
    c.t = pxb_b_executor(b, PX_WAIT_ADAPTIVE);
    if (c.t == NULL) return;
    pxb_b_measure(b, inline_run, &c);
    pxb_b_destroy(b, c.t);
}

/* ---- cold ---- */

static void sleep_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Wait until the executor parked since the last call (bounded: 10 s, so a
 * starved machine fails the case instead of hanging it). */
static int wait_parked(call_ctx_t *c)
{
    uint64_t deadline = px__now_ns() + 10000000000ull;
    for (;;) {
        px_stats_t s = {.size = sizeof s};
        memset(&s, 0, sizeof s);
        int r = px_thread_stats(c->t, &s);
        if (r) return r;
        if (s.parks > c->parks_seen) {
            c->parks_seen = s.parks;
            break;
        }
        if (px__now_ns() > deadline) return -ETIMEDOUT;
        sleep_us(5);
    }
    /* parks is counted just before the futex wait: let the thread get there. */
    sleep_us(20);
    return 0;
}

static int cold_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    call_ctx_t *c = ctx;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < n; i++) {
        int r = wait_parked(c);
        if (r) return r;
        uint64_t t0 = px__now_ns();
        r = px_call(c->t, pxb_count, &c->counter);
        sum += px__now_ns() - t0;
        if (r) return r;
    }
    *self_ns = sum ? sum : 1;
    return 0;
}

static void bench_cold(pxb_b_t *b)
{
    if (pxb_b_pin_caller(b)) return;
    call_ctx_t c = {0};
    c.t = pxb_b_executor(b, (px_wait_t)pxb_b_case(b)->param);
    if (c.t == NULL) return;
    pxb_b_track_thread(b, pthread_self());
    pxb_b_measure(b, cold_run, &c);
    pxb_b_destroy(b, c.t);
}

/* ---- registration ---- */

static const unsigned producers[] = {1, 2, 4, 8, 16};

void pxb_calls_register(pxb_list_t *l, const pxb_pairs_t *pairs)
{
    static const px_wait_t modes[] = {PX_WAIT_SPIN, PX_WAIT_ADAPTIVE, PX_WAIT_SLEEP};
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &pairs->p[k];
        if (!p->present) continue;
        for (unsigned m = 0; m < 3; m++) {
            if (k == PXB_PAIR_SAME && modes[m] == PX_WAIT_SPIN)
                pxb_add(l, pxb_skip_case, p, 0,
                        "a spinning executor on the caller's PU runs only when preempted", 0,
                        "BenchmarkCall/spin/%s", p->label);
            else
                pxb_add(l, bench_call, p, modes[m], NULL, PXB_PINEXEC, "BenchmarkCall/%s/%s",
                        pxb_wait_name(modes[m]), p->label);
        }
        pxb_add(l, bench_cold, p, PX_WAIT_SLEEP, NULL, PXB_PINEXEC, "BenchmarkCallCold/sleep/%s",
                p->label);
    }
    const pxb_pair_t *p = &pairs->p[pairs->primary];
    for (unsigned m = 0; m < 3; m++) {
        if (pairs->primary == PXB_PAIR_SAME && modes[m] == PX_WAIT_SPIN) continue;
        pxb_add(l, bench_call, p, modes[m], "v", PXB_PINEXEC, "BenchmarkCallV/%s/%s",
                pxb_wait_name(modes[m]), p->label);
    }
    pxb_add(l, bench_inline, p, 0, NULL, PXB_PINEXEC, "BenchmarkCallInline");
    pxb_add(l, bench_cold, p, PX_WAIT_ADAPTIVE, NULL, PXB_PINEXEC, "BenchmarkCallCold/adaptive/%s",
            p->label);
    for (unsigned i = 0; i < sizeof producers / sizeof producers[0]; i++)
        pxb_add(l, pxb_pool_calls, p, producers[i], NULL, PXB_PINEXEC,
                "BenchmarkCallContended/P=%u/%s", producers[i], p->label);
}
