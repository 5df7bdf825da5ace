/*
 * The call path: px_call, px_call_v, px_post, px_try_post. Per call: enter
 * the gate, reserve a position, publish the cell, notify, leave the gate,
 * wait. No allocation: a call's request lives in this stack frame.
 */
#include "error.h"
#include "executor.h"

/* Reply lines per thread: one per nesting depth of synchronous calls (a
 * thread that is an executor runs calls while it waits, and those may call
 * on). Deeper nesting than this uses a line in the caller's stack frame. */
#define REPLY_SLOTS 8
/* Executors whose gate this thread holds while it waits for ring space (a
 * destroy of one of them from work run meanwhile would wait for us). */
#define HELD_GATES 8

/* Everything pinexec keeps per thread, in one block. */
typedef struct thread_state {
    px__reply_t replies[REPLY_SLOTS]; /* zero-initialised: generation 0, state SPIN */
    struct px_thread *self;           /* the executor this thread serves */
    bool known;                       /* self was resolved */
    uint32_t depth;                   /* synchronous calls in progress on this thread */
    uint32_t held;                    /* entries of held_gates in use */
    struct px_thread *held_gates[HELD_GATES];
} thread_state_t;

static __thread thread_state_t tls;
extern struct px_thread *px__main_executor;

/* Resolve the executor a thread serves on its first pinexec call: the main
 * thread serves the main executor (also when the library was loaded later,
 * by dlopen) unless it died with fork(). */
static struct px_thread *resolve_self(thread_state_t *ts)
{
    ts->known = true;
    struct px_thread *m = px__main_executor;
    ts->self = px__is_main_thread() && px__check_alive(m) == 0 ? m : NULL;
    return ts->self;
}

static inline struct px_thread *self_of(thread_state_t *ts)
{
    return PX_LIKELY(ts->known) ? ts->self : resolve_self(ts);
}

struct px_thread *px__self(void) { return self_of(&tls); }

void px__set_self(struct px_thread *t)
{
    tls.known = true;
    tls.self = t;
}

/* fork child: the forking thread is the child's only thread; whatever it
 * served is dead there, its calls in progress will never complete. */
void px__thread_state_fork_child(void)
{
    thread_state_t *ts = &tls;
    ts->known = false;
    ts->self = NULL;
    ts->depth = 0;
    ts->held = 0;
}

static inline px__reply_t *reply_begin(thread_state_t *ts, px__reply_t *deep, uint32_t *gen)
{
    uint32_t d = ts->depth++;
    if (PX_UNLIKELY(d >= REPLY_SLOTS)) { /* nested too deep: the caller's own frame */
        atomic_init(&deep->word, 0);
        *gen = 0;
        return deep;
    }
    /* Relaxed: only this thread and the completer of its previous call on this
     * line wrote it, and that call's completion was acquired before. */
    *gen = px__load_relaxed(&ts->replies[d].word);
    return &ts->replies[d];
}

px__reply_t *px__reply_begin(px__reply_t *deep, uint32_t *gen)
{
    return reply_begin(&tls, deep, gen);
}
void px__reply_end(void) { tls.depth--; }

bool px__holds_gate_of(const struct px_thread *t)
{
    thread_state_t *ts = &tls;
    for (uint32_t i = 0; i < ts->held && i < HELD_GATES; i++)
        if (ts->held_gates[i] == t) return true;
    return false;
}

/* Wait for space in t's ring while holding its gate, recorded for
 * px_thread_destroy's -EDEADLK check (beyond HELD_GATES nested waits the
 * record is incomplete and such a destroy waits like any other). */
static int space_wait(thread_state_t *ts, struct px_thread *t, struct px_thread *self,
                      uint64_t *pos)
{
    uint32_t i = ts->held++;
    if (i < HELD_GATES) ts->held_gates[i] = t;
    int r = px__space_wait(t, self, pos);
    ts->held--;
    return r;
}

px_thread_t *px_thread_current(void) { return px__self(); }

static int bad_target(const struct px_thread *t, const void *fn, const char *what)
{
    if (t == NULL) return px__fail(-EINVAL, "%s: executor is NULL", what);
    if (fn == NULL) return px__fail(-EINVAL, "%s: function is NULL", what);
    int r = px__check_alive(t);
    if (r)
        return px__fail(r, "%s: executor \"%s\" was inherited across fork() and is dead", what,
                        t->name);
    return 0;
}

/* The -ESHUTDOWN answer; called inside the gate (t is alive), leaves it. */
static int shut(struct px_thread *t, const char *what)
{
    int r =
        px__fail(-ESHUTDOWN, "%s: executor \"%s\" is shut down or shutting down", what, t->name);
    px__gate_leave(t);
    return r;
}

static int call(struct px_thread *t, px__anyfn fn, void *arg, bool wants, void **result,
                const char *what)
{
    int bad = bad_target(t, (const void *)fn, what);
    if (PX_UNLIKELY(bad)) return bad;
    thread_state_t *ts = &tls; /* one thread-local lookup for the whole call */
    struct px_thread *self = self_of(ts);
    if (self == t) {
        /* Relaxed: our own executor's gate; a racing close is ordered by the
         * closer's later handshake with this thread, not by this check. */
        if (px__load_relaxed(&t->gate) & PX__GATE_CLOSED)
            return px__fail(-ESHUTDOWN, "%s: executor \"%s\" is shut down or shutting down", what,
                            t->name);
        void *res = NULL;
        if (wants) res = ((px_fn_v)fn)(arg);
        else ((px_fn)fn)(arg);
        px__counter_bump(&t->inline_calls, 1);
        if (result) *result = res;
        return 0;
    }
    if (PX_UNLIKELY(px__gate_enter(t))) return shut(t, what);
    uint32_t gen;
    px__reply_t deep; /* only for calls nested deeper than the thread's reply lines */
    px__reply_t *r = reply_begin(ts, &deep, &gen);
    uint32_t spin = t->wait == PX_WAIT_SLEEP ? 0 : t->spin_ns;
    uint64_t pos;
    if (PX_UNLIKELY(px__ring_reserve(t, &pos))) {
        /* Full: a call never fails for lack of space, it waits for it. */
        if (space_wait(ts, t, self, &pos)) {
            ts->depth--;
            return shut(t, what);
        }
    }
    px__ring_publish(t, pos, fn, arg, (uintptr_t)r | (wants ? PX__REQ_WANTS_RESULT : 0));
    px__notify(t);
    px__gate_leave(t); /* accepted: destroy runs it before freeing t */
    px__call_wait(self, r, gen, spin);
    if (result) *result = r->result;
    ts->depth--;
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
        thread_state_t *ts = &tls;
        struct px_thread *self = self_of(ts);
        if (!wait || self == t) {
            r = px__fail(-EAGAIN, "%s: the ring of executor \"%s\" is full (capacity %u)%s", what,
                         t->name, t->capacity,
                         wait ? "; a post to one's own executor never waits" : "");
            px__gate_leave(t);
            return r;
        }
        if (space_wait(ts, t, self, &pos)) return shut(t, what);
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
