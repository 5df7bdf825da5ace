#!/usr/bin/env bash
# Run `pinexec demo` for a few seconds and save its last frame as a PNG.
# Headless under xvfb-run when there is no display. Called by `make run`
# (DEMO_OUT=$BUILD/run/demo.png) and `make docs-images` (DEMO_OUT=
# docs/img/demo.png, the README's picture); skips (exit 0) when the CLI has no
# demo (built without GLFW) or no X server can be had.
#
#   scripts/demo.sh [SECONDS]
# Environment: BUILD (build directory, default build), DEMO_OUT (PNG path,
# default $BUILD/run/demo.png).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$here/$build ;; esac
bin=$build/pinexec
out=${DEMO_OUT:-$build/run/demo.png}
seconds=${1:-4}

if [ ! -x "$bin" ] || ! "$bin" demo --help >/dev/null 2>&1; then
    echo "demo.sh: $bin has no 'demo' command (built without GLFW?); skipping the demo"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ppm=$tmp/demo.ppm

run=("$bin" demo --seconds "$seconds" --screenshot "$ppm")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    if ! command -v xvfb-run >/dev/null 2>&1; then
        echo "demo.sh: no display and no xvfb-run (Debian: xvfb xauth); skipping the demo" >&2
        exit 0
    fi
    echo "demo.sh: no display: running the demo under Xvfb"
    run=(xvfb-run -a -s "-screen 0 1024x768x24" "${run[@]}")
fi

echo "demo.sh: ${run[*]}"
"${run[@]}"

if ! command -v convert >/dev/null 2>&1; then
    echo "demo.sh: ImageMagick's convert is missing (Debian: imagemagick)" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
# -strip: no timestamps in the PNG, so an unchanged frame gives an unchanged file.
convert "$ppm" -strip "$out"
echo "demo.sh: screenshot written to $out"
