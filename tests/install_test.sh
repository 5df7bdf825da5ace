#!/usr/bin/env bash
# Install the build tree into a scratch prefix, then build, link and run a
# consumer of every installed target and .pc file:
#   core   find_package(pinexec REQUIRED) -> pinexec::pinexec; pkg-config pinexec
#   glfw   find_package(pinexec REQUIRED) -> pinexec::glfw (optional component),
#          find_package(pinexec REQUIRED COMPONENTS glfw), pkg-config pinexec-glfw;
#          the three programs run inside one virtual X server (xvfb-run);
# and check what the package reports when it cannot give what is asked for
# (an unknown component; glfw built without, not installed, or glfw3 missing).
#   install_test.sh BUILD_DIR WORK_DIR
# Environment: CC (the compiler of the build), PX_CONSUMER_FLAGS (e.g. the
# sanitizer flags the library was built with), PX_EXPECT_GLFW (1: the build
# has pinexec-glfw, 0: it has not), PX_XVFB_RUN (xvfb-run, may be empty).
# Exit status 77 (ctest: skipped) only when everything else passed and the
# GLFW consumers, built and linked, found no X server to run in.
set -euo pipefail

build=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${CC:-cc}
flags=${PX_CONSUMER_FLAGS:-}
expect_glfw=${PX_EXPECT_GLFW:?PX_EXPECT_GLFW must be 1 or 0}
xvfb_run=${PX_XVFB_RUN:-}

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix

fail() { echo "FAIL: $*"; exit 1; }

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

pc=$(find "$prefix" -name pinexec.pc -print -quit)
[ -n "$pc" ] || fail "pinexec.pc not installed"
[ -f "$prefix/include/pinexec.h" ] || fail "pinexec.h not installed"
libdir=$(dirname "$(dirname "$pc")")
cmakedir=$libdir/cmake/pinexec

# What the GLFW component installs: all of it, or none of it.
glfw_files=("$prefix/include/pinexec/glfw.h" "$libdir/pkgconfig/pinexec-glfw.pc"
            "$cmakedir/pinexecGlfwTargets.cmake")
for f in "${glfw_files[@]}"; do
    if [ "$expect_glfw" = 1 ] && [ ! -f "$f" ]; then fail "$f not installed"; fi
    if [ "$expect_glfw" = 0 ] && [ -e "$f" ]; then fail "$f installed by a build without GLFW"; fi
done
if [ "$expect_glfw" = 1 ] && ! compgen -G "$libdir/libpinexec-glfw.*" >/dev/null; then
    fail "libpinexec-glfw not installed"
fi

# cmake_consumer NAME SOURCE_DIR [ARG...]: configure and build a consumer
# against the scratch prefix; show the log when a step fails.
cmake_consumer() {
    local name=$1 src=$2
    shift 2
    cmake -S "$src" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" "$@" \
        >"$work/$name-configure.log" 2>&1 || { cat "$work/$name-configure.log"; fail "$name: configure"; }
    cmake --build "$work/$name" >"$work/$name-build.log" 2>&1 \
        || { cat "$work/$name-build.log"; fail "$name: build"; }
}

# find_check NAME ok|fails PATTERN FIND_ARGS [CMAKE_ARG...]: the outcome of
# find_package(pinexec FIND_ARGS) (FIND_ARGS a CMake list), whose output must
# match the extended regular expression PATTERN.
find_check() {
    local name=$1 want=$2 pattern=$3 args=$4 got=ok
    shift 4
    echo "-- find_package(pinexec ${args//;/ }) $*: expect $want, /$pattern/"
    cmake -S "$here/consumer/find" -B "$work/find-$name" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" "-DPX_FIND_ARGS=$args" "$@" >"$work/find-$name.log" 2>&1 || got=fails
    # A line of the log, or the log with CMake's line wrapping undone.
    if [ "$got" != "$want" ] || ! { grep -Eq "$pattern" "$work/find-$name.log" \
            || tr -s ' \n' '  ' <"$work/find-$name.log" | grep -Eq "$pattern"; }; then
        cat "$work/find-$name.log"
        fail "find_package(pinexec ${args//;/ }): $got"
    fi
}

echo "== core: find_package(pinexec REQUIRED), pinexec::pinexec"
cmake_consumer cmake "$here/consumer"
"$work/cmake/consumer"

echo "== core: pkg-config pinexec"
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
static_libs=""
if [ ! -e "$libdir/libpinexec.so" ]; then
    # Static libpinexec: the .pc must name what it needs (hwloc, -pthread).
    # Link hwloc dynamically: `pkg-config --static` would also ask for hwloc's
    # own static dependencies (-ludev), which Debian's hwloc does not pull in.
    private=$(pkg-config --static --libs pinexec)
    for want in -lhwloc -pthread; do
        case " $private " in *" $want "*) ;; *) fail "pinexec.pc lacks $want: $private";; esac
    done
    static_libs="-pthread -lm $(pkg-config --libs hwloc)"
fi
pcflags=$(pkg-config --cflags pinexec)
pclibs="$(pkg-config --libs pinexec) $static_libs"
echo "cflags: $pcflags; libs: $pclibs"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" $flags $pcflags -o "$work/consumer-pc" "$here/consumer/main.c" $pclibs -Wl,-rpath,"$libdir"
"$work/consumer-pc"

echo "== what find_package(pinexec) reports"
find_check unknown fails "pinexec has no component 'nosuch' \(its components: glfw\)" \
    "REQUIRED;COMPONENTS;nosuch"
find_check unknown-optional ok "px-find: pinexec_FOUND=(1|TRUE) .*targets=pinexec::pinexec" \
    "REQUIRED;OPTIONAL_COMPONENTS;nosuch"
if [ "$expect_glfw" = 0 ]; then
    find_check no-glfw ok "pinexec_glfw_FOUND=(0|FALSE) targets=pinexec::pinexec$" "REQUIRED"
    find_check no-glfw-required fails \
        "component glfw \(pinexec::glfw\) is not available: pinexec [0-9.]+ was built without GLFW" \
        "REQUIRED;COMPONENTS;glfw"
    echo "install test passed (built without GLFW: no GLFW consumer)"
    exit 0
fi
find_check glfw ok "pinexec_glfw_FOUND=(1|TRUE) targets=pinexec::pinexec;pinexec::glfw$" "REQUIRED"
# A machine with pinexec-glfw installed but without GLFW's development files:
# the core is still found; asking for glfw names the missing dependency.
find_check no-glfw3 ok "pinexec_glfw_FOUND=(0|FALSE) targets=pinexec::pinexec$" "REQUIRED" \
    -DCMAKE_DISABLE_FIND_PACKAGE_glfw3=ON
find_check no-glfw3-required ok "px-find: pinexec_FOUND=(0|FALSE) " \
    "COMPONENTS;glfw" -DCMAKE_DISABLE_FIND_PACKAGE_glfw3=ON
grep -q "dependency glfw3 could not be found" "$work/find-no-glfw3-required.log" \
    || { cat "$work/find-no-glfw3-required.log"; fail "no reason given for the missing glfw3"; }
# Its files gone (a partial install): the same, with that reason.
mv "$cmakedir/pinexecGlfwTargets.cmake" "$work/pinexecGlfwTargets.cmake"
find_check glfw-missing ok "pinexec_glfw_FOUND=(0|FALSE) targets=pinexec::pinexec$" "REQUIRED"
find_check glfw-missing-required fails \
    "component glfw \(pinexec::glfw\) is not available: its files are not installed" \
    "REQUIRED;COMPONENTS;glfw"
mv "$work/pinexecGlfwTargets.cmake" "$cmakedir/pinexecGlfwTargets.cmake"

echo "== glfw: find_package(pinexec REQUIRED), pinexec::glfw"
cmake_consumer cmake-glfw "$here/consumer/glfw"
echo "== glfw: find_package(pinexec REQUIRED COMPONENTS glfw), pinexec::glfw"
cmake_consumer cmake-glfw-components "$here/consumer/glfw" -DPX_COMPONENTS_FORM=ON
echo "== glfw: pkg-config pinexec-glfw"
pcflags=$(pkg-config --cflags pinexec-glfw)
pclibs="$(pkg-config --libs pinexec-glfw) $static_libs"
echo "cflags: $pcflags; libs: $pclibs"
# shellcheck disable=SC2086
"$cc" $flags $pcflags -o "$work/consumer-glfw-pc" "$here/consumer/glfw/main.c" $pclibs \
    -Wl,-rpath,"$libdir"

echo "== glfw consumers, in one X server"
glfw_progs=("$work/cmake-glfw/consumer_glfw" "$work/cmake-glfw-components/consumer_glfw"
            "$work/consumer-glfw-pc")
# Each program: 0 passed, 77 no X server (the rest is skipped), else failed.
# shellcheck disable=SC2016 # expanded by the inner bash
run_all='for p; do echo "-- $p"; "$p" || exit $?; done'
status=0
if [ -n "$xvfb_run" ]; then
    "$xvfb_run" -a -s "-screen 0 1024x768x24" bash -c "$run_all" bash "${glfw_progs[@]}" || status=$?
elif [ -n "${DISPLAY:-}" ]; then
    bash -c "$run_all" bash "${glfw_progs[@]}" || status=$?
else
    echo "no X server can be started: no xvfb-run (Debian: xvfb) and no DISPLAY"
    status=77
fi
case $status in
    0) echo "install test passed" ;;
    77) echo "install test: everything passed but the GLFW consumers' run (skipped: no X server)"
        exit 77 ;;
    *) fail "a GLFW consumer exited with $status" ;;
esac
