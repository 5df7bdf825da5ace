/*
 * `pinexec bench`: the executor benchmark suite (see bench/README.md).
 *
 * Layers, one concern per file:
 *   args.c        the command line (parsed into px_bench_opts_t, tested);
 *   pairs.c       CPU pairs chosen from the hwloc topology, pinning helpers;
 *   harness.c     one case's measurement: calibration, warm-up, batches,
 *                 median / p99, CPU time, wake-ups, allocations;
 *   alloc_count.c malloc & co. interposed in the pinexec binary, counted
 *                 while a case's timed part runs (shared with the tests:
 *                 alloc_count.h);
 *   ops.c         what the cases time: the function a call or post runs,
 *                 loops of n calls or posts;
 *   pool.c        a pool of producer threads started in rounds, and the
 *                 multi-producer cases run with it;
 *   floors.c      the hardware floors (direct call, ping-pongs, SPSC ring);
 *   calls.c, posts.c, driven.c, peers.c   the cases;
 *   output.c      Go benchmark lines, --json, the ratio summary;
 *   tool.c        px__tool_bench: the suite inside px_main.
 *   peers/        the executors compared against (one adapter file each).
 *
 * A case is a function that sets up its threads, calls px__b_measure() with a
 * function running n operations, and tears down. Everything a case allocates
 * is allocated before px__b_measure and freed after it: the counted part
 * allocates only what the code under test allocates.
 */
#ifndef PX_BENCH_H
#define PX_BENCH_H

#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pinexec.h"

/* `pinexec bench [options]`; argv[0] is "bench". Returns the exit status:
 * 0 all cases ran (or were skipped), 1 a case failed, 2 a usage error. */
int px__tool_bench(int argc, char **argv);

/* ---- options (args.c) ---------------------------------------------------- */

#define PX_BENCH_TIME_DEFAULT_NS 1000000000ull /* --time default: 1s per case, as go test */
#define PX_BENCH_TIME_QUICK_NS 100000000ull    /* --quick: 100ms per case */
#define PX_BENCH_TIME_MAX_NS 3600000000000ull  /* 1h */
#define PX_BENCH_COUNT_MAX 1000u

typedef struct px_bench_opts {
    uint64_t time_ns; /* timed part of each case */
    unsigned count;   /* runs of each case */
    bool json;        /* one JSON document on stdout instead of Go lines */
    bool quick;       /* short run (make run) */
    bool list;        /* print the case names and exit */
    bool glfw;        /* run inside px_glfw_main: MainThreadCall becomes GLFWWake */
    bool help;
    int progress; /* -1 auto (stderr is a tty), 0 never, 1 always */
    int cpus[2];  /* --cpus A,B (OS indexes); -1 when not given */
    const char *filter;
    bool has_filter;
    regex_t filter_re; /* compiled filter, valid when has_filter */
} px_bench_opts_t;

/*
 * Parse argv[1..argc-1] (argv[0] is the subcommand) into *o. 0, or -EINVAL
 * with a sentence naming the offending argument in err. On success with a
 * filter, px__bench_opts_free releases it.
 */
int px__bench_parse_args(int argc, char **argv, px_bench_opts_t *o, char *err, size_t errlen);
void px__bench_opts_free(px_bench_opts_t *o);
/* A Go duration ("200ms", "1.5s", "1m30s", "750us"): 0 and *ns, or -EINVAL
 * (no unit, unknown unit, zero, negative, above PX_BENCH_TIME_MAX_NS). */
int px__bench_parse_duration(const char *s, uint64_t *ns);
/* --count: an integer 1..PX_BENCH_COUNT_MAX. 0 or -EINVAL. */
int px__bench_parse_count(const char *s, unsigned *out);
/* --cpus: "A,B", two OS indexes (equal: the same PU). 0 or -EINVAL. The
 * machine check (do these CPUs exist, are they allowed) is in pairs.c. */
int px__bench_parse_cpus(const char *s, int out[2]);
/* Whether a case name passes the filter (unanchored POSIX ERE). */
bool px__bench_selected(const px_bench_opts_t *o, const char *name);
void px__bench_usage(FILE *f);

/* ---- CPU pairs (pairs.c) -------------------------------------------------- */

enum px_bench_pair_kind {
    PX_PAIR_SMT = 0, /* two PUs of one core */
    PX_PAIR_CORES,   /* two cores of one package */
    PX_PAIR_REMOTE,  /* two packages, else two NUMA nodes */
    PX_PAIR_SAME,    /* one PU for both threads */
    PX_PAIR_NKINDS
};

typedef struct px_bench_pair {
    const char *label; /* used in case names: smt, cores, packages, numa, samepu */
    int a, b;          /* OS indexes: the caller runs on a, the executor on b */
    bool present;
    bool primary;  /* the pair every case runs on (the others run the floors) */
    char why[200]; /* why the machine lacks it (present == false) */
} px_bench_pair_t;

typedef struct px_bench_pairs {
    px_bench_pair_t p[PX_PAIR_NKINDS];
    int primary; /* index into p */
    bool forced; /* --cpus */
} px_bench_pairs_t;

/* Choose the pairs from the topology (forced: --cpus, or {-1,-1}). 0, or a
 * negative errno with the reason in err (a forced CPU that is not allowed). */
int px__bench_pairs_find(px_bench_pairs_t *out, const int forced[2], char *err, size_t errlen);
/* Bind the calling thread to OS CPU cpu (-1: the whole allowed set). */
int px__bench_pin_self(int cpu);
/* Bind the calling thread to the allowed set without OS CPU cpu (the whole
 * allowed set when that leaves nothing). */
int px__bench_pin_self_except(int cpu);
/* CPUs in the allowed set (the -N suffix of the case names). */
int px__bench_ncpus(void);
/* The CPU model for the "cpu:" header line (hwloc's CPUModel, else
 * /proc/cpuinfo, else "unknown"). */
void px__bench_machine(char *cpu_model, size_t len);

/* ---- cases and the harness (harness.c) ----------------------------------- */

#define PX_BENCH_NAME_MAX 96
#define PX_BENCH_MAX_CLOCKS 40
#define PX_BENCH_MAX_EXTRA 3

/* Case flags. */
#define PX_BENCH_PINEXEC 1u /* measures pinexec: 0 B/op and 0 allocs/op expected */

typedef struct px_b px_b_t;

typedef struct px_bench_case {
    char name[PX_BENCH_NAME_MAX]; /* "BenchmarkCall/spin/cores", without "-N" */
    void (*fn)(px_b_t *b);
    const px_bench_pair_t *pair; /* NULL: a single-thread case */
    long param;                  /* the case's own: a wait mode, a producer count */
    const void *ptr;             /* the case's own: a peer */
    unsigned flags;
} px_bench_case_t;

typedef struct px_bench_list {
    px_bench_case_t *v;
    size_t n, cap;
    const px_bench_opts_t *opts;
    bool main_served; /* the suite runs inside px_main (or px_glfw_main) */
    bool glfw;        /* ...inside px_glfw_main */
} px_bench_list_t;

/* Append a case whose name (printf format) passes the filter. */
void px__bench_add(px_bench_list_t *l, void (*fn)(px_b_t *), const px_bench_pair_t *pair,
                   long param, const void *ptr, unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

enum { PX_BENCH_OK = 0, PX_BENCH_SKIPPED = 1, PX_BENCH_FAILED = 2 };

typedef struct px_bench_result {
    const px_bench_case_t *c;
    unsigned run;   /* 0 .. count-1 */
    int status;     /* PX_BENCH_OK / SKIPPED / FAILED */
    char note[240]; /* why skipped or failed */
    uint64_t n;     /* operations in the timed batches */
    unsigned batches;
    double ns_op;     /* median over batches */
    double p99_ns_op; /* 99th percentile over batches (nearest rank) */
    double min_ns_op, max_ns_op, mean_ns_op;
    bool has_cpu;
    double cpu_ns_op; /* CPU time of the tracked threads (caller(s) and executor) per op */
    bool has_wakes;
    double wakes_op; /* wake-up syscalls per op */
    bool has_alloc;
    uint64_t allocs, bytes; /* counted over the timed batches */
    unsigned nextra;
    struct {
        char unit[24];
        double value;
    } extra[PX_BENCH_MAX_EXTRA];
} px_bench_result_t;

/*
 * Run one op batch: n operations (a multiple of px__b_multiple). Returns 0 or
 * a negative errno. A case that times each operation itself (to leave out its
 * own waiting between operations) stores the measured ns in *self_ns;
 * otherwise the harness times the whole call.
 */
typedef int (*px_bench_run_fn)(void *ctx, uint64_t n, uint64_t *self_ns);

const px_bench_case_t *px__b_case(px_b_t *b);
const px_bench_opts_t *px__b_opts(px_b_t *b);
bool px__b_main_served(px_b_t *b);
/* Pin the calling thread to the case's caller CPU (pair->a). 0 or -errno. */
int px__b_pin_caller(px_b_t *b);
/* Account the CPU time of a thread of this process (the caller: pthread_self()). */
void px__b_track_thread(px_b_t *b, pthread_t th);
/* Account the CPU time of the whole process instead of a list of threads. */
void px__b_track_process(px_b_t *b);
/* Account an executor: its thread's CPU time and its px_stats.wakes. */
void px__b_track_executor(px_b_t *b, px_thread_t *t);
/* Wake-ups per op known by construction (the futex floor issues 2). */
void px__b_fixed_wakes(px_b_t *b, double per_op);
/* Operations per batch must be a multiple of m (P producers: m = P). */
void px__b_multiple(px_b_t *b, uint64_t m);
/* An extra per-op metric: *counter (bumped by the measuring thread only) is
 * read around the timed part; its delta / ops is reported as unit. */
void px__b_counter(px_b_t *b, const uint64_t *counter, const char *unit);
/* Measure. 0, or the negative errno of a failed batch (the case is failed). */
int px__b_measure(px_b_t *b, px_bench_run_fn run, void *ctx);
void px__b_skip(px_b_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void px__b_fail(px_b_t *b, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A case that is always skipped; its ptr is the reason (a string). */
void px__bench_skip_case(px_b_t *b);

/* Run case c once into *r (tool.c calls it for every case and run). */
void px__bench_run_case(const px_bench_case_t *c, const px_bench_opts_t *o, bool main_served,
                        unsigned run, px_bench_result_t *r);

/* ---- allocation counting: alloc_count.h ----------------------------------- */

/* Whether B/op and allocs/op are counted in this binary: every allocation
 * function interposed (a plain build; not under ASan/TSan). */
bool px__bench_alloc_available(void);

/* ---- what the cases time (ops.c) ------------------------------------------ */

/* px_fn: bumps the uint64_t at arg (written by the executor only). */
void px__bench_count(void *arg);
/* px_fn_v: px__bench_count, returning arg. */
void *px__bench_count_v(void *arg);
/* px_fn: nothing (the call that ends a batch of posts). */
void px__bench_nothing(void *arg);
/* n px_call(t, px__bench_count, counter): 0 or the first negative errno. */
int px__bench_calls(px_thread_t *t, uint64_t *counter, uint64_t n);
/* n px_post(t, px__bench_count, counter): 0 or the first negative errno. */
int px__bench_posts(px_thread_t *t, uint64_t *counter, uint64_t n);

/* ---- producer thread pool (pool.c) ---------------------------------------- */

#define PX_BENCH_POOL_MAX 32

typedef struct px_bench_pool px_bench_pool_t;
/* Start nthreads threads bound to the allowed set without OS CPU
 * except_cpu (the executor's: producers never share its CPU, so the curve
 * shows contention, not the scheduler's placement), idle until a round.
 * work(ctx, index, n) runs n operations. */
int px__bench_pool_start(px_bench_pool_t **out, unsigned nthreads, int except_cpu,
                         int (*work)(void *ctx, unsigned index, uint64_t n), void *ctx);
/* Run one round: each thread runs n operations; returns once all finished:
 * 0, or the first negative errno a thread's work returned. */
int px__bench_pool_round(px_bench_pool_t *p, uint64_t n);
/* Account the threads' CPU time in b. */
void px__bench_pool_track(px_bench_pool_t *p, px_b_t *b);
void px__bench_pool_stop(px_bench_pool_t *p);

/* The multi-producer cases: P threads (P: the case's param) on every allowed
 * CPU but the executor's, making px__bench_calls to (CallContended) or
 * px__bench_posts into (PostMP: each round ended by a px_call) one ADAPTIVE
 * executor on the pair's CPU b. */
void px__bench_pool_calls(px_b_t *b);
void px__bench_pool_posts(px_b_t *b);

/* ---- the cases ----------------------------------------------------------- */

void px__bench_floors_register(px_bench_list_t *l, const px_bench_pairs_t *pairs);
void px__bench_calls_register(px_bench_list_t *l, const px_bench_pairs_t *pairs);
void px__bench_posts_register(px_bench_list_t *l, const px_bench_pairs_t *pairs);
void px__bench_driven_register(px_bench_list_t *l, const px_bench_pairs_t *pairs);
void px__bench_peers_register(px_bench_list_t *l, const px_bench_pairs_t *pairs);

/* Name of a wait mode in case names: spin, adaptive, sleep. */
const char *px__bench_wait_name(px_wait_t w);
/* px_thread_create pinned to OS CPU cpu with a wait mode. 0 or -errno. */
int px__bench_executor(px_thread_t **out, int cpu, px_wait_t wait, const char *name);

/* The case's executor (px_thread_create), pinned to the pair's CPU b and
 * tracked; NULL when it could not be created (the case is failed). */
px_thread_t *px__b_executor(px_b_t *b, px_wait_t wait);
/* px_thread_destroy, failing the case on error. */
void px__b_destroy(px_b_t *b, px_thread_t *t);

/* ---- output (output.c) ---------------------------------------------------- */

typedef struct px_bench_report {
    const px_bench_opts_t *opts;
    const px_bench_pairs_t *pairs;
    const px_bench_result_t *results;
    size_t nresults;
    int ncpus;
    bool main_served;
} px_bench_report_t;

void px__bench_print_header(FILE *f, const px_bench_report_t *rep);
/* One Go benchmark line (or a "# skipped" / "# error" comment). */
void px__bench_print_result(FILE *f, const px_bench_result_t *r, int ncpus, int width);
/* The ratio summary as comment lines. */
void px__bench_print_summary(FILE *f, const px_bench_report_t *rep);
void px__bench_print_json(FILE *f, const px_bench_report_t *rep);

#endif /* PX_BENCH_H */
