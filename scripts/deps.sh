#!/usr/bin/env bash
# Install the Debian packages pinexec needs, if any is missing (Debian 12).
# Idempotent: when everything is installed it only asks dpkg and exits 0.
set -euo pipefail

packages=(
    # build, library and tests
    build-essential cmake pkg-config libhwloc-dev hwloc libcmocka-dev
    # tests/test_cli.c checks `pinexec bench --format=json` with Python's json module
    python3
    # clang and its sanitizer/fuzzer runtimes
    clang libclang-rt-14-dev
    # GLFW executor and its tests under a virtual X server (xvfb-run needs xauth)
    libglfw3-dev libgl1-mesa-dev libgl1-mesa-dri xvfb xauth
    # benchmark peers, plots, model checking, images, memory checking
    libuv1-dev libglib2.0-dev gnuplot-nox spin imagemagick valgrind
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages installed"
    exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "deps: not root and no sudo; run as root:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}" >&2
    exit 1
fi

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y "${missing[@]}"
