"""The suite's own rule: a missing daemon or tool skips, except under CI=true, where it fails."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import HERE

PROBE = '''
from conftest import need

def test_needs_something_missing():
    need(False, "frobnicator-server is not installed")
'''


def run_probe(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path / "test_probe.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def test_missing_tool_skips_with_the_reason(tmp_path):
    result = run_probe(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout and "frobnicator-server is not installed" in result.stdout


def test_missing_tool_fails_under_ci(tmp_path):
    result = run_probe(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "frobnicator-server is not installed" in result.stdout


def test_guard_kills_what_a_test_left_running(monkeypatch, tmp_path):
    import time
    import uuid

    import grazr_proc
    from conftest import MARKER, ProcessGuard, alive, reap_forgotten_children, wait_until

    tag = uuid.uuid4().hex
    monkeypatch.setenv(MARKER, tag)
    guard = ProcessGuard(tag)
    pid_file = tmp_path / "escaped.pid"
    try:
        grazr_proc.start(guard.track("harness-left"), ["sh", "-c", "sleep 600 & exec sleep 600"], startup_window=0)
        main = grazr_proc.pid("harness-left")
        # A daemon that left its session and its parent: only the marker finds it.
        subprocess.run(["sh", "-c", f"setsid sh -c 'echo $$ > {pid_file}; exec sleep 600' & exit 0"], check=True)
        assert wait_until(lambda: pid_file.exists() and pid_file.read_text().strip(), 5)
        escaped = int(pid_file.read_text())
        time.sleep(0.1)
        assert alive(main) and alive(escaped)
    finally:
        leftovers = guard.cleanup()
        grazr_proc.shutdown()
        reap_forgotten_children()
    assert main in leftovers and escaped in leftovers
    assert not alive(main) and not alive(escaped)
