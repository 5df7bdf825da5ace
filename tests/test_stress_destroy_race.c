/*
 * Regression test for the defect "destroy frees the executor while it is
 * still running".
 *
 * include/pinexec.h promises for px_thread_destroy: "While it runs, calls and
 * posts return -ESHUTDOWN without running ... Once it returns the handle is
 * gone". src/lifecycle.c px_thread_destroy frees the executor
 * (px__executor_free) *before* it joins the executor's thread, and the join
 * can take arbitrarily long (the thread still runs its TLS destructors, or is
 * simply preempted after completing the stop request). A px_call made in
 * that window -- destroy has not returned, so the documented contract allows
 * it -- does its gate increment on freed memory: a use-after-free inside the
 * library, with no way for the caller to know.
 *
 * The test makes the window wide and deterministic: a TLS destructor on the
 * executor's thread blocks its exit until the test says so, so destroy sits
 * in its join after freeing; the test then calls px_call and expects the
 * documented -ESHUTDOWN. Under AddressSanitizer the call is reported as a
 * heap-use-after-free; without ASan the test cannot observe the free safely
 * and is skipped (touching freed memory is undefined behaviour).
 *
 * Fixed: destroy now joins the thread before it frees, so until the thread
 * has fully exited a call finds the gate closed in live memory; and
 * include/pinexec.h says what a racing caller must guarantee (stop at its
 * first -ESHUTDOWN, and be known to have stopped before destroy returns).
 * This test asserts t is not freed while the thread is still exiting and
 * that a call then gets -ESHUTDOWN.
 */
#include "test_stress.h"

#ifdef PX_TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifdef PX_TEST_ASAN
typedef struct dr {
    px_thread_t *t;
    pthread_key_t key;
    _Atomic int exiting; /* the executor's thread is in its TLS destructor */
    _Atomic int release; /* ...and may finish */
    int destroy_rc;
    _Atomic int destroyed;
} dr_t;

static dr_t dr;

static void hold_exit(void *value)
{
    (void)value;
    atomic_store_explicit(&dr.exiting, 1, memory_order_release); /* pairs with the test's wait */
    uint64_t deadline = px_test_now_ns() + 10ull * 1000000000ull;
    while (!atomic_load_explicit(&dr.release, memory_order_acquire) && px_test_now_ns() < deadline)
        px_test_sleep_us(100);
}

static void arm_tls(void *arg)
{
    (void)arg;
    pthread_setspecific(dr.key, &dr); /* non-NULL: hold_exit runs when the thread exits */
}

static void *destroyer(void *arg)
{
    (void)arg;
    dr.destroy_rc = px_thread_destroy(dr.t);
    atomic_store_explicit(&dr.destroyed, 1, memory_order_release);
    return NULL;
}
#endif

static void test_stress_destroy_race_call_before_destroy_returns(void **state)
{
    (void)state;
#ifndef PX_TEST_ASAN
    skip(); /* only AddressSanitizer can observe the free without undefined behaviour */
#else
    memset(&dr, 0, sizeof dr);
    assert_int_equal(pthread_key_create(&dr.key, hold_exit), 0);
    dr.t = px_test_create(PX_WAIT_SLEEP, 0, "dr");
    assert_int_equal(px_call(dr.t, arm_tls, NULL), 0);
    px_test_thread_t th;
    px_test_thread_start(&th, destroyer, NULL);
    /* The executor completed the stop request and is exiting (held in its TLS
     * destructor); destroy waits in its join and must not have freed t yet. */
    assert_true(px_test_wait_at_least(&dr.exiting, 1, PX_TEST_BOUND_NS));
    px_test_sleep_us(200000); /* room for a wrong free to happen */
    bool freed = __asan_address_is_poisoned(dr.t);
    bool returned = atomic_load_explicit(&dr.destroyed, memory_order_acquire);
    /* destroy has not returned, so by the contract this call is allowed and
     * must be refused with -ESHUTDOWN, on live memory. */
    int r = (returned || freed) ? 0 : px_call(dr.t, px_test_noop, NULL);
    atomic_store_explicit(&dr.release, 1, memory_order_release);
    px_test_thread_join(&th);
    assert_false(freed);
    assert_false(returned);
    assert_int_equal(r, -ESHUTDOWN);
    assert_int_equal(dr.destroy_rc, 0);
    pthread_key_delete(dr.key);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_destroy_race_call_before_destroy_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
