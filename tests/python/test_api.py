"""The Pythonic API: types in and out, exceptions with codes and messages, library lookup."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import grazr_proc
from grazr_proc import (
    ExitedEarly,
    GrazrError,
    InvalidArgument,
    NotRunning,
    SpawnFailed,
    State,
    Status,
)
from conftest import BINDING, ROOT, alive, need, wait_exec, wait_until


def test_round_trip_with_pathlike_paths_and_float_timeouts(guard, workdir):
    log = workdir / "logs" / "svc.log"  # its directory does not exist yet
    pid_id = guard.track("api-roundtrip")
    grazr_proc.start(pid_id, ["sh", "-c", "echo out; echo err >&2; exec sleep 600"], log=log, cwd=workdir)
    assert grazr_proc.status(pid_id) is Status.RUNNING
    pid = grazr_proc.pid(pid_id)
    assert isinstance(pid, int) and pid > 0 and alive(pid)
    snapshot = grazr_proc.info(pid_id)
    assert snapshot.status is Status.RUNNING and snapshot.state is State.RUNNING
    assert snapshot.pid == pid == snapshot.child_pid == snapshot.pgid  # own session: pgid == pid
    assert snapshot.log_file == log and snapshot.pid_file is None
    assert snapshot.argv == ("sh", "-c", "echo out; echo err >&2; exec sleep 600")
    assert snapshot.start_time is not None and abs(snapshot.start_time - time.time()) < 60
    assert pid_id in grazr_proc.list()
    assert wait_until(lambda: log.is_file() and "out\nerr\n" in log.read_text(), 5)
    assert os.readlink(f"/proc/{pid}/cwd") == str(workdir)
    began = time.monotonic()
    grazr_proc.stop(pid_id, signal.SIGTERM, timeout=2.5)
    assert time.monotonic() - began < 2.0
    assert not alive(pid)
    assert grazr_proc.status(pid_id) is Status.STOPPED
    assert grazr_proc.pid(pid_id) is None
    assert pid_id not in grazr_proc.list()


def test_log_is_appended_not_truncated(guard, workdir):
    log = workdir / "app.log"
    log.write_text("earlier line\n")
    pid_id = guard.track("api-append")
    grazr_proc.start(pid_id, ["sh", "-c", "echo later line; exec sleep 600"], log=str(log))
    assert wait_until(lambda: "later line" in log.read_text(), 5)
    assert log.read_text().startswith("earlier line\n")
    grazr_proc.stop(pid_id, timeout=1)


def test_missing_program_raises_spawn_failed_with_code_and_message(guard, workdir):
    missing = workdir / "no-such-program"
    with pytest.raises(SpawnFailed) as caught:
        grazr_proc.start(guard.track("api-missing"), [missing])
    err = caught.value
    assert isinstance(err, GrazrError)
    assert err.code == -2
    assert str(missing) in err.message, err.message
    assert grazr_proc.status("api-missing") is not Status.RUNNING


def test_early_exit_raises_exited_early_with_status_and_log_tail(guard, workdir):
    log = workdir / "boom.log"
    with pytest.raises(ExitedEarly) as caught:
        grazr_proc.start(guard.track("api-boom"), ["sh", "-c", "echo kaboom-detail >&2; exit 3"], log=log)
    assert caught.value.code == -3
    assert "3" in caught.value.message and "kaboom-detail" in caught.value.message, caught.value.message
    assert grazr_proc.status("api-boom") is Status.ERROR
    snapshot = grazr_proc.info("api-boom")
    assert snapshot.exit_code == 3 and snapshot.state is State.FAILED


def test_startup_window_zero_returns_before_a_slow_failure(guard):
    argv = ["sh", "-c", "sleep 0.1; exit 4"]
    # The default 0.2 s window sees the exit...
    with pytest.raises(ExitedEarly):
        grazr_proc.start(guard.track("api-window-default"), argv)
    # ...a window of 0 returns once exec succeeded, and the exit shows up in the status.
    grazr_proc.start(guard.track("api-window"), argv, startup_window=0)
    assert wait_until(lambda: grazr_proc.status("api-window") is Status.ERROR, 5)
    assert grazr_proc.info("api-window").exit_code == 4


def test_invalid_arguments(guard):
    with pytest.raises(InvalidArgument) as caught:
        grazr_proc.start("", ["sleep", "1"])
    assert caught.value.code == -1 and caught.value.message
    with pytest.raises(InvalidArgument):
        grazr_proc.start("api-nul\0id", ["sleep", "1"])
    with pytest.raises(InvalidArgument):
        grazr_proc.start("api-nul-arg", ["sleep", "1\0 2"])
    with pytest.raises(InvalidArgument):
        grazr_proc.start("api-empty-argv", [])
    with pytest.raises(TypeError):
        grazr_proc.start("api-str-argv", "sleep 1")
    with pytest.raises(InvalidArgument):
        grazr_proc.stop("api-x", timeout=-1)
    with pytest.raises(InvalidArgument):
        grazr_proc.start("api-env", ["sleep", "1"], env={"A=B": "c"})
    with pytest.raises(InvalidArgument):
        grazr_proc.status("x" * 5000)
    with pytest.raises(InvalidArgument):
        grazr_proc.start("api-long-path", ["sleep", "1"], pid_file="/tmp/" + "p" * 5000)
    assert isinstance(caught.value, ValueError)


def test_signal_validation_and_not_running(guard):
    with pytest.raises(NotRunning) as caught:
        grazr_proc.signal("api-never-started", signal.SIGHUP)
    assert caught.value.code == -7 and "api-never-started" in caught.value.message
    pid_id = guard.track("api-signals")
    grazr_proc.start(pid_id, ["sleep", "600"], startup_window=0)
    for bad in (0, -1, 65):
        with pytest.raises(InvalidArgument):
            grazr_proc.signal(pid_id, bad)
    with pytest.raises(TypeError):
        grazr_proc.signal(pid_id, "SIGHUP")
    grazr_proc.signal(pid_id, signal.SIGKILL)
    assert wait_until(lambda: grazr_proc.status(pid_id) is Status.ERROR, 5)
    assert grazr_proc.info(pid_id).term_signal is signal.SIGKILL


def test_stop_timeout_in_seconds_escalates_to_sigkill(guard):
    pid_id = guard.track("api-stubborn")
    grazr_proc.start(pid_id, ["sh", "-c", "trap '' TERM; exec sleep 600"], startup_window=0)
    pid = grazr_proc.pid(pid_id)
    wait_exec(pid, ["sleep", "600"])
    began = time.monotonic()
    grazr_proc.stop(pid_id, timeout=0.3)
    took = time.monotonic() - began
    assert 0.25 <= took < 2.5, took
    assert not alive(pid)
    assert grazr_proc.status(pid_id) is Status.STOPPED


def test_env_sets_and_removes_variables(guard, workdir, monkeypatch):
    monkeypatch.setenv("GRAZR_PY_DROP_ME", "leaked")
    out = workdir / "env.txt"
    pid_id = guard.track("api-env")
    grazr_proc.start(
        pid_id,
        ["sh", "-c", f'echo "set=$GRAZR_PY_SET drop=${{GRAZR_PY_DROP_ME-unset}} raw=$GRAZR_PY_RAW" > {out}; exec sleep 600'],
        env={"GRAZR_PY_SET": "yes=really", "GRAZR_PY_DROP_ME": None, "GRAZR_PY_RAW": b"\xff\xfe"},
    )
    assert wait_until(lambda: out.is_file() and out.read_bytes().endswith(b"\n"), 5)
    assert out.read_bytes() == b"set=yes=really drop=unset raw=\xff\xfe\n"
    grazr_proc.stop(pid_id, timeout=1)


def test_register_service_adopts_a_live_process_through_its_pid_file(guard, workdir):
    sleeper = guard.popen(["sleep", "600"])
    time.sleep(0.05)
    pid_file = workdir / "run" / "7.4.pid"
    pid_file.parent.mkdir()
    pid_file.write_text(f"{sleeper.pid}\n")  # written after the process started: it fits
    grazr_proc.register_service("api-adopt-{n}", workdir / "run" / "{n}.pid", program="/bin/sleep",
                                stop_signal=signal.SIGTERM, stop_timeout=2.0)
    guard.track("api-adopt-7.4")
    assert grazr_proc.status("api-adopt-7.4") is Status.RUNNING
    assert grazr_proc.pid("api-adopt-7.4") == sleeper.pid
    snapshot = grazr_proc.info("api-adopt-7.4")
    assert snapshot.argv is None and snapshot.child_pid is None
    assert grazr_proc.status("api-adopt-9.9") is Status.STOPPED
    grazr_proc.stop("api-adopt-7.4")
    assert sleeper.wait(timeout=5) == -signal.SIGTERM
    with pytest.raises(InvalidArgument):
        grazr_proc.register_service("api-bad-{a}", workdir / "{b}.pid")


def test_register_service_program_mismatch_is_not_adopted(guard, workdir):
    sleeper = guard.popen(["sleep", "600"])
    time.sleep(0.05)
    (workdir / "other.pid").write_text(f"{sleeper.pid}\n")
    grazr_proc.register_service("api-wrong-program", workdir / "other.pid", program="/usr/sbin/nginx",
                                stop_timeout=math.inf)
    assert grazr_proc.status("api-wrong-program") is Status.STOPPED
    assert grazr_proc.pid("api-wrong-program") is None
    grazr_proc.stop("api-wrong-program")
    assert alive(sleeper.pid)


def test_read_pid_file_and_pid_alive(guard, workdir):
    sleeper = guard.popen(["sleep", "600"])
    time.sleep(0.05)
    path = workdir / "x.pid"
    path.write_text(f"  {sleeper.pid}  \nsecond line\n")
    assert grazr_proc.read_pid_file(path) == sleeper.pid
    assert grazr_proc.read_pid_file(workdir / "missing.pid") is None
    for garbage in ("abc", "-1", "0", "", "12abc", "1_2", "99999999999999999999"):
        path.write_text(garbage)
        assert grazr_proc.read_pid_file(path) is None, garbage
    assert grazr_proc.pid_alive(sleeper.pid)
    assert not grazr_proc.pid_alive(os.getpid())
    assert not grazr_proc.pid_alive(1)
    assert not grazr_proc.pid_alive(0)
    assert not grazr_proc.pid_alive(-5)


def test_errors_are_per_thread(guard):
    """Each thread reads its own last error even while the other thread fails at the same time."""
    problems = []
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(40):
            name = f"api-thread-{n}-{i}"
            try:
                grazr_proc.signal(name, signal.SIGHUP)
                problems.append(f"{name}: no error")
            except NotRunning as err:
                if name not in err.message:
                    problems.append(f"{name}: got another thread's message {err.message!r}")
            try:
                grazr_proc.start(f"api-spawn-{n}", [f"/nonexistent/prog-{n}-{i}"])
                problems.append(f"{n}: spawned a missing program")
            except SpawnFailed as err:
                if f"prog-{n}-{i}" not in err.message:
                    problems.append(f"{n}-{i}: got another thread's message {err.message!r}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not problems, problems[:5]


def test_status_is_an_intenum_with_the_c_values():
    assert [(s.name, int(s)) for s in Status] == [("STOPPED", 0), ("RUNNING", 1), ("ERROR", 2)]
    assert grazr_proc.status("api-unknown-id") == Status.STOPPED == 0


def test_errors_pickle_with_code_and_message():
    import pickle

    err = pickle.loads(pickle.dumps(SpawnFailed(-2, "cannot run x")))
    assert isinstance(err, SpawnFailed) and err.code == -2 and err.message == "cannot run x"


def _import_in_subprocess(env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import grazr_proc; print(grazr_proc.library_path)"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def test_import_error_names_the_places_tried(workdir):
    # A copy of the package outside the repository, with no library inside it.
    import shutil

    copy = workdir / "site"
    shutil.copytree(BINDING / "grazr_proc", copy / "grazr_proc",
                    ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("GRAZR_PROC_LIB", "GRAZR_PROC_SRC")}
    env["PYTHONPATH"] = str(copy)
    result = _import_in_subprocess(env, workdir)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "GRAZR_PROC_LIB" in result.stderr
    assert str(copy / "grazr_proc" / "libgrazr_proc.so") in result.stderr
    assert "target/release" in result.stderr

    env["GRAZR_PROC_LIB"] = str(workdir / "nope.so")
    result = _import_in_subprocess(env, workdir)
    assert result.returncode != 0 and str(workdir / "nope.so") in result.stderr


def test_library_lookup_order(workdir):
    lib = os.environ.get("GRAZR_PROC_LIB") or str(ROOT / "target" / "release" / "libgrazr_proc.so")
    need(Path(lib).is_file(), f"no built library at {lib}")
    import shutil

    copy = workdir / "site"
    shutil.copytree(BINDING / "grazr_proc", copy / "grazr_proc",
                    ignore=shutil.ignore_patterns("*.so*", "__pycache__"))
    shutil.copy(lib, copy / "grazr_proc" / "libgrazr_proc.so")
    env = {k: v for k, v in os.environ.items() if k not in ("GRAZR_PROC_LIB", "GRAZR_PROC_SRC")}
    env["PYTHONPATH"] = str(copy)
    result = _import_in_subprocess(env, workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(copy / "grazr_proc" / "libgrazr_proc.so")
    env["GRAZR_PROC_LIB"] = lib
    result = _import_in_subprocess(env, workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == lib


def test_build_step_ships_the_library_and_py_typed(workdir):
    """setup.py's build_py (what `pip install ./bindings/python` runs) copies the library into the package."""
    lib = os.environ.get("GRAZR_PROC_LIB") or str(ROOT / "target" / "release" / "libgrazr_proc.so")
    need(Path(lib).is_file(), f"no built library at {lib}")
    probe = subprocess.run([sys.executable, "-c", "import setuptools"], capture_output=True)
    need(probe.returncode == 0, "setuptools is needed to run the build step")
    import shutil

    src = workdir / "src"
    shutil.copytree(BINDING, src, ignore=shutil.ignore_patterns("*.so*", "__pycache__", "build", "*.egg-info"))
    out = workdir / "out"
    # GRAZR_PROC_PREBUILT makes the step ship that library instead of running cargo (fast, offline).
    result = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "-d", str(out)],
        cwd=src, env={**os.environ, "GRAZR_PROC_PREBUILT": lib}, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shipped = out / "grazr_proc" / "libgrazr_proc.so"
    assert shipped.read_bytes() == Path(lib).read_bytes()
    for name in ("py.typed", "__init__.py", "_ffi.py", "_api.py", "errors.py", "process_manager.py"):
        assert (out / "grazr_proc" / name).is_file(), name
    # The built tree imports on its own and finds its own copy first.
    env = {k: v for k, v in os.environ.items() if k not in ("GRAZR_PROC_LIB", "GRAZR_PROC_SRC")}
    env["PYTHONPATH"] = str(out)
    result = _import_in_subprocess(env, workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(shipped)


def test_missing_working_dir_and_unwritable_log(guard, workdir):
    with pytest.raises(SpawnFailed) as caught:
        grazr_proc.start(guard.track("api-no-cwd"), ["sleep", "600"], cwd=workdir / "missing")
    assert str(workdir / "missing") in caught.value.message
    blocker = workdir / "a-file"
    blocker.write_text("")
    with pytest.raises(grazr_proc.IOFailure) as caught:
        grazr_proc.start(guard.track("api-bad-log"), ["sleep", "600"], log=blocker / "x.log")
    assert caught.value.code == -6 and str(blocker) in caught.value.message
    assert grazr_proc.status("api-bad-log") is not Status.RUNNING


def test_never_kill_stop_of_a_cooperative_process(guard):
    pid_id = guard.track("api-never-kill")
    grazr_proc.start(pid_id, ["sleep", "600"], startup_window=0)
    pid = grazr_proc.pid(pid_id)
    grazr_proc.stop(pid_id, signal.SIGTERM, timeout=math.inf)
    assert not alive(pid)


def test_a_slow_stop_releases_the_gil(guard):
    """ctypes drops the GIL for the call: Python threads keep running during a 1 s stop."""
    pid_id = guard.track("api-gil")
    grazr_proc.start(pid_id, ["sh", "-c", "trap '' TERM; exec sleep 600"], startup_window=0)
    wait_exec(grazr_proc.pid(pid_id), ["sleep", "600"])
    done = threading.Event()
    ticks = 0

    def stop() -> None:
        grazr_proc.stop(pid_id, timeout=1.0)
        done.set()

    thread = threading.Thread(target=stop)
    began = time.monotonic()
    thread.start()
    while not done.is_set() and time.monotonic() - began < 10:
        ticks += 1
        time.sleep(0.001)
    thread.join(10)
    assert done.is_set()
    assert ticks > 100, f"the main thread ran only {ticks} times during the stop"


def test_a_child_reaped_by_the_host_reads_not_running(guard):
    """A host that waits for the library's child itself (os.wait in some library) must not confuse it."""
    pid_id = guard.track("api-reaped")
    grazr_proc.start(pid_id, ["sleep", "600"], startup_window=0)
    pid = grazr_proc.pid(pid_id)
    os.kill(pid, signal.SIGKILL)
    assert os.waitpid(pid, 0)[0] == pid
    assert grazr_proc.status(pid_id) is not Status.RUNNING
    assert grazr_proc.pid(pid_id) is None
    began = time.monotonic()
    grazr_proc.stop(pid_id)
    assert time.monotonic() - began < 1.0


def test_host_ignoring_sigchld_does_not_break_start_and_stop(guard):
    """With SIGCHLD ignored the kernel reaps children at once; the library must cope."""
    old = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        pid_id = guard.track("api-sigchld-ign")
        grazr_proc.start(pid_id, ["sleep", "600"])
        pid = grazr_proc.pid(pid_id)
        assert grazr_proc.status(pid_id) is Status.RUNNING
        began = time.monotonic()
        grazr_proc.stop(pid_id)
        assert time.monotonic() - began < 1.0 and not alive(pid)
        assert grazr_proc.status(pid_id) is Status.STOPPED
        with pytest.raises(ExitedEarly):
            grazr_proc.start(guard.track("api-sigchld-exit"), ["sh", "-c", "exit 3"])
    finally:
        signal.signal(signal.SIGCHLD, old)
