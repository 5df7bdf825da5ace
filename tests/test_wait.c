/*
 * The wait protocol:
 *  - a spinning executor costs its producers no syscalls: wakes stays 0 (and
 *    it never parks) under PX_WAIT_SPIN;
 *  - no lost wake-ups: a torture run where every call forces a sleep on both
 *    sides (PX_WAIT_SLEEP, and ADAPTIVE with a 1 ns spin budget), from plain
 *    threads, from an executor, and posters waiting for ring space; the load
 *    runs on helper threads and the test fails (not hangs) if it does not end
 *    within 30 s;
 *  - parks and wakes are consistent (a wake-up needs a park);
 *  - an idle ADAPTIVE or SLEEP executor uses under 1% of a CPU.
 */
#include "px_test.h"

typedef struct sink {
    unsigned long n; /* on the executor only */
} sink_t;

static void bump(void *arg) { ((sink_t *)arg)->n++; }
static void *bump_v(void *arg)
{
    bump(arg);
    return arg;
}

/* ---- SPIN: no wake-ups, no parks ------------------------------------------------- */

typedef struct load {
    px_thread_t *t;
    sink_t *sink;
    int calls, posts;
    unsigned long bad;
} load_t;

static void *load_main(void *arg)
{
    load_t *l = arg;
    for (int i = 0; i < l->calls; i++) {
        void *res = NULL;
        int r = (i % 2) ? px_call(l->t, bump, l->sink) : px_call_v(l->t, bump_v, l->sink, &res);
        if (r || (i % 2 == 0 && res != l->sink)) l->bad++;
    }
    for (int i = 0; i < l->posts; i++) {
        int r = (i % 2) ? px_post(l->t, bump, l->sink) : px_try_post(l->t, bump, l->sink);
        if (r == -EAGAIN) {
            i--;
            sched_yield();
            continue;
        }
        if (r) l->bad++;
    }
    return NULL;
}

static void test_wait_spin_never_wakes(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_SPIN, 16, "spinner");
    sink_t sink = {0};
    load_t a = {.t = t, .sink = &sink, .calls = 5000, .posts = 5000};
    load_t b = {.t = t, .sink = &sink, .calls = 5000, .posts = 5000};
    px_test_thread_t th;
    px_test_thread_start(&th, load_main, &a);
    load_main(&b); /* the main thread too (itself an executor) */
    px_test_thread_join(&th);
    /* Idle for a while: a spinning executor still never parks. */
    px_test_sleep_us(20000);
    px_test_flush(t);
    assert_int_equal(a.bad, 0);
    assert_int_equal(b.bad, 0);
    assert_int_equal(sink.n, 20000);
    px_stats_t s = px_test_stats(t);
    assert_int_equal(s.wakes, 0);
    assert_int_equal(s.parks, 0);
    assert_int_equal(s.calls, 10001);
    assert_int_equal(s.posts, 10000);
    px_test_destroy(t);
}

/* ---- lost wake-up torture ---------------------------------------------------------- */

#define TORTURE_CALLS 100000 /* in all, split over the callers */

typedef struct torture {
    px_thread_t *t;
    sink_t sink;
    int ncallers;
    load_t load[2];
    px_test_thread_t th[2];
} torture_t;

static void *torture_main(void *arg)
{
    torture_t *x = arg;
    for (int i = 0; i < x->ncallers; i++) px_test_thread_start(&x->th[i], load_main, &x->load[i]);
    for (int i = 0; i < x->ncallers; i++) pthread_join(x->th[i].th, NULL);
    return NULL;
}

/* Both sides sleep on every call: the executor parks as soon as it is idle and
 * the callers sleep at once (a SLEEP executor's callers do not spin). */
static void run_torture(px_wait_t mode, unsigned spin_ns, int ncallers, int calls, int posts,
                        unsigned capacity)
{
    px_thread_options_t o = {.size = sizeof o,
                             .name = "torture",
                             .wait = mode,
                             .spin_ns = spin_ns,
                             .capacity = capacity};
    static torture_t x;
    memset(&x, 0, sizeof x);
    assert_int_equal(px_thread_create(&x.t, &o), 0);
    x.ncallers = ncallers;
    for (int i = 0; i < ncallers; i++)
        x.load[i] = (load_t){
            .t = x.t, .sink = &x.sink, .calls = calls / ncallers, .posts = posts / ncallers};
    px_test_thread_t runner;
    px_test_thread_start(&runner, torture_main, &x);
    if (!px_test_thread_join_within(&runner, PX_TEST_BOUND_NS)) {
        px_stats_t s = px_test_stats(x.t);
        fail_msg("%s spin %u: the torture run did not finish in 30 s (a lost wake-up?): "
                 "calls %llu posts %llu parks %llu wakes %llu",
                 px_test_mode_name(mode), spin_ns, (unsigned long long)s.calls,
                 (unsigned long long)s.posts, (unsigned long long)s.parks,
                 (unsigned long long)s.wakes);
    }
    px_test_flush(x.t);
    for (int i = 0; i < ncallers; i++) assert_int_equal(x.load[i].bad, 0);
    assert_int_equal(x.sink.n, (unsigned long)(calls + posts));
    px_stats_t s = px_test_stats(x.t);
    assert_int_equal(s.calls, (uint64_t)calls + 1);
    assert_int_equal(s.posts, (uint64_t)posts);
    /* Each wake-up hands a parked executor back to RUNNING: a park announced
     * and then called off (work showed up at the re-check) may take one too,
     * but never more wakes than there were sleeps plus such near misses. */
    if (mode == PX_WAIT_SLEEP) assert_true(s.parks > 0);
    if (s.wakes > s.parks + s.parks / 4 + 16)
        fail_msg("%s: wakes %llu, parks %llu", px_test_mode_name(mode), (unsigned long long)s.wakes,
                 (unsigned long long)s.parks);
    print_message("    %s spin %u, %d callers: calls %llu posts %llu parks %llu wakes %llu\n",
                  px_test_mode_name(mode), spin_ns, ncallers, (unsigned long long)s.calls,
                  (unsigned long long)s.posts, (unsigned long long)s.parks,
                  (unsigned long long)s.wakes);
    px_test_destroy(x.t);
}

static int scale(int n)
{
#ifdef PX_TEST_TSAN
    return n / 4; /* TSan slows every atomic access ~10x; the interleavings stay */
#else
    return n;
#endif
}

static void test_wait_torture_sleep_calls(void **state)
{
    (void)state;
    run_torture(PX_WAIT_SLEEP, 0, 2, scale(TORTURE_CALLS), 0, 0);
    /* One caller: the executor idles, so parks, between nearly all calls. */
    run_torture(PX_WAIT_SLEEP, 0, 1, scale(TORTURE_CALLS / 5), 0, 0);
}

static void test_wait_torture_adaptive_tiny_spin(void **state)
{
    (void)state;
    run_torture(PX_WAIT_ADAPTIVE, 1, 2, scale(TORTURE_CALLS), 0, 0);
}

/* Posters sleeping for space on a ring of 2, a sleeping executor. */
static void test_wait_torture_space_waiters(void **state)
{
    (void)state;
    run_torture(PX_WAIT_SLEEP, 0, 2, 0, scale(40000), 2);
    run_torture(PX_WAIT_ADAPTIVE, 1, 2, scale(2000), scale(40000), 1);
}

/* An executor as the caller: the completer must wake an executor parked on
 * its own state word (the WAKING hand-over), every time. */
static void test_wait_torture_executor_caller(void **state)
{
    (void)state;
    px_thread_t *a = px_test_create(PX_WAIT_SLEEP, 0, "target");
    px_thread_t *b = px_test_create(PX_WAIT_SLEEP, 0, "caller-b");
    px_thread_t *c = px_test_create(PX_WAIT_SLEEP, 0, "caller-c");
    sink_t sink = {0};
    int n = scale(20000);
    px_test_caller_t eb = {.target = a, .fn = bump, .arg = &sink, .n = n};
    px_test_caller_t ec = {.target = a, .fn = bump, .arg = &sink, .n = n};
    assert_int_equal(px_post(b, px_test_caller_run, &eb), 0);
    assert_int_equal(px_post(c, px_test_caller_run, &ec), 0);
    if (!px_test_wait_at_least(&eb.done, 1, PX_TEST_BOUND_NS) ||
        !px_test_wait_at_least(&ec.done, 1, PX_TEST_BOUND_NS)) {
        px_stats_t s = px_test_stats(a);
        fail_msg("executor callers did not finish in 30 s (a lost wake-up?): calls %llu",
                 (unsigned long long)s.calls);
    }
    px_test_flush(a);
    assert_int_equal(eb.bad, 0);
    assert_int_equal(ec.bad, 0);
    assert_int_equal(sink.n, (unsigned long)(2 * n));
    px_stats_t sb = px_test_stats(b);
    assert_true(sb.parks > 0); /* the caller executor did sleep while it waited */
    px_test_destroy(b);
    px_test_destroy(c);
    px_test_destroy(a);
}

/* ---- idle CPU ------------------------------------------------------------------------ */

static void test_wait_idle_uses_no_cpu(void **state)
{
    (void)state;
    px_thread_t *ad = px_test_create(PX_WAIT_ADAPTIVE, 0, "idle-adaptive");
    px_thread_t *sl = px_test_create(PX_WAIT_SLEEP, 0, "idle-sleep");
    sink_t s1 = {0}, s2 = {0};
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(px_call(ad, bump, &s1), 0);
        assert_int_equal(px_post(sl, bump, &s2), 0);
    }
    px_test_flush(ad);
    px_test_flush(sl);
    /* Let them go idle (ADAPTIVE spins at most spin_ns, 25 us by default). */
    px_test_sleep_us(100000);
    px_stats_t a0 = px_test_stats(ad), b0 = px_test_stats(sl);
    assert_true(a0.cpu_ns > 0);
    assert_true(b0.cpu_ns > 0);
    px_test_sleep_us(1000000);
    px_stats_t a1 = px_test_stats(ad), b1 = px_test_stats(sl);
    uint64_t da = a1.cpu_ns - a0.cpu_ns, db = b1.cpu_ns - b0.cpu_ns;
    print_message("    idle 1 s: ADAPTIVE used %llu ns, SLEEP used %llu ns of CPU\n",
                  (unsigned long long)da, (unsigned long long)db);
    if (da >= 10000000)
        fail_msg("idle ADAPTIVE executor used %llu ns of CPU in 1 s (>= 1%%)",
                 (unsigned long long)da);
    if (db >= 10000000)
        fail_msg("idle SLEEP executor used %llu ns of CPU in 1 s (>= 1%%)", (unsigned long long)db);
    /* Idle means parked, with no work done meanwhile. */
    assert_true(a1.parks >= 1);
    assert_true(b1.parks >= 1);
    assert_int_equal(a1.calls, a0.calls);
    assert_int_equal(b1.posts, b0.posts);
    assert_int_equal(s1.n, 1000);
    assert_int_equal(s2.n, 1000);
    px_test_destroy(ad);
    px_test_destroy(sl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_spin_never_wakes),
        cmocka_unit_test(test_wait_torture_sleep_calls),
        cmocka_unit_test(test_wait_torture_adaptive_tiny_spin),
        cmocka_unit_test(test_wait_torture_space_waiters),
        cmocka_unit_test(test_wait_torture_executor_caller),
        cmocka_unit_test(test_wait_idle_uses_no_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
