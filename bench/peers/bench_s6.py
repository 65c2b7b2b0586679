#!/usr/bin/env python3
"""s6 (Debian's package) on the bench's five peer scenarios: s6-svscan on a scan dir in the
temp dir, driven with s6-svc + s6-svwait, timeout-kill for the TERM-ignoring case, s6-svstat
for status. Every CLI call is a posix_spawn + waitpid from Python, which is what a program that
drives s6 pays.

  bench_s6.py --bin DIR --tmp DIR [--samples N] [--samples50 N] [--samples20 N] [--calls N]

./run is a symlink to the static helper, so no shell runs, except for termslow: s6-supervise
runs `./run <servicename>`, and termslow would read its delay from the service name
(atol("termslow") = 0 ms), so its ./run is a `#!/bin/sh` exec wrapper. Every service dir has a
`down` file, so nothing starts until asked. s6-svscan is our child; we are a child subreaper.
At the end: every service down, s6-svscanctl -t, wait for its PID and for every s6-supervise,
then the leftover scan (any hit fails the run)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peerlib  # noqa: E402
from peerlib import now, run, run_blocking  # noqa: E402

N_IGN = 20


def make_scan(scan: Path, bindir: str) -> None:
    def service(name: str, target: str, script: bool = False, kill_ms: int = 0) -> None:
        d = scan / name
        d.mkdir(parents=True)
        (d / "down").write_text("")
        if script:
            (d / "run").write_text(f"#!/bin/sh\nexec {target}\n")
            os.chmod(d / "run", 0o755)
        else:
            os.symlink(target, d / "run")
        if kill_ms:
            (d / "timeout-kill").write_text(f"{kill_ms}\n")

    service("pause", f"{bindir}/pause")
    service("termslow", f"{bindir}/termslow 50", script=True)
    for i in range(1, N_IGN + 1):
        service(f"ign{i:02d}", f"{bindir}/ignterm", kill_ms=1000)


def svstat_pid(d: str) -> int:
    r = subprocess.run(["s6-svstat", "-p", d], capture_output=True, text=True)
    try:
        return int(r.stdout.strip())
    except ValueError:
        return -1


def main() -> int:
    a = peerlib.parse_args(calls=300)
    out = peerlib.Out("bench_s6")
    for tool in ("s6-svscan", "s6-svc", "s6-svwait", "s6-svstat", "s6-svscanctl", "s6-svok"):
        if not any(os.access(os.path.join(p, tool), os.X_OK) for p in os.environ.get("PATH", "").split(":")):
            print(f"bench_s6: {tool} not found", file=sys.stderr)
            return 3
    peerlib.make_subreaper()
    tmp = Path(a.tmp) / "s6"
    scan = tmp / "scan"
    make_scan(scan, a.bin)
    try:
        out.checks["version"] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "s6"], capture_output=True,
                                               text=True).stdout.strip() or "unknown"
    except OSError:
        out.checks["version"] = "unknown"
    svcs = ["pause", "termslow"] + [f"ign{i:02d}" for i in range(1, N_IGN + 1)]
    dirs = {s: str(scan / s) for s in svcs}
    seen_pids: list = []
    log = os.open(tmp / "s6-svscan.log", os.O_WRONLY | os.O_CREAT, 0o644)
    scan_pid = os.posix_spawnp("s6-svscan", ["s6-svscan", str(scan)], {"PATH": os.environ["PATH"]},
                               file_actions=[(os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2)])
    os.close(log)
    seen_pids.append(scan_pid)
    clean = False
    try:
        deadline = time.monotonic() + 10
        while not all(run(["s6-svok", d]) == 0 for d in dirs.values()):
            if time.monotonic() > deadline:
                out.fail("s6-svscan did not bring up its s6-supervise processes")
                return out.emit()
            time.sleep(0.02)
        # The driver's own cost of one CLI call: posix_spawn of a static no-op and waitpid.
        for _ in range(a.samples):
            t0 = now()
            run_blocking([f"{a.bin}/true"])
            out.rec_ns("peer_s6_driver_floor_spawn_true", now() - t0)
        scenarios(a, dirs, out, seen_pids)
        # Clean shutdown: every service down, then s6-svscan stops its supervisors and exits.
        for d in dirs.values():
            run(["s6-svc", "-d", d])
        if run(["s6-svwait", "-t", "5000", "-d", "-a"] + list(dirs.values())) != 0:
            out.fail("services not down before the shutdown")
        run(["s6-svscanctl", "-t", str(scan)])
        code = peerlib.wait_pid(scan_pid, 15)
        out.checks["s6_svscan_exit"] = code
        clean = code is not None
        if not clean:
            out.fail("s6-svscan did not exit within 15 s of s6-svscanctl -t")
    except Exception as e:  # noqa: BLE001 - any failure is reported in the JSON and fails the job
        out.fail(f"{type(e).__name__}: {e}")
    finally:
        # The s6-supervise processes exit after s6-svscan and come back to us, the subreaper.
        peerlib.finish(out, str(tmp), seen_pids, scan_pid, clean)
    return out.emit()


def scenarios(a, dirs: dict, out: peerlib.Out, seen_pids: list) -> None:
    p = dirs["pause"]
    # 1. start until reported running: s6-svc -u, then s6-svwait -u (both timed).
    for _ in range(a.samples):
        t0 = now()
        rc1 = run_blocking(["s6-svc", "-u", p])
        rc2 = run_blocking(["s6-svwait", "-u", p])
        dt = now() - t0
        if rc1 or rc2:
            out.fail(f"start: s6-svc {rc1}, s6-svwait {rc2}")
        out.rec_ns("peer_s6_start", dt)
        seen_pids.append(svstat_pid(p))
        time.sleep(0.01)
        run(["s6-svc", "-d", p])
        run(["s6-svwait", "-d", p])
        time.sleep(0.01)

    # 4a. stop of a process that dies at once on SIGTERM: s6-svc -d, then s6-svwait -d.
    for _ in range(a.samples):
        run(["s6-svc", "-u", p])
        run(["s6-svwait", "-u", p])
        seen_pids.append(svstat_pid(p))
        time.sleep(0.01)
        t0 = now()
        rc1 = run_blocking(["s6-svc", "-d", p])
        rc2 = run_blocking(["s6-svwait", "-d", p])
        dt = now() - t0
        if rc1 or rc2:
            out.fail(f"stop: s6-svc {rc1}, s6-svwait {rc2}")
        out.rec_ns("peer_s6_stop_exits_on_term", dt)
        time.sleep(0.01)

    # 4b. stop of one that exits 50 ms after SIGTERM.
    t = dirs["termslow"]
    for _ in range(a.samples50):
        run(["s6-svc", "-u", t])
        run(["s6-svwait", "-u", t])
        seen_pids.append(svstat_pid(t))
        time.sleep(0.02)  # the shell execs termslow, which installs its TERM handler
        t0 = now()
        run_blocking(["s6-svc", "-d", t])
        run_blocking(["s6-svwait", "-d", t])
        dt = now() - t0
        if dt < 50e6:
            out.fail(f"termslow stopped in {dt / 1e6:.1f} ms < 50 ms: the helper did not get its delay")
        out.rec_ns("peer_s6_stop_exits_50ms_after_term", dt)
        time.sleep(0.01)

    # 5. stop of 20 TERM-ignoring processes, timeout-kill 1000 ms: 20 s6-svc -d (s6-svc takes
    # one service dir), then one s6-svwait -d -a over all 20.
    ign = [dirs[f"ign{i:02d}"] for i in range(1, N_IGN + 1)]
    for _ in range(a.samples20):
        for d in ign:
            run(["s6-svc", "-u", d])
        run(["s6-svwait", "-u", "-a"] + ign)
        pids = []
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            pids = [svstat_pid(d) for d in ign]
            if all(pid > 0 and peerlib.ignores_term(pid) for pid in pids):
                break
            time.sleep(0.005)
        seen_pids.extend(pids)
        ignoring = sum(pid > 0 and peerlib.ignores_term(pid) for pid in pids)
        if ignoring != N_IGN:
            out.fail(f"only {ignoring} of {N_IGN} ign services ignore SIGTERM")
        t0 = now()
        for d in ign:
            run_blocking(["s6-svc", "-d", d])
        t1 = now()
        rc = run_blocking(["s6-svwait", "-d", "-a"] + ign)
        dt = now() - t0
        if rc:
            out.fail(f"s6-svwait -d -a exited {rc}")
        if any(peerlib.ignores_term(pid) for pid in pids):
            out.fail("an ign process is still alive after s6-svwait -d -a")
        out.rec_ns("peer_s6_stop20_ignterm_timeout1s", dt)
        out.rec_ns("peer_s6_stop20_svc_d_loop_part", t1 - t0)
        time.sleep(0.05)

    # 6. status query per call, on a running service: s6-svstat, and the in-process read of
    # supervise/status that a program embedding s6 could do instead.
    run(["s6-svc", "-u", p])
    run(["s6-svwait", "-u", p])
    seen_pids.append(svstat_pid(p))
    time.sleep(0.01)
    for _ in range(a.calls):
        t0 = now()
        rc = run_blocking(["s6-svstat", p])
        dt = now() - t0
        if rc:
            out.fail(f"s6-svstat exited {rc}")
            break
        out.rec_ns("peer_s6_status_per_call", dt)
    status = os.path.join(p, "supervise", "status")
    for _ in range(max(3, a.calls // 100)):
        batch = 2000
        t0 = now()
        for _ in range(batch):
            with open(status, "rb") as f:
                f.read()
        out.rec_ns("peer_s6_status_file_read_python_per_call", (now() - t0) // batch)
    run(["s6-svc", "-d", p])
    run(["s6-svwait", "-d", p])


if __name__ == "__main__":
    sys.exit(main())
