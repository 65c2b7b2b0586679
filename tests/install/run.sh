#!/usr/bin/env bash
# The out-of-tree proof: `make install` into a fresh temporary prefix, then build a C program
# that lives outside the source tree against that prefix only (pkg-config), dynamically and
# statically, run both, and `make uninstall` back to an empty prefix. Also a DESTDIR staged
# install, and the installed C++ header compiled out of tree.
#
#   tests/install/run.sh            (from anywhere; CI=true turns every SKIPPED into a FAILURE)
#
# GRAZR_MAKE overrides the make command that runs install/uninstall (default: make -C <repo>).

set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/tests/install"
MAKE_CMD=${GRAZR_MAKE:-"make -C $ROOT"}
CC=${CC:-cc}
CXX=${CXX:-g++}

passed=0
failed=0
skipped=0

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
skip() {
    if [ "${CI:-}" = "true" ]; then
        fail "$1 (skipped for: $2; CI=true makes a skip a failure)"
    else
        echo "SKIPPED: $1 ($2)"
        skipped=$((skipped + 1))
    fi
}
check() { # check "what" command...  : PASS if the command succeeds
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

finish() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit $?
}

# Every PID that a test program reports ("pid N") is killed with its group at exit unless it is
# already gone. Only a process that still leads its own group and runs sleep is touched, so a
# recycled PID is left alone.
started_pids=()
cleanup() {
    local pid
    for pid in "${started_pids[@]}"; do
        if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^sleep ' &&
            [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f3)" = "$pid" ]; then
            kill -KILL -- "-$pid" 2>/dev/null
        fi
    done
    [ -n "${WORK:-}" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_app NAME BINARY LOGFILE: runs a built test program and records the PID it started.
run_app() {
    local name=$1 bin=$2 log=$3 rc pid
    "$bin" >"$log" 2>&1
    rc=$?
    pid=$(sed -n 's/^pid \([0-9][0-9]*\)$/\1/p' "$log" | head -n1)
    [ -n "$pid" ] && started_pids+=("$pid")
    sed 's/^/    /' "$log"
    if [ "$rc" -eq 0 ] && grep -q '^all checks passed$' "$log"; then
        pass "$name runs: starts, checks and stops a real sleep through the library"
    else
        fail "$name runs (exit $rc)"
    fi
}

missing=()
for tool in make "$CC" pkg-config ldd readelf; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    skip "install test" "missing tools: ${missing[*]}"
    finish
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grazr-install.XXXXXX")
PREFIX="$WORK/prefix"
SRC="$WORK/src" # the out-of-tree program: only a copy of app.c, nowhere near the repo
mkdir -p "$PREFIX" "$SRC"
cp "$HERE/app.c" "$SRC/app.c"

# The version every installed name must carry comes from Cargo.toml, read the same way as
# install.mk reads it.
VERSION=$(awk -F'"' '/^\[/ { pkg = ($0 == "[package]") } pkg && /^version *=/ { print $2; exit }' "$ROOT/Cargo.toml")
MAJOR=${VERSION%%.*}
MINOR=$(echo "$VERSION" | cut -d. -f2)
if [ "$MAJOR" = "0" ]; then SONAME="libgrazr_proc.so.0.$MINOR"; else SONAME="libgrazr_proc.so.$MAJOR"; fi
echo "version $VERSION, SONAME $SONAME, prefix $PREFIX"

# --- install ---------------------------------------------------------------------------------
if $MAKE_CMD install PREFIX="$PREFIX" >"$WORK/install.log" 2>&1; then
    pass "make install PREFIX=<tmp>"
else
    sed 's/^/    /' "$WORK/install.log"
    fail "make install PREFIX=<tmp>"
    finish
fi

LIB="$PREFIX/lib"
check "lib/libgrazr_proc.so.$VERSION is a regular file" test -f "$LIB/libgrazr_proc.so.$VERSION" -a ! -L "$LIB/libgrazr_proc.so.$VERSION"
check "lib/$SONAME -> libgrazr_proc.so.$VERSION" test "$(readlink "$LIB/$SONAME")" = "libgrazr_proc.so.$VERSION"
check "lib/libgrazr_proc.so -> $SONAME" test "$(readlink "$LIB/libgrazr_proc.so")" = "$SONAME"
check "the installed library's SONAME is $SONAME" \
    sh -c "readelf -d '$LIB/libgrazr_proc.so.$VERSION' | grep -q 'Library soname: \[$SONAME\]'"
check "lib/libgrazr_proc.a is installed" test -f "$LIB/libgrazr_proc.a"
check "include/grazr_proc.h and grazr_proc.hpp are installed" test -f "$PREFIX/include/grazr_proc.h" -a -f "$PREFIX/include/grazr_proc.hpp"
check "lib/pkgconfig/grazr_proc.pc is installed" test -f "$LIB/pkgconfig/grazr_proc.pc"

export PKG_CONFIG_PATH="$LIB/pkgconfig"
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
check "pkg-config --modversion is $VERSION" test "$(pkg-config --modversion grazr_proc 2>&1)" = "$VERSION"
check "pkg-config --static --libs lists the private libs" \
    sh -c 'pkg-config --static --libs grazr_proc | grep -q -- "-lpthread"'
check "pkg-config --cflags points into the prefix" test "$(echo $(pkg-config --cflags grazr_proc))" = "-I$PREFIX/include"

# --- dynamic ---------------------------------------------------------------------------------
cd "$SRC" || exit 1
libdir=$(pkg-config --variable=libdir grazr_proc)
# shellcheck disable=SC2046 # pkg-config output is meant to be split into flags
if $CC -std=c11 -Wall -Wextra -Werror -pedantic -o app_dynamic app.c \
    $(pkg-config --cflags --libs grazr_proc) -Wl,-rpath,"$libdir" 2>"$WORK/dyn.log"; then
    pass "dynamic build: cc app.c \$(pkg-config --cflags --libs grazr_proc) -Wl,-rpath,<libdir>"
    ldd app_dynamic | sed 's/^/    /'
    check "the dynamic program loads $SONAME from the prefix" \
        sh -c "ldd ./app_dynamic | grep -q '$SONAME => $LIB/$SONAME'"
    run_app "dynamic program" ./app_dynamic "$WORK/dyn.out"
else
    sed 's/^/    /' "$WORK/dyn.log"
    fail "dynamic build"
fi

# --- static ----------------------------------------------------------------------------------
# The archive by path, then pkg-config's static flags. -Wl,--as-needed keeps the -lgrazr_proc in
# those flags from recording the .so as NEEDED on toolchains that do not pass it by default.
# shellcheck disable=SC2046
if $CC -std=c11 -Wall -Wextra -Werror -pedantic -o app_static app.c $(pkg-config --cflags grazr_proc) \
    "$libdir/libgrazr_proc.a" -Wl,--as-needed $(pkg-config --static --libs grazr_proc) 2>"$WORK/static.log"; then
    pass "static build: cc app.c <libdir>/libgrazr_proc.a -Wl,--as-needed \$(pkg-config --static --libs grazr_proc)"
    ldd app_static | sed 's/^/    /'
    check "ldd: the static program does not need libgrazr_proc.so" sh -c '! ldd ./app_static | grep -q libgrazr_proc'
    check "readelf: no NEEDED entry for libgrazr_proc" sh -c '! readelf -d ./app_static | grep NEEDED | grep -q libgrazr_proc'
    run_app "static program" ./app_static "$WORK/static.out"
else
    sed 's/^/    /' "$WORK/static.log"
    fail "static build"
fi

# --- C++ header, out of tree -----------------------------------------------------------------
if command -v "$CXX" >/dev/null 2>&1; then
    cat >"$SRC/app.cpp" <<'EOF'
#include <grazr_proc.hpp>
#include <iostream>
int main() {
    // Only what the installed header offers; the real C++ tests live in bindings/cpp.
    const grazr::Status status = grazr::status("install-test-never-started");
    std::cout << "grazr_proc " << grazr::version() << ", " << grazr::to_string(status) << "\n";
    return grazr::version() == GRAZR_PROC_VERSION && status == grazr::Status::Stopped ? 0 : 1;
}
EOF
    # shellcheck disable=SC2046
    if $CXX -std=c++17 -Wall -Wextra -Werror -o app_cpp app.cpp $(pkg-config --cflags grazr_proc) \
        "$libdir/libgrazr_proc.a" -Wl,--as-needed $(pkg-config --static --libs grazr_proc) 2>"$WORK/cpp.log" &&
        ./app_cpp >"$WORK/cpp.out" 2>&1; then
        pass "the installed grazr_proc.hpp builds (C++17, -Werror) and runs out of tree, statically linked"
    else
        sed 's/^/    /' "$WORK/cpp.log" "$WORK/cpp.out" 2>/dev/null
        fail "the installed grazr_proc.hpp builds and runs out of tree"
    fi
else
    skip "installed C++ header" "no C++ compiler ($CXX)"
fi
cd "$WORK" || exit 1

# --- uninstall -------------------------------------------------------------------------------
if $MAKE_CMD uninstall PREFIX="$PREFIX" >"$WORK/uninstall.log" 2>&1; then
    pass "make uninstall PREFIX=<tmp>"
else
    sed 's/^/    /' "$WORK/uninstall.log"
    fail "make uninstall PREFIX=<tmp>"
fi
left=$(find "$PREFIX" \( -type f -o -type l \) | sed "s|^$PREFIX/||")
if [ -z "$left" ]; then
    pass "uninstall left no file or link in the prefix"
else
    fail "uninstall left files in the prefix: $(echo "$left" | tr '\n' ' ')"
fi
if [ -x "$SRC/app_dynamic" ]; then
    # Proves the dynamic program really used the installed copy, not one in the build tree.
    check "after uninstall the dynamic program no longer loads" sh -c "! '$SRC/app_dynamic' >/dev/null 2>&1"
fi
if [ -x "$SRC/app_static" ]; then
    run_app "static program after uninstall" "$SRC/app_static" "$WORK/static2.out"
fi

# --- DESTDIR staging -------------------------------------------------------------------------
STAGE="$WORK/stage"
if $MAKE_CMD install DESTDIR="$STAGE" PREFIX=/opt/grazr-test >"$WORK/destdir.log" 2>&1; then
    check "DESTDIR install puts files under DESTDIR/PREFIX" test -f "$STAGE/opt/grazr-test/lib/libgrazr_proc.so.$VERSION"
    check "DESTDIR install writes the final prefix, not DESTDIR, into the .pc" \
        grep -qx 'prefix=/opt/grazr-test' "$STAGE/opt/grazr-test/lib/pkgconfig/grazr_proc.pc"
    check "nothing was installed outside DESTDIR" test ! -e /opt/grazr-test
    $MAKE_CMD uninstall DESTDIR="$STAGE" PREFIX=/opt/grazr-test >>"$WORK/destdir.log" 2>&1
    left=$(find "$STAGE" \( -type f -o -type l \))
    check "DESTDIR uninstall removes every file" test -z "$left"
else
    sed 's/^/    /' "$WORK/destdir.log"
    fail "make install DESTDIR=<tmp> PREFIX=/opt/grazr-test"
fi

finish
