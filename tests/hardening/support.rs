//! Helpers shared by the hardening tests (tests/hardening_*.rs), on top of tests/common/mod.rs:
//! raw C-ABI calls with owned C strings, descriptor and zombie snapshots, and skip rules.
//!
//! Included with `#[path = "hardening/support.rs"] mod support;` after `mod common;`.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::{c_char, CStr, CString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use grazr_proc::ffi;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// An id nobody else uses: the C ABI has one global registry shared by every test of a binary.
pub fn unique_id(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    )
}

/// A C string from bytes (any bytes but NUL).
pub fn cs(bytes: impl AsRef<[u8]>) -> CString {
    CString::new(bytes.as_ref().to_vec()).expect("no NUL inside a test string")
}

/// A NULL-terminated `const char *const *` array that owns its strings.
pub struct CArray {
    _strings: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

impl CArray {
    pub fn new<I, S>(items: I) -> CArray
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let strings: Vec<CString> = items.into_iter().map(|s| cs(s)).collect();
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CArray {
            _strings: strings,
            ptrs,
        }
    }

    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }
}

/// This thread's last error message.
pub fn last_error() -> String {
    // SAFETY: never NULL, valid until the next library call on this thread; copied at once.
    unsafe { CStr::from_ptr(ffi::grazr_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

pub fn name_of(code: i32) -> String {
    // SAFETY: a static string.
    unsafe { CStr::from_ptr(ffi::grazr_result_name(code)) }
        .to_string_lossy()
        .into_owned()
}

/// Start options with the size set and the documented defaults for the rest.
pub fn start_opts() -> ffi::grazr_start_options {
    ffi::grazr_start_options {
        size: std::mem::size_of::<ffi::grazr_start_options>() as u32,
        flags: 0,
        pid_file_path: std::ptr::null(),
        working_dir: std::ptr::null(),
        env: std::ptr::null(),
        log_file_path: std::ptr::null(),
        startup_window_ms: -1,
        pid_file_timeout_ms: -1,
        error_message: std::ptr::null_mut(),
        error_message_size: 0,
    }
}

pub fn stop_opts() -> ffi::grazr_stop_options {
    ffi::grazr_stop_options {
        size: std::mem::size_of::<ffi::grazr_stop_options>() as u32,
        flags: 0,
        signal: 0,
        timeout_ms: -1,
        pid_file_path: std::ptr::null(),
        error_message: std::ptr::null_mut(),
        error_message_size: 0,
    }
}

pub fn info_struct() -> ffi::grazr_info {
    ffi::grazr_info {
        size: std::mem::size_of::<ffi::grazr_info>() as u32,
        status: -99,
        state: -99,
        pid: -99,
        pgid: -99,
        child_pid: -99,
        exit_code: -99,
        term_signal: -99,
        start_time_ms: -99,
        pid_file: std::ptr::null(),
        log_file: std::ptr::null(),
        argv: std::ptr::null(),
    }
}

/// C-ABI calls with Rust strings (for the rows that are not about the pointers themselves).
pub fn c_start(
    id: &str,
    argv: &[&[u8]],
    env: &[&[u8]],
    opts: &mut ffi::grazr_start_options,
) -> i32 {
    let id = cs(id);
    let argv = CArray::new(argv.iter());
    let env = CArray::new(env.iter());
    opts.env = env.as_ptr();
    // SAFETY: every pointer lives until the call returns.
    let rc = unsafe { ffi::grazr_start_process_ex(id.as_ptr(), argv.as_ptr(), opts) };
    opts.env = std::ptr::null();
    rc
}

pub fn c_stop(id: &str, signal: i32, timeout_ms: i32) -> i32 {
    let id = cs(id);
    // SAFETY: a valid string.
    unsafe { ffi::grazr_stop_process(id.as_ptr(), signal, timeout_ms) }
}

pub fn c_stop_pid_file(id: &str, pid_file: &Path, timeout_ms: i32) -> i32 {
    let id = cs(id);
    let pf = cs(pid_file.as_os_str().as_encoded_bytes());
    let mut o = stop_opts();
    o.pid_file_path = pf.as_ptr();
    o.timeout_ms = timeout_ms;
    // SAFETY: valid strings and struct for the call.
    unsafe { ffi::grazr_stop_process_ex(id.as_ptr(), &o) }
}

pub fn c_status(id: &str) -> i32 {
    let id = cs(id);
    // SAFETY: a valid string.
    unsafe { ffi::grazr_status(id.as_ptr()) }
}

pub fn c_pid(id: &str) -> i32 {
    let id = cs(id);
    // SAFETY: a valid string.
    unsafe { ffi::grazr_get_pid(id.as_ptr()) }
}

pub fn c_signal(id: &str, sig: i32) -> i32 {
    let id = cs(id);
    // SAFETY: a valid string.
    unsafe { ffi::grazr_signal_process(id.as_ptr(), sig) }
}

pub fn c_read_pid_file(path: &Path) -> i32 {
    let p = cs(path.as_os_str().as_encoded_bytes());
    // SAFETY: a valid string.
    unsafe { ffi::grazr_read_pid_file(p.as_ptr()) }
}

pub fn c_register(
    pattern: &str,
    template: Option<&str>,
    program: Option<&str>,
    sig: i32,
    timeout: i32,
) -> i32 {
    let pattern = cs(pattern);
    let template = template.map(cs);
    let program = program.map(cs);
    // SAFETY: valid strings or NULL.
    unsafe {
        ffi::grazr_register_service(
            pattern.as_ptr(),
            template.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
            program.as_ref().map_or(std::ptr::null(), |t| t.as_ptr()),
            sig,
            timeout,
        )
    }
}

/// The ids grazr_list reports.
pub fn c_list() -> Vec<String> {
    let mut ids: *const *const c_char = std::ptr::null();
    // SAFETY: a valid out pointer; the array is read before the next call on this thread.
    let n = unsafe { ffi::grazr_list(&mut ids) };
    assert!(n >= 0, "grazr_list failed: {n} {}", last_error());
    let mut out = Vec::new();
    for i in 0..n as usize {
        // SAFETY: n entries, each a valid string, then NULL.
        let p = unsafe { *ids.add(i) };
        assert!(!p.is_null(), "grazr_list: entry {i} of {n} is NULL");
        out.push(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
    }
    // SAFETY: the array is NULL-terminated after n entries.
    assert!(
        unsafe { *ids.add(n as usize) }.is_null(),
        "grazr_list: no NULL terminator"
    );
    out
}

pub fn c_info(id: &str) -> (i32, ffi::grazr_info) {
    let cid = cs(id);
    let mut info = info_struct();
    // SAFETY: valid string and struct of the declared size.
    let rc = unsafe { ffi::grazr_process_info(cid.as_ptr(), &mut info) };
    (rc, info)
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/// Descriptors of this process that the library could have leaked: pidfds, inotify instances,
/// and files under `dir` (logs, pid files). Parallel tests in one binary open other things.
pub fn library_fds(dir: Option<&Path>) -> BTreeSet<(i32, String)> {
    let mut out = BTreeSet::new();
    let Ok(rd) = fs::read_dir("/proc/self/fd") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(fd) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(target) = fs::read_link(e.path()) else {
            continue;
        };
        let t = target.to_string_lossy().into_owned();
        let ours = t.contains("pidfd")
            || t.contains("inotify")
            || dir.is_some_and(|d| target.starts_with(d));
        if ours {
            out.insert((fd, t));
        }
    }
    out
}

/// Every descriptor of this process, with its target.
pub fn all_fds() -> BTreeSet<(i32, String)> {
    let mut out = BTreeSet::new();
    if let Ok(rd) = fs::read_dir("/proc/self/fd") {
        for e in rd.flatten() {
            if let (Some(fd), Ok(t)) = (
                e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()),
                fs::read_link(e.path()),
            ) {
                out.insert((fd, t.to_string_lossy().into_owned()));
            }
        }
    }
    out
}

/// Children of this process that are zombies (nobody reaped them).
pub fn zombie_children() -> Vec<i32> {
    let me = std::process::id() as i32;
    crate::common::proc_pids()
        .into_iter()
        .filter(|&pid| crate::common::stat(pid).is_some_and(|st| st.ppid == me && st.state == 'Z'))
        .collect()
}

/// The thread ids of this process.
pub fn my_tids() -> Vec<i32> {
    fs::read_dir("/proc/self/task")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Skips

pub fn is_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Prints SKIPPED with the reason; with CI=true a skip is a failure.
pub fn skip(reason: &str) {
    if is_ci() {
        panic!("would skip, but CI=true makes it a failure: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Whether `unshare ARGS true` works here (user namespaces and mount namespaces may be refused
/// inside containers).
pub fn unshare_works(args: &[&str]) -> bool {
    Command::new("unshare")
        .args(args)
        .arg("true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Builds tests/hardening/NAME.c (and links the static library when `with_lib`) into
/// target/hardening-bin, once per binary and source change. Returns the executable.
pub fn build_c(name: &str, with_lib: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("tests/hardening").join(format!("{name}.c"));
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("hardening-bin");
    fs::create_dir_all(&out_dir).expect("create target/hardening-bin");
    let dest = out_dir.join(name);
    let tmp = out_dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let mut cmd = Command::new("cc");
    cmd.args([
        "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread", "-o",
    ])
    .arg(&tmp)
    .arg(&src);
    if with_lib {
        let lib = static_lib();
        cmd.arg(format!("-I{}", root.join("include").display()))
            .arg(lib)
            .args([
                "-lgcc_s",
                "-lutil",
                "-lrt",
                "-lpthread",
                "-lm",
                "-ldl",
                "-lc",
            ]);
    }
    let st = cmd.status().expect("run cc (a C compiler is required)");
    assert!(st.success(), "cc failed for {}", src.display());
    fs::rename(&tmp, &dest).expect("move the binary into place");
    dest
}

/// libgrazr_proc.a of this profile's build. `cargo test` builds the rlib only, so the static
/// library is built on demand with `cargo build --release` when it is missing or older than
/// the sources.
pub fn static_lib() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    let lib = target.join("release/libgrazr_proc.a");
    let newest_src = walk_newest(&root.join("src"));
    let fresh = fs::metadata(&lib)
        .and_then(|m| m.modified())
        .is_ok_and(|t| Some(t) >= newest_src);
    if !fresh {
        let st = Command::new(env!("CARGO"))
            .args(["build", "--release", "--lib", "--manifest-path"])
            .arg(root.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .expect("run cargo build --release");
        assert!(st.success(), "cargo build --release failed");
    }
    lib
}

fn walk_newest(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for e in fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            walk_newest(&p)
        } else {
            fs::metadata(&p).and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// On drop (also while a test unwinds), SIGKILLs every live process that carries the tag, by
/// PID, then removes the directory. For tests whose `Ctx` is leaked to get a 'static lifetime,
/// and so is never dropped.
pub struct KillTagged(pub String, pub PathBuf);

impl Drop for KillTagged {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.1);
    }
}

impl KillTagged {
    fn kill(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        loop {
            let left = crate::common::tagged_processes(&self.0);
            if left.is_empty() || std::time::Instant::now() > deadline {
                return;
            }
            for pid in left {
                if pid > 1 && pid != std::process::id() as i32 {
                    // SAFETY: a PID found carrying this test's unique tag; a constant signal.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
