/*
 * px_glfw_main: the main thread waits in glfwWaitEvents() and serves the main
 * executor between events; glfwPostEmptyEvent() is the main executor's wake
 * hook, so a call from any thread interrupts the wait at once.
 *
 * Why not px_main: px_main sleeps in px_serve (a futex), where GLFW cannot
 * deliver window events. Here the roles are reversed: GLFW's wait is the
 * sleep, and pinexec wakes it. The wake protocol of driven executors
 * (docs/mainthread.md) fires the hook at most once per px_drain entry, and
 * px_drain's exit re-checks the ring, so a call is never left queued while
 * the main thread sleeps in glfwWaitEvents.
 *
 * GLFW 3.3 on X11 wakes that wait with a client message through the X server
 * and waits with `while (!XPending) select(fd)`; another thread's Xlib round
 * trip can read the message between the two, and the wait then lasts until
 * the next data on the connection. GLFW 3.4 wakes through a pipe. See
 * docs/glfw.md ("The wake, measured").
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "atomic.h"
#include "glfw_internal.h"

enum { GLFW_IDLE = 0, GLFW_STARTING, GLFW_RUNNING, GLFW_STOPPING, GLFW_DONE };
static _Atomic uint32_t glfw_state;
static _Atomic uint64_t wake_count, wait_count;

bool px__glfw_running(void)
{
    /* Acquire pairs with the release store of RUNNING in px_glfw_main: GLFW
     * is initialised and the wake hook set before a helper forwards work. */
    return px__load_acquire(&glfw_state) == GLFW_RUNNING;
}

/* Relaxed: statistics for tests and the demo; no data hangs on them. */
uint64_t px__glfw_wake_count(void) { return px__load_relaxed(&wake_count); }
uint64_t px__glfw_wait_count(void) { return px__load_relaxed(&wait_count); }

/* The main executor's wake hook. Runs on the producer's thread, inside the
 * executor's gate (px_call/px_post notify before leaving it), so once the
 * main executor is closed no hook is running and glfwTerminate is safe. */
static void wake_main(void *ctx)
{
    (void)ctx;
    px__fetch_add_relaxed(&wake_count, 1); /* relaxed: a statistic */
    glfwPostEmptyEvent();
}

typedef struct app {
    int (*fn)(void *);
    void *arg;
    int result;
    _Atomic uint32_t done;
} app_t;

static void *app_main(void *p)
{
    app_t *a = p;
    a->result = a->fn(a->arg);
    /* Release pairs with the acquire loads in serve_events. The empty event
     * wakes the main thread without the main executor, which the app may
     * have closed (px_main nested in a call) or filled. */
    px__store_release(&a->done, 1);
    glfwPostEmptyEvent();
    return NULL;
}

/* A failed glfwInit: -ENODEV when no display could be opened. GLFW 3.3 has no
 * code for that (3.4's GLFW_PLATFORM_UNAVAILABLE maps to -ENODEV by itself):
 * on X11 it reports GLFW_PLATFORM_ERROR "X11: Failed to open display ..." or
 * "X11: The DISPLAY environment variable is missing". */
static int init_failed(void)
{
    px__glfw_error_t e = {0};
    if (!px__glfw_error_take(&e)) {
        e.code = GLFW_PLATFORM_ERROR;
        snprintf(e.desc, sizeof e.desc, "glfwInit failed without reporting an error");
    }
    int err = px__glfw_errno(e.code);
    if (e.code == GLFW_PLATFORM_ERROR) {
        char lower[sizeof e.desc];
        size_t i = 0;
        for (; e.desc[i]; i++) lower[i] = (char)tolower((unsigned char)e.desc[i]);
        lower[i] = '\0';
        if (strstr(lower, "display")) err = -ENODEV;
    }
    return px__ext_fail(err, "px_glfw_main: glfwInit failed: GLFW error 0x%05X: %s",
                        (unsigned)e.code, e.desc);
}

/* The main loop: serve the main executor, then sleep in GLFW until an event
 * or a wake hook's empty event arrives. */
static void serve_events(app_t *a)
{
    px_thread_t *m = px_mainthread();
    for (;;) {
        /* Acquire pairs with the release store in app_main. */
        if (px__load_acquire(&a->done)) return;
        /* Entering px_drain re-arms the hook; leaving it re-checks the ring
         * and fires the hook itself if work arrived meanwhile. -ESHUTDOWN
         * (px_main nested in a call closed the executor) leaves only events. */
        px_drain(m, 0);
        if (px__load_acquire(&a->done)) return;
        px__fetch_add_relaxed(&wait_count, 1); /* relaxed: a statistic */
        glfwWaitEvents();
    }
}

int px_glfw_main(int (*app)(void *arg), void *arg)
{
    if (app == NULL) return px__ext_fail(-EINVAL, "px_glfw_main: app is NULL");
    if (!px_is_main_thread())
        return px__ext_fail(-EPERM, "px_glfw_main: must be called on the main thread (tid %ld)",
                            px_thread_tid(px_mainthread()));
    uint32_t s = GLFW_IDLE;
    /* seq_cst: one px_glfw_main at a time, whatever thread asks (the losers
     * are refused above, but the state is also read by helpers). */
    if (!px__cas_seq_cst(&glfw_state, &s, GLFW_STARTING))
        return s == GLFW_DONE ? px__ext_fail(-ESHUTDOWN, "px_glfw_main: already returned")
                              : px__ext_fail(-EBUSY, "px_glfw_main: already running");
    int r = px__ext_main_claimable();
    if (r) {
        px__store_seq_cst(&glfw_state, GLFW_IDLE);
        return px__ext_fail(r, "px_glfw_main: %s", px_last_error());
    }

    px__glfw_error_install();
    px__glfw_error_clear();
    if (!glfwInit()) {
        r = init_failed();
        px__glfw_error_restore();
        px__store_seq_cst(&glfw_state, GLFW_IDLE); /* GLFW is not initialised: may retry */
        return r;
    }
    px_thread_set_wake(px_mainthread(), wake_main, NULL);

    app_t a = {.fn = app, .arg = arg};
    pthread_t th;
    /* Release pairs with the acquire load in px__glfw_running. */
    px__store_release(&glfw_state, GLFW_RUNNING);
    r = pthread_create(&th, NULL, app_main, &a);
    if (r) { /* nothing ran: leave everything as it was, px_glfw_main may be retried */
        px_thread_set_wake(px_mainthread(), NULL, NULL);
        glfwTerminate();
        px__glfw_error_restore();
        px__store_seq_cst(&glfw_state, GLFW_IDLE);
        return px__ext_fail(-EAGAIN, "px_glfw_main: cannot start the application thread (%s)",
                            strerror(r));
    }
    serve_events(&a);
    pthread_join(th, NULL);

    /* Teardown. New windows are refused from here on; what is queued to the
     * main thread still runs (GLFW is alive), then the executor closes. */
    /* seq_cst (as every state store here): pairs with the CAS above and the
     * acquire load in px__glfw_running; helpers refuse from now on. */
    px__store_seq_cst(&glfw_state, GLFW_STOPPING);
    px_thread_set_wake(px_mainthread(), NULL, NULL);
    px__ext_main_shutdown();
    px__glfw_destroy_all();
    glfwTerminate();
    px__glfw_error_restore();
    px__store_seq_cst(&glfw_state, GLFW_DONE);
    return a.result;
}
