/*
 * pxt_bench: `pinexec bench`. The suite runs inside px_main, so the
 * process main thread serves px_mainthread() while the cases run on the
 * application thread (BenchmarkMainThreadCall needs that); when px_main is
 * unavailable (not on the main thread) the suite runs directly and that case
 * is skipped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "platform.h"
#ifdef PX_HAVE_GLFW
#include <pinexec/glfw.h>
#endif

void pxb_add(pxb_list_t *l, void (*fn)(pxb_b_t *), const pxb_pair_t *pair, long param,
             const void *ptr, unsigned flags, const char *fmt, ...)
{
    pxb_case_t c;
    memset(&c, 0, sizeof c);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c.name, sizeof c.name, fmt, ap);
    va_end(ap);
    if (!pxb_selected(l->opts, c.name)) return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        pxb_case_t *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL) return; /* reported as fewer cases; out of memory here is hopeless anyway */
        l->v = v;
        l->cap = cap;
    }
    c.fn = fn;
    c.pair = pair;
    c.param = param;
    c.ptr = ptr;
    c.flags = flags;
    l->v[l->n++] = c;
}

typedef struct suite {
    const pxb_opts_t *o;
    bool started;     /* body() ran */
    bool main_served; /* ...inside px_main or px_glfw_main */
    bool glfw;        /* ...inside px_glfw_main */
} suite_t;

/* ---- progress on stderr ---- */

typedef struct progress {
    bool on, tty;
    uint64_t start;
} progress_t;

static void progress_show(progress_t *p, size_t done, size_t total, const char *name)
{
    if (!p->on) return;
    double el = (double)(px__now_ns() - p->start) / 1e9;
    double eta = done ? el / (double)done * (double)(total - done) : 0;
    if (p->tty)
        fprintf(stderr, "\r\033[K[%zu/%zu %.0fs, ~%.0fs left] %s", done + 1, total, el, eta, name);
    else fprintf(stderr, "[%zu/%zu %.0fs, ~%.0fs left] %s\n", done + 1, total, el, eta, name);
    fflush(stderr);
}

static void progress_clear(progress_t *p)
{
    if (p->on && p->tty) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

static int body(void *arg)
{
    suite_t *s = arg;
    s->started = true;
    const pxb_opts_t *o = s->o;
    char err[256] = "";
    pxb_pairs_t pairs;
    int r = pxb_pairs_find(&pairs, o->cpus, err, sizeof err);
    if (r) {
        fprintf(stderr, "pinexec bench: %s\n", err);
        if (r == -EINVAL) fprintf(stderr, "see 'pinexec bench --help'\n");
        return r == -EINVAL ? 2 : 1;
    }
    pxb_list_t l = {.opts = o, .main_served = s->main_served, .glfw = s->glfw};
    pxb_floors_register(&l, &pairs);
    pxb_calls_register(&l, &pairs);
    pxb_posts_register(&l, &pairs);
    pxb_driven_register(&l, &pairs);
    pxb_peers_register(&l, &pairs);
    int ncpus = pxb_ncpus();
    int width = 0;
    for (size_t i = 0; i < l.n; i++) {
        int w = (int)strlen(l.v[i].name) + (ncpus > 1 ? snprintf(NULL, 0, "-%d", ncpus) : 0);
        if (w > width) width = w;
    }
    if (o->list && l.n > 0) {
        for (size_t i = 0; i < l.n; i++) {
            if (ncpus > 1) printf("%s-%d\n", l.v[i].name, ncpus);
            else printf("%s\n", l.v[i].name);
        }
        free(l.v);
        return 0;
    }
    if (l.n == 0) { /* only a filter can leave no case: a usage error */
        fprintf(stderr,
                "pinexec bench: no case matches '%s'\n"
                "see 'pinexec bench --list' for the names\n",
                o->filter ? o->filter : "");
        free(l.v);
        return 2;
    }
    size_t total = l.n * o->count;
    pxb_result_t *res = calloc(total, sizeof *res);
    if (res == NULL) {
        fprintf(stderr, "pinexec bench: out of memory\n");
        free(l.v);
        return 1;
    }
    pxb_report_t rep = {.opts = o,
                        .pairs = &pairs,
                        .results = res,
                        .nresults = 0,
                        .ncpus = ncpus,
                        .main_served = s->main_served,
                        .alloc_counted = pxb_alloc_available()};
    pxb_report_describe(&rep);
    if (o->format == PXB_FORMAT_BENCHSTAT) pxb_print_header(stdout, &rep);
    else if (o->format == PXB_FORMAT_TABLE) pxb_table_header(stdout, &rep, width);
    fflush(stdout);
    progress_t pg = {.tty = isatty(STDERR_FILENO) == 1, .start = px__now_ns()};
    pg.on = o->progress == 1 || (o->progress < 0 && pg.tty);
    int status = 0;
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        for (unsigned run = 0; run < o->count; run++, k++) {
            progress_show(&pg, k, total, l.v[i].name);
            pxb_run_case(&l.v[i], o, s->main_served, run, &res[k]);
            rep.nresults = k + 1;
            if (res[k].status == PXB_FAILED) status = 1;
            progress_clear(&pg);
            if (o->format == PXB_FORMAT_BENCHSTAT) pxb_print_result(stdout, &res[k], ncpus, width);
            else if (o->format == PXB_FORMAT_TABLE) pxb_table_row(stdout, &res[k], width);
            fflush(stdout);
        }
    }
    if (o->format == PXB_FORMAT_JSON) pxb_print_json(stdout, &rep);
    else if (o->format == PXB_FORMAT_TABLE) pxb_table_end(stdout, &rep);
    else pxb_print_summary(stdout, &rep);
    fflush(stdout);
    free(res);
    free(l.v);
    return status;
}

int pxt_bench(int argc, char **argv)
{
    pxb_opts_t o;
    char err[256];
    if (pxb_parse_args(argc, argv, &o, err, sizeof err)) {
        fprintf(stderr, "pinexec bench: %s\nsee 'pinexec bench --help'\n", err);
        return 2;
    }
    if (o.help) {
        pxb_usage(stdout);
        pxb_opts_free(&o);
        return 0;
    }
    /* GLib 2.74's slice allocator hands out memory from its own magazines; make
     * it use malloc so the glib peer's B/op and allocs/op are counted. */
    setenv("G_SLICE", "always-malloc", 0);
    suite_t s = {.o = &o, .main_served = true};
    int r;
    if (o.glfw) {
#ifdef PX_HAVE_GLFW
        s.glfw = true;
        r = px_glfw_main(body, &s);
        if (!s.started) {
            fprintf(stderr, "pinexec bench: --glfw: px_glfw_main: %s (%s)\n", px_strerror(r),
                    px_last_error());
            r = 1;
        }
#else
        fprintf(stderr, "pinexec bench: --glfw: this pinexec was built without GLFW\n");
        r = 2;
#endif
    } else {
        r = px_main(body, &s);
        if (!s.started) { /* px_main refused (not the main thread, already used) */
            s.main_served = false;
            r = body(&s);
        }
    }
    pxb_opts_free(&o);
    return r;
}
