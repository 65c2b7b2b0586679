//! Bad input through the C ABI, as one table: each row is a call with hostile arguments and the
//! result code it must give. After every row: the message matches the code (non-empty on
//! failure, empty on success), no process of the row is left alive, no descriptor is left open,
//! the row's id is not listed, and a fresh start/stop of a known id still works.
//!
//! The C ABI has one global registry, so every row uses ids of its own.

mod common;
#[path = "hardening/support.rs"]
mod support;

use std::ffi::c_char;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::ptr;
use std::time::Instant;

use common::*;
use grazr_proc::ffi::{self, *};
use support::*;

/// What one row did: its code and the message read right after the call.
struct Outcome {
    rc: i32,
    msg: String,
    /// A further check of the row; Err(text) fails the row.
    extra: Result<(), String>,
}

fn out(rc: i32) -> Outcome {
    Outcome {
        rc,
        msg: last_error(),
        extra: Ok(()),
    }
}

/// For a row whose call sets no last error (the static-string getters).
fn out_check(rc: i32, extra: Result<(), String>) -> Outcome {
    Outcome {
        rc,
        msg: String::new(),
        extra,
    }
}

struct Row {
    name: String,
    expect: i32,
    /// Ids the row may have started; stopped (SIGKILL at once) after it.
    ids: Vec<String>,
    run: Box<dyn Fn() -> Outcome>,
}

struct World {
    t: Ctx,
    tag_env: String,
    sleeper: String,
    ignore_term: String,
    siglog: String,
}

impl World {
    fn env(&self) -> Vec<Vec<u8>> {
        vec![self.tag_env.clone().into_bytes()]
    }
}

fn row(
    name: impl Into<String>,
    expect: i32,
    ids: &[&str],
    run: impl Fn() -> Outcome + 'static,
) -> Row {
    Row {
        name: name.into(),
        expect,
        ids: ids.iter().map(|s| s.to_string()).collect(),
        run: Box::new(run),
    }
}

/// Starts `argv` under `id` through grazr_start_process_ex with the test's tag in env.
fn start_with(
    w: &World,
    id: &str,
    argv: &[&[u8]],
    extra_env: &[&[u8]],
    tweak: impl FnOnce(&mut ffi::grazr_start_options),
) -> (i32, String) {
    let mut env = w.env();
    env.extend(extra_env.iter().map(|e| e.to_vec()));
    let env_refs: Vec<&[u8]> = env.iter().map(|e| e.as_slice()).collect();
    let mut o = start_opts();
    o.startup_window_ms = 0;
    tweak(&mut o);
    let rc = c_start(id, argv, &env_refs, &mut o);
    (rc, last_error())
}

/// A row's outcome when its code is all it checks.
fn code_only((rc, msg): (i32, String)) -> Outcome {
    Outcome {
        rc,
        msg,
        extra: Ok(()),
    }
}

/// A row's further check: Ok when `ok`, else the text `why` gives.
fn check(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

/// A row under an id of its own, made from `prefix`; `run` gets that id.
fn id_row(
    name: impl Into<String>,
    expect: i32,
    prefix: &str,
    run: impl Fn(&str) -> Outcome + 'static,
) -> Row {
    let id = unique_id(prefix);
    let own = id.clone();
    row(name, expect, &[&id], move || run(&own))
}

/// Sets one path option of a start.
type SetPath = fn(&mut ffi::grazr_start_options, *const c_char);

fn set_log(o: &mut ffi::grazr_start_options, p: *const c_char) {
    o.log_file_path = p;
}

fn set_pid_file(o: &mut ffi::grazr_start_options, p: *const c_char) {
    o.pid_file_path = p;
}

fn set_working_dir(o: &mut ffi::grazr_start_options, p: *const c_char) {
    o.working_dir = p;
}

/// Starts the sleeper under `id` with one path option set to `path`; only the code counts.
fn start_sleeper_at(w: &World, id: &str, set: SetPath, path: impl AsRef<[u8]>) -> Outcome {
    let p = cs(path);
    code_only(start_with(w, id, &[w.sleeper.as_bytes()], &[], |o| {
        set(o, p.as_ptr())
    }))
}

/// Starts the sleeper under `id`, makes a `call` that must be refused, and checks that the
/// service still runs after it (`why` says what went wrong otherwise).
fn refused_while_running(
    w: &World,
    id: &str,
    call: impl FnOnce(&str) -> i32,
    why: &str,
) -> Outcome {
    let (rc0, _) = start_with(w, id, &[w.sleeper.as_bytes()], &[], |_| {});
    let rc = call(id);
    let msg = last_error();
    let extra = check(rc0 == 0 && c_status(id) == GRAZR_STATUS_RUNNING, || {
        why.into()
    });
    Outcome { rc, msg, extra }
}

/// What stopping a started ignore_term (SIGTERM ignored) with `timeout_ms` gave.
struct TimedStop {
    started: i32,
    pid: i32,
    outcome: Outcome,
    took: std::time::Duration,
}

fn stop_ignore_term(w: &World, id: &str, timeout_ms: i32) -> TimedStop {
    let (started, _) = start_with(w, id, &[w.ignore_term.as_bytes()], &[], |_| {});
    std::thread::sleep(ms(100)); // let it install SIG_IGN
    let pid = c_pid(id);
    let t0 = Instant::now();
    let rc = c_stop(id, 0, timeout_ms);
    let msg = last_error();
    let took = t0.elapsed();
    TimedStop {
        started,
        pid,
        outcome: Outcome {
            rc,
            msg,
            extra: Ok(()),
        },
        took,
    }
}

/// The child's environment block; /proc/PID/environ is empty for an instant after a
/// vfork-style exec, so it is read until it is not (2 s at the most).
fn child_environ(pid: i32) -> Vec<u8> {
    let mut env = Vec::new();
    wait_until(secs(2.0), || {
        env = fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        !env.is_empty()
    });
    env
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn long_path(dir: &Path, total: usize) -> String {
    let mut p = dir.to_string_lossy().into_owned();
    p.push('/');
    while p.len() < total {
        p.push('a');
    }
    p.truncate(total);
    p
}

fn mkfifo(path: &Path) {
    let c = cs(path.as_os_str().as_encoded_bytes());
    // SAFETY: a valid path string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

fn gettid() -> i32 {
    // SAFETY: no arguments, no memory.
    unsafe { libc::gettid() }
}

/// A pid file's content in the table, and whether it holds a PID (a valid first line) that
/// fails the identity check: only those may be deleted before a start or by a stop.
struct PidCase {
    name: &'static str,
    make: Box<dyn Fn(&Path)>,
    holds_refused_pid: bool,
}

impl PidCase {
    fn new(name: &'static str, make: impl Fn(&Path) + 'static, holds_refused_pid: bool) -> Self {
        PidCase {
            name,
            make: Box::new(make),
            holds_refused_pid,
        }
    }

    /// A pid file that holds `text`.
    fn text(name: &'static str, text: String, holds_refused_pid: bool) -> Self {
        PidCase::new(name, move |p| write_file(p, &text), holds_refused_pid)
    }
}

fn pid_cases(host_tid: i32) -> Vec<PidCase> {
    let me = std::process::id() as i32;
    // SAFETY: plain getters.
    let (ppid, pgid, sid) = unsafe { (libc::getppid(), libc::getpgrp(), libc::getsid(0)) };
    vec![
        PidCase::text("garbage", "abc\n".into(), false),
        PidCase::text("negative", "-5\n".into(), false),
        PidCase::text("minus-one", "-1\n".into(), false),
        PidCase::text("zero", "0\n".into(), false),
        PidCase::text("one", "1\n".into(), true),
        PidCase::text("host-pid", format!("{me}\n"), true),
        PidCase::text("host-tid", format!("{host_tid}\n"), true),
        // A parent, group or session leader outside the host's PID namespace reads as 0 (a
        // container runner): the file then holds no PID at all.
        PidCase::text("host-parent", format!("{ppid}\n"), ppid > 0),
        PidCase::text("host-pgid", format!("{pgid}\n"), pgid > 0),
        PidCase::text("host-sid", format!("{sid}\n"), sid > 0),
        PidCase::text("huge", "99999999999\n".into(), false),
        PidCase::text("int-max-dead", "2147483647\n".into(), true),
        PidCase::new(
            "binary",
            |p| fs::write(p, b"\x00\xff\x13\x7f\n\x00").unwrap(),
            false,
        ),
        PidCase::new(
            "symlink-dev-zero",
            |p| symlink("/dev/zero", p).unwrap(),
            false,
        ),
        PidCase::new("fifo", mkfifo, false),
        PidCase::new("directory", |p| fs::create_dir_all(p).unwrap(), false),
    ]
}

/// Makes the pid file `pf` afresh as `case` says and makes the row's `call`; after its message
/// is read, `judge` checks what the call left.
fn on_fresh_pid_file(
    pf: &Path,
    case: &PidCase,
    call: impl FnOnce() -> i32,
    judge: impl FnOnce() -> Result<(), String>,
) -> Outcome {
    reset(pf, &case.make);
    let rc = call();
    let msg = last_error();
    Outcome {
        rc,
        msg,
        extra: judge(),
    }
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

fn reset(p: &Path, make: &dyn Fn(&Path)) {
    let _ = fs::remove_file(p);
    let _ = fs::remove_dir_all(p);
    make(p);
}

/// A pid file path that is a directory cannot be read: GRAZR_ERR_IO from everything that has
/// to read it, and it is never deleted. Each row removes it at its end, so that the cleanup
/// stop of the row's id can work.
fn directory_rows(v: &mut Vec<Row>, w: &'static World, pf: &'static Path, case: &'static PidCase) {
    let gone_dir = |pf: &Path| {
        let kept = pf.is_dir();
        let _ = fs::remove_dir(pf);
        kept
    };
    v.push(row(
        "read_pid_file: directory",
        GRAZR_ERR_IO,
        &[],
        move || {
            on_fresh_pid_file(
                pf,
                case,
                || c_read_pid_file(pf),
                || check(gone_dir(pf), || "deleted".into()),
            )
        },
    ));
    v.push(id_row(
        "registered service, status/get_pid/signal: directory",
        GRAZR_OK,
        "bi-svc-directory",
        move |svc| {
            let register = || c_register(svc, Some(pf.to_str().unwrap()), None, 0, 500);
            on_fresh_pid_file(pf, case, register, || {
                let (st, pid, sig) = (c_status(svc), c_pid(svc), c_signal(svc, libc::SIGUSR1));
                let kept = gone_dir(pf);
                check(
                    st == GRAZR_ERR_IO && pid == GRAZR_ERR_IO && sig < 0 && kept,
                    || format!("status {st}, pid {pid}, signal {sig}, kept {kept}"),
                )
            })
        },
    ));
    v.push(id_row(
        "stop_ex with pid file: directory",
        GRAZR_ERR_IO,
        "bi-stop-pf-directory",
        move |id| {
            on_fresh_pid_file(
                pf,
                case,
                || c_stop_pid_file(id, pf, 0),
                || check(gone_dir(pf), || "deleted".into()),
            )
        },
    ));
    v.push(id_row(
        "start with pid file: directory (nothing spawned)",
        GRAZR_ERR_IO,
        "bi-start-pf-directory",
        move |id| {
            reset(pf, &case.make);
            let pfc = cs(pf.as_os_str().as_encoded_bytes());
            let (rc, msg) = start_with(w, id, &[w.sleeper.as_bytes()], &[], |o| {
                o.pid_file_path = pfc.as_ptr();
                o.pid_file_timeout_ms = 200;
            });
            let spawned = w.t.live_tagged();
            let kept = gone_dir(pf);
            let extra = check(kept && spawned.is_empty(), || {
                format!("kept {kept}, spawned {spawned:?}")
            });
            Outcome { rc, msg, extra }
        },
    ));
}

fn rows(w: &'static World, host_tid: i32) -> Vec<Row> {
    let d = w.t.dir.path().to_path_buf();
    let sleeper = w.sleeper.clone();
    let mut v: Vec<Row> = Vec::new();
    let null = ptr::null::<c_char>();

    // --- NULL for every pointer that must be there --------------------------------------
    {
        let s = sleeper.clone();
        v.push(row(
            "start: id NULL",
            GRAZR_ERR_INVALID_ARGUMENT,
            &[],
            move || {
                let argv = CArray::new([s.as_bytes()]);
                out(unsafe {
                    grazr_start_process(null, argv.as_ptr(), null, null, ptr::null(), null)
                })
            },
        ));
    }
    v.push(id_row(
        "start: argv NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-argv-null",
        move |id| {
            let cid = cs(id);
            out(unsafe {
                grazr_start_process(cid.as_ptr(), ptr::null(), null, null, ptr::null(), null)
            })
        },
    ));
    v.push(row("start_ex: id NULL", GRAZR_ERR_INVALID_ARGUMENT, &[], {
        let s = sleeper.clone();
        move || {
            let argv = CArray::new([s.as_bytes()]);
            out(unsafe { grazr_start_process_ex(null, argv.as_ptr(), ptr::null()) })
        }
    }));
    v.push(id_row(
        "start_ex: argv NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-ex-argv-null",
        move |id| {
            let cid = cs(id);
            out(unsafe { grazr_start_process_ex(cid.as_ptr(), ptr::null(), ptr::null()) })
        },
    ));
    v.push(id_row(
        "start_ex: options NULL (defaults)",
        GRAZR_OK,
        "bi-opts-null",
        move |id| {
            let cid = cs(id);
            let argv = CArray::new([w.sleeper.as_bytes()]);
            // Without env the child carries no tag; the row's cleanup stops it by id, and the
            // check below makes sure it is gone.
            let rc = unsafe { grazr_start_process_ex(cid.as_ptr(), argv.as_ptr(), ptr::null()) };
            let msg = last_error();
            let pid = c_pid(id);
            let rc2 = c_stop(id, libc::SIGKILL, 0);
            let extra = check(
                pid > 1 && rc2 == 0 && wait_until(secs(2.0), || gone(pid)),
                || format!("pid {pid}, stop {rc2}"),
            );
            Outcome { rc, msg, extra }
        },
    ));
    v.push(id_row(
        "start_ex: options.size 0",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-opts-size0",
        move |id| {
            let cid = cs(id);
            let argv = CArray::new([w.sleeper.as_bytes()]);
            let mut o = start_opts();
            o.size = 0;
            out(unsafe { grazr_start_process_ex(cid.as_ptr(), argv.as_ptr(), &o) })
        },
    ));
    v.push(row(
        "stop: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_stop_process(null, 0, -1) }),
    ));
    v.push(row(
        "stop_ex: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_stop_process_ex(null, ptr::null()) }),
    ));
    v.push(id_row(
        "stop_ex: options NULL (defaults)",
        GRAZR_OK,
        "bi-stop-opts-null",
        move |id| {
            let cid = cs(id);
            out(unsafe { grazr_stop_process_ex(cid.as_ptr(), ptr::null()) })
        },
    ));
    v.push(row(
        "status: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_status(null) }),
    ));
    v.push(row(
        "get_pid: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_get_pid(null) }),
    ));
    v.push(row(
        "signal: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_signal_process(null, libc::SIGHUP) }),
    ));
    v.push(row(
        "read_pid_file: path NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_read_pid_file(null) }),
    ));
    v.push(row(
        "read_pid_file: path empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let e = cs("");
            out(unsafe { grazr_read_pid_file(e.as_ptr()) })
        },
    ));
    v.push(row(
        "process_info: id NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let mut info = info_struct();
            out(unsafe { grazr_process_info(null, &mut info) })
        },
    ));
    v.push(row(
        "process_info: info NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let cid = cs("bi-info-null");
            out(unsafe { grazr_process_info(cid.as_ptr(), ptr::null_mut()) })
        },
    ));
    v.push(row(
        "process_info: info.size 0",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let cid = cs("bi-info-size0");
            let mut info = info_struct();
            info.size = 0;
            out(unsafe { grazr_process_info(cid.as_ptr(), &mut info) })
        },
    ));
    v.push(row(
        "process_info: unknown id (zeros, STOPPED)",
        GRAZR_OK,
        &[],
        move || {
            let (rc, info) = c_info(&unique_id("bi-info-unknown"));
            let msg = last_error();
            let extra = check(
                info.status == GRAZR_STATUS_STOPPED
                    && info.pid == 0
                    && info.pid_file.is_null()
                    && info.argv.is_null(),
                || format!("status {} pid {}", info.status, info.pid),
            );
            Outcome { rc, msg, extra }
        },
    ));
    v.push(row(
        "register_service: pattern NULL",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(unsafe { grazr_register_service(null, null, null, 0, -1) }),
    ));
    v.push(row(
        "register_service: pattern empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let e = cs("");
            out(unsafe { grazr_register_service(e.as_ptr(), null, null, 0, -1) })
        },
    ));
    v.push(row(
        "list: ids NULL (count only)",
        GRAZR_OK,
        &[],
        move || {
            let n = unsafe { grazr_list(ptr::null_mut()) };
            let msg = last_error();
            Outcome {
                rc: if n >= 0 { 0 } else { n },
                msg,
                extra: Ok(()),
            }
        },
    ));
    v.push(row("stop_all_ex: buffer NULL", GRAZR_OK, &[], move || {
        // Nothing of this binary runs between rows, so stop_all has nothing to fail on.
        out(unsafe { grazr_stop_all_ex(ptr::null_mut(), 0) })
    }));
    v.push(row(
        "last_error/result_name/version: never NULL",
        GRAZR_OK,
        &[],
        move || {
            let ok = !grazr_last_error_message().is_null()
                && !grazr_result_name(12345).is_null()
                && !grazr_version().is_null()
                && name_of(-12345) == "GRAZR_ERR_UNKNOWN";
            out_check(0, check(ok, || "a NULL string".into()))
        },
    ));

    // --- empty and non-UTF-8 ids, empty argv -------------------------------------------
    for (name, f) in [("status", c_status as fn(&str) -> i32), ("get_pid", c_pid)] {
        v.push(row(
            format!("{name}: id empty"),
            GRAZR_ERR_INVALID_ARGUMENT,
            &[],
            move || out(f("")),
        ));
    }
    v.push(row(
        "stop: id empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(c_stop("", 0, -1)),
    ));
    v.push(row(
        "signal: id empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(c_signal("", 1)),
    ));
    v.push(row(
        "start: id empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || code_only(start_with(w, "", &[w.sleeper.as_bytes()], &[], |_| {})),
    ));
    v.push(id_row(
        "start: argv {NULL} (no program)",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-argv-empty",
        move |id| code_only(start_with(w, id, &[], &[], |_| {})),
    ));
    v.push(id_row(
        "start: argv[0] empty",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-argv0-empty",
        move |id| code_only(start_with(w, id, &[b"", b"x"], &[], |_| {})),
    ));
    let bad_id: &'static [u8] = b"bi-\xff\xfe-not-utf8";
    for (name, call) in [
        ("status", 0),
        ("get_pid", 1),
        ("stop", 2),
        ("signal", 3),
        ("start", 4),
        ("process_info", 5),
    ] {
        let s = sleeper.clone();
        v.push(row(
            format!("{name}: id not UTF-8"),
            GRAZR_ERR_INVALID_ARGUMENT,
            &[],
            move || {
                let cid = cs(bad_id);
                let argv = CArray::new([s.as_bytes()]);
                let mut info = info_struct();
                out(unsafe {
                    match call {
                        0 => grazr_status(cid.as_ptr()),
                        1 => grazr_get_pid(cid.as_ptr()),
                        2 => grazr_stop_process(cid.as_ptr(), 0, -1),
                        3 => grazr_signal_process(cid.as_ptr(), 1),
                        4 => grazr_start_process(
                            cid.as_ptr(),
                            argv.as_ptr(),
                            null,
                            null,
                            ptr::null(),
                            null,
                        ),
                        _ => grazr_process_info(cid.as_ptr(), &mut info),
                    }
                })
            },
        ));
    }
    v.push(row(
        "register_service: pattern not UTF-8",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let p = cs(bad_id);
            out(unsafe { grazr_register_service(p.as_ptr(), null, null, 0, -1) })
        },
    ));

    // --- non-UTF-8 arguments and env values are accepted, and reach the child as bytes -------
    v.push(id_row(
        "start: non-UTF-8 argument and env value",
        GRAZR_OK,
        "bi-bytes",
        move |id| {
            let (rc, msg) = start_with(
                w,
                id,
                &[w.sleeper.as_bytes(), b"arg-\xff\xfe", b""],
                &[b"GZ_BYTES=\xc3\x28\xff"],
                |_| {},
            );
            let pid = c_pid(id);
            let mut argv = Vec::new();
            wait_until(secs(2.0), || {
                argv = cmdline(pid);
                argv.len() >= 3
            });
            let env = child_environ(pid);
            let extra = check(
                argv.get(1).map(|a| a.as_slice()) == Some(&b"arg-\xff\xfe"[..])
                    && argv.get(2).is_some_and(|a| a.is_empty())
                    && env
                        .split(|&b| b == 0)
                        .any(|e| e == b"GZ_BYTES=\xc3\x28\xff"),
                || format!("child argv {argv:?}"),
            );
            Outcome { rc, msg, extra }
        },
    ));
    let log_bytes: Vec<u8> = {
        let mut b = d.as_os_str().as_encoded_bytes().to_vec();
        b.extend_from_slice(b"/logs-\xff/out.log");
        b
    };
    v.push(id_row(
        "start: non-UTF-8 log path (created)",
        GRAZR_OK,
        "bi-nonutf8-log",
        move |id| {
            let Outcome { rc, msg, .. } = start_sleeper_at(w, id, set_log, &log_bytes);
            let p = PathBuf::from(
                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&log_bytes),
            );
            let extra = check(p.is_file(), || format!("{} not created", p.display()));
            Outcome { rc, msg, extra }
        },
    ));

    // --- lengths: PATH_MAX ---------------------------------------------------------------
    v.push(row(
        "status: id of 4096 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(c_status(&long(4096))),
    ));
    v.push(row(
        "status: id of 4095 bytes (accepted)",
        GRAZR_OK,
        &[],
        move || out(c_status(&long(4095))),
    ));
    v.push(row(
        "stop: id of 5000 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || out(c_stop(&long(5000), 0, -1)),
    ));
    v.push(row(
        "start: id of 4096 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            code_only(start_with(
                w,
                &long(4096),
                &[w.sleeper.as_bytes()],
                &[],
                |_| {},
            ))
        },
    ));
    for (field, set) in [
        ("pid_file_path", set_pid_file as SetPath),
        ("working_dir", set_working_dir),
        ("log_file_path", set_log),
    ] {
        let p = long_path(&d, 4096);
        v.push(id_row(
            format!("start: {field} of 4096 bytes"),
            GRAZR_ERR_INVALID_ARGUMENT,
            "bi-longpath",
            move |id| start_sleeper_at(w, id, set, &p),
        ));
    }
    v.push(row(
        "read_pid_file: path of 4096 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        {
            let d = d.clone();
            move || out(c_read_pid_file(Path::new(&long_path(&d, 4096))))
        },
    ));
    v.push(row(
        "stop_ex: pid_file_path of 4096 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        {
            let d = d.clone();
            move || {
                out(c_stop_pid_file(
                    &unique_id("bi-stop-longpf"),
                    Path::new(&long_path(&d, 4096)),
                    0,
                ))
            }
        },
    ));
    v.push(row(
        "register_service: template of 4096 bytes",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        {
            let d = d.clone();
            move || {
                out(c_register(
                    &unique_id("bi-reg-long"),
                    Some(&long_path(&d, 4096)),
                    None,
                    0,
                    -1,
                ))
            }
        },
    ));

    // --- 10,000 arguments -----------------------------------------------------------------
    v.push(id_row(
        "start: 10,000 arguments",
        GRAZR_OK,
        "bi-10k",
        move |id| {
            let args: Vec<Vec<u8>> = std::iter::once(w.sleeper.clone().into_bytes())
                .chain((0..10_000).map(|i| format!("arg{i}").into_bytes()))
                .collect();
            let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            let (rc, msg) = start_with(w, id, &refs, &[], |_| {});
            let pid = c_pid(id);
            let mut got = 0;
            wait_until(secs(2.0), || {
                got = cmdline(pid).len();
                got == 10_001
            });
            let extra = check(got == 10_001, || format!("child has {got} arguments"));
            Outcome { rc, msg, extra }
        },
    ));

    // --- env: a bare KEY removes it --------------------------------------------------------
    v.push(id_row(
        "start: bare env KEY (PATH) unsets it",
        GRAZR_OK,
        "bi-bare-key",
        move |id| {
            let (rc, msg) = start_with(
                w,
                id,
                &[w.sleeper.as_bytes()],
                &[b"PATH", b"GZ_SET=1", b"GZ_SET"],
                |_| {},
            );
            let env = child_environ(c_pid(id));
            let has = |k: &[u8]| env.split(|&b| b == 0).any(|e| e.starts_with(k));
            let extra = check(
                !has(b"PATH=") && !has(b"GZ_SET=") && has(b"GRAZR_TEST_TAG="),
                || "PATH or GZ_SET still in the child's environment".into(),
            );
            Outcome { rc, msg, extra }
        },
    ));
    v.push(id_row(
        "start: env entry \"=x\" (no name)",
        GRAZR_ERR_INVALID_ARGUMENT,
        "bi-env-noname",
        move |id| code_only(start_with(w, id, &[w.sleeper.as_bytes()], &[b"=x"], |_| {})),
    ));

    // --- signals -------------------------------------------------------------------------
    for sig in [-1, 65, i32::MIN, i32::MAX] {
        // The refused stop must not have touched the process.
        v.push(id_row(
            format!("stop: signal {sig}"),
            GRAZR_ERR_INVALID_ARGUMENT,
            "bi-sig",
            move |id| {
                refused_while_running(
                    w,
                    id,
                    |id| c_stop(id, sig, 0),
                    "the service did not survive a refused stop",
                )
            },
        ));
    }
    for sig in [-1, 0, 65] {
        v.push(id_row(
            format!("signal_process: signal {sig}"),
            GRAZR_ERR_INVALID_ARGUMENT,
            "bi-signal",
            move |id| refused_while_running(w, id, |id| c_signal(id, sig), "not running"),
        ));
    }
    for sig in [-1, 65] {
        v.push(row(
            format!("register_service: stop signal {sig}"),
            GRAZR_ERR_INVALID_ARGUMENT,
            &[],
            move || out(c_register(&unique_id("bi-reg-sig"), None, None, sig, -1)),
        ));
    }
    v.push(row(
        "signal_process: unknown id",
        GRAZR_ERR_NOT_RUNNING,
        &[],
        move || out(c_signal(&unique_id("bi-nobody"), 1)),
    ));
    {
        let d = d.clone();
        v.push(id_row(
            "stop: signal 0 sends the default SIGTERM",
            GRAZR_OK,
            "bi-sig0",
            move |id| {
                let log = d.join(format!("{id}.sig"));
                let lb = log.to_str().unwrap().to_owned();
                let (rc0, _) = start_with(
                    w,
                    id,
                    &[w.siglog.as_bytes(), lb.as_bytes(), b"15"],
                    &[],
                    |_| {},
                );
                let ready = wait_for_text(&log, "ready", secs(3.0));
                let rc = c_stop(id, 0, 3000);
                let msg = last_error();
                let got = read_text(&log);
                // Pending signals are handled in nested frames, so SIGCONT's handler may log
                // first.
                let extra = check(rc0 == 0 && ready && got.lines().any(|l| l == "15"), || {
                    format!("signals logged: {got:?}")
                });
                Outcome { rc, msg, extra }
            },
        ));
    }

    // --- timeouts ------------------------------------------------------------------------
    v.push(id_row(
        "stop: timeout INT32_MIN is the default (5 s, then SIGKILL)",
        GRAZR_OK,
        "bi-tmin",
        move |id| {
            let TimedStop {
                started,
                pid,
                outcome,
                took,
            } = stop_ignore_term(w, id, i32::MIN);
            let extra = check(
                started == 0 && took >= secs(4.5) && took < secs(9.0) && gone(pid),
                || format!("took {took:?}, gone {}", gone(pid)),
            );
            Outcome { extra, ..outcome }
        },
    ));
    v.push(id_row(
        "stop: timeout 0 kills at once",
        GRAZR_OK,
        "bi-t0",
        move |id| {
            let TimedStop {
                started,
                pid,
                outcome,
                took,
            } = stop_ignore_term(w, id, 0);
            let extra = check(started == 0 && took < secs(1.5) && gone(pid), || {
                format!("took {took:?}")
            });
            Outcome { extra, ..outcome }
        },
    ));

    // --- pid files with hostile contents ---------------------------------------------------
    for case in pid_cases(host_tid) {
        let case: &'static PidCase = Box::leak(Box::new(case));
        let pf = d.join("pf").join(format!("{}.pid", case.name));
        fs::create_dir_all(pf.parent().unwrap()).unwrap();
        let pf: &'static Path = Box::leak(pf.into_boxed_path());

        if case.name == "directory" {
            directory_rows(&mut v, w, pf, case);
            continue;
        }

        v.push(row(
            format!("read_pid_file: {}", case.name),
            GRAZR_OK,
            &[],
            // A refused PID reads as 0: the code is 0 and nothing else.
            move || {
                on_fresh_pid_file(
                    pf,
                    case,
                    || c_read_pid_file(pf),
                    || check(exists(pf), || "read_pid_file deleted the file".into()),
                )
            },
        ));

        v.push(id_row(
            format!("registered service, status/get_pid/signal: {}", case.name),
            GRAZR_OK,
            &format!("bi-svc-{}", case.name),
            move |svc| {
                let register = || c_register(svc, Some(pf.to_str().unwrap()), None, 0, 500);
                on_fresh_pid_file(pf, case, register, || {
                    let (st, pid, sig) = (c_status(svc), c_pid(svc), c_signal(svc, libc::SIGUSR1));
                    check(
                        st == GRAZR_STATUS_STOPPED
                            && pid == 0
                            && sig == GRAZR_ERR_NOT_RUNNING
                            && exists(pf),
                        || {
                            format!(
                                "status {st}, pid {pid}, signal {sig}, file kept {}",
                                exists(pf)
                            )
                        },
                    )
                })
            },
        ));

        v.push(id_row(
            format!("stop_ex with pid file: {}", case.name),
            GRAZR_OK,
            &format!("bi-stop-pf-{}", case.name),
            move |id| {
                on_fresh_pid_file(
                    pf,
                    case,
                    || c_stop_pid_file(id, pf, 0),
                    || {
                        let kept = exists(pf);
                        check(kept != case.holds_refused_pid, || {
                            format!(
                                "file kept: {kept}; it should be kept only when it holds no PID"
                            )
                        })
                    },
                )
            },
        ));

        v.push(id_row(
            format!("start with pid file: {}", case.name),
            GRAZR_OK,
            &format!("bi-start-pf-{}", case.name),
            move |id| {
                reset(pf, &case.make);
                let pfc = cs(pf.as_os_str().as_encoded_bytes());
                let t0 = Instant::now();
                let (rc, msg) = start_with(w, id, &[w.sleeper.as_bytes()], &[], |o| {
                    o.pid_file_path = pfc.as_ptr();
                    o.pid_file_timeout_ms = 200;
                });
                let took = t0.elapsed();
                let kept_after_start = exists(pf);
                let pid = c_pid(id);
                let child_ok = pid > 1
                    && cmdline(pid)
                        .first()
                        .is_some_and(|a| a.ends_with(b"sleeper"));
                let rc2 = c_stop(id, 0, 1000);
                let kept_after_stop = exists(pf);
                let extra = check(
                    kept_after_start != case.holds_refused_pid
                        && kept_after_stop == kept_after_start
                        && child_ok
                        && rc2 == 0
                        && took < secs(3.0),
                    || {
                        format!(
                            "kept after start {kept_after_start}, after stop {kept_after_stop}, \
                             tracked pid {pid} ok {child_ok}, stop {rc2}, took {took:?}"
                        )
                    },
                );
                Outcome { rc, msg, extra }
            },
        ));
    }

    // --- log paths -----------------------------------------------------------------------
    {
        let d = d.clone();
        v.push(id_row(
            "start: log path is a directory",
            GRAZR_ERR_IO,
            "bi-log-dir",
            move |id| start_sleeper_at(w, id, set_log, d.as_os_str().as_encoded_bytes()),
        ));
    }
    {
        let d = d.clone();
        v.push(id_row(
            "start: log path is a FIFO without a reader (no blocking)",
            GRAZR_ERR_IO,
            "bi-log-fifo",
            move |id| {
                let f = d.join("log.fifo");
                let _ = fs::remove_file(&f);
                mkfifo(&f);
                let t0 = Instant::now();
                let Outcome { rc, msg, .. } =
                    start_sleeper_at(w, id, set_log, f.as_os_str().as_encoded_bytes());
                let took = t0.elapsed();
                let extra = check(took < secs(1.0), || format!("blocked {took:?}"));
                Outcome { rc, msg, extra }
            },
        ));
    }
    // A path option under a regular file: the file is made when the row runs.
    for (name, prefix, file, under, set) in [
        (
            "start: log path under a regular file",
            "bi-log-under-file",
            "plain-file",
            "sub/out.log",
            set_log as SetPath,
        ),
        (
            "start: pid file under a regular file",
            "bi-pf-under-file",
            "plain-file2",
            "x.pid",
            set_pid_file,
        ),
    ] {
        let d = d.clone();
        v.push(id_row(name, GRAZR_ERR_IO, prefix, move |id| {
            let f = d.join(file);
            write_file(&f, "x");
            start_sleeper_at(w, id, set, f.join(under).as_os_str().as_encoded_bytes())
        }));
    }
    v.push(id_row(
        "start: log path /dev/null",
        GRAZR_OK,
        "bi-log-devnull",
        move |id| start_sleeper_at(w, id, set_log, "/dev/null"),
    ));
    v.push(id_row(
        "start: empty-string paths mean NULL",
        GRAZR_OK,
        "bi-empty-paths",
        move |id| {
            let e = cs("");
            code_only(start_with(w, id, &[w.sleeper.as_bytes()], &[], |o| {
                o.log_file_path = e.as_ptr();
                o.pid_file_path = e.as_ptr();
                o.working_dir = e.as_ptr();
            }))
        },
    ));
    {
        let d = d.clone();
        v.push(id_row(
            "start: working dir missing",
            GRAZR_ERR_SPAWN,
            "bi-cwd-missing",
            move |id| {
                let p = d.join("no/such/dir");
                start_sleeper_at(w, id, set_working_dir, p.as_os_str().as_encoded_bytes())
            },
        ));
    }
    v.push(id_row(
        "start: program not found",
        GRAZR_ERR_SPAWN,
        "bi-noprog",
        move |id| {
            code_only(start_with(
                w,
                id,
                &[b"grazr-no-such-program-xyz"],
                &[],
                |_| {},
            ))
        },
    ));
    {
        let d = d.clone();
        v.push(id_row(
            "start: program not executable",
            GRAZR_ERR_SPAWN,
            "bi-notexec",
            move |id| {
                let f = d.join("not-exec.sh");
                write_file(&f, "#!/bin/sh\nexit 0\n");
                code_only(start_with(
                    w,
                    id,
                    &[f.as_os_str().as_encoded_bytes()],
                    &[],
                    |_| {},
                ))
            },
        ));
    }
    v.push(row(
        "register_service: bad templates",
        GRAZR_ERR_INVALID_ARGUMENT,
        &[],
        move || {
            let mut worst = 0;
            let mut bad = Vec::new();
            for (p, t) in [
                ("bi-{a", None),
                ("bi-}", None),
                ("bi-{}", None),
                ("bi-{a b}", None),
                ("bi-{v}", Some("/tmp/{w}.pid")),
                ("bi-x", Some("/tmp/{v}.pid")),
            ] {
                let rc = c_register(p, t, None, 0, -1);
                if rc != GRAZR_ERR_INVALID_ARGUMENT || last_error().is_empty() {
                    bad.push(format!("{p} {t:?} -> {rc}"));
                }
                worst = rc;
            }
            let msg = last_error();
            Outcome {
                rc: worst,
                msg,
                extra: check(bad.is_empty(), || bad.join(", ")),
            }
        },
    ));

    // An id that fits its pattern but makes the templated pid file name longer than NAME_MAX
    // (255): no such file can exist, so the id simply does not run.
    let tpl = format!("{}/{{v}}.pid", d.display());
    // Registers the pattern and gives such an id.
    let long_id = move |tpl: &str| {
        let rc0 = c_register("bi-long-{v}", Some(tpl), None, 0, 100);
        assert_eq!(rc0, 0, "{}", last_error());
        format!("bi-long-{}", "z".repeat(300))
    };
    v.push(row(
        "status: templated pid file name beyond NAME_MAX",
        GRAZR_STATUS_STOPPED,
        &[],
        {
            let tpl = tpl.clone();
            move || out(c_status(&long_id(&tpl)))
        },
    ));
    v.push(row(
        "stop: templated pid file name beyond NAME_MAX",
        GRAZR_OK,
        &[],
        {
            let tpl = tpl.clone();
            move || out(c_stop(&long_id(&tpl), 0, 0))
        },
    ));

    v
}

#[test]
fn every_bad_input_gives_its_code_and_leaves_nothing_behind() {
    let t = Ctx::new("hb_bad_input");
    let w: &'static World = Box::leak(Box::new(World {
        tag_env: format!("{TAG_VAR}={}", t.tag),
        sleeper: helper("sleeper").to_str().unwrap().to_owned(),
        ignore_term: helper("ignore_term").to_str().unwrap().to_owned(),
        siglog: helper("siglog").to_str().unwrap().to_owned(),
        t,
    }));
    let _cleanup = KillTagged(w.t.tag.clone(), w.t.dir.path().to_path_buf());
    // A host thread whose TID a pid file will name.
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let parked = std::thread::spawn(move || {
        tx.send(gettid()).unwrap();
        let _ = stop_rx.recv();
    });
    let host_tid = rx.recv().unwrap();
    // SAFETY: plain getters.
    let (ppid, pgid, sid) = unsafe { (libc::getppid(), libc::getpgrp(), libc::getsid(0)) };
    let kin_alive = |p: i32| p <= 1 || stat(p).is_some();
    // Only kin alive at the start can be checked: a host run from a shell that has since
    // exited (a background job) has lost its group or session leader through no fault of ours.
    let kin: Vec<i32> = [ppid, pgid, sid]
        .into_iter()
        .filter(|&p| kin_alive(p))
        .collect();

    let dir = w.t.dir.path().to_path_buf();
    let table = rows(w, host_tid);
    let fds_before = library_fds(Some(&dir));
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (i, r) in table.iter().enumerate() {
        // grazr_shutdown lets go of whatever the library may keep between calls (a cache of
        // idle descriptors is no leak); nothing is tracked between rows, so it forgets nothing.
        grazr_shutdown();
        let before = library_fds(Some(&dir));
        let o = (r.run)();
        let mut problems = Vec::new();
        if o.rc != r.expect {
            problems.push(format!(
                "expected {} got {} ({})",
                name_of(r.expect),
                name_of(o.rc),
                o.msg
            ));
        }
        if o.rc < 0 && o.msg.trim().is_empty() {
            problems.push("failure with an empty message".into());
        }
        if o.rc == 0 && !o.msg.is_empty() {
            problems.push(format!("success with a message: {}", o.msg));
        }
        if o.rc == GRAZR_ERR_INTERNAL {
            problems.push("GRAZR_ERR_INTERNAL: a panic in the library".into());
        }
        if let Err(e) = &o.extra {
            problems.push(e.clone());
        }
        for id in &r.ids {
            let rc = c_stop(id, libc::SIGKILL, 0);
            if rc != 0 {
                problems.push(format!("cleanup stop of {id} gave {rc}: {}", last_error()));
            }
        }
        if !w.t.wait_no_live(secs(3.0)) {
            problems.push(format!("processes left alive: {:?}", w.t.live_tagged()));
            for p in w.t.live_tagged() {
                w.t.track(p);
            }
        }
        let listed = c_list();
        for id in &r.ids {
            if listed.contains(id) {
                problems.push(format!("{id} still listed after its stop"));
            }
        }
        grazr_shutdown();
        let after = library_fds(Some(&dir));
        if after != before {
            problems.push(format!(
                "descriptors changed: before {before:?} after {after:?}"
            ));
        }
        if !(kin.iter().all(|&p| kin_alive(p)) && stat(host_tid).is_some()) {
            problems
                .push("the host's parent, group leader, session leader or thread is gone".into());
        }
        // The registry still works for a known id.
        let canary = format!("bi-canary-{}", std::process::id());
        let (rc1, m1) = start_with(w, &canary, &[w.sleeper.as_bytes()], &[], |_| {});
        let p = c_pid(&canary);
        let rc2 = c_stop(&canary, 0, 2000);
        let st = c_status(&canary);
        if rc1 != 0 || p <= 1 || rc2 != 0 || st != GRAZR_STATUS_STOPPED || !gone(p) {
            problems.push(format!(
                "canary start {rc1} ({m1}) pid {p} stop {rc2} status {st}"
            ));
        }
        let line = format!(
            "{:>3} {:<70} {:<28} {}",
            i,
            r.name,
            name_of(o.rc),
            if problems.is_empty() {
                "ok".to_string()
            } else {
                problems.join("; ")
            }
        );
        report.push(line);
        if !problems.is_empty() {
            failures.push(format!("row {i} {:?}: {}", r.name, problems.join("; ")));
        }
    }
    let _ = stop_tx.send(());
    parked.join().unwrap();
    let fds_after = library_fds(Some(&dir));
    eprintln!(
        "bad-input table ({} rows):\n{}",
        table.len(),
        report.join("\n")
    );
    assert_eq!(
        fds_before, fds_after,
        "descriptors leaked over the whole table"
    );
    assert!(
        zombie_children().is_empty(),
        "zombies: {:?}",
        zombie_children()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

const FULL_VAR: &str = "GRAZR_HB_FULL_FS";

/// A log or pid file on a full filesystem: a 64 KiB tmpfs, mounted in a private mount
/// namespace of a re-run of this test (`unshare -m`), filled up before the starts.
///
/// What happens (and is asserted): opening or creating the log needs no data block, so the
/// start succeeds and the child's output is lost with ENOSPC, which only the child sees; a
/// service that cannot write its pid file exits, and start reports GRAZR_ERR_EXITED with the
/// exit status. Nothing blocks and nothing is left running.
#[test]
fn a_full_filesystem_gives_clear_results() {
    if let Ok(mnt) = std::env::var(FULL_VAR) {
        if child_mode() {
            full_fs_cases(Path::new(&mnt));
            return;
        }
    }
    if !require_tool("unshare") || !require_tool("mount") {
        return;
    }
    if !unshare_works(&["-m"]) {
        skip("unshare -m (a private mount namespace) is not permitted here");
        return;
    }
    let t = Ctx::new("hb_full_fs");
    let mnt = t.path("full");
    fs::create_dir_all(&mnt).unwrap();
    let out = run_self(
        "a_full_filesystem_gives_clear_results",
        &[(FULL_VAR, mnt.to_str().unwrap()), (TAG_VAR, &t.tag)],
        &["unshare", "-m", "--propagation", "private"],
    );
    eprintln!(
        "{}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.starts_with("full fs:"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_child_passed(&out, "the full-filesystem host");
    assert!(t.wait_no_live(secs(2.0)), "left: {:?}", t.live_tagged());
}

fn full_fs_cases(mnt: &Path) {
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(mnt)
        .status()
        .unwrap();
    assert!(st.success(), "mount tmpfs");
    // Fill it up.
    let filler = mnt.join("filler");
    let chunk = vec![b'x'; 4096];
    let mut f = fs::File::create(&filler).unwrap();
    let full = loop {
        use std::io::Write;
        match f.write_all(&chunk) {
            Ok(()) => continue,
            Err(e) => break e,
        }
    };
    drop(f);
    assert_eq!(
        full.raw_os_error(),
        Some(libc::ENOSPC),
        "the tmpfs is full: {full}"
    );
    let t = Ctx::new("hb_full_fs_child");
    let tag = std::env::var(TAG_VAR).unwrap_or_else(|_| t.tag.clone());
    let tag_env = format!("{TAG_VAR}={tag}");
    let sleeper = helper("sleeper").to_str().unwrap().to_owned();
    let late = helper("late_pidfile").to_str().unwrap().to_owned();

    // 1. The log on the full filesystem: created empty, the start succeeds.
    let log = cs(mnt.join("out.log").to_str().unwrap());
    let mut o = start_opts();
    o.startup_window_ms = 50;
    o.log_file_path = log.as_ptr();
    let (rc, msg, took) = start_timed("full-log", &[sleeper.as_bytes()], &tag_env, &mut o);
    eprintln!(
        "full fs: log on a full tmpfs: {} ({msg}) in {took:?}",
        name_of(rc)
    );
    assert_eq!(rc, GRAZR_OK, "{msg}");
    assert_eq!(c_stop("full-log", 0, 1000), GRAZR_OK);

    // 2. A child that writes to its log on the full filesystem and then exits non-zero: the
    //    failure is reported, with whatever of the log there is.
    let exit_after = helper("exit_after").to_str().unwrap().to_owned();
    let mut o = start_opts();
    o.startup_window_ms = 500;
    o.log_file_path = log.as_ptr();
    let (rc, msg, _) = start_timed(
        "full-exit",
        &[exit_after.as_bytes(), b"4", b"0", b"some output"],
        &tag_env,
        &mut o,
    );
    eprintln!(
        "full fs: failing child with its log on a full tmpfs: {} ({msg})",
        name_of(rc)
    );
    assert_eq!(rc, GRAZR_ERR_EXITED);
    assert!(msg.contains("status 4"), "{msg}");
    assert_eq!(c_stop("full-exit", 0, 0), GRAZR_OK);

    // 3. A pid file that the service cannot write: it exits, start says so at once.
    let pf = cs(mnt.join("run/svc.pid").to_str().unwrap());
    let mut o = start_opts();
    o.pid_file_path = pf.as_ptr();
    o.pid_file_timeout_ms = 3000;
    let (rc, msg, took) = start_timed(
        "full-pid",
        &[
            late.as_bytes(),
            b"0",
            mnt.join("run/svc.pid").to_str().unwrap().as_bytes(),
        ],
        &tag_env,
        &mut o,
    );
    eprintln!(
        "full fs: pid file on a full tmpfs: {} ({msg}) in {took:?}",
        name_of(rc)
    );
    assert!(
        rc == GRAZR_ERR_EXITED || rc == GRAZR_ERR_IO,
        "{}: {msg}",
        name_of(rc)
    );
    assert!(took < secs(2.5), "not the whole pid-file timeout: {took:?}");
    assert_eq!(c_stop("full-pid", 0, 0), GRAZR_OK);
    assert!(c_list().is_empty());
    assert!(t.wait_no_live(secs(2.0)));
}

/// Starts `argv` under `id` with the entry `tag_env` and the options `o`: its code, its message
/// and how long the start took.
fn start_timed(
    id: &str,
    argv: &[&[u8]],
    tag_env: &str,
    o: &mut ffi::grazr_start_options,
) -> (i32, String, std::time::Duration) {
    let (rc, took) = timed(|| c_start(id, argv, &[tag_env.as_bytes()], o));
    (rc, last_error(), took)
}
