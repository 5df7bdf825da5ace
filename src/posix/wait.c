/*
 * Portable POSIX implementation of the waiting, identity and fd parts of
 * src/platform.h (src/posix/threads.c has the rest), for systems without a
 * futex (and to test the core without one: cmake -DPX_PLATFORM=posix).
 * Word waits use a fixed table of mutex + condition variable buckets hashed
 * by address (the scheme of Linux's own futex hash and of Rust's and Go's
 * parking lots); the readiness fd is a non-blocking pipe.
 */
#define _GNU_SOURCE
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#define BUCKETS 64

typedef struct bucket {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    unsigned waiters;
} bucket_t;

static bucket_t buckets[BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;

static void bucket_init(bucket_t *b)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, &a);
    pthread_condattr_destroy(&a);
    b->waiters = 0;
}

/* fork: no bucket may be locked by another thread at the moment of fork, and
 * the child's copies must not remember the parent's waiters (a condition
 * variable with waiters that do not exist can block its broadcaster). */
static void fork_prepare(void)
{
    for (int i = 0; i < BUCKETS; i++) pthread_mutex_lock(&buckets[i].lock);
}
static void fork_parent(void)
{
    for (int i = BUCKETS - 1; i >= 0; i--) pthread_mutex_unlock(&buckets[i].lock);
}
static void fork_child(void)
{
    for (int i = 0; i < BUCKETS; i++) bucket_init(&buckets[i]);
}

static void buckets_init(void)
{
    for (int i = 0; i < BUCKETS; i++) bucket_init(&buckets[i]);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static bucket_t *bucket_of(const void *addr)
{
    pthread_once(&buckets_once, buckets_init);
    uintptr_t x = (uintptr_t)addr;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return &buckets[(x >> 7) % BUCKETS];
}

int px__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    bucket_t *b = bucket_of(word);
    struct timespec ts;
    if (timeout_ns >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ns;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
    }
    int r = 0;
    pthread_mutex_lock(&b->lock);
    /* The value is checked under the bucket lock and wakers take the same lock,
     * so a wake between check and sleep is not lost. seq_cst pairs with the
     * waker's store before px__futex_wake. */
    if (atomic_load(word) == expected) {
        b->waiters++;
        int e = timeout_ns >= 0 ? pthread_cond_timedwait(&b->cond, &b->lock, &ts)
                                : pthread_cond_wait(&b->cond, &b->lock);
        b->waiters--;
        if (e == ETIMEDOUT) r = -ETIMEDOUT;
    }
    pthread_mutex_unlock(&b->lock);
    return r;
}

void px__futex_wake(_Atomic uint32_t *word, int32_t n)
{
    (void)n; /* a bucket is shared by several words: wake all, they re-check */
    bucket_t *b = bucket_of(word);
    pthread_mutex_lock(&b->lock);
    if (b->waiters) pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

uint64_t px__thread_cpu_ns(long tid, px__os_thread_t th)
{
    (void)tid;
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid((pthread_t)th.handle, &cid) != 0) return 0;
    if (clock_gettime(cid, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if !defined(__linux__)
static _Atomic long next_tid = 1;
static __thread long my_tid;
#endif

long px__gettid(void)
{
#if defined(__linux__)
    return (long)syscall(SYS_gettid);
#else
    if (my_tid == 0) my_tid = atomic_fetch_add(&next_tid, 1) + 0x40000000L;
    return my_tid;
#endif
}

long px__getpid(void) { return (long)getpid(); }

#if !defined(__APPLE__) && !defined(__FreeBSD__) && !defined(__linux__)
static pthread_t main_thread;
__attribute__((constructor)) static void remember_main(void) { main_thread = pthread_self(); }
#endif

int px__is_main_thread(void)
{
#if defined(__APPLE__) || defined(__FreeBSD__)
    return pthread_main_np() == 1;
#elif defined(__linux__)
    return px__gettid() == px__getpid();
#else
    return pthread_equal(pthread_self(), main_thread); /* best effort: the loading thread */
#endif
}

/* The readiness fd is the read end of a pipe; the write end is kept in a
 * table indexed by the read end, as the API hands out one int. */
#define MAX_EVENT_FDS 1024
static _Atomic int write_end[MAX_EVENT_FDS];

int px__event_open(void)
{
    int p[2];
    if (pipe(p) != 0) return -errno;
    if (p[0] >= MAX_EVENT_FDS) {
        close(p[0]);
        close(p[1]);
        return -EMFILE;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
        fcntl(p[i], F_SETFD, FD_CLOEXEC);
    }
    atomic_store(&write_end[p[0]], p[1] + 1);
    return p[0];
}

void px__event_signal(int fd)
{
    int w = atomic_load(&write_end[fd]) - 1;
    char c = 1;
    if (w >= 0) (void)!write(w, &c, 1); /* full pipe: already readable */
}

void px__event_clear(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

void px__event_close(int fd)
{
    int w = atomic_exchange(&write_end[fd], 0) - 1;
    if (w >= 0) close(w);
    close(fd);
}
