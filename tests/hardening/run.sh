#!/bin/sh
# tests/hardening/run.sh: the hardening checks that need more than a plain `cargo test`:
#   - never-signal: the dangerous pid-file cases in a PID namespace under strace
#     (unshare -pf --mount-proc, strace -f), parsed for signals to PID 0/1/-1, the host, its
#     parent, group or session;
#   - full filesystem: a 64 KiB tmpfs in a private mount namespace (unshare -m);
#   - the C host that cancels a thread blocked in a stop (links libgrazr_proc.a);
#   - the fuzz smoke: fuzz/run.sh for FUZZ_SECS seconds (default 60).
# Then the other hardening tests (bad input, faults, load, crash) for completeness.
# Prints a final "N passed, M failed" line; exits non-zero when anything failed. Needs root
# (or the capabilities for unshare and ptrace) for the namespace steps; without them they say
# SKIPPED, and with CI=true a skip is a failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
PASSED=0
FAILED=0
FAILS=""
LOGDIR=${TMPDIR:-/tmp}/grazr-hardening-$$
mkdir -p "$LOGDIR"

step() {
    name=$1
    shift
    log=$LOGDIR/$(echo "$name" | tr ' /' '__').log
    printf '%-58s ' "$name"
    "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && grep -q "SKIPPED" "$log"; then
        echo "SKIPPED ($(grep -m1 SKIPPED "$log"))"
        PASSED=$((PASSED + 1))
    elif [ $rc -eq 0 ]; then
        echo "ok"
        PASSED=$((PASSED + 1))
    elif [ $rc -eq 77 ] && [ "${CI:-}" != true ]; then
        echo "SKIPPED ($(grep -m1 SKIPPED "$log"))"
        PASSED=$((PASSED + 1))
    else
        echo "FAILED (log: $log)"
        grep -E "panicked at|^---- |FAIL|FAILED:|assertion" "$log" | head -n 8 | sed 's/^/    /'
        FAILED=$((FAILED + 1))
        FAILS="$FAILS\n  $name"
    fi
    # The figures the README quotes.
    grep -hE "^(strace:|load:|crash and re-adopt|round [0-9]|bad-input table|after [0-9]+ services|full fs:|forked child saw|stat::|Done [0-9]+ runs|#[0-9]+[[:space:]]+DONE)" "$log" | sed 's/^/    /'
}

ct() {
    cargo test --test "$@" -- --nocapture --test-threads 4
}

step "never-signal (PID namespace + strace)" ct hardening_never_signal
step "full filesystem (tmpfs in a mount namespace)" ct hardening_bad_input a_full_filesystem
step "C host: cancel a thread in stop, then stop_all" ct hardening_faults a_cancelled_thread
step "fuzz smoke (${FUZZ_SECS:-60} s)" "$ROOT/fuzz/run.sh" "${FUZZ_SECS:-60}"
step "bad-input table" ct hardening_bad_input every_bad_input
step "faults" ct hardening_faults
step "load (8 threads x 50 ids)" ct hardening_load
step "crash and re-adopt" ct hardening_crash

echo
[ $FAILED -eq 0 ] || printf "failed:$FAILS\n"
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
