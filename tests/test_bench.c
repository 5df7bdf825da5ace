/*
 * `pinexec bench` (bench/): the command line (Go durations, --count, --cpus,
 * --filter, errors naming the offending value), the CPU pair choice on hwloc
 * synthetic topologies, and the peer adapter contract for every peer built
 * into this binary (a call runs on the peer's pinned thread with visibility
 * both ways, posts and calls run in order, destroy runs what is queued).
 * Timing is never asserted: only parsing results, chosen CPUs and counts.
 */
#define _GNU_SOURCE
#include <sched.h>

#include "px_test.h"

#include "bench.h"
#include "peers/peer.h"
#include "placement.h"

/* ---- durations ------------------------------------------------------------- */

static void test_bench_duration_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t ns;
    } ok[] = {
        {"200ms", 200000000ull},  {"1s", 1000000000ull},      {"1.5s", 1500000000ull},
        {".5s", 500000000ull},    {"750us", 750000ull},       {"10\xc2\xb5s", 10000ull},
        {"100ns", 100ull},        {"1m30s", 90000000000ull},  {"1m", 60000000000ull},
        {"1h", 3600000000000ull}, {"2s500ms", 2500000000ull},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t ns = 0;
        int r = pxb_parse_duration(ok[i].s, &ns);
        if (r != 0 || ns != ok[i].ns)
            fail_msg("\"%s\": r=%d ns=%llu, want %llu", ok[i].s, r, (unsigned long long)ns,
                     (unsigned long long)ok[i].ns);
    }
}

static void test_bench_duration_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {"",    "5",  "0s", "0",      "-1s", "+1s",  "1e3s", "1x",   "1 s",
                                "1s ", "ms", "s",  "1.2.3s", "inf", "nans", "2h",   "1h1s", "1sec"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t ns = 12345;
        int r = pxb_parse_duration(bad[i], &ns);
        if (r != -EINVAL) fail_msg("\"%s\": r=%d, want -EINVAL", bad[i], r);
        assert_int_equal(ns, 12345); /* untouched */
    }
    assert_int_equal(pxb_parse_duration(NULL, NULL), -EINVAL);
}

/* ---- --count and --cpus ---------------------------------------------------------- */

static void test_bench_count(void **state)
{
    (void)state;
    unsigned c = 0;
    assert_int_equal(pxb_parse_count("1", &c), 0);
    assert_int_equal(c, 1);
    assert_int_equal(pxb_parse_count("10", &c), 0);
    assert_int_equal(c, 10);
    assert_int_equal(pxb_parse_count("1000", &c), 0);
    assert_int_equal(c, 1000);
    static const char *bad[] = {
        "", "0", "1001", "-1", "+3", "abc", "3x", " 3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = 77;
        if (pxb_parse_count(bad[i], &c) != -EINVAL) fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(c, 77);
    }
}

static void test_bench_cpus(void **state)
{
    (void)state;
    int v[2] = {-1, -1};
    assert_int_equal(pxb_parse_cpus("0,1", v), 0);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 1);
    assert_int_equal(pxb_parse_cpus("3,3", v), 0);
    assert_int_equal(v[0], 3);
    assert_int_equal(v[1], 3);
    static const char *bad[] = {"", "0", "0,", ",1", "a,b", "0,1,2", "-1,0", "0;1", "0, 1", "1,x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v[0] = v[1] = 9;
        if (pxb_parse_cpus(bad[i], v) != -EINVAL) fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(v[0], 9);
        assert_int_equal(v[1], 9);
    }
}

/* ---- the whole command line ------------------------------------------------ */

#define ARGV(...) ((char *[]){"bench", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"bench", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) \
    pxb_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_bench_args_defaults(void **state)
{
    (void)state;
    pxb_opts_t o;
    char err[256];
    char *argv[] = {"bench", NULL};
    assert_int_equal(pxb_parse_args(1, argv, &o, err, sizeof err), 0);
    assert_int_equal(o.count, 1);
    assert_int_equal(o.time_ns, PXB_TIME_DEFAULT_NS);
    assert_int_equal(o.format, PXB_FORMAT_BENCHSTAT);
    assert_false(o.quick);
    assert_false(o.has_filter);
    assert_int_equal(o.cpus[0], -1);
    assert_int_equal(o.cpus[1], -1);
    assert_int_equal(o.progress, -1);
    assert_true(pxb_selected(&o, "BenchmarkAnything"));
    pxb_opts_free(&o);

    assert_int_equal(PARSE(&o, err, "--quick"), 0);
    assert_true(o.quick);
    assert_int_equal(o.time_ns, PXB_TIME_QUICK_NS);
    pxb_opts_free(&o);
    /* An explicit --time wins over --quick, in either order. */
    assert_int_equal(PARSE(&o, err, "--time", "50ms", "--quick"), 0);
    assert_int_equal(o.time_ns, 50000000ull);
    pxb_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--quick", "--time=30ms"), 0);
    assert_int_equal(o.time_ns, 30000000ull);
    pxb_opts_free(&o);
}

static void test_bench_args_all(void **state)
{
    (void)state;
    pxb_opts_t o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--filter", "Call/(spin|sleep)", "--count", "3", "--time",
                           "200ms", "--json", "--cpus", "0,1", "--list", "--no-progress"),
                     0);
    assert_int_equal(o.count, 3);
    assert_int_equal(o.time_ns, 200000000ull);
    assert_int_equal(o.format, PXB_FORMAT_JSON);
    assert_true(o.list);
    assert_int_equal(o.progress, 0);
    assert_int_equal(o.cpus[0], 0);
    assert_int_equal(o.cpus[1], 1);
    assert_true(o.has_filter);
    assert_string_equal(o.filter, "Call/(spin|sleep)");
    /* Unanchored ERE over the name without the -N suffix. */
    assert_true(pxb_selected(&o, "BenchmarkCall/spin/cores"));
    assert_true(pxb_selected(&o, "BenchmarkPeerCall/sleep/x"));
    assert_false(pxb_selected(&o, "BenchmarkCall/adaptive/cores"));
    assert_false(pxb_selected(&o, "BenchmarkPost/spin/cores"));
    pxb_opts_free(&o);

    /* --name=value forms, --help, --progress. */
    assert_false(o.glfw);
    assert_int_equal(PARSE(&o, err, "--filter=^BenchmarkPost", "--count=2", "--cpus=1,1",
                           "--progress", "-h", "--glfw"),
                     0);
    assert_true(o.glfw);
    assert_int_equal(o.count, 2);
    assert_int_equal(o.cpus[0], 1);
    assert_int_equal(o.cpus[1], 1);
    assert_int_equal(o.progress, 1);
    assert_true(o.help);
    assert_true(pxb_selected(&o, "BenchmarkPostMP/P=2/cores"));
    assert_false(pxb_selected(&o, "BenchmarkTryPost/spin/cores"));
    pxb_opts_free(&o);
}

/* Each bad command line: -EINVAL and a message naming the offending value. */
static void test_bench_args_errors(void **state)
{
    (void)state;
    static const struct {
        char *argv[4];
        const char *names;
    } bad[] = {
        {{"--frobnicate"}, "--frobnicate"}, {{"--count", "0"}, "\"0\""},
        {{"--count", "many"}, "\"many\""},  {{"--count"}, "--count"},
        {{"--time", "5"}, "\"5\""},         {{"--time", "fast"}, "\"fast\""},
        {{"--time=-1s"}, "\"-1s\""},        {{"--time"}, "--time"},
        {{"--cpus", "0"}, "\"0\""},         {{"--cpus", "a,b"}, "\"a,b\""},
        {{"--filter", "("}, "\"(\""},       {{"--filter", "a[b"}, "\"a[b\""},
        {{"--filter"}, "--filter"},         {{"--filter="}, "--filter"},
        {{"--json", "extra"}, "\"extra\""}, {{"--countx", "3"}, "\"--countx\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[6] = {"bench"};
        int argc = 1;
        for (int j = 0; j < 4 && bad[i].argv[j]; j++) argv[argc++] = bad[i].argv[j];
        pxb_opts_t o;
        char err[256] = "";
        int r = pxb_parse_args(argc, argv, &o, err, sizeof err);
        if (r != -EINVAL) fail_msg("case %zu (%s): r=%d, want -EINVAL", i, bad[i].argv[0], r);
        if (strstr(err, bad[i].names) == NULL)
            fail_msg("case %zu: message \"%s\" does not name %s", i, err, bad[i].names);
        assert_false(o.has_filter); /* nothing to free after a failure */
    }
}

/* ---- CPU pairs on synthetic machines ------------------------------------------- */

static void use(const char *desc, const char *allowed)
{
    int r = px__placement_test_use_synthetic(desc, allowed);
    if (r) fail_msg("synthetic \"%s\": %d %s", desc, r, px_last_error());
}

static void expect_pair(const pxb_pairs_t *ps, int kind, const char *label, int a, int b)
{
    const pxb_pair_t *p = &ps->p[kind];
    if (!p->present) fail_msg("pair %d (%s) missing: %s", kind, label, p->why);
    assert_string_equal(p->label, label);
    assert_int_equal(p->a, a);
    assert_int_equal(p->b, b);
}

static void expect_absent(const pxb_pairs_t *ps, int kind)
{
    assert_false(ps->p[kind].present);
    assert_true(ps->p[kind].why[0] != '\0'); /* says why */
}

static void test_bench_pairs_synthetic(void **state)
{
    (void)state;
    static const int none[2] = {-1, -1};
    pxb_pairs_t ps;
    char err[256];

    /* Two packages of two cores of two PUs: every kind. */
    use("pack:2 [numa] core:2 pu:2", NULL);
    assert_int_equal(pxb_pairs_find(&ps, none, err, sizeof err), 0);
    expect_pair(&ps, PXB_PAIR_SMT, "smt", 0, 1);
    expect_pair(&ps, PXB_PAIR_CORES, "cores", 0, 2);
    expect_pair(&ps, PXB_PAIR_REMOTE, "packages", 0, 4);
    expect_pair(&ps, PXB_PAIR_SAME, "samepu", 2, 2);
    assert_int_equal(ps.primary, PXB_PAIR_CORES);
    assert_true(ps.p[PXB_PAIR_CORES].primary);
    assert_false(ps.forced);

    /* Only PUs 0 and 2 allowed: no SMT siblings, no second package. */
    use("pack:2 [numa] core:2 pu:2", "0,2");
    assert_int_equal(pxb_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PXB_PAIR_SMT);
    expect_pair(&ps, PXB_PAIR_CORES, "cores", 0, 2);
    expect_absent(&ps, PXB_PAIR_REMOTE);
    expect_pair(&ps, PXB_PAIR_SAME, "samepu", 2, 2);

    /* Two NUMA nodes inside one package (sub-NUMA clustering), no SMT. */
    use("pack:1 l3:2 [numa] core:2 pu:1", NULL);
    assert_int_equal(pxb_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PXB_PAIR_SMT);
    expect_pair(&ps, PXB_PAIR_CORES, "cores", 0, 1);
    expect_pair(&ps, PXB_PAIR_REMOTE, "numa", 0, 2);

    /* One core with two PUs: SMT is the primary pair. */
    use("pack:1 core:1 pu:2", NULL);
    assert_int_equal(pxb_pairs_find(&ps, none, err, sizeof err), 0);
    expect_pair(&ps, PXB_PAIR_SMT, "smt", 0, 1);
    expect_absent(&ps, PXB_PAIR_CORES);
    assert_int_equal(ps.primary, PXB_PAIR_SMT);
    expect_pair(&ps, PXB_PAIR_SAME, "samepu", 1, 1);

    /* One PU: only the same-PU pair, which becomes primary. */
    use("pack:1 core:1 pu:1", NULL);
    assert_int_equal(pxb_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PXB_PAIR_SMT);
    expect_absent(&ps, PXB_PAIR_CORES);
    expect_absent(&ps, PXB_PAIR_REMOTE);
    expect_pair(&ps, PXB_PAIR_SAME, "samepu", 0, 0);
    assert_int_equal(ps.primary, PXB_PAIR_SAME);

    px__placement_test_use_synthetic(NULL, NULL);
}

static void test_bench_pairs_forced(void **state)
{
    (void)state;
    pxb_pairs_t ps;
    char err[256];
    static const struct {
        int cpus[2];
        int kind;
        const char *label;
    } ok[] = {
        {{0, 1}, PXB_PAIR_SMT, "smt"},
        {{1, 3}, PXB_PAIR_CORES, "cores"},
        {{2, 5}, PXB_PAIR_REMOTE, "packages"},
        {{6, 6}, PXB_PAIR_SAME, "samepu"},
    };
    use("pack:2 [numa] core:2 pu:2", "0-6");
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(pxb_pairs_find(&ps, ok[i].cpus, err, sizeof err), 0);
        assert_true(ps.forced);
        assert_int_equal(ps.primary, ok[i].kind);
        expect_pair(&ps, ok[i].kind, ok[i].label, ok[i].cpus[0], ok[i].cpus[1]);
        for (int k = 0; k < PXB_PAIR_NKINDS; k++)
            if (k != ok[i].kind) expect_absent(&ps, k); /* the forced pair is the only one */
    }
    /* CPU 7 exists but is not allowed; CPU 64 does not exist. */
    static const int bad[][2] = {{0, 7}, {64, 0}};
    for (size_t i = 0; i < 2; i++) {
        err[0] = '\0';
        assert_int_equal(pxb_pairs_find(&ps, bad[i], err, sizeof err), -EINVAL);
        char want[16];
        snprintf(want, sizeof want, "CPU %d", bad[i][0] == 0 ? bad[i][1] : bad[i][0]);
        if (strstr(err, want) == NULL) fail_msg("\"%s\" does not name %s", err, want);
    }
    use("pack:1 l3:2 [numa] core:2 pu:1", NULL);
    static const int numa[2] = {1, 2};
    assert_int_equal(pxb_pairs_find(&ps, numa, err, sizeof err), 0);
    expect_pair(&ps, PXB_PAIR_REMOTE, "numa", 1, 2);
    px__placement_test_use_synthetic(NULL, NULL);
}

/* ---- ratios, words and output formats on made-up results ------------------------- */

/* A report of a "cores" run with the given medians (ns/op), as the suite would
 * make it; no measurement. */
typedef struct fake {
    pxb_pairs_t pairs;
    pxb_opts_t opts;
    pxb_case_t cases[16];
    pxb_result_t results[16];
    pxb_report_t rep;
} fake_t;

static void fake_case(fake_t *f, const char *name, double ns, unsigned flags)
{
    size_t i = f->rep.nresults++;
    pxb_case_t *c = &f->cases[i];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->pair = &f->pairs.p[PXB_PAIR_CORES];
    c->flags = flags;
    pxb_result_t *r = &f->results[i];
    r->c = c;
    r->status = PXB_OK;
    r->n = 1000;
    r->batches = 10;
    r->ns_op = r->p99_ns_op = r->min_ns_op = r->max_ns_op = r->mean_ns_op = ns;
    r->has_alloc = true;
}

static void fake_report(fake_t *f)
{
    memset(f, 0, sizeof *f);
    f->pairs.p[PXB_PAIR_CORES] =
        (pxb_pair_t){.label = "cores", .a = 0, .b = 1, .present = true, .primary = true};
    f->pairs.primary = PXB_PAIR_CORES;
    f->pairs.p[PXB_PAIR_SMT].label = "smt";
    snprintf(f->pairs.p[PXB_PAIR_SMT].why, sizeof f->pairs.p[0].why, "no \"SMT\"\tsiblings");
    f->opts.count = 1;
    f->opts.time_ns = 1000000;
    fake_case(f, "BenchmarkPingPong/1line/cores", 100, 0);
    fake_case(f, "BenchmarkPingPong/2lines/cores", 200, 0);
    fake_case(f, "BenchmarkCall/spin/cores", 110, PXB_PINEXEC);
    fake_case(f, "BenchmarkFutexPingPong/cores", 1000, 0);
    fake_case(f, "BenchmarkCallCold/sleep/cores", 1300, PXB_PINEXEC);
    fake_case(f, "BenchmarkSPSC/cores", 10, 0);
    fake_case(f, "BenchmarkPost/spin/cores", 20, PXB_PINEXEC);
    fake_case(f, "BenchmarkPeerCall/naive/cores", 4950, 0);
    fake_case(f, "BenchmarkCallContended/P=1/cores", 110, PXB_PINEXEC);
    fake_case(f, "BenchmarkCallContended/P=16/cores", 121, PXB_PINEXEC);
    /* A skipped case whose note needs escaping in JSON. */
    fake_case(f, "BenchmarkSkipped/cores", 0, 0);
    f->results[f->rep.nresults - 1].status = PXB_SKIPPED;
    snprintf(f->results[f->rep.nresults - 1].note, sizeof f->results[0].note,
             "a \"quoted\" note\nwith a newline, a tab\t and a backslash \\");
    f->rep.opts = &f->opts;
    f->rep.pairs = &f->pairs;
    f->rep.results = f->results;
    f->rep.ncpus = 2;
    f->rep.alloc_counted = true;
    f->rep.goos[0] = 'l', f->rep.goos[1] = '\0';
    f->rep.goarch = "amd64";
    snprintf(f->rep.cpu, sizeof f->rep.cpu, "Test \"CPU\" @ 1GHz");
    snprintf(f->rep.machine, sizeof f->rep.machine, "1 package, 2 cores");
    snprintf(f->rep.date, sizeof f->rep.date, "2026-01-02 03:04 UTC");
}

static const pxb_ratio_t *ratio_of(const pxb_ratios_t *rs, pxb_ratio_kind_t kind)
{
    for (unsigned i = 0; i < rs->n; i++)
        if (rs->v[i].kind == kind) return &rs->v[i];
    fail_msg("no ratio of kind %d", (int)kind);
    return NULL;
}

static void test_bench_ratios(void **state)
{
    (void)state;
    fake_t *f = malloc(sizeof *f);
    pxb_ratios_t *rs = malloc(sizeof *rs);
    assert_non_null(f);
    assert_non_null(rs);
    fake_report(f);
    pxb_ratios_compute(rs, &f->rep);
    const pxb_ratio_t *r = ratio_of(rs, PXB_R_HOT_CALL);
    assert_float_equal(r->value, 1.1, 1e-9);
    assert_string_equal(r->den, "BenchmarkPingPong/1line/cores"); /* the faster floor */
    assert_true(pxb_ratio_met(r));
    r = ratio_of(rs, PXB_R_COLD_CALL);
    assert_float_equal(r->value, 1.3, 1e-9);
    assert_false(pxb_ratio_met(r)); /* <= 1.2 */
    r = ratio_of(rs, PXB_R_POST_SPSC);
    assert_float_equal(r->value, 0.5, 1e-9); /* a throughput: SPSC / post */
    assert_false(pxb_ratio_met(r));
    r = ratio_of(rs, PXB_R_PEER_CALL);
    assert_string_equal(r->peer, "naive");
    assert_float_equal(r->value, 45, 1e-9);
    assert_true(pxb_ratio_met(r));
    assert_int_equal(rs->allocs, 0);
    assert_int_equal(rs->ops, 5000); /* the five pinexec cases, 1000 each */
    free(rs);
    free(f);
}

static void test_bench_words(void **state)
{
    (void)state;
    fake_t *f = malloc(sizeof *f);
    pxb_ratios_t *rs = malloc(sizeof *rs);
    pxb_words_t *w = malloc(sizeof *w);
    assert_non_null(f);
    assert_non_null(rs);
    assert_non_null(w);
    fake_report(f);
    pxb_ratios_compute(rs, &f->rep);
    pxb_words(&f->rep, rs, w);
    static const char *want[] = {
        "summary of this run (Test \"CPU\" @ 1GHz, caller on CPU 0, executor on CPU 1, "
        "2026-01-02 03:04 UTC; ratios vary by CPU and load, so compare runs on one machine):",
        "- a call to an executor on another core costs 1.10x the time for a cache line to go "
        "there and back (goal <= 1.3x: met)",
        "- a call that wakes a sleeping executor costs 1.30x a futex ping-pong (goal <= 1.2x: "
        "missed)",
        "- a hot call is 45x faster than a mutex+condvar executor (goal >= 20x: met)",
        "- posts reach 0.50x the throughput of a bare SPSC ring (goal >= 0.7x: missed)",
        "- 16 callers at once cost 1.10x per call what one caller costs",
        "- 0 allocations in 5000 pinexec calls and posts (goal 0: met)",
        "- goals met: 4 of 6; missed: cold px_call / futex ping-pong on cores 1.30x; px_post "
        "throughput / SPSC ring on cores 0.50x",
    };
    assert_int_equal(w->n, sizeof want / sizeof want[0]);
    for (unsigned i = 0; i < w->n; i++) assert_string_equal(w->line[i], want[i]);

    /* The floor named by what it is: two lines when the two-line ping-pong was faster. */
    f->results[1].ns_op = 90;
    pxb_ratios_compute(rs, &f->rep);
    pxb_words(&f->rep, rs, w);
    assert_string_equal(w->line[1], "- a call to an executor on another core costs 1.22x the time "
                                    "for two cache lines to go there and back (goal <= 1.3x: met)");
    free(w);
    free(rs);
    free(f);
}

/* Run print(f, rep) into a string (the caller frees it). */
/* noinline: inlined, gcc 12 takes the result for a pointer to the local buf (-Wdangling-pointer). */
__attribute__((noinline)) static char *printed(void (*print)(FILE *, const pxb_report_t *),
                                               const pxb_report_t *rep)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    print(f, rep);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void benchstat_all(FILE *f, const pxb_report_t *rep)
{
    pxb_print_header(f, rep);
    for (size_t i = 0; i < rep->nresults; i++) pxb_print_result(f, &rep->results[i], 2, 40);
    pxb_print_summary(f, rep);
}

static void table_all(FILE *f, const pxb_report_t *rep)
{
    pxb_table_header(f, rep, 40);
    for (size_t i = 0; i < rep->nresults; i++) pxb_table_row(f, &rep->results[i], 40);
    pxb_table_end(f, rep);
}

static void test_bench_formats(void **state)
{
    (void)state;
    fake_t *f = malloc(sizeof *f);
    assert_non_null(f);
    fake_report(f);

    /* benchstat: a Go line per case, the skip as a comment, the ratios in the
     * form bench/report reads ("#   PAIR WHAT VALUEx"), the words as "# " lines
     * that form never matches. */
    char *out = printed(benchstat_all, &f->rep);
    if (strstr(out, "\nBenchmarkCall/spin/cores-2 ") == NULL) fail_msg("%s", out);
    assert_non_null(strstr(out, "\n# skipped: BenchmarkSkipped/cores-2: a \"quoted\" note"));
    assert_non_null(strstr(out, "\n#   cores    hot px_call / spinning ping-pong"));
    assert_non_null(strstr(out, "\n# date: 2026-01-02 03:04 UTC\n"));
    assert_non_null(strstr(out, "\n# - posts reach 0.50x the throughput"));
    const char *sum = strstr(out, "\n# summary");
    assert_non_null(sum);
    unsigned read_as_ratio = 0;
    for (const char *l = sum; (l = strchr(l + 1, '\n')) != NULL;)
        read_as_ratio += strncmp(l + 1, "#   ", 4) == 0;
    assert_int_equal(read_as_ratio, 0);
    free(out);

    out = printed(table_all, &f->rep);
    assert_non_null(strstr(out, "pinexec "));
    assert_non_null(strstr(out, "\nCall/spin/cores "));
    assert_non_null(strstr(out, "\nSkipped/cores "));
    assert_non_null(strstr(out, "cold px_call / futex ping-pong"));
    assert_non_null(strstr(out, "MISSED"));
    assert_non_null(strstr(out, "\n- goals met: 4 of 6;"));
    assert_null(strstr(out, "\nBenchmark"));
    free(out);

    /* JSON: Python's json module parses it and finds the escaped strings intact. */
    out = printed(pxb_print_json, &f->rep);
    char path[] = "/tmp/px_test_bench_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out, strlen(out)), (ssize_t)strlen(out));
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json, sys\n"
             "d = json.load(open(sys.argv[1]))\n"
             "assert d[\"cpu\"] == \"Test \\\"CPU\\\" @ 1GHz\", d[\"cpu\"]\n"
             "notes = [r[\"note\"] for r in d[\"results\"] if r[\"status\"] == \"skipped\"]\n"
             "assert notes == [\"a \\\"quoted\\\" note\\nwith a newline, a tab\\t and a "
             "backslash \\\\\"], notes\n"
             "assert d[\"pairs\"][0][\"why\"] == \"no \\\"SMT\\\"\\tsiblings\"\n"
             "assert len(d[\"summary\"]) == 8 and d[\"summary\"][4].startswith(\"- posts reach "
             "0.50x\")\n"
             "assert [r[\"met\"] for r in d[\"ratios\"] if r[\"what\"].startswith(\"cold\")] == "
             "[False]' %s",
             path);
    int st = system(cmd);
    unlink(path);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("python3 exit %d on:\n%s", st, out);
    free(out);
    free(f);
}

/* ---- the peer adapters --------------------------------------------------------- */

#define POSTS 2000

typedef struct probe {
    int in;                   /* written by the caller before the call */
    int seen_in;              /* fn's copy of in */
    int out;                  /* written by fn */
    pthread_t where;          /* fn's thread */
    int cpu;                  /* sched_getcpu() inside fn */
    unsigned long posts_seen; /* counter as the final call saw it */
    unsigned long counter;    /* bumped by posts, on the peer's thread only */
    unsigned long order_errors;
    unsigned long next; /* posts carry their index: FIFO check */
} probe_t;

static void probe_call(void *arg)
{
    probe_t *p = arg;
    p->seen_in = p->in;
    p->out = p->in * 3 + 1;
    p->where = pthread_self();
    p->cpu = sched_getcpu();
}

typedef struct post_item {
    probe_t *p;
    unsigned long index;
} post_item_t;

static void probe_post(void *arg)
{
    post_item_t *it = arg;
    if (it->index != it->p->next) it->p->order_errors++;
    it->p->next = it->index + 1;
    it->p->counter++;
}

static void probe_final(void *arg)
{
    probe_t *p = arg;
    p->posts_seen = p->counter;
}

/* The first CPU this process may run on. */
static int first_allowed_cpu(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) return c;
    return 0;
}

static void check_peer(const pxb_peer_t *peer, int cpu)
{
    void *exec = NULL;
    int r = peer->create(&exec, cpu);
    if (r) fail_msg("%s: create(%d) = %d", peer->name, cpu, r);
    assert_non_null(exec);

    probe_t *p = calloc(1, sizeof *p);
    post_item_t *items = calloc(POSTS, sizeof *items);
    assert_non_null(p);
    assert_non_null(items);
    /* A call: runs on another thread (pinned when asked), visibility both ways. */
    for (int i = 1; i <= 50; i++) {
        p->in = i;
        assert_int_equal(peer->call(exec, probe_call, p), 0);
        if (p->seen_in != i || p->out != i * 3 + 1)
            fail_msg("%s: call %d saw in=%d out=%d", peer->name, i, p->seen_in, p->out);
        assert_false(pthread_equal(p->where, pthread_self()));
        if (cpu >= 0 && p->cpu != cpu)
            fail_msg("%s: ran on CPU %d, pinned to %d", peer->name, p->cpu, cpu);
    }
    /* Posts, then a call: the call runs after every post, in order. */
    for (unsigned long i = 0; i < POSTS; i++) {
        items[i].p = p;
        items[i].index = i;
        assert_int_equal(peer->post(exec, probe_post, &items[i]), 0);
    }
    assert_int_equal(peer->call(exec, probe_final, p), 0);
    if (p->posts_seen != POSTS)
        fail_msg("%s: the call after %d posts saw %lu", peer->name, POSTS, p->posts_seen);
    assert_int_equal(p->order_errors, 0);
    /* Posts still queued at destroy run before it returns. */
    for (unsigned long i = 0; i < POSTS; i++) {
        items[i].index = POSTS + i;
        assert_int_equal(peer->post(exec, probe_post, &items[i]), 0);
    }
    peer->destroy(exec);
    assert_int_equal(p->counter, 2 * POSTS);
    assert_int_equal(p->order_errors, 0);
    free(items);
    free(p);
}

static void test_bench_peers_contract(void **state)
{
    (void)state;
    const pxb_peer_t *const *peers = pxb_peers();
    unsigned n = 0;
    bool naive = false, pinexec = false, glib = false, uv = false;
    for (; peers[n]; n++) {
        const pxb_peer_t *p = peers[n];
        assert_non_null(p->name);
        assert_non_null(p->about);
        assert_non_null(p->plain);
        assert_non_null(p->create);
        assert_non_null(p->call);
        assert_non_null(p->post);
        assert_non_null(p->destroy);
        for (const char *c = p->name; *c; c++) /* used in case names */
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
                fail_msg("peer name \"%s\"", p->name);
        naive |= strcmp(p->name, "naive") == 0;
        pinexec |= strcmp(p->name, "pinexec") == 0;
        glib |= strcmp(p->name, "glib") == 0;
        uv |= strcmp(p->name, "uv") == 0;
    }
    assert_true(naive);
    assert_true(pinexec);
#ifdef PX_PEER_GLIB
    assert_true(glib);
#else
    assert_false(glib);
#endif
#ifdef PX_PEER_UV
    assert_true(uv);
#else
    assert_false(uv);
#endif
    int cpu = first_allowed_cpu();
    for (unsigned i = 0; i < n; i++) {
        check_peer(peers[i], -1);
        check_peer(peers[i], cpu);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_duration_valid), cmocka_unit_test(test_bench_duration_invalid),
        cmocka_unit_test(test_bench_count),          cmocka_unit_test(test_bench_cpus),
        cmocka_unit_test(test_bench_args_defaults),  cmocka_unit_test(test_bench_args_all),
        cmocka_unit_test(test_bench_args_errors),    cmocka_unit_test(test_bench_pairs_synthetic),
        cmocka_unit_test(test_bench_pairs_forced),   cmocka_unit_test(test_bench_ratios),
        cmocka_unit_test(test_bench_words),          cmocka_unit_test(test_bench_formats),
        cmocka_unit_test(test_bench_peers_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
