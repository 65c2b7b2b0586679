//! register_service: exact ids and patterns, pid-file templates, bad templates, re-adoption
//! through the template by every entry point, precedence and replacement.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, Manager, ServiceSpec, Status, StopOptions};

/// A daemon outside any manager (as if started by a previous run of the host) writing `pf`.
fn outside_daemon(t: &Ctx, pf: &std::path::Path) -> i32 {
    std::fs::create_dir_all(pf.parent().unwrap()).unwrap();
    let launcher = t.spawn(t.helper_cmd("daemonize", &[pf.to_str().unwrap(), "0", "clean"]));
    assert!(t.wait_child(launcher).success());
    let pid = wait_pid_file(pf, secs(3.0));
    t.track(pid);
    pid
}

#[test]
fn a_pattern_derives_the_pid_file_for_start_and_status() {
    let t = Ctx::new("svc_pattern");
    let base = t.dir.path().to_str().unwrap().to_owned();
    t.m.register_service(
        ServiceSpec::new("php-fpm-{version}")
            .pid_file_template(format!("{base}/php/{{version}}/run/php{{version}}-fpm.pid")),
    )
    .unwrap();
    let derived = t.path("php/8.3/run/php8.3-fpm.pid");
    // No pid file given to start: the registered one is used.
    let spec = t.helper_spec("late_pidfile", &["100", derived.to_str().unwrap()]);
    t.m.start("php-fpm-8.3", &spec).unwrap();
    let pid = t.m.pid("php-fpm-8.3").unwrap().unwrap();
    assert_eq!(read_pid(&derived), Some(pid));
    assert_eq!(
        t.m.info("php-fpm-8.3").unwrap().pid_file.as_deref(),
        Some(derived.as_path())
    );
    t.m.stop("php-fpm-8.3", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert!(!derived.exists());
}

#[test]
fn several_placeholders_are_substituted() {
    let t = Ctx::new("svc_multi");
    let base = t.dir.path().to_str().unwrap().to_owned();
    t.m.register_service(
        ServiceSpec::new("internal-postgres-{major}-{instance}")
            .pid_file_template(format!("{base}/pg/{{major}}/{{instance}}/postmaster.pid")),
    )
    .unwrap();
    let pf = t.path("pg/16/main_1/postmaster.pid");
    let pid = outside_daemon(&t, &pf);
    assert_eq!(
        t.m.status("internal-postgres-16-main_1").unwrap(),
        Status::Running
    );
    assert_eq!(t.m.pid("internal-postgres-16-main_1").unwrap(), Some(pid));
    assert_eq!(
        t.m.status("internal-postgres-15-main_1").unwrap(),
        Status::Stopped
    );
}

#[test]
fn bad_registrations_are_invalid() {
    let t = Ctx::new("svc_bad");
    let bad = [
        (
            "unknown placeholder in the template",
            ServiceSpec::new("php-{version}").pid_file_template("/run/{other}.pid"),
        ),
        (
            "template placeholder with no pattern",
            ServiceSpec::new("nginx").pid_file_template("/run/{name}.pid"),
        ),
        (
            "unclosed brace in pattern",
            ServiceSpec::new("php-{version").pid_file_template("/run/x.pid"),
        ),
        (
            "unclosed brace in template",
            ServiceSpec::new("php-{version}").pid_file_template("/run/{version.pid"),
        ),
        (
            "empty placeholder",
            ServiceSpec::new("php-{}").pid_file_template("/run/x.pid"),
        ),
        ("empty pattern", ServiceSpec::new("")),
        ("signal 65", ServiceSpec::new("sig").stop_signal(65)),
        ("signal -1", ServiceSpec::new("sig").stop_signal(-1)),
    ];
    for (what, spec) in bad {
        let e = t.m.register_service(spec).expect_err(what);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{what}: {e}");
    }
    t.m.register_service(
        ServiceSpec::new("php-{version}").pid_file_template("/run/php{version}.pid"),
    )
    .expect("control: a good template");
    t.m.register_service(ServiceSpec::new("minio"))
        .expect("control: no template");
}

#[test]
fn placeholders_never_match_dot_dot_or_a_slash() {
    let t = Ctx::new("svc_traversal");
    let base = t.dir.path().to_str().unwrap().to_owned();
    t.m.register_service(
        ServiceSpec::new("svc-{v}").pid_file_template(format!("{base}/run/{{v}}/svc.pid")),
    )
    .unwrap();
    let pid = t.unrelated();
    // What "svc-.." would resolve to if ".." matched: <base>/run/../svc.pid = <base>/svc.pid.
    write_pid_file(&t.path("svc.pid"), pid);
    write_pid_file(&t.path("run/a/b/svc.pid"), pid);
    write_pid_file(&t.path("run/ok/svc.pid"), pid);
    assert_eq!(
        t.m.status("svc-..").unwrap(),
        Status::Stopped,
        "'..' never matches a placeholder"
    );
    assert_eq!(t.m.pid("svc-..").unwrap(), None);
    assert_eq!(
        t.m.status("svc-a/b").unwrap(),
        Status::Stopped,
        "'/' is not in the placeholder set"
    );
    assert_eq!(
        t.m.status("svc-").unwrap(),
        Status::Stopped,
        "a placeholder matches one or more chars"
    );
    assert_eq!(t.m.status("svc-ok").unwrap(), Status::Running, "control");
}

fn registered(t: &Ctx, m: &Manager) {
    let base = t.dir.path().to_str().unwrap().to_owned();
    m.register_service(
        ServiceSpec::new("redis-{port}").pid_file_template(format!("{base}/redis-{{port}}.pid")),
    )
    .unwrap();
}

#[test]
fn an_untracked_id_is_found_again_by_status_pid_signal_start_and_stop() {
    let t = Ctx::new("svc_readopt");
    let pf = t.path("redis-6379.pid");
    let pid = outside_daemon(&t, &pf);
    let id = "redis-6379";

    // Each entry point on a fresh manager: the host restarted and tracks nothing.
    let m = Manager::new();
    registered(&t, &m);
    assert_eq!(m.status(id).unwrap(), Status::Running, "status");

    let m = Manager::new();
    registered(&t, &m);
    assert_eq!(m.pid(id).unwrap(), Some(pid), "get_pid");

    let m = Manager::new();
    registered(&t, &m);
    m.signal(id, libc::SIGCONT)
        .expect("signal reaches the adopted daemon");

    let m = Manager::new();
    registered(&t, &m);
    m.start(
        id,
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .expect("already running");
    assert_eq!(
        m.pid(id).unwrap(),
        Some(pid),
        "start adopted it and spawned nothing"
    );
    std::thread::sleep(ms(100));
    assert_eq!(t.live_tagged(), vec![pid], "no second instance");

    let m = Manager::new();
    registered(&t, &m);
    m.stop(id, &StopOptions::default())
        .expect("stop through the derived pid file");
    assert!(
        wait_until(secs(1.0), || gone(pid)),
        "stop found and stopped it"
    );
    assert!(!pf.exists(), "the daemon removed its file on TERM");
    assert_eq!(m.status(id).unwrap(), Status::Stopped);
}

#[test]
fn an_exact_id_beats_a_pattern_in_either_order() {
    for exact_first in [true, false] {
        let t = Ctx::new("svc_exact");
        let base = t.dir.path().to_str().unwrap().to_owned();
        let exact = ServiceSpec::new("web-main").pid_file_template(format!("{base}/exact.pid"));
        let pattern = ServiceSpec::new("web-{name}")
            .pid_file_template(format!("{base}/pattern-{{name}}.pid"));
        if exact_first {
            t.m.register_service(exact).unwrap();
            t.m.register_service(pattern).unwrap();
        } else {
            t.m.register_service(pattern).unwrap();
            t.m.register_service(exact).unwrap();
        }
        let pid = t.unrelated();
        write_pid_file(&t.path("pattern-main.pid"), pid);
        assert_eq!(
            t.m.status("web-main").unwrap(),
            Status::Stopped,
            "the pattern's file is not consulted"
        );
        write_pid_file(&t.path("pattern-other.pid"), pid);
        assert_eq!(
            t.m.status("web-other").unwrap(),
            Status::Running,
            "other ids use the pattern"
        );
        write_pid_file(&t.path("exact.pid"), pid);
        assert_eq!(
            t.m.status("web-main").unwrap(),
            Status::Running,
            "the exact id's own file"
        );
    }
}

#[test]
fn registering_again_replaces() {
    let t = Ctx::new("svc_replace");
    let pid = t.unrelated();
    let one = t.path("one.pid");
    let two = t.path("two.pid");
    write_pid_file(&one, pid);
    t.m.register_service(ServiceSpec::new("svc").pid_file_template(one.to_str().unwrap()))
        .unwrap();
    t.m.register_service(ServiceSpec::new("svc").pid_file_template(two.to_str().unwrap()))
        .unwrap();
    assert_eq!(
        t.m.status("svc").unwrap(),
        Status::Stopped,
        "the first template is gone"
    );
    write_pid_file(&two, pid);
    assert_eq!(
        t.m.status("svc").unwrap(),
        Status::Running,
        "the second is used"
    );

    // The stop signal is replaced too.
    let log = t.path("sig.log");
    t.m.register_service(ServiceSpec::new("sigsvc").stop_signal(libc::SIGUSR1))
        .unwrap();
    t.m.register_service(ServiceSpec::new("sigsvc").stop_signal(libc::SIGINT))
        .unwrap();
    t.m.start(
        "sigsvc",
        &t.helper_spec(
            "siglog",
            &[log.to_str().unwrap(), &libc::SIGINT.to_string()],
        )
        .startup_window(Duration::ZERO),
    )
    .unwrap();
    assert!(wait_for_text(&log, "ready", secs(3.0)));
    let (r, took) = timed(|| t.m.stop("sigsvc", &StopOptions::default()));
    r.unwrap();
    assert!(
        took < secs(2.0),
        "exited on the replacing SIGINT, took {took:?}"
    );
    assert!(
        !read_text(&log)
            .lines()
            .any(|l| l == libc::SIGUSR1.to_string()),
        "{}",
        read_text(&log)
    );
}

#[test]
fn a_registered_program_is_checked_on_readoption() {
    let t = Ctx::new("svc_program");
    let pf = t.path("prog.pid");
    let pid = outside_daemon(&t, &pf);
    let m = Manager::new();
    m.register_service(
        ServiceSpec::new("prog")
            .pid_file_template(pf.to_str().unwrap())
            .program("php-fpm8.3"),
    )
    .unwrap();
    assert_eq!(
        m.status("prog").unwrap(),
        Status::Stopped,
        "daemonize is not php-fpm"
    );
    m.stop("prog", &StopOptions::default()).unwrap();
    assert!(alive(pid), "a mismatching process is not stopped");
    let m = Manager::new();
    m.register_service(
        ServiceSpec::new("prog")
            .pid_file_template(pf.to_str().unwrap())
            .program("daemonize"),
    )
    .unwrap();
    assert_eq!(m.status("prog").unwrap(), Status::Running, "control");
}
