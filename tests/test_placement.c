/*
 * Placement: spec forms and errors, narrowing vs PX_PIN_STRICT, binding
 * (incl. ENOSYS through the fault-injection hook), reading a binding back,
 * the topology summary.
 *
 * The tests adapt to the CPUs this process may use (its affinity at start)
 * and skip() what the machine cannot offer. The allowed set is captured when
 * the library loads, so the restricted-process cases (EXDEV, narrowing on the
 * real machine, "a thread that pins itself later restricts nothing") re-exec
 * this program as a child with a narrower affinity: `test_placement --child
 * MODE ARGS...`. Policy cases also run on an hwloc synthetic topology with a
 * custom allowed set (PX_TEST_HOOKS builds).
 *
 * cmocka is not thread-safe: helper threads record, the test thread asserts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pinexec.h"
#include "placement.h"

#define WHY_LEN 768

/* The affinity this process started with, read in main() before any test. */
static cpu_set_t start_affinity;
static int allowed_cpus[CPU_SETSIZE];
static int nallowed;
static char self_exe[4096];

static long my_tid(void) { return (long)syscall(SYS_gettid); }

/* ---- checks usable from cmocka tests and from child processes ----------- */

/* 0 when resolving spec gives exactly the CPU list want; else why. */
static int try_ok(const char *spec, unsigned flags, const char *want, char *why, size_t len)
{
    hwloc_bitmap_t out = hwloc_bitmap_alloc();
    int r = px__placement_resolve(spec, flags, out);
    char got[256];
    hwloc_bitmap_list_snprintf(got, sizeof got, out);
    hwloc_bitmap_free(out);
    if (r != 0) {
        snprintf(why, len, "resolve(\"%s\", %u) = %d [%s], want %s", spec ? spec : "(null)", flags,
                 r, px_last_error(), want);
        return 1;
    }
    if (strcmp(got, want) != 0) {
        snprintf(why, len, "resolve(\"%s\", %u) = %s, want %s", spec ? spec : "(null)", flags, got,
                 want);
        return 1;
    }
    return 0;
}

/*
 * 0 when resolving spec fails with want_err, leaves the output set untouched
 * and sets a message that quotes the spec and is exactly want_msg (exact) or
 * contains it; else why.
 */
static int try_err(const char *spec, unsigned flags, int want_err, const char *want_msg, int exact,
                   char *why, size_t len)
{
    hwloc_bitmap_t out = hwloc_bitmap_alloc();
    hwloc_bitmap_only(out, 12345); /* sentinel: a failure must not touch it */
    int r = px__placement_resolve(spec, flags, out);
    int untouched = hwloc_bitmap_weight(out) == 1 && hwloc_bitmap_isset(out, 12345);
    hwloc_bitmap_free(out);
    const char *msg = px_last_error();
    char quoted[64] = "";
    int printable = spec != NULL && strlen(spec) < 40;
    for (const char *p = spec; printable && *p; p++)
        if (*p < 0x20 || *p >= 0x7f) printable = 0;
    if (printable) snprintf(quoted, sizeof quoted, "\"%s\": ", spec);
    if (r != want_err) {
        snprintf(why, len, "resolve(\"%s\", %u) = %d [%s], want %d", spec, flags, r, msg, want_err);
    } else if (!untouched) {
        snprintf(why, len, "resolve(\"%s\") failed but changed its output set", spec);
    } else if (strncmp(msg, quoted, strlen(quoted)) != 0) {
        snprintf(why, len, "resolve(\"%s\"): message [%s] does not start with the quoted spec",
                 spec, msg);
    } else if (exact ? strcmp(msg, want_msg) != 0 : strstr(msg, want_msg) == NULL) {
        snprintf(why, len, "resolve(\"%s\"): message [%s], want %s [%s]", spec, msg,
                 exact ? "exactly" : "it to contain", want_msg);
    } else {
        return 0;
    }
    return 1;
}

#define CHECK_OK(spec, flags, want)                                                   \
    do {                                                                              \
        char why_[WHY_LEN];                                                           \
        if (try_ok((spec), (flags), (want), why_, sizeof why_)) fail_msg("%s", why_); \
    } while (0)
#define CHECK_ERR(spec, flags, err, msg)                                                        \
    do {                                                                                        \
        char why_[WHY_LEN];                                                                     \
        if (try_err((spec), (flags), (err), (msg), 0, why_, sizeof why_)) fail_msg("%s", why_); \
    } while (0)
#define CHECK_ERR_EXACT(spec, flags, err, msg)                                                  \
    do {                                                                                        \
        char why_[WHY_LEN];                                                                     \
        if (try_err((spec), (flags), (err), (msg), 1, why_, sizeof why_)) fail_msg("%s", why_); \
    } while (0)

/* ---- helpers ------------------------------------------------------------ */

static void list_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    hwloc_bitmap_list_snprintf(buf, len, set);
}

/* The expected result of an object: its CPUs narrowed to the allowed set. */
static void narrowed_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_and(s, set, px__allowed_cpuset());
    list_text(s, buf, len);
    hwloc_bitmap_free(s);
}

static hwloc_topology_t topo(void)
{
    hwloc_topology_t t = px__topology();
    assert_non_null(t);
    return t;
}

/* ---- topology and allowed set ------------------------------------------- */

struct topo_probe {
    hwloc_topology_t topo;
    hwloc_const_bitmap_t allowed;
};

static void *probe_thread(void *arg)
{
    struct topo_probe *p = arg;
    p->topo = px__topology();
    p->allowed = px__allowed_cpuset();
    return NULL;
}

/* Many threads racing to the first use get one topology, loaded with
 * disallowed objects included. */
static void test_placement_topology_loaded_once(void **state)
{
    (void)state;
    enum { N = 8 };
    pthread_t th[N];
    struct topo_probe p[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, probe_thread, &p[i]), 0);
    for (int i = 0; i < N; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    hwloc_topology_t t = topo();
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(p[i].topo, t);
        assert_ptr_equal(p[i].allowed, px__allowed_cpuset());
    }
    assert_true(hwloc_topology_get_flags(t) & HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    assert_int_equal(px__placement_load(), 0);
}

/* The allowed set is the start affinity intersected with hwloc's allowed set. */
static void test_placement_allowed_set_is_start_affinity(void **state)
{
    (void)state;
    hwloc_bitmap_t want = hwloc_bitmap_alloc();
    for (int i = 0; i < nallowed; i++) hwloc_bitmap_set(want, (unsigned)allowed_cpus[i]);
    hwloc_bitmap_and(want, want, hwloc_topology_get_allowed_cpuset(topo()));
    char w[256], g[256];
    list_text(want, w, sizeof w);
    list_text(px__allowed_cpuset(), g, sizeof g);
    assert_string_equal(g, w);
    hwloc_bitmap_free(want);
}

/* NULL and "" mean the whole allowed set, with or without PX_PIN_STRICT. */
static void test_placement_empty_spec_is_allowed_set(void **state)
{
    (void)state;
    char a[256];
    list_text(px__allowed_cpuset(), a, sizeof a);
    CHECK_OK(NULL, 0, a);
    CHECK_OK("", 0, a);
    CHECK_OK(NULL, PX_PIN_STRICT, a);
    CHECK_OK("", PX_PIN_STRICT, a);
}

/* ---- OS-index lists ----------------------------------------------------- */

static void test_placement_os_index_lists(void **state)
{
    (void)state;
    char spec[64], want[64];
    for (int i = 0; i < nallowed && i < 64; i++) {
        snprintf(spec, sizeof spec, "%d", allowed_cpus[i]);
        CHECK_OK(spec, PX_PIN_STRICT, spec);
        snprintf(spec, sizeof spec, "00%d", allowed_cpus[i]); /* leading zeros, as taskset */
        snprintf(want, sizeof want, "%d", allowed_cpus[i]);
        CHECK_OK(spec, 0, want);
    }
    /* The allowed set written as a list resolves to itself. */
    char a[256];
    list_text(px__allowed_cpuset(), a, sizeof a);
    CHECK_OK(a, PX_PIN_STRICT, a);
    if (nallowed < 2) {
        skip(); /* lists of several CPUs need two allowed CPUs */
        return;
    }
    int c0 = allowed_cpus[0], c1 = allowed_cpus[1];
    snprintf(spec, sizeof spec, "%d,%d", c0, c1);
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_set(s, (unsigned)c0);
    hwloc_bitmap_set(s, (unsigned)c1);
    list_text(s, want, sizeof want);
    CHECK_OK(spec, PX_PIN_STRICT, want);
    snprintf(spec, sizeof spec, "%d,%d,%d", c1, c0, c1); /* order and repeats do not matter */
    CHECK_OK(spec, PX_PIN_STRICT, want);
    if (c1 == c0 + 1) {
        snprintf(spec, sizeof spec, "%d-%d", c0, c1);
        CHECK_OK(spec, PX_PIN_STRICT, want);
        snprintf(spec, sizeof spec, "%d-%d,%d", c0, c1, c0);
        CHECK_OK(spec, PX_PIN_STRICT, want);
    }
    hwloc_bitmap_free(s);
}

/* OS indexes the machine does not have: -EINVAL naming the index and what it has. */
static void test_placement_os_index_errors(void **state)
{
    (void)state;
    hwloc_const_bitmap_t machine = hwloc_topology_get_topology_cpuset(topo());
    int last = hwloc_bitmap_last(machine);
    char m[256], spec[64], msg[512];
    list_text(machine, m, sizeof m);
    snprintf(spec, sizeof spec, "%d", last + 1);
    snprintf(msg, sizeof msg, "\"%d\": OS index %d is not a CPU of this machine (it has %s)",
             last + 1, last + 1, m);
    CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);
    snprintf(spec, sizeof spec, "0-%d", last + 5);
    snprintf(msg, sizeof msg, "\"0-%d\": OS index %d is not a CPU of this machine (it has %s)",
             last + 5, last + 5, m);
    CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);
    snprintf(spec, sizeof spec, "%d-%d", last + 3, last + 5);
    snprintf(msg, sizeof msg, "OS index %d is not a CPU", last + 3);
    CHECK_ERR(spec, 0, -EINVAL, msg);
    CHECK_ERR("99999999999999999999", 0, -EINVAL, "OS index 99999999999999999999 is not a CPU");
    CHECK_ERR("4294967296", 0, -EINVAL, "OS index 4294967296 is not a CPU");
    CHECK_ERR("0,4294967297", 0, -EINVAL, "OS index 4294967297 is not a CPU");
}

/* Malformed specs: -EINVAL, a message that quotes the spec and says why. */
static void test_placement_syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec, *why;
    } cases[] = {
        {"0-", "range \"0-\" has no upper bound"},
        {"0-x", "range \"0-\" has no upper bound"},
        {"-1", "expected an OS index at offset 0, found '-'"},
        {"1,,2", "empty element in the CPU list at offset 2"},
        {",", "empty element"},
        {"0,", "empty element"},
        {"3-1", "reversed range 3-1"},
        {"1-2-3", "'-' is not allowed here"},
        {"0x1", "'x' is not allowed in a CPU list"},
        {"0;1", "';' is not allowed in a CPU list"},
        {" 1", "a space is not allowed in a placement spec (offset 0)"},
        {"1 ", "a space is not allowed in a placement spec (offset 1)"},
        {"core: 1", "a space is not allowed"},
        {"\t", "byte 0x09 is not allowed"},
        {"1\n", "byte 0x0a is not allowed"},
        {"\xff", "byte 0xff is not allowed"},
        {"core:", "expected a logical index after \"core:\", found the end"},
        {":", "missing object type at offset 0"},
        {":1", "missing object type"},
        {"core:-1", "expected a logical index after \"core:\", found '-'"},
        {"core:x", "expected a logical index after \"core:\", found 'x'"},
        {"core:0-", "range \"core:0-\" has no upper bound"},
        {"core:1-0", "reversed range core:1-0 (write core:0-1)"},
        {"core", "\"core\" needs a logical index"},
        {"x", "unknown object type \"x\""},
        {"bogus:0", "unknown object type \"bogus\""},
        {"group:0", "unknown object type \"group\""},
        {"core:0:1", "unexpected ':' after \"core:0\""},
        {"core:0,1", "unexpected ',' after \"core:0\""},
        {".core:0", "empty object at offset 0"},
        {"core:0.", "empty object at offset 7"},
        {"package:0..core:0", "empty object at offset 10"},
        {"pu:0.pu:0.pu:0.pu:0.pu:0.pu:0.pu:0.pu:0.pu:0", "more than 8 nested objects"},
        {"al", "unknown object type \"al\""},
        {"all:0", "unknown object type \"all\""},
        {"allx", "unknown object type \"allx\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_ERR(cases[i].spec, 0, -EINVAL, cases[i].why);
}

/* ---- topology objects --------------------------------------------------- */

/* "type:i" for every object of every type, compared with hwloc's own lookup. */
static void test_placement_objects_match_hwloc(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        hwloc_obj_type_t type;
    } types[] = {
        {"pu", HWLOC_OBJ_PU},           {"core", HWLOC_OBJ_CORE},
        {"numa", HWLOC_OBJ_NUMANODE},   {"node", HWLOC_OBJ_NUMANODE},
        {"package", HWLOC_OBJ_PACKAGE}, {"socket", HWLOC_OBJ_PACKAGE},
        {"l1", HWLOC_OBJ_L1CACHE},      {"l2", HWLOC_OBJ_L2CACHE},
        {"l3", HWLOC_OBJ_L3CACHE},      {"machine", HWLOC_OBJ_MACHINE},
    };
    hwloc_topology_t t = topo();
    int checked = 0;
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        int n = hwloc_get_nbobjs_by_type(t, types[k].type);
        hwloc_bitmap_t range = hwloc_bitmap_alloc();
        for (int i = 0; i < n && i < 64; i++) {
            hwloc_obj_t obj = hwloc_get_obj_by_type(t, types[k].type, (unsigned)i);
            char spec[64], want[256];
            snprintf(spec, sizeof spec, "%s:%d", types[k].name, i);
            hwloc_bitmap_or(range, range, obj->cpuset);
            if (hwloc_bitmap_iszero(obj->cpuset)) {
                CHECK_ERR(spec, 0, -EINVAL, "names no CPUs");
            } else if (!hwloc_bitmap_intersects(obj->cpuset, px__allowed_cpuset())) {
                CHECK_ERR(spec, 0, -EXDEV, "lie outside the process's allowed set");
            } else {
                narrowed_text(obj->cpuset, want, sizeof want);
                CHECK_OK(spec, 0, want);
                checked++;
            }
        }
        if (n >= 2 && n <= 64 && hwloc_bitmap_intersects(range, px__allowed_cpuset())) {
            char spec[64], want[256];
            snprintf(spec, sizeof spec, "%s:0-%d", types[k].name, n - 1);
            narrowed_text(range, want, sizeof want);
            CHECK_OK(spec, 0, want);
        }
        hwloc_bitmap_free(range);
    }
    assert_true(checked > 0);
}

/* Type names are case-insensitive; "all" is the whole machine. */
static void test_placement_names_case_insensitive_and_all(void **state)
{
    (void)state;
    hwloc_topology_t t = topo();
    char want[256];
    narrowed_text(hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, 0)->cpuset, want, sizeof want);
    if (hwloc_bitmap_intersects(hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, 0)->cpuset,
                                px__allowed_cpuset())) {
        CHECK_OK("PU:0", 0, want);
        CHECK_OK("Pu:0", 0, want);
    }
    narrowed_text(hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, 0)->cpuset, want, sizeof want);
    CHECK_OK("PACKAGE:0", 0, want);
    CHECK_OK("Socket:0", 0, want);
    narrowed_text(hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, 0)->cpuset, want, sizeof want);
    CHECK_OK("NUMA:0", 0, want);
    CHECK_OK("Node:0", 0, want);
    narrowed_text(hwloc_topology_get_topology_cpuset(t), want, sizeof want);
    CHECK_OK("all", 0, want);
    CHECK_OK("ALL", 0, want);
    CHECK_OK("All", 0, want);
}

/* The text of "this machine has N things (name:0-N-1)". */
static void has_text(char *buf, size_t len, const char *where, int n, const char *what,
                     const char *name)
{
    if (n == 0) snprintf(buf, len, "%s has no %ss", where, what);
    else if (n == 1) snprintf(buf, len, "%s has 1 %s (%s:0)", where, what, name);
    else snprintf(buf, len, "%s has %d %ss (%s:0-%d)", where, n, what, name, n - 1);
}

/* Objects the machine does not have: -EINVAL saying what it has. */
static void test_placement_object_errors(void **state)
{
    (void)state;
    hwloc_topology_t t = topo();
    int ncores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    int npus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    int nnuma = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    char spec[64], has[128], msg[256];

    snprintf(spec, sizeof spec, "core:%d", ncores + 3);
    has_text(has, sizeof has, "this machine", ncores, "core", "core");
    snprintf(msg, sizeof msg, "\"%s\": %s", spec, has);
    CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);

    snprintf(spec, sizeof spec, "pu:%d", npus);
    has_text(has, sizeof has, "this machine", npus, "PU", "pu");
    snprintf(msg, sizeof msg, "\"%s\": %s", spec, has);
    CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);

    snprintf(spec, sizeof spec, "node:%d", nnuma);
    has_text(has, sizeof has, "this machine", nnuma, "NUMA node", "node");
    snprintf(msg, sizeof msg, "\"%s\": %s", spec, has);
    CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);

    snprintf(spec, sizeof spec, "core:0-%d", ncores);
    CHECK_ERR(spec, 0, -EINVAL, "this machine has");
    has_text(has, sizeof has, "this machine", ncores, "core", "core");
    CHECK_ERR("core:99999999999999999999", 0, -EINVAL, has);
    CHECK_ERR("core:4294967296", 0, -EINVAL, has);

    /* Types this machine lacks, whichever they are. */
    static const struct {
        const char *name, *what;
        hwloc_obj_type_t type;
    } rare[] = {{"die", "die", HWLOC_OBJ_DIE},
                {"l4", "L4 cache", HWLOC_OBJ_L4CACHE},
                {"l5", "L5 cache", HWLOC_OBJ_L5CACHE},
                {"l1i", "L1i cache", HWLOC_OBJ_L1ICACHE}};
    int lacked = 0;
    for (size_t i = 0; i < sizeof rare / sizeof rare[0]; i++) {
        if (hwloc_get_nbobjs_by_type(t, rare[i].type) != 0) continue;
        snprintf(spec, sizeof spec, "%s:0", rare[i].name);
        snprintf(msg, sizeof msg, "\"%s\": this machine has no %ss", spec, rare[i].what);
        CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);
        lacked++;
    }
    if (lacked == 0) skip(); /* this machine has dies and L4, L5 and L1i caches */
}

/* hwloc-calc's nested form: indexes relative to the parent. */
static void test_placement_nested_form(void **state)
{
    (void)state;
    hwloc_topology_t t = topo();
    int npkg = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
    int checked = 0;
    for (int p = 0; p < npkg && p < 8; p++) {
        hwloc_obj_t pkg = hwloc_get_obj_by_type(t, HWLOC_OBJ_PACKAGE, (unsigned)p);
        int ncores = hwloc_get_nbobjs_inside_cpuset_by_type(t, pkg->cpuset, HWLOC_OBJ_CORE);
        char spec[64], want[256], has[128], where[32];
        for (int c = 0; c < ncores && c < 16; c++) {
            hwloc_obj_t core =
                hwloc_get_obj_inside_cpuset_by_type(t, pkg->cpuset, HWLOC_OBJ_CORE, (unsigned)c);
            if (!hwloc_bitmap_intersects(core->cpuset, px__allowed_cpuset())) continue;
            snprintf(spec, sizeof spec, "package:%d.core:%d", p, c);
            narrowed_text(core->cpuset, want, sizeof want);
            CHECK_OK(spec, 0, want);
            snprintf(spec, sizeof spec, "socket:%d.core:%d.pu:0", p, c);
            hwloc_obj_t pu = hwloc_get_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, 0);
            if (hwloc_bitmap_intersects(pu->cpuset, px__allowed_cpuset())) {
                narrowed_text(pu->cpuset, want, sizeof want);
                CHECK_OK(spec, 0, want);
            }
            checked++;
        }
        snprintf(spec, sizeof spec, "package:%d.core:%d", p, ncores);
        snprintf(where, sizeof where, "package:%d", p);
        has_text(has, sizeof has, where, ncores, "core", "core");
        char msg[256];
        snprintf(msg, sizeof msg, "\"%s\": %s", spec, has);
        CHECK_ERR_EXACT(spec, 0, -EINVAL, msg);
    }
    assert_true(checked > 0);
    /* The deepest level reports the concrete parent path. */
    hwloc_obj_t core0 = hwloc_get_obj_by_type(t, HWLOC_OBJ_CORE, 0);
    int spus = hwloc_get_nbobjs_inside_cpuset_by_type(t, core0->cpuset, HWLOC_OBJ_PU);
    char spec[64];
    snprintf(spec, sizeof spec, "core:0.pu:%d", spus);
    CHECK_ERR(spec, 0, -EINVAL, "core:0 has");
}

/* ---- hostile input ------------------------------------------------------ */

static int outcome_ok(int r)
{
    if (r == 0) return 1;
    if (r != -EINVAL && r != -EXDEV) return 0;
    const char *m = px_last_error();
    return m[0] == '"' && strlen(m) < 256;
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++) memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

/* Nothing crashes, allocates without bound or answers anything but 0,
 * -EINVAL or -EXDEV with a quoted message; bounded: ~50k resolutions. */
static void test_placement_hostile_input(void **state)
{
    (void)state;
    hwloc_bitmap_t out = hwloc_bitmap_alloc();
    char *longs[] = {
        repeat("", "0,", 50000, "0"),     repeat("", "9", 100000, ""),
        repeat("core:", "9", 100000, ""), repeat("", "pu:0.", 20000, ""),
        repeat("", "a", 100000, ":0"),    repeat("0-", "9", 100000, ""),
        repeat("", "1", 1, ""),           repeat("", "-", 100000, ""),
        repeat("", ",", 100000, ""),      repeat("", ":", 100000, ""),
        repeat("", ".", 100000, ""),      repeat("core:0", "-0", 50000, ""),
    };
    for (size_t i = 0; i < sizeof longs / sizeof longs[0]; i++) {
        int r = px__placement_resolve(longs[i], 0, out);
        if (!outcome_ok(r)) fail_msg("long spec %zu: %d [%s]", i, r, px_last_error());
        free(longs[i]);
    }
    /* Every byte, alone and after a valid prefix. */
    static const char *const prefixes[] = {"", "0", "0-", "core:", "core:0", "core:0.", "all"};
    for (int c = 1; c < 256; c++) {
        for (size_t k = 0; k < sizeof prefixes / sizeof prefixes[0]; k++) {
            char spec[16];
            snprintf(spec, sizeof spec, "%s%c", prefixes[k], c);
            int r = px__placement_resolve(spec, 0, out);
            if (!outcome_ok(r))
                fail_msg("spec \"%s\" (byte %d): %d [%s]", spec, c, r, px_last_error());
        }
    }
    /* Random specs from a grammar-ish alphabet (fixed seed). */
    static const char alphabet[] = "0123456789,,--::..corepuCOREPUallnmsckt3 \xff";
    uint32_t seed = 12345;
    for (int i = 0; i < 40000; i++) {
        char spec[32];
        seed = seed * 1103515245u + 12345u;
        int len = (int)((seed >> 16) % 24);
        for (int j = 0; j < len; j++) {
            seed = seed * 1103515245u + 12345u;
            spec[j] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        spec[len] = '\0';
        int r = px__placement_resolve(spec, (seed >> 8) & 1 ? PX_PIN_STRICT : 0, out);
        if (!outcome_ok(r)) fail_msg("spec \"%s\": %d [%s]", spec, r, px_last_error());
    }
    assert_int_equal(px__placement_resolve("0", 0, NULL), -EINVAL);
    assert_true(strlen(px_last_error()) > 0);
    hwloc_bitmap_free(out);
}

/* ---- concurrency -------------------------------------------------------- */

#define NSPECS 12
/* The specs and their single-thread answers. */
struct race {
    const char *specs[NSPECS];
    int want_r[NSPECS];
    char want[NSPECS][128];
};

/* One racing thread's record. */
struct racer {
    const struct race *table;
    int mismatches, bind_failures;
    char first[WHY_LEN];
};

static void *racer_thread(void *arg)
{
    struct racer *me = arg;
    hwloc_bitmap_t out = hwloc_bitmap_alloc();
    for (int it = 0; it < 300; it++) {
        for (int i = 0; i < NSPECS; i++) {
            const char *spec = me->table->specs[i];
            int r = px__placement_resolve(spec, 0, out);
            char got[128] = "";
            if (r == 0) hwloc_bitmap_list_snprintf(got, sizeof got, out);
            if (r != me->table->want_r[i] || (r == 0 && strcmp(got, me->table->want[i]) != 0) ||
                (r != 0 && px_last_error()[0] != '"')) {
                if (me->mismatches++ == 0)
                    snprintf(me->first, sizeof me->first, "\"%s\": %d %s [%s]",
                             spec ? spec : "(null)", r, got, px_last_error());
            }
            if (r == 0 && it % 50 == 0 && px__placement_bind_self(out, 0) != 0) me->bind_failures++;
        }
    }
    hwloc_bitmap_free(out);
    return NULL;
}

/* Resolving and binding from many threads at once gives the single-thread
 * answers (also run under TSan). */
static void test_placement_concurrent_resolve(void **state)
{
    (void)state;
    char alist[128];
    list_text(px__allowed_cpuset(), alist, sizeof alist);
    char pu0[32];
    snprintf(pu0, sizeof pu0, "%d", allowed_cpus[0]);
    struct race table = {.specs = {NULL, "", "all", alist, pu0, "pu:0", "core:0", "package:0",
                                   "numa:0", "core:999999", "bogus:1", "1,,2"}};
    hwloc_bitmap_t out = hwloc_bitmap_alloc();
    for (int i = 0; i < NSPECS; i++) {
        table.want_r[i] = px__placement_resolve(table.specs[i], 0, out);
        if (table.want_r[i] == 0)
            hwloc_bitmap_list_snprintf(table.want[i], sizeof table.want[i], out);
    }
    hwloc_bitmap_free(out);
    assert_int_equal(table.want_r[0], 0);
    assert_int_equal(table.want_r[NSPECS - 1], -EINVAL);
    enum { N = 6 };
    pthread_t th[N];
    struct racer r[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++) {
        r[i].table = &table;
        assert_int_equal(pthread_create(&th[i], NULL, racer_thread, &r[i]), 0);
    }
    for (int i = 0; i < N; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        if (r[i].mismatches)
            fail_msg("thread %d: %d mismatches, first %s", i, r[i].mismatches, r[i].first);
        assert_int_equal(r[i].bind_failures, 0);
    }
}

/* ---- binding ------------------------------------------------------------ */

struct pin {
    int cpu;
    int resolve_r, bind_r, read_r;
    char got[64], kernel[64];
};

static void affinity_text(char *buf, size_t len)
{
    cpu_set_t s;
    buf[0] = '\0';
    if (sched_getaffinity(0, sizeof s, &s) != 0) return;
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &s)) hwloc_bitmap_set(b, (unsigned)i);
    hwloc_bitmap_list_snprintf(buf, len, b);
    hwloc_bitmap_free(b);
}

static void *pin_thread(void *arg)
{
    struct pin *p = arg;
    char spec[16];
    snprintf(spec, sizeof spec, "%d", p->cpu);
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    p->resolve_r = px__placement_resolve(spec, PX_PIN_STRICT, s);
    p->bind_r = p->resolve_r ? -1 : px__placement_bind_self(s, PX_PIN_STRICT);
    p->read_r = px__placement_thread_cpus(my_tid(), p->got, sizeof p->got);
    affinity_text(p->kernel, sizeof p->kernel);
    hwloc_bitmap_free(s);
    return NULL;
}

/* A thread bound to each allowed CPU reads back that CPU (hwloc and the kernel). */
static void test_placement_bind_self_pins_thread(void **state)
{
    (void)state;
    for (int i = 0; i < nallowed && i < 16; i++) {
        struct pin p = {.cpu = allowed_cpus[i]};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, pin_thread, &p), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        char want[16];
        snprintf(want, sizeof want, "%d", p.cpu);
        assert_int_equal(p.resolve_r, 0);
        assert_int_equal(p.bind_r, 0);
        assert_int_equal(p.read_r, 0);
        assert_string_equal(p.got, want);
        assert_string_equal(p.kernel, want);
    }
}

static void test_placement_bind_rejects_bad_sets(void **state)
{
    (void)state;
    assert_int_equal(px__placement_bind_self(NULL, 0), -EINVAL);
    assert_string_equal(px_last_error(), "cannot bind a thread: no CPU set");
    hwloc_bitmap_t empty = hwloc_bitmap_alloc();
    assert_int_equal(px__placement_bind_self(empty, 0), -EINVAL);
    assert_string_equal(px_last_error(), "cannot bind a thread to an empty CPU set");
    hwloc_bitmap_free(empty);
}

#ifdef PX_TEST_HOOKS
struct enosys_run {
    int cpu;
    char before[64], after_lenient[64], after_oneshot[64];
    int r_lenient, r_strict, r_positive, r_eperm, r_einval_strict, r_oneshot;
    char msg_strict[256], msg_eperm[256];
};

static void *enosys_thread(void *arg)
{
    struct enosys_run *e = arg;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_only(s, (unsigned)e->cpu);
    px__placement_thread_cpus(0, e->before, sizeof e->before);

    px__placement_test_fail_bind(-ENOSYS); /* lenient: runs unpinned */
    e->r_lenient = px__placement_bind_self(s, 0);
    px__placement_thread_cpus(0, e->after_lenient, sizeof e->after_lenient);

    px__placement_test_fail_bind(-ENOSYS); /* strict: an error */
    e->r_strict = px__placement_bind_self(s, PX_PIN_STRICT);
    snprintf(e->msg_strict, sizeof e->msg_strict, "%s", px_last_error());

    px__placement_test_fail_bind(ENOSYS); /* a positive errno means the same */
    e->r_positive = px__placement_bind_self(s, PX_PIN_STRICT);

    px__placement_test_fail_bind(-EPERM); /* other refusals fail either way */
    e->r_eperm = px__placement_bind_self(s, 0);
    snprintf(e->msg_eperm, sizeof e->msg_eperm, "%s", px_last_error());
    px__placement_test_fail_bind(-EINVAL);
    e->r_einval_strict = px__placement_bind_self(s, PX_PIN_STRICT);

    e->r_oneshot = px__placement_bind_self(s, PX_PIN_STRICT); /* the hook was consumed */
    px__placement_thread_cpus(0, e->after_oneshot, sizeof e->after_oneshot);
    hwloc_bitmap_free(s);
    return NULL;
}

/* ENOSYS (injected): 0 and unpinned, or -ENOSYS with PX_PIN_STRICT; other
 * errors always fail; the hook fires once. */
static void test_placement_bind_enosys_via_hook(void **state)
{
    (void)state;
    struct enosys_run e = {.cpu = allowed_cpus[nallowed - 1]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, enosys_thread, &e), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    char want[16], msg[128];
    snprintf(want, sizeof want, "%d", e.cpu);
    assert_int_equal(e.r_lenient, 0);
    assert_string_equal(e.after_lenient, e.before); /* still unpinned */
    assert_int_equal(e.r_strict, -ENOSYS);
    snprintf(msg, sizeof msg,
             "cannot bind the thread to CPUs %d: the OS does not support thread binding "
             "(PX_PIN_STRICT)",
             e.cpu);
    assert_string_equal(e.msg_strict, msg);
    assert_int_equal(e.r_positive, -ENOSYS);
    assert_int_equal(e.r_eperm, -EPERM);
    snprintf(msg, sizeof msg, "binding the thread to CPUs %d failed: %s", e.cpu,
             px_strerror(-EPERM));
    assert_string_equal(e.msg_eperm, msg);
    assert_int_equal(e.r_einval_strict, -EINVAL);
    assert_int_equal(e.r_oneshot, 0);
    assert_string_equal(e.after_oneshot, want);
}
#else
static void test_placement_bind_enosys_via_hook(void **state)
{
    (void)state;
    skip(); /* built without PX_TEST_HOOKS */
}
#endif

/* ---- reading a binding back --------------------------------------------- */

struct held {
    int cpu;
    long tid;
    int bind_r;
    pthread_barrier_t *bar;
};

static void *held_thread(void *arg)
{
    struct held *h = arg;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_only(s, (unsigned)h->cpu);
    h->bind_r = px__placement_bind_self(s, PX_PIN_STRICT);
    hwloc_bitmap_free(s);
    h->tid = my_tid();
    pthread_barrier_wait(h->bar); /* the test thread reads our binding now */
    pthread_barrier_wait(h->bar);
    return NULL;
}

/* The binding of the caller (tid or 0) and of another thread, read by tid. */
static void test_placement_thread_cpus_reads_binding(void **state)
{
    (void)state;
    char want[256], got[256];
    affinity_text(want, sizeof want);
    assert_int_equal(px__placement_thread_cpus(my_tid(), got, sizeof got), 0);
    assert_string_equal(got, want);
    assert_int_equal(px__placement_thread_cpus(0, got, sizeof got), 0);
    assert_string_equal(got, want);

    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct held h = {.cpu = allowed_cpus[nallowed - 1], .bar = &bar};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, held_thread, &h), 0);
    pthread_barrier_wait(&bar);
    int r = px__placement_thread_cpus(h.tid, got, sizeof got);
    pthread_barrier_wait(&bar);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&bar);
    assert_int_equal(h.bind_r, 0);
    assert_int_equal(r, 0);
    snprintf(want, sizeof want, "%d", h.cpu);
    assert_string_equal(got, want);
}

/* -ERANGE with a truncated, NUL-terminated string; bad arguments. */
static void test_placement_thread_cpus_errors(void **state)
{
    (void)state;
    char full[256], buf[256];
    assert_int_equal(px__placement_thread_cpus(0, full, sizeof full), 0);
    size_t len = strlen(full);
    assert_true(len >= 1);
    assert_int_equal(px__placement_thread_cpus(0, buf, len + 1), 0);
    assert_string_equal(buf, full);
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, len), -ERANGE);
    assert_int_equal(strlen(buf), len - 1);
    assert_memory_equal(buf, full, len - 1);
    assert_non_null(strstr(px_last_error(), "needs"));
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, 1), -ERANGE);
    assert_string_equal(buf, "");
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, 0), -ERANGE);
    assert_int_equal(buf[0], 'X'); /* len 0: nothing written */
    assert_int_equal(px__placement_thread_cpus(0, NULL, 16), -EINVAL);
    assert_int_equal(px__placement_thread_cpus(-1, buf, sizeof buf), -EINVAL);
    assert_int_equal(px__placement_thread_cpus((long)INT_MAX + 1, buf, sizeof buf), -EINVAL);
    /* Above any pid_max: no such thread. */
    assert_int_equal(px__placement_thread_cpus(INT_MAX, buf, sizeof buf), -ESRCH);
    assert_non_null(strstr(px_last_error(), "2147483647"));
}

/* ---- summary ------------------------------------------------------------ */

static void count_text(char *buf, size_t len, int n, const char *what)
{
    snprintf(buf, len, "%d %s%s", n, what, n == 1 ? "" : "s");
}

static void test_placement_describe(void **state)
{
    (void)state;
    hwloc_topology_t t = topo();
    char pkg[32], numa[32], l3[32], core[32], pu[32], all[256], allowed[256], want[1024], got[1024];
    count_text(pkg, sizeof pkg, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE), "package");
    count_text(numa, sizeof numa, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE), "NUMA node");
    count_text(l3, sizeof l3, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_L3CACHE), "L3 cache");
    count_text(core, sizeof core, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE), "core");
    count_text(pu, sizeof pu, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU), "PU");
    list_text(hwloc_topology_get_topology_cpuset(t), all, sizeof all);
    list_text(px__allowed_cpuset(), allowed, sizeof allowed);
    snprintf(want, sizeof want, "machine: %s, %s, %s, %s, %s (OS indexes %s); allowed set %s", pkg,
             numa, l3, core, pu, all, allowed);
    assert_int_equal(px__placement_describe(got, sizeof got), 0);
    assert_string_equal(got, want);
    assert_int_equal(px__placement_describe(got, 10), -ERANGE);
    assert_string_equal(got, "machine: ");
    assert_int_equal(px__placement_describe(NULL, 10), -EINVAL);
}

/* ---- a synthetic machine (PX_TEST_HOOKS) -------------------------------- */

#ifdef PX_TEST_HOOKS
/* 2 packages x (1 NUMA node, 1 L3) x 2 cores x 2 PUs: PUs 0-7; allowed 0-5. */
#define SYNTH "package:2 [numa] l3:1 core:2 pu:2"

static int use_synthetic(void **state)
{
    (void)state;
    return px__placement_test_use_synthetic(SYNTH, "0-5");
}

static int use_machine(void **state)
{
    (void)state;
    return px__placement_test_use_synthetic(NULL, NULL);
}

/* Logical indexes count disallowed objects; narrowing vs PX_PIN_STRICT. */
static void test_placement_synthetic_narrowing(void **state)
{
    (void)state;
    CHECK_OK(NULL, PX_PIN_STRICT, "0-5");
    CHECK_OK("core:2", PX_PIN_STRICT, "4-5");
    CHECK_OK("pu:5", PX_PIN_STRICT, "5");
    CHECK_ERR_EXACT("core:3", 0, -EXDEV,
                    "\"core:3\": CPUs 6-7 lie outside the process's allowed set 0-5");
    CHECK_ERR_EXACT("pu:7", 0, -EXDEV,
                    "\"pu:7\": CPUs 7 lie outside the process's allowed set 0-5");
    CHECK_OK("numa:1", 0, "4-5");
    CHECK_ERR_EXACT(
        "numa:1", PX_PIN_STRICT, -EXDEV,
        "\"numa:1\": CPUs 6-7 lie outside the process's allowed set 0-5 (PX_PIN_STRICT)");
    CHECK_OK("package:1", 0, "4-5");
    CHECK_OK("l3:0", PX_PIN_STRICT, "0-3");
    CHECK_OK("core:1-3", 0, "2-5");
    CHECK_ERR("core:1-3", PX_PIN_STRICT, -EXDEV, "CPUs 6-7 lie outside");
    CHECK_OK("all", 0, "0-5");
    CHECK_ERR_EXACT("all", PX_PIN_STRICT, -EXDEV,
                    "\"all\": CPUs 6-7 lie outside the process's allowed set 0-5 (PX_PIN_STRICT)");
    CHECK_OK("4-7", 0, "4-5");
    CHECK_ERR("4-7", PX_PIN_STRICT, -EXDEV, "CPUs 6-7 lie outside the process's allowed set 0-5");
    CHECK_ERR_EXACT("6-7", 0, -EXDEV,
                    "\"6-7\": CPUs 6-7 lie outside the process's allowed set 0-5");
    CHECK_ERR_EXACT("8", 0, -EINVAL, "\"8\": OS index 8 is not a CPU of this machine (it has 0-7)");
    CHECK_ERR_EXACT("6-9", 0, -EINVAL,
                    "\"6-9\": OS index 9 is not a CPU of this machine (it has 0-7)");
    CHECK_ERR_EXACT("core:4", 0, -EINVAL, "\"core:4\": this machine has 4 cores (core:0-3)");
}

static void test_placement_synthetic_nested(void **state)
{
    (void)state;
    CHECK_OK("package:1.core:0", 0, "4-5");
    CHECK_OK("package:0.core:1.pu:1", 0, "3");
    CHECK_OK("socket:1.pu:1", 0, "5");
    CHECK_OK("package:0-1.core:0", 0, "0-1,4-5");
    CHECK_OK("package:1.numa:0", 0, "4-5");
    CHECK_OK("numa:0.core:1", 0, "2-3");
    CHECK_OK("l3:1.core:0.pu:1", 0, "5");
    CHECK_OK("machine:0.package:0", 0, "0-3");
    CHECK_ERR_EXACT("package:1.core:1", 0, -EXDEV,
                    "\"package:1.core:1\": CPUs 6-7 lie outside the process's allowed set 0-5");
    CHECK_ERR_EXACT("package:0.core:2", 0, -EINVAL,
                    "\"package:0.core:2\": package:0 has 2 cores (core:0-1)");
    CHECK_ERR_EXACT("socket:1.core:0.pu:2", 0, -EINVAL,
                    "\"socket:1.core:0.pu:2\": socket:1.core:0 has 2 PUs (pu:0-1)");
    CHECK_ERR_EXACT("package:2.core:0", 0, -EINVAL,
                    "\"package:2.core:0\": this machine has 2 packages (package:0-1)");
    CHECK_ERR_EXACT("core:0.package:0", 0, -EINVAL, "\"core:0.package:0\": core:0 has no packages");
}

static void test_placement_synthetic_describe(void **state)
{
    (void)state;
    char got[256];
    assert_int_equal(px__placement_describe(got, sizeof got), 0);
    assert_string_equal(got, "machine: 2 packages, 2 NUMA nodes, 2 L3 caches, 4 cores, 8 PUs "
                             "(OS indexes 0-7); allowed set 0-5");
}

/* Bad synthetic descriptions fail cleanly; NULL allowed means all PUs; holes
 * in the OS numbering are not CPUs. */
static void test_placement_synthetic_hook(void **state)
{
    (void)state;
    assert_int_equal(px__placement_test_use_synthetic("bogus:3 pu:1", NULL), -EINVAL);
    assert_non_null(strstr(px_last_error(), "bogus:3"));
    assert_int_equal(px__placement_test_use_synthetic("package:1 core:3 pu:1", NULL), 0);
    CHECK_OK("all", PX_PIN_STRICT, "0-2");
    CHECK_OK("core:2", PX_PIN_STRICT, "2");
    /* A machine whose OS indexes have a hole: PUs 0,1,4,5. */
    assert_int_equal(px__placement_test_use_synthetic("core:2 pu:2(indexes=0,1,4,5)", NULL), 0);
    CHECK_OK("pu:2", PX_PIN_STRICT, "4");
    CHECK_OK("4-5", PX_PIN_STRICT, "4-5");
    CHECK_ERR_EXACT("2", 0, -EINVAL,
                    "\"2\": OS index 2 is not a CPU of this machine (it has 0-1,4-5)");
    CHECK_ERR_EXACT("0-5", 0, -EINVAL,
                    "\"0-5\": OS indexes 2-3 are not CPUs of this machine (it has 0-1,4-5)");
    assert_int_equal(px__placement_test_use_synthetic(NULL, NULL), 0);
    assert_ptr_not_equal(px__topology(), NULL);
    char a[256];
    list_text(px__allowed_cpuset(), a, sizeof a);
    CHECK_OK("", 0, a); /* the real machine again */
}
#else
static void test_placement_synthetic_skipped(void **state)
{
    (void)state;
    skip(); /* built without PX_TEST_HOOKS */
}
#endif

/* ---- restricted processes ----------------------------------------------- */

/*
 * Run this program as `--child ARGS...`: with its affinity set to the single
 * CPU pin_cpu first (>= 0), and through `taskset -c pin_cpu` when via_taskset.
 * Returns the child's exit status, or -1 after killing it at the deadline.
 */
static int run_child(int pin_cpu, int via_taskset, const char *const *args)
{
    char cpu[16];
    snprintf(cpu, sizeof cpu, "%d", pin_cpu);
    const char *argv[16];
    int n = 0;
    if (via_taskset) {
        argv[n++] = "taskset";
        argv[n++] = "-c";
        argv[n++] = cpu;
    }
    argv[n++] = self_exe;
    argv[n++] = "--child";
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!via_taskset && pin_cpu >= 0) {
            cpu_set_t s;
            CPU_ZERO(&s);
            CPU_SET(pin_cpu, &s);
            if (sched_setaffinity(0, sizeof s, &s) != 0) _exit(126);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (int waited = 0; waited < 6000; waited++) { /* 60 s */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (w < 0 && errno != EINTR) return -1;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* The real machine under taskset: EXDEV, narrowing and STRICT (child mode
 * "restricted A B"). Both ways of restricting: sched_setaffinity before exec,
 * and the taskset tool. */
static void test_placement_restricted_process(void **state)
{
    (void)state;
    if (nallowed < 2) {
        skip(); /* needs two allowed CPUs: one to keep, one to lose */
        return;
    }
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", allowed_cpus[0]);
    snprintf(b, sizeof b, "%d", allowed_cpus[1]);
    const char *const args[] = {"restricted", a, b, NULL};
    assert_int_equal(run_child(allowed_cpus[0], 0, args), 0);
    if (access("/usr/bin/taskset", X_OK) == 0 || access("/bin/taskset", X_OK) == 0)
        assert_int_equal(run_child(allowed_cpus[0], 1, args), 0);
}

/* Pinning the main thread after load restricts nothing (child mode "late-pin A FULL"). */
static void test_placement_late_pin_restricts_nothing(void **state)
{
    (void)state;
    if (nallowed < 2) {
        skip();
        return;
    }
    char a[16], b[16], full[256];
    snprintf(a, sizeof a, "%d", allowed_cpus[0]);
    snprintf(b, sizeof b, "%d", allowed_cpus[1]);
    list_text(px__allowed_cpuset(), full, sizeof full);
    const char *const args[] = {"late-pin", a, b, full, NULL};
    assert_int_equal(run_child(-1, 0, args), 0);
}

/* ---- child modes -------------------------------------------------------- */

static int child_failures;

static void child_report(int failed, const char *why)
{
    if (!failed) return;
    fprintf(stderr, "child FAIL: %s\n", why);
    child_failures++;
}

#define CHILD_OK(spec, flags, want)                                             \
    do {                                                                        \
        char why_[WHY_LEN];                                                     \
        child_report(try_ok((spec), (flags), (want), why_, sizeof why_), why_); \
    } while (0)
#define CHILD_ERR(spec, flags, err, msg, exact)                                                 \
    do {                                                                                        \
        char why_[WHY_LEN];                                                                     \
        child_report(try_err((spec), (flags), (err), (msg), (exact), why_, sizeof why_), why_); \
    } while (0)
#define CHILD_TRUE(cond)                     \
    do {                                     \
        if (!(cond)) child_report(1, #cond); \
    } while (0)

/* Allowed set {a}; b is a CPU of the machine outside it. */
static void child_restricted(const char *a, const char *b)
{
    char got[256], spec[64], msg[600];
    list_text(px__allowed_cpuset(), got, sizeof got);
    if (strcmp(got, a) != 0) {
        snprintf(msg, sizeof msg, "allowed set is %s, want %s", got, a);
        child_report(1, msg);
    }
    CHILD_OK(NULL, 0, a);
    CHILD_OK("", PX_PIN_STRICT, a);
    CHILD_OK(a, PX_PIN_STRICT, a);
    snprintf(msg, sizeof msg, "\"%s\": CPUs %s lie outside the process's allowed set %s", b, b, a);
    CHILD_ERR(b, 0, -EXDEV, msg, 1);
    CHILD_ERR(b, PX_PIN_STRICT, -EXDEV, msg, 1);
    snprintf(spec, sizeof spec, "%s,%s", a, b);
    CHILD_OK(spec, 0, a);
    snprintf(msg, sizeof msg,
             "\"%s\": CPUs %s lie outside the process's allowed set %s (PX_PIN_STRICT)", spec, b,
             a);
    CHILD_ERR(spec, PX_PIN_STRICT, -EXDEV, msg, 1);
    CHILD_OK("all", 0, a);
    CHILD_ERR("all", PX_PIN_STRICT, -EXDEV, "lie outside the process's allowed set", 0);

    /* Logical indexes still count every PU of the machine. */
    hwloc_topology_t t = px__topology();
    hwloc_obj_t pa = hwloc_get_pu_obj_by_os_index(t, (unsigned)atoi(a));
    hwloc_obj_t pb = hwloc_get_pu_obj_by_os_index(t, (unsigned)atoi(b));
    CHILD_TRUE(pa != NULL && pb != NULL);
    if (pa && pb) {
        snprintf(spec, sizeof spec, "pu:%u", pa->logical_index);
        CHILD_OK(spec, PX_PIN_STRICT, a);
        snprintf(spec, sizeof spec, "pu:%u", pb->logical_index);
        CHILD_ERR(spec, 0, -EXDEV, "lie outside the process's allowed set", 0);
    }
    CHILD_TRUE(hwloc_bitmap_weight(hwloc_topology_get_topology_cpuset(t)) >= 2);

    /* Binding works within the set and reads back. */
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    CHILD_TRUE(px__placement_resolve(NULL, PX_PIN_STRICT, s) == 0);
    CHILD_TRUE(px__placement_bind_self(s, PX_PIN_STRICT) == 0);
    CHILD_TRUE(px__placement_thread_cpus(0, got, sizeof got) == 0 && strcmp(got, a) == 0);
    hwloc_bitmap_free(s);
}

/* Started unrestricted (allowed set full); the main thread pins itself to a
 * before the first placement call: the allowed set stays full. */
static void child_late_pin(const char *a, const char *b, const char *full)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(atoi(a), &s);
    CHILD_TRUE(sched_setaffinity(0, sizeof s, &s) == 0);
    char got[256], msg[512];
    list_text(px__allowed_cpuset(), got, sizeof got);
    if (strcmp(got, full) != 0) {
        snprintf(msg, sizeof msg, "allowed set is %s after a late pin, want %s", got, full);
        child_report(1, msg);
    }
    CHILD_OK(b, PX_PIN_STRICT, b);
    CHILD_OK(NULL, 0, full);
}

static int child_main(int argc, char **argv)
{
    alarm(30); /* bounded: SIGALRM ends a hung child */
    if (argc == 3 && strcmp(argv[0], "restricted") == 0) {
        child_restricted(argv[1], argv[2]);
    } else if (argc == 4 && strcmp(argv[0], "late-pin") == 0) {
        child_late_pin(argv[1], argv[2], argv[3]);
    } else {
        fprintf(stderr, "child: unknown mode\n");
        return 2;
    }
    return child_failures ? 1 : 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--child") == 0) return child_main(argc - 2, argv + 2);

    if (sched_getaffinity(0, sizeof start_affinity, &start_affinity) != 0) {
        perror("sched_getaffinity");
        return 1;
    }
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &start_affinity)) allowed_cpus[nallowed++] = i;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        return 1;
    }
    self_exe[n] = '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_topology_loaded_once),
        cmocka_unit_test(test_placement_allowed_set_is_start_affinity),
        cmocka_unit_test(test_placement_empty_spec_is_allowed_set),
        cmocka_unit_test(test_placement_os_index_lists),
        cmocka_unit_test(test_placement_os_index_errors),
        cmocka_unit_test(test_placement_syntax_errors),
        cmocka_unit_test(test_placement_objects_match_hwloc),
        cmocka_unit_test(test_placement_names_case_insensitive_and_all),
        cmocka_unit_test(test_placement_object_errors),
        cmocka_unit_test(test_placement_nested_form),
        cmocka_unit_test(test_placement_hostile_input),
        cmocka_unit_test(test_placement_concurrent_resolve),
        cmocka_unit_test(test_placement_bind_self_pins_thread),
        cmocka_unit_test(test_placement_bind_rejects_bad_sets),
        cmocka_unit_test(test_placement_bind_enosys_via_hook),
        cmocka_unit_test(test_placement_thread_cpus_reads_binding),
        cmocka_unit_test(test_placement_thread_cpus_errors),
        cmocka_unit_test(test_placement_describe),
        cmocka_unit_test(test_placement_restricted_process),
        cmocka_unit_test(test_placement_late_pin_restricts_nothing),
#ifdef PX_TEST_HOOKS
        cmocka_unit_test_setup_teardown(test_placement_synthetic_narrowing, use_synthetic,
                                        use_machine),
        cmocka_unit_test_setup_teardown(test_placement_synthetic_nested, use_synthetic,
                                        use_machine),
        cmocka_unit_test_setup_teardown(test_placement_synthetic_describe, use_synthetic,
                                        use_machine),
        cmocka_unit_test_setup_teardown(test_placement_synthetic_hook, NULL, use_machine),
#else
        cmocka_unit_test(test_placement_synthetic_skipped),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
