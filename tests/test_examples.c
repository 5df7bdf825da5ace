/*
 * The issue-3 examples build and do what they say: run example_mainthread and
 * example_epoll_loop (paths given by the build) and check their exit status
 * and output.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spawn_helper.h"

#if !defined(PX_EXAMPLE_MAINTHREAD) || !defined(PX_EXAMPLE_EPOLL_LOOP)
#error \
    "PX_EXAMPLE_MAINTHREAD and PX_EXAMPLE_EPOLL_LOOP (example paths) must be defined by the build"
#endif

static spawn_result_t out;

static void run_example(const char *path)
{
    char *argv[] = {(char *)path, NULL};
    assert_int_equal(spawn_run(path, argv, SPAWN_TIMEOUT_S, &out), 0);
    print_message("%s:\n%s", path, out.out);
    assert_false(out.timed_out);
    assert_true(out.exited);
    assert_int_equal(out.status, 0);
}

static void test_examples_mainthread(void **state)
{
    (void)state;
    run_example(PX_EXAMPLE_MAINTHREAD);
    assert_non_null(strstr(out.out, "app: running on a worker thread\n"));
    assert_non_null(strstr(out.out, "app: the call ran on the main thread\n"));
    assert_non_null(strstr(out.out, "worker: the call ran on the main thread\n"));
    assert_non_null(strstr(out.out, "main: px_main returned 0\n"));
    assert_null(strstr(out.out, "WRONG"));
}

static void test_examples_epoll_loop(void **state)
{
    (void)state;
    run_example(PX_EXAMPLE_EPOLL_LOOP);
    assert_non_null(strstr(
        out.out, "epoll_loop: 3000 calls and 3000 posts ran on the loop thread (0 elsewhere)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_mainthread),
        cmocka_unit_test(test_examples_epoll_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
