/*
 * Executor life cycle: create (start, bind, allocate on the executor's own
 * NUMA node, hand back), the self-driven serving loop, destroy (close the
 * gate, drain, join, free), fork, and the read-only accessors.
 *
 *   create ──► STARTING ──bind/alloc ok──► OPEN ──destroy──► CLOSING ──drained──► gone
 *                  └──failure──► (thread joined, nothing left)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "error.h"
#include "executor.h"
#include "placement.h"

_Atomic uint64_t px__fork_gen;

#ifdef PX_TEST_HOOKS
/* Test hook: the first ring position of executors created from now on, so a
 * test can start just below the 64-bit wrap point. */
uint64_t px__test_ring_start;
#endif

/*
 * Default spin budget before sleeping (ADAPTIVE), ns. A park + wake-up costs
 * about 20-25 us of latency on the machines we measured (futex ping-pong in
 * `pinexec bench`); spinning for as long as one sleep costs is the classic
 * 2-competitive choice for spin-then-block (Karlin, Li, Manasse, Owicki,
 * "Empirical studies of competitive spinning for a shared-memory
 * multiprocessor", SOSP 1991). See docs/design.md.
 */
const uint32_t px__default_spin_ns = 25000;

static _Atomic uint32_t name_counter;

static void on_fork_child(void)
{
    /* Relaxed: the child is single-threaded here. */
    px__fetch_add_relaxed(&px__fork_gen, 1);
    px__thread_state_fork_child();
}

__attribute__((constructor)) static void lifecycle_init(void) { px__atfork_child(on_fork_child); }

static uint32_t round_capacity(unsigned c)
{
    uint32_t cap = 1;
    while (cap < c) cap <<= 1;
    return cap;
}

int px__options_check(const px_thread_options_t *o)
{
    if (o == NULL) return 0;
    if (o->capacity > PX_CAPACITY_MAX)
        return px__fail(-EINVAL, "capacity %u is above the maximum %u", o->capacity,
                        PX_CAPACITY_MAX);
    if ((unsigned)o->wait > PX_WAIT_SLEEP)
        return px__fail(-EINVAL, "wait mode %d is not a px_wait_t", (int)o->wait);
    if (o->flags & ~PX_PIN_STRICT)
        return px__fail(-EINVAL, "flags 0x%x has unknown bits 0x%x", o->flags,
                        o->flags & ~PX_PIN_STRICT);
    return 0;
}

/* The size of px_thread_options_t's first version (pinexec 0.1). */
#define PX__OPTIONS_SIZE_0_1 PX__SIZE_THROUGH(px_thread_options_t, flags)

int px__options_read(const px_thread_options_t *in, px_thread_options_t *o, const char *what)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    if (in == NULL) return 0;
    char field[64];
    snprintf(field, sizeof field, "%s: opts", what);
    int r = px__struct_in(o, sizeof *o, PX__OPTIONS_SIZE_0_1, in, in->size, field);
    if (r) return r;
    o->size = sizeof *o;
    return px__options_check(o);
}

struct px_thread *px__executor_alloc(const px_thread_options_t *o, const char *name)
{
    static const px_thread_options_t defaults;
    if (o == NULL) o = &defaults;
    size_t nlen = strlen(name);
    size_t size =
        (sizeof(struct px_thread) + nlen + 1 + PX_CACHE_LINE - 1) & ~(size_t)(PX_CACHE_LINE - 1);
    struct px_thread *t = aligned_alloc(PX_CACHE_LINE, size);
    if (t == NULL) return NULL;
    memset(t, 0, size); /* first touch: the pages land on the calling thread's node */
    uint32_t cap = round_capacity(o->capacity ? o->capacity : PX_CAPACITY_DEFAULT);
    size_t csize = (size_t)cap * sizeof(px__cell_t);
    csize = (csize + PX_CACHE_LINE - 1) & ~(size_t)(PX_CACHE_LINE - 1);
    t->cells = aligned_alloc(PX_CACHE_LINE, csize);
    if (t->cells == NULL) {
        free(t);
        return NULL;
    }
    memset(t->cells, 0, csize);
    t->capacity = cap;
    t->mask = cap - 1;
    t->space_batch = cap / 4 < 1 ? 1 : cap / 4 > 64 ? 64 : cap / 4;
    t->wait = (uint8_t)o->wait;
    t->spin_ns = o->spin_ns ? o->spin_ns : px__default_spin_ns;
    t->fork_gen = px__load_relaxed(&px__fork_gen); /* relaxed: see px__check_alive */
    memcpy(t->name_buf, name, nlen + 1);
    t->name = t->name_buf;
    atomic_init(&t->fd, -1);
#ifdef PX_TEST_HOOKS
    extern uint64_t px__test_ring_start;
    uint64_t start = px__test_ring_start;
#else
    uint64_t start = 0;
#endif
    /* Each cell holds "one lap before" its first position, so no initial
     * value can look published (also when start is just below the wrap). */
    for (uint64_t k = 0; k < cap; k++)
        atomic_init(&t->cells[(start + k) & t->mask].seq, start + k - cap + 1);
    atomic_init(&t->tail, start);
    atomic_init(&t->head_cache, start);
    atomic_init(&t->head, start);
    return t;
}

void px__executor_free(struct px_thread *t)
{
    int fd = atomic_load_explicit(&t->fd, memory_order_relaxed); /* relaxed: no users left */
    if (fd >= 0) px__event_close(fd);
    free(t->cells);
    free(t);
}

/* ---- px_thread_create ---- */

typedef struct startup {
    const px_thread_options_t *opts;
    hwloc_bitmap_t cpuset;
    const char *name;
    struct px_thread *t;
    int result;
    _Atomic uint32_t ready; /* 0 until the thread reported; futex word */
    char error[256];
} startup_t;

/* px__park's stop condition for the serving loop. Relaxed: after px__park's
 * seq_cst fence, pairs with the seq_cst store in px_thread_destroy. */
static bool stop_requested(void *ctx)
{
    struct px_thread *t = ctx;
    return px__load_relaxed(&t->stop_req) != NULL;
}

/* Returns when stopped, or at once in a fork() child of the executor's
 * thread (an item forked): the executor is dead there, its ring a copy. */
static void serve_until_stopped(struct px_thread *t)
{
    for (;;) {
        if (PX_UNLIKELY(px__check_alive(t))) return;
        if (px__run_batch(t, 0)) continue;
        /* Acquire pairs with the seq_cst store of stop_req in px_thread_destroy,
         * which follows the gate drain: every accepted item is published. */
        if (atomic_load_explicit(&t->stop_req, memory_order_acquire) != NULL) {
            if (!px__ring_ready(t)) return;
            continue;
        }
        switch ((px_wait_t)t->wait) {
        case PX_WAIT_SPIN: px__spin_for_work(t, UINT32_MAX); break;
        case PX_WAIT_ADAPTIVE:
            if (!px__spin_for_work(t, t->spin_ns)) px__park(t, stop_requested, t, -1);
            break;
        case PX_WAIT_SLEEP: px__park(t, stop_requested, t, -1); break;
        }
    }
}

static void report(startup_t *s, int result)
{
    s->result = result;
    if (result < 0) snprintf(s->error, sizeof s->error, "%s", px_last_error());
    px__store_release(&s->ready, 1); /* pairs with the acquire load in px_thread_create */
    px__futex_wake(&s->ready, 1);
}

static void *executor_main(void *arg)
{
    startup_t *s = arg;
    px__thread_set_name(s->name);
    int r = px__placement_bind_self(s->cpuset, s->opts ? s->opts->flags : 0);
    if (r < 0) {
        report(s, r);
        return NULL;
    }
    /* Bound first, then allocate: first touch places the ring on our node. */
    struct px_thread *t = px__executor_alloc(s->opts, s->name);
    if (t == NULL) {
        report(s,
               px__fail(-ENOMEM, "px_thread_create: out of memory for executor \"%s\"", s->name));
        return NULL;
    }
    t->kind = PX__CREATED;
    t->tid = px__gettid();
    t->os = px__thread_self();
    px__set_self(t);
    s->t = t;
    report(s, 0); /* s is gone after this */

    serve_until_stopped(t);
    /* In a fork child nobody waits for us: the thread (the child's only
     * one) ends here, and with it the child process. */
    if (px__check_alive(t)) return NULL;
    /* Relaxed: stop_req was acquired in serve_until_stopped. After completing
     * it we touch nothing of t: the destroyer frees it. */
    px__complete(px__load_relaxed(&t->stop_req), NULL);
    return NULL;
}

int px_thread_create(px_thread_t **out, const px_thread_options_t *caller_opts)
{
    if (out == NULL) return px__fail(-EINVAL, "px_thread_create: out is NULL");
    px_thread_options_t own; /* the caller's options in this library's layout */
    int r = px__options_read(caller_opts, &own, "px_thread_create");
    if (r) return r;
    const px_thread_options_t *opts = &own;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return px__fail(-ENOMEM, "px_thread_create: out of memory");
    r = px__placement_resolve(opts ? opts->cpus : NULL, opts ? opts->flags : 0, set);
    if (r) {
        hwloc_bitmap_free(set);
        return r;
    }
    char name[64];
    const char *given = opts && opts->name ? opts->name : NULL;
    if (given == NULL) {
        /* Relaxed: only uniqueness matters. */
        snprintf(name, sizeof name, "px-%u", px__fetch_add_relaxed(&name_counter, 1));
        given = name;
    }
    startup_t s = {.opts = opts, .cpuset = set, .name = given};
    px__os_thread_t th;
    r = px__thread_start(&th, executor_main, &s);
    if (r) {
        hwloc_bitmap_free(set);
        return px__fail(r, "px_thread_create: the OS refused a new thread (%s)", strerror(-r));
    }
    while (px__load_acquire(&s.ready) == 0) /* pairs with the release store in report() */
        px__futex_wait(&s.ready, 0, -1);
    hwloc_bitmap_free(set);
    if (s.result < 0) {
        px__thread_join(th);
        return px__fail(s.result, "%s", s.error);
    }
    *out = s.t;
    px__clear_error();
    return 0;
}

/* ---- px_thread_destroy ---- */

int px_thread_destroy(px_thread_t *t)
{
    if (t == NULL) return px__fail(-EINVAL, "px_thread_destroy: executor is NULL");
    if (t->kind != PX__CREATED)
        return px__fail(-EINVAL, "px_thread_destroy: \"%s\" is %s; use %s", t->name,
                        t->kind == PX__MAIN ? "the main-thread executor" : "an attached executor",
                        t->kind == PX__MAIN ? "px_main" : "px_thread_detach");
    if (px__check_alive(t)) { /* fork child: the thread does not exist here */
        px__thread_forget(t->os);
        px__executor_free(t);
        return 0;
    }
    struct px_thread *self = px__self();
    if (self == t)
        return px__fail(-EDEADLK, "px_thread_destroy: called on the thread of \"%s\" itself",
                        t->name);
    if (px__holds_gate_of(t))
        return px__fail(-EDEADLK,
                        "px_thread_destroy: called from work run while this thread waits for space "
                        "in the ring of \"%s\" (the destroy would wait for that wait)",
                        t->name);
    if (!px__gate_close(t)) /* t may be freed any moment now: do not touch it again */
        return px__fail(-EALREADY, "px_thread_destroy: executor %p is already being destroyed",
                        (void *)t);
    px__gate_drain(t, self);
    /* Every accepted item is now published. Ask the thread to finish; the
     * request lives here and is completed by the thread as its last act. */
    uint32_t gen;
    px__reply_t deep;
    px__reply_t *stop = px__reply_begin(&deep, &gen);
    /* seq_cst pairs with px__park's fence + re-check of stop_req, before the
     * seq_cst load of state in px__notify. */
    atomic_store_explicit(&t->stop_req, stop, memory_order_seq_cst);
    px__notify(t);
    px__call_wait(self, stop, gen, t->wait == PX_WAIT_SLEEP ? 0 : t->spin_ns);
    px__reply_end();
    /* Join before freeing: a call that enters until the very end still finds
     * the gate closed in live memory. */
    px__thread_join(t->os);
    px__executor_free(t);
    return 0;
}

/* ---- accessors ---- */

long px_thread_tid(const px_thread_t *t)
{
    if (t == NULL) return px__fail(-EINVAL, "px_thread_tid: executor is NULL");
    return t->tid;
}

const char *px_thread_name(const px_thread_t *t) { return t ? t->name : NULL; }

int px_thread_cpus(const px_thread_t *t, char *buf, size_t len)
{
    if (t == NULL || buf == NULL)
        return px__fail(-EINVAL, "px_thread_cpus: %s is NULL", t ? "buf" : "executor");
    int r = px__check_alive(t);
    if (r) return px__fail(r, "px_thread_cpus: \"%s\" is dead after fork()", t->name);
    return px__placement_thread_cpus(t->tid, buf, len);
}

int px_thread_stats(const px_thread_t *t, px_stats_t *out)
{
    if (t == NULL || out == NULL)
        return px__fail(-EINVAL, "px_thread_stats: %s is NULL", t ? "out" : "executor");
    /* Filled in this library's layout, then copied out as far as the
     * caller's struct reaches (size-versioned, see src/abi.h). */
    px_stats_t s = {.size = sizeof s};
    /* Relaxed: counters; each is exact, the set is no snapshot. */
    s.calls = px__load_relaxed(&t->calls);
    s.inline_calls = px__load_relaxed(&t->inline_calls);
    s.posts = px__load_relaxed(&t->posts);
    s.parks = px__load_relaxed(&t->parks);
    s.wakes = px__load_relaxed(&t->wakes);
    s.max_depth = px__load_relaxed(&t->max_depth);
    s.cpu_ns = (t->tid > 0 && px__check_alive(t) == 0) ? px__thread_cpu_ns(t->tid, t->os) : 0;
    /* The size of px_stats_t's first version (pinexec 0.1). */
    return px__struct_out(out, out->size, PX__SIZE_THROUGH(px_stats_t, max_depth), &s, sizeof s,
                          "px_thread_stats: out");
}
