/*
 * Where `pinexec demo` runs its threads when --render-cpus is not given: the
 * render executor on a core of its own, chosen from the hwloc topology.
 *
 *   - the candidates are the cores with allowed PUs that do not hold the PU
 *     the main thread runs on; the last one (highest logical index) is taken,
 *     leaving the low CPUs, where the OS tends to route interrupts, to the rest;
 *   - the main thread (and so the app thread it starts) and the logic worker
 *     are bound to the allowed set without that core, so the core is the
 *     render executor's own, not merely where it may run;
 *   - one core with two or more allowed PUs: a PU of its own, the same way;
 *   - one allowed PU: everything shares it (nothing to choose).
 */
#include <errno.h>
#include <hwloc.h>
#include <stdio.h>
#include <string.h>

#include "demo.h"

/* A core (or, on a one-core machine, a PU) of the allowed set that does not
 * hold the main thread's PU; NULL when there is none. */
static hwloc_obj_t pick(hwloc_topology_t topo, hwloc_obj_type_t type, hwloc_const_bitmap_t allowed,
                        int main_pu)
{
    hwloc_obj_t best = NULL;
    for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, type, NULL); o;
         o = hwloc_get_next_obj_by_type(topo, type, o)) {
        if (!hwloc_bitmap_intersects(o->cpuset, allowed)) continue;
        if (main_pu >= 0 && hwloc_bitmap_isset(o->cpuset, (unsigned)main_pu)) continue;
        best = o; /* objects come in logical order: the last one wins */
    }
    return best;
}

int demo_place_choose(demo_place_t *p)
{
    memset(p, 0, sizeof *p);
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) return -ENOMEM;
    int err = 0;
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc(), loc = hwloc_bitmap_alloc(),
                   mine = hwloc_bitmap_alloc();
    if (allowed == NULL || loc == NULL || mine == NULL) {
        err = -ENOMEM;
        goto out;
    }
    if (hwloc_topology_load(topo) != 0) {
        err = errno ? -errno : -EIO;
        goto out;
    }
    /* The CPUs this thread (the main thread) may use, within the cgroup's. */
    if (hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_THREAD) != 0)
        hwloc_bitmap_copy(allowed, hwloc_topology_get_allowed_cpuset(topo));
    hwloc_bitmap_and(allowed, allowed, hwloc_topology_get_allowed_cpuset(topo));
    int main_pu = -1;
    if (hwloc_get_last_cpu_location(topo, loc, HWLOC_CPUBIND_THREAD) == 0)
        main_pu = hwloc_bitmap_first(loc);
    if (main_pu < 0) main_pu = hwloc_bitmap_first(allowed);

    const char *kind = "core";
    hwloc_obj_t o = pick(topo, HWLOC_OBJ_CORE, allowed, main_pu);
    if (o == NULL) {
        kind = "PU";
        o = pick(topo, HWLOC_OBJ_PU, allowed, main_pu);
    }
    if (o == NULL) { /* one allowed PU: nothing to keep apart */
        hwloc_bitmap_list_snprintf(p->render, sizeof p->render, allowed);
        snprintf(p->why, sizeof p->why,
                 "one allowed CPU (%s): the render executor shares it with the main thread",
                 p->render);
        goto out;
    }
    hwloc_bitmap_and(mine, o->cpuset, allowed);
    hwloc_bitmap_andnot(allowed, allowed, mine); /* allowed is now the others' set */
    hwloc_bitmap_list_snprintf(p->render, sizeof p->render, mine);
    hwloc_bitmap_list_snprintf(p->others, sizeof p->others, allowed);
    /* Keep the main thread (and the app thread it will start) off the render core. */
    if (hwloc_set_cpubind(topo, allowed, HWLOC_CPUBIND_THREAD) != 0) {
        err = errno ? -errno : -EINVAL;
        goto out;
    }
    p->own = true;
    snprintf(p->why, sizeof p->why,
             "render executor on %s %u (CPU %s), its own; main thread and logic on CPU %s", kind,
             o->logical_index, p->render, p->others);
out:
    hwloc_bitmap_free(mine);
    hwloc_bitmap_free(loc);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
    return err;
}
