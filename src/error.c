/* Errors: text for errno values and the per-thread failure detail. */
#include "error.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pinexec.h"

#define PX_ERROR_LEN 256

static __thread char last_error[PX_ERROR_LEN];

int px_error_set(int err, const char *fmt, ...)
{
    /* Formatted aside first: an argument may be px_last_error() itself. */
    char buf[PX_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(last_error, buf, sizeof buf);
    return err;
}

void px__clear_error(void) { last_error[0] = '\0'; }

const char *px_last_error(void) { return last_error; }

const char *px_strerror(int err)
{
    /* -INT_MIN is not an int: negate in unsigned arithmetic, where it is
     * defined for every value, and call what has no int magnitude unknown. */
    unsigned mag = err < 0 ? 0u - (unsigned)err : (unsigned)err;
    if (mag > INT_MAX) return "unknown error";
    err = (int)mag;
    switch (err) {
    case 0: return "success";
    case EINVAL: return "invalid argument";
    case ESHUTDOWN: return "executor is shut down or shutting down";
    case ESRCH: return "executor is dead (inherited across fork)";
    /* Neutral: a full ring (px_post, px_try_post) and a thread the OS
     * refused (px_thread_create, px_main) share EAGAIN; px_last_error()
     * names which one it was. */
    case EAGAIN: return "resource temporarily unavailable (a full ring, or no new thread)";
    case EDEADLK: return "operation would deadlock (called on the executor's own thread)";
    case EXDEV: return "CPUs lie outside the process's allowed set";
    case ENOSYS: return "binding is not supported by the OS";
    case EPERM: return "not allowed on this thread";
    case EBUSY: return "busy (already running or already an executor)";
    case ERANGE: return "buffer too small";
    case ENOMEM: return "out of memory";
    case ETIMEDOUT: return "timed out";
    case EALREADY: return "already in progress";
    case ENODEV: return "no display or device";
    default: return strerror(err);
    }
}

const char *px_version(void)
{
#define PX_STR2(x) #x
#define PX_STR(x) PX_STR2(x)
    return PX_STR(PX_VERSION_MAJOR) "." PX_STR(PX_VERSION_MINOR) "." PX_STR(PX_VERSION_PATCH);
}
