/*
 * Allocation counting (alloc_count.h): per-thread counters, fed by malloc &
 * co. interposed in the program (plain glibc builds), or by a sanitizer's
 * malloc/free hooks and, with PX_ALLOC_COUNT_WRAP, link-time wrappers
 * (ASan, TSan builds). The heap stays glibc's or the sanitizer's: nothing
 * but the counting changes.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc_count.h"

#if defined(PX_SANITIZE_THREAD) || defined(PX_SANITIZE_ADDRESS) || \
    defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define USE_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define USE_HOOKS 1
#endif
#endif
#if !defined(USE_HOOKS) && defined(__GLIBC__)
#define USE_INTERPOSE 1 /* the __libc_* entry points are glibc's */
#endif

#define SLOTS 256

/* One thread's counters, on a cache line of its own. */
typedef struct slot {
    alignas(64) _Atomic uint64_t allocs;
    _Atomic uint64_t frees;
    _Atomic uint64_t bytes;
} slot_t;

/* slots[SLOTS] is shared by the threads that came after the others were
 * taken: updated with atomic adds. */
static slot_t slots[SLOTS + 1];
static _Atomic unsigned slots_used;
static _Atomic int counting;

/* ---- the counted path ---------------------------------------------------- */

#if defined(USE_HOOKS) || defined(USE_INTERPOSE)

static __thread slot_t *my_slot;

/* The calling thread's slot while counting is on, else NULL. */
static inline slot_t *counting_slot(void)
{
    /* Acquire pairs with the seq_cst store of counting in
     * pxb_alloc_count_start: a thread that counts sees its slot zeroed (a
     * plain load on x86). */
    if (__builtin_expect(!atomic_load_explicit(&counting, memory_order_acquire), 1)) return NULL;
    slot_t *s = my_slot;
    if (s == NULL) {
        /* Relaxed: only hands out distinct slot numbers. */
        unsigned i = atomic_fetch_add_explicit(&slots_used, 1, memory_order_relaxed);
        s = my_slot = &slots[i < SLOTS ? i : SLOTS];
    }
    return s;
}

static inline void add(slot_t *s, _Atomic uint64_t *c, uint64_t v)
{
    if (s == &slots[SLOTS]) {
        /* Relaxed: a counter, read after the stop. */
        atomic_fetch_add_explicit(c, v, memory_order_relaxed);
    } else {
        /* Relaxed: this thread is the slot's only writer (load + store is an
         * exact increment); the reader sums after the stop. */
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                              memory_order_relaxed);
    }
}

static void count_alloc(size_t size)
{
    slot_t *s = counting_slot();
    if (s == NULL) return;
    add(s, &s->allocs, 1);
    add(s, &s->bytes, size);
}

static void count_free(const volatile void *p)
{
    if (p == NULL) return;
    slot_t *s = counting_slot();
    if (s != NULL) add(s, &s->frees, 1);
}

#if defined(USE_INTERPOSE) || defined(PX_ALLOC_COUNT_WRAP)
/* What a call of calloc or realloc counts, in whichever entry point. */
static inline void count_calloc(size_t n, size_t size)
{
    size_t total;
    count_alloc(__builtin_mul_overflow(n, size, &total) ? 0 : total);
}

static inline void count_realloc(const void *p, size_t size)
{
    if (size == 0 && p != NULL) count_free(p); /* realloc(p, 0) frees */
    else count_alloc(size);
}
#endif

#endif

/* ---- control ------------------------------------------------------------- */

void pxb_alloc_count_start(void)
{
    for (unsigned i = 0; i <= SLOTS; i++) {
        /* Relaxed: published by the seq_cst store of counting below. */
        atomic_store_explicit(&slots[i].allocs, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].frees, 0, memory_order_relaxed);
        atomic_store_explicit(&slots[i].bytes, 0, memory_order_relaxed);
    }
    /* seq_cst (a release suffices) pairs with the acquire load in
     * counting_slot(): the zeroing happens before any counted allocation. */
    atomic_store_explicit(&counting, 1, memory_order_seq_cst);
}

void pxb_alloc_count_stop(pxb_alloc_counts_t *out)
{
    /* seq_cst pairs with the acquire load in counting_slot(). */
    atomic_store_explicit(&counting, 0, memory_order_seq_cst);
    pxb_alloc_counts_t sum = {0, 0, 0};
    for (unsigned i = 0; i <= SLOTS; i++) {
        /* Relaxed: the counted threads' allocations happen before the
         * caller's last synchronisation with them (alloc_count.h). */
        sum.allocs += atomic_load_explicit(&slots[i].allocs, memory_order_relaxed);
        sum.frees += atomic_load_explicit(&slots[i].frees, memory_order_relaxed);
        sum.bytes += atomic_load_explicit(&slots[i].bytes, memory_order_relaxed);
    }
    *out = sum;
}

/* ---- under a sanitizer: its hooks, and link-time wrappers ---------------- */

#if defined(USE_HOOKS)

int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    count_alloc(n);
}

static void on_free(const volatile void *p) { count_free(p); }

#ifdef PX_ALLOC_COUNT_WRAP
#define HOOKED_COVERAGE PXB_ALLOC_COUNT_EVERY
#else
#define HOOKED_COVERAGE PXB_ALLOC_COUNT_HOOKS
#endif

/* 0 before the first init, 1 hooks installed, -1 refused. */
static _Atomic int hooks_state;

pxb_alloc_coverage_t pxb_alloc_count_coverage(void) { return HOOKED_COVERAGE; }

pxb_alloc_coverage_t pxb_alloc_count_init(void)
{
    /* Relaxed: init runs on one thread before counting starts (alloc_count.h). */
    int s = atomic_load_explicit(&hooks_state, memory_order_relaxed);
    if (s == 0) {
        s = __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0 ? 1 : -1;
        atomic_store_explicit(&hooks_state, s, memory_order_relaxed);
    }
    return s > 0 ? HOOKED_COVERAGE : PXB_ALLOC_COUNT_NONE;
}

#ifdef PX_ALLOC_COUNT_WRAP
/* -Wl,--wrap=malloc: the references of this program (and of the static
 * pinexec_internal linked into it) land here; __real_* is the sanitizer's. */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_memalign(size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
void *__wrap_memalign(size_t align, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
int __wrap_posix_memalign(void **out, size_t align, size_t size);

void *__wrap_malloc(size_t size)
{
    count_alloc(size);
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    count_calloc(n, size);
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    count_realloc(p, size);
    return __real_realloc(p, size);
}

void __wrap_free(void *p)
{
    count_free(p);
    __real_free(p);
}

void *__wrap_memalign(size_t align, size_t size)
{
    count_alloc(size);
    return __real_memalign(align, size);
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    count_alloc(size);
    return __real_aligned_alloc(align, size);
}

int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
    count_alloc(size);
    return __real_posix_memalign(out, align, size);
}
#endif /* PX_ALLOC_COUNT_WRAP */

/* ---- a plain glibc build: the interposed allocator ----------------------- */

#elif defined(USE_INTERPOSE)

pxb_alloc_coverage_t pxb_alloc_count_coverage(void) { return PXB_ALLOC_COUNT_EVERY; }
pxb_alloc_coverage_t pxb_alloc_count_init(void) { return PXB_ALLOC_COUNT_EVERY; }

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

void *malloc(size_t size)
{
    count_alloc(size);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    count_calloc(n, size);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    count_realloc(p, size);
    return __libc_realloc(p, size);
}

void free(void *p)
{
    count_free(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t size)
{
    count_alloc(size);
    return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    count_alloc(size);
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
    count_alloc(size);
    void *p = __libc_memalign(align, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    count_alloc(size);
    return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
    count_alloc(size);
    return __libc_pvalloc(size);
}

/* ---- elsewhere: nothing is counted --------------------------------------- */

#else

pxb_alloc_coverage_t pxb_alloc_count_coverage(void) { return PXB_ALLOC_COUNT_NONE; }
pxb_alloc_coverage_t pxb_alloc_count_init(void) { return PXB_ALLOC_COUNT_NONE; }

#endif
