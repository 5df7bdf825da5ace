/* Linux implementation of src/platform.h: futex, gettid, eventfd. */
#define _GNU_SOURCE
#include "platform.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int px__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    /* FUTEX_WAIT takes a relative timeout. EINTR and EAGAIN (value differed)
     * both mean "re-check": the caller loops. */
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
    if (r == -1 && errno == ETIMEDOUT) return -ETIMEDOUT;
    return 0;
}

void px__futex_wake(_Atomic uint32_t *word, int32_t n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

uint64_t px__thread_cpu_ns(long tid, px__os_thread_t th)
{
    (void)th;
    /* The kernel's per-thread CPU clock id for a tid (what glibc's
     * pthread_getcpuclockid builds): ~tid << 3 | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED. */
    clockid_t cid = (clockid_t)((~(unsigned)tid << 3) | 4 | 2);
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

long px__gettid(void) { return (long)syscall(SYS_gettid); }
long px__getpid(void) { return (long)getpid(); }
int px__is_main_thread(void) { return px__gettid() == px__getpid(); }

int px__event_open(void)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

void px__event_signal(int fd)
{
    uint64_t one = 1;
    ssize_t r;
    do r = write(fd, &one, sizeof one);
    while (r < 0 && errno == EINTR);
}

void px__event_clear(int fd)
{
    uint64_t v;
    ssize_t r;
    do r = read(fd, &v, sizeof v);
    while (r < 0 && errno == EINTR);
}

void px__event_close(int fd) { close(fd); }
