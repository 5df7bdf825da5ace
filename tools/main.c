/* The pinexec command-line tool: dispatches to the subcommands in tools.h. */
#include <stdio.h>
#include <string.h>

#include "tools.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pinexec <command> [args]\n"
               "commands:\n"
               "  topo [SPEC...]   show the topology and resolve placement specs\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "topo") == 0) return px__tool_topo(argc - 1, argv + 1);
    /* "bench" (the benchmarks in bench/) will be added here. */
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "pinexec: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
