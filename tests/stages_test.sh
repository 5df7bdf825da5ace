#!/usr/bin/env bash
# scripts/test-stages.sh, the runner of `make test`'s stages, on made-up
# stages (a tiny ctest project): every stage runs even after one fails, the
# table counts each stage and names its failed tests, a stage without results
# or with a failing command counts as failed, the last line is exactly
# "N passed, M failed" over all stages, and the exit status is 1 when anything
# failed, 0 when nothing did.
#
#   tests/stages_test.sh SOURCE_DIR WORK_DIR
# Environment: CMAKE, CTEST (default: cmake, ctest from PATH).
set -euo pipefail

src=$(cd "$1" && pwd)
work=$2
cmake=${CMAKE:-cmake}
ctest=${CTEST:-ctest}
runner=$src/scripts/test-stages.sh

rm -rf "$work"
mkdir -p "$work/proj"
work=$(cd "$work" && pwd)

fail() {
    echo "stages_test: $*" >&2
    exit 1
}

# Two passing tests, one skipped; with PX_FAIL also t_bad, which fails.
cat >"$work/proj/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.21)
project(fake NONE)
enable_testing()
add_test(NAME t_ok1 COMMAND true)
add_test(NAME t_ok2 COMMAND true)
add_test(NAME t_skip COMMAND sh -c "exit 77")
set_tests_properties(t_skip PROPERTIES SKIP_RETURN_CODE 77)
if(PX_FAIL)
    add_test(NAME t_bad COMMAND sh -c "echo 't_bad: <fails> & says so'; exit 1")
endif()
CMAKE
"$cmake" -S "$work/proj" -B "$work/good" -DPX_FAIL=OFF >/dev/null
"$cmake" -S "$work/proj" -B "$work/bad" -DPX_FAIL=ON >/dev/null
stage_ctest() { # the command of a stage running the fake project's ctest in $1
    printf '%q --test-dir %q --output-junit "$PX_JUNIT"' "$ctest" "$work/$1"
}

# run NAME EXPECTED_STATUS ARGS...: the runner's output in $work/NAME.out
run() {
    local name=$1 want=$2 rc=0
    shift 2
    bash "$runner" -o "$work/$name" "$@" >"$work/$name.out" 2>&1 || rc=$?
    if [ "$rc" -ne "$want" ]; then
        cat "$work/$name.out" >&2
        fail "$name: exit status $rc, expected $want"
    fi
}
# row NAME STAGE TESTS PASSED FAILED SKIPPED FAILURES: that row is in the table
row() {
    local name=$1 re
    re="^$2 +$3 +$4 +$5 +$6 +$7\$"
    grep -Eq -- "$re" "$work/$name.out" || {
        cat "$work/$name.out" >&2
        fail "$name: no table row matching /$re/"
    }
}
last_line() {
    local got
    got=$(tail -n 1 "$work/$1.out")
    [ "$got" = "$2" ] || fail "$1: last line \"$got\", expected \"$2\""
}

# A failing stage first; then one that leaves no results (its build failed),
# one whose tests pass but whose command fails, and a passing one: all run.
run mixed 1 \
    first "$(stage_ctest bad)" \
    broken "echo 'cmake: configure failed'; exit 2" \
    liar "$(stage_ctest good); exit 3" \
    last "$(stage_ctest good) && touch '$work/last-ran'"
[ -f "$work/last-ran" ] || fail "mixed: the last stage did not run after a failed one"
row mixed stage tests passed failed skipped failures
row mixed first 4 2 1 1 t_bad
row mixed broken - 0 1 0 '\(no test results: exit 2\)'
row mixed liar 3 2 1 1 '\(exit 3, no failed test\)'
row mixed last 3 2 0 1 -
last_line mixed "6 passed, 3 failed"
grep -q "t_bad" "$work/mixed/first.log" || fail "mixed: first.log lacks the stage's output"

# Nothing failed: exit 0, the totals of both stages.
run clean 0 one "$(stage_ctest good)" two "$(stage_ctest good)"
row clean one 3 2 0 1 -
row clean two 3 2 0 1 -
last_line clean "4 passed, 0 failed"

# A stage that ran no test fails.
run empty 1 none "true"
row empty none - 0 1 0 '\(no test results: exit 0\)'
last_line empty "0 passed, 1 failed"

# Usage: stages come in pairs.
run usage 2 lonely
echo "stages_test: ok"
