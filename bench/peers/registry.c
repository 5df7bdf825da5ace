/* The peers built into this binary (optional ones when their library was found). */
#include <stddef.h>

#include "peer.h"

static const px_bench_peer_t *const peers[] = {
    &px_bench_peer_pinexec,
    &px_bench_peer_naive,
#ifdef PX_PEER_GLIB
    &px_bench_peer_glib,
#endif
#ifdef PX_PEER_UV
    &px_bench_peer_uv,
#endif
    NULL,
};

const px_bench_peer_t *const *px__bench_peers(void) { return peers; }
