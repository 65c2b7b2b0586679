//! start: spawning, "already running", synchronous exec errors, the startup window, the log,
//! the environment, the working directory and path handling.

mod common;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use common::*;
use grazr_proc::{ErrorKind, State, Status, StopOptions};

#[test]
fn start_runs_the_process_and_reports_it() {
    let t = Ctx::new("start_basic");
    let log = t.path("basic.log");
    let spec = t.helper_spec("sleeper", &["one", "two"]).log_file(&log);
    let before_ms = now_ms();
    t.m.start("basic", &spec).expect("start a sleeper");
    assert_eq!(t.m.status("basic").unwrap(), Status::Running);
    let pid = t.m.pid("basic").unwrap().expect("a pid while running");
    assert!(alive(pid), "the reported pid {pid} is alive");
    assert_eq!(exe_base(pid).as_deref(), Some("sleeper"));
    assert_eq!(wait_cmdline(pid)[1..], [b"one".to_vec(), b"two".to_vec()]);

    let info = t.m.info("basic").unwrap();
    assert_eq!(info.id, "basic");
    assert_eq!(info.status, Status::Running);
    assert_eq!(info.state, State::Running);
    assert_eq!(info.pid, Some(pid));
    assert_eq!(info.child_pid, Some(pid));
    assert_eq!(
        info.pgid,
        Some(pid),
        "the child leads its own process group"
    );
    assert_eq!(info.log_file.as_deref(), Some(log.as_path()));
    assert_eq!(info.argv, spec.argv);
    let st = info.start_time_ms.expect("a start time while running");
    assert!(
        (st - before_ms).abs() < 5_000,
        "start time {st} is near now {before_ms}"
    );
    assert!(t.m.list().contains(&"basic".to_owned()));

    t.m.stop("basic", &StopOptions::default()).unwrap();
    assert!(gone(pid));
    assert!(!t.m.list().contains(&"basic".to_owned()));
}

#[test]
fn starting_a_running_id_again_is_ok_and_spawns_nothing() {
    let t = Ctx::new("start_twice");
    t.m.start("twice", &t.helper_spec("sleeper", &[])).unwrap();
    let pid = t.m.pid("twice").unwrap().unwrap();
    // A different command: still nothing is spawned, the running process is kept.
    t.m.start("twice", &t.helper_spec("sleeper", &["other"]))
        .expect("already running is OK");
    assert_eq!(t.m.pid("twice").unwrap(), Some(pid));
    std::thread::sleep(ms(100));
    assert_eq!(
        t.live_tagged(),
        vec![pid],
        "exactly one process runs under the id"
    );
}

#[test]
fn a_missing_program_fails_synchronously_with_spawn() {
    let t = Ctx::new("start_missing");
    let missing = t.p("no/such/program");
    // A long window: an error that only showed up after the window would take 3 s.
    let spec = t.spec([missing.as_str()]).startup_window(secs(3.0));
    let (r, took) = timed(|| t.m.start("absent-prog", &spec));
    let e = r.expect_err("a missing program cannot start");
    assert_eq!(e.kind(), ErrorKind::Spawn, "{e}");
    assert!(
        took < secs(1.5),
        "exec errors are reported at once, took {took:?}"
    );
    assert!(
        e.message().contains("absent-prog"),
        "the message names the id: {e}"
    );
    assert_eq!(t.m.pid("absent-prog").unwrap(), None);
    assert_ne!(t.m.status("absent-prog").unwrap(), Status::Running);

    let bare = t
        .spec(["grazr-no-such-program-on-path"])
        .startup_window(secs(3.0));
    let (r, took) = timed(|| t.m.start("bare", &bare));
    assert_eq!(r.expect_err("not on PATH").kind(), ErrorKind::Spawn);
    assert!(took < secs(1.5), "took {took:?}");
}

#[test]
fn a_file_that_is_not_executable_fails_with_spawn() {
    let t = Ctx::new("start_noexec");
    let f = t.path("data.txt");
    write_file(&f, "#!/bin/sh\nexit 0\n");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    let spec = t.spec([f.as_os_str()]).startup_window(secs(3.0));
    let (r, took) = timed(|| t.m.start("noexec", &spec));
    assert_eq!(
        r.expect_err("mode 0644 cannot run").kind(),
        ErrorKind::Spawn
    );
    assert!(took < secs(1.5), "took {took:?}");

    let spec = t.spec([t.dir.path().as_os_str()]).startup_window(secs(3.0));
    assert_eq!(
        t.m.start("dir", &spec)
            .expect_err("a directory cannot run")
            .kind(),
        ErrorKind::Spawn
    );
}

#[test]
fn a_missing_working_dir_fails_with_spawn() {
    let t = Ctx::new("start_nocwd");
    let spec = t
        .helper_spec("sleeper", &[])
        .cwd(t.path("does/not/exist"))
        .startup_window(secs(3.0));
    let (r, took) = timed(|| t.m.start("nocwd", &spec));
    assert_eq!(r.expect_err("no such cwd").kind(), ErrorKind::Spawn);
    assert!(took < secs(1.5), "took {took:?}");
    assert!(
        t.live_tagged().is_empty(),
        "nothing runs after a failed spawn"
    );
}

#[test]
fn argv0_is_searched_in_the_childs_final_path() {
    let t = Ctx::new("start_path");
    let bin = t.path("bin");
    fs::create_dir_all(&bin).unwrap();
    // A symlink, not a copy: no write fd to an executable ever exists in this process, so a
    // concurrent spawn cannot make its exec fail with ETXTBSY.
    std::os::unix::fs::symlink(helper("sleeper"), bin.join("grazr-test-tool")).unwrap();

    let host_only = t.spec(["grazr-test-tool"]).startup_window(secs(2.0));
    assert_eq!(
        t.m.start("host-path", &host_only)
            .expect_err("the host PATH lacks the tool")
            .kind(),
        ErrorKind::Spawn
    );

    let with_path = t
        .spec(["grazr-test-tool"])
        .env("PATH", &bin)
        .startup_window(Duration::ZERO);
    t.m.start("child-path", &with_path)
        .expect("found through the child's PATH");
    let pid = t.m.pid("child-path").unwrap().unwrap();
    assert_eq!(exe_base(pid).as_deref(), Some("sleeper"));
    assert_eq!(
        wait_cmdline(pid)[0],
        b"grazr-test-tool".to_vec(),
        "argv[0] is passed as given"
    );
}

#[test]
fn arguments_are_passed_verbatim_without_a_shell() {
    let t = Ctx::new("start_argv");
    let weird: Vec<OsString> = vec![
        "".into(),
        "two words".into(),
        "$HOME;`id`|*".into(),
        OsString::from_vec(vec![0xff, 0xfe, b'x']),
    ];
    let mut argv = vec![helper("sleeper").into_os_string()];
    argv.extend(weird.iter().cloned());
    t.m.start("argv", &t.spec(argv).startup_window(Duration::ZERO))
        .unwrap();
    let pid = t.m.pid("argv").unwrap().unwrap();
    let got = wait_cmdline(pid);
    let want: Vec<Vec<u8>> = weird.iter().map(|a| a.as_bytes().to_vec()).collect();
    assert_eq!(got[1..], want[..]);
}

#[test]
fn an_exit_within_the_window_is_exited_with_code_and_log_tail() {
    let t = Ctx::new("start_exit");
    let log = t.path("exit.log");
    let spec = t
        .helper_spec(
            "exit_after",
            &["7", "50", "first-line", "LAST-WORDS-MARKER"],
        )
        .log_file(&log)
        .startup_window(secs(2.0));
    let e =
        t.m.start("early", &spec)
            .expect_err("exits within the window");
    assert_eq!(e.kind(), ErrorKind::Exited, "{e}");
    assert!(
        e.message().contains('7'),
        "the message holds the exit code: {e}"
    );
    assert!(
        e.message().contains("LAST-WORDS-MARKER"),
        "the message holds the log's last lines: {e}"
    );
    assert!(
        e.message().contains("early"),
        "the message names the id: {e}"
    );
    assert_eq!(
        t.m.status("early").unwrap(),
        Status::Error,
        "a non-zero exit is ERROR"
    );
    let info = t.m.info("early").unwrap();
    assert_eq!(info.exit_code, Some(7));
    assert_eq!(info.state, State::Failed);
}

#[test]
fn an_exit_0_within_the_window_is_exited_too_then_stopped() {
    let t = Ctx::new("start_exit0");
    let spec = t
        .helper_spec("exit_after", &["0", "20"])
        .startup_window(secs(2.0));
    let e =
        t.m.start("zero", &spec)
            .expect_err("even exit 0 within the window is a failed start");
    assert_eq!(e.kind(), ErrorKind::Exited, "{e}");
    assert_eq!(t.m.status("zero").unwrap(), Status::Stopped);
}

#[test]
fn death_by_signal_within_the_window_names_the_signal() {
    let t = Ctx::new("start_sig");
    let spec = t
        .helper_spec("exit_after", &["sig9", "20"])
        .startup_window(secs(2.0));
    let e =
        t.m.start("killed", &spec)
            .expect_err("killed within the window");
    assert_eq!(e.kind(), ErrorKind::Exited, "{e}");
    let msg = e.message().to_ascii_uppercase();
    assert!(
        msg.contains('9') || msg.contains("KILL"),
        "the message holds the signal: {e}"
    );
    assert_eq!(t.m.status("killed").unwrap(), Status::Error);
    assert_eq!(t.m.info("killed").unwrap().term_signal, Some(9));
}

#[test]
fn the_default_window_catches_an_early_exit() {
    let t = Ctx::new("start_defwin");
    let spec = t.helper_spec("exit_after", &["3", "30"]);
    let (r, took) = timed(|| t.m.start("defwin", &spec));
    assert_eq!(
        r.expect_err("the default window is 200 ms").kind(),
        ErrorKind::Exited
    );
    assert!(took < secs(2.0), "took {took:?}");
}

#[test]
fn window_zero_returns_once_exec_succeeded() {
    let t = Ctx::new("start_win0");
    let spec = t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO);
    let (r, took) = timed(|| t.m.start("fast", &spec));
    r.expect("starts");
    assert!(took < ms(500), "window 0 must not wait, took {took:?}");
    assert_eq!(t.m.status("fast").unwrap(), Status::Running);

    // A child that fails right after the exec is still a successful start with window 0; the
    // failure shows in the status afterwards.
    let spec = t
        .helper_spec("exit_after", &["4", "0"])
        .startup_window(Duration::ZERO);
    t.m.start("quick-fail", &spec).expect("exec succeeded");
    assert!(wait_until(secs(3.0), || t.m.status("quick-fail").unwrap()
        == Status::Error));
    assert_eq!(t.m.info("quick-fail").unwrap().exit_code, Some(4));
}

#[test]
fn the_log_is_appended_with_stdout_and_stderr_merged() {
    let t = Ctx::new("start_log");
    let log = t.path("svc.log");
    write_file(&log, "PREEXISTING\n");
    let spec = t
        .helper_spec("exit_after", &["0", "60000", "alpha", "beta"])
        .log_file(&log)
        .startup_window(Duration::ZERO);
    t.m.start("logger", &spec).unwrap();
    let pid = t.m.pid("logger").unwrap().unwrap();
    assert!(
        wait_for_text(&log, "err:beta", secs(3.0)),
        "log: {:?}",
        read_text(&log)
    );
    assert_eq!(
        read_text(&log),
        "PREEXISTING\nalpha\nerr:alpha\nbeta\nerr:beta\n",
        "appended, not truncated; stdout and stderr in write order"
    );
    assert_eq!(fd_target(pid, 1), log);
    assert_eq!(fd_target(pid, 2), log);
    for fd in [1, 2] {
        let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        assert!(
            flags & libc::O_APPEND as u32 != 0,
            "fd {fd} is O_APPEND: flags {flags:o}"
        );
    }
}

#[test]
fn a_new_log_and_its_directories_are_created_0644() {
    let t = Ctx::new("start_logdir");
    let log = t.path("deep/er/dir/new.log");
    let spec = t
        .helper_spec("exit_after", &["0", "60000", "hello"])
        .log_file(&log)
        .startup_window(Duration::ZERO);
    t.m.start("logdir", &spec).unwrap();
    assert!(wait_for_text(&log, "hello", secs(3.0)));
    let umask = fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Umask:")
                .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
        })
        .unwrap_or(0o022);
    let mode = fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644 & !umask, "created 0644 (under umask {umask:o})");
}

#[test]
fn an_unusable_log_path_is_io() {
    let t = Ctx::new("start_badlog");
    let file = t.path("plain-file");
    write_file(&file, "x");
    // A regular file where a directory must be: even root cannot create it.
    let spec = t
        .helper_spec("sleeper", &[])
        .log_file(file.join("sub/x.log"));
    let e =
        t.m.start("badlog", &spec)
            .expect_err("the log's directory cannot be created");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(t.live_tagged().is_empty(), "nothing was spawned");

    let spec = t.helper_spec("sleeper", &[]).log_file(t.dir.path());
    let e =
        t.m.start("dirlog", &spec)
            .expect_err("a directory is no log");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
}

fn env_of(t: &Ctx, id: &str, spec: grazr_proc::StartSpec) -> HashMap<String, String> {
    let log = t.path(&format!("{id}.env"));
    t.m.start(id, &spec.log_file(&log).startup_window(Duration::ZERO))
        .unwrap();
    assert!(wait_for_text(&log, "--END--", secs(3.0)));
    read_text(&log)
        .lines()
        .take_while(|l| *l != "--END--")
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn the_environment_is_inherited_with_sets_and_removals() {
    let t = Ctx::new("start_env");
    let host_path = std::env::var("PATH").expect("the test runs with a PATH");
    let env = env_of(
        &t,
        "env",
        t.helper_spec("envdump", &[])
            .env("GRAZR_SET", "a value=with equals")
            .env("GRAZR_EMPTY", "")
            .env_remove("HOME"),
    );
    assert_eq!(
        env.get("PATH"),
        Some(&host_path),
        "the host's environment is the base"
    );
    assert_eq!(
        env.get("GRAZR_SET").map(String::as_str),
        Some("a value=with equals")
    );
    assert_eq!(env.get("GRAZR_EMPTY").map(String::as_str), Some(""));
    assert!(!env.contains_key("HOME"), "a bare key removes the variable");
}

#[test]
fn clear_env_starts_from_nothing() {
    let t = Ctx::new("start_clearenv");
    let env = env_of(
        &t,
        "clear",
        t.helper_spec("envdump", &[])
            .clear_env()
            .env("ONLY", "this"),
    );
    let mut keys: Vec<&str> = env.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![TAG_VAR, "ONLY"],
        "nothing of the host leaks: {env:?}"
    );
}

#[test]
fn the_working_directory_is_set() {
    let t = Ctx::new("start_cwd");
    let wd = t.path("work dir");
    fs::create_dir_all(&wd).unwrap();
    t.m.start(
        "cwd",
        &t.helper_spec("sleeper", &[])
            .cwd(&wd)
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid("cwd").unwrap().unwrap();
    assert_eq!(fs::read_link(format!("/proc/{pid}/cwd")).unwrap(), wd);
}

/// The same place as `abs`, spelled relative to the current directory.
fn relative_to_cwd(abs: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let mut rel = PathBuf::new();
    for c in cwd.components() {
        if matches!(c, Component::Normal(_)) {
            rel.push("..");
        }
    }
    rel.join(abs.strip_prefix("/").unwrap())
}

#[test]
fn relative_paths_are_stored_absolute() {
    let t = Ctx::new("start_relative");
    let log = t.path("rel/svc.log");
    let pid_file = t.path("rel/svc.pid");
    let wd = t.path("rel-wd");
    fs::create_dir_all(&wd).unwrap();
    let spec = t
        .helper_spec("late_pidfile", &["0", &pid_file.to_string_lossy()])
        .log_file(relative_to_cwd(&log))
        .pid_file(relative_to_cwd(&pid_file))
        .cwd(relative_to_cwd(&wd));
    t.m.start("rel", &spec).unwrap();
    let info = t.m.info("rel").unwrap();
    let stored_log = info.log_file.expect("log path kept");
    let stored_pid = info.pid_file.expect("pid file path kept");
    assert!(stored_log.is_absolute(), "{}", stored_log.display());
    assert!(stored_pid.is_absolute(), "{}", stored_pid.display());
    assert_eq!(
        fs::canonicalize(&stored_log).unwrap(),
        fs::canonicalize(&log).unwrap()
    );
    assert_eq!(
        fs::canonicalize(&stored_pid).unwrap(),
        fs::canonicalize(&pid_file).unwrap()
    );
    let pid = t.m.pid("rel").unwrap().unwrap();
    assert_eq!(
        fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        fs::canonicalize(&wd).unwrap()
    );
}

#[test]
fn bad_arguments_are_invalid() {
    let t = Ctx::new("start_invalid");
    let ok = t.helper_spec("sleeper", &[]);
    let kind = |r: grazr_proc::Result<()>| r.expect_err("must be rejected").kind();
    assert_eq!(
        kind(t.m.start("", &ok)),
        ErrorKind::InvalidArgument,
        "empty id"
    );
    let empty: [&str; 0] = [];
    assert_eq!(
        kind(t.m.start("x", &t.spec(empty))),
        ErrorKind::InvalidArgument,
        "empty argv"
    );
    assert_eq!(
        kind(t.m.start("x", &t.spec([""]))),
        ErrorKind::InvalidArgument,
        "empty argv[0]"
    );
    let long_id = "i".repeat(5000);
    assert_eq!(
        kind(t.m.start(&long_id, &ok)),
        ErrorKind::InvalidArgument,
        "id over 4095 bytes"
    );
    let long_path = format!("/tmp/{}", "p".repeat(5000));
    assert_eq!(
        kind(t.m.start("x", &t.helper_spec("sleeper", &[]).log_file(&long_path))),
        ErrorKind::InvalidArgument,
        "path over 4095 bytes"
    );
    assert!(
        t.live_tagged().is_empty(),
        "nothing was spawned for bad arguments"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The isolated half: this process runs out of file descriptors on purpose.
fn emfile_child() {
    let t = Ctx::new("start_emfile_child");
    // Everything that needs a descriptor of the test's own comes before the hog.
    let spec = t.helper_spec("sleeper", &[]).log_file(t.path("x.log"));
    // A small limit keeps the fd hog cheap.
    let lim = libc::rlimit {
        rlim_cur: 256,
        rlim_max: 256,
    };
    // SAFETY: setrlimit with a valid, initialised struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let mut hog = Vec::new();
    loop {
        match fs::File::open("/dev/null") {
            Ok(f) => hog.push(f),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                break;
            }
        }
        assert!(hog.len() < 2_000_000, "no fd limit to hit");
    }
    let e =
        t.m.start("emfile", &spec)
            .expect_err("no descriptor left for the log or the pidfd");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    drop(hog);
    t.m.start("emfile", &spec.startup_window(Duration::ZERO))
        .expect("fine again once fds are free");
    t.m.stop("emfile", &StopOptions::default()).unwrap();
}

#[test]
fn running_out_of_file_descriptors_is_io() {
    if child_mode() {
        emfile_child();
        return;
    }
    helper("sleeper");
    let out = run_self("running_out_of_file_descriptors_is_io", &[], &[]);
    assert_child_passed(&out, "EMFILE run");
}
