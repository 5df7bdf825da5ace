/*
 * Shared helpers of the core tests (header-only, so every test stays one
 * source file): clocks, bounded waits, a gate an executor can be held on, a
 * thread whose end the test waits for with a bound, executor creation, cases
 * per wait mode, functions that count what ran, an executor as a caller.
 *
 * Rule: nothing here calls a cmocka assert_* on a thread other than the test
 * thread. Helpers that run on executors only record.
 */
#ifndef PX_TEST_H
#define PX_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pinexec.h"

#if defined(PX_SANITIZE_THREAD)
#define PX_TEST_TSAN 1
#elif defined(__SANITIZE_THREAD__)
#define PX_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PX_TEST_TSAN 1
#endif
#endif

/* Under ThreadSanitizer or AddressSanitizer (both slow every memory access
 * several times): tests that count over many operations use fewer. */
#if defined(PX_TEST_TSAN) || defined(PX_SANITIZE_ADDRESS) || defined(__SANITIZE_ADDRESS__)
#define PX_TEST_SANITIZED 1
#endif

/* Generous bound on anything a test waits for: a hang fails the test (and
 * long before ctest's TIMEOUT), it never passes. */
#define PX_TEST_BOUND_NS (30ull * 1000000000ull)

static const px_wait_t px_test_modes[] = {PX_WAIT_ADAPTIVE, PX_WAIT_SPIN, PX_WAIT_SLEEP};
#define PX_TEST_NMODES (sizeof px_test_modes / sizeof px_test_modes[0])

static inline const char *px_test_mode_name(px_wait_t w)
{
    switch (w) {
    case PX_WAIT_ADAPTIVE: return "ADAPTIVE";
    case PX_WAIT_SPIN: return "SPIN";
    case PX_WAIT_SLEEP: return "SLEEP";
    }
    return "?";
}

/* Three cmocka cases, name_adaptive, name_spin and name_sleep, each running
 * run(mode) with its wait mode. */
#define PX_TEST_EACH_MODE(name, run)          \
    static void name##_adaptive(void **state) \
    {                                         \
        (void)state;                          \
        run(PX_WAIT_ADAPTIVE);                \
    }                                         \
    static void name##_spin(void **state)     \
    {                                         \
        (void)state;                          \
        run(PX_WAIT_SPIN);                    \
    }                                         \
    static void name##_sleep(void **state)    \
    {                                         \
        (void)state;                          \
        run(PX_WAIT_SLEEP);                   \
    }

static inline uint64_t px_test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void px_test_sleep_us(unsigned us)
{
    struct timespec ts = {.tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline long px_test_gettid(void) { return (long)syscall(SYS_gettid); }

/* Wait for child pid at most timeout_ns (test thread only); on timeout kill it
 * and fail. Returns its wait status. */
static inline int px_test_wait_child(pid_t pid, uint64_t timeout_ns, const char *what)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) fail_msg("%s: waitpid: %s", what, strerror(errno));
        if (px_test_now_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("%s: the child did not end on its own (killed after %llu s)", what,
                     (unsigned long long)(timeout_ns / 1000000000ull));
        }
        px_test_sleep_us(1000);
    }
}

/* Poll cond(ctx) until it holds or timeout_ns passed; true when it holds. */
static inline bool px_test_wait_until(bool (*cond)(void *), void *ctx, uint64_t timeout_ns)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    for (;;) {
        if (cond(ctx)) return true;
        if (px_test_now_ns() > deadline) return cond(ctx);
        px_test_sleep_us(100);
    }
}

/* Wait until *flag >= value (acquire: pairs with the writer's release). */
static inline bool px_test_wait_at_least(_Atomic int *flag, int value, uint64_t timeout_ns)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    for (;;) {
        if (atomic_load_explicit(flag, memory_order_acquire) >= value) return true;
        if (px_test_now_ns() > deadline) return false;
        px_test_sleep_us(100);
    }
}

/* ---- a gate to hold an executor inside a call or post ---------------------
 *
 *   px_post(t, px_test_gate_hold, &g);   // t stops serving inside the gate
 *   px_test_gate_wait_entered(&g, 1);    // now t is blocked: fill its ring...
 *   px_test_gate_open(&g);               // ...and let it go on
 */
typedef struct px_test_gate {
    _Atomic int entered; /* executors that reached the gate */
    _Atomic int open;
    _Atomic int timed_out; /* the hold gave up after PX_TEST_BOUND_NS (a test bug) */
} px_test_gate_t;

static inline void px_test_gate_init(px_test_gate_t *g)
{
    atomic_init(&g->entered, 0);
    atomic_init(&g->open, 0);
    atomic_init(&g->timed_out, 0);
}

/* px_fn: runs on the executor; blocks until the gate opens (bounded). */
static inline void px_test_gate_hold(void *arg)
{
    px_test_gate_t *g = arg;
    atomic_fetch_add_explicit(&g->entered, 1, memory_order_release); /* pairs with wait_entered */
    uint64_t deadline = px_test_now_ns() + PX_TEST_BOUND_NS;
    while (!atomic_load_explicit(&g->open, memory_order_acquire)) { /* pairs with gate_open */
        if (px_test_now_ns() > deadline) {
            atomic_store(&g->timed_out, 1);
            return;
        }
        px_test_sleep_us(50);
    }
}

static inline bool px_test_gate_wait_entered(px_test_gate_t *g, int n)
{
    return px_test_wait_at_least(&g->entered, n, PX_TEST_BOUND_NS);
}

static inline void px_test_gate_open(px_test_gate_t *g)
{
    atomic_store_explicit(&g->open, 1, memory_order_release);
}

/* ---- threads whose end is awaited with a bound ----------------------------- */

typedef struct px_test_thread {
    pthread_t th;
    void *(*fn)(void *);
    void *arg;
    void *ret;
    _Atomic int done;
    bool joined;
} px_test_thread_t;

static inline void *px_test_thread_main(void *p)
{
    px_test_thread_t *t = p;
    t->ret = t->fn(t->arg);
    atomic_store_explicit(&t->done, 1, memory_order_release); /* pairs with px_test_thread_join */
    return NULL;
}

static inline void px_test_thread_start(px_test_thread_t *t, void *(*fn)(void *), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    t->ret = NULL;
    t->joined = false;
    atomic_init(&t->done, 0);
    assert_int_equal(pthread_create(&t->th, NULL, px_test_thread_main, t), 0);
}

/* Whether the thread finished within timeout_ns (then it is joined). */
static inline bool px_test_thread_join_within(px_test_thread_t *t, uint64_t timeout_ns)
{
    if (!px_test_wait_at_least(&t->done, 1, timeout_ns)) return false;
    pthread_join(t->th, NULL);
    t->joined = true;
    return true;
}

/* Join with the standard bound; a thread that does not finish fails the test. */
static inline void px_test_thread_join(px_test_thread_t *t)
{
    bool ok = px_test_thread_join_within(t, PX_TEST_BOUND_NS);
    if (!ok)
        fail_msg("a helper thread did not finish within %llu s",
                 (unsigned long long)(PX_TEST_BOUND_NS / 1000000000ull));
}

/* ---- executors ----------------------------------------------------------- */

static inline px_thread_t *px_test_create(px_wait_t wait, unsigned capacity, const char *name)
{
    px_thread_options_t o = {.size = sizeof o, .name = name, .capacity = capacity, .wait = wait};
    px_thread_t *t = NULL;
    int r = px_thread_create(&t, &o);
    if (r != 0)
        fail_msg("px_thread_create(%s, capacity %u): %d %s", px_test_mode_name(wait), capacity, r,
                 px_last_error());
    assert_non_null(t);
    return t;
}

static inline void px_test_destroy(px_thread_t *t)
{
    int r = px_thread_destroy(t);
    if (r != 0) fail_msg("px_thread_destroy: %d %s", r, px_last_error());
}

static inline void px_test_noop(void *arg) { (void)arg; }

/* px_fn: one more run; the counter is only written by the executor's thread. */
static inline void px_test_count(void *arg) { ++*(unsigned long *)arg; }

/* Wait until everything posted to t by this thread before has run (FIFO). */
static inline void px_test_flush(px_thread_t *t)
{
    assert_int_equal(px_call(t, px_test_noop, NULL), 0);
}

static inline px_stats_t px_test_stats(px_thread_t *t)
{
    px_stats_t s;
    memset(&s, 0, sizeof s);
    s.size = sizeof s;
    assert_int_equal(px_thread_stats(t, &s), 0);
    return s;
}

/* ---- functions that count what ran ----------------------------------------- */

/* Runs of px_test_bump and px_test_bump_v, which ignore their argument
 * (functions of calls expected to be refused, or to run anywhere). Written by
 * whichever thread runs them; read after a flush. */
static unsigned long px_test_runs __attribute__((unused));

static inline void px_test_bump(void *arg)
{
    (void)arg;
    px_test_runs++;
}

/* px_fn_v: px_test_bump, returning its argument. */
static inline void *px_test_bump_v(void *arg)
{
    px_test_bump(arg);
    return arg;
}

/* Runs of each kind of operation; written on the executor only. */
typedef struct px_test_ops {
    unsigned long calls, calls_v, posts, try_posts;
} px_test_ops_t;

/* The functions of px_call, px_call_v, px_post and px_try_post, each counting
 * its own kind in the px_test_ops_t at arg (px_test_on_call_v returns arg). */
static inline void px_test_on_call(void *arg) { ((px_test_ops_t *)arg)->calls++; }
static inline void *px_test_on_call_v(void *arg)
{
    ((px_test_ops_t *)arg)->calls_v++;
    return arg;
}
static inline void px_test_on_post(void *arg) { ((px_test_ops_t *)arg)->posts++; }
static inline void px_test_on_try_post(void *arg) { ((px_test_ops_t *)arg)->try_posts++; }

/* ---- an executor as a caller ---------------------------------------------- */

/*
 *   px_test_caller_t c = {.target = t, .fn = f, .arg = a, .n = 1000};
 *   px_post(b, px_test_caller_run, &c);         // b makes 1000 px_call(t, f, a)
 *   px_test_wait_at_least(&c.done, 1, bound);   // then c.bad: the failed ones
 */
typedef struct px_test_caller {
    px_thread_t *target;
    px_fn fn;
    void *arg;
    int n;
    unsigned long bad; /* written by the calling thread until done */
    _Atomic int done;
} px_test_caller_t;

/* px_fn: the calls, on whichever thread runs it (recording only). */
static inline void px_test_caller_run(void *arg)
{
    px_test_caller_t *c = arg;
    for (int i = 0; i < c->n; i++)
        if (px_call(c->target, c->fn, c->arg) != 0) c->bad++;
    atomic_store_explicit(&c->done, 1, memory_order_release); /* pairs with the test's wait */
}

#endif /* PX_TEST_H */
