#!/usr/bin/env python3
"""The library through Python: the grazr_proc binding (bindings/python) when it imports and
works, else raw ctypes on the same C ABI. Prints JSON like the C programs.

  py_binding.py --bin DIR --tmp DIR --scenario s1|s3|s4|s5|s6 [--samples N]

Scenario s8 (real daemons) lives in daemons.py and uses the same backend.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "peers"))

from peerlib import ignores_term  # noqa: E402
from seed_model import Results, us  # noqa: E402


class CtypesBackend:
    """The few calls the bench needs, straight on the C ABI."""

    name = "ctypes"

    class StartOptions(ctypes.Structure):
        _fields_ = [("size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                    ("pid_file_path", ctypes.c_char_p), ("working_dir", ctypes.c_char_p),
                    ("env", ctypes.POINTER(ctypes.c_char_p)), ("log_file_path", ctypes.c_char_p),
                    ("startup_window_ms", ctypes.c_int32), ("pid_file_timeout_ms", ctypes.c_int32),
                    ("error_message", ctypes.c_char_p), ("error_message_size", ctypes.c_size_t)]

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        lib.grazr_start_process_ex.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                               ctypes.POINTER(self.StartOptions)]
        lib.grazr_stop_process.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32]
        lib.grazr_status.argtypes = [ctypes.c_char_p]
        lib.grazr_get_pid.argtypes = [ctypes.c_char_p]
        lib.grazr_register_service.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.c_int32, ctypes.c_int32]
        lib.grazr_last_error_message.restype = ctypes.c_char_p
        for f in ("grazr_start_process_ex", "grazr_stop_process", "grazr_status", "grazr_stop_all",
                  "grazr_register_service", "grazr_get_pid"):
            getattr(lib, f).restype = ctypes.c_int32
        self.lib = lib

    def _check(self, rc: int, what: str) -> int:
        if rc < 0:
            raise RuntimeError(f"{what}: {rc}: {self.lib.grazr_last_error_message().decode()}")
        return rc

    def start(self, pid_id, argv, pid_file=None, window=None, log=None, env=None, cwd=None):
        arr = (ctypes.c_char_p * (len(argv) + 1))(*[os.fsencode(a) for a in argv], None)
        o = self.StartOptions()
        o.size = ctypes.sizeof(o)
        o.pid_file_path = os.fsencode(pid_file) if pid_file else None
        o.log_file_path = os.fsencode(log) if log else None
        o.working_dir = os.fsencode(cwd) if cwd else None
        envarr = None
        if env:
            items = [f"{k}={v}".encode() for k, v in env.items()]
            envarr = (ctypes.c_char_p * (len(items) + 1))(*items, None)
            o.env = ctypes.cast(envarr, ctypes.POINTER(ctypes.c_char_p))
        o.startup_window_ms = -1 if window is None else int(window * 1000)
        self._check(self.lib.grazr_start_process_ex(pid_id.encode(), arr, ctypes.byref(o)), f"start {pid_id}")

    def stop(self, pid_id, sig=signal.SIGTERM, timeout=5.0):
        self._check(self.lib.grazr_stop_process(pid_id.encode(), int(sig), int(timeout * 1000)), f"stop {pid_id}")

    def status(self, pid_id) -> int:
        return self._check(self.lib.grazr_status(pid_id.encode()), f"status {pid_id}")

    def pid(self, pid_id) -> int:
        return self._check(self.lib.grazr_get_pid(pid_id.encode()), f"pid {pid_id}")

    def stop_all(self):
        self._check(self.lib.grazr_stop_all(), "stop_all")

    def register(self, pattern, timeout):
        self._check(self.lib.grazr_register_service(pattern.encode(), None, None, 0, int(timeout * 1000)),
                    f"register {pattern}")


class BindingBackend:
    """The project's binding: what a Python host such as Grazr actually calls."""

    name = "binding"

    def __init__(self) -> None:
        import grazr_proc  # noqa: F401  (from bindings/python)
        self.g = grazr_proc

    def start(self, pid_id, argv, pid_file=None, window=None, log=None, env=None, cwd=None):
        self.g.start(pid_id, argv, pid_file=pid_file, startup_window=window, log=log, env=env, cwd=cwd)

    def stop(self, pid_id, sig=signal.SIGTERM, timeout=5.0):
        self.g.stop(pid_id, sig, timeout)

    def status(self, pid_id) -> int:
        return int(self.g.status(pid_id))

    def pid(self, pid_id) -> int:
        return self.g.pid(pid_id) or 0

    def stop_all(self):
        self.g.stop_all()

    def register(self, pattern, timeout):
        self.g.register_service(pattern, stop_timeout=timeout)


def backend():
    """The binding if it imports and answers, else ctypes; GRAZR_BENCH_BACKEND forces one."""
    lib = os.environ.get("GRAZR_PROC_LIB", str(ROOT / "target/release/libgrazr_proc.so"))
    os.environ["GRAZR_PROC_LIB"] = lib
    want = os.environ.get("GRAZR_BENCH_BACKEND", "auto")
    if want in ("auto", "binding"):
        sys.path.insert(0, str(ROOT / "bindings/python"))
        try:
            b = BindingBackend()
            b.status("bench-probe")
            return b
        except Exception as exc:  # a binding in progress: fall back, and say so
            if want == "binding":
                raise
            print(f"py_binding: binding unusable ({exc!r}); using raw ctypes", file=sys.stderr)
    return CtypesBackend(lib)


def run(args: argparse.Namespace) -> int:
    g = backend()
    res = Results()
    res.checks["backend"] = g.name
    b = lambda name: os.path.join(args.bin, name)  # noqa: E731
    RUNNING = 1
    try:
        if args.scenario == "s1":
            for _ in range(args.samples):
                t0 = time.perf_counter_ns()
                g.start("py-s1", [b("pause")], window=0)
                res.add("s1_py_start_window0", us(t0, time.perf_counter_ns()))
                g.stop("py-s1", signal.SIGTERM, 5)
        elif args.scenario == "s3":
            pf = os.path.join(args.tmp, "py_s3.pid")
            for _ in range(args.samples):
                t0 = time.perf_counter_ns()
                g.start("py-s3", [b("pidfile"), pf], pid_file=pf)
                res.add("s3_py_start_pidfile_foreground", us(t0, time.perf_counter_ns()))
                g.stop("py-s3", signal.SIGTERM, 5)
        elif args.scenario == "s4":
            for name, argv, settle, n in (("exits_on_term", [b("pause")], 0.001, args.samples),
                                          ("exits_50ms_after_term", [b("termslow"), "50"], 0.02,
                                           args.samples // 5 + 1)):
                for _ in range(n):
                    g.start("py-s4", argv, window=0)
                    time.sleep(settle)
                    t0 = time.perf_counter_ns()
                    g.stop("py-s4", signal.SIGTERM, 5)
                    res.add(f"s4_py_stop_{name}", us(t0, time.perf_counter_ns()))
        elif args.scenario == "s5":
            g.register("py-s5-{n}", 1.0)
            for _ in range(args.samples):
                for i in range(20):
                    g.start(f"py-s5-{i:02d}", [b("ignterm")], window=0)
                # Each must have reached signal(SIGTERM, SIG_IGN) before the clock starts.
                for _ in range(200):
                    ignoring = sum(ignores_term(g.pid(f"py-s5-{i:02d}")) for i in range(20))
                    if ignoring == 20:
                        break
                    time.sleep(0.001)
                res.checks["ignoring_term"] = ignoring
                t0 = time.perf_counter_ns()
                g.stop_all()
                res.add("s5_py_stop_all_20_ignterm_timeout1s", us(t0, time.perf_counter_ns()))
        elif args.scenario == "s6":
            batch = 50000
            pf = os.path.join(args.tmp, "py_s6d.pid")
            g.start("py-s6c", [b("pause")], window=0)
            g.start("py-s6d", [b("pidfile"), "-d", pf], pid_file=pf)
            for name, pid_id in (("child", "py-s6c"), ("pidfile_daemon", "py-s6d")):
                for _ in range(args.samples):
                    status = g.status
                    t0 = time.perf_counter_ns()
                    for _ in range(batch):
                        if status(pid_id) != RUNNING:
                            raise RuntimeError(f"{pid_id} not running")
                    res.add(f"s6_py_status_{name}_per_call", us(t0, time.perf_counter_ns()) / batch)
            g.stop("py-s6c", signal.SIGTERM, 5)
            g.stop("py-s6d", signal.SIGTERM, 5)
        else:
            raise SystemExit(f"unknown scenario {args.scenario}")
    finally:
        g.stop_all()
    res.dump("py_binding", args.scenario)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--samples", type=int, default=20)
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
