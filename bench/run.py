#!/usr/bin/env python3
"""Runs every benchmark side by side (library through C and Python, the seed model, the
kernel's floor, and the peers supervisord and s6), then writes the report and checks that
nothing was left running.

  run.py --mode full    all scenarios, about 5-8 minutes: bench/REPORT.md, bench/report.svg
  run.py --mode quick   each scenario briefly, < 90 s, no slow seed runs: bench/results/quick/

Exit status: 0 when every job ran and no process was left behind; 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
import peerlib  # noqa: E402  (bench/peers is a directory of scripts, not a package)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = HERE / "build"
HELPERS = ["pause", "termslow", "ignterm", "pidfile", "true"]


def jobs(mode: str) -> List[dict]:
    """(name, argv, timeout) for every measurement; {bin} and {tmp} are filled in later."""
    q = mode == "quick"
    n = (lambda full, quick: str(quick if q else full))  # noqa: E731
    drv = [str(BUILD / "driver"), "--bin", "{bin}", "--tmp", "{tmp}"]
    flo = [str(BUILD / "floor"), "--bin", "{bin}"]
    py = [sys.executable, str(HERE / "py_binding.py"), "--bin", "{bin}", "--tmp", "{tmp}"]
    seed = [sys.executable, str(HERE / "seed_model.py"), "--bin", "{bin}", "--tmp", "{tmp}"]
    dae = [sys.executable, str(HERE / "daemons.py"), "--tmp", "{tmp}"]
    out = [
        ("floor_spawn", flo + ["--scenario", "spawn", "--samples", n(300, 40)], 120),
        ("floor_spawn_512", flo + ["--scenario", "spawn_big", "--samples", n(100, 10), "--touch-mib", "512"], 120),
        ("floor_stop", flo + ["--scenario", "stop", "--samples", n(200, 20)], 120),
        ("floor_stop20", flo + ["--scenario", "stop20", "--samples", n(5, 1)], 60),
        ("floor_status", flo + ["--scenario", "status", "--samples", n(15, 3)], 60),
        ("floor_inotify", flo + ["--scenario", "inotify", "--samples", n(30, 5)], 60),
        ("c_s1", drv + ["--scenario", "s1", "--samples", n(300, 40)], 120),
        ("c_s2", drv + ["--scenario", "s2", "--samples", n(100, 10), "--touch-mib", "512"], 120),
        ("c_s3", drv + ["--scenario", "s3", "--samples", n(100, 10)], 120),
        ("c_s4", drv + ["--scenario", "s4", "--samples", n(200, 20)], 120),
        ("c_s5", drv + ["--scenario", "s5", "--samples", n(5, 1)], 60),
        ("c_s6", drv + ["--scenario", "s6", "--samples", n(15, 3)], 120),
        ("py_s1", py + ["--scenario", "s1", "--samples", n(200, 30)], 60),
        ("py_s3", py + ["--scenario", "s3", "--samples", n(100, 10)], 60),
        ("py_s4", py + ["--scenario", "s4", "--samples", n(100, 20)], 60),
        ("py_s5", py + ["--scenario", "s5", "--samples", n(3, 1)], 60),
        ("py_s6", py + ["--scenario", "s6", "--samples", n(10, 3)], 120),
        # The peers (issue 7): same helpers, same scenarios; argv[0] "{peer:NAME}" is filled in
        # with the Python that can drive that peer, or the job is reported as not measured.
        ("peer_supervisord", ["{peer:supervisord}", str(HERE / "peers/bench_supervisord.py"), "--bin", "{bin}",
                              "--tmp", "{tmp}", "--samples", n(30, 8), "--samples50", n(20, 3),
                              "--samples20", n(5, 1), "--calls", n(1000, 200)], 180),
        ("peer_s6", ["{peer:s6}", str(HERE / "peers/bench_s6.py"), "--bin", "{bin}", "--tmp", "{tmp}",
                     "--samples", n(30, 8), "--samples50", n(20, 3), "--samples20", n(5, 1),
                     "--calls", n(300, 60)], 180),
        ("seed_literal_s1", seed + ["--scenario", "s1", "--variant", "literal", "--samples", n(5, 2)], 60),
        ("seed_reaping_s1", seed + ["--scenario", "s1", "--variant", "reaping", "--samples", n(5, 2)], 60),
        ("seed_literal_s3", seed + ["--scenario", "s3", "--variant", "literal", "--samples", n(5, 2)], 60),
        ("seed_reaping_s4", seed + ["--scenario", "s4", "--variant", "reaping", "--samples", n(3, 1)], 60),
        ("seed_literal_s6", seed + ["--scenario", "s6", "--variant", "literal", "--samples", n(5, 2)], 60),
        ("seed_reaping_s6", seed + ["--scenario", "s6", "--variant", "reaping", "--samples", n(5, 2)], 60),
    ]
    for size in (10, 100, 1000):
        out.append((f"floor_scale_{size}", flo + ["--scenario", "scale", "--n", str(size),
                                                  "--samples", n(3 if size < 1000 else 2, 1)], 120))
        out.append((f"c_s7_{size}", drv + ["--scenario", "s7", "--n", str(size),
                                            "--samples", n(3 if size < 1000 else 2, 1)], 180))
    if not q:
        # The slow seed runs: seconds per sample, so one sample each.
        out += [
            ("seed_literal_s4", seed + ["--scenario", "s4", "--variant", "literal", "--samples", "1"], 60),
            ("seed_reaping_s5", seed + ["--scenario", "s5", "--variant", "reaping", "--samples", "1"], 90),
            ("seed_literal_s5", seed + ["--scenario", "s5", "--variant", "literal", "--samples", "1"], 120),
            ("seed_reaping_s7_10", seed + ["--scenario", "s7", "--variant", "reaping", "--n", "10", "--samples", "1"], 60),
            ("seed_literal_s7_10", seed + ["--scenario", "s7", "--variant", "literal", "--n", "10", "--samples", "1"], 120),
        ]
    out.append(("daemons_s8", dae + ["--samples", n(5, 2), "--seed-samples", n(2, 1)]
                + (["--only", "nginx,redis"] if q else []), 300 if not q else 60))
    return [{"name": a, "argv": b, "timeout": c} for a, b, c in out]


# ---- the peers ------------------------------------------------------------------------------

PEERS = ("supervisord", "s6")


def peer_status() -> Dict[str, dict]:
    """What peers/setup.sh found or installed (build/peers.status): for each peer either
    {"python": ...} to run its bench with, or {"missing": reason}."""
    found: Dict[str, dict] = {}
    status = BUILD / "peers.status"
    if status.exists():
        for line in status.read_text().splitlines():
            name, _, rest = line.partition(" ")
            state, _, detail = rest.partition(" ")
            if state == "ok":
                found[name] = {"python": detail if name == "supervisord" else sys.executable}
            else:
                found[name] = {"missing": detail or "not installed"}
    for name in PEERS:
        if name not in found:
            found[name] = {"missing": "bench/peers/setup.sh has not run (make -C bench peers)"}
    return found


# ---- process hygiene -------------------------------------------------------------------------

# The process hygiene (subreaper, reaping, the leftover scan and the PID-based cleanup) is the
# peers' drivers' too: one copy, in peers/peerlib.py.
make_subreaper = peerlib.make_subreaper
reap_orphans = peerlib.reap_all
kill_leftovers = peerlib.kill_by_pid


def scan_leftovers(tmp: str) -> List[dict]:
    return peerlib.leftovers(tmp, [])


# ---- statistics and report -------------------------------------------------------------------

def stats(values: List[float]) -> Optional[dict]:
    if not values:
        return None
    q = sorted(values)
    return {"median": statistics.median(values), "min": q[0], "max": q[-1], "n": len(values),
            "p25": q[(len(q) - 1) // 4]}


def fmt_time(us: Optional[float]) -> str:
    if us is None:
        return "—"
    # Thresholds just below each unit so that 999.9 ms prints as "1 s", not "1e+03 ms".
    if us >= 999.5e3:
        return f"{us / 1e6:.3g} s"
    if us >= 999.5:
        return f"{us / 1e3:.3g} ms"
    if us >= 0.9995:
        return f"{us:.3g} µs"
    return f"{us * 1000:.3g} ns"


def fmt_value(v: Optional[float], unit: str) -> str:
    if v is None:
        return "—"
    if unit == "us":
        return fmt_time(v)
    return f"{v:.3g} {unit}"


class Data:
    def __init__(self) -> None:
        self.metrics: Dict[str, dict] = {}
        self.checks: Dict[str, dict] = {}

    def add(self, job: str, doc: dict) -> None:
        for name, m in doc.get("metrics", {}).items():
            self.metrics[name] = {"unit": m["unit"], **(stats(m["values"]) or {}), "job": job}
        self.checks[job] = doc.get("checks", {})

    def med(self, name: str) -> Optional[float]:
        m = self.metrics.get(name)
        return m["median"] if m and "median" in m else None


# One chart group and main-table block per scenario: (title, [(contender, metric)]).
# The seed column uses the reaping model (the faster, more charitable one) when both exist.
SCENARIOS = [
    ("1. start, no pid file, window 0", [
        ("library (C)", "s1_lib_start_window0"), ("library (Python)", "s1_py_start_window0"),
        ("seed model (start sleeps 0.2 s)", "s1_seed_literal_start"),
        ("floor: posix_spawn+setsid (same process)", "s1_ref_posix_spawn_setsid"),
        ("floor: posix_spawn+setsid (floor.c)", "spawn_posix_spawn_setsid"),
        ("fork+exec (same process)", "s1_ref_fork_exec"),
        ("supervisord: startProcess(wait), startsecs=0 (XML-RPC)", "peer_sv_start"),
        ("s6: s6-svc -u; s6-svwait -u", "peer_s6_start")]),
    ("2. start from a host that touched 512 MiB", [
        ("library (C)", "s2_lib_start_window0"),
        ("floor: posix_spawn+setsid (same process)", "s2_ref_posix_spawn_setsid"),
        ("fork+exec (same process)", "s2_ref_fork_exec"),
        ("floor: posix_spawn+setsid (floor.c)", "big_posix_spawn_setsid"),
        ("fork+exec (floor.c)", "big_fork_exec")]),
    ("3. start, child writes its pid file at once", [
        ("library (C), foreground", "s3_lib_start_pidfile_foreground"),
        ("library (C), daemonizing launcher", "s3_lib_start_pidfile_daemonizing"),
        ("library (Python), foreground", "s3_py_start_pidfile_foreground"),
        ("seed model", "s3_seed_literal_start_pidfile"),
        ("floor: posix_spawn+setsid", "spawn_posix_spawn_setsid"),
        ("kernel: inotify init+watch", "inotify_init_add_watch"),
        ("kernel: close of an inotify fd", "inotify_close")]),
    ("4a. stop, exits at once on SIGTERM", [
        ("library (C)", "s4_lib_stop_exits_on_term"), ("library (Python)", "s4_py_stop_exits_on_term"),
        ("library (C), pid-file daemon (not its child)", "s4_lib_stop_pidfile_daemon_exits_on_term"),
        ("seed model, reaping", "s4_seed_reaping_stop_exits_on_term"),
        ("seed model, literal (zombie: full timeout)", "s4_seed_literal_stop_exits_on_term"),
        ("floor: TERM → pidfd poll → waitpid", "stop_term_pidfd_poll_reaped"),
        ("floor: TERM → waitpid", "stop_term_waitpid"),
        ("supervisord: stopProcess(wait) (XML-RPC)", "peer_sv_stop_exits_on_term"),
        ("s6: s6-svc -d; s6-svwait -d", "peer_s6_stop_exits_on_term")]),
    ("4b. stop, exits 50 ms after SIGTERM", [
        ("library (C)", "s4_lib_stop_exits_50ms_after_term"),
        ("library (Python)", "s4_py_stop_exits_50ms_after_term"),
        ("seed model, reaping", "s4_seed_reaping_stop_exits_50ms_after_term"),
        ("seed model, literal", "s4_seed_literal_stop_exits_50ms_after_term"),
        ("floor", "stop50_term_pidfd_poll_reaped"),
        ("supervisord: stopProcess(wait) (XML-RPC)", "peer_sv_stop_exits_50ms_after_term"),
        ("s6: s6-svc -d; s6-svwait -d", "peer_s6_stop_exits_50ms_after_term")]),
    ("5. stop_all, 20 ignore SIGTERM, timeout 1 s", [
        ("library (C)", "s5_lib_stop_all_20_ignterm_timeout1s"),
        ("library (Python)", "s5_py_stop_all_20_ignterm_timeout1s"),
        ("seed model, reaping", "s5_seed_reaping_stop_all_20_ignterm_timeout1s"),
        ("seed model, literal", "s5_seed_literal_stop_all_20_ignterm_timeout1s"),
        ("floor", "stop20_ignterm_timeout1s"),
        ("supervisord: stopProcessGroup(wait), stopwaitsecs=1", "peer_sv_stop20_ignterm_timeout1s"),
        ("s6: 20× s6-svc -d; s6-svwait -d -a, timeout-kill 1000", "peer_s6_stop20_ignterm_timeout1s"),
        ("s6: … of which the 20 s6-svc -d", "peer_s6_stop20_svc_d_loop_part")]),
    ("6a. status per call, child", [
        ("library (C)", "s6_lib_status_child_per_call"),
        ("library (Python)", "s6_py_status_child_per_call"),
        ("seed model", "s6_seed_reaping_status_child_per_call"),
        ("floor: waitpid WNOHANG", "status_waitpid_wnohang_per_call"),
        ("supervisord: getProcessInfo (XML-RPC)", "peer_sv_status_per_call"),
        ("s6: s6-svstat", "peer_s6_status_per_call"),
        ("s6: read supervise/status in-process (Python; a file read, no liveness check)",
         "peer_s6_status_file_read_python_per_call"),
        ("s6 bench: posix_spawn + waitpid of a static no-op (each CLI call's own cost)",
         "peer_s6_driver_floor_spawn_true")]),
    ("6b. status per call, pid-file daemon", [
        ("library (C)", "s6_lib_status_pidfile_daemon_per_call"),
        ("library (Python)", "s6_py_status_pidfile_daemon_per_call"),
        ("seed model (pid file read + kill 0)", "s6_seed_reaping_status_pidfile_per_call"),
        ("floor: pidfd poll(0)", "status_pidfd_poll0_per_call")]),
]
for _n in (10, 100, 1000):
    SCENARIOS.append((f"7. scale N={_n}: start per process", [
        ("library (C)", f"s7_lib_n{_n}_start_per_proc"),
        ("seed model, reaping", f"s7_seed_reaping_n{_n}_start_per_proc"),
        ("floor", f"scale{_n}_start_per_proc")]))
    SCENARIOS.append((f"7. scale N={_n}: status per process", [
        ("library (C)", f"s7_lib_n{_n}_status_per_proc"),
        ("seed model, reaping", f"s7_seed_reaping_n{_n}_status_per_proc"),
        ("floor", f"scale{_n}_status_per_proc")]))
    SCENARIOS.append((f"7. scale N={_n}: stop_all per process", [
        ("library (C)", f"s7_lib_n{_n}_stop_all_per_proc"),
        ("seed model, reaping", f"s7_seed_reaping_n{_n}_stop_all_per_proc"),
        ("seed model, literal", f"s7_seed_literal_n{_n}_stop_all_per_proc"),
        ("floor", f"scale{_n}_stopall_per_proc")]))


def seed_of(block: List[tuple], data: Data) -> Optional[float]:
    for label, metric in block:
        if label.startswith("seed model") and "literal" not in label and data.med(metric) is not None:
            return data.med(metric)
    for label, metric in block:
        if label.startswith("seed model") and data.med(metric) is not None:
            return data.med(metric)
    return None


def floor_of(block: List[tuple], data: Data) -> Optional[float]:
    for label, metric in block:
        if label.startswith("floor") and data.med(metric) is not None:
            return data.med(metric)
    return None


def ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    if 0.95 < r < 1.05:  # near-ties (the timer-bound stops): enough digits to see who leads
        return f"{r:.4f}×"
    return f"{r:.3g}×" if r < 1000 else f"{r:,.0f}×"


def main_table(data: Data, daemons: List[dict]) -> List[str]:
    out = ["| scenario | contender | median | min – max | n | seed model ÷ this | this ÷ floor |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for title, block in SCENARIOS:
        seed, flo = seed_of(block, data), floor_of(block, data)
        for label, metric in block:
            m = data.metrics.get(metric)
            if not m or "median" not in m:
                continue
            out.append(f"| {title} | {label} | **{fmt_value(m['median'], m['unit'])}** | "
                       f"{fmt_value(m['min'], m['unit'])} – {fmt_value(m['max'], m['unit'])} | {m['n']} | "
                       f"{ratio(seed, m['median']) if not label.startswith(('seed', 'kernel')) else '—'} | "
                       f"{ratio(m['median'], flo) if not label.startswith(('floor', 'kernel')) else '—'} |")
    for d in daemons:
        for what in ("stop", "start"):
            lib = d.get(f"lib_{what}")
            sd = d.get(f"seed_{what}")
            if not lib:
                continue
            out.append(f"| 8. {d['name']}: {what} | library (Python binding) | **{fmt_time(lib['median'])}** | "
                       f"{fmt_time(lib['min'])} – {fmt_time(lib['max'])} | {lib['n']} | "
                       f"{ratio(sd['median'], lib['median']) if sd else '—'} | — |")
            if sd:
                out.append(f"| 8. {d['name']}: {what} | seed model, literal | **{fmt_time(sd['median'])}** | "
                           f"{fmt_time(sd['min'])} – {fmt_time(sd['max'])} | {sd['n']} | — | — |")
    return out


# The five scenarios issue 7 compares: (title, library C, library Python, supervisord, s6).
PEER_SCENARIOS = [
    ("start, until reported running", "s1_lib_start_window0", "s1_py_start_window0", "peer_sv_start",
     "peer_s6_start"),
    ("stop, exits at once on SIGTERM", "s4_lib_stop_exits_on_term", "s4_py_stop_exits_on_term",
     "peer_sv_stop_exits_on_term", "peer_s6_stop_exits_on_term"),
    ("stop, exits 50 ms after SIGTERM", "s4_lib_stop_exits_50ms_after_term", "s4_py_stop_exits_50ms_after_term",
     "peer_sv_stop_exits_50ms_after_term", "peer_s6_stop_exits_50ms_after_term"),
    ("stop of 20 that ignore SIGTERM, 1 s kill timeout", "s5_lib_stop_all_20_ignterm_timeout1s",
     "s5_py_stop_all_20_ignterm_timeout1s", "peer_sv_stop20_ignterm_timeout1s", "peer_s6_stop20_ignterm_timeout1s"),
    ("status query, per call", "s6_lib_status_child_per_call", "s6_py_status_child_per_call",
     "peer_sv_status_per_call", "peer_s6_status_per_call"),
]


def fmt_fine(us: float) -> str:
    """Like fmt_time, with the extra digits that tell timer-bound near-ties apart (1,003 ms vs
    1,007 ms, 50.4 ms vs 50.36 ms)."""
    if us >= 999.5e3:
        return f"{us / 1e3:,.0f} ms"
    if us >= 9.995e3:
        return f"{us / 1e3:.2f} ms"
    return fmt_time(us)


def peers_section(data: Data, peers: Dict[str, str]) -> List[str]:
    def cell(metric: str, peer: Optional[str] = None) -> str:
        m = data.metrics.get(metric)
        if not m or "median" not in m:
            if peer and peers.get(peer, "").startswith("not measured"):
                return peers[peer]
            return "not measured: no samples (see the job's .stderr)" if peer else "—"
        return f"**{fmt_fine(m['median'])}** ({fmt_fine(m['min'])} – {fmt_fine(m['max'])}, n={m['n']})"

    out = ["## grazr_proc vs the peers (issue 7)", "",
           "The same five scenarios on supervisord and s6, in the same run, with the same static helpers "
           "(`pause` dies on SIGTERM, `termslow 50` exits 50 ms after it, `ignterm` ignores it). "
           "“peer ÷ library” is how many times faster the library is (C / Python binding); above 1× the "
           "library leads. Medians (min – max, n).", "",
           "| scenario | library (C) | library (Python) | supervisord | s6 | supervisord ÷ library | s6 ÷ library "
           "| library leads both |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
    for title, c, py, sv, s6 in PEER_SCENARIOS:
        lc, lp, ms, m6 = (data.med(x) for x in (c, py, sv, s6))

        def lead(v: Optional[float]) -> str:
            if v is None or (ms is None and m6 is None):
                return "—"
            return "yes" if all(p is None or v < p for p in (ms, m6)) else "**no** (see Notes)"
        leads = f"C: {lead(lc)}; Python: {lead(lp)}"
        if ms is None or m6 is None:
            leads += " (a peer was not measured)"
        out.append(f"| {title} | {cell(c)} | {cell(py)} | {cell(sv, 'supervisord')} | {cell(s6, 's6')} | "
                   f"{ratio(ms, lc)} / {ratio(ms, lp)} | {ratio(m6, lc)} / {ratio(m6, lp)} | {leads} |")
    noise = data.med("peer_s6_driver_floor_spawn_true")
    out += ["", "Peers in this run: " + "; ".join(f"{k}: {v}" for k, v in sorted(peers.items())) + ".", ""]
    if noise is not None:
        out += [f"Load check: during the s6 job, one `posix_spawn` + `waitpid` of a static no-op from the bench "
                f"took {fmt_time(noise)} (median). On a quiet machine this is 0.25–0.6 ms; more means something else "
                "was running, and every CLI call of s6 (two per start or stop) paid it too.", ""]
    out += [
            "How each is driven (bench/peers/): the library with `grazr_start_process_ex` (startup window 0), "
            "`grazr_stop_process`, `grazr_stop_all` (20 ids of a service registered with a 1 s timeout) and "
            "`grazr_status`, in-process; supervisord (`startsecs=0`, `stopasgroup`/`killasgroup`, `stopwaitsecs=1` "
            "for the 20) through XML-RPC on its unix socket with `supervisor.xmlrpc.SupervisorTransport` "
            "(`startProcess`, `stopProcess`, `stopProcessGroup`, `getProcessInfo`, each with wait=True); s6 "
            "through its CLI (`s6-svc` then `s6-svwait`, `timeout-kill` = 1000 for the 20, `s6-svstat`), each "
            "call a `posix_spawn` + `waitpid` from Python. Both peers run as children of a child subreaper and "
            "are shut down cleanly at the end; the peers' own figures, variants included, are in the Results "
            "table under scenarios 1, 4a, 4b, 5 and 6a.", "",
            "### Exit-event latency: not measured yet", "",
            "The time from a process's own exit to the manager reporting it needs exit events, which the library "
            "does not have yet: today a caller sees the exit on its next status call (there is no cached "
            "liveness, scenario 6). Until then, the peers' figures from `shared/PEERS.md` (same machine, "
            "2026-11-29, medians of three runs on ext4):", "",
            "| peer | how the exit is seen | own exit → reported |",
            "|---|---|---:|",
            "| supervisord 4.3.0 | passive: its `exited:` log line (stamps truncated to the ms; 3 of 30 "
            "samples waited for its 1 s tick) | 0.33 ms raw, ≈ 0.8 ms true |",
            "| supervisord 4.3.0 | polling `getProcessInfo` | 1.82 ms |",
            "| s6 2.11.3.2 | a waiting `s6-svwait -d` returns | 2.00 ms |",
            "| s6 2.11.3.2 | `supervise/status` says down (inotify) | 1.37 ms (0.69 ms on tmpfs) |",
            "| kernel floor (BASELINE) | TERM → pidfd readable | 0.100 ms |", ""]
    return out


def goals(data: Data, daemons: List[dict]) -> List[tuple]:
    """(goal, measured, PASS/MISS/n.a.)"""
    g = []
    M = data.med

    def add(text: str, measured: str, ok: Optional[bool]) -> None:
        g.append((text, measured, "n/a" if ok is None else ("PASS" if ok else "MISS")))

    def rel(a: Optional[float], b: Optional[float]) -> Optional[float]:
        return None if a is None or b is None else a / b

    r = rel(M("s1_lib_start_window0"), M("s1_ref_posix_spawn_setsid"))
    add("1. start (window 0) ≤ 1.5× posix_spawn of the same command",
        f"{fmt_time(M('s1_lib_start_window0'))} vs {fmt_time(M('s1_ref_posix_spawn_setsid'))} = {r:.2f}×" if r else "—",
        None if r is None else r <= 1.5)
    r = rel(M("s2_lib_start_window0"), M("s2_ref_posix_spawn_setsid"))
    rf = rel(M("s2_ref_fork_exec"), M("s2_ref_posix_spawn_setsid"))
    add("2. start from a 512 MiB host ≤ 2× posix_spawn (fork+exec ≈ 50×)",
        (f"{fmt_time(M('s2_lib_start_window0'))} vs {fmt_time(M('s2_ref_posix_spawn_setsid'))} = {r:.2f}×; "
         f"fork+exec {fmt_time(M('s2_ref_fork_exec'))} = {rf:.0f}×") if r and rf else "—",
        None if r is None else r <= 2.0)
    v = M("s3_lib_start_pidfile_foreground")
    add("3. start with a pid file written at once ≤ 2 ms (seed: 200 ms)",
        f"{fmt_time(v)} (seed {fmt_time(M('s3_seed_literal_start_pidfile'))})", None if v is None else v <= 2000)
    v, s = M("s4_lib_stop_exits_on_term"), M("s4_seed_reaping_stop_exits_on_term")
    add("4a. stop, exits at once on TERM ≤ 0.5 ms", fmt_time(v), None if v is None else v <= 500)
    add("4a. … and ≥ 400× faster than the seed model (reaping)",
        f"{s / v:,.0f}× ({fmt_time(s)} / {fmt_time(v)}); literal model: {fmt_time(M('s4_seed_literal_stop_exits_on_term'))}"
        if v and s else "—", None if not (v and s) else s / v >= 400)
    v = M("s4_lib_stop_exits_50ms_after_term")
    add("4b. stop, exits 50 ms after TERM ≤ 51 ms", fmt_time(v), None if v is None else v <= 51000)
    v = M("s5_lib_stop_all_20_ignterm_timeout1s")
    add("5. stop_all of 20 TERM-ignoring, timeout 1 s ≤ 1.1 s",
        f"{fmt_time(v)} (seed reaping {fmt_time(M('s5_seed_reaping_stop_all_20_ignterm_timeout1s'))}, "
        f"literal {fmt_time(M('s5_seed_literal_stop_all_20_ignterm_timeout1s'))})", None if v is None else v <= 1.1e6)
    v = M("s6_lib_status_child_per_call")
    add("6. status through C, child ≤ 1 µs per call", fmt_time(v), None if v is None else v <= 1.0)
    v = M("s6_lib_status_pidfile_daemon_per_call")
    add("6. status through C, pid-file daemon ≤ 5 µs per call", fmt_time(v), None if v is None else v <= 5.0)
    v, s = M("s6_py_status_pidfile_daemon_per_call"), M("s6_seed_reaping_status_pidfile_per_call")
    add("6. status through Python, pid-file service: faster than the seed model",
        f"{fmt_time(v)} vs {fmt_time(s)}", None if not (v and s) else v < s)
    v, s = M("s6_py_status_child_per_call"), M("s6_seed_reaping_status_child_per_call")
    add("6. status through Python, child: within 1.5× of the seed model",
        f"{fmt_time(v)} vs {fmt_time(s)} = {v / s:.2f}×" if v and s else "—", None if not (v and s) else v <= 1.5 * s)
    c = data.checks.get("c_s6", {})
    if "s6_after_death_child_trials" in c:
        bad = c["s6_after_death_child_read_running"] + c["s6_after_death_daemon_read_running"]
        add("6. no cached liveness: status right after the process died never reads RUNNING",
            f"RUNNING in {c['s6_after_death_child_read_running']} of {c['s6_after_death_child_trials']} child trials, "
            f"{c['s6_after_death_daemon_read_running']} of {c['s6_after_death_daemon_trials']} daemon trials", bad == 0)
    P = lambda k: data.metrics.get(k, {}).get("p25")  # noqa: E731
    a, b = P("s7_lib_n1000_start_0_tracked"), P("s7_lib_n1000_start_n_tracked")
    add("7. start time per process does not grow with N: one more start with 1000 ids tracked ≤ 1.5× "
        "with none tracked (same process; 25th percentiles, as load from elsewhere only adds time)",
        f"p25 {fmt_time(a)} → {fmt_time(b)} = {b / a:.2f}× (medians {fmt_time(M('s7_lib_n1000_start_0_tracked'))} → "
        f"{fmt_time(M('s7_lib_n1000_start_n_tracked'))}); first / last quarter of the 1000 starts "
        f"{fmt_time(M('s7_lib_n1000_start_first_quarter'))} / {fmt_time(M('s7_lib_n1000_start_last_quarter'))}; "
        f"per process over whole runs: N=10 {fmt_time(M('s7_lib_n10_start_per_proc'))}, "
        f"N=100 {fmt_time(M('s7_lib_n100_start_per_proc'))}, N=1000 {fmt_time(M('s7_lib_n1000_start_per_proc'))} "
        f"(floor {fmt_time(M('scale10_start_per_proc'))}, {fmt_time(M('scale100_start_per_proc'))}, "
        f"{fmt_time(M('scale1000_start_per_proc'))})" if a and b else "—",
        None if not (a and b) else b <= 1.5 * a)
    for what in ("status", "stop_all"):
        a, b = M(f"s7_lib_n10_{what}_per_proc"), M(f"s7_lib_n1000_{what}_per_proc")
        add(f"7. {what} time per process does not grow with N (N=1000 ≤ 1.5× N=10)",
            f"N=10 {fmt_time(a)}, N=100 {fmt_time(M(f's7_lib_n100_{what}_per_proc'))}, N=1000 {fmt_time(b)}",
            None if not (a and b) else b <= 1.5 * a)
    v = M("s7_lib_n1000_heap_delta_per_proc")
    add("7. library memory per tracked process ≤ 4 KiB (heap delta / N at N=1000)",
        f"heap {v:.2f} KiB; RSS delta {M('s7_lib_n1000_rss_delta_per_proc'):.2f} KiB" if v is not None else "—",
        None if v is None else v <= 4.0)
    v = M("s7_lib_n1000_fds_per_proc")
    add("7. file descriptors held per process ≤ 1", f"{v:.2f}" if v is not None else "—", None if v is None else v <= 1.0)
    for d in daemons:
        lib, sd = d.get("lib_stop"), d.get("seed_stop")
        if d.get("skipped"):
            add(f"8. {d['name']}: stop faster than the seed model's ≥ 200 ms", f"skipped: {d['skipped']}", None)
        elif lib:
            add(f"8. {d['name']}: stop faster than the seed model's ≥ 200 ms",
                f"{fmt_time(lib['median'])} vs seed {fmt_time(sd['median']) if sd else '—'}", lib["median"] < 200000)
    return g


# ---- the chart -------------------------------------------------------------------------------

def svg_chart(data: Data, daemons: List[dict]) -> str:
    groups = []
    pick = [
        ("1 start", "s1_seed_literal_start", "s1_lib_start_window0", "s1_py_start_window0", "s1_ref_posix_spawn_setsid"),
        ("2 start, 512 MiB host", None, "s2_lib_start_window0", None, "s2_ref_posix_spawn_setsid"),
        ("3 start + pid file", "s3_seed_literal_start_pidfile", "s3_lib_start_pidfile_foreground",
         "s3_py_start_pidfile_foreground", "spawn_posix_spawn_setsid"),
        ("4a stop", "s4_seed_reaping_stop_exits_on_term", "s4_lib_stop_exits_on_term", "s4_py_stop_exits_on_term",
         "stop_term_pidfd_poll_reaped"),
        ("4b stop, 50 ms", "s4_seed_reaping_stop_exits_50ms_after_term", "s4_lib_stop_exits_50ms_after_term",
         "s4_py_stop_exits_50ms_after_term", "stop50_term_pidfd_poll_reaped"),
        ("5 stop_all 20", "s5_seed_reaping_stop_all_20_ignterm_timeout1s", "s5_lib_stop_all_20_ignterm_timeout1s",
         "s5_py_stop_all_20_ignterm_timeout1s", "stop20_ignterm_timeout1s"),
        ("6a status, child", "s6_seed_reaping_status_child_per_call", "s6_lib_status_child_per_call",
         "s6_py_status_child_per_call", "status_waitpid_wnohang_per_call"),
        ("6b status, pid file", "s6_seed_reaping_status_pidfile_per_call", "s6_lib_status_pidfile_daemon_per_call",
         "s6_py_status_pidfile_daemon_per_call", "status_pidfd_poll0_per_call"),
        ("7 stop_all/proc N=10", "s7_seed_reaping_n10_stop_all_per_proc", "s7_lib_n10_stop_all_per_proc", None,
         "scale10_stopall_per_proc"),
        ("7 start/proc N=1000", None, "s7_lib_n1000_start_per_proc", None, "scale1000_start_per_proc"),
    ]
    peer_of = {"1 start": 0, "4a stop": 1, "4b stop, 50 ms": 2, "5 stop_all 20": 3, "6a status, child": 4}
    for label, s, c, p, f in pick:
        sv = s6 = None
        if label in peer_of:
            _, _, _, sv_m, s6_m = PEER_SCENARIOS[peer_of[label]]
            sv, s6 = data.med(sv_m), data.med(s6_m)
        groups.append((label, [data.med(s) if s else None, data.med(c), data.med(p) if p else None,
                               sv, s6, data.med(f) if f else None]))
    for d in daemons:
        if d.get("lib_stop"):
            groups.append((f"8 {d['name']} stop", [d["seed_stop"]["median"] if d.get("seed_stop") else None,
                                                   None, d["lib_stop"]["median"], None, None, None]))
    colors = ["#c0392b", "#2471a3", "#5dade2", "#d68910", "#27ae60", "#7f8c8d"]
    names = ["seed model (reaping variant)", "library (C)", "library (Python)", "supervisord", "s6", "kernel floor"]
    lo, hi = -1, 8  # log10 µs: 0.1 µs .. 100 s
    W, left, top, bar, gap = 1020, 210, 60, 9, 14
    gh = len(names) * bar + gap
    H = top + len(groups) * gh + 60
    x = lambda us: left + (math.log10(max(us, 10 ** lo)) - lo) / (hi - lo) * (W - left - 30)  # noqa: E731
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{left}" y="22" font-size="15" font-weight="bold">grazr_proc vs the seed model, supervisord, s6 '
         f'and the kernel floor (median, log scale)</text>']
    for e in range(lo, hi + 1):
        xx = x(10 ** e)
        lab = fmt_time(10 ** e)
        o.append(f'<line x1="{xx:.1f}" y1="{top - 8}" x2="{xx:.1f}" y2="{H - 50}" stroke="#ddd"/>')
        o.append(f'<text x="{xx:.1f}" y="{H - 34}" text-anchor="middle" fill="#555">{lab}</text>')
    for gi, (label, vals) in enumerate(groups):
        y0 = top + gi * gh
        o.append(f'<text x="{left - 8}" y="{y0 + len(names) * bar // 2 + 4}" text-anchor="end">{label}</text>')
        for k, v in enumerate(vals):
            if v is None:
                continue
            y = y0 + k * bar
            o.append(f'<rect x="{left}" y="{y}" width="{x(v) - left:.1f}" height="{bar - 1}" fill="{colors[k]}">'
                     f'<title>{names[k]}: {fmt_time(v)}</title></rect>')
            txt = fmt_fine(v)
            if k in (3, 4) and vals[1]:
                # The peers' bars carry the issue-7 ratio: on a log scale the timer-bound
                # near-ties (4b, 5) are invisible otherwise.
                txt += f"  = {ratio(v, vals[1])} the library (C)"
            o.append(f'<text x="{x(v) + 4:.1f}" y="{y + bar - 1}" font-size="9" fill="#333">{txt}</text>')
    lx = left
    for k, nme in enumerate(names):
        o.append(f'<rect x="{lx}" y="{H - 22}" width="12" height="10" fill="{colors[k]}"/>')
        o.append(f'<text x="{lx + 16}" y="{H - 13}">{nme}</text>')
        lx += 6 * len(nme) + 30
    o.append(f'<text x="{W - 30}" y="42" text-anchor="end" fill="#555">time per operation, log scale; hover a bar for its value</text>')
    o.append("</svg>")
    return "\n".join(o) + "\n"


def write_report(mode: str, data: Data, daemons: List[dict], meta: dict, leftovers: List[dict],
                 failures: List[str], out_md: Path, out_svg: Path) -> List[tuple]:
    g = goals(data, daemons)
    lines = [f"# grazr_proc benchmarks ({mode} run)", "",
             f"Generated by `bench/run.py --mode {mode}` (`make -C bench {'bench' if mode == 'full' else 'bench-quick'}`) "
             f"on {meta['date']} (machine clock); {meta['machine']}. Wall time of the run: {meta['elapsed']:.0f} s. "
             f"Python side: the `{meta['py_backend']}` backend. Library: {meta.get('library', 'unknown')}.", "",
             "Every number is a real start, stop or status of a real process (static helpers in `bench/helpers/`, "
             "the same binaries for every contender). Medians; min – max; n samples. "
             "The peers supervisord and s6 run the same scenarios in the same run (section “grazr_proc vs the peers”). "
             "“seed model ÷ this” is how many times faster than the seed model (its reaping variant where both exist); "
             "“this ÷ floor” is the overhead over the raw kernel calls.", "",
             "![chart](" + out_svg.name + ")", "", "## Goals (issue 5)", "", "| goal | measured | result |", "|---|---|---|"]
    lines += [f"| {a} | {b} | **{c}** |" for a, b, c in g]
    lines += [""] + peers_section(data, meta.get("peers", {}))
    lines += ["## Results", ""] + main_table(data, daemons)
    s7 = []
    for size in (10, 100, 1000):
        row = [data.metrics.get(f"s7_lib_n{size}_{k}") for k in
               ("peak_rss_before_stop_all", "peak_rss", "rss_delta_per_proc", "heap_delta_per_proc", "fds_per_proc",
                "stop_all_total", "start_0_tracked", "start_n_tracked")]
        if row[1]:
            cell = lambda m, f: f(m["median"]) if m else "—"  # noqa: E731
            # VmHWM only grows, so round 0 (the smallest value) is the one before any stop_all.
            before = {"median": row[0]["min"]} if row[0] else None
            s7.append(f"| {size} | {cell(before, lambda v: f'{v:.0f} KiB')} | {cell(row[1], lambda v: f'{v:.0f} KiB')} | "
                      f"{cell(row[2], lambda v: f'{v:.2f} KiB')} | {cell(row[3], lambda v: f'{v:.2f} KiB')} | "
                      f"{cell(row[4], lambda v: f'{v:.2f}')} | {cell(row[5], fmt_time)} | "
                      f"{cell(row[6], fmt_time)} / {cell(row[7], fmt_time)} |")
    if s7:
        lines += ["", "### Scenario 7: memory and descriptors (library through C)", "",
                  "Peak RSS is the driver's VmHWM (it holds nothing but the library). "
                  "“RSS delta” and “heap delta” are measured across the N starts; heap is glibc's "
                  "in-use bytes, so it counts exactly what the library allocated per tracked id.", "",
                  "| N | peak RSS before stop_all | peak RSS after stop_all | RSS delta / N | heap delta / N | fds / N | "
                  "stop_all total | one more start with 0 / N tracked (median) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"] + s7
    lines += ["", "## Run", "", f"- jobs: {meta['jobs']} ({len(failures)} failed{': ' + ', '.join(failures) if failures else ''})",
              f"- RLIMIT_NOFILE raised to {meta['nofile']} for the run (soft = hard)",
              f"- load average before / after: {meta['load_before']} / {meta['load_after']}",
              f"- leftover processes after the run: **{len(leftovers)}**"
              + ("".join(f"\n  - pid {p['pid']} `{p['cmd']}` ({p['why']})" for p in leftovers)),
              "- raw samples: `bench/results/" + mode + "/*.json`", ""]
    if meta.get("notes"):
        lines += ["## Notes", ""] + meta["notes"] + [""]
    out_md.write_text("\n".join(lines))
    out_svg.write_text(svg_chart(data, daemons))
    return g


def report_only(mode: str) -> int:
    resdir = HERE / "results" / mode
    meta = json.loads((resdir / "meta.json").read_text())
    data, daemons = Data(), []
    for f in sorted(resdir.glob("*.json")):
        if f.name == "meta.json":
            continue
        doc = json.loads(f.read_text())
        if f.stem == "daemons_s8":
            daemons = doc.get("daemons", [])
        else:
            data.add(f.stem, doc)
    notes_file = HERE / "NOTES.md"
    meta["notes"] = notes_file.read_text().rstrip().splitlines() if notes_file.exists() else []
    out_md, out_svg = (HERE / "REPORT.md", HERE / "report.svg") if mode == "full" else \
        (resdir / "REPORT.md", resdir / "report.svg")
    for a, b, c in write_report(mode, data, daemons, meta, meta["leftovers"], meta["failures"], out_md, out_svg):
        print(f"  {c:5} {a}: {b}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("full", "quick"), default="quick")
    ap.add_argument("--only", help="comma-separated job names (for debugging)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from results/MODE/*.json without running anything")
    args = ap.parse_args()
    if args.report_only:
        return report_only(args.mode)
    started = time.monotonic()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    make_subreaper()
    tmp = tempfile.mkdtemp(prefix="grazr-bench-")
    os.chmod(tmp, 0o755)
    bindir = os.path.join(tmp, "bin")
    os.mkdir(bindir)
    for h in HELPERS:
        shutil.copy2(BUILD / h, bindir)
    resdir = HERE / "results" / args.mode
    resdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRAZR_PROC_LIB", str(ROOT / "target/release/libgrazr_proc.so"))
    data, failures, daemons = Data(), [], []
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "load_before": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
            "machine": f"{os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}",
            "nofile": hard, "py_backend": "?", "notes": []}
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src", "Cargo.toml", "build.rs"],
                               capture_output=True, text=True).stdout.strip()
        meta["library"] = f"`{head}`" + (" plus uncommitted changes in src/" if dirty else "")
    except OSError:
        meta["library"] = "unknown"
    # A library built elsewhere (make ROOT=DIR, e.g. a `git archive` of a commit while src/ is
    # being edited) says what it is; the work tree's git state would not describe it.
    if os.environ.get("GRAZR_BENCH_LIBRARY"):
        meta["library"] = os.environ["GRAZR_BENCH_LIBRARY"]
    todo = jobs(args.mode)
    if args.only:
        keep = set(args.only.split(","))
        todo = [j for j in todo if j["name"] in keep]
    meta["jobs"] = len(todo)
    peers = peer_status()
    meta["peers"] = {}
    try:
        for j in todo:
            argv = [a.replace("{bin}", bindir).replace("{tmp}", tmp) for a in j["argv"]]
            if argv[0].startswith("{peer:"):
                peer = argv[0][6:-1]
                if "missing" in peers[peer]:
                    meta["peers"][peer] = "not measured: " + peers[peer]["missing"]
                    print(f"[{time.monotonic() - started:6.1f}s] {j['name']}: {meta['peers'][peer]}", flush=True)
                    # House rule: a missing tool is a skip, and under CI a failure.
                    if os.environ.get("CI") == "true":
                        failures.append(j["name"])
                    continue
                argv[0] = peers[peer]["python"]
            t0 = time.monotonic()
            print(f"[{time.monotonic() - started:6.1f}s] {j['name']} ...", flush=True)
            try:
                p = subprocess.run(argv, capture_output=True, text=True, timeout=j["timeout"])
                (resdir / f"{j['name']}.stderr").write_text(p.stderr)
                doc = json.loads(p.stdout) if p.stdout.strip() else None
                if j["name"].startswith("peer_"):
                    peer = j["name"][5:]
                    if p.returncode == 3 and doc is None:  # the bench found its peer unusable
                        meta["peers"][peer] = "not measured: " + (p.stderr.strip().splitlines() or ["?"])[-1]
                    elif doc:
                        c = doc.get("checks", {})
                        meta["peers"][peer] = f"{peer} {c.get('version', '?')}" + (
                            f" on Python {c['python']}" if c.get("python") else "") + (
                            "; errors: " + "; ".join(c["errors"]) if c.get("errors") else "")
                if p.returncode != 0 or doc is None:
                    failures.append(j["name"])
                    print(f"    FAILED rc={p.returncode}: {p.stderr.strip()[-600:]}", flush=True)
                if doc:
                    (resdir / f"{j['name']}.json").write_text(json.dumps(doc, indent=1))
                    if j["name"] == "daemons_s8":
                        daemons = doc.get("daemons", [])
                    else:
                        data.add(j["name"], doc)
                    if doc.get("checks", {}).get("backend"):
                        meta["py_backend"] = doc["checks"]["backend"]
            except subprocess.TimeoutExpired:
                failures.append(j["name"])
                print(f"    TIMEOUT after {j['timeout']} s", flush=True)
            reap_orphans()
            print(f"    {time.monotonic() - t0:.1f}s", flush=True)
    finally:
        reap_orphans()
        leftovers = scan_leftovers(tmp)
        if leftovers:
            print("LEFTOVER PROCESSES:", flush=True)
            for lp in leftovers:
                print(f"  pid {lp['pid']} {lp['cmd']} ({lp['why']})", flush=True)
            kill_leftovers(leftovers)
        meta["elapsed"] = time.monotonic() - started
        meta["load_after"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if args.mode == "full":
            out_md, out_svg = HERE / "REPORT.md", HERE / "report.svg"
        else:
            out_md, out_svg = resdir / "REPORT.md", resdir / "report.svg"
        notes_file = HERE / "NOTES.md"
        if notes_file.exists():
            meta["notes"] = notes_file.read_text().rstrip().splitlines()
        meta["failures"], meta["leftovers"] = failures, leftovers
        (resdir / "meta.json").write_text(json.dumps(meta, indent=1))
        g = write_report(args.mode, data, daemons, meta, leftovers, failures, out_md, out_svg)
        shutil.rmtree(tmp, ignore_errors=True)
    for a, b, c in g:
        print(f"  {c:5} {a}: {b}")
    print(f"report: {out_md}; {len(failures)} failed jobs; {len(leftovers)} leftovers; {meta['elapsed']:.0f} s")
    return 1 if failures or leftovers else 0


if __name__ == "__main__":
    sys.exit(main())
