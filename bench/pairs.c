/*
 * CPU pairs from the hwloc topology (the process's allowed set only): two PUs
 * of one core (SMT siblings), two cores of one package, two packages (else two
 * NUMA nodes), and one PU shared by both threads. Also thread pinning and the
 * machine's name for the header.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "placement.h"

static void why(pxb_pair_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(pxb_pair_t *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
}

/* First allowed PU inside obj, or -1. */
static int first_allowed(hwloc_obj_t obj, hwloc_bitmap_t tmp)
{
    if (obj == NULL || obj->cpuset == NULL) return -1;
    hwloc_bitmap_and(tmp, obj->cpuset, px__allowed_cpuset());
    return hwloc_bitmap_first(tmp);
}

static void set_pair(pxb_pair_t *p, const char *label, int a, int b)
{
    p->label = label;
    p->a = a;
    p->b = b;
    p->present = true;
}

/* Two PUs of one core. */
static void find_smt(hwloc_topology_t topo, hwloc_bitmap_t tmp, pxb_pair_t *p)
{
    int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    for (int i = 0; i < n; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)i);
        hwloc_bitmap_and(tmp, core->cpuset, px__allowed_cpuset());
        int a = hwloc_bitmap_first(tmp);
        int b = a < 0 ? -1 : hwloc_bitmap_next(tmp, a);
        if (b >= 0) {
            set_pair(p, "smt", a, b);
            return;
        }
    }
    why(p, "no core has two allowed PUs (%d cores, no SMT siblings allowed)", n);
}

/* Two cores of one package (the machine counts as one package when hwloc
 * shows none). */
static void find_cores(hwloc_topology_t topo, hwloc_bitmap_t tmp, pxb_pair_t *p)
{
    int npkg = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    for (int k = 0; k < (npkg > 0 ? npkg : 1); k++) {
        hwloc_obj_t pkg = npkg > 0 ? hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, (unsigned)k)
                                   : hwloc_get_root_obj(topo);
        int found[2], nf = 0;
        hwloc_obj_t core = NULL;
        while (nf < 2 && (core = hwloc_get_next_obj_inside_cpuset_by_type(topo, pkg->cpuset,
                                                                          HWLOC_OBJ_CORE, core))) {
            int pu = first_allowed(core, tmp);
            if (pu >= 0) found[nf++] = pu;
        }
        if (nf == 2) {
            set_pair(p, "cores", found[0], found[1]);
            return;
        }
    }
    why(p, "no package has two cores with an allowed PU");
}

/* Two packages, else two NUMA nodes. */
static void find_remote(hwloc_topology_t topo, hwloc_bitmap_t tmp, pxb_pair_t *p)
{
    static const struct {
        hwloc_obj_type_t type;
        const char *label;
    } kinds[] = {{HWLOC_OBJ_PACKAGE, "packages"}, {HWLOC_OBJ_NUMANODE, "numa"}};
    int counts[2];
    for (int k = 0; k < 2; k++) {
        int n = hwloc_get_nbobjs_by_type(topo, kinds[k].type);
        counts[k] = n;
        int found[2], nf = 0;
        for (int i = 0; i < n && nf < 2; i++) {
            int pu = first_allowed(hwloc_get_obj_by_type(topo, kinds[k].type, (unsigned)i), tmp);
            if (pu >= 0) found[nf++] = pu;
        }
        if (nf == 2) {
            set_pair(p, kinds[k].label, found[0], found[1]);
            return;
        }
    }
    why(p, "one package and one NUMA node with allowed PUs (%d package%s, %d NUMA node%s)",
        counts[0], counts[0] == 1 ? "" : "s", counts[1], counts[1] == 1 ? "" : "s");
}

/* The kind of a forced pair. */
static int classify(hwloc_topology_t topo, int a, int b, const char **label)
{
    if (a == b) {
        *label = "samepu";
        return PXB_PAIR_SAME;
    }
    hwloc_obj_t pa = hwloc_get_pu_obj_by_os_index(topo, (unsigned)a);
    hwloc_obj_t pb = hwloc_get_pu_obj_by_os_index(topo, (unsigned)b);
    hwloc_obj_t ca = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pa);
    hwloc_obj_t cb = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pb);
    if (ca && ca == cb) {
        *label = "smt";
        return PXB_PAIR_SMT;
    }
    hwloc_obj_t ka = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pa);
    hwloc_obj_t kb = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pb);
    if (ka != kb) {
        *label = "packages";
        return PXB_PAIR_REMOTE;
    }
    /* Same package: different NUMA nodes (sub-NUMA clustering) or plain cores. */
    hwloc_bitmap_t na = hwloc_bitmap_alloc(), nb = hwloc_bitmap_alloc();
    bool remote = false;
    if (na && nb) {
        hwloc_cpuset_to_nodeset(topo, pa->cpuset, na);
        hwloc_cpuset_to_nodeset(topo, pb->cpuset, nb);
        remote = !hwloc_bitmap_intersects(na, nb);
    }
    hwloc_bitmap_free(na);
    hwloc_bitmap_free(nb);
    *label = remote ? "numa" : "cores";
    return remote ? PXB_PAIR_REMOTE : PXB_PAIR_CORES;
}

int pxb_pairs_find(pxb_pairs_t *out, const int forced[2], char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->primary = -1;
    hwloc_topology_t topo = px__topology();
    if (topo == NULL) {
        snprintf(err, errlen, "cannot load the topology: %s", px_last_error());
        return -ENODEV;
    }
    hwloc_const_bitmap_t allowed = px__allowed_cpuset();
    hwloc_bitmap_t tmp = hwloc_bitmap_alloc();
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int r = 0;
    if (forced && forced[0] >= 0) {
        for (int i = 0; i < 2; i++) {
            if (!hwloc_bitmap_isset(allowed, (unsigned)forced[i])) {
                char set[64];
                snprintf(err, errlen, "--cpus: CPU %d is not in the allowed set %s", forced[i],
                         px__cpuset_text(allowed, set, sizeof set));
                r = -EINVAL;
                goto out;
            }
        }
        for (int k = 0; k < PXB_PAIR_NKINDS; k++)
            why(&out->p[k], "--cpus %d,%d chose another pair", forced[0], forced[1]);
        const char *label;
        int k = classify(topo, forced[0], forced[1], &label);
        set_pair(&out->p[k], label, forced[0], forced[1]);
        out->p[k].why[0] = '\0';
        out->primary = k;
        out->forced = true;
    } else {
        find_smt(topo, tmp, &out->p[PXB_PAIR_SMT]);
        find_cores(topo, tmp, &out->p[PXB_PAIR_CORES]);
        find_remote(topo, tmp, &out->p[PXB_PAIR_REMOTE]);
        /* The same PU: the executor's PU of the first cross pair, else any. */
        static const int order[] = {PXB_PAIR_CORES, PXB_PAIR_SMT, PXB_PAIR_REMOTE};
        int pu = hwloc_bitmap_first(allowed);
        for (unsigned i = 0; i < 3; i++) {
            if (out->p[order[i]].present) {
                if (out->primary < 0) out->primary = order[i];
                pu = out->p[order[i]].b;
                break;
            }
        }
        set_pair(&out->p[PXB_PAIR_SAME], "samepu", pu, pu);
        if (out->primary < 0) out->primary = PXB_PAIR_SAME;
    }
    out->p[out->primary].primary = true;
out:
    hwloc_bitmap_free(tmp);
    return r;
}

int pxb_pin_self(int cpu)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return -ENOMEM;
    if (cpu < 0) hwloc_bitmap_copy(set, px__allowed_cpuset());
    else hwloc_bitmap_only(set, (unsigned)cpu);
    int r = px__placement_bind_self(set, 0);
    hwloc_bitmap_free(set);
    return r;
}

int pxb_pin_self_except(int cpu)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return -ENOMEM;
    hwloc_bitmap_copy(set, px__allowed_cpuset());
    if (cpu >= 0) hwloc_bitmap_clr(set, (unsigned)cpu);
    if (hwloc_bitmap_iszero(set)) hwloc_bitmap_copy(set, px__allowed_cpuset());
    int r = px__placement_bind_self(set, 0);
    hwloc_bitmap_free(set);
    return r;
}

int pxb_ncpus(void)
{
    if (px__topology() == NULL) return 1;
    int n = hwloc_bitmap_weight(px__allowed_cpuset());
    return n > 0 ? n : 1;
}

void pxb_machine(char *cpu_model, size_t len)
{
    snprintf(cpu_model, len, "unknown");
    hwloc_topology_t topo = px__topology();
    if (topo) {
        hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
        const char *m = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
        if (m == NULL) m = hwloc_obj_get_info_by_name(hwloc_get_root_obj(topo), "CPUModel");
        if (m && *m) {
            snprintf(cpu_model, len, "%s", m);
            return;
        }
    }
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
            char *c = strchr(line, ':');
            if (c == NULL) continue;
            c++;
            while (*c == ' ' || *c == '\t') c++;
            c[strcspn(c, "\n")] = '\0';
            snprintf(cpu_model, len, "%s", c);
            break;
        }
    }
    fclose(f);
}
