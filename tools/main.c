/* The pinexec command-line tool: dispatches to the subcommands in tools.h. */
#include <stdio.h>
#include <string.h>

#include "pinexec.h"
#include "tools.h"
#ifdef PX_HAVE_BENCH
#include "bench.h"
#endif

#ifdef PX_HAVE_GLFW
/* pinexec demo [...]: the GLFW demo (demo.c, `pinexec demo --help`). */
int pxt_demo(int argc, char **argv);
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: pinexec <command> [args]\n"
               "       pinexec --version\n"
               "commands:\n"
               "  topo [SPEC...]   show the topology and resolve placement specs\n"
#ifdef PX_HAVE_BENCH
               "  bench [options]  run the executor benchmarks (bench --help)\n"
#endif
#ifdef PX_HAVE_GLFW
               "  demo [options]   a GLFW window with animated OpenGL content (demo --help)\n"
#endif
               "options:\n"
               "  -V, --version    print the library's version\n"
               "  -h, --help       this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "topo") == 0) return pxt_topo(argc - 1, argv + 1);
#ifdef PX_HAVE_GLFW
    if (strcmp(cmd, "demo") == 0) return pxt_demo(argc - 1, argv + 1);
#endif
#ifdef PX_HAVE_BENCH
    if (strcmp(cmd, "bench") == 0) return pxt_bench(argc - 1, argv + 1);
#endif
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("pinexec %s\n", px_version());
        return 0;
    }
    fprintf(stderr, "pinexec: unknown %s \"%s\"\nsee 'pinexec --help'\n",
            cmd[0] == '-' ? "option" : "command", cmd);
    return 2;
}
