/*
 * Placement: the topology summary (px__placement_describe), and policy cases
 * on an hwloc synthetic topology with a custom allowed set (PX_TEST_HOOKS
 * builds): logical indexes that count disallowed objects, narrowing vs
 * PX_PIN_STRICT, the nested form, holes in the OS numbering.
 */
#include "placement_test.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_describe),
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
