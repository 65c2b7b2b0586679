//! Concurrency: one process per id whatever the races, no panics under a mixed load, and
//! status / get_pid never waiting for a start or stop in progress.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use common::*;
use grazr_proc::{State, Status, StopOptions};

#[test]
fn threads_racing_to_start_one_id_get_one_process() {
    let t = Ctx::new("cc_race");
    for round in 0..5 {
        let id = format!("dup-{round}");
        let barrier = Barrier::new(4);
        let pids: Vec<Option<i32>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        let spec = t.helper_spec("sleeper", &[]).startup_window(ms(100));
                        barrier.wait();
                        t.m.start(&id, &spec).expect("every racer gets OK");
                        t.m.pid(&id).unwrap()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let first = pids[0].expect("running");
        assert!(
            pids.iter().all(|p| *p == Some(first)),
            "round {round}: {pids:?}"
        );
        std::thread::sleep(ms(50));
        t.m.stop(&id, &StopOptions::default()).unwrap();
    }
    // Five rounds, one process each, all stopped: anything still alive was a duplicate.
    assert!(
        t.wait_no_live(secs(2.0)),
        "duplicates survived: {:?}",
        t.live_tagged()
    );
}

#[test]
fn eight_threads_mixing_start_stop_status_for_three_seconds() {
    let t = Ctx::new("cc_mixed");
    let ids = ["mix-a", "mix-b", "mix-c"];
    let deadline = Instant::now() + secs(3.0);
    let ops: usize = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8u64)
            .map(|n| {
                let t = &t;
                s.spawn(move || {
                    let mut rng = Lcg(n + 1);
                    let mut count = 0;
                    while Instant::now() < deadline {
                        let id = ids[(rng.next() % 3) as usize];
                        match rng.next() % 6 {
                            0 | 1 => {
                                let spec =
                                    t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO);
                                t.m.start(id, &spec)
                                    .unwrap_or_else(|e| panic!("start {id}: {e}"));
                            }
                            2 => {
                                t.m.stop(id, &StopOptions::default())
                                    .unwrap_or_else(|e| panic!("stop {id}: {e}"))
                            }
                            3 => {
                                let st = t.m.status(id).unwrap();
                                assert_ne!(st, Status::Error, "nothing here dies on its own");
                            }
                            4 => {
                                if let Some(p) = t.m.pid(id).unwrap() {
                                    assert!(p > 1);
                                }
                            }
                            _ => {
                                let _ = t.m.info(id).unwrap();
                                let _ = t.m.list();
                            }
                        }
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("no thread panicked"))
            .sum()
    });
    assert!(ops > 50, "the load ran ({ops} operations)");
    for id in ids {
        t.m.stop(id, &StopOptions::default()).unwrap();
        assert_eq!(t.m.status(id).unwrap(), Status::Stopped);
    }
    assert!(
        t.wait_no_live(secs(2.0)),
        "leftover processes: {:?}",
        t.live_tagged()
    );
}

#[test]
fn status_and_pid_never_wait_for_a_stop_in_progress() {
    let t = Ctx::new("cc_status_stop");
    t.m.start(
        "slow",
        &t.helper_spec("ignore_term", &[])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let pid = t.m.pid("slow").unwrap().unwrap();
    wait_ignores(pid, libc::SIGTERM);
    t.m.start(
        "other",
        &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
    )
    .unwrap();
    let stopping = AtomicBool::new(true);
    std::thread::scope(|s| {
        let h = s.spawn(|| {
            let r = t.m.stop("slow", &StopOptions::default().timeout(secs(2.0)));
            stopping.store(false, Ordering::SeqCst);
            r
        });
        std::thread::sleep(ms(300)); // the stop has sent SIGTERM and is waiting
        assert!(stopping.load(Ordering::SeqCst));
        let (st, took) = timed(|| t.m.status("slow").unwrap());
        assert!(took < ms(300), "status waited for the stop: {took:?}");
        assert_eq!(st, Status::Running, "alive while the stop waits");
        let (p, took) = timed(|| t.m.pid("slow").unwrap());
        assert!(took < ms(300), "get_pid waited for the stop: {took:?}");
        assert_eq!(p, Some(pid));
        let (info, took) = timed(|| t.m.info("slow").unwrap());
        assert!(took < ms(300), "info waited for the stop: {took:?}");
        assert_eq!(info.state, State::Stopping);
        // Another id is not held up by this stop either.
        let (r, took) = timed(|| t.m.stop("other", &StopOptions::default()));
        r.unwrap();
        assert!(took < secs(1.0), "a stop of another id waited: {took:?}");
        let (r, took) = timed(|| {
            t.m.start(
                "third",
                &t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO),
            )
        });
        r.unwrap();
        assert!(took < secs(1.0), "a start of another id waited: {took:?}");
        assert!(
            stopping.load(Ordering::SeqCst),
            "all of that happened during the stop"
        );
        h.join().unwrap().unwrap();
    });
    assert!(gone(pid));
}

#[test]
fn a_start_during_a_stop_waits_then_spawns() {
    let t = Ctx::new("cc_start_during_stop");
    t.m.start(
        "svc",
        &t.helper_spec("ignore_term", &[])
            .startup_window(Duration::ZERO),
    )
    .unwrap();
    let old = t.m.pid("svc").unwrap().unwrap();
    wait_ignores(old, libc::SIGTERM);
    std::thread::scope(|s| {
        let h = s.spawn(|| t.m.stop("svc", &StopOptions::default().timeout(secs(1.0))));
        assert!(wait_until(secs(0.8), || t.m.info("svc").unwrap().state
            == State::Stopping));
        let spec = t.helper_spec("sleeper", &[]).startup_window(Duration::ZERO);
        let (r, took) = timed(|| t.m.start("svc", &spec));
        r.expect("start after the stop");
        assert!(took >= ms(300), "start waited for the stop, took {took:?}");
        h.join().unwrap().expect("the stop finished");
    });
    assert!(gone(old));
    let new = t.m.pid("svc").unwrap().expect("the new process runs");
    assert_ne!(new, old);
    // A process that has only just been spawned can hide its environment for a moment.
    assert!(
        wait_until(secs(2.0), || t.live_tagged() == vec![new]),
        "exactly the new process runs: {:?}",
        t.live_tagged()
    );
}

#[test]
fn a_stop_during_a_start_waits_for_it_then_stops() {
    let t = Ctx::new("cc_stop_during_start");
    let pf = t.path("svc.pid");
    let spec = t
        .helper_spec("late_pidfile", &["700", pf.to_str().unwrap()])
        .pid_file(&pf);
    std::thread::scope(|s| {
        let h = s.spawn(|| t.m.start("svc", &spec));
        assert!(
            wait_until(secs(3.0), || !t.live_tagged().is_empty()),
            "the child was spawned"
        );
        t.m.stop("svc", &StopOptions::default()).expect("stop");
        let started = h.join().unwrap();
        started.expect("the start completed before the stop acted");
    });
    assert!(
        t.wait_no_live(secs(1.0)),
        "the stop stopped what the start started: {:?}",
        t.live_tagged()
    );
    assert_eq!(t.m.status("svc").unwrap(), Status::Stopped);
    assert!(!pf.exists());
}
