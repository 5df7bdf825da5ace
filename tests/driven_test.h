/*
 * Shared harness of the driven-executor tests (tests/test_driven_*.c;
 * header-only, so every test stays one source file).
 *
 * Most cases run twice: on an executor attached by an owner thread, and on
 * px_mainthread() driven by this (main, cmocka) thread without px_main
 * (BOTH). The attached owner runs a tiny foreign "event loop": it waits on a
 * condition variable for commands from the test thread (while it waits there
 * it is away from pinexec, as a GLFW or epoll loop would be) and runs each
 * command (px_drain, px_serve, ...) on its own thread. Commands only record;
 * every assert_* runs on the test thread.
 */
#ifndef PX_TEST_DRIVEN_H
#define PX_TEST_DRIVEN_H

#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "executor.h"
#include "pinexec.h"

static inline long my_tid(void) { return (long)syscall(SYS_gettid); }

/* ---- the owner: the main thread, or a thread running a foreign loop -------- */

typedef struct owner owner_t;
typedef int (*owner_cmd)(owner_t *o, void *arg);

enum { OWNER_MAIN, OWNER_ATTACHED };

struct owner {
    int kind;
    px_wait_t wait; /* attached: the idle policy */
    px_thread_t *t;
    long tid;
    int attach_rc;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    owner_cmd cmd; /* pending command, NULL when idle */
    void *arg;
    int result;
    bool done, quit;
};

static inline void *owner_loop(void *arg)
{
    owner_t *o = arg;
    pthread_setname_np(pthread_self(), "drv-owner");
    o->tid = my_tid();
    px_thread_options_t opts = {.size = sizeof opts, .name = "drv", .wait = o->wait};
    o->attach_rc = px_thread_attach(&o->t, &opts);
    pthread_mutex_lock(&o->mu);
    o->done = true;
    pthread_cond_broadcast(&o->cv);
    for (;;) {
        while (o->cmd == NULL && !o->quit) pthread_cond_wait(&o->cv, &o->mu);
        if (o->cmd == NULL) break;
        owner_cmd c = o->cmd;
        pthread_mutex_unlock(&o->mu);
        int r = c(o, o->arg);
        pthread_mutex_lock(&o->mu);
        o->cmd = NULL;
        o->result = r;
        o->done = true;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* Run c(o, arg) on the owner thread and return its result. */
static inline int owner_do(owner_t *o, owner_cmd c, void *arg)
{
    if (o->kind == OWNER_MAIN) return c(o, arg);
    pthread_mutex_lock(&o->mu);
    o->done = false;
    o->arg = arg;
    o->cmd = c;
    pthread_cond_broadcast(&o->cv);
    while (!o->done) pthread_cond_wait(&o->cv, &o->mu);
    int r = o->result;
    pthread_mutex_unlock(&o->mu);
    return r;
}

static inline int cmd_drain_all(owner_t *o, void *arg)
{
    (void)arg;
    int total = 0, n;
    while ((n = px_drain(o->t, 0)) > 0) total += n;
    return n < 0 ? n : total;
}
static inline int cmd_detach(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_detach(o->t);
}
static inline int cmd_clear_wake(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_set_wake(o->t, NULL, NULL);
}

/* *state: NULL, or a px_wait_t for the attached executor (prestate). */
static inline int setup_attached(void **state)
{
    owner_t *o = calloc(1, sizeof *o);
    if (o == NULL) return -1;
    o->kind = OWNER_ATTACHED;
    o->wait = *state ? *(px_wait_t *)*state : PX_WAIT_ADAPTIVE;
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    if (pthread_create(&o->th, NULL, owner_loop, o) != 0) return -1;
    pthread_mutex_lock(&o->mu);
    while (!o->done) pthread_cond_wait(&o->cv, &o->mu);
    pthread_mutex_unlock(&o->mu);
    if (o->attach_rc != 0) return -1;
    *state = o;
    return 0;
}

static inline int teardown_attached(void **state)
{
    owner_t *o = *state;
    int r = owner_do(o, cmd_detach, NULL);
    pthread_mutex_lock(&o->mu);
    o->quit = true;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->th, NULL);
    free(o);
    return r;
}

static inline int setup_main(void **state)
{
    owner_t *o = calloc(1, sizeof *o);
    if (o == NULL) return -1;
    o->kind = OWNER_MAIN;
    o->t = px_mainthread();
    o->tid = my_tid();
    if (o->tid != getpid()) return -1;
    if (cmd_drain_all(o, NULL) < 0) return -1;
    *state = o;
    return 0;
}

static inline int teardown_main(void **state)
{
    owner_t *o = *state;
    int r = cmd_clear_wake(o, NULL);
    if (cmd_drain_all(o, NULL) < 0) r = -1;
    free(o);
    return r;
}

/* ---- recording items --------------------------------------------------------- */

#define LOG_MAX 4096
typedef struct log {
    _Atomic int n;
    int ids[LOG_MAX];
    long tids[LOG_MAX];
} log_t;

static log_t lg __attribute__((unused));

static inline void log_reset(void) { memset(&lg, 0, sizeof lg); }

static inline void item(void *arg)
{
    int i = atomic_fetch_add(&lg.n, 1);
    if (i < LOG_MAX) {
        lg.ids[i] = (int)(intptr_t)arg;
        lg.tids[i] = my_tid();
    }
}

static inline void assert_log_on_owner(const owner_t *o, int n)
{
    assert_int_equal(atomic_load(&lg.n), n);
    for (int i = 0; i < n; i++) assert_int_equal(lg.tids[i], o->tid);
}

/* Run fn(arg) on a new plain thread and wait for it: the owner is away meanwhile. */
static inline void run_on_thread(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fn, arg), 0);
    pthread_join(th, NULL);
}

/* A producer thread: posts ids [first, first+count) to t, then returns. */
typedef struct producer {
    px_thread_t *t;
    int first, count;
    int errors;
    pthread_t th;
} producer_t;

static inline void *producer_main(void *arg)
{
    producer_t *p = arg;
    for (int i = 0; i < p->count; i++)
        if (px_post(p->t, item, (void *)(intptr_t)(p->first + i)) != 0) p->errors++;
    return NULL;
}

/* Post from another thread and wait for it: the owner is away meanwhile. */
static inline void post_from_thread(px_thread_t *t, int first, int count)
{
    producer_t p = {.t = t, .first = first, .count = count};
    run_on_thread(producer_main, &p);
    assert_int_equal(p.errors, 0);
}

/* Wait until t's owner waits inside pinexec (px_serve, or a call's sleep):
 * parked, or for PX_WAIT_SPIN spinning (its state is AWAY only outside). */
static inline void wait_parked(px_thread_t *t)
{
    struct px_thread *ti = (struct px_thread *)t;
    uint32_t want = ti->wait == PX_WAIT_SPIN ? PX__RUNNING : PX__PARKED;
    while (atomic_load(&ti->state) != want) sched_yield();
}

/* ---- commands ------------------------------------------------------------------ */

typedef struct drain_args {
    unsigned max;
    int64_t timeout;
} drain_args_t;

static inline int cmd_drain(owner_t *o, void *arg)
{
    return px_drain(o->t, ((drain_args_t *)arg)->max);
}
static inline int cmd_serve(owner_t *o, void *arg)
{
    return px_serve(o->t, ((drain_args_t *)arg)->timeout);
}
static inline int drain(owner_t *o, unsigned max)
{
    return owner_do(o, cmd_drain, &(drain_args_t){.max = max});
}
static inline int serve(owner_t *o, int64_t timeout)
{
    return owner_do(o, cmd_serve, &(drain_args_t){.timeout = timeout});
}

/* ---- threads that call into the owner's executor --------------------------- */

/* A plain thread that makes one call (item 100) and records when it returned. */
typedef struct caller {
    px_thread_t *t;
    int rc;
    _Atomic int returned;
    pthread_t th;
} caller_t;

static inline void *caller_main(void *arg)
{
    caller_t *c = arg;
    c->rc = px_call(c->t, item, (void *)(intptr_t)100);
    atomic_store(&c->returned, 1);
    return NULL;
}

typedef struct delayed {
    px_thread_t *t;
    int rc;
    pthread_t th;
} delayed_t;

/* Once the owner parks inside px_serve, call into it. */
static inline void *call_when_parked(void *arg)
{
    delayed_t *d = arg;
    wait_parked(d->t);
    d->rc = px_call(d->t, item, (void *)(intptr_t)7);
    return NULL;
}

/* ---- registration ---------------------------------------------------------- */

#define BOTH(f)                                                    \
    cmocka_unit_test_setup_teardown(f, setup_main, teardown_main), \
        cmocka_unit_test_setup_teardown(f, setup_attached, teardown_attached)

static px_wait_t spin_mode __attribute__((unused)) = PX_WAIT_SPIN;
static px_wait_t sleep_mode __attribute__((unused)) = PX_WAIT_SLEEP;

/* The serving paths of the other idle policies, on an attached executor. */
#define MODES(f)                                                                                \
    cmocka_unit_test_prestate_setup_teardown(f, setup_attached, teardown_attached, &spin_mode), \
        cmocka_unit_test_prestate_setup_teardown(f, setup_attached, teardown_attached,          \
                                                 &sleep_mode)

#endif /* PX_TEST_DRIVEN_H */
