//! signal: a reload through SIGHUP reaches the verified main process; not running is
//! NotRunning; bad signals are rejected; EPERM is Permission.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, ServiceSpec, Status, StopOptions};

fn start_siglog(t: &Ctx, id: &str, log: &std::path::Path) -> i32 {
    t.m.start(
        id,
        &t.helper_spec("siglog", &[log.to_str().unwrap()])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(wait_for_text(log, "ready", secs(3.0)), "handlers installed");
    t.m.pid(id).unwrap().unwrap()
}

#[test]
fn sighup_reloads_and_the_process_keeps_running() {
    let t = Ctx::new("sig_hup");
    let log = t.path("sig.log");
    let pid = start_siglog(&t, "nginx", &log);
    t.m.signal("nginx", libc::SIGHUP).expect("delivered");
    assert!(
        wait_for_text(&log, &format!("\n{}\n", libc::SIGHUP), secs(3.0)),
        "log: {:?}",
        read_text(&log)
    );
    assert_eq!(t.m.status("nginx").unwrap(), Status::Running);
    assert_eq!(
        t.m.pid("nginx").unwrap(),
        Some(pid),
        "same process, reloaded"
    );
    // Any valid signal number up to SIGRTMAX.
    t.m.signal("nginx", libc::SIGRTMAX())
        .expect("SIGRTMAX is valid");
    assert!(wait_for_text(
        &log,
        &format!("\n{}\n", libc::SIGRTMAX()),
        secs(3.0)
    ));
}

#[test]
fn the_signal_goes_to_the_daemon_not_the_launcher() {
    let t = Ctx::new("sig_daemon");
    let pf = t.path("d.pid");
    t.m.start(
        "d",
        &t.helper_spec("daemonize", &[pf.to_str().unwrap(), "100", "clean"])
            .pid_file(&pf),
    )
    .unwrap();
    let d = t.m.pid("d").unwrap().unwrap();
    t.m.signal("d", libc::SIGTERM)
        .expect("delivered to the daemon");
    assert!(wait_until(secs(3.0), || gone(d)), "the daemon got it");
    assert!(
        wait_until(secs(3.0), || t.m.status("d").unwrap() == Status::Stopped),
        "it removed its file"
    );
}

#[test]
fn signalling_what_does_not_run_is_not_running() {
    let t = Ctx::new("sig_notrunning");
    let kind = |id: &str| {
        t.m.signal(id, libc::SIGHUP)
            .expect_err("nothing to signal")
            .kind()
    };
    assert_eq!(kind("unknown"), ErrorKind::NotRunning);

    let log = t.path("a.log");
    start_siglog(&t, "stopped", &log);
    t.m.stop("stopped", &StopOptions::default().timeout(Duration::ZERO))
        .unwrap();
    assert_eq!(kind("stopped"), ErrorKind::NotRunning);

    t.m.start(
        "exited",
        &t.helper_spec("exit_after", &["1", "50"])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(wait_until(secs(3.0), || t.m.status("exited").unwrap() == Status::Error));
    assert_eq!(kind("exited"), ErrorKind::NotRunning);

    // A registered id whose pid file names a dead PID.
    let pf = t.path("dead.pid");
    write_pid_file(&pf, dead_pid());
    t.m.register_service(ServiceSpec::new("dead").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    assert_eq!(kind("dead"), ErrorKind::NotRunning);
}

#[test]
fn bad_signals_are_invalid_and_send_nothing() {
    let t = Ctx::new("sig_bad");
    let log = t.path("sig.log");
    let pid = start_siglog(&t, "svc", &log);
    for s in [0, -1, 65, i32::MAX, i32::MIN] {
        let e = t.m.signal("svc", s).expect_err("bad signal");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "signal {s}: {e}");
    }
    assert_eq!(
        t.m.signal("", libc::SIGHUP).unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "empty id"
    );
    std::thread::sleep(ms(100));
    assert_eq!(read_text(&log), "ready\n", "nothing was delivered");
    assert!(alive(pid));
}

/// The unprivileged half: this process runs as nobody and must not be able to signal the
/// root-owned process the pid file names.
fn eperm_child() {
    let pid: i32 = std::env::var("GRAZR_EPERM_PID").unwrap().parse().unwrap();
    let pf = std::env::var("GRAZR_EPERM_FILE").unwrap();
    // SAFETY: geteuid has no side effects.
    assert_ne!(unsafe { libc::geteuid() }, 0, "the child runs unprivileged");
    let m = grazr_proc::Manager::new();
    m.register_service(ServiceSpec::new("foreign").pid_file_template(pf.as_str()))
        .unwrap();
    assert_eq!(
        m.status("foreign").unwrap(),
        Status::Running,
        "visible, so adopted"
    );
    let e = m
        .signal("foreign", libc::SIGHUP)
        .expect_err("another user's process");
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    let e = m
        .stop("foreign", &StopOptions::default().timeout(Duration::ZERO))
        .expect_err("cannot stop it");
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    assert!(alive(pid));
}

#[test]
fn eperm_is_permission() {
    if child_mode() {
        eperm_child();
        return;
    }
    // SAFETY: geteuid has no side effects.
    if unsafe { libc::geteuid() } != 0 {
        // Without root there is no second user to own the target; the unprivileged half then
        // cannot be arranged here.
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("eperm_is_permission needs root to create a process of another user (CI=true)");
        }
        eprintln!("SKIPPED: eperm_is_permission needs root to run its unprivileged half as nobody");
        return;
    }
    let t = Ctx::new("sig_eperm");
    let log = t.path("sig.log");
    let target = t.spawn(t.helper_cmd("siglog", &[log.to_str().unwrap()]));
    assert!(wait_for_text(&log, "ready", secs(3.0)));
    let pf = t.path("foreign.pid");
    write_pid_file(&pf, target);
    let out = {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe().unwrap();
        std::process::Command::new(exe)
            .args([
                "--exact",
                "eperm_is_permission",
                "--test-threads",
                "1",
                "--nocapture",
            ])
            .env(CHILD_MODE_VAR, "1")
            .env("GRAZR_EPERM_PID", target.to_string())
            .env("GRAZR_EPERM_FILE", &pf)
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
    };
    assert_child_passed(&out, "unprivileged signaller");
    assert_eq!(
        read_text(&log),
        "ready\n",
        "nothing reached the root-owned process"
    );
    assert!(alive(target));
}
