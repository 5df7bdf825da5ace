/*
 * Stress tier, life cycle: many create/destroy cycles (10,000 on a
 * plain build) with calls and posts in flight from other threads while the
 * destroy runs. Each call or post either ran exactly once (in per-producer
 * order) or returned -ESHUTDOWN and did not run; no use-after-free (ASan), no
 * race (TSan), no thread left behind.
 *
 * Who may touch the handle, and when
 * ----------------------------------
 * px_thread_destroy frees the executor before it returns, so a producer must
 * not touch the handle once destroy has returned. A handshake of our own
 * (an "in_api" flag per producer plus a "destroy_started" flag) cannot make
 * that safe: whatever the test checks before calling px_call, the producer can
 * be preempted between that check and px_call's first access to t (its gate
 * increment), and destroy can run to completion and free t in between; no
 * flag outside pinexec can close the window between "decided to call" and
 * "entered the gate". (The same holds for any application: the contract is
 * that every call which may overlap destroy must return before destroy can
 * finish.)
 *
 * What can make it safe is to keep destroy from finishing until every
 * producer has stopped. destroy waits for two things: the users inside the
 * gate and the executor's last item. The test holds one gate user itself
 * (px__gate_enter before destroy starts, as a slow producer preempted inside
 * px_call would), so:
 *
 *   test:      gate_enter(t) ──► start destroyer ──► see CLOSED ──► wait all producers stopped ──► gate_leave(t)
 *   destroyer:                   px_thread_destroy(t): close ─ drain (blocks on our user) ───────────────► stop, join, free
 *   producers: call/post/... until the first -ESHUTDOWN, then report "stopped" (last touch of t)
 *
 * After the gate closes, every producer gets -ESHUTDOWN at its next call
 * (those inside the gate finish their call first: accepted work still runs,
 * the executor is not blocked), so each one stops without help and strictly
 * before the test lets destroy go on. The producers' last accesses to t are
 * ordered before gate_leave by their release "stopped" count and our acquire
 * load of it, and gate_leave's release pairs with destroy's drain: t is freed
 * after every producer's last touch. The destroy itself races freely with the
 * calls: the close lands anywhere in a producer's call, a post waiting for
 * ring space is released, an accepted call completes during the drain.
 */
#include "test_stress.h"

#include "executor.h"

#define LC_NP 3 /* producers; producer 0 is an attached executor */

typedef struct lc {
    /* Set by the test before each cycle (before its go_gen release store). */
    px_thread_t *t;
    px_thread_t *dex;             /* a created executor that destroys from inside a call */
    _Atomic unsigned go_gen;      /* producers start cycle go_gen */
    _Atomic unsigned stopped;     /* producers that saw -ESHUTDOWN this cycle */
    _Atomic unsigned destroy_gen; /* the destroyer thread destroys in cycle destroy_gen */
    _Atomic unsigned destroyed;   /* cycle whose destroy returned */
    _Atomic unsigned progress;    /* accepted items this cycle, relaxed gauge */
    int destroy_rc;
    _Atomic int quit;
    /* Executor side: written only by the executor of the current cycle. */
    uint32_t expect[LC_NP];
    uint64_t ran[LC_NP];
    uint64_t bad_order;
    /* Producer side: each producer its own slot. */
    uint64_t accepted[LC_NP];
    uint64_t shut[LC_NP];
    uint64_t other_err[LC_NP];
    int other_rc[LC_NP];
    uint64_t ops[LC_NP];
} lc_t;

static lc_t lc;

static void lc_item(void *a)
{
    unsigned p = stress_item_producer(a);
    uint32_t s = stress_item_seq(a);
    if (s != lc.expect[p]) lc.bad_order++;
    lc.expect[p] = s + 1;
    lc.ran[p]++;
}

static void *lc_item_v(void *a)
{
    lc_item(a);
    return (void *)((uintptr_t)a ^ STRESS_MAGIC);
}

/* Wait for a generation counter to pass *seen; false when told to quit. */
static bool lc_wait_gen(_Atomic unsigned *gen, unsigned *seen)
{
    for (;;) {
        unsigned g =
            atomic_load_explicit(gen, memory_order_acquire); /* pairs with stress_publish */
        if (g != *seen) {
            *seen = g;
            return true;
        }
        if (atomic_load_explicit(&lc.quit, memory_order_acquire))
            return false; /* pairs with the test */
        stress_futex_wait(gen, g);
    }
}

static void *lc_producer(void *arg)
{
    unsigned p = (unsigned)(uintptr_t)arg;
    px_thread_t *self = NULL;
    if (p == 0) {
        px_thread_options_t o = {.size = sizeof o, .name = "lc-attached"};
        if (px_thread_attach(&self, &o) != 0) self = NULL;
    }
    uint64_t rng = 0xA0761D6478BD642Full * (p + 3);
    unsigned seen = 0;
    while (lc_wait_gen(&lc.go_gen, &seen)) {
        px_thread_t *t = lc.t;
        uint32_t seq = 0;
        for (unsigned n = 0;; n++) {
            /* Full speed for a burst, then paced: the test thread (which
             * drives the cycle) needs a CPU of the two too. */
            if (n >= 48) px_test_sleep_us(n % 2 ? 5 : 30);
            void *a = stress_item(p, 0, seq);
            int r;
            lc.ops[p]++;
            switch (stress_below(&rng, 4)) {
            case 0: r = px_call(t, lc_item, a); break;
            case 1: {
                void *res = NULL;
                r = px_call_v(t, lc_item_v, a, &res);
                if (r == 0 && res != (void *)((uintptr_t)a ^ STRESS_MAGIC)) {
                    lc.other_err[p]++;
                    lc.other_rc[p] = 1000;
                }
                break;
            }
            case 2: r = px_post(t, lc_item, a); break;
            default: r = px_try_post(t, lc_item, a); break;
            }
            if (r == 0) {
                seq++;
                lc.accepted[p]++;
                atomic_fetch_add_explicit(&lc.progress, 1, memory_order_relaxed); /* a gauge */
            } else if (r == -ESHUTDOWN) {
                lc.shut[p]++;
                break;
            } else if (r != -EAGAIN) { /* -EAGAIN: try_post on a full ring; same seq again */
                lc.other_err[p]++;
                lc.other_rc[p] = r;
                break;
            }
        }
        /* Release: our last touch of t happens before the test's gate_leave. */
        stress_bump(&lc.stopped);
    }
    if (self) px_thread_detach(self);
    return NULL;
}

static void lc_destroy_now(void *arg)
{
    (void)arg;
    lc.destroy_rc = px_thread_destroy(lc.t);
    unsigned g = atomic_load_explicit(&lc.destroy_gen, memory_order_relaxed); /* our own trigger */
    stress_publish(&lc.destroyed, g); /* pairs with the test's stress_wait_value */
}

/* Destroyer thread; attached (an executor) when arg is non-NULL, so its
 * destroy keeps serving its own queue while it waits. */
static void *lc_destroyer(void *arg)
{
    px_thread_t *self = NULL;
    if (arg) {
        px_thread_options_t o = {.size = sizeof o, .name = "lc-destroyer"};
        if (px_thread_attach(&self, &o) != 0) self = NULL;
    }
    unsigned seen = 0;
    while (lc_wait_gen(&lc.destroy_gen, &seen)) {
        unsigned who = seen % 3;              /* as in the test: 0 plain, 1 attached, 2 dex */
        if (who != (arg ? 1u : 0u)) continue; /* not my turn */
        lc_destroy_now(NULL);
    }
    if (self) px_thread_detach(self);
    return NULL;
}

static bool gate_closed(void *ctx)
{
    px_thread_t *t = ctx;
    /* Acquire: pairs with px__gate_close's fetch_or; t is alive (we hold a user). */
    return (atomic_load_explicit(&t->gate, memory_order_acquire) & PX__GATE_CLOSED) != 0;
}

static void test_stress_lifecycle_destroy_races_calls(void **state)
{
    (void)state;
    const unsigned ncycles = stress_n(10000);
    const unsigned caps[] = {1, 2, 8, 64};
    stress_thread_count_warm_up();
    int threads_before = stress_thread_count();
    memset(&lc, 0, sizeof lc);
    lc.dex = px_test_create(PX_WAIT_ADAPTIVE, 0, "lc-dex");
    px_test_thread_t prod[LC_NP], destroyer[2];
    for (unsigned p = 0; p < LC_NP; p++)
        px_test_thread_start(&prod[p], lc_producer, (void *)(uintptr_t)p);
    px_test_thread_start(&destroyer[0], lc_destroyer, NULL);
    px_test_thread_start(&destroyer[1], lc_destroyer, (void *)1);

    uint64_t rng = 0x1234567ull, t0 = px_test_now_ns();
    uint64_t total_ran = 0, total_shut = 0, total_ops = 0, ran_cycles = 0;
    for (unsigned i = 1; i <= ncycles; i++) {
        px_wait_t mode = px_test_modes[i % PX_TEST_NMODES];
        unsigned cap = caps[(i / 3) % 4];
        memset(lc.expect, 0, sizeof lc.expect);
        memset(lc.ran, 0, sizeof lc.ran);
        memset(lc.accepted, 0, sizeof lc.accepted);
        px_thread_t *t = px_test_create(mode, cap, "lc");
        lc.t = t;
        lc.destroy_rc = -1;
        atomic_store_explicit(&lc.stopped, 0, memory_order_relaxed); /* published by go_gen */
        atomic_store_explicit(&lc.progress, 0, memory_order_relaxed);
        stress_publish(&lc.go_gen, i); /* pairs with lc_wait_gen */

        /* Let some work through first (none at all in some cycles). */
        unsigned want = stress_below(&rng, 4) == 0 ? 0 : stress_below(&rng, 8);
        uint64_t deadline = px_test_now_ns() + PX_TEST_BOUND_NS;
        while (atomic_load_explicit(&lc.progress, memory_order_relaxed) < want &&
               px_test_now_ns() < deadline)
            sched_yield();

        /* Hold destroy off t's memory: see the top of the file. */
        assert_int_equal(px__gate_enter(t), 0);
        unsigned who = i % 3; /* 0: plain thread, 1: attached thread, 2: from a call on dex */
        stress_publish(&lc.destroy_gen, i); /* pairs with lc_wait_gen */
        if (who == 2) assert_int_equal(px_post(lc.dex, lc_destroy_now, NULL), 0);
        if (!stress_wait_until(gate_closed, t, PX_TEST_BOUND_NS))
            fail_msg("cycle %u: destroy never closed the gate", i);
        if (!stress_wait_value(&lc.stopped, LC_NP, PX_TEST_BOUND_NS))
            fail_msg("cycle %u: only %u of %d producers saw -ESHUTDOWN", i,
                     atomic_load(&lc.stopped), LC_NP);
        px__gate_leave(t); /* t may be freed from here on: no access after this line */
        t = NULL;
        if (!stress_wait_value(&lc.destroyed, i, PX_TEST_BOUND_NS))
            fail_msg("cycle %u: destroy did not return", i);
        if (lc.destroy_rc != 0)
            fail_msg("cycle %u: px_thread_destroy returned %d", i, lc.destroy_rc);

        for (unsigned p = 0; p < LC_NP; p++) {
            if (lc.other_err[p])
                fail_msg("cycle %u producer %u: unexpected result %d", i, p, lc.other_rc[p]);
            if (lc.ran[p] != lc.accepted[p])
                fail_msg("cycle %u producer %u: %llu accepted, %llu ran", i, p,
                         (unsigned long long)lc.accepted[p], (unsigned long long)lc.ran[p]);
            total_ran += lc.ran[p];
            if (lc.ran[p]) ran_cycles++;
        }
        assert_int_equal(lc.bad_order, 0);
    }
    atomic_store_explicit(&lc.quit, 1, memory_order_release); /* pairs with lc_wait_gen */
    stress_futex_wake(&lc.go_gen);
    stress_futex_wake(&lc.destroy_gen);
    for (unsigned p = 0; p < LC_NP; p++) px_test_thread_join(&prod[p]);
    px_test_thread_join(&destroyer[0]);
    px_test_thread_join(&destroyer[1]);
    px_test_destroy(lc.dex);
    for (unsigned p = 0; p < LC_NP; p++) {
        total_shut += lc.shut[p];
        total_ops += lc.ops[p];
    }
    /* Every producer stopped at -ESHUTDOWN once per cycle. */
    assert_int_equal(total_shut, (uint64_t)ncycles * LC_NP);
    assert_int_equal(stress_thread_count_settled(threads_before), threads_before);
    print_message(
        "lifecycle: %u create/destroy cycles, %llu calls+posts tried, %llu ran exactly once, "
        "%llu -ESHUTDOWN (%s build, %.1f s)\n",
        ncycles, (unsigned long long)total_ops, (unsigned long long)total_ran,
        (unsigned long long)total_shut, STRESS_BUILD, (px_test_now_ns() - t0) / 1e9);
    (void)ran_cycles;
}

/* Creating and destroying with nothing in flight, from several threads at
 * once: the creation path itself (bind, first-touch allocation, startup
 * handshake) under contention. */
static void *churn(void *arg)
{
    unsigned n = (unsigned)(uintptr_t)arg;
    unsigned long count = 0;
    for (unsigned i = 0; i < n; i++) {
        px_thread_options_t o = {
            .size = sizeof o, .wait = px_test_modes[i % PX_TEST_NMODES], .capacity = 1u << (i % 6)};
        px_thread_t *t = NULL;
        if (px_thread_create(&t, &o) != 0) return (void *)1;
        if (px_call(t, px_test_count, &count) != 0) return (void *)2;
        if (px_post(t, px_test_count, &count) != 0) return (void *)3;
        if (px_thread_destroy(t) != 0) return (void *)4;
    }
    return count == 2ul * n ? NULL : (void *)5;
}

static void test_stress_lifecycle_parallel_churn(void **state)
{
    (void)state;
    stress_thread_count_warm_up();
    int threads_before = stress_thread_count();
    unsigned n = stress_n(1500);
    px_test_thread_t th[3];
    for (int i = 0; i < 3; i++) px_test_thread_start(&th[i], churn, (void *)(uintptr_t)n);
    for (int i = 0; i < 3; i++) {
        px_test_thread_join(&th[i]);
        assert_null(th[i].ret);
    }
    assert_int_equal(stress_thread_count_settled(threads_before), threads_before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_lifecycle_destroy_races_calls),
        cmocka_unit_test(test_stress_lifecycle_parallel_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
