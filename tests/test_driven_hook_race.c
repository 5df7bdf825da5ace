/*
 * The wake hook's two promises under preemption, made deterministic with the
 * notify pause hook (src/wait.c, PX_TEST_HOOKS): a producer is stopped at the
 * exact point where the scheduler could preempt it.
 *
 *  - A producer that read "owner away" and was preempted before it claimed
 *    the arm must not call the hook once the owner waits inside a px_call
 *    (the flake of test_driven_wake_hook_not_while_calling_spinning).
 *  - A producer that read the old hook and was preempted before calling it:
 *    px_thread_set_wake returns only after that call, so the old ctx may be
 *    freed when it returns.
 *
 * The owner is the test thread, the main thread, serving the main executor
 * (px_mainthread, a driven executor); assertions only on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor.h"
#include "pinexec.h"

#define BOUND_NS (10ull * 1000000000ull) /* every wait here is bounded: a hang fails */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wait (bounded) until *flag != 0; false on timeout. */
static bool wait_flag(_Atomic int *flag)
{
    uint64_t end = now_ns() + BOUND_NS;
    while (!atomic_load(flag))
        if (now_ns() > end) return false;
        else sched_yield();
    return true;
}

static bool sem_wait_bounded(sem_t *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(BOUND_NS / 1000000000ull);
    while (sem_timedwait(s, &ts) != 0)
        if (errno != EINTR) return false;
    return true;
}

/* ---- the pause: only the producer thread stops, once, at the chosen point ---- */

static _Thread_local bool is_producer;
static int pause_at;
static sem_t paused, resume;

static void pause_hook(int point)
{
    if (!is_producer || point != pause_at) return;
    pause_at = 0; /* once */
    sem_post(&paused);
    sem_wait_bounded(&resume);
}

/* ---- records ------------------------------------------------------------------ */

static _Atomic long owner_tid;
static _Atomic int in_call;       /* the owner is inside px_call */
static _Atomic int calls_in_call; /* hook calls made while it was */
static _Atomic int hook1_calls, hook2_calls;
static _Atomic int post_done;

static long my_tid(void) { return (long)syscall(SYS_gettid); }

static void hook1(void *ctx)
{
    (void)ctx;
    if (my_tid() != atomic_load(&owner_tid) && atomic_load(&in_call))
        atomic_fetch_add(&calls_in_call, 1);
    atomic_fetch_add(&hook1_calls, 1);
}

static void hook2(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&hook2_calls, 1);
}

static _Atomic int items_run;
static void item(void *arg)
{
    (void)arg;
    atomic_fetch_add(&items_run, 1);
}

typedef struct producer {
    px_thread_t *t;
    int rc;
} producer_t;

static void *producer_main(void *arg)
{
    producer_t *p = arg;
    is_producer = true;
    p->rc = px_post(p->t, item, NULL);
    atomic_store(&post_done, 1);
    return NULL;
}

static void reset(int point)
{
    pause_at = point;
    atomic_store(&in_call, 0);
    atomic_store(&calls_in_call, 0);
    atomic_store(&hook1_calls, 0);
    atomic_store(&hook2_calls, 0);
    atomic_store(&post_done, 0);
    atomic_store(&items_run, 0);
    atomic_store(&owner_tid, my_tid());
    sem_init(&paused, 0, 0);
    sem_init(&resume, 0, 0);
    px__test_notify_pause = pause_hook;
}

/* ---- 1: no hook call from inside the owner's wait ------------------------------ */

/* Runs on the other executor while the owner waits in px_call: lets the
 * paused producer go on and waits until its px_post returned. */
static void *release_producer(void *arg)
{
    (void)arg;
    sem_post(&resume);
    return (void *)(intptr_t)wait_flag(&post_done);
}

static void test_hook_not_inside_owner_wait(void **state)
{
    (void)state;
    reset(PX__PAUSE_AWAY);
    px_thread_t *owner = px_mainthread(), *other = NULL;
    px_thread_options_t o = {.size = sizeof o, .name = "other"};
    assert_int_equal(px_thread_create(&other, &o), 0);
    assert_int_equal(px_thread_set_wake(owner, hook1, NULL), 0);
    assert_int_equal(px_drain(owner, 0), 0); /* armed, nothing queued */

    producer_t p = {.t = owner};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, producer_main, &p), 0);
    /* The producer published, read "away", and stopped before the arm. */
    assert_true(sem_wait_bounded(&paused));
    atomic_store(&in_call, 1);
    void *ok = NULL;
    assert_int_equal(px_call_v(other, release_producer, NULL, &ok), 0);
    atomic_store(&in_call, 0);
    assert_true(ok != NULL); /* the producer finished while we waited */
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(p.rc, 0);

    assert_int_equal(atomic_load(&calls_in_call), 0);
    /* Nothing lost: the owner ran the item while it waited (it serves its own
     * queue meanwhile), or, had it not, fired the hook on leaving the wait
     * and the drain runs it. */
    int ran_in_wait = atomic_load(&items_run);
    assert_in_range(atomic_load(&hook1_calls), 0, 1);
    assert_int_equal(ran_in_wait + px_drain(owner, 0), 1);
    assert_int_equal(atomic_load(&items_run), 1);

    px__test_notify_pause = NULL;
    assert_int_equal(px_thread_destroy(other), 0);
    assert_int_equal(px_thread_set_wake(owner, NULL, NULL), 0);
}

/* ---- 2: px_thread_set_wake waits for a caller of the old hook -------------------- */

static void *release_later(void *arg)
{
    (void)arg;
    struct timespec d = {0, 50 * 1000000L}; /* let set_wake reach its wait */
    nanosleep(&d, NULL);
    sem_post(&resume);
    return NULL;
}

static void test_set_wake_waits_for_old_hook(void **state)
{
    (void)state;
    reset(PX__PAUSE_HOOK);
    px_thread_t *owner = px_mainthread();
    assert_int_equal(px_thread_set_wake(owner, hook1, NULL), 0);
    assert_int_equal(px_drain(owner, 0), 0);

    producer_t p = {.t = owner};
    pthread_t th, rel;
    assert_int_equal(pthread_create(&th, NULL, producer_main, &p), 0);
    /* The producer claimed the arm and read hook1; it has not called it. */
    assert_true(sem_wait_bounded(&paused));
    assert_int_equal(atomic_load(&hook1_calls), 0);
    assert_int_equal(pthread_create(&rel, NULL, release_later, NULL), 0);
    assert_int_equal(px_thread_set_wake(owner, hook2, NULL), 0);
    /* When set_wake returns, the old hook's call is over: its ctx may go. */
    int at_return = atomic_load(&hook1_calls);
    assert_int_equal(pthread_join(rel, NULL), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(p.rc, 0);
    assert_int_equal(at_return, 1);
    assert_int_equal(atomic_load(&hook1_calls), 1);

    px__test_notify_pause = NULL;
    assert_int_equal(px_drain(owner, 0), 1);
    assert_int_equal(px_thread_set_wake(owner, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_not_inside_owner_wait),
        cmocka_unit_test(test_set_wake_waits_for_old_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
