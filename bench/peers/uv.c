/*
 * libuv: a uv_loop_t run by a dedicated thread; a mutex-protected queue of
 * requests is drained by a uv_async_t callback. A call queues a request in
 * the caller's frame, uv_async_send()s and waits on a uv_sem_t; a post
 * mallocs its request. (libuv coalesces async sends: one callback may run
 * many requests.)
 */
#include "peer.h"

#ifdef PX_PEER_UV

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <uv.h>

typedef struct uvreq {
    struct uvreq *next;
    void (*fn)(void *);
    void *arg;
    uv_sem_t *done; /* call: posted after fn; post: NULL, the request is freed */
} uvreq_t;

typedef struct uvpeer {
    uv_loop_t loop;
    uv_async_t async;
    uv_mutex_t mu; /* head, tail, stop */
    uvreq_t *head, *tail;
    bool stop;
    int cpu, err;
    uv_thread_t th;
    uv_sem_t started;
} uvpeer_t;

static void on_async(uv_async_t *a)
{
    uvpeer_t *p = a->data;
    uv_mutex_lock(&p->mu);
    uvreq_t *list = p->head;
    p->head = p->tail = NULL;
    bool stop = p->stop;
    uv_mutex_unlock(&p->mu);
    while (list) {
        uvreq_t *q = list;
        list = q->next; /* read before the caller may reuse q */
        q->fn(q->arg);
        if (q->done) uv_sem_post(q->done);
        else free(q);
    }
    if (stop) uv_close((uv_handle_t *)&p->async, NULL);
}

static void loop_thread(void *arg)
{
    uvpeer_t *p = arg;
    pxb_pin_self(p->cpu);
    p->err = uv_loop_init(&p->loop);
    if (p->err == 0) {
        p->err = uv_async_init(&p->loop, &p->async, on_async);
        if (p->err) uv_loop_close(&p->loop);
    }
    p->async.data = p;
    int ok = p->err == 0;
    uv_sem_post(&p->started);
    if (!ok) return;
    uv_run(&p->loop, UV_RUN_DEFAULT); /* until the async handle is closed */
    uv_loop_close(&p->loop);
}

static int create(void **out, int cpu)
{
    uvpeer_t *p = calloc(1, sizeof *p);
    if (p == NULL) return -ENOMEM;
    p->cpu = cpu;
    int r = uv_mutex_init(&p->mu);
    if (r == 0) r = uv_sem_init(&p->started, 0);
    if (r == 0) {
        r = uv_thread_create(&p->th, loop_thread, p);
        if (r == 0) {
            uv_sem_wait(&p->started);
            r = p->err;
            if (r) uv_thread_join(&p->th);
        }
        uv_sem_destroy(&p->started);
    }
    if (r) {
        free(p);
        return r < 0 ? r : -r;
    }
    *out = p;
    return 0;
}

static void push(uvpeer_t *p, uvreq_t *q)
{
    q->next = NULL;
    uv_mutex_lock(&p->mu);
    if (p->tail) p->tail->next = q;
    else p->head = q;
    p->tail = q;
    uv_mutex_unlock(&p->mu);
    uv_async_send(&p->async);
}

static int call(void *exec, void (*fn)(void *), void *arg)
{
    uvpeer_t *p = exec;
    uv_sem_t done;
    if (uv_sem_init(&done, 0)) return -ENOMEM;
    uvreq_t q = {.fn = fn, .arg = arg, .done = &done};
    push(p, &q);
    uv_sem_wait(&done);
    uv_sem_destroy(&done);
    return 0;
}

static int post(void *exec, void (*fn)(void *), void *arg)
{
    uvpeer_t *p = exec;
    uvreq_t *q = malloc(sizeof *q);
    if (q == NULL) return -ENOMEM;
    q->fn = fn;
    q->arg = arg;
    q->done = NULL;
    push(p, q);
    return 0;
}

static void destroy(void *exec)
{
    uvpeer_t *p = exec;
    uv_mutex_lock(&p->mu);
    p->stop = true;
    uv_mutex_unlock(&p->mu);
    uv_async_send(&p->async);
    uv_thread_join(&p->th);
    uv_mutex_destroy(&p->mu);
    free(p);
}

const pxb_peer_t pxb_peer_uv = {
    .name = "uv",
    .plain = "a libuv async handle",
    .about = "libuv: uv_async_send to a loop thread draining a mutex-protected queue, waits on a "
             "uv_sem_t",
    .create = create,
    .call = call,
    .post = post,
    .destroy = destroy,
};

#else
typedef int pxb_peer_uv_not_built; /* ISO C forbids an empty file */
#endif
