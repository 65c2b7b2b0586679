//! libFuzzer over grazr_proc's C ABI: sequences of start, stop, status, get_pid, signal, info,
//! list, stop_all, shutdown, service registration, pid-file writes and reads, driven by the
//! input bytes. Ids, argv, env entries, paths, signals, timeouts, templates and pid-file
//! contents all come from the input.
//!
//! Harmless as root, by construction:
//! - it refuses to run outside the sandbox fuzz/run.sh makes (a fresh PID and mount namespace,
//!   GRAZR_FUZZ_SANDBOX=1), so the only processes it can see, and so signal, are its own;
//! - every path is rooted in a fresh temporary directory (the cwd is set there too, so
//!   relative paths land inside it), and path text from the input can neither start with '/'
//!   nor hold "..";
//! - argv[0] never holds a '/', and the child's PATH is always set last to a directory of
//!   helper programs (true, false, sleep and small sh scripts that take no paths from their
//!   arguments); environment names from the input get an "FZ" prefix, so LD_PRELOAD and
//!   friends cannot be set.
//!
//! Oracles: no panic (GRAZR_ERR_INTERNAL) and no unknown code; a message exactly when a call
//! fails; get_pid, read_pid_file never name PID 1 or the host; after each input the library
//! holds no descriptor more than before, stop_all succeeds once the sandbox is swept, and the
//! list is then empty.
#![no_main]

use std::ffi::{c_char, CStr, CString};
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::PathBuf;
use std::ptr;
use std::sync::OnceLock;

use grazr_proc::ffi::*;
use libfuzzer_sys::fuzz_target;

struct Sandbox {
    work: PathBuf,
    bin: PathBuf,
    path_env: CString,
    fd_baseline: usize,
    tid: i32,
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
static ROOT: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn remove_root() {
    if let Some(root) = ROOT.get() {
        let _ = fs::remove_dir_all(root);
    }
}

fn sandbox() -> &'static Sandbox {
    SANDBOX.get_or_init(|| {
        if std::env::var("GRAZR_FUZZ_SANDBOX").as_deref() != Ok("1") || std::process::id() > 1000 {
            eprintln!(
                "c_abi: refusing to run outside the sandbox; use fuzz/run.sh (unshare -pfm, \
                 GRAZR_FUZZ_SANDBOX=1)"
            );
            std::process::abort();
        }
        // PIDs repeat from one namespace to the next: the time makes the name unique.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = std::env::temp_dir().join(format!("grazr-fuzz-{}-{nanos}", std::process::id()));
        let _ = ROOT.set(root.clone());
        // SAFETY: registers a plain function without arguments; libFuzzer leaves through exit().
        unsafe { libc::atexit(remove_root) };
        let bin = root.join("bin");
        let work = root.join("work");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&work).unwrap();
        for (name, target) in [
            ("true", "/bin/true"),
            ("false", "/bin/false"),
            ("sleep", "/bin/sleep"),
        ] {
            symlink(target, bin.join(name)).unwrap();
        }
        let run = work.join("run");
        let scripts = [
            // A daemonizing launcher: exits 0, its daemon writes a pid file at a fixed place.
            (
                "daemon",
                format!(
                    "( /bin/sleep 30 & echo $! > {}/daemon.pid )\nexit 0\n",
                    run.display()
                ),
            ),
            // A foreground service that writes its own pid file.
            (
                "fg_pid",
                format!("echo $$ > {}/fg.pid\nexec /bin/sleep 30\n", run.display()),
            ),
            (
                "stubborn",
                "trap '' TERM\nwhile :; do /bin/sleep 1; done\n".to_string(),
            ),
            // A grandchild in a new session: out of reach of the group kill, swept later.
            (
                "escape",
                "/usr/bin/setsid /bin/sleep 30 &\nexec /bin/sleep 30\n".to_string(),
            ),
            ("exit3", "echo failing; exit 3\n".to_string()),
            (
                "workers",
                "/bin/sleep 30 &\n/bin/sleep 30 &\nexec /bin/sleep 30\n".to_string(),
            ),
        ];
        for (name, body) in scripts {
            let p = bin.join(name);
            fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::env::set_current_dir(&work).unwrap();
        let path_env = CString::new(format!("PATH={}", bin.display())).unwrap();
        // A host thread whose TID pid files may name.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // SAFETY: no arguments.
            tx.send(unsafe { libc::gettid() }).unwrap();
            loop {
                std::thread::park();
            }
        });
        let tid = rx.recv().unwrap();
        let mut sb = Sandbox {
            work,
            bin,
            path_env,
            fd_baseline: 0,
            tid,
        };
        reset_work(&sb);
        sb.fd_baseline = fd_count();
        sb
    })
}

fn reset_work(sb: &Sandbox) {
    if let Ok(rd) = fs::read_dir(&sb.work) {
        for e in rd.flatten() {
            let p = e.path();
            if fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
                let _ = fs::remove_dir_all(&p);
            } else {
                let _ = fs::remove_file(&p);
            }
        }
    }
    let _ = fs::create_dir_all(sb.work.join("run"));
    let _ = fs::create_dir_all(sb.work.join("dir"));
    let _ = fs::write(sb.work.join("file"), "plain");
    let _ = symlink("/dev/zero", sb.work.join("devzero"));
    let fifo = CString::new(sb.work.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid path string.
    unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };
}

fn fd_count() -> usize {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Reads the input a byte (or a few) at a time; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn i32(&mut self) -> i32 {
        i32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// Up to `max` bytes, length-prefixed; never NUL.
    fn blob(&mut self, max: usize) -> Vec<u8> {
        let n = (self.u8() as usize) % (max + 1);
        (0..n).map(|_| self.u8()).filter(|&b| b != 0).collect()
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

fn cstr(b: impl Into<Vec<u8>>) -> CString {
    CString::new(
        b.into()
            .into_iter()
            .filter(|&c| c != 0)
            .collect::<Vec<u8>>(),
    )
    .unwrap()
}

/// Path text from the input, made safe: a relative path of [a-z0-9._-/{}] without "..".
fn safe_rel(raw: &[u8], allow_braces: bool) -> String {
    let mut s: String = raw
        .iter()
        .map(|&b| b.to_ascii_lowercase())
        .filter(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'.' | b'_' | b'-' | b'/')
                || (allow_braces && matches!(b, b'{' | b'}'))
        })
        .map(char::from)
        .collect();
    while s.contains("..") {
        s = s.replace("..", ".");
    }
    s.trim_start_matches('/').to_string()
}

/// A path argument: NULL, empty, one of the sandbox's special files, or input text under it.
fn path_arg(sb: &Sandbox, b: &mut Bytes) -> Option<CString> {
    let w = &sb.work;
    let p = |rel: &str| Some(cstr(w.join(rel).into_os_string().into_encoded_bytes()));
    match b.u8() % 16 {
        0 => None,
        1 => Some(cstr("")),
        2 => p("run/daemon.pid"),
        3 => p("run/fg.pid"),
        4 => p("a.pid"),
        5 => p("sub/dir/b.pid"),
        6 => p("log/out.log"),
        7 => p("fifo"),
        8 => p("dir"),
        9 => p("devzero"),
        10 => p("file/under"),
        11 => p("file"),
        12 => Some(cstr(format!("{}/{}", w.display(), "y".repeat(4100)))),
        13 => Some(cstr(safe_rel(&b.blob(24), false))), // relative: resolves in the cwd
        14 => Some(cstr("/dev/null")),
        _ => p(&safe_rel(&b.blob(32), false)),
    }
}

fn ptr_of(c: &Option<CString>) -> *const c_char {
    c.as_ref().map_or(ptr::null(), |c| c.as_ptr())
}

const IDS: &[&str] = &[
    "a",
    "b",
    "svc-1",
    "php-fpm-8.1",
    "php-fpm-7.4",
    "internal-nginx",
    "fz-x-y",
    "x{y}",
    "é",
];

fn id_arg(b: &mut Bytes) -> Option<CString> {
    let k = b.u8() as usize % (IDS.len() + 4);
    if k < IDS.len() {
        return Some(cstr(IDS[k]));
    }
    match k - IDS.len() {
        0 => None,
        1 if skip_known() => Some(cstr("z".repeat(200))),
        1 => Some(cstr("z".repeat(if b.u8() % 2 == 0 { 4095 } else { 4096 }))),
        _ => Some(cstr(b.blob(12))), // any bytes: empty, not UTF-8, ...
    }
}

fn signal_arg(b: &mut Bytes) -> i32 {
    const S: &[i32] = &[
        0,
        1,
        2,
        3,
        9,
        10,
        12,
        15,
        15,
        15,
        18,
        19,
        28,
        34,
        64,
        65,
        -1,
        i32::MIN,
        i32::MAX,
    ];
    let k = b.u8() as usize % (S.len() + 1);
    if k < S.len() {
        S[k]
    } else {
        b.i32()
    }
}

fn stop_timeout_arg(b: &mut Bytes) -> i32 {
    // Only short waits: the default (5 s) and "never" (30 s) are there, but the helpers that
    // ignore SIGTERM would make each such input take seconds.
    match b.u8() % 10 {
        0 => 0,
        1 => 1,
        2 => 10,
        3 => 50,
        4 => 100,
        5 => -1,
        6 => i32::MIN,
        7 => -(b.u8() as i32) - 1,
        _ => (b.u8() % 100) as i32,
    }
}

fn register_timeout_arg(b: &mut Bytes) -> i32 {
    match b.u8() % 6 {
        0 => -1,
        1 => 0,
        2 => i32::MIN,
        3 => i32::MAX, // never SIGKILL: stops of it are given short explicit timeouts below
        _ => (b.u8() % 100) as i32,
    }
}

fn program_arg(sb: &Sandbox, b: &mut Bytes) -> Vec<u8> {
    const P: &[&str] = &[
        "true", "false", "sleep", "sleep", "daemon", "fg_pid", "stubborn", "escape", "exit3",
        "workers", "",
    ];
    let k = b.u8() as usize % (P.len() + 2);
    if k < P.len() {
        return P[k].as_bytes().to_vec();
    }
    if k == P.len() {
        return sb.bin.join("sleep").into_os_string().into_encoded_bytes();
    }
    // Input text without '/': searched only in the helper directory.
    b.blob(10).into_iter().filter(|&c| c != b'/').collect()
}

fn env_arg(sb: &Sandbox, b: &mut Bytes) -> Vec<CString> {
    let mut env = Vec::new();
    for _ in 0..b.u8() % 4 {
        let e = match b.u8() % 6 {
            0 => b"PATH".to_vec(),
            1 => b"HOME".to_vec(),
            2 => b"=x".to_vec(),
            3 => Vec::new(),
            4 => {
                let mut k = b"FZ".to_vec();
                k.extend(b.blob(6).into_iter().filter(|&c| c != b'='));
                k
            }
            _ => {
                let mut k = b"FZ".to_vec();
                k.extend(b.blob(6).into_iter().filter(|&c| c != b'='));
                k.push(b'=');
                k.extend(b.blob(16));
                k
            }
        };
        env.push(cstr(e));
    }
    // Last, so that it wins over anything above.
    env.push(sb.path_env.clone());
    env
}

fn array(v: &[CString]) -> Vec<*const c_char> {
    v.iter().map(|c| c.as_ptr()).chain([ptr::null()]).collect()
}

fn message() -> String {
    // SAFETY: never NULL; copied at once.
    unsafe { CStr::from_ptr(grazr_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// The result of a call that gives a code: known, and a message exactly when it failed.
fn check(what: &str, rc: i32) {
    let msg = message();
    assert!(
        rc != GRAZR_ERR_INTERNAL,
        "{what}: GRAZR_ERR_INTERNAL: {msg}"
    );
    assert!(rc >= -7, "{what}: unknown code {rc}: {msg}");
    if rc < 0 {
        assert!(!msg.is_empty(), "{what}: failed with {rc} and no message");
    } else {
        assert!(
            msg.is_empty(),
            "{what}: succeeded ({rc}) with a message: {msg}"
        );
    }
}

/// Thread ids of this process other than the main thread.
fn other_tids() -> Vec<i32> {
    let me = std::process::id() as i32;
    fs::read_dir("/proc/self/task")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .filter(|&t| t != me)
                .collect()
        })
        .unwrap_or_default()
}

/// GRAZR_FUZZ_SKIP_KNOWN=1 keeps the inputs away from the two known bugs (see
/// tests/hardening/README.md), which would otherwise end every run within seconds: pid files
/// naming a thread of this process (pidfd_open gives ENOENT, reported as GRAZR_ERR_IO), and
/// ids so long that a template makes a file name beyond NAME_MAX (ENAMETOOLONG, reported as
/// GRAZR_ERR_IO by stop and status of an id that does not run). Off by default, so that the
/// smoke fails until they are fixed.
fn skip_known() -> bool {
    std::env::var_os("GRAZR_FUZZ_SKIP_KNOWN").is_some_and(|v| v == "1")
}

fn pid_content(sb: &Sandbox, b: &mut Bytes) -> Vec<u8> {
    let content = pid_content_raw(sb, b);
    if skip_known() {
        let first = content.split(|&c| c == b'\n').next().unwrap_or_default();
        let n = std::str::from_utf8(first)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        if n.is_some_and(|n| other_tids().contains(&n)) {
            return b"0\n".to_vec();
        }
    }
    content
}

fn pid_content_raw(sb: &Sandbox, b: &mut Bytes) -> Vec<u8> {
    // SAFETY: plain getters.
    let (me, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
    let any_tracked = {
        let id = cstr(IDS[b.u8() as usize % IDS.len()]);
        // SAFETY: a valid string.
        unsafe { grazr_get_pid(id.as_ptr()) }
    };
    match b.u8() % 12 {
        0 => b"0\n".to_vec(),
        1 => b"1\n".to_vec(),
        2 => b"-1\n".to_vec(),
        3 => format!("{me}\n").into_bytes(),
        4 => format!("{}\n", sb.tid).into_bytes(),
        5 => format!("{ppid}\n").into_bytes(),
        6 => format!("{any_tracked}\n").into_bytes(),
        7 => format!("{}", b.i32()).into_bytes(),
        8 => b"99999999999\n".to_vec(),
        9 => format!("{any_tracked}\nsecond line\n").into_bytes(),
        // Any small number: in this namespace it is one of ours, or nobody.
        10 => format!(" {} \n", b.u8() % 64).into_bytes(),
        _ => b.blob(16),
    }
}

fn one_op(sb: &Sandbox, b: &mut Bytes) {
    let op = b.u8() % 16;
    match op {
        0..=2 => {
            let id = id_arg(b);
            let mut argv = vec![cstr(program_arg(sb, b))];
            for _ in 0..b.u8() % 4 {
                argv.push(cstr(b.blob(12)));
            }
            let argv_p = array(&argv);
            let env = env_arg(sb, b);
            let env_p = array(&env);
            let pid_file = path_arg(sb, b);
            let cwd = if b.u8() % 4 == 0 {
                path_arg(sb, b)
            } else {
                None
            };
            let log = path_arg(sb, b);
            let mut errbuf = [0 as c_char; 64];
            let opts = grazr_start_options {
                size: if b.u8() == 7 {
                    2
                } else {
                    std::mem::size_of::<grazr_start_options>() as u32
                },
                flags: (b.u8() % 2) as u32,
                pid_file_path: ptr_of(&pid_file),
                working_dir: ptr_of(&cwd),
                env: env_p.as_ptr(),
                log_file_path: ptr_of(&log),
                startup_window_ms: [0, 0, 1, 20][b.u8() as usize % 4],
                pid_file_timeout_ms: [1, 20, 50, 100][b.u8() as usize % 4],
                error_message: errbuf.as_mut_ptr(),
                error_message_size: errbuf.len(),
            };
            let argv_arg = if b.u8() == 3 {
                ptr::null()
            } else {
                argv_p.as_ptr()
            };
            // SAFETY: every pointer lives until the call returns.
            let rc = unsafe { grazr_start_process_ex(ptr_of(&id), argv_arg, &opts) };
            check("start", rc);
        }
        3 | 4 => {
            let id = id_arg(b);
            let pid_file = path_arg(sb, b);
            let opts = grazr_stop_options {
                size: std::mem::size_of::<grazr_stop_options>() as u32,
                flags: (b.u8() % 2) as u32,
                signal: signal_arg(b),
                timeout_ms: stop_timeout_arg(b),
                pid_file_path: ptr_of(&pid_file),
                error_message: ptr::null_mut(),
                error_message_size: 0,
            };
            // SAFETY: valid pointers for the call.
            let rc = unsafe { grazr_stop_process_ex(ptr_of(&id), &opts) };
            check("stop", rc);
        }
        5 => {
            let id = id_arg(b);
            // SAFETY: valid or NULL.
            let rc = unsafe { grazr_status(ptr_of(&id)) };
            check("status", rc);
            assert!(rc <= 2, "status {rc}");
        }
        6 => {
            let id = id_arg(b);
            // SAFETY: valid or NULL.
            let rc = unsafe { grazr_get_pid(ptr_of(&id)) };
            check("get_pid", rc);
            // SAFETY: plain getters.
            let (me, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
            assert!(
                rc != 1 && rc != me && rc != ppid && rc != sb.tid,
                "get_pid named {rc}"
            );
        }
        7 => {
            let id = id_arg(b);
            let sig = signal_arg(b);
            // Any signal, even SIGSTOP or SIGKILL: in this namespace the library can only
            // reach the helpers it started.
            // SAFETY: valid or NULL.
            let rc = unsafe { grazr_signal_process(ptr_of(&id), sig) };
            check("signal", rc);
        }
        8 => {
            let id = id_arg(b);
            let mut info = grazr_info {
                size: match b.u8() % 4 {
                    0 => 0,
                    1 => 8,
                    _ => std::mem::size_of::<grazr_info>() as u32,
                },
                status: 0,
                state: 0,
                pid: 0,
                pgid: 0,
                child_pid: 0,
                exit_code: 0,
                term_signal: 0,
                start_time_ms: 0,
                pid_file: ptr::null(),
                log_file: ptr::null(),
                argv: ptr::null(),
            };
            // SAFETY: valid pointers; the struct is as large as its size field says.
            let rc = unsafe { grazr_process_info(ptr_of(&id), &mut info) };
            check("info", rc);
            if rc == 0 && info.size as usize == std::mem::size_of::<grazr_info>() {
                assert!((0..=9).contains(&info.state), "state {}", info.state);
                if !info.argv.is_null() {
                    // The argv array must be NULL-terminated and readable.
                    let mut i = 0;
                    // SAFETY: the library promises a NULL-terminated array of strings.
                    while !unsafe { *info.argv.add(i) }.is_null() {
                        let _ = unsafe { CStr::from_ptr(*info.argv.add(i)) };
                        i += 1;
                        assert!(i < 100, "argv not terminated");
                    }
                }
            }
        }
        9 => {
            let p = path_arg(sb, b);
            // SAFETY: valid or NULL.
            let rc = unsafe { grazr_read_pid_file(ptr_of(&p)) };
            check("read_pid_file", rc);
            // SAFETY: plain getters.
            let (me, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
            assert!(
                rc != 1 && rc != me && rc != ppid && rc != sb.tid,
                "read_pid_file named {rc}"
            );
        }
        10 => {
            // Someone else writes a pid file (or replaces it by a symlink).
            let rel = match b.u8() % 5 {
                0 => "run/daemon.pid".to_string(),
                1 => "run/fg.pid".to_string(),
                2 => "a.pid".to_string(),
                3 => "sub/dir/b.pid".to_string(),
                _ => safe_rel(&b.blob(16), false),
            };
            let p = sb.work.join(if rel.is_empty() { "e.pid" } else { &rel });
            if let Some(d) = p.parent() {
                let _ = fs::create_dir_all(d);
            }
            if b.u8() % 8 == 0 {
                let _ = fs::remove_file(&p);
                let _ = symlink("/dev/zero", &p);
            } else {
                let content = pid_content(sb, b);
                let _ = fs::write(&p, content);
            }
        }
        11 => {
            const PATTERNS: &[&str] = &[
                "fz-{v}",
                "fz-{v}-{w}",
                "internal-nginx",
                "php-fpm-{v}",
                "{v}",
                "a",
                "x-{v}.{w}",
                "svc-1",
            ];
            let k = b.u8() as usize % (PATTERNS.len() + 1);
            let (pattern, template) = if k < PATTERNS.len() {
                let t = match b.u8() % 5 {
                    0 => None,
                    1 => Some(format!("{}/run/{{v}}.pid", sb.work.display())),
                    2 => Some(format!("{}/run/daemon.pid", sb.work.display())),
                    _ => Some(format!(
                        "{}/{}",
                        sb.work.display(),
                        safe_rel(&b.blob(24), true)
                    )),
                };
                (cstr(PATTERNS[k]), t.map(cstr))
            } else {
                // A probe: any pattern text, with a template placeholder ({Q9}) the text cannot
                // hold, so it is parsed but never stored (the list of services stays bounded).
                let text: Vec<u8> = b.blob(24).into_iter().filter(|&c| c != b'Q').collect();
                (
                    cstr(text),
                    Some(cstr(format!("{}/{{Q9}}", sb.work.display()))),
                )
            };
            let program = match b.u8() % 5 {
                0 => None,
                1 => Some(cstr("sleep")),
                2 => Some(cstr("/bin/sleep")),
                3 => Some(cstr("")),
                _ => Some(cstr(b.blob(8))),
            };
            let sig = signal_arg(b);
            let timeout = register_timeout_arg(b);
            // SAFETY: valid strings or NULL.
            let rc = unsafe {
                grazr_register_service(
                    pattern.as_ptr(),
                    ptr_of(&template),
                    ptr_of(&program),
                    sig,
                    timeout,
                )
            };
            check("register_service", rc);
        }
        12 => {
            let mut ids: *const *const c_char = ptr::null();
            // SAFETY: a valid out pointer.
            let n = unsafe { grazr_list(&mut ids) };
            check("list", n);
            for i in 0..n.max(0) as usize {
                // SAFETY: n entries then NULL.
                assert!(!unsafe { *ids.add(i) }.is_null());
            }
            // SAFETY: as above.
            assert!(unsafe { *ids.add(n.max(0) as usize) }.is_null());
        }
        13 => {
            let pid = match b.u8() % 4 {
                0 => b.i32(),
                1 => sb.tid,
                // SAFETY: a plain getter.
                2 => unsafe { libc::getppid() },
                _ => (b.u8() % 64) as i32,
            };
            let rc = grazr_pid_alive(pid);
            check("pid_alive", rc);
            assert!(rc == 0 || rc == 1);
            // SAFETY: plain getters.
            let (me, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
            if [0, 1, me, ppid, sb.tid, -1].contains(&pid) {
                assert_eq!(rc, 0, "pid_alive({pid})");
            }
        }
        14 => {
            // stop_all with services whose timeouts are "never": only when nothing ignores
            // SIGTERM would it be fast, so keep it as an op but bounded by the sweep first.
            if b.u8() % 4 == 0 {
                sweep();
            }
            let rc = grazr_stop_all();
            check("stop_all", rc);
        }
        _ => {
            if b.u8() % 4 == 0 {
                let rc = grazr_shutdown();
                check("shutdown", rc);
            } else {
                let p = path_arg(sb, b);
                if let Some(p) = p {
                    let path = PathBuf::from(
                        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(p.as_bytes()),
                    );
                    if path.starts_with(&sb.work) {
                        let _ = fs::remove_file(&path);
                    }
                }
            }
        }
    }
}

/// SIGKILLs every process of the sandbox but PID 1 (the reaper) and this one, and waits until
/// they are gone. In this PID namespace nothing else is visible, so nothing else is hit.
fn sweep() -> usize {
    // SAFETY: plain getters.
    let (me, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
    let mut killed = 0;
    for _ in 0..50 {
        let pids: Vec<i32> = fs::read_dir("/proc")
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                    .filter(|&p: &i32| p > 1 && p != me && p != ppid)
                    .filter(|p| {
                        fs::read_to_string(format!("/proc/{p}/stat"))
                            .ok()
                            .and_then(|s| {
                                s.rsplit(')')
                                    .next()
                                    .map(|r| r.trim_start().starts_with('Z'))
                            })
                            == Some(false)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if pids.is_empty() {
            return killed;
        }
        for p in pids {
            // SAFETY: a PID of this sandbox, not this process nor its parent.
            unsafe { libc::kill(p, libc::SIGKILL) };
            killed += 1;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    killed
}

fn reap_forgotten() {
    // SAFETY: a plain getter.
    let me = unsafe { libc::getpid() };
    let Ok(rd) = fs::read_dir("/proc") else {
        return;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let rest = stat.rsplit(')').next().unwrap_or("");
        let mut f = rest.split_whitespace();
        let (state, ppid) = (f.next(), f.next().and_then(|p| p.parse::<i32>().ok()));
        if state == Some("Z") && ppid == Some(me) {
            let mut st = 0;
            // SAFETY: reaps one zombie child by PID; nothing else waits for it any more.
            unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) };
        }
    }
}

fn cleanup(sb: &Sandbox) {
    // Kill what still runs (ignoring SIGTERM, or forgotten by shutdown), then let the library
    // find it gone: stop_all must then succeed at once and leave nothing listed.
    sweep();
    let rc = grazr_stop_all();
    let msg = message();
    // The one failure allowed: a registered template that names a directory (an input can
    // create one as the parent of a pid file). Such a pid file cannot be read, by design
    // GRAZR_ERR_IO; the directory goes with reset_work below.
    let only_directories = msg
        .split("; ")
        .all(|f| f.contains("Is a directory (os error 21)"));
    assert!(
        rc == GRAZR_OK || (rc == GRAZR_ERR_IO && only_directories),
        "stop_all after the sweep: {msg}"
    );
    let mut ids: *const *const c_char = ptr::null();
    // SAFETY: a valid out pointer.
    let n = unsafe { grazr_list(&mut ids) };
    assert!(n == 0 || rc != GRAZR_OK, "ids still listed after stop_all");
    // Children that grazr_shutdown made the library forget are never reaped by it: reap them
    // here, by PID, now that the library tracks nothing.
    reap_forgotten();
    // Let go of whatever the library may keep between calls (a cache of idle descriptors is
    // no leak); nothing is tracked any more, so it forgets nothing.
    assert_eq!(grazr_shutdown(), GRAZR_OK);
    let fds = fd_count();
    assert!(
        fds <= sb.fd_baseline,
        "descriptors: {fds} open after the input, {} before",
        sb.fd_baseline
    );
    reset_work(sb);
}

fuzz_target!(|data: &[u8]| {
    let sb = sandbox();
    let mut b = Bytes(data);
    let mut ops = 0;
    while !b.done() && ops < 24 {
        one_op(sb, &mut b);
        ops += 1;
    }
    cleanup(sb);
});
