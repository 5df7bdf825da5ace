/*
 * Driven executors (issue 3, semantics 5-7): px_thread_attach/detach,
 * px_drain, px_serve, px_thread_fd, px_thread_set_wake.
 *
 * Most cases run twice: on an executor attached by an owner thread, and on
 * px_mainthread() driven by this (main, cmocka) thread without px_main. The
 * attached owner runs a tiny foreign "event loop": it waits on a condition
 * variable for commands from the test thread (while it waits there it is
 * away from pinexec, as a GLFW or epoll loop would be) and runs each command
 * (px_drain, px_serve, ...) on its own thread. Commands only record; every
 * assert_* runs on the test thread.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor.h"
#include "pinexec.h"

static long my_tid(void) { return (long)syscall(SYS_gettid); }

/* ---- the owner: the main thread, or a thread running a foreign loop -------- */

typedef struct owner owner_t;
typedef int (*owner_cmd)(owner_t *o, void *arg);

enum { OWNER_MAIN, OWNER_ATTACHED };

struct owner {
    int kind;
    px_wait_t wait; /* attached: the idle policy */
    px_thread_t *t;
    long tid;
    int attach_rc;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    owner_cmd cmd; /* pending command, NULL when idle */
    void *arg;
    int result;
    bool done, quit;
};

static void *owner_loop(void *arg)
{
    owner_t *o = arg;
    pthread_setname_np(pthread_self(), "drv-owner");
    o->tid = my_tid();
    px_thread_options_t opts = {.name = "drv", .wait = o->wait};
    o->attach_rc = px_thread_attach(&o->t, &opts);
    pthread_mutex_lock(&o->mu);
    o->done = true;
    pthread_cond_broadcast(&o->cv);
    for (;;) {
        while (o->cmd == NULL && !o->quit) pthread_cond_wait(&o->cv, &o->mu);
        if (o->cmd == NULL) break;
        owner_cmd c = o->cmd;
        pthread_mutex_unlock(&o->mu);
        int r = c(o, o->arg);
        pthread_mutex_lock(&o->mu);
        o->cmd = NULL;
        o->result = r;
        o->done = true;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* Run c(o, arg) on the owner thread and return its result. */
static int owner_do(owner_t *o, owner_cmd c, void *arg)
{
    if (o->kind == OWNER_MAIN) return c(o, arg);
    pthread_mutex_lock(&o->mu);
    o->done = false;
    o->arg = arg;
    o->cmd = c;
    pthread_cond_broadcast(&o->cv);
    while (!o->done) pthread_cond_wait(&o->cv, &o->mu);
    int r = o->result;
    pthread_mutex_unlock(&o->mu);
    return r;
}

static int cmd_drain_all(owner_t *o, void *arg)
{
    (void)arg;
    int total = 0, n;
    while ((n = px_drain(o->t, 0)) > 0) total += n;
    return n < 0 ? n : total;
}
static int cmd_detach(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_detach(o->t);
}
static int cmd_clear_wake(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_set_wake(o->t, NULL, NULL);
}

/* *state: NULL, or a px_wait_t for the attached executor (prestate). */
static int setup_attached(void **state)
{
    owner_t *o = calloc(1, sizeof *o);
    if (o == NULL) return -1;
    o->kind = OWNER_ATTACHED;
    o->wait = *state ? *(px_wait_t *)*state : PX_WAIT_ADAPTIVE;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->th, NULL, owner_loop, o) != 0) return -1;
    pthread_mutex_lock(&o->mu);
    while (!o->done) pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
    if (o->attach_rc != 0) return -1;
    *state = o;
    return 0;
}

static int teardown_attached(void **state)
{
    owner_t *o = *state;
    int r = owner_do(o, cmd_detach, NULL);
    pthread_mutex_lock(&o->mu);
    o->quit = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->th, NULL);
    free(o);
    return r;
}

static int setup_main(void **state)
{
    owner_t *o = calloc(1, sizeof *o);
    if (o == NULL) return -1;
    o->kind = OWNER_MAIN;
    o->t = px_mainthread();
    o->tid = my_tid();
    if (o->tid != getpid()) return -1;
    if (cmd_drain_all(o, NULL) < 0) return -1;
    *state = o;
    return 0;
}

static int teardown_main(void **state)
{
    owner_t *o = *state;
    int r = cmd_clear_wake(o, NULL);
    if (cmd_drain_all(o, NULL) < 0) r = -1;
    free(o);
    return r;
}

/* ---- recording items --------------------------------------------------------- */

#define LOG_MAX 4096
typedef struct log {
    _Atomic int n;
    int ids[LOG_MAX];
    long tids[LOG_MAX];
} log_t;

static log_t lg;

static void log_reset(void) { memset(&lg, 0, sizeof lg); }

static void item(void *arg)
{
    int i = atomic_fetch_add(&lg.n, 1);
    if (i < LOG_MAX) {
        lg.ids[i] = (int)(intptr_t)arg;
        lg.tids[i] = my_tid();
    }
}

static void assert_log_on_owner(const owner_t *o, int n)
{
    assert_int_equal(atomic_load(&lg.n), n);
    for (int i = 0; i < n; i++) assert_int_equal(lg.tids[i], o->tid);
}

/* A producer thread: posts ids [first, first+count) to t, then returns. */
typedef struct producer {
    px_thread_t *t;
    int first, count;
    int errors;
    pthread_t th;
} producer_t;

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    for (int i = 0; i < p->count; i++)
        if (px_post(p->t, item, (void *)(intptr_t)(p->first + i)) != 0) p->errors++;
    return NULL;
}

/* Post from another thread and wait for it: the owner is away meanwhile. */
static void post_from_thread(px_thread_t *t, int first, int count)
{
    producer_t p = {.t = t, .first = first, .count = count};
    assert_int_equal(pthread_create(&p.th, NULL, producer_main, &p), 0);
    pthread_join(p.th, NULL);
    assert_int_equal(p.errors, 0);
}

/* Wait until n items are published in t's ring (reserved is not enough: a
 * drain stops at the first unpublished cell). */
static void wait_published(px_thread_t *t, unsigned n)
{
    struct px_thread *ti = (struct px_thread *)t;
    uint64_t h = atomic_load(&ti->head);
    for (uint64_t k = 0; k < n; k++)
        while (atomic_load(&ti->cells[(h + k) & ti->mask].seq) != h + k + 1) sched_yield();
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 0);
    return r > 0 && (p.revents & POLLIN);
}

/* Wait until t's owner waits inside pinexec (px_serve, or a call's sleep):
 * parked, or for PX_WAIT_SPIN spinning (its state is AWAY only outside). */
static void wait_parked(px_thread_t *t)
{
    struct px_thread *ti = (struct px_thread *)t;
    uint32_t want = ti->wait == PX_WAIT_SPIN ? PX__RUNNING : PX__PARKED;
    while (atomic_load(&ti->state) != want) sched_yield();
}

/* ---- commands ------------------------------------------------------------------ */

typedef struct drain_args {
    unsigned max;
    int64_t timeout;
} drain_args_t;

static int cmd_drain(owner_t *o, void *arg) { return px_drain(o->t, ((drain_args_t *)arg)->max); }
static int cmd_serve(owner_t *o, void *arg) { return px_serve(o->t, ((drain_args_t *)arg)->timeout); }
static int drain(owner_t *o, unsigned max) { return owner_do(o, cmd_drain, &(drain_args_t){.max = max}); }
static int serve(owner_t *o, int64_t timeout)
{
    return owner_do(o, cmd_serve, &(drain_args_t){.timeout = timeout});
}

/* ---- work runs on the owner, and only when it serves --------------------------- */

typedef struct caller {
    px_thread_t *t;
    int rc;
    _Atomic int returned;
    pthread_t th;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    c->rc = px_call(c->t, item, (void *)(intptr_t)100);
    atomic_store(&c->returned, 1);
    return NULL;
}

static void test_driven_runs_only_when_served(void **state)
{
    owner_t *o = *state;
    log_reset();
    post_from_thread(o->t, 0, 3);
    usleep(10000); /* the owner is away: nothing may run meanwhile */
    assert_int_equal(atomic_load(&lg.n), 0);
    assert_int_equal(drain(o, 0), 3);
    assert_log_on_owner(o, 3);
    for (int i = 0; i < 3; i++) assert_int_equal(lg.ids[i], i);

    /* A synchronous call waits until the owner serves. */
    caller_t c = {.t = o->t, .rc = 1};
    assert_int_equal(pthread_create(&c.th, NULL, caller_main, &c), 0);
    struct px_thread *ti = (struct px_thread *)o->t;
    while (atomic_load(&ti->tail) == atomic_load(&ti->head)) sched_yield();
    assert_int_equal(atomic_load(&c.returned), 0);
    assert_int_equal(serve(o, -1), 1);
    pthread_join(c.th, NULL);
    assert_int_equal(c.rc, 0);
    assert_log_on_owner(o, 4);
    assert_int_equal(lg.ids[3], 100);
}

/* ---- px_drain budgets ---------------------------------------------------------- */

static void repost_item(void *arg)
{
    item(arg);
    px_post(px_thread_current(), item, (void *)((intptr_t)arg + 1000)); /* to itself */
}

static int cmd_post_reposters(owner_t *o, void *arg)
{
    (void)arg;
    int errs = 0;
    for (int i = 0; i < 3; i++) errs += px_post(o->t, repost_item, (void *)(intptr_t)i) != 0;
    return errs;
}

static void test_driven_drain_budget(void **state)
{
    owner_t *o = *state;
    log_reset();
    assert_int_equal(drain(o, 0), 0); /* empty: returns at once */
    assert_int_equal(drain(o, 5), 0);

    post_from_thread(o->t, 0, 5);
    assert_int_equal(drain(o, 2), 2);
    assert_int_equal(atomic_load(&lg.n), 2);
    assert_int_equal(drain(o, 1), 1);
    assert_int_equal(drain(o, 0), 2); /* all that is queued */
    assert_int_equal(drain(o, 0), 0);
    assert_log_on_owner(o, 5);
    for (int i = 0; i < 5; i++) assert_int_equal(lg.ids[i], i);

    /* 0 means what is queued when it starts: not what the items queue meanwhile. */
    log_reset();
    assert_int_equal(owner_do(o, cmd_post_reposters, NULL), 0);
    assert_int_equal(drain(o, 0), 3);
    assert_int_equal(atomic_load(&lg.n), 3);
    assert_int_equal(drain(o, 0), 3);
    assert_int_equal(drain(o, 0), 0);
    assert_log_on_owner(o, 6);
    int want[6] = {0, 1, 2, 1000, 1001, 1002};
    for (int i = 0; i < 6; i++) assert_int_equal(lg.ids[i], want[i]);

    /* A budget larger than the queue runs what there is and does not wait. */
    post_from_thread(o->t, 0, 2);
    assert_int_equal(drain(o, 100), 2);
}

/* ---- px_serve: timeouts -------------------------------------------------------- */

typedef struct delayed {
    px_thread_t *t;
    int rc;
    pthread_t th;
} delayed_t;

/* Once the owner parks inside px_serve, call into it. */
static void *call_when_parked(void *arg)
{
    delayed_t *d = arg;
    wait_parked(d->t);
    d->rc = px_call(d->t, item, (void *)(intptr_t)7);
    return NULL;
}

static void test_driven_serve_timeout(void **state)
{
    owner_t *o = *state;
    log_reset();
    assert_int_equal(serve(o, 0), 0);
    assert_int_equal(serve(o, 20 * 1000 * 1000), 0); /* times out with nothing to do */

    post_from_thread(o->t, 0, 3);
    assert_int_equal(serve(o, 0), 3); /* work queued: runs it without waiting */
    post_from_thread(o->t, 3, 2);
    assert_int_equal(serve(o, 3600LL * 1000 * 1000 * 1000), 2); /* ... also with a timeout */
    assert_int_equal(serve(o, 0), 0);
    assert_log_on_owner(o, 5);
}

static void test_driven_serve_waits_for_work(void **state)
{
    owner_t *o = *state;
    log_reset();
    /* Negative timeout: waits until work comes, however long. */
    delayed_t d = {.t = o->t, .rc = 1};
    assert_int_equal(pthread_create(&d.th, NULL, call_when_parked, &d), 0);
    assert_int_equal(serve(o, -1), 1);
    pthread_join(d.th, NULL);
    assert_int_equal(d.rc, 0);
    assert_log_on_owner(o, 1);

    /* A long timeout ends early when work comes. */
    d.rc = 1;
    assert_int_equal(pthread_create(&d.th, NULL, call_when_parked, &d), 0);
    assert_int_equal(serve(o, 3600LL * 1000 * 1000 * 1000), 1);
    pthread_join(d.th, NULL);
    assert_int_equal(d.rc, 0);
    assert_log_on_owner(o, 2);
}

/* ---- the readiness fd ------------------------------------------------------------ */

typedef struct fd_probe {
    px_thread_t *t;
    int fd;
    pthread_t th;
} fd_probe_t;

static void *fd_from_thread(void *arg)
{
    fd_probe_t *p = arg;
    p->fd = px_thread_fd(p->t);
    return NULL;
}

static void test_driven_fd(void **state)
{
    owner_t *o = *state;
    log_reset();
    int fd = px_thread_fd(o->t);
    assert_true(fd >= 0);
    assert_int_equal(px_thread_fd(o->t), fd);
    fd_probe_t p = {.t = o->t};
    assert_int_equal(pthread_create(&p.th, NULL, fd_from_thread, &p), 0); /* any thread */
    pthread_join(p.th, NULL);
    assert_int_equal(p.fd, fd);

    assert_true(drain(o, 0) >= 0);
    assert_false(readable(fd));
    post_from_thread(o->t, 0, 1);
    assert_true(readable(fd));
    post_from_thread(o->t, 1, 2);
    assert_true(readable(fd));
    assert_int_equal(drain(o, 1), 1);
    assert_true(readable(fd)); /* two still queued */
    assert_int_equal(drain(o, 0), 2);
    assert_false(readable(fd)); /* draining clears it */

    /* Re-armed: the next batch makes it readable again; px_serve clears it too. */
    post_from_thread(o->t, 3, 1);
    assert_true(readable(fd));
    assert_int_equal(serve(o, 0), 1);
    assert_false(readable(fd));
    assert_int_equal(serve(o, 0), 0);
    assert_false(readable(fd));
    assert_log_on_owner(o, 4);
}

/* An fd asked for after work was queued starts readable. */
static void test_driven_fd_late(void **state)
{
    owner_t *o = *state;
    log_reset();
    post_from_thread(o->t, 0, 2);
    int fd = px_thread_fd(o->t);
    assert_true(fd >= 0);
    assert_true(readable(fd));
    assert_int_equal(drain(o, 0), 2);
    assert_false(readable(fd));
}

/* ---- the wake hook ---------------------------------------------------------------- */

typedef struct hook_rec {
    _Atomic int calls;
    _Atomic int calls_off_owner; /* made on another thread than hook_owner_tid */
    _Atomic long tid;
    _Atomic(void *) ctx;
} hook_rec_t;

static hook_rec_t hk, hk2;
static _Atomic long hook_owner_tid;

static void hook_fn(void *ctx)
{
    atomic_store(&hk.tid, my_tid());
    atomic_store(&hk.ctx, ctx);
    if (my_tid() != atomic_load(&hook_owner_tid)) atomic_fetch_add(&hk.calls_off_owner, 1);
    atomic_fetch_add(&hk.calls, 1);
}
static void hook2_fn(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&hk2.calls, 1);
}

static int cmd_set_hook(owner_t *o, void *arg) { return px_thread_set_wake(o->t, hook_fn, arg); }
static int cmd_set_hook2(owner_t *o, void *arg) { return px_thread_set_wake(o->t, hook2_fn, arg); }

static void hooks_reset(void)
{
    memset(&hk, 0, sizeof hk);
    memset(&hk2, 0, sizeof hk2);
}

/* A producer thread that reports its tid. */
typedef struct tid_producer {
    px_thread_t *t;
    int count;
    long tid;
    int errors;
} tid_producer_t;

static void *tid_producer_main(void *arg)
{
    tid_producer_t *p = arg;
    p->tid = my_tid();
    for (int i = 0; i < p->count; i++) p->errors += px_post(p->t, item, (void *)(intptr_t)i) != 0;
    return NULL;
}

static void test_driven_wake_hook_once_per_batch(void **state)
{
    owner_t *o = *state;
    log_reset();
    hooks_reset();
    int ctx_obj;
    assert_int_equal(owner_do(o, cmd_set_hook, &ctx_obj), 0);
    assert_int_equal(drain(o, 0), 0); /* entering px_drain arms the hook */

    /* Several posts while the owner is away: one hook call, on the producer. */
    tid_producer_t p = {.t = o->t, .count = 5};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tid_producer_main, &p), 0);
    pthread_join(th, NULL);
    assert_int_equal(p.errors, 0);
    assert_int_equal(atomic_load(&hk.calls), 1);
    assert_int_equal(atomic_load(&hk.tid), p.tid);
    assert_ptr_equal(atomic_load(&hk.ctx), &ctx_obj);
    post_from_thread(o->t, 10, 4); /* another producer, same batch */
    caller_t c = {.t = o->t, .rc = 1};
    assert_int_equal(pthread_create(&c.th, NULL, caller_main, &c), 0);
    wait_published(o->t, 10);
    assert_int_equal(atomic_load(&hk.calls), 1);

    assert_int_equal(serve(o, -1), 10); /* re-armed on entry; nothing left on exit */
    pthread_join(c.th, NULL);
    assert_int_equal(c.rc, 0);
    assert_int_equal(atomic_load(&hk.calls), 1);

    post_from_thread(o->t, 20, 2); /* the next batch: one more call */
    assert_int_equal(atomic_load(&hk.calls), 2);
    post_from_thread(o->t, 22, 2);
    assert_int_equal(atomic_load(&hk.calls), 2);
    assert_int_equal(drain(o, 0), 4);
    assert_int_equal(atomic_load(&hk.calls), 2);

    /* Replaced: the new hook fires, the old does not. */
    assert_int_equal(owner_do(o, cmd_set_hook2, NULL), 0);
    post_from_thread(o->t, 30, 3);
    assert_int_equal(atomic_load(&hk.calls), 2);
    assert_int_equal(atomic_load(&hk2.calls), 1);
    assert_int_equal(drain(o, 0), 3);

    /* Removed: nothing fires. */
    assert_int_equal(owner_do(o, cmd_clear_wake, NULL), 0);
    post_from_thread(o->t, 40, 3);
    assert_int_equal(atomic_load(&hk.calls), 2);
    assert_int_equal(atomic_load(&hk2.calls), 1);
    assert_int_equal(drain(o, 0), 3);
    assert_log_on_owner(o, 5 + 4 + 1 + 4 + 3 + 3);
}

/* Never while the owner waits inside px_serve: that wait is woken directly. */
static void test_driven_wake_hook_not_while_serving(void **state)
{
    owner_t *o = *state;
    log_reset();
    hooks_reset();
    assert_int_equal(owner_do(o, cmd_set_hook, NULL), 0);
    for (int round = 0; round < 3; round++) {
        delayed_t d = {.t = o->t, .rc = 1};
        assert_int_equal(pthread_create(&d.th, NULL, call_when_parked, &d), 0);
        assert_int_equal(serve(o, round == 1 ? 3600LL * 1000 * 1000 * 1000 : -1), 1);
        pthread_join(d.th, NULL);
        assert_int_equal(d.rc, 0);
    }
    assert_int_equal(atomic_load(&hk.calls), 0);
    assert_log_on_owner(o, 3);
    assert_int_equal(owner_do(o, cmd_clear_wake, NULL), 0);
}

/* Never while the owner waits on another executor (in px_call): that wait
 * runs the owner's queue itself and is woken directly, so no producer fires
 * the hook meanwhile. The callee posts to the owner while the owner waits for
 * the call; spin_ns covers both halves of the caller's wait (spinning, then
 * sleeping). Work the wait did not run when the call returned must not be
 * lost: then the owner fires its hook itself, once, as it goes back to its
 * own loop. */
typedef struct calltarget {
    px_thread_t *owner_t;
    bool sleeping; /* post once the caller sleeps; return once it ran the posts */
    int errors;
} calltarget_t;

static void post_back(void *arg)
{
    calltarget_t *c = arg;
    if (c->sleeping) wait_parked(c->owner_t);
    int before = atomic_load(&lg.n);
    for (int i = 0; i < 3; i++) c->errors += px_post(c->owner_t, item, (void *)(intptr_t)i) != 0;
    if (c->sleeping) /* core rule 3: the owner runs them while it waits */
        while (atomic_load(&lg.n) < before + 3) sched_yield();
}

typedef struct call_args {
    px_thread_t *e;
    calltarget_t *ct;
} call_args_t;

static int cmd_call(owner_t *o, void *arg)
{
    (void)o;
    call_args_t *a = arg;
    return px_call(a->e, post_back, a->ct);
}

static void hook_during_call(owner_t *o, unsigned spin_ns, bool sleeping)
{
    log_reset();
    hooks_reset();
    atomic_store(&hook_owner_tid, o->tid);
    assert_int_equal(owner_do(o, cmd_set_hook, NULL), 0);
    assert_int_equal(drain(o, 0), 0);
    px_thread_t *e;
    px_thread_options_t opts = {.name = "callee", .spin_ns = spin_ns};
    assert_int_equal(px_thread_create(&e, &opts), 0);
    calltarget_t ct = {.owner_t = o->t, .sleeping = sleeping};
    call_args_t a = {.e = e, .ct = &ct};
    assert_int_equal(owner_do(o, cmd_call, &a), 0);
    int hook_calls = atomic_load(&hk.calls);
    int left = drain(o, 0);
    assert_true(left >= 0);
    assert_int_equal(px_thread_destroy(e), 0); /* after the drain: it may serve the main queue */
    assert_int_equal(ct.errors, 0);
    assert_int_equal(owner_do(o, cmd_clear_wake, NULL), 0);
    assert_log_on_owner(o, 3);
    assert_int_equal(atomic_load(&hk.calls_off_owner), 0); /* no producer fired it */
    if (sleeping) assert_int_equal(left, 0);
    assert_int_equal(hook_calls, left > 0 ? 1 : 0);
}

static void test_driven_wake_hook_not_while_calling_sleeping(void **state)
{
    hook_during_call(*state, 0, true); /* PX_WAIT_ADAPTIVE, default spin: the caller sleeps */
}

static void test_driven_wake_hook_not_while_calling_spinning(void **state)
{
    hook_during_call(*state, 500u * 1000 * 1000, false); /* the caller is still spinning */
}

/* ---- cycles: owner -> created -> owner ---------------------------------------------- */

static long cyc_tid_callee, cyc_tid_back;
static int cyc_rc_back;
static px_thread_t *cyc_owner;

static void cyc_back(void *arg)
{
    (void)arg;
    cyc_tid_back = my_tid();
}
static void cyc_callee(void *arg)
{
    (void)arg;
    cyc_tid_callee = my_tid();
    cyc_rc_back = px_call(cyc_owner, cyc_back, NULL);
}
static int cmd_cycle(owner_t *o, void *arg)
{
    (void)o;
    return px_call((px_thread_t *)arg, cyc_callee, NULL);
}

static void test_driven_cycle(void **state)
{
    owner_t *o = *state;
    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    cyc_owner = o->t;
    cyc_rc_back = 1;
    assert_int_equal(owner_do(o, cmd_cycle, e), 0);
    assert_int_equal(cyc_rc_back, 0);
    assert_int_equal(cyc_tid_callee, px_thread_tid(e));
    assert_int_equal(cyc_tid_back, o->tid);
    assert_int_equal(px_thread_destroy(e), 0);
}

/* ---- serving nested in a served call; inline self-calls ----------------------------- */

static int nested_inner_rc = -100;
static long inline_tid;
static void inline_fn(void *arg)
{
    (void)arg;
    inline_tid = my_tid();
}
static void nest_item(void *arg)
{
    item(arg);
    px_thread_t *self = px_thread_current();
    if (px_call(self, inline_fn, NULL) != 0) inline_tid = -1; /* inline */
    nested_inner_rc = px_drain(self, 0);
}

static void test_driven_nested_drain(void **state)
{
    owner_t *o = *state;
    log_reset();
    int errs = 0;
    errs += px_post(o->t, nest_item, (void *)(intptr_t)0) != 0;
    for (int i = 1; i < 4; i++) errs += px_post(o->t, item, (void *)(intptr_t)i) != 0;
    assert_int_equal(errs, 0);
    assert_int_equal(drain(o, 1), 1); /* runs nest_item, which drains the other three */
    assert_int_equal(nested_inner_rc, 3);
    assert_int_equal(inline_tid, o->tid);
    assert_log_on_owner(o, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(lg.ids[i], i);
}

/* ---- per-producer FIFO through px_serve ----------------------------------------------- */

#define FIFO_P 3
#define FIFO_N 1000

static int cmd_serve_until(owner_t *o, void *arg)
{
    int want = *(int *)arg, total = 0;
    while (total < want) {
        int n = px_serve(o->t, -1);
        if (n < 0) return n;
        total += n;
    }
    return total;
}

static void test_driven_fifo(void **state)
{
    owner_t *o = *state;
    log_reset();
    producer_t p[FIFO_P];
    for (int i = 0; i < FIFO_P; i++) {
        p[i] = (producer_t){.t = o->t, .first = i * 100000, .count = FIFO_N};
        assert_int_equal(pthread_create(&p[i].th, NULL, producer_main, &p[i]), 0);
    }
    int want = FIFO_P * FIFO_N;
    assert_int_equal(owner_do(o, cmd_serve_until, &want), want);
    for (int i = 0; i < FIFO_P; i++) {
        pthread_join(p[i].th, NULL);
        assert_int_equal(p[i].errors, 0);
    }
    assert_int_equal(atomic_load(&lg.n), want);
    int last[FIFO_P] = {-1, -1, -1};
    for (int i = 0; i < want; i++) {
        int who = lg.ids[i] / 100000, seq = lg.ids[i] % 100000;
        assert_int_equal(seq, last[who] + 1);
        last[who] = seq;
        assert_int_equal(lg.tids[i], o->tid);
    }
}

/* ---- owner-only operations -------------------------------------------------------------- */

typedef struct foreign {
    px_thread_t *t;
    int drain, serve, serve0, set_wake, detach, fd;
    bool check_detach;
} foreign_t;

static void foreign_try(foreign_t *f)
{
    f->drain = px_drain(f->t, 0);
    f->serve = px_serve(f->t, -1); /* must not wait */
    f->serve0 = px_serve(f->t, 0);
    f->set_wake = px_thread_set_wake(f->t, hook_fn, NULL);
    if (f->check_detach) f->detach = px_thread_detach(f->t);
    f->fd = px_thread_fd(f->t);
}

static void *foreign_main(void *arg)
{
    foreign_try(arg);
    return NULL;
}

static void foreign_fn(void *arg) { foreign_try(arg); }

static void check_foreign(const foreign_t *f, bool detach_eperm)
{
    assert_int_equal(f->drain, -EPERM);
    assert_int_equal(f->serve, -EPERM);
    assert_int_equal(f->serve0, -EPERM);
    assert_int_equal(f->set_wake, -EPERM);
    assert_int_equal(f->detach, detach_eperm ? -EPERM : -EINVAL);
    assert_true(f->fd >= 0); /* px_thread_fd: any thread */
}

static void test_driven_owner_only(void **state)
{
    owner_t *o = *state;
    foreign_t f = {.t = o->t, .check_detach = true};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, foreign_main, &f), 0); /* a plain thread */
    pthread_join(th, NULL);
    check_foreign(&f, o->kind == OWNER_ATTACHED);

    px_thread_t *e; /* a thread that is another executor */
    assert_int_equal(px_thread_create(&e, NULL), 0);
    foreign_t g = {.t = o->t, .check_detach = true};
    assert_int_equal(px_call(e, foreign_fn, &g), 0);
    assert_int_equal(px_thread_destroy(e), 0);
    check_foreign(&g, o->kind == OWNER_ATTACHED);

    if (o->kind == OWNER_ATTACHED) { /* the test thread: the main executor's owner */
        foreign_t h = {.t = o->t, .check_detach = true};
        foreign_try(&h);
        check_foreign(&h, true);
    }
    /* The executor still works for its owner. */
    log_reset();
    post_from_thread(o->t, 0, 1);
    assert_int_equal(drain(o, 0), 1);
}

/* ---- wrong kinds and NULL --------------------------------------------------------------- */

static void test_driven_wrong_kind(void **state)
{
    (void)state;
    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    assert_int_equal(px_drain(e, 0), -EINVAL);
    assert_int_equal(px_serve(e, 0), -EINVAL);
    assert_int_equal(px_serve(e, -1), -EINVAL);
    assert_int_equal(px_thread_fd(e), -EINVAL);
    assert_int_equal(px_thread_set_wake(e, hook_fn, NULL), -EINVAL);
    assert_int_equal(px_thread_detach(e), -EINVAL);
    assert_non_null(strstr(px_last_error(), "created"));
    assert_int_equal(px_thread_destroy(e), 0);

    assert_int_equal(px_drain(NULL, 0), -EINVAL);
    assert_int_equal(px_serve(NULL, 0), -EINVAL);
    assert_int_equal(px_thread_fd(NULL), -EINVAL);
    assert_int_equal(px_thread_set_wake(NULL, NULL, NULL), -EINVAL);
    assert_int_equal(px_thread_detach(NULL), -EINVAL);

    px_thread_t *m = px_mainthread();
    assert_int_equal(px_thread_detach(m), -EINVAL);
    assert_int_equal(px_thread_destroy(m), -EINVAL);
    assert_ptr_equal(px_mainthread(), m);
}

static int cmd_destroy_self(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_destroy(o->t);
}

static void test_driven_destroy_refused(void **state)
{
    owner_t *o = *state;
    assert_int_equal(px_thread_destroy(o->t), -EINVAL);       /* from another thread */
    assert_int_equal(owner_do(o, cmd_destroy_self, NULL), -EINVAL); /* from its owner */
    log_reset();
    post_from_thread(o->t, 0, 1); /* still alive */
    assert_int_equal(drain(o, 0), 1);
}

/* ---- attach: arguments, -EBUSY, names, placement --------------------------------------- */

static void test_driven_attach_bad_args_first(void **state)
{
    (void)state;
    /* This thread already is an executor (the main one): bad arguments still
     * give -EINVAL, since they are checked before anything else. */
    px_thread_t *sentinel = (px_thread_t *)0x1, *t = sentinel;
    assert_int_equal(px_thread_attach(NULL, NULL), -EINVAL);
    assert_int_equal(px_thread_attach(&t, &(px_thread_options_t){.capacity = PX_CAPACITY_MAX + 1}), -EINVAL);
    assert_int_equal(px_thread_attach(&t, &(px_thread_options_t){.wait = (px_wait_t)42}), -EINVAL);
    assert_int_equal(px_thread_attach(&t, &(px_thread_options_t){.flags = 0x80}), -EINVAL);
    assert_int_equal(px_thread_attach(&t, &(px_thread_options_t){.cpus = "no-such-spec"}), -EINVAL);
    assert_int_equal(px_thread_attach(&t, NULL), -EBUSY);
    assert_ptr_equal(t, sentinel);
    assert_ptr_equal(px_thread_current(), px_mainthread());
}

typedef struct attach_probe {
    int rc_bad, rc_ok, rc_again, rc_detach;
    px_thread_t *cur_after_bad, *cur_attached, *cur_after_detach, *t;
} attach_probe_t;

static void *attach_probe_main(void *arg)
{
    attach_probe_t *a = arg;
    px_thread_t *t = NULL;
    a->rc_bad = px_thread_attach(&t, &(px_thread_options_t){.cpus = "no-such-spec"});
    a->cur_after_bad = px_thread_current();
    a->rc_ok = px_thread_attach(&a->t, NULL);
    a->cur_attached = px_thread_current();
    a->rc_again = px_thread_attach(&t, NULL);
    a->rc_detach = a->rc_ok == 0 ? px_thread_detach(a->t) : -1;
    a->cur_after_detach = px_thread_current();
    return NULL;
}

static void attach_in_created(void *arg)
{
    px_thread_t *t;
    *(int *)arg = px_thread_attach(&t, NULL);
}

static void test_driven_attach_busy(void **state)
{
    (void)state;
    attach_probe_t a;
    memset(&a, 0, sizeof a);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, attach_probe_main, &a), 0);
    pthread_join(th, NULL);
    assert_int_equal(a.rc_bad, -EINVAL);
    assert_null(a.cur_after_bad); /* a failed attach leaves nothing behind */
    assert_int_equal(a.rc_ok, 0);
    assert_ptr_equal(a.cur_attached, a.t);
    assert_int_equal(a.rc_again, -EBUSY);
    assert_int_equal(a.rc_detach, 0);
    assert_null(a.cur_after_detach);

    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    int rc = 1;
    assert_int_equal(px_call(e, attach_in_created, &rc), 0);
    assert_int_equal(rc, -EBUSY);
    assert_int_equal(px_thread_destroy(e), 0);
}

typedef struct name_probe {
    char os_name_null[32], os_name_given[32];
    char px_name_null[64], px_name_given[64];
    int rc1, rc2;
    long tid, px_tid;
} name_probe_t;

static void *name_probe_main(void *arg)
{
    name_probe_t *n = arg;
    pthread_setname_np(pthread_self(), "orig-name");
    px_thread_t *t;
    n->rc1 = px_thread_attach(&t, NULL);
    if (n->rc1 == 0) {
        pthread_getname_np(pthread_self(), n->os_name_null, sizeof n->os_name_null);
        snprintf(n->px_name_null, sizeof n->px_name_null, "%s", px_thread_name(t));
        n->tid = my_tid();
        n->px_tid = px_thread_tid(t);
        px_thread_detach(t);
    }
    n->rc2 = px_thread_attach(&t, &(px_thread_options_t){.name = "a-rather-long-executor-name"});
    if (n->rc2 == 0) {
        pthread_getname_np(pthread_self(), n->os_name_given, sizeof n->os_name_given);
        snprintf(n->px_name_given, sizeof n->px_name_given, "%s", px_thread_name(t));
        px_thread_detach(t);
    }
    return NULL;
}

static void test_driven_attach_names(void **state)
{
    (void)state;
    name_probe_t n;
    memset(&n, 0, sizeof n);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, name_probe_main, &n), 0);
    pthread_join(th, NULL);
    assert_int_equal(n.rc1, 0);
    assert_string_equal(n.os_name_null, "orig-name"); /* NULL name: left as it is */
    assert_string_equal(n.px_name_null, "orig-name");
    assert_int_equal(n.px_tid, n.tid);
    assert_int_equal(n.rc2, 0);
    assert_string_equal(n.os_name_given, "a-rather-long-e"); /* the OS keeps 15 chars */
    assert_string_equal(n.px_name_given, "a-rather-long-executor-name");
}

typedef struct place_probe {
    char spec[16];
    int rc;
    char px_cpus[64];
    cpu_set_t after;
} place_probe_t;

static void *place_probe_main(void *arg)
{
    place_probe_t *p = arg;
    px_thread_t *t;
    p->rc = px_thread_attach(&t, &(px_thread_options_t){.cpus = p->spec});
    if (p->rc == 0) {
        px_thread_cpus(t, p->px_cpus, sizeof p->px_cpus);
        sched_getaffinity(0, sizeof p->after, &p->after);
        px_thread_detach(t);
    }
    return NULL;
}

static void test_driven_attach_placement(void **state)
{
    (void)state;
    cpu_set_t allowed;
    assert_int_equal(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int cpu = -1;
    for (int i = CPU_SETSIZE - 1; i >= 0; i--) /* the last allowed CPU: rarely the default */
        if (CPU_ISSET(i, &allowed)) {
            cpu = i;
            break;
        }
    assert_true(cpu >= 0);
    place_probe_t p;
    memset(&p, 0, sizeof p);
    snprintf(p.spec, sizeof p.spec, "%d", cpu);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, place_probe_main, &p), 0);
    pthread_join(th, NULL);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.px_cpus, p.spec);
    assert_int_equal(CPU_COUNT(&p.after), 1);
    assert_true(CPU_ISSET(cpu, &p.after));
}

/* ---- detach ------------------------------------------------------------------------------ */

typedef struct detach_probe {
    px_thread_t *t;
    long tid;
    int rc_detach, rc_self_post, rc_self_call, rc_reattach;
    px_thread_t *cur_after;
    _Atomic int go_foreign, foreign_done;
    int foreign_call, foreign_post, foreign_try_post;
    _Atomic int queued_ready;
} detach_probe_t;

static detach_probe_t dp;

static void during_detach(void *arg)
{
    (void)arg;
    item((void *)(intptr_t)99);
    dp.rc_self_post = px_post(dp.t, item, (void *)(intptr_t)-1);
    dp.rc_self_call = px_call(dp.t, item, (void *)(intptr_t)-2);
    atomic_store(&dp.go_foreign, 1);
    while (!atomic_load(&dp.foreign_done)) sched_yield();
}

static void *foreign_during_detach(void *arg)
{
    (void)arg;
    while (!atomic_load(&dp.go_foreign)) sched_yield();
    dp.foreign_call = px_call(dp.t, item, (void *)(intptr_t)-3);
    dp.foreign_post = px_post(dp.t, item, (void *)(intptr_t)-4);
    dp.foreign_try_post = px_try_post(dp.t, item, (void *)(intptr_t)-5);
    atomic_store(&dp.foreign_done, 1);
    return NULL;
}

static void *detach_owner_main(void *arg)
{
    (void)arg;
    dp.tid = my_tid();
    if (px_thread_attach(&dp.t, NULL) != 0) return NULL;
    atomic_store(&dp.queued_ready, 1);
    while (atomic_load(&dp.queued_ready) != 2) sched_yield(); /* away: the test queues work */
    dp.rc_detach = px_thread_detach(dp.t);
    dp.cur_after = px_thread_current();
    px_thread_t *t2;
    dp.rc_reattach = px_thread_attach(&t2, NULL);
    if (dp.rc_reattach == 0) px_thread_detach(t2);
    return NULL;
}

static void test_driven_detach(void **state)
{
    (void)state;
    log_reset();
    memset(&dp, 0, sizeof dp);
    dp.rc_detach = dp.rc_self_post = dp.rc_self_call = dp.rc_reattach = 1;
    pthread_t owner, foreign;
    assert_int_equal(pthread_create(&owner, NULL, detach_owner_main, NULL), 0);
    while (atomic_load(&dp.queued_ready) != 1) sched_yield();
    post_from_thread(dp.t, 0, 3);
    assert_int_equal(px_post(dp.t, during_detach, NULL), 0);
    caller_t c = {.t = dp.t, .rc = 1}; /* a call accepted before detach runs */
    assert_int_equal(pthread_create(&c.th, NULL, caller_main, &c), 0);
    struct px_thread *ti = (struct px_thread *)dp.t;
    while (atomic_load(&ti->tail) - atomic_load(&ti->head) < 5) sched_yield();
    assert_int_equal(pthread_create(&foreign, NULL, foreign_during_detach, NULL), 0);
    atomic_store(&dp.queued_ready, 2);
    pthread_join(owner, NULL);
    pthread_join(foreign, NULL);
    pthread_join(c.th, NULL);

    assert_int_equal(dp.rc_detach, 0);
    assert_int_equal(c.rc, 0);
    assert_int_equal(dp.rc_self_post, -ESHUTDOWN);
    assert_int_equal(dp.rc_self_call, -ESHUTDOWN);
    assert_int_equal(dp.foreign_call, -ESHUTDOWN);
    assert_int_equal(dp.foreign_post, -ESHUTDOWN);
    assert_int_equal(dp.foreign_try_post, -ESHUTDOWN);
    assert_null(dp.cur_after);
    assert_int_equal(dp.rc_reattach, 0);
    /* The three posts, the during_detach item, the call: all ran, on the owner. */
    assert_int_equal(atomic_load(&lg.n), 5);
    int want[5] = {0, 1, 2, 99, 100};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(lg.ids[i], want[i]);
        assert_int_equal(lg.tids[i], dp.tid);
    }
}

/* ---- liveness: px_serve returns while a producer keeps the ring busy ---------------------
 *
 * Closed loop: each item, once popped, waits until the producer has refilled
 * the ring (posted > ran + half a ring), so the ring never runs empty while
 * the producer lives. px_serve must still return after running what was
 * queued (a foreign loop must get its thread back). Safety valve: after
 * VALVE items in one px_serve the items stop the producer themselves, so a
 * px_serve that does not return still ends and the check reports it. */

#define VALVE (40L * PX_CAPACITY_DEFAULT)

static _Atomic int flood_stop; /* 1: the test stopped it, 2: the valve did */
static _Atomic long flood_posted, flood_ran;
static _Atomic int flood_done;

static void closed_loop_item(void *arg)
{
    (void)arg;
    long k = atomic_fetch_add(&flood_ran, 1) + 1;
    if (k > VALVE) {
        int zero = 0;
        atomic_compare_exchange_strong(&flood_stop, &zero, 2);
    }
    while (!atomic_load(&flood_stop) && atomic_load(&flood_posted) <= k + PX_CAPACITY_DEFAULT / 2)
        sched_yield();
}

static void *flood_main(void *arg)
{
    px_thread_t *t = arg;
    while (!atomic_load(&flood_stop))
        if (px_post(t, closed_loop_item, NULL) == 0) atomic_fetch_add(&flood_posted, 1);
    atomic_store(&flood_done, 1);
    return NULL;
}

static void test_driven_serve_returns_under_load(void **state)
{
    owner_t *o = *state;
    atomic_store(&flood_stop, 0);
    atomic_store(&flood_posted, 0);
    atomic_store(&flood_ran, 0);
    atomic_store(&flood_done, 0);
    pthread_t fl;
    assert_int_equal(pthread_create(&fl, NULL, flood_main, o->t), 0);
    while (atomic_load(&flood_posted) < PX_CAPACITY_DEFAULT) sched_yield(); /* ring full */
    int ran = serve(o, 0); /* "runs what is queued and returns" */
    int stop = 0;
    atomic_compare_exchange_strong(&flood_stop, &stop, 1);
    while (!atomic_load(&flood_done)) /* the producer may wait for ring space */
        assert_true(drain(o, 0) >= 0);
    pthread_join(fl, NULL);
    assert_true(drain(o, 0) >= 0);
    print_message("px_serve ran %d items in one call while a producer kept posting%s\n", ran,
                  stop == 2 ? " (stopped by the safety valve)" : "");
    assert_int_equal(stop, 0);
    assert_true(ran > 0);
    assert_true(ran <= 2 * (int)PX_CAPACITY_DEFAULT);
}

/* ---- registration ------------------------------------------------------------------------ */

#define BOTH(f)                                                                             \
    cmocka_unit_test_setup_teardown(f, setup_main, teardown_main),                          \
        cmocka_unit_test_setup_teardown(f, setup_attached, teardown_attached)

static px_wait_t spin_mode = PX_WAIT_SPIN, sleep_mode = PX_WAIT_SLEEP;

/* The serving paths of the other idle policies, on an attached executor. */
#define MODES(f)                                                                            \
    cmocka_unit_test_prestate_setup_teardown(f, setup_attached, teardown_attached, &spin_mode), \
        cmocka_unit_test_prestate_setup_teardown(f, setup_attached, teardown_attached, &sleep_mode)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_driven_runs_only_when_served),
        BOTH(test_driven_drain_budget),
        BOTH(test_driven_serve_timeout),
        BOTH(test_driven_serve_waits_for_work),
        BOTH(test_driven_fd),
        cmocka_unit_test_setup_teardown(test_driven_fd_late, setup_attached, teardown_attached),
        BOTH(test_driven_wake_hook_once_per_batch),
        BOTH(test_driven_wake_hook_not_while_serving),
        BOTH(test_driven_wake_hook_not_while_calling_sleeping),
        BOTH(test_driven_wake_hook_not_while_calling_spinning),
        BOTH(test_driven_cycle),
        BOTH(test_driven_nested_drain),
        BOTH(test_driven_fifo),
        MODES(test_driven_serve_timeout),
        MODES(test_driven_serve_waits_for_work),
        MODES(test_driven_wake_hook_not_while_serving),
        MODES(test_driven_fd),
        MODES(test_driven_fifo),
        BOTH(test_driven_owner_only),
        cmocka_unit_test_setup_teardown(test_driven_destroy_refused, setup_attached, teardown_attached),
        cmocka_unit_test(test_driven_wrong_kind),
        cmocka_unit_test(test_driven_attach_busy),
        cmocka_unit_test(test_driven_attach_names),
        cmocka_unit_test(test_driven_attach_placement),
        cmocka_unit_test(test_driven_detach),
        cmocka_unit_test(test_driven_attach_bad_args_first),
        BOTH(test_driven_serve_returns_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
