/*
 * `pinexec bench`: the executor benchmark suite (see bench/README.md).
 *
 * Layers, one concern per file:
 *   args.c        the command line (parsed into pxb_opts_t, tested);
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
 *   ratios.c      the ratios of a run (each case against its floor or a peer)
 *                 and their goals, shared by every output format;
 *   output.c      --format=benchstat: Go benchmark lines, ratios as comments;
 *   table.c       --format=table: aligned columns for people;
 *   json.c        --format=json: one JSON document;
 *   words.c       the summary in words every format ends with;
 *   describe.c    the run's description: OS, CPU model, topology, date;
 *   tool.c        pxt_bench: the suite inside px_main.
 *   peers/        the executors compared against (one adapter file each).
 *
 * A case is a function that sets up its threads, calls pxb_b_measure() with a
 * function running n operations, and tears down. Everything a case allocates
 * is allocated before pxb_b_measure and freed after it: the counted part
 * allocates only what the code under test allocates.
 */
#ifndef PXB_H
#define PXB_H

#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pinexec.h"

/* `pinexec bench [options]`; argv[0] is "bench". Returns the exit status:
 * 0 all cases ran (or were skipped), 1 a case failed, 2 a usage error. */
int pxt_bench(int argc, char **argv);

/* ---- options (args.c) ---------------------------------------------------- */

#define PXB_TIME_DEFAULT_NS 1000000000ull /* --time default: 1s per case, as go test */
#define PXB_TIME_QUICK_NS 100000000ull    /* --quick: 100ms per case */
#define PXB_TIME_MAX_NS 3600000000000ull  /* 1h */
#define PXB_COUNT_MAX 1000u

/* --format: what stdout gets. */
typedef enum pxb_format {
    PXB_FORMAT_BENCHSTAT = 0, /* Go benchmark lines (benchstat reads them), "#" comments */
    PXB_FORMAT_TABLE,         /* aligned columns and the ratios, for people */
    PXB_FORMAT_JSON,          /* one JSON document */
} pxb_format_t;

typedef struct pxb_opts {
    uint64_t time_ns;    /* timed part of each case */
    unsigned count;      /* runs of each case */
    pxb_format_t format; /* --format (--json: PXB_FORMAT_JSON) */
    bool quick;          /* short run (make run) */
    bool list;           /* print the case names and exit */
    bool glfw;           /* run inside px_glfw_main: MainThreadCall becomes GLFWWake */
    bool help;
    int progress; /* -1 auto (stderr is a tty), 0 never, 1 always */
    int cpus[2];  /* --cpus A,B (OS indexes); -1 when not given */
    const char *filter;
    bool has_filter;
    regex_t filter_re; /* compiled filter, valid when has_filter */
} pxb_opts_t;

/*
 * Parse argv[1..argc-1] (argv[0] is the subcommand) into *o. 0, or -EINVAL
 * with a sentence naming the offending argument in err. On success with a
 * filter, pxb_opts_free releases it.
 */
int pxb_parse_args(int argc, char **argv, pxb_opts_t *o, char *err, size_t errlen);
void pxb_opts_free(pxb_opts_t *o);
/* A Go duration ("200ms", "1.5s", "1m30s", "750us"): 0 and *ns, or -EINVAL
 * (no unit, unknown unit, zero, negative, above PXB_TIME_MAX_NS). */
int pxb_parse_duration(const char *s, uint64_t *ns);
/* --count: an integer 1..PXB_COUNT_MAX. 0 or -EINVAL. */
int pxb_parse_count(const char *s, unsigned *out);
/* --cpus: "A,B", two OS indexes (equal: the same PU). 0 or -EINVAL. The
 * machine check (do these CPUs exist, are they allowed) is in pairs.c. */
int pxb_parse_cpus(const char *s, int out[2]);
/* --format: "benchstat", "table" or "json". 0 and *out, or -EINVAL. */
int pxb_parse_format(const char *s, pxb_format_t *out);
/* Whether a case name passes the filter (unanchored POSIX ERE). */
bool pxb_selected(const pxb_opts_t *o, const char *name);
void pxb_usage(FILE *f);

/* ---- CPU pairs (pairs.c) -------------------------------------------------- */

enum pxb_pair_kind {
    PXB_PAIR_SMT = 0, /* two PUs of one core */
    PXB_PAIR_CORES,   /* two cores of one package */
    PXB_PAIR_REMOTE,  /* two packages, else two NUMA nodes */
    PXB_PAIR_SAME,    /* one PU for both threads */
    PXB_PAIR_NKINDS
};

typedef struct pxb_pair {
    const char *label; /* used in case names: smt, cores, packages, numa, samepu */
    int a, b;          /* OS indexes: the caller runs on a, the executor on b */
    bool present;
    bool primary;  /* the pair every case runs on (the others run the floors) */
    char why[200]; /* why the machine lacks it (present == false) */
} pxb_pair_t;

typedef struct pxb_pairs {
    pxb_pair_t p[PXB_PAIR_NKINDS];
    int primary; /* index into p */
    bool forced; /* --cpus */
} pxb_pairs_t;

/* Choose the pairs from the topology (forced: --cpus, or {-1,-1}). 0, or a
 * negative errno with the reason in err (a forced CPU that is not allowed). */
int pxb_pairs_find(pxb_pairs_t *out, const int forced[2], char *err, size_t errlen);
/* Bind the calling thread to OS CPU cpu (-1: the whole allowed set). */
int pxb_pin_self(int cpu);
/* Bind the calling thread to the allowed set without OS CPU cpu (the whole
 * allowed set when that leaves nothing). */
int pxb_pin_self_except(int cpu);
/* CPUs in the allowed set (the -N suffix of the case names). */
int pxb_ncpus(void);
/* The CPU model for the "cpu:" header line (hwloc's CPUModel, else
 * /proc/cpuinfo, else "unknown"). */
void pxb_machine(char *cpu_model, size_t len);

/* ---- cases and the harness (harness.c) ----------------------------------- */

#define PXB_NAME_MAX 96
#define PXB_MAX_CLOCKS 40
#define PXB_MAX_EXTRA 3

/* Case flags. */
#define PXB_PINEXEC 1u /* measures pinexec: 0 B/op and 0 allocs/op expected */

typedef struct pxb_b pxb_b_t;

typedef struct pxb_case {
    char name[PXB_NAME_MAX]; /* "BenchmarkCall/spin/cores", without "-N" */
    void (*fn)(pxb_b_t *b);
    const pxb_pair_t *pair; /* NULL: a single-thread case */
    long param;             /* the case's own: a wait mode, a producer count */
    const void *ptr;        /* the case's own: a peer */
    unsigned flags;
} pxb_case_t;

typedef struct pxb_list {
    pxb_case_t *v;
    size_t n, cap;
    const pxb_opts_t *opts;
    bool main_served; /* the suite runs inside px_main (or px_glfw_main) */
    bool glfw;        /* ...inside px_glfw_main */
} pxb_list_t;

/* Append a case whose name (printf format) passes the filter. */
void pxb_add(pxb_list_t *l, void (*fn)(pxb_b_t *), const pxb_pair_t *pair, long param,
             const void *ptr, unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

enum { PXB_OK = 0, PXB_SKIPPED = 1, PXB_FAILED = 2 };

typedef struct pxb_result {
    const pxb_case_t *c;
    unsigned run;   /* 0 .. count-1 */
    int status;     /* PXB_OK / SKIPPED / FAILED */
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
    } extra[PXB_MAX_EXTRA];
} pxb_result_t;

/*
 * Run one op batch: n operations (a multiple of pxb_b_multiple). Returns 0 or
 * a negative errno. A case that times each operation itself (to leave out its
 * own waiting between operations) stores the measured ns in *self_ns;
 * otherwise the harness times the whole call.
 */
typedef int (*pxb_run_fn)(void *ctx, uint64_t n, uint64_t *self_ns);

const pxb_case_t *pxb_b_case(pxb_b_t *b);
const pxb_opts_t *pxb_b_opts(pxb_b_t *b);
bool pxb_b_main_served(pxb_b_t *b);
/* Pin the calling thread to the case's caller CPU (pair->a). 0 or -errno. */
int pxb_b_pin_caller(pxb_b_t *b);
/* Account the CPU time of a thread of this process (the caller: pthread_self()). */
void pxb_b_track_thread(pxb_b_t *b, pthread_t th);
/* Account the CPU time of the whole process instead of a list of threads. */
void pxb_b_track_process(pxb_b_t *b);
/* Account an executor: its thread's CPU time and its px_stats.wakes. */
void pxb_b_track_executor(pxb_b_t *b, px_thread_t *t);
/* Wake-ups per op known by construction (the futex floor issues 2). */
void pxb_b_fixed_wakes(pxb_b_t *b, double per_op);
/* Operations per batch must be a multiple of m (P producers: m = P). */
void pxb_b_multiple(pxb_b_t *b, uint64_t m);
/* An extra per-op metric: *counter (bumped by the measuring thread only) is
 * read around the timed part; its delta / ops is reported as unit. */
void pxb_b_counter(pxb_b_t *b, const uint64_t *counter, const char *unit);
/* Measure. 0, or the negative errno of a failed batch (the case is failed). */
int pxb_b_measure(pxb_b_t *b, pxb_run_fn run, void *ctx);
void pxb_b_skip(pxb_b_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pxb_b_fail(pxb_b_t *b, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A case that is always skipped; its ptr is the reason (a string). */
void pxb_skip_case(pxb_b_t *b);

/* Run case c once into *r (tool.c calls it for every case and run). */
void pxb_run_case(const pxb_case_t *c, const pxb_opts_t *o, bool main_served, unsigned run,
                  pxb_result_t *r);

/* ---- allocation counting: alloc_count.h ----------------------------------- */

/* Whether B/op and allocs/op are counted in this binary: every allocation
 * function interposed (a plain build; not under ASan/TSan). */
bool pxb_alloc_available(void);

/* ---- what the cases time (ops.c) ------------------------------------------ */

/* px_fn: bumps the uint64_t at arg (written by the executor only). */
void pxb_count(void *arg);
/* px_fn_v: pxb_count, returning arg. */
void *pxb_count_v(void *arg);
/* px_fn: nothing (the call that ends a batch of posts). */
void pxb_nothing(void *arg);
/* n px_call(t, pxb_count, counter): 0 or the first negative errno. */
int pxb_calls(px_thread_t *t, uint64_t *counter, uint64_t n);
/* n px_post(t, pxb_count, counter): 0 or the first negative errno. */
int pxb_posts(px_thread_t *t, uint64_t *counter, uint64_t n);

/* ---- producer thread pool (pool.c) ---------------------------------------- */

#define PXB_POOL_MAX 32

typedef struct pxb_pool pxb_pool_t;
/* Start nthreads threads bound to the allowed set without OS CPU
 * except_cpu (the executor's: producers never share its CPU, so the curve
 * shows contention, not the scheduler's placement), idle until a round.
 * work(ctx, index, n) runs n operations. */
int pxb_pool_start(pxb_pool_t **out, unsigned nthreads, int except_cpu,
                   int (*work)(void *ctx, unsigned index, uint64_t n), void *ctx);
/* Run one round: each thread runs n operations; returns once all finished:
 * 0, or the first negative errno a thread's work returned. */
int pxb_pool_round(pxb_pool_t *p, uint64_t n);
/* Account the threads' CPU time in b. */
void pxb_pool_track(pxb_pool_t *p, pxb_b_t *b);
void pxb_pool_stop(pxb_pool_t *p);

/* The multi-producer cases: P threads (P: the case's param) on every allowed
 * CPU but the executor's, making pxb_calls to (CallContended) or
 * pxb_posts into (PostMP: each round ended by a px_call) one ADAPTIVE
 * executor on the pair's CPU b. */
void pxb_pool_calls(pxb_b_t *b);
void pxb_pool_posts(pxb_b_t *b);

/* ---- the cases ----------------------------------------------------------- */

void pxb_floors_register(pxb_list_t *l, const pxb_pairs_t *pairs);
void pxb_calls_register(pxb_list_t *l, const pxb_pairs_t *pairs);
void pxb_posts_register(pxb_list_t *l, const pxb_pairs_t *pairs);
void pxb_driven_register(pxb_list_t *l, const pxb_pairs_t *pairs);
void pxb_peers_register(pxb_list_t *l, const pxb_pairs_t *pairs);

/* Name of a wait mode in case names: spin, adaptive, sleep. */
const char *pxb_wait_name(px_wait_t w);
/* px_thread_create pinned to OS CPU cpu with a wait mode. 0 or -errno. */
int pxb_executor(px_thread_t **out, int cpu, px_wait_t wait, const char *name);

/* The case's executor (px_thread_create), pinned to the pair's CPU b and
 * tracked; NULL when it could not be created (the case is failed). */
px_thread_t *pxb_b_executor(pxb_b_t *b, px_wait_t wait);
/* px_thread_destroy, failing the case on error. */
void pxb_b_destroy(pxb_b_t *b, px_thread_t *t);

/* ---- output ----------------------------------------------------------------- */

typedef struct pxb_report {
    const pxb_opts_t *opts;
    const pxb_pairs_t *pairs;
    const pxb_result_t *results;
    size_t nresults;
    int ncpus;
    bool main_served;
    bool alloc_counted; /* B/op and allocs/op counted (pxb_alloc_available) */
    char goos[32];      /* Go's names: "linux", "amd64" */
    const char *goarch;
    char cpu[200];     /* the CPU model (pxb_machine) */
    char machine[512]; /* the topology summary, without "machine: " */
    char date[32];     /* when the run started, "2026-11-30 04:04 UTC" */
} pxb_report_t;

/* Fill the report's description (goos, goarch, cpu, machine, date) for this
 * machine, now (describe.c). */
void pxb_report_describe(pxb_report_t *rep);

/* What a ratio compares (ratios.c); the summary in words picks them by kind. */
typedef enum pxb_ratio_kind {
    PXB_R_HOT_CALL,        /* hot px_call / spinning ping-pong */
    PXB_R_HOT_CALL_2LINE,  /* hot px_call / two-line ping-pong */
    PXB_R_COLD_CALL,       /* cold px_call / futex ping-pong */
    PXB_R_POST_SPSC,       /* px_post throughput / SPSC ring (inverted: a throughput) */
    PXB_R_PEER_CALL,       /* <peer> call / hot px_call */
    PXB_R_PEER_CALL_DEF,   /* <peer> call / pinexec call (defaults) */
    PXB_R_PEER_POST_DEF,   /* <peer> post / pinexec post (defaults) */
    PXB_R_CONTENDED_FLOOR, /* 16 callers: per call / futex ping-pong */
    PXB_R_CONTENDED,       /* 16 callers / 1 caller, per call */
    PXB_R_POST_MP,         /* 16 posters / 1 poster, per post */
    PXB_R_MAIN_CALL,       /* main-thread call / created executor call */
    PXB_R_SERVE_CALL,      /* px_serve call / created executor call */
    PXB_R_FD_CALL,         /* fd-driven call / futex ping-pong */
} pxb_ratio_kind_t;

typedef struct pxb_ratio {
    pxb_ratio_kind_t kind;
    char what[80];                             /* "hot px_call / spinning ping-pong" */
    const char *pair;                          /* the pair's label */
    const char *peer;                          /* the peer's name (PXB_R_PEER_*), else NULL */
    char num[PXB_NAME_MAX], den[PXB_NAME_MAX]; /* the case names compared */
    double nv, dv, value;                      /* medians (ns/op) and the ratio */
    const char *target;                        /* "<= 1.3", ">= 20", NULL: for information */
    double limit;
    int cmp; /* -1: met when value <= limit, +1: when value >= limit */
} pxb_ratio_t;

#define PXB_RATIOS_MAX 64

typedef struct pxb_ratios {
    pxb_ratio_t v[PXB_RATIOS_MAX];
    unsigned n;
    uint64_t allocs, ops;      /* allocations over the pinexec cases' operations */
    const pxb_result_t *worst; /* the pinexec case that allocated most, or NULL */
} pxb_ratios_t;

/* Every ratio the report's results allow (a ratio whose cases did not run is left out). */
void pxb_ratios_compute(pxb_ratios_t *rs, const pxb_report_t *rep);
/* Whether r met its target (r->target non-NULL). */
bool pxb_ratio_met(const pxb_ratio_t *r);

/* The summary in words (words.c): a title and one sentence per line. */
#define PXB_WORDS_MAX 12
typedef struct pxb_words {
    char line[PXB_WORDS_MAX][320];
    unsigned n;
} pxb_words_t;
void pxb_words(const pxb_report_t *rep, const pxb_ratios_t *rs, pxb_words_t *out);

/* --format=benchstat (output.c). */
void pxb_print_header(FILE *f, const pxb_report_t *rep);
/* One Go benchmark line (or a "# skipped" / "# error" comment). */
void pxb_print_result(FILE *f, const pxb_result_t *r, int ncpus, int width);
/* The ratios and the summary in words, as comment lines. */
void pxb_print_summary(FILE *f, const pxb_report_t *rep);

/* --format=table (table.c): the header and the column titles for case names
 * of up to name_width characters, one row per result, then the ratios and the
 * words. */
void pxb_table_header(FILE *f, const pxb_report_t *rep, int name_width);
void pxb_table_row(FILE *f, const pxb_result_t *r, int name_width);
void pxb_table_end(FILE *f, const pxb_report_t *rep);

/* --format=json (json.c). */
void pxb_print_json(FILE *f, const pxb_report_t *rep);

#endif /* PXB_H */
