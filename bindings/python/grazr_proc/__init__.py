"""grazr_proc: launch, track and stop local service daemons safely.

A ctypes binding of libgrazr_proc. Every function may be called from any thread; ctypes
releases the GIL during each call, so a slow stop never blocks other Python threads.

    import grazr_proc
    grazr_proc.start("web", ["python3", "-m", "http.server", "--bind", "127.0.0.1", "8000"])
    grazr_proc.status("web")            # Status.RUNNING
    grazr_proc.stop("web", timeout=2.5)

``grazr_proc.process_manager`` is a drop-in replacement for Grazr's module of that name.
"""

from __future__ import annotations

from ._api import (
    ProcessInfo,
    State,
    Status,
    info,
    list,
    pid,
    pid_alive,
    read_pid_file,
    register_service,
    result_name,
    shutdown,
    signal,
    start,
    status,
    stop,
    stop_all,
    version,
)
from ._ffi import library_path
from .errors import (
    ExitedEarly,
    GrazrError,
    InternalError,
    InvalidArgument,
    IOFailure,
    NotRunning,
    PermissionDenied,
    SpawnFailed,
    StopTimeout,
)

__version__ = "0.1.0"

__all__ = [
    "ExitedEarly",
    "GrazrError",
    "IOFailure",
    "InternalError",
    "InvalidArgument",
    "NotRunning",
    "PermissionDenied",
    "ProcessInfo",
    "SpawnFailed",
    "State",
    "Status",
    "StopTimeout",
    "info",
    "library_path",
    "list",
    "pid",
    "pid_alive",
    "read_pid_file",
    "register_service",
    "result_name",
    "shutdown",
    "signal",
    "start",
    "status",
    "stop",
    "stop_all",
    "version",
]
