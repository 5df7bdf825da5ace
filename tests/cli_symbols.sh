#!/usr/bin/env bash
# The CLI's own objects (tools/, bench/, the demo) define no px_ or px__ symbol:
# px_ is the library's public prefix and px__ its internal one; the CLI uses
# pxt_ (tools) and pxb_ (bench). Fails when it finds no object or no main,
# so a moved object directory cannot pass by checking nothing.
#
#   tests/cli_symbols.sh OBJDIR   (CMakeFiles/pinexec_cli.dir of the build)
set -euo pipefail

dir=${1:?usage: cli_symbols.sh OBJDIR}
mapfile -t objs < <(find "$dir" -name '*.o' | sort)
if [ ${#objs[@]} -eq 0 ]; then
    echo "cli_symbols: no object files under $dir" >&2
    exit 1
fi
# "file:" headers, then "ADDR TYPE NAME" for each defined external symbol.
syms=$(nm -g --defined-only -A "${objs[@]}")
if ! grep -qE '[[:space:]]T main$' <<<"$syms"; then
    echo "cli_symbols: no object under $dir defines main (${#objs[@]} objects)" >&2
    exit 1
fi
bad=$(grep -E '[[:space:]][A-Za-z][[:space:]]px_' <<<"$syms" || true)
if [ -n "$bad" ]; then
    echo "cli_symbols: the CLI defines symbols with the library's prefixes (px_, px__):" >&2
    sed "s|^$dir/||" <<<"$bad" >&2
    exit 1
fi
echo "cli_symbols: ${#objs[@]} objects, $(wc -l <<<"$syms") defined symbols, none px_ or px__"
