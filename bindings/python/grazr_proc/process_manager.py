"""Drop-in replacement for Grazr's ``grazr/core/process_manager.py``.

Grazr switches with one import::

    from grazr_proc import process_manager   # was: from ..core import process_manager

Names, argument order and return values are Grazr's (start_process -> bool, stop_process ->
bool, get_process_status -> "running" | "stopped" | "error", get_process_pid -> int | None,
stop_all_processes -> bool, read_pid_file, check_pid_running, _get_pid_file_path_for_id,
running_processes). The work is done by libgrazr_proc, which verifies every PID before it
signals it, reaps only its own children, stops a service's whole process group, keeps exit
codes and stops everything in parallel.

Grazr's service table (config-derived pid files, the stop signals and timeouts of its
stop_all) comes from ``configure_grazr_services(config)``, or lazily from ``grazr.core.config``
the first time this module is used.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

from . import _api
from .errors import GrazrError

logger = logging.getLogger(__name__)

__all__ = [
    "start_process",
    "stop_process",
    "get_process_status",
    "get_process_pid",
    "stop_all_processes",
    "read_pid_file",
    "check_pid_running",
    "running_processes",
    "configure_grazr_services",
    "GrazrService",
]

PathArg = Union[str, "os.PathLike[str]"]


class _GrazrDefault(int):
    """An int equal to Grazr's default that can still be told apart from one a caller passed.

    When a caller omits the signal or timeout, the id's registered stop defaults apply (for
    the ids Grazr knows they are the same as Grazr's; for a Postgres instance they mean SIGINT
    and never SIGKILL). An explicit value always wins. Both defaults are plain ints to anyone
    who reads them, so ``inspect.signature`` still shows Grazr's SIGTERM and 5.
    """

    _text: str
    name: str

    def __new__(cls, value: int, text: str, name: str = "") -> "_GrazrDefault":
        obj = super().__new__(cls, value)
        obj._text = text
        obj.name = name
        return obj

    def __repr__(self) -> str:
        return self._text


_DEFAULT_SIGNAL = _GrazrDefault(int(signal.SIGTERM), "<Signals.SIGTERM: 15>", "SIGTERM")
_DEFAULT_TIMEOUT = _GrazrDefault(5, "5")


# ---------------------------------------------------------------------------------------------
# Grazr's service table


@dataclass(frozen=True)
class GrazrService:
    """One registered id or id pattern, as derived from Grazr's config."""

    pattern: str
    pid_file_template: Optional[str]
    program: Optional[str]
    stop_signal: signal.Signals
    stop_timeout: float

    def match(self, process_id: str) -> Optional[Dict[str, str]]:
        """The placeholder values if ``process_id`` matches, else None (same rules as the core)."""
        names: List[str] = []
        regex = ""
        for literal, name in _split_pattern(self.pattern):
            regex += re.escape(literal)
            if name is not None:
                names.append(name)
                regex += r"([A-Za-z0-9._-]+)"
        m = re.fullmatch(regex, process_id)
        if m is None or any(".." in value for value in m.groups()):
            return None
        return dict(zip(names, m.groups()))


def _split_pattern(pattern: str) -> Iterator[Tuple[str, Optional[str]]]:
    pos = 0
    for m in re.finditer(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", pattern):
        yield pattern[pos : m.start()], m.group(1)
        pos = m.end()
    yield pattern[pos:], None


# Grazr's stop_all signals and timeouts, by id. Postgres (SIGINT = fast shutdown, never SIGKILL)
# is what postgres_manager's `pg_ctl stop -m fast` does; Grazr's own table never matched it.
_NGINX = "internal-nginx"
_MYSQL = "internal-mysql"
_REDIS = "internal-redis"
_MINIO = "internal-minio"
_PHP_FPM = "php-fpm-{version}"


def _stop_defaults(pattern: str, group: Optional[str], ids: Dict[str, str]) -> Tuple[signal.Signals, float]:
    if pattern in (ids["nginx"], ids["php"]) or pattern.startswith("php-fpm"):
        return signal.SIGQUIT, 5.0
    if pattern == ids["mysql"]:
        return signal.SIGTERM, 10.0
    if group == "postgres" or pattern.startswith("internal-postgres"):
        return signal.SIGINT, float("inf")
    return signal.SIGTERM, 5.0


class _Config:
    """Attribute lookups on Grazr's config module, or on a dict holding the same names."""

    def __init__(self, source: Any) -> None:
        self._source = source

    def get(self, name: Optional[str]) -> Any:
        if not name:
            return None
        if isinstance(self._source, Mapping):
            return self._source.get(name)
        return getattr(self._source, name, None)


def _field(entry: Any, name: str) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def _program(path: Any) -> Optional[str]:
    if not path:
        return None
    text = str(os.fspath(path))
    # /proc/PID/exe names the resolved file: Debian's redis-server is a symlink to
    # redis-check-rdb, so compare against what the link points to.
    return os.path.realpath(text) if os.path.exists(text) else text


def _services_from_config(config: Any) -> List[GrazrService]:
    c = _Config(config)
    found: Dict[str, GrazrService] = {}
    ids = {
        "nginx": c.get("NGINX_PROCESS_ID") or _NGINX,
        "mysql": c.get("MYSQL_PROCESS_ID") or _MYSQL,
        "php": c.get("PHP_FPM_PROCESS_ID_TEMPLATE") or _PHP_FPM,
        "minio": c.get("MINIO_PROCESS_ID") or _MINIO,
    }

    def add(pattern: Optional[str], pid_file: Any, program: Any, group: Optional[str] = None) -> None:
        if not pattern or pattern in found:
            return
        sig, timeout = _stop_defaults(pattern, group, ids)
        if pattern == ids["minio"]:
            # MinIO never writes a pid file; waiting for one would add 5 s to every start.
            pid_file = None
        found[pattern] = GrazrService(
            pattern=pattern,
            pid_file_template=os.fspath(pid_file) if pid_file else None,
            program=_program(program),
            stop_signal=sig,
            stop_timeout=timeout,
        )

    services = c.get("AVAILABLE_BUNDLED_SERVICES") or {}
    entries = services.values() if isinstance(services, Mapping) else services
    for entry in entries:
        pattern = _field(entry, "process_id") or _field(entry, "process_id_template")
        pid_file = (
            _field(entry, "pid_file")
            or c.get(_field(entry, "pid_file_constant"))
            or c.get(_field(entry, "pid_file_template_name"))
        )
        program = _field(entry, "binary_path") or c.get(_field(entry, "binary_path_constant"))
        if program is None and _field(entry, "binary_name") == "postgres":
            program = "postgres"
        add(pattern, pid_file, program, _field(entry, "service_group"))

    # The module constants, for configs whose service table lacks an entry (or the table).
    add(c.get("NGINX_PROCESS_ID") or (_NGINX if c.get("INTERNAL_NGINX_PID_FILE") else None),
        c.get("INTERNAL_NGINX_PID_FILE"), c.get("NGINX_BINARY"))
    add(c.get("MYSQL_PROCESS_ID") or (_MYSQL if c.get("INTERNAL_MYSQL_PID_FILE") else None),
        c.get("INTERNAL_MYSQL_PID_FILE"), c.get("MYSQLD_BINARY"))
    add(c.get("REDIS_PROCESS_ID") or (_REDIS if c.get("INTERNAL_REDIS_PID_FILE") else None),
        c.get("INTERNAL_REDIS_PID_FILE"), c.get("REDIS_BINARY"))
    add(c.get("MINIO_PROCESS_ID"), None, c.get("MINIO_BINARY"))
    php_template = c.get("PHP_FPM_PID_TEMPLATE")
    php_pattern = c.get("PHP_FPM_PROCESS_ID_TEMPLATE") or (_PHP_FPM if php_template else None)
    # No program for PHP: the binary is named per version (php-fpm8.3).
    add(php_pattern, php_template, None)
    return [*found.values()]


_lock = threading.RLock()
_services: List[GrazrService] = []
_configured = False
_config_attempted = False


def configure_grazr_services(config: Any = None) -> List[GrazrService]:
    """Registers Grazr's services from its config module (or a dict of the same names).

    With no argument, imports ``grazr.core.config`` (and lets its exception through). Registers
    each id's pid file (so a service that outlived an earlier Grazr is found again), the
    executable an adopted process must run, and stop_all's signal and timeout: nginx and php-fpm
    SIGQUIT, mysql SIGTERM with 10 s, Postgres instances SIGINT and never SIGKILL, others
    SIGTERM with 5 s. Returns the table. Calling it again replaces the table.
    """
    global _services, _configured
    if config is None:
        config = importlib.import_module("grazr.core.config")
    table = _services_from_config(config)
    with _lock:
        for service in table:
            _api.register_service(
                service.pattern,
                service.pid_file_template,
                program=service.program,
                stop_signal=service.stop_signal,
                stop_timeout=service.stop_timeout,
            )
        _services = table
        _configured = True
    return table


def _import_grazr_config() -> Any:
    """grazr.core.config, or None (logged once by the caller's flag) when it cannot be imported."""
    try:
        return importlib.import_module("grazr.core.config")
    except ModuleNotFoundError as err:
        if err.name in ("grazr", "grazr.core", "grazr.core.config"):
            # Not running inside Grazr: nothing to register, nothing to warn about.
            logger.debug("grazr.core.config not importable; no Grazr services registered")
            return None
        failure: Exception = err
    except Exception as err:  # Grazr's config calls os.getlogin(), which fails without a tty
        failure = err
    logger.warning(
        "Could not import grazr.core.config (%s: %s); Grazr's services are not registered, "
        "call process_manager.configure_grazr_services(config) instead",
        type(failure).__name__,
        failure,
    )
    return None


def _ensure_configured() -> None:
    global _configured, _config_attempted
    if _configured:
        return
    # Other threads wait here until the first one has registered the table, so that a status
    # poll racing the first call cannot read "stopped" for a service it would have found.
    with _lock:
        if _configured or _config_attempted:
            return
        # Set first: a failing import is reported once, not on every status poll, and a
        # re-entrant call from inside the import returns at once.
        _config_attempted = True
        try:
            config = _import_grazr_config()
            if config is not None:
                configure_grazr_services(config)
        except Exception as err:
            logger.warning("Could not register Grazr's services from its config: %s", err)
        finally:
            _configured = True


# ---------------------------------------------------------------------------------------------
# Grazr's API


def read_pid_file(pid_file_path_str: Optional[PathArg]) -> Optional[int]:
    """The PID a pid file names, or None: first line only, and only a live process whose
    start time fits the file (so a PID reused since a reboot is not taken for the service)."""
    if pid_file_path_str is None or os.fspath(pid_file_path_str) in ("", b""):
        return None
    try:
        return _api.read_pid_file(pid_file_path_str)
    except GrazrError as err:
        logger.warning("read_pid_file(%s): %s", pid_file_path_str, err)
        return None


def check_pid_running(pid: Optional[int]) -> bool:
    """True if ``pid`` is a live process (False for None, <= 0, a zombie, or this process)."""
    if pid is None or isinstance(pid, bool):
        return False
    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        return _api.pid_alive(pid)
    except GrazrError as err:
        logger.warning("check_pid_running(%s): %s", pid, err)
        return False


# The names Grazr's docs and postgres_manager's stand-in still use.
_read_pid_file = read_pid_file
_check_pid_running = check_pid_running


def _service_for(process_id: str) -> Optional[Tuple[GrazrService, Dict[str, str]]]:
    """The table entry ``process_id`` falls under (an exact id before a pattern), with its values."""
    _ensure_configured()
    with _lock:
        table = _services
    for service in sorted(table, key=lambda s: "{" in s.pattern):
        values = service.match(process_id)
        if values is not None:
            return service, values
    return None


def _get_pid_file_path_for_id(process_id: str) -> Optional[Path]:
    """The config-derived pid file of ``process_id`` (exact ids before patterns), or None."""
    found = _service_for(process_id)
    if found is None:
        return None
    service, values = found
    path = service.pid_file_template
    if path is None:
        return None
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return Path(path)


def _signal_name(sig: Any) -> str:
    try:
        return signal.Signals(int(sig)).name
    except (TypeError, ValueError):
        return str(sig)


def start_process(
    process_id: str,
    command: Sequence[Any],
    pid_file_path: Optional[PathArg] = None,
    working_dir: Optional[PathArg] = None,
    env: Optional[Mapping[str, str]] = None,
    log_file_path: Optional[PathArg] = None,
) -> bool:
    """Starts ``command`` as ``process_id``; True once it runs (or if it already ran), else False.

    ``env`` (Grazr passes a full copy of os.environ plus its additions) is laid over this
    process's environment. With a pid file (given, or derived from Grazr's config) this waits
    up to 5 s for it to name a live process, so a daemonizing launcher that exits 0 is tracked
    through its daemon; without one, a child that exits within 0.2 s is a failed start.
    stdout and stderr are appended to ``log_file_path`` (/dev/null without one).
    """
    _ensure_configured()
    try:
        _api.start(
            process_id,
            command,
            pid_file=pid_file_path or None,
            cwd=working_dir or None,
            env=env,
            log=log_file_path or None,
        )
    except GrazrError as err:
        logger.error("Failed to start process '%s': %s", process_id, err)
        return False
    except (TypeError, ValueError, OSError) as err:
        logger.error("Failed to start process '%s': bad argument: %s", process_id, err)
        return False
    logger.info("Process '%s' running (PID %s)", process_id, get_process_pid(process_id))
    return True


def stop_process(
    process_id: str,
    signal_to_use: Union[signal.Signals, int] = _DEFAULT_SIGNAL,
    timeout: float = _DEFAULT_TIMEOUT,
    pid_file_path: Optional[PathArg] = None,
) -> bool:
    """Stops ``process_id``: ``signal_to_use``, then SIGKILL to it and its group after ``timeout`` s.

    True once it is gone, or when it was not running. ``signal_to_use`` may be a Signals or an
    int. Left out, the id's registered signal and timeout apply (for Grazr's ids the same
    SIGTERM and 5 s; for a Postgres instance SIGINT and never SIGKILL). A Postgres instance is
    never SIGKILLed, even with a timeout: False then means it is still shutting down.
    ``pid_file_path`` names the pid file of a process this module is not tracking (refactored
    php_manager passes it).
    """
    sig: Optional[int] = None if signal_to_use is _DEFAULT_SIGNAL else signal_to_use
    wait: Optional[float] = None if timeout is _DEFAULT_TIMEOUT or timeout is None else max(float(timeout), 0.0)
    # A service registered never to be SIGKILLed (Postgres) keeps that promise even when the
    # caller names a timeout: the stop then gives up at the timeout and leaves it running.
    found = _service_for(process_id) if isinstance(process_id, str) else None
    never_kill = found is not None and math.isinf(found[0].stop_timeout)
    try:
        _api._stop(process_id, sig, wait, pid_file=pid_file_path or None, never_kill=never_kill)
    except GrazrError as err:
        logger.error(
            "Failed to stop process '%s' with %s: %s",
            process_id,
            "its stop signal" if sig is None else _signal_name(sig),
            err,
        )
        return False
    except (TypeError, ValueError) as err:
        logger.error("Failed to stop process '%s': bad argument: %s", process_id, err)
        return False
    return True


_STATUS_TEXT = {
    _api.Status.RUNNING: "running",
    _api.Status.STOPPED: "stopped",
    _api.Status.ERROR: "error",
}


def get_process_status(process_id: str) -> str:
    """"running", "stopped", or "error" (it died on its own). Deletes nothing, never blocks on a start or stop."""
    _ensure_configured()
    try:
        return _STATUS_TEXT[_api.status(process_id)]
    except (GrazrError, TypeError) as err:
        logger.error("Failed to get the status of '%s': %s", process_id, err)
        return "error"


def get_process_pid(process_id: str) -> Optional[int]:
    """The main PID while ``process_id`` runs (the pid file's when there is one), else None."""
    _ensure_configured()
    try:
        return _api.pid(process_id)
    except (GrazrError, TypeError) as err:
        logger.error("Failed to get the PID of '%s': %s", process_id, err)
        return None


def stop_all_processes() -> bool:
    """Stops every tracked service and every one Grazr's config names, in parallel.

    Each gets its own signal and timeout (nginx and php-fpm SIGQUIT, mysql 10 s, ...), so this
    takes about as long as the slowest single stop. True when all are gone.
    """
    _ensure_configured()
    try:
        _api.stop_all()
    except GrazrError as err:
        logger.error("Not every process stopped: %s", err)
        return False
    return True


class _RunningProcesses(Mapping[str, Dict[str, Any]]):
    """A read-only view of what the library tracks: id -> {"pid", "pid_file", "command", "log_path", ...}.

    Iteration, ``len`` and ``in`` list the ids that run or ended in an error (``grazr_list``).
    Each lookup asks the library, so the view is never stale and a caller cannot corrupt it.
    An id that was listed once but has stopped since (another thread stopped it between
    ``keys()`` and the lookup) maps to an entry with status "stopped" and pid None instead of
    raising KeyError, so ``dict(running_processes)`` never races. Ids never tracked raise KeyError.
    """

    def __init__(self) -> None:
        self._seen: Set[str] = set()

    def _ids(self) -> List[str]:
        try:
            ids = _api.list()
        except GrazrError as err:
            logger.error("Failed to list processes: %s", err)
            return []
        self._seen.update(ids)
        return ids

    def __getitem__(self, process_id: str) -> Dict[str, Any]:
        if not isinstance(process_id, str):
            raise KeyError(process_id)
        try:
            snapshot = _api.info(process_id)
        except GrazrError as err:
            raise KeyError(process_id) from err
        known = snapshot.pid or snapshot.child_pid or snapshot.argv is not None or snapshot.pid_file
        if not known and process_id not in self._ids() and process_id not in self._seen:
            raise KeyError(process_id)
        return {
            "pid": snapshot.pid,
            "pid_file": os.fspath(snapshot.pid_file) if snapshot.pid_file else None,
            "command": [*snapshot.argv] if snapshot.argv is not None else None,
            "log_path": os.fspath(snapshot.log_file) if snapshot.log_file else None,
            "process": None,
            "status": _STATUS_TEXT[snapshot.status],
            "pgid": snapshot.pgid,
            "child_pid": snapshot.child_pid,
            "exit_code": snapshot.exit_code,
            "start_time": snapshot.start_time,
        }

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids())

    def __len__(self) -> int:
        return len(self._ids())

    def __contains__(self, process_id: object) -> bool:
        return process_id in self._ids()

    def __repr__(self) -> str:
        return f"running_processes({dict(self.items())!r})"


running_processes: Mapping[str, Dict[str, Any]] = _RunningProcesses()
