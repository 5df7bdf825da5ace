/* `pinexec bench` command line: options, Go durations, the filter. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void pxb_usage(FILE *f)
{
    fprintf(f,
            "usage: pinexec bench [options]\n"
            "  Measure pinexec's executors against the hardware floors and other\n"
            "  executors, on CPU pairs chosen from the topology. Prints every case, the\n"
            "  ratios against the floors with their goals, and what they mean in words.\n"
            "options:\n"
            "  --filter REGEX  run the cases whose name matches REGEX (POSIX ERE,\n"
            "                  unanchored), e.g. 'Call/spin' or '^BenchmarkPost'\n"
            "  --count N       run each case N times (1..%u; default 1)\n"
            "  --time DUR      timed part of each case, a Go duration: 200ms, 1.5s,\n"
            "                  1m (default 1s; --quick: 100ms)\n"
            "  --quick         short run (about 10-20 s in all)\n"
            "  --cpus A,B      run on this CPU pair only (OS indexes; caller on A,\n"
            "                  executor on B; A == B: the same PU)\n"
            "  --format FMT    benchstat (default): Go benchmark lines for benchstat and\n"
            "                  tools, ratios and the summary as # comments;\n"
            "                  table: aligned columns for people (make run);\n"
            "                  json: one JSON document\n"
            "  --json          the same as --format=json\n"
            "  --list          print the names of the selected cases and exit\n"
            "  --glfw          run inside px_glfw_main (needs a display, e.g. xvfb-run):\n"
            "                  the main-thread call becomes BenchmarkGLFWWake, a call to a\n"
            "                  main thread waiting in glfwWaitEvents\n"
            "  --progress, --no-progress\n"
            "                  progress line on stderr (default: when it is a terminal)\n"
            "  -h, --help      this text\n"
            "Compare runs: pinexec bench --count 10 > old.txt; ...; benchstat old.txt new.txt\n",
            PXB_COUNT_MAX);
}

static int bad(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Units of a Go duration, longest suffix first where one is a prefix of another. */
static const struct {
    const char *name;
    double ns;
} units[] = {
    {"ns", 1.0}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, /* µs: micro sign, mu */
    {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
};

int pxb_parse_duration(const char *s, uint64_t *ns)
{
    if (s == NULL || *s == '\0') return -EINVAL;
    double total = 0;
    const char *p = s;
    while (*p) {
        /* A number: digits, optionally a fraction (Go: "1.5s", ".5s"). */
        if (!isdigit((unsigned char)*p) && *p != '.') return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno == ERANGE || v < 0) return -EINVAL;
        for (const char *q = p; q < end; q++) /* no exponents, signs, hex, inf */
            if (!isdigit((unsigned char)*q) && *q != '.') return -EINVAL;
        p = end;
        /* The unit: the longest one that matches ("ms" before "m"). */
        size_t best = 0;
        double mult = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t l = strlen(units[i].name);
            if (l > best && strncmp(p, units[i].name, l) == 0) {
                best = l;
                mult = units[i].ns;
            }
        }
        if (best == 0) return -EINVAL; /* missing or unknown unit */
        p += best;
        total += v * mult;
        if (total > (double)PXB_TIME_MAX_NS) return -EINVAL;
    }
    if (total < 1) return -EINVAL;
    *ns = (uint64_t)(total + 0.5);
    return 0;
}

int pxb_parse_count(const char *s, unsigned *out)
{
    if (s == NULL || !isdigit((unsigned char)*s)) return -EINVAL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || v < 1 || v > PXB_COUNT_MAX) return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

static int parse_cpu(const char *s, const char **rest, int *out)
{
    if (!isdigit((unsigned char)*s)) return -EINVAL;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || v < 0 || v > INT_MAX / 2) return -EINVAL;
    *out = (int)v;
    *rest = end;
    return 0;
}

int pxb_parse_cpus(const char *s, int out[2])
{
    if (s == NULL) return -EINVAL;
    int a, b;
    const char *p;
    if (parse_cpu(s, &p, &a) || *p != ',' || parse_cpu(p + 1, &p, &b) || *p != '\0') return -EINVAL;
    out[0] = a;
    out[1] = b;
    return 0;
}

int pxb_parse_format(const char *s, pxb_format_t *out)
{
    static const struct {
        const char *name;
        pxb_format_t f;
    } formats[] = {
        {"benchstat", PXB_FORMAT_BENCHSTAT},
        {"table", PXB_FORMAT_TABLE},
        {"json", PXB_FORMAT_JSON},
    };
    for (size_t i = 0; s && i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(s, formats[i].name) == 0) {
            *out = formats[i].f;
            return 0;
        }
    }
    return -EINVAL;
}

bool pxb_selected(const pxb_opts_t *o, const char *name)
{
    if (!o->has_filter) return true;
    return regexec(&o->filter_re, name, 0, NULL, 0) == 0;
}

void pxb_opts_free(pxb_opts_t *o)
{
    if (o->has_filter) regfree(&o->filter_re);
    o->has_filter = false;
}

/* "--name=value" or "--name value": the value, advancing *i; NULL if none. */
static const char *value_of(int argc, char **argv, int *i, const char *name)
{
    const char *a = argv[*i];
    size_t l = strlen(name);
    if (strncmp(a, name, l) != 0) return NULL;
    if (a[l] == '=') return a + l + 1;
    if (a[l] != '\0') return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

static bool is_opt(const char *a, const char *name)
{
    size_t l = strlen(name);
    return strncmp(a, name, l) == 0 && (a[l] == '\0' || a[l] == '=');
}

int pxb_parse_args(int argc, char **argv, pxb_opts_t *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->count = 1;
    o->progress = -1;
    o->cpus[0] = o->cpus[1] = -1;
    bool time_given = false;
    const char *filter = NULL;
    if (err && errlen) err[0] = '\0';
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = true;
        } else if (strcmp(a, "--json") == 0) {
            o->format = PXB_FORMAT_JSON;
        } else if (strcmp(a, "--quick") == 0) {
            o->quick = true;
        } else if (strcmp(a, "--glfw") == 0) {
            o->glfw = true;
        } else if (strcmp(a, "--list") == 0) {
            o->list = true;
        } else if (strcmp(a, "--progress") == 0) {
            o->progress = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            o->progress = 0;
        } else if (is_opt(a, "--filter")) {
            v = value_of(argc, argv, &i, "--filter");
            if (v == NULL || *v == '\0')
                return bad(err, errlen, "--filter needs a regular expression");
            filter = v;
        } else if (is_opt(a, "--format")) {
            v = value_of(argc, argv, &i, "--format");
            if (v == NULL || pxb_parse_format(v, &o->format))
                return bad(err, errlen, "--format \"%s\": want benchstat, table or json",
                           v ? v : "");
        } else if (is_opt(a, "--count")) {
            v = value_of(argc, argv, &i, "--count");
            if (v == NULL || pxb_parse_count(v, &o->count))
                return bad(err, errlen, "--count \"%s\": want an integer from 1 to %u", v ? v : "",
                           PXB_COUNT_MAX);
        } else if (is_opt(a, "--time")) {
            v = value_of(argc, argv, &i, "--time");
            if (v == NULL || pxb_parse_duration(v, &o->time_ns))
                return bad(err, errlen,
                           "--time \"%s\": want a positive Go duration up to 1h, such as 200ms, "
                           "1.5s or 1m",
                           v ? v : "");
            time_given = true;
        } else if (is_opt(a, "--cpus")) {
            v = value_of(argc, argv, &i, "--cpus");
            if (v == NULL || pxb_parse_cpus(v, o->cpus))
                return bad(err, errlen,
                           "--cpus \"%s\": want two OS CPU indexes \"A,B\", such as 0,1",
                           v ? v : "");
        } else {
            return bad(err, errlen, "unknown argument \"%s\"", a);
        }
    }
    if (!time_given) o->time_ns = o->quick ? PXB_TIME_QUICK_NS : PXB_TIME_DEFAULT_NS;
    if (filter) {
        int r = regcomp(&o->filter_re, filter, REG_EXTENDED | REG_NOSUB);
        if (r != 0) {
            char why[128];
            regerror(r, &o->filter_re, why, sizeof why);
            return bad(err, errlen, "--filter \"%s\": %s", filter, why);
        }
        o->filter = filter;
        o->has_filter = true;
    }
    return 0;
}
