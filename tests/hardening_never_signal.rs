//! Never signal the wrong process, proven from the outside: the dangerous pid-file cases run in
//! a host process inside a fresh PID namespace (`unshare -pf --mount-proc`, with
//! tests/hardening/reaper.c as PID 1), traced by `strace -f` for every signal-sending system
//! call. The strace log is then parsed, and no signal may have gone to PID 0, 1 or -1, to the
//! host or any of its threads, to its parent, or to its process group or session.
//!
//! Layout inside the namespace: reaper (PID 1) -> setsid strace (PID 2: session leader, the
//! host's parent) -> this test binary re-run as the host (which makes itself a process group
//! leader, so that group, session and parent are three different things).

mod common;
#[path = "hardening/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use grazr_proc::ffi::*;
use support::*;

const FACTS_VAR: &str = "GRAZR_HB_FACTS";
const TEST_NAME: &str = "no_signal_reaches_pid_0_1_the_host_its_group_or_session";

/// What the host inside the namespace reports about itself.
#[derive(Debug, Default)]
struct Facts {
    host: i32,
    pgid: i32,
    sid: i32,
    ppid: i32,
    tids: BTreeSet<i32>,
    children: BTreeSet<i32>,
}

fn parse_facts(text: &str) -> Facts {
    let mut f = Facts::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let nums = || v.split(',').filter_map(|x| x.trim().parse::<i32>().ok());
        match k {
            "host" => f.host = v.parse().unwrap(),
            "pgid" => f.pgid = v.parse().unwrap(),
            "sid" => f.sid = v.parse().unwrap(),
            "ppid" => f.ppid = v.parse().unwrap(),
            "tid" => f.tids.extend(nums()),
            "child" => f.children.extend(nums()),
            _ => {}
        }
    }
    f
}

/// One signal-sending call from the strace log.
#[derive(Debug)]
struct Call {
    line: String,
    /// Process ids the signal went to (negative: a process group, as kill(2) writes it).
    targets: Vec<i64>,
    /// The signal's name, or "0".
    signal: String,
}

fn first_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().ok()
}

/// Parses `strace -f -yy` lines: `PID name(args) = rc` or `PID name(args <unfinished ...>`.
fn parse_calls(log: &str) -> Vec<Call> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        if !matches!(
            name,
            "kill"
                | "tkill"
                | "tgkill"
                | "pidfd_send_signal"
                | "rt_sigqueueinfo"
                | "rt_tgsigqueueinfo"
        ) {
            continue;
        }
        let args: Vec<&str> = args.split(", ").collect();
        let num = |i: usize| args.get(i).and_then(|a| first_int(a));
        let (targets, signal) = match name {
            "kill" | "tkill" | "rt_sigqueueinfo" => (num(0).into_iter().collect(), args.get(1)),
            "tgkill" | "rt_tgsigqueueinfo" => {
                (num(0).into_iter().chain(num(1)).collect(), args.get(2))
            }
            _ => {
                // pidfd_send_signal(3<pid:123>, SIGTERM, NULL, FLAGS)
                let pid = args
                    .first()
                    .and_then(|a| a.split_once("pid:"))
                    .and_then(|(_, p)| first_int(p));
                let group = args.get(3).is_some_and(|f| {
                    f.contains("GROUP") || first_int(f).is_some_and(|v| v & 4 != 0)
                });
                let t: Vec<i64> = match pid {
                    Some(p) if group => vec![p, -p],
                    Some(p) => vec![p],
                    // An undecoded pidfd: treat as unknown and fail below.
                    None => vec![i64::MIN],
                };
                (t, args.get(1))
            }
        };
        let signal = signal
            .map(|s| {
                s.trim_end_matches(|c: char| c == ')' || c.is_whitespace())
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_default();
        out.push(Call {
            line: line.to_string(),
            targets,
            signal,
        });
    }
    out
}

/// The host side: every dangerous case, through the C ABI. Writes the facts file at the end.
fn run_host_cases(facts_path: &Path) {
    // A group leader of its own: group, session (strace's) and parent are then distinct.
    // SAFETY: setpgid on ourselves; no memory.
    unsafe { libc::setpgid(0, 0) };
    let t = Ctx::new("hb_ns_host");
    // SAFETY: plain getters.
    let (me, pgid, sid, ppid) = unsafe {
        (
            libc::getpid(),
            libc::getpgrp(),
            libc::getsid(0),
            libc::getppid(),
        )
    };
    assert_eq!(me, pgid, "the host leads its process group");
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let parked = std::thread::spawn(move || {
        // SAFETY: no arguments.
        tx.send(unsafe { libc::gettid() }).unwrap();
        let _ = stop_rx.recv();
    });
    let tid = rx.recv().unwrap();
    let tag = format!("{TAG_VAR}={}", t.tag);
    let sleeper = helper("sleeper").to_str().unwrap().to_owned();

    // A process in the host's own group (not a library child, not its own group): a pid file
    // may name it, and it may be stopped, but never through its group, which is the host's.
    let mut same_group = Command::new(helper("sleeper"))
        .env(TAG_VAR, &t.tag)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let same_group_pid = same_group.id() as i32;
    assert!(wait_until(secs(3.0), || exe_base(same_group_pid)
        .as_deref()
        == Some("sleeper")));

    let hostile: Vec<(String, String)> = vec![
        ("zero".into(), "0\n".into()),
        ("one".into(), "1\n".into()),
        ("minus-one".into(), "-1\n".into()),
        ("host".into(), format!("{me}\n")),
        ("minus-host".into(), format!("-{me}\n")),
        ("thread".into(), format!("{tid}\n")),
        ("parent".into(), format!("{ppid}\n")),
        ("pgid".into(), format!("{pgid}\n")),
        ("sid".into(), format!("{sid}\n")),
        ("huge".into(), "99999999999\n".into()),
        ("garbage".into(), "12abc\n".into()),
    ];
    let d = t.dir.path().to_path_buf();
    let mut children = vec![same_group_pid];
    for (name, content) in &hostile {
        let pf = d.join(format!("{name}.pid"));
        let id = format!("ns-{name}");
        write_file(&pf, content);
        assert_eq!(
            c_register(&id, Some(pf.to_str().unwrap()), None, libc::SIGTERM, 0),
            0,
            "{}",
            last_error()
        );
        // Every call that reads the file and might act on it.
        let _ = c_status(&id);
        let _ = c_pid(&id);
        let _ = c_signal(&id, libc::SIGTERM);
        let _ = c_signal(&id, libc::SIGKILL);
        let (_, _) = c_info(&id);
        let _ = c_read_pid_file(&pf);
        let _ = c_stop(&id, libc::SIGKILL, 0);
        write_file(&pf, content);
        let _ = c_stop_pid_file(&format!("ns-pf-{name}"), &pf, 0);
        write_file(&pf, content);
        let _ = grazr_pid_alive(first_int(content).unwrap_or(0) as i32);
        // A start with that file: the child runs, the file never names it; stop kills the
        // child and its group only.
        let sid_pf = d.join(format!("start-{name}.pid"));
        write_file(&sid_pf, content);
        let sp = cs(sid_pf.to_str().unwrap());
        let mut o = start_opts();
        o.pid_file_path = sp.as_ptr();
        o.pid_file_timeout_ms = 100;
        let sid_id = format!("ns-start-{name}");
        let rc = c_start(&sid_id, &[sleeper.as_bytes()], &[tag.as_bytes()], &mut o);
        if rc == 0 {
            children.push(c_pid(&sid_id));
            // Someone rewrites the pid file while it runs.
            write_file(&sid_pf, content);
            let _ = c_status(&sid_id);
            let _ = c_signal(&sid_id, libc::SIGHUP);
        }
        let _ = c_stop(&sid_id, libc::SIGTERM, 0);
    }
    // The process in the host's group, named by a registered pid file: it may be stopped, its
    // group (the host's) may not be signalled.
    let pf = d.join("same-group.pid");
    write_pid_file(&pf, same_group_pid);
    assert_eq!(
        c_register("ns-same-group", Some(pf.to_str().unwrap()), None, 0, 0),
        0
    );
    assert_eq!(
        c_status("ns-same-group"),
        GRAZR_STATUS_RUNNING,
        "{}",
        last_error()
    );
    assert_eq!(
        c_stop("ns-same-group", libc::SIGTERM, 0),
        0,
        "{}",
        last_error()
    );
    let _ = same_group.wait();
    // A template over every hostile file, and stop_all over everything registered.
    assert_eq!(
        c_register(
            "ns-any-{n}",
            Some(&format!("{}/{{n}}.pid", d.display())),
            None,
            0,
            0
        ),
        0
    );
    for (name, content) in &hostile {
        write_file(&d.join(format!("{name}.pid")), content);
        let _ = c_status(&format!("ns-any-{name}"));
    }
    // Its result is checked outside, after the trace: a failure here must not hide the trace.
    let stop_all_rc = grazr_stop_all();
    let stop_all_msg = last_error().replace('\n', " ");

    // The host and its kin are all still here (they would have died of SIGKILL).
    assert!(stat(ppid).is_some() && stat(1).is_some() && stat(tid).is_some());
    let _ = stop_tx.send(());
    parked.join().unwrap();
    let tids: Vec<String> = my_tids()
        .iter()
        .map(|t| t.to_string())
        .chain([tid.to_string()])
        .collect();
    let kids: Vec<String> = children.iter().map(|c| c.to_string()).collect();
    fs::write(
        facts_path,
        format!(
            "host={me}\npgid={pgid}\nsid={sid}\nppid={ppid}\ntid={}\nchild={}\nstop_all={stop_all_rc} {stop_all_msg}\n",
            tids.join(","),
            kids.join(",")
        ),
    )
    .unwrap();
    assert!(
        t.wait_no_live(secs(3.0)),
        "left alive: {:?}",
        t.live_tagged()
    );
}

#[test]
fn no_signal_reaches_pid_0_1_the_host_its_group_or_session() {
    if let Ok(facts) = std::env::var(FACTS_VAR) {
        if child_mode() {
            run_host_cases(Path::new(&facts));
            return;
        }
    }
    for tool in ["unshare", "strace", "setsid"] {
        if !require_tool(tool) {
            return;
        }
    }
    if !unshare_works(&["-pf", "--mount-proc"]) {
        skip("unshare -pf --mount-proc is not permitted here");
        return;
    }
    let probe = Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        skip("strace cannot trace here (ptrace not permitted)");
        return;
    }
    let reaper = build_c("reaper", false);
    let t = Ctx::new("hb_ns_outer");
    let trace = t.path("strace.log");
    let facts = t.path("facts.txt");
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .args(["-pf", "--mount-proc"])
        .arg(&reaper)
        .args(["setsid", "strace", "-f", "-yy", "-qq", "-e"])
        .arg("trace=kill,tgkill,tkill,pidfd_send_signal,rt_sigqueueinfo,rt_tgsigqueueinfo")
        .arg("-o")
        .arg(&trace)
        .arg(&exe)
        .args(["--exact", TEST_NAME, "--test-threads", "1", "--nocapture"])
        .env(CHILD_MODE_VAR, "1")
        .env(FACTS_VAR, &facts)
        .stdin(Stdio::null())
        .output()
        .expect("run the host in the namespace");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let facts_text = read_text(&facts);
    assert_child_passed(&out, "the host inside the PID namespace");
    assert!(
        !stderr.contains("reaper: SIGNALLED"),
        "PID 1 was signalled:\n{stderr}"
    );
    let f = parse_facts(&facts_text);
    assert!(f.host > 1, "facts: {f:?}");
    let log = read_text(&trace);
    let calls = parse_calls(&log);

    let mut forbidden: BTreeSet<i64> = [0, 1, -1].into_iter().collect();
    for p in [f.host, f.pgid, f.sid, f.ppid] {
        forbidden.insert(p as i64);
        forbidden.insert(-(p as i64));
    }
    forbidden.extend(f.tids.iter().map(|&t| t as i64));
    let mut bad = Vec::new();
    let mut delivered = 0;
    let mut to_children = 0;
    for c in &calls {
        if c.signal != "0" {
            delivered += 1;
        }
        if c.targets.iter().any(|t| f.children.contains(&(*t as i32))) {
            to_children += 1;
        }
        if c.targets
            .iter()
            .any(|t| forbidden.contains(t) || *t == i64::MIN)
        {
            bad.push(c.line.clone());
        }
    }
    eprintln!(
        "strace: {} signal calls ({} with a real signal, {} at the services), host {} pgid {} sid {} parent {}; forbidden targets hit: {}",
        calls.len(),
        delivered,
        to_children,
        f.host,
        f.pgid,
        f.sid,
        f.ppid,
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "signals to forbidden targets:\n{}",
        bad.join("\n")
    );
    // The trace has teeth: the services the host started were signalled through pidfds.
    assert!(
        calls.iter().any(|c| c.line.contains("pidfd_send_signal")
            && c.targets.iter().any(|t| f.children.contains(&(*t as i32)))),
        "no pidfd_send_signal to a service in the trace; is strace decoding pidfds (-yy)?\n{log}"
    );
    let stop_all = facts_text
        .lines()
        .find_map(|l| l.strip_prefix("stop_all="))
        .unwrap_or("missing");
    assert!(
        stop_all.starts_with("0 "),
        "stop_all over the hostile pid files failed: {stop_all}"
    );
}

#[test]
fn the_strace_parser_finds_every_kind_of_target() {
    let log = "\
3 kill(1, SIGTERM)                   = -1 EPERM
3 kill(-7, 0 <unfinished ...>
4 tgkill(3, 5, SIGUSR1)              = 0
4 pidfd_send_signal(5<pid:42>, SIGKILL, NULL, PIDFD_SIGNAL_PROCESS_GROUP) = 0
4 pidfd_send_signal(6<pid:43>, SIGCONT, NULL, 0) = 0
3 rt_sigqueueinfo(9, SIGHUP, {si_signo=SIGHUP}) = 0
3 --- SIGCHLD {si_signo=SIGCHLD} ---
";
    let calls = parse_calls(log);
    let t: Vec<Vec<i64>> = calls.iter().map(|c| c.targets.clone()).collect();
    assert_eq!(
        t,
        vec![
            vec![1],
            vec![-7],
            vec![3, 5],
            vec![42, -42],
            vec![43],
            vec![9]
        ]
    );
    assert_eq!(calls[1].signal, "0");
    assert_eq!(calls[3].signal, "SIGKILL");
}
