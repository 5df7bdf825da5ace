/*
 * Executor life cycle (and the read-only accessors):
 * px_thread_destroy refuses new work while it runs, runs everything accepted
 * exactly once, releases blocked producers, refuses its own thread, works from
 * inside a call on another executor; px_thread_stats counters; names.
 */
#include "px_test.h"

#include <ctype.h>

#include "executor.h" /* px_thread.space_waiters / tail: to know producers are blocked */

/* ---- create / destroy basics ------------------------------------------------- */

static void test_lifecycle_create_destroy_repeatedly(void **state)
{
    (void)state;
    for (int i = 0; i < 60; i++) {
        px_wait_t w = px_test_modes[i % PX_TEST_NMODES];
        px_thread_t *t = px_test_create(w, (unsigned)(i % 5), NULL);
        if (i % 2) px_test_flush(t);           /* half used once, half never used */
        if (i % 3 == 0) px_test_sleep_us(200); /* let a SLEEP/ADAPTIVE one park */
        px_test_destroy(t);
    }
}

static void create_destroy_inside(void *arg)
{
    int *rc = arg;
    px_thread_t *t = NULL;
    rc[0] = px_thread_create(&t, NULL);
    if (rc[0]) return;
    rc[1] = px_call(t, px_test_noop, NULL);
    rc[2] = px_thread_destroy(t);
}

/* Create and destroy from inside a call running on another executor. */
static void test_lifecycle_create_destroy_inside_call(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *a = px_test_create(px_test_modes[m], 0, NULL);
        int rc[3] = {1, 1, 1};
        assert_int_equal(px_call(a, create_destroy_inside, rc), 0);
        assert_int_equal(rc[0], 0);
        assert_int_equal(rc[1], 0);
        assert_int_equal(rc[2], 0);
        px_test_destroy(a);
    }
}

/* ---- destroy with queued work ---------------------------------------------------- */

#define QUEUED 1000
#define LATE_MAX 100000

typedef struct queued {
    uint8_t ran[QUEUED];        /* runs per queued item (executor writes) */
    unsigned long late_ran;     /* runs of items accepted while destroy started */
    unsigned long rejected_ran; /* must stay 0 */
    px_thread_t *t;
    px_test_thread_t destroyer;
    int destroy_rc;
} queued_t;

static queued_t *cur; /* the fixture of the running test (items find it here) */

static void run_item(void *arg) { cur->ran[(uintptr_t)arg]++; }
static void run_late(void *arg)
{
    (void)arg;
    cur->late_ran++;
}
static void run_rejected(void *arg)
{
    (void)arg;
    cur->rejected_ran++;
}
static void *run_rejected_v(void *arg)
{
    run_rejected(arg);
    return NULL;
}

static void *destroyer_main(void *arg)
{
    queued_t *q = arg;
    q->destroy_rc = px_thread_destroy(q->t);
    return NULL;
}

static void test_lifecycle_destroy_runs_accepted_work_once(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        static queued_t q;
        memset(&q, 0, sizeof q);
        cur = &q;
        q.t = px_test_create(px_test_modes[m], 2048, "doomed");
        q.destroy_rc = 1;
        px_test_gate_t g;
        px_test_gate_init(&g);
        assert_int_equal(px_post(q.t, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));
        for (uintptr_t i = 0; i < QUEUED; i++)
            assert_int_equal(px_post(q.t, run_item, (void *)i), 0);

        /* Destroy from another thread while the executor is still held. */
        px_test_thread_start(&q.destroyer, destroyer_main, &q);
        /* Until the gate closes, posts are accepted (and must run); after, refused.
         * t cannot be freed meanwhile: destroy waits for the held executor. */
        unsigned long late = 0;
        int r;
        for (;;) {
            r = px_try_post(q.t, run_late, NULL);
            if (r == 0) late++;
            else if (r != -EAGAIN) break; /* -EAGAIN: full, not accepted; try again */
            if (late > LATE_MAX) break;
            px_test_sleep_us(r == 0 ? 0 : 100);
        }
        assert_int_equal(r, -ESHUTDOWN);
        assert_true(strlen(px_last_error()) > 0);
        assert_int_equal(px_post(q.t, run_rejected, NULL), -ESHUTDOWN);
        assert_int_equal(px_try_post(q.t, run_rejected, NULL), -ESHUTDOWN);
        assert_int_equal(px_call(q.t, run_rejected, NULL), -ESHUTDOWN);
        void *res = (void *)&q;
        assert_int_equal(px_call_v(q.t, run_rejected_v, NULL, &res), -ESHUTDOWN);
        assert_ptr_equal(res, &q); /* untouched on failure */
        assert_int_equal(px_thread_destroy(q.t), -EALREADY);
        assert_int_equal(atomic_load(&q.destroyer.done), 0); /* still waiting for the executor */

        px_test_gate_open(&g);
        px_test_thread_join(&q.destroyer);
        assert_int_equal(q.destroy_rc, 0);
        for (unsigned i = 0; i < QUEUED; i++) {
            if (q.ran[i] != 1)
                fail_msg("%s: queued item %u ran %u times", px_test_mode_name(px_test_modes[m]), i,
                         q.ran[i]);
        }
        assert_int_equal(q.late_ran, late);
        assert_int_equal(q.rejected_ran, 0);
        assert_int_equal(atomic_load(&g.timed_out), 0);
    }
}

/* Producers blocked on a full ring are released by destroy with -ESHUTDOWN;
 * a caller whose call was accepted gets it run and returns 0. */
typedef struct blocked {
    px_thread_t *t;
    int kind; /* 0 post, 1 call, 2 call_v */
    int rc;
    unsigned long *ran;
} blocked_t;

static void mark_ran(void *arg) { ++*(unsigned long *)arg; }
static void *mark_ran_v(void *arg)
{
    mark_ran(arg);
    return arg;
}

static void *blocked_main(void *arg)
{
    blocked_t *b = arg;
    switch (b->kind) {
    case 0: b->rc = px_post(b->t, mark_ran, b->ran); break;
    case 1: b->rc = px_call(b->t, mark_ran, b->ran); break;
    default: {
        void *res = NULL;
        b->rc = px_call_v(b->t, mark_ran_v, b->ran, &res);
        if (b->rc == 0 && res != b->ran) b->rc = -9999;
    }
    }
    return NULL;
}

/* An executor that posts to the full ring from inside a post it runs. */
typedef struct exec_poster {
    px_thread_t *t;
    unsigned long *ran;
    int rc;
    _Atomic int done;
} exec_poster_t;

static void exec_post(void *arg)
{
    exec_poster_t *e = arg;
    e->rc = px_post(e->t, mark_ran, e->ran);
    atomic_store_explicit(&e->done, 1, memory_order_release);
}

static bool has_space_waiters(void *arg)
{
    px_thread_t *t = arg;
    return atomic_load(&t->space_waiters) >= 3;
}

static bool has_queued(void *arg)
{
    px_thread_t *t = arg;
    return atomic_load(&t->tail) - atomic_load(&t->head) >= 1;
}

typedef struct dtor {
    px_thread_t *t;
    int rc;
} dtor_t;

static void *dtor_main(void *arg)
{
    dtor_t *d = arg;
    d->rc = px_thread_destroy(d->t);
    return NULL;
}

static void test_lifecycle_destroy_releases_blocked_producers(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 4, "full");
        px_thread_t *ex = px_test_create(px_test_modes[m], 0, "poster");
        px_test_gate_t g;
        px_test_gate_init(&g);
        assert_int_equal(px_post(t, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));

        /* An accepted call, blocked waiting for its result. */
        unsigned long accepted_ran = 0;
        blocked_t acc = {.t = t, .kind = 1, .rc = 1, .ran = &accepted_ran};
        px_test_thread_t acc_th;
        px_test_thread_start(&acc_th, blocked_main, &acc);
        assert_true(px_test_wait_until(has_queued, t, PX_TEST_BOUND_NS));
        /* Fill the rest. */
        unsigned long fills_ran = 0;
        int fills = 0;
        while (px_try_post(t, mark_ran, &fills_ran) == 0) fills++;
        assert_int_equal(fills, 3);

        /* Three plain producers blocked for space, and an executor. */
        unsigned long rejected_ran = 0;
        blocked_t bl[3];
        px_test_thread_t bl_th[3];
        for (int i = 0; i < 3; i++) {
            bl[i] = (blocked_t){.t = t, .kind = i, .rc = 1, .ran = &rejected_ran};
            px_test_thread_start(&bl_th[i], blocked_main, &bl[i]);
        }
        assert_true(px_test_wait_until(has_space_waiters, t, PX_TEST_BOUND_NS));
        exec_poster_t ep = {.t = t, .ran = &rejected_ran, .rc = 1};
        atomic_init(&ep.done, 0);
        assert_int_equal(px_post(ex, exec_post, &ep), 0);
        px_test_sleep_us(5000);

        dtor_t d = {.t = t, .rc = 1};
        px_test_thread_t d_th;
        px_test_thread_start(&d_th, dtor_main, &d);
        /* The blocked producers come back -ESHUTDOWN while the executor is
         * still held: destroy released them, not free space. */
        for (int i = 0; i < 3; i++) px_test_thread_join(&bl_th[i]);
        assert_true(px_test_wait_at_least(&ep.done, 1, PX_TEST_BOUND_NS));
        for (int i = 0; i < 3; i++) assert_int_equal(bl[i].rc, -ESHUTDOWN);
        assert_int_equal(ep.rc, -ESHUTDOWN);
        assert_int_equal(atomic_load(&d_th.done), 0);
        assert_int_equal(atomic_load(&acc_th.done), 0);

        px_test_gate_open(&g);
        px_test_thread_join(&d_th);
        px_test_thread_join(&acc_th);
        assert_int_equal(d.rc, 0);
        assert_int_equal(acc.rc, 0);
        assert_int_equal(accepted_ran, 1);
        assert_int_equal(fills_ran, 3);
        px_test_flush(ex); /* exec_post finished writing */
        assert_int_equal(rejected_ran, 0);
        px_test_destroy(ex);
    }
}

/* On its own thread: -EDEADLK and nothing changes. */
typedef struct self_destroy {
    px_thread_t *t;
    int rc;
    char err[256];
} self_destroy_t;

static void destroy_self(void *arg)
{
    self_destroy_t *s = arg;
    s->rc = px_thread_destroy(s->t);
    snprintf(s->err, sizeof s->err, "%s", px_last_error());
}

static void test_lifecycle_destroy_on_own_thread(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        self_destroy_t s = {.t = t, .rc = 1};
        assert_int_equal(px_call(t, destroy_self, &s), 0);
        assert_int_equal(s.rc, -EDEADLK);
        assert_true(strlen(s.err) > 0);
        /* As a post too. */
        s.rc = 1;
        assert_int_equal(px_post(t, destroy_self, &s), 0);
        px_test_flush(t);
        assert_int_equal(s.rc, -EDEADLK);
        /* Unchanged: it still takes work. */
        unsigned long c = 0;
        assert_int_equal(px_post(t, px_test_count, &c), 0);
        assert_int_equal(px_call(t, px_test_count, &c), 0);
        assert_int_equal(c, 2);
        px_test_destroy(t);
    }
}

/* Destroy B from inside a call on A while B's queued work calls A: A keeps
 * serving its own queue while it waits for B. */
typedef struct cross {
    px_thread_t *a, *b;
    int destroy_rc;
    unsigned long b_items; /* on B */
    long a_tids[8];        /* on A: tid of the calls B made into A */
    int a_calls;
    int rc_from_b[8];
    _Atomic int destroying;
} cross_t;

static void on_a_from_b(void *arg)
{
    cross_t *x = arg;
    x->a_tids[x->a_calls++] = px_test_gettid();
}

static void b_item(void *arg)
{
    cross_t *x = arg;
    unsigned long k = x->b_items++;
    if (k % 100 == 50 && k / 100 < 8) x->rc_from_b[k / 100] = px_call(x->a, on_a_from_b, x);
}

static void a_destroys_b(void *arg)
{
    cross_t *x = arg;
    atomic_store(&x->destroying, 1);
    x->destroy_rc = px_thread_destroy(x->b);
}

static void *call_a_destroy(void *arg)
{
    cross_t *x = arg;
    int r = px_call(x->a, a_destroys_b, x);
    if (r) x->destroy_rc = r;
    return NULL;
}

static void test_lifecycle_destroy_from_another_executor(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        cross_t x;
        memset(&x, 0, sizeof x);
        x.destroy_rc = 1;
        for (int i = 0; i < 8; i++) x.rc_from_b[i] = 1;
        x.a = px_test_create(px_test_modes[m], 0, "cross-a");
        x.b = px_test_create(px_test_modes[m], 0, "cross-b");
        px_test_gate_t g;
        px_test_gate_init(&g);
        assert_int_equal(px_post(x.b, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));
        for (int i = 0; i < 800; i++) assert_int_equal(px_post(x.b, b_item, &x), 0);

        px_test_thread_t th;
        px_test_thread_start(&th, call_a_destroy, &x);
        assert_true(px_test_wait_at_least(&x.destroying, 1, PX_TEST_BOUND_NS));
        int r;
        while ((r = px_try_post(x.b, px_test_noop, NULL)) == 0) sched_yield(); /* accepted: runs */
        assert_int_equal(r, -ESHUTDOWN); /* B's gate is closed: A is inside destroy */
        px_test_gate_open(&g);
        px_test_thread_join(&th);
        assert_int_equal(x.destroy_rc, 0);
        assert_int_equal(x.b_items, 800);
        assert_int_equal(x.a_calls, 8);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(x.rc_from_b[i], 0);
            assert_int_equal(x.a_tids[i], px_thread_tid(x.a));
        }
        /* A still serves. */
        unsigned long c = 0;
        assert_int_equal(px_call(x.a, px_test_count, &c), 0);
        assert_int_equal(c, 1);
        px_test_destroy(x.a);
    }
}

/* ---- px_thread_stats ----------------------------------------------------------- */

static void three_inline(void *arg)
{
    px_thread_t *t = arg;
    for (int i = 0; i < 3; i++) px_call(t, px_test_noop, NULL);
}

static volatile unsigned long burn_sink;

static void burn_cpu(void *arg)
{
    (void)arg;
    struct timespec ts;
    uint64_t start;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    start = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    for (;;) {
        for (int i = 0; i < 10000; i++) burn_sink += (unsigned long)i;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        if ((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - start > 2000000) break;
    }
}

static void *count_v(void *arg)
{
    px_test_count(arg);
    return arg;
}

static void test_lifecycle_stats_counts_exact(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        px_stats_t s = px_test_stats(t);
        assert_int_equal(s.calls, 0);
        assert_int_equal(s.posts, 0);
        assert_int_equal(s.inline_calls, 0);
        assert_int_equal(s.max_depth, 0);
        if (px_test_modes[m] == PX_WAIT_SPIN) assert_int_equal(s.parks, 0);

        unsigned long c = 0;
        for (int i = 0; i < 10; i++) assert_int_equal(px_call(t, px_test_count, &c), 0);
        for (int i = 0; i < 5; i++) assert_int_equal(px_post(t, px_test_count, &c), 0);
        for (int i = 0; i < 4; i++) assert_int_equal(px_try_post(t, px_test_count, &c), 0);
        void *res = NULL;
        for (int i = 0; i < 7; i++) assert_int_equal(px_call_v(t, count_v, &c, &res), 0);
        assert_ptr_equal(res, &c);
        assert_int_equal(px_call(t, three_inline, t), 0);
        assert_int_equal(px_call(t, burn_cpu, NULL), 0);
        assert_int_equal(c, 26);
        s = px_test_stats(t);
        assert_int_equal(s.calls, 10 + 7 + 1 + 1);
        assert_int_equal(s.posts, 9);
        assert_int_equal(s.inline_calls, 3);
        assert_true(s.max_depth >= 1);
        assert_true(s.cpu_ns >= 1000000); /* burn_cpu used 2 ms of this thread's CPU */
        if (px_test_modes[m] == PX_WAIT_SPIN) assert_int_equal(s.parks, 0);
        if (px_test_modes[m] == PX_WAIT_SPIN) assert_int_equal(s.wakes, 0);
        px_test_destroy(t);
    }
}

/* max_depth reaches what was queued on a blocked executor. */
static void test_lifecycle_stats_max_depth(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        px_test_gate_t g;
        px_test_gate_init(&g);
        assert_int_equal(px_post(t, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));
        unsigned long c = 0;
        for (int i = 0; i < 50; i++) assert_int_equal(px_post(t, px_test_count, &c), 0);
        px_test_gate_open(&g);
        px_test_flush(t);
        assert_int_equal(c, 50);
        px_stats_t s = px_test_stats(t);
        if (s.max_depth < 50)
            fail_msg("%s: max_depth %u after 50 posts queued on a blocked executor",
                     px_test_mode_name(px_test_modes[m]), s.max_depth);
        px_test_destroy(t);
    }
}

/* ---- names ---------------------------------------------------------------------- */

static void read_comm(long tid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/comm", tid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    if (!fgets(buf, (int)len, f)) buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}

static void test_lifecycle_names(void **state)
{
    (void)state;
    /* Default: "px-<n>", distinct. */
    px_thread_t *a = px_test_create(PX_WAIT_ADAPTIVE, 0, NULL);
    px_thread_t *b = px_test_create(PX_WAIT_ADAPTIVE, 0, NULL);
    const char *na = px_thread_name(a), *nb = px_thread_name(b);
    assert_non_null(na);
    assert_non_null(nb);
    assert_int_equal(strncmp(na, "px-", 3), 0);
    assert_true(strlen(na) > 3);
    for (const char *p = na + 3; *p; p++) assert_true(isdigit((unsigned char)*p));
    assert_string_not_equal(na, nb);
    char comm[64];
    read_comm(px_thread_tid(a), comm, sizeof comm);
    assert_string_equal(comm, na);

    /* Given, short. */
    px_thread_t *c = px_test_create(PX_WAIT_SLEEP, 0, "worker");
    assert_string_equal(px_thread_name(c), "worker");
    read_comm(px_thread_tid(c), comm, sizeof comm);
    assert_string_equal(comm, "worker");

    /* Given, longer than the OS keeps. */
    static const char long_name[] = "a-rather-long-executor-name-0123456789";
    char copy[sizeof long_name];
    memcpy(copy, long_name, sizeof long_name);
    px_thread_options_t o = {.size = sizeof o, .name = copy};
    px_thread_t *d = NULL;
    assert_int_equal(px_thread_create(&d, &o), 0);
    memset(copy, 'x', sizeof copy - 1); /* the executor keeps its own copy */
    assert_string_equal(px_thread_name(d), long_name);
    read_comm(px_thread_tid(d), comm, sizeof comm);
    assert_int_equal(strlen(comm), 15);
    assert_int_equal(strncmp(comm, long_name, 15), 0);

    /* Exactly 15 characters fit. */
    px_thread_t *e = px_test_create(PX_WAIT_SPIN, 0, "fifteen-chars-x");
    read_comm(px_thread_tid(e), comm, sizeof comm);
    assert_string_equal(comm, "fifteen-chars-x");
    assert_string_equal(px_thread_name(e), "fifteen-chars-x");

    assert_string_equal(px_thread_name(px_mainthread()), "main");
    px_test_destroy(a);
    px_test_destroy(b);
    px_test_destroy(c);
    px_test_destroy(d);
    px_test_destroy(e);
}

static void tid_inside(void *arg) { *(long *)arg = px_test_gettid(); }

static void test_lifecycle_tid(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_ADAPTIVE, 0, NULL);
    long tid = 0;
    assert_int_equal(px_call(t, tid_inside, &tid), 0);
    assert_int_equal(px_thread_tid(t), tid);
    assert_int_not_equal(tid, px_test_gettid());
    assert_int_equal(px_thread_tid(px_mainthread()), getpid());
    px_test_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_create_destroy_repeatedly),
        cmocka_unit_test(test_lifecycle_create_destroy_inside_call),
        cmocka_unit_test(test_lifecycle_destroy_runs_accepted_work_once),
        cmocka_unit_test(test_lifecycle_destroy_releases_blocked_producers),
        cmocka_unit_test(test_lifecycle_destroy_on_own_thread),
        cmocka_unit_test(test_lifecycle_destroy_from_another_executor),
        cmocka_unit_test(test_lifecycle_stats_counts_exact),
        cmocka_unit_test(test_lifecycle_stats_max_depth),
        cmocka_unit_test(test_lifecycle_names),
        cmocka_unit_test(test_lifecycle_tid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
