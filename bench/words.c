/*
 * The summary in words every output format ends with: what this run's ratios
 * mean, one sentence each, with the goal and whether it was met. A reader
 * gets this machine's numbers, not the reference machine's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "peers/peer.h"

static void say(pxb_words_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(pxb_words_t *w, const char *fmt, ...)
{
    if (w->n >= PXB_WORDS_MAX) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->line[w->n++], sizeof w->line[0], fmt, ap);
    va_end(ap);
}

/* "1.10x", "45x": two decimals below 10, none above. */
static const char *times(char *buf, size_t len, double x)
{
    snprintf(buf, len, x < 10 ? "%.2fx" : "%.0fx", x);
    return buf;
}

/* "(goal <= 1.3x: met)" */
static const char *goal(char *buf, size_t len, const pxb_ratio_t *r)
{
    snprintf(buf, len, "(goal %s%s: %s)", r->target, strchr(r->target, '(') ? "" : "x",
             pxb_ratio_met(r) ? "met" : "missed");
    return buf;
}

static const pxb_ratio_t *find(const pxb_ratios_t *rs, pxb_ratio_kind_t kind, const char *pair)
{
    for (unsigned i = 0; i < rs->n; i++)
        if (rs->v[i].kind == kind && strcmp(rs->v[i].pair, pair) == 0) return &rs->v[i];
    return NULL;
}

/* Where the executor is, seen from the caller, for a pair label. */
static const char *where(const char *label)
{
    if (strcmp(label, "smt") == 0) return "on the other hardware thread of the caller's core";
    if (strcmp(label, "cores") == 0) return "on another core";
    if (strcmp(label, "packages") == 0) return "in another package";
    if (strcmp(label, "numa") == 0) return "on another NUMA node";
    return "on the caller's own CPU";
}

static const char *plain(const char *peer)
{
    const pxb_peer_t *const *peers = pxb_peers();
    for (unsigned i = 0; peers[i]; i++)
        if (strcmp(peers[i]->name, peer) == 0 && peers[i]->plain) return peers[i]->plain;
    return peer;
}

/* "328x faster than a mutex+condvar executor, 341x than ... and 333x than ..." */
static void peers_sentence(pxb_words_t *w, const pxb_ratios_t *rs, const char *pair)
{
    char text[280] = "", t[32];
    unsigned n = 0, total = 0, met = 0;
    for (unsigned i = 0; i < rs->n; i++)
        if (rs->v[i].kind == PXB_R_PEER_CALL && strcmp(rs->v[i].pair, pair) == 0) total++;
    const pxb_ratio_t *any = NULL;
    for (unsigned i = 0; i < rs->n; i++) {
        const pxb_ratio_t *r = &rs->v[i];
        if (r->kind != PXB_R_PEER_CALL || strcmp(r->pair, pair) != 0) continue;
        any = r;
        met += pxb_ratio_met(r);
        size_t l = strlen(text);
        snprintf(text + l, sizeof text - l, "%s%s %s %s",
                 n == 0           ? ""
                 : n + 1 == total ? " and "
                                  : ", ",
                 times(t, sizeof t, r->value), n == 0 ? "faster than" : "than", plain(r->peer));
        n++;
    }
    if (any == NULL) return;
    say(w, "- a hot call is %s (goal %sx: %s)", text, any->target,
        met == total ? "met"
        : met == 0   ? "missed"
                     : "missed for some");
}

void pxb_words(const pxb_report_t *rep, const pxb_ratios_t *rs, pxb_words_t *w)
{
    w->n = 0;
    const pxb_pair_t *p = &rep->pairs->p[rep->pairs->primary];
    char t[32], g[64];
    /* No line starts with "#   " once prefixed with "# ": bench/report reads
     * those as ratios. */
    say(w,
        "summary of this run (%s, caller on CPU %d, executor on CPU %d, %s; ratios vary by "
        "CPU and load, so compare runs on one machine):",
        rep->cpu, p->a, p->b, rep->date);
    const pxb_ratio_t *r = find(rs, PXB_R_HOT_CALL, p->label);
    if (r)
        say(w, "- a call to an executor %s costs %s the time for %s to go there and back %s",
            where(p->label), times(t, sizeof t, r->value),
            strstr(r->den, "/1line/") ? "a cache line" : "two cache lines", goal(g, sizeof g, r));
    r = find(rs, PXB_R_COLD_CALL, p->label);
    if (r)
        say(w, "- a call that wakes a sleeping executor costs %s a futex ping-pong %s",
            times(t, sizeof t, r->value), goal(g, sizeof g, r));
    peers_sentence(w, rs, p->label);
    r = find(rs, PXB_R_POST_SPSC, p->label);
    if (r)
        say(w, "- posts reach %s the throughput of a bare SPSC ring %s",
            times(t, sizeof t, r->value), goal(g, sizeof g, r));
    r = find(rs, PXB_R_CONTENDED, p->label);
    if (r)
        say(w, "- 16 callers at once cost %s per call what one caller costs",
            times(t, sizeof t, r->value));
    if (rep->alloc_counted && rs->ops)
        say(w, "- %llu allocations in %llu pinexec calls and posts (goal 0: %s)",
            (unsigned long long)rs->allocs, (unsigned long long)rs->ops,
            rs->allocs ? "missed" : "met");
    /* Every goal of every pair, the missed ones named. */
    unsigned goals = 0, met = 0;
    char missed[256] = "";
    for (unsigned i = 0; i < rs->n; i++) {
        const pxb_ratio_t *q = &rs->v[i];
        if (!q->target) continue;
        goals++;
        if (pxb_ratio_met(q)) {
            met++;
            continue;
        }
        size_t l = strlen(missed);
        snprintf(missed + l, sizeof missed - l, "%s%s on %s %s", l ? "; " : "", q->what, q->pair,
                 times(t, sizeof t, q->value));
    }
    if (rep->alloc_counted && rs->ops) {
        goals++;
        met += rs->allocs == 0;
        size_t l = strlen(missed);
        if (rs->allocs)
            snprintf(missed + l, sizeof missed - l, "%sallocations %llu", l ? "; " : "",
                     (unsigned long long)rs->allocs);
    }
    if (goals)
        say(w, "- goals met: %u of %u%s%s", met, goals, met < goals ? "; missed: " : "", missed);
}
