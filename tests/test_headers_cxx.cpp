// The public headers compile as C++ (extern "C", no C-only constructs) and
// their functions link from C++ against the libraries' exported symbols:
// <pinexec.h> always, <pinexec/glfw.h> when the GLFW module is built
// (PX_TEST_GLFW_HEADER, set by tests/CMakeLists.txt).
#include <pinexec.h>
#ifdef PX_TEST_GLFW_HEADER
#include <pinexec/glfw.h>
#endif

#include <cstdio>
#include <cstring>

#define PX_STR2(x) #x
#define PX_STR(x) PX_STR2(x)

#ifdef PX_TEST_GLFW_HEADER
// Taking each function's address links it by its C name (a missing extern "C"
// fails here), without needing a display to call it.
static const void *const glfw_functions[] = {
    reinterpret_cast<const void *>(&px_glfw_main),
    reinterpret_cast<const void *>(&px_window_create),
    reinterpret_cast<const void *>(&px_window_renderer),
    reinterpret_cast<const void *>(&px_window_glfw),
    reinterpret_cast<const void *>(&px_window_run),
    reinterpret_cast<const void *>(&px_window_close),
    reinterpret_cast<const void *>(&px_window_set_size),
    reinterpret_cast<const void *>(&px_window_framebuffer_size),
    reinterpret_cast<const void *>(&px_window_destroy),
};
#endif

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
#ifdef PX_TEST_GLFW_HEADER
    px_window_options_t wopts = {};
    wopts.hidden = true;
    (void)wopts;
    for (const void *f : glfw_functions) {
        if (f == nullptr) {
            std::fprintf(stderr, "a px_window_* / px_glfw_main address is NULL\n");
            return 1;
        }
    }
    std::printf("pinexec %s and pinexec/glfw.h from C++\n", got);
#else
    std::printf("pinexec %s from C++ (no GLFW module in this build)\n", got);
#endif
    return 0;
}
