/*
 * Driven executors: a thread that runs its own loop (GLFW, libuv, epoll, a
 * game loop) hosts an executor and serves it when it chooses: px_drain,
 * px_serve, or a readiness fd / wake hook. The main-thread executor is one
 * of these (executors/mainthread.c).
 */
#include <stdio.h>

#include "error.h"
#include "executor.h"
#include "placement.h"

/* Common guard: t non-NULL, driven, alive, and (owner_only) called by its owner. */
static int check_driven(struct px_thread *t, bool owner_only, const char *what)
{
    if (t == NULL) return px__fail(-EINVAL, "%s: executor is NULL", what);
    if (t->kind == PX__CREATED)
        return px__fail(-EINVAL, "%s: \"%s\" drives itself (made by px_thread_create)", what,
                        t->name);
    int r = px__check_alive(t);
    if (r) return px__fail(r, "%s: \"%s\" is dead after fork()", what, t->name);
    if (owner_only && px__self() != t)
        return px__fail(
            -EPERM, "%s: only the owner thread of \"%s\" (tid %ld) may do this; caller is tid %ld",
            what, t->name, t->tid, px__gettid());
    return 0;
}

static int closed(struct px_thread *t, const char *what)
{
    /* Relaxed: the owner reads its own gate; closing is the owner's act (or done). */
    if (px__load_relaxed(&t->gate) & PX__GATE_CLOSED)
        return px__fail(-ESHUTDOWN, "%s: \"%s\" is shut down", what, t->name);
    return 0;
}

/* Entering px_drain/px_serve: the owner is inside pinexec (producers need not
 * fire the hook), the fd is cleared and the hook re-armed. */
static uint32_t enter_serve(struct px_thread *t)
{
    uint32_t prev = px__enter_wait(t);
    int fd = atomic_load_explicit(&t->fd, memory_order_acquire); /* pairs with px_thread_fd */
    if (fd >= 0) px__event_clear(fd);
    px__store_seq_cst(&t->armed, 1); /* pairs with the exchange in fire (wait.c) */
    return prev;
}

static uint32_t queued(struct px_thread *t)
{
    /* Relaxed: a count to bound px_drain; items reserved but unpublished are
     * skipped by the pop (px_drain never waits). */
    uint64_t n = px__load_relaxed(&t->tail) - px__load_relaxed(&t->head);
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int px_drain(px_thread_t *t, unsigned max)
{
    int r = check_driven(t, true, "px_drain");
    if (r == 0) r = closed(t, "px_drain");
    if (r) return r;
    uint32_t prev = enter_serve(t);
    unsigned n = max ? max : queued(t);
    unsigned ran = n ? px__run_batch(t, n) : 0;
    px__leave_wait(t, prev);
    return (int)ran;
}

int px_serve(px_thread_t *t, int64_t timeout_ns)
{
    int r = check_driven(t, true, "px_serve");
    if (r == 0) r = closed(t, "px_serve");
    if (r) return r;
    uint32_t prev = enter_serve(t);
    /* Run what is queued now, not what keeps arriving: a foreign loop gets its
     * thread back and px_main sees its application return. */
    unsigned n = queued(t);
    unsigned ran = n ? px__run_batch(t, n) : 0;
    if (ran == 0 && timeout_ns != 0) {
        uint64_t deadline = timeout_ns > 0 ? px__now_ns() + (uint64_t)timeout_ns : UINT64_MAX;
        uint32_t spin = t->wait == PX_WAIT_SLEEP ? 0 : t->spin_ns;
        if (timeout_ns > 0 && (uint64_t)timeout_ns < spin) spin = (uint32_t)timeout_ns;
        bool ready = px__spin_for_work(t, spin);
        while (!ready) {
            int64_t left = -1;
            if (timeout_ns > 0) {
                uint64_t now = px__now_ns();
                if (now >= deadline) break;
                left = (int64_t)(deadline - now);
            }
            if (t->wait == PX_WAIT_SPIN) {
                ready = px__spin_for_work(t, left < 0 || left > UINT32_MAX ? UINT32_MAX
                                                                           : (uint32_t)left);
            } else {
                px__park(t, NULL, NULL, left);
                ready = px__ring_ready(t);
            }
        }
        n = queued(t);
        ran = n ? px__run_batch(t, n) : 0;
    }
    px__leave_wait(t, prev);
    return (int)ran;
}

int px_thread_fd(px_thread_t *t)
{
    int r = check_driven(t, false, "px_thread_fd");
    if (r == 0) r = closed(t, "px_thread_fd");
    if (r) return r;
    int fd = atomic_load_explicit(&t->fd, memory_order_acquire); /* pairs with the CAS below */
    if (fd >= 0) return fd;
    int mine = px__event_open();
    if (mine < 0)
        return px__fail(mine, "px_thread_fd: cannot create an eventfd (%s)", px_strerror(mine));
    int expected = -1;
    /* seq_cst: pairs with the seq_cst load of fd in px__notify_away (and the
     * acquire load in enter_serve sees the eventfd's set-up). */
    if (!atomic_compare_exchange_strong_explicit(&t->fd, &expected, mine, memory_order_seq_cst,
                                                 memory_order_acquire)) {
        px__event_close(mine);
        return expected;
    }
    /* Readable exactly while work is queued, from the start: a producer that
     * published before the fd existed may have loaded fd == -1 and signalled
     * nothing. Store-buffer pattern: it publishes (seq_cst) and then loads fd
     * (seq_cst); we store fd (the CAS above), fence, then look at the ring.
     * Either it sees our fd and signals, or we see its work and signal. */
    px__fence_seq_cst();
    if (px__ring_ready(t)) px__event_signal(mine);
    return mine;
}

int px_thread_set_wake(px_thread_t *t, void (*wake)(void *ctx), void *ctx)
{
    int r = check_driven(t, true, "px_thread_set_wake");
    if (r == 0) r = closed(t, "px_thread_set_wake");
    if (r) return r;
    /* Seqlock write (Boehm, "Can seqlocks get along with programming language
     * memory models?", 2012); pairs with the reader in px__notify_away. */
    uint32_t v = px__load_relaxed(&t->hook_seq);
    px__store_relaxed(&t->hook_seq, v + 1);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&t->hook, wake, memory_order_relaxed);
    atomic_store_explicit(&t->hook_ctx, ctx, memory_order_relaxed);
    px__store_release(&t->hook_seq, v + 2);
    /* A new hook starts armed; work queued before it existed wakes the loop
     * now rather than never. seq_cst + fence pair with px__notify. */
    px__store_seq_cst(&t->armed, 1);
    px__fence_seq_cst();
    /* px__ring_ready reads the cell seq published by px__notify's seq_cst
     * exchange, so with the fence above either we see the work or its
     * producer sees armed == 1. */
    if (wake && px__load_relaxed(&t->state) == PX__AWAY && px__ring_ready(t))
        px__notify_away_owner(t);
    /* The old hook: a producer may have read it before our store. Wait until
     * no producer is inside px__notify_away (the fence pairs with its
     * fetch_add of notifying + seq_cst load of hook_seq): once we return the
     * old hook is not running and will not be called again. */
    px__fence_seq_cst();
    px__notify_quiesce(t);
    return 0;
}

int px__driven_shutdown(struct px_thread *t)
{
    uint32_t prev = px__enter_wait(t);
    px__gate_close(t);
    px__gate_drain(t, t); /* serves t meanwhile */
    while (px__run_batch(t, 0)) {
    }
    px__leave_wait(t, prev == PX__AWAY ? PX__RUNNING : prev);
    return 0;
}

int px_thread_attach(px_thread_t **out, const px_thread_options_t *caller_opts)
{
    if (out == NULL) return px__fail(-EINVAL, "px_thread_attach: out is NULL");
    px_thread_options_t own; /* the caller's options in this library's layout */
    int r = px__options_read(caller_opts, &own, "px_thread_attach");
    if (r) return r;
    const px_thread_options_t *opts = &own;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return px__fail(-ENOMEM, "px_thread_attach: out of memory");
    /* The spec is an argument too: a bad one is -EINVAL, before -EBUSY. */
    r = px__placement_resolve(opts ? opts->cpus : NULL, opts ? opts->flags : 0, set);
    struct px_thread *self = r == 0 ? px__self() : NULL;
    if (self != NULL)
        r = px__fail(-EBUSY, "px_thread_attach: this thread (tid %ld) already is executor \"%s\"",
                     px__gettid(), self->name);
    if (r == 0) r = px__placement_bind_self(set, opts ? opts->flags : 0);
    hwloc_bitmap_free(set);
    if (r) return r;
    char name[64];
    if (opts == NULL || opts->name == NULL) px__thread_get_name(name, sizeof name);
    /* Allocated after binding, so first touch puts it on the thread's node. */
    struct px_thread *t = px__executor_alloc(opts, opts && opts->name ? opts->name : name);
    if (t == NULL) return px__fail(-ENOMEM, "px_thread_attach: out of memory");
    if (opts && opts->name) px__thread_set_name(opts->name);
    t->kind = PX__ATTACHED;
    t->tid = px__gettid();
    t->os = px__thread_self();
    px__store_relaxed(&t->state, PX__AWAY); /* relaxed: not yet shared */
    px__store_relaxed(&t->armed, 1);
    px__set_self(t);
    *out = t;
    px__clear_error();
    return 0;
}

int px_thread_detach(px_thread_t *t)
{
    if (t == NULL) return px__fail(-EINVAL, "px_thread_detach: executor is NULL");
    if (t->kind != PX__ATTACHED)
        return px__fail(-EINVAL, "px_thread_detach: \"%s\" is %s, not attached", t->name,
                        t->kind == PX__MAIN ? "the main-thread executor" : "a created executor");
    if (px__check_alive(t) == 0) {
        int r = check_driven(t, true, "px_thread_detach");
        if (r) return r;
        /* Relaxed: the owner (us) is the only thread that moves state away
         * from AWAY; anything else means we are inside px_drain, px_serve or a
         * wait that is serving t, which would run on in freed memory. */
        if (px__load_relaxed(&t->state) != PX__AWAY)
            return px__fail(-EBUSY,
                            "px_thread_detach: called from work that \"%s\" is running "
                            "(inside px_drain, px_serve or a wait); detach from the "
                            "owner's own code",
                            t->name);
        px__driven_shutdown(t);
    }
    if (px__self() == t) px__set_self(NULL);
    px__executor_free(t);
    return 0;
}
