//! Audited wrappers for the few system calls that nix does not offer.
//!
//! This module and `src/ffi` are the only places with `unsafe`. Each block says why it is
//! sound; every function here has a safe signature and owns whatever it allocates.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

/// `pidfd_send_signal` flag: signal the process group whose leader the pidfd names
/// (Linux 6.9 and newer; older kernels answer EINVAL).
pub const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 1 << 2;

/// Opens a pidfd for `pid` (Linux 5.3+). The descriptor is close-on-exec.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new descriptor or -1; no memory is
    // passed. A non-negative result is a descriptor nobody else owns, so OwnedFd may take it.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: see above; fd fits in a c_int because the kernel returned it as one.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Sends `signal` to the process a pidfd names (Linux 5.1+), with `flags` (0 or
/// [`PIDFD_SIGNAL_PROCESS_GROUP`]). Refers to exactly that process even if its PID was reused.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32, flags: u32) -> io::Result<()> {
    // SAFETY: the info argument is NULL, which the kernel documents as "as kill(2) would";
    // the descriptor is borrowed, so it stays open for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            ptr::null::<libc::siginfo_t>(),
            flags,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Clock ticks per second of `/proc/PID/stat` times (`sysconf(_SC_CLK_TCK)`).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf reads a constant and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// The signals this process ignores, as sigset bits (bit n-1 for signal n). Dispositions are
/// per process; one query per signal is cheaper than reading SigIgn from /proc/self/status.
pub fn ignored_signals() -> u64 {
    let mut mask = 0u64;
    for sig in 1..=64 {
        let mut old = MaybeUninit::<libc::sigaction>::zeroed();
        // SAFETY: a NULL new action only reads the current one into `old`, which is valid and
        // writable; an invalid number (32 and 33 under glibc) fails with EINVAL and writes
        // nothing.
        let rc = unsafe { libc::sigaction(sig, ptr::null(), old.as_mut_ptr()) };
        // SAFETY: sigaction returned 0, so it filled `old`.
        if rc == 0 && unsafe { old.assume_init() }.sa_sigaction == libc::SIG_IGN {
            mask |= 1 << (sig - 1);
        }
    }
    mask
}

/// What a spawned child gets; the caller has resolved every path already.
pub struct SpawnRequest<'a> {
    /// The executable to run (absolute or relative to the caller's cwd, never searched).
    pub program: &'a CStr,
    /// argv, without the terminating NULL.
    pub argv: &'a [CString],
    /// The complete environment as `KEY=VALUE` strings, or `None` for the host's own.
    pub envp: Option<&'a [CString]>,
    /// The child's working directory, if it differs from the host's.
    pub cwd: Option<&'a CStr>,
    /// Becomes the child's stdout and stderr. Must be 3 or above so that setting up fds 0-2
    /// cannot clobber it.
    pub output: BorrowedFd<'a>,
    /// Signals (bit n-1 for signal n) to set to SIG_DFL in the child: at least those the host
    /// ignores, since an ignored disposition survives exec while a handler does not.
    pub reset_signals: u64,
}

/// glibc's internal signals 32 and 33 (SIGCANCEL, SIGSETXID), as sigset bits.
const INTERNAL_SIGNALS: u64 = (1 << 31) | (1 << 32);

/// Spawns a child with `posix_spawn` in a new session, stdin on /dev/null, stdout and stderr
/// on `output`, every descriptor from 3 up closed, the signals in `reset_signals` at their
/// default disposition (exec resets handled ones itself) and an empty signal mask. Returns the child's PID. glibc runs the child with CLONE_VFORK and
/// reports exec failures (ENOENT, EACCES, ENOEXEC, a bad cwd) as the return value, so a failed
/// exec never leaves a process behind.
pub fn spawn(req: &SpawnRequest<'_>) -> io::Result<i32> {
    let mut argv: Vec<*mut libc::c_char> = req
        .argv
        .iter()
        .map(|a| a.as_ptr() as *mut libc::c_char)
        .collect();
    argv.push(ptr::null_mut());
    let mut own_env: Vec<*mut libc::c_char> = Vec::new();
    if let Some(envp) = req.envp {
        own_env.extend(envp.iter().map(|e| e.as_ptr() as *mut libc::c_char));
        own_env.push(ptr::null_mut());
    }

    let mut actions = FileActions::new()?;
    let mut attr = SpawnAttr::new()?;
    // SAFETY: `actions` and `attr` were initialised by their constructors and live until the
    // end of this function; every string pointer passed stays valid for the same span; the
    // libc functions only record these values.
    unsafe {
        check(libc::posix_spawn_file_actions_addopen(
            &mut actions.0,
            0,
            c"/dev/null".as_ptr(),
            libc::O_RDONLY,
            0,
        ))?;
        check(libc::posix_spawn_file_actions_adddup2(
            &mut actions.0,
            req.output.as_raw_fd(),
            1,
        ))?;
        check(libc::posix_spawn_file_actions_adddup2(
            &mut actions.0,
            req.output.as_raw_fd(),
            2,
        ))?;
        if let Some(cwd) = req.cwd {
            check(libc::posix_spawn_file_actions_addchdir_np(
                &mut actions.0,
                cwd.as_ptr(),
            ))?;
        }
        check(libc::posix_spawn_file_actions_addclosefrom_np(
            &mut actions.0,
            3,
        ))?;

        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(empty.as_mut_ptr());
        check(libc::posix_spawnattr_setsigmask(
            &mut attr.0,
            empty.as_ptr(),
        ))?;
        // Raw bits, not sigaddset: glibc refuses its two internal signals (32 and 33) there,
        // and its spawn sets them to SIG_IGN in the child while it runs on the parent's memory;
        // left out of this set they would stay ignored across exec. Each signal in the set
        // costs the child two sigaction calls, hence only the ones that need it.
        let mut reset = MaybeUninit::<libc::sigset_t>::zeroed();
        ptr::write_unaligned(
            reset.as_mut_ptr().cast::<u64>(),
            req.reset_signals | INTERNAL_SIGNALS,
        );
        check(libc::posix_spawnattr_setsigdefault(
            &mut attr.0,
            reset.as_ptr(),
        ))?;
        let flags = libc::POSIX_SPAWN_SETSID
            | libc::POSIX_SPAWN_SETSIGMASK as libc::c_short
            | libc::POSIX_SPAWN_SETSIGDEF as libc::c_short;
        check(libc::posix_spawnattr_setflags(&mut attr.0, flags))?;

        let mut pid: libc::pid_t = 0;
        check(libc::posix_spawn(
            &mut pid,
            req.program.as_ptr(),
            &actions.0,
            &attr.0,
            argv.as_ptr(),
            if req.envp.is_some() {
                own_env.as_ptr()
            } else {
                // The host's environment, read as posix_spawnp and std::process::Command read
                // it: a host thread calling setenv at this moment races with every spawner.
                environ as *const *mut libc::c_char
            },
        ))?;
        Ok(pid)
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(rc))
    }
}

struct FileActions(libc::posix_spawn_file_actions_t);

impl FileActions {
    fn new() -> io::Result<Self> {
        let mut raw = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
        // SAFETY: init writes the whole struct; it is only read after init returned 0.
        check(unsafe { libc::posix_spawn_file_actions_init(raw.as_mut_ptr()) })?;
        // SAFETY: initialised just above.
        Ok(FileActions(unsafe { raw.assume_init() }))
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialised in new(), destroyed exactly once here.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut self.0) };
    }
}

struct SpawnAttr(libc::posix_spawnattr_t);

impl SpawnAttr {
    fn new() -> io::Result<Self> {
        let mut raw = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
        // SAFETY: init writes the whole struct; it is only read after init returned 0.
        check(unsafe { libc::posix_spawnattr_init(raw.as_mut_ptr()) })?;
        // SAFETY: initialised just above.
        Ok(SpawnAttr(unsafe { raw.assume_init() }))
    }
}

impl Drop for SpawnAttr {
    fn drop(&mut self) {
        // SAFETY: initialised in new(), destroyed exactly once here.
        unsafe { libc::posix_spawnattr_destroy(&mut self.0) };
    }
}

/// Counts the forks of this process (in the child after each fork), so that a registry can tell
/// that it runs in a forked copy without a getpid syscall on every call.
static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork_in_child() {
    // Async-signal-safe: one atomic add, as a fork handler must be.
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// How many times this process's line has forked since the library was loaded: a value that
/// changes in the child of every fork made through the C library (not in the parent).
pub fn fork_generation() -> u64 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: registers a child handler that only does an atomic add; it lives as long as
        // the process, since this is a static function. The return code can only be ENOMEM,
        // in which case forks go uncounted (the registry then keeps its records in a child).
        unsafe { libc::pthread_atfork(None, None, Some(count_fork_in_child)) };
    });
    FORKS.load(Ordering::Relaxed)
}

extern "C" {
    static environ: *const *const libc::c_char;
    // glibc and musl both export it; the libc crate does not declare it.
    fn pthread_setcancelstate(state: libc::c_int, oldstate: *mut libc::c_int) -> libc::c_int;
}

const PTHREAD_CANCEL_DISABLE: libc::c_int = 1;

/// Disables cancellation of the calling thread until dropped, then restores the old state.
/// A host that cancels a thread blocked in the library (Grazr does, on quit) then sees the
/// cancellation act after the call returns, instead of unwinding through Rust frames that
/// hold locks.
pub struct CancelGuard {
    old: libc::c_int,
}

impl CancelGuard {
    /// Disables cancellation.
    pub fn disable() -> Self {
        let mut old = 0;
        // SAFETY: writes one int through a valid pointer; affects only the calling thread.
        unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut old) };
        CancelGuard { old }
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        let mut ignored = 0;
        // SAFETY: as in disable(); restores the state this guard found.
        unsafe { pthread_setcancelstate(self.old, &mut ignored) };
    }
}
