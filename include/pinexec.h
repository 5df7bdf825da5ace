/*
 * pinexec: thread-affinity executors.
 *
 * Overview
 * --------
 * An executor (px_thread_t) is one OS thread that runs functions handed to it.
 * Three kinds exist, all driven by the same core:
 *   - created executors (px_thread_create): a dedicated thread, pinned with hwloc
 *     to the CPUs named by a placement spec, that serves its queue by itself;
 *   - the main-thread executor (px_mainthread): claimed when the library is
 *     loaded, served by the process main thread (px_main, px_serve, px_drain);
 *   - attached executors (px_thread_attach): any thread that runs its own event
 *     loop and serves its queue when it chooses (px_drain, px_serve, an fd).
 *
 * Work reaches an executor through one bounded MPSC ring (a Vyukov-style array
 * queue with per-cell sequence numbers). A synchronous call (px_call,
 * px_call_v) occupies a ring cell and gets its answer on the calling thread's
 * own reply line (thread-local), so it allocates nothing; a post (px_post,
 * px_try_post) occupies a ring cell until it starts running. The ring is
 * allocated once, at creation. docs/design.md has the details.
 *
 * Conventions
 * -----------
 * Every fallible function returns 0 (or a count where stated) on success and a
 * negative errno value from <errno.h> on failure; results travel through
 * out-parameters. Where a function returns a value instead, its values and its
 * errors lie in disjoint ranges, stated with it: counts and fds are >= 0
 * (px_drain, px_serve, px_thread_fd), a tid is > 0 (px_thread_tid), and
 * px_main/px_main_loop return fn's result, which fn keeps >= 0 (an exit
 * status) so that every negative result is theirs. After a failure,
 * px_last_error() gives a sentence naming the offending value, in the failing
 * thread. docs/errors.md lists every errno of every function.
 *
 * Deadlock freedom: a thread that is itself an executor keeps running the work
 * queued to its own executor while it waits on another executor (in px_call,
 * px_call_v, px_post waiting for ring space, px_thread_destroy). A synchronous
 * call made on the executor's own thread runs inline. So call cycles
 * (A -> B -> A) complete.
 *
 * Ordering: calls and posts made by one thread to one executor run in the order
 * they were made (per-producer FIFO), except that a synchronous call made on
 * the executor's own thread runs inline at once, and that work an executor
 * thread runs while it waits for ring space (nested calls/posts it makes then)
 * may overtake the post it waits with.
 *
 * Signals and fork: no function here is async-signal-safe (do not call them
 * from a signal handler). After fork(), executors inherited by the child are
 * dead there (-ESRCH). A child forked from inside an executor's item should
 * exec or _exit: if it returns from the item, its (only) thread ends.
 *
 * Nesting: a thread that waits on another executor serves its own queue
 * recursively, so deep call cycles use stack; design cycles to be shallow.
 *
 * Process exit: exit() or a return from main() with live executors does not
 * wait for them; work still queued then may not run.
 *
 * Size-versioned structures: fields may be added at the end of
 * px_thread_options_t and px_stats_t in later minor versions (the SOVERSION
 * is the major), so each begins with `size`, which the caller sets to the
 * size of its struct: sizeof(px_thread_options_t), sizeof(px_stats_t)
 * (PX_THREAD_OPTIONS_INIT, PX_STATS_INIT), as SDL and Vulkan do. The library
 * reads and writes only the bytes both know: options from an older (smaller)
 * caller get the defaults for the fields it lacks; a newer (larger) caller's
 * extra bytes must be zero (a set one asks for a field this library does not
 * know: -EINVAL); statistics are written up to the smaller of the two sizes
 * and never past the caller's struct. A size below the first version's
 * (0 included) is -EINVAL, px_last_error() naming it. Zero-initialise the
 * rest.
 */
#ifndef PINEXEC_H
#define PINEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(PX_SHARED)
#define PX_EXTERN __declspec(dllexport)
#elif defined(__GNUC__)
#define PX_EXTERN __attribute__((visibility("default")))
#else
#define PX_EXTERN
#endif

#define PX_VERSION_MAJOR 0
#define PX_VERSION_MINOR 1
#define PX_VERSION_PATCH 0

/** Opaque executor handle. */
typedef struct px_thread px_thread_t;
/** A function run by px_call or px_post. */
typedef void (*px_fn)(void *arg);
/** A function run by px_call_v; its return value is handed back. */
typedef void *(*px_fn_v)(void *arg);

/** How an idle executor (and a blocked caller) waits. */
typedef enum px_wait {
    PX_WAIT_ADAPTIVE = 0, /**< spin up to spin_ns, then sleep in the kernel (default) */
    PX_WAIT_SPIN,         /**< never sleep: lowest latency, burns its CPU while idle */
    PX_WAIT_SLEEP         /**< sleep at once when idle */
} px_wait_t;

/** Fail with -EXDEV/-ENOSYS instead of narrowing the CPU set or running unpinned. */
#define PX_PIN_STRICT (1u << 0)

/** Largest ring capacity (posts), 2^20. */
#define PX_CAPACITY_MAX (1u << 20)
/** Ring capacity used when px_thread_options_t.capacity is 0. */
#define PX_CAPACITY_DEFAULT 1024u

/**
 * Executor options; NULL, or a struct with only size set
 * (PX_THREAD_OPTIONS_INIT), means the defaults.
 *
 * Placement spec grammar (cpus):
 *   - OS-index lists as taskset -c takes them: "2", "0-3", "0,2-3";
 *   - topology objects by logical index as lstopo numbers them, counting all of
 *     the machine's objects (also those outside the allowed set): "pu:3",
 *     "core:1", "core:0-1", "numa:0" (or "node:0"), "package:0", "l3:0", the
 *     nested form "package:0.core:1", and "all".
 */
typedef struct px_thread_options {
    size_t size;       /**< sizeof(px_thread_options_t), set by the caller (size-versioned) */
    const char *name;  /**< OS thread name (the OS keeps 15 chars); NULL: "px-<n>" */
    const char *cpus;  /**< placement spec; NULL or "": the whole allowed set */
    unsigned capacity; /**< posts the ring holds; 0: 1024; rounded up to a power of two */
    px_wait_t wait;    /**< idle policy */
    unsigned spin_ns;  /**< ADAPTIVE spin budget in ns before sleeping; 0: the default */
    unsigned flags;    /**< PX_PIN_STRICT */
} px_thread_options_t;

/** An initialiser for px_thread_options_t: the size set, everything else the default. */
/* clang-format off */
#ifdef __cplusplus
#define PX_THREAD_OPTIONS_INIT {sizeof(px_thread_options_t), NULL, NULL, 0, PX_WAIT_ADAPTIVE, 0, 0}
#else
#define PX_THREAD_OPTIONS_INIT {.size = sizeof(px_thread_options_t)}
#endif
/* clang-format on */

/** Counters of one executor; all monotonic except cpu_ns, max_depth. */
typedef struct px_stats {
    size_t size;           /**< sizeof(px_stats_t), set by the caller (size-versioned) */
    uint64_t calls;        /**< synchronous calls run from the queue */
    uint64_t inline_calls; /**< synchronous calls made on the executor's own thread, run inline */
    uint64_t posts;        /**< posts run */
    uint64_t parks;        /**< times the executor thread went to sleep in the kernel */
    uint64_t wakes;        /**< wake-ups (syscalls) issued to it by producers */
    uint64_t cpu_ns;       /**< CPU time used by the executor thread so far, ns */
    uint32_t max_depth;    /**< high-water mark of queued work (calls and posts), sampled */
} px_stats_t;

/** An initialiser for px_stats_t: the size set. */
/* clang-format off */
#ifdef __cplusplus
#define PX_STATS_INIT {sizeof(px_stats_t), 0, 0, 0, 0, 0, 0, 0}
#else
#define PX_STATS_INIT {.size = sizeof(px_stats_t)}
#endif
/* clang-format on */

/**
 * Create an executor: start a thread, name it, bind it to the CPUs of
 * opts->cpus and allocate its ring on the NUMA node of those CPUs.
 *
 * \param out   receives the handle on success; untouched on failure.
 * \param opts  options, or NULL for the defaults (see px_thread_options_t).
 * \return 0 on success;
 *   -EINVAL  out is NULL, opts->size is below the first version's or larger
 *            with a set byte this library does not know, capacity >
 *            PX_CAPACITY_MAX, wait is unknown, flags has unknown bits, or the
 *            spec is unparsable / names an object or OS index this machine
 *            does not have;
 *   -EXDEV   the spec's CPUs all lie outside the process's allowed set, or
 *            partly outside with PX_PIN_STRICT;
 *   -ENOSYS  the OS cannot bind threads and PX_PIN_STRICT is set;
 *   -ENOMEM  out of memory; -EAGAIN  the OS refused a new thread;
 *   a binding the OS refused, never as -EINVAL (which means a bad spec): -EXDEV
 *            the kernel permits none of the CPUs to the thread now (its cpuset
 *            changed since the library was loaded; the kernel's EINVAL),
 *            -EPERM not permitted (privileges, policy), or another negative
 *            errno as the OS reports it (-EIO when it reports none).
 * \threadsafety Any thread; also from inside a call running on an executor.
 * \note The binding is in place when this returns; nothing is left behind on failure.
 */
PX_EXTERN int px_thread_create(px_thread_t **out, const px_thread_options_t *opts);

/**
 * Stop an executor created by px_thread_create, run everything it accepted, join
 * its thread and free it.
 *
 * While it runs, calls and posts return -ESHUTDOWN without running; every call
 * and post accepted before runs exactly once; producers blocked on it are
 * released. Once it returns the handle is gone: using it is a use-after-free,
 * so a thread that may race destroy must stop calling at its first
 * -ESHUTDOWN, and the program must know that thread stopped (or will not call
 * again) before destroy returns. Called in a fork() child on an inherited
 * executor, it frees the handle without joining.
 *
 * \param t  the executor.
 * \return 0 on success; -EINVAL t is NULL, or t is the main-thread executor or an
 *   attached executor (use px_thread_detach); -EDEADLK called on t's own thread,
 *   or from work run while this thread waits for space in t's ring (nothing
 *   changed); -EALREADY another px_thread_destroy of t is running
 *   (valid only while the first has not returned).
 * \threadsafety Any thread but t's own; from inside a call running on another
 *   executor it keeps serving that executor's queue while it waits.
 * \memory Everything t's functions wrote is visible to the caller on return.
 */
PX_EXTERN int px_thread_destroy(px_thread_t *t);

/**
 * Run fn(arg) on t's thread and wait until it returned.
 *
 * Everything the caller wrote before the call is visible to fn; everything fn
 * wrote is visible to the caller after px_call returns. Allocates nothing.
 * Made on t's own thread, fn runs inline at once.
 *
 * \param t executor; \param fn function; \param arg its argument.
 * \return 0 after fn returned; -EINVAL t or fn is NULL; -ESHUTDOWN t is being
 *   destroyed or detached (or the main thread has left px_main) and fn did not
 *   run; -ESRCH t was inherited across fork() and is dead.
 * \threadsafety Any thread; also from inside a call running on an executor,
 *   which keeps serving its own queue while it waits (cycles complete).
 */
PX_EXTERN int px_call(px_thread_t *t, px_fn fn, void *arg);

/**
 * As px_call, for a function with a result.
 *
 * \param t executor; \param fn function returning a result; \param arg its
 *   argument.
 * \param result receives fn's return value when non-NULL (only on success).
 * \return as px_call: 0 after fn returned; -EINVAL t or fn is NULL;
 *   -ESHUTDOWN t is shut down (fn did not run, *result untouched); -ESRCH t
 *   is dead after fork().
 * \threadsafety As px_call.
 */
PX_EXTERN int px_call_v(px_thread_t *t, px_fn_v fn, void *arg, void **result);

/**
 * Queue fn(arg) to run on t's thread and return without waiting for it.
 *
 * Waits while the ring is full (a thread that is an executor keeps serving its
 * own queue meanwhile). Everything the caller wrote before the post is visible
 * to fn. Allocates nothing.
 *
 * \param t executor; \param fn function; \param arg its argument.
 * \return 0 once queued; -EINVAL t or fn is NULL; -EAGAIN the ring is full and
 *   the caller is t's own thread (it never waits on itself); -ESHUTDOWN t is
 *   being destroyed or detached; -ESRCH t is dead after fork().
 * \threadsafety Any thread; also from inside a call running on an executor.
 */
PX_EXTERN int px_post(px_thread_t *t, px_fn fn, void *arg);

/**
 * As px_post, but never waits: -EAGAIN when the ring is full.
 * \param t executor; \param fn function; \param arg its argument.
 * \return 0 once queued; -EINVAL t or fn is NULL; -EAGAIN the ring is full
 *   (px_last_error() names the executor and its capacity); -ESHUTDOWN t is
 *   being destroyed or detached; -ESRCH t is dead after fork().
 * \threadsafety Any thread; also from inside a call running on an executor.
 */
PX_EXTERN int px_try_post(px_thread_t *t, px_fn fn, void *arg);

/**
 * The executor whose thread is calling, or NULL: inside a created executor's
 * thread, an attached thread, or the main thread (the main-thread executor).
 * \return the executor, or NULL when the calling thread is none.
 * \threadsafety Any thread.
 */
PX_EXTERN px_thread_t *px_thread_current(void);

/**
 * Write the CPUs t's thread is bound to, read back from the OS, in hwloc list
 * format ("1", "0-3,6").
 * \param t the executor; \param buf destination; \param len its size in bytes (including the NUL).
 * \return 0; -EINVAL t or buf is NULL; -ERANGE len is too small (buf holds a
 *   truncated string when len > 0); -ESRCH t is dead after fork(); another
 *   negative errno when the OS refuses to report the binding (the OS's errno,
 *   -EIO when it gives none; -ENOSYS where the OS has no per-thread query).
 * \threadsafety Any thread.
 */
PX_EXTERN int px_thread_cpus(const px_thread_t *t, char *buf, size_t len);

/**
 * OS thread id (gettid) of t's thread.
 *
 * The result and the error never overlap: a thread id is always > 0, the
 * only error is negative. (A long, not an out-parameter, for compatibility.)
 * \param t the executor.
 * \return the thread id, > 0 (after fork(), for an inherited t: the id its
 *   thread had in the parent); -EINVAL t is NULL.
 * \threadsafety Any thread.
 */
PX_EXTERN long px_thread_tid(const px_thread_t *t);

/**
 * The name as given at creation (or "px-<n>", or "main" for the main-thread
 * executor); the OS thread name is its first 15 characters.
 * \param t the executor.
 * \return the name; NULL when t is NULL (no errno: px_last_error() unchanged).
 * \threadsafety Any thread; the string lives as long as t.
 */
PX_EXTERN const char *px_thread_name(const px_thread_t *t);

/**
 * Read t's counters.
 * \param t the executor; \param out receives them: set out->size first
 *   (PX_STATS_INIT); min(out->size, the library's size) bytes are written,
 *   none past them, and out->size is left as it is.
 * \return 0; -EINVAL t or out is NULL, or out->size is below the first
 *   version's (px_last_error() names it).
 * \threadsafety Any thread; the counters are read without stopping t
 *   (each is exact, the set is not a snapshot).
 */
PX_EXTERN int px_thread_stats(const px_thread_t *t, px_stats_t *out);

/**
 * Text for an errno value, with pinexec's meaning where it differs from the C
 * library's (-ESHUTDOWN, -ESRCH, -EAGAIN, ...); px_last_error() has the
 * detail of a particular failure.
 * \param err a negative errno (a positive one is accepted too); any int,
 *   INT_MIN included.
 * \return a static string, never NULL ("unknown error" for a value that is
 *   no errno's magnitude). No errno of its own.
 * \threadsafety Any thread; the string is constant.
 */
PX_EXTERN const char *px_strerror(int err);

/**
 * The detail of the last failure in the calling thread, naming the offending
 * value.
 * \return the sentence, "" when none; never NULL. Valid until the thread's
 *   next pinexec call. No errno of its own.
 * \threadsafety Any thread; each thread has its own (a thread never sees
 *   another thread's failure).
 */
PX_EXTERN const char *px_last_error(void);

/**
 * Record the detail that px_last_error() returns in the calling thread
 * (printf format) and return err: for libraries built on pinexec, so their
 * errors follow the same convention.
 * \param err the negative errno to return; \param fmt printf format of the
 *   detail (cut at 255 bytes), followed by its arguments.
 * \return err, unchanged (-EINVAL, -EIO, ... whatever the caller passes).
 * \threadsafety Any thread; sets the calling thread's detail only.
 */
PX_EXTERN int px_error_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * The version of the library in use (which may be newer than the header a
 * program was built with: compare with PX_VERSION_MAJOR/MINOR/PATCH).
 * \return "MAJOR.MINOR.PATCH", a static string; never fails.
 * \threadsafety Any thread.
 */
PX_EXTERN const char *px_version(void);

/* ------------------------------------------------------------------------- */
/* Main thread and driven executors (see docs/mainthread.md)                  */
/* ------------------------------------------------------------------------- */

/**
 * Run fn(arg) on a new thread while the calling (main) thread serves
 * px_mainthread(); when fn returns, run what is still queued and return fn's
 * result. Afterwards calls and posts to the main executor return -ESHUTDOWN.
 *
 * Results and errors: px_main's own failures are negative errno values and
 * all happen before fn starts (fn never ran); once fn ran, px_main returns
 * exactly fn's result. Let fn return a value >= 0 (an exit status, as main()
 * does): then a negative result always is one of the errors below and a
 * result >= 0 always is fn's.
 *
 * \param fn the application, run on a new thread; \param arg its argument.
 * \return fn's result; -EINVAL fn is NULL; -EPERM not called on the main thread
 *   (nothing started); -EBUSY px_main is already running (also when nested in a
 *   call it serves, or inside px_serve/px_drain on the main executor);
 *   -ESHUTDOWN px_main already returned; -EAGAIN the OS refused the thread for
 *   fn (px_main may be called again); -ESRCH the main executor died with fork().
 * \threadsafety Main thread only.
 */
PX_EXTERN int px_main(int (*fn)(void *arg), void *arg);

/**
 * A foreign event loop that the main thread sits in while it serves the main
 * executor (GLFW, SDL, Cocoa, a game loop): see px_main_loop.
 */
typedef struct px_main_loop {
    /** Optional set-up on the main thread before the application starts
     *  (glfwInit); a negative errno aborts px_main_loop, which returns it and
     *  may be called again. */
    int (*start)(void *ctx);
    /** Required: block until an event arrives or wake() is called. Main thread. */
    void (*wait)(void *ctx);
    /** Required: make a current or next wait() return. Called from any thread,
     *  concurrently; must be thread-safe (glfwPostEmptyEvent). */
    void (*wake)(void *ctx);
    /** Optional tear-down on the main thread after the final drain (glfwTerminate). */
    void (*stop)(void *ctx);
    void *ctx; /**< passed to each hook */
} px_main_loop_t;

/**
 * As px_main, with the main thread waiting in a foreign event loop instead of
 * pinexec's own wait: after loop->start, fn runs on a new thread while the main
 * thread repeats { px_drain(px_mainthread(), 0); loop->wait(ctx); } with
 * loop->wake as the main executor's wake hook, so a call from any thread ends
 * the wait at once. When fn returns: the final drain, loop->stop, and the main
 * executor is shut down as after px_main. px_main and px_main_loop share one
 * claim on the main thread: while either runs, both return -EBUSY; after
 * either returned, both return -ESHUTDOWN.
 *
 * \param fn the application, run on a new thread; \param arg its argument.
 * \param loop the loop's hooks; NULL: px_main's own wait.
 * \return fn's result; the errors of px_main; -EINVAL loop lacks wait or wake;
 *   loop->start's negative errno.
 * \threadsafety Main thread only.
 */
PX_EXTERN int px_main_loop(int (*fn)(void *arg), void *arg, const px_main_loop_t *loop);

/**
 * The main-thread executor.
 * \return the executor, never NULL (also after px_main returned: calls to it
 *   then return -ESHUTDOWN).
 * \threadsafety Any thread.
 */
PX_EXTERN px_thread_t *px_mainthread(void);

/**
 * Whether the calling thread is the process main thread (tid == pid; in a
 * fork() child, the thread that forked).
 * \return true on the main thread; never fails.
 * \threadsafety Any thread.
 */
PX_EXTERN bool px_is_main_thread(void);

/**
 * Make the calling thread an executor that it drives itself (px_drain,
 * px_serve, px_thread_fd). Placement options apply to the calling thread; a
 * NULL name leaves the thread's name as it is.
 * \param out receives the handle; untouched on failure.
 * \param opts options (size-versioned, see px_thread_options_t), or NULL.
 * \return 0; -EINVAL bad arguments (checked before anything else); -EBUSY the
 *   thread already is an executor (the main thread is); placement errors as for
 *   px_thread_create.
 * \threadsafety Any thread that is not yet an executor.
 */
PX_EXTERN int px_thread_attach(px_thread_t **out, const px_thread_options_t *opts);

/**
 * Run what is queued to an attached executor, refuse new work (-ESHUTDOWN) and
 * free it.
 * \param t the attached executor.
 * \return 0; -EINVAL t is NULL, created or the main executor;
 * -EPERM not called by the owner; -EBUSY called from work t is running (inside
 * px_drain, px_serve or a wait). \threadsafety Owner thread only, from its own
 * code. In a fork() child it frees an inherited t.
 */
PX_EXTERN int px_thread_detach(px_thread_t *t);

/**
 * Run at most max queued items (0: all that are queued when it starts) on the
 * owner thread; never waits.
 * \param t an attached executor or the main executor; \param max the most
 *   items to run, 0: all that are queued when it starts.
 * \return the number run (>= 0); -EINVAL t is NULL or
 * self-driven; -EPERM not the owner; -ESHUTDOWN the main executor after px_main;
 * -ESRCH t is dead after fork().
 * \threadsafety Owner thread only; may be nested inside a call it runs.
 */
PX_EXTERN int px_drain(px_thread_t *t, unsigned max);

/**
 * Wait up to timeout_ns (negative: forever) for work, run what is queued (not
 * what keeps arriving meanwhile, so the caller gets its thread back) and
 * return the number run (0 on timeout).
 * \param t an attached executor or the main executor; \param timeout_ns
 *   the longest wait in ns, negative: forever, 0: do not wait.
 * \return the number run (>= 0; 0 on timeout); errors as px_drain: -EINVAL t
 *   is NULL or self-driven; -EPERM not the owner; -ESHUTDOWN the main
 *   executor after px_main; -ESRCH t is dead after fork().
 * \threadsafety Owner thread only.
 */
PX_EXTERN int px_serve(px_thread_t *t, int64_t timeout_ns);

/**
 * A file descriptor that is readable while work is queued to t (eventfd on
 * Linux; a pipe elsewhere). Owned by t: poll it, never read or close it.
 * Its states: not readable when created with nothing queued (also for
 * px_mainthread() before any work); readable once work is queued, including
 * work queued before the fd was first asked for; still readable after a
 * px_drain that leaves work queued; not readable after px_drain/px_serve
 * has run everything. The one exception: a producer that queued work just as
 * the owner entered px_drain/px_serve may leave it readable after that drain
 * ran its work (a wake not yet served); the next px_drain clears it.
 * Readiness is a hint to call px_drain, never a count.
 * \param t an attached executor or the main executor.
 * \return the fd (>= 0); -EINVAL t is NULL or self-driven; -ESHUTDOWN t is shut down
 *   (the main executor after px_main); another negative errno if the OS
 *   refuses. \threadsafety Any thread.
 */
PX_EXTERN int px_thread_fd(px_thread_t *t);

/**
 * Set the hook a producer calls after queuing work while the owner is outside
 * px_serve/px_drain and not waiting on another executor: at most once after the
 * owner last entered px_drain or px_serve. wake(ctx) runs on the producer's
 * thread (or on the owner's, as it leaves a wait with work still queued) and
 * must be thread-safe (glfwPostEmptyEvent fits). NULL removes it.
 * Promised exactly: no call of the hook overlaps the owner's time inside
 * px_drain, px_serve or a wait on another executor (a producer preempted
 * after it saw the owner away re-checks before calling; the owner entering
 * a wait lets such a producer finish first), and when px_thread_set_wake
 * returns the old hook is not running and is never called again, so its ctx
 * may be freed. Hence the hook must be short and must not block, nor wait for
 * t (no px_call to t from it); the owner may wait for it.
 * Setting a hook re-arms it, and calls it at once when work is already queued.
 * \param t an attached executor or the main executor; \param wake the hook,
 *   or NULL to remove it; \param ctx its argument.
 * \return 0; -EINVAL t is NULL or self-driven; -EPERM not the owner;
 *   -ESHUTDOWN t is shut down. \threadsafety Owner thread only.
 */
PX_EXTERN int px_thread_set_wake(px_thread_t *t, void (*wake)(void *ctx), void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* PINEXEC_H */
