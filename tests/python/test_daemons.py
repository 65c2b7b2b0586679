"""Real daemons from Debian's packages, driven through the drop-in exactly as Grazr's managers call it.

For each: start, "running", the port answers on 127.0.0.1, get_process_pid equals the pid
file's PID, stop, the port closes, the pid file is gone. Missing packages skip (fail with CI=true).
"""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

import grazr_proc
from conftest import alive, children_of, first_line_pid, port_open, wait_until
from daemons import (
    GrazrLayout,
    fastcgi_php,
    grazr_config,
    http_get,
    mariadb,
    mysql_greeting,
    nginx,
    php_fpm,
    postgres,
    postgres_ssl_answer,
    redis,
    redis_ping,
    wait_gone,
)


@pytest.fixture
def layout(pm, workdir):
    """Grazr's directories in the test's temp dir, registered with the drop-in like Grazr's config."""
    lay = GrazrLayout(workdir).make()
    binaries = {}
    for key, names in (("nginx", ("nginx",)), ("redis", ("redis-server",)), ("mysql", ("mariadbd", "mysqld"))):
        import shutil

        for name in names:
            found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
            if found:
                binaries[key] = found
                break
    pm.configure_grazr_services(grazr_config(lay, binaries))
    return lay


def assert_stopped_cleanly(pm, process_id, pid, port, pid_file, extra_pids=()):
    assert pm.get_process_status(process_id) == "stopped"
    assert pm.get_process_pid(process_id) is None
    assert wait_until(lambda: not port_open(port), 5), f"port {port} still open after the stop"
    assert not pid_file.exists(), f"{pid_file} left behind"
    assert not alive(pid)
    assert wait_gone(extra_pids, 2), "a worker outlived the stop"


def test_nginx_foreground_start_status_reload_stop(guard, pm, layout):
    web = nginx(layout)
    guard.track("internal-nginx")
    # nginx_manager.start_internal_nginx
    assert pm.get_process_status("internal-nginx") != "running"
    ok = pm.start_process(
        process_id="internal-nginx",
        command=web.command(),
        pid_file_path=str(layout.nginx_pid),
        log_file_path=str(web.error_log),
    )
    assert ok is True
    guard.note("internal-nginx")
    assert pm.get_process_status("internal-nginx") == "running"
    master = pm.get_process_pid("internal-nginx")
    assert isinstance(master, int) and master == first_line_pid(layout.nginx_pid)
    assert grazr_proc.info("internal-nginx").child_pid == master  # foreground: the child is the master
    assert wait_until(lambda: port_open(web.port), 5)
    assert "nginx ok" in http_get(web.port)
    assert wait_until(lambda: len(children_of(master)) == 2, 5)
    workers = children_of(master)

    # nginx_manager.reload_internal_nginx: os.kill(get_process_pid(...), SIGHUP)
    os.kill(pm.get_process_pid("internal-nginx"), signal.SIGHUP)
    assert wait_until(lambda: len(children_of(master)) == 2 and not (children_of(master) & workers), 10), \
        "SIGHUP did not replace the workers"
    assert pm.get_process_pid("internal-nginx") == master
    assert "nginx ok" in http_get(web.port)
    # The same reload through the Pythonic API.
    workers = children_of(master)
    grazr_proc.signal("internal-nginx", signal.SIGHUP)
    assert wait_until(lambda: len(children_of(master)) == 2 and not (children_of(master) & workers), 10)
    workers = children_of(master)

    # nginx_manager.stop_internal_nginx: the signal is positional
    began = time.monotonic()
    assert pm.stop_process("internal-nginx", signal.SIGQUIT) is True
    assert time.monotonic() - began < 4.0
    assert_stopped_cleanly(pm, "internal-nginx", master, web.port, layout.nginx_pid, workers)
    assert pm.stop_process("internal-nginx", signal.SIGQUIT) is True  # stopping a stopped service


@pytest.mark.parametrize("stale", ["reused-pid-older-than-file", "pid-of-another-program"])
def test_nginx_starts_despite_a_stale_pid_file_and_spares_its_process(guard, pm, layout, workdir, stale):
    """Bug 3 after a reboot: nginx.pid names an unrelated live process. Grazr reported nginx
    running, never started it, and later sent SIGHUP/SIGQUIT/SIGKILL to that process."""
    from test_seed_bugs import start_victim

    web = nginx(layout)
    victim, signals = start_victim(guard, workdir)
    time.sleep(0.05)
    layout.nginx_pid.write_text(f"{victim.pid}\n")
    if stale == "reused-pid-older-than-file":
        old = time.time() - 3600
        os.utime(layout.nginx_pid, (old, old))
    guard.track("internal-nginx")
    assert pm.get_process_status("internal-nginx") != "running"
    assert pm.start_process(process_id="internal-nginx", command=web.command(),
                            pid_file_path=str(layout.nginx_pid), log_file_path=str(web.error_log)) is True
    guard.note("internal-nginx")
    master = pm.get_process_pid("internal-nginx")
    assert master != victim.pid and master == first_line_pid(layout.nginx_pid)
    assert wait_until(lambda: port_open(web.port), 5) and "nginx ok" in http_get(web.port)
    os.kill(pm.get_process_pid("internal-nginx"), signal.SIGHUP)
    assert pm.stop_process("internal-nginx", signal.SIGQUIT) is True
    assert pm.stop_all_processes() is True
    time.sleep(0.2)
    assert victim.poll() is None and not signals.exists(), "the unrelated process was signalled"
    assert_stopped_cleanly(pm, "internal-nginx", master, web.port, layout.nginx_pid)


def test_nginx_daemonizing_without_daemon_off(guard, pm, layout):
    web = nginx(layout)
    guard.track("internal-nginx")
    ok = pm.start_process(process_id="internal-nginx", command=web.command(daemon=True),
                          pid_file_path=layout.nginx_pid, log_file_path=web.error_log)  # Path objects, as refactored Grazr
    assert ok is True
    daemon = first_line_pid(layout.nginx_pid)
    guard.add(daemon, group=True)
    assert pm.get_process_status("internal-nginx") == "running"
    assert pm.get_process_pid("internal-nginx") == daemon
    snapshot = grazr_proc.info("internal-nginx")
    assert snapshot.child_pid != daemon, "the launcher exits; the daemon is a different process"
    assert wait_until(lambda: port_open(web.port), 5) and "nginx ok" in http_get(web.port)
    assert wait_until(lambda: len(children_of(daemon)) == 2, 5)
    workers = children_of(daemon)
    assert pm.stop_process("internal-nginx", signal.SIGQUIT) is True
    assert_stopped_cleanly(pm, "internal-nginx", daemon, web.port, layout.nginx_pid, workers)


def test_nginx_hung_master_is_killed_with_its_workers(guard, pm, layout):
    """Bug 8 as verified on nginx 1.22: a SIGSTOPped master, stop with SIGQUIT and timeout 1."""
    web = nginx(layout)
    guard.track("internal-nginx")
    assert pm.start_process("internal-nginx", web.command(), str(layout.nginx_pid), None, None, str(web.error_log))
    guard.note("internal-nginx")
    master = pm.get_process_pid("internal-nginx")
    assert wait_until(lambda: len(children_of(master)) == 2, 5)
    workers = children_of(master)
    os.kill(master, signal.SIGSTOP)
    began = time.monotonic()
    assert pm.stop_process("internal-nginx", signal.SIGQUIT, timeout=1) is True
    assert time.monotonic() - began < 5.0
    assert wait_gone([master, *workers], 2), "workers kept running after their master was killed"
    assert wait_until(lambda: not port_open(web.port), 5)
    assert pm.get_process_status("internal-nginx") == "stopped"
    assert not layout.nginx_pid.exists(), "the killed master's pid file was left behind"


def test_nginx_port_in_use_is_a_failed_start_with_the_reason(guard, pm, layout):
    """Bug 7: nginx retries bind() for 2.5 s before it exits; that is a failure, not a success."""
    web = nginx(layout)
    guard.track("internal-nginx")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", web.port))
        squatter.listen(1)
        with pytest.raises(grazr_proc.ExitedEarly) as caught:
            grazr_proc.start("internal-nginx", web.command(), pid_file=layout.nginx_pid, log=web.error_log)
    assert "Address already in use" in caught.value.message, caught.value.message
    assert pm.get_process_status("internal-nginx") == "error"
    assert pm.get_process_pid("internal-nginx") is None


def test_php_fpm_start_status_stop(guard, pm, layout):
    fpm = php_fpm(layout)
    guard.track(fpm.process_id)
    # php_manager.start_php_fpm: id and command positional, the rest by keyword
    ok = pm.start_process(fpm.process_id, fpm.command(), pid_file_path=str(fpm.pid_file),
                          log_file_path=str(fpm.manager_log), env=fpm.env())
    assert ok is True
    guard.note(fpm.process_id)
    master = pm.get_process_pid(fpm.process_id)
    assert master == first_line_pid(fpm.pid_file)
    assert "\n" not in fpm.pid_file.read_text(), "php-fpm writes its pid without a newline"
    assert pm.get_process_status(fpm.process_id) == "running"
    # php_manager.get_php_fpm_status reads the pid file itself
    pid = pm.read_pid_file(str(fpm.pid_file))
    assert pid == master and pm.check_pid_running(pid) is True
    assert wait_until(lambda: port_open(fpm.port), 5)
    answer = fastcgi_php(fpm.port, layout.root / "www" / "index.php")
    assert f"php ok {fpm.version}" in answer, answer
    assert wait_until(lambda: len(children_of(master)) == 2, 5)
    workers = children_of(master)
    # php_manager.stop_php_fpm
    assert pm.stop_process(fpm.process_id, signal_to_use=signal.SIGQUIT) is True
    assert_stopped_cleanly(pm, fpm.process_id, master, fpm.port, fpm.pid_file, workers)
    assert pm.read_pid_file(str(fpm.pid_file)) is None and pm.check_pid_running(master) is False


def test_php_fpm_pool_left_by_a_killed_master_is_stopped(guard, pm, layout):
    """Bug 8 as verified on php-fpm 8.2: after kill -9 of the master the pool kept serving."""
    fpm = php_fpm(layout)
    guard.track(fpm.process_id)
    assert pm.start_process(fpm.process_id, fpm.command(), pid_file_path=str(fpm.pid_file),
                            log_file_path=str(fpm.manager_log), env=fpm.env())
    guard.note(fpm.process_id)
    master = pm.get_process_pid(fpm.process_id)
    assert wait_until(lambda: len(children_of(master)) == 2, 5)
    workers = children_of(master)
    os.kill(master, signal.SIGKILL)
    assert wait_until(lambda: pm.get_process_status(fpm.process_id) == "error", 5)
    assert pm.stop_process(fpm.process_id, signal_to_use=signal.SIGQUIT) is True
    assert wait_gone(workers, 3), "the pool workers outlived their killed master and the stop"
    assert wait_until(lambda: not port_open(fpm.port), 5)


def test_redis_start_status_stop(guard, pm, layout):
    server = redis(layout)
    guard.track("internal-redis")
    # redis_manager.start_redis
    ok = pm.start_process(process_id="internal-redis", command=server.command(),
                          pid_file_path=str(layout.redis_pid), env=os.environ.copy(),
                          log_file_path=str(server.log))
    assert ok is True
    guard.note("internal-redis")
    assert pm.get_process_status("internal-redis") == "running"
    pid = pm.get_process_pid("internal-redis")
    assert pid == first_line_pid(layout.redis_pid)
    assert wait_until(lambda: port_open(server.port), 5)
    assert redis_ping(server.port) == "+PONG"
    # redis_manager.stop_redis
    assert pm.stop_process("internal-redis", timeout=10) is True
    assert_stopped_cleanly(pm, "internal-redis", pid, server.port, layout.redis_pid)
    assert "ready to exit" in server.log.read_text() or "Redis is now ready to exit" in server.log.read_text()


def test_redis_daemonize_yes(guard, pm, layout):
    server = redis(layout)
    guard.track("internal-redis")
    ok = pm.start_process(process_id="internal-redis", command=server.command(daemonize=True),
                          pid_file_path=str(layout.redis_pid), env=os.environ.copy(),
                          log_file_path=str(server.log))
    assert ok is True
    daemon = first_line_pid(layout.redis_pid)
    guard.add(daemon, group=True)
    assert grazr_proc.info("internal-redis").child_pid != daemon
    assert pm.get_process_status("internal-redis") == "running"
    assert pm.get_process_pid("internal-redis") == daemon
    assert wait_until(lambda: port_open(server.port), 5) and redis_ping(server.port) == "+PONG"
    assert pm.stop_process("internal-redis", timeout=10) is True
    assert_stopped_cleanly(pm, "internal-redis", daemon, server.port, layout.redis_pid)


def test_mariadb_start_status_stop(guard, pm, layout):
    db = mariadb(layout)
    guard.track("internal-mysql")
    # mysql_manager.start_mysql: all keyword arguments, then a status check after a sleep
    assert pm.get_process_status("internal-mysql") != "running"
    ok = pm.start_process(process_id="internal-mysql", command=db.command(),
                          pid_file_path=str(layout.mysql_pid), env=db.env(),
                          log_file_path=str(db.error_log))
    assert ok is True, db.error_log.read_text() if db.error_log.exists() else "no log"
    guard.note("internal-mysql")
    assert pm.get_process_status("internal-mysql") == "running"
    pid = pm.get_process_pid("internal-mysql")
    assert pid == first_line_pid(layout.mysql_pid)
    assert wait_until(lambda: port_open(db.port), 15)
    greeting = mysql_greeting(db.port)
    assert greeting[4] == 10 and b"MariaDB" in greeting, greeting
    # mysql_manager.stop_mysql
    assert pm.stop_process("internal-mysql", timeout=10) is True
    assert_stopped_cleanly(pm, "internal-mysql", pid, db.port, layout.mysql_pid)
    assert "Shutdown complete" in db.error_log.read_text()


def test_postgres_as_nobody_sigint_never_sigkill(guard, pm, layout):
    pg = postgres(layout)
    guard.track(pg.process_id)
    ok = pm.start_process(pg.process_id, pg.command(), pid_file_path=str(pg.pid_file),
                          log_file_path=str(pg.log))
    assert ok is True, pg.log.read_text() if pg.log.exists() else "no log"
    guard.note(pg.process_id)
    postmaster = pm.get_process_pid(pg.process_id)
    assert postmaster == first_line_pid(pg.pid_file)
    assert grazr_proc.info(pg.process_id).child_pid == postmaster  # setpriv execs
    if os.geteuid() == 0:
        assert os.stat(f"/proc/{postmaster}").st_uid == 65534
    assert wait_until(pg.ready, 15), "postmaster.pid never said ready"
    assert pm.get_process_status(pg.process_id) == "running"
    assert len(pg.pid_file.read_text().splitlines()) >= 8, "postmaster.pid was rewritten or cut"
    assert pm.read_pid_file(str(pg.pid_file)) == postmaster
    assert wait_until(lambda: port_open(pg.port), 10)
    assert postgres_ssl_answer(pg.port) in (b"N", b"S")
    # The registered defaults (SIGINT = fast shutdown, never SIGKILL) apply when the caller omits them.
    backends = children_of(postmaster)
    assert pm.stop_process(pg.process_id) is True
    log = pg.log.read_text()
    assert "received fast shutdown request" in log, log[-2000:]
    assert "database system is shut down" in log
    assert_stopped_cleanly(pm, pg.process_id, postmaster, pg.port, pg.pid_file, backends)


def test_postgres_found_again_through_its_template_and_stopped_by_stop_all(guard, pm, layout):
    """Bug 11a: Grazr's stop_all never reached Postgres instances; a registered template does."""
    pg = postgres(layout, instance="inst2")
    guard.track(pg.process_id)
    assert pm.start_process(pg.process_id, pg.command(), pid_file_path=str(pg.pid_file),
                            log_file_path=str(pg.log)) is True
    guard.note(pg.process_id)
    postmaster = pm.get_process_pid(pg.process_id)
    assert wait_until(pg.ready, 15)
    grazr_proc.shutdown()  # as if Grazr restarted: nothing is tracked any more
    assert pg.process_id not in pm.running_processes
    assert pm.get_process_status(pg.process_id) == "running"
    assert pm.get_process_pid(pg.process_id) == postmaster
    grazr_proc.shutdown()
    assert pm.stop_all_processes() is True
    assert wait_until(lambda: not alive(postmaster), 5)
    assert "received fast shutdown request" in pg.log.read_text()
    assert not pg.pid_file.exists()
