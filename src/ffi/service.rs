//! Service registration: Grazr's config-derived pid files and per-service stop defaults.

use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;

use super::process::{signal_arg, timeout_arg};
use super::*;
use crate::{Error, Manager, ServiceSpec};

/// Registers a service so that an id the library does not track (the host restarted) is found
/// again through its pid file, and so that stop and stop_all use its own signal and timeout.
///
/// - `id_pattern`: an exact id ("internal-nginx") or a pattern with placeholders
///   ("php-fpm-{version}", "internal-postgres-{major}-{instance}"); each placeholder matches one
///   or more of [A-Za-z0-9._-] and never "..".
/// - `pid_file_template`: NULL, or the pid file path; it may use the pattern's placeholders
///   (".../php/{version}/var/run/php{version}-fpm.pid"). A placeholder the pattern lacks is
///   GRAZR_ERR_INVALID_ARGUMENT.
/// - `program`: NULL, or the executable a re-adopted process must be running (compared with
///   /proc/PID/exe by full path or by basename).
/// - `stop_signal`: 0 keeps SIGTERM. `stop_timeout_ms`: negative keeps 5000;
///   GRAZR_TIMEOUT_NEVER_KILL means never SIGKILL (stop then waits 30 s and gives
///   GRAZR_ERR_TIMEOUT), as Postgres needs.
///
/// An exact id beats a pattern; registering the same pattern again replaces it. Strings are
/// copied. Thread-safe.
///
/// # Safety
/// Each pointer is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_register_service(
    id_pattern: *const c_char,
    pid_file_template: *const c_char,
    program: *const c_char,
    stop_signal: i32,
    stop_timeout_ms: i32,
) -> i32 {
    boundary(|| {
        // SAFETY: the caller's contract covers every pointer read below.
        let spec = unsafe {
            let pattern = convert::required(id_pattern, "id pattern")?;
            let pattern = pattern
                .to_str()
                .map_err(|_| Error::invalid(format!("id pattern {pattern:?} is not UTF-8")))?;
            let template = match convert::optional_path(pid_file_template, "pid file template")? {
                None => None,
                Some(t) => Some(t.to_str().map(str::to_owned).ok_or_else(|| {
                    Error::invalid(format!("pid file template {t:?} is not UTF-8"))
                })?),
            };
            let program = if program.is_null() || CStr::from_ptr(program).to_bytes().is_empty() {
                None
            } else {
                Some(
                    OsStr::from_bytes(convert::required(program, "program")?.to_bytes()).to_owned(),
                )
            };
            let (stop_timeout, never_kill) = timeout_arg(stop_timeout_ms);
            ServiceSpec {
                id_pattern: pattern.to_owned(),
                pid_file_template: template,
                program,
                stop_signal: signal_arg(stop_signal, "stop signal")?,
                stop_timeout,
                never_kill,
            }
        };
        Manager::global().register_service(spec).map(|()| GRAZR_OK)
    })
}
