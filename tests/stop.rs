//! stop: graceful exit, SIGKILL escalation, timeout 0, never-kill, stopped processes, the
//! process group (KillMode=mixed), pid-file removal, registered defaults.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, ServiceSpec, State, Status, StopOptions};

fn start(t: &Ctx, id: &str, helper: &str, args: &[&str]) -> i32 {
    t.m.start(
        id,
        &t.helper_spec(helper, args).startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid(id).unwrap().expect("running");
    // A signal sent before the helper's setup would meet the default action instead.
    match helper {
        "ignore_term" => wait_ignores(pid, libc::SIGTERM),
        "term_delay" => wait_catches(pid, libc::SIGTERM),
        "workers" if args.get(2) == Some(&"ignore") => wait_ignores(pid, libc::SIGTERM),
        _ => {}
    }
    pid
}

#[test]
fn stopping_an_unknown_or_stopped_id_is_ok() {
    let t = Ctx::new("stop_unknown");
    let (r, took) = timed(|| t.m.stop("never-started", &StopOptions::default()));
    r.expect("unknown id: nothing to do");
    assert!(took < secs(1.0), "took {took:?}");
    let pid = start(&t, "twice", "sleeper", &[]);
    t.m.stop("twice", &StopOptions::default()).unwrap();
    t.m.stop("twice", &StopOptions::default())
        .expect("stopping again is OK");
    assert!(gone(pid));
}

#[test]
fn a_process_that_exits_on_term_stops_fast() {
    let t = Ctx::new("stop_term");
    let marker = t.path("term");
    let pid = start(&t, "term", "term_delay", &["50", marker.to_str().unwrap()]);
    let (r, took) = timed(|| t.m.stop("term", &StopOptions::default()));
    r.expect("stop");
    assert!(
        took < secs(2.0),
        "no waiting for the 5 s timeout, took {took:?}"
    );
    assert!(gone(pid));
    assert!(stat(pid).is_none(), "the library reaped its child");
    assert_eq!(
        read_text(&marker),
        "TERM\n",
        "it exited on SIGTERM, not by SIGKILL"
    );
    assert_eq!(t.m.status("term").unwrap(), Status::Stopped);
    assert_eq!(t.m.pid("term").unwrap(), None);
}

#[test]
fn sigkill_follows_after_the_timeout() {
    let t = Ctx::new("stop_escalate");
    let pid = start(&t, "stubborn", "ignore_term", &[]);
    let (r, took) = timed(|| {
        t.m.stop("stubborn", &StopOptions::default().timeout(ms(400)))
    });
    r.expect("SIGKILL ends it");
    assert!(
        took >= ms(350),
        "it waited for the timeout first, took {took:?}"
    );
    assert!(took < secs(3.0), "took {took:?}");
    assert!(gone(pid));
    assert_eq!(
        t.m.status("stubborn").unwrap(),
        Status::Stopped,
        "killed by the library's own stop"
    );
}

#[test]
fn timeout_zero_kills_at_once() {
    let t = Ctx::new("stop_zero");
    let pid = start(&t, "zero", "ignore_term", &[]);
    let (r, took) = timed(|| {
        t.m.stop("zero", &StopOptions::default().timeout(Duration::ZERO))
    });
    r.unwrap();
    assert!(took < secs(1.5), "took {took:?}");
    assert!(gone(pid));
}

#[test]
fn never_kill_times_out_and_leaves_the_process_running() {
    let t = Ctx::new("stop_nokill");
    let pid = start(&t, "pg", "ignore_term", &[]);
    let (r, took) = timed(|| {
        t.m.stop("pg", &StopOptions::default().timeout(ms(400)).never_kill())
    });
    let e = r.expect_err("still alive at the timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("pg"), "names the id: {e}");
    assert!(took >= ms(350) && took < secs(3.0), "took {took:?}");
    assert!(alive(pid), "never SIGKILLed");
    assert_eq!(t.m.status("pg").unwrap(), Status::Running);
    assert_eq!(t.m.pid("pg").unwrap(), Some(pid));
    t.m.stop("pg", &StopOptions::default().timeout(Duration::ZERO))
        .unwrap();
    assert!(gone(pid));
}

#[test]
fn a_registered_never_kill_service_is_never_killed() {
    let t = Ctx::new("stop_reg_nokill");
    t.m.register_service(
        ServiceSpec::new("postgres")
            .never_kill()
            .stop_timeout(ms(300)),
    )
    .unwrap();
    let pid = start(&t, "postgres", "ignore_term", &[]);
    let e =
        t.m.stop("postgres", &StopOptions::default().timeout(Duration::ZERO))
            .expect_err("not even timeout 0 kills it");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(alive(pid));
}

#[test]
fn a_sigstopped_process_gets_sigcont_and_handles_term_itself() {
    let t = Ctx::new("stop_sigstop");
    let marker = t.path("term");
    let pid = start(
        &t,
        "frozen",
        "term_delay",
        &["50", marker.to_str().unwrap()],
    );
    // SAFETY: kill(2) on this test's verified child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert!(
        wait_until(secs(2.0), || stat(pid).is_some_and(|s| s.state == 'T')),
        "stopped"
    );
    let (r, took) = timed(|| {
        t.m.stop("frozen", &StopOptions::default().timeout(secs(4.0)))
    });
    r.expect("stop");
    assert!(
        took < secs(3.0),
        "SIGCONT let it act on SIGTERM before the timeout, took {took:?}"
    );
    assert_eq!(read_text(&marker), "TERM\n", "its handler ran");
    assert!(gone(pid));
}

#[test]
fn a_sigstopped_process_that_ignores_term_is_killed_after_the_timeout() {
    let t = Ctx::new("stop_sigstop_kill");
    let pid = start(&t, "frozen-hard", "ignore_term", &[]);
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert!(wait_until(secs(2.0), || stat(pid).is_some_and(|s| s.state == 'T')));
    t.m.stop("frozen-hard", &StopOptions::default().timeout(ms(300)))
        .unwrap();
    assert!(gone(pid));
}

fn worker_pids(path: &std::path::Path) -> Vec<i32> {
    assert!(
        wait_until(secs(3.0), || read_text(path).lines().count() == 3),
        "workers forked"
    );
    let pids: Vec<i32> = read_text(path)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for w in &pids {
        wait_ignores(*w, libc::SIGTERM);
    }
    pids
}

#[test]
fn workers_left_in_the_group_get_sigkill_when_the_master_exits_on_term() {
    let t = Ctx::new("stop_mixed");
    let wf = t.path("workers");
    let master = start(
        &t,
        "master",
        "workers",
        &["3", wf.to_str().unwrap(), "exit"],
    );
    let workers = worker_pids(&wf);
    for w in &workers {
        assert_eq!(
            stat(*w).unwrap().pgrp,
            master,
            "workers share the master's group"
        );
    }
    let (r, took) = timed(|| t.m.stop("master", &StopOptions::default()));
    r.expect("stop");
    assert!(
        took < secs(2.5),
        "the master exits on TERM; no 5 s wait, took {took:?}"
    );
    assert!(gone(master));
    // Orphaned workers are reaped by init, which may lag a little.
    assert!(
        wait_until(secs(1.0), || workers.iter().all(|w| gone(*w))),
        "workers survived: {workers:?}"
    );
}

#[test]
fn escalation_kills_the_whole_group() {
    let t = Ctx::new("stop_group_kill");
    let wf = t.path("workers");
    let master = start(
        &t,
        "hung",
        "workers",
        &["3", wf.to_str().unwrap(), "ignore"],
    );
    let workers = worker_pids(&wf);
    t.m.stop("hung", &StopOptions::default().timeout(ms(300)))
        .expect("SIGKILL to the group");
    assert!(gone(master));
    assert!(
        wait_until(secs(1.0), || workers.iter().all(|w| gone(*w))),
        "workers survived: {workers:?}"
    );
}

#[test]
fn the_pid_file_is_removed_after_the_stop() {
    let t = Ctx::new("stop_pidfile");
    let pf = t.path("svc.pid");
    t.m.start(
        "pf",
        &t.helper_spec("late_pidfile", &["0", pf.to_str().unwrap()])
            .pid_file(&pf),
    )
    .unwrap();
    let pid = t.m.pid("pf").unwrap().unwrap();
    assert!(pf.exists());
    t.m.stop("pf", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert!(!pf.exists(), "pid file removed once the process is gone");

    // A daemon that ignores TERM: the file goes once SIGKILL has removed the daemon.
    let pf2 = t.path("d.pid");
    let spec = t
        .helper_spec("daemonize", &[pf2.to_str().unwrap(), "0", "plain"])
        .pid_file(&pf2);
    t.m.start("d", &spec).unwrap();
    let d = t.m.pid("d").unwrap().unwrap();
    t.m.stop("d", &StopOptions::default().timeout(Duration::ZERO))
        .unwrap();
    assert!(gone(d));
    assert!(!pf2.exists());
}

#[test]
fn stop_with_a_pid_file_adopts_an_untracked_process() {
    let t = Ctx::new("stop_untracked");
    let pid = t.unrelated();
    let pf = t.path("other.pid");
    write_pid_file(&pf, pid);
    t.m.stop("other", &StopOptions::default().pid_file(&pf))
        .unwrap();
    assert!(gone(pid));
    assert!(!pf.exists());
}

#[test]
fn the_registered_stop_signal_and_timeout_are_used() {
    let t = Ctx::new("stop_registered");
    // SIGINT ends it; SIGTERM would only be logged.
    let log = t.path("sig.log");
    t.m.register_service(ServiceSpec::new("by-int").stop_signal(libc::SIGINT))
        .unwrap();
    let pid = start(
        &t,
        "by-int",
        "siglog",
        &[log.to_str().unwrap(), &libc::SIGINT.to_string()],
    );
    assert!(wait_for_text(&log, "ready", secs(3.0)));
    let (r, took) = timed(|| t.m.stop("by-int", &StopOptions::default()));
    r.unwrap();
    assert!(
        took < secs(2.0),
        "exited on the registered signal, took {took:?}"
    );
    assert!(gone(pid));
    let got: Vec<String> = read_text(&log).lines().map(str::to_owned).collect();
    assert!(
        got.contains(&libc::SIGINT.to_string()),
        "SIGINT was sent: {got:?}"
    );
    assert!(
        !got.contains(&libc::SIGTERM.to_string()),
        "not SIGTERM: {got:?}"
    );

    // Registered timeout: 400 ms before SIGKILL (the helper exits on nothing it catches).
    let log2 = t.path("sig2.log");
    t.m.register_service(
        ServiceSpec::new("slow")
            .stop_signal(libc::SIGUSR2)
            .stop_timeout(ms(400)),
    )
    .unwrap();
    let pid2 = start(&t, "slow", "siglog", &[log2.to_str().unwrap()]);
    assert!(wait_for_text(&log2, "ready", secs(3.0)));
    let (r, took) = timed(|| t.m.stop("slow", &StopOptions::default()));
    r.unwrap();
    assert!(
        took >= ms(350) && took < secs(3.0),
        "the registered 400 ms, took {took:?}"
    );
    assert!(gone(pid2));
    assert!(
        read_text(&log2)
            .lines()
            .any(|l| l == libc::SIGUSR2.to_string()),
        "SIGUSR2 was sent"
    );

    // An explicit signal beats the registered one.
    let log3 = t.path("sig3.log");
    let pid3 = start(
        &t,
        "by-int",
        "siglog",
        &[log3.to_str().unwrap(), &libc::SIGQUIT.to_string()],
    );
    assert!(wait_for_text(&log3, "ready", secs(3.0)));
    t.m.stop(
        "by-int",
        &StopOptions::default()
            .signal(libc::SIGQUIT)
            .timeout(secs(3.0)),
    )
    .unwrap();
    assert!(gone(pid3));
    assert!(read_text(&log3)
        .lines()
        .any(|l| l == libc::SIGQUIT.to_string()));
}

#[test]
fn bad_stop_signals_are_invalid() {
    let t = Ctx::new("stop_badsig");
    let pid = start(&t, "sig", "sleeper", &[]);
    for s in [-1, 65, 1000] {
        let e =
            t.m.stop("sig", &StopOptions::default().signal(s))
                .expect_err("bad signal");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "signal {s}: {e}");
    }
    assert!(alive(pid), "a rejected stop does nothing");
    assert_eq!(
        t.m.stop("", &StopOptions::default()).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn state_is_stopping_while_a_stop_waits() {
    let t = Ctx::new("stop_stopping");
    let pid = start(&t, "slowstop", "ignore_term", &[]);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            t.m.stop("slowstop", &StopOptions::default().timeout(secs(1.0)))
        });
        assert!(
            wait_until(secs(0.8), || t.m.info("slowstop").unwrap().state
                == State::Stopping),
            "info shows STOPPING during the stop"
        );
        assert_eq!(
            t.m.status("slowstop").unwrap(),
            Status::Running,
            "still running while stopping"
        );
        h.join().unwrap().unwrap();
    });
    assert!(gone(pid));
}

#[test]
fn a_pid_file_removed_early_does_not_end_the_stop_early() {
    // Seed bug 14: the service deletes its pid file on SIGTERM but needs 800 ms to exit; stop
    // must wait for the process, not for the file.
    let t = Ctx::new("stop_early_unlink");
    let pf = t.path("early.pid");
    let marker = t.path("term");
    let spec = t
        .helper_spec(
            "term_delay",
            &["800", marker.to_str().unwrap(), pf.to_str().unwrap()],
        )
        .pid_file(&pf);
    t.m.start("early", &spec).unwrap();
    let pid = t.m.pid("early").unwrap().unwrap();
    wait_catches(pid, libc::SIGTERM);
    let (r, took) = timed(|| t.m.stop("early", &StopOptions::default()));
    r.unwrap();
    assert!(
        gone(pid),
        "stop returned while the process was still exiting"
    );
    assert!(took >= ms(700), "it waited for the exit, took {took:?}");
    assert_eq!(
        read_text(&marker),
        "TERM\n",
        "it exited on its own, not by SIGKILL"
    );
}
