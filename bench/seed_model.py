#!/usr/bin/env python3
"""A model of the seed's algorithm (Grazr's process_manager.py), written from its description in
../shared/seed/000_badd840036975b50.txt, to measure side by side with the library.

What the model keeps from the seed, because that is what costs the time:
  * start: Popen(start_new_session=True) with output appended to a log, then sleep(0.2) and poll();
  * stop: the signal, then a check every 0.2 s until the timeout; then SIGKILL and 5 checks
    of 0.3 s; a check is os.kill(pid, 0) plus "has the pid file disappeared";
  * status: Popen.poll() + os.kill(pid, 0) for a child, read_pid_file + os.kill(pid, 0) for a
    pid-file service; debug-log f-strings are built as in the seed;
  * stop_all: the fixed bundled ids plus every tracked id, one stop after another.

Two variants:
  literal  as the seed: os.kill(pid, 0) succeeds on a zombie, and a stop never reaps its own
           child, so a child that died on the signal is "still running" until the timeout,
           then SIGKILL, then 5 x 0.3 s, and the stop reports failure;
  reaping  the same, except that a check first reaps the tracked child (Popen.poll()), so a
           dead child reads as gone at the next 0.2 s check.

Run as a script it measures one scenario and prints JSON like the C programs:
  seed_model.py --bin DIR --tmp DIR --scenario s1|s3|s4|s5|s6|s7 --variant literal|reaping
                [--samples N] [--n N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
from peerlib import ignores_term  # noqa: E402  (bench/peers is a directory of scripts, not a package)

logger = logging.getLogger("seed_model")
logger.setLevel(logging.WARNING)

# The seed's stop_all walks these ids whether or not they are tracked.
BUNDLED_IDS = ["internal-nginx", "internal-mysql", "internal-redis", "internal-minio"]


class SeedModel:
    def __init__(self, reap: bool, tmp: str) -> None:
        self.reap = reap
        self.tmp = tmp
        self.running_processes: Dict[str, dict] = {}

    # -- helpers as the seed has them -------------------------------------------------------
    @staticmethod
    def read_pid_file(path: Optional[str]) -> Optional[int]:
        if not path:
            return None
        try:
            text = Path(path).read_text().strip()
            pid = int(text)
            return pid if pid > 0 else None
        except (OSError, ValueError):
            return None

    def check_pid_running(self, pid: Optional[int]) -> bool:
        if not pid or pid <= 0:
            return False
        if self.reap:
            # The one change of the reaping variant: our own dead child is reaped first, so
            # kill(pid, 0) below sees it gone instead of a zombie.
            for info in self.running_processes.values():
                popen = info.get("process")
                if popen is not None and popen.pid == pid:
                    popen.poll()
                    break
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    # -- start ------------------------------------------------------------------------------
    def start_process(self, process_id: str, command: List[str], pid_file_path: Optional[str] = None,
                      working_dir: Optional[str] = None, env: Optional[dict] = None,
                      log_file_path: Optional[str] = None) -> bool:
        if self.get_process_status(process_id) == "running":
            logger.info(f"'{process_id}' already running")
            return True
        if pid_file_path:
            Path(pid_file_path).parent.mkdir(parents=True, exist_ok=True)
            Path(pid_file_path).unlink(missing_ok=True)
        effective_env = os.environ.copy()
        if env:
            effective_env.update(env)
        log_path = log_file_path or os.path.join(self.tmp, f"seed_{process_id}.log")
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "a", encoding="utf-8")
        try:
            logger.info(f"Launching '{process_id}': {command}")
            process = subprocess.Popen(command, cwd=working_dir, env=effective_env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            self.running_processes[process_id] = {
                "pid_file": str(Path(pid_file_path).resolve()) if pid_file_path else None,
                "process": process, "pid": process.pid, "command": command, "log_path": log_path,
            }
            time.sleep(0.2)
            if process.poll() is not None:
                logger.warning(f"'{process_id}' exited immediately with {process.returncode}")
                del self.running_processes[process_id]
                return False
            return True
        except Exception as exc:  # the seed turns every launch error into False
            logger.error(f"Failed to launch '{process_id}': {exc}")
            self.running_processes.pop(process_id, None)
            return False
        finally:
            log.close()

    # -- stop -------------------------------------------------------------------------------
    def _stopped(self, pid: int, pid_file: Optional[str]) -> bool:
        if not self.check_pid_running(pid):
            return True
        return bool(pid_file) and not Path(pid_file).exists()

    def stop_process(self, process_id: str, signal_to_use: int = signal.SIGTERM, timeout: float = 5) -> bool:
        info = self.running_processes.get(process_id)
        if not info:
            return True
        pid_file = info.get("pid_file")
        popen = info.get("process")
        pid = None
        if pid_file:
            from_file = self.read_pid_file(pid_file)
            if from_file and self.check_pid_running(from_file):
                pid = from_file
            elif popen is not None and popen.poll() is None and self.check_pid_running(info["pid"]):
                pid = info["pid"]
        elif popen is not None and popen.poll() is None and self.check_pid_running(info["pid"]):
            pid = info["pid"]
        if not pid or not self.check_pid_running(pid):
            if pid_file:
                Path(pid_file).unlink(missing_ok=True)
            self.running_processes.pop(process_id, None)
            return True
        stopped = False
        try:
            os.kill(pid, signal_to_use)
            start = time.monotonic()
            while time.monotonic() - start < timeout:
                if self._stopped(pid, pid_file):
                    stopped = True
                    break
                time.sleep(0.2)
            if not stopped:
                try:
                    os.kill(pid, signal.SIGKILL)
                    for _ in range(5):
                        time.sleep(0.3)
                        if self._stopped(pid, pid_file):
                            stopped = True
                            break
                except ProcessLookupError:
                    stopped = True
        except ProcessLookupError:
            stopped = True
        except PermissionError:
            stopped = False
        if stopped:
            if pid_file:
                Path(pid_file).unlink(missing_ok=True)
            self.running_processes.pop(process_id, None)
        return stopped

    # -- status -----------------------------------------------------------------------------
    def get_process_status(self, process_id: str) -> str:
        logger.debug(f"get_process_status for '{process_id}'")
        info = self.running_processes.get(process_id)
        if info is None:
            return "stopped"
        pid_file = info.get("pid_file")
        popen = info.get("process")
        if pid_file:
            logger.debug(f"'{process_id}' is tracked by pid file {pid_file}")
            pid = self.read_pid_file(pid_file)
            if pid and self.check_pid_running(pid):
                if info.get("pid") != pid:
                    info["pid"] = pid
                logger.debug(f"'{process_id}' (PID {pid} from file) is running")
                return "running"
            Path(pid_file).unlink(missing_ok=True)
            self.running_processes.pop(process_id, None)
            return "stopped"
        if popen is not None and popen.poll() is None and self.check_pid_running(popen.pid):
            logger.debug(f"'{process_id}' (Popen PID {popen.pid}) is running")
            return "running"
        self.running_processes.pop(process_id, None)
        return "stopped"

    # -- stop_all ---------------------------------------------------------------------------
    def stop_all_processes(self, default_timeout: float = 5) -> bool:
        ids = list(dict.fromkeys(BUNDLED_IDS + list(self.running_processes)))
        ok = True
        for process_id in ids:
            if process_id == "internal-nginx" or process_id.startswith("php-fpm-"):
                sig, timeout = signal.SIGQUIT, 5
            elif process_id == "internal-mysql":
                sig, timeout = signal.SIGTERM, 10
            else:
                sig, timeout = signal.SIGTERM, default_timeout
            ok = self.stop_process(process_id, sig, timeout) and ok
        return ok

    # -- bench hygiene (not part of the model) ----------------------------------------------
    def force_cleanup(self) -> None:
        """Kills and reaps whatever the model left behind: the literal variant leaves zombies
        and tracking entries by design."""
        for info in list(self.running_processes.values()):
            popen = info.get("process")
            if popen is not None:
                try:
                    os.killpg(popen.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                popen.wait()
        self.running_processes.clear()

    def reap_all(self, popens: List[subprocess.Popen]) -> None:
        for p in popens:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            p.wait()


# ---- measurement -----------------------------------------------------------------------------

class Results:
    def __init__(self) -> None:
        self.metrics: Dict[str, dict] = {}
        self.checks: Dict[str, object] = {}

    def add(self, name: str, value: float, unit: str = "us") -> None:
        self.metrics.setdefault(name, {"unit": unit, "values": []})["values"].append(round(value, 3))

    def dump(self, tool: str, scenario: str) -> None:
        json.dump({"tool": tool, "scenario": scenario, "metrics": self.metrics, "checks": self.checks},
                  sys.stdout)
        sys.stdout.write("\n")


def us(t0: int, t1: int) -> float:
    return (t1 - t0) / 1000.0


def run(args: argparse.Namespace) -> int:
    model = SeedModel(args.variant == "reaping", args.tmp)
    res = Results()
    b = lambda name: os.path.join(args.bin, name)  # noqa: E731
    tag = f"seed_{args.variant}"
    popens: List[subprocess.Popen] = []

    def remember(pid_id: str) -> None:
        info = model.running_processes.get(pid_id)
        if info and info.get("process") is not None:
            popens.append(info["process"])

    try:
        if args.scenario == "s1":
            for _ in range(args.samples):
                t0 = time.perf_counter_ns()
                okay = model.start_process("seed-s1", [b("pause")])
                res.add(f"s1_{tag}_start", us(t0, time.perf_counter_ns()))
                remember("seed-s1")
                res.checks["start_ok"] = bool(okay)
                model.force_cleanup()
        elif args.scenario == "s3":
            pf = os.path.join(args.tmp, "seed_s3.pid")
            for _ in range(args.samples):
                t0 = time.perf_counter_ns()
                model.start_process("seed-s3", [b("pidfile"), pf], pid_file_path=pf)
                res.add(f"s3_{tag}_start_pidfile", us(t0, time.perf_counter_ns()))
                remember("seed-s3")
                model.force_cleanup()
        elif args.scenario == "s4":
            results = []
            for name, argv, settle in (("exits_on_term", [b("pause")], 0.001),
                                       ("exits_50ms_after_term", [b("termslow"), "50"], 0.02)):
                for _ in range(args.samples):
                    model.start_process("seed-s4", argv)
                    remember("seed-s4")
                    time.sleep(settle)
                    t0 = time.perf_counter_ns()
                    results.append(model.stop_process("seed-s4", signal.SIGTERM, 5))
                    res.add(f"s4_{tag}_stop_{name}", us(t0, time.perf_counter_ns()))
                    model.force_cleanup()
            res.checks["stop_returned"] = results
        elif args.scenario == "s5":
            for _ in range(args.samples):
                for i in range(20):
                    model.start_process(f"seed-s5-{i:02d}", [b("ignterm")])
                    remember(f"seed-s5-{i:02d}")
                pids = [info["pid"] for info in model.running_processes.values()]
                res.checks["ignoring_term"] = sum(ignores_term(p) for p in pids)
                t0 = time.perf_counter_ns()
                res.checks["stop_all_returned"] = model.stop_all_processes(default_timeout=1)
                res.add(f"s5_{tag}_stop_all_20_ignterm_timeout1s", us(t0, time.perf_counter_ns()))
                model.force_cleanup()
        elif args.scenario == "s6":
            batch = 20000
            pf = os.path.join(args.tmp, "seed_s6.pid")
            model.start_process("seed-s6c", [b("pause")])
            model.start_process("seed-s6p", [b("pidfile"), pf], pid_file_path=pf)
            remember("seed-s6c")
            remember("seed-s6p")
            for name, pid_id in (("child", "seed-s6c"), ("pidfile", "seed-s6p")):
                for _ in range(args.samples):
                    t0 = time.perf_counter_ns()
                    for _ in range(batch):
                        if model.get_process_status(pid_id) != "running":
                            raise RuntimeError(f"{pid_id} not running")
                    res.add(f"s6_{tag}_status_{name}_per_call", us(t0, time.perf_counter_ns()) / batch)
            model.force_cleanup()
        elif args.scenario == "s7":
            n = args.n
            for _ in range(args.samples):
                t0 = time.perf_counter_ns()
                for i in range(n):
                    model.start_process(f"seed-s7-{i}", [b("pause")])
                    remember(f"seed-s7-{i}")
                t1 = time.perf_counter_ns()
                running = sum(model.get_process_status(f"seed-s7-{i}") == "running" for i in range(n))
                t2 = time.perf_counter_ns()
                res.checks["stop_all_returned"] = model.stop_all_processes()
                t3 = time.perf_counter_ns()
                res.checks["running"] = running
                res.add(f"s7_{tag}_n{n}_start_per_proc", us(t0, t1) / n)
                res.add(f"s7_{tag}_n{n}_status_per_proc", us(t1, t2) / n)
                res.add(f"s7_{tag}_n{n}_stop_all_per_proc", us(t2, t3) / n)
                res.add(f"s7_{tag}_n{n}_stop_all_total", us(t2, t3))
                model.force_cleanup()
        else:
            raise SystemExit(f"unknown scenario {args.scenario}")
    finally:
        model.force_cleanup()
        model.reap_all(popens)
    res.dump("seed_model", args.scenario)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--variant", choices=("literal", "reaping"), default="literal")
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--n", type=int, default=10)
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
