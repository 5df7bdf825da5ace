/* Consumer of the installed pinexec: one executor, one call, the version. */
#include <pinexec.h>
#include <stdio.h>
#include <string.h>

static void add_one(void *arg)
{
    int *n = arg;
    ++*n;
}

int main(void)
{
    px_thread_t *t;
    int n = 41;
    int err = px_thread_create(&t, NULL);
    if (err) {
        fprintf(stderr, "px_thread_create: %s (%s)\n", px_strerror(err), px_last_error());
        return 1;
    }
    err = px_call(t, add_one, &n);
    if (err || n != 42) {
        fprintf(stderr, "px_call: %s, n = %d\n", px_strerror(err), n);
        return 1;
    }
    err = px_thread_destroy(t);
    if (err) {
        fprintf(stderr, "px_thread_destroy: %s\n", px_strerror(err));
        return 1;
    }
    printf("consumer: pinexec %s, call ran\n", px_version());
    return strncmp(px_version(), "0.", 2) != 0;
}
