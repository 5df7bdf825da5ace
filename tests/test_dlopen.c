/*
 * The main-thread executor when the library is loaded late: a thread that is not
 * the main thread dlopen()s libpinexec.so (directly, or as the dependency of a
 * plugin, tests/dlopen_helper.c). The constructor then runs on that thread,
 * and still the main-thread executor must be claimed for the process's main
 * thread: px_mainthread() non-NULL everywhere, px_is_main_thread() false on
 * the loading thread and true on the main thread, and px_main on the main
 * thread serves calls on it.
 *
 * This program does not link pinexec. Each scenario runs in a fresh process
 * (`/proc/self/exe direct|plugin`, see spawn_helper.h) so the library is not
 * loaded yet when the scenario starts.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "pinexec.h"
#include "spawn_helper.h"

#ifndef PX_LIB_PATH
#error "PX_LIB_PATH (the path of libpinexec.so) must be defined by the build"
#endif
#ifndef PX_HELPER_PATH
#error "PX_HELPER_PATH (the path of the dlopen_helper plugin) must be defined by the build"
#endif

static long my_tid(void) { return (long)syscall(SYS_gettid); }

/* The library's API, resolved with dlsym. */
typedef struct api {
    px_thread_t *(*mainthread)(void);
    bool (*is_main_thread)(void);
    px_thread_t *(*thread_current)(void);
    long (*thread_tid)(const px_thread_t *);
    const char *(*thread_name)(const px_thread_t *);
    int (*call)(px_thread_t *, px_fn, void *);
    int (*post)(px_thread_t *, px_fn, void *);
    int (*main)(int (*)(void *), void *);
    /* plugin only */
    bool (*dlh_is_main_thread)(void);
    px_thread_t *(*dlh_mainthread)(void);
    int (*dlh_call_on_main)(long *);
} api_t;

static api_t api;

#define RESOLVE(h, field, name) (*(void **)&api.field = dlsym((h), (name)))

/* What the loading thread saw. */
typedef struct loader {
    const char *path;
    bool plugin;
    bool opened, resolved;
    px_thread_t *main_seen, *current;
    bool is_main, plugin_is_main;
    px_thread_t *plugin_main_seen;
    long main_tid;
    char main_name[16];
    long tid;
    int post_rc;
    char dlerr[256];
} loader_t;

static _Atomic long posted_ran_tid;
static void record_posted(void *arg)
{
    (void)arg;
    atomic_store(&posted_ran_tid, my_tid());
}

static void *loader_main(void *arg)
{
    loader_t *l = arg;
    l->tid = my_tid();
    void *h = dlopen(l->path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(l->dlerr, sizeof l->dlerr, "%s", dlerror());
        return NULL;
    }
    l->opened = true;
    /* dlsym on a handle also searches its dependencies: libpinexec of the plugin. */
    RESOLVE(h, mainthread, "px_mainthread");
    RESOLVE(h, is_main_thread, "px_is_main_thread");
    RESOLVE(h, thread_current, "px_thread_current");
    RESOLVE(h, thread_tid, "px_thread_tid");
    RESOLVE(h, thread_name, "px_thread_name");
    RESOLVE(h, call, "px_call");
    RESOLVE(h, post, "px_post");
    RESOLVE(h, main, "px_main");
    l->resolved = api.mainthread && api.is_main_thread && api.thread_current && api.thread_tid &&
                  api.thread_name && api.call && api.post && api.main;
    if (l->plugin) {
        RESOLVE(h, dlh_is_main_thread, "dlh_is_main_thread");
        RESOLVE(h, dlh_mainthread, "dlh_mainthread");
        RESOLVE(h, dlh_call_on_main, "dlh_call_on_main");
        l->resolved =
            l->resolved && api.dlh_is_main_thread && api.dlh_mainthread && api.dlh_call_on_main;
    }
    if (!l->resolved) return NULL;
    l->main_seen = api.mainthread();
    l->is_main = api.is_main_thread();
    l->current = api.thread_current();
    if (l->main_seen) {
        l->main_tid = api.thread_tid(l->main_seen);
        snprintf(l->main_name, sizeof l->main_name, "%s", api.thread_name(l->main_seen));
    }
    if (l->plugin) {
        l->plugin_is_main = api.dlh_is_main_thread();
        l->plugin_main_seen = api.dlh_mainthread();
    }
    /* Queued before anyone serves the main executor: runs once px_main serves. */
    l->post_rc = l->main_seen ? api.post(l->main_seen, record_posted, NULL) : -1;
    return NULL;
}

static long app_call_tid, plugin_call_tid;
static int app_call_rc = 1, plugin_call_rc = 1;
static bool plugin;

static void record_tid(void *arg) { *(long *)arg = my_tid(); }

static int app(void *arg)
{
    (void)arg;
    app_call_rc = api.call(api.mainthread(), record_tid, &app_call_tid);
    if (plugin) plugin_call_rc = api.dlh_call_on_main(&plugin_call_tid);
    return 21;
}

static int scenario(bool use_plugin)
{
    plugin = use_plugin;
    /* Nothing loaded the library yet. */
    CHILD_CHECK(dlopen(PX_LIB_PATH, RTLD_NOW | RTLD_NOLOAD) == NULL);
    loader_t l = {.path = use_plugin ? PX_HELPER_PATH : PX_LIB_PATH, .plugin = use_plugin};
    pthread_t th;
    CHILD_CHECK_INT(pthread_create(&th, NULL, loader_main, &l), 0);
    pthread_join(th, NULL);
    if (!l.opened) fprintf(stderr, "dlopen: %s\n", l.dlerr);
    CHILD_CHECK(l.opened);
    CHILD_CHECK(l.resolved);
    CHILD_CHECK(l.tid != getpid());

    /* On the loading thread. */
    CHILD_CHECK(l.main_seen != NULL);
    CHILD_CHECK(!l.is_main);
    CHILD_CHECK(l.current == NULL);
    CHILD_CHECK_INT(l.main_tid, getpid());
    CHILD_CHECK(strcmp(l.main_name, "main") == 0);
    CHILD_CHECK_INT(l.post_rc, 0);
    if (use_plugin) {
        CHILD_CHECK(!l.plugin_is_main);
        CHILD_CHECK(l.plugin_main_seen == l.main_seen);
    }

    /* On the main thread. */
    CHILD_CHECK(api.mainthread() == l.main_seen);
    CHILD_CHECK(api.is_main_thread());
    CHILD_CHECK(api.thread_current() == l.main_seen);
    if (use_plugin) CHILD_CHECK(api.dlh_is_main_thread());
    CHILD_CHECK_INT(atomic_load(&posted_ran_tid), 0); /* nobody served yet */

    /* The main executor works: px_main serves calls on the main thread. */
    CHILD_CHECK_INT(api.main(app, NULL), 21);
    CHILD_CHECK_INT(app_call_rc, 0);
    CHILD_CHECK_INT(app_call_tid, getpid());
    CHILD_CHECK_INT(atomic_load(&posted_ran_tid), getpid());
    if (use_plugin) {
        CHILD_CHECK_INT(plugin_call_rc, 0);
        CHILD_CHECK_INT(plugin_call_tid, getpid());
    }
    return 0;
}

static int run_scenario(const char *name)
{
    int r;
    if (strcmp(name, "direct") == 0) r = scenario(false);
    else if (strcmp(name, "plugin") == 0) r = scenario(true);
    else {
        fprintf(stderr, "unknown scenario %s\n", name);
        return 2;
    }
    if (r == 0) printf("ok %s\n", name);
    fflush(stdout);
    return r;
}

/* ---- the cmocka side ------------------------------------------------------- */

static spawn_result_t child;

static void expect_scenario(const char *name)
{
    assert_int_equal(spawn_self(name, SPAWN_TIMEOUT_S, &child), 0);
    char want[32];
    snprintf(want, sizeof want, "ok %s\n", name);
    if (child.timed_out || !child.exited || child.status != 0 || !strstr(child.out, want))
        print_message("scenario %s: %s %d%s\n%s", name, child.signaled ? "signal" : "exit status",
                      child.status, child.timed_out ? " (timed out)" : "", child.out);
    assert_false(child.timed_out);
    assert_true(child.exited);
    assert_int_equal(child.status, 0);
    assert_non_null(strstr(child.out, want));
}

static void test_dlopen_library_from_thread(void **state)
{
    (void)state;
    expect_scenario("direct");
}

static void test_dlopen_plugin_from_thread(void **state)
{
    (void)state;
    expect_scenario("plugin");
}

int main(int argc, char **argv)
{
    if (argc > 1) return run_scenario(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dlopen_library_from_thread),
        cmocka_unit_test(test_dlopen_plugin_from_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
