#!/usr/bin/env bash
# What `make run` writes, it writes under the build directory: its demo step
# (`make run-demo`, the Makefile's own recipe, run here against this build)
# leaves `git status --porcelain` of the checkout as it was and puts the
# frame in BUILD/run/demo.png. The topology and bench steps write nothing;
# the bench's table goes to BUILD/run/bench.txt.
#
#   tests/run_clean_test.sh SOURCE_DIR BUILD_DIR
# Exit status 77 (ctest: skipped): not a git checkout, or the demo skipped
# (built without GLFW, or no X server to be had).
set -euo pipefail

src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)

if ! git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "run_clean_test: $src is not a git checkout; skipping"
    exit 77
fi
status() { GIT_OPTIONAL_LOCKS=0 git -C "$src" status --porcelain --untracked-files=all; }

before=$(status)
rm -f "$build/run/demo.png"
rc=0
out=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$src" --no-print-directory BUILD="$build" DEMO_SECONDS=1 run-demo 2>&1) || rc=$?
echo "$out"
after=$(status)

if [ "$before" != "$after" ]; then
    echo "run_clean_test: make run-demo changed the checkout:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    if grep -q "Xvfb failed to start" <<<"$out"; then
        echo "run_clean_test: no X server can be started; skipping"
        exit 77
    fi
    echo "run_clean_test: make run-demo failed ($rc)" >&2
    exit 1
fi
if grep -q "skipping the demo" <<<"$out"; then
    echo "run_clean_test: the demo was skipped; nothing written"
    exit 77
fi
[ -s "$build/run/demo.png" ] || { echo "run_clean_test: no $build/run/demo.png" >&2; exit 1; }
grep -q "screenshot written to $build/run/demo.png" <<<"$out" ||
    { echo "run_clean_test: the demo step does not say where it wrote" >&2; exit 1; }
echo "run_clean_test: checkout unchanged; frame in $build/run/demo.png"
