#![forbid(unsafe_code)]
//! What `/proc` and the clocks say about a process: state, group, session, start time in
//! boot-relative clock ticks, executable; and the conversions between file times, boot ticks
//! and wall-clock time that the identity rules need.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::time::{clock_gettime, ClockId};
use once_cell::sync::Lazy;

use crate::sys;

/// Clock ticks per second of `/proc/PID/stat` start times.
pub(crate) static TICKS: Lazy<u64> = Lazy::new(sys::clock_ticks_per_second);

/// The fields of `/proc/PID/stat` the library uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    /// One of R S D Z T t X I ...
    pub state: u8,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    /// Field 22: when the process started, in clock ticks since boot.
    pub start_ticks: u64,
}

impl Stat {
    /// A zombie or a dead entry: it has exited and only waits to be reaped.
    pub fn is_dead(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

/// Reads a small /proc file into `buf` with as few reads as possible (proc files report size 0,
/// so the growing reads of `fs::read` take half a dozen calls). Returns the length read; a file
/// longer than `buf` is cut, which the callers' fields (all near the start) tolerate.
fn read_small(path: &str, buf: &mut [u8]) -> io::Result<usize> {
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads `/proc/PID/stat`. For a thread id this is the thread's own entry, so callers that need
/// a process check [`tgid`] as well.
pub(crate) fn stat(pid: i32) -> io::Result<Stat> {
    let mut buf = [0u8; 1024];
    let n = read_small(&format!("/proc/{pid}/stat"), &mut buf)?;
    parse_stat(&buf[..n])
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unparsable /proc stat"))
}

/// The command name may hold spaces and parentheses, so fields are counted from the last ')'.
fn parse_stat(text: &[u8]) -> Option<Stat> {
    let close = text.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&text[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = fields.next()?.as_bytes().first().copied()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    // Fields 7 to 21 lie between the session (6) and the start time (22).
    let start_ticks = fields.nth(15)?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgid,
        sid,
        start_ticks,
    })
}

/// The thread-group id of `pid`: equal to `pid` for a process, different for a thread.
pub(crate) fn tgid(pid: i32) -> io::Result<i32> {
    let mut buf = [0u8; 4096];
    let n = read_small(&format!("/proc/{pid}/status"), &mut buf)?;
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .find_map(|l| l.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no Tgid in /proc status"))
}

/// The executable of `pid`, without the " (deleted)" the kernel appends after an upgrade.
pub(crate) fn exe(pid: i32) -> io::Result<PathBuf> {
    let link = fs::read_link(format!("/proc/{pid}/exe"))?;
    let bytes = link.as_os_str().as_encoded_bytes();
    Ok(match bytes.strip_suffix(b" (deleted)") {
        Some(stripped) => PathBuf::from(String::from_utf8_lossy(stripped).into_owned()),
        None => link,
    })
}

/// Every PID listed in `/proc`, in no particular order.
pub(crate) fn pids() -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every process whose process group is `pgid`, with its start time.
pub(crate) fn group_members(pgid: i32) -> Vec<(i32, u64)> {
    pids()
        .into_iter()
        .filter_map(|pid| {
            let s = stat(pid).ok()?;
            (s.pgid == pgid && !s.is_dead()).then_some((pid, s.start_ticks))
        })
        .collect()
}

fn nanos(clock: ClockId) -> i128 {
    clock_gettime(clock).map_or(0, |t| {
        t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128
    })
}

/// Now, in clock ticks since boot, rounded down (as the kernel rounds start times).
pub(crate) fn boot_ticks_now() -> u64 {
    (nanos(ClockId::CLOCK_BOOTTIME) * *TICKS as i128 / 1_000_000_000) as u64
}

/// CLOCK_REALTIME minus CLOCK_BOOTTIME, read now: what to subtract from a wall-clock time to
/// get a boot-relative one. Read at each check so that a clock step is taken into account.
fn realtime_offset_nanos() -> i128 {
    nanos(ClockId::CLOCK_REALTIME) - nanos(ClockId::CLOCK_BOOTTIME)
}

/// A file time as clock ticks since boot; negative for a time before this boot.
pub(crate) fn file_time_to_boot_ticks(time: SystemTime) -> i64 {
    let wall = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    let boot = wall - realtime_offset_nanos();
    (boot.div_euclid(1_000_000_000) * *TICKS as i128
        + boot.rem_euclid(1_000_000_000) * *TICKS as i128 / 1_000_000_000) as i64
}

/// A start time in boot ticks as milliseconds since the Unix epoch.
pub(crate) fn boot_ticks_to_unix_ms(ticks: u64) -> i64 {
    let boot_nanos = ticks as i128 * 1_000_000_000 / *TICKS as i128;
    ((boot_nanos + realtime_offset_nanos()) / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let line = b"42 (a) b) (c) S 1 40 40 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 777 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(
            (s.state, s.ppid, s.pgid, s.sid, s.start_ticks),
            (b'S', 1, 40, 40, 777)
        );
    }

    #[test]
    fn our_own_start_time_is_in_the_past_of_boot_ticks() {
        let me = stat(std::process::id() as i32).unwrap();
        assert!(me.start_ticks <= boot_ticks_now());
        assert_eq!(
            tgid(std::process::id() as i32).unwrap(),
            std::process::id() as i32
        );
    }

    #[test]
    fn a_fresh_file_time_is_now_in_boot_ticks() {
        let now = boot_ticks_now() as i64;
        let t = file_time_to_boot_ticks(SystemTime::now());
        assert!((t - now).abs() <= 2, "{t} vs {now}");
    }
}
