//! Result codes, the thread-local last error, and static names for codes.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

use crate::{Error, ErrorKind};

use super::*;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(super) fn code_of(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidArgument => GRAZR_ERR_INVALID_ARGUMENT,
        ErrorKind::Spawn => GRAZR_ERR_SPAWN,
        ErrorKind::Exited => GRAZR_ERR_EXITED,
        ErrorKind::Timeout => GRAZR_ERR_TIMEOUT,
        ErrorKind::Permission => GRAZR_ERR_PERMISSION,
        ErrorKind::Io => GRAZR_ERR_IO,
        ErrorKind::NotRunning => GRAZR_ERR_NOT_RUNNING,
        ErrorKind::Internal => GRAZR_ERR_INTERNAL,
    }
}

fn set_message(message: &str) {
    // A message cannot hold NUL in C; replace any (an id or path never has one, an OS
    // message might in theory) rather than lose the whole text.
    let text = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
    // try_with: during thread exit (an atexit handler) the thread-locals may be gone; the
    // message is then lost rather than the process aborted.
    let _ = LAST_ERROR.try_with(|cell| *cell.borrow_mut() = text);
}

pub(super) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| {
        let mut last = cell.borrow_mut();
        if !last.as_bytes().is_empty() {
            *last = CString::default();
        }
    });
}

pub(super) fn store_error(err: &Error) -> i32 {
    set_message(err.message());
    code_of(err.kind())
}

/// Copies this thread's last error message into the caller's `buf` of `size` bytes (truncated
/// on a character boundary and NUL-terminated), and passes `rc` through.
///
/// # Safety
/// `buf` is NULL or points to `size` writable bytes.
pub(super) unsafe fn copy_last_error(rc: i32, buf: *mut c_char, size: usize) -> i32 {
    if buf.is_null() || size == 0 {
        return rc;
    }
    let copied = LAST_ERROR.try_with(|cell| {
        let last = cell.borrow();
        let text = last.to_str().unwrap_or_default();
        let mut n = text.len().min(size - 1);
        while !text.is_char_boundary(n) {
            n -= 1;
        }
        // SAFETY: n + 1 <= size bytes are written into the caller's buffer, which does not
        // overlap our string.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
            *buf.add(n) = 0;
        }
    });
    if copied.is_err() {
        // SAFETY: size >= 1, so the first byte is writable.
        unsafe { *buf = 0 };
    }
    rc
}

pub(super) fn store_panic(panic: Box<dyn Any + Send>) -> i32 {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    set_message(&format!(
        "internal error (a bug in grazr_proc, please report it): {what}"
    ));
    GRAZR_ERR_INTERNAL
}

/// The message of the last failed call on this thread: what failed, for which id, which path,
/// and the OS error. Empty after a successful call.
///
/// Never NULL. The string belongs to the library and stays valid until the next call into the
/// library on this thread, except grazr_last_error_message, grazr_result_name and
/// grazr_version, which neither clear nor replace it. Thread-safe: each thread has its own.
#[no_mangle]
pub extern "C" fn grazr_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|cell| cell.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// A static name for a result code: "GRAZR_OK", "GRAZR_ERR_SPAWN", ...; "GRAZR_ERR_UNKNOWN" for
/// a value that is no code. Never NULL; never freed. Thread-safe.
#[no_mangle]
pub extern "C" fn grazr_result_name(code: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match code {
        GRAZR_OK => c"GRAZR_OK",
        GRAZR_ERR_INVALID_ARGUMENT => c"GRAZR_ERR_INVALID_ARGUMENT",
        GRAZR_ERR_SPAWN => c"GRAZR_ERR_SPAWN",
        GRAZR_ERR_EXITED => c"GRAZR_ERR_EXITED",
        GRAZR_ERR_TIMEOUT => c"GRAZR_ERR_TIMEOUT",
        GRAZR_ERR_PERMISSION => c"GRAZR_ERR_PERMISSION",
        GRAZR_ERR_IO => c"GRAZR_ERR_IO",
        GRAZR_ERR_NOT_RUNNING => c"GRAZR_ERR_NOT_RUNNING",
        GRAZR_ERR_INTERNAL => c"GRAZR_ERR_INTERNAL",
        _ => c"GRAZR_ERR_UNKNOWN",
    };
    name.as_ptr()
}

/// The library's version, "MAJOR.MINOR.PATCH", as in GRAZR_PROC_VERSION. Static; never NULL.
#[no_mangle]
pub extern "C" fn grazr_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
