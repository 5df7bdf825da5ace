/*
 * Zero heap allocations per px_call, px_call_v, px_post and px_try_post after
 * creation (issue 2, "Speed and memory"): count every malloc, calloc,
 * realloc, free, posix_memalign, aligned_alloc, memalign in the process while
 * a flag is on, over 100,000 of each operation after a warm-up, to an executor
 * on another thread, in each wait mode, from the main thread (itself an
 * executor), a plain thread and a created executor. The count must be 0.
 *
 * Counting: in a plain build this program defines the allocation functions and
 * forwards them to glibc's __libc_* entry points, so every allocation in the
 * process counts. Under AddressSanitizer or ThreadSanitizer the sanitizer owns
 * the allocator: there the counters hang on its malloc/free hooks (every
 * malloc/calloc/free of the process; ThreadSanitizer does not report realloc
 * or the aligned forms there) and, when tests/CMakeLists.txt links this test
 * with -Wl,--wrap=<fn> (PX_TEST_ALLOC_WRAP), on link-time wrappers of all
 * seven functions, which see every call made by pinexec's own code. A first
 * test proves the counters see allocations (also the library's own, on an
 * executor thread) in every build.
 */
#include "px_test.h"

#include <stdlib.h>

#if defined(PX_SANITIZE_ADDRESS) || defined(PX_SANITIZE_THREAD) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
#define USE_SANITIZER_HOOKS 1
#endif

static _Atomic int counting;
static _Atomic unsigned long allocs, frees;

/* Relaxed: plain event counts, read after the counted threads synchronised
 * with the test thread (a call returned or a flag was acquired). */
static inline void count_alloc(void)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
}
static inline void count_free(const volatile void *p)
{
    if (p && atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
}

#ifdef USE_SANITIZER_HOOKS
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    count_alloc();
}
static void on_free(const volatile void *p) { count_free(p); }
static void install_counters(void)
{
    static bool installed;
    if (!installed) assert_true(__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0);
    installed = true;
}
#ifdef PX_TEST_ALLOC_WRAP
/* -Wl,--wrap=malloc: the references of this program (and of the static
 * pinexec_internal linked into it) land here; __real_* is the sanitizer's. */
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_memalign(size_t, size_t);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_memalign(size_t align, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **out, size_t align, size_t n);

void *__wrap_malloc(size_t n)
{
    count_alloc();
    return __real_malloc(n);
}
void *__wrap_calloc(size_t n, size_t size)
{
    count_alloc();
    return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t n)
{
    count_alloc();
    return __real_realloc(p, n);
}
void __wrap_free(void *p)
{
    count_free(p);
    __real_free(p);
}
void *__wrap_memalign(size_t align, size_t n)
{
    count_alloc();
    return __real_memalign(align, n);
}
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    count_alloc();
    return __real_aligned_alloc(align, n);
}
int __wrap_posix_memalign(void **out, size_t align, size_t n)
{
    count_alloc();
    return __real_posix_memalign(out, align, n);
}
#define COUNTS_EVERY_FUNCTION 1
#endif
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

void *malloc(size_t n)
{
    count_alloc();
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    count_alloc();
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    count_alloc();
    return __libc_realloc(p, n);
}
void free(void *p)
{
    count_free(p);
    __libc_free(p);
}
void *memalign(size_t align, size_t n)
{
    count_alloc();
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    count_alloc();
    return __libc_memalign(align, n);
}
int posix_memalign(void **out, size_t align, size_t n)
{
    count_alloc();
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = __libc_memalign(align, n);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}
static void install_counters(void) {}
#define COUNTS_EVERY_FUNCTION 1
#endif

static void counting_on(void)
{
    atomic_store(&allocs, 0);
    atomic_store(&frees, 0);
    atomic_store(&counting, 1);
}

static void counting_off(void) { atomic_store(&counting, 0); }

/* ---- the counter itself works ---------------------------------------------------- */

static void test_alloc_counter_sees_allocations(void **state)
{
    (void)state;
    install_counters();
    /* Through volatile pointers, so the compiler cannot elide the pairs. */
    void *(*volatile m)(size_t) = malloc;
    void *(*volatile c)(size_t, size_t) = calloc;
    void *(*volatile r)(void *, size_t) = realloc;
    void *(*volatile aa)(size_t, size_t) = aligned_alloc;
    int (*volatile pm)(void **, size_t, size_t) = posix_memalign;
    void (*volatile f)(void *) = free;

    counting_on();
    void *p = m(40);
    void *q = c(3, 50);
    f(p);
    f(q);
    counting_off();
    assert_true(atomic_load(&allocs) >= 2); /* exactly 2, or 4 when a hook and a wrapper both count */
    assert_true(atomic_load(&frees) >= 2);

    counting_on();
    p = m(40);
    p = r(p, 4000);
    void *s = aa(64, 128);
    void *t = NULL;
    int rc = pm(&t, 64, 256);
    f(p);
    f(s);
    f(t);
    counting_off();
    assert_int_equal(rc, 0);
#ifdef COUNTS_EVERY_FUNCTION
    assert_true(atomic_load(&allocs) >= 4); /* each function counted */
    assert_true(atomic_load(&frees) >= 3);
#else
    print_message("    (counting malloc/calloc/free only: realloc and the aligned forms need "
                  "PX_TEST_ALLOC_WRAP under this sanitizer)\n");
    assert_true(atomic_load(&allocs) >= 1);
#endif

    /* The library's own allocations, made on the new executor's thread, count. */
    counting_on();
    px_thread_t *x = NULL;
    int cr = px_thread_create(&x, NULL);
    counting_off();
    assert_int_equal(cr, 0);
    unsigned long made = atomic_load(&allocs);
#ifdef COUNTS_EVERY_FUNCTION
    assert_true(made >= 2); /* the executor and its ring (aligned_alloc), a bitmap */
#else
    assert_true(made >= 1); /* hwloc's bitmap (malloc) */
#endif
    counting_on();
    px_test_destroy(x);
    counting_off();
    assert_true(atomic_load(&frees) >= 2);
}

/* ---- the hot paths allocate nothing -------------------------------------------- */

#define OPS 100000
#define WARMUP 1000

typedef struct sink {
    unsigned long calls, calls_v, posts, try_posts; /* on the executor only */
} sink_t;

static void on_call(void *arg) { ((sink_t *)arg)->calls++; }
static void *on_call_v(void *arg)
{
    ((sink_t *)arg)->calls_v++;
    return arg;
}
static void on_post(void *arg) { ((sink_t *)arg)->posts++; }
static void on_try_post(void *arg) { ((sink_t *)arg)->try_posts++; }

typedef struct run {
    px_thread_t *t;
    sink_t *sink;
    int n;
    unsigned long bad;
} run_t;

/* n of each operation; no allocation of its own. */
static void run_ops(run_t *r)
{
    for (int i = 0; i < r->n; i++)
        if (px_call(r->t, on_call, r->sink) != 0) r->bad++;
    for (int i = 0; i < r->n; i++) {
        void *res = NULL;
        if (px_call_v(r->t, on_call_v, r->sink, &res) != 0 || res != r->sink) r->bad++;
    }
    for (int i = 0; i < r->n; i++)
        if (px_post(r->t, on_post, r->sink) != 0) r->bad++;
    for (int i = 0; i < r->n; i++) {
        int rc;
        while ((rc = px_try_post(r->t, on_try_post, r->sink)) == -EAGAIN) sched_yield();
        if (rc) r->bad++;
    }
}

static void check_sink(const sink_t *s, unsigned long n)
{
    assert_int_equal(s->calls, n);
    assert_int_equal(s->calls_v, n);
    assert_int_equal(s->posts, n);
    assert_int_equal(s->try_posts, n);
}

/* 100,000 of each in a plain build. A sanitizer build runs the same paths
 * 5-10x slower per operation, so it counts over 20,000 of each. */
static int ops(void)
{
#ifdef USE_SANITIZER_HOOKS
    return OPS / 5;
#else
    return OPS;
#endif
}

static void run_mode(px_wait_t mode)
{
    install_counters();
    px_thread_t *t = px_test_create(mode, 0, "alloc-target");
    sink_t sink;
    memset(&sink, 0, sizeof sink);
    px_test_flush(t);
    run_t warm = {.t = t, .sink = &sink, .n = WARMUP};
    run_ops(&warm);
    px_test_flush(t);

    run_t hot = {.t = t, .sink = &sink, .n = ops()};
    counting_on();
    run_ops(&hot);
    px_test_flush(t); /* the posts have run, on the executor, while counting */
    counting_off();
    unsigned long a = atomic_load(&allocs), f = atomic_load(&frees);
    assert_int_equal(hot.bad, 0);
    check_sink(&sink, (unsigned long)(WARMUP + ops()));
    if (a || f)
        fail_msg("%s: %lu allocations and %lu frees over %d of each px_call, px_call_v, px_post, px_try_post",
                 px_test_mode_name(mode), a, f, ops());
    px_test_destroy(t);
}

static void test_alloc_zero_from_main_adaptive(void **state)
{
    (void)state;
    run_mode(PX_WAIT_ADAPTIVE);
}

static void test_alloc_zero_from_main_spin(void **state)
{
    (void)state;
    run_mode(PX_WAIT_SPIN);
}

static void test_alloc_zero_from_main_sleep(void **state)
{
    (void)state;
    run_mode(PX_WAIT_SLEEP);
}

/* A plain thread (no executor of its own) and a created executor as callers. */
typedef struct plain {
    run_t run;
    _Atomic int go, done;
} plain_t;

static void *plain_main(void *arg)
{
    plain_t *p = arg;
    run_t warm = p->run;
    warm.n = WARMUP;
    run_ops(&warm);
    p->run.bad += warm.bad;
    atomic_store_explicit(&p->done, 1, memory_order_release);
    while (!atomic_load_explicit(&p->go, memory_order_acquire)) px_test_sleep_us(100);
    run_ops(&p->run);
    atomic_store_explicit(&p->done, 2, memory_order_release); /* pairs with the test's wait */
    return NULL;
}

static void exec_caller(void *arg) { run_ops(arg); }

static void test_alloc_zero_from_plain_thread_and_executor(void **state)
{
    (void)state;
    install_counters();
    for (size_t m = 0; m < PX_TEST_NMODES; m++) {
        px_thread_t *t = px_test_create(px_test_modes[m], 0, "alloc-target");
        px_thread_t *b = px_test_create(px_test_modes[m], 0, "alloc-caller");
        sink_t sink;
        memset(&sink, 0, sizeof sink);
        px_test_flush(t);
        int n = ops() / 5;
        plain_t p = {.run = {.t = t, .sink = &sink, .n = n}};
        px_test_thread_t th;
        px_test_thread_start(&th, plain_main, &p); /* thread start-up allocates: before counting */
        assert_true(px_test_wait_at_least(&p.done, 1, PX_TEST_BOUND_NS));
        run_t warm = {.t = t, .sink = &sink, .n = WARMUP};
        assert_int_equal(px_call(b, exec_caller, &warm), 0);

        run_t er = {.t = t, .sink = &sink, .n = n};
        counting_on();
        atomic_store_explicit(&p.go, 1, memory_order_release);
        assert_int_equal(px_call(b, exec_caller, &er), 0); /* concurrently with the plain thread */
        assert_true(px_test_wait_at_least(&p.done, 2, PX_TEST_BOUND_NS));
        px_test_flush(t);
        counting_off();
        unsigned long a = atomic_load(&allocs), f = atomic_load(&frees);
        px_test_thread_join(&th);
        assert_int_equal(p.run.bad, 0);
        assert_int_equal(er.bad, 0);
        assert_int_equal(warm.bad, 0);
        check_sink(&sink, (unsigned long)(2 * WARMUP + 2 * n));
        if (a || f)
            fail_msg("%s: %lu allocations and %lu frees (plain thread and executor callers)",
                     px_test_mode_name(px_test_modes[m]), a, f);
        px_test_destroy(b);
        px_test_destroy(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_counter_sees_allocations),
        cmocka_unit_test(test_alloc_zero_from_main_adaptive),
        cmocka_unit_test(test_alloc_zero_from_main_spin),
        cmocka_unit_test(test_alloc_zero_from_main_sleep),
        cmocka_unit_test(test_alloc_zero_from_plain_thread_and_executor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
