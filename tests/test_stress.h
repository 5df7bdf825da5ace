/*
 * Helpers of the stress tier (tests/test_stress*.c): iteration counts scaled
 * down under sanitizers, a per-thread PRNG, item encoding for exactly-once
 * and per-producer-order accounting, and a thread barrier with a bound.
 *
 * Scaling: every count goes through stress_n(normal). It is divided by 4
 * under ThreadSanitizer and by 2 under AddressSanitizer (both slow every
 * atomic or memory access several times), and multiplied by
 * PX_STRESS_SCALE from the environment (a float, default 1; e.g. 10 for a
 * nightly soak). Counts never drop below 1.
 */
#ifndef PX_TEST_STRESS_H
#define PX_TEST_STRESS_H

#include "px_test.h"

#include <linux/futex.h>
#include <stdlib.h>

#if defined(PX_SANITIZE_ADDRESS) || defined(__SANITIZE_ADDRESS__)
#define PX_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PX_TEST_ASAN 1
#endif
#endif

#if defined(PX_TEST_TSAN)
#define STRESS_DIVISOR 4.0
#define STRESS_BUILD "tsan"
#elif defined(PX_TEST_ASAN)
#define STRESS_DIVISOR 2.0
#define STRESS_BUILD "asan"
#else
#define STRESS_DIVISOR 1.0
#define STRESS_BUILD "plain"
#endif

static inline double stress_env_scale(void)
{
    const char *s = getenv("PX_STRESS_SCALE");
    double v = s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

/* An iteration count: normal on a plain build, scaled for sanitizers/env. */
static inline unsigned stress_n(unsigned normal)
{
    double v = (double)normal * stress_env_scale() / STRESS_DIVISOR;
    if (v < 1) return 1;
    if (v > 4e9) return 4000000000u;
    return (unsigned)v;
}

/* xorshift64*: a cheap per-thread PRNG; seeds come from the test. */
static inline uint64_t stress_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline unsigned stress_below(uint64_t *s, unsigned n)
{
    return (unsigned)(stress_rand(s) % n);
}

/*
 * An item is encoded in its argument pointer, so posts need no storage that
 * outlives the producer: bits 40-55 producer, 32-39 executor, 0-31 the
 * producer's sequence number towards that executor (its accepted items
 * counted from 0). call_v returns the argument xor STRESS_MAGIC.
 */
#define STRESS_MAGIC ((uintptr_t)0x5A5A000000000000ull)

static inline void *stress_item(unsigned producer, unsigned exec, uint32_t seq)
{
    return (void *)(((uintptr_t)producer << 40) | ((uintptr_t)exec << 32) | seq);
}
static inline unsigned stress_item_producer(void *a)
{
    return (unsigned)(((uintptr_t)a >> 40) & 0xFFFF);
}
static inline unsigned stress_item_exec(void *a) { return (unsigned)(((uintptr_t)a >> 32) & 0xFF); }
static inline uint32_t stress_item_seq(void *a) { return (uint32_t)(uintptr_t)a; }

/* Threads of the process (/proc/self/status): detects a thread left behind.
 * Call stress_thread_count_warm_up() first: a sanitizer runtime starts a
 * helper thread of its own at the first thread creation. */
static inline int stress_thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    fclose(f);
    return n;
}

/* The thread count once it settled at want (or after 2 s): a joined thread
 * leaves the kernel's thread group a moment after pthread_join returns. */
static inline int stress_thread_count_settled(int want)
{
    int n = stress_thread_count();
    for (int i = 0; i < 2000 && n != want; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        n = stress_thread_count();
    }
    return n;
}

static inline void *stress_nothing(void *arg) { return arg; }
static inline void stress_thread_count_warm_up(void)
{
    pthread_t th;
    if (pthread_create(&th, NULL, stress_nothing, NULL) == 0) pthread_join(th, NULL);
}

/* Wait (bounded, polling) until *v == want; true when it did. */
static inline bool stress_wait_eq(_Atomic unsigned *v, unsigned want, uint64_t timeout_ns)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    unsigned spins = 0;
    for (;;) {
        if (atomic_load_explicit(v, memory_order_acquire) == want)
            return true; /* pairs with the writer's release */
        if (px_test_now_ns() > deadline) return false;
        if (++spins < 64) sched_yield();
        else px_test_sleep_us(50);
    }
}

/*
 * A counter other threads wait on without polling delays (futex): the
 * hand-offs of the life-cycle stress repeat thousands of times, and a 50 us
 * poll each would dominate its run time.
 */
static inline void stress_futex_wake(_Atomic unsigned *w)
{
    syscall(SYS_futex, (unsigned *)w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* Store v (release: pairs with stress_wait_change / stress_wait_eq) and wake. */
static inline void stress_publish(_Atomic unsigned *w, unsigned v)
{
    atomic_store_explicit(w, v, memory_order_release);
    stress_futex_wake(w);
}

/* Add 1 (release) and wake. */
static inline void stress_bump(_Atomic unsigned *w)
{
    atomic_fetch_add_explicit(w, 1, memory_order_release);
    stress_futex_wake(w);
}

/* Sleep while *w == old, at most 1 ms at a time (bounded re-checks). */
static inline void stress_futex_wait(_Atomic unsigned *w, unsigned old)
{
    struct timespec ts = {0, 1000000};
    syscall(SYS_futex, (unsigned *)w, FUTEX_WAIT_PRIVATE, old, &ts, NULL, 0);
}

/* Wait until *w == want (bounded); true when it did. */
static inline bool stress_wait_value(_Atomic unsigned *w, unsigned want, uint64_t timeout_ns)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    for (;;) {
        unsigned v =
            atomic_load_explicit(w, memory_order_acquire); /* pairs with stress_publish/bump */
        if (v == want) return true;
        if (px_test_now_ns() > deadline) return false;
        stress_futex_wait(w, v);
    }
}

/* As px_test_wait_until, but yields before it sleeps: for waits that are
 * usually short and repeated thousands of times. */
static inline bool stress_wait_until(bool (*cond)(void *), void *ctx, uint64_t timeout_ns)
{
    uint64_t deadline = px_test_now_ns() + timeout_ns;
    for (unsigned spins = 0;; spins++) {
        if (cond(ctx)) return true;
        if (px_test_now_ns() > deadline) return cond(ctx);
        if (spins < 64) sched_yield();
        else px_test_sleep_us(50);
    }
}

#endif /* PX_TEST_STRESS_H */
