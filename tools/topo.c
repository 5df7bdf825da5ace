/* `pinexec topo [SPEC...]`: show the machine and what placement specs resolve to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinexec.h"
#include "placement.h"
#include "tools.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: pinexec topo [SPEC...]\n"
           "  Print the machine's topology summary, then the CPUs each placement spec\n"
           "  resolves to, narrowed to the process's allowed set.\n"
           "  SPEC: OS indexes (\"2\", \"0-3\", \"0,2-3\"), objects by logical index\n"
           "  (\"pu:3\", \"core:0-1\", \"numa:0\", \"package:0\", \"l3:0\", \"package:0.core:1\")\n"
           "  or \"all\".\n");
}

/* The summary line in a buffer grown until it fits; NULL with *err set on failure. */
static char *summary(int *err)
{
    *err = -ENOMEM;
    for (size_t len = 256; len <= ((size_t)1 << 24); len *= 2) {
        char *buf = malloc(len);
        if (buf == NULL) return NULL;
        *err = px__placement_describe(buf, len);
        if (*err == 0) return buf;
        free(buf);
        if (*err != -ERANGE) return NULL;
    }
    return NULL;
}

/* Print one spec's line, the spec quoted (an empty one stays visible); 0 if it resolved. */
static int show_spec(const char *spec, hwloc_bitmap_t set)
{
    int err = px__placement_resolve(spec, 0, set);
    if (err) {
        printf("\"%s\" -> error: %s (%s)\n", spec, px_strerror(err), px_last_error());
        return 1;
    }
    char *cpus = NULL;
    if (hwloc_bitmap_list_asprintf(&cpus, set) < 0) {
        printf("\"%s\" -> error: %s (cannot format the CPU set)\n", spec, px_strerror(-ENOMEM));
        return 1;
    }
    /* "" means the whole allowed set (the grammar's default): say so. */
    printf("\"%s\" -> %s%s\n", spec, cpus, spec[0] == '\0' ? " (allowed set)" : "");
    free(cpus);
    return 0;
}

int pxt_topo(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        /* No spec starts with '-': an option this command does not have. */
        if (argv[i][0] == '-') {
            fprintf(stderr, "pinexec topo: unknown option \"%s\"\nsee 'pinexec topo --help'\n",
                    argv[i]);
            return 2;
        }
    }
    int err;
    char *line = summary(&err);
    if (line == NULL) {
        fprintf(stderr, "pinexec topo: %s (%s)\n", px_strerror(err), px_last_error());
        return 1;
    }
    printf("%s\n", line);
    free(line);

    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL) {
        fprintf(stderr, "pinexec topo: %s\n", px_strerror(-ENOMEM));
        return 1;
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) failed |= show_spec(argv[i], set);
    hwloc_bitmap_free(set);
    return failed;
}
