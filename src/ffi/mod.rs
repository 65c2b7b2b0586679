//! The C ABI: every exported symbol of the library, and nothing else.
//!
//! Each function converts and checks its pointer arguments, makes one call into the safe core
//! ([`crate::Manager`]), stores the error message in the thread-local last error and returns a
//! code. Panics are caught at the boundary ([`boundary`]) and become `GRAZR_ERR_INTERNAL`.
//! Thread cancellation is disabled for the duration of every call.
//!
//! One file per family: `error.rs` (result codes, last error, names), `process.rs` (start, stop,
//! status and the other per-id calls), `service.rs` (registration), `convert.rs` (C strings and
//! arrays into Rust values).

#![allow(non_camel_case_types)]

mod convert;
mod error;
mod process;
mod service;

pub use error::*;
pub use process::*;
pub use service::*;

use std::panic::{catch_unwind, UnwindSafe};

use crate::sys::CancelGuard;

/// Success.
pub const GRAZR_OK: i32 = 0;
/// NULL or empty id, id not UTF-8, empty argv or argv[0], bad signal, bad template, a path
/// longer than PATH_MAX, an options struct with a bad size.
pub const GRAZR_ERR_INVALID_ARGUMENT: i32 = -1;
/// Could not execute: missing program, not executable, missing working directory.
pub const GRAZR_ERR_SPAWN: i32 = -2;
/// Started, but exited during startup; the message holds the exit code or signal and the last
/// lines of the log.
pub const GRAZR_ERR_EXITED: i32 = -3;
/// Still alive after SIGKILL, or alive after the timeout when SIGKILL is not allowed.
pub const GRAZR_ERR_TIMEOUT: i32 = -4;
/// EPERM while signalling: the process belongs to another user.
pub const GRAZR_ERR_PERMISSION: i32 = -5;
/// A log or pid file, or a directory for one, could not be created, opened or read; EMFILE.
pub const GRAZR_ERR_IO: i32 = -6;
/// grazr_signal_process on an id that is not running.
pub const GRAZR_ERR_NOT_RUNNING: i32 = -7;
/// A bug in the library: a panic caught at the boundary. Please report it with the message.
pub const GRAZR_ERR_INTERNAL: i32 = -100;

/// Not running: never started, stopped on request, exited 0, or its daemon left cleanly.
pub const GRAZR_STATUS_STOPPED: i32 = 0;
/// The main process is alive.
pub const GRAZR_STATUS_RUNNING: i32 = 1;
/// Died on its own (non-zero exit, a signal the library did not send, a pid file left
/// behind); lasts until the next start or stop of the id.
pub const GRAZR_STATUS_ERROR: i32 = 2;

/// grazr_process_info state: nothing runs under this id.
pub const GRAZR_STATE_STOPPED: i32 = 0;
/// A start is in progress.
pub const GRAZR_STATE_STARTING: i32 = 1;
/// The main process is alive.
pub const GRAZR_STATE_RUNNING: i32 = 2;
/// The child is alive, its pid file does not name a verified process yet.
pub const GRAZR_STATE_PID_FILE_PENDING: i32 = 3;
/// A stop is in progress.
pub const GRAZR_STATE_STOPPING: i32 = 4;
/// The child exited 0 on its own.
pub const GRAZR_STATE_EXITED: i32 = 5;
/// The child exited non-zero.
pub const GRAZR_STATE_FAILED: i32 = 6;
/// The child died by a signal the library did not send.
pub const GRAZR_STATE_KILLED: i32 = 7;
/// A daemon tracked by pid file is gone and left its pid file behind.
pub const GRAZR_STATE_CRASHED: i32 = 8;
/// The child was reaped by the host (waitpid(-1)); its exit is unknown.
pub const GRAZR_STATE_REAPED_ELSEWHERE: i32 = 9;

/// grazr_start_options.flags: start from an empty environment instead of the host's.
pub const GRAZR_START_CLEAR_ENV: u32 = 1;
/// grazr_stop_options.flags: never send SIGKILL; give GRAZR_ERR_TIMEOUT at the timeout and
/// leave the process running.
pub const GRAZR_STOP_NO_KILL: u32 = 1;
/// A stop timeout (in grazr_register_service or grazr_stop_process) that means "never SIGKILL".
pub const GRAZR_TIMEOUT_NEVER_KILL: i32 = i32::MAX;

/// Default startup window of a start without a pid file, in milliseconds.
pub const GRAZR_DEFAULT_STARTUP_WINDOW_MS: i32 = 200;
/// Default wait for a pid file, in milliseconds.
pub const GRAZR_DEFAULT_PID_FILE_TIMEOUT_MS: i32 = 5000;
/// Default stop timeout before SIGKILL, in milliseconds.
pub const GRAZR_DEFAULT_STOP_TIMEOUT_MS: i32 = 5000;

/// Runs one exported call: cancellation off, last error cleared, panics caught.
fn boundary<F>(f: F) -> i32
where
    F: FnOnce() -> Result<i32, crate::Error> + UnwindSafe,
{
    let _cancel = CancelGuard::disable();
    let run = || {
        error::clear_last_error();
        f()
    };
    match catch_unwind(run) {
        Ok(Ok(value)) => value,
        Ok(Err(err)) => error::store_error(&err),
        Err(panic) => error::store_panic(panic),
    }
}
