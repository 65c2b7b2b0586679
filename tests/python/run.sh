#!/usr/bin/env bash
# Runs the Python binding's tests: `make test` calls this with GRAZR_PROC_LIB set to the
# library it just built. Extra arguments go to pytest (e.g. -k nginx, -x).
#
#   GRAZR_PROC_LIB  the library under test (default: target/release/libgrazr_proc.so)
#   PYTHON          a python with pytest (default: python3, else the repo's .venv, created on demand)
#   CI=true         a test whose daemon or tool is missing fails instead of skipping
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

export GRAZR_PROC_LIB="${GRAZR_PROC_LIB:-$root/target/release/libgrazr_proc.so}"
if [ ! -f "$GRAZR_PROC_LIB" ]; then
    echo "run.sh: no library at $GRAZR_PROC_LIB; run 'cargo build --release' first" >&2
    exit 2
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import pytest' 2>/dev/null; then
    venv="$root/.venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pytest' 2>/dev/null; then
        echo "run.sh: $python has no pytest; installing it into $venv" >&2
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet pytest
    fi
    python="$venv/bin/python"
fi

# The tests import the binding from this checkout, never an installed copy.
export PYTHONPATH="$root/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "$python" -m pytest "$@"
