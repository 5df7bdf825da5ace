/*
 * --format=benchstat: Go benchmark lines (the format `go test -bench` prints
 * and benchstat reads: "BenchmarkName-N <tab> iterations <tab> value unit
 * <tab> ..."). benchstat ignores lines of other shapes, so skips, errors, the
 * ratios and the summary in words are "#" comments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* A value with ten places before the point and 4-5 significant digits after,
 * as Go's testing package prints metrics. */
static void metric(FILE *f, double x, const char *unit)
{
    double y = fabs(x);
    int width, prec;
    if (y == 0 || y >= 999.95) width = 10, prec = 0;
    else if (y >= 99.995) width = 12, prec = 1;
    else if (y >= 9.9995) width = 13, prec = 2;
    else if (y >= 0.99995) width = 14, prec = 3;
    else if (y >= 0.099995) width = 15, prec = 4;
    else if (y >= 0.0099995) width = 16, prec = 5;
    else width = 18, prec = 7;
    fprintf(f, "\t%*.*f %s", width, prec, x, unit);
}

void pxb_print_header(FILE *f, const pxb_report_t *rep)
{
    /* "key: value" lines are benchstat configuration: only what is the same
     * from run to run on one machine (the date is a comment). */
    fprintf(f, "goos: %s\ngoarch: %s\npkg: pinexec\ncpu: %s\n", rep->goos, rep->goarch, rep->cpu);
    fprintf(f, "pinexec: %s\n", px_version());
    fprintf(f, "machine: %s\n", rep->machine);
    fprintf(f, "pairs:");
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &rep->pairs->p[k];
        if (p->present)
            fprintf(f, " %s=%d,%d%s", p->label, p->a, p->b, p->primary ? "(primary)" : "");
    }
    fprintf(f, "%s\n", rep->pairs->forced ? " (forced by --cpus)" : "");
    fprintf(f, "# date: %s\n", rep->date);
    static const char *kinds[] = {"smt", "cores", "packages/numa", "samepu"};
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &rep->pairs->p[k];
        if (!p->present) fprintf(f, "# skipped: pair %s: %s\n", kinds[k], p->why);
    }
    fprintf(f,
            "# time %.3gs per case, count %u; median ns/op over batches, p99 over batches; "
            "allocations %s\n",
            (double)rep->opts->time_ns / 1e9, rep->opts->count,
            rep->alloc_counted ? "counted (malloc interposed)"
                               : "not counted (sanitizer build: B/op, allocs/op omitted)");
    if (!rep->main_served)
        fprintf(f, "# not running inside px_main: BenchmarkMainThreadCall skipped\n");
}

void pxb_print_result(FILE *f, const pxb_result_t *r, int ncpus, int width)
{
    char name[PXB_NAME_MAX + 16];
    if (ncpus > 1) snprintf(name, sizeof name, "%s-%d", r->c->name, ncpus);
    else snprintf(name, sizeof name, "%s", r->c->name);
    if (r->status == PXB_SKIPPED) {
        fprintf(f, "# skipped: %s: %s\n", name, r->note);
        return;
    }
    if (r->status == PXB_FAILED) {
        fprintf(f, "# error: %s: %s\n", name, r->note);
        return;
    }
    fprintf(f, "%-*s\t%8llu", width, name, (unsigned long long)r->n);
    metric(f, r->ns_op, "ns/op");
    metric(f, r->p99_ns_op, "p99-ns/op");
    if (r->has_cpu) metric(f, r->cpu_ns_op, "cpu-ns/op");
    if (r->has_wakes) metric(f, r->wakes_op, "wakes/op");
    for (unsigned i = 0; i < r->nextra; i++) metric(f, r->extra[i].value, r->extra[i].unit);
    if (r->has_alloc) /* Go's integer division */
        fprintf(f, "\t%8llu B/op\t%8llu allocs/op", (unsigned long long)(r->bytes / r->n),
                (unsigned long long)(r->allocs / r->n));
    fputc('\n', f);
}

void pxb_print_summary(FILE *f, const pxb_report_t *rep)
{
    pxb_ratios_t *rs = malloc(sizeof *rs);
    pxb_words_t *w = malloc(sizeof *w);
    if (rs == NULL || w == NULL) {
        free(rs);
        free(w);
        fprintf(f, "# out of memory: no ratios\n");
        return;
    }
    pxb_ratios_compute(rs, rep);
    /* bench/report reads these lines: "#   PAIR WHAT VALUEx [TARGET] VERDICT (...)". */
    if (rs->n) fprintf(f, "# ratios from this run (medians of ns/op):\n");
    for (unsigned i = 0; i < rs->n; i++) {
        const pxb_ratio_t *r = &rs->v[i];
        char verdict[48] = "";
        if (r->target)
            snprintf(verdict, sizeof verdict, "[%s] %s", r->target,
                     pxb_ratio_met(r) ? "ok" : "MISSED");
        fprintf(f, "#   %-8s %-42s %8.2fx  %-26s (%s %.1f ns, %s %.1f ns)\n", r->pair, r->what,
                r->value, verdict, r->num + 9, r->nv, r->den + 9, r->dv);
    }
    if (rs->ops) {
        fprintf(f, "#   allocations in pinexec cases: %llu over %llu operations [0] %s",
                (unsigned long long)rs->allocs, (unsigned long long)rs->ops,
                rs->allocs ? "MISSED" : "ok");
        if (rs->worst)
            fprintf(f, " (most: %s, %llu)", rs->worst->c->name,
                    (unsigned long long)rs->worst->allocs);
        fputc('\n', f);
    }
    pxb_words(rep, rs, w);
    for (unsigned i = 0; i < w->n; i++) fprintf(f, "# %s\n", w->line[i]);
    free(w);
    free(rs);
}
