/* Serving: taking items off the ring and running them on the owner thread. */
#include "executor.h"

/*
 * Posters sleep for space only when the ring was full. Waking them after every
 * freed cell costs a futex syscall per item while they get back on a CPU, so
 * the per-item check wakes once per space_batch freed cells (relaxed load: a
 * missed increment only delays). Every place where the owner stops taking
 * items (end of a batch, px__run_one, px__park) re-checks after a seq_cst
 * fence and wakes whatever the count, so no wake-up is lost; that fence pairs
 * with the one in px__space_wait.
 */
static inline void space_check(struct px_thread *t)
{
    if (PX_LIKELY(px__load_relaxed(&t->space_waiters) == 0)) return;
    if (++t->space_freed < t->space_batch) return;
    t->space_freed = 0;
    px__wake_space_waiters(t);
}

void px__space_check_fenced(struct px_thread *t)
{
    px__fence_seq_cst();
    if (px__load_relaxed(&t->space_waiters) == 0) return;
    t->space_freed = 0;
    px__wake_space_waiters(t);
}

static inline void run_item(struct px_thread *t, const px__item_t *it)
{
    if (it->req == 0) {
        ((px_fn)it->fn)(it->arg);
        px__counter_bump(&t->posts, 1);
        return;
    }
    px__reply_t *r = (px__reply_t *)(it->req & ~PX__REQ_WANTS_RESULT);
    void *result = NULL;
    if (it->req & PX__REQ_WANTS_RESULT) result = ((px_fn_v)it->fn)(it->arg);
    else ((px_fn)it->fn)(it->arg);
    px__counter_bump(&t->calls, 1); /* before completing: the caller may read stats next */
    px__complete(r, result);
}

/* Used inside waits, one item at a time: the owner may go back to its own
 * code right after, so the space check is the fenced one. */
bool px__run_one(struct px_thread *self)
{
    px__item_t it;
    if (PX_UNLIKELY(px__check_alive(self)) || !px__ring_pop(self, &it)) return false;
    px__space_check_fenced(self);
    run_item(self, &it);
    return true;
}

/*
 * max_depth: the queue depth (counting the item just taken) can only exceed
 * the high-water mark if the cell max_depth places ahead is published, so
 * only then is the producers' tail read. Once the mark is up, streaming costs
 * one look at a cell the consumer reads later anyway.
 */
static inline void sample_depth(struct px_thread *t)
{
    /* Relaxed: a statistic written by the owner only. */
    uint32_t max = px__load_relaxed(&t->max_depth);
    uint64_t h = px__load_relaxed(&t->head); /* relaxed: the owner writes head */
    if (max > t->mask) return;               /* already the whole ring */
    uint64_t probe = h - 1 + max;            /* position max places after the item just taken */
    if (max && px__load_acquire(&t->cells[probe & t->mask].seq) != probe + 1)
        return;                                          /* pairs with px__ring_publish */
    uint64_t depth = px__load_relaxed(&t->tail) - h + 1; /* relaxed: a statistic */
    uint32_t d = depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
    if (d > max) px__store_relaxed(&t->max_depth, d);
}

unsigned px__run_batch(struct px_thread *self, unsigned max)
{
    unsigned n = 0;
    px__item_t it;
    /* The liveness check stops a fork() child (forked by an item) from running
     * the rest of a dead executor's copied ring. */
    while ((max == 0 || n < max) && PX_LIKELY(px__check_alive(self) == 0) &&
           px__ring_pop(self, &it)) {
        sample_depth(self);
        space_check(self);
        run_item(self, &it);
        n++;
    }
    if (n) px__space_check_fenced(self);
    return n;
}
