/* pinexec itself through the peer adapter, in its default configuration
 * (PX_WAIT_ADAPTIVE, default spin budget): what a user gets without tuning. */
#include <stdio.h>
#include <string.h>

#include "peer.h"
#include "pinexec.h"

static int create(void **out, int cpu)
{
    char spec[16];
    snprintf(spec, sizeof spec, "%d", cpu);
    px_thread_options_t o;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.name = "peer-pinexec";
    o.cpus = cpu >= 0 ? spec : NULL;
    px_thread_t *t = NULL;
    int r = px_thread_create(&t, &o);
    if (r == 0) *out = t;
    return r;
}

static int call(void *exec, void (*fn)(void *), void *arg) { return px_call(exec, fn, arg); }
static int post(void *exec, void (*fn)(void *), void *arg) { return px_post(exec, fn, arg); }
static void destroy(void *exec) { px_thread_destroy(exec); }

const pxb_peer_t pxb_peer_pinexec = {
    .name = "pinexec",
    .plain = "pinexec with default options",
    .about = "pinexec px_call/px_post, default options (adaptive wait)",
    .create = create,
    .call = call,
    .post = post,
    .destroy = destroy,
};
