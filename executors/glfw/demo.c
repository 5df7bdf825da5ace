/*
 * `pinexec demo`: a window with animated OpenGL content.
 *
 *   main thread   px_glfw_main: waits in glfwWaitEvents, runs every GLFW call
 *                 (window creation, cursor queries, the title);
 *   app thread    creates the window and runs px_window_run;
 *   px-render     the window's render executor: the frame function draws
 *                 there and swaps there (the only thread with the context);
 *   px-logic      the application logic: moves the particles, asks the main
 *                 thread for the cursor each tick, and computes the live
 *                 figures shown in the overlay and the title (frame time,
 *                 calls per frame, ns per main-thread call).
 *
 * With --seconds S the logic closes the window after S seconds; with
 * --screenshot FILE it first has the renderer read the back buffer
 * (glReadPixels, on the render executor) and the app writes it as a binary
 * PPM (scripts/demo.sh converts it to PNG).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "demo.h"
#include "glfw_internal.h"

#define CALIBRATION_CALLS 2000
#define TICK_NS 8000000ull /* the logic's period: 8 ms */
#define WINDOW_SAMPLES 64  /* ticks per 250 ms figure window, with room to spare */

enum { CAPTURE_NONE = 0, CAPTURE_REQUESTED, CAPTURE_DONE };

typedef struct demo {
    /* options */
    double seconds;
    const char *shot;
    const char *render_cpus;
    int width, height;
    bool hidden;

    demo_place_t place; /* the default placement, when --render-cpus is not given */
    px_window_t *w;
    char render_cpuset[32];
    uint64_t start_ns;

    /* logic -> renderer */
    pthread_mutex_t lock;
    demo_scene_t scene;

    /* renderer only */
    demo_scene_t draw;
    uint64_t last_frame_ns;
    double frame_ns_avg;

    /* figures shared across threads (relaxed: display only, no data hangs on them) */
    _Atomic uint64_t frames, frame_ns, main_calls;

    /* the screenshot: the renderer fills pixels, then publishes CAPTURE_DONE */
    _Atomic int capture;
    unsigned char *pixels;
    int cap_w, cap_h;

    _Atomic int stop;

    /* the main executor's wake hooks fired before the logic started (written
     * before px_post hands d to the logic, which orders it) */
    uint64_t hooks0;

    /* results of the logic worker (read after px_thread_destroy joined it) */
    double wake_ns, main_call_ns, cursor_ns;
    uint64_t wake_hooks, calls; /* hooks fired by, and number of, the logic's main-thread calls */
} demo_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
                          .tv_nsec = (long)(ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ---- main thread ---------------------------------------------------------- */

static void nop(void *arg) { (void)arg; }

typedef struct cursor_req {
    GLFWwindow *win;
    double x, y;
    bool in;
} cursor_req_t;

static void cursor_on_main(void *p)
{
    cursor_req_t *c = p;
    glfwGetCursorPos(c->win, &c->x, &c->y);
    c->in = glfwGetWindowAttrib(c->win, GLFW_HOVERED) != 0;
}

typedef struct title_req {
    GLFWwindow *win;
    const char *title;
} title_req_t;

static void title_on_main(void *p)
{
    title_req_t *c = p;
    glfwSetWindowTitle(c->win, c->title);
}

/* ---- px-logic ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    if (n == 0) return 0;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return v[n / 2];
}

static void place_particles(demo_scene_t *s, double t)
{
    for (int i = 0; i < DEMO_PARTICLES; i++) {
        double k = (double)i / DEMO_PARTICLES;
        double orbit = 0.10 + 0.28 * fmod(k * 7.31, 1.0);
        double speed = 0.25 + 0.9 * fmod(k * 3.7, 1.0);
        double a = t * speed * (i % 2 ? 1 : -1) + k * 6.2832 * 5;
        double wobble = 0.02 * sin(t * 3 + i);
        s->p[i].x = (float)(0.62 + (orbit + wobble) * cos(a) * 0.75);
        s->p[i].y = (float)(0.52 + (orbit + wobble) * sin(a));
        s->p[i].hue = (float)fmod(k + t * 0.05, 1.0);
        s->p[i].size = (float)(2.5 + 2.0 * (0.5 + 0.5 * sin(t * 2 + i * 0.7)));
    }
}

static void logic_loop(void *arg)
{
    demo_t *d = arg;
    px_thread_t *main_ex = px_mainthread();
    GLFWwindow *win = px_window_glfw(d->w);

    /* Calibration: back-to-back calls to the main thread, which sits in
     * glfwWaitEvents between them; each one is woken by the hook. */
    uint64_t t0 = now_ns();
    for (int i = 0; i < CALIBRATION_CALLS; i++) px_call(main_ex, nop, NULL);
    d->wake_ns = (double)(now_ns() - t0) / CALIBRATION_CALLS;
    px__fetch_add_relaxed(&d->main_calls, CALIBRATION_CALLS);

    uint64_t start = now_ns(), next = start, fig_at = start;
    uint64_t frames0 = px__load_relaxed(&d->frames), calls0 = px__load_relaxed(&d->main_calls);
    /* Per figure window (250 ms): the samples, shown as their median (the
     * mean would follow the long tail of X server queueing while frames
     * are pushed, see docs/glfw.md). */
    double call_ns[WINDOW_SAMPLES], cursor_ns[WINDOW_SAMPLES];
    int nsamples = 0;
    double call_med = 0, cursor_med = 0;
    char lines[DEMO_LINES][96] = {{0}};
    char title[160];
    snprintf(lines[0], sizeof lines[0], "PINEXEC DEMO: GLFW ON MAIN, GL ON PX-RENDER");
    while (
        !px__load_relaxed(&d->stop)) { /* relaxed: a flag polled each tick; nothing hangs on it */
        uint64_t now = now_ns();
        double t = (double)(now - d->start_ns) * 1e-9;

        /* The main thread has been idle in glfwWaitEvents since the last
         * tick: this call measures a wake through the hook. */
        uint64_t c0 = now_ns();
        if (px_call(main_ex, nop, NULL) != 0) break;
        double dt = (double)(now_ns() - c0);
        if (nsamples < WINDOW_SAMPLES) call_ns[nsamples] = dt;
        cursor_req_t q = {.win = win};
        c0 = now_ns();
        if (px_call(main_ex, cursor_on_main, &q) != 0) break;
        dt = (double)(now_ns() - c0);
        if (nsamples < WINDOW_SAMPLES) cursor_ns[nsamples++] = dt;
        px__fetch_add_relaxed(&d->main_calls, 2);

        if (now - fig_at >= 250000000ull) {
            uint64_t frames = px__load_relaxed(&d->frames),
                     calls = px__load_relaxed(&d->main_calls);
            double span = (double)(now - fig_at) * 1e-9;
            double df = (double)(frames - frames0), dc = (double)(calls - calls0);
            double frame_ms = (double)px__load_relaxed(&d->frame_ns) * 1e-6;
            double per_frame =
                df > 0 ? (df + dc) / df : 0; /* one render call per frame + main calls */
            snprintf(lines[1], sizeof lines[1], "FRAME %.2f MS  %.0f FPS", frame_ms, df / span);
            snprintf(lines[2], sizeof lines[2], "CALLS/FRAME %.2f (RENDER 1 + MAIN %.2f)",
                     per_frame, df > 0 ? dc / df : 0);
            call_med = median(call_ns, nsamples);
            cursor_med = median(cursor_ns, nsamples);
            nsamples = 0;
            snprintf(lines[3], sizeof lines[3],
                     "MAIN-THREAD CALL %.0f NS (WAKE FROM GLFWWAITEVENTS)", call_med);
            /* The same two counters as the line printed at the end. */
            snprintf(lines[4], sizeof lines[4], "CURSOR QUERY %.0f NS  WAKE HOOKS %llu/%llu CALLS",
                     cursor_med, (unsigned long long)(px__glfw_wake_count() - d->hooks0),
                     (unsigned long long)px__load_relaxed(&d->main_calls));
            snprintf(lines[5], sizeof lines[5],
                     "BACK-TO-BACK %.0f NS/CALL  RENDER CPUS %s  T %.1f S", d->wake_ns,
                     d->render_cpuset, t);
            snprintf(title, sizeof title,
                     "pinexec demo - %.2f ms/frame, %.2f calls/frame, %.0f ns/main call", frame_ms,
                     per_frame, call_med);
            title_req_t tr = {.win = win, .title = title};
            if (px_call(main_ex, title_on_main, &tr) == 0) px__fetch_add_relaxed(&d->main_calls, 1);
            frames0 = frames;
            calls0 = px__load_relaxed(&d->main_calls);
            fig_at = now;
        }

        pthread_mutex_lock(&d->lock);
        place_particles(&d->scene, t);
        d->scene.cursor_x = q.x;
        d->scene.cursor_y = q.y;
        d->scene.cursor_in = q.in;
        memcpy(d->scene.lines, lines, sizeof lines);
        pthread_mutex_unlock(&d->lock);

        if (d->seconds > 0 && t >= d->seconds) {
            /* Acquire pairs with the release store of CAPTURE_DONE in frame(). */
            int cap = atomic_load_explicit(&d->capture, memory_order_acquire);
            if (d->shot && cap == CAPTURE_NONE) {
                atomic_store_explicit(&d->capture, CAPTURE_REQUESTED,
                                      memory_order_relaxed); /* a request flag */
            } else if (!d->shot || cap == CAPTURE_DONE || t >= d->seconds + 10) {
                if (px_window_close(d->w) == 0) px__fetch_add_relaxed(&d->main_calls, 1);
                break;
            }
        }
        next += TICK_NS;
        now = now_ns();
        if (next > now) sleep_ns(next - now);
        else next = now;
    }
    d->main_call_ns = call_med;
    d->cursor_ns = cursor_med;
    /* From hooks0 to here only the logic's calls (px_window_close included)
     * reach the main thread, and a call fires the hook at most once: hooks
     * <= calls, equal when the main thread was asleep for each. */
    d->wake_hooks = px__glfw_wake_count() - d->hooks0;
    d->calls = px__load_relaxed(&d->main_calls);
}

/* ---- px-render -------------------------------------------------------------- */

static void frame(px_window_t *w, void *arg)
{
    demo_t *d = arg;
    uint64_t now = now_ns();
    if (d->last_frame_ns == 0) {
        glfwSwapInterval(1); /* vsync where the display has it; Xvfb has none */
    } else {
        double dt = (double)(now - d->last_frame_ns);
        d->frame_ns_avg = d->frame_ns_avg == 0 ? dt : d->frame_ns_avg * 0.95 + dt * 0.05;
        px__store_relaxed(&d->frame_ns, (uint64_t)d->frame_ns_avg);
    }
    d->last_frame_ns = now;

    pthread_mutex_lock(&d->lock);
    d->draw = d->scene;
    pthread_mutex_unlock(&d->lock);

    int fw = 0, fh = 0;
    px_window_framebuffer_size(w, &fw, &fh);
    demo_draw(&d->draw, (double)(now - d->start_ns) * 1e-9, fw, fh);

    /* Relaxed: the request carries no data; the answer is published below. */
    if (atomic_load_explicit(&d->capture, memory_order_relaxed) == CAPTURE_REQUESTED && fw > 0 &&
        fh > 0) {
        d->pixels = malloc((size_t)fw * (size_t)fh * 3);
        if (d->pixels) {
            glReadBuffer(GL_BACK);
            glPixelStorei(GL_PACK_ALIGNMENT, 1);
            glReadPixels(0, 0, fw, fh, GL_RGB, GL_UNSIGNED_BYTE, d->pixels);
            d->cap_w = fw;
            d->cap_h = fh;
        }
        /* Release pairs with the acquire loads in logic_loop and demo_app. */
        atomic_store_explicit(&d->capture, CAPTURE_DONE, memory_order_release);
    }
    px__fetch_add_relaxed(&d->frames, 1);
}

/* ---- the app thread ------------------------------------------------------------ */

static int write_ppm(const demo_t *d)
{
    FILE *f = fopen(d->shot, "wb");
    if (f == NULL) {
        fprintf(stderr, "pinexec demo: cannot write %s: %s\n", d->shot, strerror(errno));
        return -1;
    }
    fprintf(f, "P6\n%d %d\n255\n", d->cap_w, d->cap_h);
    size_t row = (size_t)d->cap_w * 3;
    for (int y = d->cap_h - 1; y >= 0; y--)
        fwrite(d->pixels + (size_t)y * row, 1, row, f); /* GL rows go up */
    if (fclose(f) != 0) {
        fprintf(stderr, "pinexec demo: cannot write %s: %s\n", d->shot, strerror(errno));
        return -1;
    }
    return 0;
}

static int demo_app(void *arg)
{
    demo_t *d = arg;
    px_window_options_t o = {
        .size = sizeof o,
        .width = d->width,
        .height = d->height,
        .title = "pinexec demo",
        .render_cpus = d->render_cpus,
        .hidden = d->hidden,
    };
    int r = px_window_create(&d->w, &o);
    if (r) {
        fprintf(stderr, "pinexec demo: px_window_create: %s (%s)\n", px_strerror(r),
                px_last_error());
        return 1;
    }
    if (px_thread_cpus(px_window_renderer(d->w), d->render_cpuset, sizeof d->render_cpuset) != 0)
        snprintf(d->render_cpuset, sizeof d->render_cpuset, "?");
    d->start_ns = now_ns();

    d->hooks0 = px__glfw_wake_count();
    px_thread_t *logic;
    /* Off the render executor's own core when one was chosen. */
    px_thread_options_t lo = {
        .size = sizeof lo, .name = "px-logic", .cpus = d->place.own ? d->place.others : NULL};
    r = px_thread_create(&logic, &lo);
    if (r == 0) r = px_post(logic, logic_loop, d);
    if (r) {
        fprintf(stderr, "pinexec demo: logic executor: %s (%s)\n", px_strerror(r), px_last_error());
        px_window_destroy(d->w);
        return 1;
    }
    uint64_t t0 = now_ns();
    int run = px_window_run(d->w, frame, d);
    double secs = (double)(now_ns() - t0) * 1e-9;
    if (run)
        fprintf(stderr, "pinexec demo: px_window_run: %s (%s)\n", px_strerror(run),
                px_last_error());
    px__store_relaxed(&d->stop,
                      1); /* relaxed: px_thread_destroy joins the logic and orders the rest */
    px_thread_destroy(logic);

    int status = run ? 1 : 0;
    if (d->shot) {
        /* Acquire pairs with the release store in frame(). */
        if (atomic_load_explicit(&d->capture, memory_order_acquire) == CAPTURE_DONE && d->pixels) {
            if (write_ppm(d) == 0)
                printf("demo: screenshot %s (%d x %d)\n", d->shot, d->cap_w, d->cap_h);
            else status = 1;
        } else {
            fprintf(stderr, "pinexec demo: no frame was captured\n");
            status = 1;
        }
    }
    px_window_destroy(d->w);
    uint64_t frames = px__load_relaxed(&d->frames);
    printf("demo: frames=%llu seconds=%.2f fps=%.1f frame_ms=%.2f main_call_median_ns=%.0f "
           "cursor_query_median_ns=%.0f back_to_back_ns=%.0f wake_hooks=%llu/%llu render_cpus=%s\n",
           (unsigned long long)frames, secs, secs > 0 ? frames / secs : 0,
           (double)px__load_relaxed(&d->frame_ns) * 1e-6, d->main_call_ns, d->cursor_ns, d->wake_ns,
           (unsigned long long)d->wake_hooks, (unsigned long long)d->calls, d->render_cpuset);
    return status;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: pinexec demo [--seconds S] [--screenshot FILE.ppm] [--render-cpus SPEC]\n"
               "                    [--size WxH] [--hidden]\n"
               "  A window with animated OpenGL content: GLFW on the main thread, GL on a pinned\n"
               "  render executor, the logic on a worker. Without --seconds it runs until closed;\n"
               "  --screenshot saves the last frame (binary PPM) and implies --seconds 3.\n"
               "  Without --render-cpus the render executor gets a core of its own (not the main\n"
               "  thread's; the main thread and the logic keep off it).\n"
               "  Without a display run it under xvfb-run (scripts/demo.sh does).\n");
}

int pxt_demo(int argc, char **argv)
{
    demo_t *d = calloc(1, sizeof *d);
    if (d == NULL) return 1;
    d->width = 800;
    d->height = 500;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(d);
            return 0;
        } else if (strcmp(a, "--hidden") == 0) {
            d->hidden = true;
        } else if (v && strcmp(a, "--seconds") == 0) {
            d->seconds = atof(v), i++;
        } else if (v && strcmp(a, "--screenshot") == 0) {
            d->shot = v, i++;
        } else if (v && strcmp(a, "--render-cpus") == 0) {
            d->render_cpus = v, i++;
        } else if (v && strcmp(a, "--size") == 0 &&
                   sscanf(v, "%dx%d", &d->width, &d->height) == 2 && d->width > 0 &&
                   d->height > 0) {
            i++;
        } else {
            fprintf(stderr, "pinexec demo: bad argument \"%s\"\nsee 'pinexec demo --help'\n", a);
            free(d);
            return 2;
        }
    }
    if (d->shot && d->seconds <= 0) d->seconds = 3;
    if (d->render_cpus == NULL) {
        int e = demo_place_choose(&d->place);
        if (e == 0) {
            d->render_cpus = d->place.render;
            printf("demo: %s\n", d->place.why);
        } else {
            fprintf(stderr,
                    "pinexec demo: cannot choose a core for the render executor (%s): it runs "
                    "on any CPU\n",
                    px_strerror(e));
        }
        fflush(stdout);
    }
    pthread_mutex_init(&d->lock, NULL);
    int r = px_glfw_main(demo_app, d);
    if (r < 0) {
        fprintf(stderr, "pinexec demo: %s (%s)%s\n", px_strerror(r), px_last_error(),
                r == -ENODEV ? "; without a display run it under xvfb-run (scripts/demo.sh)" : "");
        r = 1;
    }
    pthread_mutex_destroy(&d->lock);
    free(d->pixels);
    free(d);
    return r;
}
