#!/usr/bin/env bash
# Model-check pinexec's wait protocol with SPIN (docs/model/README.md).
#
#   docs/model/check.sh [wait|space|hook|live|mutants|all] ...   default: wait space hook
#
#   wait         wait.pml, exhaustive safety search: assertions (no lost
#                wake-up, nothing touched after it may be freed, everything ran)
#                and invalid end states (no deadlock); partial-order reduction on
#   space        space.pml: posters waiting for ring space on a driven
#                executor, x86-TSO store buffer on the consumer
#   hook         hook.pml: the wake hook never runs inside the owner's wait
#                nor after px_thread_set_wake replaced it
#   live         wait.pml, LTL "<> everything finished" under weak fairness
#                (no livelock); slower, not run by ctest
#   mutants      wait.pml and space.pml with seeded bugs, and space.pml as
#                the code was before the fix of issue 6: each must be caught
#
# Prints, per model, the states explored and the result; exits 1 if any
# check fails, 77 (skip) when spin or a C compiler is missing.
# MODEL_BUILD=dir (default: a temporary directory) keeps pan.c and trails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-gcc}
command -v spin >/dev/null 2>&1 || { echo "model: spin not installed (apt install spin); skipping"; exit 77; }
command -v "$cc" >/dev/null 2>&1 || { echo "model: no C compiler ($cc); skipping"; exit 77; }
work=${MODEL_BUILD:-$(mktemp -d)}
mkdir -p "$work"
failed=0

# run NAME MODEL EXPECT(pass|fail) SPINFLAGS CFLAGS PANFLAGS [PERL-MUTATION]
run() {
    local name=$1 model=$2 expect=$3 sflags=$4 cflags=$5 pflags=$6 mutation=${7:-}
    local dir=$work/$name
    mkdir -p "$dir"
    cp "$here/$model" "$dir/"
    if [ -n "$mutation" ]; then
        perl -0pi -e "$mutation" "$dir/$model"
        if cmp -s "$dir/$model" "$here/$model"; then
            echo "model $name: the mutation no longer applies (update check.sh)"; failed=1; return
        fi
    fi
    local start=$SECONDS
    (cd "$dir" && spin -a $sflags "$model" >spin.log 2>&1 && "$cc" -O2 $cflags -o pan pan.c >cc.log 2>&1) || {
        echo "model $name: cannot build the verifier"; cat "$dir/spin.log" "$dir/cc.log"; failed=1; return; }
    (cd "$dir" && ./pan $pflags >pan.log 2>&1) || true
    local errors states depth
    errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$dir/pan.log" | head -1)
    states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$dir/pan.log" | head -1)
    depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$dir/pan.log" | head -1)
    local verdict
    if [ -z "$errors" ]; then verdict=broken
    elif grep -q "Search not completed" "$dir/pan.log" && [ "$errors" = 0 ]; then verdict=incomplete
    elif [ "$errors" = 0 ]; then verdict=pass
    else verdict=fail; fi
    local what
    what=$(grep -m1 -E '^pan:[0-9]+:|^pan: ' "$dir/pan.log" | grep -v "elapsed\|rate\|wrote\|resizing" || true)
    what=${what:0:90}
    printf 'model %-22s %12s states, depth %4s, %3ss: %s%s\n' "$name" "${states:-?}" "${depth:-?}" \
        "$((SECONDS - start))" "$verdict" "${what:+ ($what)}"
    if [ "$verdict" = incomplete ] || [ "$verdict" = broken ]; then failed=1
    elif [ "$expect" = pass ] && [ "$verdict" != pass ]; then
        failed=1
        (cd "$dir" && spin -t -p -g "$model" 2>/dev/null | tail -40) || true
    elif [ "$expect" = fail ] && [ "$verdict" != fail ]; then
        echo "model $name: the seeded bug was NOT caught"; failed=1
    fi
}

safety_c="-DSAFETY -DCOLLAPSE"
safety_p="-m200000 -w26"

check_wait()        { run wait wait.pml pass "" "$safety_c" "$safety_p"; }
check_space()       { run space space.pml pass "" "-DSAFETY" "-m10000"; }
check_hook()        { run hook hook.pml pass "" "-DSAFETY" "-m10000"; }
check_live()        { run live wait.pml pass "-DLIVE -DSPURIOUS=0" "-DCOLLAPSE -DNFAIR=3" "-a -f -m200000 -w26 -N done"; }
check_mutants() {
    # space.pml as the code was before issue 6's fix, and without the fenced
    # re-check at the end of a batch
    run mut-space-unfenced-run-one space.pml fail "-DUNFENCED_RUN_ONE" "-DSAFETY" "-m10000"
    run mut-space-no-batch-end-check space.pml fail "" "-DSAFETY" "-m10000" \
        's/          space_check_fenced\(\)                       \/\* the end of the batch \*\//          skip/'
    # hook.pml: the wake hook as it was before issue 13's fix (a producer
    # that read AWAY calls the hook inside the owner's wait; and, with
    # px_thread_set_wake, calls an old hook whose ctx was freed); and the fix
    # without its re-check of state after the announce
    run mut-hook-old-wait hook.pml fail "-DOLD -DNO_SETWAKE" "-DSAFETY" "-m10000"
    run mut-hook-old-setwake hook.pml fail "-DOLD" "-DSAFETY" "-m10000"
    run mut-hook-no-recheck hook.pml fail "-DNO_SETWAKE" "-DSAFETY" "-m10000" \
        's/    :: state == AWAY ->                             \/\* seq_cst re-check \*\//    :: true ->/'
    # wait.pml: the owner parks without re-checking its ring / its stop request
    run mut-no-park-recheck wait.pml fail "" "$safety_c" "$safety_p" \
        's/P3: ready = e_pub\[e_head\];/P3: ready = 0;/'
    run mut-no-stop-recheck wait.pml fail "" "$safety_c" "$safety_p" \
        's/    stop = stop_req;                                 \/\* stop_requested\(\) \*\//    stop = 0;/'
    # destroy notifies before it publishes the stop request
    run mut-notify-before-stop wait.pml fail "" "$safety_c" "$safety_p" \
        's/    atomic \{ stop_req = 1; e_notifying\+\+ \}          \/\* seq_cst store of stop_req \*\/\n    notify_e\(\);/    e_notifying++;\n    notify_e();\n    atomic { stop_req = 1; e_notifying++ }\n    e_notifying--;/'
    # an executor caller parks without re-checking its reply word
    run mut-no-reply-recheck wait.pml fail "" "$safety_c" "$safety_p" \
        's/          moved = !\(gen\[L_X\] == g && st\[L_X\] == WAITING\); \/\* reply_moved, relaxed \*\//          moved = 0;/'
    # the completer clears the state in its first store (no two-step), so the
    # caller may leave while the completer still notifies it
    run mut-one-step-completion wait.pml fail "" "$safety_c" "$safety_p" \
        's/        gen\[L\] = \(gen\[L\] \+ 1\) % 4;/        gen[L] = (gen[L] + 1) % 4; st[L] = SPIN;/'
    # a plain caller announces WAITING with a store instead of a CAS
    run mut-plain-no-cas wait.pml fail "" "$safety_c" "$safety_p" \
        's/        :: gen\[L\] == g && st\[L\] == SPIN -> st\[L\] = WAITING; ok = 1\n        :: else -> ok = 0/        :: true -> st[L] = WAITING; ok = 1/'
    # a caller takes "generation moved" for done, ignoring the state bits
    run mut-done-ignores-state wait.pml fail "" "$safety_c" "$safety_p" \
        's/       :: gen\[L\] != g && st\[L\] == SPIN -> break      \/\* done \(acquire\) \*\//       :: gen[L] != g -> break/'
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(wait space hook)
for t in "${targets[@]}"; do
    case $t in
    wait) check_wait ;;
    hook) check_hook ;;
    space) check_space ;;
    live) check_live ;;
    mutants) check_mutants ;;
    all) check_wait; check_space; check_hook; check_mutants; check_live ;;
    *) echo "usage: $0 [wait|space|hook|live|mutants|all]..."; exit 2 ;;
    esac
done
[ -z "${MODEL_BUILD:-}" ] && rm -rf "$work"
exit $failed
