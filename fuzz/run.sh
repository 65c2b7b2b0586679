#!/bin/sh
# fuzz/run.sh [SECONDS]: runs the c_abi fuzz target for SECONDS (default 60) in a sandbox: a
# fresh PID and mount namespace (unshare -pfm --mount-proc) with tests/hardening/reaper.c as
# PID 1, so that the only processes the fuzzer can see, and so signal, are its own. Builds
# with `cargo fuzz build -s none` when cargo-fuzz is installed (coverage-guided), else with
# plain `cargo build` (libFuzzer without coverage feedback: still random inputs, the same
# oracles; enough for CI's smoke). GRAZR_FUZZ_PLAIN=1 forces the plain build. GRAZR_FUZZ_SKIP_KNOWN=1 steers the inputs
# away from the known library bugs (see tests/hardening/README.md).
#
# Exit status: 0 when libFuzzer found nothing and PID 1 was never signalled; 77 when the
# sandbox is not available here (with CI=true that is 1 instead).
set -eu
SECS=${1:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
OUT=$HERE/target/run
mkdir -p "$OUT" "$HERE/corpus/c_abi"

skip() {
    if [ "${CI:-}" = true ]; then
        echo "fuzz/run.sh: FAILED (CI=true): $1" >&2
        exit 1
    fi
    echo "fuzz/run.sh: SKIPPED: $1" >&2
    exit 77
}

command -v unshare >/dev/null 2>&1 || skip "unshare is not installed"
unshare -pfm --mount-proc true 2>/dev/null || skip "unshare -pfm --mount-proc is not permitted here"
command -v cc >/dev/null 2>&1 || skip "no C compiler for the reaper"

cc -std=c11 -O1 -Wall -Wextra -Werror -o "$OUT/reaper" "$ROOT/tests/hardening/reaper.c"

cd "$HERE"
if [ "${GRAZR_FUZZ_PLAIN:-0}" != 1 ] && cargo fuzz --version >/dev/null 2>&1; then
    MODE="cargo fuzz build -s none (coverage-guided)"
    cargo fuzz build -s none -O c_abi
    BIN=$(ls "$HERE"/target/*/release/c_abi | head -n 1)
else
    MODE="plain cargo build (no coverage feedback)"
    cargo build --release --bin c_abi
    BIN=$HERE/target/release/c_abi
fi
echo "fuzz/run.sh: $MODE; $SECS s; binary $BIN"

SANDBOX="unshare -pfm --mount-proc env GRAZR_FUZZ_SANDBOX=1 $OUT/reaper"
FAILED=0

# Inputs that once failed, replayed one by one before fuzzing (a fixed bug stays fixed).
for f in "$HERE"/regressions/*; do
    [ -f "$f" ] || continue
    if $SANDBOX "$BIN" "$f" >"$OUT/replay.log" 2>&1; then
        echo "fuzz/run.sh: regression $(basename "$f"): ok"
    else
        echo "fuzz/run.sh: regression $(basename "$f"): FAILED" >&2
        grep -m 3 -E "panicked|assertion|left:|right:" "$OUT/replay.log" >&2 || tail -n 20 "$OUT/replay.log" >&2
        FAILED=1
    fi
done

LOG=$OUT/fuzz.log
set +e
$SANDBOX "$BIN" -max_total_time="$SECS" -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$OUT/" "$HERE/corpus/c_abi" "$HERE/seeds" >"$LOG" 2>&1
RC=$?
set -e
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|^stat::|Done [0-9]+ runs" "$LOG" | tail -n 12
if grep -q "reaper: SIGNALLED" "$LOG"; then
    grep "reaper: SIGNALLED" "$LOG" >&2
    echo "fuzz/run.sh: FAILED: PID 1 of the sandbox was signalled" >&2
    exit 1
fi
if [ "$RC" -ne 0 ]; then
    tail -n 60 "$LOG" >&2
    echo "fuzz/run.sh: FAILED: libFuzzer exited $RC (log: $LOG)" >&2
    exit 1
fi
if [ "$FAILED" -ne 0 ]; then
    echo "fuzz/run.sh: FAILED: a regression input fails" >&2
    exit 1
fi
echo "fuzz/run.sh: passed ($LOG)"
