/*
 * An executor hosted in a plain epoll loop.
 *
 * The loop thread owns some file descriptors (here a timerfd) and blocks in
 * epoll_wait(). It makes itself an executor with px_thread_attach(), adds
 * px_thread_fd() to its epoll set, and drains the executor whenever that fd is
 * readable. Other threads px_call()/px_post() into the loop: their functions
 * run on the loop thread, between its own events, so the loop's state needs
 * no lock.
 *
 *   $ ./example_epoll_loop
 *   epoll_loop: 3000 calls and 3000 posts ran on the loop thread (0 elsewhere), 5 timer ticks
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <pinexec.h>

#define PRODUCERS 3
#define PER_PRODUCER 1000

/* Loop state: touched only on the loop thread, by the loop and by the calls. */
typedef struct loop {
    px_thread_t *ex;
    pthread_t thread;
    int quit;
    long calls, posts, elsewhere, ticks;
    /* start-up handshake with main() */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready; /* 1: ex is set, -1: the loop failed to start */
} loop_t;

static void count_call(void *arg)
{
    loop_t *l = arg;
    if (!pthread_equal(pthread_self(), l->thread)) l->elsewhere++;
    l->calls++;
}

static void count_post(void *arg)
{
    loop_t *l = arg;
    if (!pthread_equal(pthread_self(), l->thread)) l->elsewhere++;
    l->posts++;
}

static void quit(void *arg) { ((loop_t *)arg)->quit = 1; }

static void announce(loop_t *l, int ready)
{
    pthread_mutex_lock(&l->mu);
    l->ready = ready;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static int run_loop(loop_t *l)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int exfd = px_thread_fd(l->ex);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || exfd < 0 || tfd < 0) return -1;
    struct itimerspec every_2ms = {.it_interval = {0, 2000000}, .it_value = {0, 2000000}};
    timerfd_settime(tfd, 0, &every_2ms, NULL);
    struct epoll_event in = {.events = EPOLLIN};
    in.data.fd = exfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, exfd, &in);
    in.data.fd = tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &in);

    while (!l->quit) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, -1);
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.fd == exfd) {
                /* Runs what is queued now; the fd turns readable again if more
                 * is queued meanwhile (level-triggered). */
                px_drain(l->ex, 0);
            } else if (ev[i].data.fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof expirations) == sizeof expirations)
                    l->ticks += (long)expirations;
            }
        }
    }
    close(tfd);
    close(ep);
    return 0;
}

static void *loop_main(void *arg)
{
    loop_t *l = arg;
    l->thread = pthread_self();
    px_thread_options_t opts = {.size = sizeof opts, .name = "epoll-loop"};
    int r = px_thread_attach(&l->ex, &opts);
    if (r) {
        fprintf(stderr, "px_thread_attach: %s (%s)\n", px_strerror(r), px_last_error());
        announce(l, -1);
        return NULL;
    }
    announce(l, 1);
    if (run_loop(l) != 0) fprintf(stderr, "epoll_loop: cannot set up the loop\n");
    /* Runs whatever is still queued, refuses new work, frees the executor. */
    px_thread_detach(l->ex);
    return NULL;
}

static void *producer(void *arg)
{
    loop_t *l = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        px_call(l->ex, count_call, l); /* waits until the loop ran it */
        px_post(l->ex, count_post, l); /* does not wait */
    }
    return NULL;
}

int main(void)
{
    loop_t l = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    pthread_t loop_th, th[PRODUCERS];
    if (pthread_create(&loop_th, NULL, loop_main, &l) != 0) return 1;
    pthread_mutex_lock(&l.mu);
    while (l.ready == 0) pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    if (l.ready < 0) {
        pthread_join(loop_th, NULL);
        return 1;
    }

    for (int i = 0; i < PRODUCERS; i++) pthread_create(&th[i], NULL, producer, &l);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(th[i], NULL);
    /* Every post was queued before this call (the producers were joined) and
     * an executor runs its queue in order: once it returns, all of them ran
     * and the loop has been told to stop. */
    px_call(l.ex, quit, &l);
    pthread_join(loop_th, NULL);

    long want = (long)PRODUCERS * PER_PRODUCER;
    printf("epoll_loop: %ld calls and %ld posts ran on the loop thread (%ld elsewhere), %ld timer "
           "ticks\n",
           l.calls, l.posts, l.elsewhere, l.ticks);
    return l.calls == want && l.posts == want && l.elsewhere == 0 ? 0 : 1;
}
