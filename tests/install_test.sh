#!/usr/bin/env bash
# Install the build tree into a scratch prefix, then build and run a consumer
# against it twice: through find_package(pinexec) and through pkg-config.
#   install_test.sh BUILD_DIR WORK_DIR
# Environment: CC (the compiler of the build), PX_CONSUMER_FLAGS (e.g. the
# sanitizer flags the library was built with).
set -euo pipefail

build=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cc=${CC:-cc}
flags=${PX_CONSUMER_FLAGS:-}

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
prefix=$work/prefix

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

pc=$(find "$prefix" -name pinexec.pc -print -quit)
[ -n "$pc" ] || { echo "pinexec.pc not installed"; exit 1; }
[ -f "$prefix/include/pinexec.h" ] || { echo "pinexec.h not installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")

echo "== find_package(pinexec)"
cmake -S "$here/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    >"$work/cmake-configure.log" || { cat "$work/cmake-configure.log"; exit 1; }
cmake --build "$work/cmake" >"$work/cmake-build.log" || { cat "$work/cmake-build.log"; exit 1; }
"$work/cmake/consumer"

echo "== pkg-config pinexec"
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pcflags=$(pkg-config --cflags pinexec)
pclibs=$(pkg-config --libs pinexec)
if [ ! -e "$libdir/libpinexec.so" ]; then
    # Static libpinexec: the .pc must name what it needs (hwloc, -pthread).
    # Link hwloc dynamically: `pkg-config --static` would also ask for hwloc's
    # own static dependencies (-ludev), which Debian's hwloc does not pull in.
    private=$(pkg-config --static --libs pinexec)
    for want in -lhwloc -pthread; do
        case " $private " in *" $want "*) ;; *) echo "pinexec.pc lacks $want: $private"; exit 1;; esac
    done
    pclibs="$pclibs -pthread -lm $(pkg-config --libs hwloc)"
fi
echo "cflags: $pcflags; libs: $pclibs"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" $flags $pcflags -o "$work/consumer-pc" "$here/consumer/main.c" $pclibs -Wl,-rpath,"$libdir"
"$work/consumer-pc"

echo "install test passed"
