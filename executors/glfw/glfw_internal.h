/*
 * Cross-file internals of the GLFW module (executors/glfw): error capture,
 * the px_glfw_main runtime, the window registry. Not installed.
 */
#ifndef PX_GLFW_INTERNAL_H
#define PX_GLFW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pinexec/glfw.h"

#include "pinexec.h"

/* ---- GLFW errors (glfw_error.c) ---- */

/* One GLFW error as the error callback saw it on some thread. */
typedef struct px__glfw_error {
    int code; /* GLFW_* error code; 0: none */
    char desc[200];
} px__glfw_error_t;

/* Install pinexec's error callback (chaining the one set before) / put the
 * previous one back. Main thread. */
void px__glfw_error_install(void);
void px__glfw_error_restore(void);
/* Forget the calling thread's captured error (before a GLFW operation). */
void px__glfw_error_clear(void);
/* Move the calling thread's captured error (the first since the last clear)
 * to *out; false when there is none. */
bool px__glfw_error_take(px__glfw_error_t *out);
/* The negative errno for a GLFW error code. */
int px__glfw_errno(int code);
/* Set the calling thread's px_last_error() from e ("<what>: GLFW error 0x...:
 * <description>") and return its errno. */
int px__glfw_fail(const px__glfw_error_t *e, const char *what);

/* ---- the runtime (glfw_main.c) ---- */

/* Whether px_glfw_main is between glfwInit and the end of app (helpers may
 * forward work to the main thread). */
bool px__glfw_running(void);
/* Test observability: how many times the main executor's wake hook
 * (glfwPostEmptyEvent) ran, and how many times the main thread entered
 * glfwWaitEvents, since the process started. */
uint64_t px__glfw_wake_count(void);
uint64_t px__glfw_wait_count(void);

/* ---- windows (window.c) ---- */

/* Destroy every window still open (px_glfw_main's teardown, after the main
 * executor closed). Main thread. */
void px__glfw_destroy_all(void);

#endif
