/*
 * Placement: the hwloc topology (loaded once per process), the process's
 * allowed CPU set (captured when the library is loaded), spec resolution and
 * thread binding. Only this module and the tools include hwloc.h.
 */
#ifndef PX_PLACEMENT_H
#define PX_PLACEMENT_H

#include <hwloc.h>
#include <stddef.h>

/* The process-wide topology, loaded on first use (thread-safe), with
 * HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED so logical indexes count every object
 * of the machine. NULL (and px_last_error set) if hwloc cannot load it. */
hwloc_topology_t px__topology(void);

/* The process's allowed set: the affinity the process had when the library was
 * loaded, intersected with hwloc's allowed cpuset (cgroup cpuset). Read-only. */
hwloc_const_bitmap_t px__allowed_cpuset(void);

/*
 * Resolve a placement spec into a cpuset narrowed to the allowed set.
 * spec NULL or "": the whole allowed set. flags: PX_PIN_STRICT.
 * Returns 0; -EINVAL (unparsable, unknown object or OS index: the message says
 * what this machine has); -EXDEV (all outside the allowed set, or partly with
 * PX_PIN_STRICT: the message names both sets); -ENOMEM. Sets px_last_error.
 */
int px__placement_resolve(const char *spec, unsigned flags, hwloc_bitmap_t out);

/*
 * Bind the calling thread to set. Binding unsupported by the OS (ENOSYS): 0
 * (runs unpinned) or -ENOSYS with PX_PIN_STRICT; the kernel's EINVAL (no CPU
 * of set permitted to the thread now): -EXDEV, never a bad spec's -EINVAL;
 * other refusals: the kernel's -errno (-EPERM, ...), -EIO when hwloc gives
 * none. Sets px_last_error on failure.
 */
int px__placement_bind_self(hwloc_const_bitmap_t set, unsigned flags);

/* Write the CPUs OS thread tid is bound to, hwloc list format. 0, -ERANGE
 * (truncated into buf when len > 0), or another -errno. */
int px__placement_thread_cpus(long tid, char *buf, size_t len);

/* Internal test hooks (fault injection): when set, the next binding returns
 * this negative errno as if the OS had refused it (-ENOSYS, -EINVAL, ...). */
void px__placement_test_fail_bind(int err);

/* Load the topology now if it is not yet loaded. 0, or the negative errno of
 * the failed load (px_last_error says why). */
int px__placement_load(void);

/* A one-line summary of the machine ("machine: 1 package, 1 NUMA node, 1 L3
 * cache, 2 cores, 2 PUs (OS indexes 0-1); allowed set 0-1"). 0; -ERANGE
 * (truncated into buf when len > 0); -EINVAL buf is NULL; a load error. */
int px__placement_describe(char *buf, size_t len);

/* set in hwloc list format into buf, cut with "..." when it does not fit;
 * returns buf. For error messages. */
const char *px__cpuset_text(hwloc_const_bitmap_t set, char *buf, size_t len);

/* Internal test hook (PX_TEST_HOOKS builds): use the hwloc synthetic topology
 * desc ("package:2 [numa] core:2 pu:2") with allowed PUs allowed_list (NULL:
 * all) instead of the machine; desc NULL restores the machine. No other thread
 * may use placement meanwhile. 0 or -EINVAL/-ENOMEM. */
int px__placement_test_use_synthetic(const char *desc, const char *allowed_list);

#endif
