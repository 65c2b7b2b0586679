"""A restart of the host: a fresh Grazr process finds its services again through their pid files.

The first Python process starts nginx (serving PHP through php-fpm), redis and php-fpm through
the drop-in, as Grazr's managers do, and exits without stopping them. A second, fresh Python
process knows nothing but Grazr's config (a stand-in ``grazr.core.config`` on PYTHONPATH,
imported lazily by the drop-in, exactly as in Grazr): it reports them running, reloads nginx
through get_process_pid, and stops everything with stop_all_processes, including php-fpm,
which it never touched before (Grazr's bug 11b).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import alive, children_of, first_line_pid, port_open, python_env, wait_until
from daemons import GrazrLayout, http_get, nginx, php_fpm, redis, redis_ping, wait_gone

CONFIG_TEMPLATE = '''
"""Stand-in for grazr/core/config.py: the same names, rooted in XDG_CONFIG_HOME / XDG_DATA_HOME."""
import os
from pathlib import Path

CONFIG_DIR = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "grazr"
DATA_DIR = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "grazr"
RUN_DIR = CONFIG_DIR / "run"
LOG_DIR = CONFIG_DIR / "logs"


class ServiceDefinition:
    def __init__(self, service_id, process_id=None, process_id_template=None, binary_path=None,
                 pid_file=None, pid_file_template_name=None, binary_name=None, service_group=None):
        self.service_id = service_id
        self.process_id = process_id
        self.process_id_template = process_id_template
        self.binary_path = binary_path
        self.pid_file = pid_file
        self.pid_file_template_name = pid_file_template_name
        self.binary_name = binary_name
        self.service_group = service_group


NGINX_BINARY = Path({nginx!r})
REDIS_BINARY = Path({redis!r})
INTERNAL_NGINX_PID_FILE = RUN_DIR / "nginx.pid"
INTERNAL_MYSQL_PID_FILE = RUN_DIR / "mysqld.pid"
INTERNAL_REDIS_PID_FILE = RUN_DIR / "redis.pid"
INTERNAL_MINIO_PID_FILE = RUN_DIR / "minio.pid"
PHP_CONFIG_DIR = CONFIG_DIR / "php"
PHP_FPM_PID_TEMPLATE = PHP_CONFIG_DIR / "{{version}}" / "var" / "run" / "php{{version}}-fpm.pid"
INTERNAL_POSTGRES_INSTANCE_PID_TEMPLATE = str(DATA_DIR / "postgres_data" / "{{instance_id}}" / "postmaster.pid")

AVAILABLE_BUNDLED_SERVICES = {{
    "nginx": ServiceDefinition("nginx", process_id="internal-nginx", binary_path=NGINX_BINARY,
                               pid_file=INTERNAL_NGINX_PID_FILE),
    "mysql": ServiceDefinition("mysql", process_id="internal-mysql", pid_file=INTERNAL_MYSQL_PID_FILE),
    "postgres15": ServiceDefinition("postgres15", process_id_template="internal-postgres-15-{{instance_id}}",
                                    pid_file_template_name="INTERNAL_POSTGRES_INSTANCE_PID_TEMPLATE",
                                    binary_name="postgres", service_group="postgres"),
    "redis": ServiceDefinition("redis", process_id="internal-redis", binary_path=REDIS_BINARY,
                               pid_file=INTERNAL_REDIS_PID_FILE),
    "minio": ServiceDefinition("minio", process_id="internal-minio", pid_file=INTERNAL_MINIO_PID_FILE),
    "node": ServiceDefinition("node"),
}}

NGINX_PROCESS_ID = "internal-nginx"
PHP_FPM_PROCESS_ID_TEMPLATE = "php-fpm-{{version}}"
MYSQL_PROCESS_ID = "internal-mysql"
REDIS_PROCESS_ID = "internal-redis"
MINIO_PROCESS_ID = "internal-minio"
'''

FIRST_SESSION = textwrap.dedent(
    """
    import json, os, sys
    from grazr_proc import process_manager as pm
    results = {}
    for svc in json.loads(sys.argv[1]):
        env = None
        if svc["env"] is not None:
            env = os.environ.copy()
            env.update(svc["env"])
        results[svc["id"]] = pm.start_process(svc["id"], svc["command"], pid_file_path=svc["pid_file"],
                                              env=env, log_file_path=svc["log"])
    print(json.dumps({"started": results, "tracked": sorted(pm.running_processes)}))
    """
)

SECOND_SESSION = textwrap.dedent(
    """
    import json, os, signal, sys
    from grazr_proc import process_manager as pm
    php_id = sys.argv[1]
    out = {"tracked_at_start": sorted(pm.running_processes)}
    out["status"] = {i: pm.get_process_status(i) for i in ("internal-nginx", "internal-redis")}
    out["pid"] = {i: pm.get_process_pid(i) for i in ("internal-nginx", "internal-redis")}
    # php_manager.get_php_fpm_status: the pid file, read and checked through the module
    php_pid = pm.read_pid_file(str(pm._get_pid_file_path_for_id(php_id)))
    out["php"] = [php_pid, pm.check_pid_running(php_pid)]
    # nginx_manager.reload_internal_nginx
    os.kill(pm.get_process_pid("internal-nginx"), signal.SIGHUP)
    out["stop_all"] = pm.stop_all_processes()
    out["after"] = {i: pm.get_process_status(i) for i in ("internal-nginx", "internal-redis", php_id)}
    out["tracked_at_end"] = sorted(pm.running_processes)
    print(json.dumps(out))
    """
)


def run_session(script: str, args, env) -> dict:
    result = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                            timeout=90, stdin=subprocess.DEVNULL, start_new_session=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("pidfd", ["pidfd", "no-pidfd"])
def test_fresh_process_refinds_services_and_stops_them_with_stop_all(guard, workdir, pidfd):
    layout = GrazrLayout(workdir).make()
    fpm = php_fpm(layout)
    web = nginx(layout, php_port=fpm.port)
    cache = redis(layout)
    pylib = workdir / "pylib"
    (pylib / "grazr" / "core").mkdir(parents=True)
    (pylib / "grazr" / "__init__.py").write_text("")
    (pylib / "grazr" / "core" / "__init__.py").write_text("")
    (pylib / "grazr" / "core" / "config.py").write_text(CONFIG_TEMPLATE.format(nginx=web.binary, redis=cache.binary))
    env = python_env({"XDG_CONFIG_HOME": str(workdir / "config"), "XDG_DATA_HOME": str(workdir / "data")},
                     pythonpath=[pylib])
    if pidfd == "no-pidfd":
        env["GRAZR_PROC_NO_PIDFD"] = "1"  # the library's fallback for kernels without pidfds
    services = [
        {"id": fpm.process_id, "command": fpm.command(), "pid_file": str(fpm.pid_file),
         "log": str(fpm.manager_log), "env": {"PHPRC": fpm.env()["PHPRC"], "PHP_INI_SCAN_DIR": fpm.env()["PHP_INI_SCAN_DIR"]}},
        {"id": "internal-nginx", "command": web.command(), "pid_file": str(layout.nginx_pid),
         "log": str(web.error_log), "env": None},
        {"id": "internal-redis", "command": cache.command(), "pid_file": str(layout.redis_pid),
         "log": str(cache.log), "env": {}},
    ]
    pid_files = [fpm.pid_file, layout.nginx_pid, layout.redis_pid]
    ports = [fpm.port, web.port, cache.port]

    first = run_session(FIRST_SESSION, [json.dumps(services)], env)
    pids = {}
    for path in pid_files:
        if path.exists():
            pids[path] = first_line_pid(path)
            guard.add(pids[path], group=True)
    assert first["started"] == {s["id"]: True for s in services}, first
    assert first["tracked"] == sorted(s["id"] for s in services)
    assert all(alive(p) for p in pids.values()) and len(pids) == 3
    nginx_master = pids[layout.nginx_pid]
    workers = children_of(nginx_master) | children_of(pids[fpm.pid_file])
    assert wait_until(lambda: all(port_open(p) for p in ports), 5)
    assert f"php ok {fpm.version}" in http_get(web.port, "/index.php")
    assert redis_ping(cache.port) == "+PONG"

    second = run_session(SECOND_SESSION, [fpm.process_id], env)
    assert second["tracked_at_start"] == [], "a fresh process tracks nothing before it looks"
    assert second["status"] == {"internal-nginx": "running", "internal-redis": "running"}
    assert second["pid"] == {"internal-nginx": nginx_master, "internal-redis": pids[layout.redis_pid]}
    assert second["php"] == [pids[fpm.pid_file], True]
    assert second["stop_all"] is True
    assert second["after"] == {"internal-nginx": "stopped", "internal-redis": "stopped", fpm.process_id: "stopped"}
    assert second["tracked_at_end"] == []
    assert wait_gone([*pids.values(), *workers], 5), "a service or worker survived stop_all"
    assert wait_until(lambda: not any(port_open(p) for p in ports), 5)
    assert not any(p.exists() for p in pid_files), [str(p) for p in pid_files if p.exists()]
    assert "signal 1 (SIGHUP) received" in web.error_log.read_text(), "the reload did not reach nginx"
