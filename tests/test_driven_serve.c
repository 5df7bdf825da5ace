/*
 * Driven executors, serving: work runs on the owner
 * and only when it serves; px_drain budgets; px_serve timeouts and waits;
 * cycles through a created executor; serving nested in a served call;
 * per-producer FIFO through px_serve; px_serve returns under a steady load.
 * The owner harness (main thread or attached owner): driven_test.h.
 */
#include "driven_test.h"

/* ---- work runs on the owner, and only when it serves --------------------------- */

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_driven_runs_only_when_served),
        BOTH(test_driven_drain_budget),
        BOTH(test_driven_serve_timeout),
        BOTH(test_driven_serve_waits_for_work),
        BOTH(test_driven_cycle),
        BOTH(test_driven_nested_drain),
        BOTH(test_driven_fifo),
        MODES(test_driven_serve_timeout),
        MODES(test_driven_serve_waits_for_work),
        MODES(test_driven_fifo),
        BOTH(test_driven_serve_returns_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
