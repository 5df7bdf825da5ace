/*
 * Zero heap allocations per px_call, px_call_v, px_post and px_try_post after
 * creation: count every malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc, memalign in the process while
 * a flag is on, over 100,000 of each operation after a warm-up, to an executor
 * on another thread, in each wait mode, from the main thread (itself an
 * executor), a plain thread and a created executor. The count must be 0.
 *
 * Counting: bench/alloc_count.c, shared with the benchmark suite. In a plain
 * build it defines the allocation functions and forwards them to glibc's
 * __libc_* entry points, so every allocation in the process counts. Under
 * AddressSanitizer or ThreadSanitizer the sanitizer owns the allocator: there
 * the counters hang on its malloc/free hooks (every malloc/calloc/free of the
 * process; ThreadSanitizer does not report realloc or the aligned forms
 * there) and, as tests/CMakeLists.txt links this test with -Wl,--wrap=<fn>
 * (px_use_alloc_count), on link-time wrappers of all seven functions, which
 * see every call made by pinexec's own code. A first test proves the counters
 * see allocations (also the library's own, on an executor thread) in every
 * build.
 */
#include "px_test.h"

#include <stdlib.h>

#include "alloc_count.h"

static void install_counters(void)
{
    assert_int_not_equal(pxb_alloc_count_init(), PXB_ALLOC_COUNT_NONE);
}

/* Whether every allocation function is counted (else malloc, calloc, free). */
static bool counts_every_function(void)
{
    return pxb_alloc_count_coverage() == PXB_ALLOC_COUNT_EVERY;
}

/* ---- the counter itself works ---------------------------------------------------- */

static void test_alloc_counter_sees_allocations(void **state)
{
    (void)state;
    install_counters();
    /* Through volatile pointers, so the compiler cannot elide the pairs. */
    void *(*volatile m)(size_t) = malloc;
    void *(*volatile c)(size_t, size_t) = calloc;
    void *(*volatile r)(void *, size_t) = realloc;
    void *(*volatile aa)(size_t, size_t) = aligned_alloc;
    int (*volatile pm)(void **, size_t, size_t) = posix_memalign;
    void (*volatile f)(void *) = free;
    pxb_alloc_counts_t n;

    pxb_alloc_count_start();
    void *p = m(40);
    void *q = c(3, 50);
    f(p);
    f(q);
    pxb_alloc_count_stop(&n);
    assert_true(n.allocs >= 2); /* exactly 2, or 4 when a hook and a wrapper both count */
    assert_true(n.frees >= 2);

    pxb_alloc_count_start();
    p = m(40);
    p = r(p, 4000);
    void *s = aa(64, 128);
    void *t = NULL;
    int rc = pm(&t, 64, 256);
    f(p);
    f(s);
    f(t);
    pxb_alloc_count_stop(&n);
    assert_int_equal(rc, 0);
    if (counts_every_function()) {
        assert_true(n.allocs >= 4); /* each function counted */
        assert_true(n.frees >= 3);
    } else {
        print_message("    (counting malloc/calloc/free only: realloc and the aligned forms need "
                      "PX_ALLOC_COUNT_WRAP under this sanitizer)\n");
        assert_true(n.allocs >= 1);
    }

    /* The library's own allocations, made on the new executor's thread, count. */
    pxb_alloc_count_start();
    px_thread_t *x = NULL;
    int cr = px_thread_create(&x, NULL);
    pxb_alloc_count_stop(&n);
    assert_int_equal(cr, 0);
    if (counts_every_function())
        assert_true(n.allocs >= 2);  /* the executor and its ring (aligned_alloc), a bitmap */
    else assert_true(n.allocs >= 1); /* hwloc's bitmap (malloc) */
    pxb_alloc_count_start();
    px_test_destroy(x);
    pxb_alloc_count_stop(&n);
    assert_true(n.frees >= 2);
}

/* ---- the hot paths allocate nothing -------------------------------------------- */

#define OPS 100000
#define WARMUP 1000

typedef struct run {
    px_thread_t *t;
    px_test_ops_t *sink;
    int n;
    unsigned long bad;
} run_t;

/* n of each operation; no allocation of its own. */
static void run_ops(run_t *r)
{
    for (int i = 0; i < r->n; i++)
        if (px_call(r->t, px_test_on_call, r->sink) != 0) r->bad++;
    for (int i = 0; i < r->n; i++) {
        void *res = NULL;
        if (px_call_v(r->t, px_test_on_call_v, r->sink, &res) != 0 || res != r->sink) r->bad++;
    }
    for (int i = 0; i < r->n; i++)
        if (px_post(r->t, px_test_on_post, r->sink) != 0) r->bad++;
    for (int i = 0; i < r->n; i++) {
        int rc;
        while ((rc = px_try_post(r->t, px_test_on_try_post, r->sink)) == -EAGAIN) sched_yield();
        if (rc) r->bad++;
    }
}

static void check_sink(const px_test_ops_t *s, unsigned long n)
{
    assert_int_equal(s->calls, n);
    assert_int_equal(s->calls_v, n);
    assert_int_equal(s->posts, n);
    assert_int_equal(s->try_posts, n);
}

/* 100,000 of each in a plain build. A sanitizer build runs the same paths
 * 5-10x slower per operation, so it counts over 20,000 of each. */
static int ops(void)
{
#ifdef PX_TEST_SANITIZED
    return OPS / 5;
#else
    return OPS;
#endif
}

static void run_mode(px_wait_t mode)
{
    install_counters();
    px_thread_t *t = px_test_create(mode, 0, "alloc-target");
    px_test_ops_t sink;
    memset(&sink, 0, sizeof sink);
    px_test_flush(t);
    run_t warm = {.t = t, .sink = &sink, .n = WARMUP};
    run_ops(&warm);
    px_test_flush(t);

    run_t hot = {.t = t, .sink = &sink, .n = ops()};
    pxb_alloc_counts_t n;
    pxb_alloc_count_start();
    run_ops(&hot);
    px_test_flush(t); /* the posts have run, on the executor, while counting */
    pxb_alloc_count_stop(&n);
    assert_int_equal(hot.bad, 0);
    check_sink(&sink, (unsigned long)(WARMUP + ops()));
    if (n.allocs || n.frees)
        fail_msg("%s: %llu allocations and %llu frees over %d of each px_call, px_call_v, px_post, "
                 "px_try_post",
                 px_test_mode_name(mode), (unsigned long long)n.allocs, (unsigned long long)n.frees,
                 ops());
    px_test_destroy(t);
}

PX_TEST_EACH_MODE(test_alloc_zero_from_main, run_mode)

/* A plain thread (no executor of its own) and a created executor as callers. */
typedef struct plain {
    run_t run;
    _Atomic int go, done;
} plain_t;

static void *plain_main(void *arg)
{
    plain_t *p = arg;
    run_t warm = p->run;
    warm.n = WARMUP;
    run_ops(&warm);
    p->run.bad += warm.bad;
    atomic_store_explicit(&p->done, 1, memory_order_release);
    while (!atomic_load_explicit(&p->go, memory_order_acquire)) px_test_sleep_us(100);
    run_ops(&p->run);
    atomic_store_explicit(&p->done, 2, memory_order_release); /* pairs with the test's wait */
    return NULL;
}

static void exec_caller(void *arg) { run_ops(arg); }

static void test_alloc_zero_from_plain_thread_and_executor(void **state)
{
    (void)state;
    install_counters();
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, "alloc-target");
        px_thread_t *b = px_test_create(px_test_modes[m], 0, "alloc-caller");
        px_test_ops_t sink;
        memset(&sink, 0, sizeof sink);
        px_test_flush(t);
        int n = ops() / 5;
        plain_t p = {.run = {.t = t, .sink = &sink, .n = n}};
        px_test_thread_t th;
        px_test_thread_start(&th, plain_main, &p); /* thread start-up allocates: before counting */
        assert_true(px_test_wait_at_least(&p.done, 1, PX_TEST_BOUND_NS));
        run_t warm = {.t = t, .sink = &sink, .n = WARMUP};
        assert_int_equal(px_call(b, exec_caller, &warm), 0);

        run_t er = {.t = t, .sink = &sink, .n = n};
        pxb_alloc_counts_t counted;
        pxb_alloc_count_start();
        atomic_store_explicit(&p.go, 1, memory_order_release);
        assert_int_equal(px_call(b, exec_caller, &er), 0); /* concurrently with the plain thread */
        assert_true(px_test_wait_at_least(&p.done, 2, PX_TEST_BOUND_NS));
        px_test_flush(t);
        pxb_alloc_count_stop(&counted);
        px_test_thread_join(&th);
        assert_int_equal(p.run.bad, 0);
        assert_int_equal(er.bad, 0);
        assert_int_equal(warm.bad, 0);
        check_sink(&sink, (unsigned long)(2 * WARMUP + 2 * n));
        if (counted.allocs || counted.frees)
            fail_msg("%s: %llu allocations and %llu frees (plain thread and executor callers)",
                     px_test_mode_name(px_test_modes[m]), (unsigned long long)counted.allocs,
                     (unsigned long long)counted.frees);
        px_test_destroy(b);
        px_test_destroy(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_counter_sees_allocations),
        cmocka_unit_test(test_alloc_zero_from_main_adaptive),
        cmocka_unit_test(test_alloc_zero_from_main_spin),
        cmocka_unit_test(test_alloc_zero_from_main_sleep),
        cmocka_unit_test(test_alloc_zero_from_plain_thread_and_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
