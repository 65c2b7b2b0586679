"""Grazr's process_manager bugs (GRAZR_CLIENT.md section 4), each as a test that fails against the seed.

Every test drives the drop-in the way Grazr's managers call it. The bug number is in each name.
"""

from __future__ import annotations

import inspect
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

import grazr_proc
from conftest import alive, children_of, first_line_pid, pids_with_cmdline, python_env, wait_exec, wait_until
from daemons import GrazrLayout, grazr_config

# A process that records every catchable signal it gets, so a test can prove that nothing was sent.
VICTIM = textwrap.dedent(
    """
    import signal, sys
    log = sys.argv[1]
    def note(num, frame):
        with open(log, "a") as f:
            f.write(signal.Signals(num).name + "\\n")
    for s in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, note)
    open(sys.argv[2], "w").write("ready")
    while True:
        signal.pause()
    """
)

# A master that forks two workers into its process group and, like a hung nginx, ignores
# the graceful signals (so do the workers, which inherit the dispositions).
MASTER = textwrap.dedent(
    """
    import os, signal, sys, time
    for s in (signal.SIGTERM, signal.SIGQUIT):
        signal.signal(s, signal.SIG_IGN)
    workers = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            while True:
                time.sleep(100)
        workers.append(pid)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(" ".join(map(str, workers)))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(100)
    """
)


def start_victim(guard, workdir: Path, name: str = "victim"):
    log = workdir / f"{name}.signals"
    ready = workdir / f"{name}.ready"
    proc = guard.popen([sys.executable, "-c", VICTIM, str(log), str(ready)])
    assert wait_until(ready.exists, 10), "victim did not start"
    return proc, log


def configure(pm, workdir: Path, nginx_binary: str = "/usr/sbin/nginx") -> GrazrLayout:
    layout = GrazrLayout(workdir).make()
    pm.configure_grazr_services(grazr_config(layout, {"nginx": nginx_binary}))
    return layout


def test_drop_in_keeps_grazr_signatures(pm):
    sig = inspect.signature(pm.start_process)
    assert list(sig.parameters) == ["process_id", "command", "pid_file_path", "working_dir", "env", "log_file_path"]
    sig = inspect.signature(pm.stop_process)
    assert list(sig.parameters) == ["process_id", "signal_to_use", "timeout", "pid_file_path"]
    assert sig.parameters["signal_to_use"].default == signal.SIGTERM
    assert sig.parameters["timeout"].default == 5
    assert sig.parameters["pid_file_path"].default is None
    for name in ("get_process_status", "get_process_pid", "stop_all_processes", "read_pid_file",
                 "check_pid_running", "_get_pid_file_path_for_id", "_read_pid_file",
                 "_check_pid_running", "running_processes"):
        assert hasattr(pm, name), name
    assert pm._read_pid_file is pm.read_pid_file and pm._check_pid_running is pm.check_pid_running


def test_bug1_start_returns_true_or_false_never_none(guard, pm, workdir):
    ok = pm.start_process(guard.track("seed-b1"), ["sleep", "600"])
    assert ok is True
    assert pm.start_process("seed-b1", ["sleep", "600"]) is True  # already running
    assert len(pids_with_cmdline(["sleep", "600"]) & children_of(os.getpid())) == 1
    assert pm.start_process(guard.track("seed-b1-missing"), [str(workdir / "nonexistent")]) is False
    assert pm.start_process(guard.track("seed-b1-exit"), ["sh", "-c", "exit 0"]) is False
    assert pm.start_process(guard.track("seed-b1-path"), [Path("/bin/sleep"), "600"]) is True


def test_bug2_child_stopped_on_request_reads_stopped_within_milliseconds(guard, pm):
    """The seed: stop_process on a Popen-only service returned False after 6.5 s (zombie)."""
    assert pm.start_process(guard.track("internal-minio-like"), ["sleep", "600"]) is True
    pid = pm.get_process_pid("internal-minio-like")
    assert isinstance(pid, int) and alive(pid)
    began = time.monotonic()
    assert pm.stop_process("internal-minio-like", timeout=5) is True
    took = time.monotonic() - began
    assert took < 1.0, f"stop took {took:.2f} s"
    assert pm.get_process_status("internal-minio-like") == "stopped"
    assert not Path(f"/proc/{pid}").exists() or not alive(pid)
    assert pm.get_process_pid("internal-minio-like") is None
    assert "internal-minio-like" not in pm.running_processes


def test_bug2_crashed_daemon_with_pid_file_left_behind_is_not_running(guard, pm, workdir):
    pid_file = workdir / "crash.pid"
    assert pm.start_process(guard.track("seed-b2-crash"), ["sh", "-c", f"echo $$ > {pid_file}; exec sleep 1"],
                            pid_file_path=str(pid_file)) is True
    pid = first_line_pid(pid_file)
    assert wait_until(lambda: not alive(pid), 5)
    assert wait_until(lambda: pm.get_process_status("seed-b2-crash") != "running", 2)
    assert pm.check_pid_running(pid) is False
    assert pm.read_pid_file(str(pid_file)) is None
    assert pid_file.exists(), "a status read deleted the pid file (bug 19)"
    began = time.monotonic()
    assert pm.stop_process("seed-b2-crash") is True
    assert time.monotonic() - began < 1.0
    assert pm.get_process_status("seed-b2-crash") == "stopped"


def test_bug14_a_pid_file_removed_early_does_not_end_the_stop_before_the_process(guard, pm, workdir):
    pid_file = workdir / "early.pid"
    # The trap is set before the pid file is written: start returns once the file is there.
    script = (
        f"trap 'rm -f {pid_file}; sleep 0.6; exit 0' TERM; echo $$ > {pid_file}; "
        "while :; do sleep 0.05; done"
    )
    assert pm.start_process(guard.track("seed-b14"), ["sh", "-c", script], pid_file_path=pid_file) is True
    pid = pm.get_process_pid("seed-b14")
    began = time.monotonic()
    assert pm.stop_process("seed-b14") is True
    took = time.monotonic() - began
    assert not alive(pid), "stop returned while the process was still exiting"
    assert 0.5 <= took < 4.0, took


def test_bug3_stale_pid_file_from_before_a_reboot_reads_stopped_and_nothing_is_signalled(guard, pm, workdir):
    layout = configure(pm, workdir)
    victim, signals = start_victim(guard, workdir)
    layout.nginx_pid.write_text(f"{victim.pid}\n")
    old = time.time() - 3600  # the file is older than the process it names: the PID was reused
    os.utime(layout.nginx_pid, (old, old))
    assert pm.read_pid_file(str(layout.nginx_pid)) is None  # php_manager's path: no program to compare
    assert_nothing_signalled(pm, victim, signals, layout)


def test_bug3_pid_file_naming_another_program_reads_stopped_and_nothing_is_signalled(guard, pm, workdir):
    layout = configure(pm, workdir)
    victim, signals = start_victim(guard, workdir)
    time.sleep(0.05)
    layout.nginx_pid.write_text(f"{victim.pid}\n")  # fresh file, but the process runs python, not nginx
    assert_nothing_signalled(pm, victim, signals, layout)


def assert_nothing_signalled(pm, victim, signals: Path, layout: GrazrLayout) -> None:
    content = layout.nginx_pid.read_text()
    assert pm.get_process_status("internal-nginx") == "stopped"
    assert pm.get_process_pid("internal-nginx") is None  # nginx_manager's reload sends SIGHUP to this
    assert pm._get_pid_file_path_for_id("internal-nginx") == layout.nginx_pid
    with pytest.raises(grazr_proc.NotRunning):
        grazr_proc.signal("internal-nginx", signal.SIGHUP)
    assert layout.nginx_pid.read_text() == content  # status has no side effects (bug 19)
    assert pm.stop_process("internal-nginx", signal.SIGQUIT) is True
    assert pm.stop_all_processes() is True
    time.sleep(0.3)
    assert victim.poll() is None, "the unrelated process was killed"
    assert not signals.exists(), f"the unrelated process got {signals.read_text()!r}"


def test_bug4_postmaster_pid_eight_lines_read_right_and_the_file_survives(guard, pm, workdir):
    data = workdir / "postgres_data" / "main"
    data.mkdir(parents=True)
    pid_file = data / "postmaster.pid"
    script = (
        f'printf "%s\\n{data}\\n1700000000\\n15432\\n/tmp\\n127.0.0.1\\n  5432001    32768\\nready   \\n" $$ > {pid_file}; '
        "exec sleep 600"
    )
    pid_id = guard.track("internal-postgres-15-main")
    assert pm.start_process(pid_id, ["sh", "-c", script], pid_file_path=pid_file) is True
    pid = first_line_pid(pid_file)
    content = pid_file.read_text()
    assert len(content.splitlines()) == 8
    for _ in range(5):
        assert pm.get_process_status(pid_id) == "running"
        assert pm.get_process_pid(pid_id) == pid
        time.sleep(0.05)
    assert pm.read_pid_file(str(pid_file)) == pid
    assert pm.check_pid_running(pid) is True
    assert pid_file.read_text() == content, "postmaster.pid was changed or deleted"
    assert pm.running_processes[pid_id]["pid"] == pid
    assert pm.stop_process(pid_id, signal.SIGINT) is True
    assert not alive(pid)


def test_bug6_daemonizing_launcher_returns_true_and_is_tracked(guard, pm, workdir):
    pid_file = workdir / "run" / "daemon.pid"
    pid_id = guard.track("seed-b6")
    launcher = f"sleep 600 & echo $! > {pid_file}; exit 0"
    assert pm.start_process(pid_id, ["sh", "-c", launcher], pid_file_path=pid_file) is True
    daemon = first_line_pid(pid_file)
    guard.add(daemon)
    assert alive(daemon)
    assert pm.get_process_status(pid_id) == "running"
    assert pm.get_process_pid(pid_id) == daemon
    assert pm.running_processes[pid_id]["pid"] == daemon
    assert pm.stop_process(pid_id) is True
    assert wait_until(lambda: not alive(daemon), 2)
    assert pm.get_process_status(pid_id) == "stopped"


def test_bug5_late_pid_file_reads_running_throughout(guard, pm, workdir):
    pid_file = workdir / "late.pid"
    pid_id = guard.track("seed-b5")
    # The pid file appears 1 s after the spawn; start gives up waiting for it after 0.3 s.
    grazr_proc.start(pid_id, ["sh", "-c", f"sleep 1; echo $$ > {pid_file}; exec sleep 600"],
                     pid_file=pid_file, pid_file_timeout=0.3)
    child = grazr_proc.info(pid_id).child_pid
    assert child and not pid_file.exists()
    readings = set()
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        readings.add(pm.get_process_status(pid_id))
        assert pm.get_process_pid(pid_id) == child
        time.sleep(0.02)
    assert pid_file.exists()
    assert readings == {"running"}, readings
    assert pm.get_process_pid(pid_id) == first_line_pid(pid_file) == child
    assert pm.stop_process(pid_id) is True
    assert not alive(child)


def test_bug5_late_pid_file_through_the_drop_in_start(guard, pm, workdir):
    pid_file = workdir / "late.pid"
    pid_id = guard.track("seed-b5-dropin")
    began = time.monotonic()
    assert pm.start_process(pid_id, ["sh", "-c", f"sleep 0.6; echo $$ > {pid_file}; exec sleep 600"],
                            pid_file_path=str(pid_file)) is True
    assert time.monotonic() - began < 4.5
    assert pm.get_process_status(pid_id) == "running"
    assert pm.get_process_pid(pid_id) == first_line_pid(pid_file)


def test_bug7_failure_after_the_startup_window_is_recorded(guard, pm):
    pid_id = guard.track("seed-b7")
    assert pm.start_process(pid_id, ["sh", "-c", "sleep 0.5; exit 1"]) is True  # alive after 0.2 s
    assert wait_until(lambda: pm.get_process_status(pid_id) == "error", 5)
    assert grazr_proc.info(pid_id).exit_code == 1
    assert pid_id in pm.running_processes  # an error stays listed until the next start or stop
    assert pm.stop_process(pid_id) is True
    assert pm.get_process_status(pid_id) == "stopped"


def start_master(guard, pm, workdir, pid_id):
    """Starts MASTER under `pid_id` through the drop-in; returns its PID and its workers' PIDs."""
    workers_file = workdir / "workers"
    guard.track(pid_id)
    assert pm.start_process(pid_id, [sys.executable, "-c", MASTER, str(workers_file)]) is True
    guard.note(pid_id)
    assert wait_until(workers_file.exists, 10)
    master = pm.get_process_pid(pid_id)
    return master, [int(w) for w in workers_file.read_text().split()]


def test_bug8_workers_of_a_sigkilled_master_are_gone(guard, pm, workdir):
    pid_id = "seed-b8"
    master, workers = start_master(guard, pm, workdir, pid_id)
    assert all(alive(w) for w in workers) and os.getpgid(workers[0]) == master
    began = time.monotonic()
    assert pm.stop_process(pid_id, signal.SIGQUIT, timeout=1) is True
    took = time.monotonic() - began
    assert 0.9 <= took < 4.0, took
    assert not alive(master)
    assert wait_until(lambda: not any(alive(w) for w in workers), 1.0), "workers survived their master"


def test_bug8_workers_left_by_a_master_killed_from_outside_are_stopped(guard, pm, workdir):
    """php-fpm after `kill -9` of its master: the pool kept serving. stop_process must clear the group."""
    pid_id = "seed-b8-crash"
    master, workers = start_master(guard, pm, workdir, pid_id)
    os.kill(master, signal.SIGKILL)
    assert wait_until(lambda: pm.get_process_status(pid_id) == "error", 5)
    assert all(alive(w) for w in workers)
    assert pm.stop_process(pid_id, timeout=1) is True
    assert wait_until(lambda: not any(alive(w) for w in workers), 2.0), "orphaned workers kept running"


def test_bug9_two_threads_starting_one_id_give_one_process(guard, pm):
    for round_ in range(5):
        pid_id = guard.track(f"seed-b9-{round_}")
        argv = ["sleep", f"600.{round_}{random.randint(100, 999)}"]
        barrier = threading.Barrier(2)
        results = []

        def start() -> None:
            barrier.wait()
            results.append(pm.start_process(pid_id, argv))

        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == [True, True]
        running = pids_with_cmdline(argv)
        assert len(running) == 1, f"round {round_}: {len(running)} processes for one id"
        assert pm.get_process_pid(pid_id) in running
        assert pm.stop_process(pid_id, timeout=1) is True
        assert not pids_with_cmdline(argv)


def test_bug9_eight_threads_hammering_raise_nothing(guard, pm):
    ids = [guard.track("seed-hammer-0"), guard.track("seed-hammer-1")]
    argv = ["sleep", f"600.{random.randint(1000, 9999)}"]
    errors = []
    bad_values = []
    stop_at = time.monotonic() + 2.5

    def hammer(n: int) -> None:
        rnd = random.Random(n)
        while time.monotonic() < stop_at:
            pid_id = rnd.choice(ids)
            op = rnd.choice(["start", "stop", "status", "status", "pid", "list"])
            try:
                if op == "start":
                    value = pm.start_process(pid_id, argv)
                    ok = isinstance(value, bool)
                elif op == "stop":
                    value = pm.stop_process(pid_id, timeout=1)
                    ok = value is True
                elif op == "status":
                    value = pm.get_process_status(pid_id)
                    ok = value in ("running", "stopped", "error")
                elif op == "pid":
                    value = pm.get_process_pid(pid_id)
                    ok = value is None or (isinstance(value, int) and value > 0)
                else:
                    value = dict(pm.running_processes)
                    ok = isinstance(value, dict)
                if not ok:
                    bad_values.append((op, value))
            except BaseException as err:  # noqa: BLE001 - anything at all is the failure
                errors.append(f"{op}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]
    assert not bad_values, bad_values[:5]
    for pid_id in ids:
        assert pm.stop_process(pid_id, timeout=1) is True
    assert wait_until(lambda: not pids_with_cmdline(argv), 2), "a start left a process nobody tracks"


def test_bug10_stop_all_of_five_term_ignoring_services_takes_about_one_second(guard, pm):
    argv = ["sh", "-c", "trap '' TERM; exec sleep 600"]
    ids = []
    for i in range(5):
        pid_id = guard.track(f"seed-ignore-{i}")
        grazr_proc.register_service(pid_id, stop_timeout=1)
        assert pm.start_process(pid_id, argv) is True
        ids.append(pid_id)
    pids = [pm.get_process_pid(i) for i in ids]
    for pid in pids:
        wait_exec(pid, ["sleep", "600"])  # the trap is set before sh execs sleep
    began = time.monotonic()
    assert pm.stop_all_processes() is True
    took = time.monotonic() - began
    assert 0.9 <= took < 4.0, f"stop_all took {took:.2f} s (sequential would be 5 s or more)"
    assert not any(alive(p) for p in pids)
    assert all(pm.get_process_status(i) == "stopped" for i in ids)


def test_host_subprocess_run_keeps_its_return_code(guard, pm):
    """The library reaps only its own children: a host's subprocess.run still sees its exit code."""
    stop_at = time.monotonic() + 2.0
    errors = []

    def churn() -> None:
        n = 0
        while time.monotonic() < stop_at:
            pid_id = f"seed-churn-{n % 3}"
            guard.track(pid_id)
            try:
                pm.start_process(pid_id, ["sh", "-c", "exit 0"])  # exits inside the window
                pm.start_process(pid_id, ["sleep", "600"])
                pm.stop_process(pid_id, timeout=1)
            except Exception as err:  # noqa: BLE001
                errors.append(err)
            n += 1

    thread = threading.Thread(target=churn)
    thread.start()
    codes = []
    try:
        i = 0
        while time.monotonic() < stop_at:
            expected = i % 7
            codes.append((expected, subprocess.run(["sh", "-c", f"sleep 0.01; exit {expected}"]).returncode))
            i += 1
    finally:
        thread.join(30)
    assert len(codes) >= 10
    assert all(expected == got for expected, got in codes), [c for c in codes if c[0] != c[1]][:5]
    assert not errors


def test_bug13_a_pid_file_holding_no_pid_is_never_deleted(guard, pm, workdir):
    not_a_pid = workdir / "looks-like.pid"
    not_a_pid.write_text("# this is a config file, not a pid file\n")
    assert pm.start_process(guard.track("seed-b13"), ["sh", "-c", "exit 1"], pid_file_path=not_a_pid) is False
    assert not_a_pid.read_text() == "# this is a config file, not a pid file\n"


def test_bug13_stale_pid_file_of_a_dead_process_is_replaced(guard, pm, workdir):
    pid_file = workdir / "svc.pid"
    dead = subprocess.Popen(["true"])
    dead.wait()
    pid_file.write_text(f"{dead.pid}\n")
    pid_id = guard.track("seed-b13-stale")
    assert pm.start_process(pid_id, ["sh", "-c", f"echo $$ > {pid_file}; exec sleep 600"], pid_file_path=pid_file) is True
    assert pm.get_process_pid(pid_id) == first_line_pid(pid_file) != dead.pid


def test_bug15_no_predictable_temp_log(guard, pm):
    predictable = Path(tempfile.gettempdir()) / "grazr_proc_seed-b15.log"
    assert pm.start_process(guard.track("seed-b15"), ["sh", "-c", "echo hi; exec sleep 600"]) is True
    time.sleep(0.1)
    assert not predictable.exists()


def test_bug16_child_gets_dev_null_stdin_no_host_fds_and_default_signals(guard, pm, workdir):
    log = workdir / "b16.log"
    leaked_r, leaked_w = os.pipe()
    os.set_inheritable(leaked_r, True)  # an fd a careless spawn would pass on
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    old_handler = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    try:
        assert pm.start_process(guard.track("seed-b16"), ["sleep", "600"], log_file_path=log) is True
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGUSR2, old_handler)
        os.close(leaked_r)
        os.close(leaked_w)
    pid = pm.get_process_pid("seed-b16")
    # sleep opens nothing itself: its fds and signal state are exactly what the spawn gave it,
    # once its dynamic loader has closed the libraries it mapped (a leaked fd would stay).
    wait_until(lambda: sorted(os.listdir(f"/proc/{pid}/fd")) == ["0", "1", "2"], 5)
    fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert fds.pop(0) == "/dev/null"
    assert fds.pop(1) == fds.pop(2) == str(log)
    assert not fds, f"host fds leaked into the child: {fds}"
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    assert int(status["SigBlk"], 16) == 0, "the host's signal mask leaked into the child"
    assert not int(status["SigIgn"], 16) & (1 << (signal.SIGUSR2 - 1)), "the host's ignored SIGUSR2 leaked"
    assert os.getsid(pid) == os.getpgid(pid) == pid, "not in its own session"


def test_bug17_int_signal_is_accepted(guard, pm):
    assert pm.start_process(guard.track("seed-b17"), ["sleep", "600"]) is True
    pid = pm.get_process_pid("seed-b17")
    assert pm.stop_process("seed-b17", 15) is True
    assert pm.stop_process("seed-b17", int(signal.SIGQUIT), 1) is True
    assert not alive(pid)


FAILING_CONFIG = """
import os
# Grazr's config.py: POSTGRES_DEFAULT_USER_VAR = os.getlogin() fails without a controlling tty.
raise OSError(6, "No such device or address")
"""


def test_bug18_a_failing_grazr_config_import_is_caught_and_logged_once(guard, workdir):
    pkg = workdir / "pylib" / "grazr" / "core"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "config.py").write_text(FAILING_CONFIG)
    script = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
        from grazr_proc import process_manager as pm
        print(pm.get_process_status("internal-nginx"))
        print(pm.get_process_status("internal-nginx"))
        print(pm.get_process_pid("internal-redis"))
        print(pm.start_process("t18", ["sleep", "600"]))
        print(pm.stop_process("t18", timeout=1))
        print(pm._get_pid_file_path_for_id("internal-nginx"))
        print(pm.stop_all_processes())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=python_env(pythonpath=[workdir / "pylib"]),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["stopped", "stopped", "None", "True", "True", "None", "True"]
    warnings = [l for l in result.stderr.splitlines() if "grazr.core.config" in l and "WARNING" in l]
    assert len(warnings) == 1, result.stderr
    assert "OSError" in warnings[0]


def test_bug21_stop_process_accepts_pid_file_path_for_an_untracked_process(guard, pm, workdir):
    sleeper = guard.popen(["sleep", "600"])
    time.sleep(0.05)
    pid_file = workdir / "php" / "8.9" / "var" / "run" / "php8.9-fpm.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text(str(sleeper.pid))  # php-fpm writes no newline
    assert pm.stop_process("php-fpm-8.9", pid_file_path=str(pid_file), signal_to_use=signal.SIGQUIT) is True
    assert sleeper.wait(timeout=5) == -signal.SIGQUIT


def test_running_processes_is_a_read_only_view(guard, pm, workdir):
    log = workdir / "rp.log"
    assert pm.start_process(guard.track("seed-rp"), ["sleep", "600"], log_file_path=log) is True
    view = pm.running_processes
    entry = view["seed-rp"]
    assert entry["pid"] == pm.get_process_pid("seed-rp")
    assert entry["command"] == ["sleep", "600"]
    assert entry["log_path"] == str(log) and entry["pid_file"] is None
    assert "seed-rp" in view and "seed-never" not in view
    with pytest.raises(TypeError):
        view["seed-rp"] = {}  # type: ignore[index]
    with pytest.raises(KeyError):
        view["seed-never"]
    assert pm.stop_process("seed-rp") is True
    assert "seed-rp" not in view


def test_omitted_stop_signal_uses_the_registered_one(guard, pm, workdir):
    """Grazr's callers that leave out the signal get the service's registered stop signal."""
    victim, signals = start_victim(guard, workdir, "registered")
    pid_file = workdir / "reg.pid"
    pid_file.write_text(f"{victim.pid}\n")
    grazr_proc.register_service("seed-registered", pid_file, stop_signal=signal.SIGUSR1, stop_timeout=0.5)
    guard.track("seed-registered")
    assert pm.get_process_status("seed-registered") == "running"
    began = time.monotonic()
    assert pm.stop_process("seed-registered") is True  # SIGUSR1 is caught, then SIGKILL at 0.5 s
    assert time.monotonic() - began < 3.0, "the registered 0.5 s timeout was not used (Grazr's 5 s was)"
    assert signals.read_text().split() == ["SIGUSR1"]


def test_explicit_stop_signal_wins_over_the_registered_one(guard, pm, workdir):
    victim, signals = start_victim(guard, workdir, "explicit")
    pid_file = workdir / "exp.pid"
    pid_file.write_text(f"{victim.pid}\n")
    grazr_proc.register_service("seed-explicit", pid_file, stop_signal=signal.SIGUSR1, stop_timeout=0.5)
    guard.track("seed-explicit")
    assert pm.stop_process("seed-explicit", signal.SIGTERM, timeout=0.5) is True
    assert signals.read_text().split() == ["SIGTERM"]


def test_grazr_service_table_from_config(pm, workdir):
    layout = GrazrLayout(workdir).make()
    table = pm.configure_grazr_services(grazr_config(layout, {"nginx": "/usr/sbin/nginx"}))
    by_pattern = {s.pattern: s for s in table}
    assert by_pattern["internal-nginx"].stop_signal == signal.SIGQUIT
    assert by_pattern["php-fpm-{version}"].stop_signal == signal.SIGQUIT
    assert by_pattern["internal-mysql"].stop_timeout == 10
    assert by_pattern["internal-redis"].stop_signal == signal.SIGTERM and by_pattern["internal-redis"].stop_timeout == 5
    assert by_pattern["internal-minio"].pid_file_template is None
    pg = by_pattern["internal-postgres-15-{instance_id}"]
    assert pg.stop_signal == signal.SIGINT and pg.stop_timeout == float("inf")
    assert pm._get_pid_file_path_for_id("php-fpm-8.3") == layout.php_pid("8.3")
    assert pm._get_pid_file_path_for_id("internal-redis") == layout.redis_pid
    assert pm._get_pid_file_path_for_id("internal-postgres-15-abc") == layout.postgres_data("abc") / "postmaster.pid"
    assert pm._get_pid_file_path_for_id("internal-minio") is None
    assert pm._get_pid_file_path_for_id("php-fpm-../../etc") is None
    assert pm._get_pid_file_path_for_id("unknown") is None


def test_status_never_waits_for_a_start_in_progress(guard, pm, workdir):
    """Grazr's GUI thread polls status while its worker thread is inside start_process."""
    pid_file = workdir / "slow.pid"
    pid_id = guard.track("seed-slow-start")
    started = threading.Event()
    result = []

    def start() -> None:
        started.set()
        result.append(pm.start_process(pid_id, ["sh", "-c", f"sleep 1; echo $$ > {pid_file}; exec sleep 600"],
                                       pid_file_path=pid_file))

    thread = threading.Thread(target=start)
    thread.start()
    started.wait()
    slowest = 0.0
    readings = set()
    while thread.is_alive():
        began = time.monotonic()
        readings.add(pm.get_process_status(pid_id))
        pm.get_process_pid(pid_id)
        slowest = max(slowest, time.monotonic() - began)
        time.sleep(0.02)
    thread.join()
    assert result == [True]
    assert slowest < 0.5, f"a status call waited {slowest:.2f} s for the start (it sleeps 1 s)"
    assert readings <= {"stopped", "running"} and "running" in readings, readings
    assert pm.get_process_status(pid_id) == "running"


def test_postgres_instance_is_never_sigkilled_even_with_a_timeout(guard, pm, workdir):
    """A registered Postgres instance keeps "never SIGKILL" when a caller passes a timeout."""
    layout = configure(pm, workdir)
    pid_file = layout.postgres_data("slow") / "postmaster.pid"
    pid_id = guard.track("internal-postgres-15-slow")
    # Stands in for a postmaster busy with a long shutdown: it ignores SIGINT.
    script = f"trap '' INT; echo $$ > {pid_file}; exec sleep 600"
    assert pm.start_process(pid_id, ["sh", "-c", script], pid_file_path=pid_file) is True
    pid = pm.get_process_pid(pid_id)
    began = time.monotonic()
    assert pm.stop_process(pid_id, timeout=0.5) is False
    assert 0.4 <= time.monotonic() - began < 3.0
    assert alive(pid), "the postmaster stand-in was SIGKILLed"
    assert pm.get_process_status(pid_id) == "running"
    assert pm.stop_process(pid_id, signal.SIGTERM, timeout=2) is True  # sleep dies on SIGTERM
    assert not alive(pid)
