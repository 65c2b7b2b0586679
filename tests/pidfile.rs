//! Pid files (rule 4: the first line only) and the identity check behind read_pid_file and
//! pid_alive (rule 2): a process, alive, not a zombie, not the host, started no later than
//! the file was written.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;
use grazr_proc::{pid_alive, read_pid_file, ErrorKind, ServiceSpec, Status};

fn read(path: &Path) -> Option<i32> {
    read_pid_file(path).unwrap_or_else(|e| panic!("read_pid_file({}) failed: {e}", path.display()))
}

#[test]
fn the_first_line_is_parsed_strictly() {
    let t = Ctx::new("pf_parse");
    let pid = t.unrelated();
    let good = [
        ("newline", format!("{pid}\n")),
        ("no newline", format!("{pid}")),
        ("spaces", format!(" {pid} ")),
        ("tabs and crlf", format!("\t{pid}\t\r\n")),
        (
            "postmaster.pid",
            format!("{pid}\n/var/lib/postgresql/16/main\n1732870000\n5432\n/var/run/postgresql\n127.0.0.1\n  5432001         0\nready   \n"),
        ),
        ("trailing garbage lines", format!("{pid}\nnot a pid\n")),
    ];
    for (name, text) in &good {
        let f = t.path(&format!("good-{}.pid", name.replace(' ', "_")));
        write_file(&f, text);
        assert_eq!(read(&f), Some(pid), "{name}: {text:?}");
    }
    let bad = [
        ("abc", "abc\n".to_owned()),
        ("minus one", "-1\n".to_owned()),
        ("negative pid", format!("-{pid}\n")),
        ("zero", "0\n".to_owned()),
        ("empty", String::new()),
        ("only a newline", "\n".to_owned()),
        ("empty first line", format!("\n{pid}\n")),
        ("trailing letters", format!("{pid}abc\n")),
        ("12abc", "12abc\n".to_owned()),
        ("underscore", "1_2\n".to_owned()),
        (
            "underscore in pid",
            format!("{}_{}\n", &pid.to_string()[..1], &pid.to_string()[1..]),
        ),
        ("huge", "99999999999999999999999\n".to_owned()),
        ("above i32", "4294967296\n".to_owned()),
        ("hex", "0x10\n".to_owned()),
        ("two numbers", format!("{pid} {pid}\n")),
    ];
    for (name, text) in &bad {
        let f = t.path(&format!("bad-{}.pid", name.replace(' ', "_")));
        write_file(&f, text);
        assert_eq!(read(&f), None, "{name}: {text:?} is not a PID");
        assert!(f.exists(), "reading never deletes ({name})");
    }
}

#[test]
fn missing_and_unreadable_files() {
    let t = Ctx::new("pf_missing");
    assert_eq!(
        read(&t.path("nope.pid")),
        None,
        "a missing file is no PID, not an error"
    );
    let e = read_pid_file(t.dir.path()).expect_err("a directory cannot be read as a pid file");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    // SAFETY: geteuid has no side effects.
    if unsafe { libc::geteuid() } != 0 {
        let f = t.path("locked.pid");
        write_pid_file(&f, std::process::id() as i32);
        fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).unwrap();
        assert_eq!(
            read_pid_file(&f).expect_err("unreadable").kind(),
            ErrorKind::Io
        );
    }
}

#[test]
fn a_file_older_than_the_process_it_names_is_not_accepted() {
    let t = Ctx::new("pf_stale");
    let pid = t.unrelated();
    let f = t.path("svc.pid");
    write_pid_file(&f, pid);
    assert_eq!(
        read(&f),
        Some(pid),
        "control: written after the process started, accepted"
    );
    age_file(&f, 120);
    assert_eq!(
        read(&f),
        None,
        "a file written before the process started names a reused PID"
    );
    assert!(f.exists(), "the check never deletes the file");
    // Rewriting it makes it current again: the last write is what counts.
    write_pid_file(&f, pid);
    assert_eq!(read(&f), Some(pid));
}

#[test]
fn dead_pids_zombies_and_special_pids_are_rejected() {
    let t = Ctx::new("pf_special");
    let f = t.path("x.pid");

    write_pid_file(&f, dead_pid());
    assert_eq!(read(&f), None, "dead pid");

    // A zombie: a child of this test that exited and is not reaped yet.
    let z = t.spawn(t.helper_cmd("exit_after", &["0", "0"]));
    assert!(
        wait_until(secs(3.0), || stat(z).is_some_and(|s| s.state == 'Z')),
        "the child became a zombie"
    );
    write_pid_file(&f, z);
    assert_eq!(read(&f), None, "zombie");
    assert!(!pid_alive(z), "zombie");
    t.wait_child(z);

    let me = std::process::id() as i32;
    write_pid_file(&f, me);
    assert_eq!(read(&f), None, "the host itself");
    assert!(!pid_alive(me), "the host itself");

    write_pid_file(&f, 1);
    assert_eq!(read(&f), None, "pid 1");
    assert!(!pid_alive(1));
    assert!(!pid_alive(0));
    assert!(!pid_alive(-1));
    assert!(!pid_alive(i32::MAX));

    // The host's ancestors (the test runner) and its group and session leaders.
    for (what, p) in [
        ("parent", nix::unistd::getppid().as_raw()),
        ("process group leader", nix::unistd::getpgrp().as_raw()),
        (
            "session leader",
            nix::unistd::getsid(None).unwrap().as_raw(),
        ),
    ] {
        if p > 1 && p != me {
            assert!(!pid_alive(p), "{what} {p} is not a service");
        }
    }

    let live = t.unrelated();
    assert!(
        pid_alive(live),
        "control: an unrelated live process is acceptable"
    );
}

#[test]
fn thread_ids_are_not_processes() {
    let t = Ctx::new("pf_threads");
    let f = t.path("tid.pid");

    // A thread of the host.
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let th = std::thread::spawn(move || {
        // SAFETY: gettid has no side effects.
        tx.send(unsafe { libc::gettid() }).unwrap();
        let _ = done_rx.recv();
    });
    let host_tid = rx.recv().unwrap();
    write_pid_file(&f, host_tid);
    assert_eq!(read(&f), None, "a thread of the host");
    assert!(!pid_alive(host_tid));
    done_tx.send(()).unwrap();
    th.join().unwrap();

    // A thread of another process: only Tgid == PID tells it apart.
    let tidfile = t.path("other.tid");
    let other = t.spawn(t.helper_cmd("threads", &[tidfile.to_str().unwrap()]));
    let tid = wait_pid_file(&tidfile, secs(3.0));
    assert_ne!(tid, other);
    write_pid_file(&f, tid);
    assert_eq!(read(&f), None, "a thread of another process");
    assert!(!pid_alive(tid));
    write_pid_file(&f, other);
    assert_eq!(read(&f), Some(other), "control: the process itself");
    assert!(pid_alive(other));
}

#[test]
fn status_rejects_a_program_mismatch_and_keeps_the_file() {
    let t = Ctx::new("pf_program");
    let pid = t.unrelated();
    let f = t.path("run/prog.pid");
    write_pid_file(&f, pid);

    t.m.register_service(
        ServiceSpec::new("prog-wrong")
            .pid_file_template(f.to_str().unwrap())
            .program("nginx"),
    )
    .unwrap();
    assert_eq!(
        t.m.status("prog-wrong").unwrap(),
        Status::Stopped,
        "sleeper is not nginx"
    );
    assert_eq!(t.m.pid("prog-wrong").unwrap(), None);
    assert!(f.exists(), "status never deletes a pid file");

    t.m.register_service(
        ServiceSpec::new("prog-base")
            .pid_file_template(f.to_str().unwrap())
            .program("sleeper"),
    )
    .unwrap();
    assert_eq!(
        t.m.status("prog-base").unwrap(),
        Status::Running,
        "control: basename matches"
    );
    t.m.register_service(
        ServiceSpec::new("prog-full")
            .pid_file_template(f.to_str().unwrap())
            .program(helper("sleeper")),
    )
    .unwrap();
    assert_eq!(
        t.m.status("prog-full").unwrap(),
        Status::Running,
        "control: full path matches"
    );
    assert_eq!(t.m.pid("prog-full").unwrap(), Some(pid));
}
