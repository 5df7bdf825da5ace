/*
 * libFuzzer target: the placement grammar and option validation (issue 6).
 * Built and run by fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined).
 *
 * Input: byte 0 picks the machine (the real one or one of four hwloc
 * synthetic topologies, some with a restricted allowed set) and the flags;
 * byte 1 and 2 fill the option fields; the rest is the placement spec (a
 * NUL inside it ends it, as in C).
 *
 * Oracles, besides the sanitizers:
 *   - px__placement_resolve returns 0 or one of -EINVAL, -EXDEV, -ENOMEM
 *     (the documented set), leaves the output set untouched on failure,
 *     and on success yields a nonempty subset of the allowed set (the whole
 *     allowed set for ""); resolving twice gives the same answer;
 *   - every failure leaves a printable px_last_error() sentence, and a spec
 *     error quotes the spec (its sanitized start);
 *   - px__options_check agrees with the documented rules exactly;
 *   - for some inputs (byte 0 bits 6 and 7) the whole px_thread_create runs: it
 *     agrees with resolve + options_check, and a created executor runs a
 *     call and is destroyed.
 * A violated oracle calls abort(): libFuzzer keeps the input as a crash.
 */
#include <errno.h>
#include <hwloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "executor.h"
#include "pinexec.h"
#include "placement.h"

#define SPEC_MAX 256

static const struct machine_choice {
    const char *desc;    /* NULL: the real machine */
    const char *allowed; /* allowed PU OS indexes, NULL: all */
} machines[] = {
    {NULL, NULL},
    {"package:2 [numa] core:2 pu:2", NULL},
    {"package:2 [numa] core:2 pu:2", "1-2,5"},
    {"numa:2 l3:1 core:4 pu:1", "4-7"},
    {"package:1 die:2 l2:2 core:1 pu:2", "0,3"},
};
#define NMACHINES (sizeof machines / sizeof machines[0])

static int current = -1;

static void fail(const char *what, const char *spec, int r)
{
    fprintf(stderr, "fuzz_placement: %s (spec \"%s\", result %d, error \"%s\")\n", what, spec, r,
            px_last_error());
    abort();
}

static void use_machine(int m)
{
    if (m == current) return;
    if (px__placement_test_use_synthetic(machines[m].desc, machines[m].allowed) != 0) {
        fprintf(stderr, "fuzz_placement: cannot load machine %d: %s\n", m, px_last_error());
        abort();
    }
    current = m;
}

/* A failure's text: nonempty, printable; a spec error (quote_spec) quotes
 * the spec, an option error names the offending value (want, when set). */
static void check_message(const char *spec, int r, bool quote_spec, const char *want)
{
    const char *msg = px_last_error();
    size_t n = strlen(msg);
    if (n == 0) fail("failure without a px_last_error() text", spec, r);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e)
            fail("unprintable byte in the error text", spec, r);
    if (want && strstr(msg, want) == NULL)
        fail("the error text does not name the offending value", spec, r);
    if (!quote_spec || (r != -EINVAL && r != -EXDEV)) return;
    /* The spec, as quoted: its first bytes, unprintable ones as '?'. */
    char q[17];
    size_t k = 0;
    for (; spec[k] && k < 16; k++)
        q[k] = ((unsigned char)spec[k] >= 0x20 && (unsigned char)spec[k] < 0x7f) ? spec[k] : '?';
    q[k] = '\0';
    if (k > 0 && strstr(msg, q) == NULL) fail("the error text does not quote the spec", spec, r);
}

/* Resolve and check; returns the result. */
static int resolve_checked(const char *spec, unsigned flags)
{
    hwloc_bitmap_t set = hwloc_bitmap_alloc(), again = hwloc_bitmap_alloc();
    if (set == NULL || again == NULL) abort();
    /* A sentinel content that a failed call must leave as it is. */
    hwloc_bitmap_only(set, 1000);
    int r = px__placement_resolve(spec, flags, set);
    if (r != 0) {
        if (r != -EINVAL && r != -EXDEV && r != -ENOMEM) fail("undocumented error", spec, r);
        if (!(hwloc_bitmap_weight(set) == 1 && hwloc_bitmap_isset(set, 1000)))
            fail("failure changed the output set", spec, r);
        check_message(spec, r, true, NULL);
    } else {
        hwloc_const_bitmap_t allowed = px__allowed_cpuset();
        if (allowed == NULL) fail("no allowed set after a success", spec, r);
        if (hwloc_bitmap_iszero(set)) fail("empty set", spec, r);
        if (!hwloc_bitmap_isincluded(set, allowed)) fail("set outside the allowed set", spec, r);
        if (spec[0] == '\0' && !hwloc_bitmap_isequal(set, allowed))
            fail("\"\" is not the allowed set", spec, r);
    }
    int r2 = px__placement_resolve(spec, flags, again);
    if (r2 != r || (r == 0 && !hwloc_bitmap_isequal(set, again)))
        fail("resolving twice differs", spec, r);
    hwloc_bitmap_free(set);
    hwloc_bitmap_free(again);
    return r;
}

/* The documented rules; *what: the offending value as the message must show it. */
static int options_expected(const px_thread_options_t *o, char *what, size_t len)
{
    if (o->capacity > PX_CAPACITY_MAX) {
        snprintf(what, len, "%u", o->capacity);
        return -EINVAL;
    }
    if ((unsigned)o->wait > PX_WAIT_SLEEP) {
        snprintf(what, len, "%d", (int)o->wait);
        return -EINVAL;
    }
    if (o->flags & ~PX_PIN_STRICT) {
        snprintf(what, len, "0x%x", o->flags);
        return -EINVAL;
    }
    return 0;
}

static void count(void *arg) { ++*(int *)arg; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int m = (int)((data[0] & 0x0f) % NMACHINES);
    unsigned flags = (data[0] & 0x10) ? PX_PIN_STRICT : 0;
    bool create = (data[0] & 0xc0) == 0xc0; /* a quarter of the inputs: threads are slow */
    char spec[SPEC_MAX + 1];
    size_t n = size - 3 > SPEC_MAX ? SPEC_MAX : size - 3;
    memcpy(spec, data + 3, n);
    spec[n] = '\0';

    use_machine(m);
    int r = resolve_checked(spec, flags);

    /* Options: wait and flags from byte 1, capacity from bytes 1-2 (up to
     * a bit above PX_CAPACITY_MAX), unknown flag bits from byte 0 bit 5. */
    px_thread_options_t o = {
        .size = sizeof o,
        .cpus = spec,
        .wait = (px_wait_t)(data[1] & 0x03),
        .capacity = ((unsigned)(data[1] >> 2) << 16 | (unsigned)data[2] << 8) >> 3,
        .flags = flags | ((data[0] & 0x20) ? 0x100u : 0u),
        .spin_ns = data[2],
        .name = (data[1] & 0x80) ? spec : NULL,
    };
    char what[32] = "";
    int ro = px__options_check(&o);
    if (ro != options_expected(&o, what, sizeof what))
        fail("px__options_check disagrees with the rules", spec, ro);
    if (ro) check_message(spec, ro, false, what);

    if (create) {
        /* Keep it cheap: small rings only. */
        if (o.capacity > 4096) o.capacity &= 4095;
        px_thread_t *t = (px_thread_t *)(uintptr_t)0x1;
        int rc = px_thread_create(&t, &o);
        int want = ro ? ro : r;
        /* Binding can also fail (-ENOSYS strict on a machine without binding, or an
         * OS refusal); on the synthetic machines it always succeeds. */
        if (rc != want && !(want == 0 && m == 0 && rc < 0))
            fail("px_thread_create disagrees with resolve/options_check", spec, rc);
        if (rc == 0) {
            int ran = 0;
            if (px_call(t, count, &ran) != 0 || ran != 1)
                fail("a created executor did not run a call", spec, rc);
            if (px_thread_destroy(t) != 0) fail("destroy failed", spec, rc);
        } else {
            if (t != (px_thread_t *)(uintptr_t)0x1)
                fail("a failed create wrote the handle", spec, rc);
            check_message(spec, rc, ro == 0, ro ? what : NULL);
        }
    }
    return 0;
}
