//! start with a pid file: the wait for the file, late files, daemonizing launchers, early
//! failures, and what happens to a pid file left from before.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, State, Status, StopOptions};

#[test]
fn a_child_that_writes_its_pid_file_at_once_returns_quickly() {
    let t = Ctx::new("spf_fast");
    let pf = t.path("run/fast.pid");
    let spec = t
        .helper_spec("late_pidfile", &["0", &t.p("run/fast.pid")])
        .pid_file(&pf);
    let (r, took) = timed(|| t.m.start("fast", &spec));
    r.expect("start");
    assert!(
        took < secs(2.0),
        "no need to wait for the 5 s timeout, took {took:?}"
    );
    let pid = t.m.pid("fast").unwrap().unwrap();
    assert_eq!(read_pid(&pf), Some(pid), "the pid comes from the file");
    let info = t.m.info("fast").unwrap();
    assert_eq!(info.child_pid, Some(pid));
    assert_eq!(info.state, State::Running);
    assert_eq!(info.pid_file.as_deref(), Some(pf.as_path()));
}

#[test]
fn a_late_pid_file_is_pending_then_tracked_and_running_throughout() {
    let t = Ctx::new("spf_late");
    let pf = t.path("late.pid");
    // The file comes 1.5 s after the spawn, well after the 300 ms pid-file timeout.
    let spec = t
        .helper_spec("late_pidfile", &["1500", &t.p("late.pid")])
        .pid_file(&pf)
        .pid_file_timeout(ms(300));
    let (r, took) = timed(|| t.m.start("late", &spec));
    r.expect("a child alive at the deadline is a successful start");
    assert!(
        took >= ms(250),
        "start waited for the file until its timeout, took {took:?}"
    );
    assert!(
        took < secs(1.4),
        "start returned at the timeout, took {took:?}"
    );
    assert!(!pf.exists(), "the file is not written yet");

    let info = t.m.info("late").unwrap();
    assert_eq!(info.status, Status::Running);
    assert_eq!(info.state, State::PidFilePending);
    let child = info.child_pid.expect("the spawned child");
    assert_eq!(
        t.m.pid("late").unwrap(),
        Some(child),
        "tracked by its own PID until the file appears"
    );

    let mut seen_not_running = None;
    let tracked = wait_until(secs(5.0), || {
        let st = t.m.status("late").unwrap();
        if st != Status::Running {
            seen_not_running = Some(st);
        }
        pf.exists() && t.m.info("late").unwrap().state == State::Running
    });
    assert_eq!(seen_not_running, None, "RUNNING throughout");
    assert!(
        tracked,
        "the file was picked up: {:?}",
        t.m.info("late").unwrap()
    );
    assert_eq!(t.m.pid("late").unwrap(), read_pid(&pf));
}

#[test]
fn status_reads_running_while_start_waits_for_the_pid_file() {
    let t = Ctx::new("spf_during");
    let pf = t.path("during.pid");
    let spec = t
        .helper_spec("late_pidfile", &["1200", &t.p("during.pid")])
        .pid_file(&pf);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            let r = t.m.start("during", &spec);
            done.store(true, Ordering::SeqCst);
            r
        });
        // Once the child exists, every status during the wait must be RUNNING and quick.
        assert!(wait_until(secs(3.0), || !t.live_tagged().is_empty()));
        let mut polls = 0;
        while !done.load(Ordering::SeqCst) {
            let (st, took) = timed(|| t.m.status("during").unwrap());
            assert!(
                took < ms(500),
                "status does not wait for the start, took {took:?}"
            );
            if !done.load(Ordering::SeqCst) {
                assert_eq!(
                    st,
                    Status::Running,
                    "status while the start waits for the pid file"
                );
            }
            polls += 1;
            std::thread::sleep(ms(20));
        }
        h.join().unwrap().expect("start");
        assert!(polls > 5, "the start did wait for the file ({polls} polls)");
    });
    assert_eq!(t.m.pid("during").unwrap(), read_pid(&pf));
}

#[test]
fn a_daemonizing_launcher_that_exits_0_is_followed_to_its_daemon() {
    let t = Ctx::new("spf_daemon");
    let pf = t.path("d/daemon.pid");
    // The launcher exits 0 at once; the daemon writes the file 500 ms later.
    let spec = t
        .helper_spec("daemonize", &[&t.p("d/daemon.pid"), "500", "clean"])
        .pid_file(&pf);
    let (r, took) = timed(|| t.m.start("daemon", &spec));
    r.expect("exit 0 of a launcher is not a failure");
    assert!(
        took >= ms(400),
        "start waited for the daemon's file, took {took:?}"
    );
    let pid = t.m.pid("daemon").unwrap().expect("running");
    assert_eq!(Some(pid), read_pid(&pf), "the daemon's PID, from the file");
    let info = t.m.info("daemon").unwrap();
    assert_ne!(
        info.child_pid,
        Some(pid),
        "the launcher differs from the daemon"
    );
    assert_eq!(info.status, Status::Running);
    assert_ne!(
        Some(stat(pid).unwrap().session),
        info.child_pid,
        "it is the daemon (it left the launcher's session)"
    );

    t.m.stop("daemon", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert_eq!(t.m.status("daemon").unwrap(), Status::Stopped);
}

#[test]
fn a_launcher_that_exits_0_without_a_pid_file_is_exited_at_the_deadline() {
    let t = Ctx::new("spf_nofile");
    let pf = t.path("never.pid");
    let spec = t
        .helper_spec("exit_after", &["0", "0"])
        .pid_file(&pf)
        .pid_file_timeout(ms(800));
    let (r, took) = timed(|| t.m.start("nofile", &spec));
    let e = r.expect_err("exited 0 and wrote no pid file");
    assert_eq!(e.kind(), ErrorKind::Exited, "{e}");
    assert!(
        took >= ms(700),
        "it kept waiting for a daemon until the deadline, took {took:?}"
    );
    assert!(took < secs(4.0), "took {took:?}");
    assert!(
        e.message().contains("nofile"),
        "the message names the id: {e}"
    );
    assert_ne!(t.m.status("nofile").unwrap(), Status::Running);
}

#[test]
fn a_non_zero_exit_before_the_file_is_exited_at_once() {
    let t = Ctx::new("spf_fail");
    let pf = t.path("fail.pid");
    let log = t.path("fail.log");
    let spec = t
        .helper_spec("exit_after", &["3", "100", "BIND-FAILED-MARKER"])
        .pid_file(&pf)
        .log_file(&log)
        .pid_file_timeout(secs(5.0));
    let (r, took) = timed(|| t.m.start("fail", &spec));
    let e = r.expect_err("exit 3 before any pid file");
    assert_eq!(e.kind(), ErrorKind::Exited, "{e}");
    assert!(
        took < secs(2.0),
        "no waiting for the 5 s timeout, took {took:?}"
    );
    assert!(e.message().contains('3'), "exit code in the message: {e}");
    assert!(
        e.message().contains("BIND-FAILED-MARKER"),
        "log tail in the message: {e}"
    );
    assert_eq!(t.m.status("fail").unwrap(), Status::Error);

    let spec = t
        .helper_spec("exit_after", &["sig6", "100"])
        .pid_file(t.path("abrt.pid"));
    let (r, took) = timed(|| t.m.start("abrt", &spec));
    assert_eq!(r.expect_err("killed by SIGABRT").kind(), ErrorKind::Exited);
    assert!(took < secs(2.0), "took {took:?}");
}

#[test]
fn a_stale_pid_file_naming_a_dead_pid_is_removed_before_launch() {
    let t = Ctx::new("spf_stale_dead");
    let pf = t.path("stale.pid");
    let report = t.path("report");
    write_pid_file(&pf, dead_pid());
    let spec = t
        .helper_spec(
            "late_pidfile",
            &["300", &t.p("stale.pid"), report.to_str().unwrap()],
        )
        .pid_file(&pf);
    t.m.start("stale", &spec).expect("start");
    assert_eq!(
        read_text(&report),
        "absent\n",
        "the stale file was gone when the child started"
    );
    let pid = t.m.pid("stale").unwrap().unwrap();
    assert_eq!(read_pid(&pf), Some(pid));
    assert_eq!(
        t.m.info("stale").unwrap().child_pid,
        Some(pid),
        "the new child, not the dead PID"
    );
}

#[test]
fn a_pid_file_naming_a_reused_pid_is_removed_and_the_process_spared() {
    let t = Ctx::new("spf_stale_live");
    let victim = t.unrelated();
    let pf = t.path("reused.pid");
    write_pid_file(&pf, victim);
    age_file(&pf, 300);
    let report = t.path("report");
    let spec = t
        .helper_spec(
            "late_pidfile",
            &["100", &t.p("reused.pid"), report.to_str().unwrap()],
        )
        .pid_file(&pf);
    t.m.start("reused", &spec)
        .expect("a stale file does not make the id 'already running'");
    assert_eq!(
        read_text(&report),
        "absent\n",
        "the file failing identity was removed before launch"
    );
    let pid = t.m.pid("reused").unwrap().unwrap();
    assert_ne!(pid, victim);
    t.m.stop("reused", &StopOptions::default()).unwrap();
    assert!(
        alive(victim),
        "the unrelated process named by the stale file was never touched"
    );
}

#[test]
fn a_pid_file_naming_a_live_verified_process_means_already_running() {
    let t = Ctx::new("spf_adopt");
    let other = t.unrelated();
    let pf = t.path("adopt.pid");
    write_pid_file(&pf, other);
    let spec = t.helper_spec("sleeper", &[]).pid_file(&pf);
    t.m.start("adopt", &spec).expect("already running");
    assert_eq!(t.m.pid("adopt").unwrap(), Some(other));
    std::thread::sleep(ms(100));
    assert_eq!(t.live_tagged(), vec![other], "nothing new was spawned");
    assert_eq!(read_pid(&pf), Some(other), "the live file is kept");
}

#[test]
fn a_file_that_holds_no_pid_is_never_deleted() {
    let t = Ctx::new("spf_garbage");
    let pf = t.path("notapid.pid");
    write_file(&pf, "this is not a pid file\nmaybe a config\n");
    let report = t.path("report");
    // The child never writes the file; it is alive at the (short) deadline.
    let spec = t
        .helper_spec(
            "late_pidfile",
            &[
                "60000",
                t.p("elsewhere.pid").as_str(),
                report.to_str().unwrap(),
                pf.to_str().unwrap(),
            ],
        )
        .pid_file(&pf)
        .pid_file_timeout(ms(400));
    t.m.start("garbage", &spec)
        .expect("alive at the deadline: OK, pending");
    assert_eq!(read_text(&report), "existed\n", "not deleted before launch");
    assert_eq!(t.m.status("garbage").unwrap(), Status::Running);
    assert_eq!(
        read_text(&pf),
        "this is not a pid file\nmaybe a config\n",
        "untouched"
    );
}

#[test]
fn the_pid_files_directory_is_created() {
    let t = Ctx::new("spf_mkdir");
    let pf = t.path("a/b/c/svc.pid");
    // The helper writes into the directory, so it must exist before the child runs.
    let spec = t
        .helper_spec("late_pidfile", &["0", &t.p("a/b/c/svc.pid")])
        .pid_file(&pf);
    t.m.start("mkdir", &spec)
        .expect("the directory is created by start");
    assert!(pf.parent().unwrap().is_dir());
    assert_eq!(t.m.pid("mkdir").unwrap(), read_pid(&pf));
}

#[test]
fn an_uncreatable_pid_file_directory_is_io() {
    let t = Ctx::new("spf_io");
    let blocker = t.path("blocker");
    write_file(&blocker, "a file, not a directory");
    let spec = t
        .helper_spec("sleeper", &[])
        .pid_file(blocker.join("svc.pid"))
        .startup_window(Duration::ZERO);
    let e =
        t.m.start("io", &spec)
            .expect_err("cannot create the pid file's directory");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(t.live_tagged().is_empty());
}

#[test]
fn a_multi_line_pid_file_of_a_live_service_is_kept_and_means_running() {
    // Seed bug 4: postmaster.pid has 8 lines; reading it as one number deleted it while
    // Postgres ran.
    let t = Ctx::new("spf_postmaster");
    let pg = t.unrelated();
    let pf = t.path("data/postmaster.pid");
    let text = format!("{pg}\n/var/lib/postgresql/16/main\n1732870000\n5432\n/var/run/postgresql\n127.0.0.1\n  5432001         0\nready   \n");
    write_file(&pf, &text);
    t.m.start("pg", &t.helper_spec("sleeper", &[]).pid_file(&pf))
        .expect("already running");
    assert_eq!(t.m.pid("pg").unwrap(), Some(pg));
    assert_eq!(t.m.status("pg").unwrap(), Status::Running);
    assert_eq!(read_text(&pf), text, "the file is untouched");
}
