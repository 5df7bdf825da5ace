/*
 * The adapter interface of the executors `pinexec bench` compares against
 * (bench/peers/, one file each). A peer is one executor thread, pinned to a
 * CPU, that runs functions handed to it: synchronously (call) or not (post).
 *
 * Contract (tests/test_bench.c checks it for every peer built):
 *   - create starts the thread bound to OS CPU cpu (-1: unpinned) and returns
 *     once it can take work: 0 and *out, or a negative errno;
 *   - call runs fn(arg) on that thread and returns after fn returned; what the
 *     caller wrote before is visible to fn, what fn wrote is visible after;
 *   - post queues fn(arg) and returns; posts and calls from one thread run in
 *     the order they were made (the suite ends a post batch with a call);
 *   - destroy runs everything queued, stops and joins the thread, frees it.
 *     The caller guarantees no call or post is in flight.
 * call and post return 0 or a negative errno.
 *
 * Adding a peer: write bench/peers/<name>.c defining a pxb_peer_t, add
 * it to the list in bench/peers/registry.c (inside the #if of the macro its
 * CMake check defines when it needs a library), and it runs in the suite as
 * BenchmarkPeerCall/<name> and BenchmarkPeerPost/<name>.
 */
#ifndef PXB_PEER_H
#define PXB_PEER_H

/* Which optional peers this build has: the top-level CMake defines
 * PX_HAVE_GLIB / PX_HAVE_LIBUV (or PX_BENCH_HAVE_GLIB / PX_BENCH_HAVE_UV) and
 * links the library when pkg-config finds it. */
#if defined(PX_BENCH_HAVE_GLIB) || defined(PX_HAVE_GLIB)
#define PX_PEER_GLIB 1
#endif
#if defined(PX_BENCH_HAVE_UV) || defined(PX_HAVE_LIBUV)
#define PX_PEER_UV 1
#endif

typedef struct pxb_peer {
    const char *name;  /* [a-z0-9]+, used in case names */
    const char *about; /* one line for the README and --json */
    const char *plain; /* the peer in a sentence: "a mutex+condvar executor" */
    int (*create)(void **out, int cpu);
    int (*call)(void *exec, void (*fn)(void *), void *arg);
    int (*post)(void *exec, void (*fn)(void *), void *arg);
    void (*destroy)(void *exec);
} pxb_peer_t;

extern const pxb_peer_t pxb_peer_naive;
extern const pxb_peer_t pxb_peer_pinexec;
#ifdef PX_PEER_GLIB
extern const pxb_peer_t pxb_peer_glib;
#endif
#ifdef PX_PEER_UV
extern const pxb_peer_t pxb_peer_uv;
#endif

/* The peers built into this binary, NULL-terminated. */
const pxb_peer_t *const *pxb_peers(void);

/* Bind the calling thread to OS CPU cpu (-1: the allowed set); bench/pairs.c. */
int pxb_pin_self(int cpu);

#endif /* PXB_PEER_H */
