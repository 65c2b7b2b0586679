#![forbid(unsafe_code)]
//! The registry of tracked ids and what the library knows of each: the run record, how its
//! liveness is refreshed, and the status decision table.
//!
//! Locks: the map lock guards only the id -> entry map and is never held while another lock is
//! taken or a syscall beyond a lookup runs. Each entry has an `op` lock, held for a whole start
//! or stop (so two starts of one id give one process, and a stop waits for a start), and a
//! `state` lock, held only for short, non-blocking reads and updates of the run record. Status
//! and get_pid take only `state`, so they never wait for a start or stop in progress. All
//! locks survive poisoning: a panic in one call does not wedge the id.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::pidfile;
use crate::spec::{State, Status};
use crate::stop::{group_of, Group};
use crate::sys;
use crate::target::{Expect, Target};

/// Locks a mutex whether or not an earlier holder panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How a child ended, once reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
    /// Reaped by someone else (ECHILD); nothing is known.
    Unknown,
}

/// What the library spawned for the current run.
#[derive(Debug)]
pub(crate) struct Child {
    pub pid: i32,
    pub exit: Option<Exit>,
}

impl Child {
    /// Reaps the child if it has exited; true while it has not. Never blocks.
    pub fn poll(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        match waitpid(Pid::from_raw(self.pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => self.exit = Some(Exit::Code(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => self.exit = Some(Exit::Signal(sig as i32)),
            Ok(_) => return true, // still alive, or stopped/continued
            Err(Errno::EINTR) => return true,
            // ECHILD: the host reaped it behind our back (waitpid(-1), SIGCHLD ignored).
            Err(_) => self.exit = Some(Exit::Unknown),
        }
        false
    }
}

/// What a run's pid file names.
pub(crate) enum PidFileSays {
    Main,
    Other(Target),
    Nothing,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Starting,
    Running,
    Stopping,
}

/// Everything known about the current (or last) run of an id.
#[derive(Debug)]
pub(crate) struct Run {
    pub phase: Phase,
    /// The process whose life is the service's life: the child, or the daemon its pid file
    /// names. `None` once it has ended.
    pub main: Option<Target>,
    pub child: Option<Child>,
    pub pid_file: Option<PathBuf>,
    /// The main process is the child and the pid file has not named a verified process yet.
    pub pid_file_pending: bool,
    /// Boot ticks at spawn; `None` for an adopted process.
    pub spawn_ticks: Option<u64>,
    pub log_file: Option<PathBuf>,
    pub argv: Vec<OsString>,
    /// The library has sent the stop signal.
    pub stop_sent: bool,
    /// Set once the main process is gone: the decided state and the exit, if known.
    pub ended: Option<(State, Option<Exit>)>,
    /// The main process's group, kept after it ends so a stop can clean up what it left.
    pub group: Option<Group>,
}

impl Run {
    /// A run around a process found through its pid file.
    pub fn adopted(main: Target, pid_file: PathBuf) -> Run {
        Run {
            group: group_of(&main),
            phase: Phase::Running,
            main: Some(main),
            child: None,
            pid_file: Some(pid_file),
            pid_file_pending: false,
            spawn_ticks: None,
            log_file: None,
            argv: Vec::new(),
            stop_sent: false,
            ended: None,
        }
    }

    /// Whether the main process is the child we spawned.
    fn main_is_child(&self) -> bool {
        matches!((&self.main, &self.child), (Some(m), Some(c)) if m.pid == c.pid)
    }

    /// What the pid file says now: it names the current main process, another verified live
    /// process (the daemon of a launcher, or a new master after a binary upgrade), or neither.
    pub fn read_pid_file(&self) -> PidFileSays {
        let Some(path) = self.pid_file.as_ref() else {
            return PidFileSays::Nothing;
        };
        let Some(pid) = pidfile::read(path)
            .ok()
            .flatten()
            .and_then(|f| f.pid.map(|p| (p, f)))
        else {
            return PidFileSays::Nothing;
        };
        let (pid, file) = pid;
        if self
            .main
            .as_ref()
            .is_some_and(|m| m.pid == pid && m.is_alive())
        {
            return PidFileSays::Main;
        }
        let expect = Expect {
            not_before: self.spawn_ticks,
            ..Expect::from_pid_file(file.written_ticks)
        };
        match Target::open(pid, &expect) {
            Ok(Some(t)) => PidFileSays::Other(t),
            _ => PidFileSays::Nothing,
        }
    }

    /// Brings the record up to date with the kernel (reaping the child if it exited) and
    /// returns the state: the status decision table of the contract.
    pub fn refresh(&mut self) -> State {
        if let Some((state, _)) = self.ended {
            return state;
        }
        let child_alive = self.child.as_mut().map(Child::poll);
        let main_alive = if self.main_is_child() {
            child_alive == Some(true)
        } else {
            self.main.as_ref().is_some_and(Target::is_alive)
        };

        if main_alive {
            if self.pid_file_pending {
                match self.read_pid_file() {
                    PidFileSays::Main => self.pid_file_pending = false,
                    PidFileSays::Other(daemon) => {
                        self.group = group_of(&daemon);
                        self.main = Some(daemon);
                        self.pid_file_pending = false;
                    }
                    PidFileSays::Nothing => {}
                }
            }
            return self.live_state();
        }

        // The main process is gone. Its pid file may name a successor.
        if !self.stop_sent {
            if let PidFileSays::Other(successor) = self.read_pid_file() {
                self.group = group_of(&successor);
                self.main = Some(successor);
                self.pid_file_pending = false;
                return self.live_state();
            }
        }
        // A launcher that exited 0 while start still waits for its daemon's pid file.
        if self.phase == Phase::Starting
            && self.pid_file_pending
            && self.child_exit() == Some(Exit::Code(0))
        {
            return State::Starting;
        }
        let decided = self.decide();
        self.finish(decided);
        decided
    }

    fn live_state(&self) -> State {
        match self.phase {
            Phase::Starting => State::Starting,
            Phase::Stopping => State::Stopping,
            Phase::Running if self.pid_file_pending => State::PidFilePending,
            Phase::Running => State::Running,
        }
    }

    fn child_exit(&self) -> Option<Exit> {
        self.child.as_ref().and_then(|c| c.exit)
    }

    /// The ended state, from the table: a stop we sent is STOPPED; a child's exit code speaks
    /// for itself; a daemon that left its pid file behind crashed.
    fn decide(&self) -> State {
        if self.stop_sent {
            return State::Stopped;
        }
        let main_was_child = self.main.is_none() || self.main_is_child();
        if main_was_child {
            match self.child_exit() {
                Some(Exit::Code(0)) => return State::Exited,
                Some(Exit::Code(_)) => return State::Failed,
                Some(Exit::Signal(_)) => return State::Killed,
                Some(Exit::Unknown) => return State::ReapedElsewhere,
                None => {}
            }
        }
        let left_behind = self.main.as_ref().is_some_and(|m| {
            self.pid_file
                .as_ref()
                .and_then(|p| pidfile::read(p).ok().flatten())
                .is_some_and(|f| f.pid == Some(m.pid))
        });
        if left_behind {
            State::Crashed
        } else {
            State::Stopped
        }
    }

    /// Records the end of the run and lets go of the pidfd.
    pub fn finish(&mut self, state: State) {
        let exit = if self.main.is_none() || self.main_is_child() {
            self.child_exit()
        } else {
            None
        };
        self.ended = Some((state, exit));
        self.main = None;
        self.pid_file_pending = false;
    }

    /// The main process while it runs.
    pub fn live_main(&mut self) -> Option<&Target> {
        let state = self.refresh();
        self.main_in(state)
    }

    /// The main process, given the state a refresh just returned. While a start waits for a
    /// daemonizing launcher's daemon, the main process is the launcher that already exited.
    pub fn main_in(&self, state: State) -> Option<&Target> {
        self.main.as_ref().filter(|m| {
            state.status() == Status::Running && (state != State::Starting || m.is_alive())
        })
    }
}

/// One tracked id.
#[derive(Debug, Default)]
pub(crate) struct Entry {
    /// Held for a whole start or stop.
    pub op: Mutex<()>,
    /// Guards the run record; held briefly.
    pub state: Mutex<Option<Run>>,
}

/// The map of tracked ids.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    map: Mutex<HashMap<String, Arc<Entry>>>,
    /// The fork generation the records belong to, plus one (0: not yet used). In a forked copy
    /// of the host the records, and the children they name, are the parent's: the copy forgets
    /// them at its first call instead of reaping, signalling or cleaning up after the parent's
    /// processes.
    owner: AtomicU64,
}

impl Registry {
    /// Locks the map, first forgetting records inherited through a fork.
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Entry>>> {
        let mut map = lock(&self.map);
        let now = sys::fork_generation() + 1;
        if self.owner.load(Ordering::Relaxed) != now {
            map.clear();
            self.owner.store(now, Ordering::Relaxed);
        }
        map
    }

    /// The entry of `id`, created if needed.
    pub fn entry(&self, id: &str) -> Arc<Entry> {
        let mut map = self.map();
        if let Some(e) = map.get(id) {
            return Arc::clone(e);
        }
        let e = Arc::new(Entry::default());
        map.insert(id.to_owned(), Arc::clone(&e));
        e
    }

    /// The entry of `id`, if it is tracked.
    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.map().get(id).cloned()
    }

    /// Drops `entry` and removes it from the map if nobody else holds it and it records no
    /// run (an id that was only asked about, or stopped without ever being started). The
    /// record of an ended run stays, so info can tell how it ended. Removal under the map lock
    /// with a count of one is safe: any other user would have had to take the map lock to get
    /// a reference.
    pub fn release(&self, id: &str, entry: Arc<Entry>) {
        let mut map = self.map();
        let idle = match entry.state.try_lock() {
            Ok(run) => run.is_none(),
            Err(_) => false,
        };
        drop(entry);
        if idle {
            if let Some(e) = map.get(id) {
                if Arc::strong_count(e) == 1 {
                    map.remove(id);
                }
            }
        }
    }

    /// Every tracked id with its entry.
    pub fn snapshot(&self) -> Vec<(String, Arc<Entry>)> {
        let mut all: Vec<_> = self
            .map()
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Forgets everything; pidfds close as the entries drop.
    pub fn clear(&self) {
        self.map().clear();
    }
}
