#!/usr/bin/env python3
"""supervisord 4.3.0 on the bench's five peer scenarios, driven through its XML-RPC interface
over its unix socket (supervisor.xmlrpc.SupervisorTransport, the transport supervisorctl uses),
not through the CLI. Runs under the venv's Python (bench/.venvs/supervisor, from setup.sh).

  bench_supervisord.py --bin DIR --tmp DIR [--samples N] [--samples50 N] [--samples20 N] [--calls N]

supervisord runs in the foreground as our child; we are a child subreaper. At the end:
stopAllProcesses + supervisor.shutdown, wait for its PID, then the leftover scan (any hit fails
the run). JSON on stdout, as the bench's other tools print it."""

from __future__ import annotations

import os
import sys
import time
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peerlib  # noqa: E402
from peerlib import now  # noqa: E402

try:
    import supervisor
    from importlib.metadata import version as _version
    from supervisor.xmlrpc import SupervisorTransport
except ImportError as e:  # run.py reports the peer as not measured
    print(f"bench_supervisord: supervisor is not importable: {e}", file=sys.stderr)
    sys.exit(3)

N_IGN = 20


def config(tmp: Path, bindir: str) -> str:
    # startsecs=0: RUNNING as soon as it is spawned, like the library with window 0 and the
    # other peers. stopasgroup/killasgroup: the library signals the process group too.
    common = "autostart=false\nautorestart=false\nstartsecs=0\nstopasgroup=true\nkillasgroup=true\n"
    user = "user=root\n" if os.geteuid() == 0 else ""
    out = [f"""[unix_http_server]
file={tmp}/supervisor.sock

[supervisord]
nodaemon=true
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}/childlogs
loglevel=info
{user}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:pause]
command={bindir}/pause
{common}
[program:termslow]
command={bindir}/termslow 50
{common}"""]
    for i in range(1, N_IGN + 1):
        # stopwaitsecs=1: SIGKILL 1 s after SIGTERM, the library's timeout in this scenario.
        out.append(f"[program:ign{i:02d}]\ncommand={bindir}/ignterm\n{common}stopwaitsecs=1\n")
    out.append("[group:ign]\nprograms=" + ",".join(f"ign{i:02d}" for i in range(1, N_IGN + 1)) + "\n")
    return "\n".join(out)


def main() -> int:
    a = peerlib.parse_args(calls=1000)
    out = peerlib.Out("bench_supervisord")
    peerlib.make_subreaper()
    tmp = Path(a.tmp) / "supervisord"
    (tmp / "childlogs").mkdir(parents=True)
    conf = tmp / "supervisord.conf"
    conf.write_text(config(tmp, a.bin))
    out.checks["version"] = _version("supervisor")
    out.checks["python"] = sys.version.split()[0]
    out.checks["config"] = str(conf)
    seen_pids: list = []
    log = os.open(tmp / "supervisord.stdout", os.O_WRONLY | os.O_CREAT, 0o644)
    sd_pid = os.posix_spawn(sys.executable, [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf)],
                            dict(os.environ), file_actions=[(os.POSIX_SPAWN_DUP2, log, 1),
                                                            (os.POSIX_SPAWN_DUP2, log, 2)])
    os.close(log)
    seen_pids.append(sd_pid)
    def proxy():
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(
            None, None, f"unix://{tmp}/supervisor.sock")).supervisor

    clean = False
    try:
        deadline = time.monotonic() + 15
        while True:
            # A refused connect leaves the transport's HTTP connection half-used: a new proxy
            # per attempt until supervisord answers.
            sv = proxy()
            try:
                if sv.getState()["statename"] == "RUNNING":
                    break
            except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
                pass
            if time.monotonic() > deadline or os.waitpid(sd_pid, os.WNOHANG)[0] == sd_pid:
                out.fail("supervisord did not come up; see " + str(tmp / "supervisord.stdout"))
                return out.emit()
            time.sleep(0.02)
        scenarios(a, sv, out, seen_pids)
        # Clean shutdown: stop everything, ask supervisord to exit, wait for its PID.
        sv.stopAllProcesses(True)
        rpc_shutdown = sv.shutdown()
        out.checks["shutdown_accepted"] = rpc_shutdown
        code = peerlib.wait_pid(sd_pid, 20)
        clean = code is not None
        if not clean:
            out.fail("supervisord did not exit within 20 s of supervisor.shutdown()")
        out.checks["supervisord_exit"] = code
    except Exception as e:  # noqa: BLE001 - any failure is reported in the JSON and fails the job
        out.fail(f"{type(e).__name__}: {e}")
    finally:
        peerlib.finish(out, str(tmp), seen_pids, sd_pid, clean)
    return out.emit()


def scenarios(a, sv, out: peerlib.Out, seen_pids: list) -> None:
    # 1. start until reported running: startProcess(wait=True) returns once RUNNING.
    for _ in range(a.samples):
        t0 = now()
        ok = sv.startProcess("pause", True)
        dt = now() - t0
        if ok is not True:
            out.fail(f"startProcess(pause) returned {ok!r}")
        out.rec_ns("peer_sv_start", dt)
        seen_pids.append(sv.getProcessInfo("pause")["pid"])
        time.sleep(0.01)
        sv.stopProcess("pause", True)
        time.sleep(0.01)

    # 4a. stop of a process that dies at once on SIGTERM.
    for _ in range(a.samples):
        sv.startProcess("pause", True)
        seen_pids.append(sv.getProcessInfo("pause")["pid"])
        time.sleep(0.01)
        t0 = now()
        ok = sv.stopProcess("pause", True)
        dt = now() - t0
        if ok is not True or sv.getProcessInfo("pause")["statename"] != "STOPPED":
            out.fail("stopProcess(pause) did not leave it STOPPED")
        out.rec_ns("peer_sv_stop_exits_on_term", dt)

    # 4b. stop of one that exits 50 ms after SIGTERM.
    for _ in range(a.samples50):
        sv.startProcess("termslow", True)
        seen_pids.append(sv.getProcessInfo("termslow")["pid"])
        time.sleep(0.02)  # time to install its TERM handler
        t0 = now()
        sv.stopProcess("termslow", True)
        dt = now() - t0
        if dt < 50e6:
            out.fail(f"termslow stopped in {dt / 1e6:.1f} ms < 50 ms: the helper did not get its delay")
        out.rec_ns("peer_sv_stop_exits_50ms_after_term", dt)

    # 5. stop of 20 TERM-ignoring processes, SIGKILL after 1 s (stopwaitsecs=1).
    names = [f"ign{i:02d}" for i in range(1, N_IGN + 1)]
    for _ in range(a.samples20):
        sv.startProcessGroup("ign", True)
        pids = {}
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            pids = {p["name"]: p["pid"] for p in sv.getAllProcessInfo() if p["group"] == "ign"}
            if len(pids) == N_IGN and all(peerlib.ignores_term(p) for p in pids.values()):
                break
            time.sleep(0.005)
        seen_pids.extend(pids.values())
        ignoring = sum(peerlib.ignores_term(p) for p in pids.values())
        if ignoring != N_IGN:
            out.fail(f"only {ignoring} of {N_IGN} ign processes ignore SIGTERM")
        t0 = now()
        sv.stopProcessGroup("ign", True)
        dt = now() - t0
        states = {p["name"]: p["statename"] for p in sv.getAllProcessInfo() if p["group"] == "ign"}
        if any(states[n] != "STOPPED" for n in names):
            out.fail(f"stopProcessGroup left {states}")
        out.rec_ns("peer_sv_stop20_ignterm_timeout1s", dt)
        time.sleep(0.05)

    # 6. status query per call, on a running process.
    sv.startProcess("pause", True)
    seen_pids.append(sv.getProcessInfo("pause")["pid"])
    time.sleep(0.01)
    for _ in range(a.calls):
        t0 = now()
        info = sv.getProcessInfo("pause")
        dt = now() - t0
        if info["statename"] != "RUNNING":
            out.fail(f"getProcessInfo(pause) says {info['statename']}")
            break
        out.rec_ns("peer_sv_status_per_call", dt)
    sv.stopProcess("pause", True)


if __name__ == "__main__":
    sys.exit(main())
