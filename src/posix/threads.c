/*
 * The thread, clock and fork primitives of src/platform.h that every POSIX
 * system shares (Linux included): pthreads and clock_gettime.
 */
#define _GNU_SOURCE
#include "platform.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

int px__thread_start(px__os_thread_t *th, void *(*fn)(void *), void *arg)
{
    pthread_t p;
    int r = pthread_create(&p, NULL, fn, arg);
    if (r != 0) return -r;
    th->handle = (uintptr_t)p;
    return 0;
}

int px__thread_join(px__os_thread_t th) { return -pthread_join((pthread_t)th.handle, NULL); }

void px__thread_forget(px__os_thread_t th) { (void)th; }

px__os_thread_t px__thread_self(void)
{
    px__os_thread_t th = {(uintptr_t)pthread_self()};
    return th;
}

void px__thread_set_name(const char *name)
{
#if defined(__APPLE__)
    pthread_setname_np(name);
#elif defined(__linux__) || defined(__FreeBSD__)
    char buf[16];
    strncpy(buf, name, sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    pthread_setname_np(pthread_self(), buf);
#else
    (void)name;
#endif
}

void px__thread_get_name(char *buf, unsigned len)
{
    if (len == 0) return;
#if defined(__linux__) || defined(__APPLE__) || defined(__FreeBSD__)
    if (pthread_getname_np(pthread_self(), buf, len) == 0) return;
#endif
    buf[0] = '\0';
}

int px__atfork_child(void (*child)(void)) { return -pthread_atfork(NULL, NULL, child); }

uint64_t px__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void px__yield(void) { sched_yield(); }
