/*
 * The main-thread executor: a driven executor (executors/driven.c) claimed
 * when the library is loaded, whose owner is the process main thread (on
 * Linux, the thread whose tid equals the pid). px_main serves it while the
 * application runs on another thread.
 */
#include <stdio.h>
#include <stdlib.h>

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
    int result;
    _Atomic uint32_t done;
} app_t;

static void nothing(void *arg) { (void)arg; }

static void *app_main(void *arg)
{
    app_t *a = arg;
    a->result = a->fn(a->arg);
    /* Release pairs with the acquire load in px_main's serving loop; the post
     * then makes sure the main thread leaves px_serve to see it. */
    px__store_release(&a->done, 1);
    px_post(px__main_executor, nothing, NULL);
    return NULL;
}

int px_main(int (*fn)(void *arg), void *arg)
{
    if (fn == NULL) return px__fail(-EINVAL, "px_main: fn is NULL");
    if (!px_is_main_thread())
        return px__fail(-EPERM, "px_main: must be called on the main thread (tid %ld), not tid %ld",
                        px__getpid(), px__gettid());
    struct px_thread *m = px__main_executor;
    if (px__check_alive(m)) return px__fail(-ESRCH, "px_main: the main executor died with fork()");
    uint32_t expected = MAIN_IDLE;
    /* seq_cst: one px_main at a time, whatever thread asks. */
    if (!px__cas_seq_cst(&main_state, &expected, MAIN_RUNNING))
        return expected == MAIN_RUNNING ? px__fail(-EBUSY, "px_main: already running")
                                        : px__fail(-ESHUTDOWN, "px_main: already returned");
    app_t a = {.fn = fn, .arg = arg};
    px__os_thread_t th;
    int r = px__thread_start(&th, app_main, &a);
    if (r) {
        px__store_seq_cst(&main_state, MAIN_IDLE);
        return px__fail(-EAGAIN, "px_main: cannot start the application thread (%s)", px_strerror(r));
    }
    while (px__load_acquire(&a.done) == 0) /* pairs with the release store in app_main */
        px_serve(m, -1);
    px__driven_shutdown(m); /* runs what is still queued; later work gets -ESHUTDOWN */
    px__thread_join(th);
    px__store_seq_cst(&main_state, MAIN_DONE);
    return a.result;
}
