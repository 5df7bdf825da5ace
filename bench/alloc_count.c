/*
 * Exact allocation counts for B/op and allocs/op: the pinexec binary defines
 * malloc, calloc, realloc, free, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc itself (an executable's definitions interpose on every
 * shared library's, glib's and libuv's included) and forwards them to glibc's
 * __libc_* entry points, so the heap stays glibc's and nothing else changes.
 *
 * While counting is on, each allocation adds 1 and the bytes requested to the
 * counters of the calling thread (a slot claimed on the thread's first
 * counted allocation; single writer, so no locked instruction and no shared
 * cache line on the counted path). free is forwarded, not counted: Go's
 * allocs/op counts allocations too.
 *
 * Sanitizer builds (ASan, TSan) keep their own allocator: nothing is
 * interposed there and px__bench_alloc_available() says so.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bench.h"

#if defined(PX_SANITIZE_THREAD) || defined(PX_SANITIZE_ADDRESS) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif
#if !defined(__GLIBC__)
#define NO_INTERPOSE 1 /* the __libc_* entry points are glibc's */
#endif

#ifdef NO_INTERPOSE

bool px__bench_alloc_available(void) { return false; }
void px__bench_alloc_start(void) {}
void px__bench_alloc_stop(uint64_t *allocs, uint64_t *bytes)
{
    *allocs = 0;
    *bytes = 0;
}

#else

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

#define SLOTS 256

/* One thread's counters, on a cache line of its own. */
typedef struct slot {
    alignas(64) _Atomic uint64_t allocs;
    _Atomic uint64_t bytes;
} slot_t;

/* slots[SLOTS] is shared by the threads that came after the others were
 * taken: updated with atomic adds. */
static slot_t slots[SLOTS + 1];
static _Atomic unsigned slots_used;
static _Atomic int counting;
static __thread slot_t *my_slot;

static void count(size_t size)
{
    /* Acquire pairs with the seq_cst store of counting in px__bench_alloc_start:
     * a thread that counts sees its slot zeroed (a plain load on x86). */
    if (__builtin_expect(!atomic_load_explicit(&counting, memory_order_acquire), 1)) return;
    slot_t *s = my_slot;
    if (s == NULL) {
        /* Relaxed: only hands out distinct slot numbers. */
        unsigned i = atomic_fetch_add_explicit(&slots_used, 1, memory_order_relaxed);
        s = my_slot = &slots[i < SLOTS ? i : SLOTS];
    }
    if (s == &slots[SLOTS]) {
        /* Relaxed: counters, read after the stop. */
        atomic_fetch_add_explicit(&s->allocs, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->bytes, size, memory_order_relaxed);
    } else {
        /* Relaxed: this thread is the slot's only writer (load + store is an
         * exact increment); the reader sums after the stop. */
        atomic_store_explicit(&s->allocs, atomic_load_explicit(&s->allocs, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        atomic_store_explicit(&s->bytes, atomic_load_explicit(&s->bytes, memory_order_relaxed) + size,
                              memory_order_relaxed);
    }
}

bool px__bench_alloc_available(void) { return true; }

void px__bench_alloc_start(void)
{
    for (unsigned i = 0; i <= SLOTS; i++) {
        /* Relaxed: published by the seq_cst store of counting below. */
        atomic_store_explicit(&slots[i].allocs, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].bytes, 0, memory_order_relaxed);
    }
    /* seq_cst (a release suffices) pairs with the acquire load in count():
     * the zeroing happens before any allocation that is counted. */
    atomic_store_explicit(&counting, 1, memory_order_seq_cst);
}

void px__bench_alloc_stop(uint64_t *allocs, uint64_t *bytes)
{
    /* seq_cst pairs with the acquire load in count(); an allocation racing
     * with the stop lands on either side (it is not in the timed part). */
    atomic_store_explicit(&counting, 0, memory_order_seq_cst);
    uint64_t a = 0, b = 0;
    for (unsigned i = 0; i <= SLOTS; i++) {
        /* Relaxed: the counted threads' allocations in the timed part happen
         * before the case's last synchronisation with this thread. */
        a += atomic_load_explicit(&slots[i].allocs, memory_order_relaxed);
        b += atomic_load_explicit(&slots[i].bytes, memory_order_relaxed);
    }
    *allocs = a;
    *bytes = b;
}

/* ---- the interposed allocator -------------------------------------------- */

void *malloc(size_t size)
{
    count(size);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    size_t total;
    if (!__builtin_mul_overflow(n, size, &total)) count(total);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    if (size != 0 || p == NULL) count(size); /* realloc(p, 0) frees */
    return __libc_realloc(p, size);
}

void free(void *p) { __libc_free(p); }

void *memalign(size_t align, size_t size)
{
    count(size);
    return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    count(size);
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    count(size);
    void *p = __libc_memalign(align, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    count(size);
    return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
    count(size);
    return __libc_pvalloc(size);
}

#endif /* NO_INTERPOSE */
