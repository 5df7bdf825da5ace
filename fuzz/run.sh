#!/usr/bin/env bash
# Build the placement fuzzer (clang, -fsanitize=fuzzer,address,undefined) and
# run it: first every input of fuzz/corpus (the seed: every spec form of the
# docs) and fuzz/regressions (every crash ever found, kept forever), then
# fuzzing for a bounded time. Exits non-zero on a crash or a failed oracle;
# 77 (skip) when clang cannot build libFuzzer targets here.
#
#   fuzz/run.sh [SECONDS]            default 60 (or $FUZZ_SECONDS)
#   FUZZ_BUILD=dir  FUZZ_CC=clang    where to build, which compiler
#
# A crash leaves its input in $FUZZ_BUILD/artifacts/; reproduce it with
# `$FUZZ_BUILD/fuzz_placement FILE`, then copy FILE to fuzz/regressions/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
secs=${1:-${FUZZ_SECONDS:-60}}
build=${FUZZ_BUILD:-$root/build-fuzz}
cc=${FUZZ_CC:-clang}

mkdir -p "$build/corpus" "$build/artifacts"

# Can this compiler build a libFuzzer target at all?
probe=$build/probe.c
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! command -v "$cc" >/dev/null 2>&1 ||
   ! "$cc" -fsanitize=fuzzer "$probe" -o "$build/probe" >/dev/null 2>&1; then
    echo "fuzz: $cc cannot build libFuzzer targets here; skipping"
    exit 77
fi

# The library's sources as CMakeLists.txt picks them on Linux: the core, the
# Linux platform layer and the POSIX thread primitives it shares.
src=("$root"/src/*.c "$root"/src/linux/*.c "$root"/executors/*.c)
if [ -f "$root/src/posix/threads.c" ]; then src+=("$root/src/posix/threads.c"); fi
flags=(-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -DPX_TEST_HOOKS=1 -I"$root/include" -I"$root/src")
libs=($(pkg-config --libs hwloc) -lpthread -lm)
echo "fuzz: building $build/fuzz_placement"
"$cc" "${flags[@]}" "$here/fuzz_placement.c" "${src[@]}" "${libs[@]}" -o "$build/fuzz_placement"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/artifacts/" -print_final_stats=1)

echo "fuzz: replaying the seed corpus and the regressions"
inputs=("$here/corpus")
if compgen -G "$here/regressions/*" >/dev/null; then inputs+=("$here/regressions"); fi
"$build/fuzz_placement" "${common[@]}" -runs=0 "${inputs[@]}"

echo "fuzz: fuzzing for $secs s"
set +e +o pipefail
"$build/fuzz_placement" "${common[@]}" -max_total_time="$secs" "$build/corpus" "$here/corpus" >"$build/fuzz.log" 2>&1
status=$?
set -e -o pipefail
grep -E '^(#[0-9]+ +(INITED|DONE)|stat::|==[0-9]+==|SUMMARY|fuzz_placement:|Done)' "$build/fuzz.log" || true
if [ "$status" -ne 0 ]; then
    echo "fuzz: FAILED (exit $status); the input is in $build/artifacts/ (log: $build/fuzz.log)"
    tail -40 "$build/fuzz.log"
    exit 1
fi
echo "fuzz: passed"
