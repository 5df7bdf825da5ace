/*
 * Subcommands of the pinexec CLI (tools/main.c dispatches to them). Each takes
 * the arguments from the subcommand name on (argv[0] is "topo", ...) and
 * returns the process exit status.
 */
#ifndef PXT_TOOLS_H
#define PXT_TOOLS_H

/*
 * pinexec topo [SPEC...]: print a one-line summary of the machine, then for
 * each placement spec one line "\"SPEC\" -> CPUS" (narrowed to the allowed
 * set; "\"\" -> CPUS (allowed set)" for the empty spec), or
 * "\"SPEC\" -> error: <px_strerror> (<px_last_error>)".
 * Returns 0 when every spec resolved, 1 otherwise (or when the topology
 * cannot be loaded), 2 on a usage error.
 */
int pxt_topo(int argc, char **argv);

#endif
