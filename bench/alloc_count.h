/*
 * Allocation counting, one implementation for the benchmark suite (B/op and
 * allocs/op, bench/harness.c) and the tests that prove pinexec's hot paths
 * allocate nothing (tests/test_alloc.c, tests/test_mainthread.c).
 *
 * How it counts depends on the build (alloc_count.c):
 *   - a plain glibc build defines malloc, calloc, realloc, free,
 *     posix_memalign, aligned_alloc, memalign, valloc and pvalloc in the
 *     program (an executable's definitions interpose on every shared
 *     library's) and forwards them to glibc's __libc_* entry points: every
 *     allocation of the process counts (PXB_ALLOC_COUNT_EVERY);
 *   - under AddressSanitizer or ThreadSanitizer the sanitizer owns the
 *     allocator: pxb_alloc_count_init() hangs the counters on its malloc/free
 *     hooks, which see every malloc, calloc and free of the process
 *     (ThreadSanitizer does not report realloc or the aligned forms there):
 *     PXB_ALLOC_COUNT_HOOKS. A program also linked with -Wl,--wrap=<fn> for
 *     the seven functions above but valloc and pvalloc, and compiled with
 *     PX_ALLOC_COUNT_WRAP (tests/CMakeLists.txt: px_use_alloc_count), counts
 *     every call made by its own objects (the static pinexec_internal
 *     included) through link-time wrappers too: PXB_ALLOC_COUNT_EVERY. An
 *     allocation seen by a wrapper and a hook counts twice;
 *   - elsewhere nothing is counted (PXB_ALLOC_COUNT_NONE).
 *
 * While counting is on, each allocation adds 1 and the bytes requested to the
 * counters of the calling thread, each free of a non-NULL pointer adds 1 to
 * its frees (a slot claimed on the thread's first counted call; one writer
 * per slot, so no locked instruction and no shared cache line on the counted
 * path). pxb_alloc_count_stop() sums the slots.
 */
#ifndef PXB_ALLOC_COUNT_H
#define PXB_ALLOC_COUNT_H

#include <stdint.h>

typedef enum pxb_alloc_coverage {
    PXB_ALLOC_COUNT_NONE = 0, /* nothing is counted */
    PXB_ALLOC_COUNT_HOOKS,    /* a sanitizer's hooks: malloc, calloc, free of the process */
    PXB_ALLOC_COUNT_EVERY,    /* every allocation function (see above) */
} pxb_alloc_coverage_t;

typedef struct pxb_alloc_counts {
    uint64_t allocs; /* calls that allocated (realloc included) */
    uint64_t frees;  /* frees of a non-NULL pointer (realloc(p, 0) included) */
    uint64_t bytes;  /* bytes requested by the allocations */
} pxb_alloc_counts_t;

/* What this build counts once pxb_alloc_count_init() succeeded. No side effect. */
pxb_alloc_coverage_t pxb_alloc_count_coverage(void);

/*
 * Make counting possible: under a sanitizer, install its malloc/free hooks
 * (once; later calls only report). Returns the coverage, or
 * PXB_ALLOC_COUNT_NONE when the hooks could not be installed. Call it on one
 * thread before the first pxb_alloc_count_start().
 */
pxb_alloc_coverage_t pxb_alloc_count_init(void);

/* Zero the counters and count what any thread allocates from now on. */
void pxb_alloc_count_start(void);

/*
 * Stop counting; *out gets what was counted since the start. The counted
 * threads' allocations must happen before this call (they returned from a
 * call to this thread, or released a flag it acquired): an allocation racing
 * with the stop lands on either side of it.
 */
void pxb_alloc_count_stop(pxb_alloc_counts_t *out);

#endif /* PXB_ALLOC_COUNT_H */
