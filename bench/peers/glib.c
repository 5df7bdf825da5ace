/*
 * GLib: a GMainContext iterated by a dedicated thread; a call is
 * g_main_context_invoke() from another thread (GLib queues an idle source and
 * wakes the context) and the caller waits on a GCond; a post is
 * g_main_context_invoke_full() with a heap item freed by GLib.
 *
 * The request's fields are published with a C11 release store that the
 * callback reads with acquire, and completion and start-up likewise: GLib's
 * own mutexes are futex-based, invisible to ThreadSanitizer, so this makes
 * the happens-before edges of our code explicit. GLib's internals (its
 * allocations and wake-ups, synchronised by those futexes) are suppressed
 * under ThreadSanitizer: they are GLib's business, not the benchmark's.
 */
#include "peer.h"

#ifdef PX_PEER_GLIB

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#if defined(PX_SANITIZE_THREAD) || defined(__SANITIZE_THREAD__)
#define GPEER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPEER_TSAN 1
#endif
#endif
#ifdef GPEER_TSAN
/* Read by the ThreadSanitizer runtime at start-up. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) { return "called_from_lib:libglib-2.0.so\n"; }
#endif

typedef struct gpeer {
    GMainContext *ctx;
    pthread_t th;
    int cpu;
    bool stop; /* loop thread only */
    GMutex mu; /* startup and call completion */
    GCond started_cond;
    _Atomic int started;
} gpeer_t;

typedef struct greq {
    gpeer_t *p;
    void (*fn)(void *);
    void *arg;
    _Atomic int published; /* fields above are set */
    _Atomic int done;      /* fn returned */
    GCond cond;            /* call: signalled under p->mu when done */
} greq_t;

static void *loop_thread(void *arg)
{
    gpeer_t *p = arg;
    pxb_pin_self(p->cpu);
    g_main_context_push_thread_default(p->ctx);
    g_mutex_lock(&p->mu);
    atomic_store_explicit(&p->started, 1, memory_order_release); /* pairs with create */
    g_cond_broadcast(&p->started_cond);
    g_mutex_unlock(&p->mu);
    while (!p->stop) g_main_context_iteration(p->ctx, TRUE);
    while (g_main_context_iteration(p->ctx, FALSE)) {
    } /* what is still queued */
    g_main_context_pop_thread_default(p->ctx);
    return NULL;
}

static int create(void **out, int cpu)
{
    gpeer_t *p = calloc(1, sizeof *p);
    if (p == NULL) return -ENOMEM;
    p->ctx = g_main_context_new();
    p->cpu = cpu;
    g_mutex_init(&p->mu);
    g_cond_init(&p->started_cond);
    int r = pthread_create(&p->th, NULL, loop_thread, p);
    if (r) {
        g_main_context_unref(p->ctx);
        free(p);
        return -r;
    }
    g_mutex_lock(&p->mu);
    while (!atomic_load_explicit(&p->started, memory_order_acquire)) /* pairs with loop_thread */
        g_cond_wait(&p->started_cond, &p->mu);
    g_mutex_unlock(&p->mu);
    *out = p;
    return 0;
}

static gboolean call_cb(gpointer data)
{
    greq_t *q = data;
    atomic_load_explicit(&q->published, memory_order_acquire); /* pairs with call's release */
    gpeer_t *p = q->p; /* q is the caller's: not touched after the signal */
    q->fn(q->arg);
    g_mutex_lock(&p->mu);
    atomic_store_explicit(&q->done, 1, memory_order_release); /* pairs with call's acquire */
    g_cond_signal(&q->cond);
    g_mutex_unlock(&p->mu);
    return G_SOURCE_REMOVE;
}

static int call(void *exec, void (*fn)(void *), void *arg)
{
    gpeer_t *p = exec;
    greq_t q = {.p = p, .fn = fn, .arg = arg};
    g_cond_init(&q.cond);
    atomic_store_explicit(&q.published, 1, memory_order_release); /* pairs with call_cb */
    g_main_context_invoke(p->ctx, call_cb, &q);
    g_mutex_lock(&p->mu);
    while (!atomic_load_explicit(&q.done, memory_order_acquire)) /* pairs with call_cb */
        g_cond_wait(&q.cond, &p->mu);
    g_mutex_unlock(&p->mu);
    g_cond_clear(&q.cond);
    return 0;
}

static gboolean post_cb(gpointer data)
{
    greq_t *q = data;
    atomic_load_explicit(&q->published, memory_order_acquire); /* pairs with post's release */
    q->fn(q->arg);
    return G_SOURCE_REMOVE;
}

static int post(void *exec, void (*fn)(void *), void *arg)
{
    gpeer_t *p = exec;
    greq_t *q = malloc(sizeof *q);
    if (q == NULL) return -ENOMEM;
    q->p = p;
    q->fn = fn;
    q->arg = arg;
    atomic_store_explicit(&q->published, 1, memory_order_release); /* pairs with post_cb */
    g_main_context_invoke_full(p->ctx, G_PRIORITY_DEFAULT, post_cb, q, free);
    return 0;
}

static void stop_fn(void *arg) { ((gpeer_t *)arg)->stop = true; }

static void destroy(void *exec)
{
    gpeer_t *p = exec;
    call(p, stop_fn, p); /* behind everything queued before */
    pthread_join(p->th, NULL);
    g_main_context_unref(p->ctx);
    g_cond_clear(&p->started_cond);
    g_mutex_clear(&p->mu);
    free(p);
}

const pxb_peer_t pxb_peer_glib = {
    .name = "glib",
    .plain = "GLib's g_main_context_invoke",
    .about =
        "GLib: g_main_context_invoke on a context iterated by a dedicated thread, waits on a GCond",
    .create = create,
    .call = call,
    .post = post,
    .destroy = destroy,
};

#else
typedef int pxb_peer_glib_not_built; /* ISO C forbids an empty file */
#endif
