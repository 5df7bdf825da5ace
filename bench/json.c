/*
 * --format=json: one JSON document (RFC 8259) on stdout: the machine, the
 * pairs, every result, the ratios with their goals and the summary in words.
 * Strings are escaped (quotes, backslashes, control characters); a value that
 * is not finite is null.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

static void jnum(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* What precedes a value (separator, key) and the value as a JSON string or number. */
static void jfield_str(FILE *f, const char *prefix, const char *s)
{
    fputs(prefix, f);
    jstr(f, s);
}

static void jfield_num(FILE *f, const char *prefix, double v)
{
    fputs(prefix, f);
    jnum(f, v);
}

static const char *jbool(bool b) { return b ? "true" : "false"; }

static void pairs(FILE *f, const pxb_report_t *rep)
{
    fprintf(f, "  \"pairs\": [");
    const char *sep = "";
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &rep->pairs->p[k];
        fprintf(f, "%s\n    {\"kind\": %d, \"label\": ", sep, k);
        jstr(f, p->label ? p->label : "");
        fprintf(f, ", \"present\": %s, \"primary\": %s, \"cpus\": [%d, %d], \"why\": ",
                jbool(p->present), jbool(p->primary), p->present ? p->a : -1,
                p->present ? p->b : -1);
        jstr(f, p->why);
        fputc('}', f);
        sep = ",";
    }
    fprintf(f, "\n  ],\n");
}

static void result(FILE *f, const pxb_result_t *r, int ncpus)
{
    char name[PXB_NAME_MAX + 16];
    if (ncpus > 1) snprintf(name, sizeof name, "%s-%d", r->c->name, ncpus);
    else snprintf(name, sizeof name, "%s", r->c->name);
    fprintf(f, "\n    {\"name\": ");
    jstr(f, name);
    jfield_str(f, ", \"base\": ", r->c->name);
    jfield_str(f, ", \"pair\": ", r->c->pair ? r->c->pair->label : "");
    fprintf(f, ", \"cpus\": [%d, %d], \"run\": %u, \"status\": \"%s\"",
            r->c->pair ? r->c->pair->a : -1, r->c->pair ? r->c->pair->b : -1, r->run,
            r->status == PXB_OK        ? "ok"
            : r->status == PXB_SKIPPED ? "skipped"
                                       : "error");
    if (r->status != PXB_OK) {
        jfield_str(f, ", \"note\": ", r->note);
        fputc('}', f);
        return;
    }
    fprintf(f, ", \"n\": %llu, \"batches\": %u", (unsigned long long)r->n, r->batches);
    static const char *keys[] = {"ns_per_op", "p99_ns_per_op", "min_ns_per_op", "max_ns_per_op",
                                 "mean_ns_per_op"};
    double vals[] = {r->ns_op, r->p99_ns_op, r->min_ns_op, r->max_ns_op, r->mean_ns_op};
    for (unsigned j = 0; j < 5; j++) {
        fprintf(f, ", \"%s\": ", keys[j]);
        jnum(f, vals[j]);
    }
    jfield_num(f, ", \"cpu_ns_per_op\": ", r->has_cpu ? r->cpu_ns_op : NAN);
    jfield_num(f, ", \"wakes_per_op\": ", r->has_wakes ? r->wakes_op : NAN);
    if (r->has_alloc && r->n)
        fprintf(f,
                ", \"allocs\": %llu, \"bytes\": %llu, \"allocs_per_op\": %.6g, "
                "\"bytes_per_op\": %.6g",
                (unsigned long long)r->allocs, (unsigned long long)r->bytes,
                (double)r->allocs / (double)r->n, (double)r->bytes / (double)r->n);
    for (unsigned j = 0; j < r->nextra; j++) {
        jfield_str(f, ", ", r->extra[j].unit);
        jfield_num(f, ": ", r->extra[j].value);
    }
    fputc('}', f);
}

static void ratios(FILE *f, const pxb_ratios_t *rs)
{
    fprintf(f, "  \"ratios\": [");
    const char *sep = "";
    for (unsigned i = 0; i < rs->n; i++) {
        const pxb_ratio_t *r = &rs->v[i];
        fprintf(f, "%s\n    {\"what\": ", sep);
        jstr(f, r->what);
        jfield_str(f, ", \"pair\": ", r->pair);
        jfield_str(f, ", \"num\": ", r->num);
        jfield_str(f, ", \"den\": ", r->den);
        jfield_num(f, ", \"num_ns\": ", r->nv);
        jfield_num(f, ", \"den_ns\": ", r->dv);
        jfield_num(f, ", \"value\": ", r->value);
        fprintf(f, ", \"target\": ");
        if (r->target) jstr(f, r->target);
        else fputs("null", f);
        fprintf(f, ", \"met\": %s}", r->target ? jbool(pxb_ratio_met(r)) : "null");
        sep = ",";
    }
    fprintf(f, "\n  ],\n");
}

void pxb_print_json(FILE *f, const pxb_report_t *rep)
{
    pxb_ratios_t *rs = calloc(1, sizeof *rs);
    pxb_words_t *w = calloc(1, sizeof *w);
    if (rs && w) {
        pxb_ratios_compute(rs, rep);
        pxb_words(rep, rs, w);
    }
    jfield_str(f, "{\n  \"goos\": ", rep->goos);
    jfield_str(f, ",\n  \"goarch\": ", rep->goarch);
    jfield_str(f, ",\n  \"cpu\": ", rep->cpu);
    jfield_str(f, ",\n  \"pinexec\": ", px_version());
    jfield_str(f, ",\n  \"machine\": ", rep->machine);
    jfield_str(f, ",\n  \"date\": ", rep->date);
    fprintf(
        f,
        ",\n  \"ncpus\": %d,\n  \"time_ns\": %llu,\n  \"count\": %u,\n  \"alloc_counting\": %s,\n",
        rep->ncpus, (unsigned long long)rep->opts->time_ns, rep->opts->count,
        jbool(rep->alloc_counted));
    fprintf(f, "  \"main_served\": %s,\n", jbool(rep->main_served));
    pairs(f, rep);
    fprintf(f, "  \"results\": [");
    for (size_t i = 0; i < rep->nresults; i++) {
        if (i) fputc(',', f);
        result(f, &rep->results[i], rep->ncpus);
    }
    fprintf(f, "\n  ],\n");
    if (rs && w) ratios(f, rs);
    else fprintf(f, "  \"ratios\": null,\n");
    fprintf(f, "  \"pinexec_allocs\": %llu,\n  \"pinexec_ops\": %llu,\n  \"summary\": [",
            (unsigned long long)(rs ? rs->allocs : 0), (unsigned long long)(rs ? rs->ops : 0));
    for (unsigned i = 0; w && rs && i < w->n; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        jstr(f, w->line[i]);
    }
    fprintf(f, "\n  ]\n}\n");
    free(w);
    free(rs);
}
