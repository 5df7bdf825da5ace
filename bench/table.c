/*
 * --format=table: the run for people: what ran where, one aligned row per
 * case (the units in the header, "-" for what a case does not measure), the
 * ratios with their goals, then the summary in words.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* A cell of width w: 4 significant digits, "-" when absent. */
static void cell(FILE *f, int w, bool has, double x)
{
    if (!has || !isfinite(x)) {
        fprintf(f, " %*s", w, "-");
        return;
    }
    double y = fabs(x);
    int prec = y == 0 || y >= 1000 ? 0 : y >= 100 ? 1 : y >= 10 ? 2 : y >= 1 ? 3 : 4;
    if (y != 0 && y < 0.001) fprintf(f, " %*.1e", w, x);
    else fprintf(f, " %*.*f", w, prec, x);
}

/* The case column's width for names of up to name_width characters (with "Benchmark"). */
static int case_width(int name_width) { return name_width - 9 > 4 ? name_width - 9 : 4; }

void pxb_table_header(FILE *f, const pxb_report_t *rep, int name_width)
{
    fprintf(f, "pinexec %s bench, %s\ncpu: %s\nmachine: %s\npairs:", px_version(), rep->date,
            rep->cpu, rep->machine);
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &rep->pairs->p[k];
        if (p->present)
            fprintf(f, " %s (caller CPU %d, executor CPU %d)%s", p->label, p->a, p->b,
                    p->primary ? " primary" : "");
    }
    fprintf(f, "\ntime %.3gs per case, count %u; allocations %s\n\n",
            (double)rep->opts->time_ns / 1e9, rep->opts->count,
            rep->alloc_counted ? "counted" : "not counted (sanitizer build)");
    fprintf(f, "%-*s %10s %10s %10s %10s %8s %9s\n", case_width(name_width), "case", "ns/op",
            "p99 ns/op", "cpu ns/op", "wakes/op", "B/op", "allocs/op");
}

void pxb_table_row(FILE *f, const pxb_result_t *r, int name_width)
{
    const char *name = strncmp(r->c->name, "Benchmark", 9) == 0 ? r->c->name + 9 : r->c->name;
    fprintf(f, "%-*s", case_width(name_width), name);
    if (r->status != PXB_OK) {
        fprintf(f, " %s: %s\n", r->status == PXB_SKIPPED ? "skipped" : "ERROR", r->note);
        return;
    }
    cell(f, 10, true, r->ns_op);
    cell(f, 10, true, r->p99_ns_op);
    cell(f, 10, r->has_cpu, r->cpu_ns_op);
    cell(f, 10, r->has_wakes, r->wakes_op);
    if (r->has_alloc && r->n)
        fprintf(f, " %8llu %9llu", (unsigned long long)(r->bytes / r->n),
                (unsigned long long)(r->allocs / r->n));
    else fprintf(f, " %8s %9s", "-", "-");
    fputc('\n', f);
}

static void ratios(FILE *f, const pxb_ratios_t *rs)
{
    if (rs->n == 0) return;
    fprintf(f, "\n%-42s %-8s %9s  %-18s %s\n", "ratio (medians of ns/op)", "pair", "value", "goal",
            "verdict");
    for (unsigned i = 0; i < rs->n; i++) {
        const pxb_ratio_t *r = &rs->v[i];
        fprintf(f, "%-42s %-8s %8.2fx  %-18s %s\n", r->what, r->pair, r->value,
                r->target ? r->target : "-",
                r->target ? (pxb_ratio_met(r) ? "met" : "MISSED") : "-");
    }
}

void pxb_table_end(FILE *f, const pxb_report_t *rep)
{
    pxb_ratios_t *rs = malloc(sizeof *rs);
    pxb_words_t *w = malloc(sizeof *w);
    if (rs && w) {
        pxb_ratios_compute(rs, rep);
        ratios(f, rs);
        pxb_words(rep, rs, w);
        fputc('\n', f);
        for (unsigned i = 0; i < w->n; i++) fprintf(f, "%s\n", w->line[i]);
    } else {
        fprintf(f, "out of memory: no ratios\n");
    }
    free(w);
    free(rs);
}
