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
    int r = px__bench_posts(c->t, &c->counter, n);
    return r ? r : px_call(c->t, px__bench_nothing, NULL);
}

static int try_post_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    post_ctx_t *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int r;
        while ((r = px_try_post(c->t, px__bench_count, &c->counter)) == -EAGAIN) {
            c->fails++;
            if (c->same_pu) px__yield();
            else px__cpu_relax();
        }
        if (r) return r;
    }
    return px_call(c->t, px__bench_nothing, NULL);
}

static void bench_post(px_b_t *b)
{
    const px_bench_case_t *cs = px__b_case(b);
    if (px__b_pin_caller(b)) return;
    post_ctx_t c = {0};
    c.same_pu = cs->pair->a == cs->pair->b;
    c.t = px__b_executor(b, (px_wait_t)cs->param);
    if (c.t == NULL) return;
    px__b_track_thread(b, pthread_self());
    bool try = cs->ptr != NULL;
    if (try) px__b_counter(b, &c.fails, "full/op");
    px__b_measure(b, try ? try_post_run : post_run, &c);
    px__b_destroy(b, c.t);
}

/* ---- registration ---- */

void px__bench_posts_register(px_bench_list_t *l, const px_bench_pairs_t *pairs)
{
    static const px_wait_t modes[] = {PX_WAIT_SPIN, PX_WAIT_ADAPTIVE, PX_WAIT_SLEEP};
    const px_bench_pair_t *p = &pairs->p[pairs->primary];
    bool same = pairs->primary == PX_PAIR_SAME;
    for (unsigned m = 0; m < 3; m++) {
        if (same && modes[m] == PX_WAIT_SPIN) continue;
        px__bench_add(l, bench_post, p, modes[m], NULL, PX_BENCH_PINEXEC, "BenchmarkPost/%s/%s",
                      px__bench_wait_name(modes[m]), p->label);
    }
    for (unsigned m = 0; m < 3; m++) {
        if (same && modes[m] == PX_WAIT_SPIN) continue;
        px__bench_add(l, bench_post, p, modes[m], "try", PX_BENCH_PINEXEC, "BenchmarkTryPost/%s/%s",
                      px__bench_wait_name(modes[m]), p->label);
    }
    static const unsigned producers[] = {1, 2, 4, 8, 16};
    for (unsigned i = 0; i < sizeof producers / sizeof producers[0]; i++)
        px__bench_add(l, px__bench_pool_posts, p, producers[i], NULL, PX_BENCH_PINEXEC,
                      "BenchmarkPostMP/P=%u/%s", producers[i], p->label);
    /* The throughput floor comparison (Post/spin vs SPSC) on every cross pair. */
    for (int k = 0; k < PX_PAIR_NKINDS; k++) {
        const px_bench_pair_t *q = &pairs->p[k];
        if (!q->present || k == pairs->primary) continue;
        px_wait_t w = k == PX_PAIR_SAME ? PX_WAIT_ADAPTIVE : PX_WAIT_SPIN;
        px__bench_add(l, bench_post, q, w, NULL, PX_BENCH_PINEXEC, "BenchmarkPost/%s/%s",
                      px__bench_wait_name(w), q->label);
    }
}
