/*
 * The main-thread executor: a driven executor (executors/driven.c) claimed
 * when the library is loaded, whose owner is the process main thread (on
 * Linux, the thread whose tid equals the pid). px_main serves it while the
 * application runs on another thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "executor.h"

struct px_thread *px__main_executor;

enum { MAIN_IDLE = 0, MAIN_RUNNING, MAIN_DONE };
static _Atomic uint32_t main_state; /* px_main's progress */
static __thread int tls_is_main = -1;

static void main_fork_child(void)
{
    tls_is_main = -1; /* the forking thread is the child's main thread */
}

__attribute__((constructor)) static void mainthread_init(void)
{
    static const px_thread_options_t defaults;
    struct px_thread *m = px__executor_alloc(&defaults, "main");
    if (m == NULL) {
        fputs("pinexec: out of memory claiming the main-thread executor\n", stderr);
        abort();
    }
    m->kind = PX__MAIN;
    m->tid = px__getpid();
    if (px__is_main_thread()) m->os = px__thread_self();
    atomic_init(&m->state, PX__AWAY);
    atomic_init(&m->armed, 1);
    px__main_executor = m;
    px__atfork_child(main_fork_child);
}

px_thread_t *px_mainthread(void) { return px__main_executor; }

bool px_is_main_thread(void)
{
    if (PX_UNLIKELY(tls_is_main < 0)) tls_is_main = px__is_main_thread();
    return tls_is_main;
}

typedef struct app {
    int (*fn)(void *);
    void *arg;
    const px_main_loop_t *loop;
    int result;
    _Atomic uint32_t done;
} app_t;

static void nothing(void *arg) { (void)arg; }

static void *app_main(void *arg)
{
    app_t *a = arg;
    a->result = a->fn(a->arg);
    /* Release pairs with the acquire loads in the serving loops. Then make the
     * main thread look: through the foreign loop's wake, or a post that ends
     * px_serve (the main executor is open: only its owner closes it). */
    px__store_release(&a->done, 1);
    if (a->loop) a->loop->wake(a->loop->ctx);
    else px_post(px__main_executor, nothing, NULL);
    return NULL;
}

static void serve_own(app_t *a, struct px_thread *m)
{
    while (px__load_acquire(&a->done) == 0) /* pairs with the release store in app_main */
        if (px_serve(m, -1) < 0) return;    /* cannot happen: only we close m */
}

/* The foreign loop: drain, then wait in the loop until an event or the wake
 * hook. Entering px_drain re-arms the hook; leaving it fires the hook if work
 * arrived meanwhile, so nothing stays queued while the loop waits. */
static void serve_foreign(app_t *a, struct px_thread *m)
{
    for (;;) {
        px_drain(m, 0);
        if (px__load_acquire(&a->done)) return; /* pairs with the release store in app_main */
        a->loop->wait(a->loop->ctx);
    }
}

int px_main_loop(int (*fn)(void *arg), void *arg, const px_main_loop_t *loop)
{
    const char *what = loop ? "px_main_loop" : "px_main";
    if (fn == NULL) return px__fail(-EINVAL, "%s: fn is NULL", what);
    if (loop && (loop->wait == NULL || loop->wake == NULL))
        return px__fail(-EINVAL, "%s: loop->%s is NULL", what, loop->wait ? "wake" : "wait");
    if (!px_is_main_thread())
        return px__fail(-EPERM, "%s: must be called on the main thread (tid %ld), not tid %ld",
                        what, px__getpid(), px__gettid());
    struct px_thread *m = px__main_executor;
    if (px__check_alive(m)) return px__fail(-ESRCH, "%s: the main executor died with fork()", what);
    /* Relaxed: only the owner (us) moves state away from AWAY; it is AWAY
     * exactly while the main thread runs its own code, not inside px_serve,
     * px_drain or a wait on another executor that runs a call of ours. A
     * finished claim is reported as such first. */
    if (px__load_seq_cst(&main_state) != MAIN_DONE && px__load_relaxed(&m->state) != PX__AWAY)
        return px__fail(-EBUSY,
                        "%s: the main thread is serving the main executor already "
                        "(called from inside px_serve, px_drain or a wait)",
                        what);
    uint32_t expected = MAIN_IDLE;
    /* seq_cst: one claim of the main thread at a time (px_main, px_main_loop). */
    if (!px__cas_seq_cst(&main_state, &expected, MAIN_RUNNING))
        return expected == MAIN_RUNNING
                   ? px__fail(-EBUSY,
                              "%s: the main thread is already served by px_main/px_main_loop", what)
                   : px__fail(-ESHUTDOWN, "%s: px_main/px_main_loop already returned", what);
    int r = loop && loop->start ? loop->start(loop->ctx) : 0;
    if (r < 0) {
        px__store_seq_cst(&main_state, MAIN_IDLE); /* nothing started: may be retried */
        return r;
    }
    if (loop) px_thread_set_wake(m, loop->wake, loop->ctx);
    app_t a = {.fn = fn, .arg = arg, .loop = loop};
    px__os_thread_t th;
    r = px__thread_start(&th, app_main, &a);
    if (r) {
        if (loop) px_thread_set_wake(m, NULL, NULL);
        if (loop && loop->stop) loop->stop(loop->ctx);
        px__store_seq_cst(&main_state, MAIN_IDLE);
        return px__fail(-EAGAIN, "%s: the OS refused a new thread for the application (%s)", what,
                        strerror(-r));
    }
    if (loop) serve_foreign(&a, m);
    else serve_own(&a, m);
    /* What is still queued runs (the loop is still alive), later work gets
     * -ESHUTDOWN; this also releases the app thread if its final post waits
     * for space, so shut down before joining. Once the gate is drained and the
     * app thread joined, no one is left to call the hook: the loop may stop. */
    px__driven_shutdown(m);
    px__thread_join(th);
    if (loop && loop->stop) loop->stop(loop->ctx);
    px__store_seq_cst(&main_state, MAIN_DONE);
    return a.result;
}

int px_main(int (*fn)(void *arg), void *arg) { return px_main_loop(fn, arg, NULL); }
