/*
 * Windows: each one is created and destroyed on the main thread, and has a
 * render executor on which its OpenGL context is current, and nowhere else.
 *
 * Lifetime: a window is reference-counted. Its owner (px_window_create) holds
 * one reference, each px_window_run in progress another, and px_window_create
 * one more while it runs (px_glfw_main's teardown may destroy a window it
 * registered before it returned: the main executor closing concurrently). Destroying releases
 * the context and destroys the GLFW window at once; the render executor and
 * the memory go with the last reference, so px_window_destroy never waits for
 * a running px_window_run (which may be blocked on the destroyer's own
 * executor) and a run never calls a freed executor.
 *
 * Stopping a run: once the context is released (a call on the render
 * executor), every frame call that runs later sees `released` there and
 * stops without touching the GLFW window; frame calls published earlier ran
 * before the release (the ring is FIFO), so no frame ever draws to or swaps a
 * destroyed window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "abi.h"
#include "atomic.h"
#include "glfw_internal.h"

struct px_window {
    GLFWwindow *win; /* set on the main thread before the handle is published; constant after */
    px_thread_t *renderer; /* constant after creation */
    _Atomic uint32_t refs; /* owner + runs in progress */
    _Atomic uint32_t destroying;
    _Atomic int fb_width, fb_height;
    bool released;          /* the context is released: render executor only */
    struct px_window *next; /* the registry of live GLFW windows: main thread only */
};

static px_window_t *registry; /* main thread only */

static const char *name_or(const char *s, const char *dflt) { return s ? s : dflt; }

/* ---- main-thread side ------------------------------------------------------ */

static px_window_t *lookup(GLFWwindow *win)
{
    for (px_window_t *w = registry; w; w = w->next)
        if (w->win == win) return w;
    return NULL;
}

static void on_framebuffer_size(GLFWwindow *win, int width, int height)
{
    px_window_t *w = lookup(win);
    if (w == NULL) return;
    /* Relaxed: two independent values for glViewport; nothing else hangs on them. */
    px__store_relaxed(&w->fb_width, width);
    px__store_relaxed(&w->fb_height, height);
}

typedef struct create_req {
    px_window_t *w;
    int width, height, gl_major, gl_minor;
    const char *title;
    bool hidden;
    px__glfw_error_t err;
} create_req_t;

static void create_on_main(void *p)
{
    create_req_t *c = p;
    px__glfw_error_clear();
    glfwDefaultWindowHints();
    glfwWindowHint(GLFW_VISIBLE, c->hidden ? GLFW_FALSE : GLFW_TRUE);
    if (c->gl_major) {
        glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, c->gl_major);
        glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, c->gl_minor);
    }
    GLFWwindow *win = glfwCreateWindow(c->width, c->height, c->title, NULL, NULL);
    glfwDefaultWindowHints(); /* leave the hints as GLFW's defaults for direct users */
    if (win == NULL) {
        if (!px__glfw_error_take(&c->err)) {
            c->err.code = GLFW_PLATFORM_ERROR;
            snprintf(c->err.desc, sizeof c->err.desc,
                     "glfwCreateWindow failed without reporting an error");
        }
        return;
    }
    px_window_t *w = c->w;
    w->win = win;
    glfwSetFramebufferSizeCallback(win, on_framebuffer_size);
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(win, &fw, &fh);
    px__store_relaxed(&w->fb_width, fw); /* relaxed: the handle is published by px_call's return */
    px__store_relaxed(&w->fb_height, fh);
    w->next = registry;
    registry = w;
    px__glfw_error_take(
        &c->err); /* a late error (callbacks, size query) still fails the creation */
}

typedef struct win_req {
    px_window_t *w;
    int a, b;
    px__glfw_error_t err;
} win_req_t;

static void destroy_on_main(void *p)
{
    win_req_t *c = p;
    px_window_t *w = c->w;
    for (px_window_t **pp = &registry; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    px__glfw_error_clear();
    glfwDestroyWindow(w->win);
    px__glfw_error_take(&c->err);
}

static void close_on_main(void *p)
{
    win_req_t *c = p;
    px__glfw_error_clear();
    glfwSetWindowShouldClose(c->w->win, GLFW_TRUE);
    px__glfw_error_take(&c->err);
}

static void size_on_main(void *p)
{
    win_req_t *c = p;
    px__glfw_error_clear();
    glfwSetWindowSize(c->w->win, c->a, c->b);
    px__glfw_error_take(&c->err);
}

/* ---- render-executor side -------------------------------------------------- */

static void attach_on_render(void *p)
{
    win_req_t *c = p;
    px__glfw_error_clear();
    glfwMakeContextCurrent(c->w->win);
    px__glfw_error_take(&c->err);
}

static void release_on_render(void *p)
{
    win_req_t *c = p;
    if (c->w->released) return;
    c->w->released = true;
    px__glfw_error_clear();
    glfwMakeContextCurrent(NULL);
    px__glfw_error_take(&c->err);
}

typedef struct frame_req {
    px_window_t *w;
    void (*frame)(px_window_t *w, void *arg);
    void *arg;
    bool stopped; /* the context was released: the window is being destroyed */
    bool closing; /* GLFW's close flag is set */
    px__glfw_error_t err;
} frame_req_t;

static void frame_on_render(void *p)
{
    frame_req_t *c = p;
    if (c->w->released) {
        c->stopped = true;
        return;
    }
    /* GLFW's flag is the truth (the close button, px_window_close, the
     * application's own glfwSetWindowShouldClose, also a reset to false).
     * GLFW allows reading it from any thread, unsynchronized; here the
     * window is alive for sure: it is destroyed only after the release,
     * which runs on this executor. */
    if (glfwWindowShouldClose(c->w->win)) {
        c->closing = true;
        return;
    }
    px__glfw_error_clear();
    c->frame(c->w, c->arg);
    glfwSwapBuffers(c->w->win);
    px__glfw_error_take(&c->err);
}

/* ---- references -------------------------------------------------------------- */

static void unref(px_window_t *w)
{
    /* acq_rel: the last holder sees every other holder's touches of w
     * (release by each, acquire by the last) before it frees. */
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1) return;
    px_thread_destroy(
        w->renderer); /* never w's own renderer: runs and destroys refuse to run there */
    free(w);
}

/* Release the context and destroy the GLFW window; the owner's reference is
 * dropped by the caller. main_direct: the caller is the main thread after the
 * main executor closed (px_glfw_main's teardown). */
static int teardown(px_window_t *w, bool main_direct, const char *what)
{
    win_req_t rel = {.w = w}, des = {.w = w};
    /* Release pairs with the acquire load in px_window_run: a run stops
     * after its current frame without waiting for the release below. */
    px__store_release(&w->destroying, 1);
    int r = px_call(w->renderer, release_on_render, &rel);
    if (r) return r; /* cannot happen while we hold a reference; kept for safety */
    if (main_direct) {
        destroy_on_main(&des);
    } else {
        r = px_call(px_mainthread(), destroy_on_main, &des);
        if (r) return r; /* px_glfw_main is tearing down: its px__glfw_destroy_all finishes */
    }
    if (rel.err.code) return px__glfw_fail(&rel.err, what);
    if (des.err.code) return px__glfw_fail(&des.err, what);
    return 0;
}

void px__glfw_destroy_all(void)
{
    while (registry) {
        px_window_t *w = registry;
        teardown(w, true, "px_glfw_main"); /* unlinks w */
        unref(w);
    }
}

/* ---- the API ------------------------------------------------------------------- */

static int not_running(const char *what)
{
    return px_error_set(-ESHUTDOWN, "%s: px_glfw_main is not running", what);
}

int px_window_create(px_window_t **out, const px_window_options_t *opts)
{
    if (out == NULL) return px_error_set(-EINVAL, "px_window_create: out is NULL");
    /* The caller's options in this library's layout (size-versioned, src/abi.h). */
    px_window_options_t own = {.size = sizeof own};
    if (opts) {
        int r = px__struct_in(&own, sizeof own, PX__SIZE_THROUGH(px_window_options_t, hidden), opts,
                              opts->size, "px_window_create: opts");
        if (r) return r;
    }
    const px_window_options_t *o = &own;
    if (o->width < 0 || o->height < 0)
        return px_error_set(-EINVAL, "px_window_create: size %d x %d is negative", o->width,
                            o->height);
    if (o->gl_major < 0 || o->gl_minor < 0 || (o->gl_major == 0 && o->gl_minor != 0))
        return px_error_set(-EINVAL, "px_window_create: OpenGL version %d.%d is invalid",
                            o->gl_major, o->gl_minor);
    if (!px__glfw_running()) return not_running("px_window_create");

    px_window_t *w = calloc(1, sizeof *w);
    if (w == NULL) return px_error_set(-ENOMEM, "px_window_create: out of memory");
    /* The owner's reference and the creation's own, dropped when it returns. */
    atomic_init(&w->refs, 2);
    px_thread_options_t ro = {.size = sizeof ro, .name = "px-render", .cpus = o->render_cpus};
    int r = px_thread_create(&w->renderer, &ro);
    if (r) {
        free(w);
        return px_error_set(r, "px_window_create: render executor: %s", px_last_error());
    }
    create_req_t c = {
        .w = w,
        .width = o->width ? o->width : 640,
        .height = o->height ? o->height : 480,
        .gl_major = o->gl_major,
        .gl_minor = o->gl_minor,
        .title = name_or(o->title, "pinexec"),
        .hidden = o->hidden,
    };
    r = px_call(px_mainthread(), create_on_main, &c);
    if (r == 0 && c.err.code && w->win == NULL) r = px__glfw_fail(&c.err, "px_window_create");
    if (r) {
        px_thread_destroy(w->renderer);
        free(w);
        return r;
    }
    win_req_t at = {.w = w};
    r = px_call(w->renderer, attach_on_render, &at);
    if (r == 0 && c.err.code) r = px__glfw_fail(&c.err, "px_window_create");
    if (r == 0 && at.err.code)
        r = px__glfw_fail(&at.err, "px_window_create: making the context current");
    if (r) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", px_last_error());
        /* -ESHUTDOWN: the main executor closed under us and w is still in
         * the registry; px_glfw_main's teardown (px__glfw_destroy_all) owns
         * it and drops the owner's reference, as for px_window_destroy. */
        if (teardown(w, false, "px_window_create") != -ESHUTDOWN) unref(w);
        unref(w); /* the creation's own: may free w */
        return px_error_set(r, "%s", msg);
    }
    *out = w;
    unref(w); /* the creation's own; the owner's keeps w */
    return 0;
}

px_thread_t *px_window_renderer(const px_window_t *w) { return w ? w->renderer : NULL; }

GLFWwindow *px_window_glfw(const px_window_t *w) { return w ? w->win : NULL; }

int px_window_run(px_window_t *w, void (*frame)(px_window_t *w, void *arg), void *arg)
{
    if (w == NULL) return px_error_set(-EINVAL, "px_window_run: window is NULL");
    if (frame == NULL) return px_error_set(-EINVAL, "px_window_run: frame is NULL");
    if (px_is_main_thread())
        return px_error_set(-EDEADLK,
                            "px_window_run: called on the main thread, which must keep processing "
                            "events; run it on another thread");
    if (px_thread_current() == w->renderer)
        return px_error_set(-EDEADLK, "px_window_run: called on the window's own render executor");
    if (!px__glfw_running()) return not_running("px_window_run");
    /* Relaxed: the caller's handle is valid (a reference we borrow); the
     * increment only has to be atomic. */
    px__fetch_add_relaxed(&w->refs, 1);
    frame_req_t c = {.w = w, .frame = frame, .arg = arg};
    int r = 0;
    /* Acquire pairs with the release store in teardown. */
    while (!px__load_acquire(&w->destroying)) {
        r = px_call(w->renderer, frame_on_render, &c);
        if (r) break;
        if (c.err.code) {
            r = px__glfw_fail(&c.err, "px_window_run");
            break;
        }
        if (c.stopped || c.closing) break;
    }
    unref(w); /* may free w and its renderer: not touched after this */
    return r;
}

int px_window_close(px_window_t *w)
{
    if (w == NULL) return px_error_set(-EINVAL, "px_window_close: window is NULL");
    if (!px__glfw_running()) return not_running("px_window_close");
    win_req_t c = {.w = w};
    int r = px_call(px_mainthread(), close_on_main, &c);
    if (r == 0 && c.err.code) r = px__glfw_fail(&c.err, "px_window_close");
    return r;
}

int px_window_set_size(px_window_t *w, int width, int height)
{
    if (w == NULL) return px_error_set(-EINVAL, "px_window_set_size: window is NULL");
    if (width <= 0 || height <= 0)
        return px_error_set(-EINVAL, "px_window_set_size: size %d x %d is not positive", width,
                            height);
    if (!px__glfw_running()) return not_running("px_window_set_size");
    win_req_t c = {.w = w, .a = width, .b = height};
    int r = px_call(px_mainthread(), size_on_main, &c);
    if (r == 0 && c.err.code) r = px__glfw_fail(&c.err, "px_window_set_size");
    return r;
}

int px_window_framebuffer_size(const px_window_t *w, int *width, int *height)
{
    if (w == NULL || width == NULL || height == NULL)
        return px_error_set(-EINVAL, "px_window_framebuffer_size: %s is NULL",
                            w == NULL       ? "window"
                            : width == NULL ? "width"
                                            : "height");
    /* Relaxed: see on_framebuffer_size. */
    *width = px__load_relaxed(&w->fb_width);
    *height = px__load_relaxed(&w->fb_height);
    return 0;
}

int px_window_destroy(px_window_t *w)
{
    if (w == NULL) return px_error_set(-EINVAL, "px_window_destroy: window is NULL");
    if (px_thread_current() == w->renderer)
        return px_error_set(-EDEADLK,
                            "px_window_destroy: called on the window's own render executor "
                            "(e.g. from its frame function)");
    if (!px__glfw_running()) return not_running("px_window_destroy");
    /* Relaxed: a second destroyer only needs to see that it is not first;
     * the handle's data is ordered by the calls below. */
    if (atomic_exchange_explicit(&w->destroying, 1, memory_order_relaxed))
        return px_error_set(-EALREADY, "px_window_destroy: the window is being destroyed");
    int r = teardown(w, false, "px_window_destroy");
    if (r == -ESHUTDOWN)
        return r; /* the main executor closed under us: px_glfw_main's teardown owns w */
    unref(w);
    return r;
}
