/*
 * The porting header: the few OS primitives the core needs. The core includes
 * this and never tests a platform macro itself. src/posix/threads.c holds
 * what all POSIX systems share (pthreads, clocks); src/linux/platform.c adds
 * futex, gettid and eventfd; src/posix/wait.c is the portable fallback for
 * those (condition variables, pipes). A capability a platform lacks
 * returns -ENOSYS. docs/portability.md maps macOS and Windows onto it.
 */
#ifndef PX_PLATFORM_H
#define PX_PLATFORM_H

#include <stdatomic.h>
#include <stdint.h>

/* ---- waiting on a 32-bit word (futex semantics) ------------------------- */

/*
 * Sleep while *word == expected, at most timeout_ns (negative: no limit).
 * Returns 0 when woken, when the value differed, or on a spurious wake-up or
 * signal (EINTR is absorbed: callers re-check their condition in a loop);
 * -ETIMEDOUT when the time ran out. Process-private.
 */
int px__futex_wait(_Atomic uint32_t *word, uint32_t expected, int64_t timeout_ns);
/* Wake up to n sleepers on word (n = INT32_MAX: all). The word's memory is
 * not accessed: waking an address whose object is gone is harmless. */
void px__futex_wake(_Atomic uint32_t *word, int32_t n);

/* ---- threads ------------------------------------------------------------ */

typedef struct px__os_thread {
    uintptr_t handle; /* pthread_t on POSIX */
} px__os_thread_t;

/* Start fn(arg) on a new joinable thread. 0 or -EAGAIN/-ENOMEM/... */
int px__thread_start(px__os_thread_t *th, void *(*fn)(void *), void *arg);
int px__thread_join(px__os_thread_t th);
/* Forget a thread without joining it (after fork: it does not exist). */
void px__thread_forget(px__os_thread_t th);
px__os_thread_t px__thread_self(void);
/* Name the calling thread (truncated to what the OS keeps). */
void px__thread_set_name(const char *name);
/* The calling thread's OS name (NUL-terminated, possibly empty). */
void px__thread_get_name(char *buf, unsigned len);
/* CPU time consumed so far by a thread of this process (OS id tid, handle th), ns;
 * 0 if unknown. */
uint64_t px__thread_cpu_ns(long tid, px__os_thread_t th);

long px__gettid(void);
long px__getpid(void);
/* 1 when the calling thread is the process's main (initial) thread. */
int px__is_main_thread(void);

/* Register a handler run in the child after fork(). */
int px__atfork_child(void (*child)(void));

/* ---- time and spinning -------------------------------------------------- */

uint64_t px__now_ns(void); /* monotonic clock */
void px__yield(void);

static inline void px__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* ---- a readiness fd for foreign event loops ----------------------------- */

/* Create an fd that can be made readable (eventfd / pipe). -errno on failure. */
int px__event_open(void);
void px__event_signal(int fd); /* make readable */
void px__event_clear(int fd);  /* make not readable */
void px__event_close(int fd);

#endif /* PX_PLATFORM_H */
