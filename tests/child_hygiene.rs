//! What the child inherits (rule 5): stdin /dev/null, no host fd beyond 0-2, its own session,
//! an empty signal mask and default dispositions whatever the host set, and posix_spawn
//! rather than a plain fork.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::*;

fn start_sleeper(t: &Ctx, id: &str) -> i32 {
    t.m.start(
        id,
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    t.m.pid(id).unwrap().expect("running")
}

#[test]
fn stdin_is_dev_null_and_output_goes_to_dev_null_without_a_log() {
    let t = Ctx::new("hyg_stdio");
    let pid = start_sleeper(&t, "stdio");
    for fd in 0..3 {
        assert_eq!(fd_target(pid, fd).to_str(), Some("/dev/null"), "fd {fd}");
    }
}

#[test]
fn only_fds_0_to_2_reach_the_child_even_without_cloexec() {
    let t = Ctx::new("hyg_fds");
    // Descriptors a careless host (or Python) leaves inheritable.
    let leaky = fs::File::create(t.path("leaky")).unwrap();
    let mut pipe = [0i32; 2];
    // SAFETY: fcntl and pipe on descriptors this test owns; the pipe ends are closed below.
    unsafe {
        let fd = leaky.as_raw_fd();
        let fl = libc::fcntl(fd, libc::F_GETFD);
        assert!(libc::fcntl(fd, libc::F_SETFD, fl & !libc::FD_CLOEXEC) == 0);
        assert_eq!(libc::pipe(pipe.as_mut_ptr()), 0);
    }
    let pid = start_sleeper(&t, "fds");
    let log_pid = {
        t.m.start(
            "fds-log",
            &t.helper_spec("sleeper", &[])
                .log_file(t.path("x.log"))
                .startup_window(Duration::ZERO),
        )
        .unwrap();
        t.m.pid("fds-log").unwrap().unwrap()
    };
    // SAFETY: closing the pipe this test created.
    unsafe {
        libc::close(pipe[0]);
        libc::close(pipe[1]);
    }
    drop(leaky);
    let want: BTreeSet<i32> = [0, 1, 2].into();
    // Start returns once the exec succeeded, when the dynamic loader of the child may still
    // hold a library open: wait for it to finish. A descriptor inherited from the host stays
    // for the child's whole life and still fails the test.
    let settled = |pid: i32| {
        wait_until(Duration::from_secs(5), || fds(pid) == want);
        fds(pid)
    };
    assert_eq!(
        settled(pid),
        want,
        "the child holds only stdin, stdout, stderr"
    );
    assert_eq!(settled(log_pid), want, "also with a log file");
}

#[test]
fn the_child_leads_its_own_session_without_a_terminal() {
    let t = Ctx::new("hyg_session");
    let pid = start_sleeper(&t, "session");
    let st = stat(pid).unwrap();
    assert_eq!(st.pgrp, pid, "pgid = pid");
    assert_eq!(st.session, pid, "sid = pid");
    assert_eq!(st.tty_nr, 0, "no controlling terminal");
    assert_eq!(t.m.info("session").unwrap().pgid, Some(pid));
}

fn sigbit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

#[test]
fn the_child_gets_an_empty_mask_and_default_dispositions() {
    let t = Ctx::new("hyg_signals");
    // Process-wide: ignore a few signals (the Rust runtime already ignores SIGPIPE). Nothing
    // else in this binary relies on SIGUSR2 or SIGHUP.
    // SAFETY: setting SIG_IGN has no handler code to be unsafe; the old disposition is unused.
    unsafe {
        libc::signal(libc::SIGUSR2, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    // Thread-local: block signals in the calling thread, like a Qt or Python host thread may.
    let mut block: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: sigset operations on local, initialised sets.
    unsafe {
        libc::sigemptyset(&mut block);
        for s in [
            libc::SIGUSR1,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGCHLD,
            libc::SIGALRM,
        ] {
            libc::sigaddset(&mut block, s);
        }
        assert_eq!(libc::pthread_sigmask(libc::SIG_BLOCK, &block, &mut old), 0);
    }
    // The host really is in that state, so the assertions below can fail.
    let me_blk = status_mask_at("/proc/thread-self/status", "SigBlk");
    let me_ign = status_mask_at("/proc/thread-self/status", "SigIgn");
    assert!(me_blk & sigbit(libc::SIGTERM) != 0 && me_ign & sigbit(libc::SIGUSR2) != 0);
    assert!(
        me_ign & sigbit(libc::SIGPIPE) != 0,
        "the Rust runtime ignores SIGPIPE in the host"
    );

    let started = t.m.start(
        "sigs",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    );
    // SAFETY: restoring this thread's own mask.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    started.unwrap();
    let pid = t.m.pid("sigs").unwrap().unwrap();
    assert_eq!(
        status_mask(pid, "SigBlk"),
        0,
        "empty signal mask in the child"
    );
    assert_eq!(
        status_mask(pid, "SigIgn"),
        0,
        "no ignored signal in the child"
    );
    assert_eq!(status_mask(pid, "SigPnd"), 0);
}

/// The library spawns with posix_spawn (a vfork-style clone sharing the memory) rather than a
/// plain fork, which copies the page tables of a large host. Verified with strace in a
/// re-invoked copy of this binary that starts one process.
#[test]
fn children_are_spawned_without_a_plain_fork() {
    if child_mode() {
        let t = Ctx::new("hyg_spawn_child");
        start_sleeper(&t, "spawned");
        return;
    }
    if !require_tool("strace") {
        return;
    }
    let t = Ctx::new("hyg_spawn");
    let trace = t.path("trace");
    let trace_s = trace.to_str().unwrap().to_owned();
    let out = run_self(
        "children_are_spawned_without_a_plain_fork",
        &[],
        &[
            "strace",
            "-f",
            "-qq",
            "-e",
            "trace=clone,clone3,fork,vfork",
            "-o",
            &trace_s,
        ],
    );
    assert_child_passed(&out, "strace run");
    let text = read_text(&trace);
    let creations: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("clone(") || l.contains("clone3(") || l.contains("fork("))
        .filter(|l| !l.contains("CLONE_THREAD"))
        .collect();
    assert!(
        !creations.is_empty(),
        "strace saw no process creation at all:\n{text}"
    );
    for l in &creations {
        assert!(
            l.contains("CLONE_VM") || l.contains("vfork("),
            "a process was created with a plain fork (no CLONE_VM): {l}\nfull trace:\n{text}"
        );
    }
}
