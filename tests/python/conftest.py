"""Shared fixtures: the binding on sys.path, per-test work dirs, and a guard that kills what a test started.

Every process a test starts is killed by PID or process group when the test ends, pass or
fail: the ids it used (through the library's own info), the PIDs and groups it registered, and
every process that carries this test's marker in its environment (children inherit the
marker from the test process, so even a daemon that double-forked is found). Nothing is ever
killed by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, List, Optional, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINDING = ROOT / "bindings" / "python"
HERE = Path(__file__).resolve().parent
if str(BINDING) not in sys.path:
    sys.path.insert(0, str(BINDING))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MARKER = "GRAZR_PYTEST_TAG"
IN_CI = os.environ.get("CI") == "true"


def need(condition: object, reason: str) -> None:
    """Skip when a tool or daemon is missing; under CI=true that is a failure instead."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and this test needs: {reason}", pytrace=False)
    pytest.skip(reason)


def need_program(*names: str) -> str:
    """The full path of the first program found (PATH, then sbin dirs), or skip/fail."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    need(False, f"{' or '.join(names)} is not installed")
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def proc_stat(pid: int) -> Optional[List[str]]:
    """Fields of /proc/PID/stat after the command name (state first), or None if it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return data[data.rindex(")") + 2 :].split()


def alive(pid: int) -> bool:
    """A live process, not a zombie (a zombie still answers kill(pid, 0), which is Grazr's bug 2)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children_of(pid: int) -> Set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields and fields[0] not in ("Z", "X") and int(fields[1]) == pid:
                found.add(int(entry))
    return found


def pids_with_cmdline(argv: List[str]) -> Set[int]:
    wanted = b"\0".join(a.encode() for a in argv) + b"\0"
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if Path(f"/proc/{entry}/cmdline").read_bytes() == wanted and alive(int(entry)):
                found.add(int(entry))
        except OSError:
            pass
    return found


def wait_exec(pid: int, argv: List[str], timeout: float = 10.0) -> None:
    """Waits until ``pid`` has exec'd ``argv``: a shell's traps before its `exec` are then set."""
    wanted = b"\0".join(a.encode() for a in argv) + b"\0"

    def done() -> bool:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes() == wanted
        except OSError:
            return False

    assert wait_until(done, timeout), f"{pid} never ran {argv}"


def first_line_pid(path: Path) -> int:
    return int(Path(path).read_text().splitlines()[0].strip())


def _default_dispositions() -> None:
    for sig in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


class ProcessGuard:
    """Kills, at the end of a test, every process the test started (see the module doc)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.ids: List[str] = []
        self.pids: Set[int] = set()
        self.groups: Set[int] = set()
        self.popens: List[subprocess.Popen] = []
        self._own = {os.getpid(), 1, 0}
        self._own_groups = {os.getpgid(0), os.getsid(0), 0, 1}
        # Boot-relative clock ticks now, the unit of /proc/PID/stat's start time.
        self._t0_ticks = int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK"))

    def track(self, process_id: str) -> str:
        if process_id not in self.ids:
            self.ids.append(process_id)
        return process_id

    def note(self, process_id: str) -> None:
        """Records the id's current PIDs and group now, while it runs: a test that kills the
        main process later still gets its group cleaned up."""
        import grazr_proc

        self.track(process_id)
        snapshot = grazr_proc.info(process_id)
        self.add(snapshot.pid)
        self.add(snapshot.child_pid)
        if snapshot.pgid:
            self.groups.add(snapshot.pgid)

    def add(self, pid: Optional[int], group: bool = False) -> None:
        if pid and pid > 1:
            self.pids.add(pid)
            if group:
                self.groups.add(pid)

    def popen(self, argv: List[str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("start_new_session", True)
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        # A test runner started as a background job inherits SIGINT and SIGQUIT ignored (the
        # shell's rule for asynchronous commands), and exec keeps that. The library resets such
        # dispositions for its own children; processes a test starts by itself get the same.
        kwargs.setdefault("preexec_fn", _default_dispositions)
        proc = subprocess.Popen(argv, **kwargs)
        self.popens.append(proc)
        self.add(proc.pid, group=kwargs["start_new_session"])
        return proc

    def _ours(self, pid: int) -> bool:
        """Started during this test: a PID or group id recorded earlier may have been reused
        by then (other suites run beside this one), and such a process is left alone."""
        fields = proc_stat(pid)
        return (
            fields is not None
            and pid not in self._own
            and int(fields[19]) >= self._t0_ticks - 1  # field 22, starttime, in clock ticks
        )

    def _candidates(self) -> Set[int]:
        needle = f"{MARKER}={self.tag}".encode()
        found = {p for p in self.pids if alive(p)}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            fields = proc_stat(pid)
            if fields is None or fields[0] in ("Z", "X"):
                continue
            if int(fields[2]) in self.groups:  # a member of a group this test started
                found.add(pid)
                continue
            try:
                if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                    found.add(pid)
            except OSError:
                pass
        return {p for p in found if self._ours(p)}

    def cleanup(self) -> List[int]:
        """SIGKILLs, by PID, everything this test started; returns what was still alive."""
        import grazr_proc

        for process_id in self.ids:
            try:
                snapshot = grazr_proc.info(process_id)
                for pid in (snapshot.pid, snapshot.child_pid):
                    if pid:
                        self.pids.add(pid)
                if snapshot.pgid:
                    self.groups.add(snapshot.pgid)
            except Exception:
                pass
        self.groups -= self._own_groups
        leftovers: List[int] = []
        for _ in range(3):
            targets = self._candidates()
            if not targets:
                break
            leftovers.extend(sorted(targets))
            for pid in targets:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            wait_until(lambda: not any(alive(p) for p in targets), 2.0)
        for proc in self.popens:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        return leftovers


@pytest.fixture
def guard(monkeypatch):
    """A ProcessGuard; the marker goes into this process's environment, which children inherit."""
    tag = uuid.uuid4().hex
    monkeypatch.setenv(MARKER, tag)
    g = ProcessGuard(tag)
    try:
        yield g
    finally:
        g.cleanup()
        import grazr_proc

        # Forget what this test tracked so that the next one starts from a clean registry.
        try:
            grazr_proc.shutdown()
        except Exception:
            pass
        reap_forgotten_children()


def reap_forgotten_children() -> None:
    """Reaps our zombie children that the library no longer tracks after shutdown().

    This machine's PID 1 does not reap orphans, so a zombie left here would outlive the run.
    """
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = proc_stat(int(entry))
        if fields and fields[0] == "Z" and int(fields[1]) == me:
            try:
                os.waitpid(int(entry), os.WNOHANG)
            except ChildProcessError:
                pass


@pytest.fixture
def workdir():
    """A fresh temp dir per test, world-traversable (Postgres runs as nobody inside it)."""
    path = Path(tempfile.mkdtemp(prefix="grazr-py-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _no_real_grazr():
    """An empty explicit table, so that a Grazr installed on this machine is never imported:
    its config would register ~/.config/grazr, and stop_all would then stop the user's services."""
    from grazr_proc import process_manager

    process_manager.configure_grazr_services({})


@pytest.fixture
def pm(_no_real_grazr):
    """The drop-in module (tests register the services they need)."""
    from grazr_proc import process_manager

    return process_manager


def python_env(extra: Optional[dict] = None, pythonpath: Iterable[Path] = ()) -> dict:
    """The environment for a fresh Python subprocess that imports this binding."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*(str(p) for p in pythonpath), str(BINDING)])
    env.update(extra or {})
    return env
