#!/usr/bin/env bash
# README.md's "Install and use", run as written: the blocks are read from the
# README (each fenced block after a `<!-- readme-test: NAME -->` line), so the
# text cannot drift from what works.
#   install-custom   `make install PREFIX=$HOME/.local`, run in the source tree
#                    (HOME is a scratch directory; BUILD=BUILD_DIR);
#   custom-prefix    in a directory holding app.c and CMakeLists.txt (the
#                    README's blocks of those names): pkg-config and CMake
#                    builds, each program must print 144;
#   default-prefix   the same for an install into the default prefix, with
#                    the system's search paths (pkg-config's, CMake's, the
#                    run-time linker's) stood in for by PKG_CONFIG_PATH,
#                    CMAKE_PREFIX_PATH and LD_LIBRARY_PATH.
# Then `make install DESTDIR=... PREFIX=/usr`: everything under DESTDIR/usr.
# ldconfig is replaced by a recorder: neither install may run it.
#   readme_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
# Exit status 77 (ctest: skipped) when the README's program cannot run here
# (it pins to core:1, which needs a second core in the allowed set).
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
work=$3
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

fail() { echo "FAIL: $*"; exit 1; }

# block NAME: the fenced block that follows <!-- readme-test: NAME -->.
block() {
    local text
    text=$(awk -v name="$1" '
        $0 == "<!-- readme-test: " name " -->" { state = 1; next }
        state == 1 { if ($0 ~ /^```/) { state = 2; next } else exit 2 }
        state == 2 { if ($0 ~ /^```[ \t]*$/) { closed = 1; exit 0 } print }
        END { if (!closed) exit 3 }' "$src/README.md") \
        || fail "README.md: no fenced block right after <!-- readme-test: $1 -->"
    [ -n "$text" ] || fail "README.md: block $1 is empty"
    printf '%s\n' "$text"
}

# run_block NAME DIR: run the block in DIR with bash -e, echoing each command;
# stdout also goes to WORK/NAME.out.
run_block() {
    echo "== README block $1 (in $2)"
    block "$1" | sed 's/^/    /'
    (cd "$2" && bash -eux -o pipefail -c "$(block "$1")") | tee "$work/$1.out"
}

# expect_144 NAME: every program the block runs (./app, ./build/app) printed 144.
expect_144() {
    local runs got
    runs=$(block "$1" | grep -Ec '^\./(build/)?app([[:space:]]|$)' || true)
    got=$(grep -cx '144' "$work/$1.out" || true)
    [ "$runs" -ge 2 ] || fail "block $1 runs $runs programs, expected the pkg-config and the CMake one"
    [ "$got" = "$runs" ] || fail "block $1: $got lines '144' for $runs programs"
    echo "-- block $1: $runs programs, each printed 144"
}

if [ -x "$build/pinexec" ] && ! "$build/pinexec" topo core:1 >/dev/null 2>&1; then
    "$build/pinexec" topo core:1 || true
    echo "the README's program pins to core:1, which this machine (or its allowed set) lacks"
    exit 77
fi

# The environment of a new user's shell, in scratch directories: no search
# paths of ours, an outer make's flags (make test runs ctest) kept out.
unset MAKEFLAGS MFLAGS MAKELEVEL PKG_CONFIG_PATH CMAKE_PREFIX_PATH LD_LIBRARY_PATH DESTDIR PREFIX
export HOME=$work/home
export BUILD=$build # the Makefile's `BUILD ?= build`
mkdir -p "$HOME" "$work/bin"
# shellcheck disable=SC2016 # the recorder's own $0 $*
printf '#!/bin/sh\necho "$0 $*" >>"%s/ldconfig.calls"\n' "$work" >"$work/bin/ldconfig"
chmod +x "$work/bin/ldconfig"
export PATH=$work/bin:$PATH

make_app_dir() {
    mkdir -p "$1"
    block app.c >"$1/app.c"
    block CMakeLists.txt >"$1/CMakeLists.txt"
}

# ---- a prefix of one's own ----------------------------------------------------
run_block install-custom "$src"
[ -f "$HOME/.local/include/pinexec.h" ] || fail "make install PREFIX=\$HOME/.local: no include/pinexec.h"
"$HOME/.local/bin/pinexec" topo >/dev/null || fail "the installed pinexec command does not run"
make_app_dir "$work/app-custom"
run_block custom-prefix "$work/app-custom"
expect_144 custom-prefix

# ---- the default prefix, its search paths stood in for ------------------------
make_app_dir "$work/app-default"
(
    export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig CMAKE_PREFIX_PATH=$HOME/.local \
        LD_LIBRARY_PATH=$HOME/.local/lib
    run_block default-prefix "$work/app-default"
)
expect_144 default-prefix

# ---- a staged install ----------------------------------------------------------
echo "== make install DESTDIR=$work/stage PREFIX=/usr"
(cd "$src" && make install DESTDIR="$work/stage" PREFIX=/usr) >"$work/destdir.log" \
    || { cat "$work/destdir.log"; fail "make install DESTDIR=... PREFIX=/usr"; }
[ "$(ls -A "$work/stage")" = usr ] || fail "DESTDIR holds $(ls -A "$work/stage"), not just usr"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$build/CMakeCache.txt")
for f in include/pinexec.h bin/pinexec "$libdir/libpinexec.so.0" "$libdir/pkgconfig/pinexec.pc" \
         "$libdir/cmake/pinexec/pinexecConfig.cmake"; do
    [ -e "$work/stage/usr/$f" ] || fail "staged install lacks /usr/$f"
done
pc=$work/stage/usr/$libdir/pkgconfig/pinexec.pc
# shellcheck disable=SC2016 # a literal ${pcfiledir}
grep -q '^prefix=${pcfiledir}/' "$pc" || fail "the staged pinexec.pc is not relocatable: $(grep ^prefix= "$pc")"
echo "-- staged under $work/stage/usr: $(find "$work/stage" -type f | wc -l) files"

[ ! -e "$work/ldconfig.calls" ] || fail "make install ran ldconfig: $(cat "$work/ldconfig.calls")"
echo "readme test passed"
