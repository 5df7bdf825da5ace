/*
 * Calls to executors whose owner thread serves them (issue 3):
 *   MainThreadCall     from a worker on CPU a to px_mainthread(), served by
 *                      px_main on the main thread (pinned to CPU b meanwhile);
 *   GLFWWake           the same with --glfw: the main thread waits in
 *                      glfwWaitEvents and each call wakes it through
 *                      glfwPostEmptyEvent (px_glfw_main's wake hook);
 *   DrivenCall/serve   to an attached executor on CPU b whose owner loops in
 *                      px_serve(t, -1);
 *   DrivenCall/fd      the same owner in a poll() loop on px_thread_fd,
 *                      draining with px_drain (a foreign event loop's shape).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "platform.h"

typedef struct call_ctx {
    px_thread_t *t;
    uint64_t counter; /* written on the executor only */
} call_ctx_t;

static int call_run(void *ctx, uint64_t n, uint64_t *self_ns)
{
    (void)self_ns;
    call_ctx_t *c = ctx;
    return pxb_calls(c->t, &c->counter, n);
}

/* ---- the main thread ---- */

/* Runs on the main thread: bind it to *arg (-1: the allowed set); result in *arg. */
static void pin_main(void *arg)
{
    int *cpu = arg;
    *cpu = pxb_pin_self(*cpu);
}

static void bench_main_thread(pxb_b_t *b)
{
    if (!pxb_b_main_served(b)) {
        pxb_b_skip(b, "the suite is not running inside px_main");
        return;
    }
    if (pxb_b_pin_caller(b)) return;
    int cpu = pxb_b_case(b)->pair->b;
    int r = px_call(px_mainthread(), pin_main, &cpu);
    if (r || cpu) {
        pxb_b_fail(b, r ? r : cpu, "cannot pin the main thread to CPU %d", pxb_b_case(b)->pair->b);
        return;
    }
    call_ctx_t c = {.t = px_mainthread()};
    pxb_b_track_executor(b, c.t);
    pxb_b_track_thread(b, pthread_self());
    pxb_b_measure(b, call_run, &c);
    cpu = -1;
    px_call(px_mainthread(), pin_main, &cpu);
}

/* ---- attached executors ---- */

typedef struct owner {
    pthread_t th;
    int cpu;
    bool use_fd;
    px_thread_t *t;         /* published by ready */
    int err;                /* published by ready */
    _Atomic uint32_t ready; /* futex word */
    bool stop;              /* owner thread only */
    int loop_err;           /* owner thread only until joined */
} owner_t;

static void stop_fn(void *arg) { ((owner_t *)arg)->stop = true; }

static void *owner_main(void *arg)
{
    owner_t *o = arg;
    char spec[16];
    snprintf(spec, sizeof spec, "%d", o->cpu);
    px_thread_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.name = "bench-driven";
    opts.cpus = spec;
    opts.flags = PX_PIN_STRICT;
    o->err = px_thread_attach(&o->t, &opts);
    int fd = -1;
    if (o->err == 0 && o->use_fd) {
        fd = px_thread_fd(o->t);
        if (fd < 0) {
            o->err = fd;
            px_thread_detach(o->t);
        }
    }
    bool ok = o->err == 0;
    atomic_store_explicit(&o->ready, 1, memory_order_release); /* pairs with owner_start */
    px__futex_wake(&o->ready, 1);
    if (!ok) return NULL;
    while (!o->stop) {
        int r;
        if (o->use_fd) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            r = poll(&p, 1, -1);
            if (r < 0 && errno != EINTR) r = -errno;
            else r = px_drain(o->t, 0);
        } else {
            r = px_serve(o->t, -1);
        }
        if (r < 0) {
            o->loop_err = r;
            break;
        }
    }
    px_thread_detach(o->t);
    return NULL;
}

static int owner_start(owner_t *o)
{
    int r = pthread_create(&o->th, NULL, owner_main, o);
    if (r) return -r;
    while (atomic_load_explicit(&o->ready, memory_order_acquire) == 0) /* pairs with owner_main */
        px__futex_wait(&o->ready, 0, -1);
    if (o->err) pthread_join(o->th, NULL);
    return o->err;
}

static void bench_driven(pxb_b_t *b)
{
    if (pxb_b_pin_caller(b)) return;
    owner_t o;
    memset(&o, 0, sizeof o);
    o.cpu = pxb_b_case(b)->pair->b;
    o.use_fd = pxb_b_case(b)->param != 0;
    int r = owner_start(&o);
    if (r) {
        pxb_b_fail(b, r, "px_thread_attach on CPU %d: %s", o.cpu, px_last_error());
        return;
    }
    call_ctx_t c = {.t = o.t};
    pxb_b_track_executor(b, o.t);
    pxb_b_track_thread(b, pthread_self());
    pxb_b_measure(b, call_run, &c);
    /* Fails only when the loop already ended (loop_err); join either way. */
    r = px_call(o.t, stop_fn, &o);
    pthread_join(o.th, NULL);
    if (r && !o.loop_err) pxb_b_fail(b, r, "cannot stop the owner thread");
    if (o.loop_err) pxb_b_fail(b, o.loop_err, "the owner's loop failed");
}

void pxb_driven_register(pxb_list_t *l, const pxb_pairs_t *pairs)
{
    const pxb_pair_t *p = &pairs->p[pairs->primary];
    pxb_add(l, bench_main_thread, p, 0, NULL, PXB_PINEXEC, "%s/%s",
            l->glfw ? "BenchmarkGLFWWake" : "BenchmarkMainThreadCall", p->label);
    pxb_add(l, bench_driven, p, 0, NULL, PXB_PINEXEC, "BenchmarkDrivenCall/serve/%s", p->label);
    pxb_add(l, bench_driven, p, 1, NULL, PXB_PINEXEC, "BenchmarkDrivenCall/fd/%s", p->label);
}
