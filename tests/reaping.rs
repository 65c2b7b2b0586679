//! Reaping (rules 1 and 6): the library waits only for its own children, survives a host that
//! reaps behind its back, and works on the no-pidfd fallback path.
//!
//! The dangerous halves (waitpid(-1), strace) run in a re-invoked copy of this binary, so they
//! cannot steal children from the tests running in parallel here.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, State, Status, StopOptions};

#[test]
fn a_host_child_keeps_its_own_exit_code() {
    let t = Ctx::new("reap_host_child");
    // The host's own child, spawned alongside the library's.
    let mut host_child = t.helper_cmd("exit_after", &["42", "300"]).spawn().unwrap();
    let host_pid = host_child.id() as i32;
    t.track(host_pid);
    // Library activity while the host child exits: starts, exits, status polls, stops.
    for i in 0..6 {
        let id = format!("lib-{i}");
        t.m.start(
            &id,
            &t.helper_spec("exit_after", &["1", "50"])
                .startup_window(Duration::ZERO),
        )
        .unwrap();
    }
    t.m.start(
        "lib-sleeper",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(
        wait_until(secs(3.0), || stat(host_pid).is_some_and(|s| s.state == 'Z')),
        "the host child exited"
    );
    for _ in 0..10 {
        for i in 0..6 {
            t.m.status(&format!("lib-{i}")).unwrap();
        }
        t.m.stop_all().unwrap();
        std::thread::sleep(ms(20));
    }
    let st = host_child
        .wait()
        .expect("the host child is still the host's to reap");
    assert_eq!(
        st.code(),
        Some(42),
        "the library must not reap the host's children"
    );
}

/// The isolated half: this process reaps everything with waitpid(-1), as a careless host may.
fn host_reaps_everything_child() {
    let t = Ctx::new("reap_elsewhere_child");
    t.m.start(
        "victim",
        &t.helper_spec("exit_after", &["5", "200"])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid("victim").unwrap().unwrap();
    let mut reaped = false;
    assert!(wait_until(secs(3.0), || {
        let mut st = 0;
        // SAFETY: waitpid with a valid status pointer; this is exactly the host behaviour under test.
        let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
        if r == pid {
            reaped = true;
        }
        reaped
    }));
    let st =
        t.m.status("victim")
            .expect("status survives a child reaped elsewhere");
    assert_eq!(st, Status::Stopped, "its exit is unknown: STOPPED");
    assert_eq!(t.m.info("victim").unwrap().state, State::ReapedElsewhere);
    assert_eq!(t.m.pid("victim").unwrap(), None);
    assert_eq!(
        t.m.signal("victim", libc::SIGHUP).unwrap_err().kind(),
        ErrorKind::NotRunning
    );
    t.m.stop("victim", &StopOptions::default())
        .expect("stop is OK");

    // A running child reaped after a foreign kill; then the id is usable again.
    t.m.start(
        "victim",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid("victim").unwrap().unwrap();
    // SAFETY: kill and waitpid on this process's own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert!(wait_until(secs(3.0), || {
        let mut st = 0;
        // SAFETY: as above.
        unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) == pid }
    }));
    assert_ne!(t.m.status("victim").unwrap(), Status::Running);
    t.m.stop("victim", &StopOptions::default()).unwrap();
    t.m.start(
        "victim",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    assert_eq!(t.m.status("victim").unwrap(), Status::Running);
    t.m.stop("victim", &StopOptions::default()).unwrap();
}

#[test]
fn a_host_that_reaps_with_waitpid_minus_one_does_not_break_the_library() {
    if child_mode() {
        host_reaps_everything_child();
        return;
    }
    helper("sleeper"); // build before the child runs
    let out = run_self(
        "a_host_that_reaps_with_waitpid_minus_one_does_not_break_the_library",
        &[],
        &[],
    );
    assert_child_passed(&out, "waitpid(-1) host");
}

/// A small life cycle used both normally and on the no-pidfd path.
fn life_cycle(t: &Ctx) {
    // start, status, signal, stop with escalation
    t.m.start(
        "cycle",
        &t.helper_spec("ignore_term", &[])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid("cycle").unwrap().unwrap();
    wait_ignores(pid, libc::SIGTERM);
    assert_eq!(t.m.status("cycle").unwrap(), Status::Running);
    t.m.signal("cycle", libc::SIGCONT).unwrap();
    let (r, took) = timed(|| t.m.stop("cycle", &StopOptions::default().timeout(ms(300))));
    r.unwrap();
    assert!(took >= ms(250) && took < secs(3.0), "took {took:?}");
    assert!(gone(pid));

    // an exit code is recorded
    t.m.start(
        "code",
        &t.helper_spec("exit_after", &["9", "100"])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(wait_until(secs(3.0), || t.m.status("code").unwrap() == Status::Error));
    assert_eq!(t.m.info("code").unwrap().exit_code, Some(9));

    // an early exit within the window
    let e =
        t.m.start(
            "early",
            &t.helper_spec("exit_after", &["2", "30"])
                .startup_window(secs(2.0)),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Exited);

    // a quick stop of a TERM-obeying child is quick without pidfd polling too
    t.m.start(
        "quick",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let (r, took) = timed(|| t.m.stop("quick", &StopOptions::default()));
    r.unwrap();
    assert!(took < secs(1.5), "took {took:?}");

    // a master whose workers stay in its group: they get SIGKILL when it exits on TERM
    let wf = t.path("workers");
    t.m.start(
        "master",
        &t.helper_spec("workers", &["2", wf.to_str().unwrap(), "exit"])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(wait_until(secs(3.0), || read_text(&wf).lines().count() == 2));
    let workers: Vec<i32> = read_text(&wf).lines().map(|l| l.parse().unwrap()).collect();
    for w in &workers {
        wait_ignores(*w, libc::SIGTERM);
    }
    t.m.stop("master", &StopOptions::default()).unwrap();
    assert!(
        wait_until(secs(1.0), || workers.iter().all(|w| gone(*w))),
        "workers survived"
    );

    // a daemon through its pid file, killed from outside: ERROR
    let pf = t.path("d.pid");
    t.m.start(
        "daemon",
        &t.helper_spec("daemonize", &[pf.to_str().unwrap(), "200", "plain"])
            .pid_file(&pf),
    )
    .unwrap();
    let d = t.m.pid("daemon").unwrap().unwrap();
    // SAFETY: kill(2) on the daemon this test started.
    unsafe { libc::kill(d, libc::SIGKILL) };
    assert!(wait_until(secs(3.0), || t.m.status("daemon").unwrap() == Status::Error));
    t.m.stop("daemon", &StopOptions::default()).unwrap();
    assert!(t.wait_no_live(secs(2.0)));
}

#[test]
fn life_cycle_with_pidfds() {
    let t = Ctx::new("reap_cycle");
    life_cycle(&t);
}

#[test]
fn life_cycle_without_pidfds() {
    if child_mode() {
        assert_eq!(std::env::var("GRAZR_PROC_NO_PIDFD").as_deref(), Ok("1"));
        let t = Ctx::new("reap_cycle_nopidfd");
        life_cycle(&t);
        return;
    }
    helper("sleeper");
    let out = run_self(
        "life_cycle_without_pidfds",
        &[("GRAZR_PROC_NO_PIDFD", "1")],
        &[],
    );
    assert_child_passed(&out, "GRAZR_PROC_NO_PIDFD=1");
}

/// With strace: the library never calls wait4/waitid on "any child", and with
/// GRAZR_PROC_NO_PIDFD=1 it opens no pidfd at all.
#[test]
fn syscalls_show_no_wait_for_any_child_and_no_pidfd_on_the_fallback() {
    if child_mode() {
        let t = Ctx::new("reap_strace_child");
        life_cycle(&t);
        return;
    }
    if !require_tool("strace") {
        return;
    }
    helper("sleeper");
    let t = Ctx::new("reap_strace");
    let name = "syscalls_show_no_wait_for_any_child_and_no_pidfd_on_the_fallback";
    for (no_pidfd, file) in [(false, "with"), (true, "without")] {
        let trace = t.path(file);
        let trace_s = trace.to_str().unwrap().to_owned();
        let envs: &[(&str, &str)] = if no_pidfd {
            &[("GRAZR_PROC_NO_PIDFD", "1")]
        } else {
            &[]
        };
        // Only the test process's own tasks matter, but children are followed so that the
        // library's threads are too; the helpers run no wait calls of interest.
        let out = run_self(
            name,
            envs,
            &[
                "strace",
                "-f",
                "-qq",
                "-e",
                "trace=wait4,waitid,pidfd_open,clone,clone3",
                "-o",
                &trace_s,
            ],
        );
        assert_child_passed(&out, "strace run");
        let text = read_text(&trace);
        assert!(!text.is_empty(), "strace wrote nothing");
        for l in text.lines() {
            assert!(!l.contains("wait4(-1"), "a wait for any child: {l}");
            assert!(!l.contains("waitid(P_ALL"), "a wait for any child: {l}");
        }
        // A pidfd comes from pidfd_open or from a spawn with CLONE_PIDFD (glibc's pidfd_spawn).
        let opened = text
            .lines()
            .filter(|l| l.contains("pidfd_open(") || l.contains("CLONE_PIDFD"))
            .count();
        if no_pidfd {
            assert_eq!(
                opened, 0,
                "GRAZR_PROC_NO_PIDFD=1 still opened pidfds:\n{text}"
            );
        } else {
            assert!(opened > 0, "control: the normal path opens pidfds");
        }
    }
}
