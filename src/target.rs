#![forbid(unsafe_code)]
//! A verified process: the identity rules that decide whether a PID may be accepted, the
//! handle (pidfd) through which it is watched and signalled, and waiting for exits.
//!
//! Order matters (identity rule 3): the pidfd is opened first, then `/proc` is checked, then
//! the pidfd is asked whether its process still lives. If it does, the `/proc` data we checked
//! belonged to it, because a PID cannot be reused while its process lives; from then on every
//! signal goes through the pidfd and cannot reach a later owner of the number.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{ppoll, PollFd, PollFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::time::TimeSpec;
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{getpgrp, getpid, getsid, Pid};
use once_cell::sync::Lazy;

use crate::procfs::{self, Stat};
use crate::sys;

/// `GRAZR_PROC_NO_PIDFD=1` forces the path for kernels without pidfds, so tests cover it.
pub(crate) static NO_PIDFD: Lazy<bool> =
    Lazy::new(|| std::env::var_os("GRAZR_PROC_NO_PIDFD").is_some_and(|v| v == "1"));

/// What must hold of a process before it is accepted (identity rule 2). Start-time bounds are
/// in boot ticks; one tick of tolerance is applied to each, since start times are floored.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Expect<'a> {
    /// Started no earlier than this (a child, or a daemon of a child: the spawn time).
    pub not_before: Option<u64>,
    /// Started no later than this (a pid file: its last write, plus a second of slack).
    pub not_after: Option<i64>,
    /// The executable it must run: compared by full path, or by basename.
    pub program: Option<&'a OsStr>,
}

impl<'a> Expect<'a> {
    /// For a PID read from a pid file last written at `written_ticks`.
    pub fn from_pid_file(written_ticks: i64) -> Self {
        Expect {
            not_after: Some(written_ticks.saturating_add(*procfs::TICKS as i64)),
            ..Expect::default()
        }
    }
}

/// Why a PID was refused; only used for messages and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Reserved,
    Host,
    Gone,
    Thread,
    Zombie,
    TooOld,
    TooNew,
    OtherProgram,
}

/// The host's PID, its ancestors, its process-group and session leaders: never signalled,
/// whatever a pid file says.
fn is_host_or_kin(pid: i32) -> bool {
    let me = getpid().as_raw();
    if pid == me || pid == getpgrp().as_raw() || getsid(None).is_ok_and(|s| s.as_raw() == pid) {
        return true;
    }
    let mut cur = me;
    for _ in 0..64 {
        match procfs::stat(cur) {
            Ok(s) if s.ppid > 0 => {
                if s.ppid == pid {
                    return true;
                }
                cur = s.ppid;
            }
            _ => break,
        }
    }
    false
}

/// Checks `pid` against every identity rule, reading `/proc`. Does not open a pidfd.
pub(crate) fn check(pid: i32, expect: &Expect<'_>) -> Result<Stat, Refusal> {
    if pid <= 1 {
        return Err(Refusal::Reserved);
    }
    if is_host_or_kin(pid) {
        return Err(Refusal::Host);
    }
    let stat = procfs::stat(pid).map_err(|_| Refusal::Gone)?;
    match procfs::tgid(pid) {
        Ok(tgid) if tgid == pid => {}
        Ok(_) => return Err(Refusal::Thread),
        Err(_) => return Err(Refusal::Gone),
    }
    if stat.is_dead() {
        return Err(Refusal::Zombie);
    }
    if expect.not_before.is_some_and(|t| stat.start_ticks + 1 < t) {
        return Err(Refusal::TooOld);
    }
    if expect
        .not_after
        .is_some_and(|t| stat.start_ticks as i64 > t + 1)
    {
        return Err(Refusal::TooNew);
    }
    if let Some(program) = expect.program {
        if !runs_program(pid, program) {
            return Err(Refusal::OtherProgram);
        }
    }
    Ok(stat)
}

fn runs_program(pid: i32, program: &OsStr) -> bool {
    let Ok(exe) = procfs::exe(pid) else {
        return false;
    };
    let wanted = Path::new(program);
    exe == wanted || (exe.file_name().is_some() && exe.file_name() == wanted.file_name())
}

/// A process the library has verified and watches: its PID, its start time, and how it is held.
/// A daemon found through a pid file is held by a pidfd (unless pidfds are unavailable), shared
/// with stops in flight. A child the library spawned holds no descriptor: until it is reaped
/// its PID cannot be reused, `waitid` answers for it, and a pidfd is opened only for the length
/// of a stop or a signal ([`Target::pinned`]). So the host's descriptor table, which every
/// spawn copies, does not grow with the number of children.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub pid: i32,
    pub start_ticks: u64,
    pub pidfd: Option<Arc<OwnedFd>>,
    /// The library's own unreaped child.
    pub child: bool,
}

/// waitid flags that look at a child's state without reaping it.
fn peek() -> WaitPidFlag {
    WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT
}

impl Target {
    /// Opens and verifies `pid` (rule 3: pidfd first, then `/proc`, then liveness again).
    /// `Ok(None)` when the PID is refused or gone; `Err` only for EMFILE and the like.
    pub fn open(pid: i32, expect: &Expect<'_>) -> io::Result<Option<Target>> {
        if pid <= 1 {
            return Ok(None);
        }
        let pidfd = Self::open_pidfd(pid)?;
        if pidfd.is_none() && !*NO_PIDFD && Self::pidfds_supported() {
            return Ok(None); // ESRCH: already gone
        }
        let Ok(stat) = check(pid, expect) else {
            return Ok(None);
        };
        let target = Target {
            pid,
            start_ticks: stat.start_ticks,
            pidfd: pidfd.map(Arc::new),
            child: false,
        };
        Ok(target.is_alive().then_some(target))
    }

    /// A child the library has just spawned. Its start time is taken as the spawn time, which
    /// it is to the tick; without pidfds, where the fallback compares start times, the exact
    /// one is read.
    pub fn child(pid: i32, spawn_ticks: u64) -> Target {
        let exact = || procfs::stat(pid).ok();
        let start_ticks = match NO_PIDFD.then(exact).flatten() {
            Some(s) if s.ppid == getpid().as_raw() && s.start_ticks + 1 >= spawn_ticks => {
                s.start_ticks
            }
            _ => spawn_ticks,
        };
        Target {
            pid,
            start_ticks,
            pidfd: None,
            child: true,
        }
    }

    /// This target with a pidfd for the length of one operation: itself if it holds one; for a
    /// child, a pidfd opened now and proven to be that child (waitid on a pidfd answers ECHILD
    /// for any process that is not our unreaped child, so a number reused after the host reaped
    /// it is never taken). Without pidfds, or for a child that is gone, itself.
    pub fn pinned(&self) -> Target {
        if self.pidfd.is_some() || !self.child {
            return self.clone();
        }
        match Self::open_pidfd(self.pid) {
            Ok(Some(fd)) if waitid(Id::PIDFd(fd.as_fd()), peek()) != Err(Errno::ECHILD) => Target {
                pidfd: Some(Arc::new(fd)),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    fn pidfds_supported() -> bool {
        static SUPPORTED: Lazy<bool> =
            Lazy::new(|| sys::pidfd_open(getpid().as_raw()).map(drop).is_ok());
        *SUPPORTED
    }

    /// `Ok(None)` when pidfds are off or unsupported, or the process is already gone.
    fn open_pidfd(pid: i32) -> io::Result<Option<OwnedFd>> {
        if *NO_PIDFD {
            return Ok(None);
        }
        match sys::pidfd_open(pid) {
            Ok(fd) => Ok(Some(fd)),
            // ENOENT: the number is a thread, not a process (Linux 6.9+ says so; older kernels
            // say EINVAL).
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ESRCH | libc::ENOSYS | libc::EINVAL | libc::ENOENT)
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the process still lives (a zombie does not). Never blocks.
    pub fn is_alive(&self) -> bool {
        match &self.pidfd {
            Some(fd) => !pidfd_readable(fd, Duration::ZERO),
            // Our child, looked at without reaping it: ECHILD means someone else reaped it.
            None if self.child => matches!(
                waitid(Id::Pid(Pid::from_raw(self.pid)), peek()),
                Ok(WaitStatus::StillAlive)
            ),
            None => procfs::stat(self.pid)
                .is_ok_and(|s| !s.is_dead() && s.start_ticks == self.start_ticks),
        }
    }

    /// Sends `signal` to this process and nothing else. ESRCH when it is gone.
    pub fn signal(&self, signal: i32) -> io::Result<()> {
        let pinned = self.pinned();
        match &pinned.pidfd {
            Some(fd) => sys::pidfd_send_signal(fd.as_fd(), signal, 0),
            None => {
                if !self.is_alive() {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                let sig =
                    Signal::try_from(signal).map_err(|e| io::Error::from_raw_os_error(e as i32))?;
                kill(Pid::from_raw(self.pid), sig)
                    .map_err(|e| io::Error::from_raw_os_error(e as i32))
            }
        }
    }

    /// Waits until the process has exited or `deadline` passes; true if it exited.
    pub fn wait_exit(&self, deadline: Instant) -> bool {
        let pinned = self.pinned();
        match &pinned.pidfd {
            Some(fd) => loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if pidfd_readable(fd, left) {
                    return true;
                }
                if Instant::now() >= deadline {
                    return false;
                }
            },
            None => backoff_until(deadline, || !self.is_alive()),
        }
    }

    /// When the process started, in milliseconds since the Unix epoch.
    pub fn start_time_ms(&self) -> i64 {
        procfs::boot_ticks_to_unix_ms(self.start_ticks)
    }
}

/// Polls a pidfd for readability (= its process has exited) for at most `timeout`.
pub(crate) fn pidfd_readable(fd: &OwnedFd, timeout: Duration) -> bool {
    // ppoll, not poll: its timeout is in nanoseconds, so short waits are not rounded up to a
    // millisecond. Longer than a day is cut to a day; callers loop until their deadline.
    let timeout = TimeSpec::from_duration(timeout.min(Duration::from_secs(86_400)));
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    loop {
        match ppoll(&mut fds, Some(timeout), None) {
            Ok(0) => return false,
            Ok(_) => return true,
            Err(Errno::EINTR) => continue,
            // A pidfd that cannot be polled is treated as exited rather than spun on.
            Err(_) => return true,
        }
    }
}

/// Calls `done` with a growing pause (0.1 ms doubling to 5 ms) until it is true or `deadline`
/// passes: the fallback where there is no descriptor to wait on.
pub(crate) fn backoff_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    let mut pause = Duration::from_micros(100);
    loop {
        if done() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Waits until every target has exited or `deadline` passes; returns the survivors.
pub(crate) fn wait_all(targets: Vec<Target>, deadline: Instant) -> Vec<Target> {
    let mut left = targets;
    loop {
        left.retain(Target::is_alive);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        match left.iter().find(|t| t.pidfd.is_some()) {
            Some(t) => {
                t.wait_exit(deadline);
            }
            None => std::thread::sleep(Duration::from_millis(2).min(deadline - Instant::now())),
        }
    }
}
