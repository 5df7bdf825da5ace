/* Serving: taking items off the ring and running them on the owner thread. */
#include "executor.h"

/* Posters sleep for space only when the ring was full; tell them it moved.
 * Relaxed load: a missed increment is caught at the next item or by the
 * fenced check before the owner idles (px__run_batch), so the wake-up is late
 * by at most one item, never lost. */
static inline void space_check(struct px_thread *t)
{
    if (PX_UNLIKELY(px__load_relaxed(&t->space_waiters) != 0)) px__wake_space_waiters(t);
}

static inline void run_item(struct px_thread *t, const px__item_t *it)
{
    if (it->req == 0) {
        ((px_fn)it->fn)(it->arg);
        px__counter_bump(&t->posts, 1);
        return;
    }
    px__req_t *req = (px__req_t *)(it->req & ~PX__REQ_WANTS_RESULT);
    void *result = NULL;
    if (it->req & PX__REQ_WANTS_RESULT) result = ((px_fn_v)it->fn)(it->arg);
    else ((px_fn)it->fn)(it->arg);
    px__counter_bump(&t->calls, 1); /* before completing: the caller may read stats next */
    px__complete(req, result);
}

bool px__run_one(struct px_thread *self)
{
    px__item_t it;
    if (!px__ring_pop(self, &it)) return false;
    space_check(self);
    run_item(self, &it);
    return true;
}

/* Sample the queue depth for max_depth, counting the item just taken (reads
 * the producers' line: only done when another item is already waiting, so a
 * lone call pays nothing). */
static void sample_depth(struct px_thread *t)
{
    /* Relaxed: a statistic; head is ours, tail may be slightly stale. */
    uint64_t depth = px__load_relaxed(&t->tail) - px__load_relaxed(&t->head) + 1;
    uint32_t d = depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
    if (d > px__load_relaxed(&t->max_depth)) px__store_relaxed(&t->max_depth, d);
}

unsigned px__run_batch(struct px_thread *self, unsigned max)
{
    unsigned n = 0;
    px__item_t it;
    while ((max == 0 || n < max) && px__ring_pop(self, &it)) {
        /* Sample at the 0th, 1st, 2nd, 4th, ... and every 64th item of a batch:
         * an item that ran long (a blocked call) is followed by a sample. */
        if ((n & (n - 1)) == 0 || (n & 63) == 0) {
            if (px__ring_ready(self)) sample_depth(self);
            else if (px__load_relaxed(&self->max_depth) == 0) px__store_relaxed(&self->max_depth, 1);
        }
        space_check(self);
        run_item(self, &it);
        n++;
    }
    if (n) {
        /* The fenced re-check that makes space_check's relaxed load safe:
         * seq_cst fence pairs with the seq_cst increment in px__space_wait. */
        px__fence_seq_cst();
        space_check(self);
    }
    return n;
}
