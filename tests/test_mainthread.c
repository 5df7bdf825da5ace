/*
 * The main-thread executor: px_main, px_mainthread,
 * px_is_main_thread.
 *
 * px_main runs once per process and only on the main thread, so each scenario
 * that serves the main executor runs in a fresh process: the cmocka test
 * re-executes this binary as `/proc/self/exe <scenario>` (spawn_helper.h) and
 * checks the exit status and the "ok <scenario>" line. Scenario code checks
 * with CHILD_CHECK on the main thread; other threads only record.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

#include "alloc_count.h" /* scenario "alloc": bench/alloc_count.c, shared with test_alloc */
#include "executor.h"
#include "pinexec.h"
#include "spawn_helper.h"

/* ---- small helpers --------------------------------------------------------- */

static long my_tid(void) { return (long)syscall(SYS_gettid); }

static px_thread_t *M; /* px_mainthread(), set by main() */

static struct px_thread *main_internal(void) { return (struct px_thread *)px_mainthread(); }

static uint64_t queued_on_main(void)
{
    struct px_thread *m = main_internal();
    return atomic_load(&m->tail) - atomic_load(&m->head);
}

static bool main_gate_closed(void) { return atomic_load(&main_internal()->gate) & PX__GATE_CLOSED; }

static void start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    CHILD_CHECK_INT(pthread_create(th, NULL, fn, arg), 0);
}

static void run_thread(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    start_thread(&th, fn, arg);
    pthread_join(th, NULL);
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* A function that records how often and where it ran. */
typedef struct ran {
    _Atomic int n;
    _Atomic long tid;
    _Atomic int order; /* value of order_clock when it ran */
} ran_t;

static _Atomic int order_clock;

static void mark(void *arg)
{
    ran_t *r = arg;
    atomic_store(&r->tid, my_tid());
    atomic_store(&r->order, atomic_fetch_add(&order_clock, 1));
    atomic_fetch_add(&r->n, 1);
}

static void check_ran_once_on_main(ran_t *r)
{
    CHILD_CHECK_INT(atomic_load(&r->n), 1);
    CHILD_CHECK_INT(atomic_load(&r->tid), getpid());
}

static void nop(void *arg) { (void)arg; }
static void *ident(void *arg) { return arg; }

/* ---- scenario eperm: px_main off the main thread starts nothing ------------ */

static _Atomic int app_runs;

static int app_count(void *arg)
{
    atomic_fetch_add(&app_runs, 1);
    return (int)(intptr_t)arg;
}

typedef struct try_main {
    int rc;
    bool is_main;
    int threads_before, threads_after;
    char err[256];
} try_main_t;

static void try_px_main(void *arg)
{
    try_main_t *t = arg;
    t->is_main = px_is_main_thread();
    t->threads_before = count_threads();
    t->rc = px_main(app_count, (void *)(intptr_t)99);
    t->threads_after = count_threads();
    snprintf(t->err, sizeof t->err, "%s", px_last_error());
}

static void *thread_try_px_main(void *arg)
{
    try_px_main(arg);
    return NULL;
}

static void *attached_try_px_main(void *arg)
{
    px_thread_t *a = NULL;
    if (px_thread_attach(&a, NULL) != 0) return NULL; /* rc stays 0: the check fails */
    try_px_main(arg);
    px_thread_detach(a);
    return NULL;
}

static void check_eperm(const try_main_t *t)
{
    CHILD_CHECK_INT(t->rc, -EPERM);
    CHILD_CHECK(!t->is_main);
    CHILD_CHECK_INT(t->threads_after, t->threads_before); /* no application thread started */
    CHILD_CHECK(strstr(t->err, "main thread") != NULL);
}

static int scenario_eperm(void)
{
    try_main_t w = {0};
    run_thread(thread_try_px_main, &w);
    check_eperm(&w);

    px_thread_t *e;
    CHILD_CHECK_INT(px_thread_create(&e, NULL), 0);
    try_main_t c = {0};
    CHILD_CHECK_INT(px_call(e, try_px_main, &c), 0);
    check_eperm(&c);
    CHILD_CHECK_INT(px_thread_destroy(e), 0);

    try_main_t a = {0};
    run_thread(attached_try_px_main, &a);
    check_eperm(&a);

    CHILD_CHECK_INT(atomic_load(&app_runs), 0);
    CHILD_CHECK(!main_gate_closed());
    CHILD_CHECK_INT(px_main(NULL, NULL), -EINVAL);

    /* Nothing was started or consumed: px_main still works, once. */
    CHILD_CHECK(px_is_main_thread());
    CHILD_CHECK_INT(px_main(app_count, (void *)42), 42);
    CHILD_CHECK_INT(atomic_load(&app_runs), 1);
    return 0;
}

/* ---- scenario early: work queued before serving starts --------------------- */

static ran_t early_post, early_call, early_callv, early_app;
static int w1_post_rc = 1, w1_call_rc = 1, w2_rc = 1;
static _Atomic int w1_returned;
static void *w2_result;

static void *early_callv_fn(void *arg)
{
    mark(&early_callv);
    return (char *)arg + 1;
}

static void *early_worker1(void *arg)
{
    (void)arg;
    w1_post_rc = px_post(M, mark, &early_post);
    w1_call_rc = px_call(M, mark, &early_call);
    atomic_store(&w1_returned, 1);
    return NULL;
}

static void *early_worker2(void *arg)
{
    (void)arg;
    w2_rc = px_call_v(M, early_callv_fn, (void *)0x1000, &w2_result);
    return NULL;
}

static int app_early(void *arg)
{
    (void)arg;
    return px_call(M, mark, &early_app) == 0 ? 5 : -1;
}

static int scenario_early(void)
{
    pthread_t w1, w2;
    start_thread(&w1, early_worker1, NULL);
    start_thread(&w2, early_worker2, NULL);
    while (queued_on_main() < 3) sched_yield();
    /* The main thread is not serving: nothing runs, the caller keeps waiting. */
    usleep(20000);
    CHILD_CHECK_INT(queued_on_main(), 3);
    CHILD_CHECK_INT(
        atomic_load(&early_post.n) + atomic_load(&early_call.n) + atomic_load(&early_callv.n), 0);
    CHILD_CHECK_INT(atomic_load(&w1_returned), 0);

    CHILD_CHECK_INT(px_main(app_early, NULL), 5);
    pthread_join(w1, NULL);
    pthread_join(w2, NULL);
    CHILD_CHECK_INT(w1_post_rc, 0);
    CHILD_CHECK_INT(w1_call_rc, 0);
    CHILD_CHECK_INT(w2_rc, 0);
    CHILD_CHECK(w2_result == (void *)0x1001);
    check_ran_once_on_main(&early_post);
    check_ran_once_on_main(&early_call);
    check_ran_once_on_main(&early_callv);
    check_ran_once_on_main(&early_app);
    CHILD_CHECK(atomic_load(&early_post.order) <
                atomic_load(&early_call.order)); /* one producer: FIFO */
    CHILD_CHECK(atomic_load(&early_app.order) > atomic_load(&early_call.order));
    return 0;
}

/* ---- scenario after: everything refuses once px_main returned -------------- */

static _Atomic int after_runs;
static void after_fn(void *arg)
{
    (void)arg;
    atomic_fetch_add(&after_runs, 1);
}
static void *after_fn_v(void *arg)
{
    atomic_fetch_add(&after_runs, 1);
    return arg;
}
static int app_three(void *arg)
{
    (void)arg;
    return 3;
}

typedef struct shut_rec {
    int call, call_v, post, try_post, drain, serve, serve0, pmain;
    bool result_untouched;
} shut_rec_t;

static void try_all(void *arg)
{
    shut_rec_t *s = arg;
    s->call = px_call(M, after_fn, NULL);
    void *res = (void *)0x77;
    s->call_v = px_call_v(M, after_fn_v, NULL, &res);
    s->result_untouched = res == (void *)0x77;
    s->post = px_post(M, after_fn, NULL);
    s->try_post = px_try_post(M, after_fn, NULL);
    s->drain = px_drain(M, 0);
    s->serve = px_serve(M, -1); /* must not wait */
    s->serve0 = px_serve(M, 0);
    s->pmain = px_main(app_three, NULL);
}

static void *thread_try_all(void *arg)
{
    try_all(arg);
    return NULL;
}

static int attach_rc = 1;
static void *attached_try_all(void *arg)
{
    px_thread_t *a = NULL;
    attach_rc = px_thread_attach(&a, NULL);
    if (attach_rc == 0) {
        try_all(arg);
        px_thread_detach(a);
    }
    return NULL;
}

static void check_refused_elsewhere(const shut_rec_t *s)
{
    CHILD_CHECK_INT(s->call, -ESHUTDOWN);
    CHILD_CHECK_INT(s->call_v, -ESHUTDOWN);
    CHILD_CHECK(s->result_untouched);
    CHILD_CHECK_INT(s->post, -ESHUTDOWN);
    CHILD_CHECK_INT(s->try_post, -ESHUTDOWN);
    CHILD_CHECK_INT(s->drain, -EPERM); /* not the owner */
    CHILD_CHECK_INT(s->serve, -EPERM);
    CHILD_CHECK_INT(s->serve0, -EPERM);
    CHILD_CHECK_INT(s->pmain, -EPERM);
}

static int flood_rcs_not_shutdown;
static void *flood_refused(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++)
        if (px_post(M, after_fn, NULL) != -ESHUTDOWN) flood_rcs_not_shutdown++;
    return NULL;
}

static int scenario_after(void)
{
    CHILD_CHECK_INT(px_main(app_three, NULL), 3);
    CHILD_CHECK(main_gate_closed());

    shut_rec_t onmain;
    try_all(&onmain);
    CHILD_CHECK_INT(onmain.call, -ESHUTDOWN); /* the inline path refuses too */
    CHILD_CHECK_INT(onmain.call_v, -ESHUTDOWN);
    CHILD_CHECK(onmain.result_untouched);
    CHILD_CHECK_INT(onmain.post, -ESHUTDOWN);
    CHILD_CHECK_INT(onmain.try_post, -ESHUTDOWN);
    CHILD_CHECK_INT(onmain.drain, -ESHUTDOWN);
    CHILD_CHECK_INT(onmain.serve, -ESHUTDOWN);
    CHILD_CHECK_INT(onmain.serve0, -ESHUTDOWN);
    CHILD_CHECK_INT(onmain.pmain, -ESHUTDOWN);

    shut_rec_t worker;
    run_thread(thread_try_all, &worker);
    check_refused_elsewhere(&worker);

    px_thread_t *e;
    CHILD_CHECK_INT(px_thread_create(&e, NULL), 0);
    shut_rec_t created;
    CHILD_CHECK_INT(px_call(e, try_all, &created), 0);
    check_refused_elsewhere(&created);
    CHILD_CHECK_INT(px_thread_destroy(e), 0);

    shut_rec_t attached;
    run_thread(attached_try_all, &attached);
    CHILD_CHECK_INT(attach_rc, 0);
    check_refused_elsewhere(&attached);

    /* More posts than the ring holds: refused at once, never waiting for space. */
    run_thread(flood_refused, NULL);
    CHILD_CHECK_INT(flood_rcs_not_shutdown, 0);

    CHILD_CHECK_INT(atomic_load(&after_runs), 0);
    CHILD_CHECK(px_mainthread() == M && M != NULL);
    CHILD_CHECK(px_thread_current() == M);
    CHILD_CHECK(px_is_main_thread());
    CHILD_CHECK_INT(px_thread_detach(M), -EINVAL);
    CHILD_CHECK_INT(px_thread_destroy(M), -EINVAL);
    return 0;
}

/* ---- scenarios nested and return_under_load: px_main while producers flood ---
 *
 * A flooder posts to the main executor until it is refused. Each item calls
 * px_main (-EBUSY, whether it runs in a served batch or in px_main's final
 * drain), then waits until the flooder has refilled the ring (closed loop:
 * the ring stays at least half full while the gate is open and the flooder
 * lives). The application returns in the middle of the flood. Safety valve:
 * the flooder stops by itself after FLOOD_CAP posts accepted after the
 * application returned, so a px_main that does not stop serving new work
 * still ends (and the check on flood_after reports it). */

#define FLOOD_CAP (32L * PX_CAPACITY_DEFAULT)

static _Atomic int app2_runs;
static int app2(void *arg)
{
    (void)arg;
    atomic_fetch_add(&app2_runs, 1);
    return 0;
}

static _Atomic int app_returning;
static _Atomic long flood_accepted, flood_after, flood_ran, flood_not_busy, flood_off_main,
    flood_in_drain;
static _Atomic int flood_capped, flood_exited;
static int flood_last_rc;

static void flood_item(void *arg)
{
    (void)arg;
    if (px_main(app2, NULL) != -EBUSY) atomic_fetch_add(&flood_not_busy, 1);
    if (my_tid() != getpid()) atomic_fetch_add(&flood_off_main, 1);
    if (main_gate_closed()) atomic_fetch_add(&flood_in_drain, 1);
    long k = atomic_fetch_add(&flood_ran, 1) + 1;
    while (!atomic_load(&flood_exited) && !main_gate_closed() &&
           atomic_load(&flood_accepted) <= k + PX_CAPACITY_DEFAULT / 2)
        sched_yield();
}

static void *flooder(void *arg)
{
    (void)arg;
    for (;;) {
        bool after = atomic_load(&app_returning);
        if (after && atomic_load(&flood_after) >= FLOOD_CAP) {
            atomic_store(&flood_capped, 1);
            atomic_store(&flood_exited, 1);
            return NULL;
        }
        int r = px_post(M, flood_item, NULL);
        if (r != 0) {
            flood_last_rc = r;
            atomic_store(&flood_exited, 1);
            return NULL;
        }
        atomic_fetch_add(&flood_accepted, 1);
        if (after) atomic_fetch_add(&flood_after, 1);
    }
}

static pthread_t flooder_th;

/* Start the flood, let the ring fill up, return in the middle of it. */
static int app_flood(int result)
{
    if (pthread_create(&flooder_th, NULL, flooder, NULL) != 0) return -1;
    while (atomic_load(&flood_accepted) < 2L * PX_CAPACITY_DEFAULT) sched_yield();
    atomic_store(&app_returning, 1);
    return result;
}

static int nested_from_app = 1, nested_inner = 1, nested_drain = -100, nested_serve = -100;
static long nested_inner_tid;

static void nested_inner_fn(void *arg)
{
    (void)arg;
    nested_inner_tid = my_tid();
    nested_inner = px_main(app2, NULL);
    nested_drain = px_drain(M, 0); /* nesting serving inside a served call is allowed */
    nested_serve = px_serve(M, 0);
}

static int app_nested(void *arg)
{
    (void)arg;
    nested_from_app = px_main(app2, NULL); /* not the main thread */
    if (px_call(M, nested_inner_fn, NULL) != 0) return -1;
    return app_flood(11);
}

static void check_flood_common(void)
{
    pthread_join(flooder_th, NULL);
    CHILD_CHECK_INT(atomic_load(&flood_ran), atomic_load(&flood_accepted)); /* each exactly once */
    CHILD_CHECK_INT(atomic_load(&flood_not_busy), 0);
    CHILD_CHECK_INT(atomic_load(&flood_off_main), 0);
    CHILD_CHECK_INT(atomic_load(&app2_runs), 0);
    CHILD_CHECK_INT(px_main(app2, NULL), -ESHUTDOWN);
    CHILD_CHECK_INT(atomic_load(&app2_runs), 0);
    printf("info: %ld posts accepted, %ld after the application returned, %ld ran in the final "
           "drain; flooder %s\n",
           atomic_load(&flood_accepted), atomic_load(&flood_after), atomic_load(&flood_in_drain),
           atomic_load(&flood_capped) ? "stopped by the safety valve" : "refused");
}

static int scenario_nested(void)
{
    CHILD_CHECK_INT(px_main(app_nested, NULL), 11);
    CHILD_CHECK_INT(nested_from_app, -EPERM);
    CHILD_CHECK_INT(nested_inner, -EBUSY);
    CHILD_CHECK_INT(nested_inner_tid, getpid());
    CHILD_CHECK(nested_drain >= 0);
    CHILD_CHECK(nested_serve >= 0);
    check_flood_common();
    if (!atomic_load(&flood_capped)) CHILD_CHECK_INT(flood_last_rc, -ESHUTDOWN);
    return 0;
}

static int app_under_load(void *arg)
{
    (void)arg;
    return app_flood(12);
}

/* px_main returns once fn returned, even while producers keep posting: it runs
 * what is queued (at most a ring's worth, plus what its last batch freed
 * room for), refuses the rest, and the flooder sees -ESHUTDOWN. */
static int scenario_return_under_load(void)
{
    CHILD_CHECK_INT(px_main(app_under_load, NULL), 12);
    check_flood_common();
    CHILD_CHECK_INT(atomic_load(&flood_capped), 0);
    CHILD_CHECK_INT(flood_last_rc, -ESHUTDOWN);
    CHILD_CHECK(atomic_load(&flood_after) <= 2L * PX_CAPACITY_DEFAULT + 64);
    CHILD_CHECK(atomic_load(&flood_in_drain) >= 1); /* the ring was full when the gate closed */
    return 0;
}

/* ---- scenario cycle: main -> worker -> main (and deeper) ------------------- */

static px_thread_t *E;
static long cyc_tid[5];
static int cyc_rc[4];

static void cyc5(void *arg)
{
    (void)arg;
    cyc_tid[4] = my_tid();
}
static void cyc4(void *arg) /* on E */
{
    (void)arg;
    cyc_tid[3] = my_tid();
    cyc_rc[3] = px_call(M, cyc5, NULL);
}
static void cyc3(void *arg) /* on main */
{
    (void)arg;
    cyc_tid[2] = my_tid();
    cyc_rc[2] = px_call(E, cyc4, NULL);
}
static void cyc2(void *arg) /* on E */
{
    (void)arg;
    cyc_tid[1] = my_tid();
    cyc_rc[1] = px_call(M, cyc3, NULL);
}
static void cyc1(void *arg) /* on main */
{
    (void)arg;
    cyc_tid[0] = my_tid();
    cyc_rc[0] = px_call(E, cyc2, NULL);
}

static void check_cycle(void)
{
    long e = px_thread_tid(E);
    long want[5] = {getpid(), e, getpid(), e, getpid()};
    for (int i = 0; i < 5; i++) CHILD_CHECK_INT(cyc_tid[i], want[i]);
    for (int i = 0; i < 4; i++) CHILD_CHECK_INT(cyc_rc[i], 0);
    memset(cyc_tid, 0, sizeof cyc_tid);
    memset(cyc_rc, 0xff, sizeof cyc_rc);
}

static int app_cycle(void *arg)
{
    (void)arg;
    return px_call(M, cyc1, NULL);
}

static int scenario_cycle(void)
{
    CHILD_CHECK_INT(px_thread_create(&E, NULL), 0);
    memset(cyc_rc, 0xff, sizeof cyc_rc);
    /* Before px_main: the main thread waiting in px_call serves its queue. */
    CHILD_CHECK_INT(px_call(M, cyc1, NULL), 0);
    check_cycle();
    /* Under px_main, started from the application thread. */
    CHILD_CHECK_INT(px_main(app_cycle, NULL), 0);
    check_cycle();
    CHILD_CHECK_INT(px_thread_destroy(E), 0);
    return 0;
}

/* ---- scenario inline: calls on the main thread to itself run at once ------- */

enum { EV_OUTER_START = 1, EV_G, EV_OUTER_END, EV_Q1, EV_Q2, EV_SYNC };
static int events[16];
static _Atomic int nevents;
static _Atomic int outer_started, queued_more;
static long g_tid;

static void ev(int e) { events[atomic_fetch_add(&nevents, 1)] = e; }
static void ev_fn(void *arg) { ev((int)(intptr_t)arg); }
static void g_fn(void *arg)
{
    (void)arg;
    g_tid = my_tid();
    ev(EV_G);
}
static void outer_fn(void *arg)
{
    (void)arg;
    ev(EV_OUTER_START);
    atomic_store(&outer_started, 1);
    while (!atomic_load(&queued_more)) sched_yield();
    px_call(M, g_fn, NULL); /* inline: before Q1 and Q2, which are queued */
    ev(EV_OUTER_END);
}

static int app_inline(void *arg)
{
    (void)arg;
    if (px_post(M, outer_fn, NULL)) return -1;
    while (!atomic_load(&outer_started)) sched_yield();
    px_post(M, ev_fn, (void *)(intptr_t)EV_Q1);
    px_post(M, ev_fn, (void *)(intptr_t)EV_Q2);
    atomic_store(&queued_more, 1);
    return px_call(M, ev_fn, (void *)(intptr_t)EV_SYNC);
}

static int scenario_inline(void)
{
    px_stats_t s0 = PX_STATS_INIT, s1 = PX_STATS_INIT, s2 = PX_STATS_INIT;
    CHILD_CHECK_INT(px_thread_stats(M, &s0), 0);
    /* Before px_main. */
    ran_t r = {0};
    CHILD_CHECK_INT(px_call(M, mark, &r), 0);
    check_ran_once_on_main(&r);
    void *res = NULL;
    CHILD_CHECK_INT(px_call_v(M, ident, (void *)7, &res), 0);
    CHILD_CHECK(res == (void *)7);
    CHILD_CHECK_INT(px_thread_stats(M, &s1), 0);
    CHILD_CHECK_INT(s1.inline_calls - s0.inline_calls, 2);
    CHILD_CHECK_INT(s1.calls - s0.calls, 0);
    /* A post from the main thread to itself is queued, not run inline. */
    ran_t p = {0};
    CHILD_CHECK_INT(px_post(M, mark, &p), 0);
    CHILD_CHECK_INT(atomic_load(&p.n), 0);
    CHILD_CHECK_INT(px_drain(M, 0), 1);
    check_ran_once_on_main(&p);

    CHILD_CHECK_INT(px_main(app_inline, NULL), 0);
    int want[] = {EV_OUTER_START, EV_G, EV_OUTER_END, EV_Q1, EV_Q2, EV_SYNC};
    CHILD_CHECK_INT(atomic_load(&nevents), 6);
    for (int i = 0; i < 6; i++) CHILD_CHECK_INT(events[i], want[i]);
    CHILD_CHECK_INT(g_tid, getpid());
    CHILD_CHECK_INT(px_thread_stats(M, &s2), 0);
    CHILD_CHECK_INT(s2.inline_calls - s1.inline_calls, 1);
    return 0;
}

/* ---- scenario fifo: per-producer FIFO to the main executor ----------------- */

#define FIFO_PRODUCERS 4 /* three threads and the application thread */
#define FIFO_N 3000
static long fifo_last[FIFO_PRODUCERS];
static long fifo_violations, fifo_runs, fifo_off_main;

static void fifo_item(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    unsigned p = (unsigned)(v >> 24);
    long seq = (long)(v & 0xffffff);
    if (seq != fifo_last[p] + 1) fifo_violations++;
    fifo_last[p] = seq;
    fifo_runs++;
    if (my_tid() != getpid()) fifo_off_main++;
}

static _Atomic int fifo_errs;
static void *fifo_producer(void *arg)
{
    uintptr_t p = (uintptr_t)arg;
    for (uintptr_t s = 0; s < FIFO_N; s++) {
        void *a = (void *)(p << 24 | s);
        int r;
        switch (s % 3) {
        case 0: r = px_call(M, fifo_item, a); break;
        case 1: r = px_post(M, fifo_item, a); break;
        default:
            while ((r = px_try_post(M, fifo_item, a)) == -EAGAIN) sched_yield();
            break;
        }
        if (r) atomic_fetch_add(&fifo_errs, 1);
    }
    return NULL;
}

static int app_fifo(void *arg)
{
    (void)arg;
    pthread_t th[FIFO_PRODUCERS - 1];
    for (uintptr_t i = 0; i < FIFO_PRODUCERS - 1; i++)
        if (pthread_create(&th[i], NULL, fifo_producer, (void *)i)) return -1;
    fifo_producer((void *)(uintptr_t)(FIFO_PRODUCERS - 1));
    for (int i = 0; i < FIFO_PRODUCERS - 1; i++) pthread_join(th[i], NULL);
    return 0;
}

static int scenario_fifo(void)
{
    for (int i = 0; i < FIFO_PRODUCERS; i++) fifo_last[i] = -1;
    CHILD_CHECK_INT(px_main(app_fifo, NULL), 0);
    CHILD_CHECK_INT(atomic_load(&fifo_errs), 0);
    CHILD_CHECK_INT(fifo_runs,
                    FIFO_PRODUCERS * FIFO_N); /* posts left at the end ran in the drain */
    CHILD_CHECK_INT(fifo_violations, 0);
    CHILD_CHECK_INT(fifo_off_main, 0);
    for (int i = 0; i < FIFO_PRODUCERS; i++) CHILD_CHECK_INT(fifo_last[i], FIFO_N - 1);
    return 0;
}

/* ---- scenario alloc: zero allocations per call to the main executor -------- */

#define ALLOC_WARMUP 2000
#define ALLOC_N 10000
static pxb_alloc_counts_t alloc_counted, alloc_control;
static int alloc_errs;

static int app_alloc(void *arg)
{
    (void)arg;
    void *res;
    for (int i = 0; i < ALLOC_WARMUP; i++) {
        px_call(M, nop, NULL);
        px_call_v(M, ident, &res, &res);
        px_post(M, nop, NULL);
    }
    px_call(M, nop, NULL);
    pxb_alloc_count_start();
    for (int i = 0; i < ALLOC_N; i++) {
        alloc_errs += px_call(M, nop, NULL) != 0;
        alloc_errs += px_call_v(M, ident, &res, &res) != 0;
        alloc_errs += px_post(M, nop, NULL) != 0;
    }
    alloc_errs += px_call(M, nop, NULL) != 0; /* the posts have run */
    pxb_alloc_count_stop(&alloc_counted);
    /* Control: the counter does see an allocation made in a window. */
    void *(*volatile alloc_fn)(size_t) = malloc;
    pxb_alloc_count_start();
    void *p = alloc_fn(64);
    pxb_alloc_count_stop(&alloc_control);
    free(p);
    return 0;
}

static int scenario_alloc(void)
{
    CHILD_CHECK(pxb_alloc_count_init() != PXB_ALLOC_COUNT_NONE);
    CHILD_CHECK_INT(px_main(app_alloc, NULL), 0);
    CHILD_CHECK_INT(alloc_errs, 0);
    CHILD_CHECK(alloc_control.allocs >= 1);
    unsigned long long n = alloc_counted.allocs;
    printf("info: %llu allocations over %d calls, %d calls with a result and %d posts\n", n,
           ALLOC_N, ALLOC_N, ALLOC_N);
    CHILD_CHECK_INT(n, 0);
    return 0;
}

/* ---- scenario dispatch ----------------------------------------------------- */

typedef struct scenario {
    const char *name;
    int (*fn)(void);
} scenario_t;

static const scenario_t scenarios[] = {
    {"eperm", scenario_eperm},
    {"early", scenario_early},
    {"after", scenario_after},
    {"nested", scenario_nested},
    {"cycle", scenario_cycle},
    {"inline", scenario_inline},
    {"fifo", scenario_fifo},
    {"alloc", scenario_alloc},
    {"return_under_load", scenario_return_under_load},
};

static int run_scenario(const char *name)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strcmp(scenarios[i].name, name) != 0) continue;
        int r = scenarios[i].fn();
        if (r == 0) printf("ok %s\n", name);
        fflush(stdout);
        return r;
    }
    fprintf(stderr, "unknown scenario %s\n", name);
    return 2;
}

/* ---- the cmocka side ------------------------------------------------------- */

static spawn_result_t child;

static void expect_scenario(const char *name)
{
    int e = spawn_self(name, SPAWN_TIMEOUT_S, &child);
    assert_int_equal(e, 0);
    char want[64];
    snprintf(want, sizeof want, "ok %s\n", name);
    bool ok = !child.timed_out && child.exited && child.status == 0 && strstr(child.out, want);
    if (!ok || strstr(child.out, "info:"))
        print_message("scenario %s: %s%s exit %d%s\n%s", name, child.timed_out ? "timed out, " : "",
                      child.signaled ? "signal" : "status", child.status, ok ? "" : " (FAILED)",
                      child.out);
    assert_false(child.timed_out);
    assert_true(child.exited);
    assert_int_equal(child.status, 0);
    assert_non_null(strstr(child.out, want));
}

/* Semantic 1 in this very process: claimed at load, right on every thread. */
typedef struct where {
    bool is_main;
    px_thread_t *main_seen, *current;
} where_t;

static void where_fn(void *arg)
{
    where_t *w = arg;
    w->is_main = px_is_main_thread();
    w->main_seen = px_mainthread();
    w->current = px_thread_current();
}
static void *where_thread(void *arg)
{
    where_fn(arg);
    return NULL;
}

static void test_mainthread_claimed_at_load(void **state)
{
    (void)state;
    px_thread_t *m = px_mainthread();
    assert_non_null(m);
    assert_true(px_is_main_thread());
    assert_ptr_equal(px_thread_current(), m);
    assert_int_equal(px_thread_tid(m), getpid());
    assert_string_equal(px_thread_name(m), "main");

    where_t w = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, where_thread, &w), 0);
    pthread_join(th, NULL);
    assert_false(w.is_main);
    assert_ptr_equal(w.main_seen, m);
    assert_null(w.current);

    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    where_t c = {0};
    assert_int_equal(px_call(e, where_fn, &c), 0);
    assert_int_equal(px_thread_destroy(e), 0);
    assert_false(c.is_main);
    assert_ptr_equal(c.main_seen, m);
    assert_ptr_equal(c.current, e);
}

static void test_mainthread_eperm_off_main(void **state)
{
    (void)state;
    expect_scenario("eperm");
}
static void test_mainthread_queued_before_serving(void **state)
{
    (void)state;
    expect_scenario("early");
}
static void test_mainthread_shutdown_after_return(void **state)
{
    (void)state;
    expect_scenario("after");
}
static void test_mainthread_nested_px_main(void **state)
{
    (void)state;
    expect_scenario("nested");
}
static void test_mainthread_returns_under_load(void **state)
{
    (void)state;
    expect_scenario("return_under_load");
}
static void test_mainthread_cycle(void **state)
{
    (void)state;
    expect_scenario("cycle");
}
static void test_mainthread_inline_self_call(void **state)
{
    (void)state;
    expect_scenario("inline");
}
static void test_mainthread_fifo(void **state)
{
    (void)state;
    expect_scenario("fifo");
}
static void test_mainthread_zero_alloc(void **state)
{
    (void)state;
    expect_scenario("alloc");
}

int main(int argc, char **argv)
{
    M = px_mainthread();
    if (argc > 1) return run_scenario(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mainthread_claimed_at_load),
        cmocka_unit_test(test_mainthread_eperm_off_main),
        cmocka_unit_test(test_mainthread_queued_before_serving),
        cmocka_unit_test(test_mainthread_shutdown_after_return),
        cmocka_unit_test(test_mainthread_nested_px_main),
        cmocka_unit_test(test_mainthread_cycle),
        cmocka_unit_test(test_mainthread_inline_self_call),
        cmocka_unit_test(test_mainthread_fifo),
        cmocka_unit_test(test_mainthread_zero_alloc),
        cmocka_unit_test(test_mainthread_returns_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
