//! Never signal the wrong process (rules 2 and 3): a pid file older than the process it
//! names, a file naming the host or its ancestors, a reused PID caught by a program mismatch.
//! Every path that could signal (status adoption, get_pid, signal, stop, stop_all, start) is
//! tried against each, and the would-be victim must stay untouched.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

use common::*;
use grazr_proc::{ErrorKind, ServiceSpec, Status, StopOptions};

/// Every way the library could act on the process a pid file names, for an id registered
/// with that file. None of them may touch it.
fn try_everything(t: &Ctx, id: &str, pf: &Path) {
    assert_eq!(
        t.m.status(id).unwrap(),
        Status::Stopped,
        "{id}: not adopted"
    );
    assert_eq!(t.m.pid(id).unwrap(), None, "{id}: no pid");
    assert_eq!(
        t.m.signal(id, libc::SIGHUP)
            .expect_err("nothing verified to signal")
            .kind(),
        ErrorKind::NotRunning,
        "{id}"
    );
    let never = StopOptions::default().timeout(ms(200)).never_kill();
    t.m.stop(id, &never).expect("nothing verified to stop: OK");
    t.m.stop(id, &never.clone().pid_file(pf))
        .expect("nothing verified to stop: OK");
    t.m.stop_all().expect("nothing verified to stop: OK");
}

#[test]
fn a_pid_file_older_than_the_process_is_never_acted_on() {
    let t = Ctx::new("id_old_file");
    let victim = t.unrelated();
    let pf = t.path("run/nginx.pid");
    write_pid_file(&pf, victim);
    age_file(&pf, 3600); // written an hour before the process started: the PID was reused
    t.m.register_service(ServiceSpec::new("nginx").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    try_everything(&t, "nginx", &pf);
    assert!(alive(victim), "the unrelated process survived");
    assert!(
        stat(victim).unwrap().state != 'T',
        "and was not even stopped"
    );

    // start replaces the stale file and tracks its own child, still sparing the victim.
    let spec = t.helper_spec("late_pidfile", &["100", pf.to_str().unwrap()]);
    t.m.start("nginx", &spec)
        .expect("start through the registered pid file");
    let pid = t.m.pid("nginx").unwrap().unwrap();
    assert_ne!(pid, victim);
    assert_eq!(read_pid(&pf), Some(pid));
    t.m.stop("nginx", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert!(
        alive(victim),
        "the unrelated process survived the whole life cycle"
    );
}

#[test]
fn a_reused_pid_is_caught_by_the_registered_program() {
    let t = Ctx::new("id_program");
    let victim = t.unrelated();
    let pf = t.path("redis.pid");
    // A fresh file: the start time check passes, only the program tells them apart.
    write_pid_file(&pf, victim);
    t.m.register_service(
        ServiceSpec::new("redis")
            .pid_file_template(pf.to_str().unwrap())
            .program("redis-server"),
    )
    .unwrap();
    try_everything(&t, "redis", &pf);
    assert!(alive(victim));

    // Control: with the right program the same file is adopted and stopped.
    t.m.register_service(
        ServiceSpec::new("redis")
            .pid_file_template(pf.to_str().unwrap())
            .program("sleeper"),
    )
    .unwrap();
    assert_eq!(t.m.status("redis").unwrap(), Status::Running);
    t.m.stop("redis", &StopOptions::default()).unwrap();
    assert!(
        gone(victim),
        "the control shows the file would otherwise be acted on"
    );
}

static GOT_SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn record_signal(sig: libc::c_int) {
    GOT_SIGNAL.store(sig, Ordering::SeqCst);
}

/// Catch the signals a wrongly aimed stop or signal would send, so that a bug shows as an
/// assertion instead of killing the test binary.
fn catch_stop_signals() {
    for sig in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = record_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

#[test]
fn a_pid_file_naming_the_host_is_never_acted_on() {
    catch_stop_signals();
    let t = Ctx::new("id_host");
    let pf = t.path("host.pid");
    write_pid_file(&pf, std::process::id() as i32);
    t.m.register_service(ServiceSpec::new("host").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    try_everything(&t, "host", &pf);
    std::thread::sleep(ms(100));
    assert_eq!(
        GOT_SIGNAL.load(Ordering::SeqCst),
        0,
        "the library signalled the host"
    );
    // start must not take the host for "already running".
    let spec = t.helper_spec("late_pidfile", &["0", pf.to_str().unwrap()]);
    t.m.start("host", &spec).unwrap();
    assert_ne!(t.m.pid("host").unwrap(), Some(std::process::id() as i32));
}

#[test]
fn pid_files_naming_the_hosts_ancestors_group_or_session_are_not_adopted() {
    let t = Ctx::new("id_ancestors");
    let me = std::process::id() as i32;
    let candidates = [
        ("parent", nix::unistd::getppid().as_raw()),
        ("pgrp", nix::unistd::getpgrp().as_raw()),
        ("session", nix::unistd::getsid(None).unwrap().as_raw()),
        ("init", 1),
    ];
    for (name, pid) in candidates {
        if pid <= 0 || pid == me {
            continue;
        }
        let pf = t.path(&format!("{name}.pid"));
        write_pid_file(&pf, pid);
        t.m.register_service(ServiceSpec::new(name).pid_file_template(pf.to_str().unwrap()))
            .unwrap();
        // Only non-signalling calls here: a bug would otherwise hit the test runner itself.
        assert_eq!(
            t.m.status(name).unwrap(),
            Status::Stopped,
            "{name} ({pid}) is no service"
        );
        assert_eq!(t.m.pid(name).unwrap(), None, "{name}");
        assert!(!grazr_proc::pid_alive(pid), "{name}");
    }
}

#[test]
fn a_pid_file_naming_a_thread_is_not_adopted() {
    let t = Ctx::new("id_thread");
    let tidfile = t.path("t.tid");
    let owner = t.spawn(t.helper_cmd("threads", &[tidfile.to_str().unwrap()]));
    let tid = wait_pid_file(&tidfile, secs(3.0));
    let pf = t.path("thread.pid");
    write_pid_file(&pf, tid);
    t.m.register_service(ServiceSpec::new("thread").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    try_everything(&t, "thread", &pf);
    assert!(alive(owner));
    assert!(
        std::path::Path::new(&format!("/proc/{owner}/task/{tid}")).exists(),
        "the thread lives"
    );
}

#[test]
fn a_library_child_is_accepted_only_if_it_started_after_the_spawn() {
    // The daemon of a child must not be older than the spawn: a launcher that writes an old,
    // unrelated PID into the file (a stale copy) must not make start track that process.
    let t = Ctx::new("id_spawn_time");
    let victim = t.unrelated();
    std::thread::sleep(ms(1500)); // beyond the 1 s slack and a clock tick
    let pf = t.path("copy.pid");
    // The "launcher" writes the victim's PID freshly and exits 0: a fresh file, an old process.
    let script = format!("echo {victim} > {}", pf.display());
    let spec = t
        .spec(["/bin/sh", "-c", script.as_str()])
        .pid_file(&pf)
        .pid_file_timeout(ms(800));
    let r = t.m.start("copy", &spec);
    assert_eq!(
        r.expect_err("no daemon of this start wrote the file")
            .kind(),
        ErrorKind::Exited
    );
    assert!(
        alive(victim),
        "the older, unrelated process was never signalled"
    );
}
