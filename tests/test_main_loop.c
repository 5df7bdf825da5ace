/*
 * px_main_loop: the main thread served from a foreign event loop (here a
 * condition-variable loop standing in for GLFW/SDL/Cocoa). Each scenario runs
 * in a re-executed child: the main thread can be claimed once per process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include <cmocka.h>

#include "pinexec.h"
#include "spawn_helper.h"

/* ---- the foreign loop: wait() sleeps on a condvar until wake() ---------- */

typedef struct loop_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int pending_wakes; /* wake() calls not yet consumed by wait() */
    long waits, wakes, starts, stops;
    long wake_off_main; /* wake() calls made on a thread other than main */
    int start_result;
    int main_open_in_stop; /* px_call to main from stop(): expect -ESHUTDOWN */
} loop_state_t;

static loop_state_t L = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static long my_tid(void) { return (long)syscall(SYS_gettid); }

static int loop_start(void *ctx)
{
    loop_state_t *s = ctx;
    s->starts++;
    return s->start_result;
}

static void loop_wait(void *ctx)
{
    loop_state_t *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->waits++;
    while (s->pending_wakes == 0) pthread_cond_wait(&s->cond, &s->lock);
    s->pending_wakes = 0;
    pthread_mutex_unlock(&s->lock);
}

static void loop_wake(void *ctx)
{
    loop_state_t *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->wakes++;
    if (my_tid() != getpid()) s->wake_off_main++;
    s->pending_wakes++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void nop(void *arg) { (void)arg; }

static void loop_stop(void *ctx)
{
    loop_state_t *s = ctx;
    s->stops++;
    s->main_open_in_stop = px_call(px_mainthread(), nop, NULL);
}

static const px_main_loop_t LOOP = {loop_start, loop_wait, loop_wake, loop_stop, &L};

/* ---- scenario run: calls from the app and a worker land on main ---------- */

static long ran_on[64];
static _Atomic int ran_n;

static void record(void *arg)
{
    (void)arg;
    int i = atomic_fetch_add(&ran_n, 1);
    if (i < 64) ran_on[i] = my_tid();
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) CHILD_CHECK_INT(px_call(px_mainthread(), record, NULL), 0);
    return NULL;
}

static int app_calls(void *arg)
{
    (void)arg;
    CHILD_CHECK(!px_is_main_thread());
    pthread_t th;
    CHILD_CHECK_INT(pthread_create(&th, NULL, worker, NULL), 0);
    for (int i = 0; i < 20; i++) CHILD_CHECK_INT(px_call(px_mainthread(), record, NULL), 0);
    for (int i = 0; i < 10; i++) CHILD_CHECK_INT(px_post(px_mainthread(), record, NULL), 0);
    pthread_join(th, NULL);
    return 7;
}

static int scenario_run(void)
{
    CHILD_CHECK_INT(px_main_loop(app_calls, NULL, &LOOP), 7);
    CHILD_CHECK_INT(L.starts, 1);
    CHILD_CHECK_INT(L.stops, 1);
    /* Every item ran exactly once, on the main thread (posts may run in the final drain). */
    CHILD_CHECK_INT(atomic_load(&ran_n), 50);
    for (int i = 0; i < 50; i++) CHILD_CHECK_INT(ran_on[i], getpid());
    /* The loop slept and was woken from other threads. */
    CHILD_CHECK(L.waits >= 1);
    CHILD_CHECK(L.wake_off_main >= 1);
    /* The main executor was closed before stop(). */
    CHILD_CHECK_INT(L.main_open_in_stop, -ESHUTDOWN);
    /* One claim per process, shared with px_main. */
    CHILD_CHECK_INT(px_main_loop(app_calls, NULL, &LOOP), -ESHUTDOWN);
    CHILD_CHECK_INT(px_main(app_calls, NULL), -ESHUTDOWN);
    CHILD_CHECK_INT(px_post(px_mainthread(), record, NULL), -ESHUTDOWN);
    return 0;
}

/* ---- scenario nested: px_main / px_main_loop inside a served call -------- */

static int nested_rc[2];

static void claim_again(void *arg)
{
    (void)arg;
    nested_rc[0] = px_main(app_calls, NULL);
    nested_rc[1] = px_main_loop(app_calls, NULL, &LOOP);
}

static int app_nested(void *arg)
{
    (void)arg;
    CHILD_CHECK_INT(px_call(px_mainthread(), claim_again, NULL), 0);
    return 3;
}

static int scenario_nested(void)
{
    CHILD_CHECK_INT(px_main_loop(app_nested, NULL, &LOOP), 3);
    CHILD_CHECK_INT(nested_rc[0], -EBUSY);
    CHILD_CHECK_INT(nested_rc[1], -EBUSY);
    return 0;
}

/* ---- scenario start_fails: the error comes back, nothing is claimed ------ */

static _Atomic int app_ran;
static int app_mark(void *arg)
{
    (void)arg;
    atomic_fetch_add(&app_ran, 1);
    return 5;
}

static int scenario_start_fails(void)
{
    L.start_result = -ENODEV;
    CHILD_CHECK_INT(px_main_loop(app_mark, NULL, &LOOP), -ENODEV);
    CHILD_CHECK_INT(atomic_load(&app_ran), 0);
    CHILD_CHECK_INT(L.stops, 0);
    /* Still claimable: a retry (here through px_main) works. */
    CHILD_CHECK_INT(px_main(app_mark, NULL), 5);
    CHILD_CHECK_INT(atomic_load(&app_ran), 1);
    return 0;
}

/* ---- scenario bad_args ---------------------------------------------------- */

static void *off_main(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)px_main_loop(app_mark, NULL, &LOOP);
}

static int scenario_bad_args(void)
{
    px_main_loop_t no_wait = LOOP, no_wake = LOOP;
    no_wait.wait = NULL;
    no_wake.wake = NULL;
    CHILD_CHECK_INT(px_main_loop(NULL, NULL, &LOOP), -EINVAL);
    CHILD_CHECK_INT(px_main_loop(app_mark, NULL, &no_wait), -EINVAL);
    CHILD_CHECK(strstr(px_last_error(), "wait") != NULL);
    CHILD_CHECK_INT(px_main_loop(app_mark, NULL, &no_wake), -EINVAL);
    CHILD_CHECK(strstr(px_last_error(), "wake") != NULL);
    pthread_t th;
    void *res;
    CHILD_CHECK_INT(pthread_create(&th, NULL, off_main, NULL), 0);
    pthread_join(th, &res);
    CHILD_CHECK_INT((intptr_t)res, -EPERM);
    /* From inside px_drain on the main executor: refused. */
    CHILD_CHECK_INT(px_post(px_mainthread(), claim_again, NULL), 0);
    CHILD_CHECK_INT(px_drain(px_mainthread(), 0), 1);
    CHILD_CHECK_INT(nested_rc[0], -EBUSY);
    CHILD_CHECK_INT(nested_rc[1], -EBUSY);
    CHILD_CHECK_INT(L.starts, 0);
    CHILD_CHECK_INT(atomic_load(&app_ran), 0);
    return 0;
}

/* ---- cmocka side ------------------------------------------------------------ */

static void expect_ok(const char *scenario)
{
    spawn_result_t r;
    assert_int_equal(spawn_self(scenario, SPAWN_TIMEOUT_S, &r), 0);
    if (r.timed_out) fail_msg("scenario %s hung (killed after %.0f s)", scenario, SPAWN_TIMEOUT_S);
    assert_int_equal(r.exited, 1);
    assert_int_equal(r.status, 0);
    char want[64];
    snprintf(want, sizeof want, "ok %s", scenario);
    assert_non_null(strstr(r.out, want));
}

static void test_main_loop_runs_calls_on_main(void **state)
{
    (void)state;
    expect_ok("run");
}

static void test_main_loop_nested_claim_busy(void **state)
{
    (void)state;
    expect_ok("nested");
}

static void test_main_loop_start_failure_leaves_it_claimable(void **state)
{
    (void)state;
    expect_ok("start_fails");
}

static void test_main_loop_bad_arguments(void **state)
{
    (void)state;
    expect_ok("bad_args");
}

static const struct {
    const char *name;
    int (*fn)(void);
} scenarios[] = {
    {"run", scenario_run},
    {"nested", scenario_nested},
    {"start_fails", scenario_start_fails},
    {"bad_args", scenario_bad_args},
};

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
            if (strcmp(scenarios[i].name, argv[1]) != 0) continue;
            int r = scenarios[i].fn();
            if (r == 0) printf("ok %s\n", argv[1]);
            fflush(stdout);
            return r;
        }
        fprintf(stderr, "unknown scenario %s\n", argv[1]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_loop_runs_calls_on_main),
        cmocka_unit_test(test_main_loop_nested_claim_busy),
        cmocka_unit_test(test_main_loop_start_failure_leaves_it_claimable),
        cmocka_unit_test(test_main_loop_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
