/*
 * pinexec/glfw.h: GLFW windows on pinexec executors (optional: link
 * pinexec::glfw, or `pkg-config pinexec-glfw`). This is the only pinexec
 * header that includes GLFW; <pinexec.h> never does.
 *
 * Overview
 * --------
 * GLFW demands that initialisation, window creation, event processing and most
 * window functions run on the process main thread, while an OpenGL context may
 * be current on one thread at a time. pinexec maps this onto executors:
 *
 *   - px_glfw_main(app, arg), called from main(), initialises GLFW on the main
 *     thread and runs app on a new thread. The main thread then sits in
 *     glfwWaitEvents() (no timeout) and serves px_mainthread() between events.
 *     The main executor's wake hook is glfwPostEmptyEvent(), so a px_call to
 *     the main thread from any thread starts at once: no polling interval.
 *   - Each window has a render executor (a px_thread_create thread, pinned as
 *     px_window_options_t.render_cpus says) on which its OpenGL context is
 *     current, and nowhere else. px_window_run runs the frame function there
 *     and swaps the buffers there; input and window events are processed on
 *     the main thread by its event wait.
 *   - The helpers below may be called from any thread: they forward the GLFW
 *     work to the thread GLFW requires with px_call.
 *
 * Errors: every function returns 0 or a negative errno. A GLFW error raised
 * by the work a helper forwarded is never lost: the helper returns a negative
 * errno mapped from the GLFW error code (GLFW_INVALID_VALUE/ENUM: -EINVAL,
 * GLFW_OUT_OF_MEMORY: -ENOMEM, GLFW_API/VERSION/FORMAT_UNAVAILABLE: -ENOTSUP,
 * GLFW_PLATFORM_ERROR: -EIO, GLFW_NOT_INITIALIZED: -ESHUTDOWN,
 * GLFW_NO_CURRENT_CONTEXT: -EPERM, GLFW_NO_WINDOW_CONTEXT: -EINVAL) and
 * px_last_error() holds GLFW's own description.
 *
 * Pitfalls:
 *   - pinexec installs the GLFW error callback (px_glfw_main; an error
 *     callback set before it is chained, it is still called) and each
 *     window's framebuffer-size callback. Replacing that one is allowed if
 *     yours calls the previous one (GLFW returns it); otherwise
 *     px_window_framebuffer_size stops following resizes.
 *   - Never make a window's context current on another thread, and never call
 *     px_window_destroy from inside that window's frame function.
 *   - A frame function that calls the main thread (px_call(px_mainthread(),
 *     ...)) is fine; the main thread never waits on a render executor except
 *     while destroying a window, and then it keeps serving its own queue.
 */
#ifndef PINEXEC_GLFW_H
#define PINEXEC_GLFW_H

#include <pinexec.h>

#include <GLFW/glfw3.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Initialise GLFW on the main thread, run app(arg) on a new thread while the
 * main thread waits in glfwWaitEvents() and serves px_mainthread(), then tear
 * down and return app's result.
 *
 * While app runs, a call or post to px_mainthread() from any thread wakes the
 * main thread's event wait at once (glfwPostEmptyEvent is the main executor's
 * wake hook, see px_thread_set_wake). When app returns: the main thread runs
 * what is still queued to it, closes the main executor (later calls and posts
 * to it return -ESHUTDOWN from every thread), destroys the windows still open
 * (their handles are gone) and calls glfwTerminate().
 *
 * As for px_main, px_glfw_main's own errors all happen before app starts:
 * let app return a value >= 0 and a negative result always is one of these.
 *
 * \param app  the application; runs on a new thread. \param arg its argument.
 * \return app's result;
 *   -EINVAL   app is NULL;
 *   -EPERM    not called on the main thread (nothing started);
 *   -EBUSY    px_glfw_main is running, or the main thread is inside px_main,
 *             px_serve or px_drain (nested call);
 *   -ESHUTDOWN px_glfw_main or px_main already returned (the main executor is
 *             closed);
 *   -ENODEV   glfwInit failed because no display can be opened (DISPLAY unset
 *             or naming no server); px_last_error() has GLFW's description;
 *   another negative errno when glfwInit fails otherwise (mapped as above,
 *   GLFW's description in px_last_error()), or -EAGAIN when the thread for
 *   app cannot be started. After a failure GLFW is not initialised and
 *   px_glfw_main may be called again.
 * \threadsafety Main thread only, outside any pinexec serving loop.
 * \sa px_main, px_thread_set_wake
 */
PX_EXTERN int px_glfw_main(int (*app)(void *arg), void *arg);

/** A window, its GL context and its render executor. Opaque. */
typedef struct px_window px_window_t;

/**
 * Window options; NULL, or a struct with only size set
 * (PX_WINDOW_OPTIONS_INIT), means the defaults. Size-versioned as
 * px_thread_options_t is (see <pinexec.h>): set size to
 * sizeof(px_window_options_t); a smaller size than the first version's is
 * -EINVAL, fields an older caller lacks get their defaults, a newer caller's
 * extra bytes must be zero.
 */
typedef struct px_window_options {
    size_t size;             /**< sizeof(px_window_options_t), set by the caller */
    int width, height;       /**< client size in screen coordinates; 0: 640 x 480 */
    const char *title;       /**< NULL: "pinexec" */
    const char *render_cpus; /**< render executor placement (core spec grammar); NULL: any CPU */
    int gl_major, gl_minor;  /**< requested OpenGL version; 0: GLFW's default */
    bool hidden;             /**< create the window invisible (tests, off-screen work) */
} px_window_options_t;

/** An initialiser for px_window_options_t: the size set, everything else the default. */
/* clang-format off */
#ifdef __cplusplus
#define PX_WINDOW_OPTIONS_INIT {sizeof(px_window_options_t), 0, 0, NULL, NULL, 0, 0, false}
#else
#define PX_WINDOW_OPTIONS_INIT {.size = sizeof(px_window_options_t)}
#endif
/* clang-format on */

/**
 * Create a window on the main thread, start its render executor (pinned as
 * opts->render_cpus says) and make the window's OpenGL context current there.
 *
 * \param out   receives the window; untouched on failure.
 * \param opts  options, or NULL for the defaults.
 * \return 0;
 *   -EINVAL    out is NULL, opts->size is below the first version's (or larger
 *              with a set byte this library does not know), a size or GL
 *              version is negative, or GLFW rejects a value
 *              (GLFW_INVALID_VALUE);
 *   -ESHUTDOWN px_glfw_main is not running;
 *   -ENOTSUP   the requested OpenGL version or API is unavailable;
 *   -EIO       another GLFW platform error;
 *   placement errors of px_thread_create (-EINVAL, -EXDEV, ...) for
 *   render_cpus. px_last_error() names the cause (GLFW's description for GLFW
 *   errors). Nothing is left behind on failure.
 * \threadsafety Any thread, also inside a call running on an executor (the
 *   main thread included).
 */
PX_EXTERN int px_window_create(px_window_t **out, const px_window_options_t *opts);

/**
 * The window's render executor: the only thread on which its context is
 * current. px_call it to run GL work outside px_window_run.
 * \param w the window.
 * \return the executor; NULL when w is NULL (no errno).
 * \threadsafety Any thread; valid until px_window_destroy.
 */
PX_EXTERN px_thread_t *px_window_renderer(const px_window_t *w);

/**
 * The GLFW window. GLFW's rules apply to it: most window functions on the
 * main thread only (px_call(px_mainthread(), ...)), context functions on the
 * render executor only.
 * \param w the window.
 * \return the GLFW window; NULL when w is NULL (no errno).
 * \threadsafety Any thread; valid until px_window_destroy.
 */
PX_EXTERN GLFWwindow *px_window_glfw(const px_window_t *w);

/**
 * Run frames until the window should close: each frame, frame(w, arg) runs on
 * the render executor, then the buffers are swapped there. Input and window
 * events are processed meanwhile on the main thread. The caller waits (an
 * executor keeps serving its own queue while it waits).
 *
 * \param w the window; \param frame the frame function; \param arg its argument.
 * GLFW's close flag is checked on the render executor before each frame, so
 * a close request made before the call returns 0 at once, and resetting the
 * flag (glfwSetWindowShouldClose(win, GLFW_FALSE) on the main thread) lets
 * a later px_window_run draw again.
 *
 * \return 0 when a close was requested (the window's close button,
 *   px_window_close, glfwSetWindowShouldClose) or the window is being
 *   destroyed;
 *   -EINVAL   w or frame is NULL;
 *   -EDEADLK  called on the main thread (it must keep processing events) or on
 *             the window's render executor;
 *   -ESHUTDOWN px_glfw_main is shutting down;
 *   another negative errno when a GLFW function called during a frame failed
 *   (the frame function's own GLFW calls and glfwSwapBuffers), with GLFW's
 *   description in px_last_error().
 * \threadsafety Any thread but the main thread and w's render executor;
 *   one px_window_run per window at a time.
 */
PX_EXTERN int px_window_run(px_window_t *w, void (*frame)(px_window_t *w, void *arg), void *arg);

/**
 * Ask the window to close (glfwSetWindowShouldClose on the main thread): a
 * running px_window_run returns 0 instead of starting its next frame.
 * \param w the window.
 * \return 0; -EINVAL w is NULL; -ESHUTDOWN px_glfw_main is not running;
 *   another negative errno for a GLFW error (description in px_last_error()).
 * \threadsafety Any thread (not concurrently with px_window_destroy of w).
 */
PX_EXTERN int px_window_close(px_window_t *w);

/**
 * Resize the window's client area (glfwSetWindowSize on the main thread). The
 * framebuffer size follows when the window system applies it (see
 * px_window_framebuffer_size).
 * \param w the window; \param width, \param height the new client size in
 *   screen coordinates, each > 0.
 * \return 0; -EINVAL w is NULL or width or height is 0 or less (the message
 *   names the value); -ESHUTDOWN px_glfw_main is not running; another negative
 *   errno for a GLFW error (description in px_last_error()).
 * \threadsafety Any thread (not concurrently with px_window_destroy of w).
 */
PX_EXTERN int px_window_set_size(px_window_t *w, int width, int height);

/**
 * The framebuffer size in pixels, as last reported to the main thread by the
 * window system (GLFW's framebuffer-size callback). Meant for glViewport in a
 * frame function, without a call to the main thread.
 * \param w the window; \param width, \param height receive the size.
 * \return 0; -EINVAL w, width or height is NULL.
 * \threadsafety Any thread (each value is exact; the pair is read without a
 *   lock and may mix two consecutive sizes during a resize).
 */
PX_EXTERN int px_window_framebuffer_size(const px_window_t *w, int *width, int *height);

/**
 * Destroy a window: make a running px_window_run return 0 after its current
 * frame, release the context on the render executor, destroy the GLFW window
 * on the main thread, then the render executor (at once, or as soon as the
 * px_window_run in progress returned, without waiting for it here).
 *
 * \param w the window.
 * \return 0; -EINVAL w is NULL; -EDEADLK called on w's render executor (e.g.
 *   from its frame function; nothing changed); -EALREADY another
 *   px_window_destroy of w is running; -ESHUTDOWN px_glfw_main is not running
 *   (its teardown destroys the windows left); another negative errno for a
 *   GLFW error while releasing the context or destroying the window
 *   (description in px_last_error()). Once it returned 0 or a GLFW error the
 *   handle is gone.
 * \threadsafety Any thread but w's render executor, before app returns; from
 *   inside a call running on an executor (the main thread included) it keeps
 *   serving that executor's queue while it waits.
 */
PX_EXTERN int px_window_destroy(px_window_t *w);

#ifdef __cplusplus
}
#endif

#endif /* PINEXEC_GLFW_H */
