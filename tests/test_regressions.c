/*
 * Regression tests for defects a review found in the core (fixed in commit
 * bf4de36), one case per defect; each failed (or hung) before its fix:
 *
 *   - px_thread_destroy(Y) from work an executor runs while it waits for space
 *     in Y's ring waited for that very wait: now -EDEADLK at once;
 *   - a fork() child served its parent's executors: the main thread's queue
 *     when it waited on an executor of its own, and the rest of a created
 *     executor's ring when it was forked by an item (the child then never
 *     ended);
 *   - px_thread_detach from work the executor runs (inside px_drain) freed it
 *     under px_drain (use-after-free): now -EBUSY;
 *   - px_thread_fd first asked for after work was queued: readable at once.
 *
 * Every wait is bounded (a hang fails in seconds). Nothing asserts on an
 * executor thread or in a fork child: they record, or report through their
 * exit status and a pipe.
 */
#include "px_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

/* Bound of each scenario here: a hang of the old code fails within it. */
#define BOUND_NS (10ull * 1000000000ull)

/* ---- destroy from work run during a space wait ---------------------------- */

typedef struct space_ctx {
    px_thread_t *y;
    unsigned long y_runs; /* written on Y only */
    int post_r;           /* flood's px_post(Y), on X */
    int destroy_r;        /* killer's px_thread_destroy(Y), on X */
    _Atomic int flood_done, killer_done;
} space_ctx_t;

/* On X: post to Y, whose ring is full and whose thread is held: X waits for
 * space (holding Y's gate) and serves its own queue meanwhile. */
static void flood(void *arg)
{
    space_ctx_t *c = arg;
    c->post_r = px_post(c->y, px_test_count, &c->y_runs);
    atomic_store_explicit(&c->flood_done, 1, memory_order_release); /* pairs with the test's wait */
}

/* On X, nested in flood's space wait (X runs nothing else until flood returns). */
static void killer(void *arg)
{
    space_ctx_t *c = arg;
    c->destroy_r = px_thread_destroy(c->y);
    atomic_store_explicit(&c->killer_done, 1,
                          memory_order_release); /* pairs with the test's wait */
}

static void test_regressions_destroy_from_space_wait(void **state)
{
    (void)state;
    space_ctx_t c = {.post_r = 1, .destroy_r = 1};
    atomic_init(&c.flood_done, 0);
    atomic_init(&c.killer_done, 0);
    px_test_gate_t gy;
    px_test_gate_init(&gy);
    px_thread_t *x = px_test_create(PX_WAIT_ADAPTIVE, 0, "reg-x");
    c.y = px_test_create(PX_WAIT_ADAPTIVE, 1, "reg-y");

    /* Y is held inside the gate, and its one-cell ring is full. */
    assert_int_equal(px_post(c.y, px_test_gate_hold, &gy), 0);
    assert_true(px_test_gate_wait_entered(&gy, 1));
    assert_int_equal(px_post(c.y, px_test_count, &c.y_runs), 0);
    assert_int_equal(px_try_post(c.y, px_test_noop, NULL), -EAGAIN);

    assert_int_equal(px_post(x, flood, &c), 0);
    assert_int_equal(px_post(x, killer, &c), 0);
    bool killed = px_test_wait_at_least(&c.killer_done, 1, BOUND_NS);
    bool flooded_early = atomic_load(&c.flood_done) != 0;
    if (!killed) {
        px_test_gate_open(&gy);
        fail_msg("px_thread_destroy(Y) from work run during X's wait for space in Y hung "
                 "(waited %llu s)",
                 (unsigned long long)(BOUND_NS / 1000000000ull));
    }
    /* The refusal came while Y was still held, so from inside the space wait. */
    assert_false(flooded_early);
    assert_int_equal(c.destroy_r, -EDEADLK);

    px_test_gate_open(&gy);
    assert_true(px_test_wait_at_least(&c.flood_done, 1, BOUND_NS));
    px_test_flush(x);
    assert_int_equal(c.post_r, 0);
    px_test_flush(c.y);
    assert_int_equal(atomic_load(&gy.timed_out), 0);
    /* Y is intact: destroy from the test thread succeeds and everything ran. */
    assert_int_equal(px_thread_destroy(c.y), 0);
    assert_int_equal(c.y_runs, 2);
    px_test_destroy(x);
}

/* ---- a fork child does not serve its parent's work ------------------------ */

static int marker_fd = -1; /* write end of the marker pipe */

/* Post function: write this process's pid to the marker pipe. */
static void marker(void *arg)
{
    (void)arg;
    pid_t pid = getpid();
    ssize_t n = write(marker_fd, &pid, sizeof pid);
    (void)n; /* a short write shows as a missing marker */
}

/* Read every marker written so far: counts of parent and other pids. */
static void read_markers(int rfd, int *parent, int *other)
{
    *parent = 0;
    *other = 0;
    pid_t pid;
    while (read(rfd, &pid, sizeof pid) == (ssize_t)sizeof pid) {
        if (pid == getpid()) ++*parent;
        else ++*other;
    }
}

static void open_markers(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    marker_fd = fds[1];
}

#define NMARKERS 3

/* In the child of (a): 0 or the number of the first failed check. */
static int fork_main_child(void)
{
    int bad = 0;
#ifndef PX_SANITIZE_THREAD /* TSan forbids starting threads in a fork child */
    px_thread_t *t = NULL;
    if (px_thread_create(&t, NULL) != 0) return 1;
    /* Before the fix the child still took itself for the main executor and
     * ran the parent's queued posts while it waited here. */
    if (px_call(t, px_test_noop, NULL) != 0) bad = bad ? bad : 2;
    if (px_thread_destroy(t) != 0) bad = bad ? bad : 3;
#endif
    if (px_thread_current() != NULL) bad = bad ? bad : 4;
    if (px_drain(px_mainthread(), 0) != -ESRCH) bad = bad ? bad : 5;
    return bad;
}

/* (a) Posts queued to the main executor, then fork() on the main thread. */
static void fork_from_main_thread(void)
{
    int fds[2];
    open_markers(fds);
    /* The main thread knows it serves the main executor before the fork. */
    assert_ptr_equal(px_thread_current(), px_mainthread());
    for (int i = 0; i < NMARKERS; i++) assert_int_equal(px_post(px_mainthread(), marker, NULL), 0);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(fork_main_child());
    int status = px_test_wait_child(pid, BOUND_NS, "fork from the main thread");
    int parent, other;
    read_markers(fds[0], &parent, &other);
    if (other != 0) fail_msg("the fork child ran %d of the parent's queued posts", other);
    assert_int_equal(parent, 0);
    if (!WIFEXITED(status)) fail_msg("fork from the main thread: child status 0x%x", status);
    if (WEXITSTATUS(status) != 0)
        fail_msg("fork from the main thread: the child's check %d failed", WEXITSTATUS(status));
    /* The parent's main executor still has them: each runs once, here. */
    assert_ptr_equal(px_thread_current(), px_mainthread());
    assert_int_equal(px_drain(px_mainthread(), 0), NMARKERS);
    read_markers(fds[0], &parent, &other);
    assert_int_equal(parent, NMARKERS);
    assert_int_equal(other, 0);
    close(fds[0]);
    close(fds[1]);
}

typedef struct forker_ctx {
    px_test_gate_t gate;
    pid_t child; /* written on X in the parent, read after a flush */
} forker_ctx_t;

/* Set in the child forked by an item (its only thread). */
static volatile sig_atomic_t forked_child;

/* LeakSanitizer's hook, asked at exit: the child forked by an item ends with
 * exit(0) holding the parent's heap, whose owners (the parent's other
 * threads) do not exist there; that is no leak of the child's. */
int __lsan_is_turned_off(void);
__attribute__((visibility("default"), used)) int __lsan_is_turned_off(void) { return forked_child; }

/* On X: wait until the markers are queued behind this item, then fork. The
 * child returns from the item: X is dead there, its thread (and process) ends. */
static void forker(void *arg)
{
    forker_ctx_t *f = arg;
    px_test_gate_hold(&f->gate);
    pid_t pid = fork();
    if (pid > 0) f->child = pid;
    if (pid == 0) forked_child = 1;
}

/* (b) An item of a created executor forks and the child returns from it. */
static void fork_from_item(void)
{
    int fds[2];
    open_markers(fds);
    forker_ctx_t f = {.child = 0};
    px_test_gate_init(&f.gate);
    px_thread_t *x = px_test_create(PX_WAIT_ADAPTIVE, 0, "reg-forker");
    assert_int_equal(px_post(x, forker, &f), 0);
    assert_true(px_test_gate_wait_entered(&f.gate, 1));
    for (int i = 0; i < NMARKERS; i++) assert_int_equal(px_post(x, marker, NULL), 0);
    px_test_gate_open(&f.gate);
    px_test_flush(x); /* the parent's X ran forker and the markers */
    assert_true(f.child > 0);

    int status = px_test_wait_child(f.child, BOUND_NS, "fork from an item");
    int parent, other;
    read_markers(fds[0], &parent, &other);
    if (other != 0)
        fail_msg("the child forked by an item ran %d of the posts queued behind it", other);
#ifndef PX_TEST_TSAN
    /* The child's only thread returned: glibc ends the process with exit(0).
     * Under TSan that exit crashes in the runtime (atexit handlers run on a
     * thread TSan already finished; a plain pthread program that registered
     * atexit() and forks from a thread does the same), so there it is enough
     * that the child ended on its own. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("fork from an item: child status 0x%x", status);
#else
    (void)status;
#endif
    assert_int_equal(parent, NMARKERS);

    /* The parent's X keeps working. */
    assert_int_equal(px_post(x, marker, NULL), 0);
    px_test_flush(x);
    read_markers(fds[0], &parent, &other);
    assert_int_equal(parent, 1);
    assert_int_equal(other, 0);
    px_test_destroy(x);
    close(fds[0]);
    close(fds[1]);
}

static void test_regressions_fork_child_does_not_serve_parent_work(void **state)
{
    (void)state;
    fork_from_main_thread();
    fork_from_item();
}

/* ---- detach from work the executor runs ----------------------------------- */

typedef struct owner_ctx {
    int attach_r, nested_r, drain1_r, drain2_r, detach_r;
    unsigned long runs; /* written on the owner thread */
    int fd_r, ready_before, ready_after;
    _Atomic int attached, posted;
    px_thread_t *a;
} owner_ctx_t;

static void detach_current(void *arg)
{
    owner_ctx_t *o = arg;
    o->nested_r = px_thread_detach(px_thread_current());
}

static void *detach_owner(void *arg)
{
    owner_ctx_t *o = arg;
    px_thread_t *a = NULL;
    o->attach_r = px_thread_attach(&a, NULL);
    if (o->attach_r) return NULL;
    px_post(a, detach_current, o);
    px_post(a, px_test_count, &o->runs);
    /* Before the fix the nested detach freed a under this drain. */
    o->drain1_r = px_drain(a, 0);
    px_post(a, px_test_count, &o->runs);
    o->drain2_r = px_drain(a, 0);
    o->detach_r = px_thread_detach(a);
    return NULL;
}

static void test_regressions_nested_detach_is_ebusy(void **state)
{
    (void)state;
    owner_ctx_t o = {.nested_r = 1, .drain1_r = -1, .drain2_r = -1, .detach_r = 1};
    px_test_thread_t th;
    px_test_thread_start(&th, detach_owner, &o);
    if (!px_test_thread_join_within(&th, BOUND_NS)) fail_msg("the owner thread hung");
    assert_int_equal(o.attach_r, 0);
    assert_int_equal(o.nested_r, -EBUSY);
    assert_int_equal(o.drain1_r, 2);
    assert_int_equal(o.drain2_r, 1);
    assert_int_equal(o.runs, 2);
    assert_int_equal(o.detach_r, 0);
}

/* ---- fd first asked for after work was queued ----------------------------- */

static int fd_ready(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 0);
    return r < 0 ? -errno : (r > 0 && (p.revents & POLLIN));
}

static void *fd_owner(void *arg)
{
    owner_ctx_t *o = arg;
    o->attach_r = px_thread_attach(&o->a, NULL);
    atomic_store_explicit(&o->attached, 1, memory_order_release); /* pairs with the test's wait */
    if (o->attach_r) return NULL;
    if (!px_test_wait_at_least(&o->posted, 1, BOUND_NS)) return NULL;
    px_post(o->a, px_test_count, &o->runs); /* one from the owner itself too */
    o->fd_r = px_thread_fd(o->a);
    if (o->fd_r < 0) return NULL;
    o->ready_before = fd_ready(o->fd_r);
    o->drain1_r = px_drain(o->a, 0);
    o->ready_after = fd_ready(o->fd_r);
    o->detach_r = px_thread_detach(o->a);
    return NULL;
}

static void test_regressions_fd_created_after_work_is_readable(void **state)
{
    (void)state;
    owner_ctx_t o = {
        .fd_r = -1, .ready_before = -1, .ready_after = -1, .drain1_r = -1, .detach_r = 1};
    atomic_init(&o.attached, 0);
    atomic_init(&o.posted, 0);
    px_test_thread_t th;
    px_test_thread_start(&th, fd_owner, &o);
    assert_true(px_test_wait_at_least(&o.attached, 1, BOUND_NS));
    assert_int_equal(o.attach_r, 0);
    /* Queued by another thread before the fd exists. */
    assert_int_equal(px_post(o.a, px_test_count, &o.runs), 0);
    assert_int_equal(px_post(o.a, px_test_count, &o.runs), 0);
    atomic_store_explicit(&o.posted, 1, memory_order_release); /* pairs with fd_owner's wait */
    if (!px_test_thread_join_within(&th, BOUND_NS)) fail_msg("the owner thread hung");
    assert_true(o.fd_r >= 0);
    assert_int_equal(o.ready_before, 1);
    assert_int_equal(o.drain1_r, 3);
    assert_int_equal(o.runs, 3);
    assert_int_equal(o.ready_after, 0);
    assert_int_equal(o.detach_r, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regressions_destroy_from_space_wait),
        cmocka_unit_test(test_regressions_fork_child_does_not_serve_parent_work),
        cmocka_unit_test(test_regressions_nested_detach_is_ebusy),
        cmocka_unit_test(test_regressions_fd_created_after_work_is_readable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
