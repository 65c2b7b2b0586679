//! The public value types of the safe API: what a start, a stop and a service registration
//! ask for, and what status and info report.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

/// Startup window used when a start without a pid file gives none: the seed's 0.2 s.
pub const DEFAULT_STARTUP_WINDOW: Duration = Duration::from_millis(200);
/// How long a start with a pid file waits for the file when it gives no timeout.
pub const DEFAULT_PID_FILE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stop waits after the graceful signal before SIGKILL, unless told otherwise.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stop that may not SIGKILL waits when it is given no timeout (pg_ctl's default).
pub const DEFAULT_NEVER_KILL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stop waits for everything to vanish after SIGKILL before it gives up.
pub const KILL_GRACE: Duration = Duration::from_secs(1);

/// What `status` reports: the three values of the C contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// Not running: never started, stopped on request, exited 0, or its daemon left cleanly.
    Stopped = 0,
    /// The main process is alive.
    Running = 1,
    /// It died on its own: non-zero exit, a signal the library did not send, or a daemon that
    /// left its pid file behind. Lasts until the next start or stop of the id.
    Error = 2,
}

/// The detailed state behind a [`Status`], reported by `info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum State {
    /// Nothing is known to run under this id.
    Stopped = 0,
    /// A start is in progress (spawned, waiting for the pid file or the startup window).
    Starting = 1,
    /// The main process is alive.
    Running = 2,
    /// The spawned child is alive but its pid file does not name a verified process yet.
    PidFilePending = 3,
    /// A stop is in progress.
    Stopping = 4,
    /// The child exited with status 0 on its own.
    Exited = 5,
    /// The child exited with a non-zero status.
    Failed = 6,
    /// The child died by a signal the library did not send.
    Killed = 7,
    /// A daemon tracked by its pid file is gone and left the file behind.
    Crashed = 8,
    /// The child was reaped by someone else (the host called `waitpid(-1)`); its exit is unknown.
    ReapedElsewhere = 9,
}

impl State {
    /// The status this state reports.
    pub fn status(self) -> Status {
        match self {
            State::Starting | State::Running | State::PidFilePending | State::Stopping => {
                Status::Running
            }
            State::Failed | State::Killed | State::Crashed => Status::Error,
            State::Stopped | State::Exited | State::ReapedElsewhere => Status::Stopped,
        }
    }
}

/// One change to the child's environment, laid over the host's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvChange {
    /// `KEY=VALUE`: set the variable.
    Set(OsString, OsString),
    /// A bare `KEY`: remove it, so that a host variable such as `LD_LIBRARY_PATH` need not leak.
    Remove(OsString),
}

impl EnvChange {
    /// Parses a C-style entry: `KEY=VALUE` sets, a bare `KEY` removes. The key may not be empty.
    pub fn parse(entry: &OsStr) -> Option<EnvChange> {
        let bytes = entry.as_bytes();
        match bytes.iter().position(|&b| b == b'=') {
            Some(0) => None,
            Some(i) => Some(EnvChange::Set(
                OsStr::from_bytes(&bytes[..i]).to_owned(),
                OsStr::from_bytes(&bytes[i + 1..]).to_owned(),
            )),
            None if bytes.is_empty() => None,
            None => Some(EnvChange::Remove(entry.to_owned())),
        }
    }
}

/// Everything a start needs. Build it with [`StartSpec::new`] and the setters.
#[derive(Debug, Clone, Default)]
pub struct StartSpec {
    /// The program and its arguments. A program without a slash is searched in the PATH of the
    /// child's final environment. Never run through a shell.
    pub argv: Vec<OsString>,
    /// The pid file the service writes; start waits for it and tracks the PID it names.
    pub pid_file: Option<PathBuf>,
    /// The child's working directory; the host's when `None`.
    pub cwd: Option<PathBuf>,
    /// Changes laid over the environment (the host's, or an empty one with `clear_env`).
    pub env: Vec<EnvChange>,
    /// Start from an empty environment instead of the host's.
    pub clear_env: bool,
    /// stdout and stderr are appended here; `/dev/null` when `None`.
    pub log_file: Option<PathBuf>,
    /// Without a pid file: how long to watch for an early exit. `None` is 200 ms; zero returns
    /// as soon as the exec succeeded.
    pub startup_window: Option<Duration>,
    /// With a pid file: how long to wait for it. `None` is 5 s.
    pub pid_file_timeout: Option<Duration>,
}

impl StartSpec {
    /// A spec that runs `argv` with every option at its default.
    pub fn new<I, S>(argv: I) -> StartSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        StartSpec {
            argv: argv.into_iter().map(Into::into).collect(),
            ..StartSpec::default()
        }
    }

    /// Sets the pid file.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, path: impl Into<PathBuf>) -> Self {
        self.cwd = Some(path.into());
        self
    }

    /// Sets the log file.
    pub fn log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push(EnvChange::Set(key.into(), value.into()));
        self
    }

    /// Removes one environment variable.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env.push(EnvChange::Remove(key.into()));
        self
    }

    /// Starts from an empty environment.
    pub fn clear_env(mut self) -> Self {
        self.clear_env = true;
        self
    }

    /// Sets the startup window (used without a pid file).
    pub fn startup_window(mut self, window: Duration) -> Self {
        self.startup_window = Some(window);
        self
    }

    /// Sets the pid-file timeout.
    pub fn pid_file_timeout(mut self, timeout: Duration) -> Self {
        self.pid_file_timeout = Some(timeout);
        self
    }
}

/// Everything a stop needs; the default is the registered signal and timeout.
#[derive(Debug, Clone, Default)]
pub struct StopOptions {
    /// The graceful signal; `None` is the id's registered signal, else SIGTERM.
    pub signal: Option<i32>,
    /// How long to wait after the graceful signal; `None` is the id's registered timeout, else
    /// 5 s (30 s when SIGKILL is not allowed). Zero kills at once.
    pub timeout: Option<Duration>,
    /// Never send SIGKILL: at the timeout, fail with a timeout error and leave the process
    /// running. A service registered so is never killed, whatever the stop asks.
    pub never_kill: bool,
    /// The pid file of an untracked process to stop (it is adopted first).
    pub pid_file: Option<PathBuf>,
}

impl StopOptions {
    /// Sets the graceful signal.
    pub fn signal(mut self, signal: i32) -> Self {
        self.signal = Some(signal);
        self
    }

    /// Sets the timeout after which SIGKILL follows.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Forbids SIGKILL.
    pub fn never_kill(mut self) -> Self {
        self.never_kill = true;
        self
    }

    /// Names the pid file of an untracked process.
    pub fn pid_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.pid_file = Some(path.into());
        self
    }
}

/// A service registration: Grazr's config-derived pid files and per-service stop defaults.
#[derive(Debug, Clone, Default)]
pub struct ServiceSpec {
    /// An exact id (`internal-nginx`) or a pattern with `{placeholders}` (`php-fpm-{version}`).
    pub id_pattern: String,
    /// Where the service's pid file is; may use the pattern's placeholders.
    pub pid_file_template: Option<String>,
    /// The executable a re-adopted process must be running: a full path or a basename.
    pub program: Option<OsString>,
    /// The graceful stop signal; `None` keeps SIGTERM.
    pub stop_signal: Option<i32>,
    /// The stop timeout; `None` keeps 5 s (30 s when SIGKILL is not allowed).
    pub stop_timeout: Option<Duration>,
    /// Never SIGKILL this service (Postgres: its backends would survive and its shared memory
    /// would need recovery).
    pub never_kill: bool,
}

impl ServiceSpec {
    /// A registration for `id_pattern` with every default.
    pub fn new(id_pattern: impl Into<String>) -> Self {
        ServiceSpec {
            id_pattern: id_pattern.into(),
            ..ServiceSpec::default()
        }
    }

    /// Sets the pid-file template.
    pub fn pid_file_template(mut self, template: impl Into<String>) -> Self {
        self.pid_file_template = Some(template.into());
        self
    }

    /// Sets the program a re-adopted process must run.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Sets the stop signal.
    pub fn stop_signal(mut self, signal: i32) -> Self {
        self.stop_signal = Some(signal);
        self
    }

    /// Sets the stop timeout.
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = Some(timeout);
        self
    }

    /// Forbids SIGKILL for this service.
    pub fn never_kill(mut self) -> Self {
        self.never_kill = true;
        self
    }
}

/// A snapshot of one id, as `info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// The id asked about.
    pub id: String,
    /// The status, as `status` would report it at this moment.
    pub status: Status,
    /// The detailed state.
    pub state: State,
    /// The main PID while running.
    pub pid: Option<i32>,
    /// The main process's process group while running.
    pub pgid: Option<i32>,
    /// The PID the library spawned, if it spawned one (a daemonizing launcher's differs from
    /// `pid`).
    pub child_pid: Option<i32>,
    /// The exit code of the last exit, when known.
    pub exit_code: Option<i32>,
    /// The signal that ended the last run, when one did.
    pub term_signal: Option<i32>,
    /// When the main process started, in milliseconds since the Unix epoch.
    pub start_time_ms: Option<i64>,
    /// The pid file tracked for the id.
    pub pid_file: Option<PathBuf>,
    /// The log file of the last start.
    pub log_file: Option<PathBuf>,
    /// The command of the last start; empty when the process was adopted.
    pub argv: Vec<OsString>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_entries_parse_as_the_c_contract_says() {
        assert_eq!(
            EnvChange::parse(OsStr::new("A=b=c")),
            Some(EnvChange::Set("A".into(), "b=c".into()))
        );
        assert_eq!(
            EnvChange::parse(OsStr::new("A=")),
            Some(EnvChange::Set("A".into(), "".into()))
        );
        assert_eq!(
            EnvChange::parse(OsStr::new("A")),
            Some(EnvChange::Remove("A".into()))
        );
        assert_eq!(EnvChange::parse(OsStr::new("=x")), None);
        assert_eq!(EnvChange::parse(OsStr::new("")), None);
    }

    #[test]
    fn every_state_maps_to_the_status_table() {
        assert_eq!(State::PidFilePending.status(), Status::Running);
        assert_eq!(State::Crashed.status(), Status::Error);
        assert_eq!(State::ReapedElsewhere.status(), Status::Stopped);
        assert_eq!(State::Exited.status(), Status::Stopped);
    }
}
