#![forbid(unsafe_code)]
//! The public API: [`Manager`] ties the registry, the spawner, the identity rules and the
//! stopper together. Each method validates its input, finds the id's entry, and follows the
//! contract's rules for that operation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow};
use once_cell::sync::Lazy;

use crate::error::Error;
use crate::pidfile;
use crate::registry::{lock, Child, Entry, Exit, Phase, Registry, Run};
use crate::services::{Resolved, Services};
use crate::spawn::{self, absolute};
use crate::spec::{
    ProcessInfo, ServiceSpec, StartSpec, State, Status, StopOptions, DEFAULT_NEVER_KILL_TIMEOUT,
    DEFAULT_PID_FILE_TIMEOUT, DEFAULT_STARTUP_WINDOW, DEFAULT_STOP_TIMEOUT,
};
use crate::stop::{self, Plan};
use crate::target::{self, Expect, Target};
use crate::{ErrorKind, Result};

/// Longest id accepted, in bytes (PATH_MAX less the NUL).
const MAX_ID: usize = 4095;
/// Lines of the log quoted in a start failure.
const LOG_TAIL_LINES: usize = 10;
/// Longest pause between two looks at a pid file that start waits for.
const PID_FILE_POLL_MAX: Duration = Duration::from_millis(2);
/// Stack of a stop_all worker thread: it only waits in poll.
const STOP_THREAD_STACK: usize = 256 * 1024;

/// A process manager: its own registry of tracked ids and registered services.
///
/// Every method may be called from any thread. [`Manager::global`] is the instance behind the
/// C ABI; separate instances (tests, embedders) share nothing.
#[derive(Debug, Default)]
pub struct Manager {
    registry: Registry,
    services: RwLock<Services>,
}

static GLOBAL: Lazy<Manager> = Lazy::new(Manager::new);

fn check_id(op: &str, id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(format!("{op}: process id is empty")));
    }
    if id.len() > MAX_ID {
        return Err(Error::invalid(format!(
            "{op}: process id is longer than {MAX_ID} bytes"
        )));
    }
    if id.contains('\0') {
        return Err(Error::invalid(format!(
            "{op}: process id {id:?} contains a NUL byte"
        )));
    }
    Ok(())
}

/// Paths longer than PATH_MAX (less the NUL) are refused before anything touches the disk.
fn check_path(what: &str, path: Option<&Path>) -> Result<()> {
    match path {
        Some(p) if p.as_os_str().len() > MAX_ID => Err(Error::invalid(format!(
            "{what} is longer than {MAX_ID} bytes"
        ))),
        Some(p) if p.as_os_str().as_encoded_bytes().contains(&0) => {
            Err(Error::invalid(format!("{what} contains a NUL byte")))
        }
        _ => Ok(()),
    }
}

fn check_signal(what: &str, signal: i32) -> Result<()> {
    if (1..=libc::SIGRTMAX()).contains(&signal) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} {signal} is not a signal number"
        )))
    }
}

fn exit_text(exit: Option<Exit>) -> String {
    match exit {
        Some(Exit::Code(c)) => format!("exited with status {c}"),
        Some(Exit::Signal(s)) => format!("was killed by signal {s}"),
        Some(Exit::Unknown) | None => "exited (status unknown: reaped elsewhere)".to_string(),
    }
}

impl Manager {
    /// A manager with nothing tracked or registered.
    pub fn new() -> Self {
        Manager::default()
    }

    /// The instance behind the C ABI.
    pub fn global() -> &'static Manager {
        &GLOBAL
    }

    fn resolve(&self, id: &str) -> Resolved {
        self.services
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .resolve(id)
    }

    /// Starts `spec` under `id` and returns once it runs; see the C contract's start for the
    /// waiting rules. Already running is success and spawns nothing.
    pub fn start(&self, id: &str, spec: &StartSpec) -> Result<()> {
        self.start_inner(id, spec)
            .map_err(|e| e.context("start", id))
    }

    fn start_inner(&self, id: &str, spec: &StartSpec) -> Result<()> {
        check_id("start", id)?;
        if spec.argv.first().is_none_or(|a| a.is_empty()) {
            return Err(Error::invalid("argv is empty or argv[0] is empty"));
        }
        check_path("pid file path", spec.pid_file.as_deref())?;
        check_path("log file path", spec.log_file.as_deref())?;
        check_path("working directory", spec.cwd.as_deref())?;
        let resolved = self.resolve(id);
        let pid_file = spec
            .pid_file
            .as_deref()
            .map(absolute)
            .or(resolved.pid_file.clone());
        let log = spec.log_file.as_deref().map(absolute);
        let cwd = spec.cwd.as_deref().map(absolute);

        let entry = self.registry.entry(id);
        let result = (|| {
            let _op = lock(&entry.op);
            {
                let mut slot = lock(&entry.state);
                if let Some(run) = slot.as_mut() {
                    if run.refresh().status() == Status::Running {
                        return Ok(());
                    }
                }
                if let Some(path) = &pid_file {
                    if let Some(run) = adopt(path, &resolved)? {
                        *slot = Some(run);
                        return Ok(());
                    }
                }
            }
            if let Some(path) = &pid_file {
                remove_if_stale(path, None);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| Error::io_path("cannot create pid file directory", dir, &e))?;
                }
            }
            let spawned = spawn::spawn(spec, cwd.as_deref(), log.as_deref())?;
            let main = Target::child(spawned.pid, spawned.spawn_ticks);
            *lock(&entry.state) = Some(Run {
                phase: Phase::Starting,
                main: Some(main.clone()),
                child: Some(Child {
                    pid: spawned.pid,
                    exit: None,
                }),
                pid_file: pid_file.clone(),
                pid_file_pending: pid_file.is_some(),
                spawn_ticks: Some(spawned.spawn_ticks),
                log_file: log.clone(),
                argv: spec.argv.clone(),
                stop_sent: false,
                ended: None,
                // posix_spawn made the child a session leader: its group is its own PID.
                group: Some(stop::Group {
                    pgid: main.pid,
                    leader_start: Some(main.start_ticks),
                }),
            });
            let waited = match &pid_file {
                Some(path) => wait_pid_file(
                    &entry,
                    &main,
                    path,
                    spec.pid_file_timeout.unwrap_or(DEFAULT_PID_FILE_TIMEOUT),
                ),
                None => wait_window(
                    &entry,
                    &main,
                    spec.startup_window.unwrap_or(DEFAULT_STARTUP_WINDOW),
                ),
            };
            let mut slot = lock(&entry.state);
            if let Some(run) = slot.as_mut() {
                if run.phase == Phase::Starting {
                    run.phase = Phase::Running;
                }
            }
            waited.map_err(|msg| {
                let tail = spawn::log_tail(log.as_deref(), LOG_TAIL_LINES)
                    .map(|t| {
                        format!(
                            "; last lines of {}:\n{t}",
                            log.as_deref().unwrap_or(Path::new("")).display()
                        )
                    })
                    .unwrap_or_default();
                Error::new(ErrorKind::Exited, format!("{msg}{tail}"))
            })
        })();
        self.registry.release(id, entry);
        result
    }

    /// Stops `id`; see the C contract's stop. Not running, or unknown, is success.
    pub fn stop(&self, id: &str, opts: &StopOptions) -> Result<()> {
        self.stop_inner(id, opts).map_err(|e| e.context("stop", id))
    }

    fn stop_inner(&self, id: &str, opts: &StopOptions) -> Result<()> {
        check_id("stop", id)?;
        if let Some(s) = opts.signal {
            check_signal("stop signal", s)?;
        }
        check_path("pid file path", opts.pid_file.as_deref())?;
        let resolved = self.resolve(id);
        let never_kill = opts.never_kill || resolved.never_kill;
        let plan = Plan {
            signal: opts
                .signal
                .or(resolved.stop_signal)
                .unwrap_or(libc::SIGTERM),
            never_kill,
            timeout: opts
                .timeout
                .or(resolved.stop_timeout)
                .unwrap_or(if never_kill {
                    DEFAULT_NEVER_KILL_TIMEOUT
                } else {
                    DEFAULT_STOP_TIMEOUT
                }),
        };
        let pid_file = opts
            .pid_file
            .as_deref()
            .map(absolute)
            .or(resolved.pid_file.clone());
        let entry = self.registry.entry(id);
        let result = (|| {
            let _op = lock(&entry.op);
            let main = {
                let mut slot = lock(&entry.state);
                let mut main = slot.as_mut().and_then(|r| r.live_main().cloned());
                if main.is_none() {
                    if let Some(path) = &pid_file {
                        if let Some(run) = adopt(path, &resolved)? {
                            main = run.main.clone();
                            *slot = Some(run);
                        }
                    }
                }
                match main {
                    Some(m) => {
                        let run = slot.as_mut().expect("a live main has a run");
                        run.phase = Phase::Stopping;
                        run.stop_sent = true;
                        m
                    }
                    None => {
                        // Not running: clear an ERROR and a pid file naming a dead process, and
                        // end what a main process that died on its own left in its group.
                        let leftovers =
                            slot.as_ref().filter(|r| !r.stop_sent).and_then(|r| r.group);
                        let tracked = slot.as_ref().and_then(|r| r.pid_file.clone());
                        // Keep how the last run ended (for info), as STOPPED.
                        if let Some(run) = slot.as_mut() {
                            run.stop_sent = true;
                            run.ended = run.ended.map(|(_, exit)| (State::Stopped, exit));
                        }
                        drop(slot);
                        for path in tracked.iter().chain(pid_file.iter()) {
                            remove_if_stale(path, None);
                        }
                        return leftovers.map_or(Ok(()), stop::kill_leftovers);
                    }
                }
            };
            // Reaping the exited child lets the group probe in stop_target see an empty group
            // without a scan of /proc.
            let reap = || {
                if let Some(child) = lock(&entry.state).as_mut().and_then(|r| r.child.as_mut()) {
                    if child.pid == main.pid {
                        child.poll();
                    }
                }
            };
            let outcome = stop::stop_target(&main, plan, &reap);
            let mut slot = lock(&entry.state);
            let Some(run) = slot.as_mut() else {
                return outcome;
            };
            // refresh reaps a child that died, so a still-live main process is told apart
            // without touching a PID that may have been reaped and reused.
            if run.refresh().status() == Status::Running {
                run.phase = Phase::Running;
                run.stop_sent = false;
                return outcome;
            }
            if let Some(child) = run.child.as_mut() {
                // A launcher still running beside its daemon is ours: end and reap it.
                if child.poll() {
                    spawn::abandon(child.pid);
                    child.poll();
                }
            }
            if let Some(path) = run.pid_file.clone() {
                remove_if_stale(&path, Some(main.pid));
            }
            // The record stays, ended as STOPPED with the exit the stop caused, for info.
            outcome
        })();
        self.registry.release(id, entry);
        result
    }

    /// Runs `f` on the run record of `id`, adopting the id through its registered pid file
    /// when nothing runs under it. Never waits for a start or stop in progress.
    fn with_run<T>(&self, id: &str, f: impl FnOnce(Option<(&mut Run, State)>) -> T) -> Result<T> {
        // Fast path: a tracked id that is not stopped needs no service lookup.
        if let Some(entry) = self.registry.get(id) {
            let mut slot = lock(&entry.state);
            if let Some(run) = slot.as_mut() {
                let state = run.refresh();
                if state.status() != Status::Stopped {
                    return Ok(f(Some((run, state))));
                }
            }
        }
        let resolved = self.resolve(id);
        let entry = match self.registry.get(id) {
            Some(e) => e,
            None if resolved.pid_file.is_some() => self.registry.entry(id),
            None => return Ok(f(None)),
        };
        let result = (|| {
            let mut slot = lock(&entry.state);
            let stopped = slot
                .as_mut()
                .is_none_or(|r| r.refresh().status() == Status::Stopped);
            if stopped {
                if let Some(path) = &resolved.pid_file {
                    if let Some(run) = adopt(path, &resolved)? {
                        *slot = Some(run);
                    }
                }
            }
            Ok(f(slot.as_mut().map(|run| {
                let state = run.refresh();
                (run, state)
            })))
        })();
        self.registry.release(id, entry);
        result
    }

    /// The status of `id`, from the contract's decision table.
    pub fn status(&self, id: &str) -> Result<Status> {
        check_id("status", id)?;
        self.with_run(id, |run| {
            run.map_or(Status::Stopped, |(_, state)| state.status())
        })
        .map_err(|e| e.context("status", id))
    }

    /// The main PID of `id` while it runs.
    pub fn pid(&self, id: &str) -> Result<Option<i32>> {
        check_id("get_pid", id)?;
        self.with_run(id, |run| {
            run.and_then(|(r, state)| r.main_in(state).map(|m| m.pid))
        })
        .map_err(|e| e.context("get_pid", id))
    }

    /// Sends `signal` to the verified main process of `id`.
    pub fn signal(&self, id: &str, signal: i32) -> Result<()> {
        check_id("signal", id)?;
        check_signal("signal", signal)?;
        let sent = self.with_run(id, |run| {
            match run.and_then(|(r, state)| r.main_in(state).cloned()) {
                None => Err(Error::new(ErrorKind::NotRunning, "not running")),
                Some(main) => main.signal(signal).map_err(|e| match e.raw_os_error() {
                    Some(libc::ESRCH) => {
                        Error::new(ErrorKind::NotRunning, "exited before the signal")
                    }
                    Some(libc::EPERM) => Error::new(
                        ErrorKind::Permission,
                        format!("cannot send signal {signal} to PID {}: {e}", main.pid),
                    ),
                    _ => Error::new(
                        ErrorKind::Io,
                        format!("cannot send signal {signal} to PID {}: {e}", main.pid),
                    ),
                }),
            }
        });
        sent.and_then(|r| r).map_err(|e| e.context("signal", id))
    }

    /// A snapshot of `id`. An unknown id reads as stopped.
    pub fn info(&self, id: &str) -> Result<ProcessInfo> {
        check_id("info", id)?;
        self.with_run(id, |run| {
            let mut info = ProcessInfo {
                id: id.to_owned(),
                status: Status::Stopped,
                state: State::Stopped,
                pid: None,
                pgid: None,
                child_pid: None,
                exit_code: None,
                term_signal: None,
                start_time_ms: None,
                pid_file: None,
                log_file: None,
                argv: Vec::new(),
            };
            let Some((run, state)) = run else { return info };
            info.state = state;
            info.status = info.state.status();
            info.pid_file = run.pid_file.clone();
            info.log_file = run.log_file.clone();
            info.argv = run.argv.clone();
            info.child_pid = run.child.as_ref().map(|c| c.pid);
            let exit = run
                .ended
                .and_then(|(_, e)| e)
                .or(run.child.as_ref().and_then(|c| c.exit));
            match exit {
                Some(Exit::Code(c)) => info.exit_code = Some(c),
                Some(Exit::Signal(s)) => info.term_signal = Some(s),
                _ => {}
            }
            if let Some(main) = run.main.as_ref().filter(|_| info.status == Status::Running) {
                info.pid = Some(main.pid);
                info.pgid = crate::procfs::stat(main.pid).ok().map(|s| s.pgid);
                info.start_time_ms = Some(main.start_time_ms());
            }
            info
        })
        .map_err(|e| e.context("info", id))
    }

    /// The ids that run or ended in an error that has not been cleared, sorted.
    pub fn list(&self) -> Vec<String> {
        self.registry
            .snapshot()
            .into_iter()
            .filter(|(_, entry)| {
                lock(&entry.state)
                    .as_mut()
                    .is_some_and(|r| r.refresh().status() != Status::Stopped)
            })
            .map(|(id, _)| id)
            .collect()
    }

    /// Stops every tracked id, every registered exact id and every id of a template whose pid
    /// file exists, in parallel, each with its registered defaults.
    pub fn stop_all(&self) -> Result<()> {
        let mut ids: Vec<String> = self
            .registry
            .snapshot()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.extend(
            self.services
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .candidate_ids(),
        );
        ids.sort();
        ids.dedup();
        // Library threads block every signal, so the host's handlers run only on the host's
        // threads. A new thread inherits its creator's mask, so the calling thread blocks
        // everything while it creates them (no window in which one could take a signal) and
        // gets its own mask back before it waits.
        let mut host_mask = SigSet::empty();
        let blocked = pthread_sigmask(
            SigmaskHow::SIG_SETMASK,
            Some(&SigSet::all()),
            Some(&mut host_mask),
        );
        let results: Vec<(String, Result<()>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .iter()
                .map(|id| {
                    let work = move || self.stop(id, &StopOptions::default());
                    let spawned = std::thread::Builder::new()
                        .name("grazr-stop".into())
                        .stack_size(STOP_THREAD_STACK)
                        .spawn_scoped(scope, work);
                    (id, spawned)
                })
                .collect();
            if blocked.is_ok() {
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&host_mask), None);
            }
            handles
                .into_iter()
                .map(|(id, handle)| {
                    let result = match handle {
                        Ok(h) => h.join().unwrap_or_else(|_| {
                            Err(Error::new(
                                ErrorKind::Internal,
                                format!("stop {id:?}: the stop thread panicked"),
                            ))
                        }),
                        // No thread to be had (RLIMIT_NPROC): stop it on this one.
                        Err(_) => self.stop(id, &StopOptions::default()),
                    };
                    (id.clone(), result)
                })
                .collect()
        });
        let failures: Vec<Error> = results.into_iter().filter_map(|(_, r)| r.err()).collect();
        if failures.is_empty() {
            return Ok(());
        }
        let severity = |k: ErrorKind| match k {
            ErrorKind::Internal => 5,
            ErrorKind::Permission => 4,
            ErrorKind::Timeout => 3,
            ErrorKind::Io => 2,
            _ => 1,
        };
        let worst = failures
            .iter()
            .map(Error::kind)
            .max_by_key(|k| severity(*k))
            .expect("not empty");
        let detail: Vec<&str> = failures.iter().map(Error::message).collect();
        Err(Error::new(
            worst,
            format!(
                "stop_all: {} of {} stops failed: {}",
                failures.len(),
                ids.len(),
                detail.join("; ")
            ),
        ))
    }

    /// Registers a service (see [`ServiceSpec`]).
    pub fn register_service(&self, spec: ServiceSpec) -> Result<()> {
        if spec.id_pattern.is_empty() || spec.id_pattern.len() > MAX_ID {
            return Err(Error::invalid(
                "register_service: id pattern is empty or longer than 4095 bytes",
            ));
        }
        if let Some(s) = spec.stop_signal {
            check_signal("register_service: stop signal", s)?;
        }
        let pattern = spec.id_pattern.clone();
        self.services
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .register(spec)
            .map_err(|e| e.context("register_service", &pattern))
    }

    /// Forgets every tracked id and closes every pidfd. Processes keep running; registered
    /// services stay registered, so their pid files find them again.
    pub fn shutdown(&self) {
        self.registry.clear();
    }
}

/// A run around the verified live process that `path` names, if it names one.
fn adopt(path: &Path, resolved: &Resolved) -> Result<Option<Run>> {
    let file = match pidfile::read(path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(Error::io_path("cannot read pid file", path, &e)),
    };
    let Some(pid) = file.pid else { return Ok(None) };
    let expect = Expect {
        program: resolved.program.as_deref(),
        ..Expect::from_pid_file(file.written_ticks)
    };
    match Target::open(pid, &expect) {
        Ok(Some(t)) => Ok(Some(Run::adopted(t, path.to_path_buf()))),
        Ok(None) => Ok(None),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("cannot open a pidfd for PID {pid}: {e}"),
        )),
    }
}

/// Removes the pid file at `path` if its first line is a PID that is dead or fails the identity
/// check, or is `stopped` (the process a stop just ended). A file that holds no PID is left
/// alone: it may not be a pid file at all.
fn remove_if_stale(path: &Path, stopped: Option<i32>) {
    let Ok(Some(file)) = pidfile::read(path) else {
        return;
    };
    let Some(pid) = file.pid else { return };
    let live = stopped != Some(pid)
        && target::check(pid, &Expect::from_pid_file(file.written_ticks)).is_ok();
    if !live {
        let _ = std::fs::remove_file(path);
    }
}

/// Start without a pid file: watch the child for `window` (zero: not at all).
fn wait_window(
    entry: &Arc<Entry>,
    child: &Target,
    window: Duration,
) -> std::result::Result<(), String> {
    if window.is_zero() || !child.wait_exit(Instant::now() + window) {
        return Ok(());
    }
    let mut slot = lock(&entry.state);
    let Some(run) = slot.as_mut() else {
        return Ok(());
    };
    if run.refresh().status() == Status::Running {
        return Ok(());
    }
    let exit = run.ended.and_then(|(_, e)| e);
    Err(format!(
        "{} during its {} ms startup window",
        exit_text(exit),
        window.as_millis()
    ))
}

/// Start with a pid file: wait until it names a verified live process, the child fails, or
/// the timeout passes.
fn wait_pid_file(
    entry: &Arc<Entry>,
    child: &Target,
    path: &Path,
    timeout: Duration,
) -> std::result::Result<(), String> {
    let deadline = Instant::now() + timeout;
    // A pidfd for the length of the wait, so that the child's exit wakes it at once.
    let child = &child.pinned();
    let mut pause = Duration::from_micros(100);
    let mut child_done = false;
    loop {
        {
            let mut slot = lock(&entry.state);
            let Some(run) = slot.as_mut() else {
                return Ok(());
            };
            let state = run.refresh();
            if state.status() == Status::Running && !run.pid_file_pending {
                return Ok(());
            }
            if let Some((_, exit)) = run.ended {
                return Err(format!(
                    "{} before writing its pid file {}",
                    exit_text(exit),
                    path.display()
                ));
            }
            let child_exit = run.child.as_ref().and_then(|c| c.exit);
            child_done |= child_exit.is_some();
            if Instant::now() >= deadline {
                if child_exit.is_none() {
                    // Alive without a valid pid file: tracked by its own PID until the file
                    // appears.
                    return Ok(());
                }
                run.finish(State::Exited);
                return Err(format!(
                    "{} and wrote no pid file {} within {} ms",
                    exit_text(child_exit),
                    path.display(),
                    timeout.as_millis()
                ));
            }
        }
        // Look again after a pause that doubles from 0.1 ms to 2 ms, or as soon as the child
        // exits. A pid file written at once is seen within a fraction of a millisecond, a late
        // one within 2 ms, and no descriptor is held (an inotify watch was tried: closing its
        // descriptor makes the kernel wait for an RCU grace period, about 15 ms here).
        let slice = pause.min(deadline.saturating_duration_since(Instant::now()));
        match child.pidfd.as_ref().filter(|_| !child_done) {
            Some(fd) => {
                let _ = target::pidfd_readable(fd, slice);
            }
            None => std::thread::sleep(slice),
        }
        pause = (pause * 2).min(PID_FILE_POLL_MAX);
    }
}

/// The verified live PID that the pid file at `path` names: first line only, a process (not a
/// thread), alive and not a zombie, not the host or its kin, started no later than the file was
/// last written. `Ok(None)` for a missing file, garbage or a refused PID; an error when the file
/// exists but cannot be read.
pub fn read_pid_file(path: &Path) -> Result<Option<i32>> {
    check_path("read_pid_file: path", Some(path))?;
    let path: PathBuf = absolute(path);
    let file = match pidfile::read(&path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(Error::io_path("read_pid_file: cannot read", &path, &e)),
    };
    let Some(pid) = file.pid else { return Ok(None) };
    Ok(
        target::check(pid, &Expect::from_pid_file(file.written_ticks))
            .ok()
            .map(|_| pid),
    )
}

/// Whether `pid` names a live process the library would accept: a process (not a thread), not
/// a zombie, not PID 0 or 1, not the host, its ancestors, its group or session leader.
pub fn pid_alive(pid: i32) -> bool {
    target::check(pid, &Expect::default()).is_ok()
}
