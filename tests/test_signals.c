/*
 * Signals never leak: with a SIGUSR1 handler installed
 * without SA_RESTART, a storm thread signals the callers, the posters and the
 * executors (tgkill, every ~50 us) while they make 20,000 calls and posts in
 * each wait mode. Every call returns 0, every item runs once, the counters are
 * exact. Waits that a signal interrupts (futex EINTR) must restart inside
 * pinexec and never surface.
 */
#include "px_test.h"

#include <signal.h>

static _Atomic unsigned long signals_seen;

static void on_sigusr1(int sig)
{
    (void)sig;
    /* Relaxed: a count, read after the storm thread is joined. */
    atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
}

#define MAX_TARGETS 8

typedef struct storm {
    _Atomic long tids[MAX_TARGETS]; /* 0: empty slot */
    _Atomic int stop;
    unsigned long sent;
} storm_t;

static void *storm_main(void *arg)
{
    storm_t *s = arg;
    pid_t pid = getpid();
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        for (int i = 0; i < MAX_TARGETS; i++) {
            long tid = atomic_load(&s->tids[i]);
            if (tid > 0 && syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0) s->sent++;
        }
        px_test_sleep_us(50);
    }
    return NULL;
}

static void storm_target(storm_t *s, int slot, long tid) { atomic_store(&s->tids[slot], tid); }

/* ---- the load ----------------------------------------------------------------- */

#define CALLS 5000 /* per kind and caller: 30,000+ calls and posts per mode */

/* A call that leaves a mark: a call that returned before fn ran (a wait cut
 * short by a signal) is caught by the caller's check of the mark. */
typedef struct mark {
    px_test_ops_t *sink;
    int want, got;
} mark_t;

static void on_mark(void *arg)
{
    mark_t *m = arg;
    m->got = m->want;
    m->sink->calls++;
}

static int call_marked(px_thread_t *t, mark_t *m, int i)
{
    m->want = i;
    int r = px_call(t, on_mark, m);
    if (r == 0 && m->got != i) r = -9998;
    return r;
}

typedef struct poster {
    px_thread_t *t;
    px_test_ops_t *sink;
    storm_t *storm;
    int slot;
    unsigned long bad;
    int first_bad;
} poster_t;

static void note(poster_t *p, int r)
{
    if (r == 0) return;
    if (!p->bad) p->first_bad = r;
    p->bad++;
}

static void *poster_main(void *arg)
{
    poster_t *p = arg;
    storm_target(p->storm, p->slot, px_test_gettid());
    mark_t m = {.sink = p->sink, .got = -1};
    for (int i = 0; i < CALLS; i++) {
        note(p, call_marked(p->t, &m, i));                /* a plain thread sleeps on its request */
        note(p, px_post(p->t, px_test_on_post, p->sink)); /* the ring is tiny: waits for space */
        int r;
        while ((r = px_try_post(p->t, px_test_on_try_post, p->sink)) == -EAGAIN) sched_yield();
        note(p, r);
    }
    storm_target(p->storm, p->slot, 0);
    return NULL;
}

static void run_storm(px_wait_t mode)
{
    storm_t storm;
    memset(&storm, 0, sizeof storm);
    px_test_thread_t storm_th;
    px_test_thread_start(&storm_th, storm_main, &storm);
    storm_target(&storm, 0, px_test_gettid()); /* the main (test) thread */
    atomic_store(&signals_seen, 0);

    /* Creation under the storm too. */
    px_thread_t *t = px_test_create(mode, 4, "storm-target");
    /* The calling executor idles ADAPTIVE: two spinning executors would take
     * both CPUs of a small machine from the callers. */
    px_thread_t *b = px_test_create(PX_WAIT_ADAPTIVE, 0, "storm-caller");
    storm_target(&storm, 1, px_thread_tid(t));
    storm_target(&storm, 2, px_thread_tid(b));
    px_test_ops_t sink;
    memset(&sink, 0, sizeof sink);
    px_test_flush(t);

    poster_t p = {.t = t, .sink = &sink, .storm = &storm, .slot = 3};
    px_test_thread_t pth;
    px_test_thread_start(&pth, poster_main, &p);
    /* An executor as a caller: it waits in px_call while being signalled. */
    px_test_caller_t ec = {.target = t, .fn = px_test_on_call, .arg = &sink, .n = 1000};
    assert_int_equal(px_post(b, px_test_caller_run, &ec), 0);

    /* At least CALLS of each, and on until 100 signals arrived during the load
     * (a starved storm thread on a busy machine must not make it vacuous). */
    unsigned long bad = 0;
    int first_bad = 0;
    unsigned long seen0 = atomic_load(&signals_seen);
    uint64_t deadline = px_test_now_ns() + 10ull * 1000000000ull;
    int n_main = 0;
    mark_t mk = {.sink = &sink, .got = -1};
    for (int i = 0;
         i < CALLS || (atomic_load(&signals_seen) - seen0 < 100 && px_test_now_ns() < deadline);
         i++, n_main++) {
        int r = call_marked(t, &mk, i); /* the main thread: an executor, parks on its own word */
        void *res = NULL;
        int rv = px_call_v(t, px_test_on_call_v, &sink, &res);
        if (rv == 0 && res != &sink) rv = -9999;
        if ((r || rv) && !bad) first_bad = r ? r : rv;
        bad += (r != 0) + (rv != 0);
    }
    px_test_thread_join(&pth);
    /* Not a flush of b: b runs a flush call nested inside px_test_caller_run
     * while it waits on t (it serves its own queue while it waits). */
    assert_true(px_test_wait_at_least(&ec.done, 1, PX_TEST_BOUND_NS));
    px_test_flush(t);
    px_stats_t s = px_test_stats(t);

    /* Destroy under the storm, too (the test thread is signalled while it waits). */
    storm_target(&storm, 1, 0);
    storm_target(&storm, 2, 0);
    px_test_destroy(b);
    px_test_destroy(t);
    atomic_store_explicit(&storm.stop, 1, memory_order_release);
    px_test_thread_join(&storm_th);

    if (bad)
        fail_msg("%s: %lu calls failed, first with %d", px_test_mode_name(mode), bad, first_bad);
    if (p.bad)
        fail_msg("%s: %lu posts failed, first with %d", px_test_mode_name(mode), p.bad,
                 p.first_bad);
    assert_int_equal(ec.bad, 0);
    assert_int_equal(sink.calls, n_main + 1000 + CALLS);
    assert_int_equal(sink.calls_v, n_main);
    assert_int_equal(sink.posts, CALLS);
    assert_int_equal(sink.try_posts, CALLS);
    assert_int_equal(s.calls, 2 * (uint64_t)n_main + 1000 + CALLS + 2);
    assert_int_equal(s.posts, 2 * CALLS);
    assert_int_equal(s.inline_calls, 0);
    /* The storm was real. */
    assert_true(storm.sent >= 100);
    assert_true(atomic_load(&signals_seen) - seen0 >= 100);
}

static struct sigaction old_action;

static int install_handler(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sa.sa_flags = 0; /* no SA_RESTART: interrupted waits return EINTR */
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGUSR1, &sa, &old_action);
}

static int restore_handler(void **state)
{
    (void)state;
    return sigaction(SIGUSR1, &old_action, NULL);
}

PX_TEST_EACH_MODE(test_signals_storm, run_storm)

/* A destroy that waits for a held executor while both are signalled. */
typedef struct dtor {
    px_thread_t *t;
    storm_t *storm;
    int rc;
} dtor_t;

static void *dtor_main(void *arg)
{
    dtor_t *d = arg;
    storm_target(d->storm, 1, px_test_gettid());
    d->rc = px_thread_destroy(d->t);
    storm_target(d->storm, 1, 0);
    return NULL;
}

static void test_signals_storm_during_destroy(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        storm_t storm;
        memset(&storm, 0, sizeof storm);
        px_test_thread_t storm_th;
        px_test_thread_start(&storm_th, storm_main, &storm);
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        storm_target(&storm, 0, px_thread_tid(t));
        px_test_gate_t g;
        px_test_gate_init(&g);
        unsigned long c = 0;
        assert_int_equal(px_post(t, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));
        for (int i = 0; i < 100; i++) assert_int_equal(px_post(t, px_test_count, &c), 0);
        dtor_t d = {.t = t, .storm = &storm, .rc = 1};
        px_test_thread_t dth;
        px_test_thread_start(&dth, dtor_main, &d);
        px_test_sleep_us(
            30000); /* the destroyer waits (sleeps) for the held executor: signal it there */
        px_test_gate_open(&g);
        px_test_thread_join(&dth);
        storm_target(&storm, 0, 0);
        atomic_store_explicit(&storm.stop, 1, memory_order_release);
        px_test_thread_join(&storm_th);
        assert_int_equal(d.rc, 0);
        assert_int_equal(c, 100);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signals_storm_adaptive),
        cmocka_unit_test(test_signals_storm_spin),
        cmocka_unit_test(test_signals_storm_sleep),
        cmocka_unit_test(test_signals_storm_during_destroy),
    };
    return cmocka_run_group_tests(tests, install_handler, restore_handler);
}
