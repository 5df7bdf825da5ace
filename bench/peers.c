/*
 * The peers (bench/peers/) through their common adapter, on the primary pair:
 *   PeerCall/<peer>   calls back to back from CPU a to the peer's thread on b;
 *   PeerPost/<peer>   posts from CPU a, each batch ended by a call.
 * The pinexec peer runs pinexec in its default configuration, so these lines
 * compare defaults with defaults.
 */
#include <string.h>

#include "bench.h"
#include "peers/peer.h"
#include "platform.h"

typedef struct peer_ctx {
    const pxb_peer_t *peer;
    void *exec;
    uint64_t counter; /* written on the peer's thread only */
} peer_ctx_t;

static int call_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    peer_ctx_t *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int r = c->peer->call(c->exec, pxb_count, &c->counter);
        if (r) return r;
    }
    return 0;
}

static int post_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    peer_ctx_t *c = ctx;
    for (uint64_t i = 0; i < n; i++) {
        int r = c->peer->post(c->exec, pxb_count, &c->counter);
        if (r) return r;
    }
    return c->peer->call(c->exec, pxb_nothing, NULL);
}

static void bench_peer(pxb_b_t *b)
{
    const pxb_case_t *cs = pxb_b_case(b);
    peer_ctx_t c;
    memset(&c, 0, sizeof c);
    c.peer = cs->ptr;
    if (pxb_b_pin_caller(b)) return;
    int r = c.peer->create(&c.exec, cs->pair->b);
    if (r) {
        pxb_b_fail(b, r, "%s: create on CPU %d failed", c.peer->name, cs->pair->b);
        return;
    }
    /* The adapter does not expose the peer's thread: count the whole
     * process's CPU time (the suite's other threads sleep meanwhile). */
    pxb_b_track_process(b);
    pxb_b_measure(b, cs->param ? post_run : call_run, &c);
    c.peer->destroy(c.exec);
}

void pxb_peers_register(pxb_list_t *l, const pxb_pairs_t *pairs)
{
    const pxb_pair_t *p = &pairs->p[pairs->primary];
    const pxb_peer_t *const *peers = pxb_peers();
    for (unsigned i = 0; peers[i]; i++)
        pxb_add(l, bench_peer, p, 0, peers[i], 0, "BenchmarkPeerCall/%s/%s", peers[i]->name,
                p->label);
    for (unsigned i = 0; peers[i]; i++)
        pxb_add(l, bench_peer, p, 1, peers[i], 0, "BenchmarkPeerPost/%s/%s", peers[i]->name,
                p->label);
}
