/*
 * One case's measurement, after Go's testing.B: grow the batch size n until a
 * batch takes a fixed slice of --time (calibration, which also warms up), run
 * more warm-up batches, then timed batches until --time has passed. Reported:
 * the median and the 99th percentile of the per-batch ns/op, the CPU time of
 * the tracked threads per op, wake-ups per op and the allocations counted over
 * the timed batches.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_count.h"
#include "bench.h"
#include "platform.h"

/* Batches in the timed part: the target (each batch lasts time / BATCHES),
 * the minimum and the most kept. */
#define BATCHES 50u
#define MIN_BATCHES 10u
#define MAX_BATCHES 2000u
#define MIN_BATCH_NS 1000000ull /* 1ms: clock reads and per-batch barriers vanish */
#define MAX_N (1ull << 40)

struct pxb_b {
    const pxb_case_t *c;
    const pxb_opts_t *o;
    pxb_result_t *r;
    bool main_served;
    clockid_t clocks[PXB_MAX_CLOCKS]; /* CPU clocks of the tracked threads */
    unsigned nclocks;
    bool track_process;
    px_thread_t *execs[4];
    unsigned nexecs;
    bool fixed_wakes;
    double fixed_wakes_op;
    uint64_t multiple;
    const uint64_t *counters[PXB_MAX_EXTRA];
    const char *counter_units[PXB_MAX_EXTRA];
    unsigned ncounters;
    bool measured;
};

const pxb_case_t *pxb_b_case(pxb_b_t *b) { return b->c; }
const pxb_opts_t *pxb_b_opts(pxb_b_t *b) { return b->o; }
bool pxb_b_main_served(pxb_b_t *b) { return b->main_served; }

int pxb_b_pin_caller(pxb_b_t *b)
{
    int r = pxb_pin_self(b->c->pair ? b->c->pair->a : -1);
    if (r)
        pxb_b_fail(b, r, "cannot pin the caller to CPU %d: %s", b->c->pair ? b->c->pair->a : -1,
                   px_last_error());
    return r;
}

void pxb_b_track_thread(pxb_b_t *b, pthread_t th)
{
    clockid_t c;
    if (b->nclocks < PXB_MAX_CLOCKS && pthread_getcpuclockid(th, &c) == 0)
        b->clocks[b->nclocks++] = c;
}

void pxb_b_track_process(pxb_b_t *b) { b->track_process = true; }

void pxb_b_track_executor(pxb_b_t *b, px_thread_t *t)
{
    if (b->nexecs < sizeof b->execs / sizeof b->execs[0]) b->execs[b->nexecs++] = t;
}

void pxb_b_fixed_wakes(pxb_b_t *b, double per_op)
{
    b->fixed_wakes = true;
    b->fixed_wakes_op = per_op;
}

void pxb_b_multiple(pxb_b_t *b, uint64_t m) { b->multiple = m ? m : 1; }

void pxb_b_counter(pxb_b_t *b, const uint64_t *counter, const char *unit)
{
    if (b->ncounters >= PXB_MAX_EXTRA) return;
    b->counters[b->ncounters] = counter;
    b->counter_units[b->ncounters++] = unit;
}

static void note(pxb_result_t *r, const char *fmt, va_list ap)
{
    vsnprintf(r->note, sizeof r->note, fmt, ap);
}

void pxb_b_skip(pxb_b_t *b, const char *fmt, ...)
{
    if (b->r->status != PXB_OK) return;
    b->r->status = PXB_SKIPPED;
    va_list ap;
    va_start(ap, fmt);
    note(b->r, fmt, ap);
    va_end(ap);
}

void pxb_b_fail(pxb_b_t *b, int err, const char *fmt, ...)
{
    if (b->r->status == PXB_FAILED) return;
    b->r->status = PXB_FAILED;
    va_list ap;
    va_start(ap, fmt);
    note(b->r, fmt, ap);
    va_end(ap);
    if (err) {
        size_t l = strlen(b->r->note);
        snprintf(b->r->note + l, sizeof b->r->note - l, " (%s)", px_strerror(err));
    }
}

void pxb_skip_case(pxb_b_t *b) { pxb_b_skip(b, "%s", (const char *)b->c->ptr); }

static uint64_t round_up(uint64_t n, uint64_t m) { return (n + m - 1) / m * m; }

/* One batch: its measured ns (self-timed or wall) and its wall time. */
static int batch(pxb_b_t *b, pxb_run_fn run, void *ctx, uint64_t n, uint64_t *measured,
                 uint64_t *wall)
{
    uint64_t self = 0;
    uint64_t t0 = px__now_ns();
    int r = run(ctx, n, &self);
    uint64_t t1 = px__now_ns();
    if (r) {
        pxb_b_fail(b, r, "a batch of %llu operations failed", (unsigned long long)n);
        return r;
    }
    *wall = t1 - t0;
    *measured = self ? self : *wall;
    return 0;
}

static uint64_t cpu_ns(const pxb_b_t *b)
{
    if (b->track_process) {
        struct timespec ts;
        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    uint64_t sum = 0;
    struct timespec ts;
    for (unsigned i = 0; i < b->nclocks; i++)
        if (clock_gettime(b->clocks[i], &ts) == 0)
            sum += (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    for (unsigned i = 0; i < b->nexecs; i++) { /* px_thread_stats reads the executor's clock */
        px_stats_t s = {.size = sizeof s};
        memset(&s, 0, sizeof s);
        if (px_thread_stats(b->execs[i], &s) == 0) sum += s.cpu_ns;
    }
    return sum;
}

static uint64_t wakes(const pxb_b_t *b)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < b->nexecs; i++) {
        px_stats_t s = {.size = sizeof s};
        memset(&s, 0, sizeof s);
        if (px_thread_stats(b->execs[i], &s) == 0) sum += s.wakes;
    }
    return sum;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, c = *(const double *)y;
    return a < c ? -1 : a > c;
}

int pxb_b_measure(pxb_b_t *b, pxb_run_fn run, void *ctx)
{
    pxb_result_t *r = b->r;
    if (b->measured || r->status != PXB_OK) return -EINVAL;
    b->measured = true;
    uint64_t m = b->multiple ? b->multiple : 1;
    uint64_t target = b->o->time_ns / BATCHES;
    if (target < MIN_BATCH_NS) target = MIN_BATCH_NS;

    /* Calibration, after Go: predict the n that fills a batch, growing by at
     * most 100x per step. Unlike Go, predict from the fastest batch seen so
     * far and stop only on a batch that both lasted half the target and had
     * the predicted size, never on the first (a cold start): on a loaded machine a small batch whose threads
     * were descheduled (a server just started, a neighbour's burst) lasts
     * milliseconds and would otherwise freeze n at 1 for the whole case. */
    uint64_t n = m, meas, wall;
    double per = 0; /* best wall ns per op so far */
    for (unsigned step = 0;; step++) {
        int e = batch(b, run, ctx, n, &meas, &wall);
        if (e) return e;
        double p = (double)(wall ? wall : 1) / (double)n;
        if (per == 0 || p < per) per = p;
        double want = (double)(target + target / 5) / per;
        if (getenv("PX_BENCH_DEBUG"))
            fprintf(stderr, "calibrate %s: step %u n %llu wall %llu per %.1f want %.0f\n",
                    b->c->name, step, (unsigned long long)n, (unsigned long long)wall, per, want);
        if ((step > 0 && wall >= target / 2 && (double)n >= want * 0.8) || n >= MAX_N || step >= 20)
            break;
        uint64_t next = want > (double)MAX_N ? MAX_N : (uint64_t)want;
        if (next > n * 100) next = n * 100;
        if (next <= n) next = 2 * n;
        n = round_up(next, m);
    }
    /* Warm-up: a tenth of the timed part. */
    uint64_t warm_until = px__now_ns() + b->o->time_ns / 10;
    do {
        int e = batch(b, run, ctx, n, &meas, &wall);
        if (e) return e;
    } while (px__now_ns() < warm_until);

    double *samples = malloc(MAX_BATCHES * sizeof *samples);
    if (samples == NULL) {
        pxb_b_fail(b, -ENOMEM, "out of memory");
        return -ENOMEM;
    }
    uint64_t ctr0[PXB_MAX_EXTRA];
    for (unsigned i = 0; i < b->ncounters; i++) ctr0[i] = *b->counters[i];
    uint64_t cpu0 = cpu_ns(b), wakes0 = wakes(b);
    uint64_t total_ops = 0, total_meas = 0, total_wall = 0;
    unsigned k = 0;
    int err = 0;
    pxb_alloc_count_start();
    while (k < MAX_BATCHES && (total_wall < b->o->time_ns || k < MIN_BATCHES)) {
        err = batch(b, run, ctx, n, &meas, &wall);
        if (err) break;
        samples[k++] = (double)meas / (double)n;
        total_ops += n;
        total_meas += meas;
        total_wall += wall;
    }
    pxb_alloc_counts_t counted;
    pxb_alloc_count_stop(&counted);
    if (err) {
        free(samples);
        return err;
    }
    uint64_t cpu1 = cpu_ns(b), wakes1 = wakes(b);

    r->n = total_ops;
    r->batches = k;
    r->mean_ns_op = (double)total_meas / (double)total_ops;
    qsort(samples, k, sizeof *samples, cmp_double);
    r->ns_op = k % 2 ? samples[k / 2] : (samples[k / 2 - 1] + samples[k / 2]) / 2;
    unsigned p99 = (unsigned)ceil(0.99 * k); /* nearest rank, 1-based */
    r->p99_ns_op = samples[(p99 ? p99 : 1) - 1];
    r->min_ns_op = samples[0];
    r->max_ns_op = samples[k - 1];
    free(samples);
    if (b->nclocks || b->nexecs || b->track_process) {
        r->has_cpu = true;
        r->cpu_ns_op = (double)(cpu1 - cpu0) / (double)total_ops;
    }
    if (b->fixed_wakes) {
        r->has_wakes = true;
        r->wakes_op = b->fixed_wakes_op;
    } else if (b->nexecs) {
        r->has_wakes = true;
        r->wakes_op = (double)(wakes1 - wakes0) / (double)total_ops;
    }
    r->has_alloc = pxb_alloc_available();
    r->allocs = counted.allocs;
    r->bytes = counted.bytes;
    for (unsigned i = 0; i < b->ncounters && r->nextra < PXB_MAX_EXTRA; i++) {
        snprintf(r->extra[r->nextra].unit, sizeof r->extra[r->nextra].unit, "%s",
                 b->counter_units[i]);
        r->extra[r->nextra++].value = (double)(*b->counters[i] - ctr0[i]) / (double)total_ops;
    }
    return 0;
}

bool pxb_alloc_available(void) { return pxb_alloc_count_coverage() == PXB_ALLOC_COUNT_EVERY; }

void pxb_run_case(const pxb_case_t *c, const pxb_opts_t *o, bool main_served, unsigned run,
                  pxb_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->run = run;
    pxb_b_t b;
    memset(&b, 0, sizeof b);
    b.c = c;
    b.o = o;
    b.r = r;
    b.main_served = main_served;
    b.multiple = 1;
    c->fn(&b);
    if (r->status == PXB_OK && !b.measured) pxb_b_fail(&b, 0, "the case measured nothing");
    /* Back to the whole allowed set for the next case. */
    pxb_pin_self(-1);
}
