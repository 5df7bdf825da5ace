/*
 * Placement, the machine side: the hwloc topology (loaded once per process),
 * the process's allowed CPU set, binding the calling thread, reading a
 * thread's binding back from the OS, and a one-line summary of the machine.
 * Spec parsing lives in placement.c.
 *
 * Invariants:
 *   - The topology is loaded lazily, once (pthread_once), and never modified
 *     afterwards, so every query on it is a read-only hwloc call and safe from
 *     any number of threads at once.
 *   - The allowed set is fixed at that load: the affinity the process had when
 *     the library was loaded (captured by a constructor, before any thread of
 *     the application could pin itself) intersected with hwloc's allowed
 *     cpuset (the cgroup cpuset). A thread that later pins itself, the main
 *     thread included, restricts nothing.
 *   - Only the test hook px__placement_test_use_synthetic swaps the machine,
 *     and only while no other thread uses placement.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_ALLOC */
#include "placement.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <hwloc/glibc-sched.h>
#include <hwloc/linux.h>
#endif

#include "atomic.h"
#include "error.h"
#include "pinexec.h"

/* A loaded topology and the allowed set derived from it. */
struct machine {
    hwloc_topology_t topo;
    hwloc_bitmap_t allowed;
};

/* The real machine: written once inside real_once, read-only afterwards
 * (pthread_once orders the writes before every return from it). */
static struct machine real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;
static int real_err;       /* negative errno when the load failed */
static char real_msg[200]; /* ...and why */

#ifdef PX_TEST_HOOKS
/* A synthetic machine installed by a test; NULL normally. */
static _Atomic(struct machine *) synthetic;
/* Negative errno the next binding returns instead of asking the OS; 0: none. */
static _Atomic int fail_next_bind;
#endif

/* ---- the affinity at load time ------------------------------------------ */

#ifdef __linux__
static cpu_set_t load_affinity_small;
static cpu_set_t *load_affinity; /* NULL: could not be read */
static size_t load_affinity_size;

/*
 * Capture the process's affinity when the library is loaded. It runs before
 * main() (or inside dlopen), before the application had a chance to pin the
 * main thread, and at priority 101 so before the library's other
 * constructors. It is one syscall: the topology is loaded on first use only.
 * Kernels built for more CPUs than cpu_set_t holds reject the small mask
 * with EINVAL; grow it then.
 */
__attribute__((constructor(101))) static void capture_load_affinity(void)
{
    int saved = errno;
    if (sched_getaffinity(0, sizeof load_affinity_small, &load_affinity_small) == 0) {
        load_affinity = &load_affinity_small;
        load_affinity_size = sizeof load_affinity_small;
    } else {
        for (int n = 2 * CPU_SETSIZE; errno == EINVAL && n <= (1 << 22); n *= 2) {
            cpu_set_t *s = CPU_ALLOC(n);
            if (s == NULL) break;
            if (sched_getaffinity(0, CPU_ALLOC_SIZE(n), s) == 0) {
                load_affinity = s; /* kept for the life of the process */
                load_affinity_size = CPU_ALLOC_SIZE(n);
                break;
            }
            int e = errno;
            CPU_FREE(s);
            errno = e;
        }
    }
    errno = saved;
}

/* The captured affinity as an hwloc bitmap: 1, 0 when it is unknown, -1 out of memory. */
static int load_affinity_bitmap(hwloc_topology_t topo, hwloc_bitmap_t out)
{
    if (load_affinity == NULL) return 0;
    hwloc_cpuset_from_glibc_sched_affinity(topo, out, load_affinity, load_affinity_size);
    return 1;
}
#else
/* Other systems: no load-time capture; the allowed set is hwloc's. */
static int load_affinity_bitmap(hwloc_topology_t topo, hwloc_bitmap_t out)
{
    (void)topo;
    (void)out;
    return 0;
}
#endif

/* ---- loading ------------------------------------------------------------ */

static void machine_destroy(struct machine *m)
{
    if (m->allowed) hwloc_bitmap_free(m->allowed);
    if (m->topo) hwloc_topology_destroy(m->topo);
    m->allowed = NULL;
    m->topo = NULL;
}

/*
 * Load a topology into m: the real machine (desc NULL) or an hwloc synthetic
 * description, whose allowed PUs are allowed_list (NULL: all of them).
 * Returns 0, or a negative errno with the reason in msg.
 */
static int machine_load(struct machine *m, const char *desc, const char *allowed_list, char *msg,
                        size_t msglen)
{
    int err = 0;
    hwloc_bitmap_t aff = NULL;
    m->topo = NULL;
    m->allowed = NULL;
    if (hwloc_topology_init(&m->topo) != 0) {
        m->topo = NULL;
        snprintf(msg, msglen, "hwloc could not initialise a topology: %s", px_strerror(errno));
        return -ENOMEM;
    }
    /* Keep disallowed objects so that logical indexes count the whole machine:
     * "core:1" names the same core under any taskset or cgroup restriction. */
    hwloc_topology_set_flags(m->topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    if (desc && hwloc_topology_set_synthetic(m->topo, desc) != 0) {
        snprintf(msg, msglen, "\"%.80s\" is not an hwloc synthetic topology", desc);
        err = -EINVAL;
        goto fail;
    }
    if (hwloc_topology_load(m->topo) != 0) {
        err = errno ? -errno : -ENOMEM;
        snprintf(msg, msglen, "hwloc could not load the machine's topology: %s", px_strerror(err));
        goto fail;
    }
    if (desc && allowed_list) {
        hwloc_bitmap_t a = hwloc_bitmap_alloc();
        int r = a ? hwloc_bitmap_list_sscanf(a, allowed_list) : -1;
        if (r == 0) r = hwloc_topology_allow(m->topo, a, NULL, HWLOC_ALLOW_FLAG_CUSTOM);
        if (a) hwloc_bitmap_free(a);
        if (r != 0) {
            snprintf(msg, msglen, "cannot allow \"%.80s\" in the synthetic topology", allowed_list);
            err = -EINVAL;
            goto fail;
        }
    }

    m->allowed = hwloc_bitmap_alloc();
    aff = hwloc_bitmap_alloc();
    if (!m->allowed || !aff ||
        hwloc_bitmap_and(m->allowed, hwloc_topology_get_allowed_cpuset(m->topo),
                         hwloc_topology_get_topology_cpuset(m->topo)) != 0) {
        snprintf(msg, msglen, "out of memory while loading the topology");
        err = -ENOMEM;
        goto fail;
    }
    /* The load-time affinity describes this machine only, not an XML or
     * synthetic one. If it shares nothing with hwloc's allowed set (it cannot,
     * unless the cgroup changed since), hwloc's set alone is the better answer
     * than an empty one that makes every spec fail. */
    if (!desc && hwloc_topology_is_thissystem(m->topo) && load_affinity_bitmap(m->topo, aff) > 0 &&
        hwloc_bitmap_intersects(aff, m->allowed)) {
        if (hwloc_bitmap_and(m->allowed, m->allowed, aff) != 0) {
            snprintf(msg, msglen, "out of memory while loading the topology");
            err = -ENOMEM;
            goto fail;
        }
    }
    hwloc_bitmap_free(aff);
    return 0;

fail:
    if (aff) hwloc_bitmap_free(aff);
    machine_destroy(m);
    return err;
}

static void load_real(void)
{
    real_err = machine_load(&real, NULL, NULL, real_msg, sizeof real_msg);
}

/* The real machine, loaded on first use. Returns 0 or the load's negative
 * errno (px_last_error set). */
static int real_machine(const struct machine **out)
{
    pthread_once(&real_once, load_real);
    if (real_err) return px__fail(real_err, "%s", real_msg);
    *out = &real;
    return 0;
}

/* The machine placement works on: a test's synthetic one, or the real one. */
static int current_machine(const struct machine **out)
{
#ifdef PX_TEST_HOOKS
    /* Pairs with the exchange in px__placement_test_use_synthetic, which
     * publishes a fully loaded machine. */
    struct machine *m = px__load_acquire(&synthetic);
    if (PX_UNLIKELY(m != NULL)) {
        *out = m;
        return 0;
    }
#endif
    return real_machine(out);
}

int px__placement_load(void)
{
    const struct machine *m;
    return current_machine(&m);
}

hwloc_topology_t px__topology(void)
{
    const struct machine *m;
    return current_machine(&m) == 0 ? m->topo : NULL;
}

hwloc_const_bitmap_t px__allowed_cpuset(void)
{
    const struct machine *m;
    return current_machine(&m) == 0 ? m->allowed : NULL;
}

/* ---- text --------------------------------------------------------------- */

const char *px__cpuset_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    if (len == 0) return "";
    int n = hwloc_bitmap_list_snprintf(buf, len, set);
    if (n < 0) {
        snprintf(buf, len, "?");
    } else if ((size_t)n >= len && len > 4) {
        memcpy(buf + len - 4, "...", 4); /* make the cut visible */
    }
    return buf;
}

/* ---- binding ------------------------------------------------------------ */

/*
 * Bind the calling thread with hwloc. ENOSYS (the OS cannot bind threads) is
 * not an error unless PX_PIN_STRICT asks for one: the thread runs unpinned,
 * like hwloc-bind does. The test hook's injected error goes through the same
 * rule.
 */
/*
 * PX_PIN_STRICT: the OS may have narrowed the binding silently (Linux binds to
 * the intersection with the thread's cgroup cpuset when that changed after
 * the allowed set was captured). Read it back and refuse a narrowed one.
 */
static int check_strict_binding(const struct machine *m, hwloc_const_bitmap_t set)
{
    char want[64], got[64];
    hwloc_bitmap_t now = hwloc_bitmap_alloc();
    if (now == NULL) return px__fail(-ENOMEM, "out of memory checking a strict binding");
    int r = 0;
    if (hwloc_get_cpubind(m->topo, now, HWLOC_CPUBIND_THREAD) == 0 &&
        !hwloc_bitmap_isequal(now, set))
        r = px__fail(-EXDEV,
                     "binding to CPUs %s was narrowed by the OS to %s (PX_PIN_STRICT): the "
                     "process's cpuset changed since the library was loaded",
                     px__cpuset_text(set, want, sizeof want),
                     px__cpuset_text(now, got, sizeof got));
    hwloc_bitmap_free(now);
    return r;
}

int px__placement_bind_self(hwloc_const_bitmap_t set, unsigned flags)
{
    char cpus[64];
    if (set == NULL) return px__fail(-EINVAL, "cannot bind a thread: no CPU set");
    if (hwloc_bitmap_iszero(set))
        return px__fail(-EINVAL, "cannot bind a thread to an empty CPU set");
    const struct machine *m;
    int err = current_machine(&m);
    if (err) return err;
#ifdef PX_TEST_HOOKS
    /* One-shot: whichever binding comes next consumes it. seq_cst: a test
     * hook off the hot path; only the value itself travels. */
    err = px__xchg_seq_cst(&fail_next_bind, 0);
#endif
    if (err == 0) {
        if (hwloc_set_cpubind(m->topo, set, HWLOC_CPUBIND_THREAD) == 0) {
            /* A synthetic test machine binds nothing: nothing to read back. */
            if (!(flags & PX_PIN_STRICT) || m != &real) return 0;
            return check_strict_binding(m, set);
        }
        err = errno ? -errno : -EIO; /* hwloc failed without saying why */
    }
    if (err > 0) err = -err;
    if (err == -EINVAL) {
        /* The kernel's EINVAL (sched_setaffinity): no CPU of the set is
         * permitted to this thread now (its cpuset cgroup changed, or CPUs
         * went offline, since the allowed set was captured). The spec itself
         * was valid, so not -EINVAL (a bad spec): -EXDEV, what a spec outside
         * the allowed set gets. */
        return px__fail(-EXDEV,
                        "binding the thread to CPUs %s failed: the OS refused them (EINVAL: none "
                        "is permitted to this thread now; its cpuset changed since the library "
                        "was loaded?)",
                        px__cpuset_text(set, cpus, sizeof cpus));
    }
    if (err == -ENOSYS) {
        if (!(flags & PX_PIN_STRICT)) return 0;
        return px__fail(-ENOSYS,
                        "cannot bind the thread to CPUs %s: the OS does not support "
                        "thread binding (PX_PIN_STRICT)",
                        px__cpuset_text(set, cpus, sizeof cpus));
    }
    return px__fail(err, "binding the thread to CPUs %s failed: %s",
                    px__cpuset_text(set, cpus, sizeof cpus), px_strerror(err));
}

/*
 * Read a thread's binding back from the OS. Always asks the real machine's
 * hwloc (a synthetic test topology describes no OS thread). Linux only: other
 * systems have no per-tid query and report -ENOSYS.
 */
int px__placement_thread_cpus(long tid, char *buf, size_t len)
{
    if (buf == NULL) return px__fail(-EINVAL, "no buffer for the CPU list of thread %ld", tid);
    if (len > 0) buf[0] = '\0';
    if (tid < 0 || tid > INT_MAX) return px__fail(-EINVAL, "%ld is not a thread id", tid);
#ifdef __linux__
    const struct machine *m;
    int err = real_machine(&m);
    if (err) return err;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return px__fail(-ENOMEM, "out of memory reading the CPUs of thread %ld", tid);
    if (hwloc_linux_get_tid_cpubind(m->topo, (pid_t)tid, set) != 0) {
        err = errno ? -errno : -EIO; /* not -EINVAL: the arguments were valid */
        hwloc_bitmap_free(set);
        return px__fail(err, "cannot read the CPU binding of thread %ld: %s", tid,
                        px_strerror(err));
    }
    int n = hwloc_bitmap_list_snprintf(buf, len, set);
    hwloc_bitmap_free(set);
    if (n < 0) return px__fail(-ENOMEM, "cannot format the CPUs of thread %ld", tid);
    if ((size_t)n >= len)
        return px__fail(-ERANGE, "the CPU list of thread %ld needs %d bytes, the buffer has %zu",
                        tid, n + 1, len);
    return 0;
#else
    return px__fail(-ENOSYS, "reading the CPU binding of thread %ld is not supported on this OS",
                    tid);
#endif
}

/* ---- summary ------------------------------------------------------------ */

/* "<n> <what>" with an English plural. */
static int count_text(char *buf, size_t len, hwloc_topology_t topo, hwloc_obj_type_t type,
                      const char *what)
{
    int n = hwloc_get_nbobjs_by_type(topo, type);
    if (n < 0) n = 0; /* several depths: only Groups, never asked here */
    return snprintf(buf, len, "%d %s%s", n, what, n == 1 ? "" : "s");
}

/*
 * One line: object counts, the machine's PUs and the allowed set. The sets are
 * formatted in full (asprintf) so a long list never shows as a silently cut
 * one; a too-short buf gets -ERANGE and a truncated line.
 */
int px__placement_describe(char *buf, size_t len)
{
    if (buf == NULL) return px__fail(-EINVAL, "no buffer for the topology summary");
    if (len > 0) buf[0] = '\0';
    const struct machine *m;
    int err = current_machine(&m);
    if (err) return err;
    char pkg[32], numa[32], l3[32], core[32], pu[32];
    count_text(pkg, sizeof pkg, m->topo, HWLOC_OBJ_PACKAGE, "package");
    count_text(numa, sizeof numa, m->topo, HWLOC_OBJ_NUMANODE, "NUMA node");
    count_text(l3, sizeof l3, m->topo, HWLOC_OBJ_L3CACHE, "L3 cache");
    count_text(core, sizeof core, m->topo, HWLOC_OBJ_CORE, "core");
    count_text(pu, sizeof pu, m->topo, HWLOC_OBJ_PU, "PU");
    char *all = NULL, *allowed = NULL;
    if (hwloc_bitmap_list_asprintf(&all, hwloc_topology_get_topology_cpuset(m->topo)) < 0 ||
        hwloc_bitmap_list_asprintf(&allowed, m->allowed) < 0) {
        free(all);
        return px__fail(-ENOMEM, "out of memory for the topology summary");
    }
    int n = snprintf(buf, len, "machine: %s, %s, %s, %s, %s (OS indexes %s); allowed set %s", pkg,
                     numa, l3, core, pu, all, allowed);
    free(all);
    free(allowed);
    if (n < 0) return px__fail(-EINVAL, "cannot format the topology summary");
    if ((size_t)n >= len)
        return px__fail(-ERANGE, "the topology summary needs %d bytes, the buffer has %zu", n + 1,
                        len);
    return 0;
}

/* ---- test hooks --------------------------------------------------------- */

#ifdef PX_TEST_HOOKS
void px__placement_test_fail_bind(int err)
{
    px__store_seq_cst(&fail_next_bind, err > 0 ? -err : err); /* see px__placement_bind_self */
}

/*
 * Replace the machine with an hwloc synthetic one (desc), whose allowed set is
 * allowed_list (NULL: all its PUs); desc NULL goes back to the real machine.
 * The previous synthetic machine is destroyed, so no other thread may be
 * using placement meanwhile. Binding on a synthetic machine succeeds and does
 * nothing (hwloc's synthetic backend has empty binding hooks).
 */
int px__placement_test_use_synthetic(const char *desc, const char *allowed_list)
{
    struct machine *m = NULL;
    if (desc) {
        char msg[200];
        m = calloc(1, sizeof *m);
        if (m == NULL) return px__fail(-ENOMEM, "out of memory for a synthetic topology");
        int err = machine_load(m, desc, allowed_list, msg, sizeof msg);
        if (err) {
            free(m);
            return px__fail(err, "%s", msg);
        }
    }
    /* Release: publishes the loaded machine to current_machine's acquire load. */
    struct machine *old = px__xchg_acq_rel(&synthetic, m);
    if (old) {
        machine_destroy(old);
        free(old);
    }
    return 0;
}
#endif
