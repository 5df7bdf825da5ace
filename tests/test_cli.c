/*
 * The pinexec command line as a user meets it: the built CLI (PX_CLI_PATH) is
 * spawned and its exit status, stdout and stderr are checked. --version; a
 * bad option is one error line and a pointer to --help, never the whole
 * usage; a filter that matches nothing is a usage error (2); `topo ''` quotes
 * the empty spec and says it is the allowed set; every `bench --format`
 * prints what it promises (the JSON document parses, checked by Python's json
 * module; the benchstat lines have Go's shape; every format ends with the
 * summary in words). Timing is never asserted: the bench runs here are a few
 * milliseconds per case and only their shape is checked.
 */
#include <spawn.h>
#include <stdlib.h>

#include "px_test.h"

#include "placement.h"

extern char **environ;

#define OUT_MAX (1 << 20)
#define RUN_TIMEOUT_NS (120ull * 1000000000ull) /* a bound on a hang, not a timing check */

typedef struct run {
    int status; /* exit code; -1 when killed by a signal */
    char *out, *err;
} run_t;

static char *slurp(FILE *f)
{
    char *buf = calloc(1, OUT_MAX + 1);
    assert_non_null(buf);
    rewind(f);
    size_t n = fread(buf, 1, OUT_MAX, f);
    buf[n] = '\0';
    return buf;
}

/* Run the CLI with args (NULL-terminated), stdout and stderr captured. */
static run_t cli_argv(char *const args[])
{
    char *argv[32] = {(char *)PX_CLI_PATH};
    int argc = 1;
    for (; args[argc - 1] && argc < 31; argc++) argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fileno(out), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fileno(err), STDERR_FILENO);
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e != 0) fail_msg("posix_spawn %s: %s", argv[0], strerror(e));
    int ws = px_test_wait_child(pid, RUN_TIMEOUT_NS, argv[1] ? argv[1] : "pinexec");
    run_t r = {
        .status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, .out = slurp(out), .err = slurp(err)};
    fclose(out);
    fclose(err);
    return r;
}

#define CLI(...) cli_argv((char *const[]){__VA_ARGS__, NULL})

static void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
}

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void expect_status(const run_t *r, int want, const char *what)
{
    if (r->status != want)
        fail_msg("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r->status, want, r->out,
                 r->err);
}

/* ---- --version ------------------------------------------------------------- */

static void test_cli_version(void **state)
{
    (void)state;
    char want[64];
    snprintf(want, sizeof want, "pinexec %s\n", px_version());
    const char *forms[] = {"--version", "-V"};
    for (size_t i = 0; i < 2; i++) {
        run_t r = CLI((char *)forms[i]);
        expect_status(&r, 0, forms[i]);
        assert_string_equal(r.out, want);
        assert_string_equal(r.err, "");
        run_free(&r);
    }
}

/* ---- bad options: one error line naming it, then where help is ------------ */

static void expect_bad(run_t r, const char *what, const char *names, const char *see)
{
    expect_status(&r, 2, what);
    assert_string_equal(r.out, "");
    if (count_lines(r.err) != 2) fail_msg("%s: want 2 lines on stderr, got:\n%s", what, r.err);
    char *nl = strchr(r.err, '\n');
    *nl = '\0';
    if (strstr(r.err, names) == NULL) fail_msg("%s: \"%s\" does not name %s", what, r.err, names);
    assert_string_equal(nl + 1, see);
    run_free(&r);
}

static void test_cli_bad_options(void **state)
{
    (void)state;
    expect_bad(CLI("--bogus"), "pinexec --bogus", "\"--bogus\"", "see 'pinexec --help'\n");
    expect_bad(CLI("frobnicate"), "pinexec frobnicate", "\"frobnicate\"", "see 'pinexec --help'\n");
    expect_bad(CLI("topo", "--bogus"), "topo --bogus", "\"--bogus\"",
               "see 'pinexec topo --help'\n");
#ifdef PX_CLI_HAVE_BENCH
    expect_bad(CLI("bench", "--bogus"), "bench --bogus", "\"--bogus\"",
               "see 'pinexec bench --help'\n");
    expect_bad(CLI("bench", "--format=xml"), "bench --format=xml", "\"xml\"",
               "see 'pinexec bench --help'\n");
    expect_bad(CLI("bench", "--count", "0"), "bench --count 0", "\"0\"",
               "see 'pinexec bench --help'\n");
#endif
#ifdef PX_CLI_HAVE_DEMO
    expect_bad(CLI("demo", "--bogus"), "demo --bogus", "\"--bogus\"",
               "see 'pinexec demo --help'\n");
#endif
}

/* ---- bench --filter that matches nothing ------------------------------------ */

static void test_cli_bench_no_match(void **state)
{
    (void)state;
#ifdef PX_CLI_HAVE_BENCH
    const char *modes[] = {NULL, "--list"};
    for (size_t i = 0; i < 2; i++) {
        run_t r = modes[i] ? CLI("bench", "--filter", "NoSuchCase", (char *)modes[i])
                           : CLI("bench", "--filter", "NoSuchCase");
        expect_status(&r, 2, "bench --filter NoSuchCase");
        assert_string_equal(r.out, "");
        if (strstr(r.err, "no case matches 'NoSuchCase'") == NULL) fail_msg("stderr: %s", r.err);
        run_free(&r);
    }
#else
    skip();
#endif
}

/* ---- topo: the label quoted, the empty spec named the allowed set ----------- */

static void test_cli_topo_labels(void **state)
{
    (void)state;
    assert_int_equal(px__placement_load(), 0);
    char *allowed = NULL;
    assert_true(hwloc_bitmap_list_asprintf(&allowed, px__allowed_cpuset()) >= 0);
    int first = hwloc_bitmap_first(px__allowed_cpuset());
    char spec[32], want_empty[128], want_one[128];
    snprintf(spec, sizeof spec, "%d", first);
    snprintf(want_empty, sizeof want_empty, "\n\"\" -> %s (allowed set)\n", allowed);
    snprintf(want_one, sizeof want_one, "\n\"%d\" -> %d\n", first, first);
    free(allowed);

    run_t r = CLI("topo", "", spec);
    expect_status(&r, 0, "topo '' N");
    if (strncmp(r.out, "machine: ", 9) != 0) fail_msg("no summary line:\n%s", r.out);
    if (strstr(r.out, want_empty) == NULL) fail_msg("want%sgot:\n%s", want_empty, r.out);
    if (strstr(r.out, want_one) == NULL) fail_msg("want%sgot:\n%s", want_one, r.out);
    assert_int_equal(count_lines(r.out), 3);
    assert_string_equal(r.err, "");
    run_free(&r);

    /* A spec that does not resolve: quoted, exit 1. */
    r = CLI("topo", "core:99999");
    expect_status(&r, 1, "topo core:99999");
    if (strstr(r.out, "\n\"core:99999\" -> error: ") == NULL) fail_msg("got:\n%s", r.out);
    run_free(&r);
}

/* ---- bench --format ----------------------------------------------------------- */

#ifdef PX_CLI_HAVE_BENCH
/* A few cases that make ratios (a call and its floor), a few ms each. */
#define BENCH_ARGS                                         \
    "bench", "--time", "5ms", "--no-progress", "--filter", \
        "^BenchmarkDirectCall$|PingPong/1line/|^BenchmarkCall/spin/"

static const char *last_line_with(const char *text, const char *needle)
{
    const char *hit = NULL;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) hit = p;
    return hit;
}

/* Whether line (up to its newline) is a Go benchmark line: name, iterations,
 * then "value unit" pairs, tab separated, ns/op among them. */
static bool go_line(const char *line)
{
    char buf[1024];
    size_t n = strcspn(line, "\n");
    if (n >= sizeof buf) return false;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *save = NULL, *tok = strtok_r(buf, "\t", &save);
    if (tok == NULL || strncmp(tok, "Benchmark", 9) != 0) return false;
    tok = strtok_r(NULL, "\t", &save);
    if (tok == NULL || strtoull(tok, NULL, 10) == 0) return false;
    bool ns = false;
    unsigned pairs = 0;
    while ((tok = strtok_r(NULL, "\t", &save)) != NULL) {
        char *end;
        strtod(tok, &end);
        if (end == tok || *end != ' ' || end[1] == '\0') return false;
        ns |= strcmp(end + 1, "ns/op") == 0;
        pairs++;
    }
    return ns && pairs >= 2;
}
#endif

static void test_cli_bench_benchstat(void **state)
{
    (void)state;
#ifdef PX_CLI_HAVE_BENCH
    run_t r = CLI(BENCH_ARGS); /* the default format */
    expect_status(&r, 0, "bench (benchstat)");
    unsigned go = 0;
    for (const char *l = r.out; *l; l = strchr(l, '\n') + 1) {
        if (strncmp(l, "Benchmark", 9) == 0) {
            if (!go_line(l)) fail_msg("not a Go benchmark line: %.*s", (int)strcspn(l, "\n"), l);
            go++;
        } else if (*l != '#') { /* otherwise benchstat configuration: "key: value" */
            size_t key = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789-_");
            if (key == 0 || l[key] != ':' || l[key + 1] != ' ')
                fail_msg("neither a result, a comment nor a key: %.*s", (int)strcspn(l, "\n"), l);
        }
        if (strchr(l, '\n') == NULL) fail_msg("output does not end with a newline");
    }
    assert_true(go >= 3); /* DirectCall, the ping-pong, the call */
    /* The words come last, as comments benchstat ignores. */
    const char *s = last_line_with(r.out, "\n# summary of this run (");
    if (s == NULL) fail_msg("no summary in words:\n%s", r.out);
    if (strstr(s, "\n# - a call to an executor ") == NULL) fail_msg("summary:\n%s", s);
    if (strstr(s, "\n# - goals met: ") == NULL) fail_msg("summary:\n%s", s);
    run_free(&r);
#else
    skip();
#endif
}

static void test_cli_bench_table(void **state)
{
    (void)state;
#ifdef PX_CLI_HAVE_BENCH
    run_t r = CLI(BENCH_ARGS, "--format=table");
    expect_status(&r, 0, "bench --format=table");
    if (strncmp(r.out, "pinexec ", 8) != 0) fail_msg("header:\n%s", r.out);
    if (strstr(r.out, "\ncase ") == NULL || strstr(r.out, "\nDirectCall ") == NULL)
        fail_msg("no case table:\n%s", r.out);
    if (strstr(r.out, "\nBenchmark") != NULL) fail_msg("Go lines in the table:\n%s", r.out);
    if (strstr(r.out, "\nratio (medians of ns/op)") == NULL) fail_msg("no ratios:\n%s", r.out);
    const char *s = last_line_with(r.out, "\nsummary of this run (");
    if (s == NULL || strstr(s, "\n- a call to an executor ") == NULL)
        fail_msg("no summary in words:\n%s", r.out);
    run_free(&r);
#else
    skip();
#endif
}

static void test_cli_bench_json(void **state)
{
    (void)state;
#ifdef PX_CLI_HAVE_BENCH
    run_t r = CLI(BENCH_ARGS, "--format=json");
    expect_status(&r, 0, "bench --format=json");
    char path[] = "/tmp/px_test_cli_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(r.out);
    assert_int_equal(write(fd, r.out, len), (ssize_t)len);
    close(fd);
    /* Python's json module parses it; then the fields the summary promises. */
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json, sys\n"
             "d = json.load(open(sys.argv[1]))\n"
             "assert d[\"pinexec\"] and d[\"date\"] and d[\"cpu\"], d\n"
             "assert any(x[\"base\"] == \"BenchmarkDirectCall\" for x in d[\"results\"])\n"
             "assert d[\"summary\"][0].startswith(\"summary of this run (\")\n"
             "assert any(s.startswith(\"- a call to an executor \") for s in d[\"summary\"])\n"
             "assert all(\"value\" in x and \"met\" in x for x in d[\"ratios\"])' %s",
             path);
    int st = system(cmd);
    unlink(path);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the JSON does not parse or lacks a field (python3 exit %d):\n%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, r.out);
    /* --json is --format=json. */
    run_t j = CLI(BENCH_ARGS, "--json");
    expect_status(&j, 0, "bench --json");
    assert_true(j.out[0] == '{');
    run_free(&j);
    run_free(&r);
#else
    skip();
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_version),         cmocka_unit_test(test_cli_bad_options),
        cmocka_unit_test(test_cli_bench_no_match),  cmocka_unit_test(test_cli_topo_labels),
        cmocka_unit_test(test_cli_bench_benchstat), cmocka_unit_test(test_cli_bench_table),
        cmocka_unit_test(test_cli_bench_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
