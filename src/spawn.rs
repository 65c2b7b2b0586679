#![forbid(unsafe_code)]
//! Turning a [`StartSpec`] into a running child: the final environment, the program found in
//! that environment's PATH, the log opened for appending, and `posix_spawn` (never a plain fork:
//! from a host of a few hundred MiB a fork costs fifty times more).

use std::ffi::{CString, OsStr, OsString};
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{access, AccessFlags, Pid};

use crate::error::Error;
use crate::spec::{EnvChange, StartSpec};
use crate::{procfs, sys, ErrorKind, Result};

/// PATH used when the child's environment has none, as glibc's execvp does.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A child that has been spawned.
pub(crate) struct Spawned {
    pub pid: i32,
    /// Boot ticks just before the spawn: nothing the child starts can be older.
    pub spawn_ticks: u64,
}

/// The child's environment: the host's (unless cleared) with the changes applied in order.
pub(crate) fn environment(spec: &StartSpec) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = if spec.clear_env {
        Vec::new()
    } else {
        std::env::vars_os().collect()
    };
    for change in &spec.env {
        match change {
            EnvChange::Set(k, v) => match env.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = v.clone(),
                None => env.push((k.clone(), v.clone())),
            },
            EnvChange::Remove(k) => env.retain(|(key, _)| key != k),
        }
    }
    env
}

/// Finds `program` as execvp would, but in `path_var`, the PATH of the child's environment.
/// A name with a slash is taken as is (made absolute against the host's cwd).
pub(crate) fn resolve_program(program: &OsStr, path_var: Option<&OsStr>) -> Result<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Ok(absolute(Path::new(program)));
    }
    let path = path_var.unwrap_or(OsStr::new(DEFAULT_PATH));
    let mut denied = None;
    for dir in path.as_bytes().split(|&b| b == b':') {
        let dir = if dir.is_empty() {
            Path::new(".")
        } else {
            Path::new(OsStr::from_bytes(dir))
        };
        let candidate = absolute(&dir.join(program));
        match fs::metadata(&candidate) {
            Ok(m) if m.is_file() => {
                if access(&candidate, AccessFlags::X_OK).is_ok()
                    && m.permissions().mode() & 0o111 != 0
                {
                    return Ok(candidate);
                }
                denied.get_or_insert(candidate);
            }
            _ => {}
        }
    }
    Err(match denied {
        Some(p) => Error::new(
            ErrorKind::Spawn,
            format!("cannot execute {}: permission denied", p.display()),
        ),
        None => Error::new(
            ErrorKind::Spawn,
            format!("cannot execute {program:?}: not found in PATH {path:?}"),
        ),
    })
}

/// `path` made absolute against the host's cwd now (nothing is resolved on disk).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
    }
}

fn c_string(bytes: Vec<u8>, what: &str) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::invalid(format!("{what} contains a NUL byte")))
}

/// Whether an errno means "out of descriptors or memory" rather than "cannot run that".
fn is_resource_error(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM)
    )
}

/// Opens the log for appending (creating it 0644 and its directory), or /dev/null. Opened
/// non-blocking so that a FIFO without a reader fails with ENXIO instead of hanging, then made
/// blocking again for the child. Moved to fd 3 or above so that setting up the child's fds 0-2
/// cannot overwrite it, whatever the host has closed.
pub(crate) fn open_log(log: Option<&Path>) -> Result<OwnedFd> {
    let Some(path) = log else {
        let null = OpenOptions::new()
            .append(true)
            .open("/dev/null")
            .map_err(|e| Error::io_path("cannot open", Path::new("/dev/null"), &e))?;
        return above_stdio(null.into(), Path::new("/dev/null"));
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| Error::io_path("cannot create log directory", parent, &e))?;
    }
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| Error::io_path("cannot open log file", path, &e))?;
    let fd: OwnedFd = file.into();
    let io_err =
        |e: nix::errno::Errno| Error::io_path("cannot set up log file", path, &io::Error::from(e));
    let flags = OFlag::from_bits_truncate(fcntl(&fd, FcntlArg::F_GETFL).map_err(io_err)?);
    fcntl(&fd, FcntlArg::F_SETFL(flags & !OFlag::O_NONBLOCK)).map_err(io_err)?;
    above_stdio(fd, path)
}

/// `fd` itself if it is 3 or above, else a copy that is (std's try_clone duplicates with
/// F_DUPFD_CLOEXEC from 3 up).
fn above_stdio(fd: OwnedFd, path: &Path) -> Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    fd.try_clone()
        .map_err(|e| Error::io_path("cannot set up log file", path, &e))
}

/// Spawns the child described by `spec`. Everything that can be checked before the spawn is
/// (program, working directory, log); an exec failure is still reported synchronously by
/// posix_spawn, and then no process exists.
pub(crate) fn spawn(spec: &StartSpec, cwd: Option<&Path>, log: Option<&Path>) -> Result<Spawned> {
    // With no change to the host's environment the child gets the host's `environ` as it is,
    // as std::process::Command does: nothing to copy.
    let env = (spec.clear_env || !spec.env.is_empty()).then(|| environment(spec));
    let path_var = match &env {
        Some(env) => env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone()),
        None => std::env::var_os("PATH"),
    };
    let program = resolve_program(&spec.argv[0], path_var.as_deref())?;
    if let Some(dir) = cwd {
        if !dir.is_dir() {
            return Err(Error::new(
                ErrorKind::Spawn,
                format!(
                    "working directory {} does not exist or is not a directory",
                    dir.display()
                ),
            ));
        }
    }
    let argv = spec
        .argv
        .iter()
        .map(|a| c_string(a.as_bytes().to_vec(), "an argument"))
        .collect::<Result<Vec<_>>>()?;
    let envp = env
        .map(|env| {
            env.into_iter()
                .map(|(k, v)| {
                    let mut entry = k.into_vec();
                    entry.push(b'=');
                    entry.extend(v.into_vec());
                    c_string(entry, "an environment entry")
                })
                .collect::<Result<Vec<_>>>()
        })
        .transpose()?;
    let program_c = c_string(program.as_os_str().as_bytes().to_vec(), "the program path")?;
    let cwd_c = cwd
        .map(|d| c_string(d.as_os_str().as_bytes().to_vec(), "the working directory"))
        .transpose()?;
    let output = open_log(log)?;

    let spawn_ticks = procfs::boot_ticks_now();
    let request = sys::SpawnRequest {
        program: &program_c,
        argv: &argv,
        envp: envp.as_deref(),
        cwd: cwd_c.as_deref(),
        output: output.as_fd(),
        reset_signals: sys::ignored_signals(),
    };
    let pid = sys::spawn(&request).map_err(|e| {
        let kind = if is_resource_error(&e) {
            ErrorKind::Io
        } else {
            ErrorKind::Spawn
        };
        let place = cwd
            .map(|d| format!(" in {}", d.display()))
            .unwrap_or_default();
        Error::new(
            kind,
            format!("cannot execute {}{place}: {e}", program.display()),
        )
    })?;
    Ok(Spawned { pid, spawn_ticks })
}

/// Undoes a spawn whose tracking could not be set up (EMFILE on the pidfd): the child is still
/// ours and unreaped, so its PID is safe to signal and wait for.
pub(crate) fn abandon(pid: i32) {
    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    let _ = waitpid(Pid::from_raw(pid), None);
}

/// The last `lines` lines of the log, for a start failure's message.
pub(crate) fn log_tail(log: Option<&Path>, lines: usize) -> Option<String> {
    let mut file = fs::File::open(log?).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let len = file.seek(SeekFrom::End(0)).ok()?;
    let from = len.saturating_sub(4096);
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    (!tail.is_empty()).then_some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_changes_apply_in_order_over_an_empty_or_host_base() {
        let mut spec = StartSpec::new(["x"])
            .clear_env()
            .env("A", "1")
            .env("B", "2")
            .env_remove("A")
            .env("B", "3");
        assert_eq!(environment(&spec), vec![("B".into(), "3".into())]);
        spec.clear_env = false;
        std::env::var_os("PATH").expect("tests run with a PATH");
        assert!(environment(&spec).iter().any(|(k, _)| k == "PATH"));
    }

    #[test]
    fn the_program_is_found_in_the_childs_path_not_the_hosts() {
        let env = OsString::from("/nonexistent:/bin");
        assert_eq!(
            resolve_program(OsStr::new("sh"), Some(&env)).unwrap(),
            PathBuf::from("/bin/sh")
        );
        let env = OsString::from("/nonexistent");
        assert_eq!(
            resolve_program(OsStr::new("sh"), Some(&env))
                .unwrap_err()
                .kind(),
            ErrorKind::Spawn
        );
    }
}
