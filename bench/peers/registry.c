/* The peers built into this binary (optional ones when their library was found). */
#include <stddef.h>

#include "peer.h"

static const pxb_peer_t *const peers[] = {
    &pxb_peer_pinexec,
    &pxb_peer_naive,
#ifdef PX_PEER_GLIB
    &pxb_peer_glib,
#endif
#ifdef PX_PEER_UV
    &pxb_peer_uv,
#endif
    NULL,
};

const pxb_peer_t *const *pxb_peers(void) { return peers; }
