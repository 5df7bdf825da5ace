/*
 * Shared helpers of the placement tests (tests/test_placement_*.c; header-only,
 * so every test stays one source file): resolving a spec and comparing the
 * result or the error (from cmocka tests and from child processes), CPU-list
 * text, and the affinity the process started with.
 *
 * The allowed set is captured when the library loads, so each program reads
 * its start affinity in main() (placement_test_init) before any test.
 */
#ifndef PX_TEST_PLACEMENT_H
#define PX_TEST_PLACEMENT_H

#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "pinexec.h"
#include "placement.h"

#define WHY_LEN 768

/* The CPUs this process started with (its affinity), read by
 * placement_test_init() in main() before any test. */
static int allowed_cpus[CPU_SETSIZE] __attribute__((unused));
static int nallowed __attribute__((unused));

/* 0, or 1 after saying why the start affinity could not be read. */
static inline int placement_test_init(void)
{
    cpu_set_t start_affinity;
    if (sched_getaffinity(0, sizeof start_affinity, &start_affinity) != 0) {
        perror("sched_getaffinity");
        return 1;
    }
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &start_affinity)) allowed_cpus[nallowed++] = i;
    return 0;
}

static inline long my_tid(void) { return (long)syscall(SYS_gettid); }

/* ---- checks usable from cmocka tests and from child processes ----------- */

/* 0 when resolving spec gives exactly the CPU list want; else why. */
static __attribute__((unused)) int try_ok(const char *spec, unsigned flags, const char *want,
                                          char *why, size_t len)
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
static __attribute__((unused)) int try_err(const char *spec, unsigned flags, int want_err,
                                           const char *want_msg, int exact, char *why, size_t len)
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

static inline void list_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    hwloc_bitmap_list_snprintf(buf, len, set);
}

/* The expected result of an object: its CPUs narrowed to the allowed set. */
static inline void narrowed_text(hwloc_const_bitmap_t set, char *buf, size_t len)
{
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_and(s, set, px__allowed_cpuset());
    list_text(s, buf, len);
    hwloc_bitmap_free(s);
}

static inline hwloc_topology_t topo(void)
{
    hwloc_topology_t t = px__topology();
    assert_non_null(t);
    return t;
}

#endif /* PX_TEST_PLACEMENT_H */
