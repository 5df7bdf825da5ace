/*
 * Stress tier, ring index wrap-around. The ring's positions are
 * free-running 64-bit counters; at a billion items a second they wrap after
 * 584 years, so only a test hook (px__test_ring_start, PX_TEST_HOOKS builds)
 * gets an executor there: its first position is set just below 2^64. Then
 * every kind of traffic crosses the wrap point: each item still runs exactly
 * once, in per-producer order; "full" is still exactly capacity items when the
 * full ring straddles the wrap; a driven executor wraps the same way.
 */
#include "test_stress.h"

#include "executor.h"

extern uint64_t px__test_ring_start;

#define WR_NP 3 /* producers: two threads and the test (main) thread */

typedef struct wr {
    px_thread_t *t;
    unsigned nops;
    uint32_t expect[WR_NP]; /* the executor's thread only */
    uint64_t bad_order;
    uint64_t ran;
    uint64_t accepted[WR_NP]; /* producer p only */
    uint64_t errors[WR_NP];
    int last_rc[WR_NP];
} wr_t;

static wr_t wr;

static void wr_item(void *a)
{
    unsigned p = stress_item_producer(a);
    uint32_t s = stress_item_seq(a);
    if (s != wr.expect[p]) wr.bad_order++;
    wr.expect[p] = s + 1;
    wr.ran++;
}

static void *wr_item_v(void *a)
{
    wr_item(a);
    return (void *)((uintptr_t)a ^ STRESS_MAGIC);
}

static void wr_produce(unsigned p)
{
    uint64_t rng = 0x94D049BB133111EBull * (p + 5);
    uint32_t seq = 0;
    for (unsigned i = 0; i < wr.nops; i++) {
        void *a = stress_item(p, 0, seq);
        int r;
        switch (stress_below(&rng, 4)) {
        case 0: r = px_call(wr.t, wr_item, a); break;
        case 1: {
            void *res = NULL;
            r = px_call_v(wr.t, wr_item_v, a, &res);
            if (r == 0 && res != (void *)((uintptr_t)a ^ STRESS_MAGIC)) r = -1000;
            break;
        }
        case 2: r = px_post(wr.t, wr_item, a); break;
        default:
            r = px_try_post(wr.t, wr_item, a);
            if (r == -EAGAIN) r = px_post(wr.t, wr_item, a);
            break;
        }
        if (r == 0 || r == -1000) {
            seq++;
            wr.accepted[p]++;
        }
        if (r != 0) {
            wr.errors[p]++;
            wr.last_rc[p] = r;
        }
    }
}

static void *wr_producer(void *arg)
{
    wr_produce((unsigned)(uintptr_t)arg);
    return NULL;
}

/* Run the traffic against wr.t; check it all ran once, in order. */
static void wr_traffic_and_check(uint64_t start, const char *what)
{
    px_test_thread_t th[WR_NP - 1];
    for (unsigned p = 0; p < WR_NP - 1; p++)
        px_test_thread_start(&th[p], wr_producer, (void *)(uintptr_t)p);
    wr_produce(WR_NP - 1);
    for (unsigned p = 0; p < WR_NP - 1; p++) px_test_thread_join(&th[p]);
    px_test_flush(wr.t);
    uint64_t total = 0;
    for (unsigned p = 0; p < WR_NP; p++) {
        if (wr.errors[p])
            fail_msg("%s: producer %u failed %llu times (last %d)", what, p,
                     (unsigned long long)wr.errors[p], wr.last_rc[p]);
        assert_int_equal(wr.expect[p], wr.accepted[p]);
        total += wr.accepted[p];
    }
    assert_int_equal(wr.bad_order, 0);
    assert_int_equal(wr.ran, total);
    /* The executor really went across 2^64: head is start + everything + the
     * flush, modulo 2^64, and it is below start. Relaxed: the flush call's
     * completion ordered the executor's store of head before this. */
    uint64_t head = atomic_load_explicit(&wr.t->head, memory_order_relaxed);
    assert_true(head == start + total + 1);
    if (start + total + 1 > start) fail_msg("%s: the traffic did not reach the wrap point", what);
}

static void wr_reset(void) { memset(&wr, 0, sizeof wr); }

/* Created executors of every mode and several capacities, each starting a
 * few positions (or a few laps) below the wrap. */
static void test_stress_wrap_exactly_once_across_wrap(void **state)
{
    (void)state;
    const unsigned caps[] = {1, 2, 8, 1024};
    unsigned runs = 0;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        const uint64_t offs[] = {1, 2, caps[c], (uint64_t)caps[c] + 1, 3ull * caps[c] + 5, 1000};
        for (size_t o = 0; o < sizeof offs / sizeof offs[0]; o++) {
            px_wait_t mode = px_test_modes[(c + o) % PX_TEST_NMODES];
            uint64_t start = (uint64_t)0 - offs[o];
            wr_reset();
            wr.nops = stress_n(1500);
            if (wr.nops < offs[o] / 2 + 2)
                wr.nops = (unsigned)(offs[o] / 2 + 2); /* reach the wrap */
            px__test_ring_start = start; /* read by the creation below (thread start orders it) */
            wr.t = px_test_create(mode, caps[c], "wrap");
            px__test_ring_start = 0;
            char what[96];
            snprintf(what, sizeof what, "capacity %u, start 2^64-%llu, %s", caps[c],
                     (unsigned long long)offs[o], px_test_mode_name(mode));
            wr_traffic_and_check(start, what);
            px_test_destroy(wr.t);
            runs++;
        }
    }
    print_message(
        "wrap: %u executors crossed 2^64 with >= %u items each, all exactly once in order\n", runs,
        WR_NP * stress_n(1500));
}

/* A full ring that straddles the wrap holds exactly capacity items. */
static void test_stress_wrap_full_ring_straddles_wrap(void **state)
{
    (void)state;
    const unsigned caps[] = {1, 2, 4, 64};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        unsigned cap = caps[c];
        for (uint64_t before = 1; before <= cap + 1; before++) {
            wr_reset();
            /* The hold takes one position, then the fill starts `before`
             * positions below the wrap. */
            uint64_t start = (uint64_t)0 - before - 1;
            px__test_ring_start = start;
            wr.t = px_test_create(PX_WAIT_SLEEP, cap, "wrap-full");
            px__test_ring_start = 0;
            px_test_gate_t g;
            px_test_gate_init(&g);
            assert_int_equal(px_post(wr.t, px_test_gate_hold, &g), 0);
            assert_true(px_test_gate_wait_entered(&g, 1)); /* popped: the ring is empty */
            unsigned n = 0;
            int r;
            while ((r = px_try_post(wr.t, wr_item, stress_item(0, 0, n))) == 0) {
                n++;
                if (n > cap) break;
            }
            assert_int_equal(r, -EAGAIN);
            assert_int_equal(n, cap);
            px_test_gate_open(&g);
            px_test_flush(wr.t);
            assert_int_equal(atomic_load(&g.timed_out), 0);
            assert_int_equal(wr.ran, cap);
            assert_int_equal(wr.expect[0], cap);
            assert_int_equal(wr.bad_order, 0);
            px_stats_t s = px_test_stats(wr.t);
            assert_int_equal(s.posts, cap + 1);
            assert_true(s.max_depth >= 1 && s.max_depth <= cap + 1);
            px_test_destroy(wr.t);
        }
    }
}

/* A driven (attached) executor across the wrap, served with px_serve. */
typedef struct served {
    _Atomic int stop;
    _Atomic(px_thread_t *) t;
    uint64_t start;
    int rc;
} served_t;

static void *serve_attached(void *arg)
{
    served_t *s = arg;
    px_thread_t *t = NULL;
    px__test_ring_start = s->start; /* this thread allocates the executor */
    s->rc = px_thread_attach(&t, &(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                        .name = "wrap-attached",
                                                        .capacity = 4});
    if (s->rc) {
        atomic_store_explicit(&s->t, (px_thread_t *)(uintptr_t)1, memory_order_release);
        return NULL;
    }
    atomic_store_explicit(&s->t, t, memory_order_release); /* pairs with the test's acquire */
    while (!atomic_load_explicit(&s->stop, memory_order_acquire))
        px_serve(t, 1000000); /* pairs with the test */
    s->rc = px_thread_detach(t);
    return NULL;
}

static void test_stress_wrap_attached_executor(void **state)
{
    (void)state;
    wr_reset();
    wr.nops = stress_n(1500);
    served_t s;
    memset(&s, 0, sizeof s);
    s.start = (uint64_t)0 - 3;
    px_test_thread_t th;
    px_test_thread_start(&th, serve_attached, &s);
    px_thread_t *t;
    while ((t = atomic_load_explicit(&s.t, memory_order_acquire)) == NULL) sched_yield();
    assert_int_equal(s.rc, 0);
    px__test_ring_start = 0;
    wr.t = t;
    wr_traffic_and_check(s.start, "attached executor");
    /* No access to t after this store: the owner detaches (frees) it. */
    atomic_store_explicit(&s.stop, 1, memory_order_release);
    px_test_thread_join(&th);
    assert_int_equal(s.rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_wrap_exactly_once_across_wrap),
        cmocka_unit_test(test_stress_wrap_full_ring_straddles_wrap),
        cmocka_unit_test(test_stress_wrap_attached_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
