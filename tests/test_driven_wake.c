/*
 * Driven executors, telling a foreign loop that work
 * came: the readiness fd (px_thread_fd) and the wake hook
 * (px_thread_set_wake): once per batch, never while the owner serves or waits
 * in a call of its own. The owner harness: driven_test.h.
 */
#include "driven_test.h"

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

/* ---- the readiness fd ------------------------------------------------------------ */

typedef struct fd_probe {
    px_thread_t *t;
    int fd;
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
    /* The initial state: this is the first fd of this executor (for the main
     * executor: of the process; this test runs first), nothing is queued. */
    assert_int_equal(atomic_load(&((struct px_thread *)o->t)->fd), -1);
    int fd = px_thread_fd(o->t);
    assert_true(fd >= 0);
    assert_false(readable(fd)); /* never readable at creation with nothing queued */
    assert_int_equal(px_thread_fd(o->t), fd);
    fd_probe_t p = {.t = o->t};
    run_on_thread(fd_from_thread, &p); /* any thread */
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

    /* A px_call from another thread: readable within the bound while the
     * caller waits, not readable once it has been served. */
    caller_t c = {.t = o->t};
    assert_int_equal(pthread_create(&c.th, NULL, caller_main, &c), 0);
    struct pollfd p1 = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&p1, 1, 10000), 1); /* bound: 10 s, a hang fails */
    assert_true(p1.revents & POLLIN);
    assert_int_equal(atomic_load(&c.returned), 0);
    assert_int_equal(drain(o, 0), 1);
    assert_int_equal(pthread_join(c.th, NULL), 0);
    assert_int_equal(c.rc, 0);
    assert_false(readable(fd));
    assert_log_on_owner(o, 5);
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
    run_on_thread(tid_producer_main, &p);
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
    px_thread_options_t opts = {.size = sizeof opts, .name = "callee", .spin_ns = spin_ns};
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
/* ---- registration ------------------------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_driven_fd),
        cmocka_unit_test_setup_teardown(test_driven_fd_late, setup_attached, teardown_attached),
        BOTH(test_driven_wake_hook_once_per_batch),
        BOTH(test_driven_wake_hook_not_while_serving),
        BOTH(test_driven_wake_hook_not_while_calling_sleeping),
        BOTH(test_driven_wake_hook_not_while_calling_spinning),
        MODES(test_driven_wake_hook_not_while_serving),
        MODES(test_driven_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
