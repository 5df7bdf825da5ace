// The public header compiles as C++ (extern "C", no C-only constructs) and its
// functions link from C++ against the library's exported symbols.
#include <pinexec.h>

#include <cstdio>
#include <cstring>

#define PX_STR2(x) #x
#define PX_STR(x) PX_STR2(x)

int main()
{
    const char *want =
        PX_STR(PX_VERSION_MAJOR) "." PX_STR(PX_VERSION_MINOR) "." PX_STR(PX_VERSION_PATCH);
    const char *got = px_version();
    if (got == nullptr || std::strcmp(got, want) != 0) {
        std::fprintf(stderr, "px_version() = %s, header says %s\n", got ? got : "(null)", want);
        return 1;
    }
    px_thread_options_t opts = PX_THREAD_OPTIONS_INIT; // size-versioned: size set, rest zero
    px_stats_t stats = PX_STATS_INIT;
    if (opts.size != sizeof opts || stats.size != sizeof stats) return 1;
    (void)opts;
    (void)stats;
    std::printf("pinexec %s from C++\n", got);
    return 0;
}
