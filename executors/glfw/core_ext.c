/*
 * The core's extension interface (core_ext.h), compiled into libpinexec when
 * the GLFW module is built: thin exported wrappers over hidden internals.
 */
#include "core_ext.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"
#include "executor.h"

int px__ext_fail(int err, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return px__fail(err, "%s", buf);
}

int px__ext_main_claimable(void)
{
    struct px_thread *m = px_mainthread();
    /* Relaxed: the caller is the main thread, the owner; closing the gate is
     * the owner's own act (px__driven_shutdown). */
    if (px__load_relaxed(&m->gate) & PX__GATE_CLOSED)
        return px__fail(-ESHUTDOWN,
                        "the main executor is shut down (px_main or px_glfw_main returned)");
    /* Relaxed: only the owner (the caller) moves state away from AWAY; it is
     * AWAY exactly while the main thread runs its own code, outside
     * px_main/px_serve/px_drain and outside waits on other executors. */
    if (px__load_relaxed(&m->state) != PX__AWAY)
        return px__fail(-EBUSY,
                        "the main thread is serving the main executor (inside px_main, px_serve or "
                        "px_drain)");
    return 0;
}

int px__ext_main_shutdown(void)
{
    struct px_thread *m = px_mainthread();
    if (px__self() != m)
        return px__fail(-EPERM, "only the main thread may shut the main executor down");
    return px__driven_shutdown(m);
}
