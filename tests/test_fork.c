/*
 * fork() and process exit.
 *
 * After fork(), in the child every inherited executor is dead: calls and posts
 * return -ESRCH at once (also on a full ring), px_thread_destroy frees it; the
 * parent's executors keep working. A process that exits (exit(), return from
 * main, exit() inside a call) with live executors, queued work and blocked
 * producers does not hang. The exit cases run in a fresh process: this program
 * re-executes itself with a --child-* argument (see main()).
 *
 * Children never use cmocka: they report through their exit status.
 */
#include "px_test.h"

#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

static void expect_exit_code(int status, int code, const char *what)
{
    if (WIFSIGNALED(status))
        fail_msg("%s: the child died of signal %d (%s)", what, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status)) fail_msg("%s: the child did not exit (status 0x%x)", what, status);
    if (WEXITSTATUS(status) != code)
        fail_msg("%s: the child exited with %d, expected %d", what, WEXITSTATUS(status), code);
}

/* ---- 8. executors are dead in a fork child ------------------------------------- */

/* px_test_bump counts runs in px_test_runs, in whichever process. */

#define NEXEC PX_TEST_NMODES

/* The child's checks; returns 0 or the number of the first failed check. */
static int child_checks(px_thread_t **ex, px_thread_t *full, bool may_start_threads)
{
    unsigned long runs_before = px_test_runs;
    for (size_t i = 0; i < NEXEC; i++) {
        px_thread_t *t = ex[i];
        void *res = &res;
        if (px_call(t, px_test_bump, NULL) != -ESRCH) return 1;
        if (strstr(px_last_error(), "fork") == NULL) return 2;
        if (px_call_v(t, px_test_bump_v, NULL, &res) != -ESRCH) return 3;
        if (res != &res) return 4;
        if (px_call_v(t, px_test_bump_v, NULL, NULL) != -ESRCH) return 5;
        if (px_post(t, px_test_bump, NULL) != -ESRCH) return 6;
        if (px_try_post(t, px_test_bump, NULL) != -ESRCH) return 7;
        char buf[64];
        if (px_thread_cpus(t, buf, sizeof buf) != -ESRCH) return 8;
    }
    /* A full ring whose consumer is gone: -ESRCH at once, no wait for space. */
    if (px_post(full, px_test_bump, NULL) != -ESRCH) return 9;
    if (px_try_post(full, px_test_bump, NULL) != -ESRCH) return 10;
    if (px_call(full, px_test_bump, NULL) != -ESRCH) return 11;
    if (px_test_runs != runs_before) return 12;
    /* Destroy frees them without joining (the threads do not exist here). */
    for (size_t i = 0; i < NEXEC; i++)
        if (px_thread_destroy(ex[i]) != 0) return 13;
    if (px_thread_destroy(full) != 0) return 14;
    if (may_start_threads) {
        /* New executors work in the child. */
        for (size_t i = 0; i < NEXEC; i++) {
            px_thread_t *t = NULL;
            px_thread_options_t o = {.size = sizeof o, .wait = px_test_modes[i]};
            if (px_thread_create(&t, &o) != 0) return 15;
            for (int k = 0; k < 100; k++)
                if (px_call(t, px_test_bump, NULL) != 0 || px_post(t, px_test_bump, NULL) != 0)
                    return 16;
            if (px_call(t, px_test_bump, NULL) != 0) return 17;
            if (px_thread_destroy(t) != 0) return 18;
        }
        if (px_test_runs != runs_before + NEXEC * 201) return 19;
    }
    return 0;
}

static void run_fork_case(bool full_ring_held)
{
    px_thread_t *ex[NEXEC];
    for (size_t i = 0; i < NEXEC; i++) {
        ex[i] = px_test_create(px_test_modes[i], 0, NULL);
        px_test_flush(ex[i]);
    }
    /* Held: the executor sits in a post with its ring full at the fork. */
    px_thread_t *full = px_test_create(PX_WAIT_SLEEP, 4, "full");
    px_test_gate_t g;
    px_test_gate_init(&g);
    px_test_runs = 0;
    if (full_ring_held) {
        assert_int_equal(px_post(full, px_test_gate_hold, &g), 0);
        assert_true(px_test_gate_wait_entered(&g, 1));
        for (int i = 0; i < 4; i++) assert_int_equal(px_try_post(full, px_test_bump, NULL), 0);
    } else {
        px_test_gate_open(&g);
    }
    /* Executors busy in the parent at the moment of the fork. */
    for (size_t i = 0; i < NEXEC; i++)
        for (int k = 0; k < 50; k++) assert_int_equal(px_post(ex[i], px_test_noop, NULL), 0);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a hang in the child kills it: the parent sees SIGALRM */
#ifdef PX_TEST_TSAN
        bool may_start_threads =
            false; /* TSan dies on thread creation after a multi-threaded fork */
#else
        bool may_start_threads = true;
#endif
        _exit(child_checks(ex, full, may_start_threads));
    }
    int status = px_test_wait_child(pid, 30ull * 1000000000ull, "fork child");
    expect_exit_code(status, 0, "fork child");

    /* The parent is unaffected. */
    for (size_t i = 0; i < NEXEC; i++) {
        void *res = NULL;
        assert_int_equal(px_call(ex[i], px_test_bump, NULL), 0);
        assert_int_equal(px_call_v(ex[i], px_test_bump_v, ex[i], &res), 0);
        assert_ptr_equal(res, ex[i]);
        assert_int_equal(px_post(ex[i], px_test_bump, NULL), 0);
        px_test_flush(ex[i]);
    }
    px_test_gate_open(&g);
    px_test_flush(full);
    assert_int_equal(px_test_runs, (full_ring_held ? 4 : 0) + NEXEC * 3);
    assert_int_equal(atomic_load(&g.timed_out), 0);
    for (size_t i = 0; i < NEXEC; i++) px_test_destroy(ex[i]);
    px_test_destroy(full);
}

static void test_fork_child_sees_dead_executors(void **state)
{
    (void)state;
    run_fork_case(true);
}

static void test_fork_child_sees_dead_executors_idle(void **state)
{
    (void)state;
    run_fork_case(false);
}

/* ---- 10. process exit does not hang -------------------------------------------- */

enum { CODE_RETURN = 42, CODE_EXIT = 43, CODE_EXIT_IN_CALL = 44, CODE_EXIT_IN_DESTROY = 45 };

static px_thread_t *live[8]; /* global: the executors stay reachable at exit */
static px_test_gate_t child_gate;

static void *child_blocked_call(void *arg)
{
    px_call(arg, px_test_noop, NULL);
    return NULL;
}

static void *child_blocked_post(void *arg)
{
    px_post(arg, px_test_noop, NULL);
    return NULL;
}

static void *child_destroyer(void *arg)
{
    px_thread_destroy(arg);
    return NULL;
}

static void exit_inside(void *arg) { exit((int)(intptr_t)arg); }

/*
 * Set up the state the exit must not hang on: executors in every mode with
 * queued posts, one held inside a post with a full ring, a thread blocked in
 * px_call on it and one blocked in px_post. Returns 0 or a check number.
 */
static int child_setup(void)
{
    for (size_t i = 0; i < NEXEC; i++) {
        px_thread_options_t o = {.size = sizeof o, .wait = px_test_modes[i]};
        if (px_thread_create(&live[i], &o) != 0) return 1;
        if (px_call(live[i], px_test_noop, NULL) != 0) return 2;
    }
    px_thread_options_t fo = {
        .size = sizeof fo, .capacity = 4, .wait = PX_WAIT_SLEEP, .name = "held"};
    if (px_thread_create(&live[NEXEC], &fo) != 0) return 3;
    px_thread_t *held = live[NEXEC];
    px_test_gate_init(&child_gate);
    if (px_post(held, px_test_gate_hold, &child_gate) != 0) return 4;
    if (!px_test_gate_wait_entered(&child_gate, 1)) return 5;
    for (int i = 0; i < 4; i++)
        if (px_try_post(held, px_test_noop, NULL) != 0) return 6;
    pthread_t th;
    if (pthread_create(&th, NULL, child_blocked_call, held) != 0) return 7;
    pthread_detach(th);
    if (pthread_create(&th, NULL, child_blocked_post, held) != 0) return 8;
    pthread_detach(th);
    /* Queued work on the others (it need not run before exit). */
    for (size_t i = 0; i < NEXEC; i++)
        for (int k = 0; k < 200; k++)
            if (px_post(live[i], px_test_noop, NULL) != 0) return 9;
    px_test_sleep_us(20000); /* let the blocked producers block */
    return 0;
}

static int child_main(const char *mode)
{
    alarm(20);
    int r = child_setup();
    if (r) return 100 + r;
    if (strcmp(mode, "--child-return") == 0) return CODE_RETURN;
    if (strcmp(mode, "--child-exit") == 0) exit(CODE_EXIT);
    if (strcmp(mode, "--child-exit-in-call") == 0) {
        px_call(live[0], exit_inside, (void *)(intptr_t)CODE_EXIT_IN_CALL);
        return 99; /* not reached */
    }
    if (strcmp(mode, "--child-exit-in-destroy") == 0) {
        /* Another thread is inside px_thread_destroy of the held executor. */
        pthread_t th;
        if (pthread_create(&th, NULL, child_destroyer, live[NEXEC]) != 0) return 98;
        pthread_detach(th);
        px_test_sleep_us(20000);
        exit(CODE_EXIT_IN_DESTROY);
    }
    return 97;
}

static const char *self_exe;

static void run_exit_case(const char *mode, int code)
{
    char *argv[] = {(char *)self_exe, (char *)mode, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
    assert_int_equal(r, 0);
    int status = px_test_wait_child(pid, 30ull * 1000000000ull, mode);
    expect_exit_code(status, code, mode);
}

static void test_fork_exit_with_live_executors(void **state)
{
    (void)state;
    run_exit_case("--child-exit", CODE_EXIT);
}

static void test_fork_return_from_main_with_live_executors(void **state)
{
    (void)state;
    run_exit_case("--child-return", CODE_RETURN);
}

static void test_fork_exit_inside_call(void **state)
{
    (void)state;
    run_exit_case("--child-exit-in-call", CODE_EXIT_IN_CALL);
}

static void test_fork_exit_while_destroying(void **state)
{
    (void)state;
    run_exit_case("--child-exit-in-destroy", CODE_EXIT_IN_DESTROY);
}

/* fork() from a process with live executors, then exit in the child with the
 * inherited (dead) ones never destroyed: the child must exit, too. */
static void test_fork_child_exit_without_destroy(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_SLEEP, 0, NULL);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        exit(px_post(t, px_test_noop, NULL) == -ESRCH ? 0
                                                      : 1); /* exit(), not _exit(): run atexit */
    }
    expect_exit_code(px_test_wait_child(pid, 30ull * 1000000000ull, "fork child exit"), 0,
                     "fork child exit");
    px_test_flush(t);
    px_test_destroy(t);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strncmp(argv[1], "--child-", 8) == 0) return child_main(argv[1]);
    self_exe = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_child_sees_dead_executors),
        cmocka_unit_test(test_fork_child_sees_dead_executors_idle),
        cmocka_unit_test(test_fork_child_exit_without_destroy),
        cmocka_unit_test(test_fork_exit_with_live_executors),
        cmocka_unit_test(test_fork_return_from_main_with_live_executors),
        cmocka_unit_test(test_fork_exit_inside_call),
        cmocka_unit_test(test_fork_exit_while_destroying),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
