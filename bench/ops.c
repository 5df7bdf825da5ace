/*
 * What the pinexec cases time, shared by calls.c, posts.c, driven.c, peers.c,
 * floors.c and the multi-producer cases (pool.c): the function each call or
 * post runs, and loops of n calls or posts.
 */
#include "bench.h"

void px__bench_count(void *arg) { ++*(uint64_t *)arg; }

void *px__bench_count_v(void *arg)
{
    ++*(uint64_t *)arg;
    return arg;
}

void px__bench_nothing(void *arg) { (void)arg; }

int px__bench_calls(px_thread_t *t, uint64_t *counter, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int r = px_call(t, px__bench_count, counter);
        if (r) return r;
    }
    return 0;
}

int px__bench_posts(px_thread_t *t, uint64_t *counter, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int r = px_post(t, px__bench_count, counter);
        if (r) return r;
    }
    return 0;
}
