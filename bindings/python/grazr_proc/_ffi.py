"""The C contract of libgrazr_proc as ctypes declarations.

Everything that touches ctypes lives here: finding and loading the shared library, the structs,
the result codes, and the one prototype table that gives every exported function its argtypes,
restype and errcheck. ``tests/python/test_prototypes.py`` compares this table with
``include/grazr_proc.h``.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import POINTER, Structure, c_char, c_char_p, c_int32, c_int64, c_size_t, c_uint32
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Type

from .errors import GrazrError, error_for_code

LIBRARY_NAME = "libgrazr_proc.so"

# Result codes, statuses, states and flags, as in the header.
GRAZR_OK = 0
GRAZR_ERR_INVALID_ARGUMENT = -1
GRAZR_ERR_SPAWN = -2
GRAZR_ERR_EXITED = -3
GRAZR_ERR_TIMEOUT = -4
GRAZR_ERR_PERMISSION = -5
GRAZR_ERR_IO = -6
GRAZR_ERR_NOT_RUNNING = -7
GRAZR_ERR_INTERNAL = -100

GRAZR_STATUS_STOPPED = 0
GRAZR_STATUS_RUNNING = 1
GRAZR_STATUS_ERROR = 2

GRAZR_STATE_STOPPED = 0
GRAZR_STATE_STARTING = 1
GRAZR_STATE_RUNNING = 2
GRAZR_STATE_PID_FILE_PENDING = 3
GRAZR_STATE_STOPPING = 4
GRAZR_STATE_EXITED = 5
GRAZR_STATE_FAILED = 6
GRAZR_STATE_KILLED = 7
GRAZR_STATE_CRASHED = 8
GRAZR_STATE_REAPED_ELSEWHERE = 9

GRAZR_START_CLEAR_ENV = 1
GRAZR_STOP_NO_KILL = 1
GRAZR_TIMEOUT_NEVER_KILL = 2**31 - 1
GRAZR_DEFAULT_STARTUP_WINDOW_MS = 200
GRAZR_DEFAULT_PID_FILE_TIMEOUT_MS = 5000
GRAZR_DEFAULT_STOP_TIMEOUT_MS = 5000


class grazr_start_options(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("pid_file_path", c_char_p),
        ("working_dir", c_char_p),
        ("env", POINTER(c_char_p)),
        ("log_file_path", c_char_p),
        ("startup_window_ms", c_int32),
        ("pid_file_timeout_ms", c_int32),
        # For hosts that read the result on another thread; Python reads the thread-local
        # message in errcheck instead and leaves these NULL.
        ("error_message", POINTER(c_char)),
        ("error_message_size", c_size_t),
    ]


class grazr_stop_options(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("flags", c_uint32),
        ("signal", c_int32),
        ("timeout_ms", c_int32),
        ("pid_file_path", c_char_p),
        ("error_message", POINTER(c_char)),
        ("error_message_size", c_size_t),
    ]


class grazr_info(Structure):
    _fields_ = [
        ("size", c_uint32),
        ("status", c_int32),
        ("state", c_int32),
        ("pid", c_int32),
        ("pgid", c_int32),
        ("child_pid", c_int32),
        ("exit_code", c_int32),
        ("term_signal", c_int32),
        ("start_time_ms", c_int64),
        ("pid_file", c_char_p),
        ("log_file", c_char_p),
        ("argv", POINTER(c_char_p)),
    ]


# Set by load(): the function that reads the thread-local message. errcheck must call exactly
# this and nothing else before raising, since any other call replaces the message.
_last_error_message: Optional[Callable[[], bytes]] = None


def _check_code(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """errcheck for every int32_t function: a negative value becomes a GrazrError subclass.

    ctypes runs errcheck on the calling thread right after the foreign call returns, and the
    library keeps the last error per thread, so reading it here cannot pick up another
    thread's message even though the GIL was released during the call.
    """
    if result >= 0:
        return result
    message = ""
    if _last_error_message is not None:
        message = _last_error_message().decode("utf-8", "replace")
    raise error_for_code(result, message, func.__name__)


_ARGV = POINTER(c_char_p)

# The one prototype table: name -> (restype, argtypes, errcheck). A function returning const
# char * has no errcheck: those never fail and never touch the last error.
PROTOTYPES: Dict[str, Tuple[Any, Tuple[Any, ...], Optional[Callable[..., Any]]]] = {
    "grazr_last_error_message": (c_char_p, (), None),
    "grazr_result_name": (c_char_p, (c_int32,), None),
    "grazr_version": (c_char_p, (), None),
    "grazr_start_process": (
        c_int32,
        (c_char_p, _ARGV, c_char_p, c_char_p, _ARGV, c_char_p),
        _check_code,
    ),
    "grazr_start_process_ex": (
        c_int32,
        (c_char_p, _ARGV, POINTER(grazr_start_options)),
        _check_code,
    ),
    "grazr_stop_process": (c_int32, (c_char_p, c_int32, c_int32), _check_code),
    "grazr_stop_process_ex": (c_int32, (c_char_p, POINTER(grazr_stop_options)), _check_code),
    "grazr_status": (c_int32, (c_char_p,), _check_code),
    "grazr_get_pid": (c_int32, (c_char_p,), _check_code),
    "grazr_signal_process": (c_int32, (c_char_p, c_int32), _check_code),
    "grazr_read_pid_file": (c_int32, (c_char_p,), _check_code),
    "grazr_pid_alive": (c_int32, (c_int32,), _check_code),
    "grazr_stop_all": (c_int32, (), _check_code),
    "grazr_stop_all_ex": (c_int32, (POINTER(c_char), c_size_t), _check_code),
    "grazr_process_info": (c_int32, (c_char_p, POINTER(grazr_info)), _check_code),
    "grazr_list": (c_int32, (POINTER(POINTER(c_char_p)),), _check_code),
    "grazr_shutdown": (c_int32, (), _check_code),
    "grazr_register_service": (
        c_int32,
        (c_char_p, c_char_p, c_char_p, c_int32, c_int32),
        _check_code,
    ),
}

# C type spellings of the header, for the test that compares the table with it.
STRUCTS: Dict[str, Type[Structure]] = {
    "grazr_start_options": grazr_start_options,
    "grazr_stop_options": grazr_stop_options,
    "grazr_info": grazr_info,
}


def candidate_paths() -> Sequence[Tuple[str, Path]]:
    """Where the library may be, in the order they are tried, each with where it came from."""
    here = Path(__file__).resolve().parent
    found = [("inside the package", here / LIBRARY_NAME)]
    src = os.environ.get("GRAZR_PROC_SRC")
    if src:
        found.append(("GRAZR_PROC_SRC's target/release", Path(src) / "target" / "release" / LIBRARY_NAME))
    # bindings/python/grazr_proc -> the repository root, when running from a checkout.
    found.append(("the repository's target/release", here.parents[2] / "target" / "release" / LIBRARY_NAME))
    return found


def _open(path: Path) -> ctypes.CDLL:
    return ctypes.CDLL(str(path))


def load() -> ctypes.CDLL:
    """Loads the library and declares every prototype; ImportError naming the places tried."""
    global _last_error_message
    explicit = os.environ.get("GRAZR_PROC_LIB")
    tried = []
    lib: Optional[ctypes.CDLL] = None
    if explicit:
        # An explicit choice is never silently replaced by another copy: a test run that names
        # the library it just built must not pass against a stale one.
        try:
            lib = _open(Path(explicit))
        except OSError as err:
            raise ImportError(
                f"grazr_proc: cannot load GRAZR_PROC_LIB={explicit!r}: {err}"
            ) from err
    else:
        tried.append("GRAZR_PROC_LIB (not set)")
        for origin, path in candidate_paths():
            if not path.is_file():
                tried.append(f"{path} ({origin}: not found)")
                continue
            try:
                lib = _open(path)
                break
            except OSError as err:
                tried.append(f"{path} ({origin}: {err})")
    if lib is None:
        raise ImportError(
            "grazr_proc: cannot find libgrazr_proc.so; tried: "
            + "; ".join(tried)
            + ". Build it with `cargo build --release` or set GRAZR_PROC_LIB."
        )
    for name, (restype, argtypes, errcheck) in PROTOTYPES.items():
        try:
            func = getattr(lib, name)
        except AttributeError as err:
            raise ImportError(f"grazr_proc: {lib._name} lacks {name}: is it an older build?") from err
        func.restype = restype
        func.argtypes = argtypes
        if errcheck is not None:
            func.errcheck = errcheck
    _last_error_message = lib.grazr_last_error_message
    return lib


lib = load()
library_path: str = lib._name

__all__ = ["lib", "library_path", "PROTOTYPES", "STRUCTS", "GrazrError"]
