/*
 * Output: Go benchmark lines (the format `go test -bench` prints and benchstat
 * reads: "BenchmarkName-N <tab> iterations <tab> value unit <tab> ..."; lines
 * of other shapes are ignored by benchstat, so skips, errors and the ratio
 * summary are "#" comments), or one JSON document with --json.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "bench.h"
#include "peers/peer.h"
#include "placement.h"

/* ---- Go lines ------------------------------------------------------------ */

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

static const char *goarch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__i386__)
    return "386";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#else
    return "unknown";
#endif
}

static void goos(char *buf, size_t len)
{
    struct utsname u;
    snprintf(buf, len, "%s", uname(&u) == 0 ? u.sysname : "unknown");
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
}

static const char *summary_line(char *buf, size_t len)
{
    if (px__placement_describe(buf, len) != 0 && buf[0] == '\0') snprintf(buf, len, "unknown");
    const char *p = buf;
    if (strncmp(p, "machine: ", 9) == 0) p += 9;
    return p;
}

void px__bench_print_header(FILE *f, const px_bench_report_t *rep)
{
    char os[80], cpu[200], mach[512];
    goos(os, sizeof os);
    px__bench_machine(cpu, sizeof cpu);
    fprintf(f, "goos: %s\ngoarch: %s\npkg: pinexec\ncpu: %s\n", os, goarch(), cpu);
    fprintf(f, "pinexec: %s\n", px_version());
    fprintf(f, "machine: %s\n", summary_line(mach, sizeof mach));
    fprintf(f, "pairs:");
    for (int k = 0; k < PX_PAIR_NKINDS; k++) {
        const px_bench_pair_t *p = &rep->pairs->p[k];
        if (p->present)
            fprintf(f, " %s=%d,%d%s", p->label, p->a, p->b, p->primary ? "(primary)" : "");
    }
    fprintf(f, "%s\n", rep->pairs->forced ? " (forced by --cpus)" : "");
    static const char *kinds[] = {"smt", "cores", "packages/numa", "samepu"};
    for (int k = 0; k < PX_PAIR_NKINDS; k++) {
        const px_bench_pair_t *p = &rep->pairs->p[k];
        if (!p->present) fprintf(f, "# skipped: pair %s: %s\n", kinds[k], p->why);
    }
    fprintf(f,
            "# time %.3gs per case, count %u; median ns/op over batches, p99 over batches; "
            "allocations %s\n",
            (double)rep->opts->time_ns / 1e9, rep->opts->count,
            px__bench_alloc_available() ? "counted (malloc interposed)"
                                        : "not counted (sanitizer build: B/op, allocs/op omitted)");
    if (!rep->main_served)
        fprintf(f, "# not running inside px_main: BenchmarkMainThreadCall skipped\n");
}

static void full_name(char *buf, size_t len, const px_bench_result_t *r, int ncpus)
{
    if (ncpus > 1) snprintf(buf, len, "%s-%d", r->c->name, ncpus);
    else snprintf(buf, len, "%s", r->c->name);
}

void px__bench_print_result(FILE *f, const px_bench_result_t *r, int ncpus, int width)
{
    char name[PX_BENCH_NAME_MAX + 16];
    full_name(name, sizeof name, r, ncpus);
    if (r->status == PX_BENCH_SKIPPED) {
        fprintf(f, "# skipped: %s: %s\n", name, r->note);
        return;
    }
    if (r->status == PX_BENCH_FAILED) {
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

/* ---- ratios ------------------------------------------------------------ */

typedef struct ratio {
    char what[80];
    const char *pair;
    char num[PX_BENCH_NAME_MAX], den[PX_BENCH_NAME_MAX];
    double nv, dv, value;
    const char *target; /* "<= 1.3", ">= 20", NULL: for information */
    double limit;
    int cmp; /* -1: value <= limit, +1: value >= limit */
} ratio_t;

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Median over the runs of a case; NAN when it did not run. */
static double median_of(const px_bench_report_t *rep, const char *name)
{
    double v[PX_BENCH_COUNT_MAX];
    unsigned k = 0;
    for (size_t i = 0; i < rep->nresults && k < PX_BENCH_COUNT_MAX; i++) {
        const px_bench_result_t *r = &rep->results[i];
        if (r->status == PX_BENCH_OK && strcmp(r->c->name, name) == 0) v[k++] = r->ns_op;
    }
    if (k == 0) return NAN;
    qsort(v, k, sizeof v[0], cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

typedef struct ratios {
    ratio_t v[64];
    unsigned n;
} ratios_t;

/* value = num / den (or den / num with invert, for throughputs). */
static void add(ratios_t *rs, const px_bench_report_t *rep, const char *pair, const char *what,
                const char *num, const char *den, bool invert, const char *target, double limit,
                int cmp)
{
    if (rs->n >= sizeof rs->v / sizeof rs->v[0]) return;
    double nv = median_of(rep, num), dv = median_of(rep, den);
    if (isnan(nv) || isnan(dv) || nv <= 0 || dv <= 0) return;
    ratio_t *r = &rs->v[rs->n++];
    snprintf(r->what, sizeof r->what, "%s", what);
    r->pair = pair;
    snprintf(r->num, sizeof r->num, "%s", num);
    snprintf(r->den, sizeof r->den, "%s", den);
    r->nv = nv;
    r->dv = dv;
    r->value = invert ? dv / nv : nv / dv;
    r->target = target;
    r->limit = limit;
    r->cmp = cmp;
}

/* For each peer but pinexec: BenchmarkPeer<op>/<peer>/<pair> / den, named
 * "<peer> <what>". */
static void add_peers(ratios_t *rs, const px_bench_report_t *rep, const char *pair, const char *op,
                      const char *what, const char *den, const char *target, double limit, int cmp)
{
    const px_bench_peer_t *const *peers = px__bench_peers();
    for (unsigned i = 0; peers[i]; i++) {
        if (strcmp(peers[i]->name, "pinexec") == 0) continue;
        char name[80], num[PX_BENCH_NAME_MAX];
        snprintf(name, sizeof name, "%s %s", peers[i]->name, what);
        snprintf(num, sizeof num, "BenchmarkPeer%s/%s/%s", op, peers[i]->name, pair);
        add(rs, rep, pair, name, num, den, false, target, limit, cmp);
    }
}

static bool met(const ratio_t *r)
{
    return r->cmp < 0 ? r->value <= r->limit : r->value >= r->limit;
}

static void compute(ratios_t *rs, const px_bench_report_t *rep)
{
    char a[PX_BENCH_NAME_MAX], b[PX_BENCH_NAME_MAX], c[PX_BENCH_NAME_MAX];
    rs->n = 0;
    for (int k = 0; k < PX_PAIR_NKINDS; k++) {
        const px_bench_pair_t *p = &rep->pairs->p[k];
        if (!p->present) continue;
        const char *L = p->label;
        /* The spinning floor is the faster of the one- and two-line ping-pongs. */
        snprintf(b, sizeof b, "BenchmarkPingPong/1line/%s", L);
        snprintf(c, sizeof c, "BenchmarkPingPong/2lines/%s", L);
        double one = median_of(rep, b), two = median_of(rep, c);
        const char *floor = isnan(two) || (!isnan(one) && one < two) ? b : c;
        snprintf(a, sizeof a, "BenchmarkCall/spin/%s", L);
        add(rs, rep, L, "hot px_call / spinning ping-pong", a, floor, false, "<= 1.3", 1.3, -1);
        /* A call moves two lines (the cell out, the reply back): its own floor. */
        add(rs, rep, L, "hot px_call / two-line ping-pong", a, c, false, NULL, 0, 0);
        snprintf(a, sizeof a, "BenchmarkCallCold/sleep/%s", L);
        snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", L);
        add(rs, rep, L, "cold px_call / futex ping-pong", a, b, false, "<= 1.2", 1.2, -1);
        snprintf(a, sizeof a, "BenchmarkPost/spin/%s", L);
        snprintf(b, sizeof b, "BenchmarkSPSC/%s", L);
        add(rs, rep, L, "px_post throughput / SPSC ring", a, b, true, ">= 0.7", 0.7, +1);
    }
    const char *P = rep->pairs->p[rep->pairs->primary].label;
    snprintf(b, sizeof b, "BenchmarkCall/spin/%s", P);
    add_peers(rs, rep, P, "Call", "call / hot px_call", b, ">= 20", 20, +1);
    snprintf(b, sizeof b, "BenchmarkPeerCall/pinexec/%s", P);
    add_peers(rs, rep, P, "Call", "call / pinexec call (defaults)", b, NULL, 0, 0);
    snprintf(b, sizeof b, "BenchmarkPeerPost/pinexec/%s", P);
    add_peers(rs, rep, P, "Post", "post / pinexec post (defaults)", b, NULL, 0, 0);
    snprintf(a, sizeof a, "BenchmarkCallContended/P=16/%s", P);
    snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", P);
    add(rs, rep, P, "16 callers: per call / futex ping-pong", a, b, false, "< 1 (no collapse)", 1.0,
        -1);
    snprintf(b, sizeof b, "BenchmarkCallContended/P=1/%s", P);
    add(rs, rep, P, "16 callers / 1 caller, per call", a, b, false, NULL, 0, 0);
    snprintf(a, sizeof a, "BenchmarkPostMP/P=16/%s", P);
    snprintf(b, sizeof b, "BenchmarkPostMP/P=1/%s", P);
    add(rs, rep, P, "16 posters / 1 poster, per post", a, b, false, NULL, 0, 0);
    snprintf(b, sizeof b, "BenchmarkCall/adaptive/%s", P);
    snprintf(a, sizeof a, "BenchmarkMainThreadCall/%s", P);
    add(rs, rep, P, "main-thread call / created executor call", a, b, false, NULL, 0, 0);
    snprintf(a, sizeof a, "BenchmarkDrivenCall/serve/%s", P);
    add(rs, rep, P, "px_serve call / created executor call", a, b, false, NULL, 0, 0);
    snprintf(a, sizeof a, "BenchmarkDrivenCall/fd/%s", P);
    snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", P);
    add(rs, rep, P, "fd-driven call / futex ping-pong", a, b, false, NULL, 0, 0);
}

/* Allocations of the pinexec cases over their timed parts. */
static void pinexec_allocs(const px_bench_report_t *rep, uint64_t *allocs, uint64_t *ops,
                           const px_bench_result_t **worst)
{
    *allocs = *ops = 0;
    *worst = NULL;
    for (size_t i = 0; i < rep->nresults; i++) {
        const px_bench_result_t *r = &rep->results[i];
        if (r->status != PX_BENCH_OK || !(r->c->flags & PX_BENCH_PINEXEC) || !r->has_alloc)
            continue;
        *allocs += r->allocs;
        *ops += r->n;
        if (r->allocs && (*worst == NULL || r->allocs > (*worst)->allocs)) *worst = r;
    }
}

void px__bench_print_summary(FILE *f, const px_bench_report_t *rep)
{
    ratios_t *rs = malloc(sizeof *rs);
    if (rs == NULL) return;
    compute(rs, rep);
    if (rs->n) fprintf(f, "# ratios from this run (medians of ns/op):\n");
    for (unsigned i = 0; i < rs->n; i++) {
        const ratio_t *r = &rs->v[i];
        char verdict[48] = "";
        if (r->target)
            snprintf(verdict, sizeof verdict, "[%s] %s", r->target, met(r) ? "ok" : "MISSED");
        fprintf(f, "#   %-8s %-42s %8.2fx  %-26s (%s %.1f ns, %s %.1f ns)\n", r->pair, r->what,
                r->value, verdict, r->num + 9, r->nv, r->den + 9, r->dv);
    }
    uint64_t allocs, ops;
    const px_bench_result_t *worst;
    pinexec_allocs(rep, &allocs, &ops, &worst);
    if (ops) {
        fprintf(f, "#   allocations in pinexec cases: %llu over %llu operations [0] %s",
                (unsigned long long)allocs, (unsigned long long)ops, allocs ? "MISSED" : "ok");
        if (worst)
            fprintf(f, " (most: %s, %llu)", worst->c->name, (unsigned long long)worst->allocs);
        fputc('\n', f);
    }
    free(rs);
}

/* ---- JSON ---------------------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
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

void px__bench_print_json(FILE *f, const px_bench_report_t *rep)
{
    char os[80], cpu[200], mach[512];
    goos(os, sizeof os);
    px__bench_machine(cpu, sizeof cpu);
    jfield_str(f, "{\n  \"goos\": ", os);
    jfield_str(f, ",\n  \"goarch\": ", goarch());
    jfield_str(f, ",\n  \"cpu\": ", cpu);
    jfield_str(f, ",\n  \"pinexec\": ", px_version());
    jfield_str(f, ",\n  \"machine\": ", summary_line(mach, sizeof mach));
    fprintf(
        f,
        ",\n  \"ncpus\": %d,\n  \"time_ns\": %llu,\n  \"count\": %u,\n  \"alloc_counting\": %s,\n",
        rep->ncpus, (unsigned long long)rep->opts->time_ns, rep->opts->count,
        px__bench_alloc_available() ? "true" : "false");
    fprintf(f, "  \"main_served\": %s,\n  \"pairs\": [", rep->main_served ? "true" : "false");
    const char *sep = "";
    for (int k = 0; k < PX_PAIR_NKINDS; k++) {
        const px_bench_pair_t *p = &rep->pairs->p[k];
        fprintf(f, "%s\n    {\"kind\": %d, \"label\": ", sep, k);
        jstr(f, p->label ? p->label : "");
        fprintf(f, ", \"present\": %s, \"primary\": %s, \"cpus\": [%d, %d], \"why\": ",
                p->present ? "true" : "false", p->primary ? "true" : "false",
                p->present ? p->a : -1, p->present ? p->b : -1);
        jstr(f, p->why);
        fputc('}', f);
        sep = ",";
    }
    fprintf(f, "\n  ],\n  \"results\": [");
    sep = "";
    for (size_t i = 0; i < rep->nresults; i++) {
        const px_bench_result_t *r = &rep->results[i];
        char name[PX_BENCH_NAME_MAX + 16];
        full_name(name, sizeof name, r, rep->ncpus);
        fprintf(f, "%s\n    {\"name\": ", sep);
        jstr(f, name);
        jfield_str(f, ", \"base\": ", r->c->name);
        jfield_str(f, ", \"pair\": ", r->c->pair ? r->c->pair->label : "");
        fprintf(f, ", \"cpus\": [%d, %d], \"run\": %u, \"status\": \"%s\"",
                r->c->pair ? r->c->pair->a : -1, r->c->pair ? r->c->pair->b : -1, r->run,
                r->status == PX_BENCH_OK        ? "ok"
                : r->status == PX_BENCH_SKIPPED ? "skipped"
                                                : "error");
        if (r->status != PX_BENCH_OK) {
            jfield_str(f, ", \"note\": ", r->note);
        } else {
            fprintf(f, ", \"n\": %llu, \"batches\": %u", (unsigned long long)r->n, r->batches);
            static const char *keys[] = {"ns_per_op", "p99_ns_per_op", "min_ns_per_op",
                                         "max_ns_per_op", "mean_ns_per_op"};
            double vals[] = {r->ns_op, r->p99_ns_op, r->min_ns_op, r->max_ns_op, r->mean_ns_op};
            for (unsigned j = 0; j < 5; j++) {
                fprintf(f, ", \"%s\": ", keys[j]);
                jnum(f, vals[j]);
            }
            jfield_num(f, ", \"cpu_ns_per_op\": ", r->has_cpu ? r->cpu_ns_op : NAN);
            jfield_num(f, ", \"wakes_per_op\": ", r->has_wakes ? r->wakes_op : NAN);
            if (r->has_alloc)
                fprintf(f,
                        ", \"allocs\": %llu, \"bytes\": %llu, \"allocs_per_op\": %.6g, "
                        "\"bytes_per_op\": %.6g",
                        (unsigned long long)r->allocs, (unsigned long long)r->bytes,
                        (double)r->allocs / (double)r->n, (double)r->bytes / (double)r->n);
            for (unsigned j = 0; j < r->nextra; j++) {
                jfield_str(f, ", ", r->extra[j].unit);
                jfield_num(f, ": ", r->extra[j].value);
            }
        }
        fputc('}', f);
        sep = ",";
    }
    fprintf(f, "\n  ],\n  \"ratios\": [");
    ratios_t *rs = malloc(sizeof *rs);
    sep = "";
    if (rs) {
        compute(rs, rep);
        for (unsigned i = 0; i < rs->n; i++) {
            const ratio_t *r = &rs->v[i];
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
            fprintf(f, ", \"met\": %s}", r->target ? (met(r) ? "true" : "false") : "null");
            sep = ",";
        }
        free(rs);
    }
    uint64_t allocs, ops;
    const px_bench_result_t *worst;
    pinexec_allocs(rep, &allocs, &ops, &worst);
    fprintf(f, "\n  ],\n  \"pinexec_allocs\": %llu,\n  \"pinexec_ops\": %llu\n}\n",
            (unsigned long long)allocs, (unsigned long long)ops);
}
