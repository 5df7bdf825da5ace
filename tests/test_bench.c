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
        int r = px__bench_parse_duration(ok[i].s, &ns);
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
        int r = px__bench_parse_duration(bad[i], &ns);
        if (r != -EINVAL) fail_msg("\"%s\": r=%d, want -EINVAL", bad[i], r);
        assert_int_equal(ns, 12345); /* untouched */
    }
    assert_int_equal(px__bench_parse_duration(NULL, NULL), -EINVAL);
}

/* ---- --count and --cpus ---------------------------------------------------------- */

static void test_bench_count(void **state)
{
    (void)state;
    unsigned c = 0;
    assert_int_equal(px__bench_parse_count("1", &c), 0);
    assert_int_equal(c, 1);
    assert_int_equal(px__bench_parse_count("10", &c), 0);
    assert_int_equal(c, 10);
    assert_int_equal(px__bench_parse_count("1000", &c), 0);
    assert_int_equal(c, 1000);
    static const char *bad[] = {
        "", "0", "1001", "-1", "+3", "abc", "3x", " 3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = 77;
        if (px__bench_parse_count(bad[i], &c) != -EINVAL) fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(c, 77);
    }
}

static void test_bench_cpus(void **state)
{
    (void)state;
    int v[2] = {-1, -1};
    assert_int_equal(px__bench_parse_cpus("0,1", v), 0);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 1);
    assert_int_equal(px__bench_parse_cpus("3,3", v), 0);
    assert_int_equal(v[0], 3);
    assert_int_equal(v[1], 3);
    static const char *bad[] = {"", "0", "0,", ",1", "a,b", "0,1,2", "-1,0", "0;1", "0, 1", "1,x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v[0] = v[1] = 9;
        if (px__bench_parse_cpus(bad[i], v) != -EINVAL) fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(v[0], 9);
        assert_int_equal(v[1], 9);
    }
}

/* ---- the whole command line ------------------------------------------------ */

#define ARGV(...) ((char *[]){"bench", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"bench", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) \
    px__bench_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_bench_args_defaults(void **state)
{
    (void)state;
    px_bench_opts_t o;
    char err[256];
    char *argv[] = {"bench", NULL};
    assert_int_equal(px__bench_parse_args(1, argv, &o, err, sizeof err), 0);
    assert_int_equal(o.count, 1);
    assert_int_equal(o.time_ns, PX_BENCH_TIME_DEFAULT_NS);
    assert_false(o.json);
    assert_false(o.quick);
    assert_false(o.has_filter);
    assert_int_equal(o.cpus[0], -1);
    assert_int_equal(o.cpus[1], -1);
    assert_int_equal(o.progress, -1);
    assert_true(px__bench_selected(&o, "BenchmarkAnything"));
    px__bench_opts_free(&o);

    assert_int_equal(PARSE(&o, err, "--quick"), 0);
    assert_true(o.quick);
    assert_int_equal(o.time_ns, PX_BENCH_TIME_QUICK_NS);
    px__bench_opts_free(&o);
    /* An explicit --time wins over --quick, in either order. */
    assert_int_equal(PARSE(&o, err, "--time", "50ms", "--quick"), 0);
    assert_int_equal(o.time_ns, 50000000ull);
    px__bench_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--quick", "--time=30ms"), 0);
    assert_int_equal(o.time_ns, 30000000ull);
    px__bench_opts_free(&o);
}

static void test_bench_args_all(void **state)
{
    (void)state;
    px_bench_opts_t o;
    char err[256];
    assert_int_equal(PARSE(&o, err, "--filter", "Call/(spin|sleep)", "--count", "3", "--time",
                           "200ms", "--json", "--cpus", "0,1", "--list", "--no-progress"),
                     0);
    assert_int_equal(o.count, 3);
    assert_int_equal(o.time_ns, 200000000ull);
    assert_true(o.json);
    assert_true(o.list);
    assert_int_equal(o.progress, 0);
    assert_int_equal(o.cpus[0], 0);
    assert_int_equal(o.cpus[1], 1);
    assert_true(o.has_filter);
    assert_string_equal(o.filter, "Call/(spin|sleep)");
    /* Unanchored ERE over the name without the -N suffix. */
    assert_true(px__bench_selected(&o, "BenchmarkCall/spin/cores"));
    assert_true(px__bench_selected(&o, "BenchmarkPeerCall/sleep/x"));
    assert_false(px__bench_selected(&o, "BenchmarkCall/adaptive/cores"));
    assert_false(px__bench_selected(&o, "BenchmarkPost/spin/cores"));
    px__bench_opts_free(&o);

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
    assert_true(px__bench_selected(&o, "BenchmarkPostMP/P=2/cores"));
    assert_false(px__bench_selected(&o, "BenchmarkTryPost/spin/cores"));
    px__bench_opts_free(&o);
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
        px_bench_opts_t o;
        char err[256] = "";
        int r = px__bench_parse_args(argc, argv, &o, err, sizeof err);
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

static void expect_pair(const px_bench_pairs_t *ps, int kind, const char *label, int a, int b)
{
    const px_bench_pair_t *p = &ps->p[kind];
    if (!p->present) fail_msg("pair %d (%s) missing: %s", kind, label, p->why);
    assert_string_equal(p->label, label);
    assert_int_equal(p->a, a);
    assert_int_equal(p->b, b);
}

static void expect_absent(const px_bench_pairs_t *ps, int kind)
{
    assert_false(ps->p[kind].present);
    assert_true(ps->p[kind].why[0] != '\0'); /* says why */
}

static void test_bench_pairs_synthetic(void **state)
{
    (void)state;
    static const int none[2] = {-1, -1};
    px_bench_pairs_t ps;
    char err[256];

    /* Two packages of two cores of two PUs: every kind. */
    use("pack:2 [numa] core:2 pu:2", NULL);
    assert_int_equal(px__bench_pairs_find(&ps, none, err, sizeof err), 0);
    expect_pair(&ps, PX_PAIR_SMT, "smt", 0, 1);
    expect_pair(&ps, PX_PAIR_CORES, "cores", 0, 2);
    expect_pair(&ps, PX_PAIR_REMOTE, "packages", 0, 4);
    expect_pair(&ps, PX_PAIR_SAME, "samepu", 2, 2);
    assert_int_equal(ps.primary, PX_PAIR_CORES);
    assert_true(ps.p[PX_PAIR_CORES].primary);
    assert_false(ps.forced);

    /* Only PUs 0 and 2 allowed: no SMT siblings, no second package. */
    use("pack:2 [numa] core:2 pu:2", "0,2");
    assert_int_equal(px__bench_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PX_PAIR_SMT);
    expect_pair(&ps, PX_PAIR_CORES, "cores", 0, 2);
    expect_absent(&ps, PX_PAIR_REMOTE);
    expect_pair(&ps, PX_PAIR_SAME, "samepu", 2, 2);

    /* Two NUMA nodes inside one package (sub-NUMA clustering), no SMT. */
    use("pack:1 l3:2 [numa] core:2 pu:1", NULL);
    assert_int_equal(px__bench_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PX_PAIR_SMT);
    expect_pair(&ps, PX_PAIR_CORES, "cores", 0, 1);
    expect_pair(&ps, PX_PAIR_REMOTE, "numa", 0, 2);

    /* One core with two PUs: SMT is the primary pair. */
    use("pack:1 core:1 pu:2", NULL);
    assert_int_equal(px__bench_pairs_find(&ps, none, err, sizeof err), 0);
    expect_pair(&ps, PX_PAIR_SMT, "smt", 0, 1);
    expect_absent(&ps, PX_PAIR_CORES);
    assert_int_equal(ps.primary, PX_PAIR_SMT);
    expect_pair(&ps, PX_PAIR_SAME, "samepu", 1, 1);

    /* One PU: only the same-PU pair, which becomes primary. */
    use("pack:1 core:1 pu:1", NULL);
    assert_int_equal(px__bench_pairs_find(&ps, none, err, sizeof err), 0);
    expect_absent(&ps, PX_PAIR_SMT);
    expect_absent(&ps, PX_PAIR_CORES);
    expect_absent(&ps, PX_PAIR_REMOTE);
    expect_pair(&ps, PX_PAIR_SAME, "samepu", 0, 0);
    assert_int_equal(ps.primary, PX_PAIR_SAME);

    px__placement_test_use_synthetic(NULL, NULL);
}

static void test_bench_pairs_forced(void **state)
{
    (void)state;
    px_bench_pairs_t ps;
    char err[256];
    static const struct {
        int cpus[2];
        int kind;
        const char *label;
    } ok[] = {
        {{0, 1}, PX_PAIR_SMT, "smt"},
        {{1, 3}, PX_PAIR_CORES, "cores"},
        {{2, 5}, PX_PAIR_REMOTE, "packages"},
        {{6, 6}, PX_PAIR_SAME, "samepu"},
    };
    use("pack:2 [numa] core:2 pu:2", "0-6");
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(px__bench_pairs_find(&ps, ok[i].cpus, err, sizeof err), 0);
        assert_true(ps.forced);
        assert_int_equal(ps.primary, ok[i].kind);
        expect_pair(&ps, ok[i].kind, ok[i].label, ok[i].cpus[0], ok[i].cpus[1]);
        for (int k = 0; k < PX_PAIR_NKINDS; k++)
            if (k != ok[i].kind) expect_absent(&ps, k); /* the forced pair is the only one */
    }
    /* CPU 7 exists but is not allowed; CPU 64 does not exist. */
    static const int bad[][2] = {{0, 7}, {64, 0}};
    for (size_t i = 0; i < 2; i++) {
        err[0] = '\0';
        assert_int_equal(px__bench_pairs_find(&ps, bad[i], err, sizeof err), -EINVAL);
        char want[16];
        snprintf(want, sizeof want, "CPU %d", bad[i][0] == 0 ? bad[i][1] : bad[i][0]);
        if (strstr(err, want) == NULL) fail_msg("\"%s\" does not name %s", err, want);
    }
    use("pack:1 l3:2 [numa] core:2 pu:1", NULL);
    static const int numa[2] = {1, 2};
    assert_int_equal(px__bench_pairs_find(&ps, numa, err, sizeof err), 0);
    expect_pair(&ps, PX_PAIR_REMOTE, "numa", 1, 2);
    px__placement_test_use_synthetic(NULL, NULL);
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

static void check_peer(const px_bench_peer_t *peer, int cpu)
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
    const px_bench_peer_t *const *peers = px__bench_peers();
    unsigned n = 0;
    bool naive = false, pinexec = false, glib = false, uv = false;
    for (; peers[n]; n++) {
        const px_bench_peer_t *p = peers[n];
        assert_non_null(p->name);
        assert_non_null(p->about);
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
        cmocka_unit_test(test_bench_pairs_forced),   cmocka_unit_test(test_bench_peers_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
