#!/usr/bin/env bash
# Soak: run every ctest test N times per build while the machine is loaded,
# and report per test how often it failed. Flakiness measured, not met.
#
#   scripts/soak.sh [-n N] [-o DIR] [BUILD_DIR...]
#       N          runs per test and build (default 20)
#       DIR        where logs and the table go (default soak-out/)
#       BUILD_DIR  configured and built trees (default: build build-tsan
#                  build-asan; `make soak` builds them first)
#
# Runs alternate between two conditions:
#   loaded   one busy loop per online CPU beside ctest -j2;
#   one-cpu  ctest -j2 pinned to CPU 0 (taskset -c 0), plus one busy loop
#            there, so tests and executors fight for one CPU.
# Skipped: the labels model, fuzz and install (deterministic, or slow and
# not timing-related; `make test` runs them).
# Prints a table (build, test, runs, failures, first failure's log) to stdout
# and to DIR/table.md; exits 1 if anything failed.
set -euo pipefail

n=20
out=soak-out
while getopts "n:o:" opt; do
    case $opt in
    n) n=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 [-n N] [-o DIR] [BUILD_DIR...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
builds=("$@")
[ ${#builds[@]} -eq 0 ] && builds=(build build-tsan build-asan)
case $n in '' | *[!0-9]*) echo "soak: -n wants a positive count, got '$n'" >&2; exit 2 ;; esac
[ "$n" -ge 1 ] || { echo "soak: -n wants a positive count, got '$n'" >&2; exit 2; }
for b in "${builds[@]}"; do
    [ -f "$b/CTestTestfile.cmake" ] || { echo "soak: $b is not a built tree (no CTestTestfile.cmake)" >&2; exit 2; }
done
command -v taskset >/dev/null || { echo "soak: taskset (util-linux) not found" >&2; exit 2; }

mkdir -p "$out"
exclude='^(model|fuzz|install)$'
cpus=$(nproc)
hogs=()
start_hogs() { # start_hogs COUNT [CPU]
    local i
    for ((i = 0; i < $1; i++)); do
        if [ -n "${2:-}" ]; then taskset -c "$2" bash -c 'while :; do :; done' &
        else bash -c 'while :; do :; done' & fi
        hogs+=($!)
    done
}
stop_hogs() {
    [ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null || true
    wait "${hogs[@]}" 2>/dev/null || true
    hogs=()
}
trap stop_hogs EXIT

declare -A runs fails first
started=$SECONDS
for b in "${builds[@]}"; do
    name=$(basename "$b")
    mapfile -t tests < <(ctest --test-dir "$b" -N -LE "$exclude" | sed -n 's/^ *Test *#[0-9]*: \(.*\)$/\1/p')
    for ((i = 1; i <= n; i++)); do
        log="$out/$name.$i.log"
        if ((i % 2)); then
            cond=loaded
            start_hogs "$cpus"
            ctest --test-dir "$b" -LE "$exclude" -j2 --timeout 900 --output-on-failure >"$log" 2>&1 || true
        else
            cond=one-cpu
            start_hogs 1 0
            taskset -c 0 ctest --test-dir "$b" -LE "$exclude" -j2 --timeout 900 --output-on-failure \
                >"$log" 2>&1 || true
        fi
        stop_hogs
        failed=$(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (.*)$/\1/p' "$log")
        for t in "${tests[@]}"; do
            runs[$name/$t]=$((${runs[$name/$t]:-0} + 1))
        done
        for t in $failed; do
            fails[$name/$t]=$((${fails[$name/$t]:-0} + 1))
            [ -n "${first[$name/$t]:-}" ] || first[$name/$t]="$log ($cond)"
        done
        printf 'soak: %s run %d/%d (%s): %d failed, %ds\n' "$name" "$i" "$n" "$cond" \
            "$(printf '%s' "$failed" | grep -c . || true)" "$((SECONDS - started))" >&2
        [ -n "$failed" ] || rm -f "$log"
    done
done

total_fail=0
{
    echo "| build | test | runs | failures | first failure |"
    echo "|---|---|---:|---:|---|"
    for key in $(printf '%s\n' "${!runs[@]}" | sort); do
        f=${fails[$key]:-0}
        total_fail=$((total_fail + f))
        printf '| %s | %s | %d | %d | %s |\n' "${key%%/*}" "${key#*/}" "${runs[$key]}" "$f" \
            "${first[$key]:--}"
    done
} | tee "$out/table.md"
total_fail=0
for key in "${!fails[@]}"; do total_fail=$((total_fail + fails[$key])); done
echo "soak: $n runs per test in ${#builds[@]} builds, $total_fail failures, $((SECONDS - started)) s"
[ "$total_fail" -eq 0 ]
