/*
 * Stress tier, signals and fork.
 *
 * Signal storm: a handler installed without SA_RESTART, and a thread that
 * keeps sending the signal to every producer and every executor thread while
 * they call and post. Every futex sleep in pinexec is interrupted over and
 * over (EINTR); every accepted item must still run exactly once, in order,
 * and every call must return 0.
 *
 * fork() while calls are in flight: producers hammer two executors while the
 * test thread forks, and while an executor forks from inside an item it runs.
 * In the child every inherited executor is dead: calls, posts and
 * px_thread_cpus return -ESRCH, px_thread_destroy frees the handle without
 * joining. The parent keeps working: nothing is lost or duplicated.
 */
#include "test_stress.h"

#include <signal.h>
#include <sys/wait.h>

#define SG_NE 3
#define SG_NP 4

typedef struct sg {
    px_thread_t *ex[SG_NE];
    unsigned nops;
    _Atomic int stop;
    uint32_t expect[SG_NE][SG_NP + 1]; /* row e: executor e only; column SG_NP: the test thread */
    uint64_t bad_order[SG_NE];
    uint64_t accepted[SG_NE][SG_NP + 1]; /* column p: producer p only */
    uint64_t errors[SG_NP + 1];
    int last_rc[SG_NP + 1];
    _Atomic long tids[SG_NP];
    _Atomic unsigned ready;
} sg_t;

static sg_t sg;
static _Atomic long sg_handled; /* bumped by the handler (lock-free, so signal-safe): a gauge */

static void on_sigusr1(int sig)
{
    (void)sig;
    atomic_fetch_add_explicit(&sg_handled, 1,
                              memory_order_relaxed); /* a count; nothing depends on it */
}

static void sg_item(void *a)
{
    unsigned p = stress_item_producer(a), e = stress_item_exec(a);
    uint32_t s = stress_item_seq(a);
    if (s != sg.expect[e][p]) sg.bad_order[e]++;
    sg.expect[e][p] = s + 1;
}

static void *sg_item_v(void *a)
{
    sg_item(a);
    return (void *)((uintptr_t)a ^ STRESS_MAGIC);
}

/* One producer's run: nops random operations, counted (also run by the test
 * thread, as the main thread, with p == SG_NP). */
static void sg_produce(unsigned p, unsigned nops)
{
    uint64_t rng = 0xBF58476D1CE4E5B9ull * (p + 11);
    uint32_t next[SG_NE] = {0};
    for (unsigned i = 0; i < nops; i++) {
        unsigned e = stress_below(&rng, SG_NE);
        void *a = stress_item(p, e, next[e]);
        int r;
        switch (stress_below(&rng, 4)) {
        case 0: r = px_call(sg.ex[e], sg_item, a); break;
        case 1: {
            void *res = NULL;
            r = px_call_v(sg.ex[e], sg_item_v, a, &res);
            if (r == 0 && res != (void *)((uintptr_t)a ^ STRESS_MAGIC)) r = -1000;
            break;
        }
        case 2: r = px_post(sg.ex[e], sg_item, a); break;
        default:
            r = px_try_post(sg.ex[e], sg_item, a);
            if (r == -EAGAIN) r = px_post(sg.ex[e], sg_item, a);
            break;
        }
        if (r == 0 || r == -1000) {
            next[e]++;
            sg.accepted[e][p]++;
        }
        if (r != 0) {
            sg.errors[p]++;
            sg.last_rc[p] = r;
        }
    }
}

static void *sg_producer(void *arg)
{
    unsigned p = (unsigned)(uintptr_t)arg;
    atomic_store_explicit(&sg.tids[p], px_test_gettid(),
                          memory_order_relaxed);                   /* published by ready */
    atomic_fetch_add_explicit(&sg.ready, 1, memory_order_release); /* pairs with the signaller */
    sg_produce(p, sg.nops);
    return NULL;
}

static void *sg_signaller(void *arg)
{
    (void)arg;
    unsigned long sent = 0;
    while (atomic_load_explicit(&sg.ready, memory_order_acquire) < SG_NP)
        sched_yield(); /* pairs with sg_producer */
    long pid = getpid(), main_tid = pid;
    while (
        !atomic_load_explicit(&sg.stop, memory_order_acquire)) { /* pairs with the test's store */
        for (unsigned p = 0; p < SG_NP; p++)
            if (syscall(SYS_tgkill, pid, atomic_load_explicit(&sg.tids[p], memory_order_relaxed),
                        SIGUSR1) == 0)
                sent++;
        for (unsigned e = 0; e < SG_NE; e++)
            if (syscall(SYS_tgkill, pid, px_thread_tid(sg.ex[e]), SIGUSR1) == 0) sent++;
        if (syscall(SYS_tgkill, pid, main_tid, SIGUSR1) == 0) sent++;
        px_test_sleep_us(20);
    }
    return (void *)(uintptr_t)sent;
}

static void test_stress_signal_storm(void **state)
{
    (void)state;
    memset(&sg, 0, sizeof sg);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sa.sa_flags = 0; /* no SA_RESTART: blocking system calls fail with EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);

    sg.nops = stress_n(25000);
    const px_wait_t modes[SG_NE] = {PX_WAIT_SLEEP, PX_WAIT_ADAPTIVE, PX_WAIT_SLEEP};
    const unsigned caps[SG_NE] = {2, 8, 64};
    for (int e = 0; e < SG_NE; e++) sg.ex[e] = px_test_create(modes[e], caps[e], "sig");
    px_test_thread_t prod[SG_NP], sig;
    for (unsigned p = 0; p < SG_NP; p++)
        px_test_thread_start(&prod[p], sg_producer, (void *)(uintptr_t)p);
    px_test_thread_start(&sig, sg_signaller, NULL);
    sg_produce(SG_NP, sg.nops / 4); /* the main thread too, interrupted in its own waits */
    for (unsigned p = 0; p < SG_NP; p++) px_test_thread_join(&prod[p]);
    atomic_store_explicit(&sg.stop, 1, memory_order_release); /* pairs with sg_signaller */
    px_test_thread_join(&sig);
    for (int e = 0; e < SG_NE; e++) px_test_flush(sg.ex[e]);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);

    uint64_t total = 0;
    for (unsigned p = 0; p <= SG_NP; p++)
        if (sg.errors[p])
            fail_msg("producer %u: %llu failures, last %d", p, (unsigned long long)sg.errors[p],
                     sg.last_rc[p]);
    for (int e = 0; e < SG_NE; e++) {
        assert_int_equal(sg.bad_order[e], 0);
        for (unsigned p = 0; p <= SG_NP; p++) {
            assert_int_equal(sg.expect[e][p], sg.accepted[e][p]);
            total += sg.accepted[e][p];
        }
        px_test_destroy(sg.ex[e]);
    }
    assert_int_equal(total, (uint64_t)sg.nops * SG_NP + sg.nops / 4);
    unsigned long sent = (unsigned long)(uintptr_t)sig.ret;
    assert_true(sent > 0);
    print_message("signal storm: %llu items exactly once under %lu signals (%ld handled)\n",
                  (unsigned long long)total, sent, atomic_load(&sg_handled));
}

/* ---- fork ------------------------------------------------------------------ */

/* Child's checks: a bit per failed expectation; 0 when the child saw dead executors. */
static int child_checks(px_thread_t *a, px_thread_t *b, bool free_b)
{
    int bad = 0;
    unsigned long dummy = 0;
    void *res = NULL;
    char buf[64];
    if (px_call(a, px_test_count, &dummy) != -ESRCH) bad |= 1;
    if (px_call_v(a, sg_item_v, NULL, &res) != -ESRCH) bad |= 2;
    if (px_post(a, px_test_count, &dummy) != -ESRCH) bad |= 4;
    if (px_try_post(b, px_test_count, &dummy) != -ESRCH) bad |= 8;
    if (px_thread_cpus(b, buf, sizeof buf) != -ESRCH) bad |= 16;
    if (dummy != 0) bad |= 32; /* nothing ran */
    if (strstr(px_last_error(), "fork") == NULL) bad |= 64;
    if (free_b && px_thread_destroy(b) != 0) bad |= 128; /* frees without joining */
    return bad;
}

typedef struct fk {
    px_thread_t *ex[2];
    _Atomic int stop;
    uint32_t expect[2][3]; /* row e: executor e only */
    uint64_t bad_order[2];
    uint64_t accepted[2][3]; /* column p: producer p only */
    uint64_t errors[3];
    int in_exec_status; /* the child status seen by the item that forked */
    int in_exec_forks;
} fk_t;

static fk_t fk;

static void fk_item(void *a)
{
    unsigned p = stress_item_producer(a), e = stress_item_exec(a);
    uint32_t s = stress_item_seq(a);
    if (s != fk.expect[e][p]) fk.bad_order[e]++;
    fk.expect[e][p] = s + 1;
}

static void *fk_producer(void *arg)
{
    unsigned p = (unsigned)(uintptr_t)arg;
    uint32_t next[2] = {0};
    uint64_t rng = 77 + p;
    while (!atomic_load_explicit(&fk.stop, memory_order_acquire)) { /* pairs with the test */
        unsigned e = stress_below(&rng, 2);
        void *a = stress_item(p, e, next[e]);
        int r =
            stress_below(&rng, 2) ? px_call(fk.ex[e], fk_item, a) : px_post(fk.ex[e], fk_item, a);
        if (r == 0) {
            next[e]++;
            fk.accepted[e][p]++;
        } else {
            fk.errors[p]++;
        }
    }
    return NULL;
}

/* Runs on executor 0: fork from inside an item. The child is a copy of the
 * executor's thread (px_thread_current() says it is executor 0), and still
 * every inherited executor is dead there, its own included. */
static void fork_from_executor(void *arg)
{
    (void)arg;
    pid_t pid = fork();
    if (pid == 0) {
        int bad = child_checks(fk.ex[0], fk.ex[1], false);
        if (px_thread_current() != fk.ex[0]) bad |= 256;
        _exit(bad);
    }
    int status = -1;
    if (pid > 0) waitpid(pid, &status, 0);
    fk.in_exec_status = status;
    fk.in_exec_forks++;
}

static void test_stress_fork_with_calls_in_flight(void **state)
{
    (void)state;
    memset(&fk, 0, sizeof fk);
    fk.ex[0] = px_test_create(PX_WAIT_ADAPTIVE, 4, "fork-a");
    fk.ex[1] = px_test_create(PX_WAIT_SLEEP, 4, "fork-b");
    px_test_thread_t prod[2];
    for (unsigned p = 0; p < 2; p++)
        px_test_thread_start(&prod[p], fk_producer, (void *)(uintptr_t)p);
    unsigned nforks = stress_n(60);
    for (unsigned i = 0; i < nforks; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(child_checks(fk.ex[0], fk.ex[1], i % 2 == 0));
        int status = -1;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
            fail_msg("fork %u: child checks failed, mask 0x%x", i, WEXITSTATUS(status));
        if (i % 10 == 0) {
            /* The parent's executors keep working, also from the test thread;
             * and one executor forks from inside a call. */
            assert_int_equal(px_call(fk.ex[0], fork_from_executor, NULL), 0);
            assert_true(WIFEXITED(fk.in_exec_status));
            if (WEXITSTATUS(fk.in_exec_status) != 0)
                fail_msg("fork from executor: child checks failed, mask 0x%x",
                         WEXITSTATUS(fk.in_exec_status));
        }
    }
    atomic_store_explicit(&fk.stop, 1, memory_order_release); /* pairs with fk_producer */
    for (unsigned p = 0; p < 2; p++) px_test_thread_join(&prod[p]);
    uint64_t total = 0;
    for (int e = 0; e < 2; e++) {
        px_test_flush(fk.ex[e]);
        assert_int_equal(fk.bad_order[e], 0);
        for (unsigned p = 0; p < 2; p++) {
            assert_int_equal(fk.errors[p], 0);
            assert_int_equal(fk.expect[e][p], fk.accepted[e][p]);
            total += fk.accepted[e][p];
        }
        px_test_destroy(fk.ex[e]);
    }
    assert_true(fk.in_exec_forks > 0);
    print_message("fork: %u forks (+%d from inside an executor) with %llu items in flight, all "
                  "exactly once\n",
                  nforks, fk.in_exec_forks, (unsigned long long)total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stress_signal_storm),
        cmocka_unit_test(test_stress_fork_with_calls_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
