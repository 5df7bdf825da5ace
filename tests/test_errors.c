/*
 * Bad input and error reporting: NULL executor, function or out pointer,
 * unknown flags, bad wait mode, too large a capacity -> -EINVAL with a
 * px_last_error() text naming the value; nothing runs, nothing crashes.
 * px_strerror for every errno the API returns; px_version.
 */
#include <limits.h>

#include "px_test.h"

/* px_last_error() is sticky: a failing call that sets no text of its own
 * leaves the previous one. So each check first writes this poison, and a text
 * still equal to it after the call is the call's own failure to say why. */
#define POISON "(poison: the call under test set no error text)"

static void poison_error(void)
{
    px_error_set(0, "%s", POISON);
    assert_string_equal(px_last_error(), POISON);
}

/* The last error is the failing call's own (not the poison), non-empty and,
 * when given, mentions `needle`. */
static void check_error_text(const char *needle)
{
    const char *e = px_last_error();
    assert_non_null(e);
    if (strcmp(e, POISON) == 0) fail_msg("the failing call set no px_last_error() text");
    assert_true(strlen(e) > 0);
    if (needle && !strstr(e, needle))
        fail_msg("px_last_error() \"%s\" does not mention \"%s\"", e, needle);
}

/* `call` returns `rc` and sets a px_last_error() text of its own that
 * mentions `needle` (NULL: any text). */
#define EXPECT_ERROR(call, rc, needle)  \
    do {                                \
        poison_error();                 \
        assert_int_equal((call), (rc)); \
        check_error_text(needle);       \
    } while (0)

/* px_test_bump counts runs in px_test_runs (written on executors only, read
 * after a flush). */
static void test_errors_null_executor(void **state)
{
    (void)state;
    void *res = &res;
    EXPECT_ERROR(px_call(NULL, px_test_bump, NULL), -EINVAL, "NULL");
    EXPECT_ERROR(px_call_v(NULL, px_test_bump_v, NULL, &res), -EINVAL, "NULL");
    assert_ptr_equal(res, &res);
    EXPECT_ERROR(px_post(NULL, px_test_bump, NULL), -EINVAL, "NULL");
    EXPECT_ERROR(px_try_post(NULL, px_test_bump, NULL), -EINVAL, "NULL");
    EXPECT_ERROR(px_thread_destroy(NULL), -EINVAL, "NULL");
    px_stats_t s = {.size = sizeof s};
    EXPECT_ERROR(px_thread_stats(NULL, &s), -EINVAL, "NULL");
    char buf[64];
    EXPECT_ERROR(px_thread_cpus(NULL, buf, sizeof buf), -EINVAL, "NULL");
    EXPECT_ERROR(px_thread_tid(NULL), -EINVAL, "NULL");
    assert_null(px_thread_name(NULL));
    assert_int_equal(px_test_runs, 0);
}

static void test_errors_null_function_and_out(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_ADAPTIVE, 0, "errs");
    px_test_runs = 0;
    px_test_flush(t);
    void *res = &res;
    EXPECT_ERROR(px_call(t, NULL, NULL), -EINVAL, "function");
    EXPECT_ERROR(px_call_v(t, NULL, NULL, &res), -EINVAL, "function");
    assert_ptr_equal(res, &res);
    EXPECT_ERROR(px_post(t, NULL, NULL), -EINVAL, "function");
    EXPECT_ERROR(px_try_post(t, NULL, NULL), -EINVAL, "function");
    EXPECT_ERROR(px_thread_stats(t, NULL), -EINVAL, "NULL");
    EXPECT_ERROR(px_thread_cpus(t, NULL, 16), -EINVAL, "NULL");
    EXPECT_ERROR(px_thread_create(NULL, NULL), -EINVAL, "NULL");
    px_thread_options_t o = {.size = sizeof o, .name = "x"};
    EXPECT_ERROR(px_thread_create(NULL, &o), -EINVAL, NULL);
    /* The executor is unharmed and nothing ran. */
    px_test_flush(t);
    assert_int_equal(px_test_runs, 0);
    px_stats_t s = px_test_stats(t);
    assert_int_equal(s.calls, 2); /* the two flushes */
    assert_int_equal(s.posts, 0);
    px_test_destroy(t);
}

typedef struct inner_null {
    px_thread_t *t;
    int rc[4];
    char text[4][256]; /* px_last_error() after each, the poison written before */
} inner_null_t;

static void null_from_inside(void *arg)
{
    inner_null_t *x = arg;
    for (int i = 0; i < 4; i++) {
        px_error_set(0, "%s", POISON);
        switch (i) {
        case 0: x->rc[i] = px_call(x->t, NULL, NULL); break;
        case 1: x->rc[i] = px_call_v(x->t, NULL, NULL, NULL); break;
        case 2: x->rc[i] = px_post(x->t, NULL, NULL); break;
        default: x->rc[i] = px_try_post(x->t, NULL, NULL); break;
        }
        snprintf(x->text[i], sizeof x->text[i], "%s", px_last_error());
    }
}

static void test_errors_null_function_on_own_thread(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_SLEEP, 0, NULL);
    inner_null_t x = {.t = t};
    assert_int_equal(px_call(t, null_from_inside, &x), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(x.rc[i], -EINVAL);
        if (strcmp(x.text[i], POISON) == 0) fail_msg("call %d set no px_last_error() text", i);
        if (!strstr(x.text[i], "function"))
            fail_msg("call %d: px_last_error() \"%s\" does not mention \"function\"", i, x.text[i]);
    }
    px_test_destroy(t);
}

/* Creation with bad options: -EINVAL, the value named, *out untouched. */
static void expect_create_einval(const px_thread_options_t *o, const char *needle)
{
    px_thread_t *sentinel = (px_thread_t *)&sentinel;
    px_thread_t *t = sentinel;
    poison_error();
    assert_int_equal(px_thread_create(&t, o), -EINVAL);
    assert_ptr_equal(t, sentinel);
    check_error_text(needle);
}

static void test_errors_bad_options(void **state)
{
    (void)state;
    expect_create_einval(
        &(px_thread_options_t){.size = sizeof(px_thread_options_t), .flags = 1u << 5}, "0x20");
    expect_create_einval(&(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                .flags = PX_PIN_STRICT | 0x80000000u},
                         "0x80000000");
    expect_create_einval(
        &(px_thread_options_t){.size = sizeof(px_thread_options_t), .wait = (px_wait_t)3}, "3");
    expect_create_einval(
        &(px_thread_options_t){.size = sizeof(px_thread_options_t), .wait = (px_wait_t)-1}, "-1");
    expect_create_einval(
        &(px_thread_options_t){.size = sizeof(px_thread_options_t), .wait = (px_wait_t)77}, "77");
    expect_create_einval(&(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                .capacity = PX_CAPACITY_MAX + 1},
                         "1048577");
    expect_create_einval(
        &(px_thread_options_t){.size = sizeof(px_thread_options_t), .capacity = 3000000},
        "3000000");
    /* The largest valid values are fine. */
    px_thread_t *t = NULL;
    px_thread_options_t ok = {
        .size = sizeof ok, .wait = PX_WAIT_SLEEP, .flags = 0, .capacity = PX_CAPACITY_MAX};
    assert_int_equal(px_thread_create(&t, &ok), 0);
    px_test_destroy(t);
    /* NULL options: the defaults. */
    t = NULL;
    assert_int_equal(px_thread_create(&t, NULL), 0);
    px_test_flush(t);
    px_test_destroy(t);
}

static void test_errors_destroy_main_executor(void **state)
{
    (void)state;
    EXPECT_ERROR(px_thread_destroy(px_mainthread()), -EINVAL, "main");
    /* The main executor still works (inline on the main thread). */
    px_test_runs = 0;
    assert_int_equal(px_call(px_mainthread(), px_test_bump, NULL), 0);
    assert_int_equal(px_test_runs, 1);
}

/* The last error is per thread. */
typedef struct err_thread {
    char seen_before[256];
    char seen_after[256];
    int rc;
} err_thread_t;

static void *other_thread_errors(void *arg)
{
    err_thread_t *e = arg;
    snprintf(e->seen_before, sizeof e->seen_before, "%s", px_last_error());
    e->rc = px_post(NULL, px_test_bump, NULL);
    snprintf(e->seen_after, sizeof e->seen_after, "%s", px_last_error());
    return NULL;
}

static void test_errors_last_error_is_per_thread(void **state)
{
    (void)state;
    px_thread_options_t o = {.size = sizeof o, .capacity = PX_CAPACITY_MAX * 2};
    px_thread_t *t = NULL;
    EXPECT_ERROR(px_thread_create(&t, &o), -EINVAL, "2097152");
    char mine[256];
    snprintf(mine, sizeof mine, "%s", px_last_error());
    assert_non_null(strstr(mine, "2097152"));
    err_thread_t e;
    memset(&e, 0, sizeof e);
    px_test_thread_t th;
    px_test_thread_start(&th, other_thread_errors, &e);
    px_test_thread_join(&th);
    assert_string_equal(e.seen_before, ""); /* a fresh thread has no error */
    assert_int_equal(e.rc, -EINVAL);
    assert_true(strlen(e.seen_after) > 0);
    assert_string_equal(px_last_error(), mine); /* ours unchanged */
}

/* Every errno the API returns has its own text. */
static void test_errors_strerror(void **state)
{
    (void)state;
    static const int errs[] = {EINVAL, ESHUTDOWN, ESRCH,  EAGAIN, EDEADLK,   EXDEV,   ENOSYS,
                               EPERM,  EBUSY,     ERANGE, ENOMEM, ETIMEDOUT, EALREADY};
    const size_t n = sizeof errs / sizeof errs[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = px_strerror(-errs[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_equal(px_strerror(errs[i]), s); /* positive accepted too */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(px_strerror(-errs[j]), s) == 0)
                fail_msg("px_strerror(-%d) and px_strerror(-%d) are both \"%s\"", errs[i], errs[j],
                         s);
        }
        assert_null(strstr(s, "Unknown error"));
    }
    /* pinexec's own meaning where it differs from the C library's. */
    assert_non_null(strstr(px_strerror(-ESHUTDOWN), "shut"));
    assert_non_null(px_strerror(-ESRCH));
    assert_non_null(strstr(px_strerror(-ESRCH), "fork"));
    assert_non_null(px_strerror(0));
    assert_non_null(px_strerror(-99999));
    assert_non_null(px_strerror(INT32_MIN + 1));
}

/* Issue 15, defect 3: every int is accepted without undefined behaviour
 * (-INT_MIN overflows: UBSan stops the ASan build there), and EAGAIN's text
 * is neutral: a full ring and a thread the OS refused both return it, and
 * px_last_error() names which (test_faults checks the thread case). */
static void test_errors_strerror_any_int(void **state)
{
    (void)state;
    assert_string_equal(px_strerror(INT_MIN), "unknown error");
    assert_non_null(px_strerror(INT_MAX));
    assert_non_null(px_strerror(INT_MIN + 1));
    assert_string_equal(px_strerror(-EINVAL), px_strerror(EINVAL));
    const char *again = px_strerror(-EAGAIN);
    if (strstr(again, "ring is full") != NULL)
        fail_msg(
            "px_strerror(-EAGAIN) \"%s\" claims a full ring, also when the OS refused a thread",
            again);
    assert_non_null(strstr(again, "ring"));
    assert_non_null(strstr(again, "thread"));
}

/* ---- size-versioned structs (issue 15, defect 4) ---------------------------- */

/* The caller's error text mentions needle. */
static void expect_text(const char *needle)
{
    if (strstr(px_last_error(), needle) == NULL)
        fail_msg("px_last_error() \"%s\" does not mention \"%s\"", px_last_error(), needle);
}

/* A newer caller: this library's struct followed by fields it does not know. */
typedef struct newer_options {
    px_thread_options_t o;
    uint64_t future[3];
} newer_options_t;

typedef struct newer_stats {
    px_stats_t s;
    uint64_t future[3];
} newer_stats_t;

/* The end of px_stats_t's first version (max_depth): an older caller's size. */
#define STATS_SIZE_0_1 (offsetof(px_stats_t, max_depth) + sizeof(uint32_t))

static void test_errors_options_size_versioned(void **state)
{
    (void)state;
    px_thread_t *t = NULL;
    /* Too small: 0 (forgotten) and below the first version, named. */
    px_thread_options_t o = {.name = "v"};
    assert_int_equal(px_thread_create(&t, &o), -EINVAL);
    expect_text("opts->size is 0");
    o.size = offsetof(px_thread_options_t, flags);
    assert_int_equal(px_thread_attach(&t, &o), -EINVAL);
    expect_text("px_thread_attach: opts->size is 36");
    assert_null(t);
    /* A newer caller whose extra fields are zero: accepted, and the known
     * fields are read (the name). */
    newer_options_t n;
    memset(&n, 0, sizeof n);
    n.o.size = sizeof n;
    n.o.name = "newer";
    assert_int_equal(px_thread_create(&t, &n.o), 0);
    assert_string_equal(px_thread_name(t), "newer");
    px_test_destroy(t);
    t = NULL;
    /* ...asking for something this library does not know: refused, named. */
    n.future[1] = 1;
    assert_int_equal(px_thread_create(&t, &n.o), -EINVAL);
    expect_text("does not know");
    char want[64];
    snprintf(want, sizeof want, "byte %zu", sizeof(px_thread_options_t) + 8);
    expect_text(want);
    assert_null(t);
    /* The initialiser: size set, the rest the defaults. */
    px_thread_options_t d = PX_THREAD_OPTIONS_INIT;
    assert_int_equal(d.size, sizeof d);
    assert_int_equal(px_thread_create(&t, &d), 0);
    px_test_destroy(t);
}

static void test_errors_stats_size_versioned(void **state)
{
    (void)state;
    px_thread_t *t = px_test_create(PX_WAIT_ADAPTIVE, 0, "stats-abi");
    px_test_flush(t);
    /* Too small (0: forgotten): -EINVAL, nothing written. */
    px_stats_t s;
    memset(&s, 0xa5, sizeof s);
    s.size = 0;
    assert_int_equal(px_thread_stats(t, &s), -EINVAL);
    expect_text("out->size is 0");
    assert_int_equal(s.calls, 0xa5a5a5a5a5a5a5a5ull);
    /* An older caller (the first version's size, no tail padding): written up
     * to its end and not one byte further. */
    unsigned char older[sizeof(px_stats_t) + 16];
    memset(older, 0xa5, sizeof older);
    px_stats_t *o = (px_stats_t *)(void *)older;
    o->size = STATS_SIZE_0_1;
    assert_int_equal(px_thread_stats(t, o), 0);
    assert_int_equal(o->size, STATS_SIZE_0_1);
    assert_true(o->calls >= 1);
    for (size_t k = STATS_SIZE_0_1; k < sizeof older; k++)
        if (older[k] != 0xa5)
            fail_msg("px_thread_stats wrote byte %zu of a %zu-byte struct", k,
                     (size_t)STATS_SIZE_0_1);
    /* A newer (larger) caller: its known fields are filled, its extra ones
     * left as they were. */
    newer_stats_t n;
    memset(&n, 0xa5, sizeof n);
    n.s.size = sizeof n;
    assert_int_equal(px_thread_stats(t, &n.s), 0);
    assert_int_equal(n.s.size, sizeof n);
    assert_true(n.s.calls >= 1);
    assert_true(n.s.max_depth < 0xa5a5a5a5u);
    for (int k = 0; k < 3; k++) assert_int_equal(n.future[k], 0xa5a5a5a5a5a5a5a5ull);
    px_stats_t i = PX_STATS_INIT;
    assert_int_equal(px_thread_stats(t, &i), 0);
    assert_true(i.calls >= 1);
    px_test_destroy(t);
}

static void test_errors_version(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", PX_VERSION_MAJOR, PX_VERSION_MINOR,
             PX_VERSION_PATCH);
    assert_non_null(px_version());
    assert_string_equal(px_version(), expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_null_executor),
        cmocka_unit_test(test_errors_null_function_and_out),
        cmocka_unit_test(test_errors_null_function_on_own_thread),
        cmocka_unit_test(test_errors_bad_options),
        cmocka_unit_test(test_errors_destroy_main_executor),
        cmocka_unit_test(test_errors_last_error_is_per_thread),
        cmocka_unit_test(test_errors_strerror),
        cmocka_unit_test(test_errors_strerror_any_int),
        cmocka_unit_test(test_errors_options_size_versioned),
        cmocka_unit_test(test_errors_stats_size_versioned),
        cmocka_unit_test(test_errors_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
