"""What the two peer benches share: JSON output in the bench's format, a posix_spawn command
runner, the subreaper and the leftover scan. Kept free of third-party imports, so that it runs
under the system Python (s6) and under the supervisor venv alike."""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional


class Out:
    """Collects samples (µs) and checks, and prints the JSON the runner reads."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.metrics: Dict[str, dict] = {}
        self.checks: Dict[str, object] = {}
        self.errors: List[str] = []

    def rec_ns(self, name: str, ns: int) -> None:
        self.metrics.setdefault(name, {"unit": "us", "values": []})["values"].append(ns / 1000.0)

    def fail(self, msg: str) -> None:
        print(f"{self.tool}: {msg}", file=sys.stderr, flush=True)
        self.errors.append(msg)

    def emit(self) -> int:
        self.checks["errors"] = self.errors
        json.dump({"tool": self.tool, "metrics": self.metrics, "checks": self.checks}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 1 if self.errors else 0


def parse_args(calls: int) -> argparse.Namespace:
    """The options every peer driver takes: where the helpers are, the temp dir, and how many
    samples of each scenario (`calls`: status queries)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--samples50", type=int, default=20)
    ap.add_argument("--samples20", type=int, default=5)
    ap.add_argument("--calls", type=int, default=calls)
    return ap.parse_args()


def make_subreaper() -> None:
    """Whatever the bench orphans (a supervisor that dies before its children, a daemon whose
    launcher exits) comes back to us, so the leftover scan sees it and the PID-based cleanup
    can reach it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except OSError:
        pass


_DEVNULL = None
_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def run(argv: List[str], timeout: float = 30.0) -> int:
    """posix_spawn + waitpid, stdout/stderr to /dev/null, PATH the only variable: what every
    CLI call of a peer costs, with as little of Python's own overhead as possible."""
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = os.open(os.devnull, os.O_RDWR)
    pid = os.posix_spawnp(argv[0], argv, _ENV, file_actions=[
        (os.POSIX_SPAWN_DUP2, _DEVNULL, 0), (os.POSIX_SPAWN_DUP2, _DEVNULL, 1), (os.POSIX_SPAWN_DUP2, _DEVNULL, 2)])
    deadline = time.monotonic() + timeout
    while True:
        got, status = os.waitpid(pid, 0 if timeout is None else os.WNOHANG)
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -999
        time.sleep(0.001)


def run_blocking(argv: List[str]) -> int:
    """Same as run() but a plain blocking waitpid: the timed path, with no polling sleeps."""
    global _DEVNULL
    if _DEVNULL is None:
        _DEVNULL = os.open(os.devnull, os.O_RDWR)
    pid = os.posix_spawnp(argv[0], argv, _ENV, file_actions=[
        (os.POSIX_SPAWN_DUP2, _DEVNULL, 0), (os.POSIX_SPAWN_DUP2, _DEVNULL, 1), (os.POSIX_SPAWN_DUP2, _DEVNULL, 2)])
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def ignores_term(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigIgn:"):
                return bool((int(line.split()[1], 16) >> (signal.SIGTERM - 1)) & 1)
    except OSError:
        pass
    return False


def wait_pid(pid: int, timeout: float) -> Optional[int]:
    """Wait for our child to exit; None when it did not within the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    return None


def reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def leftovers(tmp: str, pids: List[int]) -> List[dict]:
    """Live processes that belong to this bench: our children, anything whose exe, cwd or
    command line lies in the temp dir, and every PID the run recorded that is still the same
    kind of process (exe in the temp dir, or a peer's binary)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            state, ppid, pgid = fields[0], int(fields[1]), int(fields[2])
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = _readlink(f"/proc/{pid}/cwd")
            exe = _readlink(f"/proc/{pid}/exe")
        except (OSError, ValueError):
            continue
        if state == "Z":
            continue
        why = []
        if ppid == me:
            why.append("child of the bench")
        if cwd.startswith(tmp):
            why.append("cwd in the temp dir")
        if exe.startswith(tmp):
            why.append("exe in the temp dir")
        if tmp in cmd:
            why.append("command line names the temp dir")
        if pid in pids and why:
            why.append("a PID recorded during the run")
        if why:
            found.append({"pid": pid, "pgid": pgid, "cmd": cmd[:120], "why": ", ".join(why)})
    return found


def _readlink(p: str) -> str:
    try:
        return os.readlink(p)
    except OSError:
        return ""


def kill_by_pid(found: List[dict]) -> None:
    """Last resort after a failed clean shutdown: SIGKILL each leftover by its PID (its group
    when it leads one), then reap what came back to us."""
    for p in found:
        try:
            if p["pgid"] == p["pid"]:
                os.killpg(p["pid"], signal.SIGKILL)
            else:
                os.kill(p["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    time.sleep(0.2)
    reap_all()


def finish(out: Out, tmp: str, seen_pids: List[int], supervisor: int, clean: bool) -> None:
    """The end of every peer run, also after a failure. A supervisor that did not exit cleanly
    gets SIGTERM (both peers turn it into an orderly shutdown), then SIGKILL after 15 s. What it
    supervised may take a moment to go after it; whatever is still there after 5 s fails the
    run and is killed by PID."""
    if not clean:
        try:
            os.kill(supervisor, signal.SIGTERM)
            if wait_pid(supervisor, 15) is None:
                os.kill(supervisor, signal.SIGKILL)
                os.waitpid(supervisor, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    deadline = time.monotonic() + 5
    while True:
        reap_all()
        left = leftovers(tmp, seen_pids)
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.02)
    out.checks["leftovers"] = left
    if left:
        out.fail(f"{len(left)} processes left behind: {left}")
        kill_by_pid(left)


def now() -> int:
    return time.perf_counter_ns()
