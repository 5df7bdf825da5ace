/*
 * A plugin that uses pinexec, for test_dlopen: the test loads it with dlopen()
 * from a thread that is not the main thread, and libpinexec.so comes in as its
 * dependency (so the library's constructor runs on that thread).
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "pinexec.h"

#define DLH_EXPORT __attribute__((visibility("default")))

DLH_EXPORT bool dlh_is_main_thread(void) { return px_is_main_thread(); }

DLH_EXPORT px_thread_t *dlh_mainthread(void) { return px_mainthread(); }

static void record_tid(void *arg) { *(long *)arg = (long)syscall(SYS_gettid); }

/* A synchronous call to the main executor made from inside the plugin. */
DLH_EXPORT int dlh_call_on_main(long *tid) { return px_call(px_mainthread(), record_tid, tid); }
