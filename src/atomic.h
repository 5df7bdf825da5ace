/*
 * Atomic wrappers whose names carry their memory order, so that
 * `grep -n acquire src/` lists every ordered access (after mimalloc's atomic.h).
 * Every use site names its pairing access, or says why relaxed is enough.
 */
#ifndef PX_ATOMIC_H
#define PX_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define px__load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define px__load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define px__load_seq_cst(p) atomic_load_explicit((p), memory_order_seq_cst)

#define px__store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define px__store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define px__store_seq_cst(p, v) atomic_store_explicit((p), (v), memory_order_seq_cst)

#define px__xchg_seq_cst(p, v) atomic_exchange_explicit((p), (v), memory_order_seq_cst)
#define px__xchg_acq_rel(p, v) atomic_exchange_explicit((p), (v), memory_order_acq_rel)

#define px__fetch_add_relaxed(p, v) atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define px__fetch_add_seq_cst(p, v) atomic_fetch_add_explicit((p), (v), memory_order_seq_cst)
#define px__fetch_sub_release(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_release)
#define px__fetch_sub_seq_cst(p, v) atomic_fetch_sub_explicit((p), (v), memory_order_seq_cst)
#define px__fetch_or_seq_cst(p, v) atomic_fetch_or_explicit((p), (v), memory_order_seq_cst)

/* Weak CAS; *expected is updated on failure. */
#define px__cas_relaxed(p, expected, desired)                                               \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired), memory_order_relaxed, \
                                          memory_order_relaxed)
#define px__cas_seq_cst(p, expected, desired)                                                 \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired), memory_order_seq_cst, \
                                            memory_order_seq_cst)

#define px__fence_seq_cst() atomic_thread_fence(memory_order_seq_cst)
#define px__fence_acquire() atomic_thread_fence(memory_order_acquire)

/*
 * Single-writer counter bump: the owning thread is the only writer, so a
 * relaxed load + relaxed store is an exact increment without a locked
 * instruction; readers on other threads only need an untorn value.
 */
#define px__counter_bump(p, v) px__store_relaxed((p), px__load_relaxed(p) + (v))

#define PX_LIKELY(x) __builtin_expect(!!(x), 1)
#define PX_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PX_CACHE_LINE 64

#endif /* PX_ATOMIC_H */
