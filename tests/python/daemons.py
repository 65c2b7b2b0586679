"""Real daemons from Debian's packages, laid out the way Grazr lays them out.

Paths follow grazr/core/config.py (CONFIG_DIR/run for pid files, CONFIG_DIR/logs for logs,
PHP's pid file under PHP_CONFIG_DIR/{version}/var/run), rooted in a test's temp dir instead of
~/.config. Configurations follow GRAZR_CLIENT.md section 5: 127.0.0.1 and high ports only.
The commands are the ones Grazr's managers pass to start_process.
"""

from __future__ import annotations

import getpass
import glob
import os
import re
import shutil
import socket
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from conftest import free_port, need, need_program

NOBODY = 65534


def setpriv_nobody() -> List[str]:
    """Postgres refuses to run as root: as root, drop to nobody (setpriv execs, so the spawned
    PID stays the postmaster's); as anyone else, run as that user."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


@dataclass
class GrazrLayout:
    """Grazr's directories (config.py) under a temp root."""

    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "config" / "grazr"

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / "grazr"

    @property
    def run_dir(self) -> Path:
        return self.config_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.config_dir / "logs"

    @property
    def php_config_dir(self) -> Path:
        return self.config_dir / "php"

    def make(self) -> "GrazrLayout":
        for d in (self.config_dir, self.data_dir, self.run_dir, self.log_dir, self.php_config_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self

    # The pid files config.py names.
    @property
    def nginx_pid(self) -> Path:
        return self.run_dir / "nginx.pid"

    @property
    def mysql_pid(self) -> Path:
        return self.run_dir / "mysqld.pid"

    @property
    def redis_pid(self) -> Path:
        return self.run_dir / "redis.pid"

    def php_pid(self, version: str) -> Path:
        return self.php_config_dir / version / "var" / "run" / f"php{version}-fpm.pid"

    def postgres_data(self, instance: str) -> Path:
        return self.data_dir / "postgres_data" / instance


def grazr_config(layout: GrazrLayout, binaries: Optional[Dict[str, str]] = None) -> dict:
    """The names of grazr/core/config.py that the drop-in reads, as a dict."""
    binaries = binaries or {}
    services = {
        "nginx": {"process_id": "internal-nginx", "pid_file": layout.nginx_pid,
                  "binary_path": binaries.get("nginx")},
        "mysql": {"process_id": "internal-mysql", "pid_file": layout.mysql_pid,
                  "binary_path": binaries.get("mysql")},
        "postgres15": {"process_id_template": "internal-postgres-15-{instance_id}",
                       "pid_file_template_name": "INTERNAL_POSTGRES_INSTANCE_PID_TEMPLATE",
                       "binary_name": "postgres", "service_group": "postgres"},
        "redis": {"process_id": "internal-redis", "pid_file": layout.redis_pid,
                  "binary_path": binaries.get("redis")},
        "minio": {"process_id": "internal-minio", "pid_file": layout.run_dir / "minio.pid"},
        "node": {"service_id": "node"},
    }
    return {
        "CONFIG_DIR": layout.config_dir,
        "RUN_DIR": layout.run_dir,
        "LOG_DIR": layout.log_dir,
        "NGINX_PROCESS_ID": "internal-nginx",
        "PHP_FPM_PROCESS_ID_TEMPLATE": "php-fpm-{version}",
        "MYSQL_PROCESS_ID": "internal-mysql",
        "REDIS_PROCESS_ID": "internal-redis",
        "MINIO_PROCESS_ID": "internal-minio",
        "INTERNAL_NGINX_PID_FILE": layout.nginx_pid,
        "INTERNAL_MYSQL_PID_FILE": layout.mysql_pid,
        "INTERNAL_REDIS_PID_FILE": layout.redis_pid,
        "PHP_FPM_PID_TEMPLATE": layout.php_config_dir / "{version}" / "var" / "run" / "php{version}-fpm.pid",
        "INTERNAL_POSTGRES_INSTANCE_PID_TEMPLATE": str(layout.data_dir / "postgres_data" / "{instance_id}" / "postmaster.pid"),
        "AVAILABLE_BUNDLED_SERVICES": services,
    }


# ----------------------------------------------------------------------------- protocol probes


def http_get(port: int, path: str = "/", timeout: float = 3.0) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("latin-1")


def redis_ping(port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).decode("latin-1").strip()


def mysql_greeting(port: int) -> bytes:
    """The server's handshake packet: MySQL protocol 10 starts the payload."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        return s.recv(256)


def postgres_ssl_answer(port: int) -> bytes:
    """Postgres answers an SSLRequest with a single 'S' or 'N'."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(struct.pack("!II", 8, 80877103))
        return s.recv(1)


def fastcgi_php(port: int, script: Path) -> str:
    """Runs ``script`` through php-fpm with a minimal FastCGI request; returns the response."""

    def record(kind: int, content: bytes) -> bytes:
        return struct.pack("!BBHHBx", 1, kind, 1, len(content), 0) + content

    def pair(name: bytes, value: bytes) -> bytes:
        def length(n: int) -> bytes:
            return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)

        return length(len(name)) + length(len(value)) + name + value

    params = b"".join(
        pair(k, v)
        for k, v in (
            (b"SCRIPT_FILENAME", str(script).encode()),
            (b"SCRIPT_NAME", b"/" + script.name.encode()),
            (b"REQUEST_METHOD", b"GET"),
            (b"SERVER_PROTOCOL", b"HTTP/1.0"),
            (b"GATEWAY_INTERFACE", b"CGI/1.1"),
        )
    )
    begin = struct.pack("!HB5x", 1, 0)
    message = record(1, begin) + record(4, params) + record(4, b"") + record(5, b"")
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(message)
        buffer = b""
        while True:
            data = s.recv(65536)
            if not data:
                break
            buffer += data
    while len(buffer) >= 8:
        _, kind, _, size, pad = struct.unpack("!BBHHB", buffer[:7])
        content = buffer[8 : 8 + size]
        buffer = buffer[8 + size + pad :]
        if kind == 6:
            out.append(content)
    return b"".join(out).decode("latin-1")


# ----------------------------------------------------------------------------- nginx


@dataclass
class Nginx:
    binary: str
    layout: GrazrLayout
    port: int
    php_port: Optional[int] = None

    @property
    def conf_dir(self) -> Path:
        return self.layout.config_dir / "nginx"

    @property
    def conf(self) -> Path:
        return self.conf_dir / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.layout.log_dir / "nginx-error.log"

    def write(self) -> "Nginx":
        tmp = self.layout.config_dir / "nginx_temp"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp / sub).mkdir(parents=True, exist_ok=True)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        php = ""
        if self.php_port:
            php = f"""
        location ~ \\.php$ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME {self.layout.root}/www$fastcgi_script_name;
            fastcgi_pass 127.0.0.1:{self.php_port};
        }}"""
        self.conf.write_text(
            f"""worker_processes 2;
pid {self.layout.nginx_pid};
error_log {self.error_log} notice;
events {{ worker_connections 64; }}
http {{
    access_log {self.layout.log_dir}/nginx-access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{ return 200 "nginx ok\\n"; }}{php}
    }}
}}
"""
        )
        check = subprocess.run(
            [self.binary, "-t", "-p", str(self.conf_dir), "-c", str(self.conf), "-e", str(self.error_log)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20,
        )
        assert check.returncode == 0, f"nginx -t failed: {check.stderr}"
        return self

    def command(self, daemon: bool = False) -> List[str]:
        # nginx_manager.start_internal_nginx: nginx -c <conf> -g "daemon off;" (plus -p and -e,
        # which keep a non-root nginx away from the compiled-in /var/log/nginx).
        cmd = [self.binary, "-p", str(self.conf_dir), "-c", str(self.conf), "-e", str(self.error_log)]
        return cmd if daemon else cmd + ["-g", "daemon off;"]


def nginx(layout: GrazrLayout, php_port: Optional[int] = None) -> Nginx:
    return Nginx(need_program("nginx"), layout.make(), free_port(), php_port).write()


# ----------------------------------------------------------------------------- php-fpm


@dataclass
class PhpFpm:
    binary: str
    version: str
    layout: GrazrLayout
    port: int

    @property
    def process_id(self) -> str:
        return f"php-fpm-{self.version}"

    @property
    def prefix(self) -> Path:
        return self.layout.php_config_dir / self.version

    @property
    def conf(self) -> Path:
        return self.prefix / "fpm" / "php-fpm.conf"

    @property
    def pid_file(self) -> Path:
        return self.layout.php_pid(self.version)

    @property
    def manager_log(self) -> Path:
        return self.layout.log_dir / f"php{self.version}-fpm-manager.log"

    def write(self) -> "PhpFpm":
        (self.prefix / "fpm" / "conf.d").mkdir(parents=True, exist_ok=True)
        (self.prefix / "var" / "log").mkdir(parents=True, exist_ok=True)
        (self.prefix / "fpm" / "php.ini").write_text("")
        # Grazr's template: pid and error_log under the prefix, no daemonize, no user/group
        # (Grazr passes -R instead).
        self.conf.write_text(
            f"""[global]
pid = {self.pid_file}
error_log = {self.prefix}/var/log/php{self.version}-fpm.log
daemonize = no
[www]
listen = 127.0.0.1:{self.port}
pm = static
pm.max_children = 2
"""
        )
        www = self.layout.root / "www"
        www.mkdir(parents=True, exist_ok=True)
        (www / "index.php").write_text('<?php echo "php ok ", PHP_VERSION, " pid ", getmypid(), "\\n";')
        return self

    def command(self) -> List[str]:
        # php_manager.start_php_fpm
        return [self.binary, "--fpm-config", str(self.conf), "--prefix", str(self.prefix), "--nodaemonize", "-R"]

    def env(self) -> Dict[str, str]:
        env = os.environ.copy()
        env["PHPRC"] = str(self.prefix / "fpm" / "php.ini")
        env["PHP_INI_SCAN_DIR"] = str(self.prefix / "fpm" / "conf.d")
        return env


def php_fpm(layout: GrazrLayout) -> PhpFpm:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
    found = None
    for candidate in sorted(glob.glob("/usr/sbin/php-fpm*")) + [shutil.which("php-fpm", path=search) or ""]:
        if re.search(r"php-fpm(\d+\.\d+)$", candidate) and os.access(candidate, os.X_OK):
            found = candidate
    need(found, "php-fpm (Debian package php-fpm) is not installed")
    version = re.search(r"php-fpm(\d+\.\d+)$", found).group(1)
    return PhpFpm(found, version, layout.make(), free_port()).write()


# ----------------------------------------------------------------------------- redis


@dataclass
class Redis:
    binary: str
    layout: GrazrLayout
    port: int

    @property
    def conf(self) -> Path:
        return self.layout.config_dir / "redis" / "redis.conf"

    @property
    def log(self) -> Path:
        return self.layout.log_dir / "redis.log"

    def write(self) -> "Redis":
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        data = self.layout.data_dir / "redis_data"
        data.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f"""daemonize no
port {self.port}
bind 127.0.0.1
protected-mode yes
pidfile {self.layout.redis_pid}
logfile {self.log}
dir {data}
save 900 1
dbfilename dump.rdb
appendonly no
"""
        )
        return self

    def command(self, daemonize: bool = False) -> List[str]:
        cmd = [self.binary, str(self.conf)]
        return cmd + ["--daemonize", "yes"] if daemonize else cmd


def redis(layout: GrazrLayout) -> Redis:
    return Redis(need_program("redis-server"), layout.make(), free_port()).write()


# ----------------------------------------------------------------------------- mariadb


@dataclass
class MariaDB:
    binary: str
    layout: GrazrLayout
    port: int

    @property
    def conf(self) -> Path:
        return self.layout.config_dir / "mysql" / "my.cnf"

    @property
    def datadir(self) -> Path:
        return self.layout.data_dir / "mysql_data"

    @property
    def error_log(self) -> Path:
        return self.layout.log_dir / "mysql_error.log"

    @property
    def socket(self) -> Path:
        return self.layout.run_dir / "mysqld.sock"

    def write(self) -> "MariaDB":
        install = need_program("mariadb-install-db", "mysql_install_db")
        need(shutil.which("my_print_defaults"), "my_print_defaults (mariadb-client-core) is not installed")
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f"""[mysqld]
datadir={self.datadir}
socket={self.socket}
pid-file={self.layout.mysql_pid}
port={self.port}
bind-address=127.0.0.1
log-error={self.error_log}
innodb_buffer_pool_size=32M
skip-name-resolve
"""
        )
        home = self.layout.root / "mysql-home"
        home.mkdir(exist_ok=True)
        args = [install, "--no-defaults", f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal", "--skip-test-db"]
        if os.geteuid() == 0:
            args.append("--user=root")
        result = subprocess.run(args, env={**os.environ, "HOME": str(home)}, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"mariadb-install-db failed: {result.stdout}\n{result.stderr}"
        return self

    def command(self) -> List[str]:
        # mysql_manager.start_mysql: mysqld --defaults-file=<my.cnf> --user=<login or nobody>;
        # MariaDB refuses root without an explicit --user=root.
        user = "root" if os.geteuid() == 0 else getpass.getuser()
        return [self.binary, f"--defaults-file={self.conf}", f"--user={user}"]

    def env(self) -> Dict[str, str]:
        env = os.environ.copy()
        # Grazr points LD_LIBRARY_PATH at its bundle; an empty dir here keeps that shape.
        env["LD_LIBRARY_PATH"] = str(self.layout.data_dir / "bundles" / "mysql" / "lib")
        return env


def mariadb(layout: GrazrLayout) -> MariaDB:
    return MariaDB(need_program("mariadbd", "mysqld"), layout.make(), free_port()).write()


# ----------------------------------------------------------------------------- postgres


@dataclass
class Postgres:
    bindir: Path
    layout: GrazrLayout
    instance: str
    port: int

    @property
    def process_id(self) -> str:
        return f"internal-postgres-{self.major}-{self.instance}"

    @property
    def major(self) -> str:
        return self.bindir.parent.name

    @property
    def data(self) -> Path:
        return self.layout.postgres_data(self.instance)

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"

    @property
    def sock(self) -> Path:
        return self.layout.run_dir / f"postgres_sock_{self.instance}"

    @property
    def log(self) -> Path:
        return self.layout.log_dir / f"postgres-{self.instance}.log"

    def write(self) -> "Postgres":
        if os.geteuid() == 0:
            need(shutil.which("setpriv"), "setpriv (util-linux) is not installed")
        # Every directory on the way must be traversable by nobody.
        for d in (self.layout.root, self.layout.root / "data", self.layout.data_dir,
                  self.layout.config_dir.parent, self.layout.config_dir, self.layout.run_dir):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o755)
        self.data.parent.mkdir(parents=True, exist_ok=True)
        self.data.parent.chmod(0o755)
        self.data.mkdir()
        self.sock.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for d in (self.data, self.sock):
                os.chown(d, NOBODY, NOBODY)
        result = subprocess.run(
            setpriv_nobody() + [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                                "-A", "trust", "-E", "UTF8"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            env={**os.environ, "HOME": str(self.data)},
        )
        assert result.returncode == 0, f"initdb failed: {result.stdout}\n{result.stderr}"
        return self

    def command(self) -> List[str]:
        return setpriv_nobody() + [
            str(self.bindir / "postgres"), "-D", str(self.data),
            "-c", f"port={self.port}", "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.sock}", "-c", "logging_collector=off",
        ]

    def ready(self) -> bool:
        try:
            lines = self.pid_file.read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"


def postgres(layout: GrazrLayout, instance: str = "main") -> Postgres:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name))
    need(found, "PostgreSQL (Debian package postgresql) is not installed")
    return Postgres(Path(found[-1]).parent, layout.make(), instance, free_port()).write()


def wait_gone(pids, timeout: float = 5.0) -> bool:
    from conftest import alive, wait_until

    return wait_until(lambda: not any(alive(p) for p in pids), timeout)
