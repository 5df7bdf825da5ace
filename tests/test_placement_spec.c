/*
 * Placement specs: the topology and the allowed set, OS-index lists, topology
 * objects (flat and nested), their errors, hostile input, and resolving from
 * many threads at once.
 *
 * The tests adapt to the CPUs this process may use (its affinity at start)
 * and skip() what the machine cannot offer. Binding and restricted processes:
 * test_placement_binding.c; synthetic topologies and the summary:
 * test_placement_synthetic.c.
 *
 * cmocka is not thread-safe: helper threads record, the test thread asserts.
 */
#include "placement_test.h"

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

int main(void)
{
    if (placement_test_init() != 0) return 1;
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
