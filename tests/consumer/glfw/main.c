/*
 * Consumer of the installed pinexec-glfw: px_glfw_main, a hidden window whose
 * frames run on its render executor, a call to the main thread from there.
 * Exit status: 0 and one line on stdout; 77 when no X server can be opened.
 */
#include <pinexec/glfw.h>
#include <errno.h>
#include <stdio.h>

#define FRAMES 3

struct run {
    int frames;                /* written on the render executor only */
    px_thread_t *frame_thread; /* the thread the last frame ran on */
    int main_calls;            /* incremented on the main thread */
};

static void on_main(void *arg)
{
    struct run *r = arg;
    r->main_calls += px_is_main_thread();
}

static void frame(px_window_t *w, void *arg)
{
    struct run *r = arg;
    r->frame_thread = px_thread_current();
    /* px_call orders these writes before its return to the caller. */
    if (px_call(px_mainthread(), on_main, r) == 0 && ++r->frames == FRAMES) px_window_close(w);
}

static int app(void *arg)
{
    struct run *r = arg;
    px_window_options_t o = {
        .size = sizeof o, .width = 64, .height = 64, .title = "consumer", .hidden = true};
    px_window_t *w;
    int err = px_window_create(&w, &o);
    if (err) {
        fprintf(stderr, "px_window_create: %s (%s)\n", px_strerror(err), px_last_error());
        return 1;
    }
    err = px_window_run(w, frame, r);
    px_thread_t *renderer = px_window_renderer(w);
    if (err) fprintf(stderr, "px_window_run: %s (%s)\n", px_strerror(err), px_last_error());
    int derr = px_window_destroy(w);
    if (derr) fprintf(stderr, "px_window_destroy: %s (%s)\n", px_strerror(derr), px_last_error());
    return err || derr || r->frame_thread != renderer;
}

int main(void)
{
    struct run r = {0};
    int err = px_glfw_main(app, &r);
    if (err == -ENODEV) {
        printf("no X server can be started: %s\n", px_last_error());
        return 77;
    }
    /* px_glfw_main joined app's thread: r is final and visible here. */
    if (err || r.frames != FRAMES || r.main_calls != FRAMES) {
        fprintf(stderr, "px_glfw_main: %d, frames %d, main-thread calls %d (want %d each)\n", err,
                r.frames, r.main_calls, FRAMES);
        return 1;
    }
    printf("glfw consumer: pinexec %s, GLFW %s, %d frames on the render executor\n", px_version(),
           glfwGetVersionString(), r.frames);
    return 0;
}
