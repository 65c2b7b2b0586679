//! shutdown: the manager forgets what it tracks and lets go of its descriptors; the
//! processes keep running and can be found again through registered pid files.

mod common;

use std::time::Duration;

use common::*;
use grazr_proc::{ServiceSpec, Status, StopOptions};

#[test]
fn shutdown_forgets_ids_but_processes_keep_running() {
    let t = Ctx::new("shutdown_forget");
    t.m.start(
        "plain",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let plain = t.m.pid("plain").unwrap().unwrap();
    let pf = t.path("run/svc.pid");
    t.m.register_service(ServiceSpec::new("svc").pid_file_template(pf.to_str().unwrap()))
        .unwrap();
    t.m.start(
        "svc",
        &t.helper_spec("late_pidfile", &["0", pf.to_str().unwrap()]),
    )
    .unwrap();
    let svc = t.m.pid("svc").unwrap().unwrap();
    let fds_before = fds(std::process::id() as i32).len();

    t.m.shutdown();
    assert!(alive(plain) && alive(svc), "processes keep running");
    assert!(
        t.m.list().is_empty(),
        "nothing is tracked: {:?}",
        t.m.list()
    );
    // Children hold no descriptor between calls; shutdown must not add or keep any.
    assert!(
        fds(std::process::id() as i32).len() <= fds_before,
        "no descriptor kept ({fds_before} fds before)"
    );

    // Forgotten: stopping the untracked, unregistered id does nothing to the process.
    t.m.stop("plain", &StopOptions::default()).unwrap();
    assert!(alive(plain));
    // A registered id is found again through its pid file.
    assert_eq!(t.m.status("svc").unwrap(), Status::Running);
    assert_eq!(t.m.pid("svc").unwrap(), Some(svc));
    t.m.stop("svc", &StopOptions::default()).unwrap();
    assert!(wait_until(secs(2.0), || gone(svc)));
}
