#!/usr/bin/env bash
# Run test stages one after another, every one even when an earlier one fails,
# then print one table (stage, tests, passed, failed, skipped, the failed
# tests' names) and, as the last line, "N passed, M failed" summed over the
# stages. Exit status: 0 when nothing failed, 1 otherwise. `make test` runs
# its stages (unit, posix, tsan, asan) through this.
#
#   scripts/test-stages.sh [-o DIR] STAGE COMMAND [STAGE COMMAND ...]
#
# COMMAND runs under `bash -c` with PX_JUNIT set to DIR/STAGE.xml, where it
# writes its results as JUnit XML (ctest --output-junit "$PX_JUNIT"; the
# Makefile's test-* targets do so when PX_JUNIT is set). A stage that leaves
# no results (configure or build failed) or ran no test counts as one
# failure, and so does one whose command fails although its results show no
# failed test. DIR
# (default build/test-results) also keeps each stage's output, DIR/STAGE.log.
set -uo pipefail

out=build/test-results
if [ "${1:-}" = -o ]; then
    out=${2:?"-o needs a directory"}
    shift 2
fi
if [ $# -eq 0 ] || [ $(($# % 2)) -ne 0 ]; then
    echo "usage: $0 [-o DIR] STAGE COMMAND [STAGE COMMAND ...]" >&2
    exit 2
fi
command -v python3 >/dev/null 2>&1 || { echo "$0: needs python3 (scripts/deps.sh)" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
trap 'echo "$0: interrupted" >&2; exit 130' INT TERM

stages=()
while [ $# -gt 0 ]; do
    stage=$1 cmd=$2
    shift 2
    case $stage in
        '' | *[!A-Za-z0-9_.-]*) echo "$0: bad stage name '$stage'" >&2; exit 2 ;;
    esac
    stages+=("$stage")
    rm -f "$out/$stage.xml" "$out/$stage.rc"
    echo "==== stage $stage: $cmd"
    PX_JUNIT=$out/$stage.xml bash -c "$cmd" 2>&1 | tee "$out/$stage.log"
    rc=${PIPESTATUS[0]}
    echo "$rc" >"$out/$stage.rc"
    echo "==== stage $stage: done, exit $rc"
done

# One row per stage from its JUnit file (ctest: status run, fail, notrun or
# disabled), the totals last.
python3 - "$out" "${stages[@]}" <<'EOF'
import sys
import xml.etree.ElementTree as ET

out, stages = sys.argv[1], sys.argv[2:]
rows, total_pass, total_fail = [], 0, 0
for stage in stages:
    rc = int(open(f"{out}/{stage}.rc").read())
    tests = passed = failed = skipped = 0
    names = []
    try:
        cases = ET.parse(f"{out}/{stage}.xml").getroot().iter("testcase")
    except (OSError, ET.ParseError):
        cases = None
    if cases is None:
        failed, names = 1, [f"(no test results: exit {rc})"]
        tests = "-"
    else:
        for c in cases:
            tests += 1
            status = c.get("status", "")
            if status == "fail" or c.find("failure") is not None or c.find("error") is not None:
                failed += 1
                names.append(c.get("name", "?"))
            elif status in ("notrun", "disabled") or c.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
        if tests == 0:
            failed, names = 1, [f"(no tests ran: exit {rc})"]
        elif rc != 0 and failed == 0:
            failed, names = 1, [f"(exit {rc}, no failed test)"]
    total_pass += passed
    total_fail += failed
    rows.append((stage, str(tests), str(passed), str(failed), str(skipped),
                 " ".join(names) or "-"))

head = ("stage", "tests", "passed", "failed", "skipped", "failures")
w = [max(len(r[i]) for r in rows + [head]) for i in range(5)]
print()
for r in [head] + rows:
    print(f"{r[0]:<{w[0]}}  " + "  ".join(f"{r[i]:>{w[i]}}" for i in range(1, 5)) + f"  {r[5]}")
print(f"{total_pass} passed, {total_fail} failed")
sys.exit(1 if total_fail else 0)
EOF
