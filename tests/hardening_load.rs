//! Load through the C ABI: 8 threads doing random start/stop/status/get_pid/signal/info/list
//! on 50 ids for 5 s (GRAZR_HB_LOAD_SECS to change it). Afterwards: no zombie, no descriptor
//! more than before, no live process, nothing listed. A watchdog aborts the test binary after
//! 60 s, so a deadlock fails the test instead of hanging CI.
//!
//! This file holds one test, so /proc/self/fd is compared as a whole.

mod common;
#[path = "hardening/support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use grazr_proc::ffi::*;
use support::*;

#[test]
fn eight_threads_on_fifty_ids_then_nothing_is_left() {
    let t = Ctx::new("hl_load");
    let secs_run: f64 = std::env::var("GRAZR_HB_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let tag_env = format!("{TAG_VAR}={}", t.tag);
    let sleeper = helper("sleeper").to_str().unwrap().to_owned();
    let exit_after = helper("exit_after").to_str().unwrap().to_owned();
    let late = helper("late_pidfile").to_str().unwrap().to_owned();
    let ids: Vec<String> = (0..50)
        .map(|i| format!("load-{}-{i}", std::process::id()))
        .collect();
    let fds_before = all_fds();

    // The watchdog: a deadlock must fail the run, and leave no process behind.
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = Arc::clone(&done);
        let tag = t.tag.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(60) {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(ms(100));
            }
            eprintln!("WATCHDOG: the load test did not finish in 60 s: a deadlock; aborting");
            for pid in tagged_processes(&tag) {
                // SAFETY: a PID found carrying this test's unique tag.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::process::abort();
        });
    }

    let ops = AtomicU64::new(0);
    let unexpected = std::sync::Mutex::new(Vec::<String>::new());
    let deadline = Instant::now() + Duration::from_secs_f64(secs_run);
    std::thread::scope(|s| {
        for n in 0..8u64 {
            let (ids, ops, unexpected) = (&ids, &ops, &unexpected);
            let (tag_env, sleeper, exit_after, late) = (&tag_env, &sleeper, &exit_after, &late);
            let dir = t.dir.path().to_path_buf();
            s.spawn(move || {
                let mut rng = Lcg(n * 7919 + 17);
                let bad = |what: String| unexpected.lock().unwrap().push(what);
                while Instant::now() < deadline {
                    let id = &ids[(rng.next() % 50) as usize];
                    match rng.next() % 10 {
                        0..=2 => {
                            let mut o = start_opts();
                            let kind = rng.next() % 6;
                            let pf = dir.join(format!("{id}.pid"));
                            let pfc = cs(pf.to_str().unwrap());
                            let (argv, ok): (Vec<Vec<u8>>, &[i32]) = match kind {
                                0 => {
                                    o.startup_window_ms = 30;
                                    (
                                        vec![
                                            exit_after.clone().into(),
                                            b"3".to_vec(),
                                            b"0".to_vec(),
                                        ],
                                        &[GRAZR_OK, GRAZR_ERR_EXITED],
                                    )
                                }
                                1 => {
                                    o.pid_file_path = pfc.as_ptr();
                                    o.pid_file_timeout_ms = 500;
                                    (
                                        vec![
                                            late.clone().into(),
                                            b"5".to_vec(),
                                            pf.to_str().unwrap().into(),
                                        ],
                                        &[GRAZR_OK],
                                    )
                                }
                                _ => {
                                    o.startup_window_ms = (rng.next() % 3 * 5) as i32;
                                    (vec![sleeper.clone().into()], &[GRAZR_OK])
                                }
                            };
                            let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                            let rc = c_start(id, &argv, &[tag_env.as_bytes()], &mut o);
                            // exit_after 3 may be reported as OK when the id already ran.
                            if !(ok.contains(&rc) || kind == 0 && rc == GRAZR_OK) {
                                bad(format!(
                                    "start {id} kind {kind}: {} {}",
                                    name_of(rc),
                                    last_error()
                                ));
                            }
                        }
                        3 | 4 => {
                            let sig = [0, libc::SIGTERM, libc::SIGINT][(rng.next() % 3) as usize];
                            let timeout = [0, 100, 500, -1][(rng.next() % 4) as usize];
                            let rc = c_stop(id, sig, timeout);
                            if rc != GRAZR_OK {
                                bad(format!("stop {id}: {} {}", name_of(rc), last_error()));
                            }
                        }
                        5 => {
                            let rc = c_status(id);
                            if !(0..=2).contains(&rc) {
                                bad(format!("status {id}: {rc} {}", last_error()));
                            }
                        }
                        6 => {
                            let rc = c_pid(id);
                            if rc < 0 || rc == 1 || rc == std::process::id() as i32 {
                                bad(format!("get_pid {id}: {rc} {}", last_error()));
                            }
                        }
                        7 => {
                            let rc = c_signal(id, libc::SIGCONT);
                            if rc != GRAZR_OK && rc != GRAZR_ERR_NOT_RUNNING {
                                bad(format!("signal {id}: {} {}", name_of(rc), last_error()));
                            }
                        }
                        8 => {
                            let (rc, info) = c_info(id);
                            if rc != 0 || !(0..=9).contains(&info.state) {
                                bad(format!("info {id}: {rc} state {}", info.state));
                            }
                        }
                        _ => {
                            let _ = c_list();
                        }
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    let total = ops.load(Ordering::Relaxed);
    let (rc, took) = timed(|| grazr_stop_all());
    let msg = last_error();
    done.store(true, Ordering::SeqCst);
    eprintln!(
        "load: {total} operations in {secs_run} s by 8 threads on 50 ids ({:.0}/s); stop_all {} in {took:?}",
        total as f64 / secs_run,
        name_of(rc)
    );
    let unexpected = unexpected.into_inner().unwrap();
    assert!(
        unexpected.is_empty(),
        "{} unexpected results, first: {:?}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(10)]
    );
    assert_eq!(rc, GRAZR_OK, "stop_all: {msg}");
    assert!(total > 200, "the load ran: {total} operations");
    assert!(c_list().is_empty(), "listed after stop_all: {:?}", c_list());
    assert!(
        t.wait_no_live(secs(3.0)),
        "processes left: {:?}",
        t.live_tagged()
    );
    assert!(
        wait_until(secs(2.0), || zombie_children().is_empty()),
        "zombies: {:?}",
        zombie_children()
    );
    // Let go of whatever the library may keep between calls (a cache is no leak), then compare.
    assert_eq!(grazr_shutdown(), GRAZR_OK);
    let fds_after = all_fds();
    assert_eq!(fds_before, fds_after, "descriptors before and after differ");
}
