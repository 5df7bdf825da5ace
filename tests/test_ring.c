/*
 * The ring (and its 64-bit index wrap): capacity
 * rounding and limits, px_try_post -EAGAIN when full, px_post and px_call
 * wait for space, a post to one's own full ring fails at once, a post leaves
 * the ring when it starts running, and calls/posts across the wrap of the
 * free-running positions run exactly once, in order.
 */
#include "px_test.h"

#include "executor.h" /* px_thread.tail/space_waiters: to see the wrap and the waiters */

extern uint64_t px__test_ring_start;

typedef struct counter {
    unsigned long n; /* written on the executor only */
} counter_t;

static void bump(void *arg) { ((counter_t *)arg)->n++; }

/* Hold t inside a post, then count how many px_try_post it accepts. */
static int fill_blocked(px_thread_t *t, px_test_gate_t *g, counter_t *c)
{
    px_test_gate_init(g);
    assert_int_equal(px_post(t, px_test_gate_hold, g), 0);
    assert_true(px_test_gate_wait_entered(g, 1)); /* the gate's post has left the ring */
    int accepted = 0;
    int r;
    while ((r = px_try_post(t, bump, c)) == 0) {
        accepted++;
        if (accepted > (int)PX_CAPACITY_MAX) break;
    }
    assert_int_equal(r, -EAGAIN);
    assert_true(strlen(px_last_error()) > 0);
    return accepted;
}

static void test_ring_capacity_rounding(void **state)
{
    (void)state;
    static const struct {
        unsigned asked, holds;
    } cases[] = {
        {1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8}, {100, 128}, {0, 1024}, {1024, 1024}, {1025, 2048},
    };
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            px_thread_t *t = px_test_create(px_test_modes[m], cases[i].asked, NULL);
            px_test_gate_t g;
            counter_t c = {0};
            int accepted = fill_blocked(t, &g, &c);
            if (accepted != (int)cases[i].holds)
                fail_msg("%s capacity %u: accepted %d posts, expected %u",
                         px_test_mode_name(px_test_modes[m]), cases[i].asked, accepted,
                         cases[i].holds);
            /* Still full: a second try fails too, and did not consume anything. */
            assert_int_equal(px_try_post(t, bump, &c), -EAGAIN);
            px_test_gate_open(&g);
            px_test_flush(t);
            assert_int_equal(c.n, cases[i].holds);
            assert_int_equal(atomic_load(&g.timed_out), 0);
            px_stats_t s = px_test_stats(t);
            assert_int_equal(s.posts, cases[i].holds + 1);
            px_test_destroy(t);
        }
    }
}

/* The largest capacity works and holds exactly 2^20; one more is -EINVAL. */
static void test_ring_capacity_limit(void **state)
{
    (void)state;
    px_thread_t *t = NULL;
    px_thread_options_t o = {.size = sizeof o, .capacity = PX_CAPACITY_MAX + 1};
    assert_int_equal(px_thread_create(&t, &o), -EINVAL);
    assert_null(t);
    assert_non_null(strstr(px_last_error(), "1048577"));
    o.capacity = UINT32_MAX;
    assert_int_equal(px_thread_create(&t, &o), -EINVAL);
    assert_null(t);
    assert_non_null(strstr(px_last_error(), "4294967295"));

    assert_int_equal(PX_CAPACITY_MAX, 1u << 20);
    t = px_test_create(PX_WAIT_ADAPTIVE, PX_CAPACITY_MAX, "cap-max");
    px_test_gate_t g;
    counter_t c = {0};
    int accepted = fill_blocked(t, &g, &c);
    assert_int_equal(accepted, PX_CAPACITY_MAX);
    px_test_gate_open(&g);
    px_test_flush(t);
    assert_int_equal(c.n, PX_CAPACITY_MAX);
    px_test_destroy(t);
}

/* A post leaves the ring when it starts running: with capacity 1, a running
 * post leaves room for exactly one more. */
static void test_ring_post_leaves_when_it_starts(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_ADAPTIVE, 1, NULL);
    px_test_gate_t g;
    counter_t c = {0};
    assert_int_equal(fill_blocked(t, &g, &c), 1);
    px_test_gate_open(&g);
    px_test_flush(t);
    assert_int_equal(c.n, 1);
    px_test_destroy(t);
}

/* ---- waiting for space ------------------------------------------------------- */

typedef struct waiter {
    px_thread_t *t;
    counter_t *c;
    bool is_call;
    int rc;
    _Atomic int started;
    _Atomic int returned;
} waiter_t;

static void *wait_for_space(void *arg)
{
    waiter_t *w = arg;
    atomic_store(&w->started, 1);
    w->rc = w->is_call ? px_call(w->t, bump, w->c) : px_post(w->t, bump, w->c);
    atomic_store_explicit(&w->returned, 1, memory_order_release);
    return NULL;
}

static bool two_space_waiters(void *arg)
{
    px_thread_t *t = arg;
    return atomic_load(&t->space_waiters) >= 2;
}

static void test_ring_post_and_call_wait_while_full(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 2, NULL);
        px_test_gate_t g;
        counter_t c = {0};
        assert_int_equal(fill_blocked(t, &g, &c), 2);
        waiter_t wp = {.t = t, .c = &c, .is_call = false, .rc = 1};
        waiter_t wc = {.t = t, .c = &c, .is_call = true, .rc = 1};
        px_test_thread_t tp, tc;
        px_test_thread_start(&tp, wait_for_space, &wp);
        px_test_thread_start(&tc, wait_for_space, &wc);
        /* Both are inside px__space_wait: the ring is full and nothing drains it. */
        assert_true(px_test_wait_until(two_space_waiters, t, PX_TEST_BOUND_NS));
        px_test_sleep_us(20000);
        assert_int_equal(atomic_load(&wp.returned), 0);
        assert_int_equal(atomic_load(&wc.returned), 0);
        assert_int_equal(px_try_post(t, bump, &c), -EAGAIN);
        px_test_gate_open(&g);
        px_test_thread_join(&tp);
        px_test_thread_join(&tc);
        assert_int_equal(wp.rc, 0); /* never fails for lack of space */
        assert_int_equal(wc.rc, 0);
        px_test_flush(t);
        assert_int_equal(c.n, 4);
        px_stats_t s = px_test_stats(t);
        assert_int_equal(s.posts, 4); /* gate + 2 fills + the waiting post */
        assert_int_equal(s.calls, 2); /* the waiting call + flush */
        px_test_destroy(t);
    }
}

/* A post to one's own full ring returns -EAGAIN at once (px_post and
 * px_try_post); a synchronous call there runs inline regardless. */
typedef struct self_full {
    px_thread_t *t;
    counter_t *c;
    int accepted;
    int post_rc, try_rc, call_rc;
    unsigned long inline_ran;
} self_full_t;

static void inline_mark(void *arg) { ((self_full_t *)arg)->inline_ran++; }

static void fill_self(void *arg)
{
    self_full_t *s = arg;
    int r;
    while ((r = px_post(s->t, bump, s->c)) == 0) {
        if (++s->accepted > 4096) break;
    }
    s->post_rc = r;
    s->try_rc = px_try_post(s->t, bump, s->c);
    s->call_rc = px_call(s->t, inline_mark, s);
}

static void test_ring_self_post_to_full_ring(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        for (unsigned cap = 1; cap <= 4; cap *= 2) {
            px_thread_t *t = px_test_create(px_test_modes[m], cap, NULL);
            counter_t c = {0};
            self_full_t s = {.t = t, .c = &c, .post_rc = 1, .try_rc = 1, .call_rc = 1};
            assert_int_equal(px_call(t, fill_self, &s), 0);
            assert_int_equal(s.accepted, (int)cap);
            assert_int_equal(s.post_rc, -EAGAIN);
            assert_int_equal(s.try_rc, -EAGAIN);
            assert_int_equal(s.call_rc, 0);
            assert_int_equal(s.inline_ran, 1);
            px_test_flush(t);
            assert_int_equal(c.n, cap);
            px_test_destroy(t);
        }
    }
}

/* Many producers on a ring of 1 and 2: every post waits its turn, all run. */
typedef struct hammer {
    px_thread_t *t;
    unsigned id;
    int bad;
} hammer_t;

static uint32_t hammer_next[4]; /* written on the executor only */
static unsigned long hammer_bad;

static void hammer_fn(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    unsigned id = (unsigned)(v >> 20), seq = (unsigned)(v & 0xfffff);
    if (hammer_next[id] != seq) hammer_bad++;
    hammer_next[id] = seq + 1;
}

#define HAMMER_OPS 5000

static void *hammer_thread(void *arg)
{
    hammer_t *h = arg;
    for (unsigned i = 0; i < HAMMER_OPS; i++) {
        void *a = (void *)(((uintptr_t)h->id << 20) | i);
        int r = (i % 7 == 3) ? px_call(h->t, hammer_fn, a) : px_post(h->t, hammer_fn, a);
        if (r) h->bad++;
    }
    return NULL;
}

static void test_ring_tiny_ring_many_producers(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        for (unsigned cap = 1; cap <= 2; cap++) {
            px_thread_t *t = px_test_create(px_test_modes[m], cap, NULL);
            memset(hammer_next, 0, sizeof hammer_next);
            hammer_bad = 0;
            px_test_flush(t);
            hammer_t h[3];
            px_test_thread_t th[3];
            for (unsigned i = 0; i < 3; i++) {
                h[i] = (hammer_t){.t = t, .id = i};
                px_test_thread_start(&th[i], hammer_thread, &h[i]);
            }
            for (unsigned i = 0; i < 3; i++) px_test_thread_join(&th[i]);
            px_test_flush(t);
            for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(h[i].bad, 0);
                assert_int_equal(hammer_next[i], HAMMER_OPS);
            }
            assert_int_equal(hammer_bad, 0);
            px_test_destroy(t);
        }
    }
}

/* ---- the 64-bit wrap of the ring positions ------------------------------------ */

#define WRAP_PRODUCERS 2
#define WRAP_OPS 600

typedef struct wrap_sink {
    uint32_t next[WRAP_PRODUCERS];
    uint8_t ran[WRAP_PRODUCERS][WRAP_OPS]; /* runs of each item */
    unsigned long bad;
} wrap_sink_t;

static wrap_sink_t wsink; /* written on the executor only */

static void wrap_fn(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    unsigned id = (unsigned)(v >> 16), seq = (unsigned)(v & 0xffff);
    if (id >= WRAP_PRODUCERS || seq >= WRAP_OPS) {
        wsink.bad++;
        return;
    }
    wsink.ran[id][seq]++;
    if (wsink.next[id] != seq) wsink.bad++;
    wsink.next[id] = seq + 1;
}

static void *wrap_fn_v(void *arg)
{
    wrap_fn(arg);
    return arg;
}

typedef struct wrap_prod {
    px_thread_t *t;
    unsigned id;
    int bad;
} wrap_prod_t;

static void *wrap_producer(void *arg)
{
    wrap_prod_t *p = arg;
    for (unsigned i = 0; i < WRAP_OPS; i++) {
        void *a = (void *)(((uintptr_t)p->id << 16) | i);
        void *res = NULL;
        int r;
        switch (i % 4) {
        case 0: r = px_call(p->t, wrap_fn, a); break;
        case 1:
            r = px_call_v(p->t, wrap_fn_v, a, &res), r = (r == 0 && res != a) ? -9999 : r;
            break;
        case 2: r = px_post(p->t, wrap_fn, a); break;
        default:
            while ((r = px_try_post(p->t, wrap_fn, a)) == -EAGAIN) sched_yield();
            break;
        }
        if (r) p->bad++;
    }
    return NULL;
}

static void run_across_wrap(uint64_t start, unsigned cap, px_wait_t mode)
{
    px__test_ring_start = start;
    px_thread_t *t = px_test_create(mode, cap, "wrap");
    px__test_ring_start = 0;
    assert_int_equal(atomic_load(&t->tail), start);

    /* 1. A blocked executor holds exactly cap posts, also across the wrap. */
    px_test_gate_t g;
    counter_t c = {0};
    assert_int_equal(fill_blocked(t, &g, &c), (int)cap);
    px_test_gate_open(&g);
    px_test_flush(t);
    assert_int_equal(c.n, cap);

    /* 2. Mixed calls and posts from two threads: once each, in order. */
    memset(&wsink, 0, sizeof wsink);
    px_test_flush(t);
    wrap_prod_t p[WRAP_PRODUCERS];
    px_test_thread_t th[WRAP_PRODUCERS];
    for (unsigned i = 0; i < WRAP_PRODUCERS; i++) {
        p[i] = (wrap_prod_t){.t = t, .id = i};
        px_test_thread_start(&th[i], wrap_producer, &p[i]);
    }
    for (unsigned i = 0; i < WRAP_PRODUCERS; i++) px_test_thread_join(&th[i]);
    px_test_flush(t);
    for (unsigned i = 0; i < WRAP_PRODUCERS; i++) {
        assert_int_equal(p[i].bad, 0);
        assert_int_equal(wsink.next[i], WRAP_OPS);
        for (unsigned k = 0; k < WRAP_OPS; k++) {
            if (wsink.ran[i][k] != 1)
                fail_msg("start %llu cap %u %s: item %u/%u ran %u times", (unsigned long long)start,
                         cap, px_test_mode_name(mode), i, k, wsink.ran[i][k]);
        }
    }
    assert_int_equal(wsink.bad, 0);

    /* The positions really crossed 2^64 (relaxed reads: t is idle after the flush). */
    uint64_t used = 1 + cap + 1 + 1 + WRAP_PRODUCERS * WRAP_OPS + 1;
    assert_int_equal(atomic_load(&t->tail), start + used);
    assert_int_equal(atomic_load(&t->head), start + used);
    assert_true(atomic_load(&t->tail) < start);
    px_stats_t s = px_test_stats(t);
    assert_int_equal(s.calls + s.posts, used);
    px_test_destroy(t);
}

static void test_ring_wraps_around(void **state)
{
    (void)state;
    static const unsigned caps[] = {1, 8, 64};
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
            unsigned cap = caps[k];
            run_across_wrap(UINT64_MAX - 100, cap, px_test_modes[m]);
            run_across_wrap(UINT64_MAX - 1, cap, px_test_modes[m]);
            run_across_wrap(UINT64_MAX, cap, px_test_modes[m]);
            run_across_wrap(UINT64_MAX - cap / 2, cap, px_test_modes[m]);
            run_across_wrap(UINT64_MAX - cap + 1, cap, px_test_modes[m]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_capacity_rounding),
        cmocka_unit_test(test_ring_capacity_limit),
        cmocka_unit_test(test_ring_post_leaves_when_it_starts),
        cmocka_unit_test(test_ring_post_and_call_wait_while_full),
        cmocka_unit_test(test_ring_self_post_to_full_ring),
        cmocka_unit_test(test_ring_tiny_ring_many_producers),
        cmocka_unit_test(test_ring_wraps_around),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
