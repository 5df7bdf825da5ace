/*
 * The executor: its layout, the call ring and the cross-file internals of the
 * core (lifecycle, call path, wait protocol, serving). See docs/design.md.
 */
#ifndef PX_EXECUTOR_H
#define PX_EXECUTOR_H

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "pinexec.h"
#include "platform.h"

/* What drives an executor. */
enum px__kind {
    PX__CREATED = 0, /* its own thread, made by px_thread_create */
    PX__ATTACHED,    /* an existing thread, by px_thread_attach */
    PX__MAIN         /* the process main thread */
};

/* px_thread.state: where the executor's serving thread is. */
enum {
    PX__RUNNING = 0, /* running work, or spinning for it: producers need not wake it */
    PX__PARKED = 1,  /* asleep in px__futex_wait on state (or about to be) */
    PX__AWAY = 2     /* driven executor: the owner is in its own code; wake by hook/fd */
};

/*
 * px__reply.word: generation (upper 30 bits, step PX__REPLY_GEN) | state.
 * Between calls the state bits are 0; a call completes when the generation
 * has moved past the one the caller read and the state bits are 0 again.
 */
enum {
    PX__REPLY_SPIN = 0,    /* the caller spins (or no call is pending) */
    PX__REPLY_WAITING = 1, /* the caller went (or is going) to sleep */
    PX__REPLY_STATE = 3    /* mask of the state bits */
};
#define PX__REPLY_GEN 4u

/* px_thread.gate: users * PX__GATE_USER | PX__GATE_CLOSED. */
#define PX__GATE_CLOSED 1u
#define PX__GATE_USER 2u

/* Bit 0 of a cell's req word: the call wants fn's result (px_call_v). */
#define PX__REQ_WANTS_RESULT ((uintptr_t)1)

typedef void (*px__anyfn)(void);

/*
 * Where a synchronous call's completion lands: one cache line per calling
 * thread and nesting depth (thread-local, see px__reply_begin), so the caller
 * writes nothing to it on the fast path. The executor writes result and bumps
 * the generation; the caller polls word; nothing else shares the line.
 */
typedef struct px__reply {
    alignas(PX_CACHE_LINE) _Atomic uint32_t word;
    struct px_thread *waiter; /* the caller's own executor or NULL; written before WAITING */
    void *result;
} px__reply_t;

/*
 * One ring cell (32 bytes, two per cache line). seq is the position it holds
 * plus one once published; a cell is free for position p when head > p - capacity.
 */
typedef struct px__cell {
    _Atomic uint64_t seq;
    px__anyfn fn;
    void *arg;
    uintptr_t req; /* px__reply_t * | PX__REQ_WANTS_RESULT, or 0 for a post */
} px__cell_t;

struct px_thread {
    /* ---- written by every producer: reservation and the destroy gate ---- */
    alignas(PX_CACHE_LINE) _Atomic uint64_t tail; /* next position to reserve */
    _Atomic uint64_t head_cache;                  /* a recent value of head */
    _Atomic uint64_t gate;                        /* API users in flight | CLOSED */

    /* ---- read-mostly after creation ---- */
    alignas(PX_CACHE_LINE) px__cell_t *cells;
    uint64_t mask; /* capacity - 1 */
    uint32_t capacity;
    uint32_t spin_ns;  /* idle spin budget (executor and its callers) */
    uint8_t kind;      /* enum px__kind */
    uint8_t wait;      /* px_wait_t */
    uint64_t fork_gen; /* px__fork_gen at creation; differs in a fork() child */
    long tid;
    px__os_thread_t os;
    const char *name;

    /* ---- park/unpark state: written when the owner parks and by wakers ---- */
    alignas(PX_CACHE_LINE) _Atomic uint32_t state; /* PX__RUNNING / PARKED / AWAY */
    _Atomic uint32_t armed;                        /* driven: the wake hook / fd may fire once */
    _Atomic uint32_t notifying; /* driven: producers inside px__notify_away (hook calls) */
    _Atomic uint32_t space_seq; /* eventcount for posters waiting for space */
    _Atomic uint32_t space_waiters;
    _Atomic uint32_t hook_seq; /* seqlock over hook + hook_ctx */
    _Atomic(void (*)(void *)) hook;
    _Atomic(void *) hook_ctx;
    _Atomic int fd; /* driven: readiness fd, -1 until px_thread_fd */
    _Atomic uint64_t wakes;
    _Atomic(px__reply_t *) stop_req; /* set by px_thread_destroy: finish and complete it */

    /* ---- the consumer (serving thread) ---- */
    alignas(PX_CACHE_LINE) _Atomic uint64_t head; /* next position to run */
    _Atomic uint64_t calls, inline_calls, posts, parks;
    _Atomic uint32_t max_depth;
    uint32_t space_freed; /* cells freed since posters were last woken (owner only) */
    uint32_t space_batch; /* wake posters once per this many freed cells */

    char name_buf[]; /* name storage */
};

/* Bumped in the child after fork(): executors with another generation are dead. */
extern _Atomic uint64_t px__fork_gen;

/* ---- the ring (MPSC, after D. Vyukov's bounded queue with per-cell sequence
 *      numbers, with the consumer's head published like DPDK's rte_ring so the
 *      consumer never writes a cell) ---- */

/*
 * Reserve the next position. 0 with *pos set, or -EAGAIN when the ring holds
 * capacity items. Capacity is checked before the CAS, so a failed try leaves
 * nothing behind; head only grows, so a "not full" verdict stays true.
 */
static inline int px__ring_reserve(struct px_thread *t, uint64_t *pos)
{
    /* Relaxed: tail only orders producers among themselves via the CAS. */
    uint64_t p = px__load_relaxed(&t->tail);
    for (;;) {
        /* Acquire pairs with the release store of head_cache below (by another
         * producer), which carries that producer's acquire of head. */
        uint64_t h = px__load_acquire(&t->head_cache);
        if (p - h > t->mask) {
            /* Acquire pairs with the release store of head in px__ring_pop: the
             * consumer's reads of the cell we are about to reuse happened before. */
            h = px__load_acquire(&t->head);
            px__store_release(&t->head_cache, h); /* pairs with the acquire load above */
            if (p - h > t->mask) {
                uint64_t now = px__load_relaxed(&t->tail);
                if (now == p) return -EAGAIN;
                p = now; /* stale p: look again */
                continue;
            }
        }
        /* Relaxed: the CAS only hands out positions; the cell's contents are
         * published by the seq_cst exchange in px__ring_publish. */
        if (px__cas_relaxed(&t->tail, &p, p + 1)) {
            *pos = p;
            return 0;
        }
    }
}

/*
 * Fill and publish the cell of a reserved position. The exchange is seq_cst:
 * it releases the cell's contents (pairs with the acquire load of seq in
 * px__ring_pop / px__ring_ready) and it orders the publication before the
 * producer's seq_cst load of state in px__notify (Dekker with px__park).
 */
static inline void px__ring_publish(struct px_thread *t, uint64_t pos, px__anyfn fn, void *arg,
                                    uintptr_t req)
{
    px__cell_t *c = &t->cells[pos & t->mask];
    c->fn = fn;
    c->arg = arg;
    c->req = req;
    px__xchg_seq_cst(&c->seq, pos + 1);
}

/* An item taken from the ring. */
typedef struct px__item {
    px__anyfn fn;
    void *arg;
    uintptr_t req;
} px__item_t;

/* Whether the next position is published. Owner thread only. */
static inline bool px__ring_ready(struct px_thread *t)
{
    /* Relaxed: only the owner thread writes head. */
    uint64_t h = px__load_relaxed(&t->head);
    /* Acquire pairs with the seq_cst exchange in px__ring_publish. */
    return px__load_acquire(&t->cells[h & t->mask].seq) == h + 1;
}

/* Take the next item if it is published. Owner thread only (single consumer). */
static inline bool px__ring_pop(struct px_thread *t, px__item_t *out)
{
    uint64_t h = px__load_relaxed(&t->head); /* relaxed: the owner is the only writer */
    px__cell_t *c = &t->cells[h & t->mask];
    /* Acquire pairs with the seq_cst exchange in px__ring_publish. */
    if (px__load_acquire(&c->seq) != h + 1) return false;
    out->fn = c->fn;
    out->arg = c->arg;
    out->req = c->req;
    /* Release pairs with the acquire loads of head in px__ring_reserve: the
     * reads above happen before a producer refills the cell. The post leaves
     * the ring here, before it runs. */
    px__store_release(&t->head, h + 1);
    return true;
}

/* ---- the calling thread ---- */

/* The executor the calling thread serves (created, attached, or the main
 * executor on the main thread), or NULL. */
struct px_thread *px__self(void);
void px__set_self(struct px_thread *t);
/* fork child: forget the forking thread's executor and calls in progress. */
void px__thread_state_fork_child(void);
/* Whether the calling thread holds t's gate while it waits for space in t's
 * ring (work it runs meanwhile must not destroy t: -EDEADLK). */
bool px__holds_gate_of(const struct px_thread *t);

/* ---- wait protocol (src/wait.c) ---- */

/* After publishing work to t: wake its owner if it sleeps, or fire its hook/fd
 * if it is a driven executor whose owner is away. */
static inline void px__notify(struct px_thread *t);
void px__notify_slow(struct px_thread *t, uint32_t state);

/* Take the calling thread's reply line for one synchronous call (nesting
 * depth + 1), or initialise and take *deep (in the caller's frame) when the
 * thread's lines are all in use; *gen receives its current word.
 * px__reply_end gives it back. */
px__reply_t *px__reply_begin(px__reply_t *deep, uint32_t *gen);
void px__reply_end(void);
/* Wait until the call answering on r (word gen when published) completed.
 * self: the caller's executor or NULL; it keeps serving self's queue.
 * spin_ns: how long to spin before sleeping. */
void px__call_wait(struct px_thread *self, px__reply_t *r, uint32_t gen, uint32_t spin_ns);
/* Complete a synchronous call (executor side). */
void px__complete(px__reply_t *r, void *result);
/* Park the owner of self until woken, work is ready, stop_cond(ctx) holds
 * (re-checked after announcing the park; may be NULL) or timeout_ns passes
 * (negative: no limit). Returns -ETIMEDOUT when the time ran out, else 0. */
int px__park(struct px_thread *self, bool (*stop_cond)(void *), void *ctx, int64_t timeout_ns);
/* Spin for work on self (its owner) up to spin_ns; true when work is ready. */
bool px__spin_for_work(struct px_thread *self, uint32_t spin_ns);
/* Driven executors: mark the owner as waiting inside pinexec (producers wake
 * it directly) and back; returns the state to restore. */
uint32_t px__enter_wait(struct px_thread *self);
void px__leave_wait(struct px_thread *self, uint32_t prev);
/* Driven executor whose owner is away: fire the hook and fd once per arm.
 * px__notify_away is the producers'; px__notify_away_owner the owner's own
 * (px__leave_wait, px_thread_set_wake: it cannot race with itself). */
void px__notify_away(struct px_thread *t);
void px__notify_away_owner(struct px_thread *t);
/* Owner: wait until no producer is inside px__notify_away (after state left
 * AWAY or the hook was replaced, with a seq_cst store or fence before). */
void px__notify_quiesce(struct px_thread *t);
#ifdef PX_TEST_HOOKS
enum { PX__PAUSE_AWAY = 1, PX__PAUSE_HOOK = 2 };
extern void (*px__test_notify_pause)(int point);
#endif
/* Owner: a seq_cst fence, then wake posters waiting for space if there are any. */
void px__space_check_fenced(struct px_thread *t);
/* Posters waiting for ring space: wake them (after head moved or the gate closed). */
void px__wake_space_waiters(struct px_thread *t);
/* Wait until t's ring has space (0, *pos reserved) or t's gate closes
 * (-ESHUTDOWN). self keeps being served. */
int px__space_wait(struct px_thread *t, struct px_thread *self, uint64_t *pos);
/* Wait until no API user is inside t's gate (after it was closed). */
void px__gate_drain(struct px_thread *t, struct px_thread *self);

static inline void px__notify(struct px_thread *t)
{
    /* seq_cst pairs with the seq_cst store of state + fence in px__park: either
     * we see PARKED or the owner's re-check sees our published cell. */
    uint32_t s = px__load_seq_cst(&t->state);
    if (PX_UNLIKELY(s != PX__RUNNING)) px__notify_slow(t, s);
}

/* ---- serving (src/serve.c) ---- */

/* Run one item of self's ring if one is ready. Owner thread only. */
bool px__run_one(struct px_thread *self);
/* Run up to max ready items (0: no limit). Returns the number run. */
unsigned px__run_batch(struct px_thread *self, unsigned max);

/* ---- the gate (src/call.c) ---- */

/* Enter t's gate: 0, or -ESHUTDOWN when t is closing. Either way the caller
 * is inside and must px__gate_leave, after its last access to t (an error
 * message naming t included): the closer frees t once the last user left. */
static inline int px__gate_enter(struct px_thread *t)
{
    /* seq_cst pairs with the fetch_or in px__gate_close: either we see CLOSED or
     * the closer sees us as a user and waits for px__gate_leave. */
    uint64_t g = px__fetch_add_seq_cst(&t->gate, PX__GATE_USER);
    return PX_UNLIKELY(g & PX__GATE_CLOSED) ? -ESHUTDOWN : 0;
}
static inline void px__gate_leave(struct px_thread *t)
{
    /* Release pairs with the acquire loads of gate in px__gate_drain: our last
     * touches of t happen before the closer frees it. */
    px__fetch_sub_release(&t->gate, PX__GATE_USER);
}
/* Close the gate; false when it was closed already. */
bool px__gate_close(struct px_thread *t);

/* ---- lifecycle (src/lifecycle.c) ---- */

/* Allocate and initialise an executor (on the calling thread: first touch puts
 * it on the caller's NUMA node). Returns NULL on ENOMEM. */
struct px_thread *px__executor_alloc(const px_thread_options_t *o, const char *name);
void px__executor_free(struct px_thread *t);
/* Validate options (the part independent of placement). */
int px__options_check(const px_thread_options_t *o);
/* The caller's options (NULL: the defaults), size-versioned (src/abi.h), copied
 * into *o in this library's layout and checked. 0 or -EINVAL (px_last_error
 * set, naming what: "px_thread_create"). */
int px__options_read(const px_thread_options_t *in, px_thread_options_t *o, const char *what);
/* Default spin budget, ns. */
extern const uint32_t px__default_spin_ns;
/* Common guard of every API entry: t non-NULL and alive. */
static inline int px__check_alive(const struct px_thread *t)
{
    /* Relaxed: px__fork_gen is written only in the fork child before any
     * other thread exists there. */
    if (PX_UNLIKELY(t->fork_gen != px__load_relaxed(&px__fork_gen))) return -ESRCH;
    return 0;
}
/* Shut a driven executor down from its owner: close, drain, leave it closed. */
int px__driven_shutdown(struct px_thread *t);

#endif /* PX_EXECUTOR_H */
