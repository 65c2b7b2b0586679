//! Faults a process manager meets in the field, each with the behaviour it must show:
//! a service that ignores SIGTERM, one that is SIGSTOPped, one whose grandchild escapes into a
//! new session, a pid file deleted or rewritten by someone else, a host that reaps with
//! waitpid(-1), a host out of file descriptors, a host thread cancelled in a stop, a host that
//! forks.

mod common;
#[path = "hardening/support.rs"]
mod support;

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, State, Status, StopOptions};
use support::*;

fn start(t: &Ctx, id: &str, helper: &str, args: &[&str]) -> i32 {
    t.m.start(
        id,
        &t.helper_spec(helper, args).startup_window(Duration::ZERO),
    )
    .unwrap_or_else(|e| panic!("start {id}: {e}"));
    t.m.pid(id).unwrap().expect("running")
}

/// Starts "svc", a service that writes its pid file `pf` at once, and gives its PID.
fn start_with_pid_file(t: &Ctx, pf: &std::path::Path) -> i32 {
    t.m.start(
        "svc",
        &t.helper_spec("late_pidfile", &["0", pf.to_str().unwrap()])
            .pid_file(pf)
            .pid_file_timeout(secs(3.0)),
    )
    .unwrap();
    t.m.pid("svc").unwrap().unwrap()
}

fn state_char(pid: i32) -> Option<char> {
    stat(pid).map(|s| s.state)
}

#[test]
fn a_service_that_ignores_sigterm_is_killed_at_the_timeout() {
    let t = Ctx::new("hf_ignore_term");
    let pid = start(&t, "stubborn", "ignore_term", &[]);
    std::thread::sleep(ms(100)); // SIG_IGN is installed
    let (r, took) = timed(|| {
        t.m.stop("stubborn", &StopOptions::default().timeout(ms(400)))
    });
    r.expect("stop ends it with SIGKILL");
    assert!(took >= ms(350) && took < secs(3.0), "took {took:?}");
    assert!(gone(pid));
    assert_eq!(t.m.status("stubborn").unwrap(), Status::Stopped);
}

#[test]
fn a_sigstopped_service_still_stops() {
    let t = Ctx::new("hf_sigstop");
    // One that dies of SIGTERM: SIGCONT after the SIGTERM lets it act on it at once.
    let pid = start(&t, "frozen", "sleeper", &[]);
    // SAFETY: our own child, verified running; a constant signal.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert!(
        wait_until(secs(2.0), || state_char(pid) == Some('T')),
        "not stopped"
    );
    let (r, took) = timed(|| {
        t.m.stop("frozen", &StopOptions::default().timeout(secs(5.0)))
    });
    r.expect("stop");
    assert!(
        took < secs(2.0),
        "SIGCONT let SIGTERM act at once; took {took:?}"
    );
    assert!(gone(pid));
    // One that ignores SIGTERM and is stopped: SIGKILL ends even a stopped process.
    let pid = start(&t, "frozen-stubborn", "ignore_term", &[]);
    std::thread::sleep(ms(100));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert!(wait_until(secs(2.0), || state_char(pid) == Some('T')));
    let (r, took) = timed(|| {
        t.m.stop("frozen-stubborn", &StopOptions::default().timeout(ms(300)))
    });
    r.expect("stop");
    assert!(took < secs(3.0), "took {took:?}");
    assert!(gone(pid));
    assert!(t.wait_no_live(secs(2.0)), "left: {:?}", t.live_tagged());
}

/// Documented behaviour: a grandchild that calls setsid() leaves the service's process group,
/// so neither the graceful signal nor the group SIGKILL reaches it; stop returns OK once the
/// main process and its group are gone, and the grandchild keeps running. The library cannot
/// find it without scanning every process of the user, which would risk hitting unrelated
/// ones. (This is why PostgreSQL, whose backends call setsid, must be stopped gracefully.)
#[test]
fn a_grandchild_in_a_new_session_escapes_the_group_kill() {
    let t = Ctx::new("hf_escape");
    let gc_file = t.path("grandchild.pid");
    let script = format!(
        "setsid {sleeper} & echo $! > {gc}.tmp && mv {gc}.tmp {gc}; {sleeper} & exec {sleeper}",
        sleeper = helper("sleeper").display(),
        gc = gc_file.display()
    );
    t.m.start(
        "escaper",
        &t.spec(["/bin/sh", "-c", &script])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let main = t.m.pid("escaper").unwrap().unwrap();
    let gc = wait_pid_file(&gc_file, secs(3.0));
    t.track(gc);
    let gc_id = ProcId::of(gc).expect("grandchild alive");
    assert!(
        wait_until(secs(2.0), || stat(gc).is_some_and(|s| s.session == gc)),
        "the grandchild has its own session"
    );
    // The shell forks the worker after it wrote the grandchild's PID: wait for it.
    let mut in_group: Vec<i32> = Vec::new();
    wait_until(secs(3.0), || {
        in_group = group_members(main)
            .into_iter()
            .filter(|&p| p != main && alive(p))
            .collect();
        in_group.len() == 1 && stat(main).is_some_and(|s| s.state != 'Z')
    });
    assert_eq!(
        in_group.len(),
        1,
        "one worker in the service's group: {in_group:?}"
    );
    t.m.stop("escaper", &StopOptions::default().timeout(secs(2.0)))
        .expect("stop");
    assert!(gone(main), "the main process is gone");
    assert!(
        wait_until(secs(2.0), || in_group.iter().all(|&p| gone(p))),
        "the worker in the group is gone"
    );
    assert!(
        gc_id.alive(),
        "the grandchild in its own session escaped (documented)"
    );
    assert_eq!(t.m.status("escaper").unwrap(), Status::Stopped);
    // Clean up the escapee by PID, after checking it is still the same process.
    assert!(gc_id.is_same_process());
    // SAFETY: a verified PID (same start time) of a process this test created.
    unsafe { libc::kill(gc, libc::SIGKILL) };
    assert!(wait_until(secs(2.0), || gone(gc)));
}

#[test]
fn a_pid_file_deleted_by_someone_else_keeps_the_service_running() {
    let t = Ctx::new("hf_pf_deleted");
    let pf = t.path("run/svc.pid");
    let pid = start_with_pid_file(&t, &pf);
    fs::remove_file(&pf).unwrap();
    assert_eq!(
        t.m.status("svc").unwrap(),
        Status::Running,
        "liveness wins over the file"
    );
    assert_eq!(t.m.pid("svc").unwrap(), Some(pid));
    t.m.stop("svc", &StopOptions::default().timeout(secs(2.0)))
        .unwrap();
    assert!(gone(pid));
    assert!(!pf.exists());
}

#[test]
fn a_pid_file_rewritten_by_someone_else_never_redirects_a_signal() {
    let t = Ctx::new("hf_pf_rewritten");
    let unrelated = t.unrelated();
    // Start times have a resolution of one clock tick (10 ms) and the check allows one tick
    // of slack: an unrelated process started within that of the spawn cannot be told from a
    // daemon of the service. Make it clearly older.
    std::thread::sleep(ms(100));
    let pf = t.path("run/svc.pid");
    let pid = start_with_pid_file(&t, &pf);
    for content in [
        format!("{unrelated}\n"),
        "garbage\n".to_string(),
        format!("{}\n", std::process::id()),
    ] {
        write_file(&pf, &content);
        assert_eq!(t.m.status("svc").unwrap(), Status::Running);
        assert_eq!(
            t.m.pid("svc").unwrap(),
            Some(pid),
            "still the process it started ({content:?})"
        );
        t.m.signal("svc", libc::SIGCONT).unwrap();
    }
    // Someone writes an older, unrelated process into the file, then the service dies on its
    // own: the unrelated process started before the spawn, so it is no successor.
    write_pid_file(&pf, unrelated);
    // SAFETY: the library's verified child; a constant signal.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(
        wait_until(secs(3.0), || t.m.status("svc").unwrap() != Status::Running),
        "the death is seen"
    );
    assert_eq!(
        t.m.pid("svc").unwrap(),
        None,
        "the unrelated process is not adopted"
    );
    t.m.stop("svc", &StopOptions::default().timeout(ms(300)))
        .unwrap();
    assert!(
        alive(unrelated),
        "the unrelated process was never signalled"
    );
    assert_eq!(
        read_pid(&pf),
        Some(unrelated),
        "a file naming a live foreign process is kept"
    );
}

#[test]
fn the_host_reaping_with_waitpid_minus_one_reads_as_stopped() {
    if child_mode() {
        let t = Ctx::new("hf_reaped");
        let pid = start(&t, "reaped", "sleeper", &[]);
        let other = start(&t, "other", "sleeper", &[]);
        // SAFETY: our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let mut st = 0;
        // The host reaps behind the library's back. SAFETY: plain waitpid.
        let got = unsafe { libc::waitpid(-1, &mut st, 0) };
        assert_eq!(got, pid, "the host reaped the killed service");
        assert_eq!(
            t.m.status("reaped").unwrap(),
            Status::Stopped,
            "ECHILD reads as STOPPED"
        );
        assert_eq!(t.m.info("reaped").unwrap().state, State::ReapedElsewhere);
        assert_eq!(t.m.pid("reaped").unwrap(), None);
        t.m.stop("reaped", &StopOptions::default())
            .expect("stop after ECHILD is OK");
        // The other service is untouched, and starts still work.
        assert_eq!(t.m.status("other").unwrap(), Status::Running);
        assert_eq!(t.m.pid("other").unwrap(), Some(other));
        let again = start(&t, "reaped", "sleeper", &[]);
        t.m.stop("reaped", &StopOptions::default()).unwrap();
        t.m.stop("other", &StopOptions::default()).unwrap();
        assert!(gone(again) && gone(other));
        return;
    }
    let out = run_self(
        "the_host_reaping_with_waitpid_minus_one_reads_as_stopped",
        &[],
        &[],
    );
    assert_child_passed(&out, "waitpid(-1) host");
}

/// Raises RLIMIT_NOFILE again when dropped.
struct RestoreNofile;

impl Drop for RestoreNofile {
    fn drop(&mut self) {
        let lim = libc::rlimit {
            rlim_cur: 4096,
            rlim_max: 4096,
        };
        // SAFETY: a valid struct.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    }
}

#[test]
fn out_of_descriptors_is_a_clear_io_error_that_loses_nothing() {
    if child_mode() {
        let t = Ctx::new("hf_emfile");
        let before = all_fds();
        let lim = libc::rlimit {
            rlim_cur: 32,
            rlim_max: 4096,
        };
        // SAFETY: a valid struct; only this re-invoked test process is limited.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
        // Dropped before `t` (declared later): the guard's cleanup reads /proc, which needs
        // descriptors, also when an assertion below fails at the limit.
        let _restore = RestoreNofile;
        // Children hold no descriptor between calls, so far more services than the limit can
        // be tracked.
        let mut started = Vec::new();
        for i in 0..40 {
            let id = format!("fd-{i}");
            let spec = t
                .helper_spec("sleeper", &[])
                .startup_window(Duration::ZERO)
                .log_file(t.path(&format!("log/{i}.log")));
            t.m.start(&id, &spec)
                .unwrap_or_else(|e| panic!("start {id} under RLIMIT_NOFILE 32: {}", e.message()));
            started.push((id.clone(), t.m.pid(&id).unwrap().unwrap()));
        }
        eprintln!(
            "after {} services: all tracked under RLIMIT_NOFILE 32",
            started.len()
        );
        // Now run the host out of descriptors: the next start fails cleanly.
        let mut hoard = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hoard.push(f);
        }
        let failed_id = "fd-emfile".to_string();
        let e =
            t.m.start(
                &failed_id,
                &t.helper_spec("sleeper", &[])
                    .startup_window(Duration::ZERO)
                    .log_file(t.path("log/emfile.log")),
            )
            .expect_err("no descriptor left for the log");
        eprintln!("at EMFILE: {:?}: {}", e.kind(), e.message());
        assert_eq!(
            e.kind(),
            ErrorKind::Io,
            "EMFILE is GRAZR_ERR_IO: {}",
            e.message()
        );
        assert!(
            e.message().contains("Too many open files") || e.message().contains("EMFILE"),
            "{}",
            e.message()
        );
        assert!(
            e.message().contains(&failed_id),
            "the message names the id: {}",
            e.message()
        );
        assert_eq!(t.m.status(&failed_id).unwrap(), Status::Stopped);
        // Give the descriptors back; then nothing is lost: every live tagged process is a
        // tracked service. (Reading /proc needs descriptors too, hence only now.)
        drop(hoard);
        for (id, _) in started.drain(..4) {
            t.m.stop(&id, &StopOptions::default()).unwrap();
        }
        let mut live = t.live_tagged();
        live.sort();
        let mut tracked: Vec<i32> = started.iter().map(|(_, p)| *p).collect();
        tracked.sort();
        assert_eq!(live, tracked, "no process outside the registry");
        t.m.start(
            &failed_id,
            &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
        )
        .expect("works again once descriptors are free");
        started.push((failed_id.clone(), t.m.pid(&failed_id).unwrap().unwrap()));
        t.m.stop_all().expect("stop_all at the limit");
        assert!(t.wait_no_live(secs(3.0)), "left: {:?}", t.live_tagged());
        let after = all_fds();
        let leaked: Vec<_> = after.difference(&before).collect();
        assert!(leaked.is_empty(), "descriptors leaked: {leaked:?}");
        return;
    }
    let out = run_self(
        "out_of_descriptors_is_a_clear_io_error_that_loses_nothing",
        &[],
        &[],
    );
    eprintln!(
        "{}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("after "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_child_passed(&out, "RLIMIT_NOFILE 32 host");
}

#[test]
fn a_cancelled_thread_blocked_in_stop_then_stop_all_from_another_thread() {
    let bin = build_c("cancel_stop", true);
    let t = Ctx::new("hf_cancel");
    let mut cmd = Command::new("timeout");
    cmd.args(["60", bin.to_str().unwrap()])
        .env(TAG_VAR, &t.tag)
        .current_dir(t.dir.path())
        .stdin(Stdio::null());
    let out = cmd.output().expect("run the C host");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && stdout.contains("0 failed"),
        "the C host failed ({:?})",
        out.status
    );
    assert!(t.wait_no_live(secs(2.0)), "left: {:?}", t.live_tagged());
}

/// Documented behaviour of a host that forks without exec: the child has a copy of the registry
/// and of the pidfds, but the records and the services are the parent's. The library notices
/// the fork at the child's first call and forgets the inherited records, so the child sees the
/// id as unknown (STOPPED, state STOPPED), and its stop sends nothing; the parent's view and the
/// service are unaffected. Only exec or _exit are safe in such a child (a lock held by another
/// thread at fork time stays held forever).
#[test]
fn a_forked_host_child_sees_stopped_and_harms_nothing() {
    if child_mode() {
        let t = Ctx::new("hf_fork");
        let pid = start(&t, "svc", "sleeper", &[]);
        let mut fds = [0; 2];
        // SAFETY: a valid array of two ints.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: this re-invoked test runs on one thread of its own; the child only calls
        // status and write, then _exit.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let st = t.m.status("svc").map(|s| s as i32).unwrap_or(-1);
            let state = t.m.info("svc").map(|i| i.state as i32).unwrap_or(-1);
            let stop =
                t.m.stop("svc", &StopOptions::default().timeout(Duration::ZERO))
                    .is_ok() as i32;
            let msg = format!("{st} {state} {stop}");
            // SAFETY: writes our buffer to the pipe, then leaves without running destructors.
            unsafe {
                libc::write(fds[1], msg.as_ptr().cast(), msg.len());
                libc::_exit(0);
            }
        }
        // SAFETY: closing our copy of the write end; reading into a buffer of ours.
        unsafe { libc::close(fds[1]) };
        let mut buf = [0u8; 64];
        let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
        let mut st = 0;
        // SAFETY: reap the forked child by PID.
        unsafe { libc::waitpid(child, &mut st, 0) };
        let said = String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned();
        eprintln!("forked child saw: status, state, stop-ok = {said}");
        assert_eq!(
            said,
            format!("0 {} 1", State::Stopped as i32),
            "the child's view"
        );
        assert!(alive(pid), "the fork's stop signalled nothing");
        assert_eq!(
            t.m.status("svc").unwrap(),
            Status::Running,
            "the parent's view is intact"
        );
        t.m.stop("svc", &StopOptions::default()).unwrap();
        assert!(gone(pid));
        return;
    }
    let out = run_self(
        "a_forked_host_child_sees_stopped_and_harms_nothing",
        &[],
        &[],
    );
    assert_child_passed(&out, "forking host");
}
