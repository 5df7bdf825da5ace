/* The description of a run every output format starts with: the OS and
 * architecture (Go's names, for benchstat), the CPU model, the topology and
 * the date. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "bench.h"
#include "placement.h"

static const char *goarch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__i386__)
    return "386";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#else
    return "unknown";
#endif
}

static void goos(char *buf, size_t len)
{
    struct utsname u;
    if (uname(&u) != 0) snprintf(u.sysname, sizeof u.sysname, "unknown");
    size_t n = strnlen(u.sysname, sizeof u.sysname);
    if (n >= len) n = len - 1;
    memcpy(buf, u.sysname, n);
    buf[n] = '\0';
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
}

void pxb_report_describe(pxb_report_t *rep)
{
    goos(rep->goos, sizeof rep->goos);
    rep->goarch = goarch();
    pxb_machine(rep->cpu, sizeof rep->cpu);
    char mach[sizeof rep->machine] = "";
    if (px__placement_describe(mach, sizeof mach) != 0 && mach[0] == '\0')
        snprintf(mach, sizeof mach, "unknown");
    const char *m = strncmp(mach, "machine: ", 9) == 0 ? mach + 9 : mach;
    snprintf(rep->machine, sizeof rep->machine, "%s", m);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL ||
        strftime(rep->date, sizeof rep->date, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(rep->date, sizeof rep->date, "unknown date");
}
