/*
 * Placement: binding a thread (incl. ENOSYS through the fault-injection
 * hook), reading a binding back, and restricted processes.
 *
 * The allowed set is captured when the library loads, so the
 * restricted-process cases (EXDEV, narrowing on the real machine, "a thread
 * that pins itself later restricts nothing") re-exec this program as a child
 * with a narrower affinity: `test_placement_binding --child MODE ARGS...`.
 *
 * cmocka is not thread-safe: helper threads record, the test thread asserts.
 */
#include "placement_test.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static char self_exe[4096];

/* ---- binding ------------------------------------------------------------ */

struct pin {
    int cpu;
    int resolve_r, bind_r, read_r;
    char got[64], kernel[64];
};

static void affinity_text(char *buf, size_t len)
{
    cpu_set_t s;
    buf[0] = '\0';
    if (sched_getaffinity(0, sizeof s, &s) != 0) return;
    hwloc_bitmap_t b = hwloc_bitmap_alloc();
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &s)) hwloc_bitmap_set(b, (unsigned)i);
    hwloc_bitmap_list_snprintf(buf, len, b);
    hwloc_bitmap_free(b);
}

static void *pin_thread(void *arg)
{
    struct pin *p = arg;
    char spec[16];
    snprintf(spec, sizeof spec, "%d", p->cpu);
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    p->resolve_r = px__placement_resolve(spec, PX_PIN_STRICT, s);
    p->bind_r = p->resolve_r ? -1 : px__placement_bind_self(s, PX_PIN_STRICT);
    p->read_r = px__placement_thread_cpus(my_tid(), p->got, sizeof p->got);
    affinity_text(p->kernel, sizeof p->kernel);
    hwloc_bitmap_free(s);
    return NULL;
}

/* A thread bound to each allowed CPU reads back that CPU (hwloc and the kernel). */
static void test_placement_bind_self_pins_thread(void **state)
{
    (void)state;
    for (int i = 0; i < nallowed && i < 16; i++) {
        struct pin p = {.cpu = allowed_cpus[i]};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, pin_thread, &p), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        char want[16];
        snprintf(want, sizeof want, "%d", p.cpu);
        assert_int_equal(p.resolve_r, 0);
        assert_int_equal(p.bind_r, 0);
        assert_int_equal(p.read_r, 0);
        assert_string_equal(p.got, want);
        assert_string_equal(p.kernel, want);
    }
}

static void test_placement_bind_rejects_bad_sets(void **state)
{
    (void)state;
    assert_int_equal(px__placement_bind_self(NULL, 0), -EINVAL);
    assert_string_equal(px_last_error(), "cannot bind a thread: no CPU set");
    hwloc_bitmap_t empty = hwloc_bitmap_alloc();
    assert_int_equal(px__placement_bind_self(empty, 0), -EINVAL);
    assert_string_equal(px_last_error(), "cannot bind a thread to an empty CPU set");
    hwloc_bitmap_free(empty);
}

#ifdef PX_TEST_HOOKS
struct enosys_run {
    int cpu;
    char before[64], after_lenient[64], after_oneshot[64];
    int r_lenient, r_strict, r_positive, r_eperm, r_einval_strict, r_oneshot;
    char msg_strict[256], msg_eperm[256];
};

static void *enosys_thread(void *arg)
{
    struct enosys_run *e = arg;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_only(s, (unsigned)e->cpu);
    px__placement_thread_cpus(0, e->before, sizeof e->before);

    px__placement_test_fail_bind(-ENOSYS); /* lenient: runs unpinned */
    e->r_lenient = px__placement_bind_self(s, 0);
    px__placement_thread_cpus(0, e->after_lenient, sizeof e->after_lenient);

    px__placement_test_fail_bind(-ENOSYS); /* strict: an error */
    e->r_strict = px__placement_bind_self(s, PX_PIN_STRICT);
    snprintf(e->msg_strict, sizeof e->msg_strict, "%s", px_last_error());

    px__placement_test_fail_bind(ENOSYS); /* a positive errno means the same */
    e->r_positive = px__placement_bind_self(s, PX_PIN_STRICT);

    px__placement_test_fail_bind(-EPERM); /* other refusals fail either way */
    e->r_eperm = px__placement_bind_self(s, 0);
    snprintf(e->msg_eperm, sizeof e->msg_eperm, "%s", px_last_error());
    px__placement_test_fail_bind(-EINVAL);
    e->r_einval_strict = px__placement_bind_self(s, PX_PIN_STRICT);

    e->r_oneshot = px__placement_bind_self(s, PX_PIN_STRICT); /* the hook was consumed */
    px__placement_thread_cpus(0, e->after_oneshot, sizeof e->after_oneshot);
    hwloc_bitmap_free(s);
    return NULL;
}

/* ENOSYS (injected): 0 and unpinned, or -ENOSYS with PX_PIN_STRICT; other
 * errors always fail; the hook fires once. */
static void test_placement_bind_enosys_via_hook(void **state)
{
    (void)state;
    struct enosys_run e = {.cpu = allowed_cpus[nallowed - 1]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, enosys_thread, &e), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    char want[16], msg[128];
    snprintf(want, sizeof want, "%d", e.cpu);
    assert_int_equal(e.r_lenient, 0);
    assert_string_equal(e.after_lenient, e.before); /* still unpinned */
    assert_int_equal(e.r_strict, -ENOSYS);
    snprintf(msg, sizeof msg,
             "cannot bind the thread to CPUs %d: the OS does not support thread binding "
             "(PX_PIN_STRICT)",
             e.cpu);
    assert_string_equal(e.msg_strict, msg);
    assert_int_equal(e.r_positive, -ENOSYS);
    assert_int_equal(e.r_eperm, -EPERM);
    snprintf(msg, sizeof msg, "binding the thread to CPUs %d failed: %s", e.cpu,
             px_strerror(-EPERM));
    assert_string_equal(e.msg_eperm, msg);
    /* Issue 15, defect 6: the kernel's EINVAL is not a bad spec's -EINVAL. */
    assert_int_equal(e.r_einval_strict, -EXDEV);
    assert_int_equal(e.r_oneshot, 0);
    assert_string_equal(e.after_oneshot, want);
}
#else
static void test_placement_bind_enosys_via_hook(void **state)
{
    (void)state;
    skip(); /* built without PX_TEST_HOOKS */
}
#endif

/* ---- reading a binding back --------------------------------------------- */

struct held {
    int cpu;
    long tid;
    int bind_r;
    pthread_barrier_t *bar;
};

static void *held_thread(void *arg)
{
    struct held *h = arg;
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    hwloc_bitmap_only(s, (unsigned)h->cpu);
    h->bind_r = px__placement_bind_self(s, PX_PIN_STRICT);
    hwloc_bitmap_free(s);
    h->tid = my_tid();
    pthread_barrier_wait(h->bar); /* the test thread reads our binding now */
    pthread_barrier_wait(h->bar);
    return NULL;
}

/* The binding of the caller (tid or 0) and of another thread, read by tid. */
static void test_placement_thread_cpus_reads_binding(void **state)
{
    (void)state;
    char want[256], got[256];
    affinity_text(want, sizeof want);
    assert_int_equal(px__placement_thread_cpus(my_tid(), got, sizeof got), 0);
    assert_string_equal(got, want);
    assert_int_equal(px__placement_thread_cpus(0, got, sizeof got), 0);
    assert_string_equal(got, want);

    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    struct held h = {.cpu = allowed_cpus[nallowed - 1], .bar = &bar};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, held_thread, &h), 0);
    pthread_barrier_wait(&bar);
    int r = px__placement_thread_cpus(h.tid, got, sizeof got);
    pthread_barrier_wait(&bar);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_barrier_destroy(&bar);
    assert_int_equal(h.bind_r, 0);
    assert_int_equal(r, 0);
    snprintf(want, sizeof want, "%d", h.cpu);
    assert_string_equal(got, want);
}

/* -ERANGE with a truncated, NUL-terminated string; bad arguments. */
static void test_placement_thread_cpus_errors(void **state)
{
    (void)state;
    char full[256], buf[256];
    assert_int_equal(px__placement_thread_cpus(0, full, sizeof full), 0);
    size_t len = strlen(full);
    assert_true(len >= 1);
    assert_int_equal(px__placement_thread_cpus(0, buf, len + 1), 0);
    assert_string_equal(buf, full);
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, len), -ERANGE);
    assert_int_equal(strlen(buf), len - 1);
    assert_memory_equal(buf, full, len - 1);
    assert_non_null(strstr(px_last_error(), "needs"));
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, 1), -ERANGE);
    assert_string_equal(buf, "");
    memset(buf, 'X', sizeof buf);
    assert_int_equal(px__placement_thread_cpus(0, buf, 0), -ERANGE);
    assert_int_equal(buf[0], 'X'); /* len 0: nothing written */
    assert_int_equal(px__placement_thread_cpus(0, NULL, 16), -EINVAL);
    assert_int_equal(px__placement_thread_cpus(-1, buf, sizeof buf), -EINVAL);
    assert_int_equal(px__placement_thread_cpus((long)INT_MAX + 1, buf, sizeof buf), -EINVAL);
    /* Above any pid_max: no such thread. */
    assert_int_equal(px__placement_thread_cpus(INT_MAX, buf, sizeof buf), -ESRCH);
    assert_non_null(strstr(px_last_error(), "2147483647"));
}

/* ---- restricted processes ----------------------------------------------- */

/*
 * Run this program as `--child ARGS...`: with its affinity set to the single
 * CPU pin_cpu first (>= 0), and through `taskset -c pin_cpu` when via_taskset.
 * Returns the child's exit status, or -1 after killing it at the deadline.
 */
static int run_child(int pin_cpu, int via_taskset, const char *const *args)
{
    char cpu[16];
    snprintf(cpu, sizeof cpu, "%d", pin_cpu);
    const char *argv[16];
    int n = 0;
    if (via_taskset) {
        argv[n++] = "taskset";
        argv[n++] = "-c";
        argv[n++] = cpu;
    }
    argv[n++] = self_exe;
    argv[n++] = "--child";
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!via_taskset && pin_cpu >= 0) {
            cpu_set_t s;
            CPU_ZERO(&s);
            CPU_SET(pin_cpu, &s);
            if (sched_setaffinity(0, sizeof s, &s) != 0) _exit(126);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (int waited = 0; waited < 6000; waited++) { /* 60 s */
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (w < 0 && errno != EINTR) return -1;
        nanosleep(&nap, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* The real machine under taskset: EXDEV, narrowing and STRICT (child mode
 * "restricted A B"). Both ways of restricting: sched_setaffinity before exec,
 * and the taskset tool. */
static void test_placement_restricted_process(void **state)
{
    (void)state;
    if (nallowed < 2) {
        skip(); /* needs two allowed CPUs: one to keep, one to lose */
        return;
    }
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", allowed_cpus[0]);
    snprintf(b, sizeof b, "%d", allowed_cpus[1]);
    const char *const args[] = {"restricted", a, b, NULL};
    assert_int_equal(run_child(allowed_cpus[0], 0, args), 0);
    if (access("/usr/bin/taskset", X_OK) == 0 || access("/bin/taskset", X_OK) == 0)
        assert_int_equal(run_child(allowed_cpus[0], 1, args), 0);
}

/* Pinning the main thread after load restricts nothing (child mode "late-pin A FULL"). */
static void test_placement_late_pin_restricts_nothing(void **state)
{
    (void)state;
    if (nallowed < 2) {
        skip();
        return;
    }
    char a[16], b[16], full[256];
    snprintf(a, sizeof a, "%d", allowed_cpus[0]);
    snprintf(b, sizeof b, "%d", allowed_cpus[1]);
    list_text(px__allowed_cpuset(), full, sizeof full);
    const char *const args[] = {"late-pin", a, b, full, NULL};
    assert_int_equal(run_child(-1, 0, args), 0);
}

/* ---- child modes -------------------------------------------------------- */

static int child_failures;

static void child_report(int failed, const char *why)
{
    if (!failed) return;
    fprintf(stderr, "child FAIL: %s\n", why);
    child_failures++;
}

#define CHILD_OK(spec, flags, want)                                             \
    do {                                                                        \
        char why_[WHY_LEN];                                                     \
        child_report(try_ok((spec), (flags), (want), why_, sizeof why_), why_); \
    } while (0)
#define CHILD_ERR(spec, flags, err, msg, exact)                                                 \
    do {                                                                                        \
        char why_[WHY_LEN];                                                                     \
        child_report(try_err((spec), (flags), (err), (msg), (exact), why_, sizeof why_), why_); \
    } while (0)
#define CHILD_TRUE(cond)                     \
    do {                                     \
        if (!(cond)) child_report(1, #cond); \
    } while (0)

/* Allowed set {a}; b is a CPU of the machine outside it. */
static void child_restricted(const char *a, const char *b)
{
    char got[256], spec[64], msg[600];
    list_text(px__allowed_cpuset(), got, sizeof got);
    if (strcmp(got, a) != 0) {
        snprintf(msg, sizeof msg, "allowed set is %s, want %s", got, a);
        child_report(1, msg);
    }
    CHILD_OK(NULL, 0, a);
    CHILD_OK("", PX_PIN_STRICT, a);
    CHILD_OK(a, PX_PIN_STRICT, a);
    snprintf(msg, sizeof msg, "\"%s\": CPUs %s lie outside the process's allowed set %s", b, b, a);
    CHILD_ERR(b, 0, -EXDEV, msg, 1);
    CHILD_ERR(b, PX_PIN_STRICT, -EXDEV, msg, 1);
    snprintf(spec, sizeof spec, "%s,%s", a, b);
    CHILD_OK(spec, 0, a);
    snprintf(msg, sizeof msg,
             "\"%s\": CPUs %s lie outside the process's allowed set %s (PX_PIN_STRICT)", spec, b,
             a);
    CHILD_ERR(spec, PX_PIN_STRICT, -EXDEV, msg, 1);
    CHILD_OK("all", 0, a);
    CHILD_ERR("all", PX_PIN_STRICT, -EXDEV, "lie outside the process's allowed set", 0);

    /* Logical indexes still count every PU of the machine. */
    hwloc_topology_t t = px__topology();
    hwloc_obj_t pa = hwloc_get_pu_obj_by_os_index(t, (unsigned)atoi(a));
    hwloc_obj_t pb = hwloc_get_pu_obj_by_os_index(t, (unsigned)atoi(b));
    CHILD_TRUE(pa != NULL && pb != NULL);
    if (pa && pb) {
        snprintf(spec, sizeof spec, "pu:%u", pa->logical_index);
        CHILD_OK(spec, PX_PIN_STRICT, a);
        snprintf(spec, sizeof spec, "pu:%u", pb->logical_index);
        CHILD_ERR(spec, 0, -EXDEV, "lie outside the process's allowed set", 0);
    }
    CHILD_TRUE(hwloc_bitmap_weight(hwloc_topology_get_topology_cpuset(t)) >= 2);

    /* Binding works within the set and reads back. */
    hwloc_bitmap_t s = hwloc_bitmap_alloc();
    CHILD_TRUE(px__placement_resolve(NULL, PX_PIN_STRICT, s) == 0);
    CHILD_TRUE(px__placement_bind_self(s, PX_PIN_STRICT) == 0);
    CHILD_TRUE(px__placement_thread_cpus(0, got, sizeof got) == 0 && strcmp(got, a) == 0);
    hwloc_bitmap_free(s);
}

/* Started unrestricted (allowed set full); the main thread pins itself to a
 * before the first placement call: the allowed set stays full. */
static void child_late_pin(const char *a, const char *b, const char *full)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(atoi(a), &s);
    CHILD_TRUE(sched_setaffinity(0, sizeof s, &s) == 0);
    char got[256], msg[512];
    list_text(px__allowed_cpuset(), got, sizeof got);
    if (strcmp(got, full) != 0) {
        snprintf(msg, sizeof msg, "allowed set is %s after a late pin, want %s", got, full);
        child_report(1, msg);
    }
    CHILD_OK(b, PX_PIN_STRICT, b);
    CHILD_OK(NULL, 0, full);
}

static int child_main(int argc, char **argv)
{
    alarm(30); /* bounded: SIGALRM ends a hung child */
    if (argc == 3 && strcmp(argv[0], "restricted") == 0) {
        child_restricted(argv[1], argv[2]);
    } else if (argc == 4 && strcmp(argv[0], "late-pin") == 0) {
        child_late_pin(argv[1], argv[2], argv[3]);
    } else {
        fprintf(stderr, "child: unknown mode\n");
        return 2;
    }
    return child_failures ? 1 : 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--child") == 0) return child_main(argc - 2, argv + 2);

    if (placement_test_init() != 0) return 1;
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0) {
        perror("readlink /proc/self/exe");
        return 1;
    }
    self_exe[n] = '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_bind_self_pins_thread),
        cmocka_unit_test(test_placement_bind_rejects_bad_sets),
        cmocka_unit_test(test_placement_bind_enosys_via_hook),
        cmocka_unit_test(test_placement_thread_cpus_reads_binding),
        cmocka_unit_test(test_placement_thread_cpus_errors),
        cmocka_unit_test(test_placement_restricted_process),
        cmocka_unit_test(test_placement_late_pin_restricts_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
