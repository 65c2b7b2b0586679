#!/bin/sh
# Installs the peers the bench compares with: supervisor 4.3.0 from PyPI into a venv under
# bench/.venvs, and s6 from Debian's packages. Idempotent and quiet: whatever is already in
# place is reused. It never fails the build: a peer that cannot be installed is written to
# build/peers.status with the reason, and the report shows "not measured: <reason>" for it.
#
#   sh bench/peers/setup.sh          (make -C bench peers does this)
#   PEER_VENVS=DIR overrides the venv location (default bench/.venvs).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$(dirname "$HERE")
VENVS=${PEER_VENVS:-$BENCH/.venvs}
STATUS=$BENCH/build/peers.status
SUPERVISOR_VERSION=4.3.0
PY=${PYTHON:-python3}
mkdir -p "$BENCH/build" "$VENVS"
: > "$STATUS.tmp"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The last line of a failed command's output is the reason in the report.
reason() { tail -n 1 "$log" | tr -d '\r' | cut -c1-160; }

# --- supervisord -------------------------------------------------------------------------
SV=$VENVS/supervisor
have_supervisor() {
    [ -x "$SV/bin/python" ] &&
        "$SV/bin/python" -c "import supervisor.xmlrpc, importlib.metadata as m, sys; sys.exit(m.version('supervisor') != '$SUPERVISOR_VERSION')" 2>/dev/null
}
if have_supervisor; then
    echo "supervisord ok $SV/bin/python" >> "$STATUS.tmp"
else
    if { [ -x "$SV/bin/python" ] || "$PY" -m venv "$SV"; } >"$log" 2>&1 &&
        "$SV/bin/python" -m pip install -q --disable-pip-version-check "supervisor==$SUPERVISOR_VERSION" >"$log" 2>&1 &&
        have_supervisor; then
        echo "supervisord ok $SV/bin/python" >> "$STATUS.tmp"
    else
        echo "supervisord missing pip install supervisor==$SUPERVISOR_VERSION failed: $(reason)" >> "$STATUS.tmp"
    fi
fi

# --- s6 ------------------------------------------------------------------------------------
have_s6() { command -v s6-svscan >/dev/null 2>&1 && command -v s6-svwait >/dev/null 2>&1; }
if ! have_s6; then
    if [ "$(id -u)" != 0 ]; then
        echo "not root: cannot apt-get install s6" > "$log"
    elif ! command -v apt-get >/dev/null 2>&1; then
        echo "no apt-get on this machine" > "$log"
    else
        export DEBIAN_FRONTEND=noninteractive
        # A fresh machine may not have the package lists yet: update only when needed.
        apt-get install -y -qq --no-install-recommends s6 >"$log" 2>&1 ||
            { apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq --no-install-recommends s6 >"$log" 2>&1; }
    fi
fi
if have_s6; then
    echo "s6 ok $(dpkg-query -W -f='${Version}' s6 2>/dev/null || echo unknown)" >> "$STATUS.tmp"
else
    echo "s6 missing apt-get install s6 failed: $(reason)" >> "$STATUS.tmp"
fi

mv "$STATUS.tmp" "$STATUS"
# One quiet line per peer that is missing; nothing when all are in place.
grep ' missing ' "$STATUS" | sed 's/^/peers: /' >&2
exit 0
