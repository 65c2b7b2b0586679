//! Turning C strings, arrays and option structs into Rust values, with every check the
//! contract promises (NULL, empty, not UTF-8, longer than PATH_MAX).

use std::ffi::{c_char, CStr, OsStr, OsString};
use std::mem::size_of;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::Error;

/// Longest id or path accepted, in bytes, as Linux's PATH_MAX (4096 including the NUL).
const PATH_MAX: usize = libc::PATH_MAX as usize - 1;
/// Most entries accepted in argv or env; far beyond ARG_MAX in practice, it only bounds a
/// runaway array that lacks its terminating NULL from being walked forever.
const MAX_ENTRIES: usize = 1 << 20;

/// A C string that must be there; `what` names it in the message.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
pub(super) unsafe fn required<'a>(ptr: *const c_char, what: &str) -> Result<&'a CStr, Error> {
    if ptr.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(ptr) };
    if s.to_bytes().is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if s.to_bytes().len() > PATH_MAX {
        return Err(Error::invalid(format!(
            "{what} is longer than PATH_MAX ({PATH_MAX} bytes)"
        )));
    }
    Ok(s)
}

/// A process id: present, not empty, UTF-8, at most PATH_MAX bytes.
///
/// # Safety
/// As [`required`].
pub(super) unsafe fn process_id<'a>(ptr: *const c_char) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { required(ptr, "process id") }?;
    s.to_str()
        .map_err(|_| Error::invalid(format!("process id {s:?} is not UTF-8")))
}

/// An optional path: NULL or empty is `None`.
///
/// # Safety
/// As [`required`].
pub(super) unsafe fn optional_path(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<PathBuf>, Error> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    if unsafe { CStr::from_ptr(ptr) }.to_bytes().is_empty() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    let s = unsafe { required(ptr, what) }?;
    Ok(Some(PathBuf::from(OsStr::from_bytes(s.to_bytes()))))
}

/// A required path.
///
/// # Safety
/// As [`required`].
pub(super) unsafe fn path(ptr: *const c_char, what: &str) -> Result<PathBuf, Error> {
    // SAFETY: forwarded contract.
    let s = unsafe { required(ptr, what) }?;
    Ok(PathBuf::from(OsStr::from_bytes(s.to_bytes())))
}

/// A NULL-terminated array of C strings; a NULL array is empty.
///
/// # Safety
/// `ptr` is NULL or points to an array of string pointers ending with NULL, each valid for the
/// call.
pub(super) unsafe fn string_array(
    ptr: *const *const c_char,
    what: &str,
) -> Result<Vec<OsString>, Error> {
    let mut out = Vec::new();
    if ptr.is_null() {
        return Ok(out);
    }
    loop {
        if out.len() >= MAX_ENTRIES {
            return Err(Error::invalid(format!(
                "{what} has more than {MAX_ENTRIES} entries"
            )));
        }
        // SAFETY: the array is NULL-terminated, and we have not passed the terminator yet.
        let item = unsafe { *ptr.add(out.len()) };
        if item.is_null() {
            return Ok(out);
        }
        // SAFETY: each entry is a valid NUL-terminated string per the caller's contract.
        out.push(OsStr::from_bytes(unsafe { CStr::from_ptr(item) }.to_bytes()).to_owned());
    }
}

/// Copies a caller's versioned struct (leading `uint32_t size`) over `defaults`: fields the
/// caller's version lacks keep their defaults, fields it has beyond ours are ignored.
///
/// # Safety
/// `ptr` is NULL or points to at least `size` readable bytes, where `size` is the struct's
/// first field.
pub(super) unsafe fn sized_struct<T: Copy>(
    ptr: *const T,
    defaults: T,
    what: &str,
) -> Result<T, Error> {
    if ptr.is_null() {
        return Ok(defaults);
    }
    // SAFETY: every versioned struct starts with its u32 size, which is readable.
    let size = unsafe { *(ptr as *const u32) } as usize;
    if size < size_of::<u32>() {
        return Err(Error::invalid(format!(
            "{what}.size is {size}; set it to sizeof the struct"
        )));
    }
    let mut value = defaults;
    let n = size.min(size_of::<T>());
    // SAFETY: the caller's struct has at least `size` readable bytes and ours `size_of::<T>()`
    // writable ones; the two do not overlap; T is plain old data (Copy, repr(C)).
    unsafe { std::ptr::copy_nonoverlapping(ptr as *const u8, &mut value as *mut T as *mut u8, n) };
    Ok(value)
}
