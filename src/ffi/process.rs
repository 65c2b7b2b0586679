//! Start, stop, status and the other calls about one id or all of them.

use std::cell::RefCell;
use std::ffi::{c_char, CString, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::ptr;
use std::time::Duration;

use super::convert::{self, optional_path, sized_struct, string_array};
use super::*;
use crate::{EnvChange, Error, Manager, ProcessInfo, StartSpec, StopOptions};

/// Options of grazr_start_process_ex. Zero-initialise it, set `size`, then the fields you need;
/// a field left at its zero value behaves as documented on it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct grazr_start_options {
    /// sizeof(grazr_start_options), so that later versions can add fields.
    pub size: u32,
    /// Start from an empty environment (GRAZR_START_CLEAR_ENV) instead of the host's.
    pub flags: u32,
    /// The pid file the service writes, or NULL. Start waits for it (see pid_file_timeout_ms).
    pub pid_file_path: *const c_char,
    /// The child's working directory, or NULL for the host's.
    pub working_dir: *const c_char,
    /// NULL, or NULL-terminated "KEY=VALUE" entries (set) and bare "KEY" entries (remove), laid
    /// over the host's environment (or an empty one with GRAZR_START_CLEAR_ENV).
    pub env: *const *const c_char,
    /// stdout and stderr are appended here (created 0644, with its directory); NULL for
    /// /dev/null.
    pub log_file_path: *const c_char,
    /// Without a pid file: how long to watch for an early exit. 0 returns once the exec
    /// succeeded; negative means GRAZR_DEFAULT_STARTUP_WINDOW_MS.
    pub startup_window_ms: i32,
    /// With a pid file: how long to wait for it. 0 or negative means
    /// GRAZR_DEFAULT_PID_FILE_TIMEOUT_MS.
    pub pid_file_timeout_ms: i32,
    /// NULL, or a buffer that receives the error message of a failed start (truncated and
    /// NUL-terminated; set to "" on success). For hosts that call from one thread and read the
    /// result on another, such as an async call in Node.
    pub error_message: *mut c_char,
    /// The size of `error_message` in bytes.
    pub error_message_size: usize,
}

/// Options of grazr_stop_process_ex. Zero-initialise it, set `size`, then the fields you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct grazr_stop_options {
    /// sizeof(grazr_stop_options).
    pub size: u32,
    /// GRAZR_STOP_NO_KILL, or 0.
    pub flags: u32,
    /// The graceful signal; 0 means the id's registered stop signal, else SIGTERM.
    pub signal: i32,
    /// Milliseconds to wait before SIGKILL. Negative means the id's registered timeout, else
    /// GRAZR_DEFAULT_STOP_TIMEOUT_MS; 0 sends SIGKILL right after the signal;
    /// GRAZR_TIMEOUT_NEVER_KILL never kills. Note that a zeroed struct therefore kills at once:
    /// set -1 for the default.
    pub timeout_ms: i32,
    /// NULL, or the pid file of an untracked process to stop under this id.
    pub pid_file_path: *const c_char,
    /// NULL, or a buffer that receives the error message of a failed stop (as in
    /// grazr_start_options).
    pub error_message: *mut c_char,
    /// The size of `error_message` in bytes.
    pub error_message_size: usize,
}

/// What grazr_process_info reports about one id.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct grazr_info {
    /// In: sizeof(grazr_info). The library writes at most this many bytes.
    pub size: u32,
    /// GRAZR_STATUS_*, as grazr_status would report it now.
    pub status: i32,
    /// GRAZR_STATE_*: the detail behind the status.
    pub state: i32,
    /// The main PID while running, else 0.
    pub pid: i32,
    /// The main process's process group while running, else 0.
    pub pgid: i32,
    /// The PID the library spawned (a daemonizing launcher's differs from pid), 0 if adopted.
    pub child_pid: i32,
    /// Exit code of the last exit, -1 when none or unknown.
    pub exit_code: i32,
    /// The signal that ended the last run, 0 when none.
    pub term_signal: i32,
    /// When the main process started, milliseconds since the Unix epoch; 0 when unknown.
    pub start_time_ms: i64,
    /// The tracked pid file, or NULL. Owned by the library; valid until the next call into
    /// the library on this thread.
    pub pid_file: *const c_char,
    /// The log file of the last start, or NULL. Same lifetime as pid_file.
    pub log_file: *const c_char,
    /// The command of the last start, NULL-terminated, or NULL when the process was adopted.
    /// Same lifetime as pid_file.
    pub argv: *const *const c_char,
}

/// What a NULL options pointer, or a field beyond the caller's `size`, means.
const START_DEFAULTS: grazr_start_options = grazr_start_options {
    size: 0,
    flags: 0,
    pid_file_path: ptr::null(),
    working_dir: ptr::null(),
    env: ptr::null(),
    log_file_path: ptr::null(),
    startup_window_ms: -1,
    pid_file_timeout_ms: -1,
    error_message: ptr::null_mut(),
    error_message_size: 0,
};

/// As START_DEFAULTS, for a stop.
const STOP_DEFAULTS: grazr_stop_options = grazr_stop_options {
    size: 0,
    flags: 0,
    signal: 0,
    timeout_ms: -1,
    pid_file_path: ptr::null(),
    error_message: ptr::null_mut(),
    error_message_size: 0,
};

/// Strings handed out by grazr_process_info and grazr_list, kept until the next call on the
/// thread that asked for them.
#[derive(Default)]
struct Handout {
    strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

thread_local! {
    static HANDOUT: RefCell<Handout> = RefCell::new(Handout::default());
}

fn c_string(bytes: Vec<u8>) -> CString {
    CString::new(bytes).unwrap_or_default()
}

fn manager() -> &'static Manager {
    Manager::global()
}

/// Starts `argv` under `process_id` and returns once it runs (the C contract's start).
///
/// - `process_id`: UTF-8, not empty; copied.
/// - `argv`: NULL-terminated; argv[0] is the program, searched in the PATH of the child's final
///   environment when it has no slash. Never run through a shell.
/// - `pid_file_path`: NULL, or the pid file the service writes. Start waits up to 5 s for it
///   to name a verified live process. A child that exits 0 first is a daemonizing launcher:
///   start keeps waiting for its daemon. With NULL, the id's registered pid file, if any.
/// - `working_dir`: NULL for the host's cwd.
/// - `env`: NULL or NULL-terminated "KEY=VALUE" (set) and "KEY" (remove) entries laid over the
///   host's environment.
/// - `log_file_path`: NULL for /dev/null; else stdout and stderr are appended to it.
///
/// Without a pid file, start watches the child for 200 ms and fails if it exits.
/// Returns GRAZR_OK when the process runs, also when it already ran (nothing is spawned then);
/// GRAZR_ERR_SPAWN, GRAZR_ERR_EXITED (the message has the exit status and the log's last
/// lines), GRAZR_ERR_IO, GRAZR_ERR_INVALID_ARGUMENT. Thread-safe; two threads starting one id
/// get one process. Blocks for at most the startup window or the pid-file timeout.
///
/// # Safety
/// Every pointer is NULL or valid as described, for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn grazr_start_process(
    process_id: *const c_char,
    argv: *const *const c_char,
    pid_file_path: *const c_char,
    working_dir: *const c_char,
    env: *const *const c_char,
    log_file_path: *const c_char,
) -> i32 {
    let options = grazr_start_options {
        size: std::mem::size_of::<grazr_start_options>() as u32,
        pid_file_path,
        working_dir,
        env,
        log_file_path,
        ..START_DEFAULTS
    };
    // SAFETY: forwarded contract; `options` is a valid struct on our stack.
    unsafe { grazr_start_process_ex(process_id, argv, &options) }
}

/// grazr_start_process with every option: a startup window (0 = return once the exec
/// succeeded), a pid-file timeout, and a clear environment. `options` may be NULL for the
/// defaults; its pointers follow grazr_start_process's rules.
///
/// # Safety
/// As grazr_start_process; `options` is NULL or points to at least `options->size` bytes.
#[no_mangle]
pub unsafe extern "C" fn grazr_start_process_ex(
    process_id: *const c_char,
    argv: *const *const c_char,
    options: *const grazr_start_options,
) -> i32 {
    let rc = boundary(|| {
        // SAFETY: the caller's contract covers every pointer read below.
        let id = unsafe { convert::process_id(process_id) }?;
        // SAFETY: as above.
        let spec = unsafe { start_spec(argv, options) }.map_err(|e| e.context("start", id))?;
        manager().start(id, &spec).map(|()| GRAZR_OK)
    });
    // SAFETY: the caller's contract covers `options` and its error buffer.
    unsafe {
        match sized_struct(options, START_DEFAULTS, "grazr_start_options") {
            Ok(o) => error::copy_last_error(rc, o.error_message, o.error_message_size),
            Err(_) => rc,
        }
    }
}

/// The StartSpec that `argv` and `options` describe.
///
/// # Safety
/// As grazr_start_process_ex.
unsafe fn start_spec(
    argv: *const *const c_char,
    options: *const grazr_start_options,
) -> Result<StartSpec, Error> {
    // SAFETY: forwarded contract.
    let o = unsafe { sized_struct(options, START_DEFAULTS, "grazr_start_options") }?;
    // SAFETY: forwarded contract.
    let argv = unsafe { string_array(argv, "argv") }?;
    if argv.is_empty() {
        return Err(Error::invalid("argv is NULL or empty"));
    }
    let mut env = Vec::new();
    // SAFETY: forwarded contract.
    for entry in unsafe { string_array(o.env, "env") }? {
        env.push(
            EnvChange::parse(&entry)
                .ok_or_else(|| Error::invalid(format!("env entry {entry:?} has an empty name")))?,
        );
    }
    // SAFETY: forwarded contract.
    let (pid_file, cwd, log_file) = unsafe {
        (
            optional_path(o.pid_file_path, "pid_file_path")?,
            optional_path(o.working_dir, "working_dir")?,
            optional_path(o.log_file_path, "log_file_path")?,
        )
    };
    Ok(StartSpec {
        argv,
        pid_file,
        cwd,
        env,
        clear_env: o.flags & GRAZR_START_CLEAR_ENV != 0,
        log_file,
        startup_window: (o.startup_window_ms >= 0)
            .then(|| Duration::from_millis(o.startup_window_ms as u64)),
        pid_file_timeout: (o.pid_file_timeout_ms > 0)
            .then(|| Duration::from_millis(o.pid_file_timeout_ms as u64)),
    })
}

/// The StopOptions that `options` describes.
///
/// # Safety
/// As grazr_stop_process_ex.
unsafe fn stop_options(options: *const grazr_stop_options) -> Result<StopOptions, Error> {
    // SAFETY: forwarded contract.
    let o = unsafe { sized_struct(options, STOP_DEFAULTS, "grazr_stop_options") }?;
    let (timeout, never_kill) = timeout_arg(o.timeout_ms);
    Ok(StopOptions {
        signal: signal_arg(o.signal, "stop signal")?,
        timeout,
        never_kill: never_kill || o.flags & GRAZR_STOP_NO_KILL != 0,
        // SAFETY: forwarded contract.
        pid_file: unsafe { optional_path(o.pid_file_path, "pid_file_path") }?,
    })
}

/// A C timeout: negative is "the default", GRAZR_TIMEOUT_NEVER_KILL forbids SIGKILL.
/// Returns the timeout and whether SIGKILL is forbidden.
pub(super) fn timeout_arg(timeout_ms: i32) -> (Option<Duration>, bool) {
    match timeout_ms {
        t if t < 0 => (None, false),
        GRAZR_TIMEOUT_NEVER_KILL => (None, true),
        t => (Some(Duration::from_millis(t as u64)), false),
    }
}

pub(super) fn signal_arg(signal: i32, what: &str) -> Result<Option<i32>, Error> {
    match signal {
        0 => Ok(None),
        s if (1..=libc::SIGRTMAX()).contains(&s) => Ok(Some(s)),
        s => Err(Error::invalid(format!("{what} {s} is not a signal number"))),
    }
}

/// Stops `process_id`: `signal` (0 = the id's registered stop signal, else SIGTERM) then
/// SIGCONT to the verified main process; after `timeout_ms` (negative = the registered timeout,
/// else 5000; 0 = at once; GRAZR_TIMEOUT_NEVER_KILL = never) SIGKILL to it and its process
/// group. When the main process exits on the graceful signal, what is left of its group gets
/// SIGKILL at once. The pid file is removed once everything is gone.
///
/// Returns GRAZR_OK once gone, also when it was not running or the id is unknown;
/// GRAZR_ERR_TIMEOUT if something survives 1 s past SIGKILL, or the timeout when SIGKILL is not
/// allowed (the process keeps running); GRAZR_ERR_PERMISSION on EPERM;
/// GRAZR_ERR_INVALID_ARGUMENT. Blocks up to the timeout plus 1 s. Thread-safe; a stop during a
/// start of the same id waits for the start first.
///
/// # Safety
/// `process_id` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_stop_process(
    process_id: *const c_char,
    signal: i32,
    timeout_ms: i32,
) -> i32 {
    let options = grazr_stop_options {
        size: std::mem::size_of::<grazr_stop_options>() as u32,
        signal,
        timeout_ms,
        ..STOP_DEFAULTS
    };
    // SAFETY: forwarded contract; `options` is a valid struct on our stack.
    unsafe { grazr_stop_process_ex(process_id, &options) }
}

/// grazr_stop_process with every option: GRAZR_STOP_NO_KILL (never SIGKILL; the timeout gives
/// GRAZR_ERR_TIMEOUT and leaves the process running) and the pid file of an untracked process.
/// `options` may be NULL for the registered defaults.
///
/// # Safety
/// `process_id` as in grazr_stop_process; `options` is NULL or points to at least
/// `options->size` bytes whose pointers are NULL or valid strings.
#[no_mangle]
pub unsafe extern "C" fn grazr_stop_process_ex(
    process_id: *const c_char,
    options: *const grazr_stop_options,
) -> i32 {
    let rc = boundary(|| {
        // SAFETY: the caller's contract covers every pointer read below.
        let id = unsafe { convert::process_id(process_id) }?;
        // SAFETY: as above.
        let opts = unsafe { stop_options(options) }.map_err(|e| e.context("stop", id))?;
        manager().stop(id, &opts).map(|()| GRAZR_OK)
    });
    // SAFETY: the caller's contract covers `options` and its error buffer.
    unsafe {
        match sized_struct(options, STOP_DEFAULTS, "grazr_stop_options") {
            Ok(o) => error::copy_last_error(rc, o.error_message, o.error_message_size),
            Err(_) => rc,
        }
    }
}

/// The status of `process_id`: GRAZR_STATUS_RUNNING, _STOPPED or _ERROR (see the status table
/// in the README), or a negative error. Never blocks on another thread's start or stop, never
/// deletes a file. An untracked id whose registered pid file names a verified live process is
/// adopted and reads RUNNING. Thread-safe.
///
/// # Safety
/// `process_id` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_status(process_id: *const c_char) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let id = unsafe { convert::process_id(process_id) }?;
        manager().status(id).map(|s| s as i32)
    })
}

/// The main PID of `process_id` while it runs (the pid file's when there is one, else the
/// child's), 0 when it does not, negative on error. Thread-safe; never blocks on a start or
/// stop.
///
/// # Safety
/// `process_id` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_get_pid(process_id: *const c_char) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let id = unsafe { convert::process_id(process_id) }?;
        manager().pid(id).map(|p| p.unwrap_or(0))
    })
}

/// Sends `signal` (1 to SIGRTMAX) to the verified main process of `process_id`, through its
/// pidfd: e.g. SIGHUP to reload nginx. GRAZR_OK when delivered; GRAZR_ERR_NOT_RUNNING when the
/// id does not run; GRAZR_ERR_PERMISSION on EPERM; GRAZR_ERR_INVALID_ARGUMENT for a bad signal.
///
/// # Safety
/// `process_id` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_signal_process(process_id: *const c_char, signal: i32) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let id = unsafe { convert::process_id(process_id) }?;
        let sig = signal_arg(signal, "signal")
            .and_then(|s| s.ok_or_else(|| Error::invalid("signal 0 is not a signal to send")))
            .map_err(|e| e.context("signal", id))?;
        manager().signal(id, sig).map(|()| GRAZR_OK)
    })
}

/// The verified live PID that the pid file at `path` names, else 0: only the first line
/// counts; it must be a process (not a thread), alive and not a zombie, not the host, and
/// started no later than the file was last written. Negative on error: NULL or empty path
/// (GRAZR_ERR_INVALID_ARGUMENT), a file that exists but cannot be read (GRAZR_ERR_IO).
/// A missing file is 0. Thread-safe.
///
/// # Safety
/// `path` is NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn grazr_read_pid_file(path: *const c_char) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let path = unsafe { convert::path(path, "pid file path") }?;
        crate::read_pid_file(&path).map(|p| p.unwrap_or(0))
    })
}

/// 1 if `pid` names a live process the library would accept as a service (a process, not a
/// thread; not a zombie; not the host, its ancestors, its process group or session leader,
/// and not PID 0 or 1), else 0. The check behind Grazr's check_pid_running. Thread-safe.
#[no_mangle]
pub extern "C" fn grazr_pid_alive(pid: i32) -> i32 {
    boundary(|| Ok(crate::pid_alive(pid) as i32))
}

/// Stops every tracked id, every registered exact id, and every id of a registered template
/// whose pid file exists and names a verified process, all in parallel, each with its
/// registered signal and timeout. Takes about as long as the slowest single stop.
/// GRAZR_OK when all are gone; else the most severe code, with every failing id in the message.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn grazr_stop_all() -> i32 {
    boundary(|| manager().stop_all().map(|()| GRAZR_OK))
}

/// grazr_stop_all that also copies the error message into `error_message` (NULL, or
/// `error_message_size` writable bytes; truncated, NUL-terminated, "" on success), for hosts
/// that read the result on another thread than the one that made the call.
///
/// # Safety
/// `error_message` is NULL or points to `error_message_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn grazr_stop_all_ex(
    error_message: *mut c_char,
    error_message_size: usize,
) -> i32 {
    let rc = grazr_stop_all();
    // SAFETY: forwarded contract.
    unsafe { error::copy_last_error(rc, error_message, error_message_size) }
}

/// Fills `*info` for `process_id` (status, state, PIDs, exit code or signal, start time, pid
/// file, log file, command). Set `info->size = sizeof *info` first; at most that many bytes are
/// written. An unknown id is GRAZR_OK with status STOPPED and zeros. String fields are owned
/// by the library and valid until the next call on this thread.
///
/// # Safety
/// `process_id` is NULL or a valid string; `info` is NULL or points to `info->size` writable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn grazr_process_info(
    process_id: *const c_char,
    info: *mut grazr_info,
) -> i32 {
    boundary(|| {
        // SAFETY: forwarded contract.
        let id = unsafe { convert::process_id(process_id) }?;
        if info.is_null() {
            return Err(Error::invalid("info is NULL"));
        }
        // SAFETY: info is non-NULL and starts with its u32 size.
        let size = unsafe { (*info).size } as usize;
        if size < std::mem::size_of::<u32>() {
            return Err(Error::invalid(format!(
                "info.size is {size}; set it to sizeof the struct"
            )));
        }
        let report = manager().info(id)?;
        let value = fill_info(&report);
        let n = size.min(std::mem::size_of::<grazr_info>());
        // SAFETY: the caller gave `size` writable bytes; we write at most that many, from a
        // struct of ours that does not overlap theirs. The size field is written back as it
        // was, since `value.size` holds the caller's value.
        unsafe {
            ptr::copy_nonoverlapping(
                &grazr_info {
                    size: size as u32,
                    ..value
                } as *const grazr_info as *const u8,
                info as *mut u8,
                n,
            )
        };
        Ok(GRAZR_OK)
    })
}

fn fill_info(report: &ProcessInfo) -> grazr_info {
    let to_c = |p: &Option<PathBuf>| p.clone().map(|p| c_string(p.into_os_string().into_vec()));
    let without_strings = grazr_info {
        size: 0,
        status: report.status as i32,
        state: report.state as i32,
        pid: report.pid.unwrap_or(0),
        pgid: report.pgid.unwrap_or(0),
        child_pid: report.child_pid.unwrap_or(0),
        exit_code: report.exit_code.unwrap_or(-1),
        term_signal: report.term_signal.unwrap_or(0),
        start_time_ms: report.start_time_ms.unwrap_or(0),
        pid_file: ptr::null(),
        log_file: ptr::null(),
        argv: ptr::null(),
    };
    // During thread exit the thread-locals may be gone: then the strings are left out.
    HANDOUT
        .try_with(|cell| {
            let mut h = cell.borrow_mut();
            h.strings.clear();
            h.pointers.clear();
            let pid_file = to_c(&report.pid_file);
            let log_file = to_c(&report.log_file);
            let argv: Vec<CString> = report
                .argv
                .iter()
                .map(|a: &OsString| c_string(a.clone().into_vec()))
                .collect();
            let pid_file_ptr = pid_file.as_ref().map_or(ptr::null(), |s| s.as_ptr());
            let log_file_ptr = log_file.as_ref().map_or(ptr::null(), |s| s.as_ptr());
            h.pointers.extend(argv.iter().map(|s| s.as_ptr()));
            h.pointers.push(ptr::null());
            let argv_ptr = if argv.is_empty() {
                ptr::null()
            } else {
                h.pointers.as_ptr()
            };
            h.strings.extend(pid_file);
            h.strings.extend(log_file);
            h.strings.extend(argv);
            grazr_info {
                pid_file: pid_file_ptr,
                log_file: log_file_ptr,
                argv: argv_ptr,
                ..without_strings
            }
        })
        .unwrap_or(without_strings)
}

/// Lists the ids the library tracks: running, or ended with an error that has not been
/// cleared. Returns how many; `*ids` (unless `ids` is NULL) receives a NULL-terminated array of
/// them, owned by the library and valid until the next call on this thread. Thread-safe.
///
/// # Safety
/// `ids` is NULL or points to a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn grazr_list(ids: *mut *const *const c_char) -> i32 {
    boundary(|| {
        let listed = manager().list();
        let count = listed.len() as i32;
        // During thread exit the thread-locals may be gone: then no list can be handed out.
        let handed = HANDOUT.try_with(|cell| {
            let mut h = cell.borrow_mut();
            h.strings = listed
                .into_iter()
                .map(|id| c_string(id.into_bytes()))
                .collect();
            let pointers: Vec<*const c_char> = h.strings.iter().map(|s| s.as_ptr()).collect();
            h.pointers = pointers;
            h.pointers.push(ptr::null());
            h.pointers.as_ptr()
        });
        let Ok(array) = handed else {
            return Err(Error::new(
                crate::ErrorKind::Internal,
                "grazr_list: called while this thread exits; its list storage is gone",
            ));
        };
        if !ids.is_null() {
            // SAFETY: non-NULL and writable per the caller's contract.
            unsafe { *ids = array };
        }
        Ok(count)
    })
}

/// Lets go of everything the library holds: forgets every tracked id and closes its pidfd.
/// Processes keep running, and a later call finds registered services again through their pid
/// files. The library starts no background threads, so there is nothing to join. Call it
/// before unloading the library. Thread-safe.
///
/// Children the library spawned become the host's own: the library no longer reaps them, so
/// one that exits stays a zombie until the host reaps it (or exits). A stop of such a process
/// after it was found again still works: a zombie counts as gone.
#[no_mangle]
pub extern "C" fn grazr_shutdown() -> i32 {
    boundary(|| {
        manager().shutdown();
        Ok(GRAZR_OK)
    })
}
