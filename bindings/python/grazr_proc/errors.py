"""Exceptions for the library's negative result codes."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Type


class GrazrError(Exception):
    """A call into libgrazr_proc failed.

    ``code`` is the negative GRAZR_ERR_* value and ``message`` the library's explanation
    (what failed, for which id, which path, the OS error), read on the calling thread right
    after the failing call.
    """

    code: int = 0
    message: str

    def __init__(self, code: int, message: str = "", function: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.function = function
        super().__init__(message or f"{function or 'grazr_proc'} failed with code {code}")

    def __reduce__(self) -> Tuple[Any, ...]:  # keeps the fields when pickled (multiprocessing, concurrent.futures)
        return (type(self), (self.code, self.message, self.function))


class InvalidArgument(GrazrError, ValueError):
    """GRAZR_ERR_INVALID_ARGUMENT: empty id, empty argv, bad signal, bad template, a NUL byte."""

    code = -1


class SpawnFailed(GrazrError):
    """GRAZR_ERR_SPAWN: the program could not be executed (missing, not executable, bad cwd)."""

    code = -2


class ExitedEarly(GrazrError):
    """GRAZR_ERR_EXITED: it started but exited during startup; the message has the log's tail."""

    code = -3


class StopTimeout(GrazrError):
    """GRAZR_ERR_TIMEOUT: still alive after SIGKILL, or after the timeout when SIGKILL is not allowed."""

    code = -4


class PermissionDenied(GrazrError):
    """GRAZR_ERR_PERMISSION: EPERM while signalling (the process belongs to another user)."""

    code = -5


class IOFailure(GrazrError):
    """GRAZR_ERR_IO: a log or pid file, or its directory, could not be created, opened or read."""

    code = -6


class NotRunning(GrazrError):
    """GRAZR_ERR_NOT_RUNNING: a signal for an id that does not run."""

    code = -7


class InternalError(GrazrError):
    """GRAZR_ERR_INTERNAL: a bug in the library (a panic caught at its boundary)."""

    code = -100


ERRORS_BY_CODE: Dict[int, Type[GrazrError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        SpawnFailed,
        ExitedEarly,
        StopTimeout,
        PermissionDenied,
        IOFailure,
        NotRunning,
        InternalError,
    )
}


def error_for_code(code: int, message: str = "", function: Optional[str] = None) -> GrazrError:
    """The exception for a negative result code; a plain GrazrError for a code this binding does not know."""
    return ERRORS_BY_CODE.get(code, GrazrError)(code, message, function)
