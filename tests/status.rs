//! The status decision table of issue 2, one test per row, plus "ERROR lasts until the next
//! start or stop" and "status never deletes files".

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ServiceSpec, State, Status, StopOptions};

fn sleeper(t: &Ctx, id: &str) -> i32 {
    t.m.start(
        id,
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    t.m.pid(id).unwrap().unwrap()
}

fn kill(pid: i32, sig: i32) {
    assert!(pid > 1 && pid != std::process::id() as i32);
    // SAFETY: kill(2) on a PID this test started and verified; no memory is involved.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
}

fn wait_status(t: &Ctx, id: &str, want: Status) -> bool {
    wait_until(secs(5.0), || t.m.status(id).unwrap() == want)
}

#[test]
fn row_unknown_id_is_stopped() {
    let t = Ctx::new("st_unknown");
    assert_eq!(t.m.status("never-seen").unwrap(), Status::Stopped);
    assert_eq!(t.m.pid("never-seen").unwrap(), None);
    let info = t.m.info("never-seen").unwrap();
    assert_eq!(
        (info.status, info.state, info.pid),
        (Status::Stopped, State::Stopped, None)
    );
}

#[test]
fn row_live_child_is_running() {
    let t = Ctx::new("st_live");
    let pid = sleeper(&t, "live");
    for _ in 0..5 {
        assert_eq!(t.m.status("live").unwrap(), Status::Running);
    }
    assert!(alive(pid));
}

#[test]
fn row_child_exited_0_is_stopped() {
    let t = Ctx::new("st_exit0");
    t.m.start(
        "exit0",
        &t.helper_spec("exit_after", &["0", "1000"])
            .startup_window(ms(50)),
    )
    .unwrap();
    assert_eq!(t.m.status("exit0").unwrap(), Status::Running);
    assert!(wait_status(&t, "exit0", Status::Stopped));
    let info = t.m.info("exit0").unwrap();
    assert_eq!(info.state, State::Exited);
    assert_eq!(info.exit_code, Some(0));
    assert_eq!(info.pid, None);
    assert_eq!(t.m.pid("exit0").unwrap(), None);
}

#[test]
fn row_child_exited_non_zero_is_error_until_the_next_start_or_stop() {
    let t = Ctx::new("st_exit3");
    t.m.start(
        "exit3",
        &t.helper_spec("exit_after", &["3", "300"])
            .startup_window(ms(50)),
    )
    .unwrap();
    assert!(wait_status(&t, "exit3", Status::Error));
    let info = t.m.info("exit3").unwrap();
    assert_eq!((info.state, info.exit_code), (State::Failed, Some(3)));
    assert!(
        t.m.list().contains(&"exit3".to_owned()),
        "ERROR ids are listed"
    );
    std::thread::sleep(ms(300));
    for _ in 0..3 {
        assert_eq!(t.m.status("exit3").unwrap(), Status::Error, "ERROR lasts");
    }
    t.m.stop("exit3", &StopOptions::default()).unwrap();
    assert_eq!(
        t.m.status("exit3").unwrap(),
        Status::Stopped,
        "a stop clears ERROR"
    );

    t.m.start(
        "exit3b",
        &t.helper_spec("exit_after", &["3", "200"])
            .startup_window(ms(50)),
    )
    .unwrap();
    assert!(wait_status(&t, "exit3b", Status::Error));
    t.m.start(
        "exit3b",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    assert_eq!(
        t.m.status("exit3b").unwrap(),
        Status::Running,
        "a start clears ERROR"
    );
}

#[test]
fn row_child_killed_by_a_foreign_signal_is_error() {
    let t = Ctx::new("st_killed");
    let pid = sleeper(&t, "killed");
    kill(pid, libc::SIGKILL);
    assert!(wait_status(&t, "killed", Status::Error));
    let info = t.m.info("killed").unwrap();
    assert_eq!(
        (info.state, info.term_signal),
        (State::Killed, Some(libc::SIGKILL))
    );
    assert!(gone(pid));
    assert!(
        stat(pid).is_none(),
        "the dead child was reaped by the call that noticed it"
    );
}

#[test]
fn row_exit_after_the_librarys_own_stop_is_stopped() {
    let t = Ctx::new("st_stopped");
    let pid = sleeper(&t, "stopped");
    t.m.stop("stopped", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert_eq!(
        t.m.status("stopped").unwrap(),
        Status::Stopped,
        "SIGTERM sent by the library is no error"
    );
    assert_eq!(t.m.info("stopped").unwrap().state, State::Stopped);
}

fn start_daemon(t: &Ctx, id: &str, mode: &str) -> (i32, std::path::PathBuf) {
    let pf = t.path(&format!("{id}.pid"));
    let spec = t
        .helper_spec("daemonize", &[pf.to_str().unwrap(), "0", mode])
        .pid_file(&pf);
    t.m.start(id, &spec).unwrap();
    let pid = t.m.pid(id).unwrap().unwrap();
    assert_eq!(read_pid(&pf), Some(pid));
    (pid, pf)
}

#[test]
fn row_live_daemon_from_its_pid_file_is_running() {
    let t = Ctx::new("st_daemon");
    let (pid, _) = start_daemon(&t, "daemon", "plain");
    std::thread::sleep(ms(300));
    assert_eq!(
        t.m.status("daemon").unwrap(),
        Status::Running,
        "the launcher exited 0, the daemon lives"
    );
    assert_eq!(t.m.pid("daemon").unwrap(), Some(pid));
}

#[test]
fn row_daemon_gone_with_its_pid_file_is_stopped() {
    let t = Ctx::new("st_daemon_clean");
    let (pid, pf) = start_daemon(&t, "clean", "clean");
    kill(pid, libc::SIGTERM); // someone else stops it; it removes its file like nginx does
    assert!(wait_until(secs(3.0), || gone(pid) && !pf.exists()));
    assert!(wait_status(&t, "clean", Status::Stopped));
    assert_eq!(t.m.pid("clean").unwrap(), None);
}

#[test]
fn row_daemon_gone_with_its_pid_file_left_is_error() {
    let t = Ctx::new("st_daemon_crash");
    let (pid, pf) = start_daemon(&t, "crash", "plain");
    kill(pid, libc::SIGKILL);
    assert!(wait_until(secs(3.0), || gone(pid)));
    assert!(
        wait_status(&t, "crash", Status::Error),
        "a crash leaves its pid file: ERROR"
    );
    assert_eq!(t.m.info("crash").unwrap().state, State::Crashed);
    assert!(pf.exists(), "status never deletes the pid file");
    std::thread::sleep(ms(200));
    assert_eq!(t.m.status("crash").unwrap(), Status::Error, "ERROR lasts");
    assert!(pf.exists());
    t.m.stop("crash", &StopOptions::default()).unwrap();
    assert_eq!(
        t.m.status("crash").unwrap(),
        Status::Stopped,
        "stop clears it"
    );
}

#[test]
fn row_pid_file_deleted_while_the_process_lives_is_running() {
    let t = Ctx::new("st_deleted");
    let pf = t.path("deleted.pid");
    let spec = t
        .helper_spec("late_pidfile", &["0", pf.to_str().unwrap()])
        .pid_file(&pf);
    t.m.start("deleted", &spec).unwrap();
    let pid = t.m.pid("deleted").unwrap().unwrap();
    std::fs::remove_file(&pf).unwrap();
    for _ in 0..5 {
        assert_eq!(
            t.m.status("deleted").unwrap(),
            Status::Running,
            "liveness wins over the file"
        );
        std::thread::sleep(ms(50));
    }
    assert_eq!(t.m.pid("deleted").unwrap(), Some(pid));
    t.m.stop("deleted", &StopOptions::default()).unwrap();
    assert!(gone(pid), "stop still finds the process without its file");
}

#[test]
fn row_untracked_id_with_a_verified_registered_pid_file_is_adopted() {
    let t = Ctx::new("st_adopt");
    let pid = t.unrelated();
    let pf = t.path("run/adopt.pid");
    write_pid_file(&pf, pid);
    t.m.register_service(ServiceSpec::new("adopt").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    assert!(!t.m.list().contains(&"adopt".to_owned()));
    assert_eq!(t.m.status("adopt").unwrap(), Status::Running);
    assert!(
        t.m.list().contains(&"adopt".to_owned()),
        "adopted: tracked from now on"
    );
    let info = t.m.info("adopt").unwrap();
    assert_eq!(info.pid, Some(pid));
    assert!(info.argv.is_empty(), "no command for an adopted process");
}

/// Lays down one kind of pid file (or none) at the given path.
type MakeFile = Box<dyn Fn(&std::path::Path)>;

#[test]
fn row_untracked_id_with_no_stale_reused_or_garbage_file_is_stopped() {
    let t = Ctx::new("st_untracked");
    let victim = t.unrelated();
    let cases: Vec<(&str, MakeFile)> = vec![
        ("nofile", Box::new(|_p: &std::path::Path| {})),
        (
            "stale",
            Box::new(|p: &std::path::Path| write_pid_file(p, dead_pid())),
        ),
        (
            "reused",
            Box::new(move |p: &std::path::Path| {
                write_pid_file(p, victim);
                age_file(p, 600);
            }),
        ),
        (
            "garbage",
            Box::new(|p: &std::path::Path| write_file(p, "garbage\n")),
        ),
        (
            "self",
            Box::new(|p: &std::path::Path| write_pid_file(p, std::process::id() as i32)),
        ),
    ];
    for (name, make) in &cases {
        let pf = t.path(&format!("{name}.pid"));
        make(&pf);
        let existed = pf.exists();
        t.m.register_service(ServiceSpec::new(*name).pid_file_template(pf.to_str().unwrap()))
            .unwrap();
        assert_eq!(t.m.status(name).unwrap(), Status::Stopped, "{name}");
        assert_eq!(t.m.pid(name).unwrap(), None, "{name}");
        assert_eq!(pf.exists(), existed, "status never deletes files ({name})");
        assert!(
            !t.m.list().contains(&name.to_string()),
            "{name} is not adopted"
        );
    }
    assert!(alive(victim));
}

#[test]
fn status_of_a_tracked_id_never_deletes_its_stale_pid_file() {
    let t = Ctx::new("st_nodelete");
    let pf = t.path("tracked.pid");
    let spec = t
        .helper_spec("late_pidfile", &["0", pf.to_str().unwrap()])
        .pid_file(&pf);
    t.m.start("tracked", &spec).unwrap();
    let pid = t.m.pid("tracked").unwrap().unwrap();
    kill(pid, libc::SIGKILL);
    assert!(wait_status(&t, "tracked", Status::Error));
    for _ in 0..3 {
        t.m.status("tracked").unwrap();
        t.m.pid("tracked").unwrap();
        t.m.info("tracked").unwrap();
    }
    assert!(pf.exists(), "only start and stop remove pid files");
}
