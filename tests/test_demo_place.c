/*
 * The demo's default placement (executors/glfw/demo_place.c): the render
 * executor gets a core of its own, not the calling (main) thread's, and the
 * calling thread is bound to the rest; with one allowed CPU nothing is kept
 * apart. Checked against the machine's hwloc topology; needs no display.
 */
#define _GNU_SOURCE
#include <hwloc.h>
#include <sched.h>

#include "px_test.h"

#include "demo.h"

typedef struct topo {
    hwloc_topology_t t;
    hwloc_bitmap_t allowed, render, others, bound;
} topo_t;

static void topo_open(topo_t *x)
{
    assert_int_equal(hwloc_topology_init(&x->t), 0);
    assert_int_equal(hwloc_topology_load(x->t), 0);
    x->allowed = hwloc_bitmap_alloc();
    x->render = hwloc_bitmap_alloc();
    x->others = hwloc_bitmap_alloc();
    x->bound = hwloc_bitmap_alloc();
    assert_int_equal(hwloc_get_cpubind(x->t, x->allowed, HWLOC_CPUBIND_THREAD), 0);
}

static void topo_close(topo_t *x)
{
    hwloc_bitmap_free(x->allowed);
    hwloc_bitmap_free(x->render);
    hwloc_bitmap_free(x->others);
    hwloc_bitmap_free(x->bound);
    hwloc_topology_destroy(x->t);
}

static void test_demo_place_own_core(void **state)
{
    (void)state;
    topo_t x;
    topo_open(&x);
    if (hwloc_bitmap_weight(x.allowed) < 2) {
        topo_close(&x);
        skip(); /* one allowed CPU: test_demo_place_one_cpu covers it */
    }
    demo_place_t p;
    assert_int_equal(demo_place_choose(&p), 0);
    assert_true(p.own);
    assert_int_equal(hwloc_bitmap_list_sscanf(x.render, p.render), 0);
    assert_int_equal(hwloc_bitmap_list_sscanf(x.others, p.others), 0);
    assert_false(hwloc_bitmap_iszero(x.render));
    assert_false(hwloc_bitmap_iszero(x.others));
    /* Apart, and together the whole allowed set. */
    assert_false(hwloc_bitmap_intersects(x.render, x.others));
    hwloc_bitmap_t all = hwloc_bitmap_alloc();
    hwloc_bitmap_or(all, x.render, x.others);
    assert_true(hwloc_bitmap_isequal(all, x.allowed));
    hwloc_bitmap_free(all);
    /* The calling thread now runs on the others' CPUs only. */
    assert_int_equal(hwloc_get_cpubind(x.t, x.bound, HWLOC_CPUBIND_THREAD), 0);
    assert_true(hwloc_bitmap_isequal(x.bound, x.others));
    /* One core's PUs when the allowed set spans two cores or more, else one PU. */
    int cores = hwloc_get_nbobjs_inside_cpuset_by_type(x.t, x.allowed, HWLOC_OBJ_CORE);
    if (cores >= 2) {
        hwloc_obj_t c =
            hwloc_get_next_obj_covering_cpuset_by_type(x.t, x.render, HWLOC_OBJ_CORE, NULL);
        if (c == NULL) fail_msg("render CPUs %s are not inside one core", p.render);
        hwloc_bitmap_and(all = hwloc_bitmap_alloc(), c->cpuset, x.allowed);
        assert_true(hwloc_bitmap_isequal(all, x.render)); /* the whole core, as allowed */
        hwloc_bitmap_free(all);
    } else {
        assert_int_equal(hwloc_bitmap_weight(x.render), 1);
    }
    assert_non_null(strstr(p.why, "its own"));
    assert_int_equal(hwloc_set_cpubind(x.t, x.allowed, HWLOC_CPUBIND_THREAD), 0); /* restore */
    topo_close(&x);
}

static void test_demo_place_one_cpu(void **state)
{
    (void)state;
    topo_t x;
    topo_open(&x);
    int cpu = hwloc_bitmap_last(x.allowed);
    hwloc_bitmap_t one = hwloc_bitmap_alloc();
    hwloc_bitmap_only(one, (unsigned)cpu);
    assert_int_equal(hwloc_set_cpubind(x.t, one, HWLOC_CPUBIND_THREAD), 0);
    demo_place_t p;
    assert_int_equal(demo_place_choose(&p), 0);
    assert_false(p.own);
    char want[16];
    snprintf(want, sizeof want, "%d", cpu);
    assert_string_equal(p.render, want);
    assert_string_equal(p.others, "");
    assert_non_null(strstr(p.why, "shares"));
    assert_int_equal(hwloc_get_cpubind(x.t, x.bound, HWLOC_CPUBIND_THREAD), 0);
    assert_true(hwloc_bitmap_isequal(x.bound, one)); /* left as it was */
    assert_int_equal(hwloc_set_cpubind(x.t, x.allowed, HWLOC_CPUBIND_THREAD), 0);
    hwloc_bitmap_free(one);
    topo_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_place_own_core),
        cmocka_unit_test(test_demo_place_one_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
