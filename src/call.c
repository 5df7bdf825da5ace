/*
 * The call path: px_call, px_call_v, px_post, px_try_post. Per call: enter
 * the gate, reserve a position, publish the cell, notify, leave the gate,
 * wait. No allocation: a call's request lives in this stack frame.
 */
#include "error.h"
#include "executor.h"

static __thread struct px_thread *tls_self;
static __thread bool tls_known;
extern struct px_thread *px__main_executor;

struct px_thread *px__self(void)
{
    if (PX_LIKELY(tls_known)) return tls_self;
    /* First pinexec call on this thread: the main thread serves the main
     * executor (also when the library was loaded later, by dlopen). */
    tls_known = true;
    if (px__is_main_thread()) tls_self = px__main_executor;
    return tls_self;
}

void px__set_self(struct px_thread *t)
{
    tls_known = true;
    tls_self = t;
}

px_thread_t *px_thread_current(void) { return px__self(); }

static int bad_target(const struct px_thread *t, const void *fn, const char *what)
{
    if (t == NULL) return px__fail(-EINVAL, "%s: executor is NULL", what);
    if (fn == NULL) return px__fail(-EINVAL, "%s: function is NULL", what);
    int r = px__check_alive(t);
    if (r) return px__fail(r, "%s: executor \"%s\" was inherited across fork() and is dead", what, t->name);
    return 0;
}

static int shut(const struct px_thread *t, const char *what)
{
    return px__fail(-ESHUTDOWN, "%s: executor \"%s\" is shut down or shutting down", what, t->name);
}

static int call(struct px_thread *t, px__anyfn fn, void *arg, bool wants, void **result,
                const char *what)
{
    int r = bad_target(t, (const void *)fn, what);
    if (PX_UNLIKELY(r)) return r;
    struct px_thread *self = px__self();
    if (self == t) {
        /* Relaxed: our own executor's gate; a racing close is ordered by the
         * closer's later handshake with this thread, not by this check. */
        if (px__load_relaxed(&t->gate) & PX__GATE_CLOSED) return shut(t, what);
        void *res = NULL;
        if (wants) res = ((px_fn_v)fn)(arg);
        else ((px_fn)fn)(arg);
        px__counter_bump(&t->inline_calls, 1);
        if (result) *result = res;
        return 0;
    }
    if (PX_UNLIKELY(px__gate_enter(t))) return shut(t, what);
    px__req_t req;
    px__store_relaxed(&req.done, PX__REQ_PENDING); /* relaxed: published by the cell */
    req.waiter = self;
    req.result = NULL;
    uint32_t spin = t->wait == PX_WAIT_SLEEP ? 0 : t->spin_ns;
    uint64_t pos;
    if (PX_UNLIKELY(px__ring_reserve(t, &pos))) {
        /* Full: a call never fails for lack of space, it waits for it. */
        if (px__space_wait(t, self, &pos)) {
            px__gate_leave(t);
            return shut(t, what);
        }
    }
    px__ring_publish(t, pos, fn, arg, (uintptr_t)&req | (wants ? PX__REQ_WANTS_RESULT : 0));
    px__notify(t);
    px__gate_leave(t); /* accepted: destroy runs it before freeing t */
    px__call_wait(self, &req, spin);
    if (result) *result = req.result;
    return 0;
}

int px_call(px_thread_t *t, px_fn fn, void *arg)
{
    return call(t, (px__anyfn)fn, arg, false, NULL, "px_call");
}

int px_call_v(px_thread_t *t, px_fn_v fn, void *arg, void **result)
{
    return call(t, (px__anyfn)fn, arg, true, result, "px_call_v");
}

static int post(struct px_thread *t, px_fn fn, void *arg, bool wait, const char *what)
{
    int r = bad_target(t, (const void *)fn, what);
    if (PX_UNLIKELY(r)) return r;
    if (PX_UNLIKELY(px__gate_enter(t))) return shut(t, what);
    uint64_t pos;
    r = px__ring_reserve(t, &pos);
    if (PX_UNLIKELY(r)) {
        struct px_thread *self = px__self();
        if (!wait || self == t) {
            px__gate_leave(t);
            return px__fail(-EAGAIN, "%s: the ring of executor \"%s\" is full (capacity %u)%s",
                            what, t->name, t->capacity,
                            wait ? "; a post to one's own executor never waits" : "");
        }
        if (px__space_wait(t, self, &pos)) {
            px__gate_leave(t);
            return shut(t, what);
        }
    }
    px__ring_publish(t, pos, (px__anyfn)fn, arg, 0);
    px__notify(t);
    px__gate_leave(t);
    return 0;
}

int px_post(px_thread_t *t, px_fn fn, void *arg) { return post(t, fn, arg, true, "px_post"); }

int px_try_post(px_thread_t *t, px_fn fn, void *arg)
{
    return post(t, fn, arg, false, "px_try_post");
}
