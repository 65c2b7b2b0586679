//! stop_all: in parallel, each id with its registered defaults, including ids discovered
//! through template pid files, with every failing id named in the aggregated error.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, ServiceSpec, Status, StopOptions};

/// Registers `id` with the stop defaults `spec(id)` gives, starts a child that ignores SIGTERM
/// under it and waits until it does; gives its PID.
fn start_term_ignoring(t: &Ctx, id: &str, spec: impl FnOnce(&str) -> ServiceSpec) -> i32 {
    t.m.register_service(spec(id)).unwrap();
    t.m.start(
        id,
        &t.helper_spec("ignore_term", &[])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid(id).unwrap().unwrap();
    wait_ignores(pid, libc::SIGTERM);
    pid
}

#[test]
fn ten_term_ignoring_children_stop_in_parallel() {
    let t = Ctx::new("sa_parallel");
    let mut pids = Vec::new();
    for i in 0..10 {
        pids.push(start_term_ignoring(&t, &format!("stubborn-{i}"), |id| {
            ServiceSpec::new(id).stop_timeout(ms(500))
        }));
    }
    assert_eq!(t.m.list().len(), 10);
    let (r, took) = timed(|| t.m.stop_all());
    r.expect("all gone after SIGKILL");
    // Sequential stops would take 10 x 500 ms at the least.
    assert!(
        took >= ms(450),
        "each waited its registered 500 ms first, took {took:?}"
    );
    assert!(
        took < secs(2.5),
        "stop_all runs the stops in parallel, took {took:?}"
    );
    for p in &pids {
        assert!(gone(*p), "{p} survived");
    }
    assert!(
        t.m.list().is_empty(),
        "nothing tracked is left: {:?}",
        t.m.list()
    );
    for i in 0..10 {
        assert_eq!(
            t.m.status(&format!("stubborn-{i}")).unwrap(),
            Status::Stopped
        );
    }
}

#[test]
fn template_discovered_and_registered_exact_ids_are_stopped_too() {
    let t = Ctx::new("sa_templates");
    let base = t.dir.path().to_str().unwrap().to_owned();
    t.m.register_service(
        ServiceSpec::new("php-fpm-{version}")
            .pid_file_template(format!("{base}/php/{{version}}.pid")),
    )
    .unwrap();
    t.m.register_service(
        ServiceSpec::new("internal-nginx").pid_file_template(format!("{base}/nginx.pid")),
    )
    .unwrap();
    t.m.register_service(
        ServiceSpec::new("internal-redis").pid_file_template(format!("{base}/redis.pid")),
    )
    .unwrap();

    // Daemons from "a previous run of the host": nothing tracks them.
    let mut daemons = Vec::new();
    for pf in ["php/8.2.pid", "php/8.3.pid", "nginx.pid"] {
        let path = t.path(pf);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let launcher = t.spawn(t.helper_cmd("daemonize", &[path.to_str().unwrap(), "0", "plain"]));
        assert!(t.wait_child(launcher).success());
        let pid = wait_pid_file(&path, secs(3.0));
        t.track(pid);
        daemons.push((pid, path));
    }
    // A stale template file naming an unrelated live process must be left alone.
    let victim = t.unrelated();
    let stale = t.path("php/7.4.pid");
    write_pid_file(&stale, victim);
    age_file(&stale, 3600);
    // And a tracked child.
    t.m.start(
        "worker",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let worker = t.m.pid("worker").unwrap().unwrap();

    t.m.stop_all().expect("stop_all");
    for (pid, path) in &daemons {
        assert!(
            wait_until(secs(1.0), || gone(*pid)),
            "daemon {pid} of {} survived",
            path.display()
        );
        assert!(!path.exists(), "{} removed after the stop", path.display());
    }
    assert!(gone(worker));
    assert!(alive(victim), "a stale file's PID was not signalled");
    // Whether stop_all may clean up the stale file itself is left open by the contract (start
    // removes such files too); only the process it names must be spared.
}

#[test]
fn the_aggregated_error_names_every_failing_id() {
    let t = Ctx::new("sa_errors");
    for id in ["stuck-alpha", "stuck-beta"] {
        start_term_ignoring(&t, id, |id| {
            ServiceSpec::new(id).never_kill().stop_timeout(ms(300))
        });
    }
    t.m.start(
        "fine-gamma",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let gamma = t.m.pid("fine-gamma").unwrap().unwrap();
    let (r, took) = timed(|| t.m.stop_all());
    let e = r.expect_err("two ids outlive their never-kill timeout");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        e.message().contains("stuck-alpha") && e.message().contains("stuck-beta"),
        "{e}"
    );
    assert!(
        !e.message().contains("fine-gamma"),
        "only failing ids are named: {e}"
    );
    assert!(took < secs(2.5), "in parallel, took {took:?}");
    assert!(gone(gamma));
    for id in ["stuck-alpha", "stuck-beta"] {
        assert_eq!(
            t.m.status(id).unwrap(),
            Status::Running,
            "{id} keeps running"
        );
        // Registering again replaces the never-kill default, so the test can clean up.
        t.m.register_service(ServiceSpec::new(id)).unwrap();
        t.m.stop(id, &StopOptions::default().timeout(Duration::ZERO))
            .unwrap();
    }
    assert!(t.wait_no_live(secs(2.0)));
}

#[test]
fn stop_all_with_nothing_to_do_is_ok() {
    let t = Ctx::new("sa_empty");
    let (r, took) = timed(|| t.m.stop_all());
    r.unwrap();
    assert!(took < secs(1.0), "took {took:?}");
    t.m.register_service(
        ServiceSpec::new("registered-but-not-running").pid_file_template(t.p("none.pid")),
    )
    .unwrap();
    t.m.stop_all().unwrap();
}

/// The isolated half: a process whose only threads are the runner's, this test's, and
/// whatever the library starts, so every new thread seen during stop_all is the library's.
fn library_threads_child() {
    let t = Ctx::new("sa_threads_child");
    for i in 0..3 {
        start_term_ignoring(&t, &format!("bg-{i}"), |id| {
            ServiceSpec::new(id).stop_timeout(ms(800))
        });
    }
    let tasks = || -> std::collections::BTreeSet<i32> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
            .collect()
    };
    let before = tasks();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut seen = std::collections::BTreeMap::new();
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            // SAFETY: gettid has no side effects.
            tx.send(unsafe { libc::gettid() }).unwrap();
            t.m.stop_all()
        });
        let caller = rx.recv().unwrap();
        while !h.is_finished() {
            for tid in tasks() {
                if before.contains(&tid) || tid == caller || seen.contains_key(&tid) {
                    continue;
                }
                if let Ok(st) = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")) {
                    let blk = st
                        .lines()
                        .find_map(|l| l.strip_prefix("SigBlk:"))
                        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap());
                    if let Some(b) = blk {
                        seen.insert(tid, b);
                    }
                }
            }
            std::thread::sleep(ms(5));
        }
        h.join().unwrap().expect("stop_all");
    });
    eprintln!("library threads seen during stop_all: {}", seen.len());
    for (tid, blk) in &seen {
        for sig in [
            libc::SIGHUP,
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGCHLD,
            libc::SIGUSR1,
            libc::SIGPIPE,
            libc::SIGALRM,
        ] {
            assert!(
                blk & (1u64 << (sig - 1)) != 0,
                "library thread {tid} does not block signal {sig}: SigBlk {blk:016x}"
            );
        }
    }
}

#[test]
fn library_threads_block_every_signal() {
    if child_mode() {
        library_threads_child();
        return;
    }
    helper("ignore_term");
    let out = run_self("library_threads_block_every_signal", &[], &[]);
    assert_child_passed(&out, "library threads");
}
