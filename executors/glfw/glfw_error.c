/*
 * GLFW errors: pinexec's error callback records the first error per thread
 * since the last clear, so the helper that forwarded a GLFW operation to the
 * main thread or a render executor can carry it back to its caller, whose
 * px_last_error() then holds GLFW's own description.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "glfw_internal.h"

static __thread px__glfw_error_t tls_error;
static GLFWerrorfun
    previous; /* the application's callback; main thread writes it before glfwInit */

static void on_error(int code, const char *desc)
{
    if (tls_error.code == 0) {
        tls_error.code = code;
        snprintf(tls_error.desc, sizeof tls_error.desc, "%s", desc ? desc : "(no description)");
    }
    if (previous) previous(code, desc);
}

void px__glfw_error_install(void)
{
    GLFWerrorfun old = glfwSetErrorCallback(on_error);
    if (old != on_error) previous = old;
}

void px__glfw_error_restore(void)
{
    glfwSetErrorCallback(previous);
    previous = NULL;
}

void px__glfw_error_clear(void) { tls_error.code = 0; }

bool px__glfw_error_take(px__glfw_error_t *out)
{
    if (tls_error.code == 0) return false;
    *out = tls_error;
    tls_error.code = 0;
    return true;
}

int px__glfw_errno(int code)
{
    switch (code) {
    case GLFW_NOT_INITIALIZED: return -ESHUTDOWN;
    case GLFW_NO_CURRENT_CONTEXT: return -EPERM;
    case GLFW_INVALID_ENUM:
    case GLFW_INVALID_VALUE:
    case GLFW_NO_WINDOW_CONTEXT: return -EINVAL;
    case GLFW_OUT_OF_MEMORY: return -ENOMEM;
    case GLFW_API_UNAVAILABLE:
    case GLFW_VERSION_UNAVAILABLE:
    case GLFW_FORMAT_UNAVAILABLE: return -ENOTSUP;
#ifdef GLFW_PLATFORM_UNAVAILABLE /* GLFW 3.4 */
    case GLFW_PLATFORM_UNAVAILABLE: return -ENODEV;
#endif
    default: return -EIO; /* GLFW_PLATFORM_ERROR and codes newer than this file */
    }
}

int px__glfw_fail(const px__glfw_error_t *e, const char *what)
{
    return px_error_set(px__glfw_errno(e->code), "%s: GLFW error 0x%05X: %s", what,
                        (unsigned)e->code, e->desc);
}
