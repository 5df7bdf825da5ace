/*
 * What the pinexec cases time, shared by calls.c, posts.c, driven.c, peers.c,
 * floors.c and the multi-producer cases (pool.c): the function each call or
 * post runs, and loops of n calls or posts.
 */
#include "bench.h"

void pxb_count(void *arg) { ++*(uint64_t *)arg; }

void *pxb_count_v(void *arg)
{
    ++*(uint64_t *)arg;
    return arg;
}

void pxb_nothing(void *arg) { (void)arg; }

int pxb_calls(px_thread_t *t, uint64_t *counter, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int r = px_call(t, pxb_count, counter);
        if (r) return r;
    }
    return 0;
}

int pxb_posts(px_thread_t *t, uint64_t *counter, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        int r = px_post(t, pxb_count, counter);
        if (r) return r;
    }
    return 0;
}
