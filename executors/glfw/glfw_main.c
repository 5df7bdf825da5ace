/*
 * px_glfw_main: px_main_loop with GLFW as the foreign loop. The main thread
 * waits in glfwWaitEvents() and serves the main executor between events;
 * glfwPostEmptyEvent() is the main executor's wake hook, so a call from any
 * thread interrupts the wait at once. The wake protocol of driven executors
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

enum { GLFW_IDLE = 0, GLFW_RUNNING, GLFW_STOPPING, GLFW_DONE };
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
    return px_error_set(err, "px_glfw_main: glfwInit failed: GLFW error 0x%05X: %s",
                        (unsigned)e.code, e.desc);
}

/* The px_main_loop hooks: GLFW's event wait is where the main thread sleeps. */
static int glfw_start(void *ctx)
{
    (void)ctx;
    px__glfw_error_install();
    px__glfw_error_clear();
    if (!glfwInit()) {
        int r = init_failed();
        px__glfw_error_restore();
        return r;
    }
    /* Release pairs with the acquire load in px__glfw_running. */
    px__store_release(&glfw_state, GLFW_RUNNING);
    return 0;
}

static void glfw_wait(void *ctx)
{
    (void)ctx;
    px__fetch_add_relaxed(&wait_count, 1); /* relaxed: a statistic */
    glfwWaitEvents();
}

/* Runs after the final drain of the main executor: no call can reach GLFW any
 * more. New windows were refused from the moment the app returned. */
static void glfw_stop(void *ctx)
{
    (void)ctx;
    px__store_seq_cst(&glfw_state, GLFW_STOPPING); /* pairs with px__glfw_running */
    px__glfw_destroy_all();
    glfwTerminate();
    px__glfw_error_restore();
}

int px_glfw_main(int (*app)(void *arg), void *arg)
{
    static const px_main_loop_t loop = {
        .start = glfw_start, .wait = glfw_wait, .wake = wake_main, .stop = glfw_stop};
    int r = px_main_loop(app, arg, &loop);
    uint32_t running = GLFW_STOPPING;
    /* seq_cst: pairs with px__glfw_running; DONE only after a real run. */
    px__cas_seq_cst(&glfw_state, &running, GLFW_DONE);
    return r;
}
