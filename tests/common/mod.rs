//! Shared scaffolding of the integration tests: a per-test context (its own `Manager`, temp
//! dir and process guard), the C helper children, /proc readers and a poll helper.
//!
//! Every process a test starts, through the library or directly, carries the environment
//! entry `GRAZR_TEST_TAG=<unique per test>`. The guard finds leftovers by that tag in
//! /proc/PID/environ and SIGKILLs them by PID: it also catches daemons and workers the library
//! may have lost track of, and it can never hit a process of another test or the test runner.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use grazr_proc::{Manager, StartSpec};

pub const TAG_VAR: &str = "GRAZR_TEST_TAG";
/// Set in a re-invoked test binary: the test runs its dangerous half (waitpid(-1), a dropped
/// uid) in that isolated process only.
pub const CHILD_MODE_VAR: &str = "GRAZR_TEST_CHILD_MODE";

static COUNTER: AtomicU64 = AtomicU64::new(0);

// ---------------------------------------------------------------------------------------------
// Temp dir

/// A fresh directory removed with everything in it on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let clean: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(40)
            .collect();
        let path = std::env::temp_dir().join(format!("grazr-t-{}-{n}-{clean}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create the test's temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

// ---------------------------------------------------------------------------------------------
// Per-test context and process guard

/// One test's world: its own Manager (tests run in parallel threads of one process, so a shared
/// registry would couple them), a temp dir, and the guard for every process it starts.
pub struct Ctx {
    pub m: Manager,
    pub dir: TempDir,
    pub tag: String,
    children: Mutex<Vec<Child>>,
    tracked: Mutex<Vec<ProcId>>,
}

impl Ctx {
    pub fn new(name: &str) -> Ctx {
        let dir = TempDir::new(name);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}-{n}-{name}", std::process::id());
        Ctx {
            m: Manager::new(),
            dir,
            tag,
            children: Mutex::new(Vec::new()),
            tracked: Mutex::new(Vec::new()),
        }
    }

    /// A path inside the temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn p(&self, rel: &str) -> String {
        self.path(rel)
            .to_str()
            .expect("temp paths are UTF-8")
            .to_owned()
    }

    /// A StartSpec carrying this test's tag. The tag survives `clear_env()`, which only
    /// changes the base the entries are laid over.
    pub fn spec<I, S>(&self, argv: I) -> StartSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        StartSpec::new(argv).env(TAG_VAR, &self.tag)
    }

    /// A StartSpec running one of tests/helpers/*.c.
    pub fn helper_spec(&self, name: &str, args: &[&str]) -> StartSpec {
        let mut argv: Vec<OsString> = vec![helper(name).into_os_string()];
        argv.extend(args.iter().map(OsString::from));
        self.spec(argv)
    }

    /// A Command for a helper, tagged, in its own process group (so that nothing about it
    /// looks like "the host's process group" to the library).
    pub fn helper_cmd(&self, name: &str, args: &[&str]) -> Command {
        let mut c = Command::new(helper(name));
        c.args(args)
            .env(TAG_VAR, &self.tag)
            .process_group(0)
            .stdin(Stdio::null());
        c
    }

    /// Spawns a process outside the library; it is killed and reaped on drop.
    pub fn spawn(&self, mut cmd: Command) -> i32 {
        let child = cmd.spawn().expect("spawn a helper process");
        let pid = child.id() as i32;
        self.children.lock().unwrap().push(child);
        pid
    }

    /// An unrelated live process (a child of the test, not of the library).
    pub fn unrelated(&self) -> i32 {
        let pid = self.spawn(self.helper_cmd("sleeper", &[]));
        assert!(wait_until(Duration::from_secs(3), || exe_base(pid)
            .as_deref()
            == Some("sleeper")));
        pid
    }

    /// Waits for and reaps a child spawned with `spawn`, returning its exit status.
    pub fn wait_child(&self, pid: i32) -> std::process::ExitStatus {
        let mut kids = self.children.lock().unwrap();
        let i = kids
            .iter()
            .position(|c| c.id() as i32 == pid)
            .expect("a child of this test");
        let mut c = kids.remove(i);
        drop(kids);
        c.wait().expect("wait for the child")
    }

    /// Remembers a PID (and its start time) to kill on drop, with its process group when it
    /// leads one.
    pub fn track(&self, pid: i32) {
        if let Some(id) = ProcId::of(pid) {
            self.tracked.lock().unwrap().push(id);
        }
    }

    /// Live (non-zombie) processes that carry this test's tag.
    pub fn live_tagged(&self) -> Vec<i32> {
        tagged_processes(&self.tag)
    }

    /// Waits until nothing tagged is alive; false on timeout.
    pub fn wait_no_live(&self, timeout: Duration) -> bool {
        wait_until(timeout, || self.live_tagged().is_empty())
    }

    fn kill_everything(&self) {
        let me = std::process::id() as i32;
        let my_pgrp = nix::unistd::getpgrp().as_raw();
        for id in self.tracked.lock().unwrap().iter() {
            if id.pid > 1 && id.pid != me && id.is_same_process() {
                // SAFETY: kill(2) with a verified PID and a constant signal has no memory effects.
                unsafe { libc::kill(id.pid, libc::SIGKILL) };
                if id.pgid == id.pid && id.pgid != my_pgrp {
                    for member in group_members(id.pgid) {
                        // SAFETY: as above.
                        unsafe { libc::kill(member, libc::SIGKILL) };
                    }
                }
            }
        }
        // The library's own record first: its children by PID.
        let m = &self.m;
        let listed: Vec<i32> = catch_unwind(AssertUnwindSafe(|| {
            m.list()
                .iter()
                .filter_map(|id| m.info(id).ok())
                .flat_map(|i| [i.pid, i.child_pid])
                .flatten()
                .collect()
        }))
        .unwrap_or_default();
        for pid in listed {
            // When the test has used up its descriptors (an EMFILE test) the tag cannot be
            // read; the library's own identity-checked record is trusted then.
            if pid > 1 && pid != me && has_tag(pid, &self.tag) != Some(false) {
                // SAFETY: as above; the PID is this test's (tag or the library's record).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if let Err(e) = fs::read_dir("/proc") {
            eprintln!(
                "WARNING: the process guard of {} cannot scan /proc ({e}); leftovers are possible",
                self.tag
            );
        }
        // Then everything carrying the tag. A process caught in the middle of its exec shows
        // an empty environment for a moment (the parent of a vfork-style spawn resumes before
        // the new image has its arguments and environment mapped), so the scan must come up
        // empty twice, 100 ms apart, before the guard believes it.
        let deadline = Instant::now() + Duration::from_secs(3);
        let mut clean_passes = 0;
        loop {
            let left = tagged_processes(&self.tag);
            if left.is_empty() {
                clean_passes += 1;
                if clean_passes >= 2 {
                    break;
                }
            } else {
                clean_passes = 0;
            }
            if Instant::now() > deadline {
                break;
            }
            for pid in left {
                if pid > 1 && pid != me {
                    // SAFETY: as above; the PID was just found carrying this test's unique tag.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
            std::thread::sleep(Duration::from_millis(if clean_passes > 0 {
                100
            } else {
                20
            }));
        }
        for mut c in self.children.lock().unwrap().drain(..) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        self.kill_everything();
        // Let the library reap its dead children: any call that concerns an id reaps it. A
        // library panic must not turn a failing test into an abort.
        let m = &self.m;
        let _ = catch_unwind(AssertUnwindSafe(|| {
            for id in m.list() {
                let _ = m.status(&id);
            }
        }));
    }
}

/// A process identified by PID and start time, so that a reused PID is never mistaken for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcId {
    pub pid: i32,
    pub start: u64,
    pub pgid: i32,
}

impl ProcId {
    pub fn of(pid: i32) -> Option<ProcId> {
        let st = stat(pid)?;
        Some(ProcId {
            pid,
            start: st.starttime,
            pgid: st.pgrp,
        })
    }

    pub fn is_same_process(&self) -> bool {
        stat(self.pid).is_some_and(|s| s.starttime == self.start)
    }

    /// Alive: the same process, not a zombie.
    pub fn alive(&self) -> bool {
        stat(self.pid)
            .is_some_and(|s| s.starttime == self.start && s.state != 'Z' && s.state != 'X')
    }
}

/// Whether `pid` carries the tag: None when that cannot be told (no descriptor left).
pub fn has_tag(pid: i32, tag: &str) -> Option<bool> {
    let needle = format!("{TAG_VAR}={tag}");
    match fs::read(format!("/proc/{pid}/environ")) {
        Ok(env) => Some(
            env.split(|&b| b == 0)
                .any(|entry| entry == needle.as_bytes()),
        ),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) => None,
        Err(_) => Some(false),
    }
}

/// Every live, non-zombie process whose environment holds `GRAZR_TEST_TAG=<tag>`.
pub fn tagged_processes(tag: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    proc_pids()
        .into_iter()
        .filter(|&pid| pid != me && has_tag(pid, tag) == Some(true) && alive(pid))
        .collect()
}

/// Every process whose process group is `pgid`.
pub fn group_members(pgid: i32) -> Vec<i32> {
    proc_pids()
        .into_iter()
        .filter(|&pid| stat(pid).is_some_and(|s| s.pgrp == pgid))
        .collect()
}

/// The PIDs listed in /proc at this moment (none when it cannot be read).
pub fn proc_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Helper programs

fn helper_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; the helpers live next to it.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("test-helpers")
}

static HELPERS: OnceLock<PathBuf> = OnceLock::new();

/// Path of a compiled helper from tests/helpers/NAME.c. The first call builds all of them,
/// once per test binary; each is compiled to a temporary name and renamed into place, so a
/// parallel build never leaves a half-written executable where another one could exec it.
pub fn helper(name: &str) -> PathBuf {
    let dir = HELPERS.get_or_init(build_helpers);
    let p = dir.join(name);
    assert!(p.exists(), "no helper named {name} in tests/helpers");
    p
}

fn build_helpers() -> PathBuf {
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers");
    let out = helper_dir();
    fs::create_dir_all(&out).expect("create target/test-helpers");
    let header_time = fs::metadata(src_dir.join("common.h"))
        .and_then(|m| m.modified())
        .ok();
    for e in fs::read_dir(&src_dir)
        .expect("read tests/helpers")
        .flatten()
    {
        let src = e.path();
        if src.extension().and_then(|x| x.to_str()) != Some("c") {
            continue;
        }
        let stem = src.file_stem().unwrap().to_str().unwrap().to_owned();
        let dest = out.join(&stem);
        let src_time = fs::metadata(&src)
            .and_then(|m| m.modified())
            .ok()
            .max(header_time);
        let dest_time = fs::metadata(&dest).and_then(|m| m.modified()).ok();
        if dest_time.is_some() && dest_time >= src_time {
            continue;
        }
        let tmp = out.join(format!(".{stem}.{}.tmp", std::process::id()));
        let st = Command::new("cc")
            .args([
                "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-pthread", "-o",
            ])
            .arg(&tmp)
            .arg(&src)
            .status()
            .expect("run cc (a C compiler is required for the test helpers)");
        assert!(st.success(), "cc failed for {}", src.display());
        fs::rename(&tmp, &dest).expect("move the helper into place");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Polling, tools, subprocesses

/// Polls `cond` every 10 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `f` and measures it.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// True when `tool` is on PATH. Otherwise prints SKIPPED and returns false; with CI=true a
/// missing tool is a failure instead.
pub fn require_tool(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("required tool {tool:?} is missing (CI=true turns this skip into a failure)");
    }
    eprintln!("SKIPPED: {tool} is not installed");
    false
}

/// Whether this binary was re-invoked to run the isolated half of a test.
pub fn child_mode() -> bool {
    std::env::var_os(CHILD_MODE_VAR).is_some()
}

/// Re-runs exactly one test of this binary in a fresh process with extra environment, and
/// returns its output. The child process is isolated: what it does to its own process state
/// (waitpid(-1), a different uid) cannot disturb the parallel tests here. It gets two
/// minutes; after that it is killed (by its PID) and the output so far is returned.
pub fn run_self(test: &str, envs: &[(&str, &str)], prefix: &[&str]) -> std::process::Output {
    let exe = std::env::current_exe().expect("current test binary");
    let mut cmd = if prefix.is_empty() {
        Command::new(&exe)
    } else {
        let mut c = Command::new(prefix[0]);
        c.args(&prefix[1..]).arg(&exe);
        c
    };
    cmd.args(["--exact", test, "--test-threads", "1", "--nocapture"])
        .env(CHILD_MODE_VAR, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("re-run the test binary");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(st) = child.try_wait().expect("poll the re-run") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("reap the re-run");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Grandchildren may hold the pipes open; do not wait for them forever.
    let join = |h: std::thread::JoinHandle<Vec<u8>>| {
        let until = Instant::now() + Duration::from_secs(5);
        while !h.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if h.is_finished() {
            h.join().unwrap_or_default()
        } else {
            b"(output still held open by a leftover process)".to_vec()
        }
    };
    std::process::Output {
        status,
        stdout: join(t_out),
        stderr: join(t_err),
    }
}

/// Waits until a freshly spawned process shows its own command line (see `kill_everything`
/// for why a just-started process may briefly show none) and returns it.
pub fn wait_cmdline(pid: i32) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    wait_until(Duration::from_secs(3), || {
        v = cmdline(pid);
        !v.is_empty()
    });
    v
}

/// Asserts that a `run_self` child ran its one test and passed.
pub fn assert_child_passed(out: &std::process::Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{what}: the re-invoked test failed ({:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
}

// ---------------------------------------------------------------------------------------------
// /proc readers

#[derive(Debug, Clone)]
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    pub tty_nr: i32,
    pub starttime: u64,
}

/// /proc/PID/stat, parsed after the command name (which may hold spaces and parentheses).
pub fn stat(pid: i32) -> Option<Stat> {
    if pid <= 0 {
        return None;
    }
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); field N is f[N - 3].
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgrp: f.get(2)?.parse().ok()?,
        session: f.get(3)?.parse().ok()?,
        tty_nr: f.get(4)?.parse().ok()?,
        starttime: f.get(19)?.parse().ok()?,
    })
}

/// The process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    stat(pid).is_some_and(|s| s.state != 'Z' && s.state != 'X')
}

/// Gone: no such process, or only its zombie is left.
pub fn gone(pid: i32) -> bool {
    !alive(pid)
}

/// A hex mask line of /proc/PID/status, such as SigBlk or SigIgn.
pub fn status_mask(pid: i32, field: &str) -> u64 {
    status_mask_at(&format!("/proc/{pid}/status"), field)
}

pub fn status_mask_at(path: &str, field: &str) -> u64 {
    let s = fs::read_to_string(path).expect("read a /proc status file");
    let line = s
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} in {path}"));
    u64::from_str_radix(line[field.len() + 1..].trim(), 16).expect("a hex mask")
}

/// The open file descriptors of a process.
pub fn fds(pid: i32) -> BTreeSet<i32> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect()
}

pub fn fd_target(pid: i32, fd: i32) -> PathBuf {
    fs::read_link(format!("/proc/{pid}/fd/{fd}")).expect("readlink /proc/PID/fd/N")
}

/// The basename of /proc/PID/exe.
pub fn exe_base(pid: i32) -> Option<String> {
    let p = fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    Some(p.file_name()?.to_str()?.to_owned())
}

/// The argv of a process, from /proc/PID/cmdline.
pub fn cmdline(pid: i32) -> Vec<Vec<u8>> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let mut v: Vec<Vec<u8>> = raw.split(|&b| b == 0).map(|s| s.to_vec()).collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Files

/// Writes a pid file the way a daemon does: "PID\n", with a fresh mtime.
pub fn write_pid_file(path: &Path, pid: i32) {
    write_file(path, &format!("{pid}\n"));
}

pub fn write_file(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        fs::create_dir_all(d).expect("create the file's directory");
    }
    let mut f = fs::File::create(path).expect("create the file");
    f.write_all(text.as_bytes()).expect("write the file");
}

/// Moves a file's mtime `secs` into the past: it was written before anything that started
/// since then, which is how a stale pid file naming a reused PID looks.
pub fn age_file(path: &Path, secs: u64) {
    let f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open the file to age it");
    f.set_modified(SystemTime::now() - Duration::from_secs(secs))
        .expect("set the mtime");
}

/// The first line of a file parsed as a PID (the tests' own reader, for helper output).
pub fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Waits for a helper-written pid file and returns the PID in it.
pub fn wait_pid_file(path: &Path, timeout: Duration) -> i32 {
    let mut pid = None;
    assert!(
        wait_until(timeout, || {
            pid = read_pid(path);
            pid.is_some()
        }),
        "pid file {} not written within {timeout:?}",
        path.display()
    );
    pid.unwrap()
}

pub fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Waits until a file's text contains `needle`.
pub fn wait_for_text(path: &Path, needle: &str, timeout: Duration) -> bool {
    wait_until(timeout, || read_text(path).contains(needle))
}

/// A PID that was a process a moment ago and is now dead and reaped.
pub fn dead_pid() -> i32 {
    let mut c = Command::new("true").spawn().expect("spawn true");
    let pid = c.id() as i32;
    c.wait().expect("reap true");
    pid
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Waits until `pid` ignores `sig` (the helper finished its setup). A signal sent before a
/// helper's setup would meet the default action and make a timing assertion meaningless.
pub fn wait_ignores(pid: i32, sig: i32) {
    wait_signal_mask(pid, sig, "SigIgn", "ignore");
}

/// Waits until `pid` has a handler for `sig`.
pub fn wait_catches(pid: i32, sig: i32) {
    wait_signal_mask(pid, sig, "SigCgt", "catch");
}

/// Waits (3 s at the most) until `sig` is in the signal mask `field` of /proc/PID/status;
/// `what` says what the process never came to do with it.
fn wait_signal_mask(pid: i32, sig: i32, field: &str, what: &str) {
    let bit = 1u64 << (sig - 1);
    assert!(
        wait_until(Duration::from_secs(3), || {
            fs::read_to_string(format!("/proc/{pid}/status")).is_ok()
                && status_mask(pid, field) & bit != 0
        }),
        "process {pid} never came to {what} signal {sig}"
    );
}

/// A tiny deterministic generator: the load differs per thread but not per run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
