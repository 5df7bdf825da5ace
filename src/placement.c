/*
 * Placement specs: parse a spec, look its objects up in the topology and
 * narrow the result to the process's allowed set.
 *
 * Grammar (case-insensitive names, no whitespace):
 *   spec    := "" | "all" | oslist | objects
 *   oslist  := range ("," range)*            OS indexes, as taskset -c takes them
 *   range   := N | N "-" N                   N <= M
 *   objects := object ("." object)*          hwloc-calc's nested form
 *   object  := TYPE ":" N | TYPE ":" N "-" N  logical indexes, as lstopo numbers them
 *
 * A top-level object index counts all of the machine's objects of that type
 * (the topology is loaded with disallowed objects included), so a spec names
 * the same CPUs under any taskset or cgroup restriction. A nested index is
 * relative to its parent: "package:1.core:0" is the first core of package 1.
 *
 * hwloc's own list parser accepts "1,,2", "3-1", " 1" or "0-" (infinite) without
 * complaint, so the syntax is checked here first and only a valid list reaches
 * hwloc_bitmap_list_sscanf. Every number is bounded before anything is
 * allocated for it: "99999999999999999999" is an error message, not a 10 GB bitmap.
 */
#include "placement.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "pinexec.h"

/* Larger than any OS or logical index hwloc can hold; numbers saturate here. */
#define INDEX_HUGE 0x80000000ul
/* Nesting depth of the object form; machines have fewer levels than this. */
#define MAX_LEVELS 8
/* Room for a spec quoted in an error message; longer ones are cut with "...". */
#define QUOTE_LEN 52
/* Room for a CPU set in an error message. */
#define SET_LEN 64

/* The object types a spec may name. */
static const struct objtype {
    const char *name;
    hwloc_obj_type_t type;
    const char *what; /* singular, for messages; the plural adds "s" */
} objtypes[] = {
    {"pu", HWLOC_OBJ_PU, "PU"},
    {"core", HWLOC_OBJ_CORE, "core"},
    {"numa", HWLOC_OBJ_NUMANODE, "NUMA node"},
    {"node", HWLOC_OBJ_NUMANODE, "NUMA node"},
    {"numanode", HWLOC_OBJ_NUMANODE, "NUMA node"},
    {"package", HWLOC_OBJ_PACKAGE, "package"},
    {"socket", HWLOC_OBJ_PACKAGE, "package"},
    {"die", HWLOC_OBJ_DIE, "die"},
    {"l1", HWLOC_OBJ_L1CACHE, "L1 cache"},
    {"l1d", HWLOC_OBJ_L1CACHE, "L1 cache"},
    {"l1i", HWLOC_OBJ_L1ICACHE, "L1i cache"},
    {"l2", HWLOC_OBJ_L2CACHE, "L2 cache"},
    {"l3", HWLOC_OBJ_L3CACHE, "L3 cache"},
    {"l4", HWLOC_OBJ_L4CACHE, "L4 cache"},
    {"l5", HWLOC_OBJ_L5CACHE, "L5 cache"},
    {"machine", HWLOC_OBJ_MACHINE, "machine"},
};
#define KNOWN_TYPES "pu, core, numa (node), package (socket), die, l1, l1i, l2, l3, l4, l5, machine"

/* One parsed component of the object form. */
struct level {
    const struct objtype *type;
    const char *name; /* the type as written (e.g. "Socket"), for messages */
    int namelen;
    unsigned long lo, hi;
};

/* What resolve_objects needs while walking the levels. */
struct walk {
    hwloc_topology_t topo;
    const char *q; /* the quoted spec */
    const struct level *levels;
    int nlevels;
    hwloc_bitmap_t out;
};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* spec made safe to quote: cut at QUOTE_LEN-4 with "...", non-printable bytes as '?'. */
static const char *quote(const char *spec, char q[QUOTE_LEN])
{
    size_t i = 0;
    for (; spec[i] && i < QUOTE_LEN - 4; i++) {
        unsigned char c = (unsigned char)spec[i];
        q[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (spec[i]) {
        memcpy(q + i, "...", 4);
    } else {
        q[i] = '\0';
    }
    return q;
}

/* A character for a message: 'x', or a description of a blank or unprintable byte. */
static const char *char_text(char c, char buf[16])
{
    unsigned char u = (unsigned char)c;
    if (u == '\0') return "the end";
    if (u == ' ') return "a space";
    if (u > 0x20 && u < 0x7f) {
        snprintf(buf, 16, "'%c'", c);
    } else {
        snprintf(buf, 16, "byte 0x%02x", u);
    }
    return buf;
}

/* Read the digits at *p (at least one) as a saturating index; advance *p. */
static unsigned long read_index(const char **p)
{
    unsigned long v = 0;
    for (; is_digit(**p); (*p)++)
        if (v < INDEX_HUGE) v = v * 10 + (unsigned long)(**p - '0');
    return v < INDEX_HUGE ? v : INDEX_HUGE;
}

/* ---- OS-index lists ----------------------------------------------------- */

/* The error for OS indexes the machine does not have (bad: a nonempty set). */
static int no_such_cpus(const char *q, hwloc_const_bitmap_t bad, hwloc_const_bitmap_t machine)
{
    char b[SET_LEN], m[SET_LEN];
    int many = hwloc_bitmap_weight(bad) != 1;
    return px__fail(-EINVAL, "\"%s\": OS index%s %s %s not %s of this machine (it has %s)", q,
                    many ? "es" : "", px__cpuset_text(bad, b, sizeof b), many ? "are" : "is",
                    many ? "CPUs" : "a CPU", px__cpuset_text(machine, m, sizeof m));
}

/*
 * An OS-index list: check the syntax and bounds, then let hwloc parse it.
 * Numbers above the machine's last PU are rejected before hwloc allocates.
 */
static int resolve_os_list(hwloc_topology_t topo, const char *spec, const char *q,
                           hwloc_bitmap_t out)
{
    hwloc_const_bitmap_t machine = hwloc_topology_get_topology_cpuset(topo);
    unsigned long last = (unsigned long)hwloc_bitmap_last(machine);
    const char *p = spec;
    char cbuf[16], mbuf[SET_LEN];
    for (;;) {
        const char *elem = p;
        if (*p == ',' || *p == '\0')
            return px__fail(-EINVAL, "\"%s\": empty element in the CPU list at offset %d", q,
                            (int)(p - spec));
        if (!is_digit(*p))
            return px__fail(-EINVAL,
                            "\"%s\": expected an OS index at offset %d, found %s "
                            "(CPU lists look like \"0-3\" or \"0,2-3\")",
                            q, (int)(p - spec), char_text(*p, cbuf));
        const char *num = p;
        unsigned long lo = read_index(&p), hi = lo;
        const char *numend = p;
        if (*p == '-') {
            p++;
            if (!is_digit(*p))
                return px__fail(-EINVAL, "\"%s\": range \"%.*s\" has no upper bound", q,
                                (int)(p - elem > 24 ? 24 : p - elem), elem);
            num = p;
            hi = read_index(&p);
            numend = p;
            if (hi < lo)
                return px__fail(-EINVAL, "\"%s\": reversed range %lu-%lu (write %lu-%lu)", q, lo,
                                hi, hi, lo);
            if (lo > last) {
                numend = num - 1;
                num = elem;
            }
        }
        /* Syntax before bounds: "1-2-3" is malformed on any machine. */
        if (*p != '\0' && *p != ',')
            return px__fail(
                -EINVAL, "\"%s\": %s is not allowed %s (offset %d)", q, char_text(*p, cbuf),
                *p == '-' ? "here: a range is \"N-M\"" : "in a CPU list", (int)(p - spec));
        if (hi > last) {
            int n = (int)(numend - num);
            return px__fail(-EINVAL,
                            "\"%s\": OS index %.*s%s is not a CPU of this machine (it has %s)", q,
                            n > 24 ? 24 : n, num, n > 24 ? "..." : "",
                            px__cpuset_text(machine, mbuf, sizeof mbuf));
        }
        if (*p == '\0') break;
        p++; /* ',' */
    }
    if (hwloc_bitmap_list_sscanf(out, spec) != 0)
        return px__fail(-EINVAL, "\"%s\": hwloc cannot parse this CPU list", q);
    /* Holes: a machine may number its PUs 0-3,8-11. */
    hwloc_bitmap_t bad = hwloc_bitmap_alloc();
    if (bad == NULL || hwloc_bitmap_andnot(bad, out, machine) != 0) {
        hwloc_bitmap_free(bad);
        return px__fail(-ENOMEM, "\"%s\": out of memory", q);
    }
    int err = hwloc_bitmap_iszero(bad) ? 0 : no_such_cpus(q, bad, machine);
    hwloc_bitmap_free(bad);
    return err;
}

/* ---- topology objects --------------------------------------------------- */

/* Parse "type:N" or "type:N-M" at *p into lv; advance *p past it. */
static int parse_level(const char *spec, const char *q, const char **p, struct level *lv)
{
    char cbuf[16];
    const char *name = *p, *s = *p;
    while (*s && *s != ':' && *s != '.') s++;
    int namelen = (int)(s - name);
    if (namelen == 0)
        return px__fail(-EINVAL,
                        "\"%s\": missing object type at offset %d (known: " KNOWN_TYPES ")", q,
                        (int)(name - spec));
    lv->type = NULL;
    for (size_t i = 0; i < sizeof objtypes / sizeof objtypes[0]; i++)
        if ((size_t)namelen == strlen(objtypes[i].name) &&
            strncasecmp(name, objtypes[i].name, namelen) == 0)
            lv->type = &objtypes[i];
    if (lv->type == NULL)
        return px__fail(-EINVAL, "\"%s\": unknown object type \"%.*s\" (known: " KNOWN_TYPES ")", q,
                        namelen > 16 ? 16 : namelen, name);
    lv->name = name;
    lv->namelen = namelen;
    if (*s != ':')
        return px__fail(-EINVAL, "\"%s\": \"%.*s\" needs a logical index, as in \"%.*s:0\"", q,
                        namelen, name, namelen, name);
    s++;
    if (!is_digit(*s))
        return px__fail(-EINVAL, "\"%s\": expected a logical index after \"%.*s:\", found %s", q,
                        namelen, name, char_text(*s, cbuf));
    lv->lo = lv->hi = read_index(&s);
    if (*s == '-') {
        s++;
        if (!is_digit(*s))
            return px__fail(-EINVAL, "\"%s\": range \"%.*s:%lu-\" has no upper bound", q, namelen,
                            name, lv->lo);
        lv->hi = read_index(&s);
        if (lv->hi < lv->lo)
            return px__fail(-EINVAL, "\"%s\": reversed range %.*s:%lu-%lu (write %.*s:%lu-%lu)", q,
                            namelen, name, lv->lo, lv->hi, namelen, name, lv->hi, lv->lo);
    }
    if (*s != '\0' && *s != '.')
        return px__fail(-EINVAL, "\"%s\": unexpected %s after \"%.*s\" (offset %d)", q,
                        char_text(*s, cbuf), (int)(s - name > 24 ? 24 : s - name), name,
                        (int)(s - spec));
    *p = s;
    return 0;
}

/* The error for an index beyond what `where` holds ("this machine", "package:0"). */
static int no_such_object(const struct walk *w, const struct level *lv, const char *where,
                          int count)
{
    const char *what = lv->type->what;
    if (count <= 0) return px__fail(-EINVAL, "\"%s\": %s has no %ss", w->q, where, what);
    if (count == 1)
        return px__fail(-EINVAL, "\"%s\": %s has 1 %s (%.*s:0)", w->q, where, what, lv->namelen,
                        lv->name);
    return px__fail(-EINVAL, "\"%s\": %s has %d %ss (%.*s:0-%d)", w->q, where, count, what,
                    lv->namelen, lv->name, count - 1);
}

/*
 * Add the CPUs of the objects named by levels[i..] below parent (NULL: the
 * whole machine) to w->out. path is the concrete parent ("package:1.core:0")
 * for messages. Depth is at most MAX_LEVELS; the work is bounded by the number
 * of objects, since every index was checked against what its parent holds.
 */
static int walk_levels(const struct walk *w, int i, hwloc_obj_t parent, const char *path)
{
    const struct level *lv = &w->levels[i];
    int count;
    if (parent == NULL) {
        count = hwloc_get_nbobjs_by_type(w->topo, lv->type->type);
    } else {
        count = hwloc_get_nbobjs_inside_cpuset_by_type(w->topo, parent->cpuset, lv->type->type);
    }
    if (count < 0)
        return px__fail(-EINVAL,
                        "\"%s\": %ss lie at several levels of this machine; name them by OS index",
                        w->q, lv->type->what);
    if (lv->hi >= (unsigned long)count)
        return no_such_object(w, lv, parent ? path : "this machine", count);
    for (unsigned long idx = lv->lo; idx <= lv->hi; idx++) {
        hwloc_obj_t obj = parent == NULL
                              ? hwloc_get_obj_by_type(w->topo, lv->type->type, (unsigned)idx)
                              : hwloc_get_obj_inside_cpuset_by_type(w->topo, parent->cpuset,
                                                                    lv->type->type, (unsigned)idx);
        if (obj == NULL || obj->cpuset == NULL)
            return px__fail(-EINVAL, "\"%s\": hwloc has no %.*s:%lu", w->q, lv->namelen, lv->name,
                            idx);
        if (i + 1 == w->nlevels) {
            if (hwloc_bitmap_or(w->out, w->out, obj->cpuset) != 0)
                return px__fail(-ENOMEM, "\"%s\": out of memory", w->q);
            continue;
        }
        char sub[256];
        int n = snprintf(sub, sizeof sub, "%s%s%.*s:%lu", parent ? path : "", parent ? "." : "",
                         lv->namelen, lv->name, idx);
        if (n < 0 || (size_t)n >= sizeof sub)
            return px__fail(-EINVAL, "\"%s\": the nested spec is too long", w->q);
        int err = walk_levels(w, i + 1, obj, sub);
        if (err) return err;
    }
    return 0;
}

/* The object form: "core:1", "core:0-1", "package:0.core:1". */
static int resolve_objects(hwloc_topology_t topo, const char *spec, const char *q,
                           hwloc_bitmap_t out)
{
    struct level levels[MAX_LEVELS];
    int n = 0;
    const char *p = spec;
    for (;;) {
        if (*p == '.' || *p == '\0')
            return px__fail(-EINVAL,
                            "\"%s\": empty object at offset %d (nested objects look like "
                            "\"package:0.core:1\")",
                            q, (int)(p - spec));
        if (n == MAX_LEVELS)
            return px__fail(-EINVAL, "\"%s\": more than %d nested objects", q, MAX_LEVELS);
        int err = parse_level(spec, q, &p, &levels[n++]);
        if (err) return err;
        if (*p == '\0') break;
        p++; /* '.' */
    }
    struct walk w = {.topo = topo, .q = q, .levels = levels, .nlevels = n, .out = out};
    int err = walk_levels(&w, 0, NULL, "");
    if (err) return err;
    if (hwloc_bitmap_iszero(out))
        return px__fail(-EINVAL, "\"%s\": names no CPUs (a CPU-less object)", q);
    return 0;
}

/* ---- resolution --------------------------------------------------------- */

/* The first blank or unprintable byte of spec, or NULL. */
static const char *find_blank(const char *spec)
{
    for (const char *p = spec; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) return p;
    return NULL;
}

/* Narrow set to allowed: -EXDEV when nothing is left, or something would be
 * dropped under PX_PIN_STRICT; both sets are named. */
static int narrow(const char *q, unsigned flags, hwloc_const_bitmap_t allowed, hwloc_bitmap_t set)
{
    if (hwloc_bitmap_isincluded(set, allowed)) return 0;
    hwloc_bitmap_t outside = hwloc_bitmap_alloc();
    if (outside == NULL || hwloc_bitmap_andnot(outside, set, allowed) != 0) {
        hwloc_bitmap_free(outside);
        return px__fail(-ENOMEM, "\"%s\": out of memory", q);
    }
    char o[SET_LEN], a[SET_LEN];
    int err = 0;
    if (!hwloc_bitmap_intersects(set, allowed)) {
        err =
            px__fail(-EXDEV, "\"%s\": CPUs %s lie outside the process's allowed set %s", q,
                     px__cpuset_text(outside, o, sizeof o), px__cpuset_text(allowed, a, sizeof a));
    } else if (flags & PX_PIN_STRICT) {
        err = px__fail(
            -EXDEV, "\"%s\": CPUs %s lie outside the process's allowed set %s (PX_PIN_STRICT)", q,
            px__cpuset_text(outside, o, sizeof o), px__cpuset_text(allowed, a, sizeof a));
    } else if (hwloc_bitmap_and(set, set, allowed) != 0) {
        err = px__fail(-ENOMEM, "\"%s\": out of memory", q);
    }
    hwloc_bitmap_free(outside);
    return err;
}

/*
 * Resolve spec into out. out is written only on success, so a failed
 * resolution leaves the caller's set as it was.
 */
int px__placement_resolve(const char *spec, unsigned flags, hwloc_bitmap_t out)
{
    if (out == NULL) return px__fail(-EINVAL, "placement: no output CPU set");
    int err = px__placement_load();
    if (err) return err;
    hwloc_topology_t topo = px__topology();
    hwloc_const_bitmap_t allowed = px__allowed_cpuset();
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) return px__fail(-ENOMEM, "placement: out of memory");

    char q[QUOTE_LEN], cbuf[16];
    const char *bad;
    if (spec == NULL) spec = "";
    quote(spec, q);
    if (spec[0] == '\0') {
        err = hwloc_bitmap_copy(set, allowed) ? px__fail(-ENOMEM, "placement: out of memory") : 0;
    } else if (strcasecmp(spec, "all") == 0) {
        err = hwloc_bitmap_copy(set, hwloc_topology_get_topology_cpuset(topo))
                  ? px__fail(-ENOMEM, "placement: out of memory")
                  : 0;
    } else if ((bad = find_blank(spec)) != NULL) {
        err = px__fail(-EINVAL, "\"%s\": %s is not allowed in a placement spec (offset %d)", q,
                       char_text(*bad, cbuf), (int)(bad - spec));
    } else if (is_digit(spec[0]) || spec[0] == '-' || spec[0] == ',') {
        err = resolve_os_list(topo, spec, q, set);
    } else {
        err = resolve_objects(topo, spec, q, set);
    }
    if (err == 0 && spec[0] != '\0') err = narrow(q, flags, allowed, set);
    if (err == 0 && hwloc_bitmap_copy(out, set) != 0)
        err = px__fail(-ENOMEM, "placement: out of memory");
    hwloc_bitmap_free(set);
    return err;
}
