#!/usr/bin/env python3
"""Scenario 8: real daemons (nginx, redis, php-fpm, MariaDB, PostgreSQL, where installed) started
and stopped through the library's Python binding, and through the seed model, on 127.0.0.1 high
ports in a temp dir. Prints JSON: {"tool": "daemons", "daemons": [...], "checks": {...}}.

  daemons.py --tmp DIR [--samples N] [--seed-samples N] [--only nginx,redis]

Recipes follow GRAZR_CLIENT.md section 5. PostgreSQL refuses to run as root, so it runs as
nobody through `setpriv`, which execs, so the spawned PID is the postmaster's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from py_binding import backend  # noqa: E402
from seed_model import SeedModel  # noqa: E402

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def stats(values: List[float]) -> Optional[dict]:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": [round(v, 1) for v in values]}


class Daemon:
    """argv, pid file, graceful signal and a readiness port for one service in its own dir."""

    def __init__(self, name: str, argv: List[str], pid_file: str, sig: int, port: int, cwd: str,
                 env: Optional[Dict[str, str]] = None, timeout: float = 10.0) -> None:
        self.name, self.argv, self.pid_file, self.sig, self.port = name, argv, pid_file, sig, port
        self.cwd, self.env, self.timeout = cwd, env, timeout


def setup_nginx(d: Path) -> Daemon:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(exe, os.X_OK):
        raise FileNotFoundError("nginx is not installed")
    port = free_port()
    for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / "nginx.conf").write_text(f"""worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log;
  client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "nginx ok\\n"; }} }}
}}
""")
    argv = [exe, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "error.log"), "-g", "daemon off;"]
    subprocess.run(argv[:-2] + ["-t"], check=True, capture_output=True)
    return Daemon("nginx", argv, str(d / "nginx.pid"), signal.SIGQUIT, port, str(d))


def setup_redis(d: Path) -> Daemon:
    exe = shutil.which("redis-server")
    if not exe:
        raise FileNotFoundError("redis-server is not installed")
    port = free_port()
    argv = [exe, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "no", "--pidfile", str(d / "redis.pid"),
            "--dir", str(d), "--logfile", str(d / "redis.log"), "--save", "", "--appendonly", "no"]
    return Daemon("redis", argv, str(d / "redis.pid"), signal.SIGTERM, port, str(d))


def setup_php_fpm(d: Path) -> Daemon:
    exe = next((shutil.which(n) for n in ("php-fpm8.2", "php-fpm8.3", "php-fpm8.1", "php-fpm") if shutil.which(n)), None)
    if not exe:
        raise FileNotFoundError("php-fpm is not installed")
    port = free_port()
    (d / "php-fpm.conf").write_text(f"""[global]
pid = {d}/php-fpm.pid
error_log = {d}/php-fpm.log
daemonize = no
[www]
user = nobody
group = nogroup
listen = 127.0.0.1:{port}
pm = static
pm.max_children = 2
""")
    argv = [exe, "--nodaemonize", "-n", "--fpm-config", str(d / "php-fpm.conf"), "--prefix", str(d)]
    return Daemon("php-fpm", argv, str(d / "php-fpm.pid"), signal.SIGQUIT, port, str(d))


def setup_mariadb(d: Path) -> Daemon:
    exe = shutil.which("mariadbd") or shutil.which("mysqld")
    install = shutil.which("mariadb-install-db")
    if not exe or not install:
        raise FileNotFoundError("mariadbd / mariadb-install-db are not installed")
    if not shutil.which("my_print_defaults"):
        raise FileNotFoundError("my_print_defaults (mariadb-client-core) is not installed")
    port = free_port()
    data = d / "data"
    (d / "my.cnf").write_text(f"""[mysqld]
datadir={data}
socket={d}/mysqld.sock
pid-file={d}/mysqld.pid
port={port}
bind-address=127.0.0.1
log-error={d}/error.log
innodb_buffer_pool_size=32M
skip-name-resolve
""")
    env = dict(os.environ, HOME=str(d))
    subprocess.run([install, "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
                    "--skip-test-db", "--user=root"], check=True, capture_output=True, env=env, cwd=str(d), timeout=120)
    argv = [exe, f"--defaults-file={d}/my.cnf", "--user=root"]
    return Daemon("mariadb", argv, str(d / "mysqld.pid"), signal.SIGTERM, port, str(d), timeout=20)


def setup_postgres(d: Path) -> Daemon:
    bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bindir or not (bindir[-1] / "postgres").exists():
        raise FileNotFoundError("postgresql is not installed")
    if not shutil.which("setpriv"):
        raise FileNotFoundError("setpriv is not installed (postgres refuses to run as root)")
    bindir = bindir[-1]
    port = free_port()
    data, sock = d / "data", d / "sock"
    sock.mkdir()
    for p in (d, sock):
        os.chown(p, 65534, 65534)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(d)}
    subprocess.run(NOBODY + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
                   check=True, capture_output=True, env=env, cwd=str(d), timeout=120)
    argv = NOBODY + [str(bindir / "postgres"), "-D", str(data), "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1",
                     "-c", f"unix_socket_directories={sock}", "-c", "logging_collector=off"]
    return Daemon("postgres", argv, str(data / "postmaster.pid"), signal.SIGINT, port, str(d), env=env, timeout=30)


SETUPS: Dict[str, Callable[[Path], Daemon]] = {
    "nginx": setup_nginx, "redis": setup_redis, "php-fpm": setup_php_fpm,
    "mariadb": setup_mariadb, "postgres": setup_postgres,
}


def measure(dm: Daemon, g, samples: int, seed_samples: int, tmp: str) -> dict:
    out: dict = {"name": dm.name}
    lib_start, lib_stop, seed_start, seed_stop = [], [], [], []
    pid_id = f"bench-{dm.name}"
    for _ in range(samples):
        t0 = time.perf_counter_ns()
        g.start(pid_id, dm.argv, pid_file=dm.pid_file, log=os.path.join(dm.cwd, "lib.log"), env=dm.env, cwd=dm.cwd)
        lib_start.append((time.perf_counter_ns() - t0) / 1000)
        if not wait_port(dm.port):
            raise RuntimeError(f"{dm.name} did not listen on {dm.port}")
        time.sleep(0.05)
        t0 = time.perf_counter_ns()
        g.stop(pid_id, dm.sig, dm.timeout)
        lib_stop.append((time.perf_counter_ns() - t0) / 1000)
        if os.path.exists(dm.pid_file):
            raise RuntimeError(f"{dm.name}: pid file left after the library's stop")
    model = SeedModel(reap=False, tmp=tmp)
    seed_ok = []
    try:
        for _ in range(seed_samples):
            t0 = time.perf_counter_ns()
            model.start_process(f"seed-{dm.name}", dm.argv, pid_file_path=dm.pid_file, working_dir=dm.cwd,
                                env=dm.env, log_file_path=os.path.join(dm.cwd, "seed.log"))
            seed_start.append((time.perf_counter_ns() - t0) / 1000)
            if not wait_port(dm.port):
                raise RuntimeError(f"{dm.name} (seed model) did not listen on {dm.port}")
            time.sleep(0.05)
            t0 = time.perf_counter_ns()
            seed_ok.append(model.stop_process(f"seed-{dm.name}", dm.sig, dm.timeout))
            seed_stop.append((time.perf_counter_ns() - t0) / 1000)
            # The seed never reaps after a stop; wait for the exit so the next start can bind.
            for info in list(model.running_processes.values()):
                if info.get("process") is not None:
                    info["process"].wait(timeout=dm.timeout)
            model.force_cleanup()
            time.sleep(0.05)
    finally:
        model.force_cleanup()
    out.update(lib_start=stats(lib_start), lib_stop=stats(lib_stop), seed_start=stats(seed_start),
               seed_stop=stats(seed_stop), seed_stop_returned=seed_ok)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--seed-samples", type=int, default=2)
    ap.add_argument("--only", default=",".join(SETUPS))
    args = ap.parse_args()
    g = backend()
    strict = os.environ.get("CI") == "true"
    results, failed = [], 0
    root = Path(args.tmp) / "daemons"
    root.mkdir(exist_ok=True)
    os.chmod(root, 0o755)
    for name in args.only.split(","):
        d = root / name
        d.mkdir()
        try:
            dm = SETUPS[name](d)
        except (FileNotFoundError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
            if isinstance(exc, subprocess.CalledProcessError):
                reason += ": " + (exc.stderr or b"").decode(errors="replace")[-300:]
            print(f"SKIPPED {name}: {reason}", file=sys.stderr)
            results.append({"name": name, "skipped": reason[:200]})
            failed += strict
            continue
        try:
            results.append(measure(dm, g, args.samples, args.seed_samples, args.tmp))
        except Exception as exc:  # report and go on with the next daemon
            print(f"FAILED {name}: {exc!r}", file=sys.stderr)
            results.append({"name": name, "skipped": f"failed: {exc!r}"[:200]})
            failed += 1
        finally:
            try:
                g.stop_all()
            except Exception as exc:
                print(f"stop_all after {name}: {exc!r}", file=sys.stderr)
    json.dump({"tool": "daemons", "scenario": "s8", "daemons": results, "checks": {"backend": g.name}}, sys.stdout)
    sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
