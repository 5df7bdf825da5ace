/*
 * The main thread as an executor.
 *
 * GUI toolkits (Cocoa, GLFW, most OpenGL drivers) want some functions called
 * on the process's main thread. px_main() hands the main thread over to
 * pinexec: the application runs on a new thread, and a px_call() to
 * px_mainthread() made from any thread runs on the main thread, which waits
 * for calls until the application returns. (The C counterpart of Go's
 * mainthread.Init(fn) and mainthread.Call(f).)
 *
 *   $ ./example_mainthread
 *   app: running on a worker thread
 *   app: the call ran on the main thread
 *   worker: the call ran on the main thread
 *   main: px_main returned 0
 */
#include <pthread.h>
#include <stdio.h>

#include <pinexec.h>

typedef struct job {
    const char *from;
    int on_main; /* written on the main thread, read by the caller after px_call */
} job_t;

/* Runs on the main thread: this is where a glfwCreateWindow() would go. */
static void on_main_thread(void *arg)
{
    job_t *job = arg;
    job->on_main = px_is_main_thread();
    printf("%s: the call ran on the %s thread\n", job->from, job->on_main ? "main" : "WRONG");
}

static void *worker(void *arg)
{
    job_t *job = arg;
    int r = px_call(px_mainthread(), on_main_thread, job);
    if (r) fprintf(stderr, "worker: px_call: %s\n", px_strerror(r));
    return NULL;
}

/* The application: runs on a thread that px_main started. */
static int app(void *arg)
{
    (void)arg;
    printf("app: running on a %s thread\n", px_is_main_thread() ? "WRONG (main)" : "worker");

    job_t from_app = {.from = "app"};
    int r = px_call(px_mainthread(), on_main_thread, &from_app);
    if (r) {
        fprintf(stderr, "app: px_call: %s (%s)\n", px_strerror(r), px_last_error());
        return 1;
    }

    /* Any thread may call: here one the application started itself. */
    job_t from_worker = {.from = "worker"};
    pthread_t th;
    if (pthread_create(&th, NULL, worker, &from_worker) != 0) return 1;
    pthread_join(th, NULL);

    return from_app.on_main && from_worker.on_main ? 0 : 1;
}

int main(void)
{
    /* Serves px_mainthread() here, on the main thread, until app returns. */
    int r = px_main(app, NULL);
    if (r < 0) {
        fprintf(stderr, "px_main: %s (%s)\n", px_strerror(r), px_last_error());
        return 1;
    }
    printf("main: px_main returned %d\n", r);
    return r;
}
