/*
 * Posts: throughput of px_post / px_try_post into an executor pinned to the
 * pair's CPU b. A batch ends with a px_call, so it counts only posts that
 * ran (per-producer FIFO puts the call behind them).
 *   Post/<wait>       one producer on CPU a;
 *   TryPost/<wait>    px_try_post, retried while the ring is full (full/op:
 *                     failed tries per post);
 *   PostMP/P=<p>      P producer threads on every allowed CPU but the
 *                     executor's, one executor.
 */
#include <errno.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

typedef struct post_ctx {
    px_thread_t *t;
    uint64_t counter; /* written on the executor only */
    uint64_t fails;   /* px_try_post's -EAGAIN, by the measuring thread */
    bool same_pu;
} post_ctx_t;

static int post_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    post_ctx_t *c = ctx;
    int r = pxb_posts(c->t, &c->counter, n);
    return r ? r : px_call(c->t, pxb_nothing, NULL);
}

static int try_post_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    post_ctx_t *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int r;
        while ((r = px_try_post(c->t, pxb_count, &c->counter)) == -EAGAIN) {
            c->fails++;
            if (c->same_pu) px__yield();
            else px__cpu_relax();
        }
        if (r) return r;
    }
    return px_call(c->t, pxb_nothing, NULL);
}

static void bench_post(pxb_b_t *b)
{
    const pxb_case_t *cs = pxb_b_case(b);
    if (pxb_b_pin_caller(b)) return;
    post_ctx_t c = {0};
    c.same_pu = cs->pair->a == cs->pair->b;
    c.t = pxb_b_executor(b, (px_wait_t)cs->param);
    if (c.t == NULL) return;
    pxb_b_track_thread(b, pthread_self());
    bool try = cs->ptr != NULL;
    if (try) pxb_b_counter(b, &c.fails, "full/op");
    pxb_b_measure(b, try ? try_post_run : post_run, &c);
    pxb_b_destroy(b, c.t);
}

/* ---- registration ---- */

void pxb_posts_register(pxb_list_t *l, const pxb_pairs_t *pairs)
{
    static const px_wait_t modes[] = {PX_WAIT_SPIN, PX_WAIT_ADAPTIVE, PX_WAIT_SLEEP};
    const pxb_pair_t *p = &pairs->p[pairs->primary];
    bool same = pairs->primary == PXB_PAIR_SAME;
    for (unsigned m = 0; m < 3; m++) {
        if (same && modes[m] == PX_WAIT_SPIN) continue;
        pxb_add(l, bench_post, p, modes[m], NULL, PXB_PINEXEC, "BenchmarkPost/%s/%s",
                pxb_wait_name(modes[m]), p->label);
    }
    for (unsigned m = 0; m < 3; m++) {
        if (same && modes[m] == PX_WAIT_SPIN) continue;
        pxb_add(l, bench_post, p, modes[m], "try", PXB_PINEXEC, "BenchmarkTryPost/%s/%s",
                pxb_wait_name(modes[m]), p->label);
    }
    static const unsigned producers[] = {1, 2, 4, 8, 16};
    for (unsigned i = 0; i < sizeof producers / sizeof producers[0]; i++)
        pxb_add(l, pxb_pool_posts, p, producers[i], NULL, PXB_PINEXEC, "BenchmarkPostMP/P=%u/%s",
                producers[i], p->label);
    /* The throughput floor comparison (Post/spin vs SPSC) on every cross pair. */
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *q = &pairs->p[k];
        if (!q->present || k == pairs->primary) continue;
        px_wait_t w = k == PXB_PAIR_SAME ? PX_WAIT_ADAPTIVE : PX_WAIT_SPIN;
        pxb_add(l, bench_post, q, w, NULL, PXB_PINEXEC, "BenchmarkPost/%s/%s", pxb_wait_name(w),
                q->label);
    }
}
