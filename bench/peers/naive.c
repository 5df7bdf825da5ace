/*
 * The naive executor, as in the seed's first version: one mutex, a linked
 * queue, a condition variable for work and one for completions; every call
 * and post mallocs its node. The baseline pinexec must beat by an order of
 * magnitude.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "peer.h"

typedef struct node {
    struct node *next;
    void (*fn)(void *);
    void *arg;
    bool is_call;
    bool done; /* under mu */
} node_t;

typedef struct naive {
    pthread_mutex_t mu;
    pthread_cond_t work; /* queue non-empty, stop, or started */
    pthread_cond_t done; /* some call finished */
    node_t *head, *tail;
    bool stop, started;
    int cpu, pin_err;
    pthread_t th;
} naive_t;

static void *worker(void *arg)
{
    naive_t *q = arg;
    int r = pxb_pin_self(q->cpu);
    pthread_mutex_lock(&q->mu);
    q->pin_err = r;
    q->started = true;
    pthread_cond_broadcast(&q->done);
    for (;;) {
        while (q->head == NULL && !q->stop) pthread_cond_wait(&q->work, &q->mu);
        node_t *n = q->head;
        if (n == NULL) break; /* stop, queue empty */
        q->head = n->next;
        if (q->head == NULL) q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        n->fn(n->arg);
        pthread_mutex_lock(&q->mu);
        if (n->is_call) {
            n->done = true;
            pthread_cond_broadcast(&q->done);
        } else {
            free(n);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static int create(void **out, int cpu)
{
    naive_t *q = calloc(1, sizeof *q);
    if (q == NULL) return -ENOMEM;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->done, NULL);
    q->cpu = cpu;
    int r = pthread_create(&q->th, NULL, worker, q);
    if (r) {
        free(q);
        return -r;
    }
    pthread_mutex_lock(&q->mu);
    while (!q->started) pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    *out = q;
    return 0; /* a failed pin leaves it unpinned, like the seed */
}

static void push(naive_t *q, node_t *n)
{
    n->next = NULL;
    if (q->tail) q->tail->next = n;
    else q->head = n;
    q->tail = n;
    pthread_cond_signal(&q->work);
}

static int call(void *exec, void (*fn)(void *), void *arg)
{
    naive_t *q = exec;
    node_t *n = malloc(sizeof *n);
    if (n == NULL) return -ENOMEM;
    n->fn = fn;
    n->arg = arg;
    n->is_call = true;
    n->done = false;
    pthread_mutex_lock(&q->mu);
    push(q, n);
    while (!n->done) pthread_cond_wait(&q->done, &q->mu);
    pthread_mutex_unlock(&q->mu);
    free(n);
    return 0;
}

static int post(void *exec, void (*fn)(void *), void *arg)
{
    naive_t *q = exec;
    node_t *n = malloc(sizeof *n);
    if (n == NULL) return -ENOMEM;
    n->fn = fn;
    n->arg = arg;
    n->is_call = false;
    pthread_mutex_lock(&q->mu);
    push(q, n);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

static void destroy(void *exec)
{
    naive_t *q = exec;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->th, NULL);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->done);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

const pxb_peer_t pxb_peer_naive = {
    .name = "naive",
    .plain = "a mutex+condvar executor",
    .about = "mutex + condvar queue, malloc per call (the seed's first version)",
    .create = create,
    .call = call,
    .post = post,
    .destroy = destroy,
};
