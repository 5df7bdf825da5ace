/*
 * The wait protocol: how an executor's owner parks and how producers and
 * completers wake it, without lost wake-ups and without syscalls while the
 * owner is awake. docs/design.md walks through every interleaving; the
 * Promela model in docs/model/ checks them.
 *
 * Park (owner):  state = PARKED (seq_cst); fence; re-check ring and stop; sleep.
 * Notify (producer): publish cell (seq_cst xchg); load state (seq_cst);
 *                    if PARKED: CAS to RUNNING and futex-wake.
 * Both sides store then load with seq_cst, so at least one sees the other
 * (the store-buffering litmus test is forbidden under seq_cst).
 */
#include <limits.h>

#include "executor.h"

/* Spin this many pause rounds (a few microseconds) between clock reads and
 * yields. */
#define SPIN_CHECK_EVERY 64u

/* One round of a bounded spin (round i counts from 1): pause; every
 * SPIN_CHECK_EVERY rounds let a thread that shares our CPU run (a no-op when
 * none does) and check the clock. True when spin_ns have passed. */
static inline bool spin_round(unsigned i, uint64_t *deadline, uint32_t spin_ns)
{
    px__cpu_relax();
    if (i % SPIN_CHECK_EVERY != 0) return false;
    px__yield();
    uint64_t now = px__now_ns();
    if (*deadline == 0) *deadline = now + spin_ns;
    return now >= *deadline;
}

void px__notify_slow(struct px_thread *t, uint32_t s)
{
    if (s == PX__PARKED) {
        uint32_t expected = PX__PARKED;
        /* seq_cst CAS: only one waker pays the syscall per park; pairs with
         * the exchange in px__park after the sleep. */
        if (px__cas_seq_cst(&t->state, &expected, PX__RUNNING)) {
            px__futex_wake(&t->state, 1);
            /* Relaxed: a statistic, read without ordering. */
            px__fetch_add_relaxed(&t->wakes, 1);
        }
    } else if (s == PX__AWAY) {
        px__notify_away(t);
    }
}

#ifdef PX_TEST_HOOKS
/* Test hook: called at the points a producer can be preempted in
 * px__notify_away (PX__PAUSE_AWAY: after it read AWAY; PX__PAUSE_HOOK: after
 * it read the hook, before calling it), so a test can open the window. */
void (*px__test_notify_pause)(int point);
#define TEST_PAUSE(point)                                         \
    do {                                                          \
        if (px__test_notify_pause) px__test_notify_pause(point); \
    } while (0)
#else
#define TEST_PAUSE(point) ((void)0)
#endif

/* Claim the arm, then signal the fd and call the hook. */
static void fire(struct px_thread *t)
{
    /* seq_cst pairs with the re-arming store in enter_serve (driven.c): one
     * hook call and one fd write per arm, whoever gets there first. */
    if (px__load_relaxed(&t->armed) == 0 || px__xchg_seq_cst(&t->armed, 0) == 0) return;
    /* seq_cst pairs with the seq_cst CAS of fd + fence in px_thread_fd: an fd
     * made after our item was published either is seen here or sees the item. */
    int fd = atomic_load_explicit(&t->fd, memory_order_seq_cst);
    if (fd >= 0) px__event_signal(fd);
    void (*hook)(void *);
    void *ctx;
    uint32_t v;
    do { /* seqlock read; pairs with the release stores in px_thread_set_wake.
          * The first load is seq_cst: with the fetch_add of notifying before
          * it, it pairs with set_wake's store + fence + load of notifying
          * (a producer that set_wake did not wait for reads the new hook). */
        v = px__load_seq_cst(&t->hook_seq);
        hook = atomic_load_explicit(&t->hook, memory_order_relaxed);
        ctx = atomic_load_explicit(&t->hook_ctx, memory_order_relaxed);
        px__fence_acquire();
    } while ((v & 1) || v != px__load_relaxed(&t->hook_seq));
    TEST_PAUSE(PX__PAUSE_HOOK);
    if (hook) hook(ctx);
}

/*
 * A producer's hook call must not overlap the owner's waits (the hook is
 * promised to run only while the owner is outside pinexec) nor outlive
 * px_thread_set_wake (the old ctx may be freed then). A producer read AWAY in
 * px__notify, but may have been preempted since: it announces itself
 * (notifying++), re-checks state and fires only if the owner is still away;
 * the owner, on entering a wait or replacing the hook, waits until no
 * producer is announced (px__notify_quiesce). Dekker pairs: (fetch_add
 * notifying; load state) against (store state; load notifying), both
 * seq_cst. Checked by docs/model/hook.pml.
 */
void px__notify_away(struct px_thread *t)
{
    /* Relaxed pre-check: a disarmed executor needs no announce; a stale 1
     * only costs the announce, a stale 0 means an arm was claimed after the
     * owner's last re-arm (whose batch will be served). */
    if (px__load_relaxed(&t->armed) == 0) return;
    TEST_PAUSE(PX__PAUSE_AWAY);
    px__fetch_add_seq_cst(&t->notifying, 1); /* pairs with px__notify_quiesce */
    if (px__load_seq_cst(&t->state) == PX__AWAY) fire(t); /* pairs with px__enter_wait */
    /* Release: our hook call happens-before the owner's acquire (seq_cst)
     * load that sees notifying back at 0 in px__notify_quiesce. */
    px__fetch_sub_release(&t->notifying, 1);
}

void px__notify_away_owner(struct px_thread *t) { fire(t); }

void px__notify_quiesce(struct px_thread *t)
{
    /* seq_cst: pairs with the fetch_add in px__notify_away (Dekker, above);
     * it is also the acquire of the fetch_sub there. Bounded: after our
     * store only producers that read AWAY before it can be inside, each for
     * one hook call. */
    for (unsigned i = 1; px__load_seq_cst(&t->notifying) != 0; i++) {
        if (i % SPIN_CHECK_EVERY == 0) px__yield(); /* it may be preempted on our CPU */
        else px__cpu_relax();
    }
}

uint32_t px__enter_wait(struct px_thread *self)
{
    /* Relaxed: the owner is the only thread that moves state away from AWAY. */
    uint32_t prev = px__load_relaxed(&self->state);
    if (prev == PX__AWAY) {
        px__store_seq_cst(&self->state, PX__RUNNING); /* pairs with px__notify_away's load */
        px__notify_quiesce(self); /* no producer's hook call runs on into our wait */
    }
    return prev;
}

void px__leave_wait(struct px_thread *self, uint32_t prev)
{
    if (prev != PX__AWAY) return;
    /* seq_cst store then re-check: pairs with px__notify's publish + load of
     * state. Work published while we were RUNNING did not fire the hook, so
     * fire it now on our behalf if any is still queued. */
    px__store_seq_cst(&self->state, PX__AWAY);
    px__fence_seq_cst();
    if (px__ring_ready(self)) px__notify_away_owner(self);
}

int px__park(struct px_thread *self, bool (*stop_cond)(void *), void *ctx, int64_t timeout_ns)
{
    /* Announce, then re-check (pairs with px__notify: seq_cst store + fence
     * here, seq_cst publish + seq_cst load there). */
    px__store_seq_cst(&self->state, PX__PARKED);
    /* Idle owner: whoever sleeps for space in our ring may go on (the fence
     * pairs with the one in px__space_wait). */
    px__space_check_fenced(self);
    if (px__ring_ready(self) || (stop_cond && stop_cond(ctx))) {
        px__store_relaxed(&self->state, PX__RUNNING); /* relaxed: nobody waits for RUNNING */
        return 0;
    }
    px__counter_bump(&self->parks, 1);
    int r = px__futex_wait(&self->state, PX__PARKED, timeout_ns);
    /* A waker already set RUNNING; after a timeout, signal or spurious wake we
     * do it. seq_cst: pairs with the CAS in px__notify_slow. */
    px__xchg_seq_cst(&self->state, PX__RUNNING);
    return r == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

bool px__spin_for_work(struct px_thread *self, uint32_t spin_ns)
{
    if (spin_ns == 0) return px__ring_ready(self);
    uint64_t deadline = 0;
    for (unsigned i = 1;; i++) {
        if (px__ring_ready(self) || px__load_relaxed(&self->stop_req)) return true;
        if (spin_round(i, &deadline, spin_ns)) return px__ring_ready(self);
    }
}

void px__complete(px__reply_t *r, void *result)
{
    r->result = result;
    /* One read-modify-write on the caller's line: advance the generation.
     * seq_cst (it releases result; pairs with the acquire loads of word in
     * px__call_wait) and, on the slow path, orders it before px__notify's
     * load of the waiter's state (Dekker with px__park's re-check). */
    uint32_t old = px__fetch_add_seq_cst(&r->word, PX__REPLY_GEN);
    if (PX_LIKELY((old & PX__REPLY_STATE) == PX__REPLY_SPIN)) return;
    /* The caller announced WAITING. It does not leave while the state bits
     * stay set, so r and the executor it names stay valid until our store. */
    struct px_thread *w = r->waiter; /* written before the caller's CAS to WAITING, which we read */
    if (w) px__notify(w);
    uint32_t done = (old + PX__REPLY_GEN) & ~(uint32_t)PX__REPLY_STATE;
    px__store_release(&r->word, done); /* pairs with the caller's acquire loads */
    /* A plain thread sleeps on the word itself. The wake may reach a line the
     * caller already reuses; futex wake-ups tolerate that (callers re-check). */
    if (w == NULL) px__futex_wake(&r->word, INT32_MAX);
}

/* The call answering on r (published at generation gen) has completed. */
static inline bool reply_done(uint32_t word, uint32_t gen)
{
    return (word & ~(uint32_t)PX__REPLY_STATE) != gen && (word & PX__REPLY_STATE) == 0;
}

typedef struct reply_wait {
    px__reply_t *r;
    uint32_t waiting; /* the word while the caller waits and nothing happened */
} reply_wait_t;

static bool reply_moved(void *ctx)
{
    reply_wait_t *w = ctx;
    /* Relaxed: only decides whether to sleep; the caller re-reads with acquire. */
    return px__load_relaxed(&w->r->word) != w->waiting;
}

void px__call_wait(struct px_thread *self, px__reply_t *r, uint32_t gen, uint32_t spin_ns)
{
    /* A driven owner waiting here is woken directly, not through its hook. */
    uint32_t prev = self ? px__enter_wait(self) : PX__RUNNING;
    /* Spin phase: the common, syscall-free path. */
    uint64_t deadline = 0;
    for (unsigned i = 1;; i++) {
        /* Acquire pairs with the seq_cst fetch_add / release store in px__complete. */
        if (PX_LIKELY(reply_done(px__load_acquire(&r->word), gen))) goto out;
        if (self && px__run_one(self)) continue;
        if (spin_ns == 0 || spin_round(i, &deadline, spin_ns)) break;
    }
    /* Sleep phase: name ourselves, then announce WAITING (the seq_cst CAS
     * releases waiter; pairs with the fetch_add in px__complete). */
    r->waiter = self;
    uint32_t expected = gen;
    if (!px__cas_seq_cst(&r->word, &expected, gen | PX__REPLY_WAITING))
        goto out; /* completed meanwhile */
    reply_wait_t rw = {r, gen | PX__REPLY_WAITING};
    unsigned between = 0;
    for (;;) {
        uint32_t word = px__load_acquire(&r->word); /* pairs with px__complete */
        if (reply_done(word, gen)) break;
        if (word != rw.waiting) { /* the completer is between its two stores */
            /* It may have been preempted there (by us, on a shared CPU):
             * let it run after a short spin. */
            if (++between % SPIN_CHECK_EVERY == 0) px__yield();
            else px__cpu_relax();
            continue;
        }
        if (self == NULL) {
            px__futex_wait(&r->word, rw.waiting, -1);
            continue;
        }
        if (px__run_one(self)) continue;
        px__park(self, reply_moved, &rw, -1);
    }
out:
    if (self) px__leave_wait(self, prev);
}

void px__wake_space_waiters(struct px_thread *t)
{
    /* seq_cst pairs with the seq_cst increment of space_waiters and the load of
     * space_seq in px__space_wait. */
    px__fetch_add_seq_cst(&t->space_seq, 1);
    px__futex_wake(&t->space_seq, INT_MAX);
}

int px__space_wait(struct px_thread *t, struct px_thread *self, uint64_t *pos)
{
    int64_t backoff_ns = 20000; /* executor producers poll with backoff, see below */
    uint32_t prev = self ? px__enter_wait(self) : PX__RUNNING;
    for (;;) {
        /* seq_cst: pairs with the increment in px__wake_space_waiters. */
        uint32_t seq = px__load_seq_cst(&t->space_seq);
        px__fetch_add_seq_cst(&t->space_waiters, 1);
        /* Pairs with the fence at the end of px__run_batch / in px__park: either
         * the consumer sees our increment or we see its head. */
        px__fence_seq_cst();
        int r;
        if (px__load_seq_cst(&t->gate) & PX__GATE_CLOSED) r = -ESHUTDOWN;
        else r = px__ring_reserve(t, pos);
        if (r != -EAGAIN) {
            px__fetch_sub_seq_cst(&t->space_waiters, 1);
            if (self) px__leave_wait(self, prev);
            return r;
        }
        if (self == NULL) {
            px__futex_wait(&t->space_seq, seq, -1);
        } else {
            /* An executor keeps serving its own queue, so it sleeps on its own
             * state word; t's consumer does not know it, hence a bounded sleep. */
            px__fetch_sub_seq_cst(&t->space_waiters, 1);
            if (px__run_one(self)) continue;
            px__park(self, NULL, NULL, backoff_ns);
            if (backoff_ns < 1000000) backoff_ns *= 2;
            continue;
        }
        px__fetch_sub_seq_cst(&t->space_waiters, 1);
    }
}

bool px__gate_close(struct px_thread *t)
{
    /* seq_cst pairs with the fetch_add in px__gate_enter. */
    uint64_t g = px__fetch_or_seq_cst(&t->gate, PX__GATE_CLOSED);
    if (g & PX__GATE_CLOSED) return false;
    px__wake_space_waiters(t);
    return true;
}

void px__gate_drain(struct px_thread *t, struct px_thread *self)
{
    /* Users inside the gate never block for long once it is closed (posters
     * waiting for space were woken), so spin, serve, then yield. */
    uint32_t prev = self ? px__enter_wait(self) : PX__RUNNING;
    for (unsigned i = 0;; i++) {
        /* Acquire pairs with the release decrement in px__gate_leave. */
        if (px__load_acquire(&t->gate) == PX__GATE_CLOSED) break;
        if (self && px__run_one(self)) continue; /* self may be t (driven shutdown) */
        if (i < 100) px__cpu_relax();
        else px__yield();
    }
    if (self) px__leave_wait(self, prev);
}
