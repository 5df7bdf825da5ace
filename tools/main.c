/* The pinexec command-line tool: dispatches to the subcommands in tools.h. */
#include <stdio.h>
#include <string.h>

#include "tools.h"
#ifdef PX_HAVE_BENCH
#include "bench.h"
#endif

#ifdef PX_HAVE_GLFW
/* pinexec demo [...]: executors/glfw/demo.c (`pinexec demo --help`). */
int px__tool_demo(int argc, char **argv);
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: pinexec <command> [args]\n"
               "commands:\n"
               "  topo [SPEC...]   show the topology and resolve placement specs\n"
#ifdef PX_HAVE_BENCH
               "  bench [options]  run the executor benchmarks (bench --help)\n"
#endif
#ifdef PX_HAVE_GLFW
               "  demo [options]   a GLFW window with animated OpenGL content (demo --help)\n"
#endif
    );
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "topo") == 0) return px__tool_topo(argc - 1, argv + 1);
#ifdef PX_HAVE_GLFW /* executors/glfw/CMakeLists.txt adds executors/glfw/demo.c */
    if (strcmp(argv[1], "demo") == 0) return px__tool_demo(argc - 1, argv + 1);
#endif
#ifdef PX_HAVE_BENCH
    if (strcmp(argv[1], "bench") == 0) return px__tool_bench(argc - 1, argv + 1);
#endif
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "pinexec: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
