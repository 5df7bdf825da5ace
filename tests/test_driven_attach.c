/*
 * Driven executors: px_thread_attach and
 * px_thread_detach. Operations only the owner may make; wrong kinds and NULL;
 * destroy refused; attach's arguments, -EBUSY, names and placement; a detach
 * that runs what was accepted and refuses the rest. The owner harness:
 * driven_test.h.
 */
#include "driven_test.h"

/* A wake hook for calls expected to be refused. */
static void wake_noop(void *ctx) { (void)ctx; }

/* ---- owner-only operations -------------------------------------------------------------- */

typedef struct foreign {
    px_thread_t *t;
    int drain, serve, serve0, set_wake, detach, fd;
    bool check_detach;
} foreign_t;

static void foreign_try(foreign_t *f)
{
    f->drain = px_drain(f->t, 0);
    f->serve = px_serve(f->t, -1); /* must not wait */
    f->serve0 = px_serve(f->t, 0);
    f->set_wake = px_thread_set_wake(f->t, wake_noop, NULL);
    if (f->check_detach) f->detach = px_thread_detach(f->t);
    f->fd = px_thread_fd(f->t);
}

static void *foreign_main(void *arg)
{
    foreign_try(arg);
    return NULL;
}

static void foreign_fn(void *arg) { foreign_try(arg); }

static void check_foreign(const foreign_t *f, bool detach_eperm)
{
    assert_int_equal(f->drain, -EPERM);
    assert_int_equal(f->serve, -EPERM);
    assert_int_equal(f->serve0, -EPERM);
    assert_int_equal(f->set_wake, -EPERM);
    assert_int_equal(f->detach, detach_eperm ? -EPERM : -EINVAL);
    assert_true(f->fd >= 0); /* px_thread_fd: any thread */
}

static void test_driven_owner_only(void **state)
{
    owner_t *o = *state;
    foreign_t f = {.t = o->t, .check_detach = true};
    run_on_thread(foreign_main, &f); /* a plain thread */
    check_foreign(&f, o->kind == OWNER_ATTACHED);

    px_thread_t *e; /* a thread that is another executor */
    assert_int_equal(px_thread_create(&e, NULL), 0);
    foreign_t g = {.t = o->t, .check_detach = true};
    assert_int_equal(px_call(e, foreign_fn, &g), 0);
    assert_int_equal(px_thread_destroy(e), 0);
    check_foreign(&g, o->kind == OWNER_ATTACHED);

    if (o->kind == OWNER_ATTACHED) { /* the test thread: the main executor's owner */
        foreign_t h = {.t = o->t, .check_detach = true};
        foreign_try(&h);
        check_foreign(&h, true);
    }
    /* The executor still works for its owner. */
    log_reset();
    post_from_thread(o->t, 0, 1);
    assert_int_equal(drain(o, 0), 1);
}

/* ---- wrong kinds and NULL --------------------------------------------------------------- */

static void test_driven_wrong_kind(void **state)
{
    (void)state;
    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    assert_int_equal(px_drain(e, 0), -EINVAL);
    assert_int_equal(px_serve(e, 0), -EINVAL);
    assert_int_equal(px_serve(e, -1), -EINVAL);
    assert_int_equal(px_thread_fd(e), -EINVAL);
    assert_int_equal(px_thread_set_wake(e, wake_noop, NULL), -EINVAL);
    assert_int_equal(px_thread_detach(e), -EINVAL);
    assert_non_null(strstr(px_last_error(), "created"));
    assert_int_equal(px_thread_destroy(e), 0);

    assert_int_equal(px_drain(NULL, 0), -EINVAL);
    assert_int_equal(px_serve(NULL, 0), -EINVAL);
    assert_int_equal(px_thread_fd(NULL), -EINVAL);
    assert_int_equal(px_thread_set_wake(NULL, NULL, NULL), -EINVAL);
    assert_int_equal(px_thread_detach(NULL), -EINVAL);

    px_thread_t *m = px_mainthread();
    assert_int_equal(px_thread_detach(m), -EINVAL);
    assert_int_equal(px_thread_destroy(m), -EINVAL);
    assert_ptr_equal(px_mainthread(), m);
}

static int cmd_destroy_self(owner_t *o, void *arg)
{
    (void)arg;
    return px_thread_destroy(o->t);
}

static void test_driven_destroy_refused(void **state)
{
    owner_t *o = *state;
    assert_int_equal(px_thread_destroy(o->t), -EINVAL);             /* from another thread */
    assert_int_equal(owner_do(o, cmd_destroy_self, NULL), -EINVAL); /* from its owner */
    log_reset();
    post_from_thread(o->t, 0, 1); /* still alive */
    assert_int_equal(drain(o, 0), 1);
}

/* ---- attach: arguments, -EBUSY, names, placement --------------------------------------- */

static void test_driven_attach_bad_args_first(void **state)
{
    (void)state;
    /* This thread already is an executor (the main one): bad arguments still
     * give -EINVAL, since they are checked before anything else. */
    px_thread_t *sentinel = (px_thread_t *)0x1, *t = sentinel;
    assert_int_equal(px_thread_attach(NULL, NULL), -EINVAL);
    assert_int_equal(
        px_thread_attach(&t, &(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                    .capacity = PX_CAPACITY_MAX + 1}),
        -EINVAL);
    assert_int_equal(
        px_thread_attach(
            &t, &(px_thread_options_t){.size = sizeof(px_thread_options_t), .wait = (px_wait_t)42}),
        -EINVAL);
    assert_int_equal(
        px_thread_attach(
            &t, &(px_thread_options_t){.size = sizeof(px_thread_options_t), .flags = 0x80}),
        -EINVAL);
    assert_int_equal(
        px_thread_attach(&t, &(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                    .cpus = "no-such-spec"}),
        -EINVAL);
    assert_int_equal(px_thread_attach(&t, NULL), -EBUSY);
    assert_ptr_equal(t, sentinel);
    assert_ptr_equal(px_thread_current(), px_mainthread());
}

typedef struct attach_probe {
    int rc_bad, rc_ok, rc_again, rc_detach;
    px_thread_t *cur_after_bad, *cur_attached, *cur_after_detach, *t;
} attach_probe_t;

static void *attach_probe_main(void *arg)
{
    attach_probe_t *a = arg;
    px_thread_t *t = NULL;
    a->rc_bad = px_thread_attach(
        &t, &(px_thread_options_t){.size = sizeof(px_thread_options_t), .cpus = "no-such-spec"});
    a->cur_after_bad = px_thread_current();
    a->rc_ok = px_thread_attach(&a->t, NULL);
    a->cur_attached = px_thread_current();
    a->rc_again = px_thread_attach(&t, NULL);
    a->rc_detach = a->rc_ok == 0 ? px_thread_detach(a->t) : -1;
    a->cur_after_detach = px_thread_current();
    return NULL;
}

static void attach_in_created(void *arg)
{
    px_thread_t *t;
    *(int *)arg = px_thread_attach(&t, NULL);
}

static void test_driven_attach_busy(void **state)
{
    (void)state;
    attach_probe_t a;
    memset(&a, 0, sizeof a);
    run_on_thread(attach_probe_main, &a);
    assert_int_equal(a.rc_bad, -EINVAL);
    assert_null(a.cur_after_bad); /* a failed attach leaves nothing behind */
    assert_int_equal(a.rc_ok, 0);
    assert_ptr_equal(a.cur_attached, a.t);
    assert_int_equal(a.rc_again, -EBUSY);
    assert_int_equal(a.rc_detach, 0);
    assert_null(a.cur_after_detach);

    px_thread_t *e;
    assert_int_equal(px_thread_create(&e, NULL), 0);
    int rc = 1;
    assert_int_equal(px_call(e, attach_in_created, &rc), 0);
    assert_int_equal(rc, -EBUSY);
    assert_int_equal(px_thread_destroy(e), 0);
}

typedef struct name_probe {
    char os_name_null[32], os_name_given[32];
    char px_name_null[64], px_name_given[64];
    int rc1, rc2;
    long tid, px_tid;
} name_probe_t;

static void *name_probe_main(void *arg)
{
    name_probe_t *n = arg;
    pthread_setname_np(pthread_self(), "orig-name");
    px_thread_t *t;
    n->rc1 = px_thread_attach(&t, NULL);
    if (n->rc1 == 0) {
        pthread_getname_np(pthread_self(), n->os_name_null, sizeof n->os_name_null);
        snprintf(n->px_name_null, sizeof n->px_name_null, "%s", px_thread_name(t));
        n->tid = my_tid();
        n->px_tid = px_thread_tid(t);
        px_thread_detach(t);
    }
    n->rc2 = px_thread_attach(&t, &(px_thread_options_t){.size = sizeof(px_thread_options_t),
                                                         .name = "a-rather-long-executor-name"});
    if (n->rc2 == 0) {
        pthread_getname_np(pthread_self(), n->os_name_given, sizeof n->os_name_given);
        snprintf(n->px_name_given, sizeof n->px_name_given, "%s", px_thread_name(t));
        px_thread_detach(t);
    }
    return NULL;
}

static void test_driven_attach_names(void **state)
{
    (void)state;
    name_probe_t n;
    memset(&n, 0, sizeof n);
    run_on_thread(name_probe_main, &n);
    assert_int_equal(n.rc1, 0);
    assert_string_equal(n.os_name_null, "orig-name"); /* NULL name: left as it is */
    assert_string_equal(n.px_name_null, "orig-name");
    assert_int_equal(n.px_tid, n.tid);
    assert_int_equal(n.rc2, 0);
    assert_string_equal(n.os_name_given, "a-rather-long-e"); /* the OS keeps 15 chars */
    assert_string_equal(n.px_name_given, "a-rather-long-executor-name");
}

typedef struct place_probe {
    char spec[16];
    int rc;
    char px_cpus[64];
    cpu_set_t after;
} place_probe_t;

static void *place_probe_main(void *arg)
{
    place_probe_t *p = arg;
    px_thread_t *t;
    p->rc = px_thread_attach(
        &t, &(px_thread_options_t){.size = sizeof(px_thread_options_t), .cpus = p->spec});
    if (p->rc == 0) {
        px_thread_cpus(t, p->px_cpus, sizeof p->px_cpus);
        sched_getaffinity(0, sizeof p->after, &p->after);
        px_thread_detach(t);
    }
    return NULL;
}

static void test_driven_attach_placement(void **state)
{
    (void)state;
    cpu_set_t allowed;
    assert_int_equal(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int cpu = -1;
    for (int i = CPU_SETSIZE - 1; i >= 0; i--) /* the last allowed CPU: rarely the default */
        if (CPU_ISSET(i, &allowed)) {
            cpu = i;
            break;
        }
    assert_true(cpu >= 0);
    place_probe_t p;
    memset(&p, 0, sizeof p);
    snprintf(p.spec, sizeof p.spec, "%d", cpu);
    run_on_thread(place_probe_main, &p);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.px_cpus, p.spec);
    assert_int_equal(CPU_COUNT(&p.after), 1);
    assert_true(CPU_ISSET(cpu, &p.after));
}

/* ---- detach ------------------------------------------------------------------------------ */

typedef struct detach_probe {
    px_thread_t *t;
    long tid;
    int rc_detach, rc_self_post, rc_self_call, rc_reattach;
    px_thread_t *cur_after;
    _Atomic int go_foreign, foreign_done;
    int foreign_call, foreign_post, foreign_try_post;
    _Atomic int queued_ready;
} detach_probe_t;

static detach_probe_t dp;

static void during_detach(void *arg)
{
    (void)arg;
    item((void *)(intptr_t)99);
    dp.rc_self_post = px_post(dp.t, item, (void *)(intptr_t)-1);
    dp.rc_self_call = px_call(dp.t, item, (void *)(intptr_t)-2);
    atomic_store(&dp.go_foreign, 1);
    while (!atomic_load(&dp.foreign_done)) sched_yield();
}

static void *foreign_during_detach(void *arg)
{
    (void)arg;
    while (!atomic_load(&dp.go_foreign)) sched_yield();
    dp.foreign_call = px_call(dp.t, item, (void *)(intptr_t)-3);
    dp.foreign_post = px_post(dp.t, item, (void *)(intptr_t)-4);
    dp.foreign_try_post = px_try_post(dp.t, item, (void *)(intptr_t)-5);
    atomic_store(&dp.foreign_done, 1);
    return NULL;
}

static void *detach_owner_main(void *arg)
{
    (void)arg;
    dp.tid = my_tid();
    if (px_thread_attach(&dp.t, NULL) != 0) return NULL;
    atomic_store(&dp.queued_ready, 1);
    while (atomic_load(&dp.queued_ready) != 2) sched_yield(); /* away: the test queues work */
    dp.rc_detach = px_thread_detach(dp.t);
    dp.cur_after = px_thread_current();
    px_thread_t *t2;
    dp.rc_reattach = px_thread_attach(&t2, NULL);
    if (dp.rc_reattach == 0) px_thread_detach(t2);
    return NULL;
}

static void test_driven_detach(void **state)
{
    (void)state;
    log_reset();
    memset(&dp, 0, sizeof dp);
    dp.rc_detach = dp.rc_self_post = dp.rc_self_call = dp.rc_reattach = 1;
    pthread_t owner, foreign;
    assert_int_equal(pthread_create(&owner, NULL, detach_owner_main, NULL), 0);
    while (atomic_load(&dp.queued_ready) != 1) sched_yield();
    post_from_thread(dp.t, 0, 3);
    assert_int_equal(px_post(dp.t, during_detach, NULL), 0);
    caller_t c = {.t = dp.t, .rc = 1}; /* a call accepted before detach runs */
    assert_int_equal(pthread_create(&c.th, NULL, caller_main, &c), 0);
    struct px_thread *ti = (struct px_thread *)dp.t;
    while (atomic_load(&ti->tail) - atomic_load(&ti->head) < 5) sched_yield();
    assert_int_equal(pthread_create(&foreign, NULL, foreign_during_detach, NULL), 0);
    atomic_store(&dp.queued_ready, 2);
    pthread_join(owner, NULL);
    pthread_join(foreign, NULL);
    pthread_join(c.th, NULL);

    assert_int_equal(dp.rc_detach, 0);
    assert_int_equal(c.rc, 0);
    assert_int_equal(dp.rc_self_post, -ESHUTDOWN);
    assert_int_equal(dp.rc_self_call, -ESHUTDOWN);
    assert_int_equal(dp.foreign_call, -ESHUTDOWN);
    assert_int_equal(dp.foreign_post, -ESHUTDOWN);
    assert_int_equal(dp.foreign_try_post, -ESHUTDOWN);
    assert_null(dp.cur_after);
    assert_int_equal(dp.rc_reattach, 0);
    /* The three posts, the during_detach item, the call: all ran, on the owner. */
    assert_int_equal(atomic_load(&lg.n), 5);
    int want[5] = {0, 1, 2, 99, 100};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(lg.ids[i], want[i]);
        assert_int_equal(lg.tids[i], dp.tid);
    }
}
/* ---- registration ------------------------------------------------------------------------ */

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_driven_owner_only),
        cmocka_unit_test_setup_teardown(test_driven_destroy_refused, setup_attached,
                                        teardown_attached),
        cmocka_unit_test(test_driven_wrong_kind),
        cmocka_unit_test(test_driven_attach_busy),
        cmocka_unit_test(test_driven_attach_names),
        cmocka_unit_test(test_driven_attach_placement),
        cmocka_unit_test(test_driven_detach),
        cmocka_unit_test(test_driven_attach_bad_args_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
