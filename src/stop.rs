#![forbid(unsafe_code)]
//! The staged stop of one verified main process and its process group: graceful signal and
//! SIGCONT, a wait on kernel events, SIGKILL for what is left of the group when the main
//! process exits (systemd's KillMode=mixed), SIGKILL for everything at the timeout.
//!
//! Nothing here holds a registry lock: the caller reads the target under the lock, lets go,
//! and calls [`stop_target`], so status calls are never blocked by a stop.

use std::io;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{getpgrp, getsid, Pid};

use crate::spec::KILL_GRACE;
use crate::target::{wait_all, Expect, Target};
use crate::{procfs, sys, Error, ErrorKind, Result};

/// How one stop proceeds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub signal: i32,
    pub timeout: Duration,
    pub never_kill: bool,
}

/// A process group to clean up with a main process: its id, and the start time of its leader
/// when the leader is (or was) that main process, to tell a reused group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Group {
    pub pgid: i32,
    pub leader_start: Option<u64>,
}

/// The group of `main`: its own group, unless that is the host's (an adopted process started
/// from the host's shell) or lies in the host's session.
pub(crate) fn group_of(main: &Target) -> Option<Group> {
    let stat = procfs::stat(main.pid).ok()?;
    let host_sid = getsid(None).map(|s| s.as_raw()).unwrap_or(-1);
    (stat.pgid > 1 && stat.pgid != getpgrp().as_raw() && stat.sid != host_sid).then_some(Group {
        pgid: stat.pgid,
        leader_start: (stat.pgid == main.pid).then_some(main.start_ticks),
    })
}

fn signal_error(what: &str, pid: i32, err: &io::Error) -> Error {
    let kind = if err.raw_os_error() == Some(libc::EPERM) {
        ErrorKind::Permission
    } else {
        ErrorKind::Io
    };
    Error::new(kind, format!("cannot send {what} to PID {pid}: {err}"))
}

fn is_gone(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ESRCH)
}

/// Whether any process (a zombie leader included) is left in group `pgid`. Signal 0 delivers
/// nothing; it only asks the kernel, which saves a scan of /proc in the common case of a main
/// process that leaves no group behind.
fn group_has_members(pgid: i32) -> bool {
    kill(Pid::from_raw(-pgid), None) != Err(Errno::ESRCH)
}

/// SIGKILL to the whole group of `main` at once, through its pidfd, while it leads the group
/// and lives (Linux 6.9+; older kernels refuse, and the members are then killed one by one).
fn kill_group_through_leader(group: Group, main: &Target) {
    if main.pid != group.pgid || !main.is_alive() {
        return;
    }
    if let Some(fd) = &main.pidfd {
        let _ = sys::pidfd_send_signal(
            std::os::fd::AsFd::as_fd(fd.as_ref()),
            libc::SIGKILL,
            sys::PIDFD_SIGNAL_PROCESS_GROUP,
        );
    }
}

/// Sends SIGKILL to every verified member of process group `pgid` other than `main`, one by
/// one, and returns them to be waited for. A member is signalled only through a pidfd opened
/// before its identity (group and start time) was re-read.
fn kill_group(group: Group, main: Option<&Target>) -> Vec<Target> {
    let pgid = group.pgid;
    if let Some(start) = group.leader_start {
        // A live process with the leader's number but another start time means the group id
        // may have been reused: leave it alone.
        if procfs::stat(pgid).is_ok_and(|s| s.start_ticks.abs_diff(start) > 1 && !s.is_dead()) {
            return Vec::new();
        }
    }
    let mut killed: Vec<Target> = Vec::new();
    // A member may fork while we work; a few passes catch the children of the first ones.
    for _ in 0..3 {
        let mut found = false;
        for (pid, start) in procfs::group_members(pgid) {
            if main.is_some_and(|m| m.pid == pid) || killed.iter().any(|k| k.pid == pid) {
                continue;
            }
            let expect = Expect {
                not_before: Some(start),
                not_after: Some(start as i64),
                program: None,
            };
            let Ok(Some(member)) = Target::open(pid, &expect) else {
                continue;
            };
            if procfs::stat(pid).map(|s| s.pgid).ok() != Some(pgid) {
                continue;
            }
            if member.signal(libc::SIGKILL).is_ok() {
                found = true;
                killed.push(member);
            }
        }
        if !found {
            break;
        }
    }
    killed
}

/// Kills what is left of `group` after its main process died on its own (a master killed from
/// outside leaves its workers serving the port). `Ok(())` once they are gone.
pub(crate) fn kill_leftovers(group: Group) -> Result<()> {
    if !group_has_members(group.pgid) {
        return Ok(());
    }
    // A leader that still lives with its recorded start time means the main process did not
    // die after all (the record was misread): nothing here may be killed without a stop.
    if let Some(start) = group.leader_start {
        if procfs::stat(group.pgid)
            .is_ok_and(|s| s.start_ticks.abs_diff(start) <= 1 && !s.is_dead())
        {
            return Ok(());
        }
    }
    let survivors = wait_all(kill_group(group, None), Instant::now() + KILL_GRACE);
    survivors_error(&survivors)
}

fn survivors_error(survivors: &[Target]) -> Result<()> {
    if survivors.is_empty() {
        return Ok(());
    }
    let pids: Vec<String> = survivors.iter().map(|t| t.pid.to_string()).collect();
    Err(Error::new(
        ErrorKind::Timeout,
        format!(
            "still alive {} ms after SIGKILL: PID {}",
            KILL_GRACE.as_millis(),
            pids.join(", ")
        ),
    ))
}

/// Stops `main` (verified alive by the caller) as `plan` says. `Ok(())` once the main process
/// and every verified member of its group are gone.
pub(crate) fn stop_target(main: &Target, plan: Plan, reap: &dyn Fn()) -> Result<()> {
    // One pidfd for the whole stop (a child holds none between calls).
    let main = &main.pinned();
    let group = group_of(main);
    match main.signal(plan.signal) {
        Ok(()) => {}
        Err(e) if is_gone(&e) => {}
        Err(e) => {
            return Err(signal_error(
                &format!("signal {}", plan.signal),
                main.pid,
                &e,
            ))
        }
    }
    // A stopped process cannot act on the signal until it is continued.
    let _ = main.signal(libc::SIGCONT);

    let started = Instant::now();
    let exited = if plan.timeout.is_zero() {
        !main.is_alive()
    } else {
        main.wait_exit(started + plan.timeout)
    };
    if !exited && plan.never_kill {
        return Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "PID {} still running {} ms after signal {}; not killed (SIGKILL is not allowed for it)",
                main.pid,
                plan.timeout.as_millis(),
                plan.signal
            ),
        ));
    }
    let deadline = Instant::now() + KILL_GRACE;
    if !exited {
        match main.signal(libc::SIGKILL) {
            Ok(()) => {}
            Err(e) if is_gone(&e) => {}
            Err(e) => return Err(signal_error("SIGKILL", main.pid, &e)),
        }
        if let Some(g) = group {
            kill_group_through_leader(g, main);
        }
        main.wait_exit(deadline);
    }
    reap();
    // With the main process gone and reaped, a group that signal 0 finds empty needs no scan
    // of /proc. What is left is killed member by member, never through the leader: after a
    // graceful exit, if the exit was misread, the main process (perhaps one that must never
    // get SIGKILL) is still spared.
    let mut waiting = Vec::new();
    if let Some(g) = group.filter(|g| group_has_members(g.pgid)) {
        waiting.extend(kill_group(g, Some(main)));
    }
    if main.is_alive() {
        waiting.push(main.clone());
    }
    let survivors = wait_all(waiting, deadline);
    survivors_error(&survivors)
}
