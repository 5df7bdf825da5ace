/*
 * The ratios of one run: each pinexec case against the hardware floor it
 * cannot beat (a ping-pong, the SPSC ring, a futex round trip) or against
 * another executor, from the medians of this run's own cases, and the goals
 * some of them have. Every output format prints these.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "peers/peer.h"

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* Median over the runs of a case; NAN when it did not run. */
static double median_of(const pxb_report_t *rep, const char *name)
{
    double v[PXB_COUNT_MAX];
    unsigned k = 0;
    for (size_t i = 0; i < rep->nresults && k < PXB_COUNT_MAX; i++) {
        const pxb_result_t *r = &rep->results[i];
        if (r->status == PXB_OK && strcmp(r->c->name, name) == 0) v[k++] = r->ns_op;
    }
    if (k == 0) return NAN;
    qsort(v, k, sizeof v[0], cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

typedef struct goal {
    const char *target; /* "<= 1.3"; NULL: for information */
    double limit;
    int cmp;
} goal_t;

static const goal_t info = {NULL, 0, 0};

/* value = num / den (or den / num with invert, for throughputs). */
static void add(pxb_ratios_t *rs, const pxb_report_t *rep, pxb_ratio_kind_t kind, const char *pair,
                const char *peer, const char *what, const char *num, const char *den, bool invert,
                goal_t g)
{
    if (rs->n >= PXB_RATIOS_MAX) return;
    double nv = median_of(rep, num), dv = median_of(rep, den);
    if (isnan(nv) || isnan(dv) || nv <= 0 || dv <= 0) return;
    pxb_ratio_t *r = &rs->v[rs->n++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    snprintf(r->what, sizeof r->what, "%s", what);
    r->pair = pair;
    r->peer = peer;
    snprintf(r->num, sizeof r->num, "%s", num);
    snprintf(r->den, sizeof r->den, "%s", den);
    r->nv = nv;
    r->dv = dv;
    r->value = invert ? dv / nv : nv / dv;
    r->target = g.target;
    r->limit = g.limit;
    r->cmp = g.cmp;
}

/* For each peer but pinexec: BenchmarkPeer<op>/<peer>/<pair> / den, named
 * "<peer> <what>". */
static void add_peers(pxb_ratios_t *rs, const pxb_report_t *rep, pxb_ratio_kind_t kind,
                      const char *pair, const char *op, const char *what, const char *den, goal_t g)
{
    const pxb_peer_t *const *peers = pxb_peers();
    for (unsigned i = 0; peers[i]; i++) {
        if (strcmp(peers[i]->name, "pinexec") == 0) continue;
        char name[80], num[PXB_NAME_MAX];
        snprintf(name, sizeof name, "%s %s", peers[i]->name, what);
        snprintf(num, sizeof num, "BenchmarkPeer%s/%s/%s", op, peers[i]->name, pair);
        add(rs, rep, kind, pair, peers[i]->name, name, num, den, false, g);
    }
}

bool pxb_ratio_met(const pxb_ratio_t *r)
{
    return r->cmp < 0 ? r->value <= r->limit : r->value >= r->limit;
}

/* Allocations of the pinexec cases over their timed parts. */
static void pinexec_allocs(pxb_ratios_t *rs, const pxb_report_t *rep)
{
    rs->allocs = rs->ops = 0;
    rs->worst = NULL;
    for (size_t i = 0; i < rep->nresults; i++) {
        const pxb_result_t *r = &rep->results[i];
        if (r->status != PXB_OK || !(r->c->flags & PXB_PINEXEC) || !r->has_alloc) continue;
        rs->allocs += r->allocs;
        rs->ops += r->n;
        if (r->allocs && (rs->worst == NULL || r->allocs > rs->worst->allocs)) rs->worst = r;
    }
}

void pxb_ratios_compute(pxb_ratios_t *rs, const pxb_report_t *rep)
{
    char a[PXB_NAME_MAX], b[PXB_NAME_MAX], c[PXB_NAME_MAX];
    rs->n = 0;
    for (int k = 0; k < PXB_PAIR_NKINDS; k++) {
        const pxb_pair_t *p = &rep->pairs->p[k];
        if (!p->present) continue;
        const char *L = p->label;
        /* The spinning floor is the faster of the one- and two-line ping-pongs. */
        snprintf(b, sizeof b, "BenchmarkPingPong/1line/%s", L);
        snprintf(c, sizeof c, "BenchmarkPingPong/2lines/%s", L);
        double one = median_of(rep, b), two = median_of(rep, c);
        const char *floor = isnan(two) || (!isnan(one) && one < two) ? b : c;
        snprintf(a, sizeof a, "BenchmarkCall/spin/%s", L);
        add(rs, rep, PXB_R_HOT_CALL, L, NULL, "hot px_call / spinning ping-pong", a, floor, false,
            (goal_t){"<= 1.3", 1.3, -1});
        /* A call moves two lines (the cell out, the reply back): its own floor. */
        add(rs, rep, PXB_R_HOT_CALL_2LINE, L, NULL, "hot px_call / two-line ping-pong", a, c, false,
            info);
        snprintf(a, sizeof a, "BenchmarkCallCold/sleep/%s", L);
        snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", L);
        add(rs, rep, PXB_R_COLD_CALL, L, NULL, "cold px_call / futex ping-pong", a, b, false,
            (goal_t){"<= 1.2", 1.2, -1});
        snprintf(a, sizeof a, "BenchmarkPost/spin/%s", L);
        snprintf(b, sizeof b, "BenchmarkSPSC/%s", L);
        add(rs, rep, PXB_R_POST_SPSC, L, NULL, "px_post throughput / SPSC ring", a, b, true,
            (goal_t){">= 0.7", 0.7, +1});
    }
    const char *P = rep->pairs->p[rep->pairs->primary].label;
    snprintf(b, sizeof b, "BenchmarkCall/spin/%s", P);
    add_peers(rs, rep, PXB_R_PEER_CALL, P, "Call", "call / hot px_call", b,
              (goal_t){">= 20", 20, +1});
    snprintf(b, sizeof b, "BenchmarkPeerCall/pinexec/%s", P);
    add_peers(rs, rep, PXB_R_PEER_CALL_DEF, P, "Call", "call / pinexec call (defaults)", b, info);
    snprintf(b, sizeof b, "BenchmarkPeerPost/pinexec/%s", P);
    add_peers(rs, rep, PXB_R_PEER_POST_DEF, P, "Post", "post / pinexec post (defaults)", b, info);
    snprintf(a, sizeof a, "BenchmarkCallContended/P=16/%s", P);
    snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", P);
    add(rs, rep, PXB_R_CONTENDED_FLOOR, P, NULL, "16 callers: per call / futex ping-pong", a, b,
        false, (goal_t){"< 1 (no collapse)", 1.0, -1});
    snprintf(b, sizeof b, "BenchmarkCallContended/P=1/%s", P);
    add(rs, rep, PXB_R_CONTENDED, P, NULL, "16 callers / 1 caller, per call", a, b, false, info);
    snprintf(a, sizeof a, "BenchmarkPostMP/P=16/%s", P);
    snprintf(b, sizeof b, "BenchmarkPostMP/P=1/%s", P);
    add(rs, rep, PXB_R_POST_MP, P, NULL, "16 posters / 1 poster, per post", a, b, false, info);
    snprintf(b, sizeof b, "BenchmarkCall/adaptive/%s", P);
    snprintf(a, sizeof a, "BenchmarkMainThreadCall/%s", P);
    add(rs, rep, PXB_R_MAIN_CALL, P, NULL, "main-thread call / created executor call", a, b, false,
        info);
    snprintf(a, sizeof a, "BenchmarkDrivenCall/serve/%s", P);
    add(rs, rep, PXB_R_SERVE_CALL, P, NULL, "px_serve call / created executor call", a, b, false,
        info);
    snprintf(a, sizeof a, "BenchmarkDrivenCall/fd/%s", P);
    snprintf(b, sizeof b, "BenchmarkFutexPingPong/%s", P);
    add(rs, rep, PXB_R_FD_CALL, P, NULL, "fd-driven call / futex ping-pong", a, b, false, info);
    pinexec_allocs(rs, rep);
}
