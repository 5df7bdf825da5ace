/*
 * Test helper: run a program in a child process under a watchdog and capture
 * its stdout (its stderr goes to ours, so failures show in the ctest log).
 *
 * Tests whose scenarios need a pristine process (px_main runs once per
 * process; the library must not be loaded yet for test_dlopen) re-execute
 * themselves: `/proc/self/exe <scenario>`. fork() alone would not do: an
 * executor inherited across fork() is dead by design (-ESRCH).
 *
 * Child side: CHILD_CHECK* print the failed condition and _exit(3); they are
 * safe on any thread of the child (no cmocka there).
 */
#ifndef PX_TEST_SPAWN_HELPER_H
#define PX_TEST_SPAWN_HELPER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

typedef struct spawn_result {
    int exited;   /* 1: exited normally, status is the exit code */
    int signaled; /* 1: killed by a signal, status is the signal number */
    int status;
    int timed_out;   /* the watchdog killed it */
    char out[16384]; /* captured stdout, NUL-terminated (truncated if longer) */
} spawn_result_t;

static inline double spawn_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run path with argv; kill it after timeout_s. 0, or a negative errno when it
 * could not be started. The watchdog bounds the test's run time; it is not a
 * timing assertion. */
static inline int spawn_run(const char *path, char *const argv[], double timeout_s,
                            spawn_result_t *r)
{
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        return -e;
    }
    double deadline = spawn_now_s() + timeout_s;
    size_t used = 0;
    bool eof = false;
    int wstatus = 0;
    bool reaped = false;
    while (!reaped) {
        if (spawn_now_s() > deadline) {
            r->timed_out = 1;
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            reaped = true;
            break;
        }
        if (!eof) {
            struct pollfd p = {.fd = fds[0], .events = POLLIN};
            if (poll(&p, 1, 100) > 0) {
                char buf[4096];
                ssize_t n = read(fds[0], buf, sizeof buf);
                if (n > 0) {
                    size_t keep = (size_t)n;
                    if (keep > sizeof r->out - 1 - used) keep = sizeof r->out - 1 - used;
                    memcpy(r->out + used, buf, keep);
                    used += keep;
                } else if (n == 0) {
                    eof = true;
                }
            }
        } else {
            pid_t w = waitpid(pid, &wstatus, WNOHANG);
            if (w == pid) reaped = true;
            else usleep(10000);
        }
    }
    close(fds[0]);
    r->out[used] = '\0';
    if (WIFEXITED(wstatus)) {
        r->exited = 1;
        r->status = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        r->signaled = 1;
        r->status = WTERMSIG(wstatus);
    }
    return 0;
}

/* Re-execute this test binary with one argument naming a scenario. */
static inline int spawn_self(const char *scenario, double timeout_s, spawn_result_t *r)
{
    char *argv[] = {(char *)"/proc/self/exe", (char *)scenario, NULL};
    return spawn_run("/proc/self/exe", argv, timeout_s, r);
}

/* Watchdog per child: generous, a hang is a failure, not a slow pass. */
#ifndef SPAWN_TIMEOUT_S
#define SPAWN_TIMEOUT_S 40.0
#endif

#define CHILD_CHECK(c)                                                            \
    do {                                                                          \
        if (!(c)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
            fflush(stderr);                                                       \
            _exit(3);                                                             \
        }                                                                         \
    } while (0)

#define CHILD_CHECK_INT(a, b)                                                                     \
    do {                                                                                          \
        long long a_ = (long long)(a), b_ = (long long)(b);                                       \
        if (a_ != b_) {                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__, \
                    #a, #b, a_, b_);                                                              \
            fflush(stderr);                                                                       \
            _exit(3);                                                                             \
        }                                                                                         \
    } while (0)

#endif /* PX_TEST_SPAWN_HELPER_H */
