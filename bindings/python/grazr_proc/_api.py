"""The Pythonic API over the C contract: str ids, os.PathLike paths, float seconds, exceptions."""

from __future__ import annotations

import builtins
import ctypes
import math
import os
import signal as _signal
from ctypes import POINTER, byref, c_char_p, sizeof
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import _ffi
from ._ffi import lib
from .errors import InvalidArgument

StrPath = Union[str, "os.PathLike[str]"]
Arg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Signal = Union[int, _signal.Signals]


class Status(IntEnum):
    """What ``status()`` reports; the values are the C GRAZR_STATUS_* values."""

    STOPPED = _ffi.GRAZR_STATUS_STOPPED
    RUNNING = _ffi.GRAZR_STATUS_RUNNING
    ERROR = _ffi.GRAZR_STATUS_ERROR


class State(IntEnum):
    """The detail behind a status (``ProcessInfo.state``); the C GRAZR_STATE_* values."""

    STOPPED = _ffi.GRAZR_STATE_STOPPED
    STARTING = _ffi.GRAZR_STATE_STARTING
    RUNNING = _ffi.GRAZR_STATE_RUNNING
    PID_FILE_PENDING = _ffi.GRAZR_STATE_PID_FILE_PENDING
    STOPPING = _ffi.GRAZR_STATE_STOPPING
    EXITED = _ffi.GRAZR_STATE_EXITED
    FAILED = _ffi.GRAZR_STATE_FAILED
    KILLED = _ffi.GRAZR_STATE_KILLED
    CRASHED = _ffi.GRAZR_STATE_CRASHED
    REAPED_ELSEWHERE = _ffi.GRAZR_STATE_REAPED_ELSEWHERE


@dataclass(frozen=True)
class ProcessInfo:
    """A snapshot of one id, as ``info()`` reports it."""

    process_id: str
    status: Status
    state: Union[State, int]
    pid: Optional[int]
    """The main PID while running (the pid file's when there is one)."""
    pgid: Optional[int]
    child_pid: Optional[int]
    """The PID the library spawned; differs from pid for a daemonizing launcher; None if adopted."""
    exit_code: Optional[int]
    term_signal: Optional[Union[_signal.Signals, int]]
    start_time: Optional[float]
    """When the main process started, seconds since the Unix epoch."""
    pid_file: Optional[Path]
    log_file: Optional[Path]
    argv: Optional[Tuple[str, ...]]
    """The command of the last start; None when the process was adopted through its pid file."""


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument(_ffi.GRAZR_ERR_INVALID_ARGUMENT, message)


def _no_nul(value: bytes, what: str) -> bytes:
    # ctypes would silently cut the string at a NUL byte and run something else than asked.
    if b"\0" in value:
        raise _invalid(f"{what} contains a NUL byte: {value!r}")
    return value


def _id(process_id: str) -> bytes:
    if not isinstance(process_id, str):
        raise TypeError(f"process_id must be str, not {type(process_id).__name__}")
    return _no_nul(process_id.encode("utf-8", "surrogateescape"), "process id")


def _path(path: Optional[Arg], what: str) -> Optional[bytes]:
    if path is None:
        return None
    return _no_nul(os.fsencode(path), what)


def _string_array(items: Sequence[bytes]) -> "ctypes.Array[c_char_p]":
    # The trailing None is the NULL terminator the C side counts on.
    return (c_char_p * (len(items) + 1))(*items, None)


def _argv(argv: Iterable[Arg]) -> "ctypes.Array[c_char_p]":
    if isinstance(argv, (str, bytes)) or isinstance(argv, os.PathLike):
        # "nginx -c x" as one string would run a program of that name: never a shell.
        raise TypeError("argv must be a sequence of arguments, not a single string")
    items = [_no_nul(os.fsencode(arg), "argument") for arg in argv]
    return _string_array(items)


def _env(env: Optional[Mapping[str, Optional[Union[str, bytes]]]]) -> Optional["ctypes.Array[c_char_p]"]:
    if env is None:
        return None
    items = []
    for key, value in env.items():
        k = os.fsencode(key)
        if not k or b"=" in k:
            raise _invalid(f"environment variable name {key!r} is empty or holds '='")
        if value is None:
            items.append(_no_nul(k, "environment variable name"))
        else:
            v = os.fsencode(value) if isinstance(value, (str, bytes)) else str(value).encode()
            items.append(_no_nul(k + b"=" + v, f"environment variable {key}"))
    return _string_array(items)


def _signal_number(sig: Signal, what: str = "signal") -> int:
    if isinstance(sig, bool) or not isinstance(sig, int):
        raise TypeError(f"{what} must be an int or signal.Signals, not {type(sig).__name__}")
    return int(sig)


def _ms(seconds: Optional[float], what: str, *, default: int, never: Optional[int] = None) -> int:
    """Seconds as a float -> milliseconds for C; None -> default; inf -> never (if allowed)."""
    if seconds is None:
        return default
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(seconds).__name__}")
    if math.isnan(seconds) or seconds < 0:
        raise _invalid(f"{what} must be >= 0 seconds, not {seconds!r}")
    if math.isinf(seconds):
        if never is None:
            raise _invalid(f"{what} must be finite")
        return never
    # Round up so that a small positive timeout never becomes 0, which means "at once".
    ms = math.ceil(seconds * 1000)
    return min(ms, _ffi.GRAZR_TIMEOUT_NEVER_KILL - 1)


def start(
    process_id: str,
    argv: Sequence[Arg],
    *,
    pid_file: Optional[Arg] = None,
    cwd: Optional[Arg] = None,
    env: Optional[Mapping[str, Optional[Union[str, bytes]]]] = None,
    log: Optional[Arg] = None,
    startup_window: Optional[float] = None,
    pid_file_timeout: Optional[float] = None,
) -> None:
    """Starts ``argv`` under ``process_id`` and returns once it runs (also if it already ran).

    ``env`` is laid over this process's environment: ``{"KEY": "value"}`` sets, ``{"KEY": None}``
    removes. Without ``pid_file`` (and none registered for the id), the child is watched for
    ``startup_window`` seconds (default 0.2; 0 returns once exec succeeded). With one, start
    waits up to ``pid_file_timeout`` seconds (default 5) for it to name a live process.
    Raises SpawnFailed, ExitedEarly, IOFailure or InvalidArgument.
    """
    options = _ffi.grazr_start_options()
    options.size = sizeof(options)
    options.pid_file_path = _path(pid_file, "pid file path")
    options.working_dir = _path(cwd, "working directory")
    env_array = _env(env)
    if env_array is not None:
        options.env = ctypes.cast(env_array, POINTER(c_char_p))
    options.log_file_path = _path(log, "log file path")
    options.startup_window_ms = _ms(startup_window, "startup_window", default=-1)
    if pid_file_timeout is not None and pid_file_timeout <= 0:
        raise _invalid(f"pid_file_timeout must be > 0 seconds, not {pid_file_timeout!r}")
    options.pid_file_timeout_ms = _ms(pid_file_timeout, "pid_file_timeout", default=0)
    argv_array = _argv(argv)
    lib.grazr_start_process_ex(_id(process_id), argv_array, byref(options))


def _stop(
    process_id: str,
    signal: Optional[Signal] = None,
    timeout: Optional[float] = None,
    *,
    pid_file: Optional[Arg] = None,
    never_kill: bool = False,
) -> None:
    options = _ffi.grazr_stop_options()
    options.size = sizeof(options)
    options.flags = _ffi.GRAZR_STOP_NO_KILL if never_kill else 0
    options.signal = 0 if signal is None else _signal_number(signal)
    options.timeout_ms = _ms(timeout, "timeout", default=-1, never=_ffi.GRAZR_TIMEOUT_NEVER_KILL)
    options.pid_file_path = _path(pid_file, "pid file path")
    lib.grazr_stop_process_ex(_id(process_id), byref(options))


def stop(process_id: str, signal: Optional[Signal] = None, timeout: Optional[float] = None) -> None:
    """Stops ``process_id`` and returns once it and its process group are gone.

    ``signal`` None means the id's registered stop signal, else SIGTERM; ``timeout`` None means
    the registered timeout, else 5 s, before SIGKILL; 0 kills at once; ``math.inf`` never kills.
    Returns quietly when it was not running. Raises StopTimeout or PermissionDenied.
    """
    _stop(process_id, signal, timeout)


def status(process_id: str) -> Status:
    """RUNNING, STOPPED or ERROR (died on its own; lasts until the next start or stop)."""
    return Status(lib.grazr_status(_id(process_id)))


def pid(process_id: str) -> Optional[int]:
    """The main PID while it runs (the pid file's when there is one), else None."""
    value = lib.grazr_get_pid(_id(process_id))
    return value if value > 0 else None


def signal(process_id: str, sig: Signal) -> None:
    """Sends ``sig`` to the verified main process, e.g. SIGHUP to reload nginx; NotRunning if it does not run."""
    lib.grazr_signal_process(_id(process_id), _signal_number(sig, "sig"))


def _text(value: Optional[bytes]) -> Optional[str]:
    return None if value is None else os.fsdecode(value)


def info(process_id: str) -> ProcessInfo:
    """Everything the library knows about ``process_id``; an unknown id reads STOPPED."""
    raw = _ffi.grazr_info()
    raw.size = sizeof(raw)
    lib.grazr_process_info(_id(process_id), byref(raw))
    # The strings belong to the library until our next call on this thread: copy them now.
    argv: Optional[Tuple[str, ...]] = None
    if raw.argv:
        items = []
        i = 0
        while raw.argv[i] is not None:
            items.append(os.fsdecode(raw.argv[i]))
            i += 1
        argv = tuple(items)
    pid_file = _text(raw.pid_file)
    log_file = _text(raw.log_file)
    try:
        state: Union[State, int] = State(raw.state)
    except ValueError:
        state = raw.state
    term: Optional[Union[_signal.Signals, int]] = None
    if raw.term_signal > 0:
        try:
            term = _signal.Signals(raw.term_signal)
        except ValueError:
            term = raw.term_signal
    return ProcessInfo(
        process_id=process_id,
        status=Status(raw.status),
        state=state,
        pid=raw.pid or None,
        pgid=raw.pgid or None,
        child_pid=raw.child_pid or None,
        exit_code=None if raw.exit_code < 0 else raw.exit_code,
        term_signal=term,
        start_time=raw.start_time_ms / 1000.0 if raw.start_time_ms > 0 else None,
        pid_file=Path(pid_file) if pid_file else None,
        log_file=Path(log_file) if log_file else None,
        argv=argv,
    )


def stop_all() -> None:
    """Stops every tracked and registered service in parallel, each with its own signal and timeout.

    Raises the most severe error, whose message names every id that did not stop.
    """
    lib.grazr_stop_all()


def register_service(
    pattern: str,
    pid_file_template: Optional[StrPath] = None,
    *,
    program: Optional[StrPath] = None,
    stop_signal: Optional[Signal] = None,
    stop_timeout: Optional[float] = None,
) -> None:
    """Registers an id (or a pattern like ``php-fpm-{version}``) with its pid file and stop defaults.

    An untracked id is then found again through its pid file (after the host restarted), and
    stop and stop_all use ``stop_signal`` and ``stop_timeout`` (``math.inf``: never SIGKILL, as
    Postgres needs). ``program`` is the executable an adopted process must run (full path or
    basename of /proc/PID/exe).
    """
    template = None
    if pid_file_template is not None:
        template = _no_nul(os.fsencode(pid_file_template), "pid file template")
    lib.grazr_register_service(
        _id(pattern),
        template,
        _path(program, "program"),
        0 if stop_signal is None else _signal_number(stop_signal, "stop_signal"),
        _ms(stop_timeout, "stop_timeout", default=-1, never=_ffi.GRAZR_TIMEOUT_NEVER_KILL),
    )


def read_pid_file(path: Arg) -> Optional[int]:
    """The verified live PID the pid file names (first line only, identity checked), else None."""
    value = lib.grazr_read_pid_file(_path(path, "pid file path"))
    return value if value > 0 else None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a live process the library would accept as a service (not a zombie, not us)."""
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise TypeError(f"pid must be an int, not {type(pid).__name__}")
    if pid <= 0 or pid > 2**31 - 1:
        return False
    return bool(lib.grazr_pid_alive(pid) == 1)


def shutdown() -> None:
    """Forgets every tracked id and closes its pidfd; the processes keep running."""
    lib.grazr_shutdown()


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return str(lib.grazr_version().decode())


def result_name(code: int) -> str:
    """The C name of a result code, e.g. "GRAZR_ERR_SPAWN"."""
    return str(lib.grazr_result_name(code).decode())


def list() -> builtins.list[str]:  # noqa: A001 - the name the API promises
    """The ids the library tracks: running, or ended with an error not yet cleared."""
    ids = POINTER(c_char_p)()
    count = lib.grazr_list(byref(ids))
    found = []
    if ids:
        for i in range(count):
            item = ids[i]
            if item is None:
                break
            found.append(item.decode("utf-8", "surrogateescape"))
    return found
