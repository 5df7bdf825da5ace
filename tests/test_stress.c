/*
 * Stress tier, traffic: random mixes of px_call / px_call_v /
 * px_post / px_try_post from many threads against several executors with every
 * item counted; oversubscription (16 producers, 4 executors, 2 CPUs) in each
 * wait mode; call cycles A->B->A, A->B->C->A and main->A->main under load;
 * chains of nested calls deeper than a thread's reply lines.
 *
 * Accounting: an item's argument encodes (producer, executor, seq) where seq
 * counts the producer's *accepted* items to that executor (tests/test_stress.h).
 * The executor checks that seq is exactly the next one it expects from that
 * producer: a lost item, a duplicate, an item run although its post failed
 * (-EAGAIN / -ESHUTDOWN) or a reordering all break the chain. Counters on the
 * executor side are written only by that executor's thread and read by the
 * test thread after a final px_call (which orders them before its return).
 */
#include "test_stress.h"

/* ---- 1. random mixes, every item counted ---------------------------------- */

#define MIX_NE 4
#define MIX_NP 6

typedef struct mix {
    px_thread_t *ex[MIX_NE];
    /* Row e is written only by executor e's thread. */
    uint32_t expect[MIX_NE][MIX_NP];
    uint64_t ran[MIX_NE][MIX_NP];
    uint64_t bad_order[MIX_NE];
    uint64_t bad_thread[MIX_NE];
    /* Per producer, written only by the producer. */
    uint64_t accepted[MIX_NE][MIX_NP];
    uint64_t bad_result[MIX_NP];
    uint64_t errors[MIX_NP];
    int last_error[MIX_NP];
    uint64_t eagain[MIX_NP];
    uint64_t ops[MIX_NP][4];
    unsigned nops;
} mix_t;

static mix_t mix;

static void mix_item(void *a)
{
    unsigned p = stress_item_producer(a), e = stress_item_exec(a);
    uint32_t s = stress_item_seq(a);
    if (px_thread_current() != mix.ex[e]) mix.bad_thread[e]++;
    if (s != mix.expect[e][p]) mix.bad_order[e]++;
    mix.expect[e][p] = s + 1;
    mix.ran[e][p]++;
}

static void *mix_item_v(void *a)
{
    mix_item(a);
    return (void *)((uintptr_t)a ^ STRESS_MAGIC);
}

typedef struct mix_producer {
    unsigned id;
    bool attach; /* run as an attached executor: its waits serve its own queue */
} mix_producer_t;

static void *mix_producer_main(void *arg)
{
    mix_producer_t *mp = arg;
    unsigned p = mp->id;
    px_thread_t *self = NULL;
    if (mp->attach) {
        px_thread_options_t o = {.size = sizeof o, .name = "mix-attached"};
        if (px_thread_attach(&self, &o) != 0) {
            mix.errors[p]++;
            return NULL;
        }
    }
    uint64_t rng = 0x9E3779B97F4A7C15ull * (p + 1);
    uint32_t next[MIX_NE] = {0};
    for (unsigned i = 0; i < mix.nops; i++) {
        unsigned e = stress_below(&rng, MIX_NE), op = stress_below(&rng, 4);
        void *a = stress_item(p, e, next[e]);
        int r;
        mix.ops[p][op]++;
        switch (op) {
        case 0: r = px_call(mix.ex[e], mix_item, a); break;
        case 1: {
            void *res = NULL;
            r = px_call_v(mix.ex[e], mix_item_v, a, &res);
            if (r == 0 && res != (void *)((uintptr_t)a ^ STRESS_MAGIC)) mix.bad_result[p]++;
            break;
        }
        case 2: r = px_post(mix.ex[e], mix_item, a); break;
        default:
            r = px_try_post(mix.ex[e], mix_item, a);
            if (r == -EAGAIN) { /* full: the same seq again, by a waiting post */
                mix.eagain[p]++;
                r = px_post(mix.ex[e], mix_item, a);
            }
            break;
        }
        if (r == 0) {
            next[e]++;
            mix.accepted[e][p]++;
        } else {
            mix.errors[p]++;
            mix.last_error[p] = r;
        }
        /* An attached producer serves what might be queued to it (nothing is;
         * this keeps its driven state machine in the mix). */
        if (self && (i & 255) == 0) px_drain(self, 0);
    }
    if (self) px_thread_detach(self);
    return NULL;
}

static void test_stress_mix_counts_every_item(void **state)
{
    (void)state;
    memset(&mix, 0, sizeof mix);
    mix.nops = stress_n(20000);
    /* Small rings so that posts wait for space and try_posts see -EAGAIN. */
    const px_wait_t modes[MIX_NE] = {PX_WAIT_ADAPTIVE, PX_WAIT_SLEEP, PX_WAIT_SPIN,
                                     PX_WAIT_ADAPTIVE};
    const unsigned caps[MIX_NE] = {4, 16, 2, 1024};
    for (int e = 0; e < MIX_NE; e++) mix.ex[e] = px_test_create(modes[e], caps[e], "mix");
    px_test_thread_t th[MIX_NP];
    mix_producer_t mp[MIX_NP];
    for (unsigned p = 0; p < MIX_NP; p++) {
        mp[p] = (mix_producer_t){.id = p, .attach = p < 2};
        px_test_thread_start(&th[p], mix_producer_main, &mp[p]);
    }
    for (unsigned p = 0; p < MIX_NP; p++)
        if (!px_test_thread_join_within(&th[p], 120ull * 1000000000ull))
            fail_msg("mix producer %u did not finish its %u operations in 120 s", p, mix.nops);
    /* Everything accepted before the joins is ahead of this call in each ring. */
    for (int e = 0; e < MIX_NE; e++) px_test_flush(mix.ex[e]);

    uint64_t total = 0, eagain = 0;
    for (unsigned p = 0; p < MIX_NP; p++) {
        if (mix.errors[p])
            fail_msg("producer %u: %llu calls failed (last %d)", p,
                     (unsigned long long)mix.errors[p], mix.last_error[p]);
        assert_int_equal(mix.bad_result[p], 0);
        eagain += mix.eagain[p];
    }
    for (int e = 0; e < MIX_NE; e++) {
        assert_int_equal(mix.bad_order[e], 0);
        assert_int_equal(mix.bad_thread[e], 0);
        uint64_t ran = 0;
        for (unsigned p = 0; p < MIX_NP; p++) {
            assert_int_equal(mix.ran[e][p], mix.accepted[e][p]);
            assert_int_equal(mix.expect[e][p], mix.accepted[e][p]);
            ran += mix.ran[e][p];
        }
        px_stats_t s = px_test_stats(mix.ex[e]);
        assert_int_equal(s.calls + s.posts, ran + 1); /* + the flush */
        total += ran;
        px_test_destroy(mix.ex[e]);
    }
    assert_int_equal(total, (uint64_t)mix.nops * MIX_NP);
    print_message("mix: %llu items run exactly once in order (%s build), %llu try_post -EAGAIN\n",
                  (unsigned long long)total, STRESS_BUILD, (unsigned long long)eagain);
}

/* ---- 2. oversubscription -------------------------------------------------- */

#define OV_NE 4
#define OV_NP 16

typedef struct over {
    px_thread_t *ex[OV_NE];
    unsigned quota;
    uint32_t expect[OV_NE][OV_NP]; /* row e: executor e's thread only */
    uint64_t bad_order[OV_NE];
    uint64_t accepted[OV_NE][OV_NP]; /* producer only */
    uint64_t errors[OV_NP];
    _Atomic unsigned progress[OV_NP]; /* ops done; read by the test while it waits */
} over_t;

static over_t over;

static void over_item(void *a)
{
    unsigned p = stress_item_producer(a), e = stress_item_exec(a);
    uint32_t s = stress_item_seq(a);
    if (s != over.expect[e][p]) over.bad_order[e]++;
    over.expect[e][p] = s + 1;
}

static void *over_producer(void *arg)
{
    unsigned p = (unsigned)(uintptr_t)arg;
    uint64_t rng = 0xD1B54A32D192ED03ull * (p + 7);
    uint32_t next[OV_NE] = {0};
    for (unsigned i = 0; i < over.quota; i++) {
        unsigned e = stress_below(&rng, OV_NE);
        void *a = stress_item(p, e, next[e]);
        int r = (i & 1) ? px_post(over.ex[e], over_item, a) : px_call(over.ex[e], over_item, a);
        if (r == 0) {
            next[e]++;
            over.accepted[e][p]++;
        } else {
            over.errors[p]++;
        }
        /* Relaxed: a progress gauge for the failure message only. */
        atomic_store_explicit(&over.progress[p], i + 1, memory_order_relaxed);
    }
    return NULL;
}

static void oversubscribe(px_wait_t mode)
{
    memset(&over, 0, sizeof over);
    /* SPIN executors never yield their CPU: four of them on two CPUs leave the
     * producers only what the scheduler takes from them, hence a smaller quota. */
    over.quota = stress_n(mode == PX_WAIT_SPIN ? 300 : 1500);
    static const char *const cpus[OV_NE] = {"0", "0", "1", "1"};
    for (int e = 0; e < OV_NE; e++) {
        /* Two per CPU when the machine allows it; otherwise wherever allowed. */
        px_thread_options_t o = {
            .size = sizeof o, .name = "over", .capacity = 8, .wait = mode, .cpus = cpus[e]};
        if (px_thread_create(&over.ex[e], &o) != 0) {
            o.cpus = NULL;
            assert_int_equal(px_thread_create(&over.ex[e], &o), 0);
        }
    }
    px_test_thread_t th[OV_NP];
    for (unsigned p = 0; p < OV_NP; p++)
        px_test_thread_start(&th[p], over_producer, (void *)(uintptr_t)p);
    /* The bound is generous (a noisy 2-CPU machine); a starved or livelocked
     * producer is reported with how far it got. */
    for (unsigned p = 0; p < OV_NP; p++) {
        if (!px_test_thread_join_within(&th[p], 90ull * 1000000000ull)) {
            char prog[16 * 12] = "";
            for (unsigned q = 0; q < OV_NP; q++)
                snprintf(prog + strlen(prog), sizeof prog - strlen(prog), "%u ",
                         atomic_load_explicit(&over.progress[q], memory_order_relaxed));
            fail_msg("%s: producer %u did not finish its quota of %u within 90 s; progress: %s",
                     px_test_mode_name(mode), p, over.quota, prog);
        }
    }
    for (int e = 0; e < OV_NE; e++) px_test_flush(over.ex[e]);
    uint64_t total = 0;
    for (unsigned p = 0; p < OV_NP; p++) {
        assert_int_equal(over.errors[p], 0);
        uint64_t mine = 0;
        for (int e = 0; e < OV_NE; e++) mine += over.accepted[e][p];
        assert_int_equal(mine, over.quota); /* every producer got all of its quota through */
        total += mine;
    }
    for (int e = 0; e < OV_NE; e++) {
        assert_int_equal(over.bad_order[e], 0);
        for (unsigned p = 0; p < OV_NP; p++)
            assert_int_equal(over.expect[e][p], over.accepted[e][p]);
        px_test_destroy(over.ex[e]);
    }
    print_message("oversubscription %s: %u producers x %u items over %d executors done\n",
                  px_test_mode_name(mode), OV_NP, over.quota, OV_NE);
    (void)total;
}

static void test_stress_oversubscribed_adaptive(void **state)
{
    (void)state;
    oversubscribe(PX_WAIT_ADAPTIVE);
}
static void test_stress_oversubscribed_spin(void **state)
{
    (void)state;
    oversubscribe(PX_WAIT_SPIN);
}
static void test_stress_oversubscribed_sleep(void **state)
{
    (void)state;
    oversubscribe(PX_WAIT_SLEEP);
}

/* ---- 3. cycles under load ------------------------------------------------- */

enum { CY_ABA, CY_ABCA, CY_MAIN, CY_KINDS };

typedef struct cyc {
    px_thread_t *a, *b, *c;
    _Atomic int stop_load;
    /* Leaf runs per kind, and leaves that ran on the wrong thread; a leaf of
     * kind k runs on one executor only, so its thread is the only writer. */
    uint64_t leaves[CY_KINDS];
    uint64_t wrong[CY_KINDS];
    uint64_t load_ran[3]; /* background posts run, per executor (its thread only) */
    uint64_t load_accepted[2][3];
    uint64_t issued[2][CY_KINDS]; /* per cycle thread, its own row */
    _Atomic int nested_fail;
} cyc_t;

static cyc_t cyc;

static void leaf_on_a(void *arg)
{
    int k = (int)(intptr_t)arg;
    cyc.leaves[k]++;
    if (px_thread_current() != cyc.a) cyc.wrong[k]++;
}

static void leaf_on_main(void *arg)
{
    (void)arg;
    cyc.leaves[CY_MAIN]++;
    if (px_thread_current() != px_mainthread() || !px_is_main_thread()) cyc.wrong[CY_MAIN]++;
}

static void nested_fail(void)
{
    atomic_fetch_add_explicit(&cyc.nested_fail, 1, memory_order_relaxed);
}

static void b_to_a(void *arg)
{
    if (px_call(cyc.a, leaf_on_a, arg) != 0) nested_fail();
}
static void a_to_b(void *arg)
{
    if (px_call(cyc.b, b_to_a, arg) != 0) nested_fail();
}
static void c_to_a(void *arg)
{
    if (px_call(cyc.a, leaf_on_a, arg) != 0) nested_fail();
}
static void *b_to_c(void *arg)
{
    if (px_call(cyc.c, c_to_a, arg) != 0) nested_fail();
    return arg;
}
static void a_to_b_to_c(void *arg)
{
    void *r = NULL;
    if (px_call_v(cyc.b, b_to_c, arg, &r) != 0 || r != arg) nested_fail();
}
static void a_to_main(void *arg)
{
    (void)arg;
    if (px_call(px_mainthread(), leaf_on_main, NULL) != 0) nested_fail();
}

static void load_item(void *arg) { cyc.load_ran[(uintptr_t)arg]++; }

static void *cycle_thread(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    unsigned n = stress_n(3000);
    for (unsigned i = 0; i < n; i++) {
        int k = (i + id) % 2 ? CY_ABA : CY_ABCA;
        int r = px_call(cyc.a, k == CY_ABA ? a_to_b : a_to_b_to_c, (void *)(intptr_t)k);
        if (r != 0) nested_fail();
        else cyc.issued[id][k]++;
    }
    return NULL;
}

static void *load_thread(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    px_thread_t *ex[3] = {cyc.a, cyc.b, cyc.c};
    uint64_t rng = 12345 + id;
    while (!atomic_load_explicit(&cyc.stop_load,
                                 memory_order_acquire)) { /* pairs with the test's store */
        unsigned e = stress_below(&rng, 3);
        int r = stress_below(&rng, 2) ? px_post(ex[e], load_item, (void *)(uintptr_t)e)
                                      : px_try_post(ex[e], load_item, (void *)(uintptr_t)e);
        if (r == 0) cyc.load_accepted[id][e]++;
        else if (r != -EAGAIN) nested_fail();
        if ((stress_rand(&rng) & 15) == 0) sched_yield();
    }
    return NULL;
}

static void cycles_under_load(px_wait_t mode)
{
    memset(&cyc, 0, sizeof cyc);
    cyc.a = px_test_create(mode, 4, "cyc-a");
    cyc.b = px_test_create(mode == PX_WAIT_SPIN ? PX_WAIT_ADAPTIVE : mode, 4, "cyc-b");
    cyc.c = px_test_create(PX_WAIT_SLEEP, 2, "cyc-c");
    px_test_thread_t cyc_th[2], load_th[2];
    for (unsigned i = 0; i < 2; i++)
        px_test_thread_start(&load_th[i], load_thread, (void *)(uintptr_t)i);
    for (unsigned i = 0; i < 2; i++)
        px_test_thread_start(&cyc_th[i], cycle_thread, (void *)(uintptr_t)i);
    /* main -> A -> main from the test thread, which is the main thread: it
     * serves the main executor while it waits on A. */
    assert_true(px_is_main_thread());
    unsigned nmain = stress_n(3000);
    for (unsigned i = 0; i < nmain; i++) assert_int_equal(px_call(cyc.a, a_to_main, NULL), 0);
    for (unsigned i = 0; i < 2; i++) px_test_thread_join(&cyc_th[i]);
    atomic_store_explicit(&cyc.stop_load, 1, memory_order_release); /* pairs with load_thread */
    for (unsigned i = 0; i < 2; i++) px_test_thread_join(&load_th[i]);
    px_thread_t *ex[3] = {cyc.a, cyc.b, cyc.c};
    for (int e = 0; e < 3; e++) px_test_flush(ex[e]);

    assert_int_equal(atomic_load(&cyc.nested_fail), 0);
    uint64_t ncyc = cyc.issued[0][CY_ABA] + cyc.issued[1][CY_ABA];
    assert_int_equal(ncyc + cyc.issued[0][CY_ABCA] + cyc.issued[1][CY_ABCA], 2ull * stress_n(3000));
    assert_int_equal(cyc.leaves[CY_ABA], ncyc);
    assert_int_equal(cyc.leaves[CY_ABCA], cyc.issued[0][CY_ABCA] + cyc.issued[1][CY_ABCA]);
    assert_int_equal(cyc.leaves[CY_MAIN], nmain);
    for (int k = 0; k < CY_KINDS; k++) assert_int_equal(cyc.wrong[k], 0);
    for (int e = 0; e < 3; e++)
        assert_int_equal(cyc.load_ran[e], cyc.load_accepted[0][e] + cyc.load_accepted[1][e]);
    print_message(
        "cycles %s: %llu A->B->A, %llu A->B->C->A, %u main->A->main, %llu posts of load\n",
        px_test_mode_name(mode), (unsigned long long)ncyc, (unsigned long long)cyc.leaves[CY_ABCA],
        nmain, (unsigned long long)(cyc.load_ran[0] + cyc.load_ran[1] + cyc.load_ran[2]));
    for (int e = 0; e < 3; e++) px_test_destroy(ex[e]);
}

static void test_stress_cycles_under_load(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) cycles_under_load(px_test_modes[m]);
}

/* ---- 4. deep nesting --------------------------------------------------------
 * A chain of synchronous calls bouncing between two executors, 24 deep: each
 * thread holds 12 calls in flight at once, more than its thread-local reply
 * lines (the deepest ones complete through a line in the caller's frame),
 * and every line is reused by the next chain. Two threads run chains at
 * once, so A and B each serve a second chain while they wait in the first. */

#define DEEP 24

typedef struct deep {
    px_thread_t *ex[2];
    uint64_t leaves[2]; /* per executor, its thread only */
    uint64_t wrong[2];
} deep_t;

static deep_t dp;

static void *bounce(void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    unsigned here = (unsigned)(depth % 2);
    if (px_thread_current() != dp.ex[here]) dp.wrong[here]++;
    if (depth == DEEP) {
        dp.leaves[here]++;
        return (void *)(uintptr_t)1;
    }
    void *res = NULL;
    if (px_call_v(dp.ex[1 - here], bounce, (void *)(depth + 1), &res) != 0) return NULL;
    return (void *)((uintptr_t)res + 1); /* the chain's length, counted on the way back */
}

static void *deep_chains(void *arg)
{
    unsigned n = (unsigned)(uintptr_t)arg, ok = 0;
    for (unsigned i = 0; i < n; i++) {
        void *res = NULL;
        if (px_call_v(dp.ex[0], bounce, (void *)0, &res) == 0 &&
            res == (void *)(uintptr_t)(DEEP + 1))
            ok++;
    }
    return (void *)(uintptr_t)ok;
}

static void test_stress_deep_nesting(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        memset(&dp, 0, sizeof dp);
        dp.ex[0] = px_test_create(px_test_modes[m], 4, "deep-a");
        dp.ex[1] = px_test_create(px_test_modes[m], 4, "deep-b");
        unsigned n = stress_n(250);
        px_test_thread_t th[2];
        for (int i = 0; i < 2; i++) px_test_thread_start(&th[i], deep_chains, (void *)(uintptr_t)n);
        for (int i = 0; i < 2; i++) {
            px_test_thread_join(&th[i]);
            assert_int_equal((uintptr_t)th[i].ret, n);
        }
        for (int e = 0; e < 2; e++) px_test_flush(dp.ex[e]);
        assert_int_equal(dp.leaves[DEEP % 2], 2ull * n);
        assert_int_equal(dp.wrong[0] + dp.wrong[1], 0);
        for (int e = 0; e < 2; e++) px_test_destroy(dp.ex[e]);
        print_message("deep nesting %s: %u chains of %d nested calls\n",
                      px_test_mode_name(px_test_modes[m]), 2 * n, DEEP);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_mix_counts_every_item),
        cmocka_unit_test(test_stress_oversubscribed_adaptive),
        cmocka_unit_test(test_stress_oversubscribed_spin),
        cmocka_unit_test(test_stress_oversubscribed_sleep),
        cmocka_unit_test(test_stress_cycles_under_load),
        cmocka_unit_test(test_stress_deep_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
