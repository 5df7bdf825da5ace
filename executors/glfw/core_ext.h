/*
 * The core's extension interface: the few internals of libpinexec that the
 * GLFW module (a separate library, libpinexec-glfw) needs. core_ext.c is
 * compiled into libpinexec itself when the module is built and exports these
 * with default visibility; everything else in the core stays hidden.
 */
#ifndef PX_GLFW_CORE_EXT_H
#define PX_GLFW_CORE_EXT_H

#include <pinexec.h>

/* Set the calling thread's px_last_error() text (printf format) and return
 * err, like the core's px__fail. */
PX_EXTERN int px__ext_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether the main thread may take over serving the main executor now: 0;
 * -EBUSY the main thread is inside px_main, px_serve or px_drain (it is
 * running a call they serve); -ESHUTDOWN the main executor is closed.
 * Main thread only. */
PX_EXTERN int px__ext_main_claimable(void);

/* Run what is queued to the main executor and close it: later calls and posts
 * return -ESHUTDOWN from every thread (as after px_main). Main thread only. */
PX_EXTERN int px__ext_main_shutdown(void);

#endif
