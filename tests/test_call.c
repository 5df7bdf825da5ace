/*
 * The call path: px_call / px_call_v run on the
 * executor's thread with visibility both ways; a call on the executor's own
 * thread runs inline; call cycles through created, main and attached
 * executors complete in every wait mode (also through a post that waits for
 * ring space); per-producer FIFO across calls and posts.
 */
#include "px_test.h"

/* ---- 1. where fn runs, visibility, results -------------------------------- */

#define VIS_N 64

typedef struct where {
    long tid;             /* gettid() inside fn */
    px_thread_t *current; /* px_thread_current() inside fn */
    pthread_t pthread;
    int in[VIS_N];  /* written by the caller before the call */
    int out[VIS_N]; /* written by fn */
    long sum;       /* fn's sum of in[] */
    unsigned long runs;
} where_t;

static void record_where(void *arg)
{
    where_t *w = arg;
    w->tid = px_test_gettid();
    w->current = px_thread_current();
    w->pthread = pthread_self();
    long s = 0;
    for (int i = 0; i < VIS_N; i++) {
        s += w->in[i];
        w->out[i] = w->in[i] * 2 + 1;
    }
    w->sum = s;
    w->runs++;
}

static void *record_where_v(void *arg)
{
    record_where(arg);
    where_t *w = arg;
    return &w->out[w->in[0] & (VIS_N - 1)];
}

/* Plain data both ways over many calls; on the calling thread only. */
static void check_calls(px_thread_t *t)
{
    where_t w;
    memset(&w, 0, sizeof w);
    for (int round = 0; round < 200; round++) {
        long expect = 0;
        for (int i = 0; i < VIS_N; i++) {
            w.in[i] = round * 1000 + i;
            expect += w.in[i];
        }
        if (round % 2 == 0) {
            assert_int_equal(px_call(t, record_where, &w), 0);
        } else {
            void *res = NULL;
            assert_int_equal(px_call_v(t, record_where_v, &w, &res), 0);
            assert_ptr_equal(res, &w.out[w.in[0] & (VIS_N - 1)]);
        }
        assert_int_equal(w.tid, px_thread_tid(t));
        assert_ptr_equal(w.current, t);
        assert_true(!pthread_equal(w.pthread, pthread_self()));
        assert_int_equal(w.sum, expect);
        for (int i = 0; i < VIS_N; i++) assert_int_equal(w.out[i], w.in[i] * 2 + 1);
        assert_int_equal(w.runs, (unsigned long)round + 1);
    }
    /* result may be NULL: fn still runs. */
    assert_int_equal(px_call_v(t, record_where_v, &w, NULL), 0);
    assert_int_equal(w.runs, 201);
}

static void test_call_runs_on_executor_from_main(void **state)
{
    (void)state;
    assert_ptr_equal(px_thread_current(), px_mainthread()); /* the test thread is the main thread */
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        assert_true(px_thread_tid(t) > 0);
        assert_int_not_equal(px_thread_tid(t), px_test_gettid());
        check_calls(t);
        px_test_destroy(t);
    }
}

typedef struct plain_ctx {
    px_thread_t *t;
    px_thread_t *current_outside; /* px_thread_current() on the plain thread */
    int rc[3];
    long tid[2];
    long own_tid;
    unsigned long runs;
    void *result;
} plain_ctx_t;

static void bump_and_tid(void *arg)
{
    plain_ctx_t *c = arg;
    c->tid[c->runs++ % 2] = px_test_gettid();
}

static void *bump_and_tid_v(void *arg)
{
    bump_and_tid(arg);
    return (void *)(uintptr_t)0xC0FFEE;
}

static void *plain_caller(void *arg)
{
    plain_ctx_t *c = arg;
    c->current_outside = px_thread_current();
    c->own_tid = px_test_gettid();
    c->rc[0] = px_call(c->t, bump_and_tid, c);
    c->rc[1] = px_call_v(c->t, bump_and_tid_v, c, &c->result);
    c->rc[2] = px_call_v(c->t, bump_and_tid_v, c, NULL);
    return NULL;
}

static void test_call_runs_on_executor_from_plain_thread(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        plain_ctx_t c;
        memset(&c, 0, sizeof c);
        c.t = t;
        px_test_thread_t th;
        px_test_thread_start(&th, plain_caller, &c);
        px_test_thread_join(&th);
        assert_null(c.current_outside); /* a plain thread is no executor */
        for (int i = 0; i < 3; i++) assert_int_equal(c.rc[i], 0);
        assert_int_equal(c.runs, 3);
        assert_int_equal(c.tid[0], px_thread_tid(t));
        assert_int_equal(c.tid[1], px_thread_tid(t));
        assert_int_not_equal(c.own_tid, px_thread_tid(t));
        assert_ptr_equal(c.result, (void *)(uintptr_t)0xC0FFEE);
        px_stats_t s = px_test_stats(t);
        assert_int_equal(s.calls, 3);
        assert_int_equal(s.inline_calls, 0);
        px_test_destroy(t);
    }
}

/* ---- 2. inline self-calls ------------------------------------------------- */

enum { EV_OUTER_BEGIN = 1, EV_INLINE, EV_INLINE_V, EV_POSTED, EV_OUTER_END };

typedef struct inline_ctx {
    px_thread_t *t;
    int events[16];
    int nev;
    int rc_call, rc_call_v, rc_post;
    void *res;
    long inner_tid;
    int depth, max_depth;
} inline_ctx_t;

static void ev_inline(void *arg)
{
    inline_ctx_t *c = arg;
    c->events[c->nev++] = EV_INLINE;
    c->inner_tid = px_test_gettid();
    if (++c->depth > c->max_depth) c->max_depth = c->depth;
    if (c->depth < 3) px_call(c->t, ev_inline, c); /* nested inline: depth 3 */
    c->depth--;
}

static void *ev_inline_v(void *arg)
{
    inline_ctx_t *c = arg;
    c->events[c->nev++] = EV_INLINE_V;
    return &c->res;
}

static void ev_posted(void *arg)
{
    inline_ctx_t *c = arg;
    c->events[c->nev++] = EV_POSTED;
}

static void outer(void *arg)
{
    inline_ctx_t *c = arg;
    c->events[c->nev++] = EV_OUTER_BEGIN;
    /* Queued first, but the synchronous calls below run inline, ahead of it. */
    c->rc_post = px_post(c->t, ev_posted, c);
    c->rc_call = px_call(c->t, ev_inline, c);
    c->rc_call_v = px_call_v(c->t, ev_inline_v, c, &c->res);
    c->events[c->nev++] = EV_OUTER_END;
}

static void test_call_inline_on_own_thread(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, NULL);
        inline_ctx_t c;
        memset(&c, 0, sizeof c);
        c.t = t;
        assert_int_equal(px_call(t, outer, &c), 0);
        px_test_flush(t); /* the post ran before this */
        assert_int_equal(c.rc_post, 0);
        assert_int_equal(c.rc_call, 0);
        assert_int_equal(c.rc_call_v, 0);
        assert_ptr_equal(c.res, &c.res);
        assert_int_equal(c.inner_tid, px_thread_tid(t));
        assert_int_equal(c.max_depth, 3);
        int expect[] = {EV_OUTER_BEGIN, EV_INLINE,    EV_INLINE, EV_INLINE,
                        EV_INLINE_V,    EV_OUTER_END, EV_POSTED};
        assert_int_equal(c.nev, (int)(sizeof expect / sizeof expect[0]));
        for (int i = 0; i < c.nev; i++) assert_int_equal(c.events[i], expect[i]);
        px_stats_t s = px_test_stats(t);
        assert_int_equal(s.inline_calls, 4); /* 3 nested px_call + 1 px_call_v */
        assert_int_equal(s.calls, 2);        /* outer + flush */
        assert_int_equal(s.posts, 1);
        px_test_destroy(t);
    }
}

/* ---- 3. cycles --------------------------------------------------------------- */

#define MAX_HOPS 4

typedef struct cycle {
    px_thread_t *hop[MAX_HOPS]; /* hop[0] calls hop[1] ... the last calls hop[0] */
    int n;
    int rc[MAX_HOPS + 1];
    long tid[MAX_HOPS + 1]; /* who ran each level */
    int level;
} cycle_t;

static void *cycle_step_v(void *arg);

static void cycle_step(void *arg)
{
    cycle_t *c = arg;
    int l = c->level;
    c->tid[l] = px_test_gettid();
    if (l == c->n) return; /* back at hop[0]: the cycle closed */
    c->level = l + 1;
    px_thread_t *next = c->hop[(l + 1) % c->n];
    if (l % 2 == 0) {
        c->rc[l] = px_call(next, cycle_step, c);
    } else {
        void *res = NULL;
        c->rc[l] = px_call_v(next, cycle_step_v, c, &res);
        if (c->rc[l] == 0 && res != c) c->rc[l] = -9999;
    }
}

static void *cycle_step_v(void *arg)
{
    cycle_step(arg);
    return arg;
}

/* Repetitions of a cycle: spinning executors on this 2-CPU machine take
 * scheduler time slices from each other, so fewer rounds there. */
static int cycle_reps(px_wait_t w) { return w == PX_WAIT_SPIN ? 5 : 30; }

/* Enter hop[0] from the test thread and walk hop[0] -> ... -> hop[0]. */
static void run_cycle(px_thread_t **hops, int n)
{
    cycle_t c;
    memset(&c, 0, sizeof c);
    c.n = n;
    for (int i = 0; i < n; i++) c.hop[i] = hops[i];
    for (int i = 0; i < MAX_HOPS + 1; i++) c.rc[i] = -12345;
    assert_int_equal(px_call(hops[0], cycle_step, &c), 0);
    for (int l = 0; l < n; l++) assert_int_equal(c.rc[l], 0);
    for (int l = 0; l <= n; l++) assert_int_equal(c.tid[l], px_thread_tid(hops[l % n]));
}

static void test_call_cycles_in_each_mode(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *a = px_test_create(px_test_modes[m], 0, "cyc-a");
        px_thread_t *b = px_test_create(px_test_modes[m], 0, "cyc-b");
        px_thread_t *c = px_test_create(px_test_modes[m], 0, "cyc-c");
        for (int rep = 0; rep < cycle_reps(px_test_modes[m]); rep++) {
            run_cycle((px_thread_t *[]){a, b}, 2);       /* A -> B -> A */
            run_cycle((px_thread_t *[]){a, b, c}, 3);    /* A -> B -> C -> A */
            run_cycle((px_thread_t *[]){c, a, b, a}, 4); /* C -> A -> B -> A -> C */
        }
        px_test_destroy(a);
        px_test_destroy(b);
        px_test_destroy(c);
    }
}

/* Mixed modes: a sleeping executor calls a spinning one and back. */
static void test_call_cycles_mixed_modes(void **state)
{
    (void)state;
    px_thread_t *a = px_test_create(PX_WAIT_SLEEP, 0, "mix-sleep");
    px_thread_t *b = px_test_create(PX_WAIT_SPIN, 0, "mix-spin");
    px_thread_t *c = px_test_create(PX_WAIT_ADAPTIVE, 0, "mix-adapt");
    for (int rep = 0; rep < 10; rep++) {
        run_cycle((px_thread_t *[]){a, b}, 2);
        run_cycle((px_thread_t *[]){b, a}, 2);
        run_cycle((px_thread_t *[]){a, b, c}, 3);
        run_cycle((px_thread_t *[]){c, b, a}, 3);
    }
    px_test_destroy(a);
    px_test_destroy(b);
    px_test_destroy(c);
}

/* The main thread is an executor too: main -> A -> main and main -> A -> B -> main. */
static void test_call_cycle_through_main_thread(void **state)
{
    (void)state;
    px_thread_t *main_ex = px_mainthread();
    assert_int_equal(px_thread_tid(main_ex), px_test_gettid());
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *a = px_test_create(px_test_modes[m], 0, NULL);
        px_thread_t *b = px_test_create(px_test_modes[m], 0, NULL);
        for (int rep = 0; rep < cycle_reps(px_test_modes[m]); rep++) {
            run_cycle((px_thread_t *[]){main_ex, a},
                      2); /* runs inline first, then main -> A -> main */
            run_cycle((px_thread_t *[]){main_ex, a, b}, 3);
        }
        px_test_destroy(a);
        px_test_destroy(b);
    }
}

/* An attached thread (px_thread_attach) that calls A, which calls back into it. */
typedef struct attached_ctx {
    px_wait_t mode;
    int rc_attach, rc_detach;
    int rc[MAX_HOPS + 1];
    long tid[MAX_HOPS + 1];
    long own_tid, a_tid;
    int ok_cycles;
} attached_ctx_t;

static void *attached_main(void *arg)
{
    attached_ctx_t *x = arg;
    px_thread_t *self = NULL;
    px_thread_options_t o = {.size = sizeof o, .name = "attached", .wait = x->mode};
    x->rc_attach = px_thread_attach(&self, &o);
    if (x->rc_attach) return NULL;
    x->own_tid = px_test_gettid();
    px_thread_t *a = NULL;
    px_thread_options_t ao = {.size = sizeof ao, .wait = x->mode};
    if (px_thread_create(&a, &ao) != 0) {
        x->rc_attach = -9999;
        px_thread_detach(self);
        return NULL;
    }
    x->a_tid = px_thread_tid(a);
    for (int rep = 0; rep < 50; rep++) {
        cycle_t c;
        memset(&c, 0, sizeof c);
        c.n = 2;
        c.hop[0] = self;
        c.hop[1] = a;
        /* self -> self runs inline, then self -> A -> self needs this thread to
         * serve its own queue while it waits. */
        int r = px_call(self, cycle_step, &c);
        bool ok = r == 0 && c.rc[0] == 0 && c.rc[1] == 0 && c.tid[0] == x->own_tid &&
                  c.tid[1] == x->a_tid && c.tid[2] == x->own_tid;
        if (ok) x->ok_cycles++;
    }
    px_thread_destroy(a);
    x->rc_detach = px_thread_detach(self);
    return NULL;
}

static void test_call_cycle_through_attached_thread(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        attached_ctx_t x;
        memset(&x, 0, sizeof x);
        x.mode = px_test_modes[m];
        px_test_thread_t th;
        px_test_thread_start(&th, attached_main, &x);
        px_test_thread_join(&th);
        assert_int_equal(x.rc_attach, 0);
        assert_int_equal(x.ok_cycles, 50);
        assert_int_equal(x.rc_detach, 0);
    }
}

/* A -> B where B's hop back is a px_post to A's full ring: B waits for space
 * while A, waiting on B, drains its own ring. */
typedef struct post_cycle {
    px_thread_t *a, *b;
    unsigned long fills_ran; /* written on A only */
    unsigned long mark_ran;  /* written on A only */
    int fills_accepted;
    int self_post_rc; /* A's post to its own full ring */
    int rc_call_b, rc_post_a;
} post_cycle_t;

static void pc_fill(void *arg) { ((post_cycle_t *)arg)->fills_ran++; }
static void pc_mark(void *arg) { ((post_cycle_t *)arg)->mark_ran++; }

static void pc_on_b(void *arg)
{
    post_cycle_t *p = arg;
    p->rc_post_a = px_post(p->a, pc_mark, p); /* A's ring is full: waits for space */
}

static void pc_on_a(void *arg)
{
    post_cycle_t *p = arg;
    int r;
    while ((r = px_try_post(p->a, pc_fill, p)) == 0) p->fills_accepted++;
    p->self_post_rc = px_post(p->a, pc_fill, p); /* own full ring: -EAGAIN, never waits on itself */
    p->rc_call_b = px_call(p->b, pc_on_b, p);
}

static void test_call_cycle_through_post_waiting_for_space(void **state)
{
    (void)state;
    static const unsigned caps[] = {1, 2};
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        for (size_t k = 0; k < 2; k++) {
            px_thread_t *a = px_test_create(px_test_modes[m], caps[k], "pc-a");
            px_thread_t *b = px_test_create(px_test_modes[m], 0, "pc-b");
            for (int rep = 0; rep < 20; rep++) {
                post_cycle_t p;
                memset(&p, 0, sizeof p);
                p.a = a;
                p.b = b;
                p.self_post_rc = 1;
                assert_int_equal(px_call(a, pc_on_a, &p), 0);
                px_test_flush(a); /* mark was queued before pc_on_a returned */
                assert_int_equal(p.fills_accepted, (int)caps[k]);
                assert_int_equal(p.self_post_rc, -EAGAIN);
                assert_int_equal(p.rc_call_b, 0);
                assert_int_equal(p.rc_post_a, 0);
                assert_int_equal(p.fills_ran, caps[k]);
                assert_int_equal(p.mark_ran, 1);
            }
            px_test_destroy(a);
            px_test_destroy(b);
        }
    }
}

/* ---- 4. per-producer FIFO ----------------------------------------------------- */

#define FIFO_PRODUCERS 4 /* 3 plain threads + 1 executor */
#define FIFO_OPS 3000

typedef struct fifo_sink {
    /* Written on the target executor only; read by the test after a call. */
    uint32_t next[FIFO_PRODUCERS];
    unsigned long violations;
    unsigned long ran;
    unsigned long by_kind[4];
} fifo_sink_t;

static fifo_sink_t sink;

static void fifo_record(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    unsigned p = (unsigned)(v >> 24), seq = (unsigned)(v & 0xffffff);
    unsigned kind = (unsigned)(v >> 20) & 3;
    seq &= 0xfffff;
    if (p >= FIFO_PRODUCERS || sink.next[p] != seq) sink.violations++;
    else sink.next[p]++;
    sink.by_kind[kind]++;
    sink.ran++;
}

static void *fifo_record_v(void *arg)
{
    fifo_record(arg);
    return arg;
}

typedef struct producer {
    px_thread_t *t;
    unsigned id;
    int bad_rc;        /* first failure */
    unsigned long bad; /* number of failed operations */
} producer_t;

static void produce(producer_t *p)
{
    uint32_t x = 2463534242u ^ (p->id * 7919u);
    for (unsigned seq = 0; seq < FIFO_OPS; seq++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift: a per-producer mix */
        unsigned kind = x % 4;
        void *arg = (void *)(((uintptr_t)p->id << 24) | ((uintptr_t)kind << 20) | seq);
        int r;
        void *res = NULL;
        switch (kind) {
        case 0: r = px_call(p->t, fifo_record, arg); break;
        case 1:
            r = px_call_v(p->t, fifo_record_v, arg, &res);
            if (r == 0 && res != arg) r = -9999;
            break;
        case 2: r = px_post(p->t, fifo_record, arg); break;
        default:
            while ((r = px_try_post(p->t, fifo_record, arg)) == -EAGAIN) sched_yield();
            break;
        }
        if (r) {
            if (!p->bad) p->bad_rc = r;
            p->bad++;
        }
    }
}

static void *producer_thread(void *arg)
{
    produce(arg);
    return NULL;
}

static void produce_fn(void *arg) { produce(arg); }

static void test_call_fifo_per_producer(void **state)
{
    (void)state;
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        /* A small ring, so posts also wait for space. */
        px_thread_t *t = px_test_create(px_test_modes[m], 8, "fifo");
        px_thread_t *ex = px_test_create(px_test_modes[m], 0, "fifo-prod");
        memset(&sink, 0, sizeof sink);
        px_test_flush(t); /* the reset happens before anything the executor reads */
        producer_t p[FIFO_PRODUCERS];
        px_test_thread_t th[FIFO_PRODUCERS];
        for (unsigned i = 0; i < FIFO_PRODUCERS; i++) p[i] = (producer_t){.t = t, .id = i};
        for (unsigned i = 0; i + 1 < FIFO_PRODUCERS; i++)
            px_test_thread_start(&th[i], producer_thread, &p[i]);
        /* The last producer is an executor thread (it serves its own queue
         * while it waits on t). */
        assert_int_equal(px_call(ex, produce_fn, &p[FIFO_PRODUCERS - 1]), 0);
        for (unsigned i = 0; i + 1 < FIFO_PRODUCERS; i++) px_test_thread_join(&th[i]);
        px_test_flush(t);
        for (unsigned i = 0; i < FIFO_PRODUCERS; i++) {
            assert_int_equal(p[i].bad, 0);
            assert_int_equal(sink.next[i], FIFO_OPS);
        }
        assert_int_equal(sink.violations, 0);
        assert_int_equal(sink.ran, (unsigned long)FIFO_PRODUCERS * FIFO_OPS);
        for (int k = 0; k < 4; k++) assert_true(sink.by_kind[k] > 0);
        px_stats_t s = px_test_stats(t);
        assert_int_equal(s.calls + s.posts, (uint64_t)FIFO_PRODUCERS * FIFO_OPS + 2);
        assert_int_equal(s.posts, sink.by_kind[2] + sink.by_kind[3]);
        px_test_destroy(ex);
        px_test_destroy(t);
    }
}

/* ---- px_thread_current ---------------------------------------------------------- */

static void *current_on_plain(void *arg)
{
    *(px_thread_t **)arg = px_thread_current();
    return NULL;
}

static void current_inside(void *arg) { *(px_thread_t **)arg = px_thread_current(); }

static void test_call_thread_current(void **state)
{
    (void)state;
    px_thread_t *seen = (px_thread_t *)&seen; /* not NULL */
    px_test_thread_t th;
    px_test_thread_start(&th, current_on_plain, &seen);
    px_test_thread_join(&th);
    assert_null(seen);
    assert_ptr_equal(px_thread_current(), px_mainthread());
    px_thread_t *t = px_test_create(PX_WAIT_ADAPTIVE, 0, NULL);
    seen = NULL;
    assert_int_equal(px_call(t, current_inside, &seen), 0);
    assert_ptr_equal(seen, t);
    seen = NULL;
    assert_int_equal(px_post(t, current_inside, &seen), 0);
    px_test_flush(t);
    assert_ptr_equal(seen, t);
    px_test_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_runs_on_executor_from_main),
        cmocka_unit_test(test_call_runs_on_executor_from_plain_thread),
        cmocka_unit_test(test_call_inline_on_own_thread),
        cmocka_unit_test(test_call_cycles_in_each_mode),
        cmocka_unit_test(test_call_cycles_mixed_modes),
        cmocka_unit_test(test_call_cycle_through_main_thread),
        cmocka_unit_test(test_call_cycle_through_attached_thread),
        cmocka_unit_test(test_call_cycle_through_post_waiting_for_space),
        cmocka_unit_test(test_call_fifo_per_producer),
        cmocka_unit_test(test_call_thread_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
